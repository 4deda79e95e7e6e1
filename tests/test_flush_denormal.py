"""Tiny Jacobians with ``torch.set_flush_denormal(True)`` (the benchmarks run with it; users may
too): float32 sums of squares then drop the entries whose squares go subnormal, so a norm is
trusted only above a floor that grows with the matrix size (vanishlab.core.scaling). Below it
the fast paths hand over and the general paths rescue the norm in float64. A review found the
fast paths answering with errors up to 0.1 in log10 here while a fixed 1e-17 floor was used."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vanishlab as vl


@pytest.fixture
def flush_denormal():
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@pytest.mark.parametrize("scale", [2e-4, 1.4e-4])
def test_rnn_tiny_jacobians_with_flush_denormal(flush_denormal, scale: float) -> None:
    torch.manual_seed(1)
    rnn = nn.RNN(4, 512, bias=False)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(scale)
    x = torch.randn(9, 1, 4)
    want = vl.jacobian_log_norms(rnn.double(), x.double(), norms="fro").state_fro
    got = vl.jacobian_log_norms(rnn.float(), x, norms="fro").state_fro
    assert want[0, 0, -1] < -30  # far below float32's normal range per entry
    assert (got - want).abs().max().item() < 1e-5


@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_gated_tiny_jacobians_with_flush_denormal(flush_denormal, model) -> None:
    torch.manual_seed(1)
    H = 384
    mod = model(4, H)
    with torch.no_grad():
        mod.weight_hh_l0.mul_(1e-4)
        mod.weight_ih_l0.mul_(1e-4)
        mod.bias_hh_l0[H : 2 * H] = -9.0  # forget gate (LSTM) / update gate (GRU) nearly shut
    x = torch.randn(9, 1, 4)
    kw = {"norms": "fro", "sources": ("state", "input")}
    want = vl.jacobian_log_norms(mod.double(), x.double(), **kw)
    got = vl.jacobian_log_norms(mod.float(), x, **kw)
    for field in ("state_fro", "input_fro"):
        a, b = getattr(got, field), getattr(want, field)
        assert (a - b).abs().max().item() < 1e-5, field
