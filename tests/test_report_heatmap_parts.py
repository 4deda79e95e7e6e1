"""The parts of one heatmap figure keep one panel width: a mixed run's last part, of gated
cells only (one "n/a" column each), drew its panels half as wide as the first part's (nn.RNN
cells, tanh and relu), and their titles wrapped onto three and four lines."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vanishlab.report.figure_layout import PAGE_W, pinned
from vanishlab.report.figures import draw
from vanishlab.report.layout import as_parts
from vanishlab.report.model import HeatmapGrid, HeatPanel

INITS = ("default", "orthogonal")


def _grid(model: str, columns: tuple[str, ...]) -> HeatmapGrid:
    panels = tuple(
        HeatPanel(
            f"model = {model}, {depth}, hidden = {h}, T = {t}",
            INITS,
            columns,
            -0.5 * np.ones((len(INITS), len(columns))),
        )
        for depth in ("1 layer", "2 layers")
        for h in (4, 8)
        for t in (6, 12)
    )[:6]
    return HeatmapGrid("Rate by init and activation", "c", panels, 3, "activation", "init", "rate")


def test_the_parts_of_one_figure_share_their_panel_width_and_titles_fit():
    parts = as_parts([_grid("rnn", ("tanh", "relu")), _grid("gru", ("n/a (gated)",))])
    widths, panel_widths, lines = [], [], []
    with pinned():
        for grid in parts:
            fig = draw(grid)
            widths.append(float(fig.get_size_inches()[0]))
            maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
            panel_widths += [round(ax.get_position().width * widths[-1], 6) for ax in maps]
            lines += [ax.get_title(loc="left").count("\n") + 1 for ax in maps]
    assert widths[0] == widths[1], widths
    assert len(set(panel_widths)) == 1, panel_widths
    assert max(lines) <= 2, lines


def test_a_figure_in_one_part_keeps_its_own_width():
    (whole,) = as_parts([_grid("gru", ("n/a (gated)",))])
    with pinned():
        narrow = float(draw(whole).get_size_inches()[0])
        wide = float(draw(_grid("rnn", ("tanh", "relu"))).get_size_inches()[0])
    assert narrow < wide


def _four_setting_grid(activation: str, n: int) -> HeatmapGrid:
    """Two-cell panels (depth by T = 6, 12) titled by four settings, as in a sweep of
    activation, hidden size, init and input std: "tanh, hidden = 4, orthogonal, input std =
    0.5" wrapped onto three lines in the last column (the room up to the colour bar)."""
    panels = tuple(
        HeatPanel(
            f"{activation}, hidden = {h}, {init}, input std = {std}",
            ("1", "2"),
            ("6", "12"),
            -0.5 * np.ones((2, 2)),
        )
        for h in (4, 8)
        for init in INITS
        for std in ("0.5", "1.0")
    )[:n]
    return HeatmapGrid("Rate by depth and sequence length", "c", panels, 3, "T", "layers", "r")


def _drawn(grids: list[HeatmapGrid]) -> tuple[list[int], list[float]]:
    """The title lines and the panel widths (inches) of ``grids`` as drawn."""
    lines, panel_widths = [], []
    with pinned():
        for grid in grids:
            fig = draw(grid)
            width = float(fig.get_size_inches()[0])
            maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
            panel_widths += [round(ax.get_position().width * width, 6) for ax in maps]
            lines += [ax.get_title(loc="left").count("\n") + 1 for ax in maps]
    return lines, panel_widths


def test_two_cell_panels_titled_by_four_settings_keep_their_titles_to_two_lines():
    parts = as_parts([_four_setting_grid("tanh", 8), _four_setting_grid("relu", 2)])
    lines, panel_widths = _drawn(parts)
    assert len(lines) == 10 and max(lines) == 2, lines
    assert len(set(panel_widths)) == 1, panel_widths  # the parts still share one width
    # The second part's own titles ("default", no "orthogonal") fit two lines in two cells:
    # the first part's set its width.
    alone = replace(parts[1], part_titles=())
    assert _drawn([alone]) == ([2, 2], [2 * 0.95] * 2)
    # as wide as its titles need, no wider: its cells alone made it 0.95 in a column
    assert 2 * 0.95 < panel_widths[0] < 2 * 0.95 + 0.2
    # short titles keep the panels' own width
    titles = tuple(replace(p, title="tanh") for p in parts[0].panels)
    short = replace(parts[0], panels=titles, part_titles=())
    assert set(_drawn([short])[1]) == {2 * 0.95}


def _long_titled(grid: HeatmapGrid, rows: tuple[str, ...] = ("1", "2")) -> HeatmapGrid:
    long = "a very long setting = " + "x" * 40
    return replace(
        grid,
        panels=tuple(
            replace(p, title=f"{long}, {long}, {long}", row_labels=rows) for p in grid.panels
        ),
    )


def _width(grid: HeatmapGrid) -> float:
    with pinned():
        return float(draw(grid).get_size_inches()[0])


def test_a_title_too_long_for_two_lines_on_a_page_is_not_made_room_for():
    """Past 3 inches a panel is not widened further: such a title takes a third line."""
    (grid,) = as_parts([_four_setting_grid("tanh", 1)])
    lines, panel_widths = _drawn([_long_titled(grid)])
    assert panel_widths == [3.0] and lines[0] >= 3, (panel_widths, lines)


#: A title of five settings that takes two lines of about 2.0 in.
TITLE = "1 layer, hidden = 4, T = 12, input std = 0.5, float64"


@pytest.mark.parametrize("rows", [("1", "2"), INITS])
def test_three_panels_widened_for_long_titles_still_fit_the_page(rows):
    """Three panels of 3.0 in made the figure 11.6 in with one-character row labels and
    13.4 in with "orthogonal" (over the page's 11.3 in, so the browser drew it smaller):
    they are as wide as the page holds three, no wider, their titles on more lines."""
    (grid,) = as_parts([_four_setting_grid("tanh", 3)])
    many = _long_titled(grid, rows)
    lines, panel_widths = _drawn([many])
    assert PAGE_W - 0.01 <= _width(many) <= PAGE_W, _width(many)
    assert len(set(panel_widths)) == 1 and panel_widths[0] < 3.0 and min(lines) >= 3
    # titles that fit two lines in a panel the page holds keep their two lines
    short = replace(many, panels=tuple(replace(p, title=TITLE) for p in many.panels))
    assert _drawn([short])[0] == [2, 2, 2] and _width(short) < PAGE_W


def test_a_last_part_of_one_panel_keeps_the_page_share_of_the_first():
    """A last part of one panel (ncols 1, as rate_heatmaps gives it) alone on its row could be
    as wide as the 3.0 in cap: it keeps the width the first part's three columns leave."""
    first = _long_titled(_four_setting_grid("tanh", 3))
    last = replace(_four_setting_grid("tanh", 1), ncols=1)
    _, panel_widths = _drawn(as_parts([first, last]))
    assert len(panel_widths) == 4 and len(set(panel_widths)) == 1, panel_widths
    assert panel_widths[0] < 3.0 and _width(as_parts([first, last])[0]) <= PAGE_W
