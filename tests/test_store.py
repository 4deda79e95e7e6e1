"""The run directory: shard schema and checks, atomic files, readers, manifest and lock."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep import shard, shard_file, store
from vanishlab.sweep.checksums import meta_digest
from vanishlab.sweep.config import CellConfig

TINY = {"hidden_size": 4, "input_size": 2, "seq_len": 3, "batch": 2}
#: The 'axes' every manifest has (a manifest without them is refused as incomplete).
AXES = {a: list(v) for a, v in vl.Sweep(**TINY).axes().items()}


def _cell(**kw) -> tuple[pd.DataFrame, store.CellMeta]:
    return vl.run_cell(CellConfig(**{**TINY, **kw}))


def _run_dir(tmp_path: Path, cells=({}, {"seed": 1}, {"activation": "relu"})) -> Path:
    run = tmp_path / "run"
    store.write_manifest(run.mkdir() or run, {"format": store.FORMAT, "name": "t", "axes": AXES})
    for kw in cells:
        shard.write_shard(run, *_cell(**kw))
    return run


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_a_shard_has_one_writer_imported_from_its_module():
    """write_shard is defined in sweep.shard and imported from there by every writer (the
    runner, analyze, the monitor); store, the readers' module, no longer re-exports it."""
    assert shard.write_shard.__module__ == "vanishlab.sweep.shard"
    assert not hasattr(store, "write_shard") and "write_shard" not in store.__all__


def test_shard_round_trip_and_schema(tmp_path):
    frame, meta = _cell()
    path = shard.write_shard(tmp_path, frame, meta)
    assert path == tmp_path / "cells" / f"{meta['cell_id']}.parquet"
    assert not list((tmp_path / "cells").glob("*.tmp")) and not list(
        (tmp_path / "cells").glob(".*")
    )
    pf = pq.ParquetFile(path)
    assert pf.schema_arrow.remove_metadata().equals(store.SCHEMA)
    stored = json.loads(pf.schema_arrow.metadata[store.CELL_META_KEY])
    digest = stored.pop("digest")
    assert stored.pop("meta_digest") == meta_digest({**stored, "digest": digest})
    assert stored == json.loads(json.dumps(meta)) and stored["n_rows"] == len(frame)
    assert digest == store.content_digest(pf.read()) and len(digest) == 64
    assert store.read_cell_metas(tmp_path)[meta["cell_id"]]["status"] == "ok"


# In the slow tier: ~3 s of CPU.
@pytest.mark.slow
def test_pyarrow_is_left_no_python_buffer_to_release_in_its_threads(tmp_path, monkeypatch):
    """Shards were handed to pyarrow as Python file objects: its reader threads kept the Python
    bytes each read returned and released them, taking the GIL, after the read had returned.
    One that did so while the interpreter shut down aborted the process after the command's
    own line ("terminate called without an active exception", status 134: about 1 in 15
    `vanishlab analyze` runs refused because the directory held another analysis). Every
    bytes object Python reads a shard into is now released by the thread that read it."""
    run = _run_dir(tmp_path, cells=({"seq_len": 40, "num_layers": 2},))
    released: list[bool] = []

    class Tracked(bytes):
        def __del__(self) -> None:
            released.append(threading.current_thread() is threading.main_thread())

    class File(io.FileIO):
        def read(self, *args):  # type: ignore[override]
            return Tracked(super().read(*args))

    monkeypatch.setattr(shard_file, "open", File, raising=False)  # its open(path, "rb")
    threads = pa.cpu_count()
    pa.set_cpu_count(8)  # more reader threads: each read's late release more likely (~2 %)
    try:
        for _ in range(300):
            vl.load_results(run)
        time.sleep(0.2)  # a pyarrow thread releasing one late
    finally:
        pa.set_cpu_count(threads)
    assert released and all(released), f"{released.count(False)} released by pyarrow threads"


