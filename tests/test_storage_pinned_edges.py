"""Promises of the storage layer's edges, pinned where a mutation review (h314) found that no
test could fail: atomic writes (durable, named by the file asked for, no temp left), moving a
damaged shard aside, the run's lock, the stale temp files a sweep removes, the manifest's
checks, a report's run identity, a checkpoint's digest and zip checks, and two summary-row
rules. Each expected value is derived here, not read back from the constant under test."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import math
import os
import zipfile
from pathlib import Path

import pytest
from _tiny_run import TINY, tiny_run_dir

import vanishlab as vl
from vanishlab.sweep import cell_summary, lock, store
from vanishlab.sweep.files import atomic_write, move_aside
from vanishlab.sweep.manifest import read_seconds
from vanishlab.sweep.plan import json_axes
from vanishlab.sweep.report_identity import run_identity
from vanishlab.sweep.rundir import remove_stale_temps
from vanishlab.trained.archive import cut_short, sha256_file

_run_dir = tiny_run_dir


def test_a_write_refused_at_its_rename_names_the_file_and_leaves_no_temp(tmp_path):
    """A write whose last step fails (here the target is a folder, so the rename of the temp
    file onto it is refused) says the file the user asked for, alone, never the hidden temp
    file beside it, and leaves that temp file removed: the folder holds the target alone."""
    target = tmp_path / "summary.parquet"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as err:
        atomic_write(target, lambda f: f.write(b"rows"))
    assert err.value.filename == str(target) and err.value.filename2 is None
    assert str(err.value) == f"[Errno {errno.EISDIR}] {os.strerror(errno.EISDIR)}: '{target}'"
    assert list(tmp_path.iterdir()) == [target]


def test_a_shard_that_cannot_be_moved_aside_for_another_reason_stays_where_it_is(
    tmp_path, monkeypatch
):
    """Only a move across file systems (EXDEV) is done by copying: a rename into corrupt/
    refused otherwise (here EIO) is raised as it is, the shard left in cells/ with its bytes
    and no copy made, never copied and removed regardless."""
    run, path = _run_dir(tmp_path)
    data = path.read_bytes()
    replace = os.replace

    def refused(src, dst, **kw):
        if Path(src) == path:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(src), None, str(dst))
        return replace(src, dst, **kw)

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OSError) as err:
        move_aside(run, path)
    assert err.value.errno == errno.EIO
    assert path.read_bytes() == data
    assert list((run / "corrupt").iterdir()) == []


def test_a_lock_file_replaced_between_its_open_and_its_lock_is_opened_again(tmp_path, monkeypatch):
    """Where no folder lock is taken (NFS), ``.lock`` alone keeps a second writer out: a
    ``.lock`` that its holder removed (``discard``) after this writer opened it and before it
    locked it, and that a third writer then made afresh, is a file no other writer will ever
    see. The writer opens ``.lock`` again and holds the file its path names, not the removed
    one."""
    run = tmp_path / "run"
    run.mkdir()
    lock_file = run / lock.LOCK
    real_lock = lock._lock
    removed: list[int] = []

    def holder_discards_first(f):
        if not removed:  # the first file opened is removed before it is locked
            removed.append(os.fstat(f.fileno()).st_ino)
            lock_file.unlink()
            lock_file.write_bytes(b"")  # made afresh by the next writer
        real_lock(f)

    monkeypatch.setattr(lock, "_lock", holder_discards_first)
    monkeypatch.setattr(lock, "_lock_folder", lambda folder: None)  # as on NFS
    with lock.RunLock(run) as held:
        held_file = os.fstat(held._file.fileno())
        assert lock_file.is_file() and os.stat(lock_file).st_ino == held_file.st_ino
        assert lock_file.read_bytes() == str(os.getpid()).encode("ascii")
    assert len(removed) == 1


def test_a_released_lock_file_names_no_holder(tmp_path):
    """``.lock`` holds its holder's pid while held, and nothing once released: a user (or the
    next refusal, read before a new holder writes its own pid) is never told of a process
    that finished."""
    with lock.RunLock(tmp_path) as held:
        assert (tmp_path / lock.LOCK).read_bytes() == str(os.getpid()).encode("ascii")
        assert held.made
    assert (tmp_path / lock.LOCK).read_bytes() == b""


def test_an_empty_run_id_is_no_identity():
    """A manifest whose ``run_id`` is empty (edited, or written by another tool) is told apart
    by its name and start time, as a run written before ids existed, so that two such runs'
    reports are not taken for one run's."""
    first = {"run_id": "", "name": "a", "started": "2026-12-01 10:00:00"}
    second = {"run_id": "", "name": "b", "started": "2026-12-02 11:00:00"}
    assert run_identity(first) == "a@2026-12-01_10:00:00"
    assert run_identity(second) == "b@2026-12-02_11:00:00"


