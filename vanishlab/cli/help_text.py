"""A command's help text: a docstring's paragraphs reflowed for the terminal to wrap, no value
placeholder on a flag, and, in a terminal narrower than :data:`PLAIN_HELP_BELOW` columns,
click's plain help in place of rich's, its words never split.

The standard library only at import (typer's console is imported where the width is asked).
"""

from __future__ import annotations

import functools
import inspect
import re
import textwrap
from collections.abc import Sequence
from typing import Any

__all__ = [
    "MIN_BESIDE",
    "PLAIN_HELP_BELOW",
    "STACKED_INDENT",
    "narrow_terminal",
    "no_flag_metavars",
    "plain_help",
    "reflowed",
    "unbraced",
]


def no_flag_metavars(params: list[Any]) -> list[Any]:
    # typer shows the type of every option (``<bool>`` for flags, ``--help`` included), but a
    # flag takes no value: show none. An argument's name is its placeholder already
    # (``RUN_DIR``, ``CHECKPOINT``, as ``--out DIR`` names an option's value): typer 0.29
    # wrote its Python type beside it, ``RUN_DIR <str>``, where no option shows one.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        if getattr(param, "param_type_name", None) == "argument":
            param.display_type_rich = _no_type
    return params


def _no_type(ctx: Any) -> None:
    """An argument's type in the help (typer's ``display_type_rich``): none."""
    return None


#: A required argument's piece of a usage line as typer 0.29 writes it: ``{RUN_DIR}``, or
#: ``{FILES}...`` for several.
_BRACED = re.compile(r"\{([A-Z][A-Z0-9_]*)\}((?:\.\.\.)?)")


def unbraced(pieces: list[str]) -> list[str]:
    """A usage line's pieces with a required argument written as the other commands' are,
    ``RUN_DIR``: typer 0.29 writes it ``{RUN_DIR}`` (``report [OPTIONS] {RUN_DIR}`` beside
    ``sweep [OPTIONS] [EXPERIMENT]``), braces click and earlier typers never used there."""
    return [_BRACED.sub(r"\1\2", p) if _BRACED.fullmatch(p) else p for p in pieces]


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


def narrow_terminal() -> bool:
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


def plain_help(typer_class: type, command: Any, ctx: Any, formatter: Any) -> bool:
    """Format ``command``'s help as plain text (the class above ``typer_class``'s) in a narrow
    terminal, its words never split (:func:`_whole_words`); False elsewhere."""
    if not narrow_terminal():
        return False
    plain = _whole_words(type(formatter))(width=max(_help_width() - 1, 20))
    super(typer_class, command).format_help(ctx, plain)
    formatter.write(_unescaped(plain.getvalue()))
    return True
