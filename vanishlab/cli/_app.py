"""The typer application object and the one place that turns user errors into exit status 2.

A user's mistake (:class:`~vanishlab.errors.VanishlabError`), one the command-line parser finds
(an unknown option or command, a value of the wrong type, a missing argument) or a refusal of
the file system (``OSError``: a path below a regular file, a read-only file system, ``/proc``,
no space left) prints one line on stderr and exits with status 2; a traceback is a bug.

This module imports only typer: ``vanishlab --help``, ``--version``, ``inits`` and
``experiments`` answer without torch, pandas or pyarrow (each command imports what it needs).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import os
import select
import signal
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from .._version import __version__
from ..errors import VanishlabError
from .stops import Terminated, terminable

T = TypeVar("T")


def _no_flag_metavars(params: list[Any]) -> list[Any]:
    # typer shows the type of every option (``<bool>`` for flags, ``--help`` included), but a
    # flag takes no value: show none.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


# The parser's errors are click's UsageError, which recent typers vendor (typer._click): found
# through typer's public BadParameter, so that either kind is caught.
def _usage_error_class() -> type[Exception]:
    found = next((c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"), None)
    if found is not None:
        return found
    import click  # pragma: no cover - no typer release so far

    return click.UsageError  # pragma: no cover


_UsageError: type[Exception] = _usage_error_class()


def _usage_error(err: Any, command_path: str) -> typer.Exit:
    """A mistake the command-line parser found, as one line (not typer's boxed panel)."""
    return fail(f"{err.format_message().rstrip('.')} (see '{command_path} --help')")


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
        try:
            try:
                return super().make_context(info_name, args, parent=parent, **extra)  # type: ignore[misc]
            except _UsageError as err:
                if type(err).__name__ != "NoArgsIsHelpError":
                    path = " ".join(p for p in (parent and parent.command_path, info_name) if p)
                    raise _usage_error(err, path or "vanishlab") from None
                if not _narrow():
                    raise  # no arguments at all: typer's rich help is already printed
                help_text = err.format_message()  # the plain help, which typer never shows
            typer.echo(help_text)  # as --help writes it: its failures are caught below
            raise typer.Exit(USAGE_ERROR)
        except BrokenPipeError as err:  # --version printed into a closed pipe
            raise _broken_pipe(err) from None
        except OSError as err:  # --help or --version into a full disk (> /dev/full)
            if err.filename is None:  # the only writing here: help and version on stdout
                raise fail(f"cannot write the standard output: {os_error_text(err)}") from None
            raise fail(os_error_text(err)) from None
        except KeyboardInterrupt:
            raise _interrupted("interrupted") from None
        except SystemExit as err:
            # --help into a closed pipe: rich, which prints typer's help, puts /dev/null on
            # stdout and exits with status 1 from its handler of the BrokenPipeError.
            if err.code == 1 and isinstance(err.__context__, BrokenPipeError):
                raise typer.Exit(BROKEN_PIPE) from None
            raise


def reflowed(text: str | None) -> str | None:
    """A docstring's paragraphs as single lines, for the terminal to wrap at its own width.

    typer keeps the single line breaks of every paragraph after the first, so a docstring
    wrapped for the source file showed ragged lines in a narrower terminal's ``--help``."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


#: Terminal columns below which ``--help`` is click's plain text: rich's option table squeezed
#: the names' column and cut them ("--hidden-si…" at 45 columns).
PLAIN_HELP_BELOW = 60
#: The narrowest column of descriptions the plain help puts beside the option names; narrower
#: (or than a description's longest word), each goes under its name, indented STACKED_INDENT.
MIN_BESIDE = 24
STACKED_INDENT = 4


def _help_width() -> int:
    """The width rich would print help at: typer's ``TERMINAL_WIDTH``, else ``COLUMNS``, else the
    terminal of stdin, stdout or stderr (help piped into ``less`` from a narrow one: narrow)."""
    try:
        from typer.rich_utils import _get_rich_console as console  # the console help uses
    except ImportError:  # pragma: no cover - another typer
        from rich.console import Console as console
    return console().width


def _narrow() -> bool:
    return _help_width() < PLAIN_HELP_BELOW


def _unescaped(text: str) -> str:
    return text.replace("\\[", "[")  # rich's escapes: "\[default: ...]"


def _wrapped(text: str, width: int, indent: str) -> str:
    """``text``'s paragraphs filled to ``width``, each line starting with ``indent``, broken at
    spaces only: never at a hyphen ("--seq-len", "runs/default-seq_len=300") nor inside a word
    longer than the line (it overflows the line rather than be cut)."""
    return "\n\n".join(
        textwrap.fill(
            " ".join(paragraph.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for paragraph in _unescaped(text).split("\n\n")
    )


@functools.cache
def _whole_words(base: type) -> type:
    """click's plain help formatter ``base`` (typer's copy or click's own), whose text and
    option descriptions are wrapped at spaces only (:func:`_wrapped`), each description going
    under its option's name when the column beside the names is too narrow for it."""

    class WholeWords(base):  # type: ignore[valid-type,misc]
        whole_words = True

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            head = f"{'Usage: ' if prefix is None else prefix:>{self.current_indent}}{prog} "
            if len(head) + 20 <= self.width - self.current_indent:  # as click: args beside
                self.write(head + _wrapped(args, self.width, " " * len(head))[len(head) :])
            else:  # under it
                pad = " " * (max(self.current_indent, len("Usage: ")) + 4)
                self.write(f"{head.rstrip()}\n{_wrapped(args, self.width, pad)}")
            self.write("\n")

        def write_text(self, text: str) -> None:
            self.write(_wrapped(text, self.width, " " * self.current_indent) + "\n")

        def write_dl(
            self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
        ) -> None:
            rows = [(term, _unescaped(text)) for term, text in rows]
            first = min(max((len(term) for term, _ in rows), default=0), col_max) + col_spacing
            indent = " " * self.current_indent
            beside = self.width - self.current_indent - first
            longest = max((len(word) for _, text in rows for word in text.split()), default=0)
            stacked = beside < max(MIN_BESIDE, longest)
            for term, text in rows:
                if not text:
                    self.write(f"{indent}{term}\n")
                elif stacked or len(term) > first - col_spacing:  # under the name
                    pad = indent + " " * (STACKED_INDENT if stacked else first)
                    self.write(f"{indent}{term}\n{_wrapped(text, self.width, pad)}\n")
                else:  # beside it
                    pad = indent + " " * first
                    lines = _wrapped(text, self.width, pad)
                    self.write(f"{indent}{term:<{first}}{lines[len(pad) :]}\n")

    return WholeWords


def _plain_help(typer_class: type, command: Any, ctx: Any, formatter: Any) -> bool:
    """Format ``command``'s help as plain text (the class above ``typer_class``'s) in a narrow
    terminal, its words never split (:func:`_whole_words`); False elsewhere."""
    if not _narrow():
        return False
    plain = _whole_words(type(formatter))(width=max(_help_width() - 1, 20))
    super(typer_class, command).format_help(ctx, plain)
    formatter.write(_unescaped(plain.getvalue()))
    return True


class _Plain(_OneLineUsage):
    """What the app's commands and its group share: reflowed help, no metavars on flags, and
    the plain help in a narrow terminal (``_typer``: the typer class the command extends)."""

    _typer: type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = reflowed(self.help)  # type: ignore[attr-defined]

    def get_params(self, ctx: Any) -> list[Any]:
        return _no_flag_metavars(super().get_params(ctx))  # type: ignore[misc]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if not _plain_help(self._typer, self, ctx, formatter):
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
INTERRUPTED = 128 + signal.SIGINT  # 130: ... that Ctrl-C ended
TERMINATED = 128 + signal.SIGTERM  # 143: ... that SIGTERM ended


def _to_stderr(line: str) -> None:
    """``line`` on stderr, if it can take it: one that fails (2>/dev/full, a pipe whose reader
    has gone: OSError) or was closed in the process (ValueError) is passed over, so that the
    command's status is its own, not that write's."""
    with contextlib.suppress(OSError, ValueError):
        typer.echo(line, err=True)


def fail(message: str) -> typer.Exit:
    """``message`` as one line on stderr (if it can take it: 2>/dev/full), and Exit(2)."""
    _to_stderr(f"error: {' '.join(message.split())}")
    return typer.Exit(USAGE_ERROR)


# Errors that only writing meets: said as "cannot write PATH: No space left on device".
_WRITE_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS") if hasattr(errno, name)
)


