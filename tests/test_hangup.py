"""SIGHUP (a closed terminal or ssh session, ``kill -HUP``) stops a command as SIGTERM does:
one line, its clean-up done, then the end by SIGHUP (status 129). It was the default's end, at
once and without a word: a sweep left a half-written ``.tmp`` shard in ``cells/`` and its
pool's leaked-semaphore warnings, and a new analysis left its folder behind, holding a lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from _stops import stops_at_their_defaults

from vanishlab.cli._app import user_errors

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def test_a_sighup_during_a_command_is_one_line_and_status_129(capsys):
    @user_errors(stopped="nothing kept")
    def command() -> None:
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(30)  # ended by the SIGHUP above, not by this sleep

    def unhandled(signum: int, frame: object) -> None:  # the default would end pytest
        raise AssertionError("the command left SIGHUP to the handler before it")

    before = signal.signal(signal.SIGHUP, unhandled)
    try:
        with pytest.raises(typer.Exit) as done:
            command()
    finally:
        signal.signal(signal.SIGHUP, before)
    assert done.value.exit_code == 128 + signal.SIGHUP
    assert capsys.readouterr().err == "hung up: nothing kept\n"


# In the slow tier: ~3 s of CPU; make test keeps
# test_a_pool_worker_leaves_every_stop_to_the_command.
@pytest.mark.slow
def test_a_hung_up_analysis_says_so_ends_by_sighup_and_leaves_no_folder(tmp_path):
    torch = pytest.importorskip("torch")
    checkpoint = tmp_path / "big.pt"
    torch.save(torch.nn.LSTM(8, 256, 2).state_dict(), checkpoint)
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VANISHLAB_TRACEBACK": ""}
    with subprocess.Popen(
        [sys.executable, "-m", "vanishlab", "analyze", str(checkpoint), "--seq-len", "4000",
         "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=stops_at_their_defaults,  # whatever the suite's own SIGHUP is
    ) as child:  # fmt: skip
        try:
            assert child.stderr is not None
            first = child.stderr.readline()  # "measuring nn.LSTM(...)": the measurement began
            assert first.startswith("measuring"), first
            time.sleep(0.5)
            child.send_signal(signal.SIGHUP)
            rest = child.stderr.read()
            status = child.wait(timeout=120)
        finally:
            child.kill()
    assert status == -signal.SIGHUP
    said = "hung up: no measurement saved; run the same command to measure it"
    assert rest.splitlines()[-1:] == [said]
    assert "Traceback" not in rest
    assert not out.exists()


def test_where_there_is_no_sighup_a_sigterm_still_says_terminated():
    # Windows has no SIGHUP: HungUp's signal fell back to SIGTERM, and a SIGTERM was raised as
    # a HungUp and said "hung up". Python here, with SIGHUP taken away before vanishlab loads.
    code = (
        "import signal\n"
        "del signal.SIGHUP\n"
        "from vanishlab.cli.stops import Terminated, stop_word\n"
        "import vanishlab.__main__ as m\n"
        "try:\n"
        "    m._terminate(signal.SIGTERM, None)\n"
        "except Terminated as stop:\n"
        "    print(type(stop).__name__, stop_word(stop.signum), *map(int, m._ENDING))\n"
    )
    assert _printed(code) == ["Terminated", "terminated", str(int(signal.SIGTERM))]


def _run_script(script: Path, code: str) -> subprocess.CompletedProcess[str]:
    """``code`` written to ``script`` and run by a fresh Python, which must exit 0."""
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True,
        preexec_fn=stops_at_their_defaults,
    )  # fmt: skip


def _printed(code: str) -> list[str]:
    """The words a fresh Python running ``code`` prints (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True, text=True, timeout=120, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


_HELPERS = """
import os, signal, sys, time
from multiprocessing import forkserver, resource_tracker
from vanishlab.sweep import executors

if __name__ == "__main__":
    executors._ready_forkserver(executors._mp_context())
    helpers = {"resource tracker": resource_tracker._resource_tracker._pid,
               "forkserver": forkserver._forkserver._forkserver_pid}
    for pid in helpers.values():
        os.kill(pid, signal.SIGHUP)  # as a closed terminal does, to the whole group
    time.sleep(0.5)
    for name, pid in helpers.items():
        print(name, "died" if os.waitpid(pid, os.WNOHANG)[0] else "lives")
"""


# In the slow tier: ~4 s of CPU; make test keeps
# test_a_pool_worker_leaves_every_stop_to_the_command.
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and pthread_sigmask")
def test_the_pools_forkserver_and_resource_tracker_outlive_a_hang_up(tmp_path):
    # Both died of the terminal's SIGHUP: a hung-up two-worker sweep's one line was followed by
    # "resource_tracker: process died unexpectedly, relaunching" and five KeyError tracebacks
    # (CI of stop 56, tests/test_sweep.py's SIGHUP case).
    done = _run_script(tmp_path / "helpers.py", _HELPERS)
    assert done.stdout.splitlines() == ["resource tracker lives", "forkserver lives"], done.stderr


_SIGTERM_TO_THE_FORKSERVER = """
import multiprocessing, os, signal, time
from multiprocessing import forkserver
from vanishlab.sweep import executors

if __name__ == "__main__":
    executors._ready_forkserver(executors._mp_context())
    own = multiprocessing.get_context("forkserver")  # the same forkserver: a caller's own
    child = own.Process(target=time.sleep, args=(60,))
    child.start()
    child.terminate()
    child.join(30)
    print("its child", child.exitcode)
    pid = forkserver._forkserver._forkserver_pid
    os.kill(pid, signal.SIGTERM)  # as a batch system's stop does, to the whole group
    time.sleep(0.5)
    print("forkserver", "died" if os.waitpid(pid, os.WNOHANG)[0] else "lives")
"""


# In the slow tier: ~4 s of CPU; make test keeps
# test_a_pool_worker_leaves_every_stop_to_the_command.
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and pthread_sigmask")
def test_the_forkserver_outlives_a_sigterm_and_the_processes_it_forks_do_not(tmp_path):
    # A SIGTERM to the whole group (Slurm's scancel, kill -TERM -- -PGID) killed it at once
    # (CPython has it ignore only Ctrl-C): its workers' statuses read 255, the pool's shutdown
    # returned before they had exited. The command alone acts on it, and ends the forkserver
    # itself. What it forks (any process of the forkserver context) still ends by SIGTERM.
    done = _run_script(tmp_path / "sigterm.py", _SIGTERM_TO_THE_FORKSERVER)
    said = [f"its child {-signal.SIGTERM}", "forkserver lives"]
    assert done.stdout.splitlines() == said, done.stderr


_MASKS = """
import multiprocessing, signal
from vanishlab.sweep import executors

def blocked(conn):
    conn.send(sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, set())))

if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})  # the caller's own
    pool = executors._mp_context()
    executors._ready_forkserver(pool)
    for name, ctx in [("own", multiprocessing.get_context("forkserver")), ("pool", pool)]:
        got, sent = ctx.Pipe(duplex=False)
        child = ctx.Process(target=blocked, args=(sent,))
        child.start()
        print(name, *got.recv())
        child.join()
"""


# In the slow tier: ~4 s of CPU; make test keeps
# test_a_pool_worker_leaves_every_stop_to_the_command.
@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and pthread_sigmask")
def test_the_forkservers_children_get_the_callers_mask_and_its_workers_keep_the_stops(tmp_path):
    # The forkserver is started with Ctrl-C, SIGTERM and SIGHUP blocked, and a caller's own
    # process it forked (the forkserver is the whole process's) kept Ctrl-C and SIGHUP blocked
    # for its whole life: never interrupted, never hung up. It gets the mask of the caller
    # that started the forkserver. The pool's keep the three blocked until their init ignores
    # them: a stray Ctrl-C before it printed a worker's traceback (SIGTERM killed one).
    done = _run_script(tmp_path / "masks.py", _MASKS)
    stops = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    pool = " ".join(str(int(s)) for s in sorted([signal.SIGUSR1, *stops]))
    said = [f"own {int(signal.SIGUSR1)}", f"pool {pool}"]
    assert done.stdout.splitlines() == said, done.stderr


_CELL_STARTS_A_PROCESS = """
import subprocess
from pathlib import Path

import vanishlab as vl


def _init(rnn, gain, generator):  # a cell that starts a process of its own
    status = subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True)
    with open(Path(__file__).with_name("status.txt"), "a") as out:
        out.write(status.stdout)
    vl.INITS["default"].apply(rnn, gain, generator)


vl.register_init(vl.Init("starts_a_process_test", "starts a process", _init), replace=True)
SWEEP = vl.Sweep(init="starts_a_process_test", gain=(1.0, 2.0), hidden_size=4, input_size=2,
                 seq_len=5, batch=1)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and /proc")
def test_a_process_a_cell_starts_gets_the_stops_ignored_and_not_blocked(tmp_path):
    # The pool's workers kept Ctrl-C, SIGTERM and SIGHUP blocked for their whole life, and a
    # blocked signal stays blocked through exec: a process a cell started never met the three,
    # not even in handlers of its own. Ignored, as the workers have them, they pass on.
    import vanishlab as vl

    module = tmp_path / "starts_a_process.py"
    module.write_text(_CELL_STARTS_A_PROCESS)
    try:
        done = vl.run_sweep(str(module), tmp_path / "run", workers=2, progress=False)
    finally:
        vl.INITS.pop("starts_a_process_test", None)
    assert done.n_run == 2 and done.n_failed == 0
    lines = (tmp_path / "status.txt").read_text().splitlines()
    stops = sum(1 << (s - 1) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))
    blocked = [int(line.split()[1], 16) & stops for line in lines if line.startswith("SigBlk:")]
    ignored = [int(line.split()[1], 16) & stops for line in lines if line.startswith("SigIgn:")]
    assert blocked == [0, 0] and ignored == [stops, stops]


@pytest.mark.skipif(sys.platform != "linux", reason="pthread_sigmask")
def test_a_hang_up_while_the_helpers_are_spawned_still_reaches_this_process():
    from vanishlab.sweep import executors

    got: list[int] = []
    before = signal.signal(signal.SIGHUP, lambda signum, frame: got.append(signum))
    try:
        with executors._blocked_in_this_thread({signal.SIGHUP}):
            assert signal.SIGHUP in signal.pthread_sigmask(signal.SIG_BLOCK, set())
            os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [signal.SIGHUP]
        assert signal.SIGHUP not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    finally:
        signal.signal(signal.SIGHUP, before)


def test_a_pool_worker_leaves_every_stop_to_the_command():
    # The terminal's SIGHUP reaches the workers too: each ignores it, as Ctrl-C and SIGTERM,
    # so that the command alone stops (in its one line) and the workers end with it.
    code = (
        "import multiprocessing, signal, sys\n"
        "from vanishlab.sweep import executors\n"
        "alive, _keep = multiprocessing.Pipe(duplex=False)\n"
        "executors._worker_init(alive)\n"  # (a worker's print() goes to stderr)
        "print(*(signal.getsignal(getattr(signal, n)) is signal.SIG_IGN\n"
        "        for n in ('SIGINT', 'SIGTERM', 'SIGHUP')), file=sys.__stdout__)\n"
    )
    assert _printed(code) == ["True", "True", "True"]


@pytest.mark.skipif(sys.platform != "linux", reason="/proc and pthread_sigmask")
def test_a_child_a_test_stops_sees_the_stops_at_their_defaults_whatever_this_process_has():
    # Ignored and blocked survive exec: a suite under nohup passed its ignored SIGHUP on to the
    # hang-up test's analysis, which kept it and ran to its end (status 0).
    stops = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    before = {s: signal.signal(s, signal.SIG_IGN) for s in stops}
    was = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        done = subprocess.run(
            ["cat", "/proc/self/status"], capture_output=True, text=True, timeout=60, check=True,
            preexec_fn=stops_at_their_defaults,
        )  # fmt: skip
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, was)
        for s, handler in before.items():
            signal.signal(s, handler)
    fields = dict(line.split(":\t") for line in done.stdout.splitlines() if ":\t" in line)
    mask = sum(1 << (s - 1) for s in stops)
    assert int(fields["SigIgn"], 16) & mask == 0 and int(fields["SigBlk"], 16) & mask == 0
