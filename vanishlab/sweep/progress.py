"""Progress of long work on stderr: a rich bar on a terminal, plain lines when stderr is not
one (a batch job's log, ``2>log``), so that such a job shows life without filling its log.

Plain lines come at most every :data:`PLAIN_EVERY_S` seconds *and* every tenth of the cells
(whichever is rarer), plus one at the end. :func:`working` says what one long step is doing.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["PLAIN_AFTER_S", "PLAIN_EVERY_S", "Progress", "is_terminal", "status_line", "working"]

PLAIN_EVERY_S = 10.0
"""The least time between two plain progress lines."""

PLAIN_AFTER_S = 2.0
"""How long a step of :func:`working` runs before its plain line is printed (a quick step, or
one that fails at once with its one-line error, prints none)."""


def is_terminal() -> bool:
    """Whether stderr is a terminal (rich's bar and spinners there, plain lines otherwise)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False


def status_line(text: str) -> None:
    """``text`` as one line on stderr, at once (a plain line, or one above a terminal's bar)."""
    print(text, file=sys.stderr, flush=True)


#: Terminals narrower than this (plus 3 columns a digit of the cell count beyond two) get the
#: counts and the time left only, no name or bar.
NARROW = 72
#: The most characters of the run's name that the bar shows (then an ellipsis). NARROW is
#: the width of a full row with this name, a bar of 4, and counts of two digits.
NAME_WIDTH = 24
_COUNTS_WIDTH = 21  # "11/96 cells 1 failed "


class Progress:
    """Cells done / total on stderr (elapsed, ETA, failures), or nothing when not ``enabled``."""

    def __init__(self, enabled: bool, name: str, total: int, done: int, failed: int) -> None:
        self._bar: Any = None
        self._plain = enabled and not is_terminal()
        self._name, self._total, self._done, self._failed = name or "sweep", total, done, failed
        self._start = self._last = time.monotonic()
        self._last_done = done
        if not enabled or self._plain:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        console = Console(stderr=True)
        counts = (
            MofNCompleteColumn(),
            TextColumn("cells"),
            TextColumn("{task.fields[failed]} failed"),
        )
        # Counts of more than two digits widen the row: 3 characters a digit (done, total and
        # the failures).
        extra = 3 * max(0, len(str(total)) - 2)
        if console.width < NARROW + extra:  # the counts first: a full row cut them off
            fits = console.width >= _COUNTS_WIDTH + extra + 9  # and the time left, if it fits
            columns: tuple[Any, ...] = (*counts, *([TimeRemainingColumn()] if fits else []))
        else:
            # The name is cut to NAME_WIDTH (one built from flags took the row and cut the
            # counts off, even at 100 columns); the bar takes what the rest leaves, up to 40.
            rest = console.width - (NARROW - 4) - extra
            columns = (
                TextColumn("[bold]{task.description}"),
                BarColumn(bar_width=max(4, min(40, rest))),
                *counts,
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
        shown = self._name if len(self._name) <= NAME_WIDTH else self._name[: NAME_WIDTH - 1] + "…"
        self._bar = Bar(*columns, console=console)
        self._task = self._bar.add_task(shown, total=total, completed=done, failed=failed)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, failed: int) -> None:
        self._done += 1
        self._failed = failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=failed)
        elif self._plain and self._done < self._total:
            now = time.monotonic()
            tenth = max(1, math.ceil(self._total / 10))
            if now - self._last >= PLAIN_EVERY_S and self._done - self._last_done >= tenth:
                self._last, self._last_done = now, self._done
                status_line(self._text(now))

    def _text(self, now: float) -> str:
        share = 100 * self._done / self._total if self._total else 100
        return (
            f"{self._name}: {self._done}/{self._total} cells ({share:.0f}%), "
            f"{self._failed} failed, {now - self._start:.0f} s"
        )

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self._plain and kind is None:
            status_line(self._text(time.monotonic()))


@contextlib.contextmanager
def working(text: str, enabled: bool = True) -> Iterator[None]:
    """While the body runs: a spinner with ``text`` on a terminal (gone when it ends), else
    ``text`` as one plain line once the body has run :data:`PLAIN_AFTER_S` seconds."""
    if not enabled:
        yield
    elif is_terminal():
        from rich.console import Console

        with Console(stderr=True).status(text):
            yield
    elif PLAIN_AFTER_S <= 0:
        status_line(text)
        yield
    else:
        timer = threading.Timer(PLAIN_AFTER_S, status_line, (text,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
