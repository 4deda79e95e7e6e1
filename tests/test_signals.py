"""Ctrl-C and SIGTERM: held where a stop would break the pool, never lost, never doubled.

Audited for stops that land by chance (helper 401, after tests/test_cli_sweep.py's swallowed
Ctrl-C landed in a first import's ``with open_code``): a stop sent here in this process is sent
by the main thread to itself, and raised at its next bytecode check, at a line the test
chose; one sent again by the block's thread lands while the main thread waits (next_steps'
sleep) or in the block's own clean-up, which keeps it. None lands in an import or a file's
open. The others go to a child Python, which ignores a ResourceWarning. 30 of 30 runs of this
file passed beside 3 busy loops on 2 cores (load 5-14), each in a fresh process."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

import pytest
import typer
from _handlers import Broke, Recording, raising
from _next_steps import STEPS_S, next_steps
from _stops import stops_at_their_defaults

from vanishlab.cli._app import Terminated, user_errors
from vanishlab.sweep.held_signals import signals_held as _signals_held

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_a_held_ctrl_c_acts_once_when_the_block_ends():
    before = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt), _signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # signal handlers run between bytecodes: here, they hold
            pass
        reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is before


def test_held_signals_reach_their_own_handlers_even_when_the_block_raises():
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with pytest.raises(ValueError), _signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # two arrive: held, delivered once
            for _ in range(1000):
                pass
            raise ValueError("the block fails")
        assert seen == [signal.SIGTERM]
        # Afterwards the handler is the previous one again: nothing is held any more.
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
        assert seen == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_in_the_held_block_s_clean_up_leaves_the_held_ones_delivered(monkeypatch):
    """A Ctrl-C that came while the block put the handlers back met the one put back, which
    raised there (the command's): the clean-up broke off, and the SIGTERM held in the block
    was never delivered, its holding handler left set. Now the held one is delivered all the
    same, and a holding handler left set acts as the one before it, and puts it back."""

    recording = Recording()
    seen = recording.seen

    real = signal.signal

    def then_a_ctrl_c(signum: int, handler: object) -> object:
        was = real(signum, handler)
        if signum == signal.SIGINT and handler is raising:  # put back by the clean-up
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs here
                pass
        return was

    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    real(signal.SIGINT, raising)
    real(signal.SIGTERM, recording)
    try:
        with pytest.raises(Broke), _signals_held((signal.SIGINT, signal.SIGTERM)):
            monkeypatch.setattr(signal, "signal", then_a_ctrl_c)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # held here
                pass
        monkeypatch.undo()
        delivered = list(seen)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
        after = signal.getsignal(signal.SIGTERM)
    finally:
        monkeypatch.undo()
        for s, was in saved.items():
            real(s, was)
    assert delivered == [signal.SIGTERM] and seen == [signal.SIGTERM] * 2
    assert after is recording


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated:"), (signal.SIGINT, "interrupted:")]
)
def test_a_signal_python_ignores_in_a_destructor_still_stops_the_command(capsys, signum, said):
    # The command's handler raises where the signal lands; in a __del__ Python prints
    # "Exception ignored" (with a traceback) and goes on, and the command used to finish as if
    # never stopped. Now the stop is delivered again, and nothing but its line is printed.
    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signum)
            for _ in range(1000):  # the handler runs here, inside __del__
                pass

    @user_errors
    def command() -> str:
        Dropped()
        gc.collect()
        return "done"

    with pytest.raises(typer.Exit) as stopped:
        command()
    # A Ctrl-C late in a report (figures torn down) printed "Exception ignored ...
    # KeyboardInterrupt" and the report went on to status 0.
    assert stopped.value.exit_code == 128 + signum
    err = capsys.readouterr().err
    assert err.startswith(said) and len(err.splitlines()) == 1, err


def _swallowed_stop(signum: int, stopped: str, steps_s: float = STEPS_S) -> tuple[list[str], int]:
    """Run a command whose first step drops an object whose ``__del__`` is where the stop
    lands (Python ignores it there), and whose next steps (``steps_s`` at most) are its work:
    (the work done, the exit status)."""
    done = []

    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signum)
            for _ in range(1000):  # the handler runs here, inside __del__
                pass

    @user_errors(stopped=stopped)
    def command() -> None:
        Dropped()
        gc.collect()
        next_steps(steps_s)  # the command's next steps (a sweep's next cells)
        done.append("measured")  # the work the command goes on to do

    with pytest.raises(typer.Exit) as stopped_by:
        command()
    return done, stopped_by.value.exit_code


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated: "), (signal.SIGINT, "interrupted: ")]
)
def test_a_stop_swallowed_in_a_destructor_stops_the_command_at_its_next_step(capsys, signum, said):
    """A stop Python swallowed (in a destructor) let the command run on to its end, which for
    a sweep could be its whole length (helper 144: a Ctrl-C 3 s into `vanishlab analyze` was
    acted on 8 s later, when the analysis had been written). It is delivered again now, and
    the command stops at its next step, with its own line."""
    done, status = _swallowed_stop(signum, "nothing measured; run the same command to measure it")
    assert done == [] and status == 128 + signum
    err = capsys.readouterr().err
    assert err == f"{said}nothing measured; run the same command to measure it\n", err


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated: "), (signal.SIGINT, "interrupted: ")]
)
def test_a_stop_sent_again_before_the_hook_has_returned_is_not_lost(
    capsys, monkeypatch, signum, said
):
    """The stop was sent again 10 ms after the hook that noted it started its timer; on a
    loaded machine (the suite beside other work) the hook was still waiting for the timer's
    thread to start, the stop was raised inside the hook, and Python ignored it there too,
    printing a traceback: the command ran to its end ("the command finished first"). Here the
    main thread is held 0.2 s after the thread starts (which is now at the stop, as it is
    raised, and a bare thread's, which waits for nothing): the stop must still end the command
    at its next step, with its line alone."""
    import _thread
    import threading

    start = _thread.start_new_thread

    def slow_start(*args: object) -> int:
        ident = start(*args)
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.2)  # the main thread descheduled before the hook returns
        return ident

    monkeypatch.setattr(_thread, "start_new_thread", slow_start)
    done, status = _swallowed_stop(signum, "nothing measured; run the same command to measure it")
    assert done == [] and status == 128 + signum
    err = capsys.readouterr().err
    assert err == f"{said}nothing measured; run the same command to measure it\n", err


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated: "), (signal.SIGINT, "interrupted: ")]
)
def test_a_swallowed_stop_does_not_deny_the_work_the_command_finished(
    capsys, monkeypatch, signum, said
):
    """A stop swallowed where it is not sent again in time (here: after a minute) lets the
    command run to its end, and it then ended with its own stop line: "interrupted:
    nothing measured; run the same command to measure it" after `vanishlab analyze` had
    printed "measured -> RUN" and written the run (helper 144); a report's "no report written"
    after the report was written. Now the line says the command finished first."""
    from vanishlab.cli import stops

    monkeypatch.setattr(stops, "RESEND_S", 60.0)  # not before the command ends
    nothing = "nothing measured; run the same command to measure it"
    done, status = _swallowed_stop(signum, nothing, steps_s=0.5)  # RESEND_S: not in these
    assert done == ["measured"] and status == 128 + signum
    err = capsys.readouterr().err
    assert err.startswith(said) and len(err.splitlines()) == 1, err
    assert "nothing measured" not in err and "finished first" in err, err


_CTRL_C_AT_THE_END = """
import atexit, os, signal
import vanishlab.cli

def finished():
    raise SystemExit({status})

vanishlab.cli.app = finished
atexit.register(lambda: os.kill(os.getpid(), signal.{signal}))  # after main's exit handler
from vanishlab.__main__ import main
main()
"""


_CTRL_C_IN_TEARDOWN = """
import os, signal
import vanishlab.cli

class Late:
    def __del__(self):
        os.kill(os.getpid(), signal.{signal})

late = Late()  # a module global: deleted in the interpreter's teardown, after exit handlers

def finished():
    raise SystemExit(0)

vanishlab.cli.app = finished
from vanishlab.__main__ import main
main()
"""


_CTRL_C_AT_A_LINE = """
import importlib.util, os, signal, sys

main_file = importlib.util.find_spec("vanishlab.__main__").origin
at, seen = int(sys.argv[1]), 0

def tracer(frame, event, arg):
    global seen
    if frame.f_code.co_filename != main_file:
        return None
    if event == "line":
        seen += 1
        if seen == at:  # Ctrl-C before this line runs
            sys.settrace(None)
            os.kill(os.getpid(), signal.SIGINT)
    return tracer

sys.settrace(tracer)
sys.argv = ["vanishlab", "--version"]
from vanishlab.__main__ import main  # as the console script does
sys.exit(main())
"""


@pytest.mark.parametrize("line", range(6, 22, 3))
def test_a_ctrl_c_while_the_console_command_starts_is_one_line(line):
    """A Ctrl-C while the console script imported vanishlab.__main__, or before main() had
    its handler in place, was Python's KeyboardInterrupt traceback. Now one line and the end
    by SIGINT (status 130), from the module's fifth line event on: its docstring and first
    four statements install the hook that prints the line."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AT_A_LINE, str(line)],
        capture_output=True, text=True, timeout=60, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (-signal.SIGINT, "interrupted\n"), done.stderr


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_ctrl_c_in_the_interpreters_teardown_is_ignored(signame):
    """Python sets a handler written in Python back to the default when it tears its modules
    down (~0.5 s with torch and pandas loaded): a Ctrl-C then ended a finished command by
    SIGINT, status 130, with no word; a SIGTERM ended it by SIGTERM (143), with no word."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_IN_TEARDOWN.format(signal=signame)],
        capture_output=True, text=True, timeout=120, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("status", [0, 2])
def test_a_ctrl_c_after_the_command_ended_is_ignored(status, signame):
    """A Ctrl-C in the moment after a sweep had finished (its manifest said so) or a report was
    written, while Python shut down, ended the process by SIGINT with no word (or with an
    "Exception ignored" traceback): a script took finished work for interrupted. A SIGTERM
    there (a batch system's stop, found by killing sweeps at random instants: 3 of 12 sent in
    a finished sweep's last 1.5 s) ended it by SIGTERM, status 143, with no word."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _CTRL_C_AT_THE_END.format(status=status, signal=signame)],
        capture_output=True, text=True, timeout=120, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (status, "")


_SIGTERM_WHILE_LOADING = """
import os, signal, time
import vanishlab.cli

def loading():  # typer building its commands, before the command's own handling
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)

vanishlab.cli.app = loading
from vanishlab.__main__ import main
main()
"""


def test_a_sigterm_while_the_command_line_loads_is_one_line():
    """A SIGTERM in the first ~0.3 s of a command (while its modules load and typer builds
    its commands) ended it by the default action: status 143 and not a word, where a Ctrl-C
    there says "interrupted". Now "terminated", and the end by SIGTERM."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _SIGTERM_WHILE_LOADING],
        capture_output=True, text=True, timeout=60, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (-signal.SIGTERM, "terminated\n")


_STOP_IN_A_FINALIZER_WHILE_LOADING = """
import os, signal, time
import vanishlab.cli

class Finalized:
    def __del__(self):
        os.kill(os.getpid(), signal.{signal})
        for _ in range(1000):  # delivered here, where Python ignores what is raised
            pass

def loading():  # typer building its commands, before the command's own handling
    Finalized()
    time.sleep(30)  # the command's run, which the stop sent again ends (at once)
    raise SystemExit(0)

vanishlab.cli.app = loading
from vanishlab.__main__ import main
main()
"""


@pytest.mark.parametrize(
    ("signame", "said"), [("SIGINT", "interrupted"), ("SIGTERM", "terminated")]
)
def test_a_stop_python_ignores_in_a_finalizer_while_the_command_line_loads_stops_it(signame, said):
    """A Ctrl-C raised in a finalizer while the command line loaded (a weakref callback of
    importlib's module locks, in its first second or two) was printed as "Exception ignored"
    and lost: the sweep ran to its end, status 0 (1 in 25 Ctrl-C sent 0.3 s into a
    --workers 2 sweep on a loaded machine). Now it is sent again, as during a command."""
    import subprocess

    code = _STOP_IN_A_FINALIZER_WHILE_LOADING.format(signal=signame)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, timeout=60, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (-getattr(signal, signame), said + "\n")


def test_a_sigterm_the_launcher_ignores_stays_ignored():
    """A command started with SIGTERM ignored (``nohup``-like launchers) does not take it up."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _SIGTERM_WHILE_LOADING.replace("30", "0.5")],
        capture_output=True, text=True, timeout=60,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    )  # fmt: skip
    assert done.returncode != -signal.SIGTERM and "terminated" not in done.stderr


_SHUTDOWN_HANGS = """
import os, signal, threading, time
import vanishlab.cli

def finished():
    threading.Thread(target=time.sleep, args=(30,)).start()  # shutdown waits for it
    raise SystemExit(0)

def press_twice():
    for _ in range(2):
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

vanishlab.cli.app = finished
threading.Thread(target=press_twice, daemon=True).start()
from vanishlab.__main__ import main
main()
"""


def test_a_second_ctrl_c_ends_a_shutdown_that_hangs():
    """The first Ctrl-C after the command ended is ignored; a second ends the process at once,
    by SIGINT (ignoring every one left a hung shutdown unstoppable)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _SHUTDOWN_HANGS],
        capture_output=True, text=True, timeout=20, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert done.returncode == -signal.SIGINT, (done.returncode, done.stderr)


@pytest.mark.parametrize(
    ("stop", "said", "status"),
    [(KeyboardInterrupt, "interrupted", 130), (Terminated, "terminated", 143)],
)
def test_a_stopped_report_says_so_and_leaves_no_file(
    smoke_run_dir, tmp_path, monkeypatch, stop, said, status
):
    """A Ctrl-C during `vanishlab report` said "finished work is kept; run the same command
    to resume", the sweep's line: a report has nothing to resume, and writes nothing."""
    from typer.testing import CliRunner

    import vanishlab.report as report
    from vanishlab.cli import app

    def stopped(*args, **kwargs):
        raise stop

    monkeypatch.setattr(report, "render_html", stopped)  # the page is built, not yet written
    page = tmp_path / "out" / "r.html"
    result = CliRunner().invoke(app, ["report", str(smoke_run_dir), "-o", str(page)])
    assert result.exit_code == status and result.stderr == f"{said}: no report written\n"
    assert not (tmp_path / "out").exists()


def test_a_stopped_analysis_does_not_claim_finished_work(tmp_path, monkeypatch):
    """A Ctrl-C during `vanishlab analyze` said "finished work is kept; run the same command
    to resume", the sweep's line: an analysis is one measurement, written at its end."""
    import torch
    from typer.testing import CliRunner

    import vanishlab.trained.analyze_run as analyze_run
    from vanishlab.cli import app

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    monkeypatch.setattr(analyze_run, "measure_rows", stopped)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "m.pt"), "--out", str(out)])
    said = "interrupted: no measurement saved; run the same command to measure it\n"
    assert result.exit_code == 130 and result.stderr == said, result.stderr
    assert not out.exists()


