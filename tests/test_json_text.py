"""JSON nested deeper than Python's parser goes ("[[[[...") in a file a user can damage raised
RecursionError, a traceback: from a shard's metadata, the summary's cache and a manifest.json
above a run directory, as it did from load_manifest. Each now takes the path its other damage
takes, through one parser (sweep/json_text.py's parse_json)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import vanishlab as vl
from vanishlab.sweep import rundir, store
from vanishlab.sweep import summary as sm
from vanishlab.sweep.json_text import MAX_DEPTH, parse_json

DEEP = "[" * 200_000


def _sweep() -> vl.Sweep:
    return vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)


@pytest.mark.parametrize(
    "text",
    [DEEP, DEEP + "]" * 200_000, '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)],
)
def test_json_nested_too_deep_is_a_value_error(text):
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_json(text)
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_json(text.encode())


def test_json_within_the_depth_and_its_other_failures():
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(deepest) is not None and parse_json(b'{"a": [1, {"b": 2}]}')["a"][1]
    for text in ('{"format', "", b"\xff"):
        with pytest.raises(ValueError):
            parse_json(text)


def test_a_shard_s_metadata_nested_too_deep_is_corrupt_and_sweep_heals(tmp_path):
    run = tmp_path / "run"
    vl.run_sweep(_sweep(), run)
    (path,) = (run / "cells").glob("*.parquet")
    table = pq.read_table(path)
    table = table.replace_schema_metadata({store.CELL_META_KEY: DEEP})
    pq.write_table(table, path, write_page_checksum=True)
    with pytest.raises(store.CorruptShardError, match=r"unreadable vanishlab\.cell metadata"):
        vl.load_cells(run)
    vl.run_sweep(_sweep(), run)  # moves it aside and measures the cell again
    assert (run / "corrupt" / path.name).is_file()
    assert len(vl.load_cells(run)) == 1


def test_a_summary_cache_nested_too_deep_is_computed_afresh(tmp_path):
    run = tmp_path / "run"
    vl.run_sweep(_sweep(), run)
    first = vl.summarize(run)
    table = pq.read_table(run / sm.SUMMARY)
    pq.write_table(table.replace_schema_metadata({sm.SUMMARY_META_KEY: DEEP}), run / sm.SUMMARY)
    assert vl.summarize(run).equals(first)


def test_a_manifest_nested_too_deep_above_a_run_is_not_a_run(tmp_path):
    """Another program's manifest.json above the folder: no run directory encloses it."""
    (tmp_path / "manifest.json").write_text(DEEP)
    assert rundir.enclosing_run(tmp_path / "run") is None
    vl.run_sweep(_sweep(), tmp_path / "run")
    assert len(vl.load_cells(tmp_path / "run")) == 1
