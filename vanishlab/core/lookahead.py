"""The look-ahead row that joins each warm block of :class:`.spectral.SpectralNorms`.

A warm block that spans an (almost) invariant subspace of A = G G^T without the top direction
settles at once on a smaller value (docs/maths.md, section 5): in networks made of decoupled
blocks, after one block overtakes the one the warm rows sit on. The row bounds inside the
iteration see such a direction only once it is far ahead. So before a chunk is iterated, its
last matrix that is not all zero (where a block that is overtaking is furthest ahead: a zero
one holds no direction; :func:`searched`) is searched outside the warm block: SKETCH_ROWS
seeded random rows, kept orthogonal to the block, are filtered by a polynomial of degree
SKETCH_STEPS in A, and their top Ritz direction joins the block of every lag of the chunk. The
filter is one power step, then a Chebyshev polynomial on [0, b], b the smallest Rayleigh
quotient of the block's rows: p(lambda) = lambda / b T_{k-1}(2 lambda / b - 1) is at most
lambda / b in size on [0, b] and grows fast above it: 3.6x at lambda = 1.1 b with degree 4
against a direction at b, where 4 power steps give 1.5x. A direction that can trap the block
lies above the block's top Ritz value, so above b; the directions it competes with outside the
block lie below the block's, so below b, and in the slowly changing networks where traps arise,
close to it. Where there is none, the row is near the block's next direction (the power step
damps those near 0), and speeds its convergence as a larger block would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from .block_rows import unit_scaled

__all__ = ["SKETCHES", "lookahead_row", "searched", "sketch_rows"]

#: Random rows searched per chunk, the filter's degree (matrix products: one power step, then
#: Chebyshev steps), and how many distinct seeded sets of rows successive chunks take in turn
#: (a direction orthogonal to one set is not to all).
SKETCH_ROWS = 4
SKETCH_STEPS = 4
SKETCHES = 64
#: The filter's interval [0, b] reaches at least this fraction of the block's largest Rayleigh
#: quotient (a block with a dead row, Rayleigh quotient 0, would make 2 / b overflow), and at
#: least the dtype's eps: the matrix is scaled to a largest entry of 1, so A's top eigenvalue
#: is at least 1, and (2 / b) A stays finite even where every row of the block all but
#: vanishes (below ~1e-18 of the largest entry in float32, ~1e-153 in float64, (2 / b) A
#: overflowed, and the row came out NaN).
INTERVAL_FLOOR = 1e-3


def sketch_rows(
    m: int, r: int, dtype: torch.dtype, device: torch.device, draw: int
) -> torch.Tensor:
    """Seeded orthonormal rows ``(r, m)``, set number ``draw`` (0 to SKETCHES - 1). Cached,
    never written."""
    return _sketches(m, r, dtype, device)[draw]


# Every set of a key is built and copied at once, when the key is first met: a key's draws
# take one host-to-device copy (each a host wait on a GPU), not one for each chunk of a first
# call. Each set is seeded and factored on its own, as each was when drawn alone: a batched QR
# of the 64 draws differs from their own QRs in the last bit for some sizes (e.g. 3 rows of 9,
# 1 row of 21: MKL's kernels follow the memory layout; tests/test_lookahead_row.py). Once a
# process, a key costs 0.6-1.3 ms at m = 16-128 and 12-23 ms at m = 1024 on a CPU (0.3 ms
# more than one batched QR at m <= 128; a call of T <= 400 used to draw at most 25 sets); 64
# sets of 4 rows of 1024 float64 numbers take 2 MiB. Eight keys: a process that meets more
# sizes and dtypes in turn builds a key again.
@functools.lru_cache(maxsize=8)
def _sketches(m: int, r: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """All SKETCHES sets of :func:`sketch_rows`, ``(SKETCHES, r, m)``."""
    sets = []
    for draw in range(SKETCHES):
        gen = torch.Generator().manual_seed(10_000 + draw)
        q, _ = torch.linalg.qr(torch.randn(m, r, generator=gen, dtype=torch.float64))
        sets.append(q.mT)
    return torch.stack(sets).to(dtype=dtype, device=device)


def searched(g: torch.Tensor, lengths: torch.Tensor, compact: bool) -> torch.Tensor:
    """The matrix ``(B, m, n)`` each sample's look-ahead searches, of a chunk's ``g``
    ``(K, B, m, n)``: its last that is not all zero, as its row lengths ``lengths``
    ``(K, B, m)`` read (inf and NaN count as not zero). A zero matrix (every relu unit off at
    a step, and so every lag after it) holds no direction: searching it, a block that
    overtook the warm one earlier in the chunk read low. Chosen on the device, without a wait,
    unless ``compact`` (a CPU, where a wait is free: the last matrices, without a copy, when
    none is zero)."""
    alive = torch.amax(lengths, dim=-1) != 0  # (K, B)
    if compact and bool(alive[-1].all()):
        return g[-1]
    lag = torch.arange(g.shape[0], device=g.device)[:, None]
    last = torch.where(alive, lag, 0).amax(dim=0)  # (B,): 0 where every matrix is zero
    return g[last, torch.arange(g.shape[1], device=g.device)]


def lookahead_row(
    u: torch.Tensor,
    g: torch.Tensor,
    orthonormal: Callable[[torch.Tensor], torch.Tensor],
    draw: int,
) -> torch.Tensor:
    """The unit row ``(B, 1, m)``, orthogonal to the block ``u`` ``(B, p, m)`` (orthonormal
    rows, p < m), along which each ``(m, n)`` matrix of ``g`` ``(B, m, n)`` is largest as far
    as SKETCH_ROWS random rows (set ``draw``) find after the filter of degree SKETCH_STEPS
    outside the block (module docstring): their top Ritz direction. ``orthonormal``
    orthonormalizes rows in order."""
    n_mat, p, m = u.shape
    r = min(SKETCH_ROWS, m - p)
    g = unit_scaled(g)[0]  # the largest entry 1: 1 <= sigma_1 <= sqrt(m n)
    s = _outside(sketch_rows(m, r, g.dtype, g.device, draw).expand(n_mat, r, m), u)
    if SKETCH_STEPS > 0:
        w = torch.cat([u, s], dim=1) @ g  # one product: the block's Rayleigh quotients ...
        low, high = torch.aminmax(w[:, :p].square().sum(dim=-1), dim=-1)  # q A q^T = |q G|^2
        b = torch.maximum(low, INTERVAL_FLOOR * high)
        b = torch.where(b > 0, b, 1.0)  # a zero G's, or a GPU's NaN (an inf makes 2 / b 0)
        b = b.clamp_min(torch.finfo(g.dtype).eps)  # A's top is >= 1: (2 / b) A stays finite
        s = _outside(unit_scaled(w[:, p:] @ g.mT)[0], u)  # ... and the power step
        # sqrt(2 / b) G: (s G')(s G')^T = (2 / b) s A, the filter's map without a product
        s = _chebyshev(s, u, g * (2.0 / b).sqrt()[:, None, None], SKETCH_STEPS - 1)
    s = orthonormal(torch.cat([u, s], dim=1))[:, p:]
    w = s @ g
    gram = (w @ w.mT).to(torch.float64)
    gram = torch.where(torch.isfinite(gram), gram, 0.0)  # a GPU's deferred inf/NaN matrices
    y = torch.linalg.eigh(gram)[1][..., -1:]  # (B, r, 1): the top Ritz vector, unit
    return y.mT.to(g.dtype) @ s


def _outside(s: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The rows ``s`` less their parts in the span of the orthonormal rows ``u``."""
    return torch.baddbmm(s, s @ u.mT, u, alpha=-1)


def _chebyshev(s: torch.Tensor, u: torch.Tensor, g: torch.Tensor, degree: int) -> torch.Tensor:
    """Rows spanning T_degree(G G^T - I) s outside the block ``u`` (G here sqrt(2 / b) times
    the matrix), by the three-term recurrence T_{j+1} = 2 (G G^T - I) T_j - T_{j-1}, each pair
    rescaled together (their ratio is the recurrence's)."""
    before, rows = s, s
    for j in range(degree):
        step = _outside(torch.baddbmm(rows, rows @ g, g.mT, beta=-1), u)  # (G G^T - I) T_j
        before, rows = rows, (step if j == 0 else torch.add(-before, step, alpha=2))
        c = torch.amax(rows.abs(), dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(g.dtype).tiny)
        before, rows = before / c, rows / c
    return rows
