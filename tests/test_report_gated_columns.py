"""A faceted line figure of a run whose settings do not all combine (an LSTM has no
activation) keeps one model to a column.

The gated experiment's decay curves (rnn, lstm and gru at 1 and 2 layers, model the column
axis) kept only the measured panels but ran them on three to a row: "rnn, tanh, 1 layer |
rnn, tanh, 2 layers | lstm, 1 layer", then "gru, 1 layer | lstm, 2 layers | gru, 2 layers",
so a column held no one model and a row no one depth. Where every model has as many panels,
row i now holds the i-th of each."""

from __future__ import annotations

import pytest
from _report_run import GATED, report_sections

import vanishlab as vl
from vanishlab.report.model import LineGrid

SWEEP = GATED


def _curve_grids(sweep: vl.Sweep, out) -> list[LineGrid]:
    """The decay and input figures of ``sweep``'s report, run into ``out``: those sections
    built (and theory, whose showing the decay curves' caption asks), not the whole page."""
    sections = report_sections(out, sweep, ["decay", "input", "theory"])
    return [
        block
        for key in ("decay", "input")
        if key in sections
        for block in sections[key].blocks
        if isinstance(block, LineGrid)
    ]


@pytest.fixture(scope="module")
def grids(tmp_path_factory: pytest.TempPathFactory) -> list[LineGrid]:
    return _curve_grids(SWEEP, tmp_path_factory.mktemp("gated-columns") / "run")


def test_each_column_of_the_decay_curves_is_one_model_and_each_row_one_depth(grids):
    assert grids
    for grid in grids:
        assert (grid.nrows, grid.ncols) == (2, 3), grid.title
        for panel in grid.panels:
            model = ("rnn (tanh)", "lstm", "gru")[panel.col]
            depth = ("1 layer", "2 layers")[panel.row]
            assert panel.title.startswith(f"model = {model},"), (grid.title, panel.title)
            assert panel.title.endswith(depth), (grid.title, panel.title)


MIXED = SWEEP.replace(activation=("tanh", "relu"), init="default", gain=(0.5, 1.0))


def test_an_rnn_of_two_activations_beside_gated_cells_gets_a_column_per_activation(tmp_path):
    """`--model rnn,lstm,gru --activation tanh,relu`: the RNN has four panels (two activations
    at two depths), each gated cell two, so row i could not hold the i-th of each and the
    panels ran on three to a row, models mixed within columns ("rnn, relu, 2 layers | lstm, 1
    layer | gru, 1 layer"). The RNN's activations are now columns of their own: rnn, tanh |
    rnn, relu | lstm | gru across, 1 and 2 layers down, no slot empty."""
    grids = _curve_grids(MIXED, tmp_path / "run")
    assert len(grids) == 2
    columns = ("model = rnn (tanh),", "model = rnn (relu),", "model = lstm,", "model = gru,")
    for grid in grids:
        assert (grid.nrows, grid.ncols, len(grid.panels)) == (2, 4, 8), grid.title
        for panel in grid.panels:
            assert panel.title.startswith(columns[panel.col]), (grid.title, panel.title)
            assert panel.title.endswith(("1 layer", "2 layers")[panel.row]), panel.title
    # Where a split leaves columns unequal, or rows that differ, the panels run on as before.
    from vanishlab.report.panel_columns import measured_panels

    panels = [("tanh", 1, "rnn"), ("relu", 1, "rnn"), ("relu", 2, "rnn"), ("n/a", 1, "lstm")]
    assert measured_panels(panels, set(panels), ["rnn", "lstm"]) == (panels, 3)
    panels = [("tanh", 1, "rnn"), ("relu", 1, "rnn"), ("n/a", 2, "lstm")]
    assert measured_panels(panels, set(panels), ["rnn", "lstm"]) == (panels, 3)
