"""One sweep cell beside theory: what was measured and what theory predicts, as one row.

For one cell (:func:`summarize_cell`, a pure function of the cell's config, its measured rows,
its module and its inputs) the measured decay rate of its Frobenius-norm curve,
the top Lyapunov exponent along its trajectory, and the predictions that apply to it
(:mod:`vanishlab.analysis.linear`, :mod:`vanishlab.analysis.meanfield`,
:mod:`vanishlab.sweep.prediction`), with the differences measured - predicted. Every rate is in
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
:func:`vanishlab.run_cell` builds them (same seeds, same dtype), the first T // 4 steps are
discarded as a transient, and the exponent is averaged over the batch. The one-step Jacobian of
a stack is block lower-triangular, so its top exponent is the largest of the layers' own: it
is the asymptotic rate of ``rate_layer0``, and of ``rate`` for one layer.

**Predicted** (``predicted_by``):

- ``"linear"``, at the origin (zero input, no task, and every bias zero: from h0 = 0 the
  state never moves): J(k) = W_hh^k for tanh, so the rate is ln rho(W_hh)
  (:func:`vanishlab.linear_rate`) of the drawn matrix, exact as k -> infinity at any width;
  relu'(0) = 0 makes every Jacobian past lag 0 exactly zero there (rate -inf).
  Also with no input but biases (``input_std`` 0, no task), once the undriven state settles
  at a fixed point h* (:func:`vanishlab.analysis.linear.fixed_point_rates`): every factor is
  then D* W_hh, D* = diag(act'(a*)), and the rate ln rho(D* W_hh) of the drawn network, exact
  at any width, where the mean field is only its H -> infinity limit (0.037 below the measured
  rate at H = 256, tanh, ``default`` init, gain 1.5); flagged ``short`` where the state is still
  on its way to h* after T // 4 steps, and said in the note where it settles at no stable
  point (the mean field, or nothing, is then predicted as off it).
- ``"mean field"``, for random inits off the origin: 0.5 ln chi_1 of the cell's mean-field
  inputs (:func:`vanishlab.cell_mean_field`, Poole et al. 2016; Chen, Pennington & Schoenholz
  2018), exact as H -> infinity for i.i.d. inits, approximate for orthogonal ones (validity and
  reason in ``mf_validity``, ``mf_reason``).
- ``"none"``: gated cells (``model`` lstm or gru: ln rho, the Pascanu bound and the mean field
  here are nn.RNN's, and Gilboa et al. 2019's mean field of gated cells is not covered; their
  ``ln_rho``, ``pascanu_*`` and ``mf_*`` are NaN, flag ``no-theory``), identity weights off the
  origin (deterministic, not random), an init this process does not know, a stack above a
  diverging relu layer, a task cell told no drive (``input_std`` 0, though the task feeds
  inputs), a cell whose config is incomplete.

``predicted_rate`` is the top layer's prediction; ``predicted_rate_layer0`` the largest over
layers (for ``rate_layer0`` and ``lyapunov``); for one layer they are equal. ``ln_rho`` (top
layer) and ``pascanu_slope`` = ln(gamma ||W_hh^{L-1}||_2) are given for every cell: the
bound of Pascanu et al. (2013) is an upper bound on every lag's norm, never a prediction, and
``pascanu_ok`` says whether every measured row of the cell lies under its envelope
(:func:`vanishlab.check_pascanu`). ``mf_critical_gain`` is the smallest gain at which the
mean-field rate of this configuration (every other axis fixed) reaches 0, the edge between
vanishing and exploding (``inf`` when none below 100 does).

**Where theory is not expected to hold** is flagged, not hidden (``flag``: comma-separated
keywords of :data:`FLAGS`; ``note``: the sentences). Near-critical cells (the mean field's
|0.5 ln chi_1| < :data:`NEAR_CRITICAL`, never the linear regime's ln rho; chi_1 within about
10 % of 1: docs/theory.md's 0.95 < g < 1.41 for undriven tanh, moves with the drive, see
:func:`vanishlab.critical_input_var`), narrow
networks in the mean field (H < :data:`NARROW_WIDTH`, or fewer than
:data:`NARROW_LIVE_UNITS` effective units H live_fraction of any layer,
:attr:`vanishlab.MeanField.live_fraction`: its finite-width bias is about -1/(H live_fraction)
per step, -3/H for chaotic tanh at a moderate gain and far more for tanh saturated at a large
gain, and the seed-to-seed spread grows as H shrinks; the linear regime's ln rho is the drawn
matrix's own, at any width), short sequences (T < :data:`SHORT_SEQ_LEN`:
the fit and the Lyapunov average see the relaxation of q_t towards q* in the mean field, and
in the linear regime W_hh^k's approach to its top eigenvalue, which every tanh cell at the
origin has but one layer whose W_hh is a multiple of an orthogonal matrix, exact at every lag),
non-i.i.d. inits (orthogonal), relu divergence (chi_1 = H var_hh / 2 >= 1, from a gain that
depends on the init, :func:`~vanishlab.sweep.critical.relu_divergence`: chi_1 still describes
the Jacobians until the state overflows), exact zeros, failed cells and poor line fits
(r2 < :data:`POOR_FIT_R2` where |rate| >= :data:`NEAR_CRITICAL`: a flat line has a small r2
however straight it is).

A trained cell (``train_steps`` > 0, :mod:`vanishlab.sweep.train_cell`) adds its outcome:
``final_loss``, ``chance_loss``, ``solved``, ``steps_to_solve`` (null where ``train_steps`` is 0,
which says why; a diverged training has no ``final_loss``, and its note says so).

NaN appears only where a column does not apply, and then the row says why: measured columns of
a failed cell (``note``), r2 of a rate of -inf (``note``), ``mf_*`` where ``mf_validity`` is
"none" or "origin" (``mf_reason``), ``predicted_*`` and ``delta_*`` where ``predicted_by`` is
"none" (``note``), and a difference of two -inf (``note``).

The run-level table, its cache and its parquet file are :mod:`vanishlab.sweep.summary`; this
module knows one cell only, so a runner can compute the row where the cell is measured.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..analysis.fits import NO_LAG, fit_curves, fit_decay
from ..errors import VanishlabError
from .catalog import TRAINED_INIT
from .cell_theory import cell_predictions
from .config import AXES, CellConfig, axis
from .inits import INITS
from .prediction import unregistered_reason
from .schema import TRAIN_FIELDS
from .summary_fields import (
    FLAGS,
    NEAR_CRITICAL,
    NO_SUMMARY,
    POOR_FIT_R2,
    SUMMARY_COLUMNS,
)

__all__ = [
    "SUMMARY_FAILURES",
    "summarize_cell",
    "summary_row",
    "unsummarized_row",
    "with_training",
]

_ROW_INPUTS = ("source", "layer", "lag", "log10_fro_mean", "log10_spec_mean")


def _absent(value: Any) -> bool:
    """None, pd.NA or NaN: a config column a cell does not have (activation of a gated cell)."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def summary_row(
    cell: Mapping[str, Any],
    cell_rows: pd.DataFrame | None,
    *,
    fits: Mapping[int, Mapping[str, Any]] | None = None,
    rnn: nn.RNN | None = None,
    x: torch.Tensor | None = None,
) -> dict[str, Any]:
    """The summary row of one cell given as a record (config columns, ``cell_id``,
    ``status``, ``reason``; axes may be missing, and then no prediction is made).

    ``cell_rows``: the cell's measured rows (``source``, ``layer``, ``lag``,
    ``log10_fro_mean`` and optionally ``log10_spec_mean``), or None. ``fits``: the
    :func:`vanishlab.fit_decay` rows of its state curves by layer, when already computed for
    many cells at once (else they are fitted here). ``rnn``, ``x``: the cell's module and
    inputs when at hand (else rebuilt from the config).
    """
    if fits is None:
        fits = _fit_layers(cell_rows)
    L = cell.get("num_layers")
    top = int(L) - 1 if L is not None and not pd.isna(L) else max(fits, default=0)
    fit_top, fit_l0 = fits.get(top), fits.get(0)
    row = _blank_row(cell)
    flags: list[str] = []
    notes: list[str] = _set_training(row, cell)  # from load_cells' training columns
    if row["status"] != "ok":
        flags.append("failed")
        notes.append(f"Failed: {cell.get('reason') or 'no reason recorded'}.")
    elif fit_top is None:
        notes.append("No measured rows for this cell.")
    else:
        _set_fit(row, fit_top, fit_l0, flags, notes)
    theory = _cell_theory(row, cell_rows, rnn, x, notes)
    if theory is None:
        flags.append("no-theory")
    else:
        extra, more_flags, more_notes = theory
        row.update(extra)
        flags += more_flags
        notes += more_notes
        if math.isnan(row["lyapunov"]) and row["status"] == "ok":
            notes.append("Lyapunov exponent: the forward pass overflowed.")
    _set_differences(row, notes)
    order = list(FLAGS)
    row["flag"] = ",".join(sorted(dict.fromkeys(flags), key=order.index))
    row["note"] = " ".join(notes)
    return {c: row[c] for c in SUMMARY_COLUMNS}