def test_a_folder_named_as_a_shard_or_a_shard_that_cannot_be_read_is_one_clear_error(
    tmp_path, monkeypatch
):
    """A folder named like a shard is no file to read ('unexpected directory', not an open()
    that fails on it, nor 'unexpected file', which sent the user looking for a file; a FIFO's
    open would wait for a writer), and a shard whose read fails with an I/O error (a damaged
    disk, a lost mount: the device's, which says nothing of the bytes) is named as one the
    device could not read, not as corrupt: both one line, in every reader, with nothing
    moved."""
    run = _run_dir(tmp_path)
    first = sorted((run / "cells").glob("*.parquet"))[0]
    folder = run / "cells" / "folder.parquet"
    folder.mkdir()
    before = _snapshot(run)
    readers = (vl.load_results, vl.load_cells, store.read_cell_metas)
    for reader in readers:
        with pytest.raises(
            vl.VanishlabError,
            match=r"folder\.parquet is not a valid vanishlab shard \(unexpected directory\); ",
        ):
            reader(run)
    folder.rmdir()
    named = run / "cells" / "0123456789abcdef.parquet"  # named as a shard: still no file
    named.mkdir()  # of vanishlab's (a sweep moved it to corrupt/, as a damaged shard)
    for reader in readers:
        with pytest.raises(vl.VanishlabError, match=r"abcdef\.parquet is not a valid v") as err:
            reader(run)
        assert not isinstance(err.value, store.CorruptShardError)
    named.rmdir()

    def failing(source, *args, **kwargs):
        if Path(source) == first:
            raise OSError(5, "Input/output error", str(source))
        return open(source, *args, **kwargs)

    monkeypatch.setattr(shard_file, "open", failing, raising=False)
    for reader in readers:
        with pytest.raises(vl.VanishlabError, match=r"now \(Input/output error\)") as err:
            reader(run)
        assert not isinstance(err.value, store.CorruptShardError)
        assert first.name in str(err.value) and "\n" not in str(err.value)
    assert _snapshot(run) == before


def test_check_frame_rejects_malformed_shards():
    frame, meta = _cell()
    bad_nan = frame.copy()
    bad_nan.loc[0, "log10_fro_std"] = np.nan
    bad_layer = frame.copy()
    bad_layer["layer"] = pd.array([0] * len(frame), dtype="Int64")
    bad_cfg = frame.copy()
    bad_cfg["gain"] = 2.0
    for bad, message in [
        (bad_nan, "NaN"),
        (bad_layer, "layer must be null"),
        (bad_cfg, "config column gain"),
        (frame.drop(columns="n_zero"), "columns"),
        (frame.iloc[:2], "row count"),
    ]:
        with pytest.raises(ValueError, match=message):
            store.check_frame(bad, meta)
    with pytest.raises(ValueError, match="row count"):
        store.check_frame(frame, {**meta, "status": "failed"})


def test_load_results_sorts_and_types(tmp_path):
    run = _run_dir(tmp_path)
    results = vl.load_results(run)
    assert tuple(results.columns) == store.COLUMNS
    assert len(results) == 3 * (3 + 4)
    assert results["layer"].dtype == "Int64" and results["lag"].dtype == np.int64
    assert results["bias"].dtype == bool and results["n_zero"].dtype == np.int64
    assert results.loc[results["source"] == "input", "layer"].isna().all()
    assert list(results["activation"].unique()) == ["relu", "tanh"]  # sorted by config first
    keys = [*store.CONFIG_COLUMNS, "source", "layer", "lag"]
    assert results.equals(
        results.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    )
    assert not results.duplicated(["cell_id", "source", "layer", "lag"]).any()
    cells = vl.load_cells(run)
    assert len(cells) == 3 and set(cells["status"]) == {"ok"}
    assert list(cells.columns[-5:]) == ["cell_id", "status", "reason", "failure", "elapsed_s"]


def test_empty_run_loads_as_empty_frame(tmp_path):
    store.write_manifest(tmp_path, {"format": store.FORMAT, "axes": AXES})
    results = vl.load_results(tmp_path)
    assert tuple(results.columns) == store.COLUMNS and len(results) == 0
    assert results["layer"].dtype == "Int64"
    assert len(vl.load_cells(tmp_path)) == 0


def test_failed_cell_is_a_zero_row_shard(tmp_path):
    run = _run_dir(tmp_path, cells=())
    frame, meta = _cell(activation="relu", init="identity", gain=50.0, seq_len=40)
    assert meta["status"] == "failed" and len(frame) == 0
    shard.write_shard(run, frame, meta)
    assert len(vl.load_results(run)) == 0
    cells = vl.load_cells(run)
    assert cells.loc[0, "status"] == "failed" and "overflowed" in cells.loc[0, "reason"]


