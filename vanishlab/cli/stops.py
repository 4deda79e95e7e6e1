"""How a command is stopped: SIGTERM and Ctrl-C raised in the main thread while it runs, and a
stop that Python ignored (raised in a finalizer) sent again. Standard library only: the command
line's help must not import more (:mod:`._app`), and the console command (:mod:`vanishlab.__main__`)
loads the command line inside :func:`terminable`, imported first."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

# typing.TYPE_CHECKING without importing typing: the console command imports this module
# before its SIGTERM handling is in place (vanishlab.__main__).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RESEND_S", "Terminated", "terminable"]


class Terminated(BaseException):
    """SIGTERM (``kill PID``, a batch system's stop) raised in the main thread while a command
    runs, as Ctrl-C raises KeyboardInterrupt: the command stops the same way (finished work
    kept, worker processes and their semaphores cleaned up) instead of dying at once, which
    left multiprocessing's resource tracker to print its leaked-semaphore warnings."""


#: Seconds between the looks for a stop that Python ignored (in a finalizer), to send it again
#: once the hook that noted it has returned.
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
    hook = sys.unraisablehook
    owed: list[int] = []  # stops Python ignored, to send again
    sender: list[threading.Thread] = []  # the one thread that sends them, once one is owed
    ended = threading.Event()
    main = threading.main_thread().ident

    def in_hook(frame: Any) -> bool:
        while frame is not None:
            if frame.f_code is quiet.__code__:
                return True
            frame = frame.f_back
        return False

    def stop(signum: int, frame: Any) -> None:
        received.append(signum)
        if in_hook(frame):  # raised here, Python would ignore it again: owed instead
            owed.append(signum)
            start_sender()  # (the hook may be at work on another finalizer's exception)
            return
        raise raises[signum]

    def start_sender() -> None:
        if not sender:
            sender.append(threading.Thread(target=send_again, daemon=True))
            sender[-1].start()

    def send_again() -> None:
        # Each owed stop is sent once the hook that noted it has returned: sent while the
        # main thread was still in the hook (a loaded machine: it waited for this thread to
        # start), it was raised there and ignored, and the command ran to its end. Python
        # ignores it again in another finalizer: the hook owes it again.
        while not ended.wait(RESEND_S):
            if owed and not in_hook(sys._current_frames().get(main)):
                with contextlib.suppress(IndexError):  # (taken by a second sender)
                    os.kill(os.getpid(), owed.pop(0))

    def quiet(unraisable: Any) -> None:  # noted above; its "Exception ignored" is no news
        raised = unraisable.exc_value
        if not isinstance(raised, Terminated | KeyboardInterrupt):
            return hook(unraisable)
        # Sent again from another thread (sent from here, it was raised in this hook, and
        # ignored): the command stops at its next step, not at its end (a sweep ran on to
        # its end).
        if not owed:  # one already owed stops the command as well
            owed.append(signal.SIGTERM if isinstance(raised, Terminated) else signal.SIGINT)
        start_sender()

    for s, was in previous.items():
        if was != signal.SIG_IGN:
            signal.signal(s, stop)
    sys.unraisablehook = quiet
    try:
        yield received
    finally:
        ended.set()
        try:
            for thread in sender:  # a stop it sends now still finds this block's handler
                thread.join()
        finally:  # None: a handler not set from Python
            for s, was in previous.items():
                signal.signal(s, signal.SIG_DFL if was is None else was)
            sys.unraisablehook = hook
