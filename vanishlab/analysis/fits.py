"""Decay rates, horizons and phases of measured Jacobian-norm curves.

For each curve (one per sample, source and layer; one per cell, source and layer for a sweep)
the rate is the least-squares slope of ln ||J(k)|| against the lag k,

    rate = d ln||J|| / dk    (natural-log units per step),

the unit of Lyapunov exponents and of ln(gain), so it compares with theory directly
(docs/theory.md). Every rate in vanishlab is in these units; only norms are log10. Short lags
carry a transient (the prefactor of the norm, and the spectral and Frobenius norms approaching
their common asymptotic slope), so the default window skips the
first quarter of the curve: lags from ``max(1, round(K / 4))`` to ``K``, the largest lag.

The phase reads the rate against :data:`PHASE_TOLERANCE` = 0.01 per step (a factor e over
100 steps): below -0.01 "vanishing", above +0.01 "exploding", otherwise "stable". The horizon
is the first lag whose norm is below 1e-3 of the lag-0 norm; of the curve's first lag with a
norm above 0 when lag 0 was left out of the frame or its norm is exactly 0 (an LSTM's
``state_c`` row at lag 0, where h_T does not depend on the state's c part; an input row of
stacked relu layers whose lower layer is all off at the last step); null when it never is.

A curve that reaches an exactly zero Jacobian for good (log10 = -inf at every lag from some
lag on: a relu network with every unit off) has ``zero_lag``, the first such lag. Its rate is
fitted on the window's finite lags before that zero (the decay until the path is cut), and
``note`` says so; when fewer than two such lags remain it vanishes infinitely fast: rate and
intercept -inf, r2 NaN. A zero that non-zero lags follow (in a stack: a lower layer's units all
off at one step, the layers above still carrying the gradient) is left out of the fit, with a
note, and is no ``zero_lag``. Every row without a zero or a short window has an empty note,
and ``zero_lag`` null.

``fit_decay(frame, by=("source", "layer"))`` aggregates the curves of each group (e.g. the
samples of one layer): the mean rate over the curves (-inf as soon as one curve vanishes
completely, as for the geometric mean of norms), the population standard deviation of the
finite rates, the minimum and maximum rate (the minimum -inf too when a curve vanishes), the
mean r2, how many curves reach an exact zero, and the phase of the mean rate.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..core.integers import as_integer

__all__ = [
    "HORIZON_DECADES",
    "PHASE_TOLERANCE",
    "checked_lags",
    "default_window",
    "fit_decay",
    "fitted_end",
    "horizon_at_zero",
    "index_as_columns",
    "norm_values",
    "phase_of",
]

PHASE_TOLERANCE = 0.01
HORIZON_DECADES = 3.0
_LN10 = math.log(10.0)


def fitted_end(rate: object, lag_end: object, zero_lag: object) -> np.ndarray:
    """The last lag a rate of :func:`fit_decay` was fitted on (its columns, elementwise; a
    missing ``zero_lag`` is NaN or inf): ``lag_end``, or the lag before an exact zero inside
    the window, where the fit stops (a rate of -inf fitted nothing: ``lag_end``)."""
    rate, end = np.asarray(rate, dtype=np.float64), np.asarray(lag_end, dtype=np.float64)
    zero = np.nan_to_num(np.asarray(zero_lag, dtype=np.float64), nan=np.inf)
    return np.where(np.isfinite(rate) & (zero <= end), zero - 1, end).astype(np.int64)


def horizon_at_zero(horizon: object, zero_lag: object) -> np.ndarray:
    """Whether a horizon of :func:`fit_decay` was reached because the Jacobian became exactly
    0 (its columns, elementwise; a missing ``horizon`` or ``zero_lag`` is NaN, NA or inf): the
    horizon lies at or past the curve's ``zero_lag``, so the norm (a geometric mean over the
    samples, -inf as soon as one sample's Jacobian is 0) fell 1000-fold by a zero, not by a
    decay. The reports mark such a horizon "(exact 0)"."""

    def lags(v: object) -> np.ndarray:
        return pd.array(np.atleast_1d(v), dtype="Float64").to_numpy(np.float64, na_value=np.nan)

    h, zero = lags(horizon), np.nan_to_num(lags(zero_lag), nan=np.inf)
    return np.isfinite(h) & (h >= zero)


def default_window(max_lag: int) -> tuple[int, int]:
    """The default fit window ``(start, end)``, inclusive, for lags 0..``max_lag``."""
    return (min(max(1, round(max_lag / 4)), max_lag), max_lag)


def phase_of(rate: float, tolerance: float = PHASE_TOLERANCE) -> str:
    """ "vanishing", "stable" or "exploding" for a rate in natural-log units per step."""
    if rate < -tolerance:
        return "vanishing"
    if rate > tolerance:
        return "exploding"
    return "stable"


def _checked_window(window: object) -> tuple[int, int | None] | None:
    """``window`` as ``(start, end)`` lags with 0 <= start <= end (end None: the last lag)."""
    if window is None:
        return None

    if not isinstance(window, tuple | list) or len(window) != 2:
        raise TypeError(f"window must be a (start, end) pair of lags, got {window!r}")
    # a Python or NumPy integer, or a 0-d integer tensor (core.integers)
    lo, hi = (None if v is None else as_integer(v, "a window lag") for v in window)
    if lo is None or lo < 0 or (window[1] is not None and (hi is None or hi < 0)):
        raise ValueError(f"window lags must be integers >= 0 (end may be None), got {window!r}")
    if hi is not None and hi < lo:
        raise ValueError(f"window must have start <= end, got {window!r}")
    return lo, hi


def index_as_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its named index levels as columns (``frame.set_index(["layer", "lag"])``:
    the lag or a key of the curves in the index, where they were not seen: a curve's key was
    left out of the fit's rows, and lags in the index named "no lag column"); unnamed levels
    (a RangeIndex, a filtered frame's labels) are no data. A name both in the index and among
    the columns is a ``ValueError``: which one is meant cannot be told."""
    named = [name for name in frame.index.names if name is not None]
    if not named:
        return frame
    both = [name for name in named if name in frame.columns]
    if both:
        raise ValueError(
            f"frame has {both[0]!r} both as an index level and as a column: drop one "
            "(frame.reset_index(drop=True) keeps the columns)"
        )
    return frame.reset_index(level=named)


