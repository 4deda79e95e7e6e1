"""Blocks of orthonormal rows for the block power iteration of :mod:`vanishlab.core.spectral`:
a seeded start, scaling by the largest entry, and orthonormalization (Householder QR on a
CPU's compact batches, Gram-Schmidt on a GPU's masked ones)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

__all__ = ["gram_schmidt_rows", "orthonormal_rows", "qr_rows", "start_block", "unit_scaled"]


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
