"""Heatmaps of the report (:class:`.model.HeatmapGrid`): panels of cells wrapped to rows, one
colour bar, laid out in fixed inches.

An exact zero (``-inf``) is never coloured as a number: its cell is grey, and a cell where only
some seeds are exact zeros is dotted. A combination the run has no cell of is hatched, so that
it reads apart from a failed setting's blank cell. :func:`color_scale` fits one diverging
scale (white at 0, blue below, red above) to every panel of a figure.
"""

from __future__ import annotations

import itertools
import math

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from .figure_layout import TITLE_GAP, TITLE_SIZE, axis_labels, panel_grid, panel_rows
from .figure_text import (
    TICK_SIZE,
    label_width,
    plain,
    row_label,
    row_labels,
    text_width,
    title_width,
    wrap_title,
    wrap_words,
)
from .model import HeatmapGrid, HeatPanel
from .page import PAGE_W

__all__ = ["ABSENT_LABEL", "CMAP", "ZERO_COLOR", "color_scale", "draw_heatmaps", "text_color"]

ZERO_COLOR = "#b0b0b0"  # heatmap cells that are exact zeros (-inf)
PARTIAL_MARK = {"marker": "o", "ms": 2.2, "color": "#333333", "mew": 0}  # some seeds' mean
PARTIAL_LABEL = "some seeds exact zero: the others' mean"
ABSENT_HATCH = {"hatch": "///", "edgecolor": "#c8c8c8", "facecolor": "none", "lw": 0.0}
ABSENT_LABEL = "not in the run"  # a combination no cell of the run has (HeatPanel.absent)
CMAP = "RdBu_r"  # blue = vanishing (< 0), red = exploding (> 0)


#: Inches between the last column of heatmaps and their colour bar.
_BAR_GAP = 0.25
_TITLE_PAD = 5.0  # points more than a title's own pad above a colour bar: room for its end label
#: Inches a title in the last column may run past its panel: up to the colour bar.
_LAST_ROOM = _BAR_GAP - 0.05
#: Lines a panel's title is given room for (:func:`_titles_width`), and the widest a panel is
#: made for them (narrower where that many to a row would not fit the page, :func:`_page_width`):
#: past it, a long title takes a third line rather than the panel growing huge or the figure,
#: wider than the page, being drawn smaller.
_TITLE_LINES = 2
_TITLE_MAX_W = 3.0
#: Inches: a cell of a cell grid (its rate and horizon, 7.5 pt), the narrowest it is made
#: before a row of panels loses a column, and its height; a dense grid's panel (lags) as wide
#: as it is drawn, and the narrowest before it loses one; the height of a dense grid's row
#: (at least), and of a line of its label (a label of three lines makes its rows taller); the
#: height of a row in a figure whose rows are named by groups
#: (:attr:`.model.HeatPanel.row_groups`), each row's own label one line (a layer's number) and
#: each group's spanning its rows.
_CELL_W, _CELL_MIN_W, _CELL_H = 0.95, 0.8, 0.48
_DENSE_W, _DENSE_MIN_W = 3.4, 1.6
_DENSE_ROW_H, _LABEL_LINE_H = 0.32, 1.2 * TICK_SIZE / 72
_GROUPED_ROW_H = 0.2


#: Points between the label of a group of rows (:attr:`.model.HeatPanel.row_groups`) and
#: its rows' own labels.
_GROUP_PAD = 6.0


def _spans(panel: HeatPanel) -> list[tuple[int, int]]:
    """The (first, past the last) rows of each group of a panel's rows: between its
    separators."""
    bounds = [0, *panel.separators, len(panel.row_labels)]
    return list(itertools.pairwise(bounds))


def _dense_height(
    labels: list[str], groups: list[str], spans: list[tuple[int, int]], least: float
) -> float:
    """Inches a dense panel is tall, of these row labels and labels of groups of rows (as
    drawn): rows of ``least`` inches, or taller where a row's label, or a group's beside its
    rows, takes more lines than they have room for."""
    lines = max((t.count("\n") + 1 for t in labels), default=1)
    row_h = max(least, _LABEL_LINE_H * lines + 0.02)
    for text, (first, end) in zip(groups, spans, strict=False):
        row_h = max(row_h, (_LABEL_LINE_H * (text.count("\n") + 1) + 0.02) / (end - first))
    return row_h * max(len(labels), 1)


