"""Mutation review of the engine (vanishlab/core): each test here failed on a small
plausible change of the engine that passed every other engine test, and changed a number a user
sees. Expected values come from plain autograd on the module (:mod:`vanishlab.core.oracle`,
written apart from the engine's recurrences), or from torch.linalg on a Jacobian built here."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from test_gated_saturation import exact_rows

import vanishlab as vl
from vanishlab.core import scaling
from vanishlab.core.oracle import autograd_jacobian_norms, autograd_jacobians
from vanishlab.core.queue_sizes import takes_gram

F64 = torch.float64


def _agree(rnn, x, h0=None, **kw) -> None:
    got = vl.jacobian_norms(rnn, x, h0, **kw)
    want = autograd_jacobian_norms(rnn, x, h0)
    keys = ["sample", "source", "layer", "lag"]
    both = got.merge(want, on=keys, suffixes=("", "_want"))
    assert len(both) == len(got)
    for norm in ("log10_fro", "log10_spec"):
        if norm in got:
            np.testing.assert_allclose(both[norm], both[f"{norm}_want"], rtol=0, atol=1e-10)


def test_a_stack_whose_lower_layer_is_all_off_at_a_step_keeps_the_vertical_term():
    """engine._two_terms weights both terms against the larger magnitude: where layer 0's
    relu units are all off at a step its in-layer term is exactly 0 (ln magnitude -inf), and
    G^0 one step earlier is the vertical term alone. Weighted against the in-layer term
    instead (m = ma), every such lag read -inf, a finite Jacobian shown as exactly zero."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 4, num_layers=2, nonlinearity="relu").to(F64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.rand(4, 2, dtype=F64) + 0.5)  # all positive
        rnn.bias_ih_l0.fill_(0.5)
        rnn.bias_hh_l0.zero_()
        rnn.weight_hh_l0.mul_(0.5)
        rnn.bias_ih_l1.fill_(2.0)  # layer 1 stays on
        rnn.bias_hh_l1.zero_()
    x = torch.ones(6, 1, 2, dtype=F64)
    x[3] = -100.0  # every unit of layer 0 off at t = 3
    _agree(rnn, x)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_gated_stack_whose_lower_layer_forgets_at_once_keeps_the_vertical_term(kind):
    """gated._combine, the same: layer 0 with no recurrent weights and a shut carry (an
    LSTM's forget gate, a GRU's update gate at exactly 0) has an in-layer term of exactly 0,
    and G^0 is the vertical term alone; weighted against the in-layer term it read -inf.
    (An LSTM's f = sigma(-1000) is carried as ln f since helper 467, so its c block's in-layer
    term is not 0, and the rows of layer 0's initial state, every path from which passes
    through that f, read 10^-436.35 and 10^-436.54 where this oracle, whose f is 0 in float64,
    reads -inf, as vanishlab did: the 120-digit reference of test_gated_saturation decides
    those two, within 1e-10 (measured 1.4e-13). A GRU's z = sigma(-1000) likewise since helper
    472, gated_gru_range.scaled_gru: the same two rows read 10^-435.307 and 10^-435.322, -inf
    before.)"""
    torch.manual_seed(1)
    rnn = getattr(torch.nn, kind)(3, 4, num_layers=2).to(F64)
    gate = 1  # f in (i, f, g, o), z in (r, z, n)
    with torch.no_grad():
        rnn.weight_hh_l0.zero_()
        rnn.bias_ih_l0[gate * 4 : (gate + 1) * 4] = -1000.0  # sigmoid -> exactly 0
    x = torch.randn(5, 2, 3, dtype=F64)
    got = vl.jacobian_norms(rnn, x)
    keys = ["sample", "source", "layer", "lag"]
    both = got.merge(autograd_jacobian_norms(rnn, x), on=keys, suffixes=("", "_want"))
    assert len(both) == len(got)
    below = np.isneginf(both["log10_fro_want"]) & ~np.isneginf(both["log10_fro"])
    assert both[below][keys].values.tolist() == [[0, "state", 0, 5], [1, "state", 0, 5]]
    for i in both.index[below]:
        b = int(both.at[i, "sample"])
        exact = exact_rows(copy.deepcopy(rnn), x[:, b : b + 1])[("state", 0, 5)]
        both.loc[i, ["log10_fro_want", "log10_spec_want"]] = exact
    for norm in ("log10_fro", "log10_spec"):
        np.testing.assert_allclose(both[norm], both[f"{norm}_want"], rtol=0, atol=1e-10)


