"""Shared by the engine's tests: networks built to reach one of its paths."""

from __future__ import annotations

import torch
from torch import nn


def relu_turning_zero() -> tuple[nn.RNN, torch.Tensor]:
    """A float64 relu nn.RNN(4, 24) and inputs (40, 2, 4) whose Jacobians turn exactly zero
    part-way: at t = 10 every unit is off, so every Jacobian from lag 30 on is 0 (the
    one-layer path hands such a call to the general one)."""
    torch.manual_seed(0)
    rnn = nn.RNN(4, 24, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_ih_l0.abs_()
    x = torch.randn(40, 2, 4, dtype=torch.float64)
    x[10] = -1e3  # every unit off at t = 10: all Jacobians from lag 30 on are exactly zero
    return rnn, x