def os_error_text(err: OSError) -> str:
    """One line for an ``OSError``: what failed, on which path."""
    what = err.strerror or type(err).__name__
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    if err.errno in _WRITE_ERRNOS and len(paths) == 1:
        return f"cannot write {paths[0]}: {what}"
    where = f": {' -> '.join(str(p) for p in paths)}" if paths else ""
    return f"{what}{where}"


_FINISHED_FIRST = "it came where Python could not act on it; the command finished first"
_FINISHED: list[str] = []  # what the running command has done and kept (see finished)


def finished(what: str) -> None:
    """Note that the running command's work is done and kept (``what``: "the report is
    written: r.html"): a stop from here to its end says so, not what a stop before would have
    left ("no report written" after the report was written)."""
    _FINISHED[:] = [what]


def _after(stopped: str) -> str:
    """A stop's line's second part: ``stopped``, or what the command had done by then."""
    return f"it came after the work was done: {_FINISHED[0]}" if _FINISHED else stopped


RESUMABLE = "finished work is kept; run the same command to resume"
"""What a stopped sweep leaves: the default of :func:`user_errors`' ``stopped``."""


def user_errors(func: Callable[..., Any] | None = None, *, stopped: str = RESUMABLE) -> Any:
    """Decorate a command so that a user's mistake is one line and exit status 2.

    A Ctrl-C (status 130) or a SIGTERM (143) is one line too, "interrupted: <stopped>": what
    the stop leaves, in the command's own terms (a report has nothing to resume; it was told
    to run the same command to resume, as a sweep is). ``stopped`` "" says "interrupted" alone.
    Used bare (``@user_errors``) or with ``stopped`` (``@user_errors(stopped="...")``).
    """
    if func is None:
        return functools.partial(user_errors, stopped=stopped)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _FINISHED.clear()
        try:
            with terminable() as terminated:
                result = func(*args, **kwargs)
            if terminated:  # raised where Python ignores exceptions: the command went on to
                # its end (its work done: not "nothing measured"), and ends by the signal now
                term = signal.SIGTERM in terminated
                line = f"{'terminated' if term else 'interrupted'}: {_FINISHED_FIRST}"
                raise _interrupted(line, TERMINATED if term else INTERRUPTED)
            return result
        except VanishlabError as err:
            raise fail(str(err)) from None
        except BrokenPipeError as err:
            raise _broken_pipe(err) from None
        except OSError as err:  # the environment refused: a path, permissions, disk space
            raise fail(os_error_text(err)) from None
        except KeyboardInterrupt:
            raise _interrupted(_stop_line("interrupted", _after(stopped))) from None
        except Terminated:
            raise _interrupted(_stop_line("terminated", _after(stopped)), TERMINATED) from None

    return wrapper