def test_a_float64_norm_whose_small_entries_flush_is_rescued():
    """scaling.trusted_floor trusts a norm only where the entries whose squares go subnormal
    (flushed to 0 with torch.set_flush_denormal(True)) change n^2 by under 1e-12. Here the
    one-layer path's matrix at lag 1, (I / ||I||_F) D W_hh, has one entry ~2e-149 and 1023 of
    ~9e-155, whose squares (~8e-309) are flushed: the sum of squares loses 3e-8 of n^2. With
    the 1e-12 loosened to 1e-6 (scaling._LOST) the fast path trusted that norm and read 5e-9
    low in log10, beyond float64's ~1e-10, and every other test passed. The expected norm is
    taken with flushing off, after dividing by the largest entry."""
    torch.manual_seed(0)
    H = 32
    rnn = torch.nn.RNN(2, H, bias=False).to(F64)
    w = torch.full((H, H), 5e-154, dtype=F64)
    w[0, 0] = 1e-148
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(w)
    x = torch.randn(1, 1, 2, dtype=F64)
    with torch.no_grad():
        d = 1 - rnn(x)[0][0, 0] ** 2  # tanh'(a_0)
    j = d[:, None] * w  # dh_0 / dh0 = diag(d) W_hh
    c = j.abs().max()
    want = torch.log10(c * torch.linalg.matrix_norm(j / c)).item()
    if not torch.set_flush_denormal(True):
        pytest.skip("this CPU cannot flush subnormals")
    try:
        got = vl.jacobian_norms(rnn, x, norms="fro", sources="state")
    finally:
        torch.set_flush_denormal(False)
    assert abs(got["log10_fro"].iloc[1] - want) < 1e-12


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize(("kind", "layers"), [("RNN", 2), ("LSTM", 1), ("GRU", 2)])
def test_float64_spectral_norms_by_iteration_are_exact(monkeypatch, gpu_like, kind, layers):
    """The warm-started block iteration (spectral.py, not the Gram path: a state Jacobian of
    side 40) gives float64 spectral norms to ~1e-14 in log10 (read 4e-15 to 2e-14); the test
    at width 128 asks only 1e-6. Expected: torch.linalg.matrix_norm(ord=2), an SVD, of each
    Jacobian that autograd builds (vanishlab.core.oracle.autograd_jacobians)."""
    H = 40
    assert not takes_gram(H, H)
    if gpu_like:  # every matrix iterates, the input Jacobians (40 x 4) too
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(4)
    rnn = getattr(torch.nn, kind)(4, H, layers).to(F64)
    x = torch.randn(24, 2, 4, dtype=F64)
    got = vl.jacobian_norms(rnn, x, norms="spec")
    state, inputs = autograd_jacobians(rnn, x)
    for sample, source, layer, lag, value in got[
        ["sample", "source", "layer", "lag", "log10_spec"]
    ].itertuples(index=False):
        jac = inputs[sample][lag] if source == "input" else state[sample][layer][lag]
        want = torch.log10(torch.linalg.matrix_norm(jac, ord=2)).item()
        assert abs(value - want) < 1e-10, (source, layer, lag, value - want)


@pytest.mark.parametrize("transpose", [False, True])
def test_exact_norms_take_the_gram_matrix_of_the_smaller_side(monkeypatch, transpose):
    """gram.exact_norms, the fallback of every iteration and the answer for small matrices,
    takes the eigvalsh of the smaller side's Gram matrix (k x k, k = min(m, n)). Of the larger
    side's, the numbers agree (to ~1e-15) but cost grows: 17x for 64 x 128 (an LSTM's state
    Jacobian at H = 64), 1850x for 256 x 8 (an input Jacobian), and a 4096 x 4096 float64
    Gram matrix (128 MiB) per input Jacobian at H = 4096; no test of a number saw it."""
    from vanishlab.core import gram

    sides = []
    eigvalsh = torch.linalg.eigvalsh

    def spy(a, *args, **kwargs):
        sides.append(tuple(a.shape[-2:]))
        return eigvalsh(a, *args, **kwargs)

    monkeypatch.setattr(torch.linalg, "eigvalsh", spy)
    g = torch.randn(3, 200, 5, dtype=F64, generator=torch.Generator().manual_seed(0))
    g = g.mT if transpose else g
    got = gram.exact_norms(g)
    assert sides == [(5, 5)]
    want = torch.linalg.matrix_norm(g, ord=2)
    torch.testing.assert_close(got, want, rtol=1e-13, atol=0)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_gated_stack_with_recurrent_weights_of_1e_160_is_exact(kind):
    """gated._combine weighs the in-layer term by its magnitude, counting what unit_if_tiny
    divided out of it (ln_ua) where its norm is below the trusted floor: layer 0's W_hh of
    ~1e-160 (normal numbers, their squares not) with its carry shut. Without ln_ua that term
    weighed ~1e160 too much and the input rows read 0.3-1.3 too high in log10 (mutant A04;
    only the subnormal 1e-310 case of test_gated_exact caught it). Expected: each Jacobian
    autograd builds, divided by its largest entry before torch.linalg takes its norms (the
    oracle's own norms read -inf at h0, whose squares underflow)."""
    torch.manual_seed(1)
    rnn = getattr(torch.nn, kind)(3, 4, num_layers=2).to(F64)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(1e-160)
        rnn.bias_ih_l0[4:8] = -1000.0  # f (LSTM) or z (GRU) at exactly 0
    x = torch.randn(5, 2, 3, dtype=F64)
    got = vl.jacobian_norms(rnn, x)
    state, inputs = autograd_jacobians(rnn, x)
    rows = got[["sample", "source", "layer", "lag", "log10_fro", "log10_spec"]]
    for sample, source, layer, lag, fro, spec in rows.itertuples(index=False):
        jac = inputs[sample][lag] if source == "input" else state[sample][layer][lag]
        c = jac.abs().max()
        for value, order in ((fro, "fro"), (spec, 2)):
            want = torch.log10(c * torch.linalg.matrix_norm(jac / c, ord=order)).item()
            assert abs(value - want) < 1e-10, (source, layer, lag, value - want)
