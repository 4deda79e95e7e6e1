"""Text in the report's figures: mathtext-safe user text, its widths as DejaVu Sans draws
it (:mod:`.text_metrics`), and line breaks that fit a width in inches (margins are fixed
before a figure is drawn)."""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Iterable

from .text_metrics import measured_width

__all__ = [
    "ROW_LABEL_LINES",
    "ROW_LABEL_W",
    "TICK_SIZE",
    "balanced_lines",
    "label_key",
    "label_width",
    "plain",
    "row_label",
    "row_labels",
    "text_width",
    "title_width",
    "wrap_title",
    "wrap_words",
]

TICK_SIZE = 8.5  # points: tick labels, a heatmap's row labels among them
#: The widest a heatmap's row label is drawn (inches), and in at most how many lines
#: (:func:`row_label`): the labels stand left of every panel, so a 4-inch label (settings
#: folded into the rows of a depth map) made a two-column figure 16-19 in wide, drawn smaller.
ROW_LABEL_W = 3.0
ROW_LABEL_LINES = 3


def wrap_title(text: str, width_in: float, size: float) -> str:
    """Break a panel title into lines that fit ``width_in`` inches at ``size`` points (so
    titles never collide), after the commas between its settings: "gain = 0.5" and
    "1 layer" stay whole (they broke into "gain =" / "0.5"). A setting longer than a line
    is broken at its spaces, and a word longer than a line inside it (a long init name ran
    past its panel, under the next one's title); "name = value" in its value, after a "_",
    "-" or "." where it has one, else where the line ends ("init =" ended a line,
    "uniform_variance_scaled" or "myinitialisation" the next). Its lines are measured as
    drawn (:func:`text_width`): of the breaks whose every line fits, the fewest lines, then
    the longest (a longer line limit can break into more lines: at the width
    :func:`title_width` gave for two, the longest lines that fit made three), but never lines
    of fewer than :data:`_MIN_CHARS` characters."""
    best: tuple[int, int] | None = None  # (lines, characters a line)
    for chars in range(max(len(text), _MIN_CHARS), _MIN_CHARS - 1, -1):
        lines = _filled(text, chars).split("\n")
        if (best is None or len(lines) < best[0]) and all(
            text_width(line, size) <= width_in for line in lines
        ):
            best = (len(lines), chars)
            if len(lines) == 1:
                break
    return _filled(text, _MIN_CHARS if best is None else best[1])


def title_width(text: str, lines: int, size: float) -> float:
    """The narrowest width in inches at which :func:`wrap_title` breaks ``text`` into at most
    ``lines`` lines at ``size`` points: the widest line, as drawn, of the fewest characters a
    line that breaks it so."""
    chars = _MIN_CHARS
    while chars < len(text) and _filled(text, chars).count("\n") >= lines:
        chars += 1
    return max(text_width(line, size) for line in _filled(text, chars).split("\n"))


_MIN_CHARS = 16  # the narrowest line a title is wrapped to, in characters
_BREAKS = ("_", "-", ".")  # where a word longer than a line is broken, after one
_LEAST_TAIL = 3  # characters a word cut where a line ends leaves for the next ("…ati" / "on")


def _fitting(text: str, width_in: float, size: float, least: int = _MIN_CHARS) -> int:
    """The most characters a line of :func:`_filled` may hold for every line of ``text`` to be
    at most ``width_in`` inches wide at ``size`` points, as drawn; ``least`` where none do."""
    for chars in range(max(len(text), least), least - 1, -1):
        if all(text_width(line, size) <= width_in for line in _filled(text, chars).split("\n")):
            return chars
    return least


def _filled(text: str, chars: int) -> str:
    """``text`` in lines of at most ``chars`` characters, broken after its commas; a setting
    (the text between two of them) longer than a line starts a line and is broken at its own
    spaces, but never after "name =": where half a line or more is left beside the name, the
    value is broken as a word longer than a line is, after its last ``_``, ``-`` or ``.``
    that fits (in the second half of the room), else where the room ends (leaving the next
    line :data:`_LEAST_TAIL` characters or more); else its line starts with the "=" ("= tanh")."""
    settings = text.split(", ")
    lines: list[str] = []
    for n, setting in enumerate(settings):
        setting += "," if n < len(settings) - 1 else ""
        if len(setting) <= chars:
            if lines and len(lines[-1]) + 1 + len(setting) <= chars:
                lines[-1] += " " + setting
            else:
                lines.append(setting)
            continue
        lines.append("")  # a setting too long for a line starts one
        for word in setting.split(" "):
            joint = " " if lines[-1] else ""
            if len(lines[-1]) + len(joint) + len(word) <= chars:
                lines[-1] += joint + word
                continue
            room = chars - len(lines[-1]) - len(joint)
            # "name =" never ends a line (it did where its value had no "_", "-" or "." to
            # break at): the value is broken beside it where the room there is half a line or
            # more; else (a long name) the value's line starts with the "="
            named = lines[-1].endswith("=")
            if named and room < chars // 2 and lines[-1] != "=":
                lines[-1], word, named = lines[-1][:-1].rstrip(), "= " + word, False
                if len(word) > chars:
                    lines.append("")
                    joint = ""
            if len(word) <= chars and not named:
                lines.append(word)
                continue
            while word:
                room = chars - len(lines[-1]) - len(joint)
                if room < chars // 2:
                    lines.append("")
                    joint, room = "", chars
                cut = max(word.rfind(c, 0, room) for c in "_-.") + 1
                # where the room ends, but a few characters left for the next line
                end = max(min(room, len(word) - _LEAST_TAIL), 1)
                # (a "_" half a line in beats a cut that starts the next line with one)
                early = cut > room // 2 or (cut >= room // 2 and word[end : end + 1] in _BREAKS)
                cut = len(word) if len(word) <= room else cut if early else end
                lines[-1] += joint + word[:cut]
                word, joint = word[cut:], ""
                if word:
                    lines.append("")
    return "\n".join(lines)


