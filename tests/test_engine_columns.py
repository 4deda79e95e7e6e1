"""nn.RNN rows through a column of G more than the dtype's range below its largest: a known
limit of one log-scale per matrix (docs/maths.md, section 3), pinned as a strict xfail so that
a fix shows.

A unit that holds its state (W_hh[0, 0] = 1) beside one that decays (W_hh[1, 1] = 0.3), the
input reaching the decaying unit only (W_ih = [[0], [1]]), relu, x = 1 and h0 = 1 (every unit
on): G_t = diag(1, 0.3^k), and d h_{T-1} / d x_{T-1-k} = [0, 0.3^k], log10 norm k log10 0.3.
At one scale for the whole matrix, G's second column goes subnormal, then 0: float32 at T = 120
reads lag 80 as -41.830217 (the closed form, with float32's 0.3: -41.830298) and lag 100 on
-inf; float64 at T = 800 lag 799 -inf (-417.78). A scale per column (tried today: exact to
5.7e-14 / 7.1e-12) cost 8-14% on every stacked call for its per-step check, and handed
identity-init tanh networks, whose diagonal G's columns drift apart past the range, to a
per-column mode 1.7-3.4x slower: not adopted.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import vanishlab as vl


@pytest.mark.xfail(strict=True, reason="one log-scale per matrix (docs/maths.md, section 3)")
@pytest.mark.parametrize(
    ("dtype", "T", "atol"), [(torch.float32, 120, 1e-5), (torch.float64, 800, 1e-10)]
)
def test_input_rows_through_a_column_far_below_the_largest(dtype, T, atol) -> None:
    rnn = nn.RNN(1, 2, nonlinearity="relu", bias=False).to(dtype)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.3]]))
        rnn.weight_ih_l0.copy_(torch.tensor([[0.0], [1.0]]))
    a = float(rnn.weight_hh_l0[1, 1])  # the dtype's 0.3
    x, h0 = torch.ones(T, 1, 1, dtype=dtype), torch.ones(1, 1, 2, dtype=dtype)
    f = vl.jacobian_norms(rnn, x, h0, sources=("input",)).sort_values("lag")
    k = f["lag"].to_numpy()
    assert np.isfinite(f["log10_fro"]).all(), "rows read -inf"
    np.testing.assert_allclose(f["log10_fro"], k * math.log10(a), rtol=0, atol=atol)
