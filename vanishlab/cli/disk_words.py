"""The words of a write the system refused: what failed, on which path, and what to do (a full
disk, a quota, the file-size limit, a read-only file system), for every command's one line and
for its standard output, which is not always a file on a disk (``> /dev/full``, a pipe)."""

from __future__ import annotations

import errno
import os
import stat
import sys

__all__ = ["WRITE_ERRNOS", "os_error_text", "stdout_error_text", "write_remedy"]

# What to do about each error that only writing meets ("cannot write f1/cells/x.parquet: File
# too large" said none of it).
_WRITE_REMEDIES = {
    getattr(errno, name): remedy
    for name, remedy in (
        ("ENOSPC", "the disk is full: free some space"),
        ("EDQUOT", "over the disk quota: free some space"),
        ("EFBIG", "over the file-size limit, ulimit -f: raise it"),
        ("EROFS", "write elsewhere"),  # its strerror is "Read-only file system"
    )
    if hasattr(errno, name)
}

#: Errors that only writing meets: said as "cannot write PATH: No space left on device".
WRITE_ERRNOS = frozenset(_WRITE_REMEDIES)


def write_remedy(err: OSError) -> str:
    """What to do, in parentheses, after an error only writing meets (a full disk); else ''."""
    remedy = _WRITE_REMEDIES.get(err.errno)
    return f" ({remedy})" if remedy else ""


def os_error_text(err: OSError) -> str:
    """One line for an ``OSError``: what failed, on which path, and, where writing was
    refused (a full disk), what to do."""
    what = f"{err.strerror or type(err).__name__}{write_remedy(err)}"
    paths = [p for p in (err.filename, err.filename2) if p is not None]
    if err.errno in WRITE_ERRNOS and len(paths) == 1:
        return f"cannot write {paths[0]}: {what}"
    where = f": {' -> '.join(str(p) for p in paths)}" if paths else ""
    return f"{what}{where}"


def stdout_error_text(err: OSError) -> str:
    """One line for a standard output that refused a write (``err``): named by its path where
    the system gives one, and a full disk's remedy only where it is a file on one. ``> /dev/full``
    was told "(the disk is full: free some space)": no space freed changes what a device or a
    pipe takes, so there it is told to send the output elsewhere."""
    what = err.strerror or type(err).__name__
    try:
        fd = sys.stdout.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # no real stdout (a test's capture)
        return f"cannot write the standard output: {os_error_text(err)}"
    where = _fd_path(fd)
    if stat.S_ISREG(mode):
        return f"cannot write the standard output{where}: {what}{write_remedy(err)}"
    refused = err.errno in WRITE_ERRNOS
    advice = " (not a file on a disk: send the output elsewhere)" if refused else ""
    return f"cannot write the standard output{where}: {what}{advice}"


def _fd_path(fd: int) -> str:
    """`` (PATH)`` for the file open as ``fd`` where the system names it by a path (Linux's
    /proc: ``/dev/full``, ``/data/out.txt``); else '' (a pipe, another system)."""
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except (OSError, ValueError):
        return ""
    return f" ({path})" if path.startswith("/") else ""