def _value_column(frame: pd.DataFrame, norm: str) -> str:
    if "lag" not in frame.columns:
        raise ValueError("frame has no lag column: it is not a frame of Jacobian norms")
    for name in (f"log10_{norm}", f"log10_{norm}_mean"):
        if name in frame.columns:
            return name
    raise ValueError(f"frame has no log10_{norm} or log10_{norm}_mean column")


def checked_lags(frame: pd.DataFrame) -> np.ndarray:
    """The frame's ``lag`` column as int64, after checking that every lag is an integer >= 0
    (a whole number in a float column too): a ``ValueError`` naming the first that is not."""
    column = frame["lag"]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    try:  # strings ("3", an object column) and booleans are no lags, though numpy casts them
        lags = column.to_numpy(dtype=np.float64, na_value=np.nan) if numeric else None
    except (TypeError, ValueError):
        lags = None
    if lags is None:
        raise TypeError(f"frame's lag column must hold integers, got {column.dtype}")
    # below 2**53, where float64 holds every integer (1e20 wrapped when cast to int64)
    bad = ~(np.isfinite(lags) & (lags >= 0) & (lags == np.floor(lags)) & (lags < 2.0**53))
    if bad.any():
        first = lags[np.argmax(bad)]
        shown = int(first) if np.isfinite(first) and first == np.floor(first) else first
        raise ValueError(f"frame's lag column holds {shown}: lags are integers >= 0")
    return lags.astype(np.int64)


def _curve_at(df: pd.DataFrame, keys: list[str], at: int) -> tuple[str, object]:
    """The curve of ``df``'s row at position ``at`` (``"the curve sample=0, layer=1"``, or
    ``"the frame's one curve"`` without key columns) and that row's lag, as messages name them."""
    named = [k for k in keys if k != "_curve"]
    values = {k: df[k].iloc[at] for k in [*named, "lag"]}  # each in its column's own type
    values = {k: v.item() if isinstance(v, np.generic) else v for k, v in values.items()}
    if not named:
        return "the frame's one curve", values["lag"]
    return "the curve " + ", ".join(f"{k}={values[k]!r}" for k in named), values["lag"]


def _check_one_row_per_lag(df: pd.DataFrame, keys: list[str]) -> None:
    """Refuse a curve (group ``_g`` of ``keys``) that has some lag twice: frames of several
    modules or runs concatenated without a column that tells them apart."""
    twice = df.duplicated(["_g", "lag"]).to_numpy()
    if not twice.any():
        return
    curve, lag = _curve_at(df, keys, int(np.argmax(twice)))  # by position: labels may repeat
    raise ValueError(
        f"frame has lag {lag} more than once in {curve}: "
        "a curve is a group of the columns other than lag and the measurements, so this frame "
        "holds several curves under one key (frames of several modules or runs concatenated?); "
        "add a column that tells them apart, e.g. frame.assign(model=...)"
    )


