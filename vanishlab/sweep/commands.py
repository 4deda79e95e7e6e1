"""The shell commands a run records: the one that reproduces it, and its name mended on a resume.

A run's manifest keeps one command per invocation that brought new cells (``commands``); run in
order, they rebuild the directory (:mod:`vanishlab.sweep.runner`). It keeps them as given, a
path's byte of another encoding as Python's lone surrogate (JSON ``"\\udcff"``, lossless);
:func:`command_text` is how a page shows them.
"""

from __future__ import annotations

import os
import shlex
from typing import TYPE_CHECKING, Any

from .config import axis as config_axis
from .experiments import DEFAULT_EXPERIMENT
from .files import escaped_text
from .grid_text import applies_to_no_model

if TYPE_CHECKING:
    from .experiments import Experiment

__all__ = ["command_text", "sweep_command", "with_name"]


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def sweep_command(
    exp: Experiment, out: str | os.PathLike[str], name: str, *, force: bool = False
) -> str:
    """The shell command that reproduces a run: every axis explicit, so the grid is pinned
    (an axis with ``in_id_at_default=False`` at its default alone is left out, as before it
    existed, where the command without it gets that default too: not for ``gated --model
    rnn``, whose experiment sweeps three models; and so is an axis that applies to none of the
    grid's models; with ``--force`` when it extends a directory that holds another grid)."""
    parts = ["vanishlab", "sweep"]
    if exp.ref is not None:
        parts.append(exp.ref)
        start = (exp.base if exp.base is not None else exp.sweep).axes()
    else:
        start = DEFAULT_EXPERIMENT.sweep.axes()  # what `vanishlab sweep` alone sweeps
    grid = exp.sweep.axes()
    for axis, values in grid.items():
        entry = config_axis(axis)
        if not entry.in_id_at_default and values == (entry.default,) == start[axis]:
            continue  # an axis newer than the runs (model): at its default, the grid is pinned
        if applies_to_no_model(grid, axis):
            continue  # e.g. --activation for LSTMs only: it pins nothing, and sweep refuses it
        flag = "--" + axis.replace("_", "-")
        parts += [flag, ",".join(_value_text(v) for v in values)]
    parts += ["--out", os.fspath(out), "--name", name]
    return shlex.join([*parts, "--force"] if force else parts)


def with_name(command: str, name: str) -> str:
    """``command`` (one of :func:`sweep_command`'s) with its ``--name`` value set to ``name``.

    :func:`sweep_command` writes ``--name`` last but for ``--force``, so the last ``--name``
    with a value (``--name X`` or ``--name=X``) is the run's name; an earlier one can only be
    another option's value (``--out --name``), and is kept. A command without one gets it.
    Text that :func:`sweep_command` cannot have written (another program, a line that is not
    in ``shlex.join``'s form: comments, ``$HOME``, ``&&``, two lines; a bare ``--name`` at the
    end) is left as it is.
    """
    try:
        parts = shlex.split(command)
    except ValueError:  # a manifest's text of another origin: an unclosed quote
        return command
    if parts[:2] != ["vanishlab", "sweep"] or shlex.join(parts) != command:
        return command
    if parts[-1] == "--name" and parts[-2] != "--name":  # a bare --name: what did it name?
        return command
    for i in range(len(parts) - 1, 1, -1):
        if parts[i].startswith("--name="):
            return shlex.join([*parts[:i], "--name", name, *parts[i + 1 :]])
        if parts[i] == "--name" and i + 1 < len(parts):
            return shlex.join([*parts[: i + 1], name, *parts[i + 2 :]])
    return shlex.join([*parts, "--name", name])


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
