"""Lyapunov spectra of LSTMs whose gates are past the dtype's range (helper 473).

`gated_lyapunov` forms each step's coefficients in float64 with the exponents that
`gated_forward` carries (k, O, C, f), pushes the directions through J_t / 2^m with 2^m at the
step's largest coefficient, and adds m ln 2 to the step's ln |R[i, i]|. Before, it read the
coefficients flushed in the module's dtype, and every exponent below was -inf or far off (the
old value is named in each test). The reference is `exact_spectrum` (120-digit QR on the
module's float64 copy, tests/test_gated_saturation.py).

What is asserted is what a float64 QR can resolve. Where one step's Jacobian has entries more
than ~1e16 apart (a gate at -100 puts e^-100 ~ 1e-44 between its h and c rows), a direction
whose growth lives in the small entries picks up rounding of Q_{t-1} (~1e-16 in every
component) through the large ones, and its exponent read at rounding's level, ~-37 per step
(measured: -40.4 for the reference's -95.0, was -inf). Where the small entries are whole rows,
qr_step now sorts the rows first and one layer reads every exponent as the reference
(tests/test_qr_graded.py); where they lie within columns (the input gate at -100) any float64
QR reads rounding. So the tests here take the exponents whose directions the large entries
carry (the top ones, where the shut gates shut the whole state's growth), and the top one alone
(k = 1: a normalised vector keeps each component's relative accuracy, which QR's Q does not). A
GRU's exponents (gated_gru_range, helper 472) are read alike: the step at -1000, and the gap's
case below.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from test_gated_saturation import _gate_bias, _gate_biases, exact_spectrum
from torch import nn

import vanishlab as vl

#: natural log per step. float32 states beside the reference's float64 trajectory: measured
#: <= 3e-6 (float32), <= 3e-13 (float64)
TOL32, TOL64 = 1e-4, 1e-10


def _lstm(dtype: torch.dtype, L: int, shut: tuple[int, ...], value: float) -> nn.LSTM:
    torch.manual_seed(0)
    m = nn.LSTM(3, 2, L)
    for block in shut:  # 0, 1, 3: the i, f, o gates
        _gate_bias(m, block, value)
    return m.to(dtype)


def _x(dtype: torch.dtype, T: int = 20, B: int = 1) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.randn(T, B, 3, dtype=dtype)


def _near(got: list[float], want: list[float], tol: float) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert a == b if math.isinf(b) else abs(a - b) <= tol, (got, want)


@pytest.mark.parametrize(
    ("dtype", "L", "shut", "a", "tol"),
    [
        (torch.float32, 1, (0, 1, 3), -100.0, TOL32),
        (torch.float32, 2, (0, 1, 3), -100.0, TOL32),
        (torch.float64, 1, (0, 1), -800.0, TOL64),
    ],
    ids=["ifo-100-float32", "ifo-100-float32-two-layers", "if-800-float64"],
)
def test_shut_input_and_forget_gates_the_whole_spectrum_agrees(dtype, L, shut, a, tol) -> None:
    # i and f (and o) at a: sigma(a) is 0 in the dtype, so the module's c' = f c + i g is
    # exactly 0 at every step, and O = tanh(c') sigma'(a_o) read 0: the h rows were k times the
    # c rows, and the exponents that the h rows' own part carries read rounding below them
    # (-200 - 37). Old: float32 [-99.97, -100.20, -237.46, -238.97] for the reference's
    # [-99.97, -100.20, -201.05, -202.20] (two layers: 35.3 off), float64 -835.8, -837.1 for
    # -802.25, -803.75. Now O takes the exact step's c' (gated_lstm_range.scaled_o): <= 8.7e-7
    # (float32), 3.4e-13 (float64).
    m = _lstm(dtype, L, shut, a)
    x = _x(dtype)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x)
    assert max(want) < a + 1
    _near(got, want, tol)


@pytest.mark.parametrize("L", [1, 2])
def test_forget_and_output_gates_shut_in_float32_the_top_exponent_agrees(L: int) -> None:
    # f, o at -100 (the case measured when the gap was found): old -inf. The full spectrum read
    # rounding but for its last (measured -42.7, -42.8, -44.3, -95.1 against -95.17 to -107.91)
    # until qr_step reordered graded rows: one layer then read all four as the reference, two
    # layers up to 5.5 off with the rows sorted once by size, 1.5e-6 in partial pivoting's
    # order (tests/test_qr_graded.py). One direction never did.
    m = _lstm(torch.float32, L, (1, 3), -100.0)
    x = _x(torch.float32)
    got = vl.lyapunov_spectrum(m, x, k=1)[0].tolist()
    e1 = torch.eye(4 * L, dtype=torch.float64)[:, :1]
    want = exact_spectrum(copy.deepcopy(m), x, q0=e1)
    assert want[0] < -94
    _near(got, want, TOL32)


def test_an_input_gate_shut_in_float32_its_top_exponents_agree() -> None:
    # i at -100, f and o ordinary: old -0.488 and -0.682 (the h directions' first step, ~e^-100,
    # read as 0 and lost as annihilated), the reference -5.52 and -5.71. The lower two read
    # rounding, -35.8 and -36.7 (-37.3 and -38.0 while O read c' = 0), for -97.4 and -98.1.
    m = _lstm(torch.float32, 1, (0,), -100.0)
    x = _x(torch.float32)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x)
    assert want[0] < -5
    _near(got[:2], want[:2], TOL32)


def test_a_step_whose_whole_jacobian_is_below_float64s_range() -> None:
    # i, f, o at -800: every entry of every step below float64's range (e^-800 ~ 1e-348),
    # old: -inf x4; now -800.04, -800.11 and -inf x2 as the reference (the module's c stays
    # exactly 0, i g being 0 in float64, so O = 0 and the h rows are k times the c rows). With
    # an input drawn at seed 0 the reference's lower two are finite, -1101.3 and -1103.4, ~e^-300
    # below the top within each step: no float64 QR resolves them (the engine reads -inf).
    m = _lstm(torch.float64, 1, (0, 1, 3), -800.0)
    x = _x(torch.float64)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x)
    assert want[0] < -799
    _near(got, want, TOL64)


@pytest.mark.parametrize(
    ("dtype", "a", "tol"), [(torch.float32, 100.0, TOL32), (torch.float64, 800.0, TOL64)]
)
def test_every_gate_saturated_about_an_ordinary_cell_the_whole_spectrum_agrees(dtype, a, tol):
    # i, g, o at +a and f at -a: c' ~ 1, k = o tanh'(c') ~ 0.4, and every other coefficient
    # ~e^-a, all of one size, so all four exponents resolve (float32: -99.70 to -101.13;
    # float64: -799.80 to -801.45). Old: -inf x4. k in the step's scale (it only multiplies C
    # and f) read float64's -inf x4 again: its e^-800 terms under a scale of 0.4 underflow.
    torch.manual_seed(0)
    m = nn.LSTM(3, 2)
    _gate_biases(m, a, -a, a, a)
    m = m.to(dtype)
    x = _x(dtype)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x)
    assert max(want) < -a + 1
    _near(got, want, tol)


def test_k_and_q0_follow_the_given_directions() -> None:
    # two random directions of the float32 stack above: old -inf, -inf
    m = _lstm(torch.float32, 1, (0, 1, 3), -100.0)
    x = _x(torch.float32)
    torch.manual_seed(2)
    q0 = torch.randn(4, 2, dtype=torch.float64)
    got = vl.lyapunov_spectrum(m, x, k=2, q0=q0)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x, q0=q0)
    _near(got, want, TOL32)


def test_a_shut_layer_below_an_ordinary_one_passes_its_directions_up() -> None:
    # Layer 0's f and o at -100, layer 1 ordinary: e_1 (a unit of h^0) reaches layer 1 only
    # through layer 0's k and O (~e^-100, flushed), then grows there at layer 1's rate.
    torch.manual_seed(0)
    m = nn.LSTM(3, 2, 2)
    with torch.no_grad():
        for block in (1, 3):
            m.bias_ih_l0[block * 2 : (block + 1) * 2] = -100.0
            m.bias_hh_l0[block * 2 : (block + 1) * 2] = 0.0
    x = _x(torch.float32)
    e1 = torch.eye(8, dtype=torch.float64)[:, :1]
    got = vl.lyapunov_spectrum(m, x, k=1)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x, q0=e1)
    assert -7 < want[0] < -5
    _near(got, want, TOL32)


def _saturated_at_step_0(model: type[nn.LSTM | nn.GRU]) -> tuple[nn.Module, torch.Tensor]:
    """Input weights 1000, x_0 = -1, so every gate of step 0 is at -1000 (f = sigma(-1000) ~
    e^-1000 for an LSTM, 1 - z and tanh'(a_n) alike for a GRU; 0 in float64): not a loss of
    every direction, as the module's float64 step reads it, but a step of ~e^-1000."""
    torch.manual_seed(0)
    mod = model(1, 2).double()
    with torch.no_grad():
        mod.weight_ih_l0.fill_(1000.0)
        mod.bias_ih_l0.zero_()
        mod.bias_hh_l0.zero_()
    return mod, torch.tensor([-1.0, 1e-3, 5e-4, 7e-4], dtype=torch.float64).view(4, 1, 1)


@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize("discard", [0, 1])
def test_discard_with_a_step_of_every_gate_at_minus_1000(model, discard: int) -> None:
    # old, LSTM, k = 1: -inf (counted) and -0.885 (discarded: the e_1 it kept, not J_0 e_1);
    # full spectrum: -inf x4 and -0.885, -1.163. Now -250.78 and -0.541; the top two of the
    # full spectrum -250.71, -250.78 and -0.435, -0.541 (the lower two span e^-1000 more).
    # GRU (its coefficients carried since helper 472): k = 1 -inf and -0.214, the full
    # spectrum's top -0.154 (discarded); now -250.21 and -0.295, the full -0.073, -0.295.
    mod, x = _saturated_at_step_0(model)
    e1 = torch.eye(4 if model is nn.LSTM else 2, dtype=torch.float64)[:, :1]
    one = vl.lyapunov_spectrum(mod, x, k=1, discard=discard)[0].tolist()
    full = vl.lyapunov_spectrum(mod, x, discard=discard)[0].tolist()
    _near(one, exact_spectrum(copy.deepcopy(mod), x, discard=discard, q0=e1), TOL64)
    _near(full[:2], exact_spectrum(copy.deepcopy(mod), x, discard=discard)[:2], TOL64)


@pytest.mark.parametrize("layers", [1, 2])
def test_a_gru_whose_update_gate_and_candidate_are_past_float32s_range(layers: int) -> None:
    # z at sigma(-100) and the candidate at +60 (tanh' ~ e^-120): every coefficient of the
    # step is below float32's range (carried: gated_gru_range). Read flushed, one layer read
    # [-inf, -inf] for the reference's [-99.56, -100.08]
    torch.manual_seed(0)
    m = nn.GRU(3, 2, layers)
    _gate_bias(m, 1, -100.0)
    _gate_bias(m, 2, 60.0)
    x = torch.randn(20, 1, 3)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(copy.deepcopy(m), x)
    assert max(want) < -90
    _near(got, want, TOL32)


def test_a_batch_of_an_ordinary_and_a_saturated_sample() -> None:
    # sample 1's input drives i, f and o to ~-100 (input weight 100 on x[..., 0] = -1); sample
    # 0's leaves them ordinary (x[..., 0] = 0). Old: sample 1 -inf x4, sample 0 as now.
    torch.manual_seed(0)
    m = nn.LSTM(3, 2)
    with torch.no_grad():
        for block in (0, 1, 3):
            m.weight_ih_l0[block * 2 : (block + 1) * 2, 0] = 100.0
    x = _x(torch.float32, B=2)
    x[:, 0, 0], x[:, 1, 0] = 0.0, -1.0
    got = vl.lyapunov_spectrum(m, x).tolist()
    ordinary = exact_spectrum(copy.deepcopy(m), x[:, :1])
    saturated = exact_spectrum(copy.deepcopy(m), x[:, 1:])
    assert max(ordinary) > -10 and max(saturated) < -90
    _near(got[0], ordinary, TOL32)
    _near(got[1][:2], saturated[:2], TOL32)
    alone = vl.lyapunov_spectrum(m, x[:, :1])[0].tolist()  # float32 kernels: measured 6e-9 apart
    _near(got[0], alone, 1e-6)  # a scale of the other sample's (~e^-100) would add ~-100


def test_a_subnormal_coefficient_at_the_top_of_its_step_is_scaled_to_one() -> None:
    # An uncarried coefficient that kept its digits below float64's smallest normal number
    # (>= tiny / 8, as flush_digitless keeps them) can be its step's largest: 2^-m is then past
    # float64's range (2^1030 here) and is applied as two factors; one read inf.
    from vanishlab.core.gated_lyapunov import _Coef, _shift

    value = torch.tensor([[[2.0**-1030, 0.0]], [[0.5, 0.25]]], dtype=torch.float64)  # (T, B, W)
    coef = _Coef(value)
    shift = _shift([coef])
    assert coef.at(0, shift).flatten().tolist() == [1.0, 0.0]
    assert coef.at(1, shift).flatten().tolist() == [1.0, 0.5]
    assert [v.item() for v in shift.ln] == [-1030 * math.log(2), -math.log(2)]
    assert shift is not None


@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_the_scaled_steps_agree_with_the_unscaled_ones_of_an_ordinary_stack(model, monkeypatch):
    # An ordinary call runs unscaled (every step's largest coefficient >= 2^-60, none carried);
    # forced through the scaled steps (m ~ -3 to 1 here), two layers, discard and a partial q0,
    # it reads the same to rounding.
    from vanishlab.core import gated_lyapunov

    torch.manual_seed(5)
    m = model(3, 4, 2).double()
    x = torch.randn(15, 2, 3, dtype=torch.float64)
    q0 = torch.randn(m.num_layers * m.hidden_size * (2 if model is nn.LSTM else 1), 3)
    plain = vl.lyapunov_spectrum(m, x, discard=2, q0=q0)
    monkeypatch.setattr(gated_lyapunov, "_UNSCALED", -1)  # m >= 1 nowhere: every step scaled
    scaled = vl.lyapunov_spectrum(m, x, discard=2, q0=q0)
    torch.testing.assert_close(scaled, plain, rtol=0, atol=1e-12)
