"""What the worker pool's forkserver imports before it serves (its preload, set by
:func:`.executors._mp_context`): the executors, torch with them, once for every worker; and
SIGTERM seen again by each process it forks.

The forkserver is started with SIGTERM blocked (:func:`.executors._start_forkserver`): a
batch system's SIGTERM to the whole process group (``scancel``, ``kill -TERM -- -PGID``) killed
it at once (CPython has it ignore only Ctrl-C), its workers' statuses then read 255 and the
pool's shutdown returned before they had exited. A process forks with its signal mask, so each
child it forks unblocks SIGTERM as it starts: a pool's worker ignores it (``_worker_init``),
and any other process started by the forkserver (a caller's own: the forkserver is the whole
Python process's) is ended by ``Process.terminate()`` as ever. Imported in the forkserver
alone."""

from __future__ import annotations

import os
import signal

from . import executors  # noqa: F401 - loaded once here, for every worker

__all__: list[str] = []


def _see_sigterm() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


if hasattr(signal, "pthread_sigmask"):  # (no forkserver where there is none)
    os.register_at_fork(after_in_child=_see_sigterm)
