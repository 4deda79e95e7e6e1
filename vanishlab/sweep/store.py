"""The run directory: parquet shards, the manifest, the lock, and the readers.

Layout of ``RUN_DIR``::

    manifest.json          the resolved grid, name, command, package versions, times
    cells/<cell_id>.parquet one shard per finished cell (rows: :data:`SCHEMA`)
    .lock                  held (flock) by the one process writing the directory

Why it can be trusted after a crash: every file is written to a temporary name in the same
directory, flushed and fsync'ed, then renamed over its final name with ``os.replace`` (atomic on
POSIX and Windows) and the directory is fsync'ed. A reader therefore sees a shard completely or
not at all, whatever instant the writer was killed at (SIGKILL included); temporary files
(``*.tmp``) and hidden files are ignored by readers. A shard exists only for a finished cell,
so resuming is "run the cells that have no shard".

A shard holds one row per (source, layer, lag) of its cell, the config as columns, and the
norms aggregated over the cell's samples (see :func:`vanishlab.sweep.runner.run_cell`). A shard
of a monitored training run (:class:`vanishlab.trained.JacobianMonitor`) has one more column,
``step`` (the training step it was measured at, after ``cell_id``: :data:`STEP_SCHEMA`); every
shard of one run has the same columns. Its parquet key-value metadata ``vanishlab.cell`` is
JSON ``{cell_id, config, status, reason, elapsed_s, n_rows}``; a failed cell is a shard with
zero rows, ``status = "failed"`` and a ``reason``. This module owns that schema and checks every
frame before it is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import VanishlabError
from .config import AXES, AXIS_TYPES

__all__ = [
    "CELL_META_KEY",
    "COLUMNS",
    "CONFIG_COLUMNS",
    "FORMAT",
    "KEY_COLUMNS",
    "SCHEMA",
    "STEP_COLUMNS",
    "STEP_SCHEMA",
    "CellMeta",
    "RunLock",
    "atomic_write",
    "check_frame",
    "load_cells",
    "load_manifest",
    "load_results",
    "read_cell_metas",
    "write_manifest",
    "write_shard",
]

FORMAT = "vanishlab-run/1"
CELL_META_KEY = b"vanishlab.cell"
MANIFEST = "manifest.json"
CELLS = "cells"
LOCK = ".lock"
SHARD_SUFFIX = ".parquet"
TMP_SUFFIX = ".tmp"

CONFIG_COLUMNS: tuple[str, ...] = AXES
KEY_COLUMNS: tuple[str, ...] = ("source", "layer", "lag")
VALUE_COLUMNS: tuple[str, ...] = (
    "log10_fro_mean",
    "log10_fro_std",
    "log10_spec_mean",
    "log10_spec_std",
    "n_zero",
)
COLUMNS: tuple[str, ...] = (*CONFIG_COLUMNS, "cell_id", *KEY_COLUMNS, *VALUE_COLUMNS)

_ARROW_TYPE = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
SCHEMA = pa.schema(
    [pa.field(c, _ARROW_TYPE[AXIS_TYPES[c]], nullable=False) for c in CONFIG_COLUMNS]
    + [
        pa.field("cell_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("layer", pa.int64(), nullable=True),  # null for source "input"
        pa.field("lag", pa.int64(), nullable=False),
        pa.field("log10_fro_mean", pa.float64(), nullable=False),
        pa.field("log10_fro_std", pa.float64(), nullable=False),
        pa.field("log10_spec_mean", pa.float64(), nullable=False),
        pa.field("log10_spec_std", pa.float64(), nullable=False),
        pa.field("n_zero", pa.int64(), nullable=False),
    ]
)
"""Arrow schema of a shard (and of :func:`load_results`, where ``layer`` is pandas ``Int64``)."""

STEP_COLUMNS: tuple[str, ...] = (*CONFIG_COLUMNS, "cell_id", "step", *KEY_COLUMNS, *VALUE_COLUMNS)
STEP_SCHEMA = SCHEMA.insert(
    SCHEMA.get_field_index("cell_id") + 1, pa.field("step", pa.int64(), nullable=False)
)
"""Schema of a monitored run's shard: :data:`SCHEMA` plus the training ``step`` (int64)."""


class CellMeta(TypedDict):
    """The ``vanishlab.cell`` metadata of a shard."""

    cell_id: str
    config: dict[str, Any]
    status: str  # "ok" or "failed"
    reason: str | None
    elapsed_s: float
    n_rows: int


_META_KEYS = frozenset(CellMeta.__annotations__)


# --- writing -------------------------------------------------------------------------------


