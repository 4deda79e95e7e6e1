"""Measuring cells and running sweeps: aggregation, determinism, resume, crash safety."""

from __future__ import annotations

import importlib.machinery
import math
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _proc import stat_fields
from _shards import aggregate_by_hand
from _stops import stops_at_their_defaults

import vanishlab as vl
from vanishlab.cli.stops import stop_word
from vanishlab.sweep import store
from vanishlab.sweep.cell import _log_stats, cell_inputs, cell_module
from vanishlab.sweep.commands import reproducing_command
from vanishlab.sweep.config import QUICK_SWEEP, CellConfig, Sweep
from vanishlab.sweep.experiments import Experiment, list_experiments, load_experiment
from vanishlab.sweep.runner import plan_sweep
from vanishlab.sweep.schema import VALUE_COLUMNS

TINY = {"hidden_size": 6, "input_size": 3, "seq_len": 7, "batch": 3}
GRID = Sweep(
    activation=("tanh", "relu"),
    init=("default", "normal"),
    gain=(0.5, 2.0),
    hidden_size=6,
    input_size=3,
    seq_len=7,
    batch=3,
)


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


# --- one cell ------------------------------------------------------------------------------


def test_run_cell_aggregates_the_engine_frame():
    config = CellConfig(**TINY, num_layers=2, activation="tanh", init="xavier_normal")
    frame, meta = vl.run_cell(config)
    T, L = config.seq_len, config.num_layers
    assert len(frame) == T + L * (T + 1) == meta["n_rows"]
    assert tuple(frame.columns) == store.COLUMNS
    assert meta["status"] == "ok" and meta["reason"] is None and meta["elapsed_s"] > 0
    assert meta["cell_id"] == config.cell_id and meta["config"] == config.to_dict()

    # The same numbers from the public per-sample frame, aggregated by hand.
    raw = vl.jacobian_norms(cell_module(config), cell_inputs(config))
    expected = aggregate_by_hand(raw)
    got = frame.sort_values(["source", "layer", "lag"]).reset_index(drop=True)
    for col in expected.columns[3:]:
        np.testing.assert_allclose(got[col], expected[col], rtol=1e-12, atol=1e-12)
    assert (got["n_zero"] == 0).all()
    for axis, value in config.to_dict().items():
        assert (frame[axis] == value).all()


