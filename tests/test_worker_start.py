"""Worker processes that cannot start (their Python cannot run: a user who may not execute this
venv's interpreter, a sandbox) end a sweep in one line, status 2, with the way on: the same
command with ``--workers 1``. It was click's "Aborted." and status 1 after multiprocessing's
"resource_tracker: process died unexpectedly" warning (an EOFError from the forkserver), or
"error: Connection refused"."""

from __future__ import annotations

import subprocess
import sys

import pytest

_SWEEP = """
import multiprocessing, sys
multiprocessing.set_executable({python!r})  # the Python every helper process runs
sys.argv = ["vanishlab", "sweep", "--seq-len", "5", "--hidden-size", "4", "--seeds", "2",
            "--init", "normal", "--out", {out!r}, "--workers", {workers!r}, "--quiet"]
from vanishlab.__main__ import main
main()
"""


def _sweep(
    out: str, workers: str, python: str, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    code = _SWEEP.format(python=python, out=out, workers=workers)
    return subprocess.run(
        [sys.executable, *flags, "-c", code], capture_output=True, text=True, timeout=300
    )


# -W error: the tracker's "died unexpectedly" warning was raised where it was to be recorded, a
# UserWarning traceback and status 1 (the user's filters apply to what is shown, not to this).
@pytest.mark.parametrize("flags", [(), ("-W", "error")], ids=["plain", "W-error"])
@pytest.mark.skipif(sys.platform != "linux", reason="a forkserver, and /bin/false")
def test_workers_that_cannot_start_are_one_line_and_the_way_on_works(tmp_path, flags):
    out = str(tmp_path / "run")
    done = _sweep(out, "2", "/bin/false", flags)  # exits at once, as a Python that cannot run
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: the worker processes could not start (")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.rstrip().endswith(
        "run the same command to start again with --workers 1, which measures in this process"
    )
    again = _sweep(out, "1", sys.executable)  # the way on it gives
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "run" / "cells").is_dir()
