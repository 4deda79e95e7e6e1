"""One shard: checked and written atomically, and read back verified.

A shard is ``RUN_DIR/cells/<cell_id>.parquet`` (:mod:`vanishlab.sweep.store` describes the
run directory, the shard's rows and metadata, and why a reader can trust them). Here: the
checks of a frame before it is written (:func:`check_frame`), the atomic write with the
content digest, the metadata's checksum and every page's CRC32 (:func:`write_shard`), the
candidate shard files of a run (:func:`shard_paths`), and the reading of one shard's
metadata and rows, each checked against its checksum and this version's columns (a
:class:`~vanishlab.sweep.corrupt_shard.CorruptShardError` naming it otherwise). The readers
of a whole run are :mod:`vanishlab.sweep.store`'s.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import VanishlabError
from .checksums import META_DIGEST, content_digest, meta_digest, summary_ok
from .config import AXIS_TABLE, LATER_AXES
from .corrupt_shard import foreign, refused_read
from .files import TMP_SUFFIX, atomic_write, fsync_dir, link_problem
from .json_text import parse_json
from .manifest import read_seconds
from .schema import (
    COLUMNS,
    CONFIG_COLUMNS,
    FAILURES,
    MONITOR_STEP,
    SCHEMA,
    STEP_COLUMNS,
    STEP_SCHEMA,
    VALUE_COLUMNS,
    CellMeta,
    later_meta_keys,
    meta_keys_ok,
    meta_keys_readable,
)
from .shard_file import SHARD_SUFFIX, open_shard
from .shard_rows import rows_problem

__all__ = [
    "CELLS",
    "CELL_META_KEY",
    "check_frame",
    "read_meta",
    "read_shard",
    "reads_held",
    "shard_paths",
    "write_shard",
]

CELL_META_KEY = b"vanishlab.cell"
CELLS = "cells"


# --- writing -------------------------------------------------------------------------------


def check_frame(frame: pd.DataFrame, meta: CellMeta) -> None:
    """Raise ValueError unless ``frame`` is a well-formed shard for the cell of ``meta``."""
    if tuple(frame.columns) not in (COLUMNS, STEP_COLUMNS):
        raise ValueError(f"shard columns must be {COLUMNS}, got {tuple(frame.columns)}")
    if not meta_keys_ok(meta) or meta["status"] not in ("ok", "failed"):
        raise ValueError(f"malformed cell metadata {meta!r}")
    if meta.get("failure") not in (None, *FAILURES) or (
        meta["status"] == "ok" and meta.get("failure") is not None
    ):
        raise ValueError(f"malformed failure kind in cell metadata {meta!r}")
    if len(frame) != meta["n_rows"] or (meta["status"] == "failed" and len(frame)):
        raise ValueError("shard row count does not match its metadata")
    if len(frame) == 0:
        return
    if set(frame["cell_id"]) != {meta["cell_id"]}:
        raise ValueError("a shard holds exactly one cell")
    if MONITOR_STEP in frame and (
        frame[MONITOR_STEP].isna().any() or frame[MONITOR_STEP].nunique() != 1
    ):
        raise ValueError("a monitored shard holds exactly one step")
    if not frame["source"].isin(("state", "input")).all():
        raise ValueError("source must be 'state' or 'input'")
    if not (frame["layer"].isna() == (frame["source"] == "input")).all():
        raise ValueError("layer must be null exactly for source 'input'")
    for col in VALUE_COLUMNS:
        if frame[col].isna().any():
            raise ValueError(f"NaN in {col}: vanishlab never writes NaN")
    for axis in CONFIG_COLUMNS:
        value = meta["config"][axis]
        column = frame[axis]
        if not (column.isna() if value is None else column == value).all():
            raise ValueError(f"config column {axis} does not match the cell's config")


def write_shard(run_dir: str | os.PathLike[str], frame: pd.DataFrame, meta: CellMeta) -> Path:
    """Check ``frame`` and write it atomically as ``RUN_DIR/cells/<cell_id>.parquet``."""
    check_frame(frame, meta)
    cells = Path(run_dir) / CELLS
    if not cells.is_dir():
        if cells.exists() or cells.is_symlink():  # replaced by a file while the run was written
            raise _not_a_folder(cells)
        cells.mkdir(parents=True, exist_ok=True)
        fsync_dir(cells.parent)  # the new directory's entry is durable before its shards
    schema = STEP_SCHEMA if MONITOR_STEP in frame else SCHEMA
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    if problem := rows_problem(table, meta["config"]):
        raise ValueError(f"shard rows hold {problem}")
    meta = {**meta, "digest": content_digest(table)}  # type: ignore[typeddict-item]
    meta[META_DIGEST] = meta_digest(meta)  # type: ignore[literal-required]
    table = table.replace_schema_metadata({CELL_META_KEY: json.dumps(meta, sort_keys=True)})
    path = cells / f"{meta['cell_id']}{SHARD_SUFFIX}"
    # CRC32 of every page too, so that a reader refuses damaged bytes before decoding them.
    atomic_write(path, lambda f: pq.write_table(table, f, write_page_checksum=True))
    return path


# --- reading -------------------------------------------------------------------------------


def shard_paths(run_dir: Path) -> Iterator[Path]:
    """Candidate shard files in ``RUN_DIR/cells`` (temp and hidden files skipped), sorted;
    VanishlabError if ``cells`` is there but not a folder (a damaged run, not an empty one)."""
    cells = run_dir / CELLS
    if not cells.is_dir():
        if cells.exists() or cells.is_symlink():
            raise _not_a_folder(cells)
        return
    for path in sorted(cells.iterdir()):
        if path.name.startswith(".") or path.name.endswith(TMP_SUFFIX):
            continue  # temp files of a writer, or hidden files: never data
        yield path


def _not_a_folder(cells: Path) -> VanishlabError:
    # a link to nothing (its folder on a disk not mounted now) was said to be "not a folder"
    what = link_problem(cells) or "is not a folder"
    return VanishlabError(f"{cells} {what}: a run keeps its shards in {CELLS}/; move it aside")


def _with_later(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the config columns of :data:`LATER_AXES` it lacks, where a shard
    written before those axes existed would have them."""
    for name in SCHEMA.names:
        if name in LATER_AXES and name not in schema.names:
            schema = schema.insert(SCHEMA.get_field_index(name), SCHEMA.field(name))
    return schema


