"""What a sweep checks before it writes anything: its own options, the run directory (can it be
made, is it another kind of run, can its shard folders be written). The checks of this machine
(memory, time, how many workers it starts: :mod:`.capacity`) and of what the workers receive
(the inits, the main file: :mod:`.sendable`) are re-exported, the run's and ``--dry-run``'s one
place to import them from (torch-free)."""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path
from typing import Any

from ..core.integers import as_integer
from ..errors import VanishlabError
from . import store
from .capacity import (
    check_memory,
    check_time,
    cores,
    fewer_workers_line,
    more_workers_line,
    worker_count,
)
from .files import CORRUPT, aside_folder, folders_made, refused_why, run_dir_refused
from .held_signals import signals_held
from .manifest import run_kind_words
from .run_name import check_name
from .sendable import check_importable, check_main_file, check_sendable
from .shard import CELLS

__all__ = [
    "check_importable",
    "check_main_file",
    "check_memory",
    "check_options",
    "check_sendable",
    "check_shard_folders",
    "check_time",
    "cores",
    "dir_problem",
    "fewer_workers_line",
    "make_dir",
    "more_workers_line",
    "refuse_other_kinds",
    "worker_count",
]


def check_options(name: str | None, workers: object, scheduler: str | None) -> int | None:
    """``workers`` as an int (:mod:`vanishlab.core.integers`: a 0-d integer tensor too) or
    None, after refusing a sweep's own options that no run takes: ``workers`` beside
    ``scheduler``, a ``workers`` that is not a positive integer (TypeError for one that is no
    integer at all), a ``scheduler`` that is not a string, a ``name`` that is not one line of
    visible text (:func:`check_name`). The run checks them first, and ``--dry-run`` as the run
    does. One message for :func:`run_sweep` and the command line, naming both ("--workers
    (workers=)"): each says its own (:func:`~vanishlab.errors.python_words`, the command line's
    ``--workers`` alone)."""
    if scheduler is not None and not isinstance(scheduler, str):  # an AttributeError inside
        raise TypeError(
            f"scheduler must be a Dask scheduler's address (tcp://HOST:PORT) or None, got "
            f"{type(scheduler).__name__}"
        )
    if scheduler is not None and workers is not None:
        raise VanishlabError(
            "--workers (workers=) and --scheduler (scheduler=) exclude each other: the cluster "
            "decides; drop --workers (workers=)"
        )
    number = None if workers is None else as_integer(workers, "workers")
    if workers is not None and number is None:
        # 1.5 was taken, "2" raised a TypeError deep inside (the command line gives an int)
        raise TypeError(f"workers must be a positive integer or None, got {type(workers).__name__}")
    if number is not None and number < 1:
        raise VanishlabError(f"--workers (workers=): must be at least 1, got {number}")
    check_name(name)
    return number


def refuse_other_kinds(manifest: dict[str, Any], run_dir: Path) -> None:
    """Refuse a run directory written by something other than a sweep (``vanishlab analyze``'s
    ``"single-model"``, a training monitor's ``"monitor"``): a sweep's manifest has no ``kind``,
    and extending such a run would drop what its manifest says about its model."""
    if manifest.get("kind") is not None:
        raise VanishlabError(
            f"{run_dir} holds {run_kind_words(manifest)}, not a sweep; a sweep never adds "
            "cells to it, even with --force (force=True): give --out (out=) a new or empty "
            "directory"
        )


