"""The open marks a dashed line carries (:mod:`.figures` draws them): which of its points, and
the caption's one phrase for them. A dashed line (a prediction, a fitted line) carries its
measured line's shape, open, on a few of its points (:func:`reference_marks`: on a fitted line
of two points, both ends, the fit window's first and last lag), a ring on a point no line
reaches, and nothing on a dotted marker line (a critical gain's vertical); without
matplotlib, so that a caption reads it where a section is built."""

from __future__ import annotations

import numpy as np

from .line_style import CVD_SAFE, alone, style_marker
from .model import Curve, LineGrid

__all__ = ["OPEN_SHAPE", "every_few", "open_shape_note", "reference_marks"]

#: The caption's words for those marks, one definition (docs/cli.md, "Reading the page",
#: says it of every dashed prediction).
OPEN_SHAPE = "carries its line's shape, open"


def every_few(y: np.ndarray, marks: int = 6) -> np.ndarray:
    """About ``marks`` of the finite points of ``y``, evenly spaced, from its first."""
    finite = np.flatnonzero(np.isfinite(y))
    return np.isin(np.arange(len(y)), finite[:: max(1, round(len(finite) / marks))])


def reference_marks(curve: Curve, shape: str | None) -> np.ndarray:
    """Which points of the reference ``curve`` get an open marker: a point no line reaches
    (a ring, or ``shape``), and, where its measured line has a ``shape`` and it is dashed, a
    few of its points (never on a dotted marker line: its two ends read as predicted)."""
    at = alone(curve.y)
    if shape and not curve.dotted:
        at = at | every_few(curve.y)
    return at


def open_shape_note(grid: LineGrid, where: str) -> str:
    """The caption's sentence on the open shapes ``grid``'s dashed lines carry, ``where``
    they stand ("at the ends of its fit window"): "" where none carries one (one line alone,
    the first, has no shape)."""
    shaped = any(
        reference_marks(c, shape).any()
        for p in grid.panels
        for c in p.curves
        if c.reference and not c.dotted and (shape := _shape(grid, c))
    )
    return f" A dashed line {OPEN_SHAPE}, {where}." if shaped else ""


def _shape(grid: LineGrid, curve: Curve) -> str | None:
    return style_marker(curve.style, len(grid.legend), len(CVD_SAFE))
