"""Mutation review of the gated engine's precision code (helper 507, 2026-12-08):
core/gated_lstm_range (exact_cells and its pairs, SumK, scaled_o), core/gated_gru_range
(candidate, minus_tanh) and core/qr_step (_GRADED, _pivot_rows). Each test here failed on a
small plausible change of the code it names that passed the fast tests of that code, and
passes on the code as it is. Each reads one function on one LSTM or GRU unit's step against
a value computed here at 60 digits (mpmath) from the same pre-activations.

Mutants tried / killed by the fast tests before / killed with these, 2026-12-08 (each run
against the fast test files that name its module, ``pytest -x -m "not slow"``; the slow
fuzzes of test_gated_gate_terms and test_gated_gru_terms killed none of the 15 run there):
  gated_lstm_range 30 / 15 / 22    gated_gru_range 12 / 5 / 7    qr_step 9 / 7 / 7
In all 51 / 27 / 36. The 15 left are equivalent, or within the documented precision:
SumK's K = 5 -> 3 and 4 (bit for bit the same c' in 31,536 re-formed cells of a seeded
fuzz, float32 and float64, where K = 2 differed in 13,201), _sigmoid_pair's ``a >= 0`` -> ``>``
(sigma(0) = 1/2 either way), _tanh_pair's pair from |a| >= 0.25 (an error of eps (1 - tanh|a|)
for eps |tanh a|, within the bound), _cancelled's ``<`` -> ``<=`` and _flushed_terms' ``c != 0``
dropped (a c' of 0 beside an f c of 0: the float64 c' that scaled_o forms either way), its gate
test ``== 0`` -> ``< tiny`` (the dtype's subnormal gates are within 2.5e-7, float32, and 4.6e-16
of 50 digits, over 2,767 and 2,773 a's: the same c' to that), the deep c' handed on below tiny / 2
(22 bits and more), scaled_o's lost c' without its range check (O ~1e-17 for 0 beside k C of
~0.1), candidate's ``r < tiny`` -> ``r == 0`` and its exit ``< tiny`` -> ``<= 0`` (the subnormal
r as above), ``u != 0`` dropped (r u = 0 there) and r u cast before its sum (an ulp of a_n),
scaled_gru's sigma'(a_z) -> sigma'(-a_z) (the same function), qr_step's ``>`` -> ``>=`` at
_GRADED (a span of exactly 1e8, either order read) and the host swap written the other way
round (a swap is symmetric).
"""

from __future__ import annotations

import mpmath
import pytest
import torch

from vanishlab.core.gated_gru_range import candidate, minus_tanh
from vanishlab.core.gated_lstm_range import exact_cells

F64, F32 = torch.float64, torch.float32
DPS = 60


def _sig(a: float) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-mpmath.mpf(a)))


def _exact_c(a_i: float, a_f: float, a_g: float, c_prev: float) -> mpmath.mpf:
    """c' = sigma(a_f) c_prev + sigma(a_i) tanh(a_g) at DPS digits."""
    with mpmath.workdps(DPS):
        return _sig(a_f) * mpmath.mpf(c_prev) + _sig(a_i) * mpmath.tanh(mpmath.mpf(a_g))


def _cell(dtype: torch.dtype, a_i: float, a_f: float, a_g: float, c_prev: float) -> tuple:
    """exact_cells' arguments for one step of one unit (T = B = H = 1), the module's c' formed
    in ``dtype`` as its equations read (o's pre-activation 0): (c, a, c_prev, f, i)."""
    a = torch.tensor([[[a_i, a_f, a_g, 0.0]]], dtype=dtype)
    cp = torch.tensor([[[c_prev]]], dtype=dtype)
    i, f, g = torch.sigmoid(a[..., 0:1]), torch.sigmoid(a[..., 1:2]), torch.tanh(a[..., 2:3])
    return f * cp + i * g, a, cp, f, i


def _formed(dtype: torch.dtype, *args: float) -> tuple[torch.Tensor, float]:
    """The module's c' and exact_cells' (float64: the one it hands scaled_o where there is one)."""
    c, *rest = _cell(dtype, *args)
    out, below = exact_cells(c, *rest)
    return c, (below[1] if below is not None else out).item()


def _rel(got: float, want: mpmath.mpf) -> float:
    with mpmath.workdps(DPS):
        return float(abs((mpmath.mpf(got) - want) / want))