def _widest(labels: list[str]) -> float:
    """Inches the widest line of these labels is at :data:`.figure_text.TICK_SIZE`."""
    return max((label_width(t, TICK_SIZE) for t in labels), default=0.0)


def _titles_width(grid: HeatmapGrid) -> float:
    """The panel width (inches, at most :data:`_TITLE_MAX_W`) at which every title of the
    figure fits in :data:`_TITLE_LINES` lines wherever it is drawn, the last column's room
    the narrowest; the titles of its other parts too (:attr:`.model.HeatmapGrid.part_titles`),
    whose panels are as wide. Two-cell panels titled by four settings ("tanh, hidden = 4,
    orthogonal, input std = 0.5") wrapped them onto three lines in the last column."""
    titles = [plain(t) for t in (*(p.title for p in grid.panels), *grid.part_titles) if t]
    need = max((title_width(t, _TITLE_LINES, TITLE_SIZE) for t in titles), default=0.0)
    return min(need - _LAST_ROOM, _TITLE_MAX_W)


def _page_width(ncols: int, margins: float, gap_w: float) -> float:
    """The widest panels (inches) of which ``ncols`` to a row, with their gaps and the
    figure's margins, fit the page (:data:`.page.PAGE_W`): panels widened for their
    titles up to :data:`_TITLE_MAX_W` made three of them 11.6-13.4 in, drawn smaller. A part
    of a figure counts the columns of its widest part (:func:`.layout.as_parts`)."""
    ncols = max(ncols, 1)
    return (PAGE_W - margins - (ncols - 1) * gap_w) / ncols


def _page_columns(ncols: int, margins: float, gap_w: float, least_w: float) -> int:
    """The most columns, up to ``ncols`` (at least one), of which panels ``least_w`` inches
    wide fit the page (:func:`_page_width`): every panel has its row labels beside it, and
    with an init's name as a label ('uniform_variance_scaled_recurrent', 2.3 in) three cell
    panels of two columns made a figure 14.8 in wide."""
    while ncols > 1 and _page_width(ncols, margins, gap_w) < least_w:
        ncols -= 1
    return max(ncols, 1)


