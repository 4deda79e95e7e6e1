"""Log10 norms of order 1e300 (finite, and whose ln is finite: fit_decay takes them) fitted and
reported without numpy's overflow warnings, and written in short numbers.

The least-squares sums of squares of such a curve overflowed (numpy warned "overflow
encountered in multiply" on the user's terminal, through ``vanishlab report`` too, and r2
came out NaN: inf / inf); the fit now works at a power-of-two scale, exact, so ordinary
curves fit to the same bits. The page wrote such a rate in all of its 300 digits.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.core.log_units import LN10
from vanishlab.report.format import fixed, rate_text
from vanishlab.report.sections.extrapolation import factor_text, magnitude_text
from vanishlab.sweep.shard import write_shard

pytestmark = pytest.mark.filterwarnings("error")  # a numpy RuntimeWarning fails the test


def _lines(slopes: list[float], lags: int = 9) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"sample": s, "layer": 0, "lag": k, "log10_fro": b * k}
            for s, b in enumerate(slopes)
            for k in range(lags)
        ]
    )


@pytest.mark.parametrize("slope", [-1e300, 1e300, -3e306])
def test_a_curve_of_log10_norms_near_1e300_fits_its_rate_and_r2(slope):
    fits = vl.fit_decay(_lines([slope]))
    assert fits["rate"].iloc[0] == pytest.approx(slope * LN10, rel=1e-12)
    assert fits["r2"].iloc[0] == pytest.approx(1.0, abs=1e-12)  # an exact line (NaN before)
    assert fits["phase"].iloc[0] == ("vanishing" if slope < 0 else "exploding")


def test_the_mean_and_spread_of_such_rates_over_samples():
    slopes = [-1e300, -1.1e300, -1.2e300]
    rates = np.array(slopes) * LN10
    row = vl.fit_decay(_lines(slopes), by="layer").iloc[0]
    assert row["rate_mean"] == pytest.approx(rates.mean(), rel=1e-12)
    # The population standard deviation, sqrt(2/3) * 0.1e300 * ln 10, without its squares.
    assert row["rate_std"] == pytest.approx(math.sqrt(2 / 3) * 0.1e300 * LN10, rel=1e-12)


def test_ordinary_curves_fit_to_the_same_bits_at_any_power_of_two():
    """The scale is a power of two, so the fit of a curve times 2**k is the fit times 2**k,
    to the last bit (both below and above the scale's threshold of 1)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"lag": range(12), "log10_fro": rng.normal(size=12).cumsum()})
    base = vl.fit_decay(frame).iloc[0]
    for k in (-3, 5, 900):
        scaled = vl.fit_decay(frame.assign(log10_fro=np.ldexp(frame["log10_fro"], k))).iloc[0]
        assert scaled["rate"] == np.ldexp(base["rate"], k)
        assert scaled["intercept"] == np.ldexp(base["intercept"], k)
        assert scaled["r2"] == base["r2"]


def test_a_number_of_1e15_or_more_is_written_in_scientific_notation():
    assert rate_text(-1.4467414e300) == "−1.447e+300"
    assert fixed(7.4027e300, 1) == "7.403e+300"
    assert fixed(2.5e15, 3, sign=True) == "+2.500e+15"
    assert fixed(1e14, 1) == "100000000000000.0"  # below: as before
    assert rate_text(-1.4467414) == "−1.447"


def test_a_factor_of_such_decades_is_a_power_of_10_in_scientific_notation():
    """A trained model's and a monitor's pages (||J(k)|| / ||J(0)||) wrote the factor
    10^-2.95e298 as "1.0e-2952335066...": a mantissa with no digit left, and the exponent
    in all of its 298 digits."""
    assert factor_text(-2.95233506e298) == "10^-2.952e+298"
    assert factor_text(3e16) == "10^3.000e+16"
    assert magnitude_text(-1.5944e300) == "~10^-1.594e+300"
    assert (factor_text(-3000.5), magnitude_text(-3000.4)) == ("3.2e-3001", "~10^-3000")


def test_a_report_of_such_rows_builds_without_warnings_in_short_numbers(tmp_path: Path):
    """Shards as the sweep writes them, their log10 norms times -1e298 (rising to ~1e300),
    the summary left to be fitted again from the rows: ``vanishlab report``'s path."""
    run = tmp_path / "run"
    sweep = vl.Sweep(seed=(0, 1), hidden_size=4, input_size=2, seq_len=10, batch=2)
    vl.run_sweep(sweep, run, workers=1, progress=False)
    for config in sweep.cells():
        frame, meta = vl.run_cell(config)
        for column in ("log10_fro_mean", "log10_spec_mean", "log10_fro_std", "log10_spec_std"):
            frame[column] = frame[column] * (1e298 if column.endswith("std") else -1e298)
        meta.pop("summary", None)  # type: ignore[misc]
        write_shard(run, frame, meta)
    (run / "summary.parquet").unlink(missing_ok=True)
    page = vl.render_report(run, tmp_path / "r.html", timestamp="2024-01-01").read_text()
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL)
    assert not re.search(r"\d{20}", text)  # no number written in its hundreds of digits
    assert re.search(r"\+\d\.\d{3}e\+29\d<", text)  # a rate, exploding, in a table cell
