"""The run directory: parquet shards, the manifest, the lock, and the readers.

Layout of ``RUN_DIR``::

    manifest.json          the resolved grid, name, commands, package versions, times
    cells/<cell_id>.parquet one shard per finished cell (rows: :data:`SCHEMA`)
    summary.parquet        the cached summary (:mod:`vanishlab.sweep.summary`)
    corrupt/               damaged shards moved aside by a writer: a sweep, an analysis, a
                           monitor (never read)
    .lock                  held (flock) by the one process writing the directory

The manifest lives in :mod:`vanishlab.sweep.manifest`, the lock in :mod:`vanishlab.sweep.lock`
and the checksums in :mod:`vanishlab.sweep.checksums` (all re-exported here); one shard's
checks, atomic write and verified reading in :mod:`vanishlab.sweep.shard` (:func:`check_frame`
and :data:`CELL_META_KEY` re-exported here; :func:`~.shard.write_shard`, the one writer of a
shard, is imported from there); a shard's file is read as
:mod:`vanishlab.sweep.shard_file` reads it. Here: a run's shards read, the damaged ones listed
or moved aside, and its rows and cells as tables.

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

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..core.weights_attr import (
    DTYPE_ATTR,
    DTYPE_COLUMN,
    STEP_WEIGHTS_ATTR,
    WEIGHTS_ATTR,
    cells_text,
)
from ..errors import VanishlabError, python_words
from .checksums import StoredSummary, content_digest, stored_summary, summary_digest
from .config import DTYPES
from .corrupt_shard import CorruptShardError
from .files import TMP_SUFFIX, as_id_set, as_path, atomic_write, move_aside
from .lock import LOCK, RunLock
from .manifest import (
    FORMAT,
    MANIFEST,
    MONITOR,
    SINGLE_MODEL,
    load_manifest,
    read_json_number,
    write_manifest,
)
from .manifest_digest import changes_said_per_call
from .report_identity import report_marker, report_run, run_identity
from .schema import (
    COLUMNS,
    CONFIG_COLUMNS,
    KEY_COLUMNS,
    MONITOR_LOSS,
    MONITOR_STEP,
    SCHEMA,
    STEP_COLUMNS,
    STEP_SCHEMA,
    TRAIN_FIELDS,
    CellMeta,
    config_fields,
    shard_schema,
)
from .shard import CELL_META_KEY, check_frame, read_meta, read_shard, reads_held, shard_paths
from .shard_file import arrow_owned, open_shard
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
    "SPREAD_COLUMNS",
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
    "in_python_words",
    "load_cells",
    "load_manifest",
    "load_results",
    "move_aside",
    "read_cell_metas",
    "read_cells",
    "reads_held",
    "report_marker",
    "report_run",
    "run_identity",
    "scan_shards",
    "set_aside_damaged",
    "shard_schema",
    "sound_metas",
    "spreads_read",
    "stored_summary",
    "summary_digest",
    "write_manifest",
]


def read_cell_metas(run_dir: str | os.PathLike[str]) -> dict[str, CellMeta]:
    """``{cell_id: metadata}`` of every shard in ``RUN_DIR/cells`` (footers only: fast).

    Raises VanishlabError naming the first corrupt or foreign file (:class:`CorruptShardError`
    for a damaged shard of this run).
    """
    metas: dict[str, CellMeta] = {}
    for path in shard_paths(Path(run_dir)):
        meta, _ = read_shard(path, rows=False)
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
            meta, _ = read_shard(path, rows=True)
        except CorruptShardError as err:
            corrupt.append(err)
            continue
        metas[meta["cell_id"]] = meta
    return metas, corrupt


def sound_metas(run_dir: str | os.PathLike[str]) -> dict[str, CellMeta]:
    """``{cell_id: metadata}`` of a run's sound shards, after moving its damaged ones aside to
    ``RUN_DIR/corrupt/`` (a writer's way back to a usable run; call it holding the run's lock).
    A file that is not a shard of this run still raises VanishlabError."""
    return set_aside_damaged(run_dir)[0]


def set_aside_damaged(
    run_dir: str | os.PathLike[str],
) -> tuple[dict[str, CellMeta], tuple[Path, ...]]:
    """:func:`sound_metas`, and where each damaged shard now lies in ``corrupt/``."""
    metas, corrupt = scan_shards(run_dir)
    return metas, tuple(move_aside(Path(run_dir), bad.path) for bad in corrupt)


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["layer"] = frame["layer"].astype("Int64")
    return spreads_read(frame)


SPREAD_COLUMNS = ("log10_fro_std", "log10_spec_std")
"""The rows' standard deviations across a cell's samples, over the samples whose norm is
finite (:func:`vanishlab.sweep.cell.aggregate_samples`)."""


def spreads_read(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a shard's rows) with its :data:`SPREAD_COLUMNS` NaN, not applicable, where
    every sample's Jacobian is exactly zero (``n_zero`` = ``batch``): a standard deviation over
    no finite sample. The shard stores 0 there, as every release has (its checks refuse NaN in
    a value column, an older release's too), and the readers show it as what it is, as they
    show an unset axis null (:mod:`.unset_axes`); the row's ``n_zero`` says why."""
    if "batch" not in frame or "n_zero" not in frame or not len(frame):
        return frame
    none = (frame["n_zero"] >= frame["batch"]).to_numpy(dtype=bool)
    if none.any():
        frame.loc[none, list(SPREAD_COLUMNS)] = float("nan")
    return frame


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


