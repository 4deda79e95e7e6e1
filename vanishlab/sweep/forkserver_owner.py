"""Whose this process's forkserver is: the worker pool's (:func:`.executors._ready_forkserver`
started it, with its preload and its stops blocked), or the caller's own, started before the
pool's by a process of ``multiprocessing.get_context("forkserver")`` (the default start method
from Python 3.14). The forkserver is the whole Python process's: multiprocessing keeps one."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable

from .worker_deaths import forkserver_pid

__all__ = ["end_a_callers_forkserver", "kill_forkserver", "mark_ours"]

_OURS: list[int] = []  # the pids of the forkservers that the pool started (mark_ours)


def mark_ours() -> None:
    """Record the running forkserver as the pool's (just started, or found so)."""
    pid = forkserver_pid()
    if pid is not None and pid not in _OURS:
        _OURS.append(pid)


def end_a_callers_forkserver() -> int | None:
    """End a forkserver that the caller's own code started before the pool's, where no process
    of this one runs: it was started without the pool's preload and stops, so each worker
    imported torch itself (a two-worker sweep of 3 cells took 14 s against 8 s), and a group's
    SIGTERM or hang-up killed it. The pool's is started in its place, and serves the caller's
    later processes too. One that a running process of this one was forked by is kept, as it
    reads that process's exit status (killed, the status read 255), and its pid returned;
    None where there was none, or it was ended."""
    from multiprocessing import forkserver

    pid = forkserver_pid()
    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if pid is None or pid in _OURS:
        return None
    if stop is None or multiprocessing.active_children() or not _is_child(pid):
        return pid
    kill_forkserver(pid, stop)
    return None


def _is_child(pid: int) -> bool:
    """Whether ``pid`` is a child of this process (running, or dead and not yet reaped): not
    where this process was forked from the one that started that forkserver (``os.fork()``),
    which it would have killed under its parent. False where that cannot be told."""
    if not hasattr(os, "waitid"):  # pragma: no cover - macOS
        return False
    try:  # WNOWAIT: a dead one is left for its owner's waitpid
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


def kill_forkserver(pid: int, stop: Callable[[], None] | None) -> None:
    """Kill the forkserver ``pid`` and wait until it has gone; ``stop``: its ``_stop``, which
    closes its pipe, waits for it and forgets it (None: only waits)."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        if stop is not None:
            stop()
        else:  # pragma: no cover - a Python without it
            os.waitpid(pid, 0)
