"""Progress of long work on stderr: a rich bar on a terminal, plain lines when stderr is not
one (a batch job's log, ``2>log``), so that such a job shows life without filling its log.

Plain lines come at most every :data:`PLAIN_EVERY_S` seconds *and* every tenth of the cells
(whichever is rarer), but at least every :data:`PLAIN_QUIET_S` seconds while cells finish (a
tenth of a grid of hours is many minutes), each with the time left ("ETA 0:00:41"), plus one
at the end.
:func:`working` says what one long step is doing.

The time left is the work left at this invocation's pace: the seconds it has spent per unit of
work since the first unit finished, that unit left out of the work, so that start-up (imports,
a pool of workers starting) is not read as slow work, nor the one-off work of a process's first
cell (the summary's code digest: ~1.2 s on a loaded 2-core machine, where a quick grid's cell
takes 0.2 s; a clock started at its own start read the quick grid's time left 4-5x long at its
first cells, 24-68% long at its first plain line). A sweep weighs each cell by its estimated
time (:mod:`vanishlab.sweep.cost`); a cell of T = 600 is not one of T = 20. Between two
finishes the time left counts down.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import surface_words
from .files import escaped_text

__all__ = [
    "NARROW",
    "PLAIN_AFTER_S",
    "PLAIN_EVERY_S",
    "PLAIN_QUIET_S",
    "Progress",
    "clock_text",
    "is_terminal",
    "plural",
    "status_line",
    "working",
]

PLAIN_EVERY_S = 10.0
"""The least time between two plain progress lines."""

PLAIN_QUIET_S = 60.0
"""The most time between two plain progress lines while the count moves."""

PLAIN_AFTER_S = 2.0
"""How long a step of :func:`working` runs before its plain line is printed (a quick step, or
one that fails at once with its one-line error, prints none)."""


def is_terminal() -> bool:
    """Whether stderr is a terminal that rich redraws (its bar and spinners there, plain lines
    otherwise). A terminal that rich does not redraw, ``TERM=dumb`` (Emacs' ``M-x shell``, an
    editor's terminal) or ``unknown``, or one it is told is not interactive
    (``TTY_INTERACTIVE=0``, ``TTY_COMPATIBLE=0``), takes plain lines: rich draws a bar there
    only once it stops, and a sweep of hours showed no progress at all until its end."""
    try:
        if not sys.stderr.isatty():
            return False
    except (AttributeError, ValueError):  # replaced by an object without it, or closed
        return False
    from rich.console import Console  # rich's own rule (TERM, TTY_*, FORCE_COLOR), not a copy

    return Console(stderr=True).is_interactive


def status_line(text: str) -> None:
    """``text`` as one line on stderr, at once (a plain line, or one above a terminal's bar):
    the one writer of every line vanishlab says there (``cli.output.note`` is it too).

    A stderr that cannot take it is passed over: progress and notes neither end the work nor
    change its status. ``2>/dev/full`` (or a pipe whose reader has gone) stopped a sweep at its
    first plain line, status 2, its cells unfinished and nothing said; a stderr closed at the
    start (``2>&-``, ``sys.stderr`` None) sent the lines to stdout (``print(file=None)``),
    among the path a script reads there. A path's byte of another encoding is written
    ``\\xNN`` (:func:`~vanishlab.sweep.files.escaped_text`), as a shell's ``$'...'`` writes it,
    not ``\\udcff``, a surrogate's escape that names no byte. An option named for both
    surfaces ("--workers (workers=)") is named as this process speaks
    (:func:`~vanishlab.errors.surface_words`)."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        said = escaped_text(surface_words(text))
        print(_QUOTED_BYTE.sub(r"\\x\1", said), file=stream, flush=True)


#: Such a byte in a value the line quotes by its repr ("unknown init '\\udcff'", "'n\\udcffpe' is
#: not an experiment name"): the surrogate's escape as text, which escaped_text cannot see;
#: written ``\\xNN`` too. A backslash before it is the text's own (repr doubles it).
_QUOTED_BYTE = re.compile(r"(?<!\\)\\udc([89a-f][0-9a-f])")


#: The most columns of the run's name that the bar shows (then an ellipsis; a wide character,
#: as in Japanese, takes two).
NAME_WIDTH = 24
#: The columns each time takes (:func:`clock_text`): its longest, "9999d 23h".
TIME_WIDTH = 9
_COUNTS_WIDTH = 21  # "11/96 cells 1 failed "
#: Terminals narrower than this (plus 3 columns a digit of the cell count beyond two) get the
#: counts and the time left ("ETA 0:00:41") only, no name or bar: the width of a full row with
#: a name of NAME_WIDTH, a bar of 4, counts of two digits and both times at their longest.
NARROW = NAME_WIDTH + 1 + 4 + 1 + _COUNTS_WIDTH + (TIME_WIDTH + 1) + len("ETA ") + TIME_WIDTH


def plural(n: int, word: str) -> str:
    """``"1 cell"``, ``"2 cells"`` (the page said "1 cells", "1 training steps"; analyze's
    progress line "over 1 steps x 1 sequences"). Here, below the report and the trained
    models, so that both use it."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def clock_text(seconds: float | None) -> str:
    """A time of the bar, at most :data:`TIME_WIDTH` characters: ``"0:04:05"``, ``"99:59:59"``,
    then days and hours, ``"4d 04h"`` (rich's own said ``"3 days, 0:00:00"`` after a day,
    which widened the row until a terminal wrapped it); ``"-:--:--"`` when not known."""
    if seconds is None:
        return "-:--:--"
    # (a hair over: the work left is the total less each cell's, so 2 s can come out 1.999...)
    minutes, secs = divmod(max(0, int(seconds + 1e-6)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours < 100:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h" if days < 10_000 else "9999d+"


def _clock(left: Callable[[], float | None] | None = None) -> Any:
    """A rich column of the time elapsed, or with ``left`` the time it gives, in
    :data:`TIME_WIDTH` columns whatever the time (the row never grows)."""
    from rich.progress import ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class Clock(ProgressColumn):
        max_refresh = 0.5 if left else None  # as rich's: the time left does not jitter

        def render(self, task: Any) -> Text:
            if left is not None:  # not rich's own, which counts every cell alike
                return Text(clock_text(left()), style="progress.remaining")
            elapsed = task.finished_time if task.finished else task.elapsed
            return Text(clock_text(elapsed), style="progress.elapsed")

    justify = "left" if left else "right"
    column = Column(width=TIME_WIDTH, no_wrap=True, justify=justify)
    return Clock(table_column=column)


class Progress:
    """Cells done / total on stderr (elapsed, ETA, failures), or nothing when not ``enabled``.

    ``unit``: what is counted (``"step"``: the steps of one measurement, ``vanishlab
    analyze``'s, moved with :meth:`to`); ``failures``: whether failures are counted and shown;
    ``quick_silent``: no plain line at the end unless one came before (a quick measurement
    says nothing, as :func:`working` says nothing of a quick step); ``work``: what the units
    left weigh in all (one each by default; :meth:`advance` says each one's weight).
    """

    def __init__(
        self,
        enabled: bool,
        name: str,
        total: int,
        done: int,
        failed: int,
        *,
        unit: str = "cell",
        failures: bool = True,
        quick_silent: bool = False,
        work: float | None = None,
    ) -> None:
        self._bar: Any = None
        self._plain = enabled and not is_terminal()
        self._name, self._total, self._done, self._failed = name or "sweep", total, done, failed
        self._units, self._failures = unit + "s", failures
        self._quick_silent = quick_silent
        self._end_line = not quick_silent  # set once a plain line is printed
        self._start = self._last = time.monotonic()
        self._last_done = done
        self._moved = self._start  # when :meth:`to` last moved the count
        self._work_left = float(total - done if work is None else work)
        self._since: float | None = None  # when the work began (the pace's clock)
        self._worked = 0.0  # the work done since then
        self._eta: tuple[float, float] | None = None  # (when, the time left then)
        if not enabled or self._plain:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Bar
        from rich.table import Column

        console = Console(stderr=True)
        # No column of the row wraps: one too wide for the terminal is cut (with an ellipsis)
        # where rich wrapped the row onto a second line.
        whole = Column(no_wrap=True)
        counts = (
            MofNCompleteColumn(table_column=whole),
            TextColumn(self._units, table_column=whole),
        )
        if failures:
            counts += (TextColumn("{task.fields[failed]} failed", table_column=whole),)
        # Counts of more than two digits widen the row: 3 characters a digit (done, total and
        # the failures).
        extra = 3 * max(0, len(str(total)) - 2)
        if console.width < NARROW + extra:  # the counts first: a full row cut them off
            # and the time left, named: a bare "0:00:41" after the counts could as well be the
            # time elapsed (the wide row's first time)
            fits = console.width >= _COUNTS_WIDTH + extra + len("ETA ") + TIME_WIDTH
            left = (TextColumn("ETA", table_column=whole), _clock(self._left))
            columns: tuple[Any, ...] = (*counts, *(left if fits else ()))
        else:
            # The name is cut to NAME_WIDTH (one built from flags took the row and cut the
            # counts off, even at 100 columns); the bar takes what the rest leaves, up to 40.
            rest = console.width - (NARROW - 4) - extra
            columns = (
                # The name as it is, not rich markup ("run[/x]" raised, "run[red]" was eaten)
                TextColumn("{task.description}", "bold", markup=False, table_column=whole),
                BarColumn(bar_width=max(4, min(40, rest))),
                *counts,
                _clock(),
                TextColumn("ETA", table_column=whole),
                _clock(self._left),
            )
        self._bar = Bar(*columns, console=console)
        shown = _shown_name(self._name)
        self._task = self._bar.add_task(shown, total=total, completed=done, failed=failed)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, failed: int, work: float = 1.0) -> None:
        """One more done, of weight ``work`` (a cell's estimated time)."""
        self._done += 1
        self._failed = failed
        self._worked_on(work)
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=failed)
        else:
            self._plain_line()

    def to(self, done: int) -> None:
        """``done`` of the total are done; fewer than before (a measurement started again
        from 0 when its previous step was done) starts the clock again there."""
        now = time.monotonic()
        work = done - self._done
        if done < self._done:  # the pace's clock, too, from when the new pass began
            self._count_from(self._moved, since=self._moved)
            work = done
            if self._bar is not None:
                self._bar.reset(self._task, completed=done)
        elif self._bar is not None:
            self._bar.update(self._task, completed=done)
        self._worked_on(work)
        self._done, self._moved = done, now
        if self._bar is None:
            self._plain_line()

    def stage(self, name: str, total: int) -> None:
        """A second count of its own, ``name`` and ``total`` (``vanishlab analyze``: the steps
        of the Lyapunov exponent after those of the Jacobians), from 0 and a clock of its own;
        in plain lines the stage before ends with its last line, as it would at the end."""
        if self._bar is None and self._plain and self._end_line:
            status_line(self._text(time.monotonic()))
        self._name, self._total, self._done = name, total, 0
        self._moved = time.monotonic()
        self._count_from(self._moved, since=None)
        self._end_line = not self._quick_silent
        if self._bar is not None:
            shown = _shown_name(name)
            self._bar.reset(self._task, total=total, completed=0, description=shown)

    def _count_from(self, at: float, since: float | None) -> None:
        """Count the total's units again from 0 at ``at``, the pace's clock from ``since``
        (None: from the first unit to finish, its work left out)."""
        self._start = self._last = at
        self._last_done, self._worked, self._work_left = 0, 0.0, float(self._total)
        self._since, self._eta = since, None

    def _worked_on(self, work: float) -> None:
        """``work`` more is done: the time left, at the pace since the first unit finished."""
        now = time.monotonic()
        self._work_left = max(0.0, self._work_left - work)
        if self._since is None:  # the first: the clock starts now, its work left out
            self._since, work = now, 0.0
        self._worked += work
        pace = (now - self._since) / self._worked if self._worked > 0 else None
        self._eta = None if pace is None else (now, pace * self._work_left)

    def _left(self, now: float | None = None) -> float | None:
        """The time left (None until a pace is measured), counting down since the last unit."""
        if self._eta is None:
            return None
        when, left = self._eta
        return max(0.0, left - ((time.monotonic() if now is None else now) - when))

    def _plain_line(self) -> None:
        if self._plain and self._done < self._total:
            now = time.monotonic()
            tenth = max(1, math.ceil(self._total / 10))
            waited, moved = now - self._last, self._done - self._last_done
            if (waited >= PLAIN_EVERY_S and moved >= tenth) or (waited >= PLAIN_QUIET_S and moved):
                self._last, self._last_done = now, self._done
                self._end_line = True
                status_line(self._text(now))

    def _text(self, now: float) -> str:
        # Rounded down: 813/816 read "(100%)", beside "ETA 0:00:00", as if it were done.
        share = 100 * self._done // self._total if self._total else 100
        elapsed = now - self._start
        # The time left at this invocation's pace (the module docstring), as the bar's "ETA"
        # (cells resumed from an earlier invocation took none of this one's time); none on the
        # last line, nor before a pace is measured.
        eta = self._left(now)
        left = f", ETA {clock_text(eta)}" if eta is not None and self._done < self._total else ""
        failed = f"{self._failed} failed, " if self._failures else ""
        return (
            f"{self._name}: {self._done}/{self._total} {self._units} ({share}%), "
            f"{failed}{elapsed:.0f} s{left}"
        )

    def __exit__(self, kind: object, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self._plain and kind is None and self._end_line:
            status_line(self._text(time.monotonic()))


def _shown_name(name: str) -> str:
    """``name`` cut to :data:`NAME_WIDTH` columns (a wide character takes 2), as the bar shows
    it: a byte of another encoding written ``\\xNN``, as :func:`status_line` writes it in the
    plain lines (the bar drew the lone surrogate, which a strict stderr cannot encode)."""
    from rich.text import Text

    text = Text(escaped_text(name))
    text.truncate(NAME_WIDTH, overflow="ellipsis")
    return text.plain


@contextlib.contextmanager
def working(text: str, enabled: bool = True) -> Iterator[None]:
    """While the body runs: a spinner with ``text`` on a terminal (gone when it ends), else
    ``text`` as one plain line once the body has run :data:`PLAIN_AFTER_S` seconds. ``text`` is
    shown as it is, not read as rich markup (``runs[/x]`` raised, ``runs[red]`` was eaten), with
    a byte of another encoding written ``\\xNN``, as :func:`status_line` writes it."""
    if not enabled:
        yield
    elif is_terminal():
        from rich.console import Console
        from rich.markup import escape

        with Console(stderr=True).status(escape(escaped_text(text))):
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
