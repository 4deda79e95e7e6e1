"""Mutation review of stop 47's code (session 48): each test here failed on a small plausible
change of the code it names (a constant, a comparison, an argument or a call changed or
dropped) that passed every other test, and passes on the code as it is."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from test_report_heatmap_parts import TITLE, _drawn, _four_setting_grid, _grid, _long_titled
from test_store import _cell
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab import JacobianMonitor
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.report.figure_layout import TITLE_SIZE, pinned
from vanishlab.report.figure_text import text_width
from vanishlab.report.figures import draw
from vanishlab.report.heatmaps import _BAR_GAP
from vanishlab.report.layout import as_parts
from vanishlab.report.model import HeatmapGrid, HeatPanel
from vanishlab.report.page import PAGE_W
from vanishlab.sweep import cell_summary, shard
from vanishlab.sweep.corrupt_shard import CorruptShardError
from vanishlab.sweep.schema import SCHEMA, STEP_SCHEMA
from vanishlab.sweep.shard import _other_columns, read_shard, write_shard
from vanishlab.sweep.summary_fields import NO_SUMMARY
from vanishlab.trained.foreign import foreign_advice, whole_model_advice

# --- report/heatmaps.draw_heatmaps, _page_width; report/layout.as_parts ---


def _fig_width(grid: HeatmapGrid) -> float:
    with pinned():
        return float(draw(grid).get_size_inches()[0])


def test_the_first_part_of_long_titled_panels_is_as_wide_as_the_page_holds():
    """A part fits its panels to the page as its widest part's ncols do, no fewer: the first
    part of three long-titled panels is as wide as the same figure drawn whole, not narrower
    (as_parts' ncols one more than given; _page_width's columns one more than given is caught
    by test_report_heatmap_parts since the page became 11.79 in)."""
    first = _long_titled(_four_setting_grid("tanh", 3))
    last = replace(_four_setting_grid("tanh", 1), ncols=1)
    parts = as_parts([first, last])
    assert [g.ncols for g in parts] == [3, 3]
    assert abs(_fig_width(parts[0]) - _fig_width(first)) < 0.01 and _fig_width(first) <= PAGE_W
    assert _drawn(parts[:1])[1] == _drawn([first])[1]


def test_a_part_of_gated_panels_is_as_wide_wherever_it_stands():
    """A part's panels are as wide as their own columns (or every part's titles) need, first
    part or last: one-column (gated) panels are narrower than a two-column part's either way."""
    gated, rnn = _grid("gru", ("n/a (gated)",)), _grid("rnn", ("tanh", "relu"))
    first = _drawn(as_parts([gated, rnn]))[1]
    last = _drawn(as_parts([rnn, gated]))[1]
    assert first[:6] == last[6:] and first[6:] == last[:6], (first, last)
    assert max(first[:6]) < min(first[6:]), first


def test_parts_of_a_grid_of_no_columns_draw_as_one_column():
    """A part's page share is counted from its ncols at least 1 (draw_heatmaps reads ncols 0
    as 1 for a whole figure): 0 divided by zero in _page_width."""
    grid = replace(_four_setting_grid("tanh", 2), ncols=0)
    parts = as_parts([grid, grid])
    _, panel_widths = _drawn(parts)
    assert len(panel_widths) == 4 and len(set(panel_widths)) == 1


def _one_cell_grid(title: str, n: int = 2) -> HeatmapGrid:
    panels = tuple(HeatPanel(title, ("1",), ("6",), -0.5 * np.ones((1, 1))) for _ in range(n))
    return HeatmapGrid("Rate by depth and sequence length", "c", panels, n, "T", "layers", "r")


def test_a_panel_widened_for_its_title_gives_it_room_in_every_column():
    """One-cell panels widened for a five-setting title keep it to two lines in the first
    column too: its room is the widened panel's (w = panel_w + 1.3), not the cells' (0.95 in
    + 1.3, where it took three lines)."""
    lines, panel_widths = _drawn([_one_cell_grid(TITLE)])
    assert panel_widths[0] > 0.95 + 0.5  # widened for its title
    assert lines == [2, 2], lines


def test_a_last_column_title_stops_short_of_the_colour_bar():
    """In the last column a title's lines run at most _BAR_GAP - 0.05 in past the panel (the
    colour bar stands _BAR_GAP past it), as _titles_width counts them, not up to the bar."""

    panel_w = 4 * 0.95  # four columns of cells: wider than any room a title is given
    room, bar = panel_w + _BAR_GAP - 0.05, panel_w + _BAR_GAP
    # a title "x...xi...i, yy" that fits the bar's room on one line, as drawn, but not the
    # title's room (an "x" is 0.078 in, more than the 0.05 in between them: "i"s fill it)
    head = next(
        h
        for h in ("x" * k + "i" * j for k in range(60) for j in range(3))
        if room < text_width(h + ", yy", TITLE_SIZE) <= bar
    )
    title = head + ", yy"  # one break after its comma
    cols = ("6", "12", "24", "48")
    panel = HeatPanel(title, ("1",), cols, -0.5 * np.ones((1, 4)))
    grid = HeatmapGrid("Rate", "c", (panel,), 1, "T", "layers", "r")
    with pinned():
        fig = draw(grid)
        (shown,) = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert shown.split("\n") == [head + ",", "yy"]


