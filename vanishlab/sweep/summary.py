"""Theory beside measurement: one row per sweep cell, what was measured and what theory says.

For each cell of a run (:func:`summarize`) the measured decay rate of its Frobenius-norm curve,
the top Lyapunov exponent along its trajectory, and the predictions that apply to it
(:mod:`vanishlab.analysis.theory`), with the differences measured - predicted. Every rate is in
natural log per step, d ln||J|| / dk, so every column compares with every other.

**Measured.** ``rate`` is :func:`vanishlab.fit_decay` (Frobenius, default window: lags
round(T/4)..T) of the top layer's own state rows, dh^{L-1}_{T-1} / dh^{L-1}_{T-1-k}: the curve
the report draws, a product of k factors D_t W_hh^{L-1} (Pascanu et al. 2013). ``rate_layer0``
is the same fit of layer 0's state rows; in a stack they sum paths through the layers above,
so asymptotically they decay at the slowest layer's rate (the largest over layers j >= 0;
where m layers share it, the number of paths grows like k^(m-1) and adds a ~1/k excess to the
slope fitted at finite lags).
``lyapunov`` is the top Lyapunov exponent of the whole state (all layers, dimension L H) by the
QR method (:func:`vanishlab.lyapunov_spectrum`, k = 1 from a seeded random direction,
float64) along the cell's own
trajectory: the cell's ``nn.RNN`` and inputs are rebuilt exactly as
:func:`vanishlab.run_cell` builds them (same seeds, same dtype), the first round(T/4) steps are
discarded as a transient, and the exponent is averaged over the batch. The one-step Jacobian of
a stack is block lower-triangular, so its top exponent is the largest of the layers' own: it
is the asymptotic rate of ``rate_layer0``, and of ``rate`` for one layer.

**Predicted** (``predicted_by``):

- ``"linear"``, at the origin (zero input and every bias zero: from h0 = 0 the state never
  moves): J(k) = W_hh^k for tanh, so the rate is ln rho(W_hh) (:func:`vanishlab.linear_rate`)
  of the drawn matrix, exact as k -> infinity at any width; relu'(0) = 0 makes every Jacobian
  past lag 0 exactly zero there (rate -inf).
- ``"mean field"``, for random inits off the origin: 0.5 ln chi_1 of the cell's mean-field
  inputs (:func:`vanishlab.cell_mean_field`, Poole et al. 2016; Chen, Pennington & Schoenholz
  2018), exact as H -> infinity for i.i.d. inits, approximate for orthogonal ones (validity and
  reason in ``mf_validity``, ``mf_reason``).
- ``"none"``: identity weights off the origin (deterministic, not random), an init this process
  does not know, a stack above a diverging relu layer, a cell whose config is incomplete.

``predicted_rate`` is the top layer's prediction; ``predicted_rate_layer0`` the largest over
layers (for ``rate_layer0`` and ``lyapunov``); for one layer they are equal. ``ln_rho`` (top
layer) and ``pascanu_slope`` = ln(gamma ||W_hh^{L-1}||_2) are given for every cell: the
bound of Pascanu et al. (2013) is an upper bound on every lag's norm, never a prediction, and
``pascanu_ok`` says whether every measured row of the cell lies under its envelope
(:func:`vanishlab.check_pascanu`). ``mf_critical_gain`` is the smallest gain at which the
mean-field rate of this configuration (every other axis fixed) reaches 0, the edge between
vanishing and exploding (``inf`` when none below 100 does).

**Where theory is not expected to hold** is flagged, not hidden (``flag``: comma-separated
keywords of :data:`FLAGS`; ``note``: the sentences). Near-critical cells (|predicted rate| <
:data:`NEAR_CRITICAL`, chi_1 within about 10 % of 1: THEORY.md's 1 < g < 1.5 for undriven tanh,
where chi_1 < 1.14, moves with the drive, see :func:`vanishlab.critical_input_var`), narrow
networks (H < :data:`NARROW_WIDTH`: the mean field's finite-width bias is about -3/H per step
for chaotic tanh, and the seed-to-seed spread grows as H shrinks), short sequences (T <
:data:`SHORT_SEQ_LEN`: the fit and the Lyapunov average see the relaxation of q_t towards q*),
non-i.i.d. inits (orthogonal), relu divergence (g^2 >= 2: chi_1 = g^2/2 still describes the
Jacobians until the state overflows), exact zeros, failed cells and poor line fits
(r2 < :data:`POOR_FIT_R2` where |rate| >= :data:`NEAR_CRITICAL`: a flat line has a small r2
however straight it is).

NaN appears only where a column does not apply, and then the row says why: measured columns of
a failed cell (``note``), r2 of a rate of -inf (``note``), ``mf_*`` where ``mf_validity`` is
"none" or "origin" (``mf_reason``), ``predicted_*`` and ``delta_*`` where ``predicted_by`` is
"none" (``note``), and a difference of two -inf (``note``).

:func:`summarize` writes ``RUN_DIR/summary.parquet`` atomically (the store's temp file + rename)
and reuses it while the run's cells and vanishlab's code are unchanged (a fingerprint of every
shard's metadata and of the modules that compute the summary).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from ..analysis import theory
from ..analysis.fits import fit_decay
from ..core.lyapunov import lyapunov_spectrum
from ..errors import NonFiniteStateError, VanishlabError
from . import store
from .cell import build_rnn, cell_inputs, one_thread, seeded_generator
from .config import AXES, CellConfig

__all__ = [
    "FLAGS",
    "NARROW_WIDTH",
    "NEAR_CRITICAL",
    "POOR_FIT_R2",
    "SHORT_SEQ_LEN",
    "SUMMARY",
    "SUMMARY_COLUMNS",
    "critical_gain",
    "summarize",
    "summarize_frames",
]

SUMMARY = "summary.parquet"
SUMMARY_FORMAT = "vanishlab-summary/1"
SUMMARY_META_KEY = b"vanishlab.sweep.summary"
NEAR_CRITICAL = 0.05  # |0.5 ln chi_1| below this: chi_1 within about 10 % of 1
NARROW_WIDTH = 64
SHORT_SEQ_LEN = 50
POOR_FIT_R2 = 0.9
MAX_CRITICAL_GAIN = 100.0
_LN10 = math.log(10.0)

#: Flag keywords, in the order they are listed, and what each means.
FLAGS: dict[str, str] = {
    "failed": "the forward pass overflowed: nothing was measured",
    "no-theory": "neither the linear regime nor the mean field applies",
    "exact-zero": "an exact zero Jacobian in the fit window (relu units all off): the rate is "
    "that of the decay before it, or -inf when nothing is left before it",
    "diverges": "relu with gain^2 >= 2: the activity explodes (chi_1 = g^2/2 still holds "
    "until the state overflows)",
    "near-critical": f"|predicted rate| < {NEAR_CRITICAL}: chi_1 within about 10 % of 1, "
    "where finite width and finite windows move the measured rate most",
    "non-iid": "orthogonal weights: the mean field is approximate",
    "narrow": f"H < {NARROW_WIDTH}: finite-width corrections (about -3/H per step for chaotic "
    "tanh) and the seed-to-seed spread are comparable to the differences",
    "short": f"T < {SHORT_SEQ_LEN}: the fit window and the Lyapunov average include the "
    "transient towards the fixed point",
    "poor-fit": f"r2 < {POOR_FIT_R2} with |rate| >= {NEAR_CRITICAL}: the log-norm is not a "
    "straight line in the window",
}

SUMMARY_COLUMNS: tuple[str, ...] = (
    *AXES,
    "cell_id",
    "status",
    "rate",
    "r2",
    "lag_start",
    "lag_end",
    "horizon",
    "phase",
    "rate_layer0",
    "lyapunov",
    "ln_rho",
    "pascanu_slope",
    "pascanu_ok",
    "mf_rate",
    "mf_chi1",
    "mf_q_star",
    "mf_critical_gain",
    "mf_validity",
    "mf_reason",
    "predicted_by",
    "predicted_rate",
    "predicted_rate_layer0",
    "delta_rate",
    "delta_rate_layer0",
    "delta_lyapunov",
    "flag",
    "note",
)
"""Columns of :func:`summarize`'s frame, in order (config columns first, as :data:`AXES`)."""