def test_an_analysis_the_disk_refuses_says_no_measurement_is_saved(tmp_path, monkeypatch):
    """`ulimit -f 8; vanishlab analyze m.pt` measured the module, the disk refused its shard,
    and the line said "nothing measured; run the same command to measure it": the measurement
    ran (seconds to hours) and was lost, not never made."""
    import errno

    import torch
    from typer.testing import CliRunner

    import vanishlab.trained.analyze_run as analyze_run
    from vanishlab.cli import app

    def refused(run_dir, *args, **kwargs):
        raise OSError(errno.EFBIG, "File too large", str(run_dir / "cells" / "x.parquet"))

    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    monkeypatch.setattr(analyze_run, "write_shard", refused)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "m.pt"), "--out", str(out)])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.endswith(
        "(over the file-size limit, ulimit -f: raise it); no measurement saved; run the same "
        "command to measure it\n"
    ), result.stderr


def test_an_analysis_whose_end_the_disk_refuses_says_its_measurement_is_saved(
    tmp_path, monkeypatch
):
    """The disk refused the manifest's end after the shard was written: the line said "no
    measurement saved; run the same command to measure it", yet the shard was saved, and the
    same command measures nothing again (it records the end). The line says what is kept."""
    import errno

    import torch
    from typer.testing import CliRunner

    from vanishlab.cli import app
    from vanishlab.sweep import store

    write, calls = store.write_manifest, []

    def refused_at_the_end(run_dir, manifest, *args, **kwargs):
        calls.append(1)
        if manifest.get("finished") is not None:
            raise OSError(errno.ENOSPC, "No space left on device", str(run_dir / "manifest.json"))
        write(run_dir, manifest, *args, **kwargs)

    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    monkeypatch.setattr(store, "write_manifest", refused_at_the_end)
    out = tmp_path / "run"
    command = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "4"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and len(calls) == 2, result.stderr
    assert "no measurement saved" not in result.stderr, result.stderr
    assert result.stderr.endswith(
        f"; the measurement is saved in {out}; run the same command to finish without "
        "measuring again\n"
    ), result.stderr
    monkeypatch.setattr(store, "write_manifest", write)
    assert CliRunner().invoke(app, command).exit_code == 0
    assert store.load_manifest(out)["finished"] is not None


