"""The width of figure text as the report's figures draw it: DejaVu Sans's own metrics, read by
matplotlib's text-to-path converter (the SVG's glyphs are that converter's paths), cached.

An estimate of 0.6 em a character drew titles 16-19% narrower than it said ("1 layer, gain =
0.5": 1.23 in at 9.5 pt, estimated 1.50 in), so a title wrapped in one column fitted in another.
matplotlib is imported on the first measurement, not with this module, and quietly
(:mod:`.matplotlib_dirs`): a page's layout measures its titles before any figure is drawn, so
this import came first, and a read-only home or ``MPLCONFIGDIR`` got matplotlib's own two lines
of warning, not vanishlab's one note or none.
"""

from __future__ import annotations

import functools
from typing import Any

from .matplotlib_dirs import quiet_matplotlib_dirs

__all__ = ["FONT_FAMILY", "MATH_FONTSET", "measured_width"]

FONT_FAMILY = "DejaVu Sans"  # the report's font (figure_layout.RC's font.family)
MATH_FONTSET = "dejavusans"  # and its mathtext (figure_layout.RC's mathtext.fontset)


@functools.lru_cache(maxsize=16384)
def measured_width(text: str, size: float) -> float:
    """The width in inches of ``text`` (one line) drawn at ``size`` points: mathtext where
    matplotlib reads it so (an even number of unescaped ``$``), else plain, a ``\\$`` drawn
    as ``$``."""
    quiet_matplotlib_dirs()
    from matplotlib import cbook

    math = cbook.is_math_text(text)
    if not math:
        text = text.replace(r"\$", "$")
    if not text:
        return 0.0
    width, _, _ = _converter().get_text_width_height_descent(text, _font(size), ismath=math)
    return float(width) / 72.0


@functools.lru_cache(maxsize=64)
def _font(size: float) -> Any:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=FONT_FAMILY, size=size, math_fontfamily=MATH_FONTSET)


@functools.cache
def _converter() -> Any:
    from matplotlib.textpath import TextToPath

    return TextToPath()
