"""The RNN engine's one-layer fast path (division by the norm every few steps, the log-scale
summed at the end) against its general path, which divides at every step."""

from __future__ import annotations

import itertools

import pytest
import torch
from _networks import relu_turning_zero
from torch import nn

import vanishlab as vl
from vanishlab.core import engine, scaling, spectral, stream


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


@pytest.mark.parametrize("gpu_queue", [False, True])
def test_a_zero_jacobian_never_reaches_the_spectral_iteration(monkeypatch, gpu_queue):
    """The fast path checks the queued norms just before each spectral computation (not at
    every lag): a Jacobian that turns exactly zero mid-chunk hands the call over first."""
    if gpu_queue:  # a GPU's settings (long queue, two steps per check, masks), on the CPU
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    rnn, x = relu_turning_zero()
    fast_path, smallest = [False], []
    real_iteration, real_exact = spectral.top_singular_values, spectral.exact_norms
    real_gram = spectral.gram_norms

    def seen(g):
        if fast_path[0]:
            smallest.append(torch.linalg.vector_norm(g, dim=(-2, -1)).min().item())

    def iteration(g, u, **kw):
        seen(g)
        return real_iteration(g, u, **kw)

    def exact(g):  # small matrices on a GPU
        seen(g.reshape(-1, *g.shape[-2:]))
        return real_exact(g)

    def squared(g, rtol=None):  # a CPU's small or tall matrices (queue_sizes.GRAM_SMALL)
        seen(g)
        return real_gram(g, rtol)

    answered, real = [], engine._one_layer

    def one_layer(*a):
        fast_path[0] = True
        try:
            answered.append(real(*a))
        finally:
            fast_path[0] = False
        return answered[-1]

    monkeypatch.setattr(spectral, "top_singular_values", iteration)
    monkeypatch.setattr(spectral, "exact_norms", exact)
    monkeypatch.setattr(spectral, "gram_norms", squared)
    monkeypatch.setattr(engine, "_one_layer", one_layer)
    got = vl.jacobian_log_norms(rnn, x)
    assert answered == [None], "the fast path answered a call with a zero Jacobian"
    assert smallest and min(smallest) > 0  # chunks before the zero were computed, none with it
    assert torch.isneginf(got.state_spec[:, 0, 30:]).all()
    assert torch.isfinite(got.state_spec[:, 0, :30]).all()


@pytest.mark.parametrize("gpu_queue", [False, True])
def test_the_checks_before_each_flush_cover_every_queued_lag(monkeypatch, gpu_queue):
    """Each check just before a spectral computation covers all the lags queued since the
    previous one: together they tile the lags in order, none skipped, none twice."""
    if gpu_queue:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    real, ranges = stream.all_normal, {}

    def spy(n, floor):
        if n.shape[0] not in (T, T + 1):  # the final checks of all lags are not chunk checks
            base = n.untyped_storage().data_ptr()
            start = n.storage_offset() // n.shape[1]
            ranges.setdefault(base, []).append((start, start + n.shape[0]))
        return real(n, floor)

    monkeypatch.setattr(stream, "all_normal", spy)
    T = 300
    torch.manual_seed(0)
    vl.jacobian_log_norms(nn.RNN(24, 32), torch.randn(T, 2, 24))
    assert len(ranges) == 2  # the state stream's norms and the input stream's
    for spans in ranges.values():
        assert len(spans) >= 3
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start == end, spans  # contiguous: each picks up where the last stopped
        assert spans[0][0] in (0, 1)  # lag 0 of the states is the identity, never queued
