"""The look-ahead search of the spectral norms' warm blocks (vanishlab/core/lookahead.py)
through the public API, against the autograd oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import lookahead, scaling
from vanishlab.core.oracle import autograd_jacobian_norms


def _blocks_then_all_off(dtype: torch.dtype) -> tuple[nn.RNN, torch.Tensor]:
    """A relu nn.RNN of 24 diagonal units (gains 0.95-0.99, the top four within 0.05%) beside
    a decoupled rank-1 block of 40 (gain 0.9995, along the all-ones direction), driven by a
    constant positive input, so every unit stays on. At the last step 30 of the rank-1 units
    are off: the rank-1 block's norm at lag k is 0.5 x 0.9995^k, which overtakes the diagonal
    top's 0.99^k at lag 73, below the warm block's four units at lag 68 (the last lag of the
    chunk before, on either path). In sample 0 every unit is off at step T - 80: its Jacobians
    from lag 80 on are zero, so the last matrix of the chunk of the crossing (lags 69-84 on a
    CPU, 69-85 with a GPU's settings) is zero. Sample 1, without that step, is the control."""
    n_a, n_b, T, H = 24, 40, 85, 64
    gen = torch.Generator().manual_seed(5)
    a = 0.95 + 0.0394 * torch.rand(n_a, generator=gen, dtype=torch.float64)
    a[:4] = torch.tensor([0.99, 0.9898, 0.9896, 0.9895], dtype=torch.float64)
    w = torch.zeros(H, H, dtype=torch.float64)
    w[range(n_a), range(n_a)] = a
    w[n_a:, n_a:] = 0.9995 / n_b
    rnn = nn.RNN(H, H, bias=False, nonlinearity="relu", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(w)
        rnn.weight_ih_l0.copy_(torch.eye(H, dtype=torch.float64))  # input i drives unit i
    x = torch.full((T, 2, H), 0.1, dtype=torch.float64)
    x[T - 1, :, n_a + 10 :] = -1e3
    x[T - 80, 0] = -1e6
    return rnn.to(dtype), x.to(dtype)


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_zero_last_matrix_does_not_hide_a_crossing(monkeypatch, gpu_like, dtype) -> None:
    """The look-ahead searches each sample's last matrix of the chunk that is not all zero: a
    zero one has no direction to find, and the rank-1 block that overtook the warm block
    earlier in the chunk read up to 0.027 low in log10 over lags 73-79 on a CPU's path and
    0.014 over 73-76 on the masked one (either dtype), where the control sample read exact."""
    if gpu_like:  # a GPU's masked batches (Gram-Schmidt, two steps a check), run on a CPU
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    rnn, x = _blocks_then_all_off(dtype)
    got = vl.jacobian_norms(rnn, x, norms=("spec",), sources=("state",))
    want = autograd_jacobian_norms(rnn.double(), x.double())
    want = want[want.source == "state"]
    assert got[["sample", "lag"]].equals(want[["sample", "lag"]])
    a, b = got["log10_spec"].to_numpy(), want["log10_spec"].to_numpy()
    zero = np.isneginf(b)
    assert np.array_equal(np.isneginf(a), zero)
    assert zero.sum() == 6  # sample 0's lags 80-85
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    err = a[~zero] - b[~zero]
    assert np.abs(err).max() < tol, float(err.min())


def test_each_sample_searches_its_last_matrix_that_is_not_all_zero() -> None:
    """Per sample: its last non-zero matrix of the chunk, a NaN one counted as not zero, and a
    zero one where all are (nothing to find either way); on a CPU (``compact``) the last
    matrices themselves, not a copy, when none is zero."""
    g = torch.arange(1.0, 4.0).view(3, 1, 1, 1) * torch.ones(3, 4, 2, 2)  # lag k: k + 1
    g[2, 1] = 0.0  # sample 1: lag 2 zero -> lag 1
    g[1:, 2] = 0.0  # sample 2: lags 1-2 zero -> lag 0
    g[:, 3] = 0.0  # sample 3: all zero
    g[2, 0, 0, 0] = float("nan")  # sample 0: lag 2, NaN and all
    lengths = torch.linalg.vector_norm(g, dim=-1)
    for compact in (False, True):
        got = lookahead.searched(g, lengths, compact)
        assert got.shape == (4, 2, 2)
        assert torch.isnan(got[0, 0, 0]) and got[0, 1, 1] == 3.0
        assert torch.equal(got[1:], torch.stack([g[1, 1], g[0, 2], g[0, 3]]))
    assert lookahead.searched(g[:, :1], lengths[:, :1], True).data_ptr() == g[2, 0].data_ptr()