_SCHEMA = pa.schema(
    [store.SCHEMA.field(a).with_nullable(True) for a in AXES]  # frames may lack an axis
    + [
        pa.field("cell_id", pa.string()),
        pa.field("status", pa.string()),
        pa.field("rate", pa.float64()),
        pa.field("r2", pa.float64()),
        pa.field("lag_start", pa.int64()),
        pa.field("lag_end", pa.int64()),
        pa.field("horizon", pa.int64()),
        pa.field("phase", pa.string()),
        pa.field("rate_layer0", pa.float64()),
        pa.field("lyapunov", pa.float64()),
        pa.field("ln_rho", pa.float64()),
        pa.field("pascanu_slope", pa.float64()),
        pa.field("pascanu_ok", pa.bool_()),
        pa.field("mf_rate", pa.float64()),
        pa.field("mf_chi1", pa.float64()),
        pa.field("mf_q_star", pa.float64()),
        pa.field("mf_critical_gain", pa.float64()),
        pa.field("mf_validity", pa.string()),
        pa.field("mf_reason", pa.string()),
        pa.field("predicted_by", pa.string()),
        pa.field("predicted_rate", pa.float64()),
        pa.field("predicted_rate_layer0", pa.float64()),
        pa.field("delta_rate", pa.float64()),
        pa.field("delta_rate_layer0", pa.float64()),
        pa.field("delta_lyapunov", pa.float64()),
        pa.field("flag", pa.string()),
        pa.field("note", pa.string()),
    ]
)


