"""What a sweep that fails or is refused leaves behind, and what it says: nothing it made, one
line, and the traceback behind a cell's error where VANISHLAB_TRACEBACK asks for it."""

from __future__ import annotations

import errno
import os
import shlex
from pathlib import Path

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.sweep import store
from vanishlab.sweep.plan import plan_sweep

runner = CliRunner()

GRID = dict(hidden_size=4, input_size=2, seq_len=4, batch=1)
FLAGS = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "1"]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("stop", [OSError, KeyboardInterrupt])
def test_a_sweep_that_fails_before_its_manifest_leaves_nothing_it_made(tmp_path, monkeypatch, stop):
    """A sweep that failed after taking its lock, before its manifest was written (a full
    disk, a file size limit: seen with `ulimit -f 1`), left a folder holding its .lock alone,
    which a report then called no run directory. What the sweep made goes (its folders, its
    .lock); what was there before stays: a folder of the user's, an earlier process's .lock."""

    def refused(*args, **kwargs):
        if stop is OSError:
            raise OSError(errno.ENOSPC, "No space left on device", "manifest.json")
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "write_manifest", refused)
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "note.txt").write_text("mine")
    new = tmp_path / "kept" / "new" / "run"
    empty = tmp_path / "empty"
    empty.mkdir()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / ".lock").write_bytes(b"")  # an earlier, killed process's
    before = _tree(tmp_path)
    for out in (new, empty, earlier):
        with pytest.raises(stop):
            vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
        assert _tree(tmp_path) == before, out
    if stop is OSError:
        result = runner.invoke(app, ["sweep", *FLAGS, "--workers", "1", "--out", str(new)])
        one_error_line(result, "No space left on device")
        assert _tree(tmp_path) == before


def test_a_sweep_that_fails_after_its_manifest_keeps_its_run(tmp_path, monkeypatch):
    """Once the manifest is written the folder is a run: a failure then removes nothing."""
    out = tmp_path / "run"

    def failing(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "cells/x.parquet")

    monkeypatch.setattr("vanishlab.sweep.runner.write_shard", failing)
    with pytest.raises(OSError):
        vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    assert {".lock", "manifest.json"} <= set(_tree(out))


@pytest.mark.parametrize(
    ("code", "strerror", "remedy"),
    [
        (errno.ENOSPC, "No space left on device", "the disk is full: free some space"),
        (errno.EFBIG, "File too large", "over the file-size limit, ulimit -f: raise it"),
    ],
)
def test_a_shard_the_disk_refuses_says_what_to_do_and_what_is_kept(
    tmp_path, monkeypatch, code, strerror, remedy
):
    """`ulimit -f 50; vanishlab sweep --seq-len 400` ended in "error: cannot write
    RUN/cells/x.parquet: File too large" (helper 282): neither what to do nor that the cells
    already written are kept and the same command resumes, as a Ctrl-C's line says."""
    shard = str(tmp_path / "run" / "cells" / "x.parquet")

    def failing(*args, **kwargs):
        raise OSError(code, strerror, shard)

    monkeypatch.setattr("vanishlab.sweep.runner.write_shard", failing)
    out = str(tmp_path / "run")
    result = runner.invoke(app, ["sweep", *FLAGS, "--workers", "1", "--out", out])
    line = one_error_line(result, f"cannot write {shard}: {strerror} ({remedy}); ")
    assert line.endswith(
        f"; no cell is saved yet ({out} keeps its manifest); run the same command to start again"
    ), line


@pytest.mark.parametrize("written", [None, 0, 2])
def test_a_sweep_the_disk_stops_says_how_many_cells_it_kept(tmp_path, monkeypatch, written):
    """`ulimit -f 2; vanishlab sweep gain_phase --smoke --out u1` was refused its manifest, the
    folder u1 removed, no cell measured, and said "finished work is kept; run the same command
    to resume" (true only vacuously). The line now says what the folder keeps, looked at after
    the stop: nothing (and no folder), no finished cell, or how many (``written`` shards before
    the refusal; None: the manifest refused)."""
    from vanishlab.sweep import runner as sweep_runner

    out = tmp_path / "run"
    real = sweep_runner.write_shard
    calls = []

    def refused(*args, **kwargs):
        raise OSError(errno.EFBIG, "File too large", str(out / "x"))

    def some(*args, **kwargs):
        calls.append(1)
        if len(calls) > written:
            refused()
        real(*args, **kwargs)

    if written is None:
        monkeypatch.setattr(store, "write_manifest", refused)
    else:
        monkeypatch.setattr(sweep_runner, "write_shard", some)
    grid = ["--hidden-size", "4,5,6,7", *FLAGS[2:]]
    result = runner.invoke(app, ["sweep", *grid, "--workers", "1", "--out", str(out)])
    line = one_error_line(result, "File too large (over the file-size limit, ulimit -f: raise it)")
    then = {
        None: f"; nothing was written ({out} does not exist)",
        0: f"; no cell is saved yet ({out} keeps its manifest); run the same command to start "
        "again",
        2: f"; 2 finished cells kept in {out}; run the same command to resume",
    }[written]
    assert line.endswith(then), line
    assert out.exists() == (written is not None)


