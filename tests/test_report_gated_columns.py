"""A faceted line figure of a run whose settings do not all combine (an LSTM has no
activation) keeps one model to a column.

The gated experiment's decay curves (rnn, lstm and gru at 1 and 2 layers, model the column
axis) kept only the measured panels but ran them on three to a row: "rnn, tanh, 1 layer |
rnn, tanh, 2 layers | lstm, 1 layer", then "gru, 1 layer | lstm, 2 layers | gru, 2 layers",
so a column held no one model and a row no one depth. Where every model has as many panels,
row i now holds the i-th of each."""

from __future__ import annotations

import pytest

import vanishlab as vl
from vanishlab.report.data import build_report
from vanishlab.report.model import LineGrid

SWEEP = vl.Sweep(
    model=("rnn", "lstm", "gru"),
    activation="tanh",
    init=("default", "orthogonal"),
    num_layers=(1, 2),
    seq_len=(6,),
    hidden_size=4,
    input_size=2,
    batch=2,
    seed=(0,),
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("gated-columns") / "run"
    vl.run_sweep(SWEEP, out, workers=1, progress=False)
    return build_report(
        vl.load_results(out),
        vl.load_cells(out),
        vl.load_manifest(out),
        timestamp="2024-01-01T00:00:00Z",
    )


def test_each_column_of_the_decay_curves_is_one_model_and_each_row_one_depth(report):
    grids = [
        block
        for section in report.sections
        if section.key in ("decay", "input")
        for block in section.blocks
        if isinstance(block, LineGrid)
    ]
    assert grids
    for grid in grids:
        assert (grid.nrows, grid.ncols) == (2, 3), grid.title
        for panel in grid.panels:
            model = ("rnn", "lstm", "gru")[panel.col]
            depth = ("1 layer", "2 layers")[panel.row]
            assert panel.title.startswith(f"model = {model},"), (grid.title, panel.title)
            assert panel.title.endswith(depth), (grid.title, panel.title)