# --------------------------------------------------------------------------------------------
# Critical gain
# --------------------------------------------------------------------------------------------


def _mf_rate_at(config: Mapping[str, Any], gain: float, layer: int) -> float:
    mf = theory.cell_mean_field({**config, "gain": gain}, layer=layer)
    return math.nan if mf is None else mf.rate


@lru_cache(maxsize=1024)
def _critical_gain(items: tuple[tuple[str, Any], ...], layer: int) -> float:
    config = dict(items)

    def exploding(g: float) -> bool:
        # No prediction at a gain where one applied below it: a lower relu layer diverges
        # (g_mf^2 >= 2, which for relu is also where chi_1 = g_mf^2 / 2 reaches 1).
        r = _mf_rate_at(config, g, layer)
        return math.isnan(r) or r >= 0

    # A coarse geometric scan for the first sign change, then bisection (the rate grows with
    # the gain over the scanned range for every built-in init; the scan does not rely on it).
    grid = np.geomspace(0.02, MAX_CRITICAL_GAIN, 49)
    if math.isnan(_mf_rate_at(config, float(grid[0]), layer)):
        return math.nan  # the mean field does not apply to this configuration at all
    lo = 0.0
    for g in grid:
        if exploding(float(g)):
            hi = float(g)
            for _ in range(48):
                mid = 0.5 * (lo + hi)
                if exploding(mid):
                    hi = mid
                else:
                    lo = mid
            return hi
        lo = float(g)
    return math.inf


def critical_gain(cell: Mapping[str, Any] | CellConfig, *, layer: int | None = None) -> float:
    """The smallest gain at which the mean-field rate of this configuration reaches 0.

    Every other axis of ``cell`` is held fixed and the gain varied (for inits whose input
    weights scale with the gain, such as ``default`` and ``orthogonal``, the drive grows with
    it). The edge of chaos chi_1 = 1 of :func:`vanishlab.mean_field`: relu with ``normal``
    weights at sqrt(2), undriven tanh at 1, driven tanh above 1 (input noise suppresses chaos).

    Args:
        cell: a cell config (dict or :class:`~vanishlab.sweep.config.CellConfig`).
        layer: which layer's recurrence (default: the top one, ``num_layers - 1``).

    Returns:
        The gain (to about 1e-12 relative), ``inf`` when the rate stays below 0 up to a gain of
        100, NaN when the mean field does not apply (:func:`vanishlab.cell_mean_field` is None:
        identity weights, a cell at the origin).
    """
    config = cell.to_dict() if isinstance(cell, CellConfig) else dict(cell)
    if layer is None:
        layer = int(config.get("num_layers", 1)) - 1
    config.pop("gain", None)
    config.pop("seed", None)  # the mean field does not depend on the seed: cache across seeds
    return _critical_gain(tuple(sorted(config.items())), layer)