def test_temp_and_hidden_files_are_ignored(tmp_path):
    run = _run_dir(tmp_path)
    before = vl.load_results(run)
    (run / "cells" / ".0123456789abcdef.parquet.tmp").write_bytes(b"PAR1 half a shard")
    (run / "cells" / "0123456789abcdef.parquet.tmp").write_bytes(b"half")
    (run / "cells" / ".DS_Store").write_bytes(b"\0\1")
    pd.testing.assert_frame_equal(vl.load_results(run), before)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "unexpected file"),
        ("0123456789abcdef.parquet", b"not parquet at all", "corrupt parquet"),
        ("truncated.parquet", None, "corrupt parquet"),
        ("foreign.parquet", "foreign", "no vanishlab.cell metadata"),
        ("renamed.parquet", "renamed", "not the one its name says"),
        # pyarrow's text for a damaged page header holds new lines (and the byte it read):
        # "Couldn't deserialize thrift: ...\nDeserializing page header failed.\n"
        (None, "page header", "corrupt parquet"),
    ],
)
def test_corrupt_or_foreign_file_is_one_clear_error(tmp_path, name, content, message):
    run = _run_dir(tmp_path)
    some_shard = next((run / "cells").glob("*.parquet"))
    name = some_shard.name if name is None else name
    path = run / "cells" / name
    if content == "page header":  # the first page's header, just after the magic bytes
        data = bytearray(some_shard.read_bytes())
        data[4] ^= 0xFF
        path.write_bytes(bytes(data))
    elif content is None:
        path.write_bytes(some_shard.read_bytes()[:-40])
    elif content == "foreign":
        pq.write_table(pa.table({"x": [1, 2]}), path)
    elif content == "renamed":
        path.write_bytes(some_shard.read_bytes())
    else:
        path.write_bytes(content)
    before = _snapshot(run)
    readers = (vl.load_results, vl.load_cells, store.read_cell_metas)
    if content == "page header":  # found by the readers of rows (the others read the footer)
        readers = (vl.load_results,)
    for reader in readers:
        with pytest.raises(vl.VanishlabError, match=message) as err:
            reader(run)
        assert name in str(err.value) and "\n" not in str(err.value)
    assert _snapshot(run) == before


def test_a_run_directory_that_is_not_there_is_said_to_be_missing(tmp_path):
    """A mistyped path was "not a vanishlab run directory (no manifest.json)", which sent the
    user looking for a file inside a folder that does not exist."""
    with pytest.raises(vl.VanishlabError, match=r"run directory \(no manifest\.json\)$"):
        vl.load_results(tmp_path)
    for reader in (vl.load_results, vl.load_cells, vl.summarize, vl.load_manifest):
        with pytest.raises(vl.VanishlabError, match=r"run directory \(it does not exist\)$"):
            reader(tmp_path / "runs" / "defualt")
    # a file given as the run (`vanishlab report study.py`) is not a folder to look in either
    (tmp_path / "study.py").write_text("")
    with pytest.raises(vl.VanishlabError, match=r"run directory \(it is a file, not a direc"):
        vl.load_results(tmp_path / "study.py")


def test_manifest_errors(tmp_path):
    with pytest.raises(vl.VanishlabError, match="not a vanishlab run directory"):
        vl.load_manifest(tmp_path)
    with pytest.raises(vl.VanishlabError, match="not a vanishlab run directory"):
        vl.load_results(tmp_path)
    for where in (tmp_path, tmp_path / "no such run"):  # it read both as "nothing trained"
        with pytest.raises(vl.VanishlabError, match="not a vanishlab run directory"):
            vl.load_training(where)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(vl.VanishlabError, match="corrupt"):
        vl.load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "something-else/2"}')
    with pytest.raises(vl.VanishlabError, match="not a vanishlab-run/1 manifest"):
        vl.load_manifest(tmp_path)
    store.write_manifest(tmp_path, {"format": store.FORMAT, "name": "x", "axes": AXES})
    assert vl.load_manifest(tmp_path) == {"format": store.FORMAT, "name": "x", "axes": AXES}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(ValueError, match="format"):
        store.write_manifest(tmp_path, {"name": "no format"})


def test_lock_excludes_a_second_holder(tmp_path):
    held = "already open in this process"  # not "another process", with this one's pid
    with store.RunLock(tmp_path), pytest.raises(vl.VanishlabError, match=held):
        store.RunLock(tmp_path).__enter__()
    with store.RunLock(tmp_path):  # released
        pass


