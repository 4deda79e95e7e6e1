"""Blocks of orthonormal rows for the block power iteration of :mod:`vanishlab.core.spectral`:
a seeded start, scaling by the largest entry, orthonormalization (Householder QR on a CPU's
compact batches, Gram-Schmidt on a GPU's masked ones), and the lower bound on sigma_1 from
the two longest rows that catches a trapped warm start."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

__all__ = [
    "gram_schmidt_rows",
    "orthonormal_rows",
    "pair_bound",
    "qr_rows",
    "start_block",
    "unit_scaled",
]


@functools.lru_cache(maxsize=64)
def start_block(m: int, p: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Fixed orthonormal columns ``(m, p)`` (seeded)."""
    # A fixed, seeded start: the same call gives bit-identical results every time. Cached (it
    # is never written to): Gram-Schmidt asks for it at every orthonormalization, and a GPU
    # would otherwise wait for a host-to-device copy each time.
    gen = torch.Generator().manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(m, p, generator=gen, dtype=torch.float64))
    return u.to(dtype=dtype, device=device)


def unit_scaled(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(w / c, c)`` with c the largest |entry| of each ``(p, n)`` block (c = 1 for a zero
    block, which stays zero): every entry of w / c is at most 1 and the largest is 1, so its
    squares can neither overflow nor all underflow. (Not the Frobenius norm: torch sums the
    plain squares, which underflow to 0 for a float64 block of norm below ~1e-154.)"""
    c = torch.amax(w.abs(), dim=(-2, -1))
    c = torch.where(c > 0, c, 1.0)
    return w / c[:, None, None], c


def orthonormal_rows(compact: bool | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """How rows are orthonormalized: Householder QR on a CPU's compact batches, Gram-Schmidt on
    a GPU's masked ones (its batched QR forms Q one matrix at a time)."""
    return qr_rows if compact else gram_schmidt_rows


def qr_rows(z: torch.Tensor) -> torch.Tensor:
    """Orthonormal rows spanning the rows of ``z`` ``(N, p, m)``, by Householder QR."""
    return torch.linalg.qr(z.mT)[0].mT


def gram_schmidt_rows(z: torch.Tensor) -> torch.Tensor:
    """The same by classical Gram-Schmidt applied twice (orthogonal to working precision):
    a few batched operations per row, where a GPU's batched QR forms its Q one matrix at a
    time. A row whose residue is below sqrt(eps) of its length (a zero matrix; a row in the
    span of the rows before it, as relu's exact zeros make) carries no direction of its own:
    it is replaced by a fixed seeded row orthogonalized the same way, so the rows always
    complete an orthonormal basis (as Householder's do) and a warm start never degenerates."""
    n_mat, p, m = z.shape
    # Largest entry 1: a block of norm 1e-160 no longer reads as rows of length 0.
    z = unit_scaled(z)[0]
    q = torch.empty_like(z)
    fill = start_block(m, p, z.dtype, z.device).mT  # (p, m): fixed orthonormal rows
    tol, tiny = torch.finfo(z.dtype).eps ** 0.5, torch.finfo(z.dtype).tiny

    def residue(v: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        v = v - (v @ prev.mT) @ prev
        return v - (v @ prev.mT) @ prev

    for i in range(p):
        v = z[:, i : i + 1]  # (N, 1, m)
        length = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
        alt = fill[i].expand(n_mat, 1, m)
        if i:
            prev = q[:, :i]  # (N, i, m), orthonormal
            v, alt = residue(v, prev), residue(alt, prev)
        n = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
        v = torch.where(n > tol * length, v, alt)
        q[:, i : i + 1] = v / torch.linalg.vector_norm(v, dim=-1, keepdim=True).clamp_min(tiny)
    return q


def pair_bound(
    g: torch.Tensor, lengths: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A lower bound on sigma_1 of each ``(m, n)`` matrix of ``g`` ``(N, m, n)``, float64
    ``(N,)``, and the unit left vector ``(N, m)`` (g's dtype) that attains it.

    sigma_1(G) >= sigma_1(G_S) for the rows G_S of any set S of rows (interlacing); with S the
    two longest rows, that is the square root of the top eigenvalue of their 2 x 2 Gram
    matrix, reached at its top eigenvector: at least the longest row's length, and exact to
    second order in the coupling where G is nearly diagonal. There two nearly tied units,
    weakly coupled, share the top singular vector, and the longest row alone is off to first
    order: a float32 GRU with tiny recurrent weights read 3e-5 low (relative) where the warm
    block held only one of them (docs/maths.md, section 5). The two rows are read in
    float64, scaled by their largest entry: no square over- or underflows (row lengths, in
    g's dtype, only choose them: ``lengths`` ``(N, m)``, if the caller has them). A bound that
    is not a number is 0."""
    f64 = torch.float64
    n_mat, m, n = g.shape
    k = min(2, m)
    lengths = torch.linalg.vector_norm(g, dim=-1) if lengths is None else lengths
    which = lengths.topk(k, dim=-1).indices  # (N, k)
    rows, c = unit_scaled(g.gather(1, which[..., None].expand(n_mat, k, n)).to(f64))
    gram = rows @ rows.mT  # (N, k, k)
    a = gram[:, 0, 0]
    if k == 1:
        top, vec = a, torch.ones(n_mat, 1, dtype=f64, device=g.device)
    else:
        d, b = gram[:, 1, 1], gram[:, 0, 1]
        top = (a + d) / 2 + torch.hypot((a - d) / 2, b)
        # Either row of (gram - top I) gives the eigenvector; the longer one is the accurate one.
        one, two = torch.stack([top - d, b], dim=-1), torch.stack([b, top - a], dim=-1)
        longer = one.norm(dim=-1) >= two.norm(dim=-1)
        vec = torch.where(longer[:, None], one, two)
        length = vec.norm(dim=-1, keepdim=True)
        first = torch.tensor([1.0, 0.0], dtype=f64, device=g.device)
        ok = (length > 0) & torch.isfinite(length)
        vec = torch.where(ok, vec / torch.where(ok, length, 1.0), first)
    low = c * top.clamp_min(0).sqrt()
    low = torch.where(torch.isfinite(low), low, 0.0)
    row = torch.zeros(n_mat, m, dtype=g.dtype, device=g.device)
    return low, row.scatter_(1, which, vec.to(g.dtype))