# --------------------------------------------------------------------------------------------
# One cell
# --------------------------------------------------------------------------------------------


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _theory_of_cell(
    config: CellConfig, cell_rows: pd.DataFrame | None
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Rebuild the cell as run_cell does; its Lyapunov exponent, ln rho, Pascanu, mean field."""
    out: dict[str, Any] = {}
    flags: list[str] = []
    notes: list[str] = []
    L, T = config.num_layers, config.seq_len
    with one_thread(), torch.no_grad():
        rnn = build_rnn(config)
        x = cell_inputs(config)
        ln_rho = [theory.linear_rate(rnn, layer=l) for l in range(L)]
        out["ln_rho"] = ln_rho[-1]
        out["pascanu_slope"] = theory.pascanu_bound(rnn, L - 1) * _LN10
        if cell_rows is not None and len(cell_rows):
            checked = theory.check_pascanu(cell_rows, rnn, seq_len=T)
            out["pascanu_ok"] = not bool(checked["violated"].any())
        discard = T // 4 if T > 1 else 0
        # A random start: the standard basis vector e_1 is not generic (a diagonal Jacobian,
        # identity weights, would keep it on unit 1 forever instead of the top direction).
        q0 = torch.randn(
            L * config.hidden_size, 1, generator=seeded_generator(config.seed, "lyapunov")
        )
        try:
            lyap = lyapunov_spectrum(rnn, x, k=1, discard=discard, q0=q0)  # (B, 1) float64
        except NonFiniteStateError:
            out["lyapunov"] = math.nan
        else:
            out["lyapunov"] = float(lyap[:, 0].mean())
        biases_zero = not config.bias or all(
            not bool(getattr(rnn, f"bias_{kind}_l{l}").any())
            for l in range(L)
            for kind in ("ih", "hh")
        )
    origin = config.input_std == 0.0 and biases_zero

    cfg = config.to_dict()
    mfi = theory.mean_field_inputs(cfg, layer=L - 1)
    out["mf_validity"], out["mf_reason"] = mfi.validity, mfi.reason
    if origin and mfi.validity not in ("origin",):
        # An init without variances (identity) at the origin: still the linear regime.
        out["mf_validity"] = "origin"
        out["mf_reason"] = (
            "no input and every bias zero: the state stays at h = 0, where the linear regime "
            f"applies ({mfi.reason})"
        )
    if origin:
        out["predicted_by"] = "linear"
        if config.activation == "relu":
            out["predicted_rate"] = out["predicted_rate_layer0"] = -math.inf
            notes.append(
                "At the origin relu'(0) = 0: every Jacobian past lag 0 is exactly zero (rate "
                "-inf, predicted and measured)."
            )
        else:
            out["predicted_rate"] = ln_rho[-1]
            out["predicted_rate_layer0"] = max(ln_rho)
            if L > 1:
                notes.append(
                    "A stack at the origin: layer 0's rows and the Lyapunov exponent sum paths "
                    "through the layers, which adds an O(1/k) excess over max ln rho at finite "
                    "lags."
                )
        return out, flags, notes

    mfs = [theory.cell_mean_field(cfg, layer=l) for l in range(L)]
    top = mfs[-1]
    if top is not None:
        out["mf_rate"], out["mf_chi1"], out["mf_q_star"] = top.rate, top.chi_1, top.q_star
        out["mf_critical_gain"] = critical_gain(config)
    if any(m is None for m in mfs):
        out["predicted_by"] = "none"
        if mfi.validity in ("none", "origin"):
            flags.append("no-theory")
            notes.append(f"No prediction: {mfi.reason}.")
        else:
            flags += ["no-theory", "diverges"]
            notes.append(
                "No prediction: a lower layer diverges (relu with gain^2 >= 2), so the "
                "layers above have no finite drive."
            )
        return out, flags, notes
    assert top is not None
    out["predicted_by"] = "mean field"
    out["predicted_rate"] = top.rate
    out["predicted_rate_layer0"] = max(m.rate for m in mfs if m is not None)
    if any(m.diverges for m in mfs if m is not None):
        flags.append("diverges")
        notes.append(
            f"relu with gain^2 >= 2 and a drive: q has no fixed point, the activity grows "
            f"until it overflows; chi_1 = {top.chi_1:.4g} still describes the Jacobians."
        )
    if abs(top.rate) < NEAR_CRITICAL:
        flags.append("near-critical")
    if mfi.validity == "approximate":
        flags.append("non-iid")
    if config.hidden_size < NARROW_WIDTH:
        flags.append("narrow")
    if config.seq_len < SHORT_SEQ_LEN:
        flags.append("short")
    return out, flags, notes


def _row(
    cell: Mapping[str, Any],
    fit_top: Mapping[str, Any] | None,
    fit_l0: Mapping[str, Any] | None,
    cell_rows: pd.DataFrame | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {c: math.nan for c in SUMMARY_COLUMNS if c not in AXES}
    row.update({a: _py(cell.get(a)) for a in AXES})
    row.update(
        cell_id=str(cell["cell_id"]),
        status=str(cell.get("status") or "ok"),
        lag_start=None,
        lag_end=None,
        horizon=None,
        phase="",
        pascanu_ok=None,
        mf_validity="",
        mf_reason="",
        predicted_by="none",
    )
    flags: list[str] = []
    notes: list[str] = []
    if row["status"] != "ok":
        flags.append("failed")
        notes.append(f"Failed: {cell.get('reason') or 'no reason recorded'}.")
    elif fit_top is None:
        notes.append("No measured rows for this cell.")
    else:
        row["rate"] = float(fit_top["rate"])
        row["r2"] = float(fit_top["r2"])
        row["lag_start"], row["lag_end"] = int(fit_top["lag_start"]), int(fit_top["lag_end"])
        h = fit_top["horizon"]
        row["horizon"] = None if h is None or h is pd.NA else int(h)
        row["phase"] = str(fit_top["phase"])
        row["rate_layer0"] = float(fit_l0["rate"]) if fit_l0 is not None else row["rate"]
        if fit_top["note"]:
            notes.append(f"Fit: {fit_top['note']}.")
        zero_lag = fit_top.get("zero_lag")
        has_zero = zero_lag is not None and zero_lag is not pd.NA and zero_lag <= row["lag_end"]
        if has_zero or (math.isinf(row["rate"]) and row["rate"] < 0):
            flags.append("exact-zero")
        elif row["r2"] < POOR_FIT_R2 and abs(row["rate"]) >= NEAR_CRITICAL:
            flags.append("poor-fit")  # (a flat line has a small r2 however straight it is)

    missing = [a for a in AXES if row[a] is None or row[a] is pd.NA]
    config: CellConfig | None = None
    if missing:
        notes.append(f"No theory: the config lacks {', '.join(missing)}.")
    else:
        try:
            config = CellConfig.from_dict({a: row[a] for a in AXES})
        except VanishlabError as err:
            notes.append(f"No theory: cannot rebuild the cell ({err}).")
    if config is None:
        flags.append("no-theory")
    else:
        rows = cell_rows if row["status"] == "ok" else None
        extra, more_flags, more_notes = _theory_of_cell(config, rows)
        row.update(extra)
        flags += more_flags
        notes += more_notes
        if math.isnan(row["lyapunov"]) and row["status"] == "ok":
            notes.append("Lyapunov exponent: the forward pass overflowed.")

    for name, measured, predicted in (
        ("delta_rate", "rate", "predicted_rate"),
        ("delta_rate_layer0", "rate_layer0", "predicted_rate_layer0"),
        ("delta_lyapunov", "lyapunov", "predicted_rate_layer0"),
    ):
        m, p = float(row[measured]), float(row[predicted])
        if math.isinf(m) and math.isinf(p) and (m > 0) == (p > 0):
            row[name] = math.nan  # both -inf (exact zeros): agreement, but no number
        else:
            row[name] = m - p
    if any(
        math.isinf(float(row[m])) and math.isinf(float(row[p]))
        for m, p in (("rate", "predicted_rate"), ("lyapunov", "predicted_rate_layer0"))
    ):
        notes.append("Measured and predicted are both -inf: their difference is left blank.")
    order = list(FLAGS)
    row["flag"] = ",".join(sorted(dict.fromkeys(flags), key=order.index))
    row["note"] = " ".join(notes)
    return row


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return _to_frame(_SCHEMA.empty_table())


def _to_frame(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for c in ("lag_start", "lag_end", "horizon"):
        frame[c] = frame[c].astype("Int64")
    frame["pascanu_ok"] = frame["pascanu_ok"].astype("boolean")
    return frame


def summarize_frames(results: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """The summary of a run given as frames (:func:`vanishlab.load_results`,
    :func:`vanishlab.load_cells`); see :func:`summarize`. Cells that have rows in ``results``
    but none in ``cells`` are summarised as ok cells."""
    records: dict[str, dict[str, Any]] = {}
    if len(cells):
        for rec in cells.to_dict("records"):
            records[str(rec["cell_id"])] = rec
    if len(results):
        firsts = results.drop_duplicates("cell_id")
        for rec in firsts.to_dict("records"):
            records.setdefault(str(rec["cell_id"]), {**rec, "status": "ok"})
    if not records:
        return _empty()

    state = results[(results["source"] == "state").to_numpy(dtype=bool)] if len(results) else None
    fits: dict[tuple[str, int], dict[str, Any]] = {}
    by_cell: dict[str, pd.DataFrame] = {}
    if state is not None and len(state):
        frame = state[["cell_id", "layer", "lag", "log10_fro_mean"]]
        for rec in fit_decay(frame, norm="fro").to_dict("records"):
            fits[(str(rec["cell_id"]), int(rec["layer"]))] = rec
        cols = ["source", "layer", "lag", "log10_fro_mean"]
        cols += [c for c in ("log10_spec_mean",) if c in results]
        for cell_id, rows in results.groupby("cell_id", sort=False):
            by_cell[str(cell_id)] = rows[cols]

    top_layer: dict[str, int] = {}
    for cell_id, layer in fits:
        top_layer[cell_id] = max(layer, top_layer.get(cell_id, 0))
    rows = []
    for cell_id, rec in records.items():
        L = rec.get("num_layers")
        top = int(L) - 1 if L is not None and not pd.isna(L) else top_layer.get(cell_id, 0)
        rows.append(
            _row(rec, fits.get((cell_id, top)), fits.get((cell_id, 0)), by_cell.get(cell_id))
        )
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
    out = _to_frame(table)
    return out.sort_values([*AXES, "cell_id"], kind="stable").reset_index(drop=True)


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """A digest of the code that computes a summary, so that a cached one from other code
    (a new vanishlab, an edited checkout) is recomputed."""
    from ..analysis import fits
    from ..core import engine, forward, lyapunov
    from . import cell, inits

    digest = hashlib.sha256()
    for module in (sys.modules[__name__], theory, fits, lyapunov, forward, engine, inits, cell):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _fingerprint(run_dir: Path) -> str:
    """A digest of every shard's metadata and of the code: changes when a cell is added,
    rerun or removed, or when the code that summarises it changes."""
    from .. import __version__

    metas = store.read_cell_metas(run_dir)
    lines = [
        f"{cid} {m['status']} {m['n_rows']} {float(m['elapsed_s'])!r}"
        for cid, m in sorted(metas.items())
    ]
    text = "\n".join([SUMMARY_FORMAT, __version__, _code_digest(), *lines])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_cached(path: Path, fingerprint: str) -> pd.DataFrame | None:
    try:
        pf = pq.ParquetFile(path)
        meta = json.loads((pf.schema_arrow.metadata or {}).get(SUMMARY_META_KEY, b"{}"))
        if meta.get("fingerprint") != fingerprint:
            return None
        table = pf.read().replace_schema_metadata(None)
        if not table.schema.equals(_SCHEMA):
            return None
    except (OSError, ValueError, pa.ArrowException, json.JSONDecodeError):
        return None  # missing, corrupt or foreign: compute afresh
    return _to_frame(table)


def summarize(run_dir: str | os.PathLike[str], *, cache: bool = True) -> pd.DataFrame:
    """Measured beside predicted, one row per cell of a run (see the module docstring).

    Columns (:data:`SUMMARY_COLUMNS`): the config columns, ``cell_id``, ``status``; the fit of
    the top layer's state curve (``rate``, ``r2``, ``lag_start``, ``lag_end``, ``horizon``,
    ``phase``) and ``rate_layer0``; ``lyapunov``; ``ln_rho``, ``pascanu_slope``,
    ``pascanu_ok``; ``mf_rate``, ``mf_chi1``, ``mf_q_star``, ``mf_critical_gain``,
    ``mf_validity``, ``mf_reason``; ``predicted_by``, ``predicted_rate``,
    ``predicted_rate_layer0``; ``delta_rate``, ``delta_rate_layer0``, ``delta_lyapunov``
    (measured - predicted); ``flag`` and ``note``. Rates are natural log per step.

    Args:
        run_dir: a run directory.
        cache: read ``RUN_DIR/summary.parquet`` when it matches the run's cells, and write it
            (atomically) when it does not. A directory that cannot be written is summarised
            all the same.

    Raises:
        VanishlabError: not a run directory, or a corrupt or foreign shard.
    """
    run_dir = Path(run_dir)
    store.load_manifest(run_dir)
    path = run_dir / SUMMARY
    fingerprint = _fingerprint(run_dir) if cache else ""
    if cache:
        cached = _read_cached(path, fingerprint)
        if cached is not None:
            return cached
    frame = summarize_frames(store.load_results(run_dir), store.load_cells(run_dir))
    if cache:
        table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
        meta = json.dumps({"format": SUMMARY_FORMAT, "fingerprint": fingerprint})
        table = table.replace_schema_metadata({SUMMARY_META_KEY: meta})
        with contextlib.suppress(OSError):  # read-only run directory: return it all the same
            store.atomic_write(path, lambda f: pq.write_table(table, f))
    return frame