def test_a_run_name_too_long_below_an_existing_folder_is_a_vanishlab_error(tmp_path):
    """vl.run_sweep (and a dry run's plan) raised the raw OSError ("File name too long") of
    the path's first look, below a folder that exists; the command line said it in one line.
    Both say make_dir's words now, which name the way out; nothing is made."""
    out = tmp_path / ("a" * 300)
    said = "cannot write the run directory .*: File name too long; give out= another"
    with pytest.raises(VanishlabError, match=said):
        vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    with pytest.raises(VanishlabError, match=said):
        plan_sweep(vl.Sweep(**GRID), out, dry_run=True)
    result = runner.invoke(app, ["sweep", *FLAGS, "--workers", "1", "--out", str(out)])
    one_error_line(result, "File name too long; give --out another directory")
    assert _tree(tmp_path) == []


def test_a_folder_named_as_a_shard_is_left_where_it_is(tmp_path):
    """A folder in cells/ named like a shard is not vanishlab's: the sweep moved it (and what
    it held) to corrupt/ as a damaged shard. It is refused in one line now, as a folder of
    any other name was, and left as it is."""
    out = tmp_path / "run"
    vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    folder = out / "cells" / "0123456789abcdef.parquet"
    folder.mkdir()
    (folder / "note.txt").write_text("mine")
    before = _tree(out)
    said = "0123456789abcdef.parquet is not a valid vanishlab shard (unexpected directory)"
    with pytest.raises(VanishlabError) as refused:
        vl.run_sweep(vl.Sweep(**GRID), out, workers=1, progress=False)
    assert said in str(refused.value) and not isinstance(refused.value, store.CorruptShardError)
    assert _tree(out) == before and not (out / "corrupt").exists()
    command = shlex.split(store.load_manifest(out)["command"])  # the run's own flags
    result = runner.invoke(app, [*command[1:], "--workers", "1"])
    one_error_line(result, said)
    assert _tree(out) == before and not (out / "corrupt").exists()
    assert (folder / "note.txt").read_text() == "mine"


def _greedy(rnn, gain, generator):
    raise MemoryError  # as a shape bug's request of an exabyte does


@pytest.mark.parametrize("switch", ["1", "0"])
def test_a_cell_s_memory_error_shows_its_traceback_where_asked(monkeypatch, capsys, switch):
    """A MemoryError in a cell became its reason ("the cell needs more memory than this
    machine could give: sweep a smaller --batch ..."), and VANISHLAB_TRACEBACK=1 showed
    nothing of where it came from: a bug's request read as the machine's shortage. The
    traceback is printed on stderr as the cell is recorded now; unset, nothing is."""
    monkeypatch.setenv("VANISHLAB_TRACEBACK", switch)
    init = vl.Init(name="orthogonal", description="asks too much", apply=_greedy)
    config = vl.CellConfig(**GRID, init="orthogonal")
    _, meta = vl.run_cell(config, init=init)
    assert meta["status"] == "failed" and meta["failure"] == "error"
    assert meta["reason"].startswith("MemoryError: the cell needs more memory")
    err = capsys.readouterr().err
    if switch == "1":
        assert f"cell {config.cell_id} failed with an error:" in err
        assert "Traceback (most recent call last)" in err and "in _greedy" in err, err
        assert err.rstrip().endswith("MemoryError"), err
    else:
        assert err == ""


def test_the_bar_writes_a_name_s_byte_as_the_plain_lines_do(monkeypatch):
    r"""The plain lines write a byte of another encoding as \xNN (status_line); the terminal's
    bar drew its lone surrogate, which a strict stderr cannot encode."""
    from _terminal import terminal

    from vanishlab.sweep import progress

    drawn = terminal(monkeypatch, 100)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    with progress.Progress(True, "r\udcffun", 2, 0, 0) as bar:
        bar.advance(0)
        bar.stage("s\udcfe", 1)
    text = drawn()
    assert "r\\xffun" in text and "s\\xfe" in text and "\udcff" not in text, ascii(text)


