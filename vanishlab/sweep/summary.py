"""Theory beside measurement for a whole run: one row per sweep cell, cached in the run.

:func:`summarize` gives, for each cell of a run directory, the row of
:func:`vanishlab.sweep.cell_summary.summarize_cell`: the measured decay rate of its
Frobenius-norm curve, the top Lyapunov exponent along its trajectory, the predictions that
apply to it, the differences measured - predicted, and flags where theory is not expected to
hold. Every rate is in natural log per step, d ln||J|| / dk, so every column compares with
every other. The columns and their meaning are documented in
:mod:`vanishlab.sweep.cell_summary`; :func:`critical_gain` in :mod:`vanishlab.sweep.critical`.

Each row is computed where its cell is measured (:func:`vanishlab.sweep.measure.run_cell`) and
kept in the cell's shard; :func:`summarize` reads those rows, and computes here only the rows
of shards that lack one (written before rows were stored, or by other code: the row records a
digest of the code that computed it). Either way the row is the same.

:func:`summarize` writes ``RUN_DIR/summary.parquet`` atomically (the store's temp file + rename)
and reuses it while the run's cells and vanishlab's code are unchanged (a fingerprint of every
shard's metadata and of the modules that compute the summary). Like a shard, it carries a CRC32
of every page and a SHA-256 of its rows; a cache that fails either is computed afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .._version import __version__
from ..analysis.fits import fit_decay
from . import store
from .checksums import meta_digest
from .config import AXES, AXIS_TABLE
from .critical import critical_gain
from .files import as_flag, as_path, remove_temps_of
from .init_records import check_init_unchanged, init_definition, shard_inits
from .inits import INITS
from .json_text import parse_json
from .manifest import MONITOR, SINGLE_MODEL, as_shards_hold, read_json_number
from .manifest_digest import changes_said_per_call
from .schema import MONITOR_LOSS, MONITOR_STEP
from .shard_file import framed_as_parquet
from .summary_fields import (
    FLAGS,
    NARROW_LIVE_UNITS,
    NARROW_WIDTH,
    NEAR_CRITICAL,
    POOR_FIT_R2,
    SHORT_SEQ_LEN,
    SUMMARY_COLUMNS,
    SUMMARY_FIELDS,
    code_digest,
)
from .unset_axes import without_unset

__all__ = [
    "FLAGS",
    "NARROW_LIVE_UNITS",
    "NARROW_WIDTH",
    "NEAR_CRITICAL",
    "POOR_FIT_R2",
    "SHORT_SEQ_LEN",
    "SUMMARY",
    "SUMMARY_COLUMNS",
    "compute_summary",
    "critical_gain",
    "read_summary",
    "summarize",
    "summarize_frames",
]

SUMMARY = "summary.parquet"
SUMMARY_FORMAT = "vanishlab-summary/1"
SUMMARY_META_KEY = b"vanishlab.sweep.summary"

_SCHEMA = pa.schema(
    [pa.field(a.name, pa.type_for_alias(a.arrow_type)) for a in AXIS_TABLE]  # nullable: frames
    + [pa.field(name, pa.type_for_alias(kind)) for name, kind in SUMMARY_FIELDS]  # may lack one
)
"""The summary's Arrow schema, from the axis table and :data:`SUMMARY_FIELDS`."""


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return _to_frame(_SCHEMA.empty_table())


#: The summary's nullable integer and boolean columns (pandas' Int64 and boolean dtypes).
_NULLABLE = {"int64": "Int64", "bool": "boolean"}


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for name, arrow_type in SUMMARY_FIELDS:
        if arrow_type in _NULLABLE:
            frame[name] = frame[name].astype(_NULLABLE[arrow_type])
    return frame