def _stop_line(how: str, stopped: str) -> str:
    """``"interrupted: no report written"``; ``how`` alone when ``stopped`` is empty."""
    return f"{how}: {stopped}" if stopped else how


def _interrupted(message: str, status: int = INTERRUPTED) -> typer.Exit:
    """Print ``message`` on stderr and return the Exit to raise for a Ctrl-C (status 130) or a
    SIGTERM (143); the console command (:mod:`vanishlab.__main__`) then ends by that signal.
    A stderr that cannot take the line (a closed pipe, 2>/dev/full) changes nothing of that:
    its error ended the command with status 1, 2 or 141 instead."""
    _to_stderr(message)
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


def single(flag: str, values: Sequence[T] | None) -> T | None:
    """The one value of an option that may not be repeated (typer collects repeats in a list)."""
    if not values:
        return None
    if len(values) > 1:
        shown = ", ".join(str(v) for v in values)
        raise VanishlabError(f"{flag} given {len(values)} times ({shown}); give it once")
    return values[0]


def path_option(flag: str, values: Sequence[str] | None, *, file: bool = False) -> Path | None:
    """The one path an option gives (:func:`single`), refused in one line where it names no
    file or folder: empty (``--out ''`` made the current folder a run), ``-`` (written as a
    file named "-", not to the standard output), or, for a file, ending in "/" (``-o new/``
    wrote a file named "new")."""
    raw = single(flag, values)
    if raw is None:
        return None
    what = "file name" if file else "directory"
    if not raw.strip():
        raise VanishlabError(f"{flag} is empty; give a {what}")
    if raw == "-":
        raise VanishlabError(
            f"{flag} -: vanishlab writes files, not the standard output; give a {what}"
        )
    from ..sweep.files import file_path  # (stdlib only)

    _no_loop(flag, raw)
    return file_path(raw, flag) if file else Path(raw)


def path_argument(name: str, raw: str) -> Path:
    """A path to read (RUN_DIR, CHECKPOINT, --inputs); '' was ``.``: the current folder."""
    if not raw.strip():
        raise VanishlabError(f"{name} is empty; give a path")
    _no_loop(name, raw)
    return Path(raw)


def _no_loop(name: str, raw: str) -> None:
    """Refuse a path that is, or lies in, a symbolic link that loops (:func:`loop_problem`):
    every path a command takes, so that none is said to be missing, a file, or "Too many
    levels of symbolic links"."""
    from ..sweep.files import loop_problem  # (stdlib only)

    if (problem := loop_problem(raw)) is not None:
        raise VanishlabError(f"{name} {raw} {problem}; give another path")


def say(text: str, done: str = "") -> None:
    """Print a command's output on stdout. A standard output that refuses it (a full disk,
    ``> /dev/full``) is named as such, with ``done`` (what the command finished before: a
    report written): it read as a full disk somewhere in the work."""
    try:
        typer.echo(text)
    except BrokenPipeError:
        raise
    except OSError as err:
        then = f"; {done}" if done else ""
        raise VanishlabError(
            f"cannot write the standard output: {os_error_text(err)}{then}"
        ) from None


def merged(values: Sequence[str] | None) -> str | None:
    """A list option given several times (``--gain 1 --gain 2``) as one list (``"1,2"``)."""
    return ",".join(values) if values else None


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
