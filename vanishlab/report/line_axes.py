"""The axes of a line figure's panel (:mod:`.figures`): its x ticks at the x measured
(:func:`x_ticks`, a gain axis's 1 or critical gain among them) and its x limits, its y limits
(a flat curve's widened, room below for the rows of exact zeros' markers), the width of its y
tick labels, and a tick label's number (:func:`format_number`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .figure_text import TICK_SIZE, text_width
from .model import Curve, LineGrid, LinePanel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "FEW_X",
    "FLOOR_BASE",
    "FLOOR_STEP",
    "MAX_X_TICKS",
    "format_number",
    "set_x_ticks",
    "set_y_limits",
    "unticked_lines",
    "x_ticks",
    "y_ticks_width",
]

FLOOR_BASE, FLOOR_STEP = 0.025, 0.04  # rug rows of exact zeros, in axes units
FLAT_SPAN = 1e-9  # a y span below this (relative, at least 1) is a flat curve's rounding


def y_ticks_width(ax: Axes) -> float:
    """The inches of the widest y tick label ``ax`` will draw (a log axis's decades: none)."""
    if ax.get_yscale() != "linear":
        return 0.0
    lo, hi = sorted(ax.get_ylim())
    ticks = [t for t in ax.yaxis.get_major_locator()() if lo <= t <= hi]
    texts = ax.yaxis.get_major_formatter().format_ticks(ticks)
    return max((text_width(t, TICK_SIZE) for t in texts if t), default=0.0)


def set_y_limits(ax: Axes, grid: LineGrid, n_floors: int) -> None:
    """The y limits: a flat curve's widened (not on a log scale), the grid's ``y_span`` held,
    and room below the data for ``n_floors`` rows of floor markers."""
    if not grid.log_y:
        ax.set_ylim(*readable_span(*ax.get_ylim()))
    if grid.y_span is not None:  # fractions all at 1 autoscaled to 0.95..1.05: mid-height
        lo, hi = ax.get_ylim()
        ax.set_ylim(min(lo, grid.y_span[0]), max(hi, grid.y_span[1]))
    if n_floors:
        lo, hi = ax.get_ylim()
        room = FLOOR_BASE + FLOOR_STEP * n_floors
        ax.set_ylim(lo - room * (hi - lo) / (1.0 - room), hi)


#: The most x ticks a figure of points draws where it has more than :data:`FEW_X` x values.
MAX_X_TICKS = 6
#: A figure of points with at most this many x values ticks each of them.
FEW_X = 8


def x_ticks(xs: np.ndarray, marks: list[float]) -> np.ndarray:
    """The x ticks of a panel of points at the measured ``xs``: each of them where they are at
    most :data:`FEW_X`, else a readable few of them, at least 1/:data:`MAX_X_TICKS` of the
    range apart, the ends first (a gain phase diagram of 10 gains read 0.8 / 1.6 / 2.4,
    matplotlib's, none of them a gain measured). The ``marks`` that lie in range (a critical
    gain drawn, a gain axis's 1), in their order, come first, each but where a tick already
    chosen lies that near (two critical gains 0.07 apart printed over each other), or, of few
    ``xs``, a measured one (√2 beside a measured 1.5)."""
    xs = np.unique(np.asarray(xs, dtype=np.float64))
    if not len(xs):
        return xs
    lo, hi = float(xs[0]), float(xs[-1])
    few = len(xs) <= FEW_X
    gap = (hi - lo) / MAX_X_TICKS  # a tick label's room on a panel of the page's width
    chosen: list[float] = []
    for m in (float(m) for m in marks if lo <= m <= hi):
        beside = chosen if not few else [*chosen, *(x for x in xs if x != m)]
        if all(abs(m - c) >= gap for c in beside):
            chosen.append(m)
    if few:  # each measured x, and the marks that lie between them
        return np.unique(np.concatenate([xs, chosen]))
    for x in (lo, hi, *xs[1:-1]):
        if all(abs(x - c) >= gap for c in chosen):
            chosen.append(float(x))
    return np.unique(np.array(chosen))


def set_x_ticks(ax: Axes, panel: LinePanel, grid: LineGrid) -> None:
    """The x limits and ticks: at the measured x values (a predicted curve's dense x and a
    critical gain's would put them elsewhere, and differently from a panel without
    predictions), a readable few of them where they are many (:func:`x_ticks`, with its
    dotted marker lines' x, then the grid's :attr:`~.model.LineGrid.x_marks`) in a figure of
    points, else at most 5 chosen by matplotlib."""
    xs = _measured_x(panel)
    if len(xs) == 1:  # one x (a run of T = 1 has one input lag): half a unit either side,
        # not an autoscaled range of 0.1 (ticks at -0.075 ...) or, beside a floor, 1e-17
        lo, hi = ax.get_xlim()
        ax.set_xlim(min(lo, xs[0] - 0.5), max(hi, xs[0] + 0.5))
    if grid.x_span is not None:  # all recorded steps, gaps at either end too (a monitor's)
        lo, hi = ax.get_xlim()
        ax.set_xlim(min(lo, grid.x_span[0]), max(hi, grid.x_span[1]))
    if grid.markers and len(xs):
        ticks = _point_ticks(xs, panel, grid)
        ax.set_xticks(ticks, [format_number(v) for v in ticks])
    elif len(xs) == 1:
        ax.set_xticks(xs, [format_number(v) for v in xs])
    else:
        # matplotlib where a figure is drawn alone: a caption reads this module's ticks
        # (unticked_lines) before matplotlib_dirs has set matplotlib's folders
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=not grid.markers))


def _measured_x(panel: LinePanel) -> np.ndarray:
    """The x a panel's measured curves have (its reference curves' where it has none)."""
    measured = [c.x for c in panel.curves if not c.reference] or [c.x for c in panel.curves]
    return np.unique(np.concatenate(measured or [np.empty(0)]))


def _point_ticks(xs: np.ndarray, panel: LinePanel, grid: LineGrid) -> np.ndarray:
    """The x ticks of a figure of points' panel measured at ``xs`` (:func:`x_ticks`): its
    dotted marker lines' x first (the critical gain drawn), then the grid's ``x_marks`` (1)."""
    lines = [float(c.x[0]) for c in panel.curves if c.dotted and len(c.x)]
    return x_ticks(xs, [*lines, *grid.x_marks])


def unticked_lines(panel: LinePanel, grid: LineGrid) -> list[Curve]:
    """The dotted marker lines of ``panel`` that :func:`set_x_ticks` gives no tick (too near
    another tick: the demo's critical gain of normal, 1.86, beside orthogonal's 1.69), whose
    x the caption must then give; none in a figure that is not of points."""
    xs = _measured_x(panel)
    if not (grid.markers and len(xs)):
        return []
    ticks = _point_ticks(xs, panel, grid)
    return [c for c in panel.curves if c.dotted and len(c.x) and not (ticks == c.x[0]).any()]


def readable_span(lo: float, hi: float) -> tuple[float, float]:
    """The y limits of a panel whose curves are flat but for rounding (an IRNN's norm, flat
    at log10 sqrt(H) to ~1e-12) widened as matplotlib widens an exactly flat one, around
    their value: autoscaled, such a span drew ticks 1e-12 apart, read by an offset."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return lo, hi
    mid = (lo + hi) / 2
    if hi - lo >= FLAT_SPAN * max(1.0, abs(mid)):
        return lo, hi
    pad = 0.05 * max(1.0, abs(mid))
    return mid - pad, mid + pad


def format_number(value: float) -> str:
    """A tick label: integers without a decimal point, others with up to 3 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"
