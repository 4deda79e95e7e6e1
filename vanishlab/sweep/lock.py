"""The run directory's lock: one process writes a run directory at a time.

``RUN_DIR/.lock`` is held with ``flock`` (``msvcrt.locking`` on Windows), which the operating
system releases when the process dies, even by SIGKILL, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import VanishlabError

__all__ = ["LOCK", "RunLock"]

LOCK = ".lock"


class RunLock:
    """An exclusive lock on a run directory, held while one process writes it.

    Uses ``flock`` on ``RUN_DIR/.lock`` (``msvcrt.locking`` on Windows), which the operating
    system releases when the process dies, even by SIGKILL: a crash never leaves a stale lock.
    The holder's pid is written into the file so a refusal can name it.
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / LOCK
        self._file: Any = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_dir():  # open() said only "Is a directory: .../.lock"
            raise VanishlabError(
                f"{self.path} is a directory, where vanishlab keeps its lock file: move it aside"
            )
        f = open(self.path, "a+b")  # held open while the lock is
        try:
            _lock(f)
        except OSError:
            f.seek(0)
            holder = f.read().decode("ascii", "replace").strip() or "unknown"
            f.close()
            if holder == str(os.getpid()):  # a second writer in this very process
                raise VanishlabError(
                    f"run directory {self.path.parent} is already open in this process (a "
                    "JacobianMonitor, sweep or analysis of it has not finished); finish that "
                    "one first or choose another out directory"
                ) from None
            raise VanishlabError(
                f"run directory {self.path.parent} is in use by another vanishlab process "
                f"(pid {holder}); wait for it to finish or choose another --out"
            ) from None
        try:
            f.truncate(0)
            f.write(str(os.getpid()).encode("ascii"))
            f.flush()
        except OSError as err:  # a full disk: say which file could not be written
            f.close()
            if err.filename is None:
                err.filename = str(self.path)
            raise
        self._file = f
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.truncate(0)
                _unlock(self._file)
            self._file.close()
            self._file = None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(f: Any) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(f: Any) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(f: Any) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(f: Any) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
