"""Files that are whole or absent: write to a temporary name beside the target, flush and
fsync, rename over the target (``os.replace``, atomic on POSIX and Windows), fsync the folder.

A reader therefore sees the old file or the new one, never a part, whatever instant the writer
was killed at (SIGKILL included), and whatever another writer of the same file does at once
(two reports of one run write its summary's cache; each writer has its own temporary file).
Temporary files are ``.<name>.<random>.tmp``; readers skip them. A writer holds its temporary
file (``flock``) until it has renamed it, so that a run's clean-up can tell the file of a
writer killed in between, which it removes, from one being written (:func:`remove_temps`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import VanishlabError
from .held_signals import signals_held
from .links import link_problem, loop_problem  # re-exported: their words

__all__ = [
    "CORRUPT",
    "TMP_SUFFIX",
    "as_flag",
    "as_id_set",
    "as_path",
    "as_text",
    "aside_folder",
    "aside_taken",
    "atomic_write",
    "escaped_text",
    "file_path",
    "folders_made",
    "fs_name",
    "fsync_dir",
    "is_bool",
    "line_text",
    "link_problem",
    "loop_problem",
    "move_aside",
    "name_text",
    "path_name",
    "refused_why",
    "remove_folders",
    "remove_temps",
    "remove_temps_of",
    "resolved",
    "run_dir_refused",
]

TMP_SUFFIX = ".tmp"
_WINDOWS = sys.platform == "win32"
NAME_BYTES = 255  # the longest file name most file systems take (NAME_MAX)
CORRUPT = "corrupt"
"""The folder of a run directory that damaged shards are moved aside to."""


def as_path(value: object, name: str) -> Path:
    """``value`` (a str or os.PathLike) as a Path; ``TypeError`` naming the argument ``name``
    otherwise (pathlib's own said "expected str, bytes or os.PathLike object, not NoneType",
    naming none); ``ValueError`` for an empty or blank one (spaces alone), which pathlib reads
    as the current folder (``run_sweep(sweep, "")`` made it a run directory)."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    text = os.fspath(value)
    if isinstance(text, str) and not text.strip():
        raise ValueError(
            f"{name} is {'a blank' if text else 'an empty'} path; give a file or folder"
        )
    return Path(value)


def file_path(value: object, name: str) -> Path:
    """:func:`as_path` of a path meant for a file, refused (VanishlabError) where its text ends
    in "/", which names a folder: ``-o new/`` wrote a file named "new", and
    ``render_report(run, "x.html/")`` wrote x.html (pathlib drops the slash)."""
    path = as_path(value, name)
    raw = os.fspath(value)
    if isinstance(raw, str) and raw.endswith(("/", os.sep)):
        raise VanishlabError(
            f"{name} {raw} ends with '/', which names a folder; give a file name, e.g. "
            f"{raw}report.html"
        )
    return path


def is_bool(value: object) -> bool:
    """Whether ``value`` is True or False: a bool or a NumPy bool (a frame's cell; numpy is not
    imported for it)."""
    kind = type(value)
    return isinstance(value, bool) or (
        kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_")
    )


def as_flag(value: object, name: str) -> bool:
    """``value`` as a bool (:func:`is_bool`); ``TypeError`` naming ``name`` otherwise
    (``overwrite="no"`` was true, as every non-empty string is)."""
    if not is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r:.60}")
    return bool(value)


def as_id_set(value: object, name: str) -> set[str] | None:
    """``value`` (ids: a list, a set, a pandas Series of them) as a set, None for None;
    ``TypeError`` naming ``name`` for one string (its letters were taken for ids: no rows, no
    error) or a value that is no collection (``in`` asked a Series for its index labels)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a collection of ids, not one string: [{value!r}]")
    try:
        return None if value is None else set(value)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"{name} must be ids (strings) or None, got {value!r:.60}") from None


def resolved(path: str | os.PathLike[str]) -> Path:
    """``Path(path).resolve()``, with a loop of symbolic links (in the path or a folder above
    it) as the ``OSError`` (ELOOP) that the command line reports in one line, on every Python:
    3.11 and 3.12 raise a RuntimeError (``--out LOOP`` ended in a traceback), 3.13 resolves
    a loop without a word unless asked to be strict."""
    loop = OSError(errno.ELOOP, os.strerror(errno.ELOOP), os.fspath(path))
    try:
        return Path(path).resolve(strict=True)
    except RuntimeError:  # Python 3.11, 3.12
        raise loop from None
    except OSError as err:
        if err.errno == errno.ELOOP:  # Python 3.13
            raise loop from None
    # A path that does not exist yet (a new --out), or one strict resolution may not read.
    return Path(path).resolve()


def path_name(path: str | os.PathLike[str]) -> str:
    """The name of ``path``'s last component as a run's name (:func:`name_text`), for a run's
    default name."""
    return name_text(resolved(path).name)


def name_text(name: str) -> str:
    """A file name as a run's name: text (:func:`as_text`) of one line (:func:`line_text`)."""
    return line_text(as_text(name))


