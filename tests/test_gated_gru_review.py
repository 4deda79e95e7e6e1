"""An adversarial review of a GRU's carried coefficients (helper 474, of helper 472's
core/gated_gru_range.py), against the 120-digit reference of tests/test_gated_saturation.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_gated_gru_range import _worst
from torch import nn

from vanishlab.core.gated_forward import gated_steps, prepare_gated


def _bytes(value: object) -> int:
    """The bytes of every tensor ``value`` holds (a tensor, a tuple or a dataclass of them)."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, tuple | list):
        return sum(_bytes(v) for v in value)
    if dataclasses.is_dataclass(value):
        return sum(_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_saturated_entry_keeps_its_rows_not_the_whole_layer(dtype) -> None:
    """A 2-layer GRU, H 32, B 8, T 200, whose one sample saturates its gates at one step (an
    input of 3e3 / 3e4): the carried coefficients keep the (step, sample) rows that need them.
    Before: (rel, ln), each (T, B, 5 H), rel in the dtype and ln float64, 2.5x (float32) and
    1.7x (float64) the bytes of every other tensor the layer keeps, for one row of 1600; the
    sweep's memory estimate counts 6 numbers a step and unit for a GRU layer, none of them."""
    torch.manual_seed(0)
    m = nn.GRU(4, 32, 2).to(dtype)
    x = torch.randn(200, 8, 4, dtype=dtype)
    x[100, 3] = 3e3 if dtype == torch.float32 else 3e4
    steps = gated_steps(prepare_gated(m, x))
    st = steps[0]
    assert st.gru_scaled is not None  # the case carries something
    kept = _bytes((st.h, st.coef, st.carry, st.coef_hn))
    # measured after: 0.04% (float32), 0.03% (float64) of the layer's other tensors
    assert _bytes(st.gru_scaled) < 0.01 * kept


def _idle_and_tiny(dtype: torch.dtype, rows: float, a_z: float, layers: int):
    """An nn.GRU(2, 2, layers): unit 0 idle (zero weights and biases, h0 = 0: it stays 0, its
    q_r and q_z exact zeros), unit 1 with its rows of W_ih and W_hh times ``rows`` and its
    update gate's bias ``a_z`` (1 - z = sigma(-a_z): every q of unit 1 small, yet a normal
    number); B = 2, T = 5."""
    torch.manual_seed(0)
    m = nn.GRU(2, 2, layers).to(dtype)
    with torch.no_grad():
        for l in range(layers):
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(m, f"{k}_l{l}").view(3, 2, -1)[:, 0] = 0.0
            for k in ("weight_ih", "weight_hh"):
                getattr(m, f"{k}_l{l}").view(3, 2, -1)[:, 1] *= rows
            getattr(m, f"bias_ih_l{l}").view(3, 2)[1, 1] = a_z
            getattr(m, f"bias_hh_l{l}").view(3, 2)[1, 1] = 0.0
    return m, torch.randn(5, 2, 2, dtype=dtype)


@pytest.mark.parametrize(
    ("dtype", "rows", "a_z", "layers", "tol"),
    [
        # before: d h^1 / d h^0 -inf where it is 10^-45.06, the input rows -inf (10^-45.29 at
        # one layer); q ~ 1.9e-36 is a normal number, so nothing was carried, and each term
        # q W ~ 1e-46 fell out of the range in the step divided by ||G||_F
        (torch.float32, 1e-10, 80.0, 1, 1e-5),
        (torch.float32, 1e-10, 80.0, 2, 1e-5),
        # before: 5.5e-5 off (terms of ~1e-41, subnormal, most of their digits lost)
        (torch.float32, 1e-10, 69.0, 2, 1e-5),
        # before: -inf where it is 10^-360.90 (q ~ 2.7e-262, rows 1e-100)
        (torch.float64, 1e-100, 600.0, 2, 1e-12),
    ],
)
def test_normal_coefficients_whose_terms_leave_the_range_are_weighed(
    dtype, rows, a_z, layers, tol
) -> None:
    """The "weighed only where carried" rule missed a layer whose coefficients are all normal
    numbers but whose terms, a coefficient times its row of W, are not: now such a layer is
    weighed (gated_gru_range.terms_below). Measured after: <= 1.3e-7 (float32), 1.2e-13
    (float64), both norms, state and input rows, beside an idle unit."""
    m, x = _idle_and_tiny(dtype, rows, a_z, layers)
    assert _worst(m, x) <= tol


def test_an_ordinary_gru_is_neither_carried_nor_weighed() -> None:
    """The wider rule leaves ordinary calls on the old steps (and the one-layer fast path):
    its check is one more reduction in the forward's scan (a 1-layer GRU, H 128, B 8, T 256:
    forward 0.96-1.0x, whole call 0.98-1.0x of the time before, medians of 9 alternated)."""
    torch.manual_seed(1)
    m = nn.GRU(8, 64, 2)
    x = torch.randn(50, 4, 8)
    assert all(st.gru_scaled is None for st in gated_steps(prepare_gated(m, x)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_normal_coefficients_whose_input_terms_alone_leave_the_range_are_weighed(dtype) -> None:
    """As above, with W_hh as it was made and only unit 1's r and z rows of W_ih small (its n
    row 0): each term q W_ih is out of the range, each q W_hh is not. The check takes the
    smaller of a coefficient's rows in W_hh and W_ih (with W_hh's alone, the float64 case read
    its input rows and d h^1 / d h^0 -inf where they are 10^-361.01 and 10^-361.32). Measured:
    <= 1.1e-7 (float32) and 1.2e-13 (float64)."""
    torch.manual_seed(0)
    m = nn.GRU(2, 2, 2).to(dtype)
    small, a_z = (1e-12, 60.0) if dtype == torch.float32 else (1e-100, 600.0)
    with torch.no_grad():
        for l in range(2):
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(m, f"{k}_l{l}").view(3, 2, -1)[:, 0] = 0.0  # unit 0 idle
            w = getattr(m, f"weight_ih_l{l}").view(3, 2, -1)
            w[:2, 1] *= small
            w[2, 1] = 0.0
            getattr(m, f"bias_ih_l{l}").view(3, 2)[1, 1] = a_z
            getattr(m, f"bias_hh_l{l}").view(3, 2)[1, 1] = 0.0
    x = torch.randn(5, 2, 2, dtype=dtype)
    assert _worst(m, x) <= (1e-5 if dtype == torch.float32 else 1e-12)


def test_r_q_n_below_the_range_alone_is_carried() -> None:
    """r q_n (the n block seen from h) below float32's range while every other coefficient is
    a normal number: r = sigma(-86) ~ 4e-38, q_n ~ 1e-3 (a_n ~ 4.5), q_r ~ q_n u r normal with
    W_hn x1e20, q_z ~ sigma'(-70) ~ 4e-31; W_hr = W_hz = 0, so dh'/dh = diag(z ~ 4e-31) + r q_n
    W_hn (~1e-20). The step and sample are carried for r q_n's sake alone: without that check
    (a mutant of scaled_gru) the state rows read diag(z)'s path, 38 orders low. Measured
    1.6e-6."""
    torch.manual_seed(0)
    m = nn.GRU(2, 2, 1)
    with torch.no_grad():
        m.weight_hh_l0.view(3, 2, 2)[:2] = 0.0
        m.weight_hh_l0.view(3, 2, 2)[2] *= 1e20
        m.bias_hh_l0.zero_()
        b = m.bias_ih_l0.view(3, 2)
        b[0], b[1], b[2] = -86.0, -70.0, 4.5
        m.weight_ih_l0.mul_(0.01)
    x, h0 = torch.randn(4, 2, 2), torch.randn(1, 2, 2) * 0.5
    (st,) = gated_steps(prepare_gated(m, x, h0))
    assert float(st.coef.abs().min()) >= torch.finfo(torch.float32).tiny  # all normal
    assert float(st.coef_hn.min()) == 0.0  # r q_n flushed
    assert _worst(m, x, h0) <= 1e-5


@pytest.mark.parametrize(("dtype", "a_z"), [(torch.float32, 100.0), (torch.float64, 800.0)])
def test_h_minus_n_at_a_state_of_its_sign_with_a_moderate_candidate(dtype, a_z) -> None:
    """h0 = +-1 exactly (h = s = sign(a_n)) and a_n = 1 and -0.3 at step 0: h - n is formed as
    s (1 - tanh|a_n|) = s 2 e / (1 + e), e = exp(-2|a_n|), whose log's last term, ln(1 + e),
    matters where |a_n| is small (a mutant with its sign flipped read the input rows 0.38
    orders off). q_z is carried (sigma'(a_z) below the range), the only path from x (W_ir,
    W_in and W_hh 0). Measured 1.5e-6 (float32) and 5.7e-14 (float64)."""
    torch.manual_seed(0)
    m = nn.GRU(2, 2, 1).to(dtype)
    with torch.no_grad():
        m.weight_hh_l0.zero_()
        m.bias_hh_l0.zero_()
        w = m.weight_ih_l0.view(3, 2, 2)
        w[0], w[2] = 0.0, 0.0
        b = m.bias_ih_l0.view(3, 2)
        b[0], b[1], b[2] = 0.0, a_z, torch.tensor([1.0, -0.3])
    x = torch.randn(3, 2, 2, dtype=dtype)
    h0 = torch.tensor([[[1.0, -1.0], [1.0, -1.0]]], dtype=dtype)
    assert _worst(m, x, h0) <= (1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_lstm_s_carried_coefficients_keep_their_rows_alone(dtype) -> None:
    """The LSTM's C, k, O and ln f (scaled_c, scaled_k, scaled_o, scaled_f), carried alike,
    keep the rows that need them (an LSTM of H 32, B 8, T 200, one input of 3e3 / 3e4).
    Before, each was dense: C_rel and ln_C (T, B, 3 H), k_rel and ln_k (T, B, H), O_rel
    (T, B, H) and its scale (T, B), ln f (T, B, H): 1.9x (float32) and 1.25x (float64) the
    layer's other tensors for one row of 1600 (H 128, B 16, T 400: 1.88x and 1.25x; after,
    a few kB beside 26 MB)."""
    torch.manual_seed(0)
    m = nn.LSTM(4, 32, 2).to(dtype)
    x = torch.randn(200, 8, 4, dtype=dtype)
    x[100, 3] = 3e3 if dtype == torch.float32 else 3e4
    st = gated_steps(prepare_gated(m, x))[0]
    carried = (st.c_scaled, st.k_scaled, st.o_scaled, st.f_scaled)
    assert all(v is not None for v in carried)  # the case carries all four
    kept = _bytes((st.h, st.c, st.coef, st.carry, st.k))
    assert _bytes(carried) < 0.01 * kept
