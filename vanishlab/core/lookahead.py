"""The look-ahead row that joins each warm block of :class:`.spectral.SpectralNorms`.

A warm block that spans an (almost) invariant subspace of A = G G^T without the top direction
settles at once on a smaller value (docs/maths.md, section 5): in networks made of decoupled
blocks, after one block overtakes the one the warm rows sit on. The row bounds inside the
iteration see such a direction only once it is far ahead. So before a chunk is iterated, its
last matrix (where a block that is overtaking is furthest ahead) is searched outside the warm
block: SKETCH_ROWS seeded random rows, kept orthogonal to the block, take SKETCH_STEPS power
steps with A, and their top Ritz direction joins the block of every lag of the chunk. Against
every other direction outside the block, a hidden one's share of the rows grows like
(sigma_hidden / sigma_trapped)^2 per step, from a random start's ~sqrt(r / m); where there is
none, the row is the block's next direction, and speeds its convergence as a larger block
would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from .block_rows import unit_scaled

__all__ = ["SKETCHES", "lookahead_row", "sketch_rows"]

#: Random rows searched per chunk, their power steps, and how many distinct seeded sets of
#: rows successive chunks take in turn (a direction orthogonal to one set is not to all).
SKETCH_ROWS = 4
SKETCH_STEPS = 3
SKETCHES = 64


@functools.lru_cache(maxsize=2 * SKETCHES)
def sketch_rows(
    m: int, r: int, dtype: torch.dtype, device: torch.device, draw: int
) -> torch.Tensor:
    """Seeded orthonormal rows ``(r, m)``, set number ``draw`` (0 to SKETCHES - 1). Cached,
    never written."""
    gen = torch.Generator().manual_seed(10_000 + draw)
    q, _ = torch.linalg.qr(torch.randn(m, r, generator=gen, dtype=torch.float64))
    return q.mT.to(dtype=dtype, device=device)


def lookahead_row(
    u: torch.Tensor,
    g: torch.Tensor,
    orthonormal: Callable[[torch.Tensor], torch.Tensor],
    draw: int,
) -> torch.Tensor:
    """The unit row ``(B, 1, m)``, orthogonal to the block ``u`` ``(B, p, m)`` (orthonormal
    rows, p < m), along which each ``(m, n)`` matrix of ``g`` ``(B, m, n)`` is largest as far
    as SKETCH_ROWS random rows (set ``draw``) find after SKETCH_STEPS power steps outside the
    block: their top Ritz direction. ``orthonormal`` orthonormalizes rows in order."""
    n_mat, p, m = u.shape
    r = min(SKETCH_ROWS, m - p)
    g = unit_scaled(g)[0]  # the largest entry 1: 1 <= sigma_1 <= sqrt(m n)
    s = sketch_rows(m, r, g.dtype, g.device, draw).expand(n_mat, r, m)
    for _ in range(SKETCH_STEPS):
        s = s - (s @ u.mT) @ u
        s = unit_scaled((s @ g) @ g.mT)[0]  # a step grows rows by up to m n: rescaled
    s = orthonormal(torch.cat([u, s], dim=1))[:, p:]
    w = s @ g
    gram = (w @ w.mT).to(torch.float64)
    gram = torch.where(torch.isfinite(gram), gram, 0.0)  # a GPU's deferred inf/NaN matrices
    y = torch.linalg.eigh(gram)[1][..., -1:]  # (B, r, 1): the top Ritz vector, unit
    return y.mT.to(g.dtype) @ s
