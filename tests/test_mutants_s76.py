"""Mutation review of today's Lyapunov and carried-coefficient code (helper 478, 2026-12-07):
core/qr_step (the graded-row sort), core/gated_lyapunov (_shift, _Coef, the coefficient
splits), core/gated_carried (CarriedRows.of/at) and core/gated_gru_range (scaled_gru,
terms_below, _ln_minus_tanh). Each test here failed on a small plausible change of the code it
names that passed the fast tests of that code (test_qr_graded, test_gated_lyapunov,
test_gated_lyapunov_range, test_lyapunov, test_gated_gru_range, test_gated_gru_review,
test_gated_saturation), and passes on the code as it is.

Mutants tried / killed by those tests / killed with these: 44 / 31 / 42 (qr_step 8 / 7 / 8,
gated_lyapunov 20 / 16 / 19, gated_carried 5 / 3 / 4, gated_gru_range 11 / 5 / 11). The two
left are equivalent: _shift's split h = floor(m / 2) + 1 (any split of 2^-m into two powers of
two within +-1000 multiplies to the same 2^-m, exactly), and CarriedRows.of's counts[:steps]
(a bincount of step indices < steps with minlength=steps is already steps long).
"""

from __future__ import annotations

import math

import pytest
import torch
from test_gated_saturation import _gate_bias
from torch import nn

import vanishlab as vl
from vanishlab.core.gated_carried import CarriedRows
from vanishlab.core.gated_gru_range import _ln_minus_tanh, scaled_gru, terms_below
from vanishlab.core.gated_lyapunov import _Coef, _shift
from vanishlab.core.qr_step import qr_step

F64 = torch.float64


def test_rows_spanning_1e10_are_sorted() -> None:
    """Mutant: qr_step's _GRADED 1e8 -> 1e12. Rows spanning 1e10, the big one in the middle:
    unsorted Householder QR reads ln R[1, 1] 6.6e-8 off a 50-digit QR (-22.221131973723406),
    sorted to rounding."""
    z = torch.tensor([[[1e-10, 3e-10], [1.0, 1.0], [2e-10, 1e-10]]], dtype=F64)
    total = qr_step(z, torch.zeros(1, 2, dtype=F64), True, torch.eye(3, 2, dtype=F64)[None])[1]
    assert total[0, 1].item() == pytest.approx(-22.221131973723406, abs=1e-12)


def test_the_scale_is_the_power_of_two_at_or_just_below_the_largest() -> None:
    """Mutant: _shift's floor(s / ln 2) -> ceil. 2^m is at or just below a step's largest
    coefficient (its docstring), so a step whose largest is 3 * 2^-70 takes m = -69, and one
    whose largest is 2^-60.5 is scaled (None only where every step's largest is >= 2^-60)."""
    value = torch.tensor([[[3 * 2.0**-70]], [[2.0**-60.5]]], dtype=F64)  # (T 2, B 1, W 1)
    shift = _shift([_Coef(value)])
    assert shift is not None
    assert shift.ln[0].item() == -69 * math.log(2.0)
    assert shift.ln[1].item() == -61 * math.log(2.0)


def test_the_forget_gate_takes_part_in_the_steps_scale() -> None:
    """Mutant: gated_lyapunov's scale read from an LSTM's C and O alone (cs[:2], not cs[:3]).
    A float64 LSTM with its input and output gates at -800 (C and O carried, ~e^-800) and its
    forget gate open (f ~ 1, c = 0): followed along c alone (q0), each exponent is the mean
    ln f of its unit. Without f, 2^-m ~ 2^1154 took f past float64's range (NaN)."""
    torch.manual_seed(0)
    m = nn.LSTM(3, 2)
    for block, value in ((0, -800.0), (3, -800.0), (1, 10.0)):
        _gate_bias(m, block, value)
    m = m.double()
    x = torch.randn(8, 1, 3, dtype=F64)
    q0 = torch.eye(4, dtype=F64)[:, 2:]  # the c rows
    got = vl.lyapunov_spectrum(m, x, q0=q0)[0].tolist()
    a_f = (x[:, 0] @ m.weight_ih_l0.T + m.bias_ih_l0 + m.bias_hh_l0)[:, 2:4].detach()
    want = sorted(torch.nn.functional.logsigmoid(a_f).mean(dim=0).tolist(), reverse=True)
    assert got == pytest.approx(want, abs=1e-12)


def test_carried_rows_at_leaves_a_float64_coefficient_as_it_is() -> None:
    """Mutant: CarriedRows.at's coef.to(float64, copy=True) -> .to(float64). For a float64
    coefficient that returned the forward's own tensor, and the carried rows were written into
    it (GatedSteps.coef changed in place, cdf30ac2)."""
    coef = torch.tensor([[0.5, 0.25], [0.125, 1.0]], dtype=F64)
    before = coef.clone()
    rows = CarriedRows([0, 1], torch.tensor([1]), torch.tensor([[-1.0, 1.0]], dtype=F64),
                       torch.tensor([[-900.0, -800.0]], dtype=F64))  # fmt: skip
    rel, ln = rows.at(0, coef)
    assert torch.equal(coef, before)
    assert rel.tolist() == [[0.5, 0.25], [-1.0, 1.0]]
    assert ln.tolist() == [[0.0, 0.0], [-900.0, -800.0]]


