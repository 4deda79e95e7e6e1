"""How much the spectral norms (:mod:`.spectral`) queue on a CPU, and which matrices they take
by Gram matrices there: facts the sweep's memory estimate (:mod:`vanishlab.sweep.memory`) counts
too, kept here, apart from torch, so that a dry run of a sweep imports none."""

from __future__ import annotations

__all__ = ["CPU_CHUNK", "GRAM_SIDE", "GRAM_SMALL", "takes_gram"]

#: Lags queued per stream on a CPU (the queue stays in cache).
CPU_CHUNK = 16
#: On a CPU, a matrix whose smaller side is at most GRAM_SMALL, or at most GRAM_SIDE with the
#: other side at least twice as long (an input Jacobian H x I with I small), gets its norm from
#: its Gram matrix by repeated squaring (:func:`.gram.gram_norms`), at any lag: no warm start,
#: so no trap. At B = 8, H = 128, I = 32 the input rows' 256 lags took ~45 ms, against ~65 ms of
#: block power iteration (their warm starts barely help: the input side's vectors follow each
#: step's derivatives) and ~55 ms of eigvalsh; small matrices had exact norms one lag at a
#: time (2-3x slower at H = 16). Square states of side 32 iterate: their warm starts converge
#: fast, and squaring them was 1.2x slower at B = 8, T = 256 (so were sides of 48 and 64).
GRAM_SMALL = 16
GRAM_SIDE = 32


def takes_gram(m: int, n: int) -> bool:
    """Whether a CPU takes an (m x n) matrix's norm from its Gram matrix (GRAM_SMALL,
    GRAM_SIDE), not by block power iteration."""
    side, other = sorted((m, n))
    return side <= GRAM_SMALL or (side <= GRAM_SIDE and other >= 2 * side)
