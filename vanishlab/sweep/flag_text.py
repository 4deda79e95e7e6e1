"""What a command-line flag's text stands for: :func:`parse_number`, a number in ASCII digits;
and back, :func:`values_text`, values as a flag writes them.

Here, not in :mod:`vanishlab.sweep.axes`, which parses an axis flag's list with it, so that the
axes stay one module under the size the architecture test allows.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import VanishlabError

__all__ = ["parse_number", "values_text"]

#: What a flag's number may look like: ASCII digits, as written on a command line (Python's
#: int() and float() also take "1_0" and other scripts' digits, which no user means).
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)",
    re.ASCII | re.IGNORECASE,
)


def parse_number(flag: str, text: str, kind: type[int] | type[float]) -> int | float:
    """``text`` (spaces aside) as the ``int`` or ``float`` (``kind``) that the option ``flag``
    gives (an axis flag's item, ``--seeds``, analyze's ``--seq-len``), in ASCII digits only: int()
    and float() took "1_0" as 10 and "١" as 1. Anything else is refused in one line, and so is
    a float written in digits beyond a float's range or too close to 0 for it (1e400, 1e-400),
    which float() reads as inf and 0.0."""
    item = text.strip()
    pattern, what = (_INTEGER, "an integer") if kind is int else (_NUMBER, "a number")
    if not pattern.fullmatch(item):
        raise VanishlabError(f"{flag}: {item!r} is not {what}")
    value = kind(item)
    if kind is float and item.lstrip("+-")[:1] not in "iInN":  # digits, not inf or nan
        # 1e400 was refused as "got inf", a number never typed; --gain 1e-400 ran as, and
        # named its run, gain=0.0
        if math.isinf(value):
            raise VanishlabError(f"{flag}: {item!r} is beyond a float's range (about 1.8e308)")
        if value == 0 and re.search(r"[1-9]", re.split(r"[eE]", item)[0]):
            raise VanishlabError(
                f"{flag}: {item!r} is closer to 0 than a float holds (about 4.9e-324): it "
                "would read as 0; give 0 if 0 is meant"
            )
    return value


def values_text(values: tuple[Any, ...]) -> str:
    """``values`` as an axis flag takes them: ``0.5,1.0``, ``true,false``."""
    return ",".join(("true" if v else "false") if isinstance(v, bool) else str(v) for v in values)