def test_a_stopped_dry_run_says_it_wrote_nothing(tmp_path, monkeypatch, smoke_run_dir):
    """`vanishlab sweep --dry-run` stopped while it planned said what a sweep's stop says:
    "N finished cells kept in RUN; run the same command to resume" (a dry run resumes
    nothing), or "nothing was written (RUN does not exist)" of a folder it never made."""
    from typer.testing import CliRunner

    import vanishlab.cli.sweep as sweep_cli
    from vanishlab.cli import app

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_cli, "print_plan", stopped)
    for out in (smoke_run_dir, tmp_path / "new"):
        result = CliRunner().invoke(app, ["sweep", "--out", str(out), "--dry-run"])
        assert result.exit_code == 130, result.stderr
        assert result.stderr == "interrupted: a dry run writes nothing\n", result.stderr
    assert not (tmp_path / "new").exists()


class _BrokenStderr:
    """A stderr whose reader has gone (a closed pipe): every write fails as such a pipe's does."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_swallowed_stop_ends_by_its_status_when_stderr_is_broken(monkeypatch, signum):
    """The "... finished first" line was printed inside the command's ``try``: a stderr that
    could not take it (`2>&1 | head -0`, 2>/dev/full) turned the stop into status 141 or 2
    (the handlers of a broken pipe and of an OSError). The status is the stop's now."""
    from vanishlab.cli import stops

    monkeypatch.setattr(stops, "RESEND_S", 60.0)  # not sent again before the command ends
    monkeypatch.setattr(sys, "stderr", _BrokenStderr())
    done, status = _swallowed_stop(signum, "nothing measured", steps_s=0.5)  # (no stop ends them)
    assert done == ["measured"] and status == 128 + signum


