"""The monitor's top Lyapunov exponent is the mean over the probe's samples (trained.md)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

import vanishlab as vl


@pytest.mark.parametrize(
    ("kinds", "mean"),
    [("AB", 1.5), ("ABB", 5 / 3)],  # of two, the median is the mean: three tell them apart
)
def test_the_top_lyapunov_exponent_is_averaged_over_the_samples(tmp_path, kinds, mean) -> None:
    """relu, W_hh = diag(1/2, 1/4), W_ih = I, no bias. Sample A (inputs +1, +1) keeps both
    units on: the Jacobian is diag(1/2, 1/4), top exponent ln 1/2. Sample B (inputs -1, +1)
    keeps unit 0 off: diag(0, 1/4), top exponent ln 1/4 = 2 ln 1/2. The mean of A and B is
    1.5 ln 1/2 (not the largest, ln 1/2, nor the smallest); of A, B, B it is 5/3 ln 1/2 (not
    their median, 2 ln 1/2)."""
    rnn = nn.RNN(2, 2, nonlinearity="relu", bias=False)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.diag(torch.tensor([0.5, 0.25])))
        rnn.weight_ih_l0.copy_(torch.eye(2))
    T = 40
    sample = {"A": torch.tensor([1.0, 1.0]), "B": torch.tensor([-1.0, 1.0])}
    probe = torch.stack([sample[k] for k in kinds]).expand(T, len(kinds), 2).contiguous()
    out = tmp_path / "m"
    with vl.JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
    recorded = json.loads((out / "manifest.json").read_text())["steps"]["0"]["lyapunov"]
    assert recorded == pytest.approx(mean * math.log(0.5), abs=5e-3)
