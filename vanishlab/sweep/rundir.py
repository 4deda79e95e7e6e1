"""Whether a folder may become, or already is, a run directory.

A run directory is a folder with a ``manifest.json`` (:mod:`vanishlab.sweep.store`). Before
anything writes there, every writer (a sweep, ``vanishlab analyze``, a training monitor) asks
the same question: is this folder new or empty, an existing run, or something else that must
not be touched? An interrupted first start may leave only the lock, temporary files and an
empty ``cells/``; those count as empty. A folder inside another run directory is never one:
the outer run's readers would refuse it (in ``cells/``) or it would mix with that run's files.

A writer killed between creating a temporary file and renaming it (:mod:`.files`) leaves it
behind; readers skip it, and the next writer that holds the run's lock removes it
(:func:`remove_stale_temps`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import VanishlabError
from . import store
from .files import CORRUPT, link_problem, remove_folders, remove_temps, run_dir_refused
from .held_signals import signals_held
from .json_text import parse_json, read_json_text
from .manifest import manifest_link_refused
from .preflight import make_dir
from .shard import CELLS, shard_paths

__all__ = [
    "enclosing_run",
    "held_new_or_run",
    "is_run_dir",
    "remove_stale_temps",
    "unmake_unmeasured",
]

# vanishlab's own temporary names (files.atomic_write's ".<name>.<8 hex>.tmp", before it
# ".<name>.tmp"; preflight's probe): of a shard in cells/ and corrupt/, of the manifest and the
# summary's cache (summary.parquet) in the run directory. Nothing else is ever removed.
_PROBE = r"\.vanishlab-probe-[0-9a-f]{32}\.tmp"
_SHARD_TEMP = re.compile(rf"\..+\.parquet(?:\.[0-9a-f]{{8}})?\.tmp|{_PROBE}", re.DOTALL)
_MANIFEST_TEMP = re.compile(rf"\.{re.escape(store.MANIFEST)}(?:\.[0-9a-f]{{8}})?\.tmp|{_PROBE}")
_READER_TEMP = re.compile(r"\.summary\.parquet(?:\.[0-9a-f]{8})?\.tmp")


def remove_stale_temps(run_dir: Path) -> None:
    """Remove the temporary files that killed writers left in ``run_dir``; call it holding the
    run's lock (:class:`~vanishlab.sweep.lock.RunLock`), before writing. Shards (``cells/``,
    ``corrupt/``) and the manifest are written under that lock only, so every temporary file of
    theirs is a dead writer's. The summary's cache is written by readers (a report) without it:
    its temporary files go only where no live process holds them (:func:`~.files.remove_temps`).
    A probe of :func:`~.preflight.make_dir` (an empty file, made before the lock) goes at once:
    its maker, if alive, only removes it, and takes it being gone for done."""
    for folder in (run_dir / CELLS, run_dir / CORRUPT):
        remove_temps(folder, _SHARD_TEMP, locked=True)
    remove_temps(run_dir, _MANIFEST_TEMP, locked=True)
    remove_temps(run_dir, _READER_TEMP, locked=False)


@contextlib.contextmanager
def held_new_or_run(run_dir: Path, *, flag: str = "--out (out=)") -> Iterator[store.RunLock]:
    """``run_dir`` made (:func:`~.preflight.make_dir`, ``flag`` its way out) and held
    (:class:`~.lock.RunLock`) for the block: a writer's way in (a sweep, ``vanishlab analyze``,
    a monitor). Where the block raises (a refusal, a full disk, Ctrl-C) before the folder holds
    a manifest, what this call made goes: its ``.lock``, removed while still held
    (:meth:`~.lock.RunLock.discard`), then the folders it made, where empty
    (:func:`~.files.remove_folders`), those the lock made again included (another writer of
    the same new folder removed them after make_dir). A sweep left a folder of its ``.lock``
    alone, an analysis the folders above its run (``--out new/deeper/run``). A folder or a
    ``.lock`` that was there before stays, and so does everything once a manifest is written.
    A block that ends without raising and leaves no manifest (a monitor that recorded no step,
    whose manifest :func:`unmake_unmeasured` removed) has what this call made go too."""
    made: list[Path] = []  # filled as each folder is made: a stop as make_dir returns
    held: list[store.RunLock] = []  # (Ctrl-C) left them, where its result was never assigned
    try:
        with contextlib.ExitStack() as stack:
            try:
                # The way in is whole or not begun: a stop (Ctrl-C) that comes while the
                # folders are made and the lock taken is delivered once the lock is held, here,
                # where what they made goes. Raised between a mkdir and its listing in made, it
                # left the folder; between .lock's open and the with, .lock and its file open
                # (a ResourceWarning): 3 runs in 40 of the swallowed-Ctrl-C sweep test, load ~12.
                with signals_held():
                    make_dir(run_dir, flag=flag, made=made)
                    # (the folders made again where they went are added to made)
                    lock = store.RunLock(run_dir, folders=made, flag=flag)
                    held.append(stack.enter_context(lock))
                yield lock
            except BaseException:
                if held:
                    _keep_if_moved(lock, made)
                    if not (run_dir / store.MANIFEST).exists():
                        lock.discard()
                raise
            _keep_if_moved(lock, made)
            if not (run_dir / store.MANIFEST).exists():
                lock.discard()
    except BaseException:  # (none made where make_dir refused: it removed them itself)
        if made and not (run_dir / store.MANIFEST).exists():
            remove_folders(made)
        raise
    if made and not (run_dir / store.MANIFEST).exists():
        remove_folders(made)


def _keep_if_moved(lock: store.RunLock, made: list[Path]) -> None:
    """Forget the folders made for a run directory moved or removed from its path while held
    (:meth:`~.lock.RunLock.displaced`): its writer's line says to move it back there, into the
    folders above it (``--out new/run``), which went as empty ones it made."""
    if lock.displaced() is not None:
        made.clear()


def unmake_unmeasured(run_dir: Path) -> bool:
    """Where ``run_dir`` holds no shard, remove its manifest and its ``cells/`` where empty, so
    that :func:`held_new_or_run`, left by the failure that stopped it, removes what it made
    too; True where the manifest went. For a new run (an analysis, a monitor) that a failure
    stopped before it saved a shard (``ulimit -f 2`` refused it), or a monitor whose training
    ended before it recorded a step: its manifest alone was a folder that a report called "no
    measured model" or "no measured step". Call it holding the run's lock, for a run its caller
    made, never an earlier one."""
    try:
        if next(shard_paths(run_dir), None) is not None:
            return False
        (run_dir / store.MANIFEST).unlink()
    except (OSError, VanishlabError):  # a shard cannot be told absent: the manifest stays
        return False
    with contextlib.suppress(OSError):
        (run_dir / CELLS).rmdir()  # an empty folder only; none where nothing was written
    return True


def enclosing_run(path: Path) -> Path | None:
    """The run directory that ``path`` lies inside: its nearest ancestor (symbolic links
    resolved) holding a vanishlab manifest, or None."""
    for folder in Path(os.path.realpath(path)).parents:
        manifest = folder / store.MANIFEST
        try:
            if not manifest.is_file():
                continue
            found = parse_json(read_json_text(manifest))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # another program's manifest.json, or none that can be read
        if isinstance(found, dict) and found.get("format") == store.FORMAT:
            return folder
    return None


def is_run_dir(run_dir: Path, *, flag: str = "--out (out=)") -> bool:
    """True if ``run_dir`` holds a manifest, False if it is new or empty; else VanishlabError
    (a file, or a folder holding anything else), naming ``flag`` as the way out: the command
    line's and the API's name by default, as :func:`~.preflight.make_dir` does (``run_sweep``
    and ``analyze_checkpoint`` were told "give --out another directory"), the monitor's
    ``"out="``. A path the file system refuses to look at (a name too long, a folder it may
    not read) is refused in :func:`~.preflight.make_dir`'s words: ``vl.run_sweep`` raised the
    raw OSError of a name too long below an existing folder, which the command line said."""
    try:
        return _is_run_dir(run_dir, flag)
    except OSError as err:
        raise run_dir_refused(run_dir, err, flag) from err


def _is_run_dir(run_dir: Path, flag: str) -> bool:
    # "(dangling, or a loop)" said neither; one below a loop was "cannot write the run
    # directory ...: Too many levels of symbolic links"
    problem = link_problem(run_dir)
    if problem is not None:
        raise VanishlabError(f"{run_dir} {problem}; give {flag} another directory")
    if run_dir.exists() and not run_dir.is_dir():
        # said no way out: ``--out somefile/sub`` was told "give --out (out=) another directory"
        raise VanishlabError(
            f"{run_dir} exists and is not a directory; give {flag} another directory"
        )
    outer = enclosing_run(run_dir)
    if outer is not None:
        raise VanishlabError(
            f"{run_dir} is inside the run directory {outer}; give {flag} a directory outside it"
        )
    manifest_link_refused(run_dir / store.MANIFEST, f", or give {flag} a new or empty directory")
    if (run_dir / store.MANIFEST).exists():
        return True
    if not run_dir.exists():
        return False
    if (run_dir / CELLS).is_dir() and any(shard_paths(run_dir)):  # its manifest went
        raise VanishlabError(
            f"{run_dir} holds measured cells ({CELLS}/) but no {store.MANIFEST}: a run whose "
            f"manifest was removed; restore {store.MANIFEST} from a copy, or give {flag} a new "
            "or empty directory"
        )
    for entry in run_dir.iterdir():
        if entry.name == store.LOCK or entry.name.endswith(store.TMP_SUFFIX):
            continue
        if entry.name == CELLS and entry.is_dir():  # with no shard: those are refused above
            continue
        raise VanishlabError(
            f"{run_dir} is not empty and is not a vanishlab run directory (no "
            f"{store.MANIFEST}); give {flag} a new or empty directory"
        )
    return False
