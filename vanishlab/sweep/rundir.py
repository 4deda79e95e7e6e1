"""Whether a folder may become, or already is, a run directory.

A run directory is a folder with a ``manifest.json`` (:mod:`vanishlab.sweep.store`). Before
anything writes there, every writer (a sweep, ``vanishlab analyze``, a training monitor) asks
the same question: is this folder new or empty, an existing run, or something else that must
not be touched? An interrupted first start may leave only the lock, temporary files and an
empty ``cells/``; those count as empty. A folder inside another run directory is never one:
the outer run's readers would refuse it (in ``cells/``) or it would mix with that run's files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import VanishlabError
from . import store

__all__ = ["enclosing_run", "is_run_dir"]


def enclosing_run(path: Path) -> Path | None:
    """The run directory that ``path`` lies inside: its nearest ancestor (symbolic links
    resolved) holding a vanishlab manifest, or None."""
    for folder in Path(os.path.realpath(path)).parents:
        manifest = folder / store.MANIFEST
        try:
            if not manifest.is_file():
                continue
            found = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # another program's manifest.json, or none that can be read
        if isinstance(found, dict) and found.get("format") == store.FORMAT:
            return folder
    return None


def is_run_dir(run_dir: Path, *, flag: str = "--out") -> bool:
    """True if ``run_dir`` holds a manifest, False if it is new or empty; else VanishlabError
    (a file, or a folder holding anything else), naming ``flag`` (``"--out"``, ``"out="``) as
    the way out."""
    if run_dir.is_symlink() and not run_dir.exists():
        raise VanishlabError(
            f"{run_dir} is a symbolic link to nothing (dangling, or a loop); give {flag} another "
            "directory"
        )
    if run_dir.exists() and not run_dir.is_dir():
        raise VanishlabError(f"{run_dir} exists and is not a directory")
    outer = enclosing_run(run_dir)
    if outer is not None:
        raise VanishlabError(
            f"{run_dir} is inside the run directory {outer}; give {flag} a directory outside it"
        )
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
            f"{store.MANIFEST}); give {flag} a new or empty directory"
        )
    return False