def _blank_row(cell: Mapping[str, Any]) -> dict[str, Any]:
    """A row of ``cell`` with its config, id and status, and nothing measured or predicted."""
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
        solved=None,
        steps_to_solve=None,
    )
    return row


#: The errors of a summary row's computation that leave its cell a row saying so
#: (:func:`unsummarized_row`): a value no code expects (an odd stored number, a config torch
#: refuses) fails as one of these. A stop (KeyboardInterrupt, SIGTERM's), MemoryError, an
#: OSError and VanishlabError (a user's mistake, one line) are not caught.
SUMMARY_FAILURES: tuple[type[Exception], ...] = (
    ArithmeticError,
    AttributeError,
    LookupError,
    RuntimeError,
    TypeError,
    ValueError,
)


def unsummarized_row(cell: Mapping[str, Any], err: Exception) -> dict[str, Any]:
    """The row of a cell whose summary row failed to compute with ``err`` (one of
    :data:`SUMMARY_FAILURES`): its config, id and status, nothing measured or predicted, the
    ``no-theory`` flag and the note "No summary: computing it failed (ValueError: ...)."."""
    row = _blank_row(cell)
    row["flag"] = "no-theory"
    row["note"] = f"{NO_SUMMARY} ({_error_text(err)})."
    return {c: row[c] for c in SUMMARY_COLUMNS}