def test_a_live_readers_summary_temp_file_is_not_removed_by_a_sweep(tmp_path):
    """The summary's cache is written by readers that do not hold the run's lock (a report
    while a sweep runs): a sweep's clean-up removes such a temp file only when no process
    holds it (its writer died), never one that a live reader is writing."""
    run, _ = _run_dir(tmp_path)
    live = run / ".summary.parquet.0123abcd.tmp"
    dead = run / ".summary.parquet.89abcdef.tmp"
    live.write_bytes(b"half")
    dead.write_bytes(b"half")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as atomic_write holds it
        remove_stale_temps(run)
        assert live.read_bytes() == b"half"
    assert not dead.exists()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, -0.5, -1e-9, -1])
def test_a_time_that_is_no_time_is_read_as_none(value):
    """A recorded time (a run's or a shard's ``elapsed_s``, a monitored step's) is a finite
    number of seconds >= 0: inf, NaN or a time below 0 is none, never shown as "inf s" or
    "-0.5 s"."""
    assert read_seconds(value) is None


def test_a_time_of_zero_or_more_seconds_is_read_as_a_float():
    assert read_seconds(0) == 0.0 and read_seconds(1.5) == 1.5 and read_seconds(2) == 2.0
    assert isinstance(read_seconds(2), float)


@pytest.mark.parametrize(("rate", "flags"), [(0.0, []), (-0.01, []), (-1.0, ["poor-fit"])])
def test_a_flat_curve_is_not_flagged_a_poor_fit(rate, flags):
    """A curve about as flat as a line can be (a rate of 0 or -0.01 per step) has a small r2
    however straight it is: only a curve that falls or rises (-1 per step) with r2 = 0.5 is
    flagged a poor fit."""
    fit = {"rate": rate, "r2": 0.5, "lag_start": 1, "lag_end": 10, "horizon": None}
    fit |= {"phase": "critical", "note": ""}
    row: dict = {}
    found: list[str] = []
    cell_summary._set_fit(row, fit, None, found, [])
    assert found == flags


def test_a_manifest_with_a_negative_cell_count_is_refused(tmp_path):
    """A manifest's ``n_cells`` is a count: -1 (a hand edit) is refused in one line, not read
    as a run of -1 planned cells."""
    run, _ = _run_dir(tmp_path)
    manifest = json.loads((run / store.MANIFEST).read_text())
    (run / store.MANIFEST).write_text(json.dumps({**manifest, "n_cells": -1}))
    with pytest.raises(vl.VanishlabError, match=r"'n_cells' must be a count \(an integer >= 0\)"):
        store.load_manifest(run)


def test_a_sweeps_run_reopened_by_a_monitor_is_named_as_a_sweeps(tmp_path):
    """A training monitor given a sweep's run directory refuses it as what it is (a sweep's
    run, not a monitor's), not as a monitor of "another module"; the run is left as it was."""
    import torch
    from torch import nn

    run, path = _run_dir(tmp_path)
    before = path.read_bytes(), (run / store.MANIFEST).read_bytes()
    monitor = vl.JacobianMonitor(nn.RNN(2, 4), torch.zeros(3, 1, 2), out=run)
    with pytest.raises(vl.VanishlabError, match="not a training monitor's run") as err:
        monitor.__enter__()
    assert "another module" not in str(err.value)
    assert (path.read_bytes(), (run / store.MANIFEST).read_bytes()) == before


def test_opposite_infinite_rates_differ_by_an_infinity_not_a_blank():
    """Measured and predicted both -inf (exact zeros) agree and their difference is blank
    (NaN); a measured -inf beside a predicted +inf is an infinite disagreement, -inf."""
    row = {"rate": -math.inf, "predicted_rate": math.inf, "rate_layer0": -math.inf}
    row |= {"predicted_rate_layer0": -math.inf, "lyapunov": -math.inf}
    cell_summary._set_differences(row, [])
    assert row["delta_rate"] == -math.inf
    assert math.isnan(row["delta_rate_layer0"]) and math.isnan(row["delta_lyapunov"])