@functools.lru_cache(maxsize=4096)  # a figure's labels: asked by its caption and its drawing
def row_label(text: str) -> tuple[str, bool]:
    """A heatmap's row label as drawn within :data:`ROW_LABEL_W` inches at :data:`TICK_SIZE`
    points: as it is when it fits; else in as few lines as will do, up to
    :data:`ROW_LABEL_LINES`, as narrow as they allow, broken as a title is
    (:func:`wrap_title`), else at any space; else shortened in its middle, its first lines
    (broken as a title is) and its end (from a setting's start, :func:`_tail`) kept ("…"
    between them: the end of a depth map's label names the layer; :func:`row_labels` tells
    apart a figure's labels shortened alike).
    Returns the text and whether it was shortened (the caption then gives it in full)."""
    if label_width(text, TICK_SIZE) <= ROW_LABEL_W:
        return text, False
    chars = _fitting(plain(text), ROW_LABEL_W, TICK_SIZE, least=1)  # (each line as drawn)
    for most in range(2, ROW_LABEL_LINES + 1):  # as few lines as will do, then as narrow
        for fill in (_filled, _spaced):
            for narrow in range(math.ceil(len(text) / most), chars + 1):
                lines = fill(text, narrow).split("\n")
                if len(lines) <= most and _clean(text, lines) and _fit(lines):
                    return "\n".join(lines), False
    head = _filled(text, chars).split("\n")[: ROW_LABEL_LINES - 1]
    at = 0
    for line in head:
        at = text.index(line, at) + len(line)
    # The end from what the first lines leave (a long name without a "_": its first lines
    # held all of it, and "… " and its last 46 characters were drawn again below them).
    rest = text[at:].lstrip(" ")
    if not rest or _fit([rest]):  # nothing left out: broken where its lines end, as a title
        return "\n".join([*head, *([rest] if rest else [])]), False
    end = chars - 2
    while end > 1 and not _fit(["… " + _tail(rest, end)]):
        end -= 1
    return "\n".join([*head, "… " + _tail(rest, end)]), True


def _fit(lines: list[str]) -> bool:
    """Whether each of a row label's ``lines`` is at most :data:`ROW_LABEL_W` wide, as drawn."""
    return all(label_width(line, TICK_SIZE) <= ROW_LABEL_W for line in lines)


def _clean(text: str, lines: list[str]) -> bool:
    """Whether ``lines`` (``text`` broken by :func:`_filled` or :func:`_spaced`) break it only
    at a space or after a ``_``, ``-`` or ``.``, and never after a setting's "name =" (a row
    label drawn "dtype =" / "float64, lr = 0.001": the narrowest lines that would do)."""
    at = 0
    for line in lines[:-1]:
        at = text.index(line, at) + len(line)
        if line.endswith("=") or (text[at : at + 1] != " " and line[-1] not in "_-."):
            return False
    return True


def _tail(text: str, chars: int) -> str:
    """The end of ``text`` in at most ``chars`` characters, from a setting's start (after a
    comma) where one is in them, else from a word's: "… = 0.5, l = 1" read as a value
    without its name."""
    tail = text[-chars:]
    comma, space = tail.find(", "), tail.find(" ")
    return tail[comma + 2 :] if comma >= 0 else tail[space + 1 :] if space >= 0 else tail


def row_labels(texts: Iterable[str]) -> dict[str, str]:
    """The row labels of one figure as drawn (:func:`row_label`), each text once, shortened
    ones made to differ: two labels of one start and one end (a depth map's settings that
    differ in an init's name halfway) were drawn alike. Those that would be drawn alike show,
    between their first line and their end, the settings in which they differ, a long value
    cut to its differing part ("… init = …alpha…, gain = 0.5"); where those are longer than a
    line, the part where each differs from the label nearest it; any still alike are numbered
    after their end, in the order they come (the caption's key: :func:`label_key`)."""
    drawn = {t: row_label(t)[0] for t in dict.fromkeys(texts)}
    chars = int(ROW_LABEL_W / text_width("x", TICK_SIZE)) - 2  # after "… "
    for group in _alike(drawn):
        varying = _varying(group)
        for text in group:
            middle = varying.get(text, "")
            if not middle or len(middle) > chars:
                at = max(_common(text, other) for other in group if other != text)
                middle = _middle(text, at, chars)
            lines = drawn[text].split("\n")
            drawn[text] = "\n".join([lines[0], "… " + middle, lines[-1]])
    for group in _alike(drawn):
        for n, text in enumerate(group, 1):
            drawn[text] += f" [{n}]"
    return drawn