def draw_heatmaps(grid: HeatmapGrid) -> Figure:
    """Heatmaps wrapped ``ncols`` to a row with one colour bar, laid out in fixed inches."""
    n = max(len(grid.panels), 1)
    # Row labels as drawn: long ones broken or shortened (the caption gives those in full),
    # the shortened ones of the figure apart.
    drawn = row_labels(t for p in grid.panels for t in p.row_labels)
    labels = [[drawn[t] for t in p.row_labels] for p in grid.panels]
    groups = [[row_label(t)[0] for t in p.row_groups] for p in grid.panels]
    flat = [t for p in labels for t in p]
    label_w = _widest(flat) if flat else 0.3
    # Rows named by groups: the y label heads each panel's column of row labels, right of the
    # groups' (drawn at the figure's left edge, "layer l" read as naming the settings).
    head = grid.ylabel if any(groups) else ""
    head_w = text_width(head, TICK_SIZE) + _tick_room() if head else 0.0
    if any(groups):  # a group's label left of its rows' own
        label_w += max(_widest(g) for g in groups) + _GROUP_PAD / 72
    # Wide enough that a title wrapped TITLE_GAP short of the next column's title (or head)
    # has the last column's room at least: two-cell panels' titles broke in the middle column.
    gap_w = max(max(label_w, head_w) + 0.3, head_w + TITLE_GAP + _LAST_ROOM)
    # (rows named by groups: their labels and the ticks' room, then 0.15 in to the edge; as
    # measured, no longer 0.6 em a character, 0.2 in without the ticks' left 0.07 in)
    left = max(label_w + _tick_room(), head_w) + 0.15 if head else 0.4 + label_w + 0.1
    right = 1.25
    cols = max([len(p.col_labels) for p in grid.panels] + [1])
    least_w = _DENSE_MIN_W if grid.dense else _CELL_MIN_W * cols
    # A part of a figure counts the columns of its widest part (as_parts gives it its ncols).
    page_cols = _page_columns(grid.ncols, left + right, gap_w, least_w)
    ncols = max(min(page_cols, n), 1)
    nrows = math.ceil(n / ncols)
    fits = _page_width(page_cols if grid.part else ncols, left + right, gap_w)
    if grid.dense:
        panel_w = min(_DENSE_W, fits)
        # Each panel as tall as its own rows, each row as its own panel's labels need: one
        # panel's 72 rows (and another's three-line labels) made every panel of a figure of
        # folded settings as tall as both.
        least = _GROUPED_ROW_H if any(groups) else _DENSE_ROW_H
        heights = [
            _dense_height(r, g, _spans(p), least)
            for r, g, p in zip(labels, groups, grid.panels, strict=True)
        ]
        w = panel_w + 1.2  # a panel with its share of the gaps
    else:
        titled = min(_titles_width(grid), fits)
        panel_w = min(max(_CELL_W * cols, titled), fits)
        # Each panel as tall as its own rows (an nn.RNN's tanh and relu beside a gated cell's
        # one n/a row, which was drawn as tall as both: its cells twice as tall as theirs).
        heights = [_CELL_H * max(len(p.row_labels), 1) for p in grid.panels]
        w = panel_w + 1.3
    # A title may run past its panel up to the next panel, or, in the last column, up to the
    # colour bar, which stands _BAR_GAP in past it (a title wrapped to w - 0.6 ran under it).
    # Before the next column, TITLE_GAP short of its title or of its labels' head.
    room = [min(w - 0.6, panel_w + gap_w - TITLE_GAP - head_w), panel_w + _LAST_ROOM]
    titles = [
        wrap_title(plain(p.title), room[i % ncols == ncols - 1], TITLE_SIZE)
        for i, p in enumerate(grid.panels)
    ]
    # Each row of a dense grid's panels has room above it for its own titles' lines; a cell
    # grid's rows, for the most any row's take.
    title_h = [
        0.17 * max((t.count("\n") + 1 for t in titles[r * ncols : (r + 1) * ncols] if t), default=0)
        + 0.08
        for r in range(nrows)
    ]
    if not grid.dense:
        title_h = [max(title_h)] * nrows
    any_grey = any(p.grey for p in grid.panels)
    any_partial = any(p.partial is not None and bool(p.partial.any()) for p in grid.panels)
    any_absent = any(p.absent is not None and bool(p.absent.any()) for p in grid.panels)
    # A legend under the grid names the grey cells, the dots and the hatched cells.
    any_zero = any_grey or any_partial or any_absent
    bottom, top = 0.55 + (0.25 if any_zero else 0.0), title_h[0] + 0.12
    above = [0.4 + h for h in title_h[1:]]  # a row's titles and the x labels of the row above
    tall = [max(heights[r * ncols : (r + 1) * ncols], default=0.0) for r in range(nrows)]
    # The colour bar's label runs along the bar when it fits, else above it as a title in
    # lines of 7.5 pt: the top margin then holds them (two rows of cells cut them off).
    label = grid.colorbar_label
    bar_h = 0.9 * (sum(tall) + sum(above))
    label_along = text_width(label, 9.5) <= bar_h
    bar_title = "" if label_along else wrap_words(label, right - 0.35, 7.5)
    if bar_title:
        top = max(top, (bar_title.count("\n") + 1) * 7.5 * 1.25 / 72 + 0.12 + _TITLE_PAD / 72)
    if len(set(heights)) == 1 and len(set(above)) < 2:  # a grid: laid out as before, to the bit
        gap_h = above[0] if above else 0.4 + title_h[0]
        margins = (left, right, bottom, top)
        fig, axes = panel_grid(nrows, ncols, (panel_w, heights[0]), (gap_w, gap_h), margins)
    else:
        fig, axes = panel_rows(ncols, panel_w, heights, gap_w, [top, *above], (left, right, bottom))
    width, height = (float(v) for v in fig.get_size_inches())
    extent = [np.array(grid.scale, dtype=np.float64)] if grid.scale is not None else []
    cmap, norm = color_scale([*(p.values for p in grid.panels), *extent], grid.center_zero)
    mappable = None
    for ax in axes.flat:
        ax.set_visible(False)
    for i, panel in enumerate(grid.panels):
        ax = axes[i // ncols, i % ncols]
        ax.set_visible(True)
        ax.grid(False)
        if grid.dense:
            mappable = _dense_panel(ax, panel, labels[i], groups[i], head, cmap, norm)
        else:
            mappable = _cell_panel(ax, panel, labels[i], cmap, norm)
        if panel.title:
            ax.set_title(titles[i], loc="left", pad=4, y=1.0)
    grid_top, grid_bottom = 1 - top / height, bottom / height
    # The x label centred under the last row's panels (under the whole grid, it stood under
    # empty slots where the last row is not full).
    last = (n - 1) % ncols + 1 if nrows > 1 else ncols
    axis_labels(
        fig,
        (
            grid.xlabel,
            (
                (left + last * (panel_w + gap_w) / 2 - gap_w / 2) / width,
                (0.1 + (0.25 if any_zero else 0.0)) / height,
            ),
        ),
        ("" if head else grid.ylabel, (0.08 / width, (grid_top + grid_bottom) / 2)),
    )
    if mappable is not None:
        span = grid_top - grid_bottom
        cax = fig.add_axes(
            (1 - (right - _BAR_GAP) / width, grid_bottom + 0.05 * span, 0.14 / width, 0.9 * span)
        )
        bar = fig.colorbar(mappable, cax=cax)
        _ticks_with_ends(bar, white_zero=grid.center_zero)
        if label_along:
            bar.set_label(label)
        else:  # a short bar (one row of panels) clipped its rotated label at both ends
            cax.set_title(bar_title, loc="left", fontsize=7.5, pad=6 + _TITLE_PAD)
        bar.outline.set_visible(False)
    if any_zero:
        _zero_legend(fig, any_grey, any_partial, any_absent, grid.absent_label or ABSENT_LABEL)
    return fig


def _tick_room() -> float:
    """Inches between an axis and its tick labels: the tick and its pad."""
    return (float(mpl.rcParams["ytick.major.size"]) + float(mpl.rcParams["ytick.major.pad"])) / 72


def _row_head(ax: Axes, text: str) -> None:
    """``text`` (the figure's y label) as the head of a panel's column of row labels: right
    aligned with them, just above the panel's top, level with its title."""
    shift = ScaledTranslation(-_tick_room(), 4 / 72, ax.figure.dpi_scale_trans)
    ax.text(0, 1, text, transform=ax.transAxes + shift, ha="right", va="bottom", fontsize=TICK_SIZE)


def _dense_panel(
    ax: Axes,
    panel: HeatPanel,
    labels: list[str],
    groups: list[str],
    head: str,
    cmap: Colormap,
    norm: Normalize,
) -> ScalarMappable:
    """One panel of a dense grid (one column per lag), drawn on ``ax``: its image (the mappable
    the colour bar reads), exact zeros in grey, its rows' ``labels`` and ``groups`` (with
    ``head`` over the labels, unless ""), the separators between settings, and the marks of
    partial means."""
    v = panel.values
    shown = np.ma.masked_invalid(v)
    nr = v.shape[0]
    lags = np.array([float(c) for c in panel.col_labels])
    step = float(lags[1] - lags[0]) if len(lags) > 1 else 1.0
    extent = (lags[0] - step / 2, lags[-1] + step / 2, nr - 0.5, -0.5)
    mappable = ax.imshow(
        shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", extent=extent
    )
    if np.isneginf(v).any():
        zeros = np.ma.masked_where(~np.isneginf(v), np.zeros_like(v))
        grey = ListedColormap([ZERO_COLOR])
        ax.imshow(zeros, cmap=grey, aspect="auto", interpolation="nearest", extent=extent)
    ax.set_yticks(range(nr), [plain(t) for t in labels])
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    for row in panel.separators:
        ax.axhline(row - 0.5, color="white", lw=2.0)
    if groups:
        _group_labels(ax, groups, _spans(panel), _widest(labels))
    if head:
        _row_head(ax, head)
    if panel.partial is not None and panel.partial.any():
        rows, cols = np.nonzero(panel.partial)
        ax.plot(lags[cols], rows, ls="none", **PARTIAL_MARK)
    return mappable


def _cell_panel(
    ax: Axes, panel: HeatPanel, labels: list[str], cmap: Colormap, norm: Normalize
) -> ScalarMappable:
    """One panel of a cell grid (one square per setting), drawn on ``ax``: its squares (the
    mappable the colour bar reads), exact zeros in grey, absent settings hatched, and each
    square's text, in white or black by :func:`text_color`."""
    v = panel.values
    shown = np.ma.masked_invalid(v)
    nr, nc = v.shape
    mappable = ax.pcolormesh(shown, cmap=cmap, norm=norm, edgecolors="white", lw=1.0)
    if np.isneginf(v).any():
        zeros = np.ma.masked_where(~np.isneginf(v), np.zeros_like(v))
        ax.pcolormesh(zeros, cmap=ListedColormap([ZERO_COLOR]), edgecolors="white", lw=1.0)
    ax.set_xticks(np.arange(nc) + 0.5, [plain(t) for t in panel.col_labels])
    ax.set_yticks(np.arange(nr) + 0.5, [plain(t) for t in labels])
    if panel.absent is not None:
        for r, c in zip(*np.nonzero(panel.absent), strict=True):
            ax.add_patch(Rectangle((c, r), 1, 1, **ABSENT_HATCH))
    ax.invert_yaxis()
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    if panel.text is not None:
        for r in range(nr):
            for c in range(nc):
                text = panel.text[r][c]
                if not text:
                    continue
                shade = cmap(norm(v[r, c])) if math.isfinite(v[r, c]) else ZERO_COLOR
                ax.text(
                    c + 0.5,
                    r + 0.5,
                    plain(text),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=text_color(shade),
                )
    return mappable


def _zero_legend(fig: Figure, grey: bool, partial: bool, absent: bool, absent_label: str) -> None:
    """The legend under the grid that names the grey cells (exact zeros), the dots (partial
    means) and the hatched cells (absent settings), those of them the figure has."""
    handles: list[Patch | Line2D] = [Patch(color=ZERO_COLOR)] if grey else []
    names = ["exact zero (−∞)"] if grey else []
    if partial:
        handles.append(Line2D([], [], ls="none", **PARTIAL_MARK))
        names.append(PARTIAL_LABEL)
    if absent:
        handles.append(Patch(**ABSENT_HATCH))
        names.append(absent_label)
    fig.legend(
        handles,
        names,
        ncols=len(names),
        loc="lower right",
        bbox_to_anchor=(1.0, 0.0),
        frameon=False,
    )


def _group_labels(ax: Axes, texts: list[str], spans: list[tuple[int, int]], rows_w: float) -> None:
    """Each group's label beside the middle of its rows (a dense panel's, row ``i`` at y =
    ``i``), its right edge :data:`_GROUP_PAD` points left of its rows' own labels, which
    are ``rows_w`` inches wide and stand a tick and its pad left of the axis."""
    pad = rows_w + _tick_room() + _GROUP_PAD / 72
    shift = ScaledTranslation(-pad, 0, ax.figure.dpi_scale_trans)
    at = blended_transform_factory(ax.transAxes, ax.transData) + shift
    for text, (first, end) in zip(texts, spans, strict=False):
        if text:
            ax.text(
                0,
                (first + end - 1) / 2,
                plain(text),
                transform=at,
                ha="right",
                va="center",
                fontsize=TICK_SIZE,
            )


def _ticks_with_ends(bar: Colorbar, white_zero: bool = False) -> None:
    """The bar's round ticks and its two ends: the extremes of the values drawn, which the
    caption says the scale spans (a bar down to -66.3 was labelled from -60, -24.5 from -20).
    A round tick closer to an end than 1.25 labels' height (or a tenth of the bar) is dropped,
    to keep the labels apart on a short bar too. ``white_zero``: 0 is the diverging map's white
    point, where the sign changes (blue vanishing, red exploding): inside the bar it is kept as
    the ends are, wherever its label clears theirs (1.25 labels' height; nearer, the ends are
    the values drawn and win), and a round tick is kept only where its label clears 0's too.
    Dropped as a round tick within a tenth of the bar of an end, 0 left a bar from -1.73 to
    0.08 with no mark where white is, its cells of small rates not told apart by sign."""
    lo, hi = float(bar.norm.vmin), float(bar.norm.vmax)
    if not hi > lo:
        return
    size = max((t.get_fontsize() for t in bar.ax.get_yticklabels()), default=10.0)
    bar_in = bar.ax.get_position().height * bar.ax.figure.get_figheight()
    clear = (hi - lo) * 1.25 * size / 72 / bar_in  # a label's room: no two labels overlap
    near = max(0.1 * (hi - lo), clear)
    fixed = [lo, hi]
    if white_zero and lo + clear <= 0.0 <= hi - clear:
        fixed.append(0.0)
    inner = [
        float(t)
        for t in bar.get_ticks()
        if lo + near < t < hi - near and all(abs(t - f) >= clear for f in fixed[2:])
    ]
    digits = max(0, 2 - math.floor(math.log10(hi - lo)))  # ends to ~3 significant digits

    def text(value: float, end: bool) -> str:
        said = f"{value:.{digits}f}" if end and value != round(value) else f"{value:g}"
        return said.replace("-", "\u2212")  # matplotlib's own minus sign on the other ticks

    ticks = sorted({*fixed, *inner})
    bar.set_ticks(ticks, labels=[text(t, t in (lo, hi)) for t in ticks])


def _relative_luminance(color: str | tuple[float, ...]) -> float:
    """WCAG 2's relative luminance of a colour: its sRGB components linearised, then weighted."""
    channels = np.asarray(mpl.colors.to_rgb(color), dtype=np.float64)
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(np.dot([0.2126, 0.7152, 0.0722], linear))


def text_color(background: str | tuple[float, ...]) -> str:
    """White or black, whichever contrasts more with ``background`` (WCAG 2's ratio): at least
    4.5:1 on any colour, where a dark grey (#222222) chosen by the gamma-encoded luma below 0.45
    read 3.7:1 on RdBu's mid blues, and no choice of it or white reaches 4.5 on every colour."""
    lum = _relative_luminance(background)
    return "white" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 else "black"


def color_scale(arrays: list[np.ndarray], center_zero: bool) -> tuple[Colormap, Normalize]:
    """Colour map and scale fitted to the finite data: white at 0, blue below, red above.

    The scale spans exactly [min, max] of the data. A value's colour depends on its distance
    from 0 alone (the same shade of blue for -10 as of red for +10): the map is the part of
    the symmetric diverging map that the data reaches, so when nearly every value is negative
    the bar is nearly all blue and no half of it is left empty. ``center_zero=False``: a
    sequential map (viridis) over [min, max].
    """
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.empty(0)])
    lo = float(finite.min()) if finite.size else -1.0
    hi = float(finite.max()) if finite.size else 1.0
    full = mpl.colormaps[CMAP]
    if not center_zero:
        return mpl.colormaps["viridis"], Normalize(lo, hi if hi > lo else lo + 1.0)
    if lo < 0 < hi:
        lim = max(-lo, hi)
        a, b = 0.5 - 0.5 * -lo / lim, 0.5 + 0.5 * hi / lim  # where lo and hi sit on the full map
        return ListedColormap(full(np.linspace(a, b, 256))), Normalize(lo, hi)
    if hi <= 0:
        lo = lo if lo < 0 else -1.0
        return ListedColormap(full(np.linspace(0.0, 0.5, 128))), Normalize(lo, 0.0)
    return ListedColormap(full(np.linspace(0.5, 1.0, 128))), Normalize(0.0, hi)