def test_the_blank_difference_note_says_which_infinity_and_only_where_one_is_blank():
    """The note "both −∞: their difference is left blank" was added wherever a measured and a
    predicted value were both infinite, of opposite signs too (no blank: an infinite
    difference), and not where the layer-0 rate's difference alone was blanked."""
    opposite = {"rate": -math.inf, "predicted_rate": math.inf, "rate_layer0": -0.5}
    opposite |= {"predicted_rate_layer0": -0.4, "lyapunov": -0.5}
    notes: list[str] = []
    cell_summary._set_differences(opposite, notes)
    assert notes == []
    layer0 = {"rate": -0.3, "predicted_rate": -0.2, "rate_layer0": -math.inf}
    layer0 |= {"predicted_rate_layer0": -math.inf, "lyapunov": -0.5}
    cell_summary._set_differences(layer0, notes)
    assert notes == ["Measured and predicted are both −∞: their difference is left blank."]
    rising = {"rate": math.inf, "predicted_rate": math.inf, "rate_layer0": 0.1}
    rising |= {"predicted_rate_layer0": 0.1, "lyapunov": 0.1}
    notes = []
    cell_summary._set_differences(rising, notes)
    assert notes == ["Measured and predicted are both +∞: their difference is left blank."]


def test_a_files_digest_covers_its_bytes_past_the_first_mebibyte(tmp_path):
    """A checkpoint's SHA-256 (what an analysis records, and compares when it is rerun) is of
    the whole file: two 3 MiB files that differ in their last byte have other digests, each
    that of hashlib over the file's bytes."""
    data = bytes(range(256)) * (3 * 4096)
    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    first.write_bytes(data)
    second.write_bytes(data[:-1] + b"\xff")
    assert sha256_file(first) == hashlib.sha256(data).hexdigest()
    assert sha256_file(second) == hashlib.sha256(data[:-1] + b"\xff").hexdigest()


def test_a_manifest_whose_axes_are_not_its_grids_union_is_refused(tmp_path):
    """A run's ``axes`` is the union of its ``grids`` (each command's): a manifest that says
    gain 1.0 in ``axes`` but swept gain 2.0 (a hand edit) is refused in one line."""
    run, _ = _run_dir(tmp_path)
    manifest = json.loads((run / store.MANIFEST).read_text())
    assert manifest["axes"]["gain"] == [1.0]
    manifest["grids"] = [json_axes(vl.Sweep(**TINY, gain=2.0))]
    (run / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(vl.VanishlabError, match="'axes' is not the union of 'grids'"):
        store.load_manifest(run)


def test_a_monitor_recorded_every_0_steps_is_refused(tmp_path):
    """A monitor's run records how often it measured, a count of steps >= 1: a manifest that
    says every 0 steps (a hand edit) is refused in one line, not shown as "every 0 steps"."""
    import torch
    from torch import nn

    out = tmp_path / "m"
    with vl.JacobianMonitor(nn.RNN(2, 4), torch.zeros(3, 1, 2), out=out, every=2) as mon:
        mon.step(0)
    manifest = json.loads((out / store.MANIFEST).read_text())
    assert manifest["model"]["every"] == 2
    manifest["model"]["every"] = 0
    (out / store.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(vl.VanishlabError, match="'model' 'every' must be a positive integer"):
        store.load_manifest(out)


def test_a_whole_zip_archive_is_not_said_to_be_cut_short(tmp_path):
    """Only a zip archive's start without its end is "cut short": a whole archive (which
    torch.load may still refuse for another reason, told as that) is not, and the same
    archive with its last 100 bytes cut off is."""
    whole = tmp_path / "whole.pt"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00." * 50)
    assert cut_short(whole) is None
    cut = tmp_path / "cut.pt"
    cut.write_bytes(whole.read_bytes()[:-100])
    assert "cut short" in cut_short(cut)


def test_a_file_is_flushed_to_disk_before_it_takes_its_name(tmp_path, monkeypatch):
    """An atomic write makes its temp file durable (fsync) before renaming it over the target:
    a power cut after the rename never leaves a named file whose bytes never reached disk."""
    events: list[str] = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda *a, **k: (events.append("replace"), replace(*a, **k))[1]
    )
    atomic_write(tmp_path / "f.json", lambda f: f.write(b"{}"))
    assert (tmp_path / "f.json").read_bytes() == b"{}"
    assert "replace" in events and "fsync" in events[: events.index("replace")]
