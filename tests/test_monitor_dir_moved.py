"""A monitor's run directory moved or removed between two ``step()`` calls of a training loop
(helper 407), as a sweep's was (tests/test_run_dir_moved.py): the next step's shard made
``cells/`` again at the old path, and the later steps and the final manifest went there, a
manifest that claimed every step of the run (steps 1-4 over the shards of 3 and 4; after a
removal, steps 1 and 2 claimed and gone), the training told nothing. The step that would
write at the old path now raises a one-line ``VanishlabError`` saying where the folder went
and the way on, and nothing is written at the old path. A symbolic link left at the old path
to the moved folder is no move. ``vanishlab analyze`` moved while it measures: "No such file
or directory: RUN/manifest.json" said neither what became of the folder nor what to do."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import torch
from _cli_lines import one_error_line
from _moved_run import move_at_write
from typer.testing import CliRunner

import vanishlab as vl
import vanishlab.trained.analyze_run as analyze_run
from vanishlab.cli import app
from vanishlab.errors import VanishlabError

LINUX = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="where it went: /proc")


def _train(out: Path, then, steps: range = range(1, 5), *, after: int = 2) -> None:
    """A tiny training loop monitored into ``out``, every step; ``then()`` after step
    ``after`` (as `mv` or `rm -rf` by hand between two steps)."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 4, batch_first=True)
    probe = torch.randn(1, 5, 2, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.SGD(rnn.parameters(), lr=0.1)
    with vl.JacobianMonitor(rnn, probe, out=out, every=1, lyapunov=False) as mon:
        for n in steps:
            loss = rnn(probe)[0].pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            mon.step(n, loss=loss)
            if n == after:
                then()


def _steps(run: Path) -> list[int]:
    return sorted(int(s) for s in vl.load_results(run)["step"].unique())


@LINUX
def test_a_monitor_moved_between_steps_refuses_the_next_step_and_resumes_moved_back(tmp_path):
    # out= in a folder the monitor made: it stays, for the move back the line says (it went,
    # an empty folder the monitor had made, and `mv moved new/run` failed)
    out, moved = tmp_path / "new" / "run", tmp_path / "moved"
    with pytest.raises(VanishlabError) as err:
        _train(out, lambda: out.rename(moved))
    assert str(err.value) == (
        f"step 3 not written: run directory {out} was moved to {moved} while the monitor "
        f"wrote it (2 recorded steps kept there); move it back to {out} and open a monitor on "
        "it again with the same arguments to resume, or give out= a new or empty directory"
    )
    assert not out.exists() and not out.is_symlink()  # nothing made again at the old path
    assert out.parent.is_dir()
    assert _steps(moved) == [1, 2]  # nothing half-written there either
    manifest = vl.load_manifest(moved)
    assert sorted(manifest["steps"]) == ["1", "2"] and manifest["finished"] is None
    assert not list(moved.rglob("*.tmp"))
    moved.rename(out)  # the way on it names: the same training, from the start, resumes
    _train(out, lambda: None)
    assert _steps(out) == [1, 2, 3, 4]
    assert vl.load_manifest(out)["finished"] is not None


@LINUX
@pytest.mark.parametrize(
    ("module", "said"),
    [("shard", "step 3 not written"), ("manifest", "step 3 kept, not in the manifest")],
)
def test_a_monitor_moved_while_it_writes_a_step_says_so(tmp_path, monkeypatch, module, said):
    """`mv` while step 3's shard (or then the manifest) is written, its fsync most of a small
    step's time: the rename at the old path failed, and the training loop read "No such file
    or directory: RUN/cells/<id>.parquet" (seen with examples/monitor_adding.py)."""
    out, moved = tmp_path / "run", tmp_path / "moved"

    def then() -> None:
        move_at_write(monkeypatch, module, out, moved)

    with pytest.raises(VanishlabError) as err:
        _train(out, then)
    assert str(err.value).startswith(f"{said}: run directory {out} was moved to {moved} ")
    assert not out.exists()
    kept = [1, 2, 3] if module == "manifest" else [1, 2]
    assert _steps(moved) == kept


def test_a_monitor_removed_between_steps_is_not_made_again(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(VanishlabError) as err:
        _train(out, lambda: shutil.rmtree(out))
    said = str(err.value)
    if sys.platform == "linux":
        assert said == (
            f"step 3 not written: run directory {out} was removed while the monitor wrote "
            "it, its recorded steps with it; open a monitor on it again to start again"
        ), said
    else:
        assert said.startswith(f"step 3 not written: run directory {out} was moved or removed")
    assert not out.exists()


def test_a_link_left_in_the_moved_monitors_place_is_no_move(tmp_path):
    """`mv runs/x /big/x; ln -s /big/x runs/x` between two steps: the same folder, by a link."""
    out, moved = tmp_path / "run", tmp_path / "big" / "run"
    moved.parent.mkdir()

    def relink() -> None:
        out.rename(moved)
        out.symlink_to(moved)

    _train(out, relink)
    assert _steps(moved) == [1, 2, 3, 4]
    manifest = vl.load_manifest(moved)
    assert sorted(manifest["steps"]) == ["1", "2", "3", "4"] and manifest["finished"] is not None


@LINUX
def test_an_analysis_moved_while_it_measures_says_so_in_one_line(tmp_path, monkeypatch):
    out, moved = tmp_path / "run", tmp_path / "moved"
    torch.save(torch.nn.RNN(2, 4).state_dict(), tmp_path / "m.pt")
    real = analyze_run.measure_rows

    def measuring(*args, **kwargs):
        out.rename(moved)  # as `mv` by hand during a measurement of minutes
        return real(*args, **kwargs)

    monkeypatch.setattr(analyze_run, "measure_rows", measuring)
    command = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "5", "--batch", "1"]
    result = CliRunner().invoke(app, [*command, "--out", str(out)])
    line = one_error_line(result, f"run directory {out} was moved to {moved} while the analysis")
    assert line.endswith(
        f"move it back to {out} and run the same command to measure it again (this "
        "measurement is not kept)"
    ), line
    assert not out.exists()
    monkeypatch.undo()
    moved.rename(out)
    result = CliRunner().invoke(app, [*command, "--out", str(out)])  # the way on it names
    assert result.exit_code == 0, result.output
    assert vl.load_manifest(out)["finished"] is not None


@LINUX
@pytest.mark.parametrize(
    ("module", "nth", "said"),
    [
        ("manifest", 1, "measure it again (this measurement is not kept)"),
        ("shard", 1, "measure it again (this measurement is not kept)"),
        ("manifest", 2, "finish it"),
    ],
)
def test_an_analysis_moved_while_it_writes_says_so(tmp_path, monkeypatch, module, nth, said):
    """`mv` during the analysis's first manifest, its shard or its last manifest (a write's
    fsync): "error: No such file or directory: RUN/manifest.json" (or RUN/cells/<id>.parquet)."""
    out, moved = tmp_path / "run", tmp_path / "moved"
    torch.save(torch.nn.RNN(2, 4).state_dict(), tmp_path / "m.pt")
    move_at_write(monkeypatch, module, out, moved, nth)
    command = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "5", "--batch", "1"]
    result = CliRunner().invoke(app, [*command, "--out", str(out)])
    line = one_error_line(result, f"run directory {out} was moved to {moved} while the analysis")
    assert line.endswith(f"move it back to {out} and run the same command to {said}"), line
    assert not out.exists()
    monkeypatch.undo()
    moved.rename(out)
    result = CliRunner().invoke(app, [*command, "--out", str(out)])  # the way on it names
    assert result.exit_code == 0, result.output
    assert vl.load_manifest(out)["finished"] is not None
    assert len(vl.load_results(out)) > 0