@contextlib.contextmanager
def _locked_by_another_process(run_dir):
    """A process that holds ``RunLock(run_dir)`` until the block ends (then SIGKILL)."""
    code = (
        "import time; from vanishlab.sweep.store import RunLock\n"
        f"lock = RunLock({str(run_dir)!r}).__enter__(); print('locked', flush=True); "
        "time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


def test_lock_of_a_killed_process_is_released(tmp_path):
    with (
        _locked_by_another_process(tmp_path) as proc,
        pytest.raises(vl.VanishlabError, match=f"pid {proc.pid}"),
    ):
        store.RunLock(tmp_path).__enter__()
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the flock with the process
        try:
            with store.RunLock(tmp_path):
                break
        except vl.VanishlabError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_deleted_lock_file_lets_no_second_writer_in(tmp_path):
    """Deleting .lock while a run was written let the next process create a new one, lock it
    and write the same directory beside the first: the directory itself is locked too."""
    with _locked_by_another_process(tmp_path):
        (tmp_path / ".lock").unlink()
        with pytest.raises(vl.VanishlabError, match="in use by another vanishlab process"):
            store.RunLock(tmp_path).__enter__()
    with store.RunLock(tmp_path):  # in this process, with its .lock deleted: named as such
        (tmp_path / ".lock").unlink()
        with pytest.raises(vl.VanishlabError, match="already open in this process"):
            store.RunLock(tmp_path).__enter__()
    with store.RunLock(tmp_path):  # released
        pass


def _as_written_before_later_axes(run: Path) -> None:
    """Rewrite ``run`` as a vanishlab from before the model and training axes wrote it: no
    such columns, config keys or manifest axes (and no stored summary rows)."""
    from vanishlab.sweep.checksums import content_digest
    from vanishlab.sweep.config import LATER_AXES

    manifest = json.loads((run / "manifest.json").read_text())
    for grid in [manifest["axes"], *manifest.get("grids", [])]:
        for name in LATER_AXES:
            grid.pop(name, None)
    (run / "manifest.json").write_text(json.dumps(manifest))
    for path in (run / "cells").glob("*.parquet"):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
        table = table.drop_columns(list(LATER_AXES)).replace_schema_metadata(None)
        meta["config"] = {k: v for k, v in meta["config"].items() if k not in LATER_AXES}
        meta.pop("summary", None)
        meta.pop("meta_digest", None)
        meta["digest"] = content_digest(table)
        table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
        pq.write_table(table, path, write_page_checksum=True)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_runs_written_before_later_axes_read_and_resume(tmp_path):
    run = tmp_path / "run"
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=2, gain=(0.5, 1.0))
    vl.run_sweep(sweep, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    _as_written_before_later_axes(run)
    assert "model" not in pq.read_schema(next((run / "cells").glob("*.parquet"))).names
    pd.testing.assert_frame_equal(vl.load_results(run), results)
    pd.testing.assert_frame_equal(vl.load_cells(run), cells)
    again = vl.run_sweep(sweep, run, workers=1, progress=False)  # the same grid: nothing to do
    assert again.n_skipped == 2 and again.n_run == 0 and not again.moved_aside


def test_a_shard_of_other_columns_is_named_as_another_version_s(tmp_path):
    """A shard whose measured columns are not this version's (written before a column was
    added, or after one was) read "corrupt (its columns differ from a vanishlab shard's)",
    naming neither the column nor that another vanishlab wrote it."""
    from vanishlab.sweep.checksums import content_digest

    run = tmp_path / "run"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=2), run, progress=False)
    path = next((run / "cells").glob("*.parquet"))
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
    table = table.drop_columns(["log10_spec_std"]).replace_schema_metadata(None)
    table = table.append_column("log10_fro_max", table["log10_fro_mean"])
    meta.pop("meta_digest", None)
    meta["digest"] = content_digest(table)
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, path, write_page_checksum=True)
    with pytest.raises(vl.VanishlabError) as err:
        vl.load_results(run)
    assert "it lacks log10_spec_std; it adds log10_fro_max (written by another version of" in str(
        err.value
    )


def _flip_meta(path: Path, old: bytes, new: bytes) -> None:
    """Flip bits of the ``vanishlab.cell`` metadata (``old`` -> ``new``, the first occurrence:
    the config's), as a damaged disk would, keeping every other byte's checksum valid."""
    table = pq.read_table(path)
    raw = table.schema.metadata[store.CELL_META_KEY]
    assert old in raw and len(old) == len(new)
    table = table.replace_schema_metadata({store.CELL_META_KEY: raw.replace(old, new, 1)})
    pq.write_table(table, path, write_page_checksum=True)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"activation": "tanh"', b'"activation": "tQnh"'),
        (b'"dtype": "float32"', b'"dtype": "fl_at32"'),
        (b'"seed": 0', b'"seed": 1'),
    ],
)
def test_flipped_bit_in_shard_metadata_is_corruption_and_sweep_heals(tmp_path, old, new):
    run = tmp_path / "run"
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)
    vl.run_sweep(sweep, run)
    (path,) = (run / "cells").glob("*.parquet")
    _flip_meta(path, old, new)
    with pytest.raises(store.CorruptShardError, match="metadata does not match its checksum"):
        vl.load_cells(run)
    assert list(store.scan_shards(run)[1]) and not store.scan_shards(run)[0]
    vl.run_sweep(sweep, run)  # moves it aside and measures the cell again
    assert (run / "corrupt" / path.name).is_file()
    cells = vl.load_cells(run)
    assert list(cells["activation"]) == ["tanh"] and list(cells["dtype"]) == ["float32"]


def test_shard_without_meta_digest_stays_readable(tmp_path):
    run = _run_dir(tmp_path, cells=({},))
    (path,) = (run / "cells").glob("*.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
    del meta["meta_digest"]  # as written before the metadata had its own checksum
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, path, write_page_checksum=True)
    assert list(vl.load_cells(run)["activation"]) == ["tanh"]
    # Without that checksum, a config value out of its axis's choices or bounds is still caught.
    meta["config"]["activation"] = "tQnh"
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, path, write_page_checksum=True)
    with pytest.raises(store.CorruptShardError, match=r'activation holds "tQnh" \(choose'):
        vl.load_cells(run)


