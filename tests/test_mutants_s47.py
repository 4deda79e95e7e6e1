"""Mutation review of session 47's code: each test here failed on a small plausible change of
the code it names (a check dropped, a branch dropped, an argument narrowed) that passed every
other test, and passes on the code as it is."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_report import synthetic
from test_report_defects import partly_failed_view

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.format import duration
from vanishlab.report.model import LineGrid
from vanishlab.report.view import RunView

# --- report view: a figure's failed-cell count (RunView.failed_note_in, _cells_of, _hashed) ---


@pytest.fixture(scope="module")
def partly_failed(tmp_path_factory: pytest.TempPathFactory) -> RunView:
    """gain 1.0, 1.5 x T = 4, 6 x seeds 0, 1, every cell of T = 6 at gain 1.5 failed."""
    return partly_failed_view(tmp_path_factory.mktemp("partly-failed") / "run")


def test_a_setting_of_a_column_the_cells_lack_holds_every_cell(partly_failed):
    # matching on a column the cells lack (_cells_of without its check, or
    # _unmeasured_setting keeping such keys) raised KeyError: the whole run's count is said
    view = partly_failed
    assert view.failed_note_in((("no such column", 1),)) == view.failed_note
    assert "2 failed cells (listed under Anomalies)" in view.failed_note


def test_a_page_of_settings_looks_for_an_unmeasured_setting_of_all_their_keys(partly_failed):
    # T = 4 alone, and T = 4 at gain 1.0: of the keys T and gain, the pair T = 6, gain 1.5 has
    # no measured cell, no panel to show it missing, so the run's note stays; the keys of the
    # first setting alone (T: every T has a measured cell) said nothing failed
    view = partly_failed
    page = ((("seq_len", 4),), (("seq_len", 4), ("gain", 1.0)))
    assert view.failed_note_in(*page) == view.failed_note != ""


def test_the_hashed_cells_of_a_column_are_mapped_once_per_page(partly_failed):
    # every figure's note asks for the same columns: mapping them again each time (the cache
    # dropped) cost a Series.map per column per figure and changed no output
    view = partly_failed
    assert view._hashed("gain") is view._hashed("gain")


# --- RunView.one_sample and the decay figure's "no band" ---


def _one_sample(**columns: object) -> bool:
    """:attr:`RunView.one_sample` of a two-row results frame with ``columns`` added."""
    results = pd.DataFrame(
        {"cell_id": ["a", "b"], "source": "state", "layer": 0, "lag": 0, "log10_fro_mean": 0.0}
    )
    return RunView(results.assign(**columns), pd.DataFrame(), {}).one_sample


def test_one_sample_is_every_measurement_at_batch_1():
    # a run that sweeps batch (1, 2) was called one sample (any for all); results without a
    # batch column (a frame built by hand) raised KeyError
    assert _one_sample(batch=1) and not _one_sample(batch=[1, 2])
    assert not _one_sample()


def test_seeds_at_batch_1_are_a_band_across_the_seeds(tmp_path):
    # the seeds' band, not "no band", where a run of two seeds measures one sample each (the
    # one-sample caption put before the seeds' one passed)
    run = tmp_path / "run"
    grid = vl.Sweep(seed=(0, 1), hidden_size=4, input_size=2, seq_len=6, batch=1)
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=["decay"],
    )  # fmt: skip
    (decay,) = [b for s in report.sections if s.key == "decay" for b in s.blocks]
    assert isinstance(decay, LineGrid)
    assert "the band spans the 2 seeds." in decay.caption and "no band" not in decay.caption


# --- format.minus_inf_words (the rates table's one parenthesis) ---


def test_a_count_of_seeds_at_minus_inf_reads_as_a_whole_number():
    # a setting without input rows makes the merged input counts floats: the input rate read
    # "(1.0 of 2.0 seeds −∞)" without minus_inf_words' int()
    results, cells = synthetic({("a", 0): -0.1, ("a", 1): -0.2, ("b", 0): -0.2})
    k = np.arange(41)
    inputs = [
        results[(results["cell_id"] == cell) & (results["source"] == "state")].assign(
            source="input",
            layer=pd.array([pd.NA] * k.size, dtype="Int64"),
            log10_fro_mean=y,
            n_zero=np.isneginf(y).astype(np.int64),
        )
        for cell, y in (("a-0", -0.1 * k), ("a-1", np.where(k > 0, -np.inf, 0.0)))
    ]  # b-0 has none
    results = pd.concat([results, *inputs], ignore_index=True)
    report = build_report(
        results, cells, {"name": "inputs"}, sections=["rates"], timestamp="2024-01-01"
    )
    table = next(s for s in report.sections if s.key == "rates").blocks[-1]
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["a"]["input rate"] == f"−{0.1 * math.log(10):.3f} (1 of 2 seeds −∞)"
    assert rows["b"]["input rate"] == "—"


# --- the overview's "(unused: nothing is trained)" on lr, optimizer and clip ---

UNTRAINED = " (unused: nothing is trained)"


def _fixed(results: pd.DataFrame, cells: pd.DataFrame, manifest: dict) -> dict[str, str]:
    report = build_report(results, cells, manifest, timestamp="2024-01-01", sections=["overview"])
    (overview,) = [s for s in report.sections if s.key == "overview"]
    return dict(next(b for b in overview.blocks if b.title == "Fixed settings").items)


def test_training_settings_are_unused_only_where_no_cell_trains(smoke_run_dir):
    # a run some of whose cells train said its lr unused (any cell, not every one, at 0); a
    # cell with no train_steps (NaN) counted as one that trains (NaN not read as 0)
    run = smoke_run_dir
    results, cells, manifest = vl.load_results(run), vl.load_cells(run), vl.load_manifest(run)
    some = [50 if i % 2 else 0 for i in range(len(cells))]
    assert not any(
        v.endswith(UNTRAINED)
        for v in _fixed(results, cells.assign(train_steps=some), manifest).values()
    )
    unknown = [math.nan if i % 2 else 0 for i in range(len(cells))]
    idle = _fixed(results, cells.assign(train_steps=unknown), manifest)
    assert {a for a, v in idle.items() if v.endswith(UNTRAINED)} == {"lr", "optimizer", "clip"}


def test_a_run_with_nothing_measured_yet_does_not_say_nothing_is_trained(tmp_path):
    # no cell yet (the frames have their columns, no rows): a run planned to train 5 steps
    # read 'train_steps 5' and 'lr 0.01 (unused: nothing is trained)' without the check of
    # an empty frame, or with it answering True
    run = tmp_path / "run"
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2, task="adding", train_steps=5)
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    fixed = _fixed(results.iloc[:0], cells.iloc[:0], vl.load_manifest(run))
    assert fixed["train_steps"] == "5" and fixed["lr"] == "0.01"
    assert not any(v.endswith(UNTRAINED) for v in fixed.values())


# --- format.duration: an em dash for what is no number of seconds ---


def test_duration_of_what_is_no_number_is_unknown_and_its_units_change_at_60():
    # a bool read as 1 s and None (an unfinished run's elapsed_s) or a string reached float()
    # without the type check; 60 s and 60 min are the first of the next unit
    assert [duration(v) for v in (True, None, "5")] == ["—"] * 3
    assert [duration(s) for s in (59.9, 60, 3599, 3600)] == [
        "59.9 s",
        "1 min 0 s",
        "59 min 59 s",
        "1 h 0 min",
    ]


def test_a_theory_figure_counts_its_own_failed_cells(tmp_path):
    # rate against gain, a figure per input std: the figure at 1.0 holds the failed cell, the
    # one at 0.5 none (theory.py passing the run's note, not failed_note_in, passed every test)
    run = tmp_path / "run"
    grid = vl.Sweep(
        input_std=(0.5, 1.0), gain=(1.0, 1.5), seq_len=(4, 6), hidden_size=4, input_size=2,
        batch=2,
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    at = (cells["input_std"] == 1.0) & (cells["gain"] == 1.5) & (cells["seq_len"] == 6)
    cells.loc[at, "status"] = "failed"
    results = results[~results["cell_id"].isin(cells.loc[at, "cell_id"])]
    report = build_report(
        results, cells, vl.load_manifest(run), timestamp="2024-01-01", sections=["theory"]
    )
    captions = {
        b.title.rpartition(", ")[2]: b.caption
        for s in report.sections
        if s.key == "theory"
        for b in s.blocks
        if isinstance(b, LineGrid)
    }
    assert set(captions) == {"input std = 0.5)", "input std = 1.0)"}
    assert "failed" not in captions["input std = 0.5)"]
    assert "1 failed cell (listed under Anomalies) has no" in captions["input std = 1.0)"]
