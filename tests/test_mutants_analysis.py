"""Mutation round on vanishlab/analysis/ (helper 479, 2026-12-07): fits, norm_frame,
meanfield, gaussian, linear, pascanu, pascanu_records and lyapunov_window. Each test here
failed on one hand-made change of the code it names, which passed every fast test that
names that code, and passes on the code as it is. Oracles are closed forms, hand-worked
small cases or independent numpy computations, not pinned outputs.

Mutants tried / killed by the fast tests before / killed with these (each run against the
fast tests that name its code, ``pytest -x -m "not slow"``; after: this file too):
  fits          25 / 19 / 22     linear             14 / 12 / 14
  norm_frame     4 /  3 /  4     pascanu            14 / 11 / 13
  meanfield     18 / 12 / 15     pascanu_records     3 /  3 /  3
  gaussian      10 /  8 /  9     lyapunov_window     2 /  1 /  1
In all 90 / 69 / 81. The 9 left are equivalent: fits' zeros "for good" from ``lag >=
last_finite`` (that lag is finite, not -inf), its fitted lags ``<= zero_lag`` (that lag is
-inf, left out as not finite) and its horizon from ``lag >= ref_lag`` (the reference lag's
norm is the reference, never 3 decades below it); meanfield's "critical" at ``|ln chi_1| <
1e-9`` for ``<=`` (only a ln chi_1 of exactly 1e-9 tells them apart), critical_input_var's
relu ``g^2 < 2`` for ``<= 2`` (no float squares to exactly 2) and its bracket grown 2x for
4x (the same root to the bisection's resolution); gaussian.bisect's ``fn(mid) >= 0`` for
``> 0`` (the other end of a run of mids where fn reads exactly 0: the same root to fn's
resolution); pascanu's ``_own_and_up`` without its ``a == -inf`` shortcut (the per-lag
branch adds e^-inf = 0 to the same bits); lyapunov_window's ``T >= 1`` for ``T > 1`` (1 // 4
is 0). No defect was found in the package: each survivor killed was a gap in the tests.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from vanishlab.analysis.fits import fit_decay
from vanishlab.analysis.gaussian import tanh2_over_q
from vanishlab.analysis.linear import _approached, fixed_point_rates
from vanishlab.analysis.meanfield import critical_input_var, mean_field
from vanishlab.analysis.pascanu import check_pascanu
from vanishlab.core.engine import jacobian_norms

LN10 = math.log(10.0)

# --- analysis/fits.py ---


def test_r2_of_a_curve_that_varies_by_1e_7_is_its_own_not_a_flat_lines() -> None:
    """Mutant: the flat-line threshold ``syy <= 1e-24 * n * ...`` raised to 1e-12. A curve
    whose log10 norms move by 1e-7 (a noisy, nearly flat curve) was then a "flat line" with
    r2 = 1, a perfect fit; its r2 is the squared correlation of lag and ln-norm, 0.287,
    from numpy's corrcoef. The rate is numpy's polyfit slope."""
    lag = np.arange(11)
    y = 1e-7 * ((lag % 2) + 0.1 * lag)  # log10 norms
    fit = fit_decay(pd.DataFrame({"lag": lag, "log10_fro": y}), window=(0, 10))
    x, ln = lag.astype(np.float64), y * LN10
    r2 = np.corrcoef(x, ln)[0, 1] ** 2
    assert 0.28 < r2 < 0.29
    assert fit["r2"].iloc[0] == pytest.approx(r2, rel=1e-9, abs=0.0)
    assert fit["rate"].iloc[0] == pytest.approx(np.polyfit(x, ln, 1)[0], rel=1e-9, abs=0.0)


def test_a_window_of_two_lags_fits_the_line_through_them() -> None:
    """Mutant: ``few = n < 2`` as ``n < 3``: a window of two finite lags fitted nothing (rate
    NaN, note "fewer than 2 finite points"). Two points make a line: the rate is their slope
    in ln, (y_4 - y_3) ln 10 with y log10 norms, and the intercept its value at lag 0."""
    y = np.array([0.0, -0.3, -0.5, -0.9, -1.25, -1.6, -2.0])
    fit = fit_decay(pd.DataFrame({"lag": np.arange(7), "log10_fro": y}), window=(3, 4)).iloc[0]
    rate = (-1.25 + 0.9) * LN10
    assert fit["n_points"] == 2
    assert fit["rate"] == pytest.approx(rate, rel=1e-12, abs=0.0)
    assert fit["intercept"] == pytest.approx(-0.9 * LN10 - 3 * rate, rel=1e-12, abs=0.0)
    assert fit["r2"] == 1.0
    assert fit["note"] == ""


def test_n_zero_counts_a_curve_cut_by_a_zero_whose_rate_was_fitted_before_it() -> None:
    """Mutant: the aggregate's ``n_zero`` as the count of rates of -inf, not of curves with a
    ``zero_lag``. Sample 0 falls 0.2 decades a step and is exactly 0 from lag 6 on: its rate
    is fitted on lags 2-5 (-0.2 ln 10, finite) and it has a zero_lag; sample 1 falls 0.1 a
    step. One of the two curves reaches an exact zero (n_zero 1, where the mutant said 0);
    the mean rate is -0.15 ln 10 and the population spread 0.05 ln 10, by hand."""
    lag = np.arange(9)
    cut = np.where(lag < 6, -0.2 * lag, -np.inf)
    frame = pd.DataFrame(
        {
            "layer": 0,
            "sample": np.repeat([0, 1], 9),
            "lag": np.tile(lag, 2),
            "log10_fro": np.concatenate([cut, -0.1 * lag]),
        }
    )
    row = fit_decay(frame, by="layer").iloc[0]
    assert (row["n_curves"], row["n_zero"]) == (2, 1)
    assert row["rate_mean"] == pytest.approx(-0.15 * LN10, rel=1e-12, abs=0.0)
    assert row["rate_std"] == pytest.approx(0.05 * LN10, rel=1e-12, abs=0.0)


# --- analysis/meanfield.py ---


def test_the_critical_drive_just_above_gain_1_is_the_series_and_never_negative() -> None:
    """Mutant: ``max(0.0, q_c - g^2 E[tanh^2])`` without its clamp. Just above gain 1 the
    critical drive variance is the difference of two nearly equal numbers: for gain 1 + 1e-9
    it came out -2.1e-25, a negative variance. By hand, with E[tanh^2(sqrt(q) z)] = q - 2q^2 +
    17/3 q^3 and E[sech^4] = 1 - 2q + 7q^2 (Gaussian moments 1, 3, 15), and g^2 = 1 + d: q_c =
    d/2 + 3d^2/8 and s^2 = d^3/6 + O(d^4), i.e. 4/3 (g - 1)^3 to first order: checked at
    gain 1.001, where the next order is ~1e-3 of it. Nearer 1 the difference is below its
    rounding, eps q_c ~ 2e-16 (g - 1): 0 up to that, never below 0."""
    eps = 1e-3
    assert critical_input_var("tanh", 1 + eps) == pytest.approx(4 / 3 * eps**3, rel=1e-4, abs=0.0)
    for gain in (1 + 1e-12, 1 + 1e-9, 1 + 1e-7):
        s2 = critical_input_var("tanh", gain)
        assert 0.0 <= s2 <= 2 * (gain - 1) ** 3 + 1e-15 * (gain - 1), gain


def test_a_diverging_relu_says_whether_a_drive_or_the_unstable_origin_is_why() -> None:
    """Mutant: the diverging relu's note choosing its words by ``s >= 0`` for ``s > 0``: an
    undriven relu at gain 1.5 was said to diverge "with a drive" it has not. chi_1 = g^2/2 =
    1.125 exactly either way, and q* is inf."""
    undriven, driven = mean_field("relu", 1.5), mean_field("relu", 1.5, input_var=0.1)
    for mf in (undriven, driven):
        assert (mf.chi_1, mf.q_star, mf.diverges) == (1.125, math.inf, True)
    assert "(q = 0 is an unstable fixed point)" in undriven.note
    assert "with a drive" not in undriven.note
    assert "with a drive" in driven.note


def test_the_predicted_phase_reads_the_rate_not_ln_chi_1() -> None:
    """Mutant: MeanField.phase as ``phase_of(2 * rate)`` (ln chi_1, the squared norms' rate)
    for ``phase_of(rate)``. An undriven tanh network with gain g <= 1 has q* = 0 and chi_1 =
    g^2, so its rate is ln g exactly: g = e^-0.007 is "stable" (|rate| < 0.01, fit_decay's
    tolerance), which the mutant called "vanishing"; g = e^-0.012 is "vanishing"."""
    for rate, phase in ((-0.007, "stable"), (-0.012, "vanishing")):
        mf = mean_field("tanh", math.exp(rate))
        assert mf.q_star == 0.0
        assert mf.rate == pytest.approx(rate, rel=1e-12, abs=0.0)
        assert mf.phase == phase


def test_tanh2_over_q_is_1_at_q_0_and_its_series_beside_it() -> None:
    """Mutant: ``tanh2_over_q(0)`` as 0, not the limit 1 its docstring gives (the mean
    field's bisection never evaluates its end point 0, so no caller in the package saw it).
    By the series E[tanh^2(sqrt(q) z)] = q - 2q^2 + 17/3 q^3 (Gaussian moments 1, 3, 15), the
    ratio is 1 - 2q + O(q^2): 1 at 0, and 1 - 2e-6 to 1e-11 at q = 1e-6 (its q^2 term: 6e-12)."""
    assert tanh2_over_q(0.0) == 1.0
    assert tanh2_over_q(1e-6) == pytest.approx(1 - 2e-6, rel=0.0, abs=1e-11)


# --- analysis/linear.py ---


def test_states_circling_the_point_at_one_distance_are_not_approaching_it() -> None:
    """Mutant: ``_approached``'s ``max(last quarter) < min(first half)`` as ``<=``. States
    turning round the point at one distance (here a rotation by 90 degrees about x, the
    distance exactly 1 at every step: an undamped complex pair) never come nearer: the test
    must say not approached, where ``<=`` read equal distances as an approach and rated the
    point. Hand-made tail: the rotation's four phases, repeated; and a tail whose distances
    do fall (1, 1/2, ...), which is approaching under either."""
    x = torch.tensor([0.3, -0.2], dtype=torch.float64)
    phases = [torch.tensor(p, dtype=torch.float64) for p in ((1, 0), (0, 1), (-1, 0), (0, -1))]
    circling = [x + phases[t % 4] for t in range(16)]
    assert {float((s - x).norm()) for s in circling} == {1.0}
    assert not _approached(circling, x)
    falling = [x + phases[t % 4] * 0.5**t for t in range(16)]
    assert _approached(falling, x)


def test_a_fixed_point_with_spectral_radius_exactly_1_is_not_rated() -> None:
    """Mutant: ``_settle``'s ``not rho < 1.0`` as ``not rho <= 1.0``. fixed_point_rates
    returns None where the point is not stable, rho(D* W_hh) >= 1 (its docstring). W_hh = I
    with zero biases: the network stays at h* = 0, where D* = I and rho(D* W_hh) is exactly
    1.0 (an eigenvalue of the identity): None, not a rate of ln 1 = 0. Beside it, W_hh = I/2
    is rated ln(1/2) exactly, settled after one step (it never leaves 0)."""
    rnn = torch.nn.RNN(1, 3, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
        rnn.weight_hh_l0.copy_(torch.eye(3))
    assert fixed_point_rates(rnn) is None
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(0.5 * torch.eye(3))
    settling: list[int | None] = []
    assert fixed_point_rates(rnn, settling=settling) == [math.log(0.5)]
    assert settling == [1]


# --- analysis/pascanu.py ---


def test_an_exact_zero_under_a_zero_bound_has_excess_minus_inf_not_nan() -> None:
    """Mutant: check_pascanu without ``diff = where(measured == -inf, -inf, diff)``. A W_hh of
    zeros bounds every state lag >= 1 by 0 (log10 -inf), and the engine measures exactly 0
    there: -inf - -inf is NaN, and the excess column, "<= 0 means within the bound", read NaN
    on every such row (``violated`` stayed False only because NaN > tol is False). The
    measurement is the engine's own; lag 0 is the identity under its bound of 1: excess 0."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 3, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_hh_l0.zero_()
    frame = jacobian_norms(rnn, torch.randn(4, 1, 2, dtype=torch.float64))
    out = check_pascanu(rnn, frame)
    state = out[out["source"] == "state"].sort_values(["sample", "lag"])
    assert (state["lag"] >= 1).sum() == 4
    for _, row in state.iterrows():
        assert row["excess"] == (0.0 if row["lag"] == 0 else -math.inf), row["lag"]
    assert not out["excess"].isna().any()
    assert not out["violated"].any()


def test_a_lower_layers_h0_row_is_bounded_through_its_own_recurrence_alone() -> None:
    """Mutant: check_pascanu's default T read as the largest state lag + 1 (it is the largest
    state lag, h0's row). The envelope of T + 1 has an interior row at lag T, looser than h0's:
    in a stack, layer 0's h0 row is bounded by B^0_T = a_0 B^0_{T-1}, h0[0] reaching the top
    through W_hh^0 only. By hand, with a_l = ||W_hh^l||_2 and c_1 = ||W_ih^1||_2 in float64:
    B^1_k = a_1^k, B^0_0 = c_1, B^0_k = a_0 B^0_{k-1} + c_1 a_1^k for 0 < k < T."""
    torch.manual_seed(1)
    rnn = torch.nn.RNN(2, 4, num_layers=2, nonlinearity="tanh").double()
    T = 3
    frame = jacobian_norms(rnn, torch.randn(T, 1, 2, dtype=torch.float64))
    out = check_pascanu(rnn, frame)

    def spec(name: str) -> float:
        return float(torch.linalg.matrix_norm(getattr(rnn, name).detach(), ord=2))

    a0, a1, c1 = spec("weight_hh_l0"), spec("weight_hh_l1"), spec("weight_ih_l1")
    bound = [c1]
    for k in range(1, T):
        bound.append(a0 * bound[-1] + c1 * a1**k)
    bound.append(a0 * bound[-1])
    layer0 = out[(out["source"] == "state") & (out["layer"] == 0)].sort_values("lag")
    assert layer0["lag"].tolist() == list(range(T + 1))
    expected = np.log10(bound)
    assert np.allclose(layer0["log10_spec_bound"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert not out["violated"].any()


# --- analysis/norm_frame.py ---


def test_a_window_of_one_lag_is_taken_and_fits_nothing() -> None:
    """Mutant: checked_window's ``hi < lo`` refusal as ``hi <= lo``: a window (3, 3), start
    <= end as the docstring allows, was refused. It is one point: lag_start = lag_end = 3,
    n_points 1, rate NaN and the note that says why."""
    y = np.array([0.0, -0.3, -0.5, -0.9, -1.25])
    fit = fit_decay(pd.DataFrame({"lag": np.arange(5), "log10_fro": y}), window=(3, 3)).iloc[0]
    assert (fit["lag_start"], fit["lag_end"], fit["n_points"]) == (3, 3, 1)
    assert math.isnan(fit["rate"])
    assert fit["note"] == "fewer than 2 finite points in the window"