def test_log_stats_zero_samples():
    a = np.array([[-1.0, -np.inf, -np.inf, 2.0], [-3.0, -5.0, -np.inf, 2.0]])
    mean, std, n_zero = _log_stats(a)
    np.testing.assert_array_equal(mean, [-2.0, -np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(std, [1.0, 0.0, 0.0, 0.0])  # over finite samples only
    np.testing.assert_array_equal(n_zero, [0, 1, 2, 0])
    with pytest.raises(AssertionError, match="bug"):
        _log_stats(np.array([[np.nan]]))


def test_exact_zero_jacobians_are_explicit():
    # relu at h = 0 (no input, zero biases, h0 = 0): relu'(0) = 0, every Jacobian is exactly 0.
    frame, meta = vl.run_cell(CellConfig(**TINY, activation="relu", init="normal", input_std=0))
    assert meta["status"] == "ok"
    identity = (frame["source"] == "state") & (frame["lag"] == 0)  # dh_T/dh_T = I
    zero = frame[~identity]
    assert (zero["n_zero"] == 3).all() and (frame.loc[identity, "n_zero"] == 0).all()
    assert np.isneginf(zero["log10_fro_mean"]).all() and np.isneginf(zero["log10_spec_mean"]).all()
    assert (zero["log10_fro_std"] == 0).all()
    assert not frame[list(VALUE_COLUMNS)].isna().any().any()


def test_a_spread_over_no_finite_sample_reads_as_not_applicable(tmp_path):
    """A row where every sample's Jacobian is exactly zero (relu, zero input, no bias: every
    lag past 0) read a standard deviation of 0 with n_zero = batch, a spread measured over no
    sample. The shard keeps its 0 (its checks refuse NaN in every release); load_results reads
    it as NaN, and the report draws no band there and builds without a warning."""
    from _report_run import report_sections

    from vanishlab.report.model import LineGrid

    grid = vl.Sweep(
        activation="relu", init="normal", bias=False, input_std=(0.0, 1.0),
        hidden_size=4, input_size=2, seq_len=8, batch=2,
    )  # fmt: skip
    sections = report_sections(tmp_path / "run", grid)
    rows = vl.load_results(tmp_path / "run")
    none = (rows["n_zero"] == rows["batch"]).to_numpy(dtype=bool)
    some = rows[~none]
    assert none.any() and (~none).any()
    assert rows.loc[none, ["log10_fro_std", "log10_spec_std"]].isna().all().all()
    assert np.isfinite(some[["log10_fro_std", "log10_spec_std"]].to_numpy()).all()
    origin = ((rows["input_std"] == 0) & (rows["source"] == "state")).to_numpy(dtype=bool)
    assert (none[origin] == (rows.loc[origin, "lag"] > 0).to_numpy()).all()  # lag 0: I
    figures = [b for b in sections["decay"].blocks if isinstance(b, LineGrid)]
    bands = [(c.lo, c.hi) for f in figures for p in f.panels for c in p.curves if c.lo is not None]
    assert bands and all(np.isnan(lo).sum() == np.isnan(hi).sum() for lo, hi in bands)


@pytest.mark.parametrize("gain", [0.5, 1.0, 1.3])
def test_orthogonal_at_the_origin_decays_exactly_as_gain_to_the_k(gain):
    # tanh, zero input and biases: h stays 0, each step's Jacobian is W_hh = g Q, so
    # ||J_k||_2 = g^k and ||J_k||_F = sqrt(H) g^k; the input Jacobian adds W_ih (semi-
    # orthogonal, norm 1: the gain scales W_hh only).
    H, T = 10, 30
    config = CellConfig(
        init="orthogonal", gain=gain, input_std=0, hidden_size=H, input_size=4, seq_len=T,
        batch=2, dtype="float64",
    )  # fmt: skip
    frame, _ = vl.run_cell(config)
    state = frame[frame["source"] == "state"]
    k = state["lag"].to_numpy()
    np.testing.assert_allclose(state["log10_spec_mean"], k * math.log10(gain), atol=1e-9)
    np.testing.assert_allclose(
        state["log10_fro_mean"], 0.5 * math.log10(H) + k * math.log10(gain), atol=1e-9
    )
    inputs = frame[frame["source"] == "input"]
    np.testing.assert_allclose(
        inputs["log10_spec_mean"], inputs["lag"] * math.log10(gain), atol=1e-9
    )
    assert (frame["log10_spec_std"] < 1e-9).all()


def test_relu_explosion_is_a_failed_cell():
    frame, meta = vl.run_cell(CellConfig(**{**TINY, "seq_len": 60}, activation="relu",
                                         init="identity", gain=20.0))  # fmt: skip
    assert meta["status"] == "failed" and len(frame) == 0 and meta["n_rows"] == 0
    assert "overflowed" in meta["reason"]
    assert tuple(frame.columns) == store.COLUMNS


@pytest.mark.parametrize("init", ["normal", "default", "xavier_uniform"])
@pytest.mark.parametrize(("axis", "what"), [("gain", "weights"), ("input_std", "inputs")])
def test_a_setting_beyond_the_dtype_is_an_overflow_not_an_error(axis, what, init):
    """--gain 1e308 (or --input-std 1e308) made inf weights (inputs), or a uniform init could not
    draw them at all (torch's uniform_: "from is out of bounds for float"): every cell failed
    as an "error", the sweep exited 1 and advised --retry-failed, which can never mend a
    setting. It is an overflow, a result of the setting, named as such."""
    settings = {"gain": 1.0, "input_std": 1.0, axis: 1e308}
    frame, meta = vl.run_cell(CellConfig(**TINY, activation="tanh", init=init, **settings))
    assert meta["status"] == "failed" and meta["failure"] == "overflow" and len(frame) == 0
    assert meta["reason"].startswith(f"the {what} overflow float32 at {axis} 1e+308")
    assert "Error" not in meta["reason"]  # was "(RuntimeError)": an exception's name, no news
    assert "No theory: it fails as the cell did" in meta["summary"]["row"]["note"]


@pytest.mark.parametrize("init", ["normal", "default", "xavier_normal", "kaiming_uniform"])
def test_a_huge_float64_gain_is_measured_and_summarised(init):
    """gain 1e200 in float64: the weights are finite, the cell is measured; its summary row
    raised OverflowError (gain**2 of the init's variances) and was left out."""
    frame, meta = vl.run_cell(
        CellConfig(**TINY, activation="tanh", init=init, gain=1e200, dtype="float64")
    )
    assert meta["status"] == "ok" and len(frame) and "summary" in meta
    assert (
        "No prediction: the variances (gain², input_std²) overflow float64"
        in (meta["summary"]["row"]["note"])
    )


def test_cells_are_deterministic_and_leave_global_state_alone():
    config = CellConfig(hidden_size=24, input_size=5, seq_len=20, batch=4, init="normal")
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    rng = torch.get_rng_state()
    first, _ = vl.run_cell(config)
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.get_num_threads() == threads
    torch.manual_seed(99)  # another global state, another thread count: same bits
    torch.set_num_threads(2)
    try:
        second, _ = vl.run_cell(config)
    finally:
        torch.set_num_threads(threads)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_a_cell_measured_beside_another_in_threads_runs_on_one_intra_op_thread():
    """Dask workers measure cells in several threads at once. torch's intra-op thread count is
    OpenMP's, kept per thread: pinned_numerics set it to 1 only in the first measuring thread
    (a count shared by reference), so a second thread that had run torch code measured with
    its own count (all cores; a 200-unit relu cell's norms then differ in the last bits from
    one measured alone). Each thread now pins and restores its own."""
    import threading

    from vanishlab.sweep.cell import pinned_numerics

    inside, after, main_in = [], [], threading.Event()

    def other() -> None:
        torch.set_num_threads(2)  # this thread's own count, as a worker thread's that has
        assert torch.get_num_threads() == 2  # run torch code (which fixes it for the thread)
        assert main_in.wait(5)
        with pinned_numerics():
            inside.append(torch.get_num_threads())
        after.append(torch.get_num_threads())

    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        thread = threading.Thread(target=other)
        thread.start()
        with pinned_numerics():
            main_in.set()
            thread.join()
            inside.append(torch.get_num_threads())
        after.append(torch.get_num_threads())
    finally:
        torch.set_num_threads(saved)
    assert inside == [1, 1] and after == [2, 2]


def _flushes() -> bool:
    return torch.tensor([1e-39], dtype=torch.float32).mul(1.0).item() == 0.0


@pytest.mark.parametrize(
    "config",
    [
        # the adding task's inputs were drawn in torch's default dtype: float64 gave other
        # numbers (and workers, whose default is float32, other results than workers=1)
        CellConfig(**{**TINY, "input_size": 2}, init="normal", task="adding", train_steps=4),
        # subnormal relu pre-activations: flushed to zero they turn relu' into 0 (-inf norms)
        CellConfig(**TINY, activation="relu", init="normal", input_std=1e-39, bias=False, seed=1),
    ],
    ids=["adding-task", "subnormal-relu"],
)
def test_cells_ignore_the_callers_default_dtype_and_flushing(config):
    """A cell's numbers do not depend on process-global settings a caller may have changed:
    torch's default dtype and flush-to-zero (both restored afterwards)."""

    def measured():
        frame, meta = vl.run_cell(config)
        meta.pop("elapsed_s")
        return frame, meta

    plain_frame, plain_meta = measured()
    assert not _flushes() and torch.get_default_dtype() == torch.float32
    torch.set_default_dtype(torch.float64)
    torch.set_flush_denormal(True)
    try:
        frame, meta = measured()
        assert _flushes() and torch.get_default_dtype() == torch.float64  # restored
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_flush_denormal(False)
    pd.testing.assert_frame_equal(plain_frame, frame, check_exact=True)
    assert meta == plain_meta


def test_seed_drives_weights_and_inputs_common_random_numbers():
    a = CellConfig(**TINY, init="normal", gain=0.5)
    b = CellConfig(**TINY, init="normal", gain=2.0)
    assert torch.equal(cell_inputs(a), cell_inputs(b))  # same inputs across gains
    wa, wb = cell_module(a).weight_hh_l0, cell_module(b).weight_hh_l0
    torch.testing.assert_close(4 * wa, wb)  # same base matrix, scaled
    c = CellConfig(**TINY, init="normal", gain=0.5, seed=1)
    assert not torch.equal(cell_inputs(a), cell_inputs(c))


# --- sweeps --------------------------------------------------------------------------------


def test_run_sweep_writes_manifest_shards_and_resumes(tmp_path):
    out = tmp_path / "run"
    summary = vl.run_sweep(GRID, out, name="grid test", workers=1, progress=False)
    assert isinstance(summary, vl.RunSummary)
    assert (summary.n_cells, summary.n_run, summary.n_skipped) == (8, 8, 0)
    assert summary.run_dir == out and summary.elapsed_s > 0 and summary.measure_s > 0
    assert "8 cells, 8 run, 0 skipped" in str(summary)
    manifest = vl.load_manifest(out)
    assert manifest["format"] == "vanishlab-run/1" and manifest["name"] == "grid test"
    assert manifest["experiment"] is None and manifest["sections"] is None
    assert manifest["n_cells"] == 8 and manifest["finished"] and manifest["elapsed_s"] > 0
    assert manifest["axes"]["gain"] == [0.5, 2.0] and manifest["axes"]["seed"] == [0]
    assert set(manifest["versions"]) >= {"vanishlab", "torch", "python", "numpy", "pandas", "cpu"}
    # every axis a flag, the model and the training settings too (tests/test_reproduce_s411.py)
    assert manifest["command"].startswith("vanishlab sweep --model rnn --activation tanh,relu")
    assert "--train-steps 0 --lr 0.01 --optimizer adam --clip 1.0 --out" in manifest["command"]
    assert "--gain 0.5,2.0" in manifest["command"] and "--name 'grid test'" in manifest["command"]
    assert len(list((out / "cells").glob("*.parquet"))) == 8
    results = vl.load_results(out)
    assert results["cell_id"].nunique() == 8

    before = _snapshot(out / "cells")
    again = vl.run_sweep(GRID, out, workers=1, progress=False)
    assert (again.n_run, again.n_skipped) == (0, 8)
    assert _snapshot(out / "cells") == before  # finished shards are never rewritten
    assert vl.load_manifest(out)["name"] == "grid test"  # kept on resume
    assert vl.load_manifest(out)["started"] == manifest["started"]


def test_a_run_that_finds_nothing_to_do_keeps_its_finished_time_and_run_time(tmp_path, monkeypatch):
    """A finished run swept again (`make demo` twice) took that invocation's time as its
    "finished" and added the check to its run time: the report read "finished" 20 minutes
    after "started" for a 74 s run, and a run time longer than that span. A run given work
    (a lost shard) takes the new time, and adds its time."""
    import vanishlab.sweep.runner as runner

    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    done = vl.load_manifest(out)
    time.sleep(1.1)  # the manifest's times are to the second
    assert vl.run_sweep(GRID, out, workers=1, progress=False).n_run == 0
    again = vl.load_manifest(out)
    assert (again["finished"], again["elapsed_s"]) == (done["finished"], done["elapsed_s"])
    # ... also where that invocation stops (its manifest is written at its start and after
    # a stop: both said "not finished", and the stop added its time)
    stop = KeyboardInterrupt
    with monkeypatch.context() as m:
        m.setattr(runner, "_measure", lambda *a, **k: (_ for _ in ()).throw(stop))
        with pytest.raises(stop):
            vl.run_sweep(GRID, out, workers=1, progress=False)
    stopped = vl.load_manifest(out)
    assert (stopped["finished"], stopped["elapsed_s"]) == (done["finished"], done["elapsed_s"])
    next(iter((out / "cells").glob("*.parquet"))).unlink()
    assert vl.run_sweep(GRID, out, workers=1, progress=False).n_run == 1
    redone = vl.load_manifest(out)
    assert redone["finished"] > done["finished"] and redone["elapsed_s"] > done["elapsed_s"]


def test_the_run_time_sums_every_invocation_an_interrupted_one_too(tmp_path, monkeypatch):
    """A Ctrl-C left the manifest's elapsed_s as it was, so a resumed run's "run time" was its
    last invocation's alone, beside "started ... finished" that span every invocation."""
    import vanishlab.sweep.runner as runner

    measure = runner.run_here

    def interrupted(tasks, on_result):
        measure(tasks[:1], on_result)
        time.sleep(0.5)
        raise KeyboardInterrupt

    out = tmp_path / "run"
    monkeypatch.setattr(runner, "run_here", interrupted)
    with pytest.raises(KeyboardInterrupt):
        vl.run_sweep(GRID, out, workers=1, progress=False)
    first = vl.load_manifest(out)
    assert first["finished"] is None and first["elapsed_s"] >= 0.5
    monkeypatch.setattr(runner, "run_here", measure)
    # A slow read of the shards' metadata (a loaded machine: the test failed 2 times in 40)
    # must not make the summary's time and the manifest's disagree: one reading of the clock.
    read_metas = runner.store.read_cell_metas

    def slow_read(run_dir):
        time.sleep(0.1)
        return read_metas(run_dir)

    monkeypatch.setattr(runner.store, "read_cell_metas", slow_read)
    summary = vl.run_sweep(GRID, out, workers=1, progress=False)
    assert summary.n_skipped == 1
    # Both are rounded to the millisecond: the sum can differ by one unit of the last place.
    assert vl.load_manifest(out)["elapsed_s"] == pytest.approx(
        first["elapsed_s"] + summary.elapsed_s, abs=0.002
    )


def test_resume_runs_only_missing_cells(tmp_path):
    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    reference = vl.load_results(out)
    shards = sorted((out / "cells").glob("*.parquet"))
    for path in shards[:3]:
        path.unlink()
    (out / "cells" / f".{shards[3].name}.0a1b2c3d.tmp").write_bytes(b"half a shard of a kill")
    (out / ".manifest.json.0a1b2c3d.tmp").write_bytes(b'{"format": "vanishlab-r')
    summary = vl.run_sweep(GRID, out, workers=1, progress=False)
    assert (summary.n_run, summary.n_skipped) == (3, 5)
    assert not list(out.rglob(".*.tmp"))  # stale temp files cleaned
    pd.testing.assert_frame_equal(vl.load_results(out), reference, check_exact=True)


_WRITER = """
import sys, time
from pathlib import Path
from vanishlab.sweep.files import atomic_write
def write(f):
    f.write(b"PAR1 part of a summary")
    f.flush()
    print("writing", flush=True)
    sys.stdin.readline()  # a writer in the middle of its file until told to go on
atomic_write(Path(sys.argv[1]), write)
print("written", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL; no flock")
def test_a_sweep_removes_dead_writers_temp_files_only(tmp_path):
    """A writer killed between creating its temporary file and renaming it left the file
    forever: a report killed while it wrote the summary's cache (``.summary.parquet.<hex>
    .tmp``, written without the run's lock), a run killed mid-probe or while it copied a shard
    into corrupt/. The next writer holding the lock removes them, never a live writer's (a
    report writing the cache at that moment) nor anything not named as vanishlab's."""
    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    target = out / "summary.parquet"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(target)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in writers:
        assert proc.stdout.readline() == b"writing\n", proc.stderr.read().decode()
    dead, live = writers
    os.kill(dead.pid, signal.SIGKILL)  # a real kill in the middle of a write
    dead.wait()
    temps = sorted(out.glob(".summary.parquet.*.tmp"))
    assert len(temps) == 2
    planted = [
        out / f".vanishlab-probe-{'ab' * 16}.tmp",
        out / "corrupt" / ".0123456789abcdef.parquet.0a1b2c3d.tmp",
        out / "cells" / f".vanishlab-probe-{'cd' * 16}.tmp",
    ]
    (out / "corrupt").mkdir()
    for path in planted:
        path.write_bytes(b"")
    kept = [out / ".notes.0a1b2c3d.tmp", out / "cells" / "notes.tmp", out / "corrupt" / "x.tmp"]
    for path in kept:
        path.write_bytes(b"mine")
    (out / ".summary.parquet.11111111.tmp").symlink_to(kept[0])
    kept.append(out / ".summary.parquet.11111111.tmp")
    try:
        vl.run_sweep(GRID, out, workers=1, progress=False)
        remaining = [p for p in temps if p.exists()]  # the live writer's only
        assert len(remaining) == 1 and not [p for p in planted if p.exists()]
        assert set(out.glob(".summary.parquet.*.tmp")) == {*remaining, kept[-1]}
        assert all(p.is_symlink() or p.read_bytes() == b"mine" for p in kept)
        live_temp = remaining[0]
        out_s, err = live.communicate(b"go on\n", timeout=60)
        assert live.returncode == 0 and out_s == b"written\n", err.decode()
        assert target.read_bytes() == b"PAR1 part of a summary" and not live_temp.exists()
    finally:
        live.kill()
        live.wait()
        for proc in writers:
            proc.stdout.close()
            proc.stderr.close()
            if proc.stdin is not None:
                proc.stdin.close()


def test_different_grid_refused_unless_force(tmp_path):
    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    before = _snapshot(out)
    bigger = GRID.replace(gain=(0.5, 1.0, 2.0))
    with pytest.raises(vl.VanishlabError, match=r"holds a different grid \(gain") as err:
        vl.run_sweep(bigger, out, workers=1, progress=False)
    assert "4 new cells" in str(err.value) and "force=True" in str(err.value)
    assert _snapshot(out) == before

    subset = GRID.replace(activation=("relu",))  # nothing new: a plain resume
    assert vl.run_sweep(subset, out, workers=1, progress=False).n_skipped == 4

    summary = vl.run_sweep(bigger, out, workers=1, progress=False, force=True)
    assert (summary.n_run, summary.n_skipped, summary.n_cells) == (4, 8, 12)
    manifest = vl.load_manifest(out)
    assert manifest["n_cells"] == 12 and len(manifest["grids"]) == 2
    assert manifest["axes"]["gain"] == [0.5, 2.0, 1.0] and len(manifest["commands"]) == 2
    assert vl.run_sweep(GRID, out, workers=1, progress=False).n_skipped == 8  # old grid: fine


def test_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    before = _snapshot(tmp_path)
    with pytest.raises(vl.VanishlabError, match="not empty and is not a vanishlab run"):
        vl.run_sweep(GRID, tmp_path, workers=1, progress=False)
    assert _snapshot(tmp_path) == before and not (tmp_path / ".lock").exists()
    afile = tmp_path / "thesis.tex"
    with pytest.raises(vl.VanishlabError, match="not a directory"):
        vl.run_sweep(GRID, afile, workers=1, progress=False)


def test_corrupt_shard_stops_the_run_before_any_write(tmp_path):
    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    next((out / "cells").glob("*.parquet")).unlink()
    (out / "cells" / "junk.parquet").write_bytes(b"garbage")
    before = _snapshot(out)
    with pytest.raises(vl.VanishlabError, match=r"junk\.parquet is not a valid vanishlab shard"):
        vl.run_sweep(GRID, out, workers=1, progress=False)
    assert _snapshot(out) == before


def test_run_in_use_is_refused(tmp_path):
    out = tmp_path / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    before = _snapshot(out)
    with store.RunLock(out), pytest.raises(vl.VanishlabError, match="already open in this"):
        vl.run_sweep(GRID, out, workers=1, progress=False)
    assert _snapshot(out) == before


def test_failed_cells_are_recorded_and_counted(tmp_path):
    grid = Sweep(activation="relu", init="identity", gain=(0.5, 30.0), **{**TINY, "seq_len": 60})
    summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    assert (summary.n_run, summary.n_failed) == (2, 1)
    cells = vl.load_cells(tmp_path / "run")
    assert sorted(cells["status"]) == ["failed", "ok"]
    again = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    assert (again.n_run, again.n_skipped, again.n_failed) == (0, 2, 1)
    assert "1 failed" in str(again)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workers": 0}, vl.VanishlabError, r"^workers=: must be at least 1, got 0$"),
        (
            {"workers": 2, "scheduler": "tcp://127.0.0.1:1"},
            vl.VanishlabError,
            r"^workers= and scheduler= exclude each other: the "
            r"cluster decides; drop workers=$",
        ),
        (
            {"scheduler": "inproc://x"},
            vl.VanishlabError,
            r"^scheduler=: 'inproc://x': inproc:// is not supported",
        ),
        ({"scheduler": 8786}, TypeError, r"^scheduler must be a Dask scheduler's address"),
        ({"name": "a\nb"}, vl.VanishlabError, r"^name= holds a control character"),
        ({"name": "  "}, vl.VanishlabError, r"^name= is blank"),
    ],
)
def test_run_sweep_names_its_own_arguments(tmp_path, kwargs, error, match):
    """The Python API's errors named only the command line's flags ("--workers must be a
    positive integer, got 0"); scheduler=8786 raised an AttributeError."""
    if "://" in str(kwargs.get("scheduler")):
        pytest.importorskip("distributed")  # else "needs Dask" (tests/test_dask.py)
    with pytest.raises(error, match=match):
        vl.run_sweep(GRID, tmp_path / "run", progress=False, **kwargs)
    assert not (tmp_path / "run").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(vl.VanishlabError, match=r"^workers=: must be at least 1"):
        vl.run_sweep(GRID, tmp_path / "a", workers=0, progress=False)
    with pytest.raises(vl.VanishlabError, match="exclude each other"):
        vl.run_sweep(GRID, tmp_path / "a", workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(vl.VanishlabError, match="no SMOKE"):
        vl.run_sweep(GRID, tmp_path / "a", smoke=True)
    with pytest.raises(vl.VanishlabError, match="no experiment named 'nope'"):
        vl.run_sweep("nope", tmp_path / "a")
    assert not (tmp_path / "a").exists()


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_workers_are_bit_identical_to_one(tmp_path):
    grid = GRID.replace(hidden_size=(12,), num_layers=(1, 2), seq_len=(15,))
    one = vl.run_sweep(grid, tmp_path / "one", workers=1, progress=False)
    two = vl.run_sweep(grid, tmp_path / "two", workers=2, progress=False)
    assert one.n_run == two.n_run == 16
    pd.testing.assert_frame_equal(
        vl.load_results(tmp_path / "one"), vl.load_results(tmp_path / "two"), check_exact=True
    )


def test_plan_reads_without_writing(tmp_path):
    plan = plan_sweep(GRID, tmp_path / "new")
    assert len(plan.cells) == 8 and not plan.done and not plan.is_run_dir
    assert not (tmp_path / "new").exists()


# --- experiments ---------------------------------------------------------------------------

OWN_TESTS = {"gated": "test_gated_sweep.py", "trainability": "test_trainability.py"}
"""Bundled experiments whose smoke runs are tested in their own files (larger smoke grids)."""

EXPERIMENTS = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[1] / "experiments").glob("*.py")
    if not p.name.startswith(("_", ".")) and p.stem not in OWN_TESTS
)
"""Every other module of experiments/: a new one's SMOKE is run by the tests, as README says."""


