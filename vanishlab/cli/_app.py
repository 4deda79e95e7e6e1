"""The typer application object and the one place that turns user errors into exit status 2.

A user's mistake (:class:`~vanishlab.errors.VanishlabError`), one the command-line parser finds
(an unknown option or command, a value of the wrong type, a missing argument) or a refusal of
the file system (``OSError``: a path below a regular file, a read-only file system, ``/proc``,
no space left) prints one line on stderr and exits with status 2; a traceback is a bug.
``VANISHLAB_TRACEBACK=1`` shows such an error's traceback instead
(:data:`~vanishlab.errors.TRACEBACK`).

This module imports only typer (and, without torch, the words of torch's CPU allocator):
``vanishlab --help``, ``--version``, ``inits`` and ``experiments`` answer without torch,
pandas or pyarrow (each command imports what it needs).
"""

from __future__ import annotations

import functools
import os
import re
import select
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from .._version import __version__
from ..core.allocation import CPU_ALLOCATOR_FAILED
from ..errors import VanishlabError, command_line_words, on_command_line, traceback_wanted
from ..sweep.files import as_text
from ..sweep.progress import status_line
from .disk_words import WRITE_ERRNOS, os_error_text, stdout_error_text
from .help_text import narrow_terminal, no_flag_metavars, plain_help, reflowed, unbraced
from .stops import Terminated, stop_word, terminable


