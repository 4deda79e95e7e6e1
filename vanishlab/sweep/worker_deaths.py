"""A broken worker pool in words: which of its workers had died, and how (their exit codes), or
the forkserver that starts them killed (:mod:`vanishlab.sweep.executors` runs the pool)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from multiprocessing.connection import wait
from typing import Any

from ..errors import StoppedRunError

__all__ = [
    "ENDED_WAIT_S",
    "NO_STATUS",
    "STATUS_WAIT_S",
    "dead_workers",
    "forkserver_death",
    "forkserver_ended",
    "forkserver_pid",
    "worker_death",
]


#: How long :func:`dead_workers` waits for a death to be reported, where none was as the pool broke.
STATUS_WAIT_S = 2.0


def dead_workers(processes: Sequence[Any], wait_s: float = STATUS_WAIT_S) -> list[Any]:
    """The worker ``processes`` of a broken pool whose death had been reported, told without
    reading a status; their exit codes are read once the pool is shut down.

    A forkserver child's status can be read once: a second reader gets EOF, which
    multiprocessing takes for status 255. The pool's manager thread reads each dead worker's
    as the pool breaks, or later (from Python 3.12, once it has joined the workers before it),
    and the sweep read them too: at once, then after waiting 2 s for the manager's read.
    Where the two reads met (a manager late by about those 2 s on a loaded machine), a
    SIGKILLed worker "exited with status 255 before handing back its cell". A worker's
    ``sentinel`` turns readable once the forkserver has reported its death (then stays so),
    which a ``wait`` on it tells without reading; the status the manager has read is cached
    (``returncode``). Read after the pool's shutdown (the manager thread joined, every worker
    joined by it), each status has had one reader; the workers stopped then exit too, and
    are not these. Where no death was reported as the pool broke (one seen first as the end
    of the result pipe, a worker killed mid-message), this waits up to ``wait_s`` for one."""

    def reported() -> list[Any]:
        ready = set(wait([p.sentinel for p in processes], timeout=0))
        return [
            p
            for p in processes
            if p.sentinel in ready
            or getattr(getattr(p, "_popen", None), "returncode", None) is not None
        ]

    deadline = time.monotonic() + wait_s
    while not (dead := reported()) and (left := deadline - time.monotonic()) > 0:
        # Slices: a sentinel whose status the manager has read before the forkserver closed
        # its pipe is not readable for that moment, and its status is cached once read.
        wait([p.sentinel for p in processes], timeout=min(left, 0.05))
    return dead


#: The exit code multiprocessing gives a forkserver's child whose status it could not read (EOF
#: on the forkserver's pipe): the child's own ``exit(255)``, or a forkserver that died.
NO_STATUS = 255

#: How long :func:`forkserver_ended` waits for a forkserver whose pipe has closed to be seen
#: dead (a dying process closes its files before its parent can see it gone).
ENDED_WAIT_S = 0.5


def forkserver_pid() -> int | None:
    """The pid of this process's forkserver (multiprocessing's module state), None if none."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    return getattr(server, "_forkserver_pid", None)


def forkserver_ended(wait_s: float = ENDED_WAIT_S) -> str | None:
    """How this process's forkserver ended ("was killed by SIGKILL", "exited with status 1"),
    where it has; None where it runs, or is not known here. Its status is looked at, not
    reaped (``WNOWAIT``): multiprocessing reaps it as it starts the next one."""
    pid = forkserver_pid()
    if pid is None or not hasattr(os, "waitid"):  # pragma: no cover - no forkserver there
        return None
    deadline = time.monotonic() + wait_s
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except OSError:  # not a child of this process (reaped by another): not known
            return None
        if info is not None and info.si_pid:
            if info.si_code == os.CLD_EXITED:
                return f"exited with status {info.si_status}"
            return f"was killed by {_signal_name(info.si_status)}"
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def forkserver_death(ended: str) -> StoppedRunError:
    """The error for a pool whose forkserver died (``ended``: how, :func:`forkserver_ended`):
    its workers' statuses are lost with it, and each read as 255, which was said as "a worker
    process exited with status 255 before handing back its cell". Nothing of the sweep's
    caused it (a kill, a shutdown): the same command runs again."""
    return StoppedRunError(
        f"the process that starts the worker processes (multiprocessing's forkserver) {ended}, "
        "which stopped them",
        "; --workers 1 (workers=1) measures in this process",
    )


def _signal_name(signum: int) -> str:
    """``SIGKILL`` for 9; ``signal 99`` for a number no signal has here."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def worker_death(exit_codes: Sequence[int | None]) -> StoppedRunError:
    """The error for a pool whose worker died, from its workers' ``exit_codes`` (None: alive);
    the runner adds what the run directory keeps (it said "finished cells are kept" where no
    cell had finished).

    It said "a worker process died (out of memory?)" whatever killed it. What the parent
    knows is the exit code: -9, SIGKILL, is what the kernel's out-of-memory killer sends (and
    ``kill -9``); another signal (SIGSEGV: a crash in native code) or a status of its own is
    no memory's. A worker ignores SIGTERM and Ctrl-C (the parent handles them), so a pool's
    own SIGTERM to the rest as it breaks is passed over where another code tells more."""
    dead = [c for c in exit_codes if c]
    code = next((c for c in dead if c != -signal.SIGTERM), dead[0] if dead else None)
    fewer = ", perhaps with fewer --workers (workers=)"
    if code is None:
        return StoppedRunError("a worker process died (out of memory?)", fewer)
    if code > 0:
        return StoppedRunError(
            f"a worker process exited with status {code} before handing back its cell"
        )
    name = _signal_name(-code)
    if code == -signal.SIGKILL:
        return StoppedRunError(
            "a worker process was killed by SIGKILL (sent by the kernel's out-of-memory killer "
            "when memory runs short, or by kill -9)",
            fewer,
        )
    return StoppedRunError(f"a worker process was killed by {name}")
