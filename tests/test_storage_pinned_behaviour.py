"""The storage and resume layer's promises, pinned where a mutation review (h305) found that no
test could fail: a shard rewritten by hand is refused, not read as good data; a sweep resumed
skips exactly its finished cells; the summary's cache is computed again when its inputs change.
Each expected value is derived here, not read back from the constant under test."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _tiny_run import TINY, tiny_run_dir

import vanishlab as vl
from vanishlab.sweep import shard, store
from vanishlab.sweep import summary as sm
from vanishlab.sweep.config import CellConfig
from vanishlab.sweep.corrupt_shard import foreign, refused_read
from vanishlab.sweep.memory import cell_bytes
from vanishlab.sweep.plan import json_axes, plan_sweep
from vanishlab.sweep.schema import SCHEMA

_run_dir = tiny_run_dir


def _rewrite(path: Path, change) -> None:
    """Rewrite the shard at ``path`` as a hand edit would: its rows changed by ``change``
    (a pyarrow table in, one out), its metadata kept as it was, fresh page checksums (so that
    only the shard's own row checksum can tell)."""
    table = pq.read_table(path)
    changed = change(table).replace_schema_metadata(table.schema.metadata)
    pq.write_table(changed, path, write_page_checksum=True)


def test_an_input_rows_null_layer_rewritten_as_0_is_refused(tmp_path):
    """The rows' checksum covers which values are null: an input row's layer (null, it has
    none) written as 0 reads otherwise as layer 0's, the state rows' only layer here."""
    run, path = _run_dir(tmp_path)

    def layer_zero(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("layer")
        return table.set_column(i, "layer", pa.compute.fill_null(table.column(i), 0))

    assert pq.read_table(path).column("layer").null_count > 0  # input rows: layer null
    _rewrite(path, layer_zero)
    with pytest.raises(store.CorruptShardError, match="its rows do not match their checksum"):
        shard.read_shard(path, rows=True)
    with pytest.raises(store.CorruptShardError):
        store.load_results(run)


def test_a_number_changed_in_its_last_bits_is_refused(tmp_path):
    """The rows' checksum takes each float as the 8 bytes stored: a norm changed by one part in
    10^12 (far below a float32's 7 digits) is a different shard's row, not this one's."""
    _, path = _run_dir(tmp_path)
    column = "log10_fro_mean"

    def nudged(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index(column)
        values = table.column(i).to_pylist()
        values[0] = values[0] * (1 + 1e-12) + 1e-12
        return table.set_column(i, column, pa.array(values, pa.float64()))

    before = pq.read_table(path).column(column)[0].as_py()
    _rewrite(path, nudged)
    assert pq.read_table(path).column(column)[0].as_py() != before
    with pytest.raises(store.CorruptShardError, match="its rows do not match their checksum"):
        shard.read_shard(path, rows=True)


def test_text_moved_from_one_row_to_the_next_is_refused(tmp_path):
    """The rows' checksum keeps each text value apart: the sources of the last two rows
    rewritten with one letter moved across them ("state", "state" -> "stat", "estate") are
    refused, though the letters, in order, are the same."""
    _, path = _run_dir(tmp_path)

    def moved(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index("source")
        values = table.column(i).to_pylist()
        assert values[-2:] == ["state", "state"]
        values[-2:] = ["stat", "estate"]
        return table.set_column(i, "source", pa.array(values, pa.string()))

    _rewrite(path, moved)
    with pytest.raises(store.CorruptShardError, match="its rows do not match their checksum"):
        shard.read_shard(path, rows=True)


def _rewrite_meta(path: Path, change) -> None:
    """Rewrite the shard's ``vanishlab.cell`` metadata by ``change`` (a dict in, changed in
    place), its rows kept."""
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[shard.CELL_META_KEY])
    change(meta)
    text = json.dumps(meta, sort_keys=True)
    pq.write_table(table.replace_schema_metadata({shard.CELL_META_KEY: text}), path)


def test_an_older_shards_edited_summary_row_is_refused(tmp_path):
    """A shard written before the metadata had its own checksum (no ``meta_digest``) still has
    its summary row's: a rate edited in that row is refused, not shown in the summary."""
    run, path = _run_dir(tmp_path)
    rate = vl.summarize(run, cache=False)["rate"].iloc[0]

    def edited(meta: dict) -> None:
        del meta["meta_digest"]  # an older shard's metadata
        meta["summary"]["row"]["rate"] = rate + 1.0

    _rewrite_meta(path, edited)
    with pytest.raises(store.CorruptShardError, match="its summary row does not match"):
        shard.read_shard(path, rows=False)
    with pytest.raises(store.CorruptShardError):
        vl.summarize(run, cache=False)


def _failed_shard(run: Path, reason: str, elapsed_s: float) -> str:
    """Write (or write again) the shard of a failed cell that says ``reason``."""
    cfg = CellConfig(**{**TINY, "seed": 5})
    empty = SCHEMA.empty_table().to_pandas().astype({"layer": "Int64"})
    meta = {"cell_id": cfg.cell_id, "config": cfg.to_dict(), "status": "failed"}
    meta |= {"reason": reason, "elapsed_s": elapsed_s, "n_rows": 0}
    shard.write_shard(run, empty, meta)
    return cfg.cell_id


def test_a_cell_measured_again_with_the_same_outcome_kind_renews_the_cached_summary(tmp_path):
    """A failed cell measured again (``--retry-failed``) that fails again has the same status
    and row count (0) but another reason: the cached summary is computed again and says the
    new reason, not the first one's."""
    run, _ = _run_dir(tmp_path)
    cell = _failed_shard(run, "first reason", 0.5)
    assert (
        vl.summarize(run).set_index("cell_id").loc[cell, "note"].startswith("Failed: first reason")
    )
    assert (run / "summary.parquet").is_file()  # cached
    _failed_shard(run, "second reason", 0.75)
    note = vl.summarize(run).set_index("cell_id").loc[cell, "note"]
    assert note.startswith("Failed: second reason"), note


def test_a_cell_measured_again_in_the_same_time_to_the_bit_renews_the_cached_summary(tmp_path):
    """The cache knew a shard by its status, row count and time: a cell measured again whose
    three were the same (a failed cell's 0 rows, its time rounded alike) kept the earlier
    reason. It knows a shard by its whole metadata now."""
    run, _ = _run_dir(tmp_path)
    cell = _failed_shard(run, "first reason", 0.5)
    assert vl.summarize(run).set_index("cell_id").loc[cell, "note"].startswith("Failed: first")
    _failed_shard(run, "second reason", 0.5)
    note = vl.summarize(run).set_index("cell_id").loc[cell, "note"]
    assert note.startswith("Failed: second reason"), note


def test_a_summary_cached_by_other_code_is_computed_again(tmp_path, monkeypatch):
    """The cache records the code that computed it: one written by other code (an upgrade, an
    edited checkout, the same version number) is computed again, then read from the cache."""
    run, _ = _run_dir(tmp_path)
    try:
        monkeypatch.setattr(sm, "code_digest", lambda: "other code")
        sm._code_digest.cache_clear()
        vl.summarize(run)  # cached by the "other code"
        assert (run / sm.SUMMARY).is_file()
    finally:
        monkeypatch.undo()
        sm._code_digest.cache_clear()
    read_cells = store.read_cells
    computed: list[Path] = []

    def spy(run_dir):
        computed.append(run_dir)
        return read_cells(run_dir)

    monkeypatch.setattr(store, "read_cells", spy)  # summary reads the cells to compute them
    vl.summarize(run)
    assert len(computed) == 1  # computed again by this code, and cached
    vl.summarize(run)
    assert len(computed) == 1  # read from its cache


@pytest.mark.timeout(60)
def test_each_damaged_copy_of_a_shard_moved_aside_is_kept(tmp_path):
    """A shard damaged three times (each time measured again, then damaged again) is moved
    aside three times: corrupt/ keeps the three damaged files, none written over another."""
    run, path = _run_dir(tmp_path)
    good = path.read_bytes()
    damaged = [good[:-8] + bytes([n]) * 8 for n in (1, 2, 3)]
    for data in damaged:
        path.write_bytes(data)
        metas, moved = store.set_aside_damaged(run)
        assert metas == {} and len(moved) == 1 and not path.exists()
        path.write_bytes(good)  # measured again
    kept = sorted((run / "corrupt").iterdir())
    assert len(kept) == 3
    assert sorted(p.read_bytes() for p in kept) == damaged


def test_a_backup_named_after_a_shard_is_not_taken_for_a_damaged_shard(tmp_path):
    """A user's copy ``<cell_id>.parquet.bak`` in cells/ is no shard (its name ends otherwise):
    the reader says to move it out, as for any other file, and a sweep never moves it aside
    as a damaged shard of the run."""
    run, path = _run_dir(tmp_path)
    backup = path.with_name(path.name + ".bak")
    backup.write_bytes(path.read_bytes())
    with pytest.raises(vl.VanishlabError, match=r"is not a valid vanishlab shard") as err:
        store.read_cell_metas(run)
    assert not isinstance(err.value, store.CorruptShardError)
    with pytest.raises(vl.VanishlabError, match=r"move it out of the run directory"):
        store.set_aside_damaged(run)
    assert backup.is_file() and not (run / "corrupt").exists()


@pytest.mark.parametrize("code", ["EMFILE", "ENFILE"])
def test_a_full_file_table_is_the_systems_refusal_not_a_damaged_shard(tmp_path, code):
    """Too many open files, in this process (EMFILE) or in the whole system (ENFILE), says
    nothing of a shard's bytes: the read's own error is raised, naming the shard, and the
    shard is never taken for a damaged one (which a sweep moves aside)."""
    path = tmp_path / "cells" / "0123456789abcdef.parquet"
    err = OSError(getattr(errno, code), os.strerror(getattr(errno, code)))
    assert refused_read(path, err) is err and err.filename == str(path)


def test_a_flipped_bit_in_a_data_page_is_caught_by_its_page_crc(tmp_path):
    """A shard's pages carry CRC-32s and the reader checks them, so damaged bytes are refused
    before they are decoded (h314: a shard written or read without them let the damage reach
    the decoder, caught only afterwards by the rows' checksum). One bit of the last page of a
    norm column flipped: the reader says the page's CRC failed."""
    _, path = _run_dir(tmp_path)
    _flip_in_last_page(path, "log10_fro_mean")
    with pytest.raises(store.CorruptShardError, match=r"CRC checksum verification failed"):
        shard.read_shard(path, rows=True)


def test_a_frame_with_one_row_of_another_cell_is_not_written():
    """Every row of a shard carries its cell's config: a frame whose last row alone holds
    another gain than the cell's (1.0 here, by TINY's default) is refused before it is written,
    not only one whose rows all differ."""
    frame, meta = vl.run_cell(CellConfig(**TINY))
    assert meta["config"]["gain"] == 1.0 and (frame["gain"] == 1.0).all()
    frame.loc[frame.index[-1], "gain"] = 2.0
    with pytest.raises(ValueError, match="config column gain does not match"):
        shard.check_frame(frame, meta)


def test_an_older_shard_with_a_status_of_neither_kind_is_refused(tmp_path):
    """A shard's status is "ok" or "failed": an older shard (no metadata checksum) whose status
    was edited to "done" is refused as malformed, never taken for a finished cell."""
    run, path = _run_dir(tmp_path)

    def edited(meta: dict) -> None:
        del meta["meta_digest"]  # an older shard's metadata
        meta["status"] = "done"

    _rewrite_meta(path, edited)
    with pytest.raises(store.CorruptShardError, match=r"malformed vanishlab\.cell metadata"):
        shard.read_shard(path, rows=False)
    metas, corrupt = store.scan_shards(run)
    assert metas == {} and len(corrupt) == 1


def test_a_shard_with_its_columns_reordered_is_not_this_versions(tmp_path):
    """A shard's columns are this version's in its order: one rewritten with two columns
    swapped (its metadata kept) is refused already where only its metadata is read (a
    sweep's scan of finished cells), not taken for a finished cell."""
    run, path = _run_dir(tmp_path)
    names = pq.read_table(path).column_names
    i, j = names.index("log10_fro_mean"), names.index("log10_fro_std")
    order = list(names)
    order[i], order[j] = order[j], order[i]
    _rewrite(path, lambda table: table.select(order))
    assert pq.read_table(path).column_names == order != names
    with pytest.raises(store.CorruptShardError, match="orders or types them otherwise"):
        shard.read_shard(path, rows=False)
    metas, corrupt = store.scan_shards(run)
    assert metas == {} and len(corrupt) == 1


def test_a_frame_with_one_row_of_another_cell_id_is_not_written():
    """A shard holds one cell: a frame whose last row says another cell's id is refused
    before it is written."""
    frame, meta = vl.run_cell(CellConfig(**TINY))
    other = CellConfig(**{**TINY, "seed": 1}).cell_id
    assert other != meta["cell_id"]
    frame.loc[frame.index[-1], "cell_id"] = other
    with pytest.raises(ValueError, match="a shard holds exactly one cell"):
        shard.check_frame(frame, meta)


def test_pyarrows_lines_in_a_shards_reason_are_joined_by_spaces():
    """pyarrow's own text holds new lines and runs of spaces: the reason a damaged shard is
    refused for is said on one line, its words joined by single spaces (no U+FFFD marks where
    the new lines were)."""
    path = Path("run") / "cells" / "0123456789abcdef.parquet"
    why = "corrupt parquet: Couldn't deserialize thrift:  x\nDeserializing page header failed.\n"
    err = foreign(path, why)
    assert isinstance(err, store.CorruptShardError)
    said = "(corrupt parquet: Couldn't deserialize thrift: x Deserializing page header failed.)"
    assert said in str(err) and "\ufffd" not in str(err)


def test_a_resume_skips_a_failed_cell_unless_asked_to_retry_it(tmp_path):
    """A run of two cells, one finished (seed 0) and one failed (seed 5): resumed, nothing is
    pending, the failed cell kept as its outcome; with ``retry_failed`` that cell alone."""
    grid = vl.Sweep(**TINY, seed=(0, 5))
    run = tmp_path / "run"
    run.mkdir()
    store.write_manifest(run, {"format": store.FORMAT, "name": "t", "axes": json_axes(grid)})
    shard.write_shard(run, *vl.run_cell(CellConfig(**TINY)))
    failed = _failed_shard(run, "it failed", 0.5)
    plan = plan_sweep(grid, run)
    assert sorted(plan.done) == sorted(c.cell_id for c in grid.cells())
    assert plan.new_cells == 0 and plan.other_grid is None and plan.outside == ()
    assert plan.pending() == []
    assert [c.cell_id for c in plan.pending(retry_failed=True)] == [failed]


def test_a_cell_of_this_sweep_is_never_named_outside_the_runs_grids(tmp_path):
    """A run of grid seed 0 that also holds a shard of seed 5 (copied in from another run):
    swept with seed 5, its shard is this sweep's finished cell (skipped), not one kept
    "outside" every grid, though the run's manifest does not list it yet."""
    run, _ = _run_dir(tmp_path)  # manifest: seed 0
    other = CellConfig(**{**TINY, "seed": 5})
    shard.write_shard(run, *vl.run_cell(other))
    plan = plan_sweep(vl.Sweep(**TINY, seed=5), run)
    assert plan.new_cells == 1 and plan.other_grid is not None
    assert list(plan.done) == [other.cell_id] and plan.pending() == []
    assert plan.outside == ()


def test_a_plans_memory_is_its_largest_cells(tmp_path):
    """The memory a plan says a sweep needs (``--dry-run``'s "the largest cell needs about")
    is that of its largest cell, here the one of hidden size 32 beside one of 4."""
    grid = vl.Sweep(**{**TINY, "hidden_size": (4, 32)})
    small, large = (cell_bytes(c) for c in sorted(grid.cells(), key=lambda c: c.hidden_size))
    assert large > small
    assert plan_sweep(grid, tmp_path / "new").peak_bytes == large


def _flip_in_last_page(path: Path, column: str) -> None:
    """One bit flipped inside the payload of ``column``'s last page in the parquet file."""
    md = pq.ParquetFile(path).metadata
    chunk = md.row_group(0).column(md.schema.to_arrow_schema().get_field_index(column))
    end = (chunk.dictionary_page_offset or chunk.data_page_offset) + chunk.total_compressed_size
    data = bytearray(path.read_bytes())
    data[end - 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_summary_cache_carries_page_crcs(tmp_path):
    """The summary's cache is written with a CRC-32 per page, as shards are: a bit flipped in
    its rate column's last page is caught by the page's CRC before the page is decoded."""
    run, _ = _run_dir(tmp_path)
    vl.summarize(run)
    cache = run / sm.SUMMARY
    _flip_in_last_page(cache, "rate")
    with pytest.raises(OSError, match="CRC checksum verification failed"):
        pq.ParquetFile(cache, page_checksum_verification=True).read()
