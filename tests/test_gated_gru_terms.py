"""A GRU's coefficients where its gates flush or its terms cancel (helper 503), against the
120-digit reference of tests/test_gated_saturation.py: the GRU's counterpart of
tests/test_gated_gate_terms.py's LSTM cases.

q_z = (h - n) sigma'(a_z) reads h - n as core/gated_gru_range.minus_tanh forms it.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from test_gated_saturation import exact_rows
from torch import nn

import vanishlab as vl


def _worst(m: nn.GRU, x: torch.Tensor, h0: torch.Tensor) -> float:
    """The largest log10 difference from the reference over every row, both norms and every
    sample (inf where one side is -inf and the other not); every reference row is finite."""
    frame = vl.jacobian_norms(m, x, h0)
    worst = 0.0
    for b in range(x.shape[1]):
        want = exact_rows(copy.deepcopy(m), x[:, b : b + 1], h0[:, b : b + 1])
        got = frame[frame["sample"] == b]
        assert len(got) == len(want)
        for r in got.itertuples(index=False):
            key = (r.source, None if r.source == "input" else int(r.layer), int(r.lag))
            for e, w in zip((r.log10_fro, r.log10_spec), want[key], strict=True):
                assert math.isfinite(w), key
                worst = max(worst, 0.0 if e == w else abs(e - w))
    return worst


def _small_candidate(dtype: torch.dtype, b_in: float, h0: float) -> tuple:
    """A GRU(1, 1) of one step whose candidate's pre-activation is ``b_in`` alone (W_in and
    W_hn 0, b_hn 0: u = 0, so q_r = 0) and whose state before is ``h0``; a_z = x = 0.25 through
    W_iz = 1. The input row is |q_z W_iz| = |h - n| sigma'(a_z) alone."""
    m = nn.GRU(1, 1, 1)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.weight_ih_l0[1] = 1.0  # z
        m.weight_hh_l0[1] = 0.5  # z
        m.bias_ih_l0[2] = b_in  # n
    m = m.to(dtype)
    return m, torch.full((1, 1, 1), 0.25, dtype=dtype), torch.full((1, 1, 1), h0, dtype=dtype)


@pytest.mark.parametrize(
    ("dtype", "b_in", "h0", "tol"),
    [
        # an idle candidate (its rows and biases 0, as pruning leaves them: n = 0) beside a
        # small state, as z h leaves it where z decays it step by step: h - n = h
        (torch.float64, 0.0, 1e-12, 1e-10),  # before 9.6e-6
        (torch.float32, 0.0, 1e-5, 1e-4),  # before 5.9e-4
        # h0 = 0, the default state, and a small candidate: h - n = -tanh(b_in)
        (torch.float32, 1e-5, 0.0, 1e-4),  # before 5.9e-4
    ],
)
def test_h_minus_n_keeps_its_digits_where_the_candidate_is_small(dtype, b_in, h0, tol):
    # minus_tanh formed h - n as (h - s) + s (1 - tanh|a_n|), s = sign(a_n), for every a_n:
    # where |n| is small that sum cancels to |h - n| and keeps an absolute error of an ulp of
    # 1, relative eps / |h - n|. Found in a float64 GRU fuzz (2 layers, an idle unit whose
    # state z h decays: 2.6e-4 off in log10 on one input row). Now h - tanh(a_n) where |a_n|
    # <= 0.5 (error an ulp of |n| < 0.47)
    assert _worst(*_small_candidate(dtype, b_in, h0)) <= tol


def _reset_flushed(dtype: torch.dtype, a_r: float, b_hn: float, h0: float) -> tuple:
    """A GRU(1, 1) of one step whose reset gate is at ``a_r`` + x and u = ``b_hn`` (W_hn 0),
    its n block 0 otherwise (a_n = r u), state before ``h0``; x = 0.25 reaches r and z through
    weights of 1. The input row is |q_r + q_z|, q_r = (1 - z) tanh'(a_n) u sigma'(a_r) and
    q_z = (h - n) sigma'(a_z), n = tanh(r u) of one size with q_r here."""
    m = nn.GRU(1, 1, 1)
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        m.weight_ih_l0[:2] = 1.0  # r, z
        m.bias_ih_l0[0] = a_r
        m.bias_hh_l0[2] = b_hn
    m = m.to(dtype)
    return m, torch.full((1, 1, 1), 0.25, dtype=dtype), torch.full((1, 1, 1), h0, dtype=dtype)


@pytest.mark.parametrize(
    ("dtype", "a_r", "b_hn", "h0", "tol"),
    [
        (torch.float64, -715.0, 1e10, 0.0, 1e-10),  # before 0.36, now 5.7e-14
        (torch.float64, -712.0, 1e10, 1e-300, 1e-10),  # before 0.32, now 5.7e-14
        (torch.float32, -90.0, 1e3, 0.0, 1e-4),  # before 0.36, now 3.5e-8
    ],
)
def test_a_reset_gate_the_dtypes_sigmoid_flushes_keeps_its_term_in_the_candidate(
    dtype, a_r, b_hn, h0, tol
):
    # sigmoid(a_r) is 0 in the dtype below a_r ~ -709.8 (float64; -88.7 in float32), where
    # e^a_r is a subnormal and r u, beside a large u, a normal number: a_n = W_in x + b_in +
    # r u lacked it, and beside an n block that is 0 otherwise n read 0, h - n = h (0 here)
    # where it is -tanh(r u), and q_z with it. Now r u is formed in float64 there
    # (gated_gru_range.candidate)
    assert _worst(*_reset_flushed(dtype, a_r, b_hn, h0)) <= tol
