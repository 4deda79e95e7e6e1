"""What the worker pool's forkserver imports before it serves (its preload, set by
:func:`.executors._mp_context`): the executors, torch with them, once for every worker; and the
stops given back to each process it forks that is not the pool's.

The forkserver is started with Ctrl-C, SIGTERM and SIGHUP blocked (:func:`.executors.
_start_forkserver`): a group's signal (a terminal's Ctrl-C or hang-up, a batch system's
SIGTERM) killed it, or printed its traceback; the command alone acts on one. A process forks
with its signal mask, so each process it forks starts with the three blocked, and is given its
own mask once its process object is known (multiprocessing's after-fork hooks, before its
target runs). One of the pool's (:class:`.executors._PoolProcess`: a worker, or the probe that
waits for this preload) keeps them blocked until its init ignores them (``_worker_init``): a
stray Ctrl-C meanwhile waits, and is dropped as it is ignored, where it printed a worker's
KeyboardInterrupt traceback; the init then unblocks them, which a process a cell starts
inherits (blocked, they reached no handler of its own). Any other (a caller's own: the
forkserver is the whole Python process's) sees them again: the mask of the thread that started
the forkserver, the three unblocked (one that thread had blocked itself too: the forkserver
cannot tell them apart). Ctrl-C and a hang-up stayed blocked in it for its whole life.
Imported in the forkserver alone."""

from __future__ import annotations

import os
import signal
from multiprocessing import current_process, util

from . import executors  # loaded once here, for every worker
from .held_signals import STOPS

__all__: list[str] = []

_SERVER = os.getpid()  # the forkserver


def _see_stops(_: object) -> None:
    """In a process the forkserver forked (not in one that a child of it forks: that one has
    its parent's mask), unblock the stops, unless it is one of the pool's."""
    if os.getppid() == _SERVER and not isinstance(current_process(), executors._PoolProcess):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)


if hasattr(signal, "pthread_sigmask"):  # (no forkserver where there is none)
    util.register_after_fork(_see_stops, _see_stops)
