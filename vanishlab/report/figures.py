"""Draw the figures of :mod:`.model` as matplotlib ``Figure`` objects and inline SVG text.

Only the object-oriented API is used (``matplotlib.figure.Figure`` with the SVG backend's
canvas at save time), never pyplot's global state, so drawing is thread-safe and leaves no
open figures. Every setting that affects the bytes is pinned in :data:`RC` (the SVG hash
salt, text as glyph paths, no creation date), so the same data gives the same SVG. Ids inside
each SVG get a per-figure prefix, so several figures can share one HTML document.

Conventions that keep plots honest: ``-inf`` (an exact zero Jacobian) is never plotted as a
number; it becomes a triangle on the floor of the panel (curves) or a grey cell (heatmaps).
Text that came from the user (panel titles, legend entries, tick labels) has ``$`` escaped so
matplotlib never reads it as mathtext; axis labels are the report's own and may use mathtext.
"""

from __future__ import annotations

import io
import math
import re

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .figure_layout import RC, TITLE_SIZE, axis_labels, panel_grid, pinned
from .figure_text import TICK_SIZE, plain, text_width, wrap_title
from .heatmaps import draw_heatmaps
from .line_box import Y_TICKS_W, LineBox, line_box, title_room
from .line_style import (
    BAND_MIN_PT,
    CYCLE_MARKERS,
    LINE_LW,
    MARKER_MS,
    REFERENCE_LW,
    RING_MS,
    alone,
    covered_curves,
    covered_points,
    dashes,
    line_width,
    reference_width,
    shown_levels,
    style_marker,
)
from .model import Curve, HeatmapGrid, LineGrid, LinePanel

__all__ = ["draw", "figure_svg", "left_margin", "palette", "svg_of"]

FLOOR_COLOR = "#7f7f7f"
BAND_COLOR = "#dedede"  # the stable band: darker than the grid lines (#e6e6e6), lighter than 0
AT_LEAST_LABEL = "at least (a seed never got there)"
"""The legend's entry for the carets of :attr:`Curve.at_least_x`."""
REFERENCE_COLOR = "#444444"  # a reference of no line's style; a legend sample of several colours
FLOOR_BASE, FLOOR_STEP = 0.025, 0.04  # rug rows of exact zeros, in axes units
FLAT_SPAN = 1e-9  # a y span below this (relative, at least 1) is a flat curve's rounding


#: Okabe & Ito's colour-blind-safe colours (2008), without their yellow (1.3:1 on white) and
#: black: under a simulated deuteranopia, protanopia or tritanopia (Machado et al. 2009) any two
#: of them are at least 16 apart in CIELAB, where tab10's green read 4.6 from its orange
#: (protanopia) and 7.3 from its red (deuteranopia): the demo's `normal` and `orthogonal`, or
#: `normal` and `identity`, solid lines of one colour to a colour-blind reader.
CVD_SAFE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9")


def palette(n: int) -> list[str]:
    """Colours for ``n`` lines: :data:`CVD_SAFE`, cycled past 6 up to 18 lines, the lines of a
    colour again told apart by their markers (:func:`.line_style.style_marker`; tab10, for 7 to
    10, drew two of the activation_init study's 8 inits 4.6 apart to a protanope); else evenly
    spaced viridis."""
    if n <= len(CVD_SAFE) * (1 + len(CYCLE_MARKERS)):
        return [CVD_SAFE[i % len(CVD_SAFE)] for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.0, 0.92, n)]


def draw(block: LineGrid | HeatmapGrid) -> Figure:
    """The matplotlib figure of a figure block (call inside :func:`pinned`)."""
    if isinstance(block, LineGrid):
        return _draw_lines(block)
    if isinstance(block, HeatmapGrid):
        return draw_heatmaps(block)
    raise TypeError(f"not a figure block: {type(block).__name__}")


