"""A user's mistakes that a type checker must flag (tests/test_api_types.py: each line marked
``# flagged`` draws an error from mypy --strict and from pyright, and no other line does;
nothing runs this file)."""

from __future__ import annotations

import torch
from torch import nn

import vanishlab as vl


def mistakes(cell: vl.CellConfig) -> None:
    vl.jacobian_norm(nn.RNN(2, 3), torch.randn(4, 1, 2))  # flagged
    vl.Sweep(gian=(0.5, 1.0))  # flagged
    vl.Sweep(gain="1.0")  # flagged
    cell.gain = 2.0  # flagged
    vl.CellConfig(seed=2.0)  # flagged
    vl.Sweep(hidden_size=(8.0, 16.0))  # flagged
