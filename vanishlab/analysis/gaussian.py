"""Gaussian expectations E_z[f(sqrt(q) z)], z ~ N(0, 1), accurate for every q >= 0.

The mean field (:mod:`vanishlab.analysis.meanfield`) needs E[tanh^2(sqrt(q) z)] and
E[sech^4(sqrt(q) z)] for q from 0 to very large. Plain Gauss-Hermite fails when sqrt(q) is
large, where tanh(sqrt(q) z) turns on within |z| ~ 1/sqrt(q); composite Gauss-Legendre with
panels scaled to 1/sqrt(q) is accurate to ~1e-12 for every q (docs/theory.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

__all__ = ["bisect", "dtanh2", "dtanh4", "gaussian_expectation", "tanh2", "tanh2_over_q"]

_Z_MAX = 12.0  # P(|z| > 12) ~ 3.6e-33: the tail is below float64 rounding of the result
_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)


def _panel_nodes(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """32 Gauss-Legendre nodes z and weights w (including the N(0,1) density) on each panel
    between consecutive ``edges``, in order: each node's value depends on its panel alone."""
    lo, hi = edges[:-1, None], edges[1:, None]  # (P, 1)
    z = (0.5 * (hi - lo) * _GL_X + 0.5 * (hi + lo)).ravel()  # (P * 32,)
    w = (0.5 * (hi - lo) * _GL_W).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return z, w


_UNIFORM = np.arange(0.0, _Z_MAX + 1e-9, 0.25)  # the edges 0, 1/4, ..., 12
# The panels above 1/4 are the same for every q, and all of them for q <= 16: made once. (A
# mean-field search asks for ~20,000 q's, each new, and made them all again, 60 us a call, a
# fifth of a small cell's summary.) The same numbers, bit for bit: each node's value depends
# on its own panel alone.
_TAIL_Z, _TAIL_W = _panel_nodes(_UNIFORM[1:])
_ALL_Z, _ALL_W = _panel_nodes(_UNIFORM)
for _shared in (_TAIL_Z, _TAIL_W, _ALL_Z, _ALL_W):  # handed to every caller: never written
    _shared.flags.writeable = False


@lru_cache(maxsize=64)
def _nodes(q: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z >= 0 and weights w (including the N(0,1) density) for 2 * int_0^Z f phi dz.

    Panels: uniform of width 1/4 over [0, 12] for the Gaussian density, plus geometric panels
    w/8, w/4, ..., up to 1/4 with w = 1/sqrt(q), where act(sqrt(q) z) changes. act has its only
    kink (relu) or its steepest point (tanh) at z = 0, a panel edge, so each panel is analytic.
    """
    scale = 1.0 / math.sqrt(q) if q > 0 else math.inf
    if not scale < 0.25:
        return _ALL_Z, _ALL_W
    geo = scale / 8 * 2.0 ** np.arange(0, 64)
    z, w = _panel_nodes(np.concatenate(([0.0], geo[geo < 0.25], [0.25])))  # [0, 1/4] split
    return np.concatenate((z, _TAIL_Z)), np.concatenate((w, _TAIL_W))


def gaussian_expectation(fn: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """E_z[fn(sqrt(q) z)], z ~ N(0, 1), by composite Gauss-Legendre quadrature.

    Accurate to ~1e-12 (absolute, for |fn| <= 1) for every q >= 0 and any fn that is smooth
    away from 0 (tanh^2, sech^4, relu^2, step): panels resolve both the Gaussian (width 1) and
    fn(sqrt(q) z) (width 1/sqrt(q)). ``fn`` takes and returns float64 arrays.
    """
    if not q >= 0 or not math.isfinite(q):
        raise ValueError(f"q must be a finite number >= 0, got {q}")
    if q == 0:
        return float(fn(np.zeros(1))[0])
    z, w = _nodes(float(q))
    s = math.sqrt(q)
    if fn in _EVEN:  # fn(s z) + fn(-s z) is 2 fn(s z), bit for bit: fn evaluated once
        return float(np.dot(w, 2.0 * fn(s * z)))
    return float(np.dot(w, fn(s * z) + fn(-s * z)))


def _sech(x: np.ndarray) -> np.ndarray:
    e = np.exp(-2.0 * np.abs(x))  # no overflow for any x
    return 2.0 * np.sqrt(e) / (1.0 + e)


def tanh2(x: np.ndarray) -> np.ndarray:
    return np.tanh(x) ** 2


def dtanh2(x: np.ndarray) -> np.ndarray:
    return _sech(x) ** 4


def dtanh4(x: np.ndarray) -> np.ndarray:
    """tanh'(x)^4 = sech^8(x)."""
    return _sech(x) ** 8


# The even integrands of the mean field: fn(-x) == fn(x) exactly (tanh is odd in numpy's
# float64, its square even; sech reads |x|), so gaussian_expectation evaluates them at +sqrt(q) z
# only, half the work of a mean-field search, with the same numbers (a test checks it).
_EVEN = (tanh2, dtanh2, dtanh4)


def tanh2_over_q(q: float) -> float:
    """E[tanh(sqrt(q) z)^2] / q, with its limit 1 at q = 0 (accurate for tiny q)."""
    if q == 0:
        return 1.0
    z, w = _nodes(float(q))
    s = math.sqrt(q)
    return float(np.dot(w, 2.0 * (np.tanh(s * z) / s) ** 2))


def bisect(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of fn on [lo, hi] where fn(lo) > 0 > fn(hi), to float64 resolution."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if fn(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