@pytest.mark.parametrize("s", [1.0, -1.0])
def test_h_minus_n_at_its_sign_past_every_range(s: float) -> None:
    """Mutants: _ln_minus_tanh's at_s never taken (h == s -> h != h), and its sign there -s.
    h = s = sign(a) at |a| = 2205: h - tanh(a) = s (1 - tanh|a|), ln = ln 2 - 4410 (+
    ln1p(e^-4410) = 0), sign s; the plain difference is 0 (ln -inf)."""
    ln, sign = _ln_minus_tanh(torch.tensor([s], dtype=F64), torch.tensor([s * 2205.0], dtype=F64))
    assert ln.item() == pytest.approx(math.log(2.0) - 4410.0, rel=1e-15)
    assert sign.item() == s


def _small(H: int, **blocks: float) -> torch.Tensor:
    """(5 H,) the smallest coefficient of each block [q_r, q_z, q_n, r q_n, z], 1 but ``blocks``."""
    names = ("q_r", "q_z", "q_n", "r_q_n", "z")
    return torch.cat([torch.full((H,), blocks.get(n, 1.0), dtype=F64) for n in names])


def test_r_q_n_is_weighed_with_w_hh_s_n_rows() -> None:
    """Mutant: terms_below's r q_n term times W_ih's n rows (ih[2H:]), not W_hh's. r q_n is
    dh'/dh's n block: 1e-10 times W_hh's n rows of 1e-30 is 1e-40, below float32's tiny / eps
    (~1e-31), while W_ih's n rows are 1."""
    H = 2
    w_hh = torch.ones(3 * H, H)
    w_hh[2 * H :] = 1e-30
    w_ih = torch.ones(3 * H, 3)
    assert terms_below(_small(H, r_q_n=1e-10), w_hh, w_ih)


def test_a_term_between_tiny_and_tiny_over_eps_is_weighed() -> None:
    """Mutant: terms_below's threshold tiny / eps -> tiny. A float32 term of 1e-35 (z's, its
    row the identity's) is a subnormal-bound term, above tiny (1.2e-38) and below tiny / eps
    (9.9e-32): weighed (its docstring)."""
    H = 2
    assert terms_below(_small(H, z=1e-35), torch.ones(3 * H, H), torch.ones(3 * H, 3))


def test_an_exact_zero_among_carried_rows_has_ln_0() -> None:
    """Mutant: scaled_gru's ln = where(sign != 0, ln, 0) dropped. A float32 step with 1 - z =
    sigma(-100) (every q below the range) and u = 0 (q_r an exact 0): the carried row's q_r has
    rel 0 and ln 0 (its docstring), not ln -inf."""
    H = 1
    f32 = torch.float32
    coef, coef_hn = torch.zeros(1, 1, 3 * H), torch.zeros(1, 1, H)
    z = torch.ones(1, 1, H)
    pre = (torch.zeros(1, 1, H), torch.full((1, 1, H), 100.0), torch.full((1, 1, H), 0.5))
    u, h_prev = torch.zeros(1, 1, H), torch.zeros(1, 1, H)
    rows = scaled_gru(coef, coef_hn, z, pre, u, h_prev, (torch.ones(3 * H, H, dtype=f32),
                      torch.ones(3 * H, 3, dtype=f32)))  # fmt: skip
    assert rows is not None and rows.sample.tolist() == [0]
    assert rows.rel[0, 0].item() == 0.0
    assert rows.ln[0, 0].item() == 0.0
    assert torch.isfinite(rows.ln).all()


def test_a_step_whose_largest_is_2_to_the_minus_60_runs_unscaled() -> None:
    """Mutant: _UNSCALED 60 -> 30. _shift's docstring: None where nothing is carried and every
    step's largest coefficient is >= 2^-60 (an ordinary call bit for bit as before)."""
    assert _shift([_Coef(torch.tensor([[[2.0**-59.5]], [[0.5]]], dtype=F64))]) is None


def test_an_update_gate_alone_below_the_range_is_carried() -> None:
    """Mutant: scaled_gru's need without z's own check (z.amin(dim=-1) < tiny dropped). A
    float32 step whose z = sigma(-87.69) ~ 0.7 tiny is its only coefficient below the range
    (q_z = (h - n) sigma'(a_z) ~ -1.3 tiny is normal at h - n = -1.86): its row is carried, not
    left to a subnormal z."""
    a_r, a_z, a_n = (torch.full((1, 1, 1), v) for v in (0.0, -87.69, 2.0))
    u, h_prev = torch.ones(1, 1, 1), torch.full((1, 1, 1), -0.9)
    z = torch.sigmoid(a_z)
    n = torch.tanh(a_n)
    q_n = (1 - z) * (1 - n * n)
    s_r = torch.sigmoid(a_r)
    q_z = (h_prev - n) * z * (1 - z)
    coef = torch.cat([q_n * u * s_r * (1 - s_r), q_z, q_n], dim=-1)
    tiny = torch.finfo(torch.float32).tiny
    assert 0 < z.item() < tiny <= coef.abs().amin().item()
    rows = scaled_gru(coef, s_r * q_n, z, (a_r, a_z, a_n), u, h_prev,
                      (torch.ones(3, 1), torch.ones(3, 3)))  # fmt: skip
    assert rows is not None and rows.sample.tolist() == [0]
    assert rows.ln[0, 4].item() == pytest.approx(float(torch.nn.functional.logsigmoid(
        a_z.double())), rel=1e-12)  # fmt: skip
