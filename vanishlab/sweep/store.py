"""The run directory: parquet shards, the manifest, the lock, and the readers.

Layout of ``RUN_DIR``::

    manifest.json          the resolved grid, name, commands, package versions, times
    cells/<cell_id>.parquet one shard per finished cell (rows: :data:`SCHEMA`)
    corrupt/               damaged shards moved aside by the sweep command (never read)
    .lock                  held (flock) by the one process writing the directory

The manifest lives in :mod:`vanishlab.sweep.manifest`, the lock in :mod:`vanishlab.sweep.lock`
and the checksums in :mod:`vanishlab.sweep.checksums` (all re-exported here); a shard's file is
read as :mod:`vanishlab.sweep.shard_file` reads it.

Why it can be trusted after a crash: every file is written to a temporary name in the same
directory, flushed and fsync'ed, then renamed over its final name with ``os.replace`` (atomic on
POSIX and Windows) and the directory is fsync'ed (:mod:`vanishlab.sweep.files`). A reader
therefore sees a shard completely or not at all, whatever instant the writer was killed at
(SIGKILL included); temporary files (``*.tmp``) and hidden files are ignored by readers. A
shard exists only for a finished cell, so resuming is "run the cells that have no shard". The
temporary files a killed writer left are removed by the next writer holding the lock (a sweep,
an analysis, a monitor), before it writes: vanishlab's own names only, and never one a live
process still holds (a report writing ``summary.parquet``; :func:`~.rundir.remove_stale_temps`).

A shard holds one row per (source, layer, lag) of its cell, the config as columns, and the
norms aggregated over the cell's samples (see :func:`vanishlab.sweep.measure.run_cell`). Its parquet
key-value metadata ``vanishlab.cell`` is JSON ``{cell_id, config, status, reason, failure,
elapsed_s, n_rows, digest, summary, meta_digest}`` (``summary``: the cell's summary row,
computed where it was measured, with its own SHA-256); a failed cell is a shard with zero rows,
``status = "failed"``, a ``reason`` and a ``failure`` kind. A shard of a monitored training run
(:class:`vanishlab.trained.JacobianMonitor`) has one more column, ``step`` (the training step it
was measured at, after ``cell_id``: :data:`STEP_SCHEMA`); every shard of one run has the same
columns (:mod:`.schema`); every frame is checked against them before it is written.

Why damaged bytes are never used: every page of a shard carries a CRC32 (parquet's page
checksum, verified on read), and ``digest`` is a SHA-256 of the decoded rows
(:func:`content_digest`), checked after every read, and ``meta_digest`` a SHA-256 of the
metadata's other keys (:func:`~vanishlab.sweep.checksums.meta_digest`; absent from older
shards, which stay readable), checked on every read too. A shard that fails any is never used:
readers raise :class:`CorruptShardError` naming it, and the sweep command moves it aside to
``RUN_DIR/corrupt/`` (never deleting it) and measures its cell again, so the run heals.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import VanishlabError
from .checksums import (
    META_DIGEST,
    StoredSummary,
    content_digest,
    meta_digest,
    stored_summary,
    summary_digest,
    summary_ok,
)
from .config import AXIS_TABLE, LATER_AXES
from .corrupt_shard import CorruptShardError, foreign
from .files import TMP_SUFFIX, as_id_set, as_path, atomic_write, fsync_dir, move_aside
from .lock import LOCK, RunLock
from .manifest import (
    FORMAT,
    MANIFEST,
    MONITOR,
    load_manifest,
    read_json_number,
    read_seconds,
    report_marker,
    report_run,
    run_identity,
    write_manifest,
)
from .schema import (
    COLUMNS,
    CONFIG_COLUMNS,
    FAILURES,
    KEY_COLUMNS,
    MONITOR_LOSS,
    MONITOR_STEP,
    SCHEMA,
    STEP_COLUMNS,
    STEP_SCHEMA,
    TRAIN_FIELDS,
    VALUE_COLUMNS,
    CellMeta,
    config_fields,
    later_meta_keys,
    meta_keys_ok,
    meta_keys_readable,
    shard_schema,
)
from .shard_file import SHARD_SUFFIX, arrow_owned, open_shard
from .unset_axes import without_unset

__all__ = [
    "CELL_META_KEY",
    "COLUMNS",
    "CONFIG_COLUMNS",
    "FORMAT",
    "KEY_COLUMNS",
    "LOCK",
    "MANIFEST",
    "SCHEMA",
    "STEP_COLUMNS",
    "STEP_SCHEMA",
    "TMP_SUFFIX",
    "CellMeta",
    "CorruptShardError",
    "RunLock",
    "StoredSummary",
    "arrow_owned",
    "atomic_write",
    "check_frame",
    "config_fields",
    "content_digest",
    "load_cells",
    "load_manifest",
    "load_results",
    "move_aside",
    "read_cell_metas",
    "report_marker",
    "report_run",
    "run_identity",
    "scan_shards",
    "shard_schema",
    "sound_metas",
    "stored_summary",
    "summary_digest",
    "write_manifest",
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
    return VanishlabError(
        f"{cells} is not a folder: a run keeps its shards in {CELLS}/; move it aside"
    )


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


def _read_meta(path: Path, pf: pq.ParquetFile) -> CellMeta:
    schema = pf.schema_arrow
    raw = (schema.metadata or {}).get(CELL_META_KEY)
    if raw is None:
        raise foreign(path, "no vanishlab.cell metadata")
    if not any(_same_columns(_with_later(schema), full) for full in (SCHEMA, STEP_SCHEMA)):
        raise foreign(path, _other_columns(_with_later(schema)))
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
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
        table = pf.read().replace_schema_metadata(None)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise foreign(path, f"corrupt parquet: {err}") from None
    digest = meta.get("digest")
    if digest is not None and content_digest(table) != digest:
        raise foreign(path, "its rows do not match their checksum")
    full = STEP_SCHEMA if MONITOR_STEP in table.column_names else SCHEMA
    for name in full.names:  # columns of axes added after the shard was written
        if name not in table.column_names and name in LATER_AXES:
            value = pa.array([LATER_AXES[name]] * len(table), full.field(name).type)
            table = table.add_column(full.get_field_index(name), name, value)
    return table.cast(full)


def _shard(path: Path, *, rows: bool) -> tuple[CellMeta, pa.Table | None]:
    with open_shard(path) as pf:
        meta = _read_meta(path, pf)
        table = _read_rows(path, pf, meta) if rows and meta["n_rows"] else None
    return meta, table


def read_cell_metas(run_dir: str | os.PathLike[str]) -> dict[str, CellMeta]:
    """``{cell_id: metadata}`` of every shard in ``RUN_DIR/cells`` (footers only: fast).

    Raises VanishlabError naming the first corrupt or foreign file (:class:`CorruptShardError`
    for a damaged shard of this run).
    """
    metas: dict[str, CellMeta] = {}
    for path in shard_paths(Path(run_dir)):
        meta, _ = _shard(path, rows=False)
        metas[meta["cell_id"]] = meta
    return metas


def scan_shards(
    run_dir: str | os.PathLike[str],
) -> tuple[dict[str, CellMeta], list[CorruptShardError]]:
    """Read and verify every shard (rows included): ``({cell_id: metadata} of the sound ones,
    [the damaged ones])``. A file that is not a shard of this run still raises VanishlabError."""
    metas: dict[str, CellMeta] = {}
    corrupt: list[CorruptShardError] = []
    for path in shard_paths(Path(run_dir)):
        try:
            meta, _ = _shard(path, rows=True)
        except CorruptShardError as err:
            corrupt.append(err)
            continue
        metas[meta["cell_id"]] = meta
    return metas, corrupt


def sound_metas(run_dir: str | os.PathLike[str]) -> dict[str, CellMeta]:
    """``{cell_id: metadata}`` of a run's sound shards, after moving its damaged ones aside to
    ``RUN_DIR/corrupt/`` (a writer's way back to a usable run; call it holding the run's lock).
    A file that is not a shard of this run still raises VanishlabError."""
    metas, corrupt = scan_shards(run_dir)
    for bad in corrupt:
        move_aside(Path(run_dir), bad.path)
    return metas


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["layer"] = frame["layer"].astype("Int64")
    return frame


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def load_results(
    run_dir: str | os.PathLike[str], *, cell_ids: Collection[str] | None = None
) -> pd.DataFrame:
    """Every row of every finished (``"ok"``) cell of a run, as one tidy DataFrame.

    Columns: :data:`COLUMNS` (config columns, ``cell_id``, ``source``, ``layer`` (``Int64``,
    null for ``"input"``), ``lag``, ``log10_{fro,spec}_{mean,std}``, ``n_zero``), sorted
    (stably) by the config columns, then ``source``, ``layer``, ``lag``; a monitored run's
    (:data:`STEP_COLUMNS`) has ``step`` after ``cell_id`` and is sorted by it before
    ``source``. An analysis's or a monitor's has :mod:`.unset_axes`' columns null. Failed
    cells have no rows here; see :func:`load_cells`. Raises VanishlabError
    for a directory that is not a run, or that holds a corrupt or foreign file in ``cells/``.
    ``cell_ids``: read only the shards of these cells (``<cell_id>.parquet``); a Series too.
    """
    cell_ids = as_id_set(cell_ids, "cell_ids")
    run_dir = as_path(run_dir, "run_dir")
    manifest = load_manifest(run_dir)
    tables = []
    for path in shard_paths(run_dir):
        if cell_ids is not None and path.stem not in cell_ids:
            continue
        _, table = _shard(path, rows=True)
        if table is not None:
            tables.append(table)
    if not tables:  # a monitor's columns even before a step is recorded
        empty = (STEP_SCHEMA if manifest.get("kind") == MONITOR else SCHEMA).empty_table()
        return without_unset(_to_frame(empty), manifest)
    if len({tuple(table.column_names) for table in tables}) > 1:
        raise VanishlabError(
            f"{run_dir} mixes shards of monitored steps (a 'step' column) with others"
        )
    frame = _to_frame(pa.concat_tables(tables))
    steps = [MONITOR_STEP] if MONITOR_STEP in frame else []
    return without_unset(_sorted(frame, [*CONFIG_COLUMNS, *steps, *KEY_COLUMNS]), manifest)


def _shard_steps(run_dir: Path) -> dict[str, int | None]:
    """``{cell_id: step}`` of a monitored run's shards; empty for a run without a ``step``
    column. A failed step has no rows: its step is read from its metadata's ``monitor`` record
    (None in a shard written before it had one)."""
    steps: dict[str, int | None] = {}
    for path in shard_paths(run_dir):
        with open_shard(path) as pf:
            if MONITOR_STEP not in pf.schema_arrow.names:
                return {}
            meta = _read_meta(path, pf)
            if meta["n_rows"]:
                steps[meta["cell_id"]] = pf.read(columns=[MONITOR_STEP]).column(0)[0].as_py()
            else:
                step = (meta.get("monitor") or {}).get(MONITOR_STEP)
                steps[meta["cell_id"]] = step if isinstance(step, int) else None
    return steps


def load_cells(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per cell that has a shard: config columns, ``cell_id``, ``status`` ("ok" or
    "failed"), ``reason`` (null when ok), ``failure`` (the kind, see :data:`FAILURES`; null
    when ok or not recorded), ``elapsed_s``; sorted by the config columns. A monitored run's
    has ``step`` after ``cell_id`` (a failed step's from its shard's record; null only in a
    shard written before shards carried one) and is sorted by it too, and ``loss`` last (the
    training loss given to the monitor's ``step``: NaN when none was, as in runs recorded
    before it was kept, or when it was NaN). A run with a trained
    cell (docs/trainability.md) has its outcome last: ``final_loss``, ``chance_loss``,
    ``solved``, ``steps_to_solve`` (null for its untrained cells); other runs have none of
    these columns. Null in an analysis's or a monitor's: :mod:`.unset_axes`' columns."""
    run_dir = as_path(run_dir, "run_dir")
    manifest = load_manifest(run_dir)
    monitor = manifest.get("kind") == MONITOR  # a step column even when empty
    steps = _shard_steps(run_dir)
    has_steps = bool(steps) or monitor
    metas = read_cell_metas(run_dir)
    rows = [
        {
            **{axis: meta["config"][axis] for axis in CONFIG_COLUMNS},
            "cell_id": meta["cell_id"],
            **({MONITOR_STEP: steps.get(meta["cell_id"])} if has_steps else {}),
            "status": meta["status"],
            "reason": meta["reason"],
            "failure": meta.get("failure"),
            "elapsed_s": float(meta["elapsed_s"]),
        }
        for meta in metas.values()
    ]
    schema = pa.schema(
        [SCHEMA.field(c) for c in (*CONFIG_COLUMNS, "cell_id")]
        + ([pa.field(MONITOR_STEP, pa.int64())] if has_steps else [])
        + [
            pa.field("status", pa.string()),
            pa.field("reason", pa.string()),
            pa.field("failure", pa.string()),
            pa.field("elapsed_s", pa.float64()),
        ]
    )
    trained = any("train" in m for m in metas.values())
    if trained:  # a run with trained cells: their outcome (docs/trainability.md)
        schema = pa.schema([*schema, *(pa.field(c, pa.type_for_alias(t)) for c, t in TRAIN_FIELDS)])
        for row, meta in zip(rows, metas.values(), strict=True):
            record = meta.get("train") or {}
            row.update({c: record.get(c) for c, _ in TRAIN_FIELDS})
    if has_steps:  # a monitored step's training loss, from its shard's record
        schema = schema.append(pa.field(MONITOR_LOSS, pa.float64()))
        for row, meta in zip(rows, metas.values(), strict=True):
            row[MONITOR_LOSS] = read_json_number((meta.get("monitor") or {}).get(MONITOR_LOSS))
    frame = pa.Table.from_pylist(rows, schema=schema).to_pandas()
    if trained:
        frame["solved"] = frame["solved"].astype("boolean")
        frame["steps_to_solve"] = frame["steps_to_solve"].astype("Int64")
    if has_steps:
        frame[MONITOR_STEP] = frame[MONITOR_STEP].astype("Int64")
    frame = _sorted(frame, [*CONFIG_COLUMNS, *([MONITOR_STEP] if has_steps else [])])
    return without_unset(frame, manifest)  # what says nothing of a trained model: null