def dir_problem(run_dir: Path) -> str | None:
    """Why :func:`make_dir` would refuse ``run_dir``, in its words, found leaving nothing
    behind (``--dry-run``): a file there or above it, or a folder the run could not write in,
    its own ``cells/`` included; None when it could go ahead. Found as the run finds it, by
    writing (:func:`_probe_left_nothing`): os.access, which root always passes, said nothing
    of ``--out /proc/x``, which the run refuses."""
    for folder in (run_dir, *run_dir.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                code = errno.EEXIST if folder == run_dir else errno.ENOTDIR
                err = OSError(code, os.strerror(code))
            elif (err := _probe_left_nothing(folder, new=folder != run_dir)) is None:
                return _cells_problem(run_dir) if folder == run_dir else None
            return str(run_dir_refused(run_dir, err, "--out (out=)"))
    return None


def _cells_problem(run_dir: Path) -> str | None:
    """Why the run would refuse ``RUN_DIR/cells`` (:func:`check_shard_folders`), found
    leaving nothing behind; None when it could go ahead."""
    cells = run_dir / CELLS
    if not cells.is_dir() or (err := _probe_left_nothing(cells)) is None:
        return None
    return _unwritable(cells, refused_why(err))


def _probe_left_nothing(folder: Path, *, new: bool = False) -> OSError | None:
    """What the run meets writing in ``folder``: a folder made there where ``new`` (the first
    of a new run directory's, :func:`make_dir`), else a file (:func:`_probe`); None where it
    is written, and removed again. Ctrl-C, SIGTERM and SIGHUP wait until it is removed."""
    with signals_held():
        try:
            if new:
                probe = folder / f".vanishlab-probe-{uuid.uuid4().hex}{store.TMP_SUFFIX}"
                probe.mkdir()
                probe.rmdir()
            else:
                _probe(folder)
        except OSError as err:
            return err
    return None


def _probe(folder: Path) -> None:
    """Write and remove an empty file in ``folder``; OSError if the file system will not. (A
    run finds out by writing: os.access may misjudge ACLs or NFS.) A name of its own: two
    sweeps starting on one new folder at once each removed the other's probe ("cannot write
    the run directory: No such file"). A temp file's name: readers skip one left behind by a
    run killed in between, and the next run removes it (:func:`~.rundir.remove_stale_temps`),
    which may be the instant this one removes it: gone, it was written all the same."""
    probe = folder / f".vanishlab-probe-{uuid.uuid4().hex}{store.TMP_SUFFIX}"
    probe.write_bytes(b"")
    probe.unlink(missing_ok=True)


def make_dir(
    run_dir: Path, *, flag: str = "--out (out=)", made: list[Path] | None = None
) -> list[Path]:
    """Create the run directory, or say in one line why the file system will not, naming
    ``flag`` as the way out (the command line's and the API's name by default; the monitor's
    ``"out="``): a sweep's, an analysis's and a monitor's run directory alike (the last two
    said only "Not a directory", or raised NotADirectoryError from the Python API, for an
    ``out`` below a regular file). Where it fails, the folders it made are removed again
    (:func:`~.files.folders_made`): ``runs/new/<a name too long>`` left ``runs/new``. Returns
    the folders it made (the shallowest first), for a caller that fails later to remove
    (:func:`~.files.remove_folders`); ``made``, where given, is that list, filled as each is
    made (a caller stopped as this returns, Ctrl-C, still knows them).

    A folder of its path that vanishes between the check and the write is made again, up to
    :data:`_MAKE_TRIES` tries, each listing in ``made`` only the folders it made itself:
    another writer of the same new folder, failing before its manifest, removed the empty
    folders it had made (:func:`~.files.remove_folders`) just after this one found them, and
    this one was refused ("No such file or directory")."""
    tries = 1
    while True:
        try:
            with folders_made(run_dir, made) as listed:
                # no parents=True: a parent that vanished since folders_made is no folder made
                # unlisted, but a FileNotFoundError, and a try again (which lists it)
                run_dir.mkdir(exist_ok=True)  # a file or a broken link there: refused
                _probe(run_dir)
            return listed
        except OSError as err:
            if isinstance(err, FileNotFoundError) and tries < _MAKE_TRIES:
                tries += 1  # (folders_made removed what this try made, and emptied made)
                continue
            raise run_dir_refused(run_dir, err, flag) from err


#: How many times :func:`make_dir` makes and writes the run directory where a folder of its
#: path vanished meanwhile (each time, another writer's removal of the folders it made): a
#: path that says "No such file or directory" every time (a broken link above it) is refused
#: after as many tries, each of them at once.
_MAKE_TRIES = 3


#: The run's folders for shards, and what each holds (said when one cannot be written).
_SHARD_FOLDERS = {
    CELLS: "where the run keeps its shards",
    CORRUPT: "where the run moves damaged shards",
}


def _unwritable(folder: Path, why: str) -> str:
    return f"cannot write {folder}, {_SHARD_FOLDERS[folder.name]}: {why}"


def check_shard_folders(run_dir: Path, *, damaged: bool = False) -> None:
    """Refuse in one line a ``RUN_DIR/cells`` folder the run cannot write its shards in
    (read-only, or denied), and with ``damaged`` (shards to move aside) a ``RUN_DIR/corrupt``
    that is no folder (:func:`~vanishlab.sweep.files.aside_folder`) or cannot be written. The
    run checks before it writes its manifest: it recorded a new grid there, then stopped at its
    first shard ("Permission denied: RUN_DIR/cells/<id>"; "File exists: RUN_DIR/corrupt")."""
    folders = [run_dir / CELLS, *([aside_folder(run_dir)] if damaged else [])]
    for folder in folders:
        if not folder.is_dir():
            continue  # made when needed, in the run directory make_dir has written in
        try:
            _probe(folder)
        except OSError as err:
            raise VanishlabError(_unwritable(folder, refused_why(err))) from err
