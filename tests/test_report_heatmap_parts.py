"""The parts of one heatmap figure keep one panel width: a mixed run's last part, of gated
cells only (one "n/a" column each), drew its panels half as wide as the first part's (nn.RNN
cells, tanh and relu), and their titles wrapped onto three and four lines."""

from __future__ import annotations

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