def test_an_analysis_stopped_before_its_manifest_leaves_no_folder_it_made(tmp_path, monkeypatch):
    """`vanishlab analyze big.pt --out new/deeper/run`, stopped (SIGTERM, seen) while it
    measured, removed run/ (its .lock alone, after letting go of the lock) and left new/deeper
    behind; into a folder of the user's that was there, empty, it left its .lock. A sweep and an
    analysis share one way in now (rundir.held_new_or_run): neither is left."""
    import torch

    from vanishlab.trained import analyze_run

    ckpt = tmp_path / "m.pt"
    torch.save(torch.nn.RNN(2, 3).state_dict(), ckpt)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analyze_run, "measure_rows", stopped)
    (tmp_path / "empty").mkdir()
    before = _tree(tmp_path)
    for out in (tmp_path / "new" / "deeper" / "run", tmp_path / "empty"):
        with pytest.raises(KeyboardInterrupt):
            vl.analyze_checkpoint(ckpt, out, seq_len=4, batch=1)
        assert _tree(tmp_path) == before, out


def test_an_analysis_whose_shard_is_refused_leaves_nothing_half_written(tmp_path, monkeypatch):
    """`ulimit -f 2; vanishlab analyze m.pt --out a1` was refused its shard after its manifest,
    and left a1 with the manifest and an empty cells/, which `vanishlab report a1` then called
    "no measured model (its shard is gone)". A new analysis refused its shard now leaves
    nothing it made (a folder of the user's, empty, stays so); a resumed one keeps its
    manifest."""
    import torch

    from vanishlab.trained import analyze_run

    ckpt = tmp_path / "m.pt"
    torch.save(torch.nn.RNN(2, 3).state_dict(), ckpt)

    def refused(run_dir, *args, **kwargs):
        raise OSError(errno.EFBIG, "File too large", str(run_dir / "cells" / "x.parquet"))

    real = analyze_run.write_shard
    monkeypatch.setattr(analyze_run, "write_shard", refused)
    (tmp_path / "empty").mkdir()
    before = _tree(tmp_path)
    for out in (tmp_path / "new" / "deeper" / "run", tmp_path / "empty"):
        result = runner.invoke(app, ["analyze", str(ckpt), "--out", str(out), "--seq-len", "4"])
        one_error_line(result, "File too large (over the file-size limit, ulimit -f: raise it)")
        assert _tree(tmp_path) == before, out
    out = tmp_path / "run"
    monkeypatch.setattr(analyze_run, "write_shard", real)
    vl.analyze_checkpoint(ckpt, out, seq_len=4, batch=1)
    for shard in (out / "cells").iterdir():
        shard.unlink()  # an earlier analysis whose shard is gone: resumed, its manifest kept
    monkeypatch.setattr(analyze_run, "write_shard", refused)
    with pytest.raises(OSError):
        vl.analyze_checkpoint(ckpt, out, seq_len=4, batch=1)
    assert (out / store.MANIFEST).is_file()


@pytest.mark.parametrize("stop", [OSError, KeyboardInterrupt])
def test_a_monitor_that_fails_before_its_manifest_leaves_nothing_it_made(
    tmp_path, monkeypatch, stop
):
    """vl.JacobianMonitor made its run directory with its own make_dir and RunLock: a start
    that failed before its manifest (a full disk, Ctrl-C) left out=new/deeper/run with its
    .lock, and its .lock in an empty folder of the user's. It takes the sweeps' way in now
    (rundir.held_new_or_run), held across the training steps; a started one keeps its run."""
    import torch

    def refused(*args, **kwargs):
        if stop is OSError:
            raise OSError(errno.ENOSPC, "No space left on device", "manifest.json")
        raise KeyboardInterrupt

    net, probe = torch.nn.RNN(2, 3), torch.randn(4, 1, 2)
    (tmp_path / "empty").mkdir()
    before = _tree(tmp_path)
    write = store.write_manifest
    monkeypatch.setattr(store, "write_manifest", refused)
    for out in (tmp_path / "new" / "deeper" / "run", tmp_path / "empty"):
        with pytest.raises(stop), vl.JacobianMonitor(net, probe, out=out):
            pass
        assert _tree(tmp_path) == before, out
    monkeypatch.setattr(store, "write_manifest", write)
    out = tmp_path / "new" / "run"
    with vl.JacobianMonitor(net, probe, out=out) as mon:
        assert (out / ".lock").exists()
        mon.step(0)
    assert vl.load_manifest(out)["finished"] and len(vl.load_cells(out)) == 1
    with vl.JacobianMonitor(net, probe, out=out) as mon:  # its lock was let go of
        mon.step(1)


