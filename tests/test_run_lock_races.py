"""The run directory changed by another process while a writer takes its lock (RunLock): each is
one line, status 2, or the folder made again. A raw FileNotFoundError or NotADirectoryError
reached the caller (vl.run_sweep's traceback; the command line's "error: Not a directory:
RUN/.lock"). The races are made here by a patched open of ``.lock``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep import lock

SMALL = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "1"]


def _sweep(out: Path):
    return CliRunner().invoke(
        app, ["sweep", *SMALL, "--workers", "1", "--quiet", "--out", str(out)]
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _racing(monkeypatch, race, times: int | None = 1) -> None:
    """``race(run_dir)`` just before ``.lock`` is opened, the first ``times`` opens (None:
    every one)."""
    opened, raced = lock._opened, []

    def racing(path: Path):
        if times is None or len(raced) < times:
            raced.append(path)
            race(path.parent)
        return opened(path)

    monkeypatch.setattr(lock, "_opened", racing)


def _made_a_file(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("another program's file\n")


def test_a_run_directory_replaced_by_a_file_is_one_line(tmp_path, monkeypatch):
    _racing(monkeypatch, _made_a_file)
    out = tmp_path / "run"
    one_error_line(
        _sweep(out),
        f"error: cannot write the run directory {out}: Not a directory; give --out another "
        "directory",
    )
    assert out.read_text() == "another program's file\n"  # left as it was


def test_a_run_directory_replaced_by_a_file_is_a_vanishlab_error_in_python(tmp_path, monkeypatch):
    _racing(monkeypatch, _made_a_file)
    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=1, seed=(0,))
    with pytest.raises(vl.VanishlabError, match="Not a directory; give out= another directory"):
        vl.run_sweep(sweep, out=tmp_path / "run", workers=1)


# In the slow tier: ~5 s of CPU; make test keeps the other races.
@pytest.mark.slow
def test_a_run_directory_removed_as_its_lock_is_taken_is_made_again(tmp_path, monkeypatch):
    """Another writer of the same new folder, failing, removed it after this one made it."""
    _racing(monkeypatch, shutil.rmtree)
    out = tmp_path / "new" / "run"
    result = _sweep(out)
    assert result.exit_code == 0, result.stderr
    assert list((out / "cells").glob("*.parquet"))


def test_a_run_directory_removed_at_every_try_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    _racing(monkeypatch, shutil.rmtree, times=None)
    out = tmp_path / "new" / "run"
    one_error_line(
        _sweep(out),
        f"error: cannot write the run directory {out}: No such file or directory; give --out "
        "another directory",
    )
    assert _tree(tmp_path) == []  # new/ too: what the sweep made goes


@pytest.mark.skipif(not hasattr(lock, "fcntl"), reason="the run's folder is held with flock")
def test_a_run_directory_removed_as_its_folder_lock_is_refused_is_said_in_use(
    tmp_path, monkeypatch
):
    """Its .lock deleted under a running writer, then the folder removed: the refusal looked
    up whether this process held the folder, and raised FileNotFoundError instead."""

    def held_elsewhere(folder: Path) -> int:
        shutil.rmtree(folder)
        raise BlockingIOError

    monkeypatch.setattr(lock, "_lock_folder", held_elsewhere)
    out = tmp_path / "run"
    one_error_line(
        _sweep(out),
        f"error: run directory {out} is in use by another vanishlab process (its .lock was "
        "deleted while it ran)",
    )