def _error_text(err: BaseException) -> str:
    """``err`` as a note says it: its type and its text on one line, cut at 120 characters."""
    text = " ".join(str(err).split())
    text = text if len(text) <= 120 else text[:119] + "…"
    return f"{type(err).__name__}: {text}"


def _set_fit(
    row: dict[str, Any],
    fit_top: Mapping[str, Any],
    fit_l0: Mapping[str, Any] | None,
    flags: list[str],
    notes: list[str],
) -> None:
    """The fit of the top layer's state curve (and layer 0's rate) into ``row``, with its
    flags and notes."""
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


def _cell_theory(
    row: Mapping[str, Any],
    cell_rows: pd.DataFrame | None,
    rnn: nn.RNN | None,
    x: torch.Tensor | None,
    notes: list[str],
) -> tuple[dict[str, Any], list[str], list[str]] | None:
    """The cell's predictions (:func:`.cell_theory.cell_predictions`), or None with a note saying
    why it has none (a trained model, a config that lacks axes or cannot be rebuilt)."""
    model = row.get("model") if isinstance(row.get("model"), str) else "rnn"
    missing = [
        a
        for a in AXES
        if _absent(row[a])
        and a != "model"  # a run from before the model axis: its cells are nn.RNN
        and axis(a).applies(model)
    ]
    config: CellConfig | None = None
    if row["init"] == TRAINED_INIT:  # it said "cannot rebuild the cell (unknown init 'trained')"
        notes.append(
            "No theory: a trained model's weights were learned, not drawn at a known gain, and "
            "vanishlab's predictions describe random networks at initialisation."
        )
    elif missing:
        notes.append(f"No theory: the config lacks {', '.join(missing)}.")
    elif row["init"] not in INITS:  # "cannot rebuild the cell (unknown init ...; see `vanishlab
        # inits`)": the init was known where the cell was measured, only not in this process
        notes.append(f"No theory for {unregistered_reason([str(row['init'])])}.")
    else:
        try:
            # an axis the model does not take is left out (None in the store, "n/a" in the
            # report's frames): a cell given one is refused, where it was dropped
            given = {a: row[a] for a in AXES if not _absent(row[a]) and axis(a).applies(model)}
            config = CellConfig.from_dict(given)
        except VanishlabError as err:
            notes.append(f"No theory: cannot rebuild the cell ({err}).")
    if config is None:
        return None
    ok = row["status"] == "ok"
    try:
        return cell_predictions(config, cell_rows if ok else None, rnn, x)
    except Exception as err:
        # A failed cell's module and inputs are built again for its theory. One that failed
        # with an error (not an overflow) may fail the same way here: then it has no theory
        # and the report lists its error, instead of raising it again (a report of such a run
        # used to end in that traceback, every time).
        if ok:
            raise
        notes.append(f"No theory: it fails as the cell did ({_error_text(err)}).")
        return None