_REGISTERING = """\"\"\"Registers its own init.\"\"\"
import vanishlab as vl


def _apply(rnn, gain, gen):
    vl.INITS["normal"].apply(rnn, gain, gen)


vl.register_init(vl.Init("reloaded_test", "DESCRIPTION", _apply))
SWEEP = vl.Sweep(init="reloaded_test", hidden_size=4, input_size=2, seq_len=3, batch=1)
"""


def test_an_experiment_that_registers_an_init_loads_twice_in_one_process(tmp_path):
    """Loading it a second time (a notebook's cell run again, after an edit or not) failed:
    "init 'reloaded_test' is already registered", from the module's own earlier run. Another
    module's init of the same name is still refused."""
    path = tmp_path / "mine.py"
    other = tmp_path / "other.py"
    other.write_text(_REGISTERING.replace("DESCRIPTION", "other"))
    try:
        path.write_text(_REGISTERING.replace("DESCRIPTION", "first"))
        load_experiment(path)
        path.write_text(_REGISTERING.replace("DESCRIPTION", "edited"))
        assert load_experiment(path).sweep.init == ("reloaded_test",)
        assert vl.INITS["reloaded_test"].description == "edited"
        with pytest.raises(vl.VanishlabError, match="'reloaded_test' is already registered"):
            load_experiment(other)
        assert vl.INITS["reloaded_test"].description == "edited"
    finally:
        vl.INITS.pop("reloaded_test", None)


