"""Tables write an axis's values told apart, as figure titles and legends do
(:func:`.format.table_texts`): the models, trainability, rates and theory tables wrote
input_std 1.00001 and 1.00002 both as "1", two rows of one setting to read."""

from __future__ import annotations

from _report_run import add_failed_cell, report_of

import vanishlab as vl
from vanishlab.report.format import label
from vanishlab.report.model import Table


def test_a_tables_column_gets_the_digits_that_tell_its_values_apart():
    from vanishlab.report.format import table_texts

    records = [
        {"gain": 1.00001, "input_std": 0.5, "seq_len": 5},
        {"gain": 1.00002, "input_std": 0.5, "seq_len": 5},
        {"gain": 1.5, "input_std": 0.123456, "seq_len": 6},
    ]
    assert table_texts(records, ["gain", "input_std", "seq_len"]) == [
        ("1.00001", "0.5", "5"),
        ("1.00002", "0.5", "5"),
        ("1.5", "0.1235", "6"),  # values that read apart already keep their 4 digits
    ]
    assert table_texts(records, []) == [(), (), ()]


def test_every_table_of_a_run_tells_near_settings_apart(tmp_path):
    sweep = vl.Sweep(model=("rnn", "gru"), gain=(1.00001, 1.00002),
                     input_std=(1.00001, 1.00002), seq_len=(5, 6), hidden_size=4, input_size=2,
                     batch=4, task="adding", train_steps=2, lr=0.01)  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = report_of(run)
    checked = set()
    for section in report.sections:
        for table in section.blocks:
            if not isinstance(table, Table):
                continue
            for axis in ("gain", "input_std"):
                if label(axis) in table.columns and table.title != "Swept axes":
                    at = table.columns.index(label(axis))
                    shown = {row[at] for row in table.rows}
                    assert shown == {"1.00001", "1.00002"}, (table.title, axis, shown)
                    checked.add(table.title)
    assert checked == {
        "Rates and horizons by model",  # the models section's
        "Horizons at initialisation and outcomes",  # the trainability section's
        "Decay rates by setting",  # the rates section's
        "Theory vs measurement by setting",  # the theory section's
    }, checked


def test_failed_cells_and_unmeasured_values_of_near_settings_are_told_apart(tmp_path):
    """The failed cells table named two cells "gain = 1", and the notes on the values of
    which no cell was measured said "gain = 1, gain = 1"."""
    from vanishlab.report.view import RunView

    sweep = vl.Sweep(gain=(1.00001,), hidden_size=4, input_size=2, seq_len=5, batch=2)
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    (cell,) = sweep.cells()
    for gain in (1.00002, 1.00003):
        add_failed_cell(run, "test failure", **{**cell.to_dict(), "gain": gain})
    view = RunView(vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    assert view.unmeasured_values == ["gain = 1.00002", "gain = 1.00003"]
    (anomalies,) = [s for s in report_of(run, sections=[]).sections if s.key == "anomalies"]
    (failed,) = [b for b in anomalies.blocks if b.title == "Failed cells"]
    assert [row[1] for row in failed.rows] == ["gain = 1.00002", "gain = 1.00003"]
