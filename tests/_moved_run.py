"""A run directory moved by hand (`mv`) while a writer of it writes one of its files: the
stand-in for ``atomic_write`` that the moved-directory tests of the sweep, the monitor and
`vanishlab analyze` share."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

__all__ = ["move_at_write"]


def move_at_write(
    monkeypatch: pytest.MonkeyPatch, module: str, out: Path, moved: Path, nth: int = 1
) -> None:
    """Make the ``nth`` write through ``vanishlab.sweep.<module>``'s ``atomic_write`` (a
    shard's or a manifest's) rename ``out`` to ``moved`` once its bytes are written, before
    the temporary file's rename: `mv` during the write's fsync, most of a small write's
    time."""
    where = importlib.import_module(f"vanishlab.sweep.{module}")
    real, calls = where.atomic_write, []

    def writing(path, write):  # as `mv` by hand before the temp file's rename
        calls.append(path)
        if len(calls) == nth:
            return real(path, lambda f: (write(f), out.rename(moved)))
        return real(path, write)

    monkeypatch.setattr(where, "atomic_write", writing)