def _parser_error_class() -> type[Exception]:
    """The parser's errors: click's UsageError, which recent typers vendor (typer._click) and
    older ones import from click, found through typer's public BadParameter, a UsageError in
    every typer pyproject.toml allows, so that vanishlab imports no click of its own (typer 0.29
    needs none). A typer where it is not one fails the import in one line (it raised a bare
    StopIteration)."""
    found = next((c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"), None)
    if found is None:
        bases = ", ".join(c.__name__ for c in typer.BadParameter.__mro__[1:])
        raise ImportError(
            "vanishlab's command line needs a typer whose BadParameter is a UsageError (the "
            f"parser's errors); typer {getattr(typer, '__version__', '?')}'s derives from "
            f"{bases}: install a typer that pyproject.toml allows"
        )
    return found


_UsageError: type[Exception] = _parser_error_class()


def _usage_error(err: Any, command_path: str, args: Sequence[str] = ()) -> typer.Exit:
    """A mistake the command-line parser found, as one line (not typer's boxed panel)."""
    said = f"{err.format_message().rstrip('.')} (see '{command_path} --help')"
    return fail(said + _dash_path_hint(err, args))


def _dash_path_hint(err: Any, args: Sequence[str]) -> str:
    """Where the option the parser did not know is a path that begins with ``-`` (a file
    ``-dash.pt``, which the parser read as ``-d``), how to give it, as GNU rm says it: the line
    said "No such option: -d" alone, of a file the user could see."""
    name = getattr(err, "option_name", None)
    if type(err).__name__ != "NoSuchOption" or not isinstance(name, str):
        return ""
    for token in args:
        if token == "--":
            break  # what follows is arguments, never read as options
        if _spelt_in(name, token) and os.path.lexists(token):
            return f"; {as_text(token)} is a path here: give it as ./{as_text(token)}"
    return ""


def _spelt_in(name: str, token: str) -> bool:
    """Whether the parser may have read the option ``name`` out of ``token``: a long one
    begins it; a short one is any letter of a cluster (``-qx.pt`` is ``-q -x ...``, so a path
    whose first letter is an option's was said to have no ``-x`` without the hint)."""
    if name.startswith("--"):
        return token.startswith(name)
    return token.startswith("-") and not token.startswith("--") and name[1:] in token[1:]


class _OneLineUsage:
    """Parse in one-line errors: an unknown option, a bad value, a missing argument; a Ctrl-C
    while parsing, before a command runs, in the commands' own line (typer: 130, silently)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except KeyboardInterrupt:
            raise _interrupted("interrupted") from None

    def make_context(
        self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any
    ) -> Any:
        # as typed (the parser consumes the list it is given); a command's, whose arguments
        # are paths: the group's first is a command's name
        given = list(args) if parent is not None else []
        try:
            try:
                return super().make_context(info_name, args, parent=parent, **extra)  # type: ignore[misc]
            except _UsageError as err:
                if type(err).__name__ != "NoArgsIsHelpError":
                    path = " ".join(p for p in (parent and parent.command_path, info_name) if p)
                    raise _usage_error(err, path or "vanishlab", given) from None
                if not narrow_terminal():
                    raise  # no arguments at all: typer's rich help is already printed
                help_text = err.format_message()  # the plain help, which typer never shows
            typer.echo(help_text)  # as --help writes it: its failures are caught below
            raise typer.Exit(USAGE_ERROR)
        except BrokenPipeError as err:  # --version printed into a closed pipe
            raise _broken_pipe(err) from None
        except OSError as err:  # --help or --version into a full disk (> /dev/full)
            if err.filename is None:  # the only writing here: help and version on stdout
                raise fail(stdout_error_text(err)) from None
            raise fail(os_error_text(err)) from None
        except KeyboardInterrupt:
            raise _interrupted("interrupted") from None
        except SystemExit as err:
            # --help into a closed pipe: rich, which prints typer's help, puts /dev/null on
            # stdout and exits with status 1 from its handler of the BrokenPipeError.
            if err.code == 1 and isinstance(err.__context__, BrokenPipeError):
                raise typer.Exit(BROKEN_PIPE) from None
            raise


class _Plain(_OneLineUsage):
    """What the app's commands and its group share: reflowed help, no metavars on flags, and
    the plain help in a narrow terminal (``_typer``: the typer class the command extends)."""

    _typer: type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = reflowed(self.help)  # type: ignore[attr-defined]

    def get_params(self, ctx: Any) -> list[Any]:
        return no_flag_metavars(super().get_params(ctx))  # type: ignore[misc]

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return unbraced(super().collect_usage_pieces(ctx))  # type: ignore[misc]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if not plain_help(self._typer, self, ctx, formatter):
            super().format_help(ctx, formatter)  # type: ignore[misc]


class _Command(_Plain, TyperCommand):
    _typer = TyperCommand


class _Group(_Plain, TyperGroup):
    _typer = TyperGroup

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        if not getattr(formatter, "whole_words", False):
            return super().format_commands(ctx, formatter)
        # The plain help's list of commands: each one's first sentence whole, as rich's shows
        # it (click cut it to what fitted beside the names: "Render RUN_DIR as one HTML...").
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=sys.maxsize)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
        return None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except _UsageError as err:  # no such command
            raise _usage_error(err, ctx.command_path) from None


class _Typer(typer.Typer):
    """A Typer whose commands show no value placeholder for flags."""

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or _Command, **kwargs)


app = _Typer(
    name="vanishlab",
    help="Measure vanishing and exploding gradients in nn.RNN, LSTM and GRU, and report them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
)

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
        with on_command_line():  # str(err) keeps both names of an option; note() says the flag
            return guarded(*args, **kwargs)

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _FINISHED.clear()
        _LEAVES.clear()
        try:
            with terminable() as terminated:
                result = func(*args, **kwargs)
            if terminated:  # raised where Python ignores exceptions: the command went on to
                # its end (its work done: not "nothing measured"), and ends by the signal now
                # (the first that ends a process: a SIGTERM or SIGHUP before a Ctrl-C)
                signum = next((s for s in terminated if s != signal.SIGINT), signal.SIGINT)
                raise _interrupted(f"{stop_word(signum)}: {_FINISHED_FIRST}", 128 + signum)
            return result
        except VanishlabError as err:
            if traceback_wanted():
                raise
            raise fail(str(err)) from None
        except BrokenPipeError as err:
            raise _broken_pipe(err) from None
        except OSError as err:  # the environment refused: a path, permissions, disk space
            if traceback_wanted():
                raise
            left = _after(stopped) if err.errno in WRITE_ERRNOS else ""  # what is kept
            raise fail(f"{os_error_text(err)}{f'; {left}' if left else ''}") from None
        except (MemoryError, ImportError, RuntimeError, SystemError) as err:
            refused = memory_refused(err)
            if refused is None or traceback_wanted():
                raise  # a bug: its traceback
            left = _after(stopped)
            raise fail(f"{refused}{f'; {left}' if left else ''}") from None
        except KeyboardInterrupt:
            raise _interrupted(_stop_line("interrupted", _after(stopped))) from None
        except Terminated as stop:
            line = _stop_line(stop_word(stop.signum), _after(stopped))
            raise _interrupted(line, 128 + stop.signum) from None

    return wrapper


def memory_refused(err: BaseException) -> str | None:
    """One line for ``err`` where it is the environment refusing memory, not a bug; else None.

    Under an address-space limit (``ulimit -v``, a batch system's memory cap) or on a machine
    short of memory, the refusal reached the command as a ``MemoryError`` (compiling a module,
    drawing a figure), an ``ImportError`` of a native library that could not be mapped
    (``libtorch_cpu.so: failed to map segment from shared object``), or a thread that could
    not be started (``RuntimeError: can't start new thread``, its stack refused): each ended
    in a traceback, status 1. A library on a file system mounted ``noexec`` fails to map in
    the same words: that one is said as it is, never as memory. torch's CPU allocator refused
    is a ``RuntimeError`` in its own words (:func:`_allocator_refused`), and a C function that
    returned with a MemoryError set is a ``SystemError`` caused by it: both ended in a
    traceback too."""
    text = str(err)
    mapped = isinstance(err, ImportError) and any(
        sign in text.lower() for sign in ("failed to map segment", "cannot allocate memory")
    )
    if mapped and (library := _noexec_library(text)) is not None:
        return (
            f"cannot load {library}: it lies on a file system mounted noexec, where no program "
            "may run; install vanishlab's environment on another (or mount it without noexec)"
        )
    if type(err) is RuntimeError and text == "can't start new thread":
        # a thread's stack refused (ulimit -v), or a limit on threads (ulimit -u, a cgroup's)
        return (
            f"out of memory or threads ({text}): the process was refused a thread; raise its "
            "limits (ulimit -v, ulimit -u, the batch job's memory) or free some"
        )
    if isinstance(err, SystemError):  # a C function that returned with a MemoryError set
        cause = err.__cause__
        return memory_refused(cause) if isinstance(cause, MemoryError | RuntimeError) else None
    if isinstance(err, MemoryError):
        what = f"MemoryError{f': {text}' if text else ''}"
    elif mapped:
        what = text
    elif (what := _allocator_refused(err)) is None:
        return None
    return (
        f"out of memory ({what}): the process was refused memory; raise its limit "
        "(ulimit -v, the batch job's memory) or free some"
    )


def _allocator_refused(err: BaseException) -> str | None:
    """torch's own words where its CPU allocator was refused (a plain ``RuntimeError``: ``[enforce
    fail at alloc_cpu.cpp:127] ... DefaultCPUAllocator: can't allocate memory: you tried to
    allocate N bytes ...``, or a C++ ``std::bad_alloc`` it passed on), from the allocator's
    words on; else None. A GPU's OutOfMemoryError, a subclass, is left as it is, as
    :mod:`vanishlab.core.allocation` leaves it."""
    text = " ".join(str(err).split())
    if type(err) is not RuntimeError:
        return None
    if CPU_ALLOCATOR_FAILED in text:
        return text[text.index(CPU_ALLOCATOR_FAILED) :]
    return "std::bad_alloc" if re.search(r"\bstd::bad_alloc\b", text) else None


# The loader's words for a library it could not map: "/PATH.so: failed to map segment ..."
# (a Python extension, named by its path; numpy quotes them inside its own advice).
_MAP_FAILED = re.compile(r"(/[^:\n]+): failed to map segment")


def _noexec_library(text: str) -> str | None:
    """The library the loader's ``text`` names by its path where it lies on a file system
    mounted noexec (the map failed for that, not for memory); else None."""
    found = _MAP_FAILED.search(text)
    if found is None:
        return None
    try:
        flags = os.statvfs(found[1]).f_flag
    except (OSError, ValueError, AttributeError):  # gone since, a bad path, no statvfs
        return None
    return found[1] if flags & getattr(os, "ST_NOEXEC", 0) else None


def _stop_line(how: str, stopped: str) -> str:
    """``"interrupted: no report written"``; ``how`` alone when ``stopped`` is empty."""
    return f"{how}: {stopped}" if stopped else how


def _interrupted(message: str, status: int = INTERRUPTED) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise for a Ctrl-C (status 130) or a
    SIGTERM (143); the console command (:mod:`vanishlab.__main__`) then ends by that signal.
    A stderr that cannot take the line (a closed pipe, 2>/dev/full) changes nothing of that:
    its error ended the command with status 1, 2 or 141 instead."""
    note(message)
    return typer.Exit(status)


def _broken_pipe(err: BrokenPipeError) -> typer.Exit:
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
        _broken_pipe(err)  # stdout to /dev/null, for the final flush (or its line, another pipe)
    elif traceback_wanted():
        raise err
    else:
        fail(str(err))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vanishlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Measure vanishing and exploding gradients in nn.RNN, LSTM and GRU, and report them."""
