"""Spectral norms of matrices with a small side, from their Gram matrices.

:func:`exact_norms` takes the largest eigenvalue of the smaller side's Gram matrix with LAPACK's
eigvalsh (the fallback of every iteration in :mod:`vanishlab.core.spectral`, and its answer for
small matrices); :func:`gram_norms` squares that Gram matrix repeatedly, with proven bounds, for
a whole chunk of lags at once (a CPU's input rows, H x I with I small), and calls eigvalsh only
for the rare nearly tied top values that squaring cannot separate.
"""

from __future__ import annotations

import torch

from . import scaling

__all__ = ["default_rtol", "exact_norms", "gram_norms"]

#: The squaring counts after which :func:`gram_norms` checks its bounds (M = 2^k); a matrix
#: not certified after the last gets its exact norm (nearly tied top singular values).
GRAM_CHECKS = (6, 8, 11, 15)
#: The float64 working copy :func:`exact_norms` makes at a time, at most (one matrix if larger).
EXACT_PIECE_BYTES = 64 << 20


def default_rtol(dtype: torch.dtype) -> float:
    """The default tolerance on the relative error of sigma^2 (the stopping rule of
    :func:`gram_norms` and of :func:`vanishlab.core.spectral.top_singular_values`)."""
    # float64: far inside the 1e-6 budget. float32: the matrices
    # themselves carry ~1e-7 relative rounding.
    return 1e-13 if dtype == torch.float64 else 1e-6


