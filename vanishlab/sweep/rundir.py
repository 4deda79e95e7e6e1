"""Whether a folder may become, or already is, a run directory.

A run directory is a folder with a ``manifest.json`` (:mod:`vanishlab.sweep.store`). Before
anything writes there, every writer (a sweep, ``vanishlab analyze``, a training monitor) asks
the same question: is this folder new or empty, an existing run, or something else that must
not be touched? An interrupted first start may leave only the lock, temporary files and an
empty ``cells/``; those count as empty.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import VanishlabError
from . import store

__all__ = ["is_run_dir"]


def is_run_dir(run_dir: Path, *, flag: str = "--out") -> bool:
    """True if ``run_dir`` holds a manifest, False if it is new or empty; else VanishlabError
    (a file, or a folder holding anything else), naming ``flag`` as the way out."""
    if run_dir.exists() and not run_dir.is_dir():
        raise VanishlabError(f"{run_dir} exists and is not a directory")
    if (run_dir / store.MANIFEST).exists():
        return True
    if not run_dir.exists():
        return False
    for entry in run_dir.iterdir():
        if entry.name == store.LOCK or entry.name.endswith(store.TMP_SUFFIX):
            continue
        if entry.name == store.CELLS and entry.is_dir() and not any(store.shard_paths(run_dir)):
            continue
        raise VanishlabError(
            f"{run_dir} is not empty and is not a vanishlab run directory (no "
            f"{store.MANIFEST}); choose a new or empty {flag}"
        )
    return False