@pytest.mark.parametrize("stop", [OSError, KeyboardInterrupt])
def test_a_monitor_stopped_before_its_first_step_is_saved_leaves_nothing_half_written(
    tmp_path, monkeypatch, stop
):
    """`ulimit -f 2; python train.py` was refused its monitor's first step's shard after the
    manifest, and left out= with the manifest (no step, "stopped_by": "OSError") and an empty
    cells/, which `vanishlab report` then called a run that "holds no measured step". A new
    run stopped before it saved a step now leaves nothing it made (an empty folder of the
    user's stays empty), as an analysis refused its shard does; a run with earlier steps keeps
    them, and its manifest."""
    import torch

    from vanishlab.trained import monitor

    def refused(run_dir, *args, **kwargs):
        if stop is OSError:
            raise OSError(errno.EFBIG, "File too large", str(run_dir / "cells" / "x.parquet"))
        raise KeyboardInterrupt

    net, probe = torch.nn.RNN(2, 3), torch.randn(4, 1, 2)
    write = monitor.write_shard
    monkeypatch.setattr(monitor, "write_shard", refused)
    (tmp_path / "empty").mkdir()
    before = _tree(tmp_path)
    for out in (tmp_path / "new" / "deeper" / "run", tmp_path / "empty"):
        with pytest.raises(stop), vl.JacobianMonitor(net, probe, out=out) as mon:
            mon.step(0)
        assert _tree(tmp_path) == before, out
        with pytest.raises(stop), vl.JacobianMonitor(net, probe, out=out):
            raise stop()  # the training raised before the first recorded step
        assert _tree(tmp_path) == before, out
    out = tmp_path / "run"
    monkeypatch.setattr(monitor, "write_shard", write)
    with vl.JacobianMonitor(net, probe, out=out) as mon:
        mon.step(0)
    monkeypatch.setattr(monitor, "write_shard", refused)
    with pytest.raises(stop), vl.JacobianMonitor(net, probe, out=out) as mon:
        mon.step(1)
    assert vl.load_manifest(out)["stopped_by"] == stop.__name__
    assert list(vl.load_results(out)["step"].unique()) == [0]


