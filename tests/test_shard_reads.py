"""Each shard read and verified once by a report and by ``vl.summarize`` (``store.reads_held``),
read again where the file changed; and the content digest, made faster, as it was."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import vanishlab as vl
from vanishlab.sweep import shard, store
from vanishlab.sweep.checksums import content_digest

GRID = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2, gain=(0.5, 1.0, 1.5))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reads") / "run"
    vl.run_sweep(GRID, out, workers=1, progress=False)
    return out


def _counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each shard file is opened to be read and verified."""
    opened: Counter[str] = Counter()
    real = shard.open_shard

    def counting(path):
        opened[Path(path).name] += 1
        return real(path)

    monkeypatch.setattr(shard, "open_shard", counting)
    return opened


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_report_reads_and_verifies_each_shard_once(run, tmp_path, monkeypatch):
    """A report read every shard of its run five times on a fresh summary (its rows, its
    cells, the summary's fingerprint, and the summary's cells twice more) and three times on a
    cached one, each time with its page checksums and content digest: ~3 s of a 1,000-cell
    run's report."""
    (run / "summary.parquet").unlink(missing_ok=True)
    opened = _counted(monkeypatch)
    vl.render_report(run, tmp_path / "fresh.html", timestamp="2024-01-01")
    assert len(opened) == len(GRID.cells()) and set(opened.values()) == {1}, opened
    opened.clear()
    vl.render_report(run, tmp_path / "cached.html", timestamp="2024-01-01")
    assert set(opened.values()) == {1}, opened
    assert (tmp_path / "fresh.html").read_bytes() == (tmp_path / "cached.html").read_bytes()


def test_summarize_reads_each_shard_once_and_each_call_reads_them_again(run, monkeypatch):
    """Nothing is kept from one call to the next: each reads the files as they are then."""
    (run / "summary.parquet").unlink(missing_ok=True)
    opened = _counted(monkeypatch)
    first = vl.summarize(run)
    assert set(opened.values()) == {1}, opened
    second = vl.summarize(run)
    assert set(opened.values()) == {2}, opened
    assert first.equals(second)


def test_a_shard_changed_while_reads_are_held_is_read_again_and_refused(run, tmp_path):
    """A shard damaged in place after its first read, its size and modification time as they
    were (bit rot, or a tool that keeps the time), is read again, and refused: what a held read
    gives is always what the file holds."""
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "manifest.json").write_bytes((run / "manifest.json").read_bytes())
    (copy / "cells").mkdir()
    for path in (run / "cells").glob("*.parquet"):
        (copy / "cells" / path.name).write_bytes(path.read_bytes())
    victim = sorted((copy / "cells").glob("*.parquet"))[0]
    with store.reads_held():
        assert len(store.load_results(copy))
        before = victim.stat()
        data = bytearray(victim.read_bytes())
        data[100] ^= 0xFF  # in the first pages of rows: their CRC32 fails
        victim.write_bytes(bytes(data))
        os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert victim.stat().st_mtime_ns == before.st_mtime_ns
        assert victim.stat().st_size == before.st_size
        with pytest.raises(store.CorruptShardError, match=victim.name):
            store.load_results(copy)


def test_a_held_read_gives_a_copy_of_the_metadata(run):
    with store.reads_held():
        first = store.read_cell_metas(run)
        for meta in first.values():
            meta["status"] = "changed"
        again = store.read_cell_metas(run)
    assert {m["status"] for m in again.values()} == {"ok"}


def _reference_digest(table: pa.Table) -> str:
    """The content digest as written before it skipped the null filling of columns without
    nulls: the bytes a shard's ``digest`` was computed from, which every release reads."""
    h = hashlib.sha256()
    for name in table.schema.names:
        column = table.column(name).combine_chunks()
        h.update(name.encode() + b"\0")
        h.update(column.is_null().to_numpy(zero_copy_only=False).astype(np.uint8).tobytes())
        kind = column.type
        if pa.types.is_string(kind):
            values = column.fill_null("").to_pylist()
            h.update("\0".join(values).encode("utf-8"))
        elif pa.types.is_boolean(kind):
            h.update(column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8))
        else:
            dtype = "<f8" if pa.types.is_floating(kind) else "<i8"
            h.update(column.fill_null(0).to_numpy(zero_copy_only=False).astype(dtype).tobytes())
    return h.hexdigest()


def test_the_content_digest_is_the_one_every_shard_was_written_with(run):
    """Columns with and without nulls, of every kind, in one chunk, in several, and empty."""
    shards = sorted((run / "cells").glob("*.parquet"))
    table = pa.concat_tables(pq.read_table(p).replace_schema_metadata(None) for p in shards)
    assert table.column("layer").null_count and table.column("layer").num_chunks > 1
    odd = pa.table(
        {
            "i": pa.chunked_array([[1, None], [3]], pa.int64()),
            "f": pa.chunked_array([[1.5], [None, -np.inf]], pa.float64()),
            "s": pa.chunked_array([["a", None], ["ü"]], pa.string()),
            "b": pa.chunked_array([[True], [None, False]], pa.bool_()),
            "full": pa.chunked_array([[1, 2], [3]], pa.int32()),
        }
    )
    for t in (table, odd, odd.slice(0, 0), table.slice(3, 5), pa.concat_tables([odd, odd])):
        assert content_digest(t) == _reference_digest(t)
    assert content_digest(odd) != content_digest(odd.slice(0, 2))
