"""The report's matplotlib settings and fixed-inch panel grids, shared by line figures
(:mod:`.figures`) and heatmaps (:mod:`.heatmaps`).

Every setting that affects the bytes is pinned in :data:`RC` (the SVG hash salt, text as glyph
paths), so the same data gives the same SVG; :func:`pinned` applies it while a figure is drawn
and saved. :func:`panel_grid` lays panels out in fixed inches (no layout engine).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..core import warning_filters
from .figure_text import TICK_SIZE
from .model import AXIS_MARGIN
from .text_metrics import FONT_FAMILY, MATH_FONTSET

__all__ = [
    "RC",
    "TITLE_GAP",
    "TITLE_SIZE",
    "axis_labels",
    "panel_grid",
    "panel_rows",
    "pinned",
]

RC: dict[str, object] = {
    "svg.hashsalt": "vanishlab",  # fixed ids (clip paths, markers) instead of uuids
    "svg.fonttype": "path",  # glyphs as paths: the same look in every browser, no font files
    "svg.image_inline": True,
    "font.family": FONT_FAMILY,
    "mathtext.fontset": MATH_FONTSET,
    "font.size": 9.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9.5,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "path.simplify": True,
    "axes.xmargin": AXIS_MARGIN,  # a user's own margins moved the axes (and the bytes)
    "axes.ymargin": AXIS_MARGIN,
    "axes.formatter.useoffset": False,  # tick labels read the values: no "+6.02e-1" offset
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
TITLE_SIZE = float(RC["axes.titlesize"])  # type: ignore[arg-type]
TITLE_GAP = 0.3
"""The least inches between a panel's title and the next column's (or the head of its row
labels, level with it), in line figures and heatmaps alike: a title is wrapped to end that far
before them. Line titles could run up to the next title's first letter, heatmap titles to
0.1 in (10 CSS px) of it: neighbouring columns read as one line ("model = lstm, init =
orthogonal" and "model = gru, init = default" 0.2 in apart)."""


@contextmanager
def pinned() -> Iterator[None]:
    """matplotlib settings of the report, for drawing and saving (restored afterwards).

    Both matplotlib's settings and the warning filters belong to the whole process: both are
    changed under the filters' lock (:mod:`vanishlab.core.warning_filters`), one thread at a
    time. A user's label in a script DejaVu Sans lacks draws boxes, without a warning: the
    HTML shows the text."""
    with (
        warning_filters.ignoring(r"Glyph \d+ .*missing from font", category=UserWarning),
        mpl.rc_context(RC),
    ):
        yield


def panel_grid(
    nrows: int,
    ncols: int,
    panel: tuple[float, float],
    gaps: tuple[float, float],
    margins: tuple[float, float, float, float],
) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows x ncols`` panels laid out in fixed inches (no layout engine):
    panel (width, height), gaps (between columns, between rows) and margins (left, right,
    bottom, top). Returns the figure and its ``(nrows, ncols)`` axes."""
    (panel_w, panel_h), (gap_w, gap_h), (left, right, bottom, top) = panel, gaps, margins
    width = left + ncols * panel_w + (ncols - 1) * gap_w + right
    height = bottom + nrows * panel_h + (nrows - 1) * gap_h + top
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(
        nrows,
        ncols,
        squeeze=False,
        gridspec_kw={
            "left": left / width,
            "right": 1 - right / width,
            "bottom": bottom / height,
            "top": 1 - top / height,
            "wspace": gap_w / panel_w,
            "hspace": gap_h / panel_h,
        },
    )
    return fig, axes


def panel_rows(
    ncols: int,
    panel_w: float,
    heights: Sequence[float],
    gap_w: float,
    above: Sequence[float],
    margins: tuple[float, float, float],
) -> tuple[Figure, np.ndarray]:
    """A figure of panels of their own heights, laid out in fixed inches (no layout engine):
    ``heights`` (one per panel, in reading order) wrapped ``ncols`` to a row, each row of the
    grid as tall as its tallest panel and each panel at the top of its row, so that a short
    panel does not take a tall one's height. ``panel_w``: every panel's width; ``gap_w``:
    between columns; ``above``: the room above each row (the first's is the top margin);
    margins (left, right, bottom). Returns the figure and its ``(rows, ncols)`` axes (the
    slots past the last panel as tall as their row)."""
    nrows = max(math.ceil(len(heights) / max(ncols, 1)), 1)
    if len(above) != nrows:
        raise ValueError(f"{len(above)} rooms above {nrows} rows")
    left, right, bottom = margins
    tall = [max(heights[r * ncols : (r + 1) * ncols], default=0.0) for r in range(nrows)]
    width = left + ncols * panel_w + (ncols - 1) * gap_w + right
    height = bottom + sum(tall) + sum(above)
    fig = Figure(figsize=(width, height))
    axes = np.empty((nrows, ncols), dtype=object)
    top = height
    for r in range(nrows):
        top -= above[r]
        for c in range(ncols):
            i = r * ncols + c
            h = heights[i] if i < len(heights) else tall[r]
            x = left + c * (panel_w + gap_w)
            axes[r, c] = fig.add_axes((x / width, (top - h) / height, panel_w / width, h / height))
        top -= tall[r]
    return fig, axes


def axis_labels(
    fig: Figure, xlabel: tuple[str, tuple[float, float]], ylabel: tuple[str, tuple[float, float]]
) -> None:
    """A panel grid's shared axis labels, each ``(text, (x, y))`` in figure fractions: the x
    label centred with its bottom at (x, y), the y label turned upright with its left edge at
    (x, y); an empty y label is not drawn."""
    fig.text(*xlabel[1], xlabel[0], ha="center", va="bottom", fontsize=9.5)
    if ylabel[0]:
        fig.text(*ylabel[1], ylabel[0], rotation=90, ha="left", va="center", fontsize=9.5)