def test_a_monitor_stopped_as_it_starts_after_its_manifest_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C in JacobianMonitor.__enter__ after its manifest was written (as it said the
    steps it moved aside) left a new out= with a manifest and no step: __exit__ never runs for
    a start that raised, and held_new_or_run keeps a folder that holds a manifest."""
    import torch

    from vanishlab.trained import monitor

    def stopped(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(monitor, "moved_steps", stopped)
    before = _tree(tmp_path)
    mon = vl.JacobianMonitor(torch.nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "a" / "b")
    with pytest.raises(KeyboardInterrupt), mon:
        pass
    assert _tree(tmp_path) == before


def test_a_stop_as_the_run_folder_is_made_leaves_no_folder(tmp_path, monkeypatch):
    """Ctrl-C landing as make_dir returned, before held_new_or_run had its list of the folders
    it made (assigned outside the try that removes them), left out=new/deeper/run, empty. The
    list is now filled as each folder is made, inside that try."""
    from vanishlab.sweep import preflight, rundir

    def stopped(run_dir, **kwargs):
        preflight.make_dir(run_dir, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(rundir, "make_dir", stopped)
    before = _tree(tmp_path)
    with pytest.raises(KeyboardInterrupt), rundir.held_new_or_run(tmp_path / "new" / "deeper"):
        pass
    assert _tree(tmp_path) == before


class _StopsAtWrite:
    """A ``.lock`` file whose write is where Ctrl-C lands (its other calls: the file's)."""

    def __init__(self, f) -> None:
        self._f = f

    def __getattr__(self, name: str):
        return getattr(self._f, name)

    def write(self, data: bytes) -> int:
        raise KeyboardInterrupt


@pytest.mark.skipif(os.name == "nt", reason="the run's folder is held with flock on POSIX")
def test_a_stop_while_the_run_lock_is_taken_leaves_nothing_and_holds_nothing(tmp_path, monkeypatch):
    """Ctrl-C in RunLock.__enter__ after it had locked .lock and the folder, as it wrote its
    pid, left .lock (so held_new_or_run could not remove new/run, nor new) and the folder's
    descriptor open and locked: every later writer of that run in the same process (a
    notebook) was refused "already open in this process" until the process ended. The stop
    now lets go of both, and what was made goes."""
    from vanishlab.sweep import lock
    from vanishlab.sweep.rundir import held_new_or_run

    opened = lock._opened
    monkeypatch.setattr(lock, "_opened", lambda p: (_StopsAtWrite(opened(p)[0]), True))
    before, run_dir = _tree(tmp_path), tmp_path / "new" / "run"
    with pytest.raises(KeyboardInterrupt), held_new_or_run(run_dir):
        pass
    assert _tree(tmp_path) == before
    monkeypatch.setattr(lock, "_opened", opened)
    with held_new_or_run(run_dir) as held:  # taken again in this process
        assert held.made


def test_a_lock_file_discarded_under_a_waiting_writer_is_not_held(tmp_path, monkeypatch):
    """A writer that failed before its manifest unlinks its .lock while it holds it
    (RunLock.discard). Another that had opened .lock before that and locked it after held a
    lock on a file no longer there: .lock was gone while it wrote, and where no folder lock is
    taken (NFS) the next writer's new .lock let a second writer in beside it."""
    from vanishlab.sweep import lock
    from vanishlab.sweep.rundir import held_new_or_run

    run_dir, early = tmp_path / "new", []
    with pytest.raises(KeyboardInterrupt), held_new_or_run(run_dir):
        early.append(open(run_dir / store.LOCK, "a+b"))  # noqa: SIM115 (the waiting writer's)
        raise KeyboardInterrupt
    opened = lock._opened
    monkeypatch.setattr(lock, "_opened", lambda p: (early.pop(), False) if early else opened(p))
    with store.RunLock(run_dir) as held:
        assert (run_dir / store.LOCK).read_text() == str(os.getpid())  # the file it holds
        assert held.made


def _ctrl_c_as_it_returns(call, when=lambda *args: True):
    """``call``, after which a real Ctrl-C (SIGINT, through the handler in place) comes as it
    returns, where ``when(*args)``: its handler runs before this returns, as a stop that lands
    between a call and the caller's next step does (Python acts on it at the call's end)."""
    import signal

    def stopped(*args, **kwargs):
        result = call(*args, **kwargs)
        if when(*args):
            signal.raise_signal(signal.SIGINT)  # (handled here, at this call's end)
        return result

    return stopped


@pytest.mark.parametrize("lands", ["mkdir", "lock"])
def test_a_ctrl_c_as_the_run_folder_or_its_lock_is_made_leaves_nothing(
    tmp_path, monkeypatch, lands
):
    """A Ctrl-C that came as the run folder's mkdir returned (before its listing in made) left
    the folder, empty; one as .lock was opened (before the with that closes it), .lock and its
    file open, a ResourceWarning: the swallowed-Ctrl-C sweep test of test_cli_sweep, which said
    "interrupted: nothing was written" of the folder left, failed 6 runs in 40 at load ~12 (its
    stop lands where the machine's load puts it). The way in is now whole: the stop comes once
    the lock is held, and what was made goes."""
    from vanishlab.sweep import lock
    from vanishlab.sweep.rundir import held_new_or_run

    run_dir = tmp_path / "new" / "run"
    if lands == "mkdir":
        monkeypatch.setattr(
            Path, "mkdir", _ctrl_c_as_it_returns(Path.mkdir, lambda p: p == run_dir)
        )
    else:
        monkeypatch.setattr(lock, "_opened", _ctrl_c_as_it_returns(lock._opened))
    before = _tree(tmp_path)
    with pytest.raises(KeyboardInterrupt), held_new_or_run(run_dir):
        pytest.fail("the block ran")  # (its stop came first)
    assert _tree(tmp_path) == before


def test_a_ctrl_c_as_a_temporary_file_is_opened_leaves_it_neither_open_nor_behind(
    tmp_path, monkeypatch
):
    """A Ctrl-C that came as atomic_write's temporary file was opened, before the try that
    closes it, left it open (a ResourceWarning, an error under this suite's filterwarnings) and
    beside the file (the sweep's first manifest: the folder it made then stayed). It now comes
    once the file is named in that try, which closes and removes it."""
    from vanishlab.sweep import files

    opened = []

    def opening(*args):
        opened.append(open(*args))  # noqa: SIM115 (what atomic_write is given: it closes it)
        return opened[-1]

    monkeypatch.setattr(files, "open", _ctrl_c_as_it_returns(opening), raising=False)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(tmp_path / "manifest.json", lambda f: pytest.fail("written"))
    assert [f.closed for f in opened] == [True]
    assert _tree(tmp_path) == []