def _same_columns(schema: pa.Schema, expected: pa.Schema) -> bool:
    """The same column names and types (nullability aside: a config column became nullable
    when its axis came to apply to some models only, and older shards stay readable)."""
    return schema.names == expected.names and all(
        schema.field(i).type == expected.field(i).type for i in range(len(expected))
    )


def _other_columns(schema: pa.Schema) -> str:
    """Why a shard's columns are not this version's: the columns it lacks and those it has
    beyond them (a shard of another vanishlab version, with a measured column more or less)."""
    full = STEP_SCHEMA if MONITOR_STEP in schema.names else SCHEMA
    lacks = [n for n in full.names if n not in schema.names]
    extra = [n for n in schema.names if n not in full.names]
    parts = [
        f"{what} {', '.join(names[:4])}" + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        for what, names in (("lacks", lacks), ("adds", extra))
        if names
    ]
    said = "; it ".join(parts) or "orders or types them otherwise"
    return (
        f"its columns are not this version's: it {said} (written by another version of "
        "vanishlab, or not a shard)"
    )


def read_meta(path: Path, pf: pq.ParquetFile) -> CellMeta:
    schema = pf.schema_arrow
    raw = (schema.metadata or {}).get(CELL_META_KEY)
    if raw is None:
        raise foreign(path, "no vanishlab.cell metadata")
    if not any(_same_columns(_with_later(schema), full) for full in (SCHEMA, STEP_SCHEMA)):
        raise foreign(path, _other_columns(_with_later(schema)))
    try:
        meta = parse_json(raw)
    except ValueError:  # malformed, not UTF-8, or nested deeper than a parser goes
        raise foreign(path, "unreadable vanishlab.cell metadata") from None
    if not isinstance(meta, dict) or not meta_keys_readable(meta):
        raise foreign(path, "malformed vanishlab.cell metadata")
    if meta.pop(META_DIGEST, None) not in (None, meta_digest(meta)):  # absent: an older shard
        raise foreign(path, "its metadata does not match its checksum")
    for key in later_meta_keys(meta):  # a later release's record, under the checksum: not read
        del meta[key]
    if meta["status"] not in ("ok", "failed") or not isinstance(meta["config"], dict):
        raise foreign(path, "malformed vanishlab.cell metadata")
    if read_seconds(meta["elapsed_s"]) is None:  # a string: load_cells' float() raised
        raise foreign(path, "malformed vanishlab.cell metadata")
    if path.name != f"{meta['cell_id']}{SHARD_SUFFIX}":
        raise foreign(path, f"it holds cell {meta['cell_id']!r}, not the one its name says")
    missing = set(CONFIG_COLUMNS) - set(meta["config"])
    if missing <= set(LATER_AXES):  # written before those axes existed: at their defaults
        meta["config"] = {**meta["config"], **{name: LATER_AXES[name] for name in missing}}
    if set(meta["config"]) != set(CONFIG_COLUMNS):
        raise foreign(path, "its config has other axes than this vanishlab's")
    for a in AXIS_TABLE:  # a hand edit: the parquet column types would refuse it later
        if problem := a.misfit([meta["config"][a.name]]):
            raise foreign(path, f"its config's {problem}")
    if meta["n_rows"] != pf.metadata.num_rows:
        raise foreign(path, "its row count does not match its metadata")
    if "summary" in meta and not summary_ok(meta["summary"]):
        raise foreign(path, "its summary row does not match its checksum")
    return meta  # type: ignore[return-value]


