"""Mutation review of the maths every page rests on (2026-12-07): core/engine, core/gated,
core/gated_one_layer, core/lyapunov, core/gram, core/spectral (the iteration's stopping rule),
analysis/fits, analysis/meanfield, analysis/pascanu, analysis/linear and sweep/critical. Each
test here failed on a small plausible change of a number in the code it names (a sign, a
factor, log for log10, a transposed matrix, an off-by-one lag, a tolerance 10x looser, a
dropped rescale) that passed the fast tests of that code, and passes on the code as it is.
Oracles are closed forms or independent float64 computations, not pinned outputs.

Mutants tried / killed by the tests before / killed with these (each run against the fast
tests that name its code, ``pytest -x -m "not slow"``; after: this file):
  core/engine           18 / 15 / 16     core/spectral       8 /  5 /  6
  core/gated            15 / 15 / 15     analysis/fits      17 / 15 / 16
  core/gated_one_layer  10 /  8 /  8     analysis/meanfield 12 / 10 / 11
  core/lyapunov          8 /  8 /  8     analysis/pascanu    9 /  7 /  8
  core/gram              8 /  8 /  8     analysis/linear     9 /  6 /  7
                                         sweep/critical      7 /  2 /  4
In all 121 / 99 / 107. The 14 left change no number a caller sees: engine's -inf scale of a
sum of two zero terms as 0 (its norm is 0, so its ln is -inf either way), and its input
Jacobian's trusted floor for H * H entries, not H * n_in (the floor is sqrt(numel tiny /
1e-12): 5.6x lower at n_in = 64, H = 2 it still leaves what subnormal squares lose of n^2
below 3e-11, relatively); the one-layer gated path's whole-state norm for the queue check as
n_h + n_c (only a normality check, and each block is checked again at the end) and its
divisor as ||G_h|| alone (any divisor is exact: it is recorded and summed back); spectral's
stall test 10x looser and the extra power steps' Ritz values rescaled by c, not c^2 (a wrong
shift or an early stall costs checks, and what is returned still passes the stopping rule or
is the exact norm: no number moved in 330 tests); fits' flat-line threshold 1e-20 for 1e-24
(both far above the rounding it guards; no value is documented); meanfield's
CRITICAL_TOLERANCE 1e-8 (a constant read by name, its value documented nowhere);
pascanu_bound's log10 of gamma (gamma is 1 for tanh and relu); linear's Newton tolerance and
its "settled" shortcut 10x looser (the point, and so the rate, moves by ~1e-11; a cycle is
never that near a fixed point); and critical_gain's r > 0 for r >= 0, lo for hi (the same
gain to the bisection's 2^-48) and a 13-point grid for 49 (the same root unless the rate
crosses 0 and back between two grid points; every test's configuration gave the same gain).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from vanishlab.analysis.fits import fold_steps
from vanishlab.analysis.linear import fixed_point_rates
from vanishlab.analysis.meanfield import mean_field
from vanishlab.analysis.pascanu import check_pascanu
from vanishlab.core.engine import jacobian_norms
from vanishlab.core.spectral import top_singular_values
from vanishlab.sweep.critical import critical_gain, mean_field_rate_curve

# --- core/engine.py: the one-layer path's log-scale ---


def test_a_float32_chain_of_3000_steps_keeps_its_log_scale_to_float64_accuracy():
    """One float32 tanh layer at the origin, W_hh = 0.1 Q: the Frobenius norm of W^k, k up to
    3000, from an independent float64 chain of the same float32 weights (normalised every
    step). The engine sums the logs of the norms it divides by in float64 and reads within
    ~5e-7 in log10 (seen); the logs taken in float32 first (each ln ~ -9 rounded to ~5e-7)
    summed to 4e-5 off and passed every test (the long-horizon test allows 1e-2)."""
    H, T = 8, 3000
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, H)
    with torch.no_grad():
        q, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))
        rnn.weight_hh_l0.copy_(0.1 * q)
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
    w = rnn.weight_hh_l0.detach().double()
    m, s, expected = torch.eye(H, dtype=torch.float64), 0.0, [0.5 * math.log10(H)]
    for _ in range(T):
        m = m @ w
        n = float(torch.linalg.matrix_norm(m))
        s, m = s + math.log10(n), m / n
        expected.append(s)
    frame = jacobian_norms(rnn, torch.zeros(T, 1, 3), norms=("fro",), sources=("state",))
    np.testing.assert_allclose(frame["log10_fro"].to_numpy(), expected, rtol=0, atol=5e-6)


# --- analysis/fits.py ---


def test_fold_steps_counts_the_steps_to_a_10_to_the_decades_fold_change():
    """A norm changing by a factor e^rate a step changes 10^d-fold in d ln 10 / |rate| steps:
    at rate -ln 10 (one decade a step) 3 decades take 3 steps, at +ln 10 / 2 they take 6. The
    report's horizons rest on it; ``decades / |rate|`` (ln 10 dropped) passed every test."""
    assert math.isclose(fold_steps(-math.log(10.0)), 3.0, rel_tol=1e-12)
    assert math.isclose(fold_steps(math.log(10.0) / 2, decades=1.0), 2.0, rel_tol=1e-12)


# --- analysis/meanfield.py ---