# --- trained/foreign.foreign_advice, whole_model_advice ---


def test_torch_2_2s_refused_quint8_is_told_to_save_the_float_weights(tmp_path, monkeypatch):
    """The quantized dtypes are torch.qint8, torch.quint8, torch.qint32 (the pattern's (u)?):
    torch.quint8 was "an object of other code" to save as plain data."""

    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint", raising=False)
    path = tmp_path / "q.pt"
    torch.save({"w": torch.zeros(1)}, path)
    for dtype in ("torch.quint8", "torch.qint32"):
        advice = foreign_advice(path, f"Unsupported class {dtype}")
        assert advice is not None and advice.startswith("It holds quantized weights"), advice


def test_a_refusal_that_names_no_global_gets_no_advice(tmp_path, monkeypatch):
    """None (the caller's own advice) where no global is found: without the check, an empty
    list is "all numpy" and a file that names nothing was told it holds a numpy object."""

    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint", raising=False)
    path = tmp_path / "c.pt"
    torch.save({"w": torch.zeros(1)}, path)
    assert foreign_advice(path, "Weights only load failed: an unpickling error") is None


def test_the_whole_model_recipe_names_a_pt_file_for_a_path_without_a_suffix(tmp_path):
    assert f"{str(tmp_path / 'model_sd.pt')!r}" in whole_model_advice(tmp_path / "model")
    assert f"{str(tmp_path / 'm_sd.pth')!r}" in whole_model_advice(tmp_path / "m.pth")


# --- trained/monitor.JacobianMonitor.__enter__, __exit__ ---


def _monitored(out):
    rnn, probe = nn.RNN(2, 4), torch.randn(5, 2, 2)
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
        mon.step(1)
    return rnn, probe


def test_the_moved_aside_warning_comes_after_the_manifest_is_written(tmp_path):
    """Under a warnings-as-errors filter the warning ends the reopening: the manifest was
    written first (the moved step no longer listed) and the lock is not held. Warned before
    write_manifest, the manifest still listed the step whose shard lies in corrupt/."""

    out = tmp_path / "m"
    rnn, probe = _monitored(out)
    steps = json.loads((out / "manifest.json").read_text())["steps"]
    damaged = sorted((out / "cells").iterdir())[0]
    (step,) = [k for k, rec in steps.items() if f"{rec['cell_id']}.parquet" == damaged.name]
    damaged.write_bytes(damaged.read_bytes()[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="moved aside"):
            JacobianMonitor(rnn, probe, out=out).__enter__()
    assert step not in json.loads((out / "manifest.json").read_text())["steps"]
    with JacobianMonitor(rnn, probe, out=out) as mon:  # the lock was let go
        mon.step(int(step))


def test_the_kept_name_warning_points_at_the_users_with_line(tmp_path):
    out = tmp_path / "m"
    rnn, probe = _monitored(out)
    other = JacobianMonitor(rnn, probe, out=out, name="other")
    with pytest.warns(UserWarning, match="keeps its name") as caught, other:
        pass
    assert [w.filename for w in caught] == [__file__]


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_reopened_monitor_adds_its_time_to_the_runs(tmp_path):
    """elapsed_s sums every opening's time (the second opening's alone was kept, or none of the
    first's carried into the new manifest), and started is the first opening's."""

    out = tmp_path / "m"
    rnn, probe = _monitored(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["elapsed_s"] = 1000.0  # as if the first opening took that long
    manifest["started"] = "2020-01-01T00:00:00Z"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["elapsed_s"] >= 1000.0 and manifest["started"] == "2020-01-01T00:00:00Z"


# --- trained/analyze_run.measure_into: an analysis already measured ---


def _analysed(tmp_path):
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5)
    return out


def test_an_analysis_already_measured_says_what_it_moved_aside(tmp_path):
    """A damaged stray shard beside a finished analysis is moved aside on the next run, which
    measures nothing: the result still names it (the command line says it on stderr)."""

    out = _analysed(tmp_path)
    (shard,) = (out / "cells").iterdir()
    stray = "0123456789abcdef.parquet"  # named as a shard: damaged, not foreign
    (out / "cells" / stray).write_bytes(shard.read_bytes()[:100])  # a torn write
    again = vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5)
    assert not again.measured
    assert again.moved_aside == (out / "corrupt" / stray,)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_an_unfinished_analysis_keeps_the_run_time_it_has(tmp_path):
    """Finishing an analysis whose manifest lacks "finished" sets its run time from the
    measurement only where it has none: one it has is kept."""

    out = _analysed(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(finished=None, elapsed_s=1000.0)
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert not vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5).measured
    manifest = vl.load_manifest(out)
    assert manifest["finished"] is not None and manifest["elapsed_s"] == 1000.0


