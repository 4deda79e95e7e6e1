"""A command's lines and the exit statuses they go with: its output on stdout (:func:`say`,
and :func:`stdout_refused`), every line on stderr (:func:`note`), a mistake's line and status 2
(:func:`fail`), a stop's line and its status (:func:`interrupted`), a broken pipe's quiet
status 141 (:func:`broken_pipe`), and a listing's columns aligned in a terminal's columns
(:func:`listing_lines`).
"""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import unicodedata
from collections.abc import Sequence

import typer

from ..errors import VanishlabError, command_line_words, traceback_wanted
from ..sweep.files import as_text
from ..sweep.progress import status_line
from .disk_words import os_error_text, stdout_error_text

__all__ = [
    "BROKEN_PIPE",
    "INTERRUPTED",
    "USAGE_ERROR",
    "broken_pipe",
    "display_width",
    "fail",
    "interrupted",
    "listing_lines",
    "note",
    "say",
    "stdout_refused",
]

USAGE_ERROR = 2
BROKEN_PIPE = 141  # 128 + SIGPIPE: the status of a process that SIGPIPE ended
INTERRUPTED = 128 + signal.SIGINT  # 130: ... that Ctrl-C ended (SIGTERM, SIGHUP: 128 + theirs)


def note(line: str) -> None:
    """``line`` on stderr, if it can take it: every line a command says there (an error's, a
    stop's, a note, a warning, a shard moved aside), by the one writer progress lines take too
    (:func:`~vanishlab.sweep.progress.status_line`: one that fails, 2>/dev/full or a pipe
    whose reader has gone, is passed over, so that the command's status is its own, not that
    write's; a path's byte of another encoding is written ``\\xNN``). An option that words
    shared with the Python API name twice ("--seq-len (seq_len=)") is named by its flag alone
    (:func:`~vanishlab.errors.command_line_words`)."""
    status_line(command_line_words(line))


def fail(message: str) -> typer.Exit:
    """``message`` as one line on stderr (if it can take it: 2>/dev/full), and Exit(2)."""
    note(f"error: {' '.join(message.split())}")
    return typer.Exit(USAGE_ERROR)


def interrupted(message: str, status: int = INTERRUPTED) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise for a Ctrl-C (status 130) or a
    SIGTERM (143); the console command (:mod:`vanishlab.__main__`) then ends by that signal.
    A stderr that cannot take the line (a closed pipe, 2>/dev/full) changes nothing of that:
    its error ended the command with status 1, 2 or 141 instead."""
    note(message)
    return typer.Exit(status)


def broken_pipe(err: BrokenPipeError) -> typer.Exit:
    """The Exit to raise for a broken pipe: status 141, quietly, when the reader of stdout went
    away (`vanishlab sweep --dry-run | head`, `vanishlab --help | head -1`), as other Unix tools
    do, with the status of a process that SIGPIPE ended; else one line, status 2."""
    if not _stdout_reader_gone():  # another pipe (a socket, a child's stdin) broke
        return fail(os_error_text(err))
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush succeeds
    return typer.Exit(BROKEN_PIPE)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or no real stdout
        return True


def _as_it_came(text: str) -> str | bytes:
    """``text`` as stdout is to take it: the bytes that its escaped bytes came as, where it
    holds any (a path that this locale's encoding cannot read, as Python's surrogateescape
    keeps it), else itself. Under an ASCII locale (LC_ALL=C, PYTHONUTF8=0) click writes text
    in UTF-8 with "?" for such a byte: ``-o é.html`` was printed as ``??.html``, a path that
    does not exist. The rest of the text is UTF-8, as click writes it there."""
    try:
        return text.encode("utf-8", "surrogateescape") if _ESCAPED_BYTE.search(text) else text
    except UnicodeEncodeError:  # a lone surrogate of no byte (a manifest's "\ud800")
        return text


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte that surrogateescape kept


def say(text: str, done: str = "") -> None:
    """Print a command's output on stdout. A standard output that refuses it (a full disk,
    ``> /dev/full``) is named as such, with ``done`` (what the command finished before: a
    report written): it read as a full disk somewhere in the work."""
    try:
        typer.echo(_as_it_came(text))
    except BrokenPipeError:
        raise
    except OSError as err:
        then = f"; {done}" if done else ""
        raise VanishlabError(f"{stdout_error_text(err)}{then}") from err


def stdout_refused(err: BrokenPipeError | VanishlabError) -> None:
    """Say what :func:`say` raised, ``err``, as its command would, for a command whose own
    status (a sweep's 1: cells failed with an error) stands instead of 141 or 2: quietly for a
    reader of stdout gone, else one line (its traceback where :func:`traceback_wanted`)."""
    if isinstance(err, BrokenPipeError):
        broken_pipe(err)  # stdout to /dev/null, for the final flush (or its line, another pipe)
    elif traceback_wanted():
        raise err
    else:
        fail(str(err))


def display_width(text: str) -> int:
    """The terminal columns ``text`` takes as a file name's text (:func:`~..sweep.files.
    as_text`: under an ASCII locale the é of mé.py is two escaped bytes, one column): a wide
    or full-width character (East Asian width W or F: 实, Ａ) two, a combining mark none, any
    other one."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in as_text(text)
    )


def listing_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """A listing's lines (``vanishlab inits``, ``vanishlab experiments``): each row's cells
    two spaces apart, every one but the last padded to its column's widest in terminal
    columns (:func:`display_width`), so that the next column starts where the others' do
    (padded by characters, a CJK name, experiments/实验.py, pushed its description one column
    right for each of its characters)."""
    widths: dict[int, int] = {}
    for row in rows:
        for c, cell in enumerate(row[:-1]):
            widths[c] = max(widths.get(c, 0), display_width(cell))

    def padded(c: int, cell: str) -> str:
        return cell + " " * (widths[c] - display_width(cell))

    return ["  ".join([*(padded(c, v) for c, v in enumerate(row[:-1])), *row[-1:]]) for row in rows]