def _read_rows(path: Path, pf: pq.ParquetFile, meta: CellMeta) -> pa.Table:
    """The shard's rows, checked against the page checksums and the content digest."""
    try:
        # one thread: a shard is a few pages, and handing them to a pool cost more than reading
        # them (1,000 shards: 0.35 against 0.47 s of CPU)
        table = pf.read(use_threads=False).replace_schema_metadata(None)
    except (pa.ArrowException, OSError, ValueError) as err:
        if refused := refused_read(path, err):  # out of memory or threads: not damaged
            raise refused from None
        raise foreign(path, f"corrupt parquet: {err}") from None
    digest = meta.get("digest")
    if digest is not None and content_digest(table) != digest:
        raise foreign(path, "its rows do not match their checksum")
    if problem := rows_problem(table, meta["config"]):  # a checksum any writer can compute
        raise foreign(path, f"its rows hold {problem}")
    names = set(table.column_names)
    full = STEP_SCHEMA if MONITOR_STEP in names else SCHEMA
    for name in full.names:  # columns of axes added after the shard was written
        if name not in names and name in LATER_AXES:
            value = pa.array([LATER_AXES[name]] * len(table), full.field(name).type)
            table = table.add_column(full.get_field_index(name), name, value)
    return table if table.schema.equals(full) else table.cast(full)


#: The shards read since :func:`reads_held` was entered, by path: the identity of the file read
#: (:func:`_identity`), its metadata, whether its rows were read, and its rows (None where it
#: has none).
_HELD: ContextVar[dict[Path, tuple[tuple[int, ...], CellMeta, bool, pa.Table | None]] | None] = (
    ContextVar("vanishlab_shard_reads", default=None)
)


@contextlib.contextmanager
def reads_held() -> Iterator[None]:
    """Within it, :func:`read_shard` reads and verifies each shard once: a later read of the
    same file gives what the first one gave (its metadata copied), where the file is still the
    one read (:func:`_identity`: replaced, rewritten or touched, it is read again). A report
    read every shard of its run three to five times (its rows, its cells, the summary's
    fingerprint, and on a fresh summary its cells twice more), each time with its checksums.
    Nested, the outer one's reads are kept. Nothing outlives it: the next command, and the next
    call of a reader, read the files again."""
    if _HELD.get() is not None:
        yield
        return
    token = _HELD.set({})
    try:
        yield
    finally:
        _HELD.reset(token)


def _identity(path: Path) -> tuple[int, ...] | None:
    """What tells one file at ``path`` from another: its device, inode, size, and the times of
    its last change of data and of state (a rewrite in place, even one that puts the old
    modification time back, changes the latter); None where it cannot be had."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_shard(path: Path, *, rows: bool) -> tuple[CellMeta, pa.Table | None]:
    """A shard's metadata and, with ``rows``, its rows (None where it has none), each checked
    against its checksums; once per file inside :func:`reads_held`."""
    held = _HELD.get()
    identity = _identity(path) if held is not None else None
    if held is None or identity is None:
        return _read_shard(path, rows=rows)
    kept = held.get(path)
    if kept is not None and kept[0] == identity and (kept[2] or not rows):
        return dict(kept[1]), kept[3] if rows else None  # type: ignore[return-value]
    meta, table = _read_shard(path, rows=rows)
    held[path] = (identity, dict(meta), rows, table)  # type: ignore[arg-type]
    return meta, table


def _read_shard(path: Path, *, rows: bool) -> tuple[CellMeta, pa.Table | None]:
    with open_shard(path) as pf:
        meta = read_meta(path, pf)
        table = _read_rows(path, pf, meta) if rows and meta["n_rows"] else None
    return meta, table
