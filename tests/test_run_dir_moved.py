"""A run directory moved or removed while its sweep writes it (helper 404): the sweep made
``RUN/cells`` again at the old path, parents and all, wrote the later cells and the final
manifest there, and said it had run them all (status 0), the run split between two folders.
It now stops at the next cell in one line, status 2, that says where the finished cells are,
and writes nothing at the old path. A symbolic link left at the old path to the moved folder
is no move: the sweep goes on through it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from _cli_lines import one_error_line
from _moved_run import move_at_write
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.sweep import runner as sweep_runner

GRID = dict(hidden_size=4, input_size=2, seq_len=4, batch=1, seed=(0, 1, 2))
FLAGS = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "1"]
# GRID's one value of each other axis: without them the quick default grid's swept 144 cells
# (two activations, two depths, four inits, three gains), 4.6 of the test's 4.7 s of CPU.
FLAGS += ["--seeds", "3", "--activation", "tanh", "--num-layers", "1", "--init", "default"]
FLAGS += ["--gain", "1.0"]


def _after_first_shard(monkeypatch, then) -> None:
    """``then()`` once the sweep's first shard is written (as `mv` or `rm -rf` by hand)."""
    real, calls = sweep_runner.write_shard, []

    def writing(*args, **kwargs):
        path = real(*args, **kwargs)
        calls.append(path)
        if len(calls) == 1:
            then()
        return path

    monkeypatch.setattr(sweep_runner, "write_shard", writing)


def _shards(run: Path) -> int:
    return len(list((run / "cells").glob("*.parquet")))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="where it went: Linux's /proc")
def test_a_run_moved_mid_sweep_stops_in_one_line_and_resumes_once_moved_back(tmp_path, monkeypatch):
    out, moved = tmp_path / "run", tmp_path / "moved"
    _after_first_shard(monkeypatch, lambda: out.rename(moved))
    command = ["sweep", *FLAGS, "--workers", "1", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(app, command)
    line = one_error_line(result, f"run directory {out} was moved to {moved} while the sweep")
    assert line.endswith(
        f"(1 finished cell kept there); move it back to {out} and run the same command to resume"
    ), line
    assert not out.exists()  # nothing made again at the old path
    assert _shards(moved) == 1 and (moved / "manifest.json").is_file()
    monkeypatch.undo()
    moved.rename(out)
    planned = vl.load_manifest(out)["n_cells"]
    result = CliRunner().invoke(app, command)  # the same command resumes
    assert result.exit_code == 0, result.output
    assert _shards(out) == planned > 1


def test_a_run_removed_mid_sweep_is_not_made_again(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _after_first_shard(monkeypatch, lambda: shutil.rmtree(out))
    with pytest.raises(VanishlabError) as err:
        vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    said = str(err.value)
    if sys.platform == "linux":
        assert said == (
            f"run directory {out} was removed while the sweep wrote it, its finished cells "
            "with it; run the same command to start again"
        ), said
    else:
        assert said.startswith(f"run directory {out} was moved or removed"), said
    assert not out.exists()


def test_a_link_left_in_the_moved_runs_place_is_no_move(tmp_path, monkeypatch):
    """`mv runs/x /big/x; ln -s /big/x runs/x` mid-sweep: the same folder, reached by a link."""
    out, moved = tmp_path / "run", tmp_path / "big" / "run"
    moved.parent.mkdir()

    def relink() -> None:
        out.rename(moved)
        out.symlink_to(moved)

    _after_first_shard(monkeypatch, relink)
    summary = vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    assert summary.n_run == 3 and _shards(moved) == 3
    assert vl.load_results(moved)["cell_id"].nunique() == 3


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="where it went: Linux's /proc")
@pytest.mark.parametrize(
    ("module", "nth", "kept"),
    [
        ("shard", 2, "1 finished cell"),
        ("manifest", 1, "0 finished cells"),
        ("manifest", 2, "3 finished cells"),
    ],
)
def test_a_run_moved_while_the_sweep_writes_says_so(tmp_path, monkeypatch, module, nth, kept):
    """`mv` while the second shard, the first manifest or the last one is written (its fsync
    most of a small write's time): the rename at the old path failed, and the sweep said "No
    such file or directory: RUN/cells/<id>.parquet" (or RUN/manifest.json), not the move."""
    out, moved = tmp_path / "run", tmp_path / "moved"
    move_at_write(monkeypatch, module, out, moved, nth)
    with pytest.raises(VanishlabError) as err:
        vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    assert str(err.value) == (
        f"run directory {out} was moved to {moved} while the sweep wrote it ({kept} kept "
        f"there); move it back to {out} and run the same command to resume"
    )
    assert not out.exists()
    monkeypatch.undo()
    moved.rename(out)
    summary = vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)  # the way on
    assert _shards(out) == 3 and summary.n_cells == 3
    assert vl.load_manifest(out)["finished"] is not None