@pytest.mark.parametrize("delta", [1, -1, "zero"])
def test_a_row_count_unlike_the_metadatas_is_corruption_without_meta_digest(tmp_path, delta):
    # A shard of the older format (no meta_digest, which readers still accept) whose n_rows
    # disagrees with its rows must be refused as corrupt, not read: n_rows 0 would make the
    # readers skip its rows, any other count would stand beside rows it does not describe.
    run = _run_dir(tmp_path, cells=({},))
    (path,) = (run / "cells").glob("*.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
    del meta["meta_digest"]  # as written before the metadata had its own checksum
    n = table.num_rows
    assert meta["n_rows"] == n > 1
    meta["n_rows"] = 0 if delta == "zero" else n + delta
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, path, write_page_checksum=True)
    for read in (store.read_cell_metas, vl.load_cells, vl.load_results):
        with pytest.raises(store.CorruptShardError, match="row count does not match"):
            read(run)
    assert not store.scan_shards(run)[0] and len(store.scan_shards(run)[1]) == 1


def test_the_shard_columns_are_their_schema_fields():
    """COLUMNS (the frames' order) and the shard schema come from one list of fields."""
    from vanishlab.sweep import schema

    assert tuple(schema.SCHEMA.names) == schema.COLUMNS
    assert schema.COLUMNS[len(schema.CONFIG_COLUMNS) :][:4] == ("cell_id", *schema.KEY_COLUMNS)


def test_docs_design_lists_a_shard_s_columns_in_their_order():
    """docs/design.md's "Shard" entry named the columns after the config ones without the
    `step` that a monitored step's shard carries after `cell_id`."""
    from vanishlab.sweep import schema

    text = (Path(__file__).resolve().parents[1] / "docs" / "design.md").read_text()
    entry = text[text.index("- **Shard**") :]
    entry = entry[: entry.index("Its parquet")]
    named = re.findall(r"`(\w+)`", entry)
    assert tuple(named) == schema.STEP_COLUMNS[len(schema.CONFIG_COLUMNS) :]


def test_docs_design_lists_the_manifest_keys_of_every_kind_of_run(smoke_run_dir, tmp_path):
    """docs/design.md's "Manifest" entry: an analysis's and a monitor's manifest have no
    `inits` either, which the entry left out of what they lack."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "design.md").read_text()
    entry = text[text.index("- **Manifest**") :]
    entry = entry[: entry.index("\n- **") if "\n- **" in entry else entry.index("\n## ")]
    adds = set(re.findall(r"`(\w+)`", entry[entry.index("and adds") :]))
    while re.search(r"\([^()]*\)", entry):  # the keys are named outside any parentheses
        entry = re.sub(r"\([^()]*\)", "", entry)
    sweep_part, others = entry.split("A run of", 1)
    lacks = others.split("and adds", 1)[0]
    sweep_keys = set(re.findall(r"`(\w+)`", sweep_part))
    other_keys = sweep_keys - set(re.findall(r"`(\w+)`", lacks))
    assert set(store.load_manifest(smoke_run_dir)) == sweep_keys
    torch.manual_seed(0)
    rnn = nn.RNN(2, 3)
    torch.save(rnn.state_dict(), tmp_path / "model.pt")
    vl.analyze_checkpoint(tmp_path / "model.pt", tmp_path / "analysis", seq_len=4, batch=2)
    analysis = json.loads((tmp_path / "analysis" / "manifest.json").read_text())
    # every kind's file holds its keys' digest too, which the entry names and the reader pops
    assert "`digest`" in entry and analysis.pop("digest")
    assert set(analysis) == other_keys | {"kind", "model"}
    with vl.JacobianMonitor(rnn, torch.randn(4, 2, 2), out=tmp_path / "monitor") as mon:
        mon.step(0)
    monitor = json.loads((tmp_path / "monitor" / "manifest.json").read_text())
    assert monitor.pop("digest")
    assert set(monitor) == other_keys | {"kind", "model", "steps"}
    assert {"kind", "model", "steps"} <= adds


def test_one_string_of_cell_ids_is_refused(smoke_run_dir):
    """Its letters were taken for ids: zero rows and no error."""
    with pytest.raises(TypeError, match="cell_ids must be a collection of ids"):
        vl.load_results(smoke_run_dir, cell_ids="abc")


def test_cell_ids_may_be_a_column_of_load_cells(smoke_run_dir):
    """A pandas Series of ids (cells["cell_id"]) was asked for its index labels by "in", so no
    shard was read: zero rows and no error. An int failed in "in"'s words ("argument of type
    'int' is not iterable")."""
    ids = vl.load_cells(smoke_run_dir)["cell_id"]
    every = vl.load_results(smoke_run_dir)
    pd.testing.assert_frame_equal(vl.load_results(smoke_run_dir, cell_ids=ids), every)
    one = vl.load_results(smoke_run_dir, cell_ids=ids.iloc[1:2])
    assert len(one) and set(one["cell_id"]) == {ids.iloc[1]}
    with pytest.raises(TypeError, match=r"^cell_ids must be ids \(strings\) or None, got 3"):
        vl.load_results(smoke_run_dir, cell_ids=3)