def test_a_float32_c_cancelled_to_2e_4_of_f_c_is_formed_again() -> None:
    """Mutants: _cancelled's threshold sqrt(eps) -> 1e-4 (and -> eps). float32, c_prev = 1,
    a_f = 12 (f within 6e-6 of 1), i g = -(1 - 2e-4) f: c' = 2.0e-4 of f c, below sqrt(eps)
    = 3.45e-4 of it. The module's c' is 4.2e-4 off (f's rounding, an ulp of 1, is 3e-4 of
    c'); formed again, 2e-8 (float32's own rounding). A cut at 1e-4 left it as the module's."""
    a_g = float(torch.tensor(-4.589992523193359, dtype=F32))
    args = (40.0, 12.0, a_g, 1.0)
    want = _exact_c(*args)
    c, got = _formed(F32, *args)
    assert _rel(c.item(), want) > 1e-4  # the module's c' lost its digits
    assert _rel(got, want) <= 1e-7


def _exact_cancel(a_i: float, a_f: float, a_g: float) -> tuple:
    """(a_i, a_f, a_g, c_prev) with c_prev = -sigma(a_i) tanh(a_g) / sigma(a_f) rounded to
    float64: f c and i g cancel to ~1e-17."""
    with mpmath.workdps(DPS):
        return a_i, a_f, a_g, float(-_sig(a_i) * mpmath.tanh(a_g) / _sig(a_f))


@pytest.mark.parametrize(
    ("args", "tol"),
    [
        ((800.0, 33.0, -38.0, 1.0), 1e-15),  # 1.7e-18 (the module's 8.7e-4)
        ((40.0, 20.0, -20.0, 1.0), 1e-15),  # 5.6e-17 (the module's 4.2e-8)
        # c_prev 0.5000000048 and 1.99999997, a gate's hi not 1: f c and i g are not products
        # of float64 numbers that float64 holds (1.6e-8 and 7.8e-9; the module's 1.5 and 2.7)
        (_exact_cancel(0.0, 18.1, -10.0), 1e-6),
        (_exact_cancel(18.5, 0.0, -10.0), 1e-6),
    ],
)
def test_a_cancelled_float64_c_is_formed_to_rounding(args: tuple, tol: float) -> None:
    """Mutants: the TwoProduct errors of f c and i g dropped (plain products: 0.25 and 1.29
    off in the last two cases, which passed the row-level tests), SumK's K = 5 -> 1, and the
    lo of a pair dropped (fl, il, gl, _sigmoid_pair's, _tanh_pair's). Gates within sqrt(eps)
    of 1: c' formed again is within ~eps of the complements' products (sigma(-a) c, ...) of
    60 digits, the docstring's bound, here 1e-15 or 1e-6 of c' itself."""
    want = _exact_c(*args)
    assert _rel(_formed(F64, *args)[1], want) <= tol


@pytest.mark.parametrize(
    ("args", "formed"),
    [
        # 1 - tanh|a_g| = 1.37e-8 and 2.04e-8 beside sqrt(eps) = 1.49e-8 (|a_g| > 9.357)
        (_exact_cancel(0.0, 0.0, 9.4), True),
        (_exact_cancel(0.0, 0.0, -9.4), True),
        (_exact_cancel(0.0, 0.0, 9.2), False),
        (_exact_cancel(0.0, 0.0, -9.2), False),
        # sigma(-a) = 1.52e-8 and 1.25e-8 (a > 18.02)
        (_exact_cancel(0.0, 17.9, -0.75), False),
        (_exact_cancel(0.0, 18.1, -0.75), True),
        (_exact_cancel(17.9, 0.0, -0.75), False),
        (_exact_cancel(18.1, 0.0, -0.75), True),
    ],
)
def test_a_cancelled_c_is_formed_again_where_a_gate_is_within_sqrt_eps_of_1(args, formed) -> None:
    """Mutants: the g edge (ln(1/sqrt(eps)) + ln 2) / 2 -> ln(1/sqrt(eps)) / 2 (|a_g| > 9.01),
    the input gate left out of ``near``, ``near`` taken everywhere. exact_cells forms c' again
    where a gate is within sqrt(eps) of 1 and leaves an ordinary cancellation's c' as the
    module's, the same tensor (its docstring; benchmarks/bench_exact_cells.py checks such calls
    bit for bit): both sides of each edge, float64, c' = f c + i g ~ 1e-17, f c ~ 0.5."""
    c, *rest = _cell(F64, *args)
    out, _ = exact_cells(c, *rest)
    assert (out is not c) == formed


