"""The JSON a file a user can damage holds (a manifest, a shard's or the summary's cache's
metadata): parsed by one function, so that every way its text fails is one ``ValueError``,
which each reader turns into its own corrupt error; and the one canonical form of a value that
a digest covers (:func:`canonical_json`: a summary row's, a shard's metadata's, a manifest's)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_CHARS", "MAX_DEPTH", "canonical_json", "parse_json", "read_json_text"]

#: The most characters of a JSON file read (a manifest: a few KB, a long run's some MB). A file
#: beyond it is no manifest of vanishlab's (a 2 GiB sparse one, `truncate -s 2G`), refused
#: unread: it was read whole, 4.3 GB of memory and 22 s, before its "corrupt" line.
MAX_CHARS = 64 << 20

#: The deepest nesting of arrays and objects read. vanishlab writes a few levels; a value
#: parsed near the interpreter's recursion limit raised RecursionError again where it was
#: written back or digested (json.dumps), deeper in the stack.
MAX_DEPTH = 100


def read_json_text(path: str | os.PathLike[str]) -> str:
    """The text of the JSON file ``path`` (UTF-8), read up to :data:`MAX_CHARS` characters;
    ``ValueError`` for a longer one (and, as ``UnicodeDecodeError``, for bytes that are not
    UTF-8), ``OSError`` where it cannot be read."""
    with open(path, encoding="utf-8") as f:
        text = f.read(MAX_CHARS + 1)
    if len(text) > MAX_CHARS:
        raise ValueError(
            f"more than {MAX_CHARS >> 20} MiB of text, far more than a manifest holds: "
            "not one, or one damaged; not read further"
        )
    return text


def parse_json(text: str | bytes) -> Any:
    """The value ``text`` holds. Raises ``ValueError`` for every text that is not JSON
    vanishlab reads: malformed (``json.JSONDecodeError``), bytes that are not UTF-8
    (``UnicodeDecodeError``), or arrays and objects nested deeper than :data:`MAX_DEPTH`
    (``"[[[[..."`` deeper than the parser's stack raised ``RecursionError``, no ValueError:
    a traceback from every reader that caught the others)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(_too_deep()) from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise ValueError(_too_deep())
    return value


def canonical_json(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """``value`` as canonical JSON: sorted keys, no spaces, non-ASCII escaped, floats as
    Python's shortest round-trip repr (NaN and infinities as ``NaN``, ``Infinity``);
    ``default`` converts what JSON has no type for (a NumPy scalar). The same value read back
    from any indentation gives the same text: what every digest of JSON is taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default)


def _too_deep() -> str:
    return f"arrays or objects nested deeper than {MAX_DEPTH} levels"


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and dicts deeper than ``limit`` (without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False
