"""The coefficients of one step of a gated backward recurrence, each weighted by its term's size.

A step of :mod:`vanishlab.core.gated` forms G ds'/dh = p C W + G_h O W (C, O: the gate
coefficients of :mod:`vanishlab.core.gated_forward`; p = G_h diag(k) + G_c, one log-scale per
column). Its products are taken at one scale, and a term far below that scale is lost in the
dtype, so the scale must be that of the largest term, not of the largest column of p: a column
can meet coefficients of 0 (a unit with nothing to carry on: zero g weights, c = 0, as pruning
leaves it) or rows of W of 0. The term of gate g and unit j, diag(coef_g)_j W_g[j, :], is
bounded by its coefficient's magnitude times the size of the column it multiplies (p's j-th,
or G_h's for the o gate: its own column, :func:`column_sizes`, not its block) and the norm
r_gj of its row of W. Each row of W is therefore divided by its norm once per call
(:func:`unit_rows`; a zero row stays 0), r's natural log joins the coefficient's exponent, and
:func:`weigh` takes the step's scale from the largest bound and every coefficient relative to
it (<= 1 times what it multiplies, so nothing overflows: recurrent weights of 1e-310 in
float64 included). A GRU step in a layer whose coefficients were carried is weighed alike:
q_r, q_z and r q_n (q_n seen from x) meet G's column j and their rows of W, z the same column
and a row of norm 1 (:mod:`vanishlab.core.gated`).
"""

from __future__ import annotations

import math

import torch

__all__ = ["column_sizes", "unit_rows", "weigh"]


def unit_rows(w: torch.Tensor, gates: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``w`` (G H, n) with each row divided by its norm (a zero row left 0), in its dtype, and
    the natural logs of those norms, ``(G, H)`` float64 (-inf for a zero row)."""
    w64 = w.double()
    top = w64.abs().amax(dim=1, keepdim=True)  # its squares can underflow (weights of 1e-310)
    unit = w64 / torch.where(top > 0, top, 1.0)
    r = torch.linalg.vector_norm(unit, dim=1)
    unit = (unit / torch.where(r > 0, r, 1.0)[:, None]).to(w.dtype)
    return unit, (r.log() + top[:, 0].log()).view(gates, -1)  # (not log(r top): subnormal)


def column_sizes(m: torch.Tensor) -> torch.Tensor:
    """The natural logs of an upper bound on the norms of the columns of ``m`` (B, R, H),
    ``(B, H)`` float64: sqrt(R) times the largest |entry| (no squares, which underflow), -inf
    for a zero column, and at least ln(tiny) + ln 4 for any other (a coefficient taken
    relative to it, <= 1 / (4 tiny), and three of them summed, stay in the dtype's range)."""
    top = m.abs().amax(dim=-2).to(torch.float64)
    floor = math.log(torch.finfo(m.dtype).tiny) + math.log(4)
    ln = top.log().add_(0.5 * math.log(m.shape[-2]))
    return torch.where(top > 0, ln.clamp_(min=floor), -torch.inf)


def weigh(
    rel: torch.Tensor, ln_scale: torch.Tensor, ln_meet: torch.Tensor, ln_r: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The coefficients of a step, ``(B, K, G, H)`` float64, for rows of W of norm 1, and the
    step's natural log-scales ``(B, K)``, for K matrices W at once (W_hh, W_ih).

    The coefficient of gate g and unit j is exp(``ln_scale``) ``rel`` (``(B, G, H)`` float64
    each: the relative coefficient and the natural log of its scale, p's column's or G_h's);
    it multiplies a raw column of norm at most exp(``ln_meet``) (``(B, G, H)``: p's column j
    for i, f and g, G_h's for o; :func:`column_sizes`), and ``ln_r`` ``(K, G, H)`` is its
    row's norm in each W. The scale S is the largest bound ln_scale + ln_meet + ln |rel| +
    ln r; each coefficient is rel exp(ln_scale + ln r - S), 0 where its bound is -inf (an
    exact 0 coefficient, a zero row, column or block). The bound takes the column's own
    norm, not its block's: with ||G_h|| for every column, a column far below the block's
    largest (a W_hh column of 1e25 that meets a state that stays 0) set the scale of a term
    it does not rule, and that term's small entries fell out of the dtype's range (float32
    rows 2.3 orders off). Where every bound is -inf (W_hh = 0), S is the largest ln_scale,
    or 0: finite, as the scales of the blocks it makes are read (a log-scale of -inf turns
    their next step's into NaN)."""
    bound = (ln_scale + ln_meet + rel.abs().log())[:, None] + ln_r  # (B, K, G, H)
    scale = bound.amax(dim=(2, 3))
    other = ln_scale.amax(dim=(1, 2))[:, None]  # (no host wait: a GPU defers its checks)
    scale = torch.where(scale > -torch.inf, scale, torch.where(other > -torch.inf, other, 0.0))
    exponent = (ln_scale[:, None] + ln_r).sub_(scale[:, :, None, None])
    coef = torch.where(bound > -torch.inf, rel[:, None] * exponent.exp_(), 0.0)
    return coef, scale