def check_frame(frame: pd.DataFrame, meta: CellMeta) -> None:
    """Raise ValueError unless ``frame`` is a well-formed shard for the cell of ``meta``."""
    if tuple(frame.columns) not in (COLUMNS, STEP_COLUMNS):
        raise ValueError(f"shard columns must be {COLUMNS}, got {tuple(frame.columns)}")
    if set(meta) != _META_KEYS or meta["status"] not in ("ok", "failed"):
        raise ValueError(f"malformed cell metadata {meta!r}")
    if len(frame) != meta["n_rows"] or (meta["status"] == "failed" and len(frame)):
        raise ValueError("shard row count does not match its metadata")
    if len(frame) == 0:
        return
    if set(frame["cell_id"]) != {meta["cell_id"]}:
        raise ValueError("a shard holds exactly one cell")
    if "step" in frame and (frame["step"].isna().any() or frame["step"].nunique() != 1):
        raise ValueError("a monitored shard holds exactly one step")
    if not frame["source"].isin(("state", "input")).all():
        raise ValueError("source must be 'state' or 'input'")
    if not (frame["layer"].isna() == (frame["source"] == "input")).all():
        raise ValueError("layer must be null exactly for source 'input'")
    for col in VALUE_COLUMNS:
        if frame[col].isna().any():
            raise ValueError(f"NaN in {col}: vanishlab never writes NaN")
    for axis in CONFIG_COLUMNS:
        if not (frame[axis] == meta["config"][axis]).all():
            raise ValueError(f"config column {axis} does not match the cell's config")


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be fsync'ed there
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` by ``write(file)`` into a temp file beside it, fsync, rename, fsync dir."""
    tmp = path.with_name(f".{path.name}{TMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_shard(run_dir: str | os.PathLike[str], frame: pd.DataFrame, meta: CellMeta) -> Path:
    """Check ``frame`` and write it atomically as ``RUN_DIR/cells/<cell_id>.parquet``."""
    check_frame(frame, meta)
    cells = Path(run_dir) / CELLS
    if not cells.is_dir():
        cells.mkdir(parents=True, exist_ok=True)
        _fsync_dir(cells.parent)  # the new directory's entry is durable before its shards
    schema = STEP_SCHEMA if "step" in frame else SCHEMA
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    table = table.replace_schema_metadata({CELL_META_KEY: json.dumps(meta, sort_keys=True)})
    path = cells / f"{meta['cell_id']}{SHARD_SUFFIX}"
    atomic_write(path, lambda f: pq.write_table(table, f))
    return path


def write_manifest(run_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``RUN_DIR/manifest.json`` atomically."""
    if manifest.get("format") != FORMAT:
        raise ValueError(f"a manifest must have format {FORMAT!r}")
    text = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
    path = Path(run_dir) / MANIFEST
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return path


# --- reading -------------------------------------------------------------------------------


def load_manifest(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's manifest as a dict (see DESIGN.md for its keys).

    Raises VanishlabError if ``run_dir`` is not a run directory or its manifest is corrupt.
    """
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise VanishlabError(f"{run_dir} is not a vanishlab run directory (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise VanishlabError(f"{path} is corrupt or unreadable ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise VanishlabError(f"{path} is not a {FORMAT} manifest (format: {found!r})")
    return manifest


def shard_paths(run_dir: Path) -> Iterator[Path]:
    """Candidate shard files in ``RUN_DIR/cells`` (temp and hidden files skipped), sorted."""
    cells = run_dir / CELLS
    if not cells.is_dir():
        return
    for path in sorted(cells.iterdir()):
        if path.name.startswith(".") or path.name.endswith(TMP_SUFFIX):
            continue  # temp files of a writer, or hidden files: never data
        yield path


def _foreign(path: Path, why: str) -> VanishlabError:
    return VanishlabError(
        f"{path} is not a valid vanishlab shard ({why}); move it out of the run directory"
    )


def _read_meta(path: Path, pf: pq.ParquetFile) -> CellMeta:
    schema = pf.schema_arrow
    raw = (schema.metadata or {}).get(CELL_META_KEY)
    if raw is None:
        raise _foreign(path, "no vanishlab.cell metadata")
    bare = schema.remove_metadata()
    if not (bare.equals(SCHEMA) or bare.equals(STEP_SCHEMA)):
        raise _foreign(path, "its columns differ from a vanishlab shard's")
    try:
        meta = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _foreign(path, "unreadable vanishlab.cell metadata") from None
    if not isinstance(meta, dict) or set(meta) != _META_KEYS:
        raise _foreign(path, "malformed vanishlab.cell metadata")
    if meta["status"] not in ("ok", "failed") or not isinstance(meta["config"], dict):
        raise _foreign(path, "malformed vanishlab.cell metadata")
    if path.name != f"{meta['cell_id']}{SHARD_SUFFIX}":
        raise _foreign(path, f"it holds cell {meta['cell_id']!r}, not the one its name says")
    if set(meta["config"]) != set(CONFIG_COLUMNS):
        raise _foreign(path, "its config has other axes than this vanishlab's")
    if meta["n_rows"] != pf.metadata.num_rows:
        raise _foreign(path, "its row count does not match its metadata")
    return meta  # type: ignore[return-value]


def _open(path: Path) -> pq.ParquetFile:
    if path.suffix != SHARD_SUFFIX or not path.is_file():
        raise _foreign(path, "unexpected file")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as err:
        raise _foreign(path, f"corrupt parquet: {err}") from None


def read_cell_metas(run_dir: str | os.PathLike[str]) -> dict[str, CellMeta]:
    """``{cell_id: metadata}`` of every shard in ``RUN_DIR/cells`` (footers only: fast).

    Raises VanishlabError naming the first corrupt or foreign file.
    """
    metas: dict[str, CellMeta] = {}
    for path in shard_paths(Path(run_dir)):
        with _open(path) as pf:
            meta = _read_meta(path, pf)
        metas[meta["cell_id"]] = meta
    return metas


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["layer"] = frame["layer"].astype("Int64")
    return frame


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def load_results(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Every row of every finished (``"ok"``) cell of a run, as one tidy DataFrame.

    Columns: :data:`COLUMNS` (config columns, ``cell_id``, ``source``, ``layer`` (``Int64``,
    null for ``"input"``), ``lag``, ``log10_{fro,spec}_{mean,std}``, ``n_zero``), sorted
    (stably) by the config columns, then ``source``, ``layer``, ``lag``; a monitored run's
    (:data:`STEP_COLUMNS`) has ``step`` after ``cell_id`` and is sorted by it before
    ``source``. Failed cells have no rows here; see :func:`load_cells`. Raises VanishlabError
    for a directory that is not a run, or that holds a corrupt or foreign file in ``cells/``.
    """
    run_dir = Path(run_dir)
    load_manifest(run_dir)
    tables = []
    for path in shard_paths(run_dir):
        with _open(path) as pf:
            meta = _read_meta(path, pf)
            if meta["n_rows"]:
                try:
                    table = pf.read()
                except (pa.ArrowException, OSError, ValueError) as err:
                    raise _foreign(path, f"corrupt parquet: {err}") from None
                tables.append(table.replace_schema_metadata(None))
    if not tables:
        return _to_frame(SCHEMA.empty_table())
    if len({tuple(table.column_names) for table in tables}) > 1:
        raise VanishlabError(
            f"{run_dir} mixes shards of monitored steps (a 'step' column) with others"
        )
    frame = _to_frame(pa.concat_tables(tables))
    steps = ["step"] if "step" in frame else []
    return _sorted(frame, [*CONFIG_COLUMNS, *steps, *KEY_COLUMNS])


def _shard_steps(run_dir: Path) -> dict[str, int | None]:
    """``{cell_id: step}`` of a monitored run's shards (None for a failed step, which has no
    rows); empty for a run without a ``step`` column."""
    steps: dict[str, int | None] = {}
    for path in shard_paths(run_dir):
        with _open(path) as pf:
            if "step" not in pf.schema_arrow.names:
                return {}
            meta = _read_meta(path, pf)
            column = pf.read(columns=["step"]).column(0) if meta["n_rows"] else None
            steps[meta["cell_id"]] = None if column is None else column[0].as_py()
    return steps


def load_cells(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per cell that has a shard: config columns, ``cell_id``, ``status`` ("ok" or
    "failed"), ``reason`` (None when ok), ``elapsed_s``; sorted by the config columns. A
    monitored run's has ``step`` after ``cell_id`` (null for a failed step) and is sorted by it
    too."""
    run_dir = Path(run_dir)
    load_manifest(run_dir)
    steps = _shard_steps(run_dir)
    rows = [
        {
            **{axis: meta["config"][axis] for axis in CONFIG_COLUMNS},
            "cell_id": meta["cell_id"],
            **({"step": steps.get(meta["cell_id"])} if steps else {}),
            "status": meta["status"],
            "reason": meta["reason"],
            "elapsed_s": float(meta["elapsed_s"]),
        }
        for meta in read_cell_metas(run_dir).values()
    ]
    schema = pa.schema(
        [SCHEMA.field(c) for c in (*CONFIG_COLUMNS, "cell_id")]
        + ([pa.field("step", pa.int64())] if steps else [])
        + [
            pa.field("status", pa.string()),
            pa.field("reason", pa.string()),
            pa.field("elapsed_s", pa.float64()),
        ]
    )
    frame = pa.Table.from_pylist(rows, schema=schema).to_pandas()
    if steps:
        frame["step"] = frame["step"].astype("Int64")
    return _sorted(frame, [*CONFIG_COLUMNS, *(["step"] if steps else [])])


# --- the lock ------------------------------------------------------------------------------


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
        f = open(self.path, "a+b")  # held open while the lock is
        try:
            _lock(f)
        except OSError:
            f.seek(0)
            holder = f.read().decode("ascii", "replace").strip() or "unknown"
            f.close()
            raise VanishlabError(
                f"run directory {self.path.parent} is in use by another vanishlab process "
                f"(pid {holder}); wait for it to finish or choose another --out"
            ) from None
        f.truncate(0)
        f.write(str(os.getpid()).encode("ascii"))
        f.flush()
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
