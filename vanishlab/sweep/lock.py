"""The run directory's lock: one process writes a run directory at a time.

``RUN_DIR/.lock`` is held with ``flock`` (``msvcrt.locking`` on Windows), which the operating
system releases when the process dies, even by SIGKILL, so a crash never leaves a stale lock.
The run directory itself is held with ``flock`` too (where the file system allows it): a
``.lock`` deleted while a sweep runs is created afresh by the next process, which then held a
lock of its own and wrote the same directory beside the first; the directory cannot be
replaced under its writer.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path
from typing import Any

from ..errors import VanishlabError
from .files import folders_made, run_dir_refused

__all__ = ["LOCK", "RunLock"]

LOCK = ".lock"


class RunLock:
    """An exclusive lock on a run directory, held while one process writes it.

    Uses ``flock`` on ``RUN_DIR/.lock`` (``msvcrt.locking`` on Windows), which the operating
    system releases when the process dies, even by SIGKILL: a crash never leaves a stale lock.
    The holder's pid is written into the file so a refusal can name it. The directory is
    held with ``flock`` as well (:func:`_lock_folder`), so that deleting ``.lock`` lets no
    second writer in.
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        folders: list[Path] | None = None,
        flag: str = "--out (out=)",
    ) -> None:
        self.path = Path(run_dir) / LOCK
        self.made = False  # whether this holder created .lock (see discard)
        self._folders = folders  # where given, the folders it makes are added (_make_folder)
        self._flag = flag  # the way out a refused run directory names (files.run_dir_refused)
        self._file: Any = None
        self._folder: int | None = None
        self._held: tuple[int, int] | None = None  # the run directory's (device, inode)

    def __enter__(self) -> RunLock:
        f = self._locked_file()  # held open while the lock is
        try:
            self._folder = _lock_folder(self.path.parent)
        except BlockingIOError:  # its .lock was deleted, and this one is new: no pid in it
            self._drop_made(f)
            here = _held_here(self.path.parent)
            raise self._in_use(here, f"its {LOCK} was deleted while it ran") from None
        try:
            f.truncate(0)
            f.write(str(os.getpid()).encode("ascii"))
            f.flush()
        except BaseException as err:  # a full disk: say which file could not be written
            self._drop_made(f)  # (its close flushes again, and failed again, naming no file:
            self._release_folder()  # "error: No space left on device")
            # Ctrl-C here too: it left .lock (the folder kept it, so held_new_or_run did not
            # remove it) and the folder's descriptor open and locked, which refused every
            # later writer of that run in this process (a notebook) until it ended.
            if isinstance(err, OSError) and err.filename is None:
                err.filename = str(self.path)
            raise
        self._file = f
        with contextlib.suppress(OSError):
            self._held = _identity(self.path.parent)
        return self

    def displaced(self) -> tuple[str, Path | None] | None:
        """None while the run directory's path still names the folder this holder locked; else
        what became of it: ``("moved", NEW_PATH)``, ``("removed", None)``, or, where the system
        does not tell (no ``/proc``), ``("moved or removed", None)``. A sweep's next shard
        went to the old path: ``cells/`` made again there, parents and all, so that a run
        moved mid-sweep (``mv runs/x runs/y``) was split between the two folders, the later
        cells and the final manifest in a new ``runs/x``, and the sweep said it had run them
        all. A symbolic link left at the old path to the moved folder is no move."""
        if self._held is None:
            return None
        try:
            if _identity(self.path.parent) == self._held:
                return None
        except OSError:
            pass
        if self._folder is not None:
            with contextlib.suppress(OSError):
                now = os.readlink(f"/proc/self/fd/{self._folder}")
                if now.endswith(" (deleted)"):
                    return "removed", None
                return "moved", Path(now)
        return "moved or removed", None

    def _locked_file(self) -> Any:
        """``.lock`` opened (created if missing) and locked, where its path still names the file
        locked. A holder's :meth:`discard` unlinks ``.lock`` while it holds it: a writer that
        had opened it before and locked it after held a lock on a file no longer there, beside
        the next writer's new ``.lock`` (where no folder lock is taken, NFS: two writers at
        once). Such a file is let go and ``.lock`` opened again.

        The run directory itself may go meanwhile (another writer of the same new folder,
        failing, removed it again after this one made it): it is made again, as often. Where
        the file system refuses it (a regular file put there since the caller checked), it is
        refused in :func:`~.files.run_dir_refused`'s words: a raw FileNotFoundError or
        NotADirectoryError ("Not a directory: runs/x/.lock") reached the caller."""
        gone: FileNotFoundError | None = None  # the last try's, where the folder had gone
        for _ in range(_REOPENS):
            try:
                self._make_folder()
                _refuse_other(self.path)
                f, self.made = _opened(self.path)
            except FileNotFoundError as err:  # the folder went again since made: made again
                gone = err
                continue
            except OSError as err:
                if err.errno == errno.ELOOP:  # a symlink put there since _refuse_other
                    _refuse_other(self.path)
                raise run_dir_refused(self.path.parent, err, self._flag) from err
            try:
                _lock(f)
            except OSError:
                f.seek(0)
                holder = f.read().decode("ascii", "replace").strip() or "unknown"
                f.close()
                raise self._in_use(holder == str(os.getpid()), f"pid {holder}") from None
            if _names(self.path, f):
                return f
            f.close()  # (which lets its lock go)
            gone = None
        if gone is not None:  # the folder went each time (or a broken link in its path)
            raise run_dir_refused(self.path.parent, gone, self._flag) from gone
        raise self._in_use(False, f"its {LOCK} was removed as often as it was opened")

    def _make_folder(self) -> None:
        """Make the run directory and its missing parents, each added to ``folders`` where
        given (the shallowest first). Its caller made or found them, but they may be gone:
        another writer of the same new folder, failing before its manifest, removed the empty
        folders it had made. Made again here unlisted, they stayed behind, empty, where this
        writer failed before its manifest too (:func:`~.rundir.held_new_or_run`)."""
        made: list[Path] = []
        with folders_made(self.path.parent, made):
            pass
        if self._folders is not None:
            self._folders.extend(made)

    def discard(self) -> None:
        """Remove ``.lock`` where this holder created it, while it still holds it: for a writer
        that fails before it has written anything else (a sweep before its manifest), so that
        the folder is left as it found it. A sweep that failed so left a folder holding its
        ``.lock`` alone. A ``.lock`` an earlier process made stays."""
        if self._file is not None:
            self._unlink_made()

    def _drop_made(self, f: Any) -> None:
        """Close ``f``, the ``.lock`` opened by a refused :meth:`__enter__`, and remove it
        where this holder created it (it locked it: nobody else uses that file)."""
        self._unlink_made()
        with contextlib.suppress(OSError):
            f.close()

    def _unlink_made(self) -> None:
        """Remove ``.lock`` where this holder created it."""
        if self.made:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _in_use(self, here: bool, holder: str) -> VanishlabError:
        if here:  # a second writer in this very process
            return VanishlabError(
                f"run directory {self.path.parent} is already open in this process (a "
                "JacobianMonitor, sweep or analysis of it has not finished); finish that "
                "one first or give --out (out=) another directory"
            )
        return VanishlabError(
            f"run directory {self.path.parent} is in use by another vanishlab process "
            f"({holder}); wait for it to finish or give --out (out=) another directory"
        )

    def _release_folder(self) -> None:
        if self._folder is not None:
            _HELD_HERE.discard(_identity(self._folder))
            with contextlib.suppress(OSError):
                _unlock_folder(self._folder)
            os.close(self._folder)
            self._folder = None

    def __exit__(self, *exc: object) -> None:
        try:
            if self._file is not None:
                f, self._file = self._file, None
                with contextlib.suppress(OSError):
                    f.truncate(0)
                    _unlock(f)
                f.close()
        finally:  # (Ctrl-C above, or a close that failed, left the folder held in this process)
            self._release_folder()
            self._held = None