def test_the_bundled_experiments_exist():
    names = {name for name, _, _ in list_experiments()}
    bundled = {"seq_len", "activation_init", "depth", "gain_phase", "meanfield", *OWN_TESTS}
    assert bundled <= names and set(EXPERIMENTS) <= names


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_smoke_runs_end_to_end(tmp_path, name):
    exp = load_experiment(name)
    assert exp.description and exp.description == exp.description.strip()
    assert exp.smoke is not None and exp.smoke.size <= 20 < exp.sweep.size
    assert max(exp.smoke.hidden_size) <= 8 and max(exp.smoke.seq_len) <= 20
    assert load_experiment(name) == exp  # declarative: loading twice gives the same thing
    summary = vl.run_sweep(name, tmp_path / name, smoke=True, workers=1, progress=False)
    assert summary.n_run == exp.smoke.size and summary.n_failed == 0
    manifest = vl.load_manifest(tmp_path / name)
    assert manifest["experiment"] == name and manifest["name"] == f"{name}-smoke"
    # The smoke grid is described as itself, not as the study.
    assert manifest["description"].startswith("Smoke variant: ")
    assert f"other axes as in experiment {name}" in manifest["description"]
    assert manifest["sections"] == list(exp.sections)
    assert manifest["command"].startswith(f"vanishlab sweep {name} --model rnn --activation")
    assert len(vl.load_results(tmp_path / name)) > 0
    from vanishlab.report import section_keys

    assert set(exp.sections) <= set(section_keys()), "SECTIONS names an unknown report section"


