"""A command's errors and stops, each as one line and its exit status (:func:`user_errors`,
which decorates every command): a user's mistake or a refusal of the file system or of memory,
status 2; a Ctrl-C, a SIGTERM or a SIGHUP, the signal's status, with what the stop leaves
(:func:`stop_leaves`) or what the command had finished by then (:func:`finished`).
"""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable
from typing import Any

from ..errors import VanishlabError, on_command_line, traceback_wanted
from ..sweep.manifest_digest import changes_said
from .disk_words import WRITE_ERRNOS, os_error_text
from .memory_words import environment_refusal
from .output import broken_pipe, fail, interrupted, note
from .stops import Terminated, stop_word, terminable

__all__ = ["RESUMABLE", "finished", "stop_leaves", "user_errors"]


_FINISHED_FIRST = "it came where Python could not act on it; the command finished first"
_FINISHED: list[str] = []  # what the running command has done and kept (see finished)


def finished(what: str) -> None:
    """Note that the running command's work is done and kept (``what``: "the report is
    written: r.html"): a stop from here to its end says so, not what a stop before would have
    left ("no report written" after the report was written)."""
    _FINISHED[:] = [what]


_LEAVES: list[Callable[[], str]] = []  # what a stop leaves, looked at when it comes


def stop_leaves(describe: Callable[[], str]) -> None:
    """Say what a stop of the running command leaves by ``describe()``, called when the stop
    comes, in place of its fixed ``stopped``: a sweep's "finished work is kept" was said too
    where no cell had finished and its folder was removed (a manifest the disk refused)."""
    _LEAVES[:] = [describe]


def _after(stopped: str) -> str:
    """A stop's line's second part: ``stopped`` (or what :func:`stop_leaves` looks up), or
    what the command had done by then."""
    if _FINISHED:
        return f"it came after the work was done: {_FINISHED[0]}"
    if _LEAVES:
        try:
            return _LEAVES[0]()
        except Exception:  # a look that fails must not hide why the command stopped
            return stopped
    return stopped


RESUMABLE = "finished work is kept; run the same command to resume"
"""What a stopped sweep leaves: the default of :func:`user_errors`' ``stopped``."""


def user_errors(func: Callable[..., Any] | None = None, *, stopped: str = RESUMABLE) -> Any:
    """Decorate a command so that a user's mistake is one line and exit status 2 (its
    traceback instead, status 1, where :func:`traceback_wanted`: ``VANISHLAB_TRACEBACK=1``).

    A Ctrl-C (status 130), a SIGTERM (143) or a SIGHUP (129) is one line too,
    "interrupted: <stopped>" ("terminated: ...", "hung up: ..."): what the stop leaves, in the
    command's own terms (a report has nothing to resume; it was told to run the same command
    to resume, as a sweep is). ``stopped`` "" says "interrupted" alone.
    Used bare (``@user_errors``) or with ``stopped`` (``@user_errors(stopped="...")``).
    """
    if func is None:
        return functools.partial(user_errors, stopped=stopped)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # str(err) keeps both names of an option; note() says the flag. A manifest changed
        # since vanishlab wrote it is said once, a line of its own (not Python's warning),
        # after the command's own lines: a refusal or a stop stays its one line.
        changed: list[str] = []
        with on_command_line(), changes_said(say=changed.append):
            result = guarded(*args, **kwargs)
            for line in changed:
                note(line)
            return result

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _FINISHED.clear()
        _LEAVES.clear()
        _working_directory()
        try:
            with terminable() as terminated:
                result = func(*args, **kwargs)
            if terminated:  # raised where Python ignores exceptions: the command went on to
                # its end (its work done: not "nothing measured"), and ends by the signal now
                # (the first that ends a process: a SIGTERM or SIGHUP before a Ctrl-C)
                signum = next((s for s in terminated if s != signal.SIGINT), signal.SIGINT)
                raise interrupted(f"{stop_word(signum)}: {_FINISHED_FIRST}", 128 + signum)
            return result
        except VanishlabError as err:
            if traceback_wanted():
                raise
            raise fail(str(err)) from None
        except BrokenPipeError as err:
            raise broken_pipe(err) from None
        except OSError as err:  # the environment refused: a path, permissions, disk space
            if traceback_wanted():
                raise
            left = _after(stopped) if err.errno in WRITE_ERRNOS else ""  # what is kept
            raise fail(f"{os_error_text(err)}{f'; {left}' if left else ''}") from None
        except (MemoryError, ImportError, RuntimeError, SystemError) as err:
            refused = environment_refusal(err)
            if refused is None or traceback_wanted():
                raise  # a bug: its traceback
            left = _after(stopped)
            raise fail(f"{refused}{f'; {left}' if left else ''}") from None
        except KeyboardInterrupt:
            raise interrupted(_stop_line("interrupted", _after(stopped))) from None
        except Terminated as stop:
            line = _stop_line(stop_word(stop.signum), _after(stopped))
            raise interrupted(line, 128 + stop.signum) from None

    return wrapper


WORKING_DIRECTORY_GONE = (
    "the current directory no longer exists (it was removed after the shell entered "
    "it): cd to a directory that exists, then run the command again"
)
WORKING_DIRECTORY_UNREAD = (
    "the current directory's path cannot be read ({why}): cd to a directory whose path you "
    "can read, then run the command again"
)


def _working_directory() -> None:
    """Refuse a command run in a directory that was removed, in one line, status 2, before it
    does anything: ``vanishlab sweep`` said "Intel oneMKL FATAL ERROR: Cannot load
    .../libtorch_cpu.so" (importing torch there ends the process, status 2, and names a
    library that is there), ``vanishlab experiments`` and ``vanishlab report RUN`` "No such
    file or directory". ``--help`` and ``--version`` still answer. A directory whose path this
    process may not read (a parent without read permission past PATH_MAX: ``getcwd`` says
    "Permission denied") is refused alike, in its own words: that error came before the
    command's ``except OSError``, a traceback, where the command had answered before
    (``inits``) or ended in the same oneMKL line (a sweep)."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise fail(WORKING_DIRECTORY_GONE) from None
    except OSError as err:
        raise fail(
            WORKING_DIRECTORY_UNREAD.format(why=err.strerror or type(err).__name__)
        ) from None


def _stop_line(how: str, stopped: str) -> str:
    """``"interrupted: no report written"``; ``how`` alone when ``stopped`` is empty."""
    return f"{how}: {stopped}" if stopped else how