def test_a_lock_or_manifest_that_is_a_directory_is_named_as_such(tmp_path):
    """A .lock that was a directory gave open()'s bare "Is a directory: .../.lock", and a
    manifest.json that was one "not a vanishlab run directory (no manifest.json)"."""
    from vanishlab.sweep.lock import RunLock

    (tmp_path / "a" / ".lock").mkdir(parents=True)
    said = r"\.lock is a directory, where vanishlab keeps"
    with pytest.raises(vl.VanishlabError, match=said), RunLock(tmp_path / "a"):
        pass
    (tmp_path / "b" / "manifest.json").mkdir(parents=True)
    with pytest.raises(vl.VanishlabError, match=r"manifest\.json is a directory, not a manifest"):
        vl.load_manifest(tmp_path / "b")


@pytest.mark.skipif(sys.platform == "win32", reason="fifos need POSIX")
def test_a_manifest_that_is_a_fifo_is_named_as_no_regular_file_not_as_missing(tmp_path):
    """A manifest.json that was a FIFO (`ls` lists it) was said to be missing: "not a vanishlab
    run directory (no manifest.json)", by the report, the sweep and `analyze` alike."""
    os.mkfifo(tmp_path / "manifest.json")
    said = r"manifest\.json is not a regular file, not a manifest: move it aside$"
    with pytest.raises(vl.VanishlabError, match=said):
        vl.load_manifest(tmp_path)
    # A link to a FIFO (or a device) is no manifest either: it was "(no manifest.json)".
    (run := tmp_path / "run").mkdir()
    (run / "manifest.json").symlink_to(tmp_path / "manifest.json")
    with pytest.raises(vl.VanishlabError, match=said):
        vl.load_manifest(run)
    (run / "manifest.json").unlink()
    (run / "manifest.json").symlink_to("/dev/null")
    with pytest.raises(vl.VanishlabError, match=said):
        vl.load_manifest(run)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks and fifos need POSIX")
def test_a_lock_that_is_a_symlink_or_no_regular_file_is_refused_and_not_followed(tmp_path):
    """A .lock that was a symlink was followed: a dangling one made its target outside the run
    directory and the sweep went on; one to /dev/full said only "Invalid argument"."""
    from vanishlab.sweep import lock

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / ".lock").symlink_to(tmp_path / "outside")
    said = r"a[/\\]\.lock is a symlink \(to .*outside\), where vanishlab keeps its lock file"
    with pytest.raises(vl.VanishlabError, match=said), lock.RunLock(tmp_path / "a"):
        pass
    assert not (tmp_path / "outside").exists()
    (tmp_path / "outside").write_text("kept")
    with pytest.raises(vl.VanishlabError, match=said), lock.RunLock(tmp_path / "a"):
        pass
    assert (tmp_path / "outside").read_text() == "kept"
    with pytest.raises(OSError) as err:  # (a symlink put there after the check) not followed
        lock._opened(tmp_path / "a" / ".lock")
    assert (tmp_path / "outside").read_text() == "kept"
    assert err.value.errno == errno.ELOOP
    fifo = tmp_path / "c" / ".lock"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(vl.VanishlabError, match=r"\.lock is not a regular file, where vanishlab"):
        lock.RunLock(fifo.parent).__enter__()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda p: vl.load_results(None), "run_dir"),
        (lambda p: vl.load_cells(5), "run_dir"),
        (lambda p: vl.load_manifest(None), "run_dir"),
        (lambda p: vl.summarize(5), "run_dir"),
        (lambda p: vl.load_training(None), "run_dir"),
        (lambda p: vl.render_report(None), "run_dir"),
        (lambda p: vl.run_sweep(vl.Sweep(seq_len=5, hidden_size=4, seed=0), None), "out"),
        (lambda p: vl.analyze_checkpoint(None, p / "o"), "checkpoint"),
        (lambda p: vl.analyze_checkpoint(p / "c.pt", 5), "out"),
        (lambda p: vl.read_checkpoint(None), "path"),
        (lambda p: vl.JacobianMonitor(nn.RNN(3, 5), torch.randn(6, 2, 3), out=None), "out"),
    ],
)
def test_a_path_argument_that_is_no_path_is_named(tmp_path, call, argument):
    # pathlib's TypeError ("expected str, bytes or os.PathLike object, not NoneType") named
    # no argument.
    with pytest.raises(TypeError, match=rf"^{argument} must be a path \(str or os.PathLike\)"):
        call(tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: vl.load_results(""), "run_dir"),
        (lambda: vl.load_cells(""), "run_dir"),
        (lambda: vl.load_manifest(""), "run_dir"),
        (lambda: vl.summarize(""), "run_dir"),
        (lambda: vl.render_report(""), "run_dir"),
        (lambda: vl.run_sweep(vl.Sweep(seq_len=5, hidden_size=4, seed=0), "", workers=1), "out"),
        (lambda: vl.analyze_checkpoint("", "o"), "checkpoint"),
        (lambda: vl.analyze_checkpoint("c.pt", ""), "out"),
        (lambda: vl.read_checkpoint(""), "path"),
        (lambda: vl.JacobianMonitor(nn.RNN(3, 5), torch.randn(6, 2, 3), out=""), "out"),
    ],
)
def test_an_empty_path_argument_is_refused(tmp_path, monkeypatch, call, argument):
    # pathlib reads "" as the current folder: run_sweep(sweep, "") made it a run directory,
    # and the readers read it.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=rf"^{argument} is an empty path; give a file or folder"):
        call()
    assert not any(tmp_path.iterdir())


