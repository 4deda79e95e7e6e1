"""Fits aggregated over a setting's seeds: one row per setting (mean rate, its spread, the
seeds at -inf or cut by an exact zero, the median horizon, one phase), computed once per view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.fits import fitted_end, horizon_at_zero
from ..view import RunView

__all__ = ["MIXED", "is_mixed", "partial_zero", "setting_fits", "top_setting_fits"]

#: The phase of a setting whose seeds' phases differ, followed by how many seeds have each:
#: "mixed (1 vanishing, 1 stable)".
MIXED = "mixed"


def setting_fits(view: RunView, fits: pd.DataFrame) -> pd.DataFrame:
    """Fits aggregated over seeds: one row per setting."""
    keys = [c for c in view.setting_columns if c in fits]
    if not len(fits):
        return fits
    rate = fits["rate"].to_numpy(dtype=np.float64)
    horizon = fits["horizon"].astype("Float64").fillna(np.inf).to_numpy(dtype=np.float64)
    work = fits[keys].copy()
    work["rate"] = rate
    work["finite_rate"] = np.where(np.isfinite(rate), rate, np.nan)
    work["zero"] = np.isneginf(rate)
    # A seed whose Jacobian becomes exactly 0 inside the fit window keeps the rate fitted
    # before the zero (fit_decay's zero_lag); it is counted and the table says from which lag.
    if "zero_lag" in fits:
        zero_lag = fits["zero_lag"].astype("Float64").fillna(np.inf).to_numpy(dtype=np.float64)
    else:
        zero_lag = np.full(len(fits), np.inf)
    work["cut"] = np.isfinite(rate) & (zero_lag <= fits["lag_end"].to_numpy())
    work["zero_from"] = zero_lag
    # The lag the rate cell names: the cut seeds' own zeros (a seed at -inf is counted apart).
    work["cut_from"] = np.where(work["cut"], zero_lag, np.inf)
    work["cut_last"] = np.where(work["cut"], zero_lag, -np.inf)
    work["horizon"] = horizon
    work["r2"] = fits["r2"].to_numpy(dtype=np.float64)
    work["phase"] = fits["phase"].astype(str).to_numpy()
    work["lag_start"] = fits["lag_start"].to_numpy()
    work["lag_end"] = fits["lag_end"].to_numpy()
    # The lags a seed's finite rate was fitted on (window, up to its zero); NaN: none fitted.
    end = fitted_end(rate, work["lag_end"], zero_lag)
    work["fit_end"] = np.where(np.isfinite(rate), end, np.nan)
    # A horizon at or past the seed's first exact zero: the batch's geometric mean fell
    # 1000x because some samples' Jacobians are exactly 0 there, not by decay.
    work["zero_horizon"] = horizon_at_zero(horizon, zero_lag)
    g = work.groupby(keys, sort=False, dropna=False)
    out = g.agg(
        n=("rate", "size"),
        n_zero=("zero", "sum"),
        n_cut=("cut", "sum"),
        zero_from=("zero_from", "min"),
        cut_from=("cut_from", "min"),
        cut_last=("cut_last", "max"),
        rate=("finite_rate", "mean"),
        lo=("finite_rate", "min"),
        hi=("finite_rate", "max"),
        n_finite=("finite_rate", "count"),
        sd=("finite_rate", "std"),
        horizon=("horizon", "median"),
        r2=("r2", "mean"),
        lag_start=("lag_start", "min"),
        lag_end=("lag_end", "max"),
        fit_end=("fit_end", "max"),
        zero_horizons=("zero_horizon", "sum"),
    )
    out["horizon_at_zero"] = (out["zero_horizons"] > 0) & (out["horizon"] >= out["zero_from"])
    # One phase per setting; only the settings whose seeds disagree are counted out.
    phase = g["phase"].first().astype(str)
    mixed = g["phase"].nunique() > 1
    for key in phase.index[mixed.to_numpy()]:
        phase[key] = _consensus(g.get_group(key if isinstance(key, tuple) else (key,))["phase"])
    out["phase"] = phase
    # Seeds whose rate is -inf (an exact zero in the window) are left out of the mean, and
    # counted; only when every seed has one is the setting's rate -inf.
    out.loc[out["n_zero"] == out["n"], "rate"] = -np.inf
    return view.setting_order(out.reset_index(), keys)


def top_setting_fits(view: RunView) -> pd.DataFrame:
    """:func:`setting_fits` of the top layer's state fits, computed once per view."""
    return view.memo("top setting fits", lambda: setting_fits(view, view.top_fits))


def partial_zero(rec: Mapping[str, Any]) -> bool:
    """Some, not all, seeds of this setting have a rate of -inf."""
    return 0 < int(rec["n_zero"]) < int(rec["n"])


def _consensus(phases: pd.Series) -> str:
    counts = phases.value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    parts = ", ".join(f"{int(n)} {p}" for p, n in sorted(counts.items(), key=lambda t: -t[1]))
    return f"{MIXED} ({parts})"


def is_mixed(phase: object) -> bool:
    """Whether a setting's phase (:func:`setting_fits`) is :data:`MIXED`."""
    return str(phase).startswith(MIXED)
