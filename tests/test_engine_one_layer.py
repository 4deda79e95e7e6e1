"""The RNN engine's one-layer fast path (division by the norm every few steps, the log-scale
summed at the end) against its general path, which divides at every step."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import engine


@pytest.mark.parametrize(
    ("T", "sources", "nonlinearity", "dtype"),
    list(
        itertools.product(
            range(1, 9),
            [("state",), ("input",), ("state", "input")],
            ["tanh", "relu"],
            [torch.float64, torch.float32],
        )
    ),
)
def test_one_layer_path_matches_the_general_path(monkeypatch, T, sources, nonlinearity, dtype):
    torch.manual_seed(T)
    rnn = nn.RNN(5, 12, nonlinearity=nonlinearity).to(dtype)
    x = torch.randn(T, 3, 5, dtype=dtype)
    answered = []
    real = engine._one_layer
    monkeypatch.setattr(engine, "_one_layer", lambda *a: answered.append(real(*a)) or answered[-1])
    fast = vl.jacobian_log_norms(rnn, x, sources=sources)
    monkeypatch.setattr(engine, "_one_layer", lambda *a: None)
    slow = vl.jacobian_log_norms(rnn, x, sources=sources)
    if nonlinearity == "tanh":
        assert answered[0] is not None, "the fast path did not answer"
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for field in ("state_fro", "state_spec", "input_fro", "input_spec"):
        a, b = getattr(fast, field), getattr(slow, field)
        if b is None:
            assert a is None
            continue
        assert torch.equal(torch.isfinite(a), torch.isfinite(b)), field
        ok = torch.isfinite(b)
        assert (a[ok] - b[ok]).abs().max().item() < tol, field