def exact_norms(g: torch.Tensor) -> torch.Tensor:
    """sigma_1 of each ``(..., m, n)`` matrix exactly, in g's dtype, from the Gram matrix of
    its smaller side in float64 (an eigvalsh: several times faster than an SVD at these sizes,
    and as accurate for the largest singular value, whose relative error is then ~k eps for a
    k x k Gram matrix); the matrix is divided by its largest |entry| first, so the squares
    neither underflow nor overflow. On a GPU too: there torch's SVD-based norm of float32
    1024 x 1024 matrices differed by up to 7.5e-5 in log10 (1.7e-4 relative) from two other
    answers that agreed (the iteration run to its certified test, and these float64 Gram
    matrices), and took 9x as long, 90 ms a matrix on an H200
    (benchmarks/results/diagnose_stalls_h200_2026-11-30.log). An inf/NaN matrix gets NaN."""
    queued = scaling.gpu_like(g.device)
    m, n = g.shape[-2:]
    flat = g.reshape(-1, m, n)
    # In pieces of at most EXACT_PIECE_BYTES of float64, so that a large queue (H = 4096,
    # I = 32) is not copied to float64 whole.
    piece = max(1, EXACT_PIECE_BYTES // max(8 * m * n, 1))
    out = []
    for part in flat.split(piece):
        finite = torch.isfinite(part).all(dim=(-2, -1))
        if queued or not bool(finite.all()):  # (a GPU: no wait, the matrices are masked)
            part = torch.where(finite[:, None, None], part, 0.0)
        s = part.to(torch.float64, copy=True)  # the one working copy: scaled in place
        c = torch.maximum(s.amax(dim=(-2, -1)), -s.amin(dim=(-2, -1)))  # max |entry|
        c = torch.where(c > 0, c, 1.0)
        s.div_(c[:, None, None])  # every |entry| <= 1: no square under- or overflows
        gram = s.mT @ s if n <= m else s @ s.mT
        top = torch.linalg.eigvalsh(gram)[..., -1].clamp_min(0)
        out.append(torch.where(finite, c * top.sqrt(), torch.nan))
    return torch.cat(out).to(g.dtype).reshape(g.shape[:-2])


def gram_norms(g: torch.Tensor, rtol: float | None = None) -> torch.Tensor:
    """sigma_1 of each ``(N, m, n)`` matrix, in g's dtype, from the Gram matrix of its smaller
    side A (k x k, k = min(m, n)) by repeated squaring: P = (A / tr A)^M with M = 2^j.

    P holds every direction, so no start can be trapped; its column with the largest diagonal
    entry, v, turns to the top eigenvector like (lambda_2 / lambda_1)^M. The Rayleigh quotient
    rho = v^T A v / v^T v <= lambda_1 is the answer once an upper bound on lambda_1 is within
    ``rtol`` / 2 of it (``rtol``: the relative error of sigma_1^2, as in
    :func:`top_singular_values`; the other half is room for rounding): the smaller of
    (tr A^M)^(1/M) and Kato-Temple's rho + ||r||^2 / (rho - beta), with r the residual
    A v - rho v of the unit v and beta = (tr A^M - rho^M)^(1/M) >= lambda_2 (as
    lambda_1^M + lambda_2^M <= tr A^M and rho <= lambda_1). The bounds are checked after
    GRAM_CHECKS squarings; matrices that settle leave the batch. A, rho and r are float64
    (a float32 A alone carried up to ~1e-6 of error, float32's whole tolerance); the squarings,
    which only find v and the trace bound, run in g's dtype. A matrix still unsettled after
    the last check (nearly tied top values), and one whose Gram trace is not a normal number
    far from underflow (zero, tiny, inf, NaN), gets :func:`exact_norms`.
    """
    rtol = default_rtol(g.dtype) if rtol is None else rtol
    f64 = torch.float64
    n_mat, m, n = g.shape
    g64 = g.to(f64)
    a = g64.mT @ g64 if n <= m else g64 @ g64.mT  # (N, k, k)
    trace = _diagonal_sums(a)
    info = torch.finfo(f64)
    idx = (torch.isfinite(trace) & (trace >= info.tiny / info.eps)).nonzero().squeeze(-1)
    a = a[idx] / trace[idx, None, None]  # eigenvalues in [0, 1], the largest >= 1 / k
    value = torch.full((n_mat,), torch.nan, dtype=f64, device=g.device)  # lambda_1 / tr A
    p, ln_bound, squarings = a.to(g.dtype), torch.zeros_like(trace[idx]), 0
    # Between normalisations the top eigenvalue falls at most to (1 / k)^(2^j): 3 squarings
    # stay far above float32's underflow at k = 32, 6 above float64's.
    every = 6 if g.dtype == f64 else 3
    for check in GRAM_CHECKS:
        if not len(idx):
            break
        while squarings < check:
            p = p @ p
            squarings += 1
            if squarings % every == 0 or squarings == check:
                t = _diagonal_sums(p)
                ln_bound = ln_bound + torch.log(t).to(f64) / 2.0**squarings  # ln (tr A^M)^(1/M)
                p = p / t[:, None, None]
        power = 2.0**squarings
        column = _diagonal(p).argmax(dim=-1)
        v = p.gather(2, column[:, None, None].expand(-1, p.shape[1], 1)).to(f64)  # (N', k, 1)
        v = v / torch.linalg.vector_norm(v, dim=(-2, -1), keepdim=True)
        av = a @ v
        rho = (v * av).sum(dim=(-2, -1))
        r2 = (av - rho[:, None, None] * v).square().sum(dim=(-2, -1))
        # beta = exp(ln_bound) (1 - (rho / exp(ln_bound))^M)^(1 / M), in logs.
        excess = (power * (torch.log(rho) - ln_bound)).clamp_max(0)
        beta = torch.exp(ln_bound + torch.log(-torch.expm1(excess)) / power)
        kato_temple = torch.where(rho > beta, rho + r2 / (rho - beta), torch.inf)
        upper = torch.minimum(torch.exp(ln_bound), kato_temple)
        settled = upper <= rho * (1 + rtol / 2)
        value[idx[settled]] = rho[settled]
        keep = ~settled
        idx, a, p, ln_bound = idx[keep], a[keep], p[keep], ln_bound[keep]
    sigma = (trace * value).sqrt().to(g.dtype)  # NaN where not settled
    rest = torch.isnan(value).nonzero().squeeze(-1)
    if len(rest):
        sigma[rest] = exact_norms(g[rest])
    return sigma


def _diagonal(a: torch.Tensor) -> torch.Tensor:
    return a.diagonal(dim1=-2, dim2=-1)


def _diagonal_sums(a: torch.Tensor) -> torch.Tensor:
    return _diagonal(a).sum(dim=-1)
