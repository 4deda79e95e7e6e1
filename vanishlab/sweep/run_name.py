"""A run's name, as ``--name`` (or ``name=``) gives it: one line of text, not blank. The
manifest's readers refuse any other; the sweep, an analysis and a training monitor check it
before they write anything."""

from __future__ import annotations

import sys

from ..errors import VanishlabError
from .files import line_text

__all__ = ["check_name", "not_text", "text_problem"]


def not_text(ch: str) -> bool:
    """A lone surrogate: how Python keeps a byte of another encoding (a file name's)."""
    return "\ud800" <= ch <= "\udfff"


def text_problem(text: str) -> str | None:
    """What makes ``text`` unfit for a run's name given as ``--name`` (or ``name=``), or None: a
    character that is not text (a byte of another encoding, which no page or terminal can show)
    or a control character (a new line or an escape sequence would redraw the terminal)."""
    for ch in text:
        if not_text(ch):
            encoding = sys.getfilesystemencoding()
            if encoding.lower() in ("utf-8", "utf8"):
                return f"holds {ch!r}, a byte that is not UTF-8 text"
            # the bytes may well be UTF-8, read (as an argument, a file name) in another encoding
            return (
                f"holds {ch!r}, a byte that this Python cannot read as text: its locale's "
                f"encoding is {encoding} (set a UTF-8 locale, such as LC_ALL=C.UTF-8, or "
                "PYTHONUTF8=1)"
            )
        if line_text(ch) != ch:
            return f"holds a control character ({ch!r})"
    return None


def check_name(name: str | None, what: str = "--name (name=)") -> None:
    """Raise VanishlabError (one line) when a run's name is not one line of text or is blank
    (spaces only), TypeError when it is not a string (the manifest's readers refuse any other
    name)."""
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {type(name).__name__}")
        problem = text_problem(name)
        if problem:
            raise VanishlabError(f"{what} {problem}: give a name of one line of text")
        if name and not name.strip():  # "" is no name (the default); "   " is a blank title
            raise VanishlabError(f"{what} is blank: give a name with visible text, or none")