def test_a_blank_path_argument_is_called_blank(tmp_path, monkeypatch):
    """Spaces alone were "an empty path", which sent the reader looking for a value not given."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^run_dir is a blank path; give a file or folder"):
        vl.load_manifest(" ")
    with pytest.raises(ValueError, match=r"^out is a blank path; give a file or folder"):
        vl.analyze_checkpoint("c.pt", "\t")
    assert not any(tmp_path.iterdir())


def test_the_monitor_takes_its_lyapunov_switch_as_a_bool_only(tmp_path):
    with pytest.raises(TypeError, match="lyapunov must be True or False, got 'no'"):
        vl.JacobianMonitor(nn.RNN(3, 5), torch.randn(6, 2, 3), out=tmp_path / "m", lyapunov="no")
    assert not any(tmp_path.iterdir())


@pytest.mark.skipif(sys.platform == "win32", reason="temp files are held with flock on POSIX")
def test_a_file_system_that_reports_no_links_does_not_make_a_writer_loop(tmp_path, monkeypatch):
    """atomic_write took its temp file for removed (by a run's clean-up) when fstat counted no
    link to it, and made another, without end: a file system reporting st_nlink 0 for live
    files (some FUSE ones) would have looped, leaving a temp file each time. It now asks
    whether the name still leads to the file it holds; and it makes a few names at most."""
    import os

    from vanishlab.sweep import files

    real_fstat, calls = os.fstat, []

    def fstat(fd: int) -> os.stat_result:  # the file's own, with no link counted
        calls.append(fd)
        if len(calls) > 50:
            raise AssertionError("atomic_write keeps making temp files")
        fields = list(real_fstat(fd))
        fields[3] = 0  # st_nlink
        return os.stat_result(fields)

    monkeypatch.setattr(os, "fstat", fstat)
    target = tmp_path / "file.bin"
    files.atomic_write(target, lambda f: f.write(b"data"))
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


@pytest.mark.skipif(sys.platform == "win32", reason="temp files are held with flock on POSIX")
def test_a_writer_never_waits_for_a_lock_on_its_temp_file(tmp_path, monkeypatch):
    """atomic_write waited (a blocking flock) for its new temp file's lock: a clean-up holding
    it (to remove it: a dead writer's, it thought) kept the writer waiting, and so would a
    file system whose lock service hangs. The writer now takes the next name at once.

    Told by which file the writer wrote, not by the clock: the held one is left as it was
    (this clean-up never removes it), where a writer that waited for it (5 s here at most)
    wrote into it. A timed check failed whenever the write itself (two fsyncs) took 5 s."""
    import builtins
    import fcntl
    import os

    from vanishlab.sweep import files

    real_open, held, released = builtins.open, [], threading.Event()

    def cleaner_holds(fd: int) -> None:  # a clean-up's hold, given up after 5 s at most
        released.wait(5)
        os.close(fd)

    def open_held_once(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        if mode == "xb" and not held:  # the first temp file: a clean-up takes it first
            fd = os.open(path, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append((Path(path), threading.Thread(target=cleaner_holds, args=(fd,))))
            held[0][1].start()
        return f

    monkeypatch.setattr(files, "open", open_held_once, raising=False)
    target = tmp_path / "file.bin"
    try:
        files.atomic_write(target, lambda f: f.write(b"data"))
    finally:
        released.set()
        for _, thread in held:
            thread.join()
    first = held[0][0]
    assert first.exists() and first.stat().st_size == 0, "the writer waited for the held file"
    assert target.read_bytes() == b"data"


def test_a_writer_that_can_never_hold_its_temp_file_still_writes(tmp_path, monkeypatch):
    """HOLD_TRIES bounds the names atomic_write tries to hold (a file system where each hold
    fails, as one whose inode numbers change between fstat and stat would): the last is
    written as it is, not one more name without end. (Untested before: the no-links test's
    hold succeeds at once.)"""
    from vanishlab.sweep import files

    tries: list[Path] = []

    def never_held(f, tmp: Path) -> None:  # held, but never told from another file
        tries.append(tmp)

    monkeypatch.setattr(files, "_hold_temp", never_held)
    target = tmp_path / "file.bin"
    files.atomic_write(target, lambda f: f.write(b"data"))
    assert target.read_bytes() == b"data"
    assert len(tries) == files.HOLD_TRIES and not tries[-1].exists()


@pytest.mark.skipif(sys.platform == "win32", reason="temp files are held with flock on POSIX")
def test_a_writer_never_writes_into_a_temp_file_a_clean_up_holds(tmp_path, monkeypatch):
    """atomic_write wrote into its last temporary name as it was, even where a clean-up
    (remove_temps_of, another report's) held that file to remove it: written unheld, the file
    went under it, and the write failed "No such file or directory" naming the target. Every
    file it writes into is now held; where a clean-up took each of its HOLD_TRIES names it says
    so (EAGAIN), the target as it was, no temporary file left."""
    import fcntl
    import os

    from vanishlab.sweep import files

    real_hold, written = files._hold_temp, []

    def raced(f, tmp: Path) -> bool | None:  # a clean-up takes each new file first, removes it
        fd = os.open(tmp, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            return real_hold(f, tmp)
        finally:
            os.unlink(tmp)
            os.close(fd)

    def write(f) -> None:
        written.append(f.name)
        f.write(b"new")

    monkeypatch.setattr(files, "_hold_temp", raced)
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")
    said = f"each of its {files.HOLD_TRIES} temporary files was removed"
    with pytest.raises(OSError, match=said) as err:
        files.atomic_write(target, write)
    assert err.value.errno == errno.EAGAIN and err.value.filename == str(target)
    assert written == [], "written into a file a clean-up held"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
    assert target.read_bytes() == b"old"


def _with_meta(path: Path, meta: dict) -> None:
    table = pq.read_table(path)
    table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
    pq.write_table(table, path, write_page_checksum=True)


def test_a_later_releases_metadata_key_is_read_under_its_checksum(tmp_path):
    # A shard a later release wrote, with a record this release does not know, was called
    # corrupt ("malformed vanishlab.cell metadata"): `sweep` moved it to corrupt/ and measured
    # it again, and the report refused the run. Under the metadata's checksum it is read, the
    # unknown record left out; without that checksum, or against it, it stays refused.
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, progress=False)
    (path,) = (run / "cells").glob("*.parquet")
    before = vl.load_cells(run)
    meta = json.loads(pq.read_table(path).schema.metadata[store.CELL_META_KEY])
    del meta["meta_digest"]
    meta["later_record"] = {"x": 1.5}
    _with_meta(path, {**meta, "meta_digest": meta_digest(meta)})
    pd.testing.assert_frame_equal(vl.load_cells(run), before)
    assert "later_record" not in next(iter(store.read_cell_metas(run).values()))
    vl.run_sweep(sweep, run, progress=False)  # sound: kept, not measured again
    assert not (run / "corrupt").exists() and "later_record" in path.read_bytes().decode("latin1")
    _with_meta(path, meta)  # without the checksum
    with pytest.raises(store.CorruptShardError, match=r"malformed vanishlab\.cell metadata"):
        vl.load_cells(run)
    _with_meta(path, {**meta, "meta_digest": meta_digest({**meta, "later_record": 2})})
    with pytest.raises(store.CorruptShardError, match="does not match its checksum"):
        vl.load_cells(run)


@pytest.mark.parametrize("elapsed", ["1.5 s", "2", -1.0, True, None])
def test_a_shard_s_own_elapsed_time_that_is_no_time_is_malformed_metadata(tmp_path, elapsed):
    # A shard's elapsed_s (its metadata, under the checksum) was not range-checked: a string
    # there, rewritten with a recomputed checksum, made vl.load_cells raise a ValueError from
    # float() (a traceback); "2" read as 2 s, -1 as a time below zero. Now the shard is refused
    # as malformed, as the manifest refuses such an elapsed_s.
    run = tmp_path / "run"
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2), run, progress=False)
    (path,) = (run / "cells").glob("*.parquet")
    meta = json.loads(pq.read_table(path).schema.metadata[store.CELL_META_KEY])
    del meta["meta_digest"]
    meta["elapsed_s"] = elapsed
    _with_meta(path, {**meta, "meta_digest": meta_digest(meta)})
    with pytest.raises(store.CorruptShardError, match=r"malformed vanishlab\.cell metadata"):
        vl.load_cells(run)