_REOPENS = 10
"""How many times :meth:`RunLock.__enter__` opens ``.lock`` again where the file it locked was
unlinked meanwhile (by a holder's :meth:`RunLock.discard`)."""


def _names(path: Path, f: Any) -> bool:
    """Whether ``path`` names the open file ``f`` (not unlinked, nor replaced, since opened)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    held = os.fstat(f.fileno())
    return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)


def _refuse_other(path: Path) -> None:
    """Refuse a ``.lock`` that is there but no regular file, in one line with the way on. A
    directory gave open()'s bare "Is a directory: .../.lock"; a symlink was followed: a
    dangling one made its target, outside the run directory, and the sweep went on, and one
    to /dev/full said only "Invalid argument: RUN/.lock"."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISLNK(st.st_mode):
        what, way = f"a symlink (to {os.readlink(path)})", "remove it"
    elif stat.S_ISDIR(st.st_mode):
        what, way = "a directory", "move it aside"
    else:
        what, way = "not a regular file", "remove it"
    raise VanishlabError(f"{path} is {what}, where vanishlab keeps its lock file: {way}")


def _no_follow(path: str, flags: int) -> int:
    """``open``'s opener that never follows a symlink (ELOOP; not on Windows)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o666)


def _opened(path: Path) -> tuple[Any, bool]:
    """``path`` opened to read and write, created if missing, and whether this call created
    it. A symlink is never followed (ELOOP): :func:`_refuse_other` names it."""
    try:
        return open(path, "x+b", opener=_no_follow), True
    except FileExistsError:
        return open(path, "a+b", opener=_no_follow), False


_HELD_HERE: set[tuple[int, int]] = set()
"""The (device, inode) of every run directory this process holds: a refusal by the folder's
lock names a second writer in this process as such."""


def _held_here(folder: Path) -> bool:
    """Whether this process holds the run directory ``folder``; False where it is gone (its
    removal raced the refusal: a FileNotFoundError traceback)."""
    try:
        return _identity(folder) in _HELD_HERE
    except OSError:
        return False


def _identity(folder: int | Path) -> tuple[int, int]:
    st = os.fstat(folder) if isinstance(folder, int) else os.stat(folder)
    return st.st_dev, st.st_ino


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: Any) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(f: Any) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

    def _lock_folder(folder: Path) -> int | None:
        return None  # a folder cannot be opened, nor locked, there: .lock alone

    def _unlock_folder(fd: int) -> None:
        pass

else:
    import fcntl

    def _lock(f: Any) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(f: Any) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _lock_folder(folder: Path) -> int | None:
        """An open descriptor of ``folder`` held with ``flock``; BlockingIOError if another
        holds it; None where the folder cannot be opened or its file system locks no folder
        (NFS emulates flock with fcntl locks, which a read-only descriptor cannot take
        exclusively): ``.lock`` alone, as before."""
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        except OSError:
            os.close(fd)
            return None
        _HELD_HERE.add(_identity(fd))
        return fd

    def _unlock_folder(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
