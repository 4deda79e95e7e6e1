"""Whether a run's ``manifest.json`` changed since vanishlab wrote it, and where that is said.

A shard is parquet with checksums, and a damaged one is refused; the manifest is JSON that a
user may edit by hand (a grid value so edited is validated, and refused in one line), so a
change is never refused: it is known, and said. Every write stores, under :data:`DIGEST`, each
other key's digest (the first 16 hex digits of the SHA-256 of its value's
:func:`~.json_text.canonical_json`), in the file itself, so that the digest travels with the
manifest and is written with it in one atomic rename. A read compares (:func:`manifest_change`)
and says what differs: the ``vanishlab`` commands in one line on stderr, the Python API in a
:class:`~vanishlab.errors.ManifestChangedWarning`, the report on its page; a run that writes
the manifest again (a resume) keeps the edit and digests it anew. A manifest without
:data:`DIGEST` (an earlier release's, or one whose digest was removed) is read as before,
without a word. Without torch, pandas or pyarrow.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from ..errors import ManifestChangedWarning
from .json_text import canonical_json

__all__ = [
    "DIGEST",
    "changes_said",
    "changes_said_per_call",
    "digested",
    "manifest_change",
    "page_note",
    "say_change",
]

P = ParamSpec("P")
R = TypeVar("R")

#: The manifest's key that holds its other keys' digests (popped by the reader).
DIGEST = "digest"


def _key_digests(manifest: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:16]
        for key, value in manifest.items()
        if key != DIGEST
    }


def digested(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` (as JSON reads it back) as vanishlab writes it: its keys, then
    :data:`DIGEST`, each key's digest (any earlier digest replaced)."""
    out = {key: value for key, value in manifest.items() if key != DIGEST}
    out[DIGEST] = _key_digests(out)
    return out


def manifest_change(manifest: Mapping[str, Any]) -> str | None:
    """What differs in ``manifest`` (as parsed, before any reader's change) from what vanishlab
    wrote, in words (``"'description', 'started' changed; 'note' added"``), or None: as
    written, or written without a digest. A digest that is not a mapping of texts says only
    that it is not as written (what else differs cannot be told)."""
    if DIGEST not in manifest:
        return None
    recorded = manifest[DIGEST]
    if not isinstance(recorded, dict) or not all(isinstance(v, str) for v in recorded.values()):
        return f"its {DIGEST!r} is not as vanishlab writes it"
    now = _key_digests(manifest)
    kinds = {
        "changed": [k for k in now if k in recorded and recorded[k] != now[k]],
        "added": [k for k in now if k not in recorded],
        "removed": [k for k in recorded if k not in now],
    }
    words = [f"{', '.join(map(repr, keys))} {kind}" for kind, keys in kinds.items() if keys]
    return "; ".join(words) or None


def page_note(change: str) -> str:
    """The report page's note of a manifest that ``change`` (:func:`manifest_change`) says
    changed since it was written."""
    return (
        f"This run's manifest.json changed since vanishlab wrote it ({change}): edited by hand, "
        "or damaged. The page shows what it holds now, its name, description, times, command "
        "and versions included."
    )


@dataclass
class _Scope:
    say: Callable[[str], None] | None  # a command's writer of lines; None: a warning
    writer: str | None  # "this sweep": a run that writes the manifest again
    said: set[tuple[str, str]] = field(default_factory=set)  # (file, its text's digest)


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "vanishlab_manifest_changes", default=None
)


@contextlib.contextmanager
def changes_said(
    say: Callable[[str], None] | None = None, writer: str | None = None
) -> Iterator[None]:
    """Within, each changed manifest is said once (a report, a sweep read one several times),
    by ``say`` (a command's line on stderr) or else as a
    :class:`~vanishlab.errors.ManifestChangedWarning`; ``writer`` (``"this sweep"``) writes the
    manifest again, and says the edit is kept. An inner scope takes what the outer one has not
    given (a command's ``say`` around a sweep's ``writer``), and shares what it said."""
    outer = _SCOPE.get()
    scope = _Scope(say, writer)
    if outer is not None:
        scope = _Scope(say or outer.say, writer or outer.writer, outer.said)
    token = _SCOPE.set(scope)
    try:
        yield
    finally:
        _SCOPE.reset(token)


def changes_said_per_call(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` (a reader of the API: ``vl.summarize`` reads the manifest four times) within
    :func:`changes_said`: one warning a call, not one for each of its reads."""

    @functools.wraps(func)
    def within(*args: P.args, **kwargs: P.kwargs) -> R:
        with changes_said():
            return func(*args, **kwargs)

    return within


def say_change(path: os.PathLike[str], text: str, change: str) -> None:
    """Say that the manifest ``path``, which holds ``text``, changed (``change``) since
    vanishlab wrote it: once within :func:`changes_said`, else as a warning at each read."""
    scope = _SCOPE.get()
    line = f"{path} changed since vanishlab wrote it ({change}): read as it is now"
    if scope is not None:
        key = (os.path.abspath(path), hashlib.sha256(text.encode("utf-8")).hexdigest())
        if key in scope.said:
            return
        scope.said.add(key)
        if scope.writer is not None:
            line += (
                f"; {scope.writer} writes it again with a new digest, the edit kept but in "
                "what it records anew"
            )
        if scope.say is not None:
            scope.say(f"warning: {line}")
            return
    warnings.warn(line, ManifestChangedWarning, stacklevel=_caller_level())


def _caller_level() -> int:
    """The ``stacklevel`` (for the ``warnings.warn`` of the function calling this one) of the
    first frame outside vanishlab: the user's line, whichever reader lies between
    (``vl.load_manifest``, ``vl.summarize``, ``vl.load_results``, ``vl.render_report``). A
    fixed 4 was right for ``vl.load_manifest`` alone; the others' warnings named summary.py,
    store.py or this module, where a user's filter by module, or a log's location, does not
    find their own line."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    level, frame = 2, sys._getframe(2)  # level 2: the caller of the function that warns
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
