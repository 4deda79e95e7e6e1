"""Mutation round on the sweep's storage layer (helper 480): store.py, shard.py, files.py,
lock.py, manifest.py, rundir.py, summary.py and run_summary.py. Each test here failed on one
hand-made mutant of that code that every storage test (store, shard, lock, manifest, temp-file
and race tests, the earlier mutant files) passed, and passes on the code as it is; its
docstring names the mutant (file, function, the change), and where an end-to-end test
elsewhere (a sweep's, a monitor's) kills it too, which: this one does it in a second."""

from __future__ import annotations

import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _tiny_run import AXES, tiny_run_dir
from test_store import _cell

from vanishlab.errors import VanishlabError
from vanishlab.sweep import files, rundir, shard, store
from vanishlab.sweep.corrupt_shard import CorruptShardError
from vanishlab.sweep.run_summary import kept_line


def test_a_shard_whose_column_has_another_type_is_refused(tmp_path):
    """Mutant: shard._same_columns compares the column names only, not their types. A shard
    whose ``lag`` is int32 (another writer's, same names, same digest: content_digest hashes
    every integer as int64) was read and cast to this version's schema without a word."""
    path = shard.write_shard(tmp_path, *_cell())
    table = pq.read_table(path)
    lag = table.schema.get_field_index("lag")
    other = table.set_column(lag, "lag", table.column("lag").cast(pa.int32()))
    pq.write_table(other.replace_schema_metadata(table.schema.metadata), path)
    with pytest.raises(CorruptShardError, match="orders or types them otherwise"):
        shard.read_shard(path, rows=True)


def test_rows_no_measurement_writes_are_refused_before_the_shard_is_written(tmp_path):
    """Mutant: write_shard drops its rows_problem check (check_frame does not look at lags).
    A frame with a lag beyond the cell's seq_len was written as a shard that every reader then
    refused as damaged; it must be refused at the write, and no file left."""
    frame, meta = _cell()
    frame.loc[frame.index[0], "lag"] = meta["config"]["seq_len"] + 5
    with pytest.raises(ValueError, match="shard rows hold lag"):
        shard.write_shard(tmp_path, frame, meta)
    assert list((tmp_path / "cells").iterdir()) == []


def _recorded_syncs(monkeypatch) -> list[tuple[str, object]]:
    """os.fsync and os.replace wrapped to record, in order, ("fsync", (device, inode, is a
    folder)) and ("replace", target); each still does its work."""
    events: list[tuple[str, object]] = []
    fsync, replace = os.fsync, os.replace

    def synced(fd):
        st = os.fstat(fd)
        events.append(("fsync", (st.st_dev, st.st_ino, stat.S_ISDIR(st.st_mode))))
        return fsync(fd)

    def replaced(src, dst, **kw):
        events.append(("replace", os.fspath(dst)))
        return replace(src, dst, **kw)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", replaced)
    return events


def test_the_folder_is_made_durable_after_the_rename(tmp_path, monkeypatch):
    """Mutant: files.atomic_write drops its fsync_dir(path.parent) after os.replace (a power
    cut could then lose the new name: a shard's cell measured again, a manifest's last
    update gone). Only a crash shows it; the order of the calls is what the promise rests on,
    and is what this pins: the file's bytes, then its name, then the folder holding it.
    (test_monitor's test_an_interrupt_after_a_steps_shard_landed_keeps_the_step_in_the_manifest
    kills it too, by an interrupt in that fsync.)"""
    events = _recorded_syncs(monkeypatch)
    target = tmp_path / "f.json"
    files.atomic_write(target, lambda f: f.write(b"{}"))
    st, folder = os.stat(target), os.stat(tmp_path)
    file_sync = ("fsync", (st.st_dev, st.st_ino, False))
    folder_sync = ("fsync", (folder.st_dev, folder.st_ino, True))
    assert file_sync in events and folder_sync in events
    rename = events.index(("replace", os.fspath(target)))
    assert events.index(file_sync) < rename < len(events) - events[::-1].index(folder_sync) - 1