def norm_values(frame: pd.DataFrame, value: str) -> np.ndarray:
    """The frame's ``value`` column (``log10_fro``, ...) as float64 (NA: NaN), after checking
    that it holds real numbers: strings ("-0.5", an object column), booleans and complex
    numbers are no norms, though numpy casts them (a ``TypeError`` naming the column)."""
    column = frame[value]
    if (
        not pd.api.types.is_numeric_dtype(column)
        or pd.api.types.is_bool_dtype(column)
        or pd.api.types.is_complex_dtype(column)
    ):
        raise TypeError(f"frame's {value} column must hold real numbers, got {column.dtype}")
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_norms(df: pd.DataFrame, keys: list[str], value: str, y: np.ndarray) -> None:
    """Refuse a NaN or +inf log-norm ``y`` (column ``value``): a norm's log10 is finite, or
    -inf for an exactly zero Jacobian."""
    bad = np.isnan(y) | np.isposinf(y)
    if not bad.any():
        return
    at = int(np.argmax(bad))
    curve, lag = _curve_at(df, keys, at)
    raise ValueError(
        f"frame's {value} holds {y[at] / _LN10} at lag {lag} of {curve}: a log10 norm is "
        "finite, or -inf for an exactly zero Jacobian"
    )


def fit_decay(
    frame: pd.DataFrame,
    *,
    norm: str = "fro",
    window: tuple[int, int | None] | None = None,
    phase_tolerance: float = PHASE_TOLERANCE,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Fit the decay rate of every curve in a Jacobian-norm frame, or of groups of curves.

    Args:
        frame: from :func:`vanishlab.jacobian_norms` (``log10_fro``/``log10_spec``) or a sweep
            (``log10_fro_mean``/...). A curve is one group of all columns except ``lag`` and the
            measurement columns (``log10_*``, ``n_zero``); a lag twice in one curve (frames of
            several modules concatenated) is a ``ValueError``, and so is a NaN or +inf norm
            (-inf, an exactly zero Jacobian, is taken). Named index levels count as columns
            (``frame.set_index(["layer", "lag"])``); unnamed ones are ignored.
        norm: ``"fro"`` or ``"spec"``.
        window: inclusive lag range ``(start, end)`` to fit; ``end=None`` means the last lag.
            Default: :func:`default_window` of each curve's largest lag. A ``start`` past the
            last lag of every curve is a ``ValueError``; a curve of a frame of several lengths
            whose last lag it is past fits nothing (rate NaN, ``lag_end`` = ``lag_start``,
            ``n_points`` 0, and its note says so).
        phase_tolerance: the |rate| below which a curve counts as "stable".
        by: key columns to keep, e.g. ``("source", "layer")`` or ``"layer"``: the curves of
            each group of those columns (the samples, for :func:`vanishlab.jacobian_norms`)
            are fitted one by one and summarised in one row (see the module docstring).

    Returns:
        Without ``by``, one row per curve: its key columns, then ``rate`` (natural log per
        step), ``intercept`` (ln-norm at lag 0 of the fitted line), ``r2``, ``lag_start``,
        ``lag_end``, ``n_points``, ``zero_lag`` and ``horizon`` (nullable Int64), ``phase``,
        ``note``. With ``by``, one row per group: the ``by`` columns, ``n_curves``,
        ``rate_mean``, ``rate_std``, ``rate_min``, ``rate_max``, ``r2_mean``, ``n_zero``
        (curves cut to an exact zero Jacobian for good: with a ``zero_lag``), ``phase`` (of
        ``rate_mean``).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas.DataFrame of Jacobian norms (as vl.jacobian_norms or "
            f"vl.load_results give), got {type(frame).__name__}"
        )
    window = _checked_window(window)
    if isinstance(phase_tolerance, bool) or not isinstance(phase_tolerance, numbers.Real):
        raise TypeError(f"phase_tolerance must be a number, got {phase_tolerance!r}")
    if not 0 <= phase_tolerance < math.inf:  # NaN called every curve "stable"
        raise ValueError(f"phase_tolerance must be a finite number >= 0, got {phase_tolerance}")
    if by is not None:
        if not isinstance(by, str | Iterable):  # by=3 failed as "'int' object is not iterable"
            raise TypeError(f"by must be a column name or a sequence of them, got {by!r:.60}")
        fits = fit_decay(frame, norm=norm, window=window, phase_tolerance=phase_tolerance)
        return _aggregate(fits, [by] if isinstance(by, str) else list(by), phase_tolerance)
    if norm not in ("fro", "spec"):
        raise ValueError(f"norm must be 'fro' or 'spec', got {norm!r}")
    frame = index_as_columns(frame)
    value = _value_column(frame, norm)
    keys = [c for c in frame.columns if c != "lag" and not c.startswith("log10_") and c != "n_zero"]
    df = frame[[*keys, "lag", value]].reset_index(drop=True)  # labels of concat() repeat
    df["lag"] = checked_lags(df)
    if not keys:  # one curve (e.g. vl.origin_log_norms): no key column to group by
        keys = ["_curve"]
        df["_curve"] = 0
    df["_g"] = df.groupby(keys, dropna=False, sort=False).ngroup()
    _check_one_row_per_lag(df, keys)
    g = df["_g"].to_numpy()
    lag = df["lag"].to_numpy()
    y = norm_values(df, value) * _LN10  # ln ||J||
    _check_norms(df, keys, value, y)
    n_groups = int(g.max()) + 1 if len(g) else 0

    max_lag = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(max_lag, g, lag)
    if window is None:
        start = np.array([default_window(int(k))[0] for k in max_lag], dtype=np.int64)
        end = max_lag.copy()
    else:
        lo, hi = window
        if n_groups and lo > max_lag.max():  # it read lag_start 50, lag_end 10: inverted
            raise ValueError(
                f"window starts at lag {lo}, past the last lag of every curve (the largest is "
                f"{max_lag.max()}): nothing to fit, got window={window!r}"
            )
        start = np.full(n_groups, int(lo), dtype=np.int64)
        end = max_lag.copy() if hi is None else np.minimum(max_lag, int(hi))
        end = np.maximum(end, start)  # past a curve's last lag: an empty window, not inverted
    past = start > max_lag
    inside = (lag >= start[g]) & (lag <= end[g])
    # An exact zero at lag k makes every later Jacobian zero too in one layer: the curve is
    # cut there for good, the rate describes the decay *before* it, and ``zero_lag`` says
    # where. In a stack a zero can be followed by non-zero lags (a lower layer's units all off
    # at one step, while the layers above still carry the gradient): such a zero is only
    # skipped by the fit. ``zero_lag`` is the first lag of the zeros that nothing follows.
    finite = np.isfinite(y)
    last_finite = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(last_finite, g[finite], lag[finite])
    zero_lag = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    zeros = np.isneginf(y) & (lag > last_finite[g])
    np.minimum.at(zero_lag, g[zeros], lag[zeros])
    passing = np.isneginf(y) & ~zeros & inside  # zeros with non-zero lags after them
    first_passing = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_passing, g[passing], lag[passing])
    n_passing = np.bincount(g[passing], minlength=n_groups)
    use = inside & finite & (lag < zero_lag[g])

    def gsum(v: np.ndarray) -> np.ndarray:
        return np.bincount(g[use], weights=v[use], minlength=n_groups)

    x = lag.astype(np.float64)
    n = gsum(np.ones_like(x))
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = gsum(x) / n, gsum(y) / n
        # Centred sums: stable even for very large log-norms.
        dx, dy = x - mx[g], y - my[g]
        sxx, sxy, syy = gsum(dx * dx), gsum(dx * dy), gsum(dy * dy)
        rate = sxy / sxx
        intercept = my - rate * mx
        # A flat line (syy at rounding level) is a perfect fit, not 0/0. At most 1 (Cauchy-
        # Schwarz): the rounding of an exact line's sums read 1 + 2 ulp.
        flat = syy <= 1e-24 * n * (1.0 + my * my)
        r2 = np.where(flat, 1.0, np.minimum(sxy * sxy / (sxx * syy), 1.0))
    has_zero = (zero_lag <= end) & ~past  # a window past the curve: no lag of it is seen
    few = n < 2
    rate[few], intercept[few], r2[few] = np.nan, np.nan, np.nan
    note = np.full(n_groups, "", dtype=object)
    for i in np.flatnonzero(few | has_zero | (n_passing > 0)):
        parts = []
        if n_passing[i]:
            more = f" and {n_passing[i] - 1} more" if n_passing[i] > 1 else ""
            parts.append(
                f"exact zero Jacobian at lag {first_passing[i]}{more}, non-zero again after "
                "it: left out of the fit"
            )
        if has_zero[i]:
            parts.append(
                f"exact zero Jacobian from lag {zero_lag[i]} on"
                + (": vanishes completely" if few[i] else "; rate fitted before it")
            )
        elif past[i]:
            parts.append(f"the window starts past the curve's last lag ({max_lag[i]})")
        elif few[i]:
            parts.append("fewer than 2 finite points in the window")
        note[i] = "; ".join(parts)
    vanished = has_zero & few
    rate[vanished], intercept[vanished] = -np.inf, -np.inf

    # Horizon: first lag whose norm is below 1e-3 of the curve's lag-0 norm (its smallest lag's
    # with a norm above 0: an LSTM's state_c row is exactly 0 at lag 0, and had no horizon).
    logv = df[value].to_numpy(dtype=np.float64)
    first = df[logv != -np.inf].groupby("_g")["lag"].idxmin()
    ref, ref_lag = np.full(n_groups, np.nan), np.zeros(n_groups, dtype=np.int64)
    ref[df.loc[first, "_g"].to_numpy()] = df.loc[first, value].to_numpy(dtype=np.float64)
    ref_lag[df.loc[first, "_g"].to_numpy()] = df.loc[first, "lag"].to_numpy()
    with np.errstate(invalid="ignore"):
        below = np.isfinite(ref[g]) & (logv <= ref[g] - HORIZON_DECADES) & (lag > ref_lag[g])
    horizon = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(horizon, g[below], lag[below])
    horizon_col = pd.array(horizon, dtype="Int64")
    horizon_col[horizon == np.iinfo(np.int64).max] = pd.NA

    out = df.drop_duplicates("_g").sort_values("_g")[keys].reset_index(drop=True)
    out["rate"] = rate
    out["intercept"] = intercept
    out["r2"] = r2
    out["lag_start"] = start
    out["lag_end"] = end
    out["n_points"] = n.astype(np.int64)
    zero_col = pd.array(zero_lag, dtype="Int64")
    zero_col[zero_lag == np.iinfo(np.int64).max] = pd.NA
    out["zero_lag"] = zero_col
    out["horizon"] = horizon_col
    out["phase"] = [
        "vanishing"
        if np.isneginf(r)
        else ("undetermined" if np.isnan(r) else phase_of(r, phase_tolerance))
        for r in rate
    ]
    out["note"] = note
    return out.drop(columns="_curve", errors="ignore")


