"""A frame of Jacobian norms read and checked, as :func:`vanishlab.fit_decay` and
:func:`vanishlab.check_pascanu` take it: its index levels as columns, its lags, its norms, the
column that holds them, one row per lag of a curve, and a fit window's lags. Each refusal is
one line that names the curve and the lag it is about.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.integers import as_integer

__all__ = [
    "check_norms",
    "check_one_row_per_lag",
    "checked_lags",
    "checked_window",
    "index_as_columns",
    "norm_values",
    "value_column",
]


def checked_window(window: object) -> tuple[int, int | None] | None:
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


def value_column(frame: pd.DataFrame, norm: str) -> str:
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


def check_one_row_per_lag(df: pd.DataFrame, keys: list[str]) -> None:
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


_MAX_LOG10 = float(np.finfo(np.float64).max / np.log(10.0))
"""The largest log10 norm whose natural log is finite in float64 (about 7.8e307)."""


def check_norms(df: pd.DataFrame, keys: list[str], value: str, y: np.ndarray) -> None:
    """Refuse a NaN or +inf log10 norm ``y`` (column ``value``): a norm's log10 is finite, or
    -inf for an exactly zero Jacobian. One whose natural log overflows to +inf (beyond
    :data:`_MAX_LOG10`) is refused too: the fit, in ln, would leave it out unsaid."""
    bad = np.isnan(y) | (y > _MAX_LOG10)
    if not bad.any():
        return
    at = int(np.argmax(bad))
    curve, lag = _curve_at(df, keys, at)
    raise ValueError(
        f"frame's {value} holds {y[at]} at lag {lag} of {curve}: a log10 norm is "
        "finite, or -inf for an exactly zero Jacobian"
    )