@pytest.mark.parametrize(("stop", "status"), [(KeyboardInterrupt, 130), (Terminated, 143)])
def test_a_stop_ends_by_its_status_when_stderr_is_broken(monkeypatch, stop, status):
    """A Ctrl-C or SIGTERM whose line stderr could not take raised BrokenPipeError out of the
    command, which click ended with status 1 (a `vanishlab sweep 2>/dev/full` stopped by
    Ctrl-C: status 1, not the end by SIGINT)."""
    monkeypatch.setattr(sys, "stderr", _BrokenStderr())

    @user_errors
    def command() -> None:
        raise stop

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == status


_STOPPED_WITH_STDERR_BROKEN = """
import os, signal, sys
import typer
import vanishlab.cli
from vanishlab.cli._app import user_errors

@user_errors
def command():
    os.kill(os.getpid(), signal.{signal})
    for _ in range(1000):  # the handler runs here
        pass

def app():  # as click runs a command: its Exit as the process's status
    try:
        command()
    except typer.Exit as done:
        sys.exit(done.exit_code)

vanishlab.cli.app = app
from vanishlab.__main__ import main
main()
"""


def _run_with_stderr(script: str, stderr: str) -> int:
    """The status of ``python -c script`` with its stderr ``"broken"`` (a pipe whose reader
    has gone) or ``"closed"`` (``2>&-``)."""
    import subprocess

    if stderr == "closed":
        done = subprocess.run(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, timeout=120,
            preexec_fn=lambda: (stops_at_their_defaults(), os.close(2)),
        )  # fmt: skip
        return done.returncode
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=write, timeout=120,
            preexec_fn=stops_at_their_defaults,
        )  # fmt: skip
    finally:
        os.close(write)
    return done.returncode


