"""Signals held for a block: a stop (Ctrl-C, SIGTERM, SIGHUP) that comes while a few steps
must all be done, or none (a pool's workers forked; a dry run's probe made and removed), is
delivered once they are. Standard library only."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["STOPS", "deliver", "signals_held"]


def deliver(signum: int, handler: Any, frame: Any) -> None:
    """Act on ``signum`` as ``handler`` (a signal's previous disposition) would."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL or handler is None:  # None: a handler not set from Python
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


# Ctrl-C, SIGTERM and SIGHUP (a closed terminal): the stops the command line handles.
STOPS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


@contextlib.contextmanager
def signals_held(held: tuple[int, ...] = STOPS) -> Iterator[None]:
    """Hold ``held`` signals until the block ends, then deliver each once to the handler it
    would have met.

    The clean-up is never broken off by a held signal: one that comes while it puts the
    handlers back is held too, and delivered with the rest once they are back (delivered at
    once, to a handler that raised, it broke the clean-up off: the signals held before it
    were never delivered, and the holding handlers stayed). A handler put back may still
    raise at once (a stop reaching it): the signals held are delivered all the same, and a
    holding handler still set then acts as the one before it would, and puts it back. Held
    signals are delivered even when the block raises. Main thread only; elsewhere a plain
    block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    signals = tuple(dict.fromkeys(held))
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in signals}
    own = sys._getframe().f_code  # this block's set-up and clean-up
    over = False

    def put_back(signum: int) -> None:
        handler = previous[signum]  # None: a handler not set from Python
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    def hold(signum: int, frame: Any) -> None:
        mine = frame
        while mine is not None and mine.f_code is not own:
            mine = mine.f_back
        if over and mine is None:  # still set after the block: see the docstring
            put_back(signum)
            deliver(signum, previous[signum], frame)
        else:
            caught.append(signum)

    try:
        for s in signals:
            signal.signal(s, hold)
        yield
    finally:
        over = True
        try:
            for s in signals:
                put_back(s)
        finally:
            for s in dict.fromkeys(caught):
                deliver(s, previous[s], None)
