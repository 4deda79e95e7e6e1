"""The words of a setting's rate and horizon, and of their exact zeros: one definition for
every table and caption that gives them (the rates table, models, trainability, a trained
model's pages)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...analysis.fits import HORIZON_DECADES
from ..format import horizon_text, minus_inf_words, rate_text, spread_decimals, spread_text

__all__ = [
    "HORIZON_FOLD",
    "exact_zero_note",
    "exact_zero_rates",
    "horizon_cell",
    "horizon_median_note",
    "mark_exact_zero",
    "mean_rate_text",
    "rate_cell",
    "spread_digits",
    "whose_jacobian",
]

HORIZON_FOLD = f"{10**HORIZON_DECADES:g}-fold"
"""How far a norm has fallen at its horizon, in the pages' words (``"1000-fold"``): from
:data:`vanishlab.analysis.fits.HORIZON_DECADES`, where the fits define the horizon."""


def horizon_median_note(reads: str, seeds: int) -> str:
    """The captions' one account of how a setting's median horizon (:func:`.setting_fits.
    setting_fits`) counts a seed whose norm never fell that far: as past the last lag measured
    (inf), so that the median is past it, written ``reads`` ("'> n'", "'h > n'"), where half
    its seeds or more never fell (two seeds, one at lag 5 and one never: '> n', not 5). Of
    ``seeds`` 1 (the most any setting has), no median: its seed's horizon."""
    if seeds == 1:
        return (
            f"one seed; it reads {reads} where the norm never falls that far by lag n, the last "
            "lag measured"
        )
    return (
        "median over seeds; a seed whose norm never falls that far by lag n, the last lag "
        f"measured, counts as past it, so the median reads {reads} where half the seeds or "
        "more never do"
    )


def mark_exact_zero(text: str, at_zero: object) -> str:
    """A horizon's ``text``, marked "(exact 0)" when ``at_zero``: the norm fell 1000-fold
    there because a Jacobian is exactly 0, not by a decay. The one mark of every page's
    horizons (the sweep's tables by :func:`horizon_cell`, a trained model's pages)."""
    return f"{text} (exact 0)" if bool(at_zero) else text


def whose_jacobian(seeds: int) -> str:
    """Whose Jacobian a sweep's caption says is exactly zero, for ``seeds`` the most any
    setting has: "some seed's" of several, "the" of one (a smoke run's captions said "some
    seed's" beside "one seed", as if there were others)."""
    return "some seed's" if seeds > 1 else "the"


def exact_zero_note(whose: str) -> str:
    """The captions' one explanation of the "(exact 0)" mark of :func:`mark_exact_zero`;
    ``whose``: whose Jacobian is 0 ("some seed's", "some sample's", "the")."""
    return (
        f"'(exact 0)' when {whose} Jacobian is exactly zero there: the norm is a geometric "
        "mean over the batch, 0 as soon as one sample's Jacobian is"
    )


def horizon_cell(rec: Mapping[str, Any]) -> str:
    """The setting's horizon, marked "(exact 0)" where some seed's Jacobian is exactly 0.

    ``rec`` is a row of :func:`.setting_fits.setting_fits` (or a record of the same three keys:
    a trained cell's lag of a 1000x drop); every table of horizons writes them with this, so
    that one setting reads the same in each."""
    text = horizon_text(float(rec["horizon"]), rec["lag_end"])
    return mark_exact_zero(text, rec.get("horizon_at_zero", False))


def exact_zero_rates(seeds: int) -> str:
    """How the rate cells of :func:`rate_cell` treat exact zeros, for the captions of its
    tables, of ``seeds`` the most any setting has: of one seed there is no mean to count a
    seed apart from (it said "counted apart, out of the mean" beside "one seed")."""
    if seeds == 1:
        return (
            "Where the Jacobian becomes exactly zero inside the window, the rate is the one "
            "fitted before the zero; with fewer than two lags left before it, the rate is −∞. "
        )
    return (
        "A seed whose Jacobian becomes exactly zero inside the window keeps the rate fitted "
        "before the zero (the table says from which lag: the earliest, where seeds differ); "
        "one with fewer than two lags left before it has a rate of −∞ and is counted apart, "
        "out of the mean. "
    )


def spread_digits(seeds: int) -> str:
    """What a caption adds after "mean ± standard deviation over seeds" where a setting has
    several (``seeds``, the most of any): the digits :func:`rate_cell` and the theory table
    write them to, so that the page says why "−1.52 ± 0.12" stands beside "−0.712 ± 0.030".
    "" for one seed, which has no ±."""
    if seeds < 2:
        return ""
    return (
        ", both to the decimals of the sd's two significant digits, at most three "
        "(an sd below 0.0005: <0.001)"
    )


def _spread_shown(rec: Mapping[str, Any]) -> bool:
    """Whether a setting's rate has a spread over seeds to give: two seeds of finite rate."""
    spread = rec["sd"]
    finite = rec["n"] - rec["n_zero"]
    return finite > 1 and isinstance(spread, float) and math.isfinite(spread)


def mean_rate_text(rec: Mapping[str, Any]) -> str:
    """A setting's mean rate over its seeds (``rec``: a row of
    :func:`.setting_fits.setting_fits`) to the decimals of its sd's two significant digits, at
    most three (:func:`..format.spread_decimals`), as :func:`rate_cell` gives it with its ±:
    the rate heatmaps' cells wrote −1.519 where the table beside them read −1.52 ± 0.12."""
    rate = float(rec["rate"])
    return rate_text(rate, spread_decimals(rec["sd"]) if _spread_shown(rec) else 3)


def rate_cell(rec: Mapping[str, Any]) -> str:
    """The setting's rate: the mean ± sd over its seeds of finite rate, and the seeds counted
    apart ("k of n seeds −∞"; "k of n seeds exactly 0 from lag L", or "..., the earliest from
    lag L" when they are cut at different lags; of a setting of one seed, "exactly 0 from lag
    L"), in one parenthesis, "; " between the two
    (side by side, "(1 of 3 seeds −∞) (1 of 3 seeds exactly 0 from lag 21)", they read as two
    remarks on two things).

    The mean and its sd take the sd's two significant digits, at most three decimals
    (:func:`..format.spread_decimals`): "−1.52 ± 0.12", never "−1.519 ± 0.116".

    ``rec`` is a row of :func:`.setting_fits.setting_fits`. One definition for every table of
    per-setting rates: a mean that took the −∞ seeds in read −∞ for a setting another table
    gave as −1.871 with one seed of two at −∞."""
    text = mean_rate_text(rec)
    spread = rec["sd"]
    if _spread_shown(rec):
        places = spread_decimals(spread)
        text += f"\u00a0±\u00a0{spread_text(spread, places)}"  # no line break inside it
    apart = [minus_inf_words(rec["n_zero"], rec["n"])]
    if rec.get("n_cut", 0) > 0:
        # Seeds cut at different lags: the lag named is the earliest, and says so.
        earliest = ", the earliest" if rec.get("cut_last", -np.inf) > rec["cut_from"] else ""
        # A setting of one seed has no others to count it among: "exactly 0 from lag 6", where
        # a one-seed run's cell read "1 of 1 seeds exactly 0 from lag 6".
        n = int(rec["n"])
        seeds = f"{int(rec['n_cut'])} of {n} seeds " if n > 1 else ""
        apart.append(f"{seeds}exactly 0{earliest} from lag {int(rec['cut_from'])}")
    said = "; ".join(words for words in apart if words)
    return f"{text} ({said})" if said else text
