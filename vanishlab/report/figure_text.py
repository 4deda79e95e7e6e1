"""Text in the report's figures, without matplotlib: mathtext-safe user text, estimated
widths, and line breaks that fit a width in inches (margins are fixed without measuring)."""

from __future__ import annotations

import math
import re
import textwrap

__all__ = [
    "balanced_lines",
    "plain",
    "shown",
    "text_width",
    "title_width",
    "wrap_title",
    "wrap_words",
]


def wrap_title(text: str, width_in: float, size: float) -> str:
    """Break a panel title into lines that fit ``width_in`` inches at ``size`` points (so
    titles never collide), only after the commas between its settings: "gain = 0.5" and
    "1 layer" stay whole (they broke into "gain =" / "0.5")."""
    return _filled(text, max(_MIN_CHARS, int(round(width_in / _char_width(size), 9))))


def title_width(text: str, lines: int, size: float) -> float:
    """The narrowest width in inches at which :func:`wrap_title` breaks ``text`` into at most
    ``lines`` lines at ``size`` points (its widest setting's when no width does)."""
    chars = _MIN_CHARS
    while chars < len(text) and _filled(text, chars).count("\n") >= lines:
        chars += 1
    return chars * _char_width(size)


_MIN_CHARS = 16  # the narrowest line a title is wrapped to, in characters


def _char_width(size: float) -> float:
    """Inches per character of a title at ``size`` points (0.6 em, DejaVu Sans's average)."""
    return 0.6 * size / 72


def _filled(text: str, chars: int) -> str:
    """``text`` in lines of at most ``chars`` characters, broken only after its commas."""
    whole = ", ".join(part.replace(" ", "\u00a0") for part in text.split(", "))
    filled = textwrap.fill(whole, chars, break_long_words=False, break_on_hyphens=False)
    return filled.replace("\u00a0", " ")


def shown(text: str) -> str:
    """Roughly what a label shows: mathtext's commands count as one character, its markup as
    none (``$\\log_{10}\\,\\|J\\|$`` shows about ``log10 ‖J‖``)."""
    if "$" not in text:
        return text
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    return re.sub(r"[$^_{}\\,]", "", text)


def wrap_words(text: str, width_in: float, size: float) -> str:
    """``text`` in lines of at most ``width_in`` inches at ``size`` points, broken only at
    spaces outside mathtext (a ``$...$`` span stays whole)."""
    words: list[str] = []
    for word in text.split(" "):
        if words and words[-1].count("$") % 2:
            words[-1] += " " + word
        else:
            words.append(word)
    lines: list[str] = []
    for word in words:
        if lines and text_width(shown(lines[-1] + " " + word), size) <= width_in:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def balanced_lines(text: str, width_in: float, size: float) -> str:
    """``text`` as it is when it fits ``width_in`` inches at ``size`` points, else in as few
    lines of about equal width as fit (:func:`wrap_words`'s breaks): a long axis label in
    two halves, not a full line and a word."""
    total = text_width(shown(text), size)
    if total <= width_in:
        return text
    n = math.ceil(total / width_in)
    width = total / n
    while True:
        lines = wrap_words(text, width, size)
        if lines.count("\n") < n or width >= width_in:
            return lines
        width += 0.05


def plain(text: str) -> str:
    """User text that matplotlib must not parse as mathtext."""
    return text.replace("$", r"\$")


def text_width(text: str, size: float) -> float:
    """A generous estimate of the width in inches of ``text`` at ``size`` points (DejaVu Sans
    averages about 0.6 em per character), so that margins can be fixed without measuring."""
    return len(text) * 0.58 * size / 72.0
