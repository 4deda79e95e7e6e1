"""A sweep's helper processes end before the command does: the pool's workers, its forkserver
and the resource tracker. The forkserver, left to notice the command's end itself, tore down
the torch it had imported first, and outlived a stopped two-worker sweep by 0.4 to 3 s on a
loaded machine (helper 319: 3 of 30 stops), a process of the command's group still running
after its one line and its exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _proc import cmdline, stat_fields
from _stops import stops_at_their_defaults

from vanishlab.cli.stops import stop_word

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and /proc")

FLAGS = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "1"]


def _in_session(sid: int) -> dict[int, str]:
    """The live processes of session ``sid``, by pid: their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields, line = stat_fields(stat), cmdline(stat.parent)
        if fields is None or line is None:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(stat.parent.name)] = line
    return found


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.parametrize(
    "stop", [None, signal.SIGINT, signal.SIGTERM], ids=["finished", "interrupted", "terminated"]
)
def test_no_helper_process_outlives_a_two_worker_sweep(tmp_path, stop):
    # A SIGTERM to the whole group (Slurm's scancel) killed the forkserver at once: the pool's
    # shutdown returned before its orphaned workers had exited, still running after the
    # command's end.
    stopped = stop is not None
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VANISHLAB_TRACEBACK": ""}
    said = (tmp_path / "stderr.txt").open("w")  # (a pipe's end comes when the helpers' do)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vanishlab", "sweep", *FLAGS, "--seeds", "40" if stopped else "2",
         "--workers", "2", "--out", str(out), "-q"],
        stdout=subprocess.DEVNULL, stderr=said, env=env,
        start_new_session=True, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    try:
        if stopped:  # once the pool's workers have handed back a cell
            deadline = time.monotonic() + 120
            while not list(out.glob("cells/*.parquet")) and proc.poll() is None:
                assert time.monotonic() < deadline, "no cell was measured in 120 s"
                time.sleep(0.02)
            os.killpg(proc.pid, stop)  # a Ctrl-C, or a batch system's stop, to the whole group
        proc.wait(timeout=120)
        left = _in_session(proc.pid)  # at once: the command has ended
    finally:
        said.close()
        for pid in _in_session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    if stopped and proc.returncode == 0:
        pytest.skip("the sweep finished before the stop")
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == (-stop if stop is not None else 0), err
    if stop is not None:
        assert err.startswith(stop_word(stop)) and len(err.splitlines()) == 1, err
    forkservers = [cmd for cmd in left.values() if "multiprocessing.forkserver" in cmd]
    assert not forkservers, left
    # the resource tracker ends as the command's end closes its pipe: it has nothing to wait for
    deadline = time.monotonic() + 5
    while _in_session(proc.pid):
        assert time.monotonic() < deadline, _in_session(proc.pid)
        time.sleep(0.01)


_STARTED = """
import os, signal, sys, threading
from multiprocessing import forkserver
from vanishlab.sweep import executors

def ready():  # as run_processes does, then a worker as its pool starts one
    ctx = executors._mp_context()
    executors._ready_forkserver(ctx)
    worker = ctx.Process(target=executors._nothing)
    worker.start()
    worker.join()

if __name__ == "__main__":
    where = sys.argv[1]
    if where == "thread":  # vl.run_sweep(..., workers=2) called from a thread of the caller's
        thread = threading.Thread(target=ready)
        thread.start()
        thread.join()
    else:
        ready()
    pid = forkserver._forkserver._forkserver_pid
    status = open(f"/proc/{pid}/status").read()
    blocked = int(status.split("SigBlk:")[1].split()[0], 16)
    print(pid, "hangup-blocked" if blocked & 1 << (signal.SIGHUP - 1) else "hangup-seen")
    if where == "fork":
        sys.stdout.flush()  # else the child prints the buffered lines again (buffered stdout)
        child = os.fork()
        if child == 0:
            sys.exit(0)  # a child forked by the caller, ending as Python does: atexit runs
        os.waitpid(child, 0)
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        print("forkserver-dead" if state == "Z" else "forkserver-alive")
    os.kill(pid, signal.SIGSTOP)  # it cannot notice this process's end by itself now
    sys.stdout.flush()
"""


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _started(tmp_path: Path, where: str) -> list[str]:
    """What the script above prints, started ``where``; the forkserver it leaves is killed."""
    script = tmp_path / "started.py"
    script.write_text(_STARTED)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:  # files: a forkserver left holds them
        done = subprocess.run(
            [sys.executable, str(script), where], stdout=stdout, stderr=stderr, timeout=120, env=env
        )
    said = out.read_text().split()
    left = _state(int(said[0])) if said else None
    if left is not None:
        os.kill(int(said[0]), signal.SIGKILL)
    assert done.returncode == 0, err.read_text()
    return [*said[1:], f"left {left}"]


# In the slow tier: ~3 s of CPU.
@pytest.mark.slow
def test_a_pool_started_from_another_thread_has_its_forkserver_ended_and_deaf_to_sighup(tmp_path):
    # From a thread other than the main one, the forkserver was started by the pool itself:
    # seeing SIGHUP (a closed terminal killed it), and never ended at exit.
    assert _started(tmp_path, "thread") == ["hangup-blocked", "left None"]


# In the slow tier: ~4 s of CPU.
@pytest.mark.slow
def test_a_child_the_caller_forks_leaves_its_parents_forkserver_alone(tmp_path):
    # The child inherited the atexit handler and, ending as Python does, killed its parent's
    # forkserver (a pool running then would have broken, its workers said to exit with 255).
    assert _started(tmp_path, "fork") == ["hangup-blocked", "forkserver-alive", "left None"]


_SECOND_CTRL_C = """
import os, signal, sys
from vanishlab.sweep import executors

if __name__ == "__main__":
    ctx = executors._mp_context()
    executors._ready_forkserver(ctx)
    real = getattr(os, sys.argv[1])

    def interrupted(*args):  # a second Ctrl-C, as the exit handler kills or reaps the forkserver
        signal.raise_signal(signal.SIGINT)
        return real(*args)

    setattr(os, sys.argv[1], interrupted)
"""


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.parametrize("during", ["kill", "waitpid"])
def test_a_ctrl_c_while_the_forkserver_is_ended_at_exit_is_ignored(tmp_path, during):
    """A second Ctrl-C as a stopped sweep exited, while its exit handler killed and reaped the
    forkserver, raised in that handler: Python printed "Exception ignored in atexit callback"
    and a KeyboardInterrupt traceback after the command's one line, and the forkserver was left
    to notice the end itself. The handler ignores Ctrl-C while it kills and reaps."""
    script = tmp_path / "second.py"
    script.write_text(_SECOND_CTRL_C)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:  # a file: a forkserver left holds it
        done = subprocess.run(
            [sys.executable, str(script), during],
            stdout=subprocess.DEVNULL, stderr=stderr, timeout=120, env=env,
            preexec_fn=stops_at_their_defaults,
        )  # fmt: skip
    assert (done.returncode, err.read_text()) == (0, "")