def _draw_lines(grid: LineGrid) -> Figure:
    """A grid of line panels laid out in fixed inches (no layout engine: one draw, not three).

    Margins: the shared y label and tick labels on the left, the legend on the right (as
    wide as its longest entry), the x label below, each panel's title above it.
    """
    ncols, nrows = max(grid.ncols, 1), max(grid.nrows, 1)
    colors = palette(max(len(grid.legend), 1))
    shown = [p for p in grid.panels if p.row < nrows and p.col < ncols]
    handles, labels = _legend_entries(grid, shown, colors)
    fig, box = _laid_out(grid, shown, colors, labels)
    width, height = (float(v) for v in fig.get_size_inches())
    left = box.margins[0]
    panel_w, gap_w = box.panel[0], box.gaps[0]
    # The x label centred under the last row's panels, the nearest x axes (centred under the
    # whole grid, it stood under empty slots where the last row is not full).
    last = [p.col for p in shown if p.row == nrows - 1] or [0, ncols - 1]
    x_mid = left + (min(last) + max(last) + 1) * (panel_w + gap_w) / 2 - gap_w / 2
    axis_labels(
        fig,
        (grid.xlabel, (x_mid / width, 0.1 / height)),
        (box.ylabel, (0.08 / width, box.centre / height)),
    )
    if handles:
        _add_legend(fig, handles, labels, grid, box)
    if grid.figure_note:  # left-aligned with the panels' titles, above everything else
        note = grid.figure_note[0].upper() + grid.figure_note[1:]
        size = float(RC["legend.fontsize"])
        fig.text(left / width, 1.0 - 0.05 / height, note, ha="left", va="top", fontsize=size)
    return fig


def left_margin(grid: LineGrid) -> float:
    """The inches left of the first column of panels that ``grid`` is drawn with (its y
    label and tick labels; at least ``grid.min_left``): what :attr:`.model.LineGrid.align`
    lines figures up by."""
    nrows, ncols = max(grid.nrows, 1), max(grid.ncols, 1)
    colors = palette(max(len(grid.legend), 1))
    shown = [p for p in grid.panels if p.row < nrows and p.col < ncols]
    with pinned():
        labels = _legend_entries(grid, shown, colors)[1]
        return _laid_out(grid, shown, colors, labels)[1].margins[0]


def _laid_out(
    grid: LineGrid, shown: list[LinePanel], colors: list[str], labels: list[str]
) -> tuple[Figure, LineBox]:
    """The figure of ``grid``'s panels ``shown`` and the box it is laid out by. Tick labels
    wider than the margins hold ("0.0029485": a loss that barely moved) ran across the y
    label and the panel on their left: the grid is laid out again with more room."""
    nrows, ncols = max(grid.nrows, 1), max(grid.ncols, 1)
    box = line_box(grid, shown, labels, nrows, ncols)
    fig, axes = _draw_panels(grid, shown, colors, box)
    extra = max((_y_ticks_width(ax) for ax in axes.flat if ax.get_visible()), default=0.0)
    if extra > Y_TICKS_W:
        box = line_box(grid, shown, labels, nrows, ncols, ticks=extra - Y_TICKS_W + 0.03)
        fig, axes = _draw_panels(grid, shown, colors, box)
    return fig, box


def _draw_panels(
    grid: LineGrid, shown: list[LinePanel], colors: list[str], box: LineBox
) -> tuple[Figure, np.ndarray]:
    """The figure laid out by ``box`` with the panels ``shown`` drawn (the others hidden)."""
    nrows, ncols = max(grid.nrows, 1), max(grid.ncols, 1)
    fig, axes = panel_grid(nrows, ncols, box.panel, box.gaps, box.margins)
    for ax in axes.flat:
        ax.set_visible(False)
    for panel in shown:
        _draw_panel(axes[panel.row, panel.col], panel, grid, colors, box)
    return fig, axes


def _y_ticks_width(ax: Axes) -> float:
    """The inches of the widest y tick label ``ax`` will draw (a log axis's decades: none)."""
    if ax.get_yscale() != "linear":
        return 0.0
    lo, hi = sorted(ax.get_ylim())
    ticks = [t for t in ax.yaxis.get_major_locator()() if lo <= t <= hi]
    texts = ax.yaxis.get_major_formatter().format_ticks(ticks)
    return max((text_width(t, TICK_SIZE) for t in texts if t), default=0.0)


