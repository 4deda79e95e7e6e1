"""Folders a test makes refuse what is written in them, as a read-only or denied folder would
to a user: root, who runs this suite, may write anything, and os.access says so."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def refuse_writes_in(monkeypatch: pytest.MonkeyPatch, folder: Path, code: int) -> None:
    """Make a folder or a file (``Path.mkdir``, ``Path.write_bytes``: the run's and the dry
    run's probes) in ``folder`` fail with the ``OSError`` of ``code`` (``errno.EACCES``)."""
    refused = folder.resolve()
    real_mkdir, real_write = Path.mkdir, Path.write_bytes

    def check(path: Path) -> None:
        if path.resolve().parent == refused:
            raise OSError(code, os.strerror(code), str(path))

    def mkdir(path: Path, *args: Any, **kwargs: Any) -> None:
        check(path)
        real_mkdir(path, *args, **kwargs)

    def write_bytes(path: Path, data: bytes) -> int:
        check(path)
        return real_write(path, data)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
