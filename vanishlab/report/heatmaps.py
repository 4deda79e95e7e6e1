"""Heatmaps of the report (:class:`.model.HeatmapGrid`): panels of cells wrapped to rows, one
colour bar, laid out in fixed inches.

An exact zero (``-inf``) is never coloured as a number: its cell is grey, and a cell where only
some seeds are exact zeros is dotted. A combination the run has no cell of is hatched, so that
it reads apart from a failed setting's blank cell. :func:`color_scale` fits one diverging
scale (white at 0, blue below, red above) to every panel of a figure. This module lays the
figure out; each panel is drawn by :mod:`.heat_panels`, the scale is :mod:`.heat_scale`'s
(both re-exported here: :data:`ZERO_COLOR`, :data:`ABSENT_LABEL`, :data:`CMAP`,
:func:`color_scale`, :func:`text_color`).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .figure_layout import TITLE_GAP, TITLE_SIZE, axis_labels, panel_grid, panel_rows
from .figure_text import (
    TICK_SIZE,
    plain,
    row_label,
    row_labels,
    text_width,
    title_width,
    wrap_title,
    wrap_words,
)
from .heat_panels import (
    ABSENT_LABEL,
    GROUP_PAD,
    ZERO_COLOR,
    cell_panel,
    dense_panel,
    row_spans,
    tick_room,
    widest,
    zero_legend,
)
from .heat_scale import CMAP, color_scale, text_color, ticks_with_ends
from .model import HeatmapGrid
from .page import PAGE_W

__all__ = ["ABSENT_LABEL", "CMAP", "ZERO_COLOR", "color_scale", "draw_heatmaps", "text_color"]


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
    label_w = widest(flat) if flat else 0.3
    # Rows named by groups: the y label heads each panel's column of row labels, right of the
    # groups' (drawn at the figure's left edge, "layer l" read as naming the settings).
    head = grid.ylabel if any(groups) else ""
    head_w = text_width(head, TICK_SIZE) + tick_room() if head else 0.0
    if any(groups):  # a group's label left of its rows' own
        label_w += max(widest(g) for g in groups) + GROUP_PAD / 72
    # Wide enough that a title wrapped TITLE_GAP short of the next column's title (or head)
    # has the last column's room at least: two-cell panels' titles broke in the middle column.
    gap_w = max(max(label_w, head_w) + 0.3, head_w + TITLE_GAP + _LAST_ROOM)
    # (rows named by groups: their labels and the ticks' room, then 0.15 in to the edge; as
    # measured, no longer 0.6 em a character, 0.2 in without the ticks' left 0.07 in)
    left = max(label_w + tick_room(), head_w) + 0.15 if head else 0.4 + label_w + 0.1
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
            _dense_height(r, g, row_spans(p), least)
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
            mappable = dense_panel(ax, panel, labels[i], groups[i], head, cmap, norm)
        else:
            mappable = cell_panel(ax, panel, labels[i], cmap, norm)
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
        ticks_with_ends(bar, white_zero=grid.center_zero)
        if label_along:
            bar.set_label(label)
        else:  # a short bar (one row of panels) clipped its rotated label at both ends
            cax.set_title(bar_title, loc="left", fontsize=7.5, pad=6 + _TITLE_PAD)
        bar.outline.set_visible(False)
    if any_zero:
        zero_legend(fig, any_grey, any_partial, any_absent, grid.absent_label or ABSENT_LABEL)
    return fig