def _legend_entries(
    grid: LineGrid, shown: list[LinePanel], colors: list[str]
) -> tuple[list[Line2D | Patch], list[str]]:
    """The legend's handles and their labels: each line style drawn in ``shown``, each
    reference (in the one colour it is drawn in, else grey; with its ring where one stands
    alone), the floor's and the carets' markers and
    the stable band, where the panels draw them."""
    used = {c.style for p in shown for c in p.curves if not c.reference}
    references = {c.label: c.dotted for p in shown for c in p.curves if c.reference}
    # A reference's sample is drawn in the colour the panels draw it in where that is one (a
    # grey sample beside a measured line's coloured one read as a grey line of its own); in
    # the neutral grey where it takes several (each its measured line's: the caption says so).
    drawn: dict[str, set[str]] = {}
    for c in (c for p in shown for c in p.curves if c.reference):
        drawn.setdefault(c.label, set()).add(_color(c, colors))
    # A reference drawn as an open ring somewhere (a lone point: one T) shows the ring too.
    ringed = {c.label for p in shown for c in p.curves if c.reference and alone(c.y).any()}
    any_floor = any(len(c.floor_x) and not c.reference for p in shown for c in p.curves)
    handles: list[Line2D | Patch] = []
    labels: list[str] = []
    for s, label in enumerate(grid.legend):
        if s in used:
            shape = style_marker(s, len(grid.legend), len(CVD_SAFE))
            line = Line2D([], [], color=colors[s % len(colors)], lw=1.6, marker=shape, ms=4.0)
            handles.append(line)
            labels.append(plain(label))
    # Measured lines of one unnamed style beside a reference: the legend listed the dashed
    # line alone (the solid one explained only in the caption). Both kinds, or neither.
    # A measured line of no style (a monitor's training loss, beside its chance level) is
    # drawn in the reference grey: its sample too.
    measured = sorted(s for s in used if s is not None)
    if not grid.legend and references and (measured or None in used):
        color = colors[measured[0] % len(colors)] if measured else REFERENCE_COLOR
        handles.append(Line2D([], [], color=color, lw=1.6))
        labels.append(plain(grid.line_label))
    for label, dotted in references.items():
        ring = {"marker": "o", "mfc": "white", "ms": 4.0} if label in ringed else {}
        color = next(iter(drawn[label])) if len(drawn[label]) == 1 else REFERENCE_COLOR
        line = Line2D([], [], color=color, lw=REFERENCE_LW, ls=dashes(dotted), **ring)
        handles.append(line)
        labels.append(plain(label))
    if any_floor:
        handles.append(Line2D([], [], ls="none", marker="v", color=FLOOR_COLOR, ms=5))
        labels.append("exact zero (−∞)")
    if any(len(c.at_least_x) and not c.reference for p in shown for c in p.curves):
        handles.append(Line2D([], [], ls="none", marker="^", color=FLOOR_COLOR, ms=5))
        labels.append(grid.at_least_label or AT_LEAST_LABEL)
    if grid.stable_band and shown:  # its true width: it may be drawn wider (BAND_MIN_PT)
        handles.append(Patch(facecolor=BAND_COLOR, edgecolor="none"))
        labels.append(f"stable: |rate| ≤ {format_number(grid.stable_band)}")
    return handles, labels


def _draw_panel(
    ax: Axes, panel: LinePanel, grid: LineGrid, colors: list[str], box: LineBox
) -> None:
    """One panel: its title, the stable band and zero line, its curves and their floor
    markers, then its limits and ticks."""
    ax.set_visible(True)
    room = title_room(panel.col, max(grid.ncols, 1), box.slot, box.gaps[0])
    ax.set_title(wrap_title(plain(panel.title), room, TITLE_SIZE), loc="left", pad=4, y=1.0)
    band = None
    if grid.stable_band:  # to scale while the limits are found; widened once they are
        band = ax.axhspan(-grid.stable_band, grid.stable_band, color=BAND_COLOR, lw=0)
        band.set_zorder(0)
    if grid.zero_line:
        ax.axhline(0.0, color="#8c8c8c", lw=0.8, zorder=1.75)  # over the grid (1.5)
    if grid.log_y:  # (its own locator: decades, labelled 10^k)
        ax.set_yscale("log")
    _draw_curves(ax, panel, grid, colors)
    floors = [c for c in panel.curves if len(c.floor_x) and not c.reference]
    for row, curve in enumerate(floors):
        # One rug row per curve, stacked on the panel's floor, below all data.
        y = np.full(len(curve.floor_x), FLOOR_BASE + FLOOR_STEP * row)  # in axes units
        ax.plot(curve.floor_x, y, transform=ax.get_xaxis_transform(), ls="none", marker="v")
        ax.lines[-1].set(ms=3.6, color=_color(curve, colors), clip_on=False)
    _set_y_limits(ax, grid, len(floors))
    if band is not None and not grid.log_y:
        half = _band_half(grid.stable_band, ax.get_ylim(), box.panel[1])
        if half > grid.stable_band:  # (the limits are set: the wider band moves none)
            band.remove()
            ax.axhspan(-half, half, color=BAND_COLOR, lw=0).set_zorder(0)
    _set_x_ticks(ax, panel, grid)
    if not grid.log_y:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=grid.integer_y))


