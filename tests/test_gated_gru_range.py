"""A GRU's coefficients past the dtype's range, carried and weighed (helper 472), against the
120-digit reference of tests/test_gated_saturation.py.

A GRU step has dh'/dh = z + [q_r, q_z, r q_n] W_hh and dh'/dx = [q_r, q_z, q_n] W_ih, with
q_r = (1 - z) tanh'(a_n) u sigma'(a_r), q_z = (h - n) sigma'(a_z), q_n = (1 - z) tanh'(a_n).
Each was flushed to 0 below the dtype's smallest normal number, and a row that only paths
through such a coefficient reach read -inf: with z ~ 1 (a_z = +100 in float32) every q carries
1 - z ~ e^-100, and d h^1 / d h^0 of a two-layer GRU, through V = [q_r, q_z, q_n] W_ih alone,
read -inf where it is 10^-43.58. Now each is carried as exp(ln) rel
(core/gated_gru_range.scaled_gru) and each term of a step weighed by it (core/gated.py).
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from test_gated_saturation import DIGITS, _gate_bias, exact_rows
from torch import nn

import vanishlab as vl

H = 2
R, Z, N = 0, 1, 2  # the gate blocks


def _worst(
    m: nn.GRU, x: torch.Tensor, h0: torch.Tensor | None = None, digits: int = DIGITS
) -> float:
    """The largest log10 difference from the reference (``digits``) over every row, both norms
    and every sample (inf where one side is -inf and the other not); every reference row is
    finite."""
    frame = vl.jacobian_norms(m, x, h0)
    worst = 0.0
    for b in range(x.shape[1]):
        part = None if h0 is None else h0[:, b : b + 1]
        want = exact_rows(copy.deepcopy(m), x[:, b : b + 1], part, digits)
        got = frame[frame["sample"] == b]
        assert len(got) == len(want)
        for r in got.itertuples(index=False):
            key = (r.source, None if r.source == "input" else int(r.layer), int(r.lag))
            for e, w in zip((r.log10_fro, r.log10_spec), want[key], strict=True):
                assert math.isfinite(w), key
                worst = max(worst, 0.0 if e == w else abs(e - w))
    return worst


@pytest.mark.parametrize(
    ("dtype", "bias", "tol"),
    [
        # before: the state row of layer 0 at lag 0 read -inf where it is 10^-43.5808
        (torch.float32, 100.0, 1e-5),  # measured <= 1.1e-6
        # before: -inf where it is 10^-347.5869
        (torch.float64, 800.0, 1e-12),  # measured <= 1.2e-13
    ],
)
def test_an_update_gate_shut_past_the_range_keeps_the_rows_below_it(dtype, bias, tol) -> None:
    """The lead's case: nn.GRU(2, 2, 2), update-gate bias +100 (float32) or +800 (float64) in
    both layers (z ~ 1: the GRU holds its state), one sample."""
    torch.manual_seed(3)
    m = nn.GRU(2, H, 2).to(dtype)
    _gate_bias(m, Z, bias)
    x = torch.randn(6, 1, 2, dtype=dtype)
    assert _worst(m, x) <= tol


# The W_ih blocks cut: for z, n's stays (n then follows x, and h - n is not a cancellation
# that float32 states and the reference's float64 ones round apart)
_CUT = {R: (Z, N), Z: (R,), N: (R, Z)}


def _saturated(dtype: torch.dtype, layers: int, gate: int, a: float, above: bool = True):
    """An nn.GRU(2, 2, layers) whose ``gate`` is the only way through it, saturated: every
    W_hh 0 (dh'/dh = z), the other gates' W_ih rows 0 (``_CUT``: dh'/dx through ``gate``; for
    n, u = W_hn h + b_hn = 0 too, so q_r = 0); layer 0's ``gate`` block reads a = ``a`` x_0 (W_ih
    rows [a, 0], biases 0), x_0 = 1 for sample 0 and 0.01 for sample 1 (an ordinary sample
    beside a saturated one), and, with ``above``, the layers above the same (the gate's bias
    ``a``, every sample); without, they are left as they are."""
    torch.manual_seed(5)
    m = nn.GRU(2, H, layers).to(dtype)
    x = torch.randn(6, 2, 2, dtype=dtype)
    x[:, 0, 0], x[:, 1, 0] = 1.0, 0.01
    rows = slice(gate * H, (gate + 1) * H)
    with torch.no_grad():
        for l in range(layers if above else 1):
            w_ih, b_ih, b_hh = (
                getattr(m, f"{k}_l{l}") for k in ("weight_ih", "bias_ih", "bias_hh")
            )
            getattr(m, f"weight_hh_l{l}").zero_()
            for other in _CUT[gate]:
                w_ih[other * H : (other + 1) * H] = 0.0
            b_ih[rows], b_hh[rows] = (0.0 if l == 0 else a), 0.0
            if gate == N:
                b_hh[rows] = 0.0  # u = 0
        m.weight_ih_l0[rows] = torch.tensor([a, 0.0], dtype=dtype)
    return m, x


# (dtype, gate, a): each gate past the range both ways, |a| 100 (float32) and 800 (float64);
# n at |a_n| = 60 (float32, tanh' ~ e^-240) and 400 (float64, ~e^-1600). Before, every one read
# some row -inf (input rows, and the state rows of every layer below the top) where the
# reference's is finite (10^-40 to 10^-1400).
GATES = [
    (dtype, gate, sign * size)
    for dtype, sizes in ((torch.float32, (100.0, 60.0)), (torch.float64, (800.0, 400.0)))
    for gate, size in ((R, sizes[0]), (Z, sizes[0]), (N, sizes[1]))
    for sign in (1, -1)
]


@pytest.mark.parametrize(
    ("dtype", "gate", "a", "layers"),
    [  # 1 to 3 layers, each gate and sign
        pytest.param(d, g, a, 1 + i % 3, id=f"{str(d)[6:]}-{'rzn'[g]}{a:+g}-{1 + i % 3}layers")
        for i, (d, g, a) in enumerate(GATES)
    ],
)
def test_a_gate_past_the_range_is_carried_through_the_only_path(dtype, gate, a, layers) -> None:
    m, x = _saturated(dtype, layers, gate, a)
    # measured: float32 <= 2.9e-6, float64 <= 4.5e-13 (README, docs/maths.md: 3e-6, 5e-13)
    assert _worst(m, x) <= (1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_carried_layer_below_an_ordinary_one(dtype) -> None:
    """Layer 0's r gate past the range (its input rows through q_r alone), layer 1 as it was
    made: the one layer weighed, the other divided by ||G||_F as before. Before: the input rows
    read -inf."""
    m, x = _saturated(dtype, 2, R, 100.0 if dtype == torch.float32 else 800.0, above=False)
    assert _worst(m, x) <= (1e-5 if dtype == torch.float32 else 1e-12)


def test_exact_zeros_are_not_carried() -> None:
    """q_r is an exact 0 where u = W_hn h + b_hn = 0 (a GRU without biases at h0 = 0, step 0):
    nothing to carry, and the call keeps the one-layer fast path and the old steps (without
    the exact zeros' check, every such call was weighed on the general path, 40% slower at
    H = 128: benchmarks/results/gru_range_dev-2core_2026-12-07.log). A coefficient below the
    range is carried. (Before: GatedSteps had no gru_scaled.)"""
    from vanishlab.core.gated_forward import gated_steps, prepare_gated

    torch.manual_seed(2)
    m = nn.GRU(3, 4, bias=False)
    x = torch.randn(5, 2, 3)
    (st,) = gated_steps(prepare_gated(m, x))
    assert bool((st.coef[0, :, :4] == 0).all()) and st.gru_scaled is None
    shut = nn.GRU(3, 4)
    _gate_bias(shut, Z, 100.0)  # every q ~ e^-100
    (st,) = gated_steps(prepare_gated(shut, x))
    assert st.gru_scaled is not None
