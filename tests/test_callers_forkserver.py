"""A forkserver that the caller's own code started before a sweep's pool (a process of
``multiprocessing.get_context("forkserver")``, the default start method from Python 3.14).

The forkserver is the whole Python process's, and the pool used the caller's as it found it:
without the pool's preload, so each worker imported torch itself (a two-worker sweep of 3 cells
took 14 s against 8 s on a loaded 2-core machine), and without its stops blocked. Where no
process of the caller's runs, it is ended and the pool's started in its place; one whose
process still runs is kept (it reads that process's exit status)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="a forkserver")

_CELL = """
import sys
from pathlib import Path

import vanishlab as vl


def _init(rnn, gain, generator):  # in a worker: was it forked from the pool's forkserver?
    with open(Path(__file__).with_name("preloaded.txt"), "a") as out:
        print("vanishlab.sweep.forkserver_preload" in sys.modules, file=out)
    vl.INITS["default"].apply(rnn, gain, generator)


vl.register_init(vl.Init("preload_test", "says where it runs", _init))
SWEEP = vl.Sweep(init="preload_test", gain=(1.0, 2.0), hidden_size=4, input_size=2, seq_len=5,
                 batch=1)
"""

_CALLER = """
import multiprocessing, sys
from multiprocessing import forkserver
import vanishlab as vl

if __name__ == "__main__":
    ctx = multiprocessing.get_context("forkserver")
    wait, go = ctx.Pipe(duplex=False)
    own = ctx.Process(target=wait.recv)  # runs until it is told to end
    own.start()
    if sys.argv[2] == "joined":
        go.send(None)
        own.join()
    server = forkserver._forkserver._forkserver_pid
    done = vl.run_sweep(sys.argv[1], sys.argv[1] + ".run", workers=2, progress=False)
    if sys.argv[2] == "running":
        go.send(None)
    own.join()
    later = ctx.Process(target=sys.exit)  # the caller's later process
    later.start()
    later.join()
    print(done.n_run, done.n_failed, own.exitcode, later.exitcode,
          "kept" if forkserver._forkserver._forkserver_pid == server else "replaced")
"""


def _run(tmp_path: Path, own: str) -> tuple[list[str], list[str]]:
    module = tmp_path / "study.py"
    module.write_text(_CELL)
    script = tmp_path / "caller.py"
    script.write_text(_CALLER)
    done = subprocess.run(
        [sys.executable, str(script), str(module), own],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split(), (tmp_path / "preloaded.txt").read_text().split()


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_callers_idle_forkserver_gives_way_to_the_pools(tmp_path):
    said, preloaded = _run(tmp_path, "joined")
    assert said == ["2", "0", "0", "0", "replaced"]
    assert preloaded == ["True", "True"]


# In the slow tier: ~7 s of CPU.
@pytest.mark.slow
def test_a_callers_forkserver_whose_process_runs_is_kept_and_reads_its_status(tmp_path):
    # Ended, the running process's status would read 255. The pool then pays the import.
    said, preloaded = _run(tmp_path, "running")
    assert said == ["2", "0", "0", "0", "kept"]
    assert preloaded == ["False", "False"]


_FORKED = """
import multiprocessing, os, sys
from multiprocessing import forkserver
from vanishlab.sweep.forkserver_owner import end_a_callers_forkserver

if __name__ == "__main__":
    own = multiprocessing.get_context("forkserver").Process(target=sys.exit)
    own.start()
    own.join()
    server = forkserver._forkserver._forkserver_pid
    child = os.fork()
    if child == 0:  # a process forked from the caller's: the forkserver is its parent's
        print("kept" if end_a_callers_forkserver() == server else "ended", flush=True)
        os._exit(0)
    os.waitpid(child, 0)
    print("lives" if os.waitpid(server, os.WNOHANG)[0] == 0 else "died")
"""


def test_a_process_forked_from_the_callers_leaves_its_parents_forkserver_alone(tmp_path):
    # The forkserver a forked process finds is its parent's, which the parent reads its
    # processes' statuses through: ending it there killed it under the parent.
    script = tmp_path / "forked.py"
    script.write_text(_FORKED)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["kept", "lives"]
