"""The values a command's parameters give: the one value of an option that may not be
repeated, a path to read or to write (refused in one line where it names no file or folder,
lies in a symbolic link that loops, or, an option's, looks like an option), and a list option
given several times as one list; and :data:`Quiet`, the one ``-q/--quiet`` of the commands
that show progress.

Each mistake is a :class:`~vanishlab.errors.VanishlabError`: one line, exit status 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from ..errors import VanishlabError

__all__ = ["QUIET_HELP", "Quiet", "merged", "path_argument", "path_option", "single"]

T = TypeVar("T")

QUIET_HELP = (
    "No progress and no summary: only the path written, on stdout. Notes on the result, "
    "failures and errors still go to stderr."
)
"""What ``-q/--quiet`` means, in every command that takes it (sweep, analyze, report)."""

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)]
"""The ``-q/--quiet`` option: one definition, whichever command shows progress."""


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
    file or folder: empty or blank (``--out ''`` made the current folder a run), ``-`` (written as a
    file named "-", not to the standard output), or, for a file, ending in "/" (``-o new/``
    wrote a file named "new"), or looking like an option (:func:`_not_an_option`)."""
    raw = single(flag, values)
    if raw is None:
        return None
    what = "file name" if file else "directory"
    if not raw.strip():  # spaces alone are blank: "empty" sent the user looking for no value
        raise VanishlabError(f"{flag} is {'blank' if raw else 'empty'}; give a {what}")
    _not_an_option(flag, raw, what)
    if raw == "-":
        raise VanishlabError(
            f"{flag} -: vanishlab writes files, not the standard output; give a {what}"
        )
    from ..sweep.files import file_path  # (stdlib only)

    _no_loop(flag, raw)
    return file_path(raw, flag) if file else Path(raw)


def path_argument(name: str, raw: str) -> Path:
    """A path to read (RUN_DIR, CHECKPOINT, --inputs); '' was ``.``: the current folder. An
    option's (``--inputs``) that looks like an option is refused (:func:`_not_an_option`)."""
    if not raw.strip():
        raise VanishlabError(f"{name} is {'blank' if raw else 'empty'}; give a path")
    if name.startswith("-"):
        _not_an_option(name, raw, "path")
    _no_loop(name, raw)
    return Path(raw)


def _not_an_option(flag: str, raw: str, what: str) -> None:
    """Refuse a path option's value shaped like an option: ``--`` and a name (``--help``,
    ``--quiet``), or ``-`` and one letter (``-h``, ``-q``). The parser takes the word after a
    path option as its value whatever it is, so ``sweep --out --help`` measured a grid into a
    folder named "--help" and ``--out -q`` one named "-q". A longer word after one ``-``
    (``--out -run``, ``-o -r.html``) is still a path; ``./--help`` names such a folder."""
    if raw.startswith("--") or (len(raw) == 2 and raw[0] == "-" and raw[1].isalpha()):
        raise VanishlabError(
            f"{flag} {raw} looks like an option, not a {what}; give a {what} "
            f"(./{raw} for one of that name)"
        )


def _no_loop(name: str, raw: str) -> None:
    """Refuse a path that is, or lies in, a symbolic link that loops (:func:`loop_problem`):
    every path a command takes, so that none is said to be missing, a file, or "Too many
    levels of symbolic links"."""
    from ..sweep.files import loop_problem  # (stdlib only)

    if (problem := loop_problem(raw)) is not None:
        raise VanishlabError(f"{name} {raw} {problem}; give another path")


def merged(values: Sequence[str] | None) -> str | None:
    """A list option given several times (``--gain 1 --gain 2``) as one list (``"1,2"``)."""
    return ",".join(values) if values else None
