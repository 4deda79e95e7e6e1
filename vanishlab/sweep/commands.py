"""The shell commands a run records: the one that reproduces it, its name mended on a resume
and its folder on an extension.

A run's manifest keeps one command per invocation that brought new cells (``commands``); run in
order, they rebuild the directory (:mod:`vanishlab.sweep.runner`). It keeps them as given, a
path's byte of another encoding as Python's lone surrogate (JSON ``"\\udcff"``, lossless);
:func:`command_text` is how a page shows them.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Any

from .files import escaped_text
from .grid_text import applies_to_no_model

if TYPE_CHECKING:
    from .experiments import Experiment

__all__ = ["command_text", "reproducing_command", "with_name", "with_out"]


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def reproducing_command(
    exp: Experiment, out: str | os.PathLike[str], name: str, *, force: bool = False
) -> str:
    """The shell command that reproduces a run: every axis explicit, so the grid is pinned
    whatever the experiment module or the defaults hold when it is run again (an axis written
    only where it left its default, as ``model`` and the training axes once were, took the
    experiment's value when replayed: a module edited since, to ``model="lstm"`` or
    ``lr=0.001``, or a later default, rebuilt other cells under the same command), but an axis
    that applies to none of the grid's models (``sweep`` refuses it); with ``--force`` when it
    extends a directory that holds another grid."""
    parts = ["vanishlab", "sweep"]
    if exp.ref is not None:
        parts.append(exp.ref)
    grid = exp.sweep.axes()
    for axis, values in grid.items():
        if applies_to_no_model(grid, axis):
            continue  # e.g. --activation for LSTMs only: it pins nothing, and sweep refuses it
        flag = "--" + axis.replace("_", "-")
        parts += [flag, ",".join(_value_text(v) for v in values)]
    parts += ["--out", os.fspath(out), "--name", name]
    return shlex.join([*parts, "--force"] if force else parts)


def _name_word(command: str) -> tuple[list[str], int] | None:
    """``command``'s words and the index of the one that gives the run's name (``--name``
    followed by its value, or ``--name=X``); None for text that :func:`reproducing_command` cannot
    have written, or a command whose name cannot be told (a bare ``--name`` at the end), and
    ``(words, len(words))`` for one of its commands without a name.

    :func:`reproducing_command` writes ``--name`` last but for ``--force``, so the last ``--name``
    with a value is the run's name; an earlier one can only be another option's value (``--out
    --name``). Text of another origin (another program, a line that is not in ``shlex.join``'s
    form: comments, ``$HOME``, ``&&``, two lines) is None.
    """
    try:
        parts = shlex.split(command)
    except ValueError:  # a manifest's text of another origin: an unclosed quote
        return None
    if parts[:2] != ["vanishlab", "sweep"] or shlex.join(parts) != command:
        return None
    if parts[-1] == "--name" and parts[-2] != "--name":  # a bare --name: what did it name?
        return None
    for i in range(len(parts) - 1, 1, -1):
        if parts[i].startswith("--name=") or (parts[i] == "--name" and i + 1 < len(parts)):
            return parts, i
    return parts, len(parts)


def with_name(command: str, name: str) -> str:
    """``command`` (one of :func:`reproducing_command`'s) with its ``--name`` value set to ``name``
    (:func:`_name_word`: a command without one gets it; text of another origin is left as it
    is)."""
    found = _name_word(command)
    if found is None:
        return command
    parts, i = found
    rest = parts[i + 1 :] if parts[i:] and parts[i].startswith("--name=") else parts[i + 2 :]
    return shlex.join([*parts[:i], "--name", name, *rest])


def with_out(command: str, out: str | os.PathLike[str]) -> str:
    """``command`` (one of :func:`reproducing_command`'s, which writes ``--out DIR`` just before the
    run's ``--name``) with that ``DIR`` set to ``out``; a command not in that form is left as it
    is. A run extended with ``--force`` from another path than its first command's (the folder
    moved, ``mv runs/x runs/fig2``) gets every command's ``--out`` set to the new one: replayed
    in order, commands naming two folders split the run between them, each one's report
    showing part of it."""
    found = _name_word(command)
    if found is None:
        return command
    parts, i = found
    if i < 4 or parts[i - 2] != "--out":
        return command
    return shlex.join([*parts[: i - 1], os.fspath(out), *parts[i:]])


def command_text(command: str) -> str:
    """``command`` as a page shows it: a word holding a byte of another encoding (a path's,
    kept as a lone surrogate, which no page can show) in the shell's ``$'...'`` quoting, the
    byte written ``\\xNN`` (``--out $'runs/a\\xffb'``), so that the line still names the same
    files when run. Text not in ``shlex.join``'s form (another program's) gets its bytes
    written ``\\xNN`` in place (:func:`~.files.escaped_text`); a command without such bytes
    is returned as it is."""
    if escaped_text(command) == command:
        return command
    try:
        parts = shlex.split(command)
    except ValueError:  # an unclosed quote
        return escaped_text(command)
    if shlex.join(parts) != command:
        return escaped_text(command)
    return " ".join(_shell_word(part) for part in parts)


def _shell_word(word: str) -> str:
    """One word of a command: ``shlex.quote`` it, or ``$'...'`` when it holds such a byte."""
    if escaped_text(word) == word:
        return shlex.quote(word)
    return "$'" + escaped_text(word.replace("\\", "\\\\").replace("'", "\\'")) + "'"
