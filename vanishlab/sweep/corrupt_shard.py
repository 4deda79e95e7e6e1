"""The errors a run's shard reader raises for a file it cannot use: a damaged shard of the run
(:class:`CorruptShardError`, which the run moves aside and measures again) or a file that is no
shard of it."""

from __future__ import annotations

import errno
import re
from pathlib import Path

from ..errors import VanishlabError
from .files import CORRUPT, aside_taken, line_text

__all__ = ["CorruptShardError", "foreign", "not_a_shard", "refused_read"]

_SHARD_NAME = re.compile(r"^[0-9a-f]{16}\.parquet$")


class CorruptShardError(VanishlabError):
    """A shard of this run (named as one) whose bytes are damaged: never used. Running the
    command that wrote the run again moves it aside (to ``RUN_DIR/corrupt/``: see
    :func:`~vanishlab.sweep.store.sound_metas`); a sweep or an analysis then measures its cell
    again."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        aside = path.parent.parent / CORRUPT
        # Where a file holds corrupt/'s name, the command refuses the run until it is moved:
        # the advice to run it again alone led to that refusal.
        first = (
            f"{aside} is not a folder, where a run moves damaged shards: move it aside, then "
            if aside_taken(aside)
            else ""
        )
        super().__init__(
            f"{path} is corrupt ({why}); {first}run the command that wrote this run again (the "
            "same vanishlab sweep or analyze, or its JacobianMonitor reopened): it moves the "
            f"file aside to {aside}, and a sweep or analysis measures that cell again"
        )


def foreign(path: Path, why: str) -> VanishlabError:
    """The error for ``path`` in a run's ``cells/``, unusable for ``why``: a
    :class:`CorruptShardError` when it is named as a shard, else a plain one (move it out)."""
    # One line, as every message: pyarrow's own text holds new lines ("Couldn't deserialize
    # thrift: ...\nDeserializing page header failed.\n") and can quote a raw byte.
    why = line_text(" ".join(why.split()))
    if _SHARD_NAME.match(path.name):
        return CorruptShardError(path, why)
    return not_a_shard(path, why)


def not_a_shard(path: Path, why: str) -> VanishlabError:
    """The error for ``path`` in a run's ``cells/`` that is no file of vanishlab's, whatever its
    name (a folder): said, and left where it is, never moved aside as a damaged shard."""
    return VanishlabError(
        f"{path} is not a valid vanishlab shard ({why}); move it out of the run directory"
    )


# What an open or a read of a sound file meets when the process is short of a resource.
_REFUSALS = frozenset(
    getattr(errno, name)
    for name in ("EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "ENOBUFS")
    if hasattr(errno, name)
)


#: What a refusal of an I/O error advises where it persists, for a shard: its cell is measured
#: again without it.
SHARD_PERSISTS = "move the file out of the run: its cell is measured again"


def refused_read(
    path: Path, err: BaseException, *, persists: str = SHARD_PERSISTS
) -> BaseException | None:
    """The error to raise for ``err``, met reading ``path``, where it is the environment
    refusing the read, not damage in the file; None where it may be damage. ``persists``: what
    to do where an I/O error persists (a shard's default; the manifest's "restore ...").

    Under a memory cap (``ulimit -v``, a batch job's) or with few files allowed (``ulimit
    -n``), pyarrow's ``ArrowMemoryError``, its "Failed to launch worker thread", and an
    ``OSError`` of too many open files were taken for a damaged shard: a report called a
    sound shard corrupt, and a sweep or an analysis moved it aside and measured it again. The
    file is left as it is: an ``OSError`` stays itself (its path named), the rest is said in
    one line. An I/O error (EIO) is the device's, not the file's: left as it is too."""
    text = " ".join(str(err).split())
    if isinstance(err, MemoryError) or "failed to launch worker thread" in text.lower():
        what = f"{type(err).__name__}{f': {text}' if text else ''}"
        return VanishlabError(
            f"cannot read {path} now ({what}): the process was refused memory or threads, "
            "not a damaged file, left as it is; raise its limit (ulimit -v, the batch job's "
            "memory) or free some, and run the command again"
        )
    if isinstance(err, OSError) and err.errno == errno.EIO:
        # A failing disk or a network file system that lost its server: the device's fault,
        # which says nothing of the file's bytes (it was called corrupt and moved aside).
        return VanishlabError(
            f"cannot read {path} now ({err.strerror or 'Input/output error'}): the device "
            "failed the read, which says nothing of the file's content, left as it is; "
            "check the disk or the mount (dmesg), and run the command again (where it "
            f"persists, {persists})"
        )
    if isinstance(err, OSError) and err.errno in _REFUSALS:
        if err.filename is None:
            err.filename = str(path)
        return err
    return None