def _set_differences(row: dict[str, Any], notes: list[str]) -> None:
    """Measured minus predicted, into ``row`` (blank where both are the same infinity, with
    a note saying which)."""
    blank: list[float] = []
    for name, measured, predicted in (
        ("delta_rate", "rate", "predicted_rate"),
        ("delta_rate_layer0", "rate_layer0", "predicted_rate_layer0"),
        ("delta_lyapunov", "lyapunov", "predicted_rate_layer0"),
    ):
        m, p = float(row[measured]), float(row[predicted])
        if math.isinf(m) and math.isinf(p) and (m > 0) == (p > 0):
            row[name] = math.nan  # both -inf (exact zeros): agreement, but no number
            blank.append(m)
        else:
            row[name] = m - p
    # (It was said wherever both were infinite, of opposite signs too, whose difference is
    # an infinity, not a blank; and not for the layer-0 rate's blank.)
    for value in dict.fromkeys(blank):
        which = "−∞" if value < 0 else "+∞"
        notes.append(f"Measured and predicted are both {which}: their difference is left blank.")


def with_training(row: Mapping[str, Any], train: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row made at initialisation, with the outcome of the cell's training (a
    :func:`vanishlab.sweep.train_cell.train_record`): the same fields and note that
    :func:`summary_row` gives from the cell's training columns."""
    out = dict(row)
    notes = _set_training(out, train)
    out["note"] = " ".join([*notes, *([out["note"]] if out["note"] else [])])
    return out


def _set_training(row: dict[str, Any], values: Mapping[str, Any]) -> list[str]:
    """Set ``row``'s training fields from ``values`` (those it has); the notes they need."""
    for name, _ in TRAIN_FIELDS:
        value = _py(values.get(name))
        if not _absent(value):
            row[name] = value
    if row["solved"] is not None and math.isnan(float(row["final_loss"])):
        return ["Training diverged: no final loss."]
    return []