def fs_name(text: str) -> str:
    """``text`` (a run's name) as a file name that this process can write: itself where the
    file system's encoding carries it, else its UTF-8 bytes, as Python's surrogateescape keeps
    them: the folder a UTF-8 locale makes of it. Under an ASCII locale without Python's UTF-8
    mode, ``vanishlab sweep mé.py`` (its default folder ``runs/mé``) ended in a
    UnicodeEncodeError traceback. A byte already kept as a lone surrogate (U+DC80-U+DCFF) is
    that byte again, as a UTF-8 locale writes it ("surrogatepass" made ``\\udcff`` three
    bytes, ED B3 BF, another folder); any other lone surrogate, which no locale writes, its
    three bytes."""
    encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
    try:
        text.encode(encoding, errors)
    except UnicodeEncodeError:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        return data.decode(encoding, errors)
    return text


def line_text(text: str) -> str:
    """``text`` as one line for a terminal or a page: every control character (a tab, a new
    line, an escape sequence's ESC, which would redraw the terminal) made U+FFFD. What a run's
    name, experiment and description are written and read as (:mod:`.manifest`)."""
    return _CONTROL.sub("\ufffd", text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # Unicode's category Cc


def as_text(name: str) -> str:
    """A file name as text for a manifest or a page: a byte of another encoding in it (which
    Python keeps as a lone surrogate, that no page can show) becomes U+FFFD."""
    return os.fsencode(name).decode("utf-8", errors="replace")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def escaped_text(text: str) -> str:
    """``text`` with every byte of another encoding (which Python keeps as a lone surrogate,
    U+DC80-U+DCFF: a path's, an argument's) written ``\\xNN``, as ``os.fsencode(text)
    .decode("utf-8", "backslashreplace")`` writes it (``'\\udcff'`` -> ``'\\xff'``); any
    other lone surrogate (no byte: a manifest's ``"\\ud800"``) as ``\\uNNNN``. Text that
    holds none is returned as it is. Unlike :func:`as_text` it keeps the byte's value, for text
    a reader may need to type again (a command line)."""
    return _LONE_SURROGATE.sub(_escape, text)


def fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be fsync'ed there
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refused_why(err: OSError) -> str:
    """Why the file system refused to make the file or folder ``err`` names: its ``strerror``,
    or ``"the file system takes no new files in FOLDER"`` where the folder it goes in exists
    and the refusal is ``ENOENT`` (no missing path, then) or ``EPERM`` (mkdir(2): the file
    system makes no folders there): /proc said "No such file or directory" of a path whose
    folder exists, /sys "Operation not permitted". ``EACCES`` keeps its words: "Permission
    denied" is what an ACL, a security module or /sys (to root) says, and is so."""
    why = err.strerror or type(err).__name__
    if err.errno not in (errno.ENOENT, errno.EPERM) or err.filename is None:
        return why
    try:
        path = Path(os.path.abspath(err.filename))
        if os.path.lexists(path) or not path.parent.is_dir():
            return why  # a missing folder on the way, a link there: its own error says so
    except (OSError, TypeError, ValueError):  # a file descriptor, bytes, a NUL: as it was
        return why
    return f"the file system takes no new files in {path.parent}"


def run_dir_refused(run_dir: Path, err: OSError, flag: str) -> VanishlabError:
    """The error for a run directory ``run_dir`` that the file system refused (``err``: a
    regular file there, a name too long, a folder that may not be read, /proc: in
    :func:`refused_why`'s words), naming ``flag`` as the way out: "cannot write the run
    directory runs/x: Not a directory; give --out another directory"."""
    why = refused_why(err)
    return VanishlabError(
        f"cannot write the run directory {run_dir}: {why}; give {flag} another directory"
    )


@contextlib.contextmanager
def folders_made(folder: Path, made: list[Path] | None = None) -> Iterator[list[Path]]:
    """Make ``folder`` and its missing parents for the block, which is given the list of those
    this call made (the shallowest first; ``made``, where given, filled as each is made, so
    that a caller stopped as this returns still knows them); where the block (or a mkdir)
    raises, remove them (:func:`remove_folders`) and empty the list: never one that existed
    before, nor one another process has since put a file in. A report that failed after
    making its folder (no space left for the file) left it behind."""
    missing = []
    for f in (folder, *folder.parents):
        if os.path.lexists(f):
            break
        missing.append(f)
    made = [] if made is None else made
    try:
        for f in reversed(missing):
            try:
                f.mkdir()
            except FileExistsError:  # made meanwhile by another process: not this call's
                if not f.is_dir():
                    raise
                continue
            made.append(f)
        yield made
    except BaseException:
        remove_folders(made)
        made.clear()  # (gone: a caller's clean-up must not take another's folder of the name)
        raise


def remove_folders(made: list[Path]) -> None:
    """Remove the folders ``made`` (by :func:`folders_made`, the shallowest first), deepest
    first, each only where it is empty."""
    for f in reversed(made):
        with contextlib.suppress(OSError):
            f.rmdir()  # an empty folder only


def atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` by ``write(file)`` into a temp file beside it, fsync, rename, fsync dir.

    An ``OSError`` that names no file (a full disk, a quota: ``write`` and ``fsync`` say only
    what went wrong) or names the temp file is raised naming ``path``, the file being written,
    and no other (its text read "...: 'RUN/cells/<id>.parquet' -> None").
    """
    # A name of its own: two writers of one file at once (two `vanishlab report` of a run,
    # each refreshing its summary's cache, or writing one -o) shared ".<name>.tmp", so one
    # truncated and wrote into the file the other was renaming: a reader saw a part, or a
    # mixture, under the final name, and the other writer failed ("No such file").
    # The name cut to fit a file name's 255 bytes with the 14 added (a target of up to 255
    # bytes must not fail as "File name too long"); "xb": never another writer's file.
    stem = _temp_stem(path)
    tmp = path
    try:
        f: Any = None  # the temporary file open now, and its name: closed and removed where
        made: Path | None = None  # the write fails or is stopped before its rename
        try:
            for attempt in range(HOLD_TRIES):  # a name of its own, held (flock) from the start
                tmp = path.with_name(f".{stem}.{os.urandom(4).hex()}{TMP_SUFFIX}")
                # Opened and named here, or not opened: a stop (Ctrl-C) as open returned, before
                # the try that closes it, left the file open (a ResourceWarning) and the temp
                # file beside the manifest (1 run in 40 of the swallowed-Ctrl-C sweep test, load
                # ~12), which kept its new folder from going.
                with signals_held():
                    f, made = open(tmp, "xb"), tmp  # noqa: SIM115 (closed below)
                held = _hold_temp(f, tmp)
                # The last, held but not told from another file of its name (inode numbers that
                # change between fstat and stat): written as it is. Never one a clean-up holds
                # or removed: the last was written unheld, into a file being removed, and its
                # rename failed "No such file or directory" naming the target.
                if held or (held is None and attempt == HOLD_TRIES - 1):
                    break
                f.close()  # taken for a dead writer's and removed before it was held: another
                f = made = None  # (not removed again: it may be a new writer's of its name)
            else:
                raise OSError(
                    errno.EAGAIN,
                    f"each of its {HOLD_TRIES} temporary files was removed by another "
                    "process's clean-up as it was made; write it again",
                    str(path),
                )
            with f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
                if not _WINDOWS:  # renamed while held: never taken for a dead writer's
                    os.replace(tmp, path)
                    made = None
            if _WINDOWS:  # pragma: no cover - an open file cannot be renamed there
                os.replace(tmp, path)
                made = None
        except BaseException:  # (Ctrl-C or an error: nothing left open, no temp file left)
            if f is not None:
                f.close()
            if made is not None:
                with contextlib.suppress(OSError):
                    made.unlink()
            raise
        fsync_dir(path.parent)
    except OSError as err:
        if err.filename is None or err.filename in (tmp, str(tmp)):
            err.filename = str(path)
            del err.filename2  # (None would be shown as a second path: "-> None")
        raise


def _temp_stem(path: Path) -> str:
    """The part of ``path``'s name its temporary files take: ``.<stem>.<8 hex>.tmp``."""
    return os.fsdecode(os.fsencode(path.name)[: NAME_BYTES - 14])


def remove_temps_of(path: Path) -> None:
    """Remove the temporary files of :func:`atomic_write` for ``path`` that a writer killed
    mid-write left beside it (``.r.html.1a2b3c4d.tmp``), but one a live writer holds: a
    report's file, whose folder (``reports/``) no run's clean-up visits, kept each one (the
    whole page) for good."""
    pattern = re.compile(rf"\.{re.escape(_temp_stem(path))}\.[0-9a-f]{{8}}{re.escape(TMP_SUFFIX)}")
    remove_temps(path.parent, pattern, locked=False)


#: Temporary names ``atomic_write`` tries to hold: the last is written as it is where held but
#: not told from another file, and refused (``EAGAIN``) where a clean-up holds or removed it
#: (each such failure is a clean-up removing the file between its creation and its lock:
#: never seen twice in a row).
HOLD_TRIES = 8


def _hold_temp(f: Any, tmp: Path) -> bool | None:
    """Hold the temporary file ``f`` just created (``flock``, released when it is closed or its
    process dies, even by SIGKILL) until it is renamed or removed, so that a run's clean-up
    (:func:`remove_temps`) never takes it for a dead writer's; False if the clean-up removed
    it between its creation and this call, or holds it to remove it now (then make another:
    never wait for a lock, e.g. on a file system whose lock service hangs); None if it is held
    but its name shows another file (removed and made again, or inode numbers that change).
    True where files cannot be held (Windows; a file system that locks none)."""
    if _WINDOWS:  # pragma: no cover - exercised on Windows only
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a clean-up holds it: it is removing it
        return False
    except OSError:
        return True
    held = os.fstat(f.fileno())
    try:  # still the file of that name (a link count of 0 is not trusted: FUSE file systems)
        now = os.stat(tmp, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino) else None


def remove_temps(folder: Path, names: re.Pattern[str], *, locked: bool) -> None:
    """Remove the files of ``folder`` (not below it) whose names ``names`` matches in full:
    vanishlab's temporary files, left by a writer killed between creating and renaming one.
    ``locked``: only a holder of the run directory's lock writes them, and the caller holds it,
    so none has a live writer. Otherwise (files that processes without the lock write) only
    those no process holds (:func:`_hold_temp`), and none on Windows, where they cannot be
    told. Never a symbolic link or a folder; a file that cannot be removed stays."""
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder (yet), or one that cannot be read
        return
    for entry in entries:
        if not names.fullmatch(entry.name):
            continue
        with contextlib.suppress(OSError):
            if not entry.is_file(follow_symlinks=False):
                continue
            if locked:
                os.unlink(entry.path)
            elif not _WINDOWS:
                _remove_if_free(entry.path)


def _remove_if_free(path: str) -> None:
    """Remove the temporary file ``path`` if no process holds it (its writer died)."""
    import fcntl

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live writer's
        now = os.stat(path, follow_symlinks=False)
        if stat.S_ISREG(st.st_mode) and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            os.unlink(path)  # while held: a writer that opened it finds it gone (_hold_temp)
    finally:
        os.close(fd)


def aside_taken(aside: Path) -> bool:
    """Whether something other than a folder holds ``aside``'s name (``RUN_DIR/corrupt``)."""
    return not aside.is_dir() and (aside.exists() or aside.is_symlink())


def aside_folder(run_dir: str | os.PathLike[str]) -> Path:
    """``RUN_DIR/corrupt``, refused in one line where something else holds its name (a file
    there said "File exists: RUN_DIR/corrupt", after the sweep had written its manifest)."""
    aside = Path(run_dir) / CORRUPT
    if aside_taken(aside):
        raise VanishlabError(
            f"{aside} is not a folder: a run moves damaged shards into {CORRUPT}/; move it aside"
        )
    return aside


def move_aside(run_dir: str | os.PathLike[str], path: Path) -> Path:
    """Move a damaged shard to ``RUN_DIR/corrupt/`` (never deleted; a new name if taken).

    A ``cells/`` folder on another file system than ``RUN_DIR`` (a mount, a symbolic link to
    another disk) cannot rename into ``corrupt/`` (EXDEV, "Invalid cross-device link"): the
    shard is then copied there (to a temporary name, fsync'ed, renamed), and only then
    removed from ``cells/``. Stopped at any instant, the bytes are in ``cells/`` or in
    ``corrupt/`` (or both: moved aside again, under a new name, by the next run)."""
    aside = aside_folder(run_dir)
    aside.mkdir(exist_ok=True)
    target = aside / path.name
    n = 1
    while target.exists():
        target = aside / f"{path.stem}.{n}{path.suffix}"
        n += 1
    try:
        os.replace(path, target)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        atomic_write(target, lambda f: _copy_into(path, f))
        path.unlink()
    fsync_dir(path.parent)
    fsync_dir(aside)
    return target


def _copy_into(path: Path, out: Any) -> None:
    import shutil  # here: the command line's help imports this module, not shutil

    with open(path, "rb") as f:
        shutil.copyfileobj(f, out)
