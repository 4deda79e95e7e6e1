"""A float in a JSON manifest and its reading back: JSON has no -inf, inf or NaN, and a
hand-edited record may hold any value where a number or a time belongs (:mod:`.manifest`
re-exports these)."""

from __future__ import annotations

import math

__all__ = ["json_number", "read_json_number", "read_seconds"]


def json_number(value: float | None) -> float | str | None:
    """A float for a JSON manifest: itself when finite, ``"-inf"``, ``"inf"`` or ``"nan"``
    (strict JSON has no such numbers; :func:`read_json_number` reads them back), None for
    None."""
    if value is None or math.isfinite(value):
        return value
    return str(float(value))


def read_json_number(value: object) -> float | None:
    """A number that :func:`json_number` wrote (``"-inf"``, ``"inf"`` and ``"nan"`` read back
    as floats); None when it is absent or not a number (true and false are not), and, as
    :func:`read_seconds` reads it, for an integer too large for a float (JSON's ``1`` and 400
    zeros in a hand-edited record: float() raised OverflowError, a traceback of the report)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):  # a string that is not a number, an integer too large
        return None


def read_seconds(value: object) -> float | None:
    """A time a manifest holds (its ``elapsed_s``, a monitored step's): a finite number of
    seconds >= 0 as a float, else None (a bool, a string, NaN, inf, a time below 0). The run's
    own is refused by the manifest's check where it is not one; a step's record is read as
    one that has none (the report showed "-5 s" for a step, and a string as a traceback). An
    integer too large for a float (JSON's ``1`` and 400 zeros) is none either: float() raised
    OverflowError, a traceback."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return seconds if 0 <= seconds < math.inf else None
