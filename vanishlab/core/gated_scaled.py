"""G = dy / ds, the backward recurrence's matrix, as scaled blocks (:mod:`vanishlab.core.gated`).

An LSTM's G = [G_h | G_c] keeps its h block at one natural log-scale and its c block at one
per column (its columns d y / d c_j never meet: dc'/dc = diag(f)); a GRU's is one block. Each
block is a raw contiguous tensor and its scale a float64 log, so that G can lie any number of
orders of magnitude outside the dtype's range. Here: that representation (:class:`ScaledG`),
the rescue of a block or column whose norm is below the trusted floor, and the weighing of
terms by their magnitudes over the largest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .scaling import TinyNorms, trusted_floor, unit_if_tiny

__all__ = ["ScaledG", "over_max", "unit_columns", "unit_norm", "weights_below"]


def over_max(*lns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest of the natural log-magnitudes ``lns`` (B,) each, and ``(len(lns), B)``
    weights exp(ln - largest) (<= 1; 0 for a zero term, ln -inf); the largest is -inf, and
    every weight 0, where all are."""
    m = lns[0]
    for ln in lns[1:]:
        m = torch.maximum(m, ln)
    return m, weights_below(torch.stack(lns), m)


def unit_norm(m: torch.Tensor, s: torch.Tensor, tiny_norms: TinyNorms) -> tuple[torch.Tensor, ...]:
    """||m||_F (B,) and m's log-scale, after :func:`unit_if_tiny` (which may divide m)."""
    _, n, ln_u = unit_if_tiny([m], tiny_norms)
    return n, (s if ln_u is None else s + ln_u)


@dataclass
class ScaledG:
    """G = [exp(s) h | c exp(s_c)] (c None for a GRU), each block a contiguous ``(B, H, n)``
    tensor (norms and products of contiguous blocks run several times faster than of column
    slices); the h block has one natural log-scale s (B,), the c block one per column, s_c
    (B, H): its columns d y / d c_j never meet in the recurrence (dc'/dc = diag(f)), and one
    can lie any number of orders below another and still come to rule the block where the
    others decay (every path from c to h passes through k = o tanh'(c'), ~ e^-2|c'|).
    ``ln_h`` = s + ln ||h||_F, ``ln_cols`` = s_c + ln ||c_j|| (B, H), ``ln_c`` the c block's
    and ``ln_fro`` the whole's ln ||.||_F; ``inv`` = 1 / ||h||_F, ``inv_c`` = 1 / ||c_j|| (0
    for a zero block or column)."""

    h: torch.Tensor
    c: torch.Tensor | None
    s: torch.Tensor
    ln_h: torch.Tensor
    ln_fro: torch.Tensor
    inv: torch.Tensor
    ln_cols: torch.Tensor | None = None
    ln_c: torch.Tensor | None = None
    inv_c: torch.Tensor | None = None

    def c_block(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The c block as ``(raw, s)`` at one scale, each column weighted by its magnitude
        over s (a copy)."""
        assert self.c is not None and self.ln_cols is not None and self.inv_c is not None
        m = self.ln_cols.amax(dim=-1)
        w = weights_below(self.ln_cols, m[:, None]) * self.inv_c
        return self.c * w.to(self.c.dtype)[:, None, :], m

    def whole(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole matrix [h | c] as ``(raw, s)`` (for an LSTM a copy, each block and column
        weighted by its magnitude over s)."""
        if self.c is None:
            return self.h, self.s
        c, ln_c = self.c_block()
        m, w = over_max(self.ln_h, ln_c)  # c's top column has norm 1
        w_h, w_c = (w * torch.stack([self.inv, torch.ones_like(self.inv)])).to(self.h.dtype)
        return torch.cat([self.h * w_h[:, None, None], c * w_c[:, None, None]], dim=-1), m

    @classmethod
    def of(
        cls,
        h: torch.Tensor,
        c: torch.Tensor | None,
        s: torch.Tensor,
        s_c: torch.Tensor | None,
        tiny_norms: TinyNorms,
    ) -> ScaledG:
        n, s = unit_norm(h, s, tiny_norms)
        ln_h = s + torch.log(n)
        inv = n.reciprocal().nan_to_num(posinf=0.0)
        if c is None or s_c is None:
            return cls(h, None, s, ln_h, ln_h, inv)
        n_c, s_c = unit_columns(c, s_c, tiny_norms)
        ln_cols = s_c + torch.log(n_c)
        ln_c = torch.logsumexp(2 * ln_cols, dim=-1) / 2
        inv_c = n_c.reciprocal().nan_to_num(posinf=0.0)
        ln_fro = torch.logaddexp(2 * ln_h, 2 * ln_c) / 2  # ln sqrt(||G_h||^2 + ||G_c||^2)
        return cls(h, c, s, ln_h, ln_fro, inv, ln_cols, ln_c, inv_c)


def weights_below(ln: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """exp(ln - top) (float64), 0 where ln is -inf (top -inf too included)."""
    return (ln - top).exp_().nan_to_num_(nan=0.0)  # -inf - -inf: NaN, read 0


def unit_columns(
    c: torch.Tensor, s_c: torch.Tensor, tiny_norms: TinyNorms
) -> tuple[torch.Tensor, torch.Tensor]:
    """The column norms ||c_j|| (B, H) float64 of c (B, H, H) and its per-column log-scales.
    A column whose norm is below the trusted floor (its squares lost entries), or inf, is measured
    again in float64 from itself divided by its largest |entry| and divided by that norm in
    place (as :func:`unit_if_tiny` does a block), so that a later division by it can neither
    lose digits nor overflow; with deferred ``tiny_norms`` only noted (an all-zero column,
    such as lag 0's, is not: its norm is 0 in any precision)."""
    # (a sum over the rows, not vector_norm over dim -2: 9x faster on a CPU at H = 128)
    n = c.square().sum(dim=1).sqrt_().to(torch.float64)
    small = (n < trusted_floor(c.dtype, c.shape[-2])) | (n == math.inf)  # or squares overflowed
    if tiny_norms.deferred:
        small = small & (torch.linalg.vector_norm(c, ord=math.inf, dim=-2) > 0)
    if not tiny_norms(small):
        return n, s_c
    b, j = small.nonzero(as_tuple=True)
    col = c[b, :, j].double()  # (N, H)
    top = col.abs().amax(dim=-1, keepdim=True)
    n_j = top[:, 0] * torch.linalg.vector_norm(col / torch.where(top > 0, top, 1.0), dim=-1)
    nonzero = n_j > 0
    c[b, :, j] = (col / torch.where(nonzero, n_j, 1.0)[:, None]).to(c.dtype)
    n, s_c = n.clone(), s_c.clone()
    n[b, j] = nonzero.to(n.dtype)  # 1 where divided, 0 for a zero column
    s_c[b, j] = s_c[b, j] + torch.where(nonzero, n_j.log(), 0.0)
    return n, s_c
