"""Lyapunov exponents of a stacked ``nn.LSTM`` / ``nn.GRU`` along a trajectory, full state.

The state is everything the stack carries, ordered layer by layer: s_t = (h^0_t, c^0_t, ...,
h^{L-1}_t, c^{L-1}_t) for an LSTM (dimension 2 L H) and (h^0_t, ..., h^{L-1}_t) for a GRU
(L H). Its one-step Jacobian J_t = ds_t / ds_{t-1} is block lower-triangular in the layers;
a tangent vector v is pushed through it layer by layer without forming J_t. With the
coefficients of :mod:`vanishlab.core.gated_forward` (the blocks of :mod:`vanishlab.core.gated`)
and dx = (J_t v)'s h part of the layer below at the same step (0 for layer 0):

    LSTM:  da = W_hh dh + W_ih dx,   dc' = f dc + q_i da_i + q_f da_f + q_g da_g,
           dh' = k dc' + q_o da_o
    GRU:   e = W_hh dh,  e' = W_ih dx,
           dh' = z dh + q_r (e_r + e'_r) + q_z (e_z + e'_z) + r q_n e_n + q_n e'_n

The QR method (Benettin et al. 1980; Vogt et al. 2022) then follows k orthonormal directions,
Q_t R_t = J_t Q_{t-1}, lambda_i = (1/n) sum_t ln |R_t[i, i]| over the n steps after
``discard``, in natural-log units per step, computed in float64 whatever the module's dtype.

Coefficients past the range. The coefficients are taken in float64 with the exponents that
gated_forward carries where they leave the module's dtype (an LSTM's k, O, C and f; a GRU's q's,
r q_n and z, gated_gru_range: value = rel exp(ln)); a field it does not carry is exact as
flushed. Each step and sample has one scale 2^m, m = floor(s / ln 2) with s the largest ln
|coefficient| of the step's terms (C, O and f; the GRU's q's, r q_n and z; k only multiplies C
and f, |k| <= 1), and the directions are pushed through J_t / 2^m: a layer's rows take its
coefficients over 2^m, and the layer below's new rows, over 2^m already, go back to their own
scale (times 2^m: 0 only where they are below float64's range, ~1e-308 of the step's largest)
before they meet W_ih; m ln 2 is added to each ln |R_t[i, i]| (an annihilated one stays -inf). A
step whose coefficients are all 0 keeps m = 0, as qr_step reads it. A call that carries no
exponent and whose steps' largest coefficients are all >= 2^-60 runs unscaled, as before, bit
for bit (2^m, a power of two, would change only m ln 2's rounding). Before, the coefficients
were read as flushed (float32: 0 below ~1e-38), and every exponent of an LSTM with gates at -100
read -inf, as one whose whole step was below float64's range. Where one step's entries span
more than ~1e16, a direction whose growth lives in the small ones read rounding (~-37 per step).
Where they are whole rows of the step, qr_step now puts the rows in partial pivoting's order
first (its graded rows: one layer reads as the reference, and two and three layers in most cases
measured, tests/test_qr_graded.py; one 0.55 off, docs/maths.md section 6); where they lie within
z's columns (an input gate at -100) no float64 QR resolves them. The top exponent alone, k = 1,
keeps its digits either way (tests/test_gated_lyapunov_range.py), but for entries more
than float64's range below the step's largest: those are 0, and k = 1 reads -inf too where they
carry it (a float64 LSTM with i and o at -800 beside f ~ 1: -inf for the reference's -99.92).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from .gated_carried import CarriedRows
from .gated_forward import GatedSteps, gated_steps, prepare_gated
from .qr_step import qr_step
from .spectrum_args import check_spectrum_args
from .steps import step_done

__all__ = ["gated_lyapunov_spectrum"]

_LN2 = math.log(2.0)
#: steps whose largest coefficient is at least 2^-this need no scale: a product of a few such
#: (a term through L layers) is far inside float64's range
_UNSCALED = 60


class _Shift(NamedTuple):
    """The steps' scales 2^m, m ``(T, B)`` (float64 integers), per step (Python tuples over t:
    no indexing op in the loop): ``ln`` = m ln 2 ``(B, 1)``; ``down`` = 2^-m ``(B, 1)``, times
    ``down2`` where 2^-m is past float64's range (None where it is nowhere); ``up`` = 2^m
    ``(B, 1, 1)``."""

    ln: tuple[torch.Tensor, ...]
    down: tuple[torch.Tensor, ...]
    down2: tuple[torch.Tensor, ...] | None
    up: tuple[torch.Tensor, ...]


def _shift(coefs: list[_Coef]) -> _Shift | None:
    """The scale of each step and sample: 2^m at or just below the largest of ``coefs`` (the
    Jacobian's terms), m = 0 where every one is 0 (that step's Jacobian is 0, as qr_step
    reads it); None (no scaling) where none is carried and every step's largest is >= 2^-60:
    an ordinary call runs as before, bit for bit, and without its few ops a step."""
    s = torch.stack([c.top() for c in coefs]).amax(dim=0)
    m = torch.where(torch.isfinite(s), torch.floor(s / _LN2), 0.0)
    if all(c.carried is None for c in coefs) and bool((m >= -_UNSCALED).all()):  # one sync a call
        return None
    down2 = None
    if bool((m < -1000).any()):  # one sync a call
        # 2^-m as 2^-h 2^-(m - h), h = floor(m / 2): an uncarried value is >= the dtype's
        # tiny / 8 > 2^-1078, so m >= -1078 where one is not 0, and the clamp only keeps each
        # factor finite (no 0 * inf) where they are all 0 beside a carried one
        h = torch.div(m, 2, rounding_mode="floor")
        down = torch.exp2(-h.clamp(-1000.0, 1000.0))
        down2 = torch.exp2(-(m - h).clamp(-1000.0, 1000.0))[..., None].unbind(0)
    else:
        down = torch.exp2(-m)
    # 2^m is 0 or subnormal only where a true new row of the layer below is below float64's
    # range, ~1e-308 of the step's scale: far below what a float64 QR resolves
    return _Shift(
        (m * _LN2)[..., None].unbind(0),
        down[..., None].unbind(0),
        down2,
        torch.exp2(m)[..., None, None].unbind(0),
    )


class _Coef(NamedTuple):
    """One coefficient vector of every step: ``value`` ``(T, B, W)`` as the forward flushed it
    (an entry flushed to 0 is then exact, or read as 0: see the module docstring), and where
    gated_forward carries an exponent, ``carried``: value = rel exp(ln) in its rows."""

    value: torch.Tensor
    carried: CarriedRows | None = None

    def top(self) -> torch.Tensor:
        """``(T, B)``: the largest ln |value| over the entries (-inf where every one is 0)."""
        top = torch.log(self.value.abs().amax(dim=-1).double())
        c = self.carried
        if c is not None and c.sample.numel():
            counts = torch.tensor(c.starts, device=top.device).diff()
            steps = torch.repeat_interleave(torch.arange(len(counts), device=top.device), counts)
            top[steps, c.sample] = (torch.log(c.rel.abs().double()) + c.ln).amax(dim=-1)
        return top

    def at(self, t: int, shift: _Shift | None = None) -> torch.Tensor:
        """Step t's values in float64 over 2^m (``shift``; None: the values), ``(B, W, 1)``."""
        if self.carried is not None:  # sign and log: rel * exp(ln) can be 0 * inf, or inf * tiny
            rel, ln = self.carried.at(t, self.value[t])
            ln = torch.log(rel.abs()) + (ln if shift is None else ln - shift.ln[t])
            return (torch.exp(ln) * torch.sign(rel))[..., None]
        if shift is None:
            return self.value[t].double()[..., None]
        out = self.value[t] * shift.down[t]  # float64 by type promotion; 2^-m exact
        return (out if shift.down2 is None else out * shift.down2[t])[..., None]