@pytest.mark.parametrize("stderr", ["broken", "closed"])
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_stopped_command_ends_by_its_signal_whatever_its_stderr(signame, stderr):
    """The console command stopped with its stderr a pipe whose reader has gone ended with
    status 1 (a BrokenPipeError from its stop line), not by the signal; with its stderr closed
    (``2>&-``), with status 130 or 143 (its exit handler failed to flush a stderr of None
    before it sent the signal), which a shell's loop does not take for a stop."""
    script = _STOPPED_WITH_STDERR_BROKEN.format(signal=signame)
    assert _run_with_stderr(script, stderr) == -getattr(signal, signame)


@pytest.mark.parametrize("stderr", ["broken", "closed"])
def test_a_sigterm_while_the_command_line_loads_ends_by_it_whatever_its_stderr(stderr):
    """Its line "terminated" raised where stderr could not take it: status 1."""
    assert _run_with_stderr(_SIGTERM_WHILE_LOADING, stderr) == -signal.SIGTERM


def test_a_stop_line_on_a_stderr_closed_in_the_process_changes_no_status(monkeypatch):
    """A stderr closed inside the process (ValueError on write, where a failing one raises
    OSError) raised out of the stop's line and of an error's line; both are passed over now,
    so the command's status is the stop's or the error's."""
    import io

    from vanishlab.cli import output

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert output.interrupted("interrupted").exit_code == output.INTERRUPTED
    assert output.fail("bad input").exit_code == output.USAGE_ERROR