# --- crash safety --------------------------------------------------------------------------

KILL_GRID = Sweep(
    activation=("tanh", "relu"),
    init=("default", "orthogonal", "normal"),
    gain=(0.5, 1.0, 2.0),
    seed=(0, 1, 2),
    hidden_size=12,
    input_size=3,
    seq_len=25,
    batch=3,
)  # 54 small cells


def _start_cli(grid: Sweep, out: Path, workers: int) -> subprocess.Popen:
    # The command the manifest records, run as a user would: it must reproduce the grid.
    command = reproducing_command(Experiment(name="kill", description="", sweep=grid), out, "kill")
    args = shlex.split(command)[2:]
    code = "from vanishlab.cli import app; app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "sweep", *args, "--workers", str(workers), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = stat_fields(stat)
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_when(proc: subprocess.Popen, out: Path, min_shards: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while len(list((out / "cells").glob("*.parquet"))) < min_shards:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the sweep never started writing shards"
        time.sleep(0.01)
    family = _descendants(proc.pid) if Path("/proc").is_dir() else set()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in family):  # orphaned workers notice and exit
        assert time.monotonic() < deadline, "worker processes outlived the killed sweep"
        time.sleep(0.05)
    return len(list((out / "cells").glob("*.parquet")))


def _check_same_as_uninterrupted(out: Path, reference: pd.DataFrame) -> None:
    results = vl.load_results(out)
    assert not results.duplicated(["cell_id", "source", "layer", "lag"]).any()
    pd.testing.assert_frame_equal(results, reference, check_exact=True)
    assert not [p for p in (out / "cells").iterdir() if p.name.endswith(".tmp")]
    assert vl.load_manifest(out)["finished"] is not None


@pytest.fixture(scope="module")
def kill_reference(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("reference") / "run"
    vl.run_sweep(KILL_GRID, out, workers=1, progress=False)
    return vl.load_results(out)


@pytest.mark.slow  # 11 s; the fast tier keeps a Ctrl-C stop and its resume
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path, kill_reference):
    out = tmp_path / "run"
    proc = _start_cli(KILL_GRID, out, workers=2)
    n_before = _kill_when(proc, out, min_shards=3)
    assert n_before < KILL_GRID.size, "the sweep finished before it could be killed"
    summary = vl.run_sweep(KILL_GRID, out, workers=1, progress=False)  # the lock was freed
    assert summary.n_skipped == n_before and summary.n_run == KILL_GRID.size - n_before
    _check_same_as_uninterrupted(out, kill_reference)


def _ignores_sigint(pid: int, masks: tuple[str, ...] = ("SigIgn:",)) -> bool:
    """Whether ``pid`` ignores SIGINT (or, with ``masks`` ("SigIgn:", "SigBlk:"), ignores or
    blocks it: never sees it)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return any(
        int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1
        for line in status.splitlines()
        if line.startswith(masks)
    )


_HOLD_PRELOAD = """
import os, time
while not os.path.exists(os.environ["VANISHLAB_TEST_RELEASE"]):  # the test has looked
    time.sleep(0.01)
