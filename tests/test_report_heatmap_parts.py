"""The parts of one heatmap figure keep one panel width: a mixed run's last part, of gated
cells only (one "n/a" column each), drew its panels half as wide as the first part's (nn.RNN
cells, tanh and relu), and their titles wrapped onto three and four lines."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vanishlab.report.figure_layout import pinned
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


def test_a_title_too_long_for_two_lines_on_a_page_is_not_made_room_for():
    """Past 3 inches a panel (a figure of three too wide for the page, drawn smaller) is not
    widened further: such a title takes a third line."""
    (grid,) = as_parts([_four_setting_grid("tanh", 3)])
    long = "a very long setting = " + "x" * 40
    many = replace(
        grid, panels=tuple(replace(p, title=f"{long}, {long}, {long}") for p in grid.panels)
    )
    lines, panel_widths = _drawn([many])
    assert set(panel_widths) == {3.0} and min(lines) == 3
