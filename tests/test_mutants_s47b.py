"""Mutation review of session 47's later code: each test here failed on a small plausible change
of the code it names (a check dropped, a constant or an argument changed) that passed every
other test, and passes on the code as it is."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_report_heatmap_parts import INITS, _drawn, _four_setting_grid, _grid

import vanishlab as vl
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figure_text import text_width, title_width, wrap_title
from vanishlab.report.figures import draw
from vanishlab.report.layout import as_parts
from vanishlab.report.predicted import unregistered_note
from vanishlab.report.view import RunView
from vanishlab.sweep.catalog import TRAINED_INIT
from vanishlab.sweep.manifest import FORMAT, load_manifest, utc_now, utc_text
from vanishlab.sweep.prediction import unregistered_reason
from vanishlab.sweep.run_summary import moved_line
from vanishlab.trained import read_checkpoint
from vanishlab.trained.monitor_dir import moved_steps

# --- manifest: a sweep's n_cells no more than its axes combine into ---


def _with(smoke_run_dir: Path, where: Path, **edit: object) -> Path:
    """A directory holding the smoke run's manifest with ``edit`` (None: the key removed)."""
    manifest = json.loads((smoke_run_dir / "manifest.json").read_text())
    manifest.update(edit)
    where.mkdir()
    (where / "manifest.json").write_text(
        json.dumps({k: v for k, v in manifest.items() if v is not None})
    )
    return where


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_n_cells_may_reach_what_the_axes_combine_into_and_no_further(smoke_run_dir, tmp_path):
    # the product of the axes' value counts, not their sum (which the smoke grid's exceeds),
    # and the message names that product, not n_cells
    axes = json.loads((smoke_run_dir / "manifest.json").read_text())["axes"]
    most = math.prod(len(v) for v in axes.values())
    assert most + 1 <= sum(len(v) for v in axes.values())
    assert load_manifest(_with(smoke_run_dir, tmp_path / "a", n_cells=most))["n_cells"] == most
    with pytest.raises(vl.VanishlabError) as err:
        load_manifest(_with(smoke_run_dir, tmp_path / "b", n_cells=most + 1))
    assert f"'n_cells' {most + 1} is more than its axes combine into ({most});" in str(err.value)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_sweep_manifest_without_n_cells_is_read_and_one_without_axes_refused(
    smoke_run_dir, tmp_path
):
    # n_cells is optional: the check compared None with the product (TypeError) without its
    # n_cells test. A manifest without 'axes' (which every run vanishlab writes has) was read
    # too, as a run of no settings: it is incomplete, refused in one line (a KeyError of
    # m["axes"] never).
    assert "n_cells" not in load_manifest(_with(smoke_run_dir, tmp_path / "a", n_cells=None))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text(json.dumps({"format": FORMAT, "n_cells": 3}))
    with pytest.raises(vl.VanishlabError, match="is incomplete: it has no 'axes'"):
        load_manifest(tmp_path / "b")


