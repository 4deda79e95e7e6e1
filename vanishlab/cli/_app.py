"""The typer application object: its parser, whose mistakes are one line and exit status 2,
and its help; and the one place the commands import their ways of ending and of speaking from.

A user's mistake (:class:`~vanishlab.errors.VanishlabError`), one the command-line parser finds
(an unknown option or command, a value of the wrong type, a missing argument) or a refusal of
the file system (``OSError``: a path below a regular file, a read-only file system, ``/proc``,
no space left) prints one line on stderr and exits with status 2; a traceback is a bug.
``VANISHLAB_TRACEBACK=1`` shows such an error's traceback instead
(:data:`~vanishlab.errors.TRACEBACK`). The parser's mistakes are this module's; a command's
errors and stops are :mod:`.command_errors`' (:func:`user_errors`), its lines
:mod:`.output`'s (:func:`note`, :func:`say`, :func:`fail`), re-exported here.

This module imports only typer (and, without torch, the words of torch's CPU allocator):
``vanishlab --help``, ``--version``, ``inits`` and ``experiments`` answer without torch,
pandas or pyarrow (each command imports what it needs).
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from .._version import __version__
from ..sweep.files import as_text, line_text
from .command_errors import RESUMABLE, finished, stop_leaves, user_errors
from .disk_words import os_error_text, stdout_error_text
from .help_text import narrow_terminal, no_flag_metavars, plain_help, reflowed, unbraced
from .output import (
    BROKEN_PIPE,
    INTERRUPTED,
    USAGE_ERROR,
    broken_pipe,
    fail,
    interrupted,
    note,
    say,
    stdout_refused,
)
from .stops import Terminated

__all__ = [
    "BROKEN_PIPE",
    "INTERRUPTED",
    "RESUMABLE",
    "USAGE_ERROR",
    "Terminated",
    "app",
    "fail",
    "finished",
    "note",
    "say",
    "stdout_refused",
    "stop_leaves",
    "user_errors",
]


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
            raise interrupted("interrupted") from None

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
            raise broken_pipe(err) from None
        except OSError as err:  # --help or --version into a full disk (> /dev/full)
            if err.filename is None:  # the only writing here: help and version on stdout
                raise fail(stdout_error_text(err)) from None
            raise fail(os_error_text(err)) from None
        except KeyboardInterrupt:
            raise interrupted("interrupted") from None
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

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        # --help answers at once (is_eager), before the parser finds a word left over:
        # `vanishlab inits --help extra` printed the help and exited 0, where a stray argument
        # is a usage error (status 2), as `vanishlab --help extra` is.
        stray = _beside_help(self, ctx, args)
        if stray:
            words = " ".join(line_text(word) for word in stray)
            ctx.fail(f"Got unexpected extra argument(s) ({words}) beside --help")
        return super().parse_args(ctx, args)


def _beside_help(command: Any, ctx: Any, args: list[str]) -> list[str]:
    """The words of ``args`` that none of ``command``'s options and arguments takes, where
    its ``--help`` is given; else none. Read by click's own parser (a copy of ``args``), as
    the parse reads them: an option's value (``--out --help``, ``--name extra``) and the
    command's arguments (``sweep trainability --help``: EXPERIMENT) are no stray words, and a
    mistake it finds is left to the parse to say."""
    help_option = command.get_help_option(ctx)
    if help_option is None or ctx.allow_extra_args or ctx.resilient_parsing:
        return []
    try:
        opts, rest, _ = command.make_parser(ctx).parse_args(args=list(args))
    except _UsageError:
        return []
    return rest if help_option.name in opts else []


_EAGER = ("--help", "--version")  # the app's options that answer and exit


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

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        # --version and --help answer at once (is_eager), the first given, before the parser
        # looks at what follows them: `vanishlab --version extra` and `--help extra` printed
        # and exited 0, where a stray argument is a usage error (status 2). `--help COMMAND`
        # asks for that command's help, as git's does: it showed the app's.
        head = list(itertools.takewhile(lambda arg: arg.startswith("-"), args))
        stray = args[len(head) :]
        first = next((arg for arg in head if arg in _EAGER), None)
        if stray and first == "--version":
            ctx.fail(f"Got unexpected extra argument(s) ({' '.join(stray)}) beside --version")
        if stray and first == "--help":  # a name no command has: "No such command" below
            args = [*(arg for arg in head if arg not in _EAGER), stray[0], "--help", *stray[1:]]
        return super().parse_args(ctx, args)

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