def test_a_cancelled_c_beside_a_c_prev_past_dekkers_split_keeps_the_modules() -> None:
    """Mutant: exact_cells' guard value.isfinite() dropped. f = sigma(-700) = 9.9e-305 beside
    c_prev = 1e304 (f c = 0.99, cancelled by i g): Dekker's split of c_prev overflows and the
    pair's c' is not finite; c' is then the module's (0.0 here; exactly 4.0e-18), not NaN."""
    with mpmath.workdps(DPS):
        a_g = float(mpmath.atanh(-_sig(-700.0) * mpmath.mpf(1e304) / _sig(40.0)))
    c, *rest = _cell(F64, 40.0, -700.0, a_g, 1e304)
    out, below = exact_cells(c, *rest)
    assert below is None
    assert torch.equal(out, c)


@pytest.mark.parametrize(("dtype", "a_r"), [(F32, -100.0), (F32, -95.0), (F64, -720.0)])
def test_a_reset_gate_the_dtype_flushes_is_formed_in_float64(dtype, a_r: float) -> None:
    """Mutant: candidate's ln sigma(a_r) read as ln sigma(-a_r) (the complement's sign). The
    dtype's sigmoid reads r = 0 there (exp(-a_r) overflows); beside u = 1e6 (float32) or 1e300
    (float64), r u is a normal number (3.7e-38, 5.5e-36, 2.0e-13), which a_n (W_in x + b_in =
    0) is: within float32's rounding of 60 digits, or float64's of exp(ln sigma(a_r) + ln u),
    ~eps |ln| (2.4e-14)."""
    u_v = 1e6 if dtype == F32 else 1e300
    a = torch.full((1, 1, 1), a_r, dtype=dtype)
    u = torch.full((1, 1, 1), u_v, dtype=dtype)
    r = torch.sigmoid(a)
    assert r.item() == 0.0
    got = candidate(torch.zeros_like(a), a, r, u).item()
    with mpmath.workdps(DPS):
        want = _sig(a_r) * mpmath.mpf(u_v)
    assert _rel(got, want) <= (2 * torch.finfo(F32).eps if dtype == F32 else 1e-12)


def test_a_forget_gate_float64_itself_flushes_keeps_its_term() -> None:
    """Mutant: _flushed_terms' ``gate > 0`` -> ``gate >= 0`` (the gate's product always, never
    exp(ln sigma(a) + ln |partner|)). float64, a_f = -750: sigma(a_f) = 1.9e-326 is 0 even as
    a float64 subnormal, but f c_prev = 1.9e-26 beside c_prev = 1e300, and i g = -8.7e-27
    (a_i = -60, a_g = -3): c' = 1.0e-26, where the module's (and the mutant's) is i g alone,
    -8.7e-27, of the other sign."""
    args = (-60.0, -750.0, -3.0, 1e300)
    want = _exact_c(*args)
    c, got = _formed(F64, *args)
    assert c.item() < 0 < want
    assert _rel(got, want) <= 1e-12


@pytest.mark.parametrize("a", [[0.26, 0.3, 0.4, 0.45], [0.5], [-0.5]])
def test_h_minus_tanh_keeps_an_ulp_of_tanh_where_a_is_at_most_one_half(a: list) -> None:
    """Mutants: minus_tanh's ``|a| <= _SMALL_A`` -> ``<`` and _SMALL_A 0.5 -> 0.25. Where |a|
    <= 0.5 its h - tanh(a) keeps the error of tanh(a)'s rounding, half an ulp of |tanh a|
    (2^-25 in [0.25, 0.5): 0.39 of it here), where (h - s) + s (1 - tanh|a|) keeps one of
    1 (1.73 and 2.79 ulps of |tanh a| with the mutants): float32, h within 64 ulps of
    tanh(a), against h - tanh(a) in float64 from the same float32 numbers."""
    t = torch.tensor(a)
    h = torch.tanh(t)[:, None] + torch.arange(-64.0, 65.0) * 2.0**-25
    at = t[:, None].expand_as(h)
    err = (minus_tanh(h, at).double() - (h.double() - torch.tanh(at.double()))).abs().max()
    assert err.item() <= 0.5 * 2.0**-25