def _draw_curves(ax: Axes, panel: LinePanel, grid: LineGrid, colors: list[str]) -> None:
    """The panel's curves: a reference dashed, with an open marker where a point stands alone;
    a measured one with its band, drawn wider (and its markers ringed) where later curves
    cover it."""
    # the y values the panel draws besides its curves: the zero line, the stable band
    drawn = shown_levels(grid)
    covered = covered_curves(panel.curves, shown=drawn)
    rings = covered_points(panel.curves, shown=drawn) if grid.markers else {}
    under = covered_curves(panel.curves, reference=True, shown=drawn)
    for i, curve in enumerate(panel.curves):
        color = _color(curve, colors)
        shape = style_marker(curve.style, len(grid.legend), len(CVD_SAFE))
        if curve.reference:  # dashed; an open marker where a point stands alone
            at = alone(curve.y)  # (on every point, a critical-gain line got end rings)
            lw = reference_width(under.get(i, 0))
            ax.plot(curve.x, curve.y, color=color, lw=lw, ls=dashes(curve.dotted), zorder=3)
            if shape:  # its measured line's shape, open, on a few of its points
                at = at | _every_few(curve.y)
            if at.any():  # (an empty marker line per reference otherwise, in every SVG)
                ax.plot(curve.x[at], curve.y[at], ls="none", marker=shape or "o", mfc="white")
                ax.lines[-1].set(ms=4.0, color=color, zorder=3)
            continue
        lw = line_width(covered.get(i, 0))
        _draw_curve(ax, curve, color, grid.markers, lw=lw, rings=rings.get(i), shape=shape)


def _set_y_limits(ax: Axes, grid: LineGrid, n_floors: int) -> None:
    """The y limits: a flat curve's widened (not on a log scale), the grid's ``y_span`` held,
    and room below the data for ``n_floors`` rows of floor markers."""
    if not grid.log_y:
        ax.set_ylim(*_readable_span(*ax.get_ylim()))
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


def _set_x_ticks(ax: Axes, panel: LinePanel, grid: LineGrid) -> None:
    """The x limits and ticks: at the measured x values (a predicted curve's dense x and a
    critical gain's would put them elsewhere, and differently from a panel without
    predictions), a readable few of them where they are many (:func:`x_ticks`, with its
    dotted marker lines' x, then the grid's :attr:`~.model.LineGrid.x_marks`) in a figure of
    points, else at most 5 chosen by matplotlib."""
    measured = [c.x for c in panel.curves if not c.reference] or [c.x for c in panel.curves]
    xs = np.unique(np.concatenate(measured or [np.empty(0)]))
    if len(xs) == 1:  # one x (a run of T = 1 has one input lag): half a unit either side,
        # not an autoscaled range of 0.1 (ticks at -0.075 ...) or, beside a floor, 1e-17
        lo, hi = ax.get_xlim()
        ax.set_xlim(min(lo, xs[0] - 0.5), max(hi, xs[0] + 0.5))
    if grid.x_span is not None:  # all recorded steps, gaps at either end too (a monitor's)
        lo, hi = ax.get_xlim()
        ax.set_xlim(min(lo, grid.x_span[0]), max(hi, grid.x_span[1]))
    if grid.markers and len(xs):
        lines = [float(c.x[0]) for c in panel.curves if c.dotted and len(c.x)]
        ticks = x_ticks(xs, [*lines, *grid.x_marks])  # the critical gain drawn, else 1
        ax.set_xticks(ticks, [format_number(v) for v in ticks])
    elif len(xs) == 1:
        ax.set_xticks(xs, [format_number(v) for v in xs])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=not grid.markers))


def _add_legend(
    fig: Figure, handles: list[Line2D | Patch], labels: list[str], grid: LineGrid, box: LineBox
) -> None:
    """The figure's legend: in columns above the panels of a wide grid, else on their right;
    its title left-aligned in both places, as the panels' titles are (on the right it stood
    centred over entries of unequal widths)."""
    width, height = (float(v) for v in fig.get_size_inches())
    below = box.note_h / height  # under the figure's note line, where it has one
    if box.legend_h:
        loc, anchor, ncols = "upper left", (box.margins[0] / width, 1.0 - below), box.legend_cols
    else:
        loc, anchor, ncols = "upper right", (1.0, 1.0 - 0.05 / height - below), 1
    fig.legend(
        handles,
        labels,
        loc=loc,
        bbox_to_anchor=anchor,
        ncols=ncols,
        title=plain(grid.legend_title) or None,
        alignment="left",
        frameon=False,
    )


def _readable_span(lo: float, hi: float) -> tuple[float, float]:
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


def _band_half(tol: float, ylim: tuple[float, float], panel_h: float) -> float:
    """The half-height (data units) at which the stable band ``|y| <= tol`` is drawn on a
    panel ``panel_h`` inches tall with y limits ``ylim``: ``tol``, or as much as makes the band
    :data:`.line_style.BAND_MIN_PT` points tall where to scale it would be thinner."""
    span = abs(ylim[1] - ylim[0])
    if not math.isfinite(span) or span == 0:
        return tol
    return max(tol, BAND_MIN_PT / 2 * span / (72 * panel_h))