def _rows(results: pd.DataFrame, cells: pd.DataFrame) -> tuple[list[dict[str, Any]], bool]:
    """The summary rows of the cells of ``cells`` and ``results`` (see :func:`summarize_frames`),
    and whether any failed to compute: that cell's row says so in its note
    (:func:`~.cell_summary.unsummarized_row`), where the error ended the report in a
    traceback."""
    from . import cell_summary  # torch: only when rows must be computed

    records: dict[str, dict[str, Any]] = {}
    if len(cells):
        for rec in cells.to_dict("records"):
            records[str(rec["cell_id"])] = rec
    if len(results):
        firsts = results.drop_duplicates("cell_id")
        for rec in firsts.to_dict("records"):
            records.setdefault(str(rec["cell_id"]), {**rec, "status": "ok"})
    if not records:
        return [], False

    state = results[(results["source"] == "state").to_numpy(dtype=bool)] if len(results) else None
    fitted: dict[str, dict[int, dict[str, Any]]] = {}
    by_cell: dict[str, pd.DataFrame] = {}
    if state is not None and len(state):
        # One vectorised fit over every cell (the same numbers as per cell, much faster).
        frame = state[["cell_id", "layer", "lag", "log10_fro_mean"]]
        for rec in fit_decay(frame, norm="fro").to_dict("records"):
            fitted.setdefault(str(rec["cell_id"]), {})[int(rec["layer"])] = rec
        cols = ["source", "layer", "lag", "log10_fro_mean"]
        cols += [c for c in ("log10_spec_mean",) if c in results]
        for cell_id, rows in results.groupby("cell_id", sort=False):
            by_cell[str(cell_id)] = rows[cols]

    rows, failed = [], False
    for cell_id, rec in records.items():
        try:
            row = cell_summary.summary_row(rec, by_cell.get(cell_id), fits=fitted.get(cell_id, {}))
        except cell_summary.SUMMARY_FAILURES as err:
            row, failed = cell_summary.unsummarized_row(rec, err), True
        rows.append(row)
    return rows, failed


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Summary rows as the summary's frame: typed by :data:`_SCHEMA`, sorted by config."""
    if not rows:
        return _empty()
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
    out = _to_frame(table)
    return out.sort_values([*AXES, "cell_id"], kind="stable").reset_index(drop=True)