@changes_said_per_call  # a changed manifest: one warning a call (its readers read it again)
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
    tables, metas = [], []
    for path in shard_paths(run_dir):
        if cell_ids is not None and path.stem not in cell_ids:
            continue
        meta, table = read_shard(path, rows=True)
        if table is not None:
            tables.append(table)
            metas.append(meta)
    if not tables:  # a monitor's columns even before a step is recorded
        empty = (STEP_SCHEMA if manifest.get("kind") == MONITOR else SCHEMA).empty_table()
        return without_unset(_to_frame(empty), manifest)
    if len({tuple(table.column_names) for table in tables}) > 1:
        raise VanishlabError(
            f"{run_dir} mixes shards of monitored steps (a 'step' column) with others"
        )
    frame = _to_frame(pa.concat_tables(tables))
    steps = [MONITOR_STEP] if MONITOR_STEP in frame else []
    frame = without_unset(_sorted(frame, [*CONFIG_COLUMNS, *steps, *KEY_COLUMNS]), manifest)
    frame.attrs.update(_measured_attrs(manifest, metas))
    return frame


#: The record of a trained model's shard that holds the fingerprint of the weights measured: an
#: analysis's, a monitored step's.
_RECORDS = {SINGLE_MODEL: "analysis", MONITOR: "monitor"}


def _measured_attrs(manifest: dict[str, Any], metas: list[CellMeta]) -> dict[str, Any]:
    """What the one shard of rows of an analysis, or of one monitored step (``cell_ids=`` that
    step's, or a monitor that recorded one), records of the module it measured, for the rows'
    ``attrs`` as :func:`vanishlab.jacobian_norms` sets them: the fingerprint of its weights
    (:func:`vanishlab.core.fingerprint.weights_fingerprint`; none in a shard written before
    shards recorded it) and the dtype it was measured in (its config's). Nothing for a sweep's
    rows (the weights of many cells). :func:`vanishlab.check_pascanu`
    then refuses the rows beside another module, or this one after training changed it, as it
    refuses a frame of ``jacobian_norms`` (it checked them against that module's bound without
    a word), and allows the rounding of float32 rows beside the module's ``.double()`` copy
    (whose fingerprint is the same). A monitor's rows of several steps get each step's
    fingerprint (:data:`STEP_WEIGHTS_ATTR`) and their one dtype: ``rows[rows.step == n]`` was
    checked beside any module without a word."""
    kind = _RECORDS.get(manifest.get("kind"))
    if kind == "monitor" and len(metas) > 1:
        return _steps_attrs(metas)
    if kind is None or len(metas) != 1:
        return {}
    attrs: dict[str, Any] = {}
    record = metas[0].get(kind)
    found = record.get("weights_fingerprint") if isinstance(record, dict) else None
    if isinstance(found, str):
        attrs[WEIGHTS_ATTR] = found
    dtype = metas[0]["config"].get(DTYPE_COLUMN)
    if dtype in DTYPES:
        attrs[DTYPE_ATTR] = dtype
    return attrs