# --- manifest.utc_text, utc_now: UTC whatever the machine's zone ---


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch):
    """The process's local zone is America/New_York (UTC-5 in January) for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_text_is_utc_on_a_machine_in_another_zone(new_york):
    # a naive time is taken as UTC (astimezone read it as local: 17:00Z), an aware one in
    # another zone converted (it was written as 13:00Z), and utc_now is now in UTC (a naive
    # datetime.now() was 5 hours behind)
    assert utc_text(datetime(2026, 1, 1, 12, 0, 0, 500)) == "2026-01-01T12:00:00Z"
    plus_one = timezone(timedelta(hours=1))
    assert utc_text(datetime(2026, 1, 1, 13, 0, tzinfo=plus_one)) == "2026-01-01T12:00:00Z"
    before = datetime.now(UTC).replace(microsecond=0)
    now = datetime.fromisoformat(utc_now())
    assert before <= now <= datetime.now(UTC), (before, now)


# --- figure_text.title_width, heatmaps._titles_width, layout.as_parts ---


@pytest.mark.parametrize("title", ["tanh", "a = 1, b = 2, c = 3", "model = gru, 1 layer, T = 6"])
def test_a_title_wrapped_at_the_width_title_width_gives_fits_it(title):
    # wrap_title never wraps narrower than 16 characters: title_width starting its search
    # below them gave 12 characters for "a = 1, b = 2, c = 3", which is drawn "a = 1, b = 2,"
    # (13) over the colour bar
    size = 9.0
    width = title_width(title, 2, size)
    lines = wrap_title(title, width, size).split("\n")
    assert len(lines) <= 2 and max(text_width(x, size) for x in lines) <= width + 1e-9, lines


def test_untitled_one_column_panels_are_as_wide_as_their_cells():
    # an empty title needs no room: counted (the filter of titles dropped) it made every
    # panel of a one-column figure 1.0 in, not its cells' 0.95
    grid = _grid("gru", ("n/a (gated)",))
    untitled = replace(grid, panels=tuple(replace(p, title="") for p in grid.panels))
    with pinned():
        fig = draw(untitled)
        width = float(fig.get_size_inches()[0])
        maps = [ax for ax in fig.axes if {t.get_text() for t in ax.get_yticklabels()} == {*INITS}]
    assert len(maps) == 6
    assert {round(ax.get_position().width * width, 6) for ax in maps} == {0.95}


def test_a_later_part_with_the_longer_titles_widens_the_first():
    # as_parts gives every part the titles of all of them: the first part's alone left its
    # panels two cells wide where the second part's "orthogonal" titles made theirs wider
    lines, panel_widths = _drawn(
        as_parts([_four_setting_grid("relu", 2), _four_setting_grid("tanh", 8)])
    )
    assert len(set(panel_widths)) == 1 and panel_widths[0] > 2 * 0.95, panel_widths
    assert max(lines) == 2, lines


# --- trained/state_dict: an LSTM prepared for quantization, or converted, under any name ---


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("igates.weight", "a model prepared for quantization (torch.ao.nn.quantizable.LSTM)"),
        ("igates._packed_params._packed_params", "a quantized model (torch.ao.nn.quantized.LSTM)"),
    ],
)
def test_a_quantization_lstm_under_a_name_with_a_newline_is_told_so(tmp_path, key, named):
    # a module's name is any text (add_module takes a newline): without DOTALL the patterns'
    # prefix stopped at it, and the file was told only that it holds no recurrent weights
    value = (torch.zeros(2), torch.zeros(2)) if key.endswith("params") else torch.zeros(2)
    path = tmp_path / "q.pt"
    torch.save({f"enc\noder.layers.0.layer_fw.cell.{key}": value}, path)
    with pytest.raises(vl.VanishlabError, match="holds no recurrent weights") as err:
        read_checkpoint(path)
    assert f"It holds {named}, whose weights" in str(err.value)


# --- report/predicted.unregistered_note, sweep/prediction.unregistered_reason ---


def _note(theory: pd.DataFrame, fixed: tuple[tuple[str, object], ...] = ()) -> str:
    """:func:`unregistered_note` of a view whose summary is ``theory``."""
    results = pd.DataFrame(
        {"cell_id": ["a"], "source": "state", "layer": 0, "lag": 0, "log10_fro_mean": 0.0}
    )
    return unregistered_note(RunView(results, pd.DataFrame(), {}, summary=theory), fixed)


def test_the_note_names_the_unregistered_inits_of_unbuilt_rnn_rows_alone():
    # named: an unbuilt row ("" or no mf_validity) of an init not registered here, of an
    # nn.RNN cell or one from before the model axis (no model); not: a gated cell, a
    # registered init, a trained model, a row without an init, a row with its theory. Each
    # of those conditions dropped (or the model check narrowed to "rnn") changed the names.
    theory = pd.DataFrame(
        {
            "init": ["mine", "old", "gated", "normal", TRAINED_INIT, math.nan, "ok", "nan_mf"],
            "mf_validity": ["", "", "", "", "", "", "valid", math.nan],
            "model": ["rnn", math.nan, "lstm", "rnn", "rnn", "rnn", "rnn", "rnn"],
        }
    )
    assert _note(theory) == f" No dashed line for {unregistered_reason(['mine', 'nan_mf', 'old'])}."
    # a figure of one init names that one alone, or none
    assert (
        _note(theory, (("init", "mine"),))
        == f" No dashed line for {unregistered_reason(['mine'])}."
    )
    assert _note(theory, (("init", "normal"),)) == ""
    # a summary without a model column is of nn.RNN cells; without mf_validity, says nothing
    assert "gated, mine" in _note(theory.drop(columns="model"))
    assert _note(theory.drop(columns="mf_validity")) == ""


def test_the_reason_for_several_inits_is_in_the_plural():
    assert unregistered_reason(["a", "b"]) == (
        "inits a, b: their cells' theory was computed again here (their stored rows are from "
        "another version of vanishlab), and they are not registered in this process (a report "
        "loads no experiment file); import the module that registers them, then make the "
        "report with vl.render_report"
    )
    one = unregistered_reason(["a"])
    assert one.startswith("init a: its cells'") and "that init is not" in one
    assert one.endswith("registers it, then make the report with vl.render_report")


# --- trained/monitor_dir.moved_steps: the monitor's moved-aside warning lines ---


def test_a_moved_step_is_named_by_its_cell_under_a_taken_name_or_said_as_its_step(tmp_path):
    # move_aside names a shard <cell_id>.<n>.parquet beside an earlier one: its stem is no
    # cell id (the step was lost); a record that is no mapping (a hand edit) or none at all
    # leaves "its step" (not "step None", nor an AttributeError)
    again = "is measured again when the training reaches it"
    aside = tmp_path / "corrupt"
    earlier = {"steps": {"3": {"cell_id": "abc"}, "4": "not a record"}}
    moved = [aside / "abc.1.parquet", aside / "def.parquet"]
    assert moved_steps(earlier, moved) == [
        moved_line(moved[0], f"step 3 {again}"),
        moved_line(moved[1], f"its step {again}"),
    ]
    assert moved_steps(None, moved[1:]) == [moved_line(moved[1], f"its step {again}")]