"""


@pytest.mark.slow  # make test's time: Ctrl-C mid-sweep is test_a_stop_at_any_instant's (slow too)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_forkserver_ignores_ctrl_c_from_its_first_instant(tmp_path):
    # It used to ignore Ctrl-C only after importing its preload (torch: seconds): a Ctrl-C in a
    # sweep's first seconds printed the forkserver's KeyboardInterrupt traceback. Read while
    # the preload is still being imported (CPython's forkserver ignores Ctrl-C after it): held
    # there by a first preload module until the test has looked. (It was read as soon as the
    # parent had started it, and "some helper had not loaded torch yet" held of the resource
    # tracker, which never loads it: a forkserver read after its preload passed the old code.)
    (tmp_path / "vl_hold_preload_test.py").write_text(_HOLD_PRELOAD)
    release = tmp_path / "release"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "VANISHLAB_TEST_RELEASE": str(release)}
    code = (
        "import os, signal, sys, time\n"
        "from multiprocessing import forkserver\n"
        "from vanishlab.sweep.executors import _mp_context, _start_forkserver\n"
        "_mp_context()\n"  # the preload to import (vanishlab.sweep.executors, with torch)
        "forkserver.set_forkserver_preload(['vl_hold_preload_test', *forkserver._forkserver"
        "._preload_modules])\n"
        "_start_forkserver()\n"
        "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler\n"
        "print(os.getpid(), flush=True)\n"
        "sys.stdin.read()\n"  # stay alive (with the forkserver) until the test is done
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    try:
        pid = int(proc.stdout.readline())
        helpers = _descendants(pid)  # the forkserver and the resource tracker
        server = [p for p in helpers if b"forkserver" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(server) == 1 and "torch" not in Path(f"/proc/{server[0]}/maps").read_text()
        never = ("SigIgn:", "SigBlk:")  # blocked from its first instant, ignored after
        assert helpers and all(_ignores_sigint(p, never) for p in helpers if _alive(p))
        assert not _ignores_sigint(pid, never)  # the parent's own Ctrl-C is untouched
    finally:
        release.touch()
        proc.communicate("", timeout=60)
    assert proc.returncode == 0


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_a_ctrl_c_while_the_forkserver_starts_stops_the_sweep(monkeypatch):
    """SIGINT was ignored while the forkserver and its resource tracker were spawned: a Ctrl-C
    then (tens of ms on a loaded machine) was lost, and the sweep ran on to its end with
    status 0 (helper 144: 2 of ~15 Ctrl-C sent in a --workers 2 sweep's first seconds). Now
    it stops the sweep (blocked in this thread, it waits until they are spawned)."""
    from multiprocessing import forkserver

    from vanishlab.sweep import executors

    def ctrl_c_meanwhile() -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(forkserver, "ensure_running", ctrl_c_meanwhile)
    with pytest.raises(KeyboardInterrupt):
        executors._start_forkserver()
        for _ in range(1000):  # where a delivered Ctrl-C is raised
            pass


def _pythons_start_up(err: str) -> bool:
    """Whether ``err`` is Python's own report of a stop in its start-up, as docs/cli.md says:
    a traceback (or site's "Fatal Python error") none of whose frames is in the package but for
    its ``__init__`` importing its version, which runpy imports before vanishlab.__main__'s
    first statement. (Its frames counted as the command's: a Ctrl-C there failed
    test_a_stop_at_any_instant_is_one_line_and_its_status, 1 run in 150 on a loaded machine.)"""
    if not err.startswith(("Traceback", "Fatal Python error")):
        return False
    package = Path(vl.__file__).parent
    files = {Path(f) for f in re.findall(r'^ +File "(.+)", line \d+', err, flags=re.MULTILINE)}
    ours = {f for f in files if f.is_relative_to(package)}
    return ours <= {package / "__init__.py", package / "_version.py"}


_CTRL_C_AT_AN_IMPORT = """
import os, signal, sys

class CtrlC:  # a Ctrl-C as the module named in the environment is looked for
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == os.environ["CTRL_C_AT"]:
            sys.meta_path.remove(CtrlC)
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # where a delivered Ctrl-C is raised
                pass
        return None

sys.meta_path.insert(0, CtrlC)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to itself")
@pytest.mark.parametrize(
    ("module", "pythons"),
    [("vanishlab", True), ("vanishlab._version", True), ("vanishlab.cli.sweep", False)],
)
def test_a_ctrl_c_while_runpy_imports_the_package_is_pythons_start_up(tmp_path, module, pythons):
    """`python -m vanishlab` stopped by Ctrl-C as the package, then its version, then (in
    main) the command line is imported: the first two are Python's start-up, whose traceback
    the stop test skips. The version's has a frame of the package's ``__init__``: it was taken
    for the command's, and failed that test now and then (the signal came while runpy
    imported the package)."""
    (tmp_path / "sitecustomize.py").write_text(_CTRL_C_AT_AN_IMPORT)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "CTRL_C_AT": module}
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", "--version"],
        capture_output=True, text=True, timeout=60, env=env, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert done.returncode == -signal.SIGINT, done.stderr
    assert _pythons_start_up(done.stderr) is pythons, done.stderr
    assert pythons or done.stderr == "interrupted\n"


def test_a_traceback_through_the_command_s_own_modules_is_not_pythons_start_up():
    package = Path(vl.__file__).parent
    err = "".join(
        f'  File "{where}", line 1, in <module>\n'
        for where in ("<frozen runpy>", package / "__main__.py", package / "__init__.py")
    )
    assert not _pythons_start_up("Traceback (most recent call last):\n" + err)
    assert not _pythons_start_up("interrupted\n")


_STOPS = [  # (signal, seconds after the start, to the whole process group?)
    pytest.param("SIGINT", 0.05, True, marks=pytest.mark.slow),  # to the whole group
    pytest.param("SIGINT", 0.3, True, marks=pytest.mark.slow),
    pytest.param("SIGINT", 1.2, True, marks=pytest.mark.slow),
    pytest.param("SIGINT", 2.2, True, marks=pytest.mark.slow),  # make test's 5-minute budget
    pytest.param("SIGTERM", 1.2, False, marks=pytest.mark.slow),  # kill PID
    pytest.param("SIGTERM", 2.5, True, marks=pytest.mark.slow),  # a batch system's stop
    # a closed terminal's, to the whole group: "hung up", status 129, no process left
    pytest.param("SIGHUP", 2.5, True, marks=pytest.mark.slow),
]


@pytest.mark.skipif(sys.platform == "win32", reason="process groups")
@pytest.mark.parametrize(("name", "after", "group"), _STOPS)
def test_a_stop_at_any_instant_is_one_line_and_its_status(tmp_path, name, after, group):
    # At 1.2 and 2.2 s the forkserver was importing torch: its traceback (or a worker's,
    # failing to unpickle the semaphores of a pool whose parent had gone) followed the sweep's
    # line. At 0.05 s typer was building its commands. SIGTERM killed the sweep at once, and
    # multiprocessing's resource tracker printed warnings about leaked semaphores.
    sig = getattr(signal, name)
    command = reproducing_command(
        Experiment(name="kill", description="", sweep=KILL_GRID), tmp_path, "k"
    )
    args = shlex.split(command)[2:]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vanishlab", "sweep", *args, "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=stops_at_their_defaults,
    )
    time.sleep(after)
    family = _descendants(proc.pid) if Path("/proc").is_dir() else set()
    if group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # or Python ignored it in its own start-up (an import's weakref
        # callback, "Exception ignored"); in the command line's loading it is sent again now
        # (test_a_stop_python_ignores_in_a_finalizer_while_the_command_line_loads_stops_it)
        pytest.skip("the sweep finished before the signal, or Python's start-up ignored it")
    if _pythons_start_up(err):  # a loaded machine takes 50 ms to get past it
        pytest.skip("the signal came in Python's own start-up, before the command's code")
    # 128 + sig, or ended by the signal itself (which a shell shows as the same status): a
    # Ctrl-C in the CLI's first tenth of a second, as typer parses, ends so now and then
    # after its line, on a loaded machine.
    assert proc.returncode in (128 + sig, -sig), err
    word = stop_word(sig)
    assert len(err.splitlines()) == 1 and err.startswith(word), err
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in family):
        assert time.monotonic() < deadline, "a process outlived the stopped sweep"
        time.sleep(0.05)
    assert not list(tmp_path.rglob("*.tmp"))
    summary = vl.run_sweep(KILL_GRID, tmp_path, workers=1, progress=False)  # it resumes
    assert summary.n_cells == KILL_GRID.size


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_repeated_sigkill_at_random_instants(tmp_path):
    grid = KILL_GRID.replace(seed=range(6))  # 108 cells
    vl.run_sweep(grid, tmp_path / "reference", workers=1, progress=False)
    reference = vl.load_results(tmp_path / "reference")
    out = tmp_path / "run"
    rng = random.Random(20240601)
    kills = 0
    for attempt in range(40):
        proc = _start_cli(grid, out, workers=1 + attempt % 2)
        time.sleep(rng.uniform(0.2, 3.0))  # anywhere: start-up, manifest, mid-shard, the end
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        proc.stderr.close()
        if finished:
            break
    assert kills >= 3
    summary = vl.run_sweep(grid, out, workers=1, progress=False)
    assert summary.n_cells == grid.size
    _check_same_as_uninterrupted(out, reference)