def test_the_apis_kept_name_warning_points_at_the_callers_line(tmp_path):
    out = _analysed(tmp_path)
    with pytest.warns(UserWarning, match="keeps its name") as caught:
        vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5, name="other")
    assert [w.filename for w in caught] == [__file__]


# --- core/inputs.check_one_direction ---


def test_every_projection_is_refused_proj_size_1_too():
    with pytest.raises(ValueError, match="proj_size=1 is not supported for LSTM"):
        vl.jacobian_norms(nn.LSTM(3, 4, proj_size=1), torch.randn(5, 2, 3))


# --- sweep/shard._other_columns: the columns a foreign shard lacks, four named at most ---


def test_a_foreign_shards_columns_are_named_four_then_counted():
    def without(n: int) -> tuple[list[str], str]:
        gone = SCHEMA.names[-n:]
        kept = pa.schema([f for f in SCHEMA if f.name not in gone])
        return gone, _other_columns(kept)

    gone, said = without(4)
    assert f"it lacks {', '.join(gone)} (written by" in said
    gone, said = without(5)
    assert f"it lacks {', '.join(gone[:4])} and 1 more (written by" in said


def test_a_monitored_shards_columns_are_compared_with_the_step_schema():
    """A step shard lacking a column lacks that one alone: compared with the sweep's schema it
    also "added" its step column."""

    last = STEP_SCHEMA.names[-1]
    said = _other_columns(pa.schema([f for f in STEP_SCHEMA if f.name != last]))
    assert f"it lacks {last} (written by" in said and "adds" not in said


# --- sweep/shard.write_shard ---


def test_a_shards_pages_carry_checksums_read_before_decoding(tmp_path):
    """A flipped bit in a page is refused by the page's CRC32 (written with
    write_page_checksum), before its values are decoded and checked against the digest."""

    path = write_shard(tmp_path, *_cell())
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(0).column(meta.schema.names.index("log10_fro_mean"))
    data = bytearray(path.read_bytes())
    data[column.data_page_offset - 2] ^= 0x01  # a byte of the page before it: its values
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError, match="CRC checksum verification failed"):
        read_shard(path, rows=True)


def test_a_new_cells_folder_is_made_durable_before_its_first_shard(tmp_path, monkeypatch):
    synced = []
    real = shard.fsync_dir
    monkeypatch.setattr(shard, "fsync_dir", lambda d: (synced.append(d), real(d)))
    shard.write_shard(tmp_path, *_cell())
    assert synced == [tmp_path]  # the run directory, whose new entry is cells/


# --- cli/analyze: the command an analysis records ---


def test_the_recorded_command_states_a_layout_only_where_one_was_given(tmp_path):
    """The manifest's command redoes the analysis as given: without a layout flag it has
    none (a recorded --no-batch-first would silence the note the original run printed)."""
    torch.save(nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(8, 2, 3), tmp_path / "x.pt")
    base = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    for out, flag in (("none", []), ("stated", ["--no-batch-first"]), ("b", ["--batch-first"])):
        result = CliRunner().invoke(app, [*base, "--out", str(tmp_path / out), *flag])
        assert result.exit_code == 0, result.output
        command = vl.load_manifest(tmp_path / out)["command"].split()
        assert [w for w in command if w.endswith("batch-first")] == flag


# --- sweep/cell_summary.SUMMARY_FAILURES, unsummarized_row ---


@pytest.mark.parametrize(
    "err",
    [
        ZeroDivisionError("division by zero"),
        OverflowError("math range error"),
        KeyError("hidden_size"),
        IndexError("list index out of range"),
        AttributeError("'str' object has no attribute 'get'"),
        RuntimeError("shape '[4, 4]' is invalid"),
        TypeError("int() argument must be a string"),
        ValueError("could not convert string to float: 'x'"),
    ],
)
def test_a_summary_row_failing_with_a_value_no_code_expects_is_a_note(err):
    assert isinstance(err, cell_summary.SUMMARY_FAILURES)
    row = cell_summary.unsummarized_row({"cell_id": "c0"}, err)
    assert row["note"] == f"{NO_SUMMARY} ({type(err).__name__}: {err}).", row["note"]


@pytest.mark.parametrize(
    "err", [KeyboardInterrupt(), MemoryError(), OSError(28, "No space"), VanishlabError("x")]
)
def test_a_stop_memory_the_system_or_a_users_mistake_is_no_failed_row(err):
    assert not isinstance(err, cell_summary.SUMMARY_FAILURES)


def test_a_failed_rows_note_is_one_line_cut_at_120_characters():
    err = ValueError("first line\n  second   line " + "x" * 200)
    note = cell_summary.unsummarized_row({"cell_id": "c0"}, err)["note"]
    said = note[len(f"{NO_SUMMARY} (ValueError: ") : -len(").")]
    assert said.startswith("first line second line x") and "\n" not in note
    assert len(said) == 120 and said.endswith("…")