def _aggregate(fits: pd.DataFrame, by: list[str], tolerance: float) -> pd.DataFrame:
    """One row per group of ``by`` columns of per-curve fits (see :func:`fit_decay`)."""
    missing = [c for c in by if c not in fits.columns or c in _FIT_COLUMNS]
    if missing or not by:
        keys = [c for c in fits.columns if c not in _FIT_COLUMNS]
        raise ValueError(f"by must name key columns of the frame ({', '.join(keys)}), got {by}")
    rows = []
    for key, group in fits.groupby(by, dropna=False, sort=True):
        rate = group["rate"].to_numpy(dtype=np.float64)
        finite = rate[np.isfinite(rate)]
        known = rate[~np.isnan(rate)]
        mean = float(known.mean()) if len(known) else math.nan  # -inf if a curve vanished
        r2 = group["r2"].to_numpy(dtype=np.float64)
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "n_curves": len(group),
                "rate_mean": mean,
                "rate_std": float(finite.std()) if len(finite) else math.nan,
                "rate_min": float(known.min()) if len(known) else math.nan,
                "rate_max": float(known.max()) if len(known) else math.nan,
                "r2_mean": float(np.nanmean(r2)) if np.isfinite(r2).any() else math.nan,
                "n_zero": int(group["zero_lag"].notna().sum()),
                "phase": "vanishing"
                if mean == -math.inf
                else ("undetermined" if math.isnan(mean) else phase_of(mean, tolerance)),
            }
        )
    out = pd.DataFrame(rows, columns=[*by, *_AGGREGATE_COLUMNS])  # no rows: no groups
    for c in by:
        if c in fits.columns:
            out[c] = out[c].astype(fits[c].dtype)
    return out


_AGGREGATE_COLUMNS = (
    "n_curves",
    "rate_mean",
    "rate_std",
    "rate_min",
    "rate_max",
    "r2_mean",
    "n_zero",
    "phase",
)
_FIT_COLUMNS = (
    "rate",
    "intercept",
    "r2",
    "lag_start",
    "lag_end",
    "n_points",
    "zero_lag",
    "horizon",
    "phase",
    "note",
)