def _steps_attrs(metas: list[CellMeta]) -> dict[str, Any]:
    """:data:`STEP_WEIGHTS_ATTR` of a monitor's steps (those whose shard records their weights'
    fingerprint: none for a step written before shards recorded it; and the step of each cell,
    for rows whose step column is gone, in one string: :func:`.weights_attr.cells_text`), and
    :data:`DTYPE_ATTR`
    where they were all measured in one dtype (a monitor refuses a module whose dtype changed)."""
    found: dict[str, str] = {}
    cells: dict[str, int] = {}
    for meta in metas:
        record = meta.get("monitor")
        step = record.get(MONITOR_STEP) if isinstance(record, dict) else None
        fingerprint = record.get("weights_fingerprint") if isinstance(record, dict) else None
        if isinstance(step, int):
            cells[meta["cell_id"]] = step
            if isinstance(fingerprint, str):
                found[str(step)] = fingerprint
    attrs: dict[str, Any] = {}
    if found:
        by_step = dict(sorted(found.items(), key=lambda item: int(item[0])))
        attrs[STEP_WEIGHTS_ATTR] = {
            "column": MONITOR_STEP,
            "fingerprints": by_step,
            "cells": cells_text(cells),
        }
    dtypes = {meta["config"].get(DTYPE_COLUMN) for meta in metas}
    if len(dtypes) == 1 and (dtype := dtypes.pop()) in DTYPES:
        attrs[DTYPE_ATTR] = dtype
    return attrs


def _shard_steps(run_dir: Path) -> dict[str, int | None]:
    """``{cell_id: step}`` of a monitored run's shards; empty for a run without a ``step``
    column. A failed step has no rows: its step is read from its metadata's ``monitor`` record
    (None in a shard written before it had one)."""
    steps: dict[str, int | None] = {}
    for path in shard_paths(run_dir):
        with open_shard(path) as pf:
            if MONITOR_STEP not in pf.schema_arrow.names:
                return {}
            meta = read_meta(path, pf)
            if meta["n_rows"]:
                steps[meta["cell_id"]] = pf.read(columns=[MONITOR_STEP]).column(0)[0].as_py()
            else:
                step = (meta.get("monitor") or {}).get(MONITOR_STEP)
                steps[meta["cell_id"]] = step if isinstance(step, int) else None
    return steps


@changes_said_per_call
def load_cells(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per cell that has a shard: config columns, ``cell_id``, ``status`` ("ok" or
    "failed"), ``reason`` (null when ok; an option named as Python names it, "a smaller
    batch=", where the shard keeps both names, "--batch (batch=)"), ``failure`` (the kind, see
    :data:`.schema.FAILURES`; null when ok or not recorded), ``elapsed_s``; sorted by the config
    columns. A monitored run's has ``step`` after ``cell_id`` (a failed step's from its shard's
    record; null only in a shard written before shards carried one) and is sorted by it too, and
    ``loss`` last (the training loss given to the monitor's ``step``: NaN when none was, as in
    runs recorded before it was kept, or when it was NaN). A run with a trained cell
    (docs/trainability.md) has its outcome last: ``final_loss``, ``chance_loss``, ``solved``,
    ``steps_to_solve`` (null for its untrained cells); other runs have none of these columns.
    Null in an analysis's or a monitor's: :mod:`.unset_axes`' columns."""
    frame = read_cells(run_dir)
    # as the shard keeps it, "--batch (batch=)", a reason named both: Python's words here
    return in_python_words(frame, "reason")


def in_python_words(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with each text of ``column`` naming an option as Python does ("batch="), where
    a shard keeps both names ("--batch (batch=)"); its nulls and its dtype as they were (a
    column of nulls only mapped whole became float64). A new frame: ``frame`` is left as is."""
    frame = frame.copy()
    held = frame[column].notna().to_numpy()
    if held.any():
        frame.loc[held, column] = frame.loc[held, column].map(python_words)
    return frame


def read_cells(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """:func:`load_cells` with each failed cell's ``reason`` as its shard keeps it, both names
    of an option ("--batch (batch=)"): the report's, which says it as the command line does."""
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