def test_the_console_command_s_stop_line_and_flush_pass_over_a_stderr_that_cannot_take_them(
    monkeypatch,
):
    """__main__'s own writes before it ends by the signal (the stop's line, the last flush of
    stdout and stderr) pass over a stream closed in the process (ValueError), one that fails
    (OSError) and none at all, as output.note does; where stderr can take the line, the line
    is written."""
    import io

    from vanishlab import __main__ as entry

    closed = io.TextIOWrapper(io.BytesIO())  # (a closed StringIO's flush raises nothing)
    closed.close()
    for stream in (closed, _BrokenStderr(), None):
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(sys, "stdout", stream)
        entry._say("interrupted\n")
        entry._flush_quietly()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    entry._say("terminated\n")
    assert sys.stderr.getvalue() == "terminated\n"


def test_a_stop_once_every_cell_is_saved_says_to_finish_the_run(tmp_path, monkeypatch):
    """A SIGTERM after the run's last cell was saved, before its final manifest (which marks it
    finished), said "8 finished cells kept in RUN; run the same command to resume", where
    nothing was left to measure. It says that every cell is kept, and that the same command
    finishes the run; of a run already marked finished, that it has finished."""
    from typer.testing import CliRunner

    import vanishlab as vl
    from vanishlab.cli import app
    from vanishlab.sweep import runner, store
    from vanishlab.sweep.run_summary import kept_line
    from vanishlab.sweep.shard_file import SHARD_SUFFIX

    real = runner.utc_now

    def terminated() -> str:  # as the finished manifest is made: every cell is saved
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs here, and raises
            pass
        return real()

    monkeypatch.setattr(runner, "utc_now", terminated)
    out = tmp_path / "run"
    command = ["sweep", "--smoke", "--workers", "1", "--out", str(out), "-q"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 143, result.stderr
    said = f"all 8 cells kept in {out}; run the same command to finish the run"
    assert result.stderr == f"terminated: {said}\n"
    assert store.load_manifest(out)["finished"] is None
    monkeypatch.setattr(runner, "utc_now", real)
    assert CliRunner().invoke(app, command).exit_code == 0  # it finishes the run
    assert store.load_manifest(out)["finished"] is not None
    assert kept_line(out) == f"all 8 cells kept in {out}; the run has finished"
    one = tmp_path / "one"  # a run of one cell
    vl.run_sweep(vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2), one, progress=False)
    assert kept_line(one) == f"the run's 1 cell kept in {one}; the run has finished"
    store.write_manifest(one, {**store.load_manifest(one), "finished": None})
    said = f"the run's 1 cell kept in {one}; run the same command to finish the run"
    assert kept_line(one) == said
    next(out.glob(f"cells/*{SHARD_SUFFIX}")).unlink()  # a cell left to measure: to resume
    assert kept_line(out) == f"7 finished cells kept in {out}; run the same command to resume"
    (out / "manifest.json").write_text("{not json", "utf-8")  # a look that fails: the count
    assert kept_line(out) == f"7 finished cells kept in {out}; run the same command to resume"
