"""The digest of vanishlab's own code, which a run's manifest records beside the versions.

The version number alone does not tell two states of the code apart between releases (every
commit of a checkout reads ``0.1.0``), so a run measured by an edited checkout and one measured
by a release would cite alike. :func:`package_digest` is a SHA-256 over every ``.py`` file of
the package (its path relative to the package, a NUL, its bytes, a NUL), in sorted path order:
the same for a checkout and the wheel built from it. The experiment modules are left out
(installed as ``vanishlab/experiments/``, they lie beside the package in a checkout; a run's
manifest records its own experiment and commands), and so are caches (``__pycache__``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

__all__ = ["PACKAGE_DIGEST_KEY", "folder_digest", "package_digest", "package_files"]

PACKAGE_DIGEST_KEY = "vanishlab_code"
"""The key of :func:`package_digest` in a manifest's ``versions``."""

_PACKAGE = Path(__file__).resolve().parents[1]
_LEFT_OUT = ("experiments", "__pycache__")


def package_files(root: Path = _PACKAGE) -> list[Path]:
    """The ``.py`` files :func:`package_digest` reads under ``root``, sorted by their relative
    path."""
    files = [
        path
        for path in root.rglob("*.py")
        if not set(path.relative_to(root).parts[:-1]) & set(_LEFT_OUT)
    ]
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def folder_digest(root: Path) -> str:
    """SHA-256 (hex) of the ``.py`` files of ``root`` (:func:`package_files`), as the module
    docstring says."""
    digest = hashlib.sha256()
    for path in package_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=1)
def package_digest() -> str:
    """:func:`folder_digest` of this vanishlab package, once per process."""
    return folder_digest(_PACKAGE)
