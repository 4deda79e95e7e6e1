"""Shared by the storage tests: a run directory holding one shard of a tiny cell."""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.sweep import shard, store
from vanishlab.sweep.config import CellConfig

TINY = {"hidden_size": 4, "input_size": 2, "seq_len": 3, "batch": 2}
AXES = {a: list(v) for a, v in vl.Sweep(**TINY).axes().items()}


def tiny_run_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A run directory holding one shard of a tiny cell, and that shard's path."""
    run = tmp_path / "run"
    run.mkdir()
    store.write_manifest(run, {"format": store.FORMAT, "name": "t", "axes": AXES})
    return run, shard.write_shard(run, *vl.run_cell(CellConfig(**TINY)))