@pytest.mark.slow
def test_quick_default_grid_runs_end_to_end(tmp_path):
    # What `vanishlab sweep` runs with no argument: every cell measures. (Its speed is measured
    # as ratios by benchmarks/bench_sweep.py; a test asserts no wall-clock time.)
    summary = vl.run_sweep(QUICK_SWEEP, tmp_path / "default", progress=False)
    assert summary.n_run == QUICK_SWEEP.size == 96
    cells = vl.load_cells(tmp_path / "default")
    assert len(cells) == 96 and (cells["status"] == "ok").all()


def test_run_cell_takes_a_cell_config_only():
    """A dict failed with "'dict' object has no attribute 'cell_id'"."""
    with pytest.raises(TypeError, match=r"config must be a vanishlab.CellConfig"):
        vl.run_cell({"activation": "tanh"})


def test_workers_from_a_program_read_from_stdin_are_refused_before_anything_is_written(
    tmp_path, monkeypatch
):
    """`python - < script.py` with workers: every worker died re-running the main file
    "<stdin>", after the run directory was made, and the message blamed memory."""
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "<stdin>", raising=False)
    grid = vl.Sweep(hidden_size=4, seq_len=5, seed=(0, 1))
    with pytest.raises(vl.VanishlabError, match="cannot start from a program read from <stdin>"):
        vl.run_sweep(grid, out=tmp_path / "run", workers=2, progress=False)
    assert not (tmp_path / "run").exists()
    assert vl.run_sweep(grid, out=tmp_path / "run", workers=1, progress=False).n_failed == 0


def test_workers_from_a_script_without_a_main_guard_are_refused_before_anything_is_written(
    tmp_path, monkeypatch
):
    """The README's `vl.run_sweep(vl.Sweep(...), "runs/x")` at a script's top level: every
    worker re-ran the script, whose sweep then found the run directory locked, and the sweep
    stopped with "a worker process died (out of memory?)" after making the directory."""
    out = tmp_path / "run"
    script = tmp_path / "study.py"
    script.write_text(
        "import vanishlab as vl\n"
        "from vanishlab.sweep.preflight import check_main_file\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    check_main_file()  # guarded: no complaint\n"
        "grid = vl.Sweep(hidden_size=4, seq_len=5, seed=(0, 1))\n"
        "vl.run_sweep(grid, out=OUT, workers=2, progress=False)\n"
    )
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(script), raising=False)
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)  # `python study.py`'s
    code = compile(script.read_text(), str(script), "exec")
    with pytest.raises(vl.VanishlabError, match=r"study.py, whose line 7 starts this sweep"):
        exec(code, {"__name__": "__main__", "OUT": out})
    assert not out.exists()


@pytest.mark.parametrize(
    ("body", "line"),
    [
        # a one-line guard: the call shares the if's line
        ("if __name__ == '__main__': check_main_file()\n", None),
        # the call inside a function that the guard calls (its frame's line is no top level)
        ("def main():\n    check_main_file()\n\nif __name__ == '__main__':\n    main()\n", None),
        # an if that is no guard, though a name is in its test and __name__ in its body
        ("FULL = True\nif FULL:\n    print(__name__)\n    check_main_file()\n", 5),
        # true in a worker too, whose main file runs as __mp_main__: no guard (was taken)
        ("if __name__ in ('__main__', '__mp_main__'):\n    check_main_file()\n", 3),
        ("if __name__ == '__main__' or __name__ == '__mp_main__':\n    check_main_file()\n", 3),
        # an else: a worker takes it as the parent does (was taken for guarded)
        ("if __name__ == 'tool':\n    pass\nelse:\n    check_main_file()\n", 5),
        ("if __name__ == 'a':\n    pass\nelif __name__ != 'b':\n    check_main_file()\n", 5),
        # guards: the parent takes the branch, a worker does not
        ("if __name__ in ('__main__',):\n    check_main_file()\n", None),
        ("if __name__ == '__mp_main__':\n    pass\nelse:\n    check_main_file()\n", None),
        ("if not __name__ != '__main__' and True:\n    check_main_file()\n", None),
        # a test that cannot be told from its text: taken for a guard, as before
        ("if __name__.startswith('__ma'):\n    check_main_file()\n", None),
    ],
    ids=[
        "one-line guard",
        "guarded main()",
        "if FULL",
        "in main or mp_main",
        "or mp_main",
        "else",
        "elif",
        "in a tuple",
        "else of mp_main",
        "not and",
        "unknown test",
    ],
)
def test_the_main_guard_is_an_if_whose_test_reads_name(tmp_path, monkeypatch, body, line):
    """Which top-level line starts the sweep, and whether it lies under `if __name__ ...`:
    a one-line guard and a guarded main() are guarded; `if FULL:` is not, whatever its body,
    nor a branch of an `if __name__` test that a worker (`__name__ == "__mp_main__"`) takes
    too: an `else:` of a test false in both, a test true in both."""
    script = tmp_path / "study.py"
    script.write_text("from vanishlab.sweep.preflight import check_main_file\n" + body)
    monkeypatch.setattr(sys.modules["__main__"], "__file__", str(script), raising=False)
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)
    code = compile(script.read_text(), str(script), "exec")
    if line is None:
        exec(code, {"__name__": "__main__"})
    else:
        with pytest.raises(vl.VanishlabError, match=rf"study.py, whose line {line} starts this"):
            exec(code, {"__name__": "__main__"})


