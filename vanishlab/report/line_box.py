"""Where a line figure's parts go, in inches: a panel's slot, the legend's place, the room of
each panel's title, the y label broken to fit, and the margins, within the page's width
(:data:`~vanishlab.report.page.PAGE_W`). Pure arithmetic on text widths; :mod:`.figures`
draws by it."""

from __future__ import annotations

import math
from typing import NamedTuple

from .figure_layout import RC, TITLE_GAP, TITLE_SIZE
from .figure_text import TICK_SIZE, balanced_lines, plain, text_width, wrap_title
from .line_style import PANEL_H
from .model import LineGrid, LinePanel
from .page import PAGE_W

__all__ = [
    "MIN_PANEL_W",
    "NOTE_H",
    "PANEL_W",
    "Y_TICKS_W",
    "LineBox",
    "legend_place",
    "line_box",
    "title_room",
]

PANEL_W = 2.9  # inches per line panel (with its share of the gaps)
NOTE_H = 0.22  # inches of the line a figure's note takes at its top
MIN_PANEL_W = 2.2  # a line panel's slot in a grid as wide as the page (less: to fit the page)
Y_LABEL_PAD = 0.08  # inches a y label keeps from the figure's top and bottom edges
Y_LABEL_LINE = 0.22  # inches a line of the y label takes across (the left margin's growth)
Y_TICKS_W = text_width("−0.465", TICK_SIZE)  # the widest y tick labels the margins fit


class LineBox(NamedTuple):
    """Where a line figure's parts go, in inches (the y label's text too, broken to fit)."""

    slot: float  # a panel's width with its share of the gaps
    panel: tuple[float, float]  # a panel's width and height
    gaps: tuple[float, float]  # between panels, across and down
    margins: tuple[float, float, float, float]  # left, right, bottom, top
    legend_cols: int
    legend_h: float  # the legend's height above the panels; 0: it stands on their right
    note_h: float  # the figure note's line at the top (LineGrid.figure_note); 0: none
    ylabel: str
    centre: float  # the y label's centre, above the figure's bottom edge


def legend_place(labels: list[str], title: str, ncols: int) -> tuple[float, float, float, int]:
    """A panel's slot and the legend's width, height and columns. Wide grids keep the page's
    width: narrower panels and the legend above them (width 0), else the legend on the right
    (height 0), as wide as its longest entry."""
    size = float(RC["legend.fontsize"])
    entry_w = max(text_width(t, size) for t in [*labels, title]) + 0.55 if labels else 0.0
    if 0.8 + ncols * PANEL_W + entry_w + 0.15 <= PAGE_W:
        return PANEL_W, entry_w, 0.0, 1
    slot = max(MIN_PANEL_W, (PAGE_W - 1.0 + 0.6) / ncols)
    if not labels:
        return slot, 0.0, 0.0, 1
    legend_cols = max(1, min(len(labels), int((PAGE_W - 1.0) // entry_w)))
    return slot, 0.0, 0.2 * math.ceil(len(labels) / legend_cols) + 0.3, legend_cols


def title_room(col: int, ncols: int, slot: float, gap_w: float) -> float:
    """The inches a panel's title may take from its panel's left edge: its slot (the panel and
    the gap right of it) less :data:`~.figure_layout.TITLE_GAP` before the next column's
    title, but in the last column the panel and the figure's own right margin (0.15 in),
    which a legend on the right stands beside: wrapped at a whole slot there, a title ran up
    to a gap (0.6 in) past its panel, across the legend or off the figure."""
    return slot - TITLE_GAP if col < ncols - 1 else slot - gap_w + 0.15


def line_box(
    grid: LineGrid,
    shown: list[LinePanel],
    labels: list[str],
    nrows: int,
    ncols: int,
    ticks: float = 0.0,
) -> LineBox:
    """The inches of a grid of ``nrows`` by ``ncols`` line panels, with room for the legend's
    ``labels``, the titles of the panels ``shown`` and the y label; ``ticks``: the inches
    the y tick labels need beyond :data:`Y_TICKS_W`, added left of every panel. The figure
    widens by them as far as the page's width (:data:`PAGE_W`) allows, and its panels give up
    the rest (a wide grid's, 4 or 5 columns, grew past the page by up to ``ncols * ticks``:
    the browser shrank all of its text to fit it); below :data:`MIN_PANEL_W` too, where that
    alone keeps the figure within the page."""
    slot, legend_w, legend_h, legend_cols = legend_place(labels, grid.legend_title, ncols)
    right = legend_w + 0.15
    if ticks:
        spare = PAGE_W - (0.8 + ncols * slot - 0.6 + right)  # the width without
        grown = slot + min(ticks, max(spare, 0.0) / ncols)
        slot = max(grown, min(slot, MIN_PANEL_W) + ticks)
    # Never past the page (its width is 0.2 + ncols * slot + right, and a line for each line
    # the y label gains): a grid of 5 columns whose panels kept MIN_PANEL_W beside tick labels
    # like '0.0029485' was 12.51 in, and the browser shrank its text. Its panels give it up.
    slot = min(slot, (PAGE_W - 0.2 - right) / ncols)
    gap_w = 0.6 + ticks  # between panels, across
    for _ in range(2):  # (narrower panels: their titles may take more lines, the label fewer)
        rooms = [title_room(p.col, ncols, slot, gap_w) for p in shown]
        titles = [
            wrap_title(plain(p.title), room, TITLE_SIZE)
            for p, room in zip(shown, rooms, strict=True)
        ]
        title_h = 0.17 * max((t.count("\n") + 1 for t in titles if t), default=0) + 0.08
        # Inches: panel height, the gap between rows, and the margins.
        gap_h, note_h = 0.32 + title_h, NOTE_H if grid.figure_note else 0.0
        bottom, top, panel_h = 0.55, title_h + 0.12 + legend_h + note_h, PANEL_H
        # The y label, centred on the panels, keeps Y_LABEL_PAD from the figure's top and
        # bottom (a monitor's one-row figure is 2.45 in tall): a longer one is broken into
        # lines, and the left margin grows by a line's height for each line it gains.
        height = bottom + nrows * panel_h + (nrows - 1) * gap_h + top
        centre = bottom + (height - bottom - top) / 2
        room = 2 * (min(centre, height - centre) - Y_LABEL_PAD)
        ylabel = balanced_lines(grid.ylabel, room, float(RC["axes.labelsize"]))
        label_w = Y_LABEL_LINE * ylabel.count("\n")
        if grid.min_left > 0.8 + ticks + label_w + 1e-9:  # another figure's (LineGrid.align)
            label_w = grid.min_left - 0.8 - ticks
        if 0.2 + ncols * slot + right + label_w <= PAGE_W + 1e-9:
            break
        slot = (PAGE_W - 0.2 - right - label_w) / ncols
    left, panel_w = 0.8 + ticks + label_w, slot - gap_w
    return LineBox(
        slot,
        (panel_w, panel_h),
        (gap_w, gap_h),
        (left, right, bottom, top),
        legend_cols,
        legend_h,
        note_h,
        ylabel,
        centre,
    )
