"""A figure of points (:attr:`.model.LineGrid.points`): one marker per cell, no line joining
them, filled or open (:attr:`.model.Curve.hollow`), in its style's colour and shape.

The points of one x (several seeds and gains at one T) are spread sideways about it, in the
order of their curves and then their own, by at most :data:`SPREAD_PT` points each, less where
the x values lie closer than the spread needs (the spread of one x stays within
:data:`SPREAD_SHARE` of the gap to the next), and the x limits are widened to hold them: a
filled and an open point of equal value, one over the other, read as one. Where the x values lie
close, points of one x closer than a marker's width overlap (T = 6, 8 and 60, 9 points a T:
1.5 pt apart). ``+inf`` (an exact zero: an infinite fall) is drawn as a ▼ on the panel's top
edge, with room made for it above the data; a NaN is not drawn. :func:`spread_offsets` and
:func:`spread_step` are pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from .line_axes import FLOOR_BASE, FLOOR_STEP
from .line_legend import REFERENCE_COLOR, line_color
from .line_style import CVD_SAFE, POINT_MS, REFERENCE_LW, dashes, style_marker
from .model import Curve, LineGrid, LinePanel

__all__ = [
    "CEILING_Y",
    "SPREAD_PT",
    "SPREAD_SHARE",
    "draw_level",
    "draw_points",
    "limit_points",
    "spread_limits",
    "spread_offsets",
    "spread_step",
]

#: The most points between neighbours of one x, centre to centre: a point's width and a gap.
SPREAD_PT = POINT_MS + 1.5
#: The most of the gap between two x values (in points, as drawn) one x's points spread over.
SPREAD_SHARE = 0.7
#: The most rounds of :func:`spread_limits` (two suffice: a widening, then a smaller step that
#: needs none).
_WIDENINGS = 8
#: The y of a ▼ of ``+inf`` in axes units (the top edge, as the floor's rows are at the bottom).
CEILING_Y = 1.0 - FLOOR_BASE


def spread_step(xs: np.ndarray, most: int, width_pt: float, span: float) -> float:
    """The points between neighbours of one x: :data:`SPREAD_PT`, or less where the ``most``
    points an x has would reach past :data:`SPREAD_SHARE` of the closest gap between the x
    values ``xs`` on an axis ``width_pt`` points wide spanning ``span`` units (or, of one x,
    past a third of the width either side)."""
    if most < 2:
        return 0.0
    xs = np.unique(np.asarray(xs, dtype=np.float64))
    if len(xs) < 2:
        room = width_pt * 2 / 3
    else:
        room = SPREAD_SHARE * float(np.diff(xs).min()) * width_pt / span
    return min(SPREAD_PT, room / (most - 1))


def spread_limits(
    xs: np.ndarray, width_pt: float, lo: float, hi: float
) -> tuple[float, float, float]:
    """The step between neighbours of one x (:func:`spread_step`) and the x limits, ``lo`` and
    ``hi`` widened to hold the outermost points, of the points at ``xs`` on an axis
    ``width_pt`` points wide: the step taken at the widened limits' scale, which is smaller
    than the given one's. (Taken at the given limits, 12 points a T at T = 6 and 60 spread over
    0.95 of the gap once the limits were widened, the two T's points 4 pt apart.) The limits
    only widen and the step only shrinks, until neither changes."""
    _, counts = np.unique(xs, return_counts=True)
    most = int(counts.max())
    first, last = float(xs.min()), float(xs.max())
    step = spread_step(xs, most, width_pt, hi - lo)
    for _ in range(_WIDENINGS if last > first else 0):
        half = step * (most - 1) / 2 + POINT_MS / 2 + 1.0  # points, either side
        pad = half * (last - first) / max(width_pt - 2 * half, 1.0)  # at the widened scale
        wider = min(lo, first - pad), max(hi, last + pad)
        if wider == (lo, hi):
            break
        lo, hi = wider
        step = spread_step(xs, most, width_pt, hi - lo)  # always at the limits returned
    return step, lo, hi


def spread_offsets(curves: Sequence[Curve], step: float) -> list[np.ndarray]:
    """Each curve's points' sideways offsets in points (0 for a NaN, not drawn): the points of
    one x, in the order of their curves and then their own, ``step`` apart about it."""
    drawn = [(i, j) for i, c in enumerate(curves) for j in range(len(c.x)) if not np.isnan(c.y[j])]
    offsets = [np.zeros(len(c.x)) for c in curves]
    by_x: dict[float, list[tuple[int, int]]] = {}
    for i, j in drawn:
        by_x.setdefault(float(curves[i].x[j]), []).append((i, j))
    for group in by_x.values():
        for k, (i, j) in enumerate(group):
            offsets[i][j] = (k - (len(group) - 1) / 2) * step
    return offsets


def _measured(panel: LinePanel) -> list[Curve]:
    return [c for c in panel.curves if not c.reference]


def limit_points(ax: Axes, panel: LinePanel, grid: LineGrid) -> None:
    """Take the finite points of ``panel`` into the axes' data limits (they are drawn once the
    limits are set: :func:`draw_points`), with 0 and the grid's level: the axis runs from no
    fall to the cut at least, where every point lies on one side of it."""
    for c in _measured(panel):
        ok = np.isfinite(c.y)
        if ok.any():
            ax.update_datalim(np.column_stack([c.x[ok], c.y[ok]]))
    xs = [float(c.x[0]) for c in _measured(panel) if len(c.x)]
    if xs and grid.level is not None and math.isfinite(grid.level):
        ax.update_datalim([(xs[0], 0.0), (xs[0], grid.level)])
    ax.autoscale_view()


def draw_points(
    ax: Axes, panel: LinePanel, grid: LineGrid, colors: list[str], width: float
) -> None:
    """The points of ``panel`` (axes ``width`` inches wide, its limits set), spread sideways
    (:func:`spread_offsets`), the x limits widened to hold them, and a ▼ on the top edge for
    each ``+inf``, with room made above the data."""
    curves = _measured(panel)
    if not curves:
        return
    xs = np.concatenate([c.x[~np.isnan(c.y)] for c in curves])
    if not len(xs):
        return
    step, lo, hi = spread_limits(xs, 72.0 * width, *ax.get_xlim())
    ax.set_xlim(lo, hi)  # held: the points below, drawn with offsets, move no limit
    y_lo, y_hi = ax.get_ylim()
    if any(np.isposinf(c.y).any() for c in curves):
        room = FLOOR_BASE + FLOOR_STEP
        y_hi += room * (y_hi - y_lo) / (1.0 - room)
    ax.set_ylim(y_lo, y_hi)
    fig = ax.get_figure()
    assert fig is not None
    ceiling = blended_transform_factory(ax.transData, ax.transAxes)
    for curve, offset in zip(curves, spread_offsets(curves, step), strict=True):
        color = line_color(curve, colors)
        shape = style_marker(curve.style, len(grid.legend), len(CVD_SAFE)) or "o"
        hollow = curve.open_points()
        for j in np.flatnonzero(~np.isnan(curve.y)):
            top = bool(np.isposinf(curve.y[j]))
            base = ceiling if top else ax.transData
            shift = ScaledTranslation(float(offset[j]) / 72.0, 0.0, fig.dpi_scale_trans)
            y = CEILING_Y if top else float(curve.y[j])
            ax.plot(
                [float(curve.x[j])],
                [y],
                ls="none",
                marker="v" if top else shape,
                ms=POINT_MS,
                mew=1.0,
                color=color,
                mfc="white" if hollow[j] else color,
                transform=base + shift,
                clip_on=not top,
                zorder=3,
            )


def draw_level(ax: Axes, grid: LineGrid) -> None:
    """The grid's dashed level (a cut) across the panel, in the reference grey."""
    if grid.level is not None and math.isfinite(grid.level):
        ls = dashes(False)
        ax.axhline(grid.level, color=REFERENCE_COLOR, lw=REFERENCE_LW, ls=ls, zorder=2)