@pytest.mark.parametrize(("module", "refused"), [("pkg.__main__", False), ("pkg.study", True)])
def test_a_packages_main_file_may_start_a_sweep_from_its_top_level(
    tmp_path, monkeypatch, module, refused
):
    """`python -m pkg` (or `python folder`) with a sweep at the top level of pkg/__main__.py,
    as such files are written: multiprocessing does not re-run a __main__.py in the workers,
    so the sweep ran once and finished, but was refused as an unguarded script. A package's
    other module run with -m is re-run, and still refused."""
    script = tmp_path / "pkg" / (module.rsplit(".", 1)[1] + ".py")
    script.parent.mkdir()
    script.write_text("from vanishlab.sweep.preflight import check_main_file\ncheck_main_file()\n")
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", str(script), raising=False)
    monkeypatch.setattr(main, "__spec__", importlib.machinery.ModuleSpec(module, None))
    code = compile(script.read_text(), str(script), "exec")
    if refused:
        with pytest.raises(vl.VanishlabError, match=r"study.py, whose line 2 starts this sweep"):
            exec(code, {"__name__": "__main__"})
    else:
        exec(code, {"__name__": "__main__"})


def test_an_experiment_is_listed_with_the_docstring_python_reads(tmp_path, monkeypatch):
    """A module that starts with a UTF-8 byte-order mark (Windows editors write one), or
    declares another encoding, runs, but was listed as "(broken: SyntaxError)": its text was
    parsed as read in UTF-8, the mark included."""
    folder = tmp_path / "experiments"
    folder.mkdir()
    body = "import vanishlab as vl\nSWEEP = vl.Sweep(hidden_size=4, seq_len=3)\n"
    (folder / "marked.py").write_bytes(b'\xef\xbb\xbf"""Marked."""\n' + body.encode())
    latin = '# -*- coding: latin-1 -*-\n"""Caf\xe9."""\n' + body
    (folder / "latin.py").write_bytes(latin.encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    listed = {name: description for name, description, _ in list_experiments()}
    assert listed["marked"] == load_experiment("marked").description == "Marked."
    assert listed["latin"] == load_experiment("latin").description == "Caf\xe9."


def test_only_experiments_a_name_finds_are_listed_by_name(tmp_path, monkeypatch):
    """``my-exp.py`` was listed by ``vanishlab experiments`` (and offered as "available") as a
    name, which the sweep then refused as "not an experiment name"; it runs by its path."""
    folder = tmp_path / "experiments"
    folder.mkdir()
    for stem in ("my-exp", "my exp", "mine"):
        (folder / f"{stem}.py").write_text(
            '"""One."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n'
        )
    monkeypatch.chdir(tmp_path)
    listed = [name for name, _, _ in list_experiments()]
    assert "mine" in listed and "my-exp" not in listed and "my exp" not in listed
    for name in listed:
        load_experiment(name)  # each one listed is found by its name
    with pytest.raises(vl.VanishlabError, match="no experiment named 'nope'") as err:
        load_experiment("nope")
    assert "mine" in str(err.value) and "my-exp" not in str(err.value)
    assert load_experiment(folder / "my-exp.py").description == "One."


@pytest.mark.parametrize("ref", [None, 3, b"seq_len"])
def test_load_experiment_names_a_ref_that_is_no_name_or_path(ref) -> None:
    """None failed in os.fspath's words ("expected str, bytes or os.PathLike object, not
    NoneType"), naming no argument."""
    with pytest.raises(TypeError, match=r"^ref must be an experiment's name or path"):
        vl.load_experiment(ref)


def test_sections_may_be_a_list_or_a_tuple_and_the_error_says_so(tmp_path) -> None:
    """A tuple of names was accepted, but the docstring and both errors said "a list"."""
    head = '"""Sections."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n'
    (tmp_path / "listed.py").write_text(f'{head}SECTIONS = ["rates", "decay"]\n')
    (tmp_path / "tupled.py").write_text(f'{head}SECTIONS = ("rates", "decay")\n')
    for name in ("listed.py", "tupled.py"):
        assert load_experiment(tmp_path / name).sections == ("rates", "decay")
    (tmp_path / "bad.py").write_text(f'{head}SECTIONS = "decay"\n')  # read letter by letter
    said = "SECTIONS must be a list or tuple of section names"
    with pytest.raises(vl.VanishlabError, match=said):
        load_experiment(tmp_path / "bad.py")
    with pytest.raises(vl.VanishlabError, match=said):
        Experiment(name="x", description="", sweep=Sweep(), sections="decay")
    assert "list or tuple" in " ".join(load_experiment.__doc__.split())


def test_more_workers_than_cores_are_noted(tmp_path, monkeypatch, capsys):
    """`sweep --workers 64` on 2 cores started 64 processes without a word (96 small cells took
    115.5 s, against 41.5 s for make demo's 96 at the default): a note says the workers share
    the cores. Not for as many workers as cores, nor under progress=False (--quiet).

    The note is said before any worker starts, so the workers' cells run here: the two pools
    cost this test 5.5 s of its 13.5 s alone (pytest's start included; 3 s of CPU) on 2 loaded
    cores, and are not what it checks (real pools: test_cli_sweep's
    test_an_init_registered_in_an_experiment_file_runs_in_worker_processes, test_worker_start)."""
    import vanishlab.sweep.capacity as capacity
    from vanishlab.sweep import executors, runner

    monkeypatch.setattr(capacity, "cores", lambda: 1)  # the run's count of workers
    pools: list[int] = []

    def pool(tasks, workers, on_result):
        pools.append(workers)
        executors.run_here(tasks, on_result)

    monkeypatch.setattr(runner, "run_processes", pool)
    grid = GRID.replace(hidden_size=(4,), seq_len=(5,), num_layers=(1,), activation=("tanh",))
    vl.run_sweep(grid, tmp_path / "two", workers=2, progress=True)
    err = capsys.readouterr().err
    assert (
        "note: workers=2 is more than the 1 core this process may use: the "
        "workers take turns on them" in err
    )
    vl.run_sweep(grid, tmp_path / "one", workers=1, progress=True)
    vl.run_sweep(grid, tmp_path / "quiet", workers=2, progress=False)
    assert "more than the" not in capsys.readouterr().err
    assert pools == [2, 2]  # both runs of workers=2 ran two workers (the one of 1: here)