def test_every_unit_is_live_at_the_origin_and_the_ratio_tends_to_it():
    """live_fraction is (E[tanh'^2])^2 / E[tanh'^4]: 1 at q* = 0, where every tanh' is 1, and
    the quadrature's value tends to 1 as q* does (a tanh cell with a small drive, q* ~ 1e-4,
    reads within 1e-3 of it). Without a drive below gain 1 (q* = 0 exactly) 0.5, relu's
    value, passed every test."""
    assert mean_field("tanh", 0.5).q_star == 0.0
    assert mean_field("tanh", 0.5).live_fraction == 1.0
    driven = mean_field("tanh", 0.5, input_var=1e-4)
    assert 0 < driven.q_star < 1e-3
    assert 1 - 1e-3 < driven.live_fraction <= 1.0


# --- analysis/pascanu.py ---


def test_an_input_only_frame_is_checked_at_every_lag_it_has():
    """A frame of input rows alone (sources=("input",)) has lags 0..T-1, so T is its largest
    lag + 1, and every row gets a bound: each measured norm lies under it (the bound holds
    exactly, up to rounding). T read as the largest lag (no + 1) left the last lag without a
    bound, which check_pascanu refuses; every test's frame had state rows, whose lag T hid it."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5).double()
    frame = jacobian_norms(rnn, torch.randn(7, 2, 3, dtype=torch.float64), sources=("input",))
    out = check_pascanu(rnn, frame)
    assert sorted(out["lag"].unique()) == list(range(7))
    assert out["log10_spec_bound"].notna().all()
    assert not out["violated"].any()


# --- core/spectral.py: a warm block trapped below the two-row bound ---


def test_a_warm_row_on_the_second_of_two_near_tied_units_is_not_the_answer():
    """G = diag(1, 1 - 5e-5) in float32 from the warm row e_2: the row is an exact singular
    vector (zero residual), so the stopping rule passes at sigma_2, 1e-4 low in sigma^2, 100x
    float32's tolerance of 1e-6. The two longest rows bound sigma_1 >= 1 (block_rows.pair_bound)
    and a value below that bound, less a margin of 10 rtol for rounding, is a trap the iteration
    leaves. A margin of 100 rtol (1e-4) took sigma_2 as the answer and passed every test."""
    g = torch.diag(torch.tensor([1.0, 1 - 5e-5], dtype=torch.float32))[None]
    u = torch.tensor([[[0.0, 1.0]]], dtype=torch.float32)
    sigma, _ = top_singular_values(g, u)
    assert abs(float(sigma[0]) - 1.0) <= 1e-6


# --- analysis/linear.py: the settling steps ---


def test_settling_counts_the_steps_to_come_within_0_1_of_the_fixed_point():
    """One tanh unit, h' = tanh(0.9 h + 0.5) from h = 0: the steps until |h_t - h*| <= 0.1
    (SETTLED_DISTANCE, where tanh's slope 1 - h^2 moves by 0.2 at most), counted here by plain
    float64 steps against h* from many more. A distance 10x looser (1.0) counted 1 step (h*
    is below 1, so h_1 is within 1 of it at once) and passed every test."""
    rnn = torch.nn.RNN(1, 1, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_hh_l0.fill_(0.9)
        rnn.weight_ih_l0.fill_(0.0)
        rnn.bias_ih_l0.fill_(0.5)
        rnn.bias_hh_l0.fill_(0.0)
    star = 0.0
    for _ in range(10_000):
        star = math.tanh(0.9 * star + 0.5)
    h, expected = 0.0, None
    for t in range(1, 201):
        h = math.tanh(0.9 * h + 0.5)
        if abs(h - star) <= 0.1:
            expected = t
            break
    assert expected is not None and expected > 1
    settling: list[int | None] = []
    rates = fixed_point_rates(rnn, settling=settling)
    assert rates is not None
    assert settling == [expected]


# --- sweep/critical.py: the rate curve's default layer ---


def test_the_rate_curve_crosses_zero_at_the_top_layers_critical_gain():
    """A two-layer tanh ``default`` cell (H 64, I 32, input std 2, biases) has its top layer
    critical at gain 2.5844556024 (a brentq root on an independent mean field, as in
    test_theory_independent): the report's predicted line, mean_field_rate_curve with no
    ``layer``, is the top layer's, negative just below that gain and positive just above.
    Layer 0 for the default (its critical gain lies elsewhere) passed every test."""
    cell = dict(
        model="rnn", activation="tanh", init="default", hidden_size=64, input_size=32,
        input_std=2.0, bias=True, num_layers=2,
    )  # fmt: skip
    gain = 2.5844556024
    below, above = mean_field_rate_curve(cell, np.array([gain * (1 - 1e-4), gain * (1 + 1e-4)]))
    assert below < 0 < above


def test_a_critical_gain_above_10_is_found_below_the_documented_100():
    """critical_gain searches gains up to 100 (``inf`` only where the rate stays below 0 that
    far): a tanh cell with input std 100 is critical near 15, where its rate curve crosses 0.
    A search that stopped at 10 called it ``inf`` and passed every test (their gains are all
    below 3)."""
    cell = dict(
        model="rnn", activation="tanh", init="default", hidden_size=64, input_size=32,
        input_std=100.0, bias=True, num_layers=1,
    )  # fmt: skip
    gain = critical_gain(cell)
    assert 10 < gain < 100
    below, above = mean_field_rate_curve(cell, np.array([gain * (1 - 1e-6), gain * (1 + 1e-6)]))
    assert below < 0 < above
