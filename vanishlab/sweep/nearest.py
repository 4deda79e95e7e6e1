"""The name a user most likely meant by a misspelt one (``activaton``: ``activation``), for the
one line of an error that refuses it: an axis of a grid, a field of a cell, a key the mean
field reads. One cutoff for all of them (:func:`nearest_name`), and one wording for a refused
axis or config field (:func:`unknown_names`); the mean field's check words its own ValueError
(``unknown key ... in the cell: did you mean ...?``, :mod:`vanishlab.sweep.prediction`). And the
one rule of a word typed on the command line in another case (:func:`as_known_case`: ``LSTM`` is
``lstm``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

__all__ = ["as_known_case", "did_you_mean", "nearest_name", "unknown_names"]

#: How alike a name and its suggestion must be (difflib's ratio): ``activaton`` and
#: ``activation`` score 0.95, ``width`` and ``init`` 0.44 (no suggestion).
CUTOFF = 0.75


def nearest_name(name: object, names: Iterable[str]) -> str | None:
    """The one of ``names`` nearest to ``name`` (difflib, ratio >= :data:`CUTOFF`), or None
    (for a ``name`` that is no string too). Case does not count: ``LSTM`` is ``lstm`` (difflib
    scored them 0, and ``--model LSTM`` got only the list of choices)."""
    if not isinstance(name, str):
        return None
    by_lower = {}
    for known in names:
        by_lower.setdefault(known.lower(), known)
    near = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=CUTOFF)
    return by_lower[near[0]] if near else None


def as_known_case(word: str, known: Iterable[str]) -> str:
    """``word`` as the one of ``known`` it differs from only by case (``LSTM``: ``lstm``,
    ``Orthogonal``: ``orthogonal``), else ``word`` itself: one of ``known`` already, no name
    at all, or one that two known names differ from only by case (an init registered as
    ``MyInit`` beside ``myinit``), which is not guessed. The command line's rule for every named
    value (a sweep's axes, ``analyze --nonlinearity``); Python's API takes the names exactly."""
    names = tuple(known)
    if word in names:
        return word
    same = [name for name in names if name.lower() == word.lower()]
    return same[0] if len(same) == 1 else word


def did_you_mean(name: object, names: Iterable[str]) -> str:
    """`` (did you mean 'lstm'?)`` for the name nearest to ``name`` (:func:`nearest_name`),
    or "" where none is near."""
    near = nearest_name(name, names)
    return f" (did you mean {near!r}?)" if near else ""


def unknown_names(given: Iterable[object], known: Sequence[str], what: str) -> str | None:
    """None where each of ``given`` is one of ``known``; else the words that refuse the rest,
    ``unknown axis 'activaton' (did you mean 'activation'?)``, each with its nearest known
    name, and the list of ``known`` where one has none near. ``what`` names one: ``axis``,
    ``config field``; several are ``unknown axes 'a' (...), 'b' (...)``."""
    unknown = sorted({name for name in given if name not in known}, key=str)
    if not unknown:
        return None
    near = [nearest_name(name, known) for name in unknown]
    said = ", ".join(
        f"{name!r}" + (f" (did you mean {guess!r}?)" if guess else "")
        for name, guess in zip(unknown, near, strict=True)
    )
    whats = "axes" if what == "axis" else f"{what}s"
    listed = "" if all(near) else f" ({whats} are: {', '.join(known)})"
    return f"unknown {whats if len(unknown) > 1 else what} {said}{listed}"
