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

This module lays a line figure out and draws its curves; a panel's ticks and limits are
:mod:`.line_axes`', the lines' colours and the legend :mod:`.line_legend`'s (the names the
tests and the sections read re-exported here: :func:`palette`, :data:`CVD_SAFE`,
:func:`x_ticks`, ...). Heatmaps are :mod:`.heatmaps`'.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .figure_layout import RC, TITLE_SIZE, axis_labels, panel_grid, pinned
from .figure_text import plain, wrap_title
from .heatmaps import draw_heatmaps
from .line_axes import (
    FEW_X,
    FLOOR_BASE,
    FLOOR_STEP,
    MAX_X_TICKS,
    set_x_ticks,
    set_y_limits,
    x_ticks,
    y_ticks_width,
)
from .line_box import Y_TICKS_W, LineBox, line_box, title_room
from .line_legend import (
    AT_LEAST_LABEL,
    BAND_COLOR,
    CVD_SAFE,
    REFERENCE_COLOR,
    add_legend,
    legend_entries,
    line_color,
    palette,
)
from .line_marks import every_few, reference_marks
from .line_points import draw_level, draw_points, limit_points
from .line_style import (
    BAND_MIN_PT,
    LINE_LW,
    MARKER_MS,
    RING_MS,
    SHAPE_MS,
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

__all__ = [
    "AT_LEAST_LABEL",
    "CVD_SAFE",
    "FEW_X",
    "MAX_X_TICKS",
    "REFERENCE_COLOR",
    "draw",
    "figure_svg",
    "left_margin",
    "palette",
    "svg_of",
    "x_ticks",
]


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
    handles, labels = legend_entries(grid, shown, colors)
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
        add_legend(fig, handles, labels, grid, box)
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
        labels = legend_entries(grid, shown, colors)[1]
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
    extra = max((y_ticks_width(ax) for ax in axes.flat if ax.get_visible()), default=0.0)
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
    draw_level(ax, grid)
    if grid.points:  # drawn once the limits are set; taken into them here
        limit_points(ax, panel, grid)
    else:
        _draw_curves(ax, panel, grid, colors)
    floors = [c for c in panel.curves if len(c.floor_x) and not c.reference]
    for row, curve in enumerate(floors):
        # One rug row per curve, stacked on the panel's floor, below all data.
        y = np.full(len(curve.floor_x), FLOOR_BASE + FLOOR_STEP * row)  # in axes units
        ax.plot(curve.floor_x, y, transform=ax.get_xaxis_transform(), ls="none", marker="v")
        ax.lines[-1].set(ms=3.6, color=line_color(curve, colors), clip_on=False)
    set_y_limits(ax, grid, len(floors))
    if band is not None and not grid.log_y:
        half = _band_half(grid.stable_band, ax.get_ylim(), box.panel[1])
        if half > grid.stable_band:  # (the limits are set: the wider band moves none)
            band.remove()
            ax.axhspan(-half, half, color=BAND_COLOR, lw=0).set_zorder(0)
    set_x_ticks(ax, panel, grid)
    if grid.points:
        draw_points(ax, panel, grid, colors, box.panel[0])
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
        color = line_color(curve, colors)
        shape = style_marker(curve.style, len(grid.legend), len(CVD_SAFE))
        if curve.reference:  # dashed; an open marker where a point stands alone
            lw = reference_width(under.get(i, 0))
            ax.plot(curve.x, curve.y, color=color, lw=lw, ls=dashes(curve.dotted), zorder=3)
            # its measured line's shape, open, on a few of its points; never on a dotted
            # marker line (a critical gain's vertical: its two ends read as predicted points)
            at = reference_marks(curve, shape)
            if at.any():  # (an empty marker line per reference otherwise, in every SVG)
                ax.plot(curve.x[at], curve.y[at], ls="none", marker=shape or "o", mfc="white")
                ax.lines[-1].set(ms=4.0, color=color, zorder=3)
            continue
        lw = line_width(covered.get(i, 0))
        _draw_curve(ax, curve, color, grid.markers, lw=lw, rings=rings.get(i), shape=shape)


def _band_half(tol: float, ylim: tuple[float, float], panel_h: float) -> float:
    """The half-height (data units) at which the stable band ``|y| <= tol`` is drawn on a
    panel ``panel_h`` inches tall with y limits ``ylim``: ``tol``, or as much as makes the band
    :data:`.line_style.BAND_MIN_PT` points tall where to scale it would be thinner."""
    span = abs(ylim[1] - ylim[0])
    if not math.isfinite(span) or span == 0:
        return tol
    return max(tol, BAND_MIN_PT / 2 * span / (72 * panel_h))


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
        single = single | every_few(curve.y)
    if single.any():  # a finite point between gaps draws no line segment: show it as a dot
        ms = SHAPE_MS if shape else 3.2
        ax.plot(curve.x[single], curve.y[single], ls="none", marker=dot, ms=ms, color=color)
    bound = np.isin(curve.x, curve.at_least_x) & finite
    for ms in np.unique(sizes[bound]):  # a lower bound: a caret on the point, pointing up
        at = bound & (sizes == ms)
        ax.plot(curve.x[at], curve.y[at], ls="none", marker="^", ms=ms + 2.0, color=color)


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
