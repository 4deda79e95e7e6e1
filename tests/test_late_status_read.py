"""A worker killed by SIGKILL is said so, however late the pool's own thread reads its status.

A forkserver child's status can be read once, and the pool's manager thread reads it: the
sweep waited up to 2 s for that read (the cached ``returncode``), then read itself. Where the
manager read about then too (a machine so loaded that it ran some 2 s late), one of the two
got EOF, which multiprocessing takes for status 255, and the sweep said "a worker process
exited with status 255 before handing back its cell": a wrong cause, and no memory advice.
A manager merely later than the 2 s did no harm (the sweep read first); the two reads meeting
did. The manager is held here until the sweep's thread reads a status itself (then it reads
at once beside it) or shuts the pool down: the latest it can be."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import process
from multiprocessing import forkserver
from typing import Any

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="forkserver workers"
)
def test_a_sigkilled_worker_is_said_so_when_the_pool_s_thread_reads_late(tmp_path, monkeypatch):
    """A real pool, a worker killed by SIGKILL, and the pool's manager thread as late as a
    loaded machine makes it: it reads the dead worker's status only once the sweep's thread
    reads one itself, or shuts the pool down. The old code waited 2 s for the manager's read,
    then read itself, as the manager did: the second reader got EOF, and the sweep said "a
    worker process exited with status 255 before handing back its cell"."""
    broken = threading.Event()  # the manager thread found the pool broken
    late = threading.Event()  # the manager thread may read statuses now
    read = threading.Event()  # the manager thread has read one
    real_read = forkserver.read_signed

    def read_signed(fd: int) -> int:
        if not broken.is_set():  # a worker's pid, as it starts
            return real_read(fd)
        if threading.current_thread() is threading.main_thread():
            late.set()
            read.wait(30)  # the manager thread reads at once beside it (first, here)
            return real_read(fd)
        late.wait(30)
        try:
            return real_read(fd)
        finally:
            read.set()

    real_broken = process._ExecutorManagerThread.terminate_broken
    real_shutdown = process.ProcessPoolExecutor.shutdown

    def terminate_broken(self: Any, cause: Any) -> None:
        broken.set()
        real_broken(self, cause)

    def shutdown(self: Any, *args: Any, **kwargs: Any) -> None:
        late.set()
        real_shutdown(self, *args, **kwargs)

    monkeypatch.setattr(forkserver, "read_signed", read_signed)
    monkeypatch.setattr(process._ExecutorManagerThread, "terminate_broken", terminate_broken)
    monkeypatch.setattr(process.ProcessPoolExecutor, "shutdown", shutdown)
    module = tmp_path / "killed.py"
    module.write_text(
        "import os\nimport signal\n\nimport vanishlab as vl\n\n\n"
        "def _init(rnn, gain, generator):\n"
        "    if gain == 2.0:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        '    vl.INITS["default"].apply(rnn, gain, generator)\n\n\n'
        'vl.register_init(vl.Init("killed_late_test", "killed", _init), replace=True)\n'
        'SWEEP = vl.Sweep(init="killed_late_test", gain=(2.0, 1.0), hidden_size=4, '
        "input_size=2, seq_len=5, batch=1)\n"
    )
    out = tmp_path / "run"
    try:
        args = ["sweep", str(module), "--out", str(out), "--workers", "2", "--quiet"]
        result = CliRunner().invoke(app, args)
    finally:
        vl.INITS.pop("killed_late_test", None)
    assert broken.is_set()
    one_error_line(result, "error: a worker process was killed by SIGKILL (sent by the kernel")
