"""A shard's file, read whole by Python into memory that pyarrow owns (:func:`arrow_owned`),
and opened as a parquet file with its page checksums verified (:func:`open_shard`): the
store's readers (:mod:`vanishlab.sweep.store`) and the summary's cache read files so."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import VanishlabError
from .corrupt_shard import foreign, not_a_shard, refused_read
from .links import link_problem, link_remedy

__all__ = ["NOT_PARQUET", "SHARD_SUFFIX", "arrow_owned", "framed_as_parquet", "open_shard"]

SHARD_SUFFIX = ".parquet"

_MAGIC = b"PAR1"  # a parquet file's first and last 4 bytes
NOT_PARQUET = "corrupt parquet: not parquet's magic bytes at its start and end"


def framed_as_parquet(handle: BinaryIO) -> bool:
    """Whether the open file ``handle`` begins and ends with parquet's magic bytes, read
    alone (8 bytes), its position left at the start. A file of another kind named as a shard
    or the summary's cache was read whole before pyarrow refused it: a 2 GiB sparse one took
    4.3 GB of memory and 22 s before its one line."""
    size = os.fstat(handle.fileno()).st_size
    if size < 3 * len(_MAGIC):  # the magic bytes, the footer's length, the magic bytes
        return False
    head = handle.read(len(_MAGIC))
    handle.seek(size - len(_MAGIC))
    tail = handle.read(len(_MAGIC))
    handle.seek(0)
    return head == tail == _MAGIC


def arrow_owned(data: bytes) -> pa.BufferReader:
    """``data`` copied into memory pyarrow owns, to read a parquet file from.

    A file is read by Python (pyarrow cannot open a path that is not valid UTF-8, a folder
    named with a byte of another encoding: good shards were called corrupt and moved aside, run
    after run), but pyarrow is given none of Python's objects: from a Python file object (or
    Python bytes) its reader threads kept Python buffers and released them after the read
    returned, taking the GIL; one that did so while the interpreter shut down aborted the
    process after the command's last line ("terminate called without an active exception",
    status 134; apache/arrow#33975)."""
    sink = pa.BufferOutputStream()
    sink.write(data)
    return pa.BufferReader(sink.getvalue())


def _removed(path: Path) -> VanishlabError:
    """A shard listed, then gone before it was opened: no damage to move aside (it was called
    corrupt, "unexpected file" or "unreadable", and the advice was to run what moves it
    aside)."""
    return VanishlabError(
        f"{path} was removed while the run was read (moved aside by a sweep or an analysis "
        "writing this run, or by hand): run the command again"
    )


@contextlib.contextmanager
def open_shard(path: Path) -> Iterator[pq.ParquetFile]:
    """The shard, read by Python into memory pyarrow owns (:func:`arrow_owned`), and closed
    on leaving."""
    if path.is_dir():  # was "unexpected file": the user looked for a file and found none
        # Not the tool's, even named as a shard: a writer moved it (and what it held) to
        # corrupt/ as a damaged shard and measured its cell again
        raise not_a_shard(path, "unexpected directory")
    if (link := link_problem(path)) is not None:
        # A shard kept elsewhere, its link's target gone (a disk not mounted, a folder moved):
        # no damage of the shard's. It was called corrupt (unexpected file), and a sweep moved
        # the link aside and measured its cell again.
        raise VanishlabError(
            f"cannot read {path}: it {link}, not a damaged shard, left as it is; "
            f"{link_remedy(path, 'the shard')} and run the command again, or remove the link to "
            "measure its cell again"
        )
    if path.suffix != SHARD_SUFFIX or not path.is_file():
        if not os.path.lexists(path):
            raise _removed(path)
        raise foreign(path, "unexpected file")
    try:
        with open(path, "rb") as handle:
            data = handle.read() if framed_as_parquet(handle) else None
    except FileNotFoundError:  # gone after the look above (the same race, later)
        raise _removed(path) from None
    except PermissionError:  # not damaged: never moved aside nor re-measured
        raise VanishlabError(f"permission denied: {path} (left as it is)") from None
    except OSError as err:
        if refused := refused_read(path, err):  # too many open files: not damaged
            raise refused from None
        raise foreign(path, f"unreadable: {err}") from None
    if data is None:
        raise foreign(path, NOT_PARQUET)
    try:
        pf = pq.ParquetFile(arrow_owned(data), page_checksum_verification=True)
    except (pa.ArrowException, OSError, ValueError) as err:
        if refused := refused_read(path, err):  # out of memory or threads: not damaged
            raise refused from None
        raise foreign(path, f"corrupt parquet: {err}") from None
    with pf:
        yield pf
