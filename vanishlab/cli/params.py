"""The values a command's parameters give: the one value of an option that may not be
repeated, a path to read or to write (refused in one line where it names no file or folder or
lies in a symbolic link that loops), and a list option given several times as one list; each
option's value refused where it looks like an option (:func:`refuse_option_shaped`); and
:data:`Quiet`, the one ``-q/--quiet`` of the commands that show progress.

Each mistake is a :class:`~vanishlab.errors.VanishlabError`: one line, exit status 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ..errors import VanishlabError

__all__ = [
    "QUIET_HELP",
    "Quiet",
    "merged",
    "path_argument",
    "path_option",
    "refuse_option_shaped",
    "single",
]

QUIET_HELP = (
    "No progress and no summary: only the path written, on stdout. Notes on the result, "
    "failures and errors still go to stderr."
)
"""What ``-q/--quiet`` means, in every command that takes it (sweep, analyze, report)."""

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)]
"""The ``-q/--quiet`` option: one definition, whichever command shows progress."""


def single(flag: str, values: Sequence[str] | None, *, path: str | None = None) -> str | None:
    """The one value of an option that may not be repeated (typer collects repeats in a list),
    refused where it looks like an option (:func:`refuse_option_shaped`; ``path``: the kind of
    path the option names, "directory", "file name" or "path", for a path's words)."""
    if not values:
        return None
    for value in values:  # before the count: "--workers 1 --workers --help" meant the help
        refuse_option_shaped(flag, value, path=path)
    if len(values) > 1:
        shown = ", ".join(str(v) for v in values)
        raise VanishlabError(f"{flag} given {len(values)} times ({shown}); give it once")
    return values[0]


def path_option(flag: str, values: Sequence[str] | None, *, file: bool = False) -> Path | None:
    """The one path an option gives (:func:`single`), refused in one line where it names no
    file or folder: empty or blank (``--out ''`` made the current folder a run), ``-`` (written as a
    file named "-", not to the standard output), or, for a file, ending in "/" (``-o new/``
    wrote a file named "new"), or looking like an option (:func:`refuse_option_shaped`)."""
    what = "file name" if file else "directory"
    raw = single(flag, values, path=what)
    if raw is None:
        return None
    if not raw.strip():  # spaces alone are blank: "empty" sent the user looking for no value
        raise VanishlabError(f"{flag} is {'blank' if raw else 'empty'}; give a {what}")
    if raw == "-":
        raise VanishlabError(
            f"{flag} -: vanishlab writes files, not the standard output; give a {what}"
        )
    from ..sweep.files import file_path  # (stdlib only)

    _no_loop(flag, raw)
    return file_path(raw, flag) if file else Path(raw)


def path_argument(name: str, raw: str) -> Path:
    """A path to read (RUN_DIR, CHECKPOINT, --inputs); '' was ``.``: the current folder. An
    option's (``--inputs``) comes through :func:`single`, which refuses one that looks like an
    option."""
    if not raw.strip():
        raise VanishlabError(f"{name} is {'blank' if raw else 'empty'}; give a path")
    _no_loop(name, raw)
    return Path(raw)


def refuse_option_shaped(flag: str, raw: str, *, path: str | None = None) -> None:
    """Refuse an option's value shaped like an option: ``--`` and a name (``--help``,
    ``--quiet``), or ``-`` and one letter (``-h``, ``-q``). The parser takes the word after an
    option that takes a value as that value whatever it is, so ``sweep --out --help`` measured a
    grid into a folder named "--help", ``--out -q`` into one named "-q", and ``sweep --name
    --help`` the quick grid as a run named "--help". Every option's value comes through
    :func:`single` or :func:`merged`, which call this. A longer word after one ``-`` (``--out
    -run``, ``-o -r.html``, ``--name -run``) is still a value, and so is a number (``--gain
    -1``, refused by its own range). ``path``: the kind of path the option names; its line
    says that ``./--help`` names such a file or folder."""
    if not (raw.startswith("--") or (len(raw) == 2 and raw[0] == "-" and raw[1].isalpha())):
        return
    if path is None:
        raise VanishlabError(
            f"{flag} {raw} looks like an option, not a value; give {flag} its value"
        )
    raise VanishlabError(
        f"{flag} {raw} looks like an option, not a {path}; give a {path} "
        f"(./{raw} for one of that name)"
    )


def _no_loop(name: str, raw: str) -> None:
    """Refuse a path that is, or lies in, a symbolic link that loops (:func:`loop_problem`):
    every path a command takes, so that none is said to be missing, a file, or "Too many
    levels of symbolic links"."""
    from ..sweep.files import loop_problem  # (stdlib only)

    if (problem := loop_problem(raw)) is not None:
        raise VanishlabError(f"{name} {raw} {problem}; give another path")


def merged(flag: str, values: Sequence[str] | None) -> str | None:
    """A list option given several times (``--gain 1 --gain 2``) as one list (``"1,2"``), each
    value refused where it looks like an option (:func:`refuse_option_shaped`)."""
    for value in values or ():
        refuse_option_shaped(flag, value)
    return ",".join(values) if values else None