def test_a_file_whose_name_only_begins_as_a_temporary_one_stays(tmp_path):
    """Mutant: files.remove_temps matches a name's start (``re.match``), not the whole name.
    A user's ``.manifest.json.tmp.bak`` beside a run's manifest, or ``.x.parquet.tmp-keep``
    in cells/, was removed by the next sweep's clean-up: vanishlab removes its own names
    only (rundir's patterns, matched in full). Mutant too: rundir._SHARD_TEMP without its
    ``.parquet``, which took any hidden ``.tmp`` in cells/ (``.notes.tmp``) for a shard's."""
    cells = tmp_path / "cells"
    cells.mkdir()
    kept = [
        tmp_path / ".manifest.json.tmp.bak",
        cells / ".x.parquet.tmp-keep",
        cells / ".notes.tmp",
    ]
    dead = [tmp_path / ".manifest.json.0123abcd.tmp", cells / ".x.parquet.tmp"]
    for path in kept + dead:
        path.write_bytes(b"x")
    rundir.remove_stale_temps(tmp_path)
    assert [p.exists() for p in kept + dead] == [True, True, True, False, False]


def test_a_dead_writers_temporary_file_in_corrupt_is_removed(tmp_path):
    """Mutant: rundir.remove_stale_temps cleans cells/ and the run directory but not corrupt/.
    A writer killed while copying a damaged shard aside across file systems (move_aside's
    EXDEV path: a temporary file in corrupt/) left it there for good. (test_sweep's
    test_a_sweep_removes_dead_writers_temp_files_only kills it too.)"""
    (tmp_path / "corrupt").mkdir()
    temp = tmp_path / "corrupt" / ".0123456789abcdef.parquet.0123abcd.tmp"
    temp.write_bytes(b"x")
    rundir.remove_stale_temps(tmp_path)
    assert not temp.exists()


def test_a_run_holding_a_shard_keeps_its_manifest(tmp_path):
    """Mutant: rundir.unmake_unmeasured removes the manifest without first looking for a
    shard. A run that holds measured cells lost its manifest (then refused as "holds measured
    cells but no manifest.json"); it must stay, and be said to stay (False). (test_monitor's
    test_a_block_left_by_an_exception_is_not_finished kills it too.)"""
    run, path = tiny_run_dir(tmp_path)
    assert rundir.unmake_unmeasured(run) is False
    assert (run / "manifest.json").is_file() and path.is_file()


def test_measured_cells_without_a_manifest_are_no_new_run(tmp_path):
    """Mutant: rundir.is_run_dir drops its look for shards in a folder without a manifest.
    cells/ was skipped as an empty first start's, so the folder counted as new: a sweep there
    took a run whose manifest was removed for an empty one and wrote beside its cells.
    (test_cli_sweep's test_a_run_whose_manifest_was_removed_is_named_so kills it too.)"""
    run, _ = tiny_run_dir(tmp_path)
    (run / "manifest.json").unlink()
    with pytest.raises(VanishlabError, match="a run whose manifest was removed"):
        rundir.is_run_dir(run)


def test_a_stray_shard_is_not_counted_as_a_missing_cell_of_the_grid(tmp_path):
    """Mutant: run_summary._every_cell_kept compares the counts of the grid's cells and of the
    shards, not their ids. A two-cell run holding one of its cells and a file named as another
    cell's shard (a copy, a stray) was said to keep "all 2 cells": its missing cell would never
    have been measured by the resume the line withheld."""
    run = tmp_path / "run"
    run.mkdir()
    store.write_manifest(
        run, {"format": store.FORMAT, "name": "t", "axes": {**AXES, "seed": [0, 1]}}
    )
    shard.write_shard(run, *_cell(seed=0))
    (run / "cells" / f"{'0' * 16}.parquet").write_bytes(b"x")
    line = kept_line(run)  # (shards counted as listed, unread: "2 finished cells kept")
    assert not line.startswith("all") and line.endswith("run the same command to resume")