def _color(curve: Curve, colors: list[str]) -> str:
    return REFERENCE_COLOR if curve.style is None else colors[curve.style % len(colors)]


def _draw_curve(
    ax: Axes,
    curve: Curve,
    color: str,
    markers: bool,
    lw: float = LINE_LW,
    rings: np.ndarray | None = None,
    shape: str | None = None,
) -> None:
    """One curve: its band (or bars), its line, and markers where a point stands alone (every
    point with ``markers``, ``rings`` (:func:`.line_style.covered_points`) making them larger),
    in ``shape`` where it has one (else dots), which also marks a line's points every few."""
    if curve.lo is not None and curve.hi is not None:
        ok = np.isfinite(curve.lo) & np.isfinite(curve.hi)
        if markers:
            ax.vlines(curve.x[ok], curve.lo[ok], curve.hi[ok], color=color, lw=1.0, alpha=0.6)
        elif ok.any():
            ax.fill_between(curve.x, curve.lo, curve.hi, where=ok, color=color, alpha=0.18, lw=0)
    # A marked point that later curves' points sit on (two gains both solving every T, a
    # monitor's equal state and input horizons) is drawn larger by a ring per such curve, so
    # that each shows as a ring of its colour, not hidden under the last one drawn.
    ax.plot(curve.x, curve.y, color=color, lw=lw)
    depth = np.zeros(len(curve.x), dtype=int) if rings is None else rings
    sizes = MARKER_MS + RING_MS * depth if markers else np.full(len(curve.x), 3.2)
    finite = np.isfinite(curve.y)
    dot = shape or "o"
    if markers:
        for ms in np.unique(sizes[finite]):
            at = finite & (sizes == ms)
            ax.plot(curve.x[at], curve.y[at], ls="none", marker=dot, ms=ms, color=color)
    single = np.zeros(0, bool) if markers else alone(curve.y)
    if shape and not markers:  # a few marks along the line, its shape told in the legend
        single = single | _every_few(curve.y)
    if single.any():  # a finite point between gaps draws no line segment: show it as a dot
        ax.plot(curve.x[single], curve.y[single], ls="none", marker=dot, ms=3.2, color=color)
    bound = np.isin(curve.x, curve.at_least_x) & finite
    for ms in np.unique(sizes[bound]):  # a lower bound: a caret on the point, pointing up
        at = bound & (sizes == ms)
        ax.plot(curve.x[at], curve.y[at], ls="none", marker="^", ms=ms + 2.0, color=color)


def _every_few(y: np.ndarray, marks: int = 6) -> np.ndarray:
    """About ``marks`` of the finite points of ``y``, evenly spaced, from its first."""
    finite = np.flatnonzero(np.isfinite(y))
    return np.isin(np.arange(len(y)), finite[:: max(1, round(len(finite) / marks))])


def format_number(value: float) -> str:
    """A tick label: integers without a decimal point, others with up to 3 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def svg_of(fig: Figure, prefix: str, labelled_by: str | None = None) -> str:
    """The figure as an inline ``<svg>`` element whose ids all start with ``prefix``-.

    The XML prologue, doctype and metadata are dropped; no date or random id is written, so
    the text is a function of the figure alone. ``labelled_by``: the ids (space-separated) of
    the elements that name it for a screen reader (its title and caption), else it is an
    unnamed image.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _METADATA.sub("", _PROLOGUE.sub("", buf.getvalue(), count=1), count=1)
    text = text.replace(' id="', f' id="{prefix}-')
    text = text.replace('href="#', f'href="#{prefix}-')
    text = text.replace("url(#", f"url(#{prefix}-")
    named = f' aria-labelledby="{labelled_by}"' if labelled_by else ""
    # its own width, for the style sheet's least scale on a screen (page.MIN_FIGURE_SCALE)
    width = re.search(r'<svg\b[^>]*?\swidth="([0-9.]+pt)"', text)
    sized = f' style="--fig-w: {width.group(1)}"' if width else ""
    text = text.replace("<svg ", f'<svg class="fig" role="img"{named}{sized} ', 1)
    return text.strip() + "\n"


def figure_svg(block: LineGrid | HeatmapGrid, prefix: str, labelled_by: str | None = None) -> str:
    """Draw ``block`` and return its inline SVG (see :func:`svg_of`)."""
    with pinned():
        fig = draw(block)
        return svg_of(fig, prefix, labelled_by)
