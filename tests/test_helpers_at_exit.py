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

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a forkserver and /proc")

FLAGS = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "4", "--batch", "1"]


def _in_session(sid: int) -> dict[int, str]:
    """The live processes of session ``sid``, by pid: their command lines."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(stat.parent.name)] = cmdline
    return found


@pytest.mark.parametrize("stopped", [False, True], ids=["finished", "interrupted"])
def test_no_helper_process_outlives_a_two_worker_sweep(tmp_path, stopped):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VANISHLAB_TRACEBACK": ""}
    said = (tmp_path / "stderr.txt").open("w")  # (a pipe's end comes when the helpers' do)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vanishlab", "sweep", *FLAGS, "--seeds", "40" if stopped else "2",
         "--workers", "2", "--out", str(out), "-q"],
        stdout=subprocess.DEVNULL, stderr=said, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        if stopped:  # once the pool's workers have handed back a cell
            deadline = time.monotonic() + 120
            while not list(out.glob("cells/*.parquet")) and proc.poll() is None:
                assert time.monotonic() < deadline, "no cell was measured in 120 s"
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGINT)  # a Ctrl-C, to the whole group
        proc.wait(timeout=120)
        left = _in_session(proc.pid)  # at once: the command has ended
    finally:
        said.close()
        for pid in _in_session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    if stopped and proc.returncode == 0:
        pytest.skip("the sweep finished before the Ctrl-C")
    err = (tmp_path / "stderr.txt").read_text()
    assert proc.returncode == (-signal.SIGINT if stopped else 0), err
    if stopped:
        assert err.startswith("interrupted") and len(err.splitlines()) == 1, err
    forkservers = [cmd for cmd in left.values() if "multiprocessing.forkserver" in cmd]
    assert not forkservers, left
    # the resource tracker ends as the command's end closes its pipe: it has nothing to wait for
    deadline = time.monotonic() + 5
    while _in_session(proc.pid):
        assert time.monotonic() < deadline, _in_session(proc.pid)
        time.sleep(0.01)
