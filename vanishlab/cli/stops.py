"""How a command is stopped: SIGTERM and Ctrl-C raised in the main thread while it runs, and a
stop that Python ignored (raised in a finalizer) sent again. Standard library only: the command
line's help must not import more (:mod:`._app`)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["RESEND_S", "Terminated", "terminable"]


class Terminated(BaseException):
    """SIGTERM (``kill PID``, a batch system's stop) raised in the main thread while a command
    runs, as Ctrl-C raises KeyboardInterrupt: the command stops the same way (finished work
    kept, worker processes and their semaphores cleaned up) instead of dying at once, which
    left multiprocessing's resource tracker to print its leaked-semaphore warnings."""


#: Seconds after which a stop that Python ignored (in a finalizer) is sent again.
RESEND_S = 0.01


@contextlib.contextmanager
def terminable() -> Iterator[list[int]]:
    """SIGTERM raises :class:`Terminated` and Ctrl-C (SIGINT) KeyboardInterrupt inside the block
    (main thread only), each noted in the list yielded. One raised inside a ``__del__`` or a
    garbage collector's callback (a report's figures torn down), which Python ignores (with an
    "Exception ignored" traceback: not here), is delivered again; one swallowed otherwise, the
    caller finds noted when the block ends. A signal the launcher ignores stays ignored."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    raises = {signal.SIGTERM: Terminated, signal.SIGINT: KeyboardInterrupt}
    previous = {s: signal.getsignal(s) for s in raises}

    def stop(signum: int, frame: Any) -> None:
        received.append(signum)
        raise raises[signum]

    hook = sys.unraisablehook
    again: list[threading.Timer] = []  # the timers that send a stop again

    def quiet(unraisable: Any) -> None:  # noted above; its "Exception ignored" is no news
        raised = unraisable.exc_value
        if not isinstance(raised, Terminated | KeyboardInterrupt):
            return hook(unraisable)
        # Sent again from another thread, once the finalizer has returned (sent from here, it
        # was raised in this hook, and ignored): the command stops at its next step, not at its
        # end (a sweep ran on to its end). Another finalizer that takes it sends it again.
        signum = signal.SIGTERM if isinstance(raised, Terminated) else signal.SIGINT
        if again and again[-1].is_alive():  # one on its way already
            return None
        again.append(threading.Timer(RESEND_S, os.kill, (os.getpid(), signum)))
        again[-1].daemon = True
        again[-1].start()

    for s, was in previous.items():
        if was != signal.SIG_IGN:
            signal.signal(s, stop)
    sys.unraisablehook = quiet
    try:
        yield received
    finally:  # None: a handler not set from Python
        for timer in again:
            timer.cancel()
        for s, was in previous.items():
            signal.signal(s, signal.SIG_DFL if was is None else was)
        sys.unraisablehook = hook