def _lstm_coefficients(st: GatedSteps) -> tuple[_Coef, _Coef, _Coef, _Coef]:
    """An LSTM layer's C ``(T, B, 3 H)`` and O, f and k ``(T, B, H)``, each with its exponent
    where :mod:`~vanishlab.core.gated_forward` carries one (where a field is None, the flushed
    coefficient is exact as it is)."""
    assert st.k is not None
    H = st.carry.shape[-1]
    return (
        _Coef(st.coef[..., : 3 * H], st.c_scaled),
        _Coef(st.coef[..., 3 * H :], st.o_scaled),
        _Coef(st.carry, st.f_scaled),
        _Coef(st.k, st.k_scaled),
    )


def _gru_coefficients(st: GatedSteps) -> tuple[_Coef, _Coef, _Coef]:
    """A GRU layer's q = [q_r, q_z, q_n] ``(T, B, 3 H)``, r q_n and z ``(T, B, H)``, with their
    exponents where :mod:`~vanishlab.core.gated_gru_range` carries them (``gru_scaled``, its
    blocks in that order)."""
    assert st.coef_hn is not None
    values = (st.coef, st.coef_hn, st.carry)
    c = st.gru_scaled
    if c is None:
        return tuple(_Coef(v) for v in values)  # type: ignore[return-value]
    H = st.carry.shape[-1]
    parts = (slice(0, 3 * H), slice(3 * H, 4 * H), slice(4 * H, 5 * H))
    return tuple(  # type: ignore[return-value]
        _Coef(v, CarriedRows(c.starts, c.sample, c.rel[:, p], c.ln[:, p]))
        for v, p in zip(values, parts, strict=True)
    )


