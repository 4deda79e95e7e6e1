"""How far and how precisely the page of a trained model (:mod:`.long_deps`) continues a
curve's fitted line past the lags it measured: never where the fit is not one to continue
(:func:`untrusted_fit`), to :func:`reach` of its lags at most, and as an order of magnitude
(:func:`magnitude_text`); a measured factor keeps two digits (:func:`factor_text`).
Measured in benchmarks/extrapolation_rule.py (its logs in benchmarks/results/)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...sweep.summary_fields import POOR_FIT_R2
from ..format import SCIENTIFIC_FROM, fixed

__all__ = [
    "CONTINUED_OFF",
    "EXTRAPOLATION_REACH",
    "MIN_EXTRAPOLATED_POINTS",
    "REACH_WORDS",
    "factor_text",
    "magnitude_text",
    "poor_fit",
    "reach",
    "untrusted_clause",
    "untrusted_fit",
]


def factor_text(decades: float) -> str:
    """A factor given by its log10 (``decades``), two significant digits: "0.52", "12",
    "240", "3.2e-4", "4.1e+15"; never through 10**decades, which underflows far before the engine's
    norms do (a factor of 1e-3000). Past :data:`~vanishlab.report.format.SCIENTIFIC_FROM`
    decades (hand-made log10 norms near 1e300) the factor is ``10^`` its decades, in
    scientific notation: "10^-2.952e+297", where the mantissa had no digit left and the
    exponent was written in its 298 digits."""
    if not math.isfinite(decades):
        return "0" if decades < 0 else "—"
    if abs(decades) >= SCIENTIFIC_FROM:
        return f"10^{fixed(decades, 3)}"
    exponent = math.floor(decades)
    mantissa = round(10 ** (decades - exponent), 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    if -2 <= exponent <= 2:
        return f"{mantissa * 10.0**exponent:.{max(0, 1 - exponent)}f}"
    return f"{mantissa:.1f}e{exponent:+d}"


def magnitude_text(decades: float) -> str:
    """A factor continued on a fitted line, given by its log10 (``decades``), as its order of
    magnitude: "~10^-3", "~1", "~10", "~10^15" (the power of 10 nearest it). Lines continued
    as far as :data:`EXTRAPOLATION_REACH` allows were a median 0.23 decades off the value
    measured, 18% of them over 10-fold: two significant digits ("4.4e-4") claimed 1%."""
    if not math.isfinite(decades):
        return factor_text(decades)
    if abs(decades) >= SCIENTIFIC_FROM:  # as factor_text writes it: "~10^-1.594e+298"
        return "~" + factor_text(decades)
    power = math.floor(decades + 0.5)
    return {0: "~1", 1: "~10"}.get(power, f"~10^{power}")


#: How far past its lags a curve's fitted line is continued: to this many times its longest lag
#: measured. Lines fitted at T = 50-200 from a state of 0 (as a page measures) were off the value
#: measured at T = 400 by a median 0.22-0.24 decades at k up to 2 T, about the spread of three
#: input draws (0.29), and by 0.37 at 2-3 T, 0.52 at 3-4 T and 0.75 at 4-6 T, 37% of them over
#: 10-fold: an LSTM of forget-gate bias +4 at T = 50 read +2 to +3.3 decades at k = 300 where
#: T = 400 measured -0.6 to -1.7 (benchmarks/extrapolation_rule.py, "reach").
EXTRAPOLATION_REACH = 2


def reach(last: int) -> int:
    """The longest lag a curve of lags 0..``last`` is continued to on its fitted line."""
    return EXTRAPOLATION_REACH * last


#: How the page says :data:`EXTRAPOLATION_REACH` ("past twice the lags measured").
REACH_WORDS = "twice" if EXTRAPOLATION_REACH == 2 else f"{EXTRAPOLATION_REACH} times"

#: How far off a line continued to :func:`reach` of its lags was, in the page's words: beside
#: the table's extrapolated factors and a horizon on the fitted line (0.23 decades, 18% over
#: 10-fold: :data:`EXTRAPOLATION_REACH`).
CONTINUED_OFF = (
    "lines continued that far were a median 1.7-fold off the value measured, 1 in 5 more than "
    "10-fold"
)


#: The fewest lags a fitted line is continued from: a line through 2 lags (T = 3) has r² = 1
#: by construction, and it was extrapolated to lag 300 (1.6e-170) as if it were a measurement
#: of the decay.
MIN_EXTRAPOLATED_POINTS = 5


def untrusted_fit(fit: dict[str, Any]) -> str | None:
    """Why a curve's fitted line is not continued past its lags (None: it is): no rate was
    fitted, the curve is cut to an exact zero, it was fitted on fewer than
    :data:`MIN_EXTRAPOLATED_POINTS` lags, or r² is below POOR_FIT_R2 (not a straight line)
    at any rate. The summary's "poor-fit" flag leaves rates below NEAR_CRITICAL out (a flat
    line has a small r² however straight it is, and its rate is still near 0), but a line
    continued to lag 300 multiplies its slope's error by 300: a rate of -0.030 at r² 0.40 read
    "1000-fold by about k = 269 (extrapolated)" and 4.4e-4 at k = 300. A flat line at
    rounding level has r² 1 (:func:`vanishlab.fit_decay`) and is continued."""
    rate = float(fit["rate"])
    zero = fit.get("zero_lag")
    if zero is not None and not pd.isna(zero):
        return f"exactly 0 from lag {int(zero)}"
    if not math.isfinite(rate):
        return "no rate fitted"
    points = fit.get("n_points")
    if points is not None and not pd.isna(points) and int(points) < MIN_EXTRAPOLATED_POINTS:
        return f"fitted on {int(points)} lags only"
    return poor_fit(fit)


def poor_fit(fit: dict[str, Any]) -> str | None:
    """Why a curve's fitted line is not a straight one, "poor fit, r² 0.88": r² below
    POOR_FIT_R2 at any rate (:func:`untrusted_fit`'s last reason); None where it is not."""
    r2 = float(fit["r2"])
    return f"poor fit, r² {r2:.2f}" if r2 < POOR_FIT_R2 else None


def untrusted_clause(fit: dict[str, Any]) -> str:
    """What a verdict that reads a curve's fitted rate adds where its fit is not one to
    extrapolate (:func:`untrusted_fit`): ", though its fit (poor fit, r² 0.82) is not one to
    extrapolate"; "" where it is."""
    why = untrusted_fit(fit)
    return f", though its fit ({why}) is not one to extrapolate" if why else ""
