"""A GRU's coefficients past the dtype's range, carried as exp(ln) rel (:mod:`.gated_forward`;
an LSTM's are :mod:`.gated_lstm_range`'s).

A GRU step (PyTorch's equations, :mod:`vanishlab.core.gated_forward`) has, per unit,

    dh'/dh = z + [q_r, q_z, r q_n] W_hh,      dh'/dx = [q_r, q_z, q_n] W_ih,
    q_r = (1 - z) tanh'(a_n) u sigma'(a_r),   q_z = (h - n) sigma'(a_z),   q_n = (1 - z) tanh'(a_n).

Each is a product of gates, states and derivatives, and leaves the dtype's range where a gate
saturates: with z ~ 1 (a_z = +100 in float32) every q carries 1 - z ~ e^-100 and is below the
smallest normal number, so d h^1 / d h^0 of a two-layer GRU, through V = [q_r, q_z, q_n] W_ih
only, read -inf where it is 10^-43.58 (float64 at a_z = +800: 10^-347.59). :func:`scaled_gru`
forms their natural logs in float64 from the pre-activations, in the steps and samples where
one is below the range, and the backward step (:mod:`vanishlab.core.gated`) weighs each term by
its coefficient, exponent included (:func:`~vanishlab.core.gated_terms.weigh`).
"""

from __future__ import annotations

import math

import torch

from .forward import ln_sigmoid_derivative, ln_tanh_derivative
from .gated_carried import CarriedRows

__all__ = ["GRU_BLOCKS", "candidate", "minus_tanh", "scaled_gru", "terms_below"]

#: The coefficient blocks :func:`scaled_gru` stacks, each (T, B, H): q_r, q_z, q_n (the input's
#: n block), r q_n (the n block seen from h) and z (dh'/dh's diagonal).
GRU_BLOCKS = 5