def summarize_frames(results: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The summary of a run given as frames (:func:`vanishlab.load_results`,
    :func:`vanishlab.load_cells`), every row computed; see :func:`summarize`. Cells that have
    rows in ``results`` but none in ``cells`` are summarised as ok cells."""
    return _frame(_rows(results, cells)[0])


def _stored_rows(metas: dict[str, store.CellMeta]) -> dict[str, dict[str, Any]]:
    """``{cell_id: row}`` of the shards that hold a summary row computed by this code."""
    code = code_digest()
    columns = set(SUMMARY_COLUMNS)
    out: dict[str, dict[str, Any]] = {}
    for cell_id, meta in metas.items():
        stored = meta.get("summary")
        if stored is not None and stored["code"] == code and set(stored["row"]) == columns:
            out[cell_id] = stored["row"]
    return out


def compute_summary(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The summary of a run, no cache: each shard's stored row (:mod:`vanishlab.sweep.measure`
    computes it where the cell is measured), and a row computed here for every shard that
    lacks one (written before rows were stored, or by other code). Both give the same row. A
    row that fails to compute says so in its note (:func:`~.cell_summary.unsummarized_row`)."""
    return _computed(as_path(run_dir, "run_dir"))[0]


def _computed(run_dir: Path) -> tuple[pd.DataFrame, bool]:
    """:func:`compute_summary`, and whether a row failed to compute (then it is not cached)."""
    metas = store.read_cell_metas(run_dir)
    stored = _stored_rows(metas)
    rows = list(stored.values())
    cells = store.read_cells(run_dir)
    missing = cells[~cells["cell_id"].isin(stored)]
    manifest = store.load_manifest(run_dir)
    failed = False
    if len(missing):
        _check_init_definitions(run_dir, manifest, missing)
        ids = set(missing["cell_id"])
        computed, failed = _rows(store.load_results(run_dir, cell_ids=ids), missing)
        rows += computed
    # a monitor's steps, an analysis's Lyapunov exponent: as the shards hold them
    return _with_recorded_lyapunov(_frame(rows), as_shards_hold(manifest, metas)), failed


def _defined_here(init: str) -> str | None:
    """What ``init`` stands for in this process (see
    :func:`~vanishlab.sweep.init_records.init_definition`), None when it is not registered."""
    return init_definition(INITS[init]) if init in INITS else None


def _check_init_definitions(run_dir: Path, manifest: dict[str, Any], cells: pd.DataFrame) -> None:
    """Rows computed here rebuild their cells' inits from this process's registry: an init
    name that stands for another function here than when its cells were measured (the
    manifest's ``inits``; a built-in replaced with ``register_init(..., replace=True)``, or
    the reverse) would put the other one's theory beside them, so it is refused. An init not
    registered here leaves its rows without theory, and says so in their notes."""
    recorded = manifest.get("inits") if isinstance(manifest.get("inits"), dict) else {}
    for init in sorted({str(i) for i in cells["init"].dropna()} if "init" in cells else ()):
        check_init_unchanged(
            run_dir,
            recorded,
            init,
            _defined_here(init),
            "in this process",
            "its cells' theory cannot be computed here; register the same init first (import "
            "the module that does, then call vl.summarize or vl.render_report)",
        )


def _with_recorded_lyapunov(frame: pd.DataFrame, manifest: dict[str, Any]) -> pd.DataFrame:
    """A trained model's top Lyapunov exponent, which its run records (``vanishlab analyze``:
    the model's; a monitor: each step's; ``manifest`` as :func:`~.manifest.as_shards_hold`
    gives it, from the shards) and its page shows: a summary row cannot rebuild a trained model
    to measure it, and said NaN."""
    recorded: dict[str, Any] = {}
    model = manifest.get("model") if isinstance(manifest.get("model"), dict) else {}
    if manifest.get("kind") == SINGLE_MODEL and len(frame) == 1:
        recorded[str(frame["cell_id"].iloc[0])] = model.get("lyapunov")
    elif manifest.get("kind") == MONITOR and isinstance(manifest.get("steps"), dict):
        for step in manifest["steps"].values():
            if isinstance(step, dict) and "cell_id" in step:
                recorded[str(step["cell_id"])] = step.get("lyapunov")
    values = {k: read_json_number(v) for k, v in recorded.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return frame
    frame = frame.copy()
    found = frame["cell_id"].map(values)
    frame["lyapunov"] = frame["lyapunov"].where(frame["lyapunov"].notna(), found)
    return frame


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """A digest of the code that computes a summary (this module and the per-cell code of
    :func:`vanishlab.sweep.summary_fields.code_digest`), so that a cached one from other code
    (a new vanishlab, an edited checkout) is recomputed."""
    own = Path(str(sys.modules[__name__].__file__)).read_bytes()
    return hashlib.sha256(own + code_digest().encode()).hexdigest()


def _fingerprint(run_dir: Path) -> str:
    """A digest of every shard's metadata and of the code: changes when a cell is added,
    rerun or removed, or when the code that summarises it changes. A shard is known by the
    digest of its whole metadata (its status, reason, time, rows' digest, ...): by its status,
    row count and time alone, a cell measured again with the same three kept the earlier
    cell's cached row."""
    metas = store.read_cell_metas(run_dir)
    lines = [f"{cid} {meta_digest(m)}" for cid, m in sorted(metas.items())]
    # A row computed without its init (not registered in that process) has no theory: once
    # the init is registered, or stands for another function, the summary is computed again.
    lines += [f"init {name} {_defined_here(name)}" for name in sorted(shard_inits(metas))]
    text = "\n".join([SUMMARY_FORMAT, __version__, _code_digest(), *lines])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_bytes(path: Path) -> bytes | None:
    """The bytes of the cache file ``path``, None where it is not a regular file. A FIFO of
    that name (or a link to /dev/zero) was read to its end, which never came: the report hung
    with no word. Opened without blocking (a FIFO's open waits for a writer; Windows has no
    O_NONBLOCK, nor FIFOs), then checked before anything wraps the descriptor: ``open(fd)`` of
    a folder raised IsADirectoryError and left the descriptor open, one more per report."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None  # not the cache: computed afresh, and the file written over it
        with open(fd, "rb", closefd=False) as f:
            return f.read() if framed_as_parquet(f) else None  # another file: not read whole
    finally:
        os.close(fd)


def _read_cached(path: Path, fingerprint: str) -> pd.DataFrame | None:
    try:  # read by Python, into memory pyarrow owns (store.arrow_owned)
        if (raw := _cache_bytes(path)) is None:
            return None
        data = store.arrow_owned(raw)
        with pq.ParquetFile(data, page_checksum_verification=True) as pf:
            meta = parse_json((pf.schema_arrow.metadata or {}).get(SUMMARY_META_KEY, b"{}"))
            if not isinstance(meta, dict) or meta.get("fingerprint") != fingerprint:
                return None
            table = pf.read().replace_schema_metadata(None)
        # A flipped bit in the rows (a number) is caught here, as a shard's is: the cache's
        # own checksum of its rows (a file without one, or with another, is computed afresh).
        if not table.schema.equals(_SCHEMA) or meta.get("digest") != store.content_digest(table):
            return None
    except (OSError, ValueError, pa.ArrowException):  # ValueError: parse_json's every failure
        return None  # missing, corrupt or foreign: compute afresh
    return _to_frame(table)


@changes_said_per_call  # a changed manifest: one warning, where it reads it four times
def summarize(run_dir: str | os.PathLike[str], *, cache: bool = True) -> pd.DataFrame:
    """Measured beside predicted, one row per cell of a run (see the module docstring).

    Columns (:data:`SUMMARY_COLUMNS`): the config columns, ``cell_id``, ``status``; the fit of
    the top layer's state curve (``rate``, ``r2``, ``lag_start``, ``lag_end``, ``horizon``,
    ``phase``) and ``rate_layer0``; ``lyapunov``; ``ln_rho``, ``pascanu_slope``,
    ``pascanu_ok``; ``mf_rate``, ``mf_chi1``, ``mf_q_star``, ``mf_critical_gain``,
    ``mf_validity``, ``mf_reason``; ``predicted_by``, ``predicted_rate``,
    ``predicted_rate_layer0``; ``delta_rate``, ``delta_rate_layer0``, ``delta_lyapunov``
    (measured - predicted); ``flag`` and ``note`` (a failed cell's reason names an option as
    Python does, "a smaller batch=", where its shard keeps both names); a trained cell's
    ``final_loss``, ``chance_loss``, ``solved``, ``steps_to_solve`` (null when not trained:
    docs/trainability.md). A monitor's run (:class:`vanishlab.JacobianMonitor`) adds each
    row's training ``step`` after ``cell_id`` and is sorted by it, and its training ``loss``
    last (as :func:`vanishlab.load_cells` gives it: NaN where none was recorded); its
    ``final_loss`` and the trained cell's other outcome columns are null (the monitor trained
    nothing: the last loss of the user's training is ``loss`` at the last step). Rates are
    natural log per step. An analysis's and a monitor's rows have ``lr``, ``optimizer``,
    ``clip`` (and ``seed`` where no seed drew the inputs) null:
    :mod:`vanishlab.sweep.unset_axes`.

    Args:
        run_dir: a run directory.
        cache: read ``RUN_DIR/summary.parquet`` when it matches the run's cells, and write it
            (atomically) when it does not. A directory that cannot be written is summarised
            all the same. A summary with a row that failed to compute (its note: "No summary:
            computing it failed (...)") is not written: the row is tried again next time.

    Raises:
        VanishlabError: not a run directory, or a corrupt or foreign shard; a row to compute
            whose init stands for another function in this process than in the run.
    """
    frame = read_summary(run_dir, cache=cache)
    # a failed cell's note, as its shard keeps it ("--batch (batch=)"): Python's words here
    return store.in_python_words(frame, "note")


def read_summary(run_dir: str | os.PathLike[str], *, cache: bool = True) -> pd.DataFrame:
    """:func:`summarize` with a failed cell's note as its shard keeps it, both names of an
    option ("--batch (batch=)"): the report's, which says it as the command line does."""
    run_dir = as_path(run_dir, "run_dir")
    cache = as_flag(cache, "cache")  # cache="no" read and wrote the cache
    with store.reads_held():  # each shard read and verified once, by every reader below
        return _read_summary(run_dir, cache)


def _read_summary(run_dir: Path, cache: bool) -> pd.DataFrame:
    manifest = store.load_manifest(run_dir)
    path = run_dir / SUMMARY
    fingerprint = _fingerprint(run_dir) if cache else ""
    if cache:
        cached = _read_cached(path, fingerprint)
        if cached is not None:
            return _with_steps(cached, manifest, run_dir)
    frame, failed = _computed(run_dir)
    if cache and not failed:  # a row that failed is computed again next time, not kept
        table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
        digest = store.content_digest(table)  # of the rows, checked by _read_cached
        meta = json.dumps({"format": SUMMARY_FORMAT, "fingerprint": fingerprint, "digest": digest})
        table = table.replace_schema_metadata({SUMMARY_META_KEY: meta})
        with contextlib.suppress(OSError):  # read-only run directory: return it all the same
            remove_temps_of(path)  # a killed reader's: a finished run has no writer to clear it
            store.atomic_write(path, lambda f: pq.write_table(table, f, write_page_checksum=True))
    return _with_steps(frame, manifest, run_dir)


def _with_steps(frame: pd.DataFrame, manifest: dict[str, Any], run_dir: Path) -> pd.DataFrame:
    """A monitor's summary with each row's training ``step`` (after ``cell_id``, as
    :func:`~vanishlab.sweep.store.load_results` gives it), sorted by step, and its ``loss``
    last; other runs' as they are. Both are :func:`~vanishlab.sweep.store.load_cells`' (from
    each shard's record: a summary row is a cell's, and knows neither; so neither is in
    :data:`SUMMARY_FIELDS`, the rows a sweep's shards store). An analysis's and a monitor's
    rows have the columns of :func:`~.unset_axes.unset_axes` null, as the other readers give
    them."""
    frame = without_unset(frame, manifest)  # what says nothing of a trained model: null
    if manifest.get("kind") != MONITOR:
        return frame
    cells = store.read_cells(run_dir)
    by_cell = cells.set_index("cell_id")
    frame = frame.copy()
    frame.insert(
        frame.columns.get_loc("cell_id") + 1,
        MONITOR_STEP,
        frame["cell_id"].map(by_cell[MONITOR_STEP]).astype("Int64"),
    )
    frame[MONITOR_LOSS] = frame["cell_id"].map(by_cell[MONITOR_LOSS]).astype("float64")
    return frame.sort_values([MONITOR_STEP, "cell_id"], kind="stable").reset_index(drop=True)