_NUMBERED = re.compile(r" \[(\d+)\]\Z")


def label_key(drawn: str) -> str:
    """The number :func:`row_labels` ended a drawn label with, as the caption's "[n] " before
    the label in full; else nothing."""
    found = _NUMBERED.search(drawn)
    return f"[{found.group(1)}] " if found else ""


#: Characters of a setting's value shown whole where it differs (a number, a short name);
#: a longer one (an init's name) is cut to the part that differs.
_WHOLE_VALUE = 12


def _varying(group: list[str]) -> dict[str, str]:
    """Each text of ``group`` as the settings (between ", ") in which the group's texts
    differ, a value longer than :data:`_WHOLE_VALUE` cut to its differing part between "…";
    none where the texts have not as many settings."""
    parts = [t.split(", ") for t in group]
    if len({len(p) for p in parts}) > 1:
        return {}
    pieces: dict[str, list[str]] = {t: [] for t in group}
    for values in zip(*parts, strict=True):
        if len(set(values)) == 1:
            continue
        pre = min(_common(values[0], v) for v in values)
        post = min(_common(values[0][::-1], v[::-1]) for v in values)
        for text, value in zip(group, values, strict=True):
            pieces[text].append(_differing(value, pre, min(post, len(value) - pre)))
    return {t: ", ".join(p) for t, p in pieces.items()}


def _differing(value: str, pre: int, post: int) -> str:
    """``value`` ("name = value" or a value) without its first ``pre`` and last ``post``
    characters, which others share, each cut back to a ``_``, ``-`` or space, "…" for them;
    its name kept, and a value of :data:`_WHOLE_VALUE` characters or fewer kept whole."""
    name = value.find(" = ") + 3 if " = " in value else 0
    if len(value) - name <= _WHOLE_VALUE:
        return value
    start = max([name] + [value.rfind(c, name, pre) + 1 for c in "_- "])
    ends = [i for i in (value.find(c, len(value) - post) for c in "_- ") if i >= 0]
    end = min([len(value), *ends]) if post else len(value)
    return (
        value[:name]
        + ("…" if start > name else "")
        + value[start:end]
        + ("…" if end < len(value) else "")
    )


def _alike(drawn: dict[str, str]) -> list[list[str]]:
    """The texts of ``drawn`` drawn alike, in groups of two or more, in their order."""
    by: dict[str, list[str]] = {}
    for text, label in drawn.items():
        by.setdefault(label, []).append(text)
    return [g for g in by.values() if len(g) > 1]


def _common(a: str, b: str) -> int:
    """The length of the start ``a`` and ``b`` share: where they first differ."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _middle(text: str, at: int, chars: int) -> str:
    """A line of at most ``chars`` characters of ``text`` that holds its character ``at``:
    from the start of the setting holding it, else of the word, else of a part of the word
    after a ``_``, ``-`` or ``.``, where that line reaches it; else from ``at`` itself."""
    at = min(at, len(text) - 1)
    found = [text.rfind(", ", 0, at), text.rfind(" ", 0, at)]
    found.append(max(text.rfind(c, 0, at) for c in "_-."))
    starts = [i + n for i, n in zip(found, (2, 1, 1), strict=True) if i >= 0]
    for start in [*starts, at]:
        line = _filled(text[start:], chars).split("\n")[0]
        if start + len(line) > at:
            return line
    return text[at : at + chars]


def _spaced(text: str, chars: int) -> str:
    """``text`` in lines of at most ``chars`` characters, broken at any space but the one after
    a setting's "=" (its line starts "= value" where one breaks there; a word longer than a
    line anywhere)."""
    tied = text.replace(" = ", " =\0")
    return textwrap.fill(tied, chars, break_on_hyphens=False).replace("\0", " ")


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
        if lines and text_width(lines[-1] + " " + word, size) <= width_in:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def balanced_lines(text: str, width_in: float, size: float) -> str:
    """``text`` as it is when it fits ``width_in`` inches at ``size`` points, else in as few
    lines of about equal width as fit (:func:`wrap_words`'s breaks): a long axis label in
    two halves, not a full line and a word."""
    total = text_width(text, size)
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


def label_width(text: str, size: float) -> float:
    """The width in inches of a user's ``text`` (a row label, a group's label) as a figure
    draws it, through :func:`plain` (its ``$`` never read as mathtext)."""
    return text_width(plain(text), size)


def text_width(text: str, size: float) -> float:
    """The width in inches of ``text`` at ``size`` points as the figures draw it, its widest
    line (:func:`.text_metrics.measured_width`: mathtext where matplotlib reads it so). An
    estimate of 0.58-0.6 em a character was 16-19% wider than DejaVu Sans draws a title."""
    return max(measured_width(line, size) for line in text.split("\n"))
