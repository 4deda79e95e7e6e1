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
from typing import NamedTuple, SupportsIndex

import numpy as np
import pandas as pd

from ..core.log_units import LN10
from .norm_frame import (
    check_norms,
    check_one_row_per_lag,
    checked_lags,
    checked_window,
    index_as_columns,
    norm_values,
    value_column,
)

__all__ = [
    "HORIZON_DECADES",
    "NO_LAG",
    "PHASE_TOLERANCE",
    "checked_lags",
    "default_window",
    "fit_curves",
    "fit_decay",
    "fitted_end",
    "fold_steps",
    "horizon_at_zero",
    "index_as_columns",
    "norm_values",
    "phase_of",
]

PHASE_TOLERANCE = 0.01
HORIZON_DECADES = 3.0


def fold_steps(rate: float, decades: float = HORIZON_DECADES) -> float:
    """The steps a norm changing at ``rate`` (natural log per step, nonzero) takes to change
    ``10**decades``-fold: ``decades`` ln 10 / |rate|."""
    return decades * LN10 / abs(rate)


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


def fit_decay(
    frame: pd.DataFrame,
    *,
    norm: str = "fro",
    window: tuple[int | SupportsIndex, int | SupportsIndex | None] | None = None,
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
        window: inclusive lag range ``(start, end)`` to fit; ``end=None`` means the last lag
            (each lag an integer: a NumPy integer or a 0-d integer tensor too).
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
    window = checked_window(window)
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
    df, keys, value = _curves(frame, norm)
    g = df["_g"].to_numpy()
    y = norm_values(df, value)
    check_norms(df, keys, value, y)
    n_groups = int(g.max()) + 1 if len(g) else 0
    columns = fit_curves(g, df["lag"].to_numpy(), y, n_groups, window, phase_tolerance)
    columns["zero_lag"] = _nullable_lags(columns["zero_lag"])
    columns["horizon"] = _nullable_lags(columns["horizon"])

    # Each curve's first row (curves are numbered in the order they first appear), its keys;
    # the frame built at once, where a column set at a time took a third of a small cell's fit.
    firsts = np.unique(g, return_index=True)[1]
    named = df[[k for k in keys if k != "_curve"]].iloc[firsts].reset_index(drop=True)
    return pd.concat([named, pd.DataFrame(columns, index=named.index)], axis=1)


def fit_curves(
    g: np.ndarray,
    lag: np.ndarray,
    log10: np.ndarray,
    n_groups: int,
    window: tuple[int, int | None] | None = None,
    phase_tolerance: float = PHASE_TOLERANCE,
) -> dict[str, np.ndarray | list[str]]:
    """:func:`fit_decay`'s columns of curves given as arrays that pass its checks (the caller
    makes them): each row's curve ``g`` (0..n_groups-1), its ``lag`` (int64, >= 0, once per
    curve) and its log10 norm (float64, finite or -inf); ``window`` as :func:`checked_window`
    gives it. ``zero_lag`` and ``horizon`` are int64, :data:`NO_LAG` where a curve has none."""
    y = log10 * LN10  # ln ||J||
    max_lag = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(max_lag, g, lag)
    start, end = _window_lags(max_lag, window)
    past = start > max_lag
    inside = (lag >= start[g]) & (lag <= end[g])
    zeros = _exact_zeros(g, lag, y, inside, n_groups)
    use = inside & np.isfinite(y) & (lag < zeros.zero_lag[g])
    n, rate, intercept, r2 = _least_squares(g[use], lag[use], y[use], n_groups)
    has_zero = (zeros.zero_lag <= end) & ~past  # a window past the curve: no lag of it is seen
    few = n < 2
    rate[few], intercept[few], r2[few] = np.nan, np.nan, np.nan
    note = _notes(zeros, few, has_zero, past, max_lag)
    vanished = has_zero & few
    rate[vanished], intercept[vanished] = -np.inf, -np.inf
    phase = [
        "vanishing"
        if np.isneginf(r)
        else ("undetermined" if np.isnan(r) else phase_of(r, phase_tolerance))
        for r in rate
    ]
    return {
        "rate": rate,
        "intercept": intercept,
        "r2": r2,
        "lag_start": start,
        "lag_end": end,
        "n_points": n.astype(np.int64),
        "zero_lag": zeros.zero_lag,
        "horizon": _horizons(g, lag, log10, n_groups),
        "phase": phase,
        "note": note,
    }


NO_LAG = np.iinfo(np.int64).max
""":func:`fit_curves`' lag of a curve that has none (no zero, no horizon)."""


def _curves(frame: pd.DataFrame, norm: str) -> tuple[pd.DataFrame, list[str], str]:
    """The frame's key columns, lag and norm ``value`` column, each row numbered ``_g`` by its
    curve (the key columns' group; ``_curve``, one curve, where there are none), checked: lags
    integers, no lag twice in a curve; and the keys and the value column's name."""
    frame = index_as_columns(frame)
    value = value_column(frame, norm)
    keys = [c for c in frame.columns if c != "lag" and not c.startswith("log10_") and c != "n_zero"]
    df = frame[[*keys, "lag", value]].reset_index(drop=True)  # labels of concat() repeat
    df["lag"] = checked_lags(df)
    if not keys:  # one curve (e.g. vl.origin_log_norms): no key column to group by
        keys = ["_curve"]
        df["_curve"] = 0
    df["_g"] = df.groupby(keys, dropna=False, sort=False).ngroup()
    check_one_row_per_lag(df, keys)
    return df, keys, value


def _window_lags(
    max_lag: np.ndarray, window: tuple[int, int | None] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Each curve's first and last lag fitted, from its largest lag ``max_lag`` and the
    ``window`` asked for (None: :func:`default_window`)."""
    if window is None:
        start = np.array([default_window(int(k))[0] for k in max_lag], dtype=np.int64)
        return start, max_lag.copy()
    lo, hi = window
    if len(max_lag) and lo > max_lag.max():  # it read lag_start 50, lag_end 10: inverted
        raise ValueError(
            f"window starts at lag {lo}, past the last lag of every curve (the largest is "
            f"{max_lag.max()}): nothing to fit, got window={window!r}"
        )
    start = np.full(len(max_lag), int(lo), dtype=np.int64)
    end = max_lag.copy() if hi is None else np.minimum(max_lag, int(hi))
    return start, np.maximum(end, start)  # past a curve's last lag: an empty window, not inverted


class _Zeros(NamedTuple):
    """Each curve's exact zero Jacobians (log-norm -inf), by curve."""

    zero_lag: np.ndarray  # the first of the zeros that nothing follows (NO_LAG: none)
    first_passing: np.ndarray  # the first zero in the window that non-zero lags follow
    n_passing: np.ndarray  # how many such zeros the window holds


def _exact_zeros(
    g: np.ndarray, lag: np.ndarray, y: np.ndarray, inside: np.ndarray, n_groups: int
) -> _Zeros:
    """Where each curve's norm ``y`` is exactly zero: for good, or passing (``inside`` the
    window, with non-zero lags after it)."""
    # An exact zero at lag k makes every later Jacobian zero too in one layer: the curve is
    # cut there for good, the rate describes the decay *before* it, and ``zero_lag`` says
    # where. In a stack a zero can be followed by non-zero lags (a lower layer's units all off
    # at one step, while the layers above still carry the gradient): such a zero is only
    # skipped by the fit. ``zero_lag`` is the first lag of the zeros that nothing follows.
    finite = np.isfinite(y)
    last_finite = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(last_finite, g[finite], lag[finite])
    zero_lag = np.full(n_groups, NO_LAG, dtype=np.int64)
    zeros = np.isneginf(y) & (lag > last_finite[g])
    np.minimum.at(zero_lag, g[zeros], lag[zeros])
    passing = np.isneginf(y) & ~zeros & inside  # zeros with non-zero lags after them
    first_passing = np.full(n_groups, NO_LAG, dtype=np.int64)
    np.minimum.at(first_passing, g[passing], lag[passing])
    return _Zeros(zero_lag, first_passing, np.bincount(g[passing], minlength=n_groups))


def _least_squares(
    g: np.ndarray, lag: np.ndarray, y: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each curve's least-squares line of ``y`` (ln-norms) against ``lag``, from the points
    of curve ``g`` it is fitted on: their count, the slope (the rate), the intercept and r2
    (NaN where fewer than 2 points)."""

    def gsum(v: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=v, minlength=n_groups)

    x = lag.astype(np.float64)
    n = gsum(np.ones_like(x))
    # Each curve's ln-norms scaled by a power of two, 2**-e, to below 1 in size where they
    # are larger (e = 0 for the rest): exact, so a curve of ordinary norms fits to the same
    # bits, while the sums of squares of a curve of log10 norms near 1e300 no longer overflow
    # (numpy warned, and rate and r2 came out inf or NaN). The rate and intercept are scaled
    # back; r2 does not change with the scale.
    peak = np.zeros(n_groups)
    np.maximum.at(peak, g, np.abs(y))
    e = np.maximum(np.frexp(peak)[1], 0)
    y = np.ldexp(y, -e[g])
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = gsum(x) / n, gsum(y) / n
        # Centred sums: stable even for very large log-norms.
        dx, dy = x - mx[g], y - my[g]
        sxx, sxy, syy = gsum(dx * dx), gsum(dx * dy), gsum(dy * dy)
        rate = sxy / sxx
        intercept = my - rate * mx
        # A flat line (syy at rounding level) is a perfect fit, not 0/0. At most 1 (Cauchy-
        # Schwarz): the rounding of an exact line's sums read 1 + 2 ulp. (1 + my^2 at the
        # curve's scale: 4**-e + my^2.)
        flat = syy <= 1e-24 * n * (np.ldexp(1.0, -2 * e) + my * my)
        r2 = np.where(flat, 1.0, np.minimum(sxy * sxy / (sxx * syy), 1.0))
    with np.errstate(over="ignore"):  # a slope beyond the float range is inf, as it is
        return n, np.ldexp(rate, e), np.ldexp(intercept, e), r2


def _notes(
    zeros: _Zeros, few: np.ndarray, has_zero: np.ndarray, past: np.ndarray, max_lag: np.ndarray
) -> np.ndarray:
    """Each curve's note: the zeros left out of its fit or that end it, a window past its last
    lag, too few points; "" for the rest."""
    note = np.full(len(few), "", dtype=object)
    for i in np.flatnonzero(few | has_zero | (zeros.n_passing > 0)):
        parts = []
        if zeros.n_passing[i]:
            n_passing = zeros.n_passing[i]
            more = f" and {n_passing - 1} more" if n_passing > 1 else ""
            parts.append(
                f"exact zero Jacobian at lag {zeros.first_passing[i]}{more}, non-zero again "
                "after it: left out of the fit"
            )
        if has_zero[i]:
            parts.append(
                f"exact zero Jacobian from lag {zeros.zero_lag[i]} on"
                + (": vanishes completely" if few[i] else "; rate fitted before it")
            )
        elif past[i]:
            parts.append(f"the window starts past the curve's last lag ({max_lag[i]})")
        elif few[i]:
            parts.append("fewer than 2 finite points in the window")
        note[i] = "; ".join(parts)
    return note


def _horizons(g: np.ndarray, lag: np.ndarray, logv: np.ndarray, n_groups: int) -> np.ndarray:
    """Each curve's horizon (:data:`NO_LAG`: none): its first lag whose norm is below 1e-3 of
    the curve's lag-0 norm (its smallest lag's with a norm above 0: an LSTM's state_c row is
    exactly 0 at lag 0, and had no horizon)."""
    # Each curve's reference row: its smallest lag above -inf (one row: no lag twice in a
    # curve). numpy, where a groupby's idxmin took a fifth of a small cell's fit.
    above = logv != -np.inf
    first_lag = np.full(n_groups, NO_LAG, dtype=np.int64)
    np.minimum.at(first_lag, g[above], lag[above])
    first = above & (lag == first_lag[g])
    ref, ref_lag = np.full(n_groups, np.nan), np.zeros(n_groups, dtype=np.int64)
    ref[g[first]] = logv[first]
    ref_lag[g[first]] = lag[first]
    with np.errstate(invalid="ignore"):
        below = np.isfinite(ref[g]) & (logv <= ref[g] - HORIZON_DECADES) & (lag > ref_lag[g])
    horizon = np.full(n_groups, NO_LAG, dtype=np.int64)
    np.minimum.at(horizon, g[below], lag[below])
    return horizon


def _nullable_lags(lags: np.ndarray) -> pd.arrays.IntegerArray:
    """Lags as a nullable Int64 column: :data:`NO_LAG` is NA."""
    column = pd.array(lags, dtype="Int64")
    column[lags == NO_LAG] = pd.NA
    return column


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
        mean, std = _mean_std(known, finite)  # the mean -inf if a curve vanished
        r2 = group["r2"].to_numpy(dtype=np.float64)
        rows.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                "n_curves": len(group),
                "rate_mean": mean,
                "rate_std": std,
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


def _mean_std(known: np.ndarray, finite: np.ndarray) -> tuple[float, float]:
    """The mean of the rates ``known`` (not NaN) and the population standard deviation of the
    ``finite`` ones (NaN where there are none), taken at the scale 2**-e that brings the
    largest finite rate below 1 in size (e = 0 for smaller ones: the same bits): rates fitted
    to log10 norms near 1e300 overflowed the sum of squares, inf with numpy's warning."""
    peak = float(np.abs(finite).max()) if len(finite) else 0.0
    e = max(math.frexp(peak)[1], 0)
    mean = float(np.ldexp(np.ldexp(known, -e).mean(), e)) if len(known) else math.nan
    std = float(np.ldexp(np.ldexp(finite, -e).std(), e)) if len(finite) else math.nan
    return mean, std


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