def candidate(
    gi_n: torch.Tensor, a_r: torch.Tensor, r: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """a_n = W_in x + b_in + r u (``gi_n``, ``a_r``, ``u`` (T, B, H)), ``r`` = sigma(a_r); where
    the dtype's sigmoid reads r below its smallest normal number (0 past a_r ~ -709.8 in float64,
    -88.7 in float32; a subnormal above, torch's keeping 21 bits and more in float32, ~51 in
    float64) beside a u not 0, r u in float64 as
    sign(u) exp(ln sigma(a_r) + ln |u|), which a u of 1e3 (float32) or 1e10 (float64) keeps in
    the range: read as 0 beside an n block that is 0 otherwise, h - n at h = 0 was 0 and the
    input row 0.36 off in log10. Ordinary calls pay one amin of r."""
    a_n = torch.addcmul(gi_n, r, u)
    tiny = torch.finfo(r.dtype).tiny
    if not bool(r.amin() < tiny):
        return a_n
    at = ((r < tiny) & (u != 0)).nonzero(as_tuple=True)
    uu = u[at].double()
    ru = uu.sign() * torch.exp(torch.nn.functional.logsigmoid(a_r[at].double()) + uu.abs().log())
    a_n[at] = (gi_n[at].double() + ru).to(a_n.dtype)
    return a_n


#: |a| up to which :func:`minus_tanh` takes h - tanh(a) as it is (|tanh a| <= 0.46).
_SMALL_A = 0.5


def minus_tanh(h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """h - tanh(a) as (h - s) + s (1 - tanh|a|), s = sign(a), 1 - tanh|a| = 2 e / (1 + e) with
    e = exp(-2|a|): accurate relative to the difference where h and tanh(a) both near s (h - s
    is then exact), where h - tanh(a) in the dtype is a few ulps of 1 or 0: a saturated GRU whose
    state follows its candidate read 0.025 off in log10 at a = 8 in float32, and -inf where
    tanh(a) rounds to 1 (|a| past ~9 in float32, ~19 in float64). Where |a| <= 0.5 the sum
    keeps an ulp of 1 where h - tanh(a) keeps one of |tanh a|: h - tanh(a) there (an idle
    candidate, n = 0, beside a small h read h - n = (h - 1) + 1, 5.9e-4 off in log10 at h = 1e-5
    in float32)."""
    s = torch.ones_like(a).copysign_(a)
    e = torch.exp(-2 * a.abs())
    far = (h - s).addcmul_(s, 2 * e / (1 + e))
    return torch.where(a.abs() <= _SMALL_A, h - torch.tanh(a), far)


def _ln_minus_tanh(h: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ln |h - tanh(a)| and its sign (float64 ``h`` and ``a``), as :func:`minus_tanh` forms it:
    where h = s = sign(a) (a state its kernel rounded to +-1), h - n = s (1 - tanh|a|) alone,
    ln(1 - tanh|a|) = ln 2 - 2|a| - ln(1 + e^-2|a|), finite past any float's range (a float64
    GRU at |a_n| = 2205 read 0 there, every row through q_z -inf, 44 orders of magnitude off
    where another path held it); elsewhere |h - s| >= 2^-53 and the sum is a normal number."""
    diff = minus_tanh(h, a)
    s = torch.ones_like(a).copysign_(a)
    v = 2 * a.abs()
    ln_rounded = (math.log(2) - v) - torch.log1p(torch.exp(-v))
    at_s = h == s
    return torch.where(at_s, ln_rounded, diff.abs().log()), torch.where(at_s, s, diff.sign())


#: Steps per slice of :func:`_below`'s |v| (a temporary of at most _SLICE x B x n values).
_SLICE = 16


def _below(
    v: torch.Tensor, tiny: float, *, skip_zeros: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, B): whether some |entry| of ``v`` (T, B, n) is below ``tiny``, and (n,) float64 the
    smallest |entry| of each column (``skip_zeros``: that is not 0, inf where all are; an extra
    pass, needed only where some entry is 0), a few steps' |v| at a time (no (T, B, n)
    temporary; the -inf vector norm, which makes none, took 7x as long)."""
    need, small = [], torch.full(v.shape[-1:], torch.inf, dtype=torch.float64, device=v.device)
    for c in v.split(_SLICE):
        a = c.abs()
        need.append(a.amin(dim=-1) < tiny)
        if skip_zeros:
            a.masked_fill_(a == 0, torch.inf)
        small = torch.minimum(small, a.amin(dim=(0, 1)).double())
    return torch.cat(need), small


def _row_sizes(w: torch.Tensor) -> torch.Tensor:
    """(G H,) float64: each row's largest |entry|, inf for a zero row (it makes no term)."""
    top = w.abs().amax(dim=1).double()
    return top.masked_fill_(top == 0, torch.inf)


def terms_below(small: torch.Tensor, w_hh: torch.Tensor, w_ih: torch.Tensor) -> bool:
    """Whether a term of some step, a coefficient that is a normal number times its row of W
    (z's row is the identity's), is below the dtype's smallest normal number over its epsilon
    (a term that G's entries, of up to 1 at ||G||_F = 1, take out of the range, or to a
    subnormal that has lost its digits), from ``small`` (5 H,) float64, the smallest
    coefficient of each block [q_r, q_z, q_n, r q_n, z] and unit that is not 0: divided by
    ||G||_F, such a step drops the only path that term makes. A float32 GRU with 1 - z =
    sigma(-80) in one unit (q ~ 1e-36, normal) and its rows of W 1e-10 read d h^1 / d h^0 -inf
    where it is 10^-45.06 (float64 at sigma(-600) and rows of 1e-100: -inf for 10^-360.90);
    ordinary weights and gates stay 20 orders above it."""
    H = w_hh.shape[-1]
    hh, ih = _row_sizes(w_hh), _row_sizes(w_ih)
    size = torch.cat(
        [
            small[: 2 * H] * torch.minimum(hh[: 2 * H], ih[: 2 * H]),  # q_r, q_z
            small[2 * H : 3 * H] * ih[2 * H :],  # q_n (seen from x)
            small[3 * H : 4 * H] * hh[2 * H :],  # r q_n (seen from h)
            small[4 * H :],  # z
        ]
    )
    info = torch.finfo(w_hh.dtype)
    return bool(size.amin() < info.tiny / info.eps)


def scaled_gru(
    coef: torch.Tensor,
    coef_hn: torch.Tensor,
    z: torch.Tensor,
    pre: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    u: torch.Tensor,
    h_prev: torch.Tensor,
    weights: tuple[torch.Tensor, torch.Tensor],
) -> CarriedRows | None:
    """The GRU's coefficients [q_r, q_z, q_n, r q_n, z] (``coef`` (T, B, 3 H), ``coef_hn`` and
    ``z`` (T, B, H), flushed) as :class:`CarriedRows` of 5 H, the coefficient exp(ln) rel, in
    the steps and samples where one that is not an exact 0 (q_r is where u = 0, q_z where
    h = n) is below the smallest normal number; None where there is none (found by (T, B)
    reductions, and an exact 0's check in those steps and samples alone) and no term with
    the layer's ``weights`` (W_hh, W_ih) is below the range (:func:`terms_below`), rows of none
    where one is (each step is then weighed, none carried).

    There, per entry, ln = ln |coefficient| in float64 from the pre-activations ``pre`` =
    (a_r, a_z, a_n), ``u`` = W_hn h + b_hn and ``h_prev`` (ln sigma'(a) = ln sigma(a) +
    ln sigma(-a), 1 - z = sigma(-a_z), h - n as :func:`minus_tanh` forms it), and rel = its
    sign (0 for an exact 0, ln 0 there); elsewhere ln = 0 and rel the coefficient."""
    tiny = torch.finfo(coef.dtype).tiny
    need, small = _below(coef, tiny)
    need |= (coef_hn.amin(dim=-1) < tiny) | (z.amin(dim=-1) < tiny)

    def none_carried(small: torch.Tensor) -> CarriedRows | None:  # (no row carried: weighed?)
        # r q_n and z > 0 here (a 0 of theirs is carried), coef's exact zeros left out
        rest = [v.amin(dim=(0, 1)).double() for v in (coef_hn, z)]
        if not terms_below(torch.cat([small, *rest]), *weights):
            return None
        k, dev = 5 * z.shape[-1], coef.device
        empty = torch.empty(0, dtype=torch.long, device=dev)
        ln = torch.empty(0, k, dtype=torch.float64, device=dev)
        return CarriedRows([0] * (coef.shape[0] + 1), empty, coef.new_empty(0, k), ln)

    if not bool(need.any()):
        return none_carried(small)  # (no |coefficient| below tiny: none is 0)
    rows = need.nonzero(as_tuple=True)
    a_r, a_z, a_n = (a[rows].double() for a in pre)
    uu = u[rows].double()
    ln_diff, sign_diff = _ln_minus_tanh(h_prev[rows].double(), a_n)
    lsig = torch.nn.functional.logsigmoid
    ln_qn = lsig(-a_z) + ln_tanh_derivative(a_n.abs())
    ln = torch.cat(
        [
            ln_qn + uu.abs().log() + ln_sigmoid_derivative(a_r),
            ln_diff + ln_sigmoid_derivative(a_z),
            ln_qn,
            lsig(a_r) + ln_qn,
            lsig(a_z),
        ],
        dim=-1,
    )
    one = torch.ones_like(uu)
    sign = torch.cat([torch.sign(uu), sign_diff, one, one, one], dim=-1)
    flat = torch.cat([coef[rows], coef_hn[rows], z[rows]], dim=-1)
    if not bool(((flat.abs() < tiny) & (sign != 0)).any()):
        # only exact zeros (u = 0: a GRU without biases at h0 = 0)
        return none_carried(_below(coef, tiny, skip_zeros=True)[1])
    ln = torch.where(sign != 0, ln, 0.0)
    return CarriedRows.of(rows, coef.shape[0], sign.to(coef.dtype), ln)
