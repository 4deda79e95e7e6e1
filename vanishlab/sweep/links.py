"""What a path that is a symbolic link to nothing, or one that loops, is said to be, and what
to do about it: :func:`link_problem` (after the path: ``"is a symbolic link that loops"``) and
:func:`link_remedy` (what a refusal of one tells its user to do). Python reads either as missing
(``exists()``) and a loop as no folder (``is_dir()``); a loop has no target to restore, where a
link to nothing does ("restore its target" was said of both). :mod:`.files` re-exports the
first two.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

__all__ = ["link_problem", "link_remedy", "loop_problem"]

LOOPS = "a symbolic link that loops"


def loop_problem(path: str | os.PathLike[str]) -> str | None:
    """Where ``path`` meets a symbolic link that loops (to itself, or through others back to
    it), said after the path: ``"is a symbolic link that loops"``, or ``"lies in DIR, a
    symbolic link that loops"`` for a folder above it; None where none loops. Python reads
    such a path as missing (``exists()``) and as no folder (``is_dir()``): "does not exist",
    "it is a file, not a directory" were said of one."""
    part = _loop_at(path)
    if part is None:
        return None
    return f"is {LOOPS}" if part == Path(path) else f"lies in {part}, {LOOPS}"


def _loop_at(path: str | os.PathLike[str]) -> Path | None:
    """The shortest part of ``path`` that is a symbolic link that loops; None where none does."""
    try:
        os.stat(path)
        return None
    except OSError as err:
        if err.errno != errno.ELOOP:
            return None
    except ValueError:  # a NUL byte: said where the path is used
        return None
    full = Path(path)
    for part in (*reversed(full.parents), full):  # the shortest first: the first that loops
        try:
            os.stat(part)
        except OSError as err:
            if err.errno == errno.ELOOP:
                return part
    return full


def link_problem(path: str | os.PathLike[str]) -> str | None:
    """:func:`loop_problem`'s words, or ``"is a symbolic link to nothing"`` where ``path`` is a
    link whose target does not exist (a write would replace the link itself); None for a path
    that is neither."""
    loop = loop_problem(path)
    if loop is not None:
        return loop
    p = Path(path)
    return "is a symbolic link to nothing" if p.is_symlink() and not p.exists() else None


def link_remedy(path: str | os.PathLike[str], copy: str) -> str:
    """What to do about ``path``, where :func:`link_problem` says something of it: restore a
    link's target (or ``copy``, ``"a copy of the manifest"``, in its place). A link that loops
    has no target to restore ("restore its target" was said of one): put ``copy`` (or a link
    to one) in its place, or where a folder above it loops, that folder."""
    part = _loop_at(path)
    if part is None:
        return f"restore its target (or {copy} in its place)"
    link, copy = ("it", copy) if part == Path(path) else (part, "the folder it stood for")
    return f"a loop has no target to restore: replace {link} with {copy} (or a link to one)"
