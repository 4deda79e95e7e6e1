"""Independent checks of the theory functions (helper 423's theory hunt, 2026-12-06).

The independent values come from code written from the papers, not from vanishlab's: the
fixed point of an undriven network by plain float64 iteration in numpy from h = 0 (5,000
steps, then Newton's method polishing the same point) and rho(D* W_hh) by numpy's eigvals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import vanishlab as vl
from vanishlab.analysis.linear import fixed_point_rates


def _independent_fixed_point_rate(rnn: torch.nn.RNN) -> float:
    """ln rho(D* W_hh) of a one-layer tanh network with no input, its state run from h = 0
    for 5,000 plain steps, which must end at the point Newton's method polishes (1e-9)."""
    w = rnn.weight_hh_l0.detach().double().numpy()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().double().numpy()
    h = np.zeros(len(b))
    for _ in range(5_000):
        h = np.tanh(w @ h + b)
    x = h.copy()
    for _ in range(50):
        a = w @ x + b
        x = x - np.linalg.solve(np.eye(len(x)) - (1 - np.tanh(a) ** 2)[:, None] * w, x - np.tanh(a))
    assert np.abs(h - x).max() < 1e-9  # the plain steps settled there
    slope = 1 - np.tanh(w @ x + b) ** 2
    return math.log(float(np.abs(np.linalg.eigvals(slope[:, None] * w)).max()))


@pytest.mark.parametrize(("gain", "seed", "rate"), [(1.75, 2, -0.0834903), (1.75, 22, -0.1089687)])
def test_a_network_whose_distance_to_its_fixed_point_rises_and_falls_is_rated(
    gain: float, seed: int, rate: float
) -> None:
    """``default`` tanh, H = 16, no input: the state spirals into a stable fixed point (a
    complex pair of D* W_hh's eigenvalues), so its distance to it rises and falls, and within
    the last 100 of the 200 plain steps a later distance exceeded an earlier one. That read as
    not approaching (a cycle or chaos) and fixed_point_rates gave None, so a sweep cell was
    predicted by the mean field and its note said the state settles at no stable fixed point:
    14 of the 126 networks of gains 1.25-2.5, seeds 0-39, that settle (8 of 56 at H = 64);
    3 and 3 now (slow spirals, rates -0.003 to -0.034, that 1,400 more steps do not show).
    Independently: 5,000 plain steps reach the point, rho(D* W_hh) = e^rate."""
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(16, 16, dtype=torch.float64)
    vl.INITS["default"].apply(rnn, gain, torch.Generator().manual_seed(seed))
    independent = _independent_fixed_point_rate(rnn)
    assert independent == pytest.approx(rate, abs=1e-6)
    assert fixed_point_rates(rnn) == [pytest.approx(independent, abs=1e-10)]