@torch.no_grad()
def gated_lyapunov_spectrum(
    module: nn.LSTM | nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    k: int | None = None,
    *,
    discard: int = 0,
    q0: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`vanishlab.lyapunov_spectrum` for an LSTM or GRU (same arguments and result).

    ``k`` defaults to ``q0``'s number of columns, else to the full state dimension (2 L H for
    an LSTM, L H for a GRU); ``q0`` is ``(dimension, k)`` in the state order of the module
    docstring.
    """
    inp = prepare_gated(module, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    lstm = inp.mode == "LSTM"
    width = 2 * H if lstm else H  # per layer
    n = L * width
    what = "2 * num_layers * hidden_size" if lstm else "num_layers * hidden_size"
    k = check_spectrum_args(k, discard, q0, dim=n, seq_len=T, what=what)
    f64, device = torch.float64, inp.x.device
    coefs = [(_lstm_coefficients if lstm else _gru_coefficients)(st) for st in gated_steps(inp)]
    # the Jacobian's terms: every coefficient but k, which only multiplies C and f (|k| <= 1)
    shift = _shift([c for cs in coefs for c in (cs[:3] if lstm else cs)])
    w_hh = [w.to(f64) for w in inp.weights_hh]
    w_ih = [w.to(f64) for w in inp.weights_ih]
    if q0 is None:
        q = torch.eye(n, k, dtype=f64, device=device).expand(B, n, k)
    else:
        q = torch.linalg.qr(q0.to(device=device, dtype=f64))[0].expand(B, n, k)
    total = torch.zeros(B, k, dtype=f64, device=device)
    for t in range(T):
        blocks = []
        below = None  # the new dh of the layer below, over 2^m, (B, H, k)
        for l in range(L):
            dh = q[:, l * width : l * width + H]
            e = w_hh[l] @ dh  # (B, G H, k)
            # the layer below's new rows are over 2^m, as the coefficients here: times 2^m, the
            # true rows (0 only where those are below float64's range); H rows, not G H
            if below is not None and shift is not None:
                below = below * shift.up[t]
            e_in = None if below is None else w_ih[l] @ below
            if lstm:
                cell, o, f, kk = coefs[l]
                coef = torch.cat([cell.at(t, shift), o.at(t, shift)], dim=1)
                da = e if e_in is None else e + e_in
                dc = f.at(t, shift) * q[:, l * width + H : (l + 1) * width]
                dc = dc + (coef[:, : 3 * H] * da[:, : 3 * H]).unflatten(1, (3, H)).sum(1)
                new_h = kk.at(t) * dc + coef[:, 3 * H :] * da[:, 3 * H :]
                blocks += [new_h, dc]
            else:
                qc, hn, z = coefs[l]
                coef = qc.at(t, shift)
                new_h = z.at(t, shift) * dh + hn.at(t, shift) * e[:, 2 * H :]
                rz = e[:, : 2 * H]
                if e_in is not None:
                    rz = rz + e_in[:, : 2 * H]
                    new_h = new_h + coef[:, 2 * H :] * e_in[:, 2 * H :]
                new_h = new_h + (coef[:, : 2 * H] * rz).unflatten(1, (2, H)).sum(1)
                blocks.append(new_h)
            below = new_h
        z_t = torch.cat(blocks, dim=1)  # (B, n, k): J_t Q_{t-1} / 2^m
        q, total = qr_step(z_t, total, counted=t >= discard, prev=q)
        step_done(t + 1, T)
    # every ln |R[i, i]| of a counted step gets its m ln 2 back (an annihilated one stays -inf):
    # the same for each column of a sample, so once, past qr_step's reordering of the columns
    if shift is not None:
        total = total + torch.stack(shift.ln[discard:]).sum(dim=0)
    exponents = (total / (T - discard)).sort(dim=-1, descending=True).values
    return exponents if inp.batched else exponents[0]