def _fit_layers(cell_rows: pd.DataFrame | None) -> dict[int, dict[str, Any]]:
    """:func:`vanishlab.fit_decay` (Frobenius, default window) of each state curve, by layer.

    A cell's rows as a sweep stores them (integer layers and lags, float64 norms, finite or
    -inf, each lag once per layer) are fitted as arrays (:func:`fit_curves`), the same numbers
    at a tenth of the cost of a frame's selection, fit and records; any other rows go through
    :func:`vanishlab.fit_decay`, whose refusals (a NaN norm, a lag twice) they keep."""
    if cell_rows is None or not len(cell_rows):
        return {}
    is_state = (cell_rows["source"] == "state").to_numpy(dtype=bool)
    if not is_state.any():
        return {}
    plain = _plain_curves(cell_rows, is_state)
    if plain is None:
        state = cell_rows[is_state]
        fitted = fit_decay(state[["layer", "lag", "log10_fro_mean"]], norm="fro")
        return {int(rec["layer"]): rec for rec in fitted.to_dict("records")}
    layer, lag, log10 = plain
    # each layer's curve numbered in the order it first appears, as fit_decay numbers them
    layers, first, g = np.unique(layer, return_index=True, return_inverse=True)
    columns = fit_curves(g, lag, log10, len(layers))
    fits: dict[int, dict[str, Any]] = {}
    for i in np.argsort(first, kind="stable"):
        rec: dict[str, Any] = {"layer": int(layers[i])}
        rec.update({c: _py(v[i]) for c, v in columns.items()})
        for c in ("zero_lag", "horizon"):  # fit_decay's nullable Int64 column: NA
            rec[c] = None if rec[c] == NO_LAG else rec[c]
        fits[rec["layer"]] = rec
    return fits


def _plain_curves(
    cell_rows: pd.DataFrame, is_state: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The state rows' layer, lag (int64) and log10 Frobenius norm (float64), where every check
    of :func:`vanishlab.fit_decay` surely passes: integer layers without a missing one, lags
    0..2**53, norms finite (below 1e300 in size) or -inf, no lag twice in a layer; else None.
    Rows with named index levels (fit_decay's keys, or a lag there too), without one of the
    three columns (the selection's KeyError, in its words) or with a column twice are
    fit_decay's too."""
    named = any(name is not None for name in cell_rows.index.names)
    names = cell_rows.columns
    if named or not names.is_unique or not {"layer", "lag", "log10_fro_mean"} <= set(names):
        return None
    columns = [cell_rows[c] for c in ("layer", "lag", "log10_fro_mean")]
    signed = all(c.dtype.kind == "i" for c in columns[:2])  # numpy's or pandas' nullable
    if not signed or columns[2].dtype != np.float64:
        return None
    if (is_state & (columns[0].isna() | columns[1].isna()).to_numpy()).any():
        return None  # (an input row's layer is missing: not a state row's)
    layer = columns[0].to_numpy(dtype=np.int64, na_value=0)[is_state]
    lag = columns[1].to_numpy(dtype=np.int64, na_value=0)[is_state]
    log10 = columns[2].to_numpy()[is_state]
    finite = np.isfinite(log10)
    if (
        not (finite | np.isneginf(log10)).all()
        or (len(log10[finite]) and np.abs(log10[finite]).max() > 1e300)
        or lag.min() < 0
        or lag.max() >= 2**53
    ):
        return None
    order = np.lexsort((lag, layer))
    if ((np.diff(layer[order]) == 0) & (np.diff(lag[order]) == 0)).any():
        return None
    return layer, lag, log10


def summarize_cell(
    config: CellConfig,
    frame: pd.DataFrame,
    *,
    status: str = "ok",
    reason: str | None = None,
    rnn: nn.RNN | None = None,
    x: torch.Tensor | None = None,
) -> dict[str, Any]:
    """The summary row of one measured cell: a dict with every :data:`SUMMARY_COLUMNS` key.

    A pure function of the cell's config, its measured frame (:func:`vanishlab.run_cell`'s
    rows), its status and, when at hand, its module and inputs (rebuilt from the config
    otherwise, bit-identically): the fitted rates, the top Lyapunov exponent, the linear,
    Pascanu and mean-field predictions, their differences, flags and notes (see the module
    docstring). :func:`vanishlab.summarize` gives the same row for the same cell.
    """
    record = {**config.to_dict(), "cell_id": config.cell_id, "status": status, "reason": reason}
    cols = [c for c in _ROW_INPUTS if c in frame.columns]
    return summary_row(record, frame[cols] if len(frame) else None, rnn=rnn, x=x)
