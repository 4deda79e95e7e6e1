"""When a Frobenius norm computed in the module's dtype can be trusted, and how often the fast
paths divide by it: one definition for the RNN and the gated engines.

A sum of squares loses the entries whose squares fall below the dtype's smallest normal number
(they go subnormal, or to zero with ``torch.set_flush_denormal(True)``). At most ``numel`` such
entries are lost, each below ``tiny``, so a norm ``n`` of a matrix with ``numel`` entries is
trusted when ``numel * tiny <= 1e-12 n^2``: the lost part then changes n by under 1e-12 (in
relative terms) whatever the flush mode. Below that floor the general paths recompute the norm
in float64 from the matrix divided by its largest entry (float64 matrices too, whose floor is
~1.5e-148 sqrt(n): torch's float64 norm sums plain squares) and rescale the matrix to unit norm
in float64 (so that 1 / n cannot overflow, as it would below ~3e-39 in float32 and ~6e-309 in
float64); the fast paths hand the call over to a general path.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TypeVar

import torch

T = TypeVar("T")

__all__ = [
    "RENORM",
    "TinyNorms",
    "all_normal",
    "checked_run",
    "frobenius_norms",
    "gpu_like",
    "host_waits",
    "scaled_norms",
    "trusted_floor",
    "unit_if_tiny",
]

#: The one-layer fast paths divide by the norm every RENORM-th step only: in between a matrix
#: drifts by a few steps' growth or decay, far inside float32's range (a norm that leaves the
#: trusted range hands the call over to the general path).
RENORM = 4

_LOST = 1e-12  # the most the entries below the smallest normal may change n^2, relatively


def trusted_floor(dtype: torch.dtype, numel: int) -> float:
    """The smallest Frobenius norm of a ``numel``-entry matrix of ``dtype`` that is trusted."""
    return math.sqrt(numel * torch.finfo(dtype).tiny / _LOST)


def all_normal(n: torch.Tensor, floor: float) -> bool:
    """Whether every norm in ``n`` is finite and at least ``floor`` (False for NaN)."""
    lo, hi = torch.aminmax(n)
    return bool(lo >= floor) and bool(hi < math.inf)


def gpu_like(device: torch.device) -> bool:
    """Whether work on ``device`` is queued (a GPU), so that every host wait stalls it: then
    the engines defer their checks and the spectral norms batch more (tests force it on a
    CPU to run those paths here)."""
    return device.type != "cpu"


def host_waits(fn: Callable[[], object]) -> int:
    """How many times one call of ``fn`` makes the host wait for the GPU, counted by torch's
    sync debug mode (it warns at each: a ``.item()``, a device-to-host copy, the check inside
    ``eigh``), after one warm-up call. For the benchmarks and the CUDA tests; needs CUDA."""
    fn()
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


class TinyNorms:
    """How an engine's general path learns of a norm below :func:`trusted_floor` (rare: tiny
    weights or derivatives), which it must rescue before the next step divides by it.

    ``deferred=False`` (a CPU): each check looks at once (one host wait) and the caller rescues
    in place. ``deferred=True`` (a GPU): a check only notes the case on the device and answers
    "nothing to rescue"; the caller asks :meth:`found` once, at the end, and if any was noted
    measures the call again with ``deferred=False``. Either way, every answer is exact.
    """

    def __init__(self, deferred: bool) -> None:
        self.deferred = deferred
        self._seen: torch.Tensor | None = None

    def __call__(self, small: torch.Tensor) -> bool:
        """Whether to rescue the entries of the boolean mask ``small`` now."""
        if not self.deferred:
            return bool(small.any())
        flag = small.any()
        self._seen = flag if self._seen is None else self._seen | flag
        return False

    def found(self) -> bool:
        """Whether a deferred check noted a tiny norm (the answer was then not trusted)."""
        return self._seen is not None and bool(self._seen)


def checked_run(device: torch.device, run: Callable[[TinyNorms], T]) -> T:
    """``run(tiny_norms)`` with the checks at once on a CPU; on a GPU with the checks deferred,
    and once more with them at once if a deferred check noted a tiny norm."""
    if gpu_like(device):
        tiny_norms = TinyNorms(deferred=True)
        out = run(tiny_norms)
        if not tiny_norms.found():
            return out
    return run(TinyNorms(deferred=False))


def frobenius_norms(m: torch.Tensor, tiny_norms: TinyNorms | None = None) -> torch.Tensor:
    """Frobenius norms of ``(B, r, c)`` matrices as float64 ``(B,)``, accurate at any scale: a
    norm below :func:`trusted_floor`, or one whose squares overflowed, is recomputed in float64
    from the matrix divided by its largest |entry| (the engines' only tiny-norm rescue; with
    deferred ``tiny_norms``, only noted). Float64 matrices need it too: torch sums the plain
    squares, so a float64 norm below ~1e-154 loses digits and one below ~1e-162 reads 0."""
    n = torch.linalg.vector_norm(m, dim=(-2, -1)).to(torch.float64)
    # Tiny, or inf from squares that overflow (float32 entries beyond ~1e19): recomputed
    # the same way (an inf or NaN matrix stays inf or NaN).
    tiny = (n < trusted_floor(m.dtype, m.shape[-2] * m.shape[-1])) | (n == math.inf)
    if tiny_norms is not None and tiny_norms.deferred:
        # Noted only where it matters: an exact zero matrix (an LSTM's c block at lag 0)
        # has norm 0 in any precision, and noting it would re-run every such call.
        # (The largest |entry| as one reduction, with no |m| temporary: ord=inf.)
        tiny = tiny & (torch.linalg.vector_norm(m, ord=math.inf, dim=(-2, -1)) > 0)
    if (tiny_norms or _AT_ONCE)(tiny):
        n[tiny] = scaled_norms(m[tiny])
    return n


def scaled_norms(m: torch.Tensor) -> torch.Tensor:
    """Frobenius norms of ``(B, r, c)`` matrices in float64 at any scale (slower: two passes):
    a * ||m / a|| with a the largest |entry| of each matrix (0 for a zero matrix)."""
    m = m.to(torch.float64)
    a = torch.amax(m.abs(), dim=(-2, -1))
    unit = m / torch.where(a > 0, a, 1.0)[:, None, None]
    return a * torch.linalg.vector_norm(unit, dim=(-2, -1))


_AT_ONCE = TinyNorms(deferred=False)


def unit_if_tiny(
    parts: list[torch.Tensor], tiny_norms: TinyNorms
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor | None]:
    """Frobenius norms of the blocks ``parts`` of a matrix (B,) each, and of the whole; where
    the whole's is below the trusted floor (rare: a product far below 1; in float64 below
    ~1.5e-148 sqrt(numel), subnormal weights), the blocks are divided by it in place, in
    float64, so that a later division by the norm can neither lose digits nor overflow (an
    overflowed 1 / n read as an exact zero, or made NaN of a stack's weighted sum). Returns
    ``(norms of the blocks, norm of the whole, ln of what was divided out)``, the norms as
    they are after the division (the whole's then 1), and None for the last when nothing was
    divided."""
    ns = [frobenius_norms(p, tiny_norms) for p in parts]
    n = ns[0] if len(ns) == 1 else torch.hypot(ns[0], ns[1])
    numel = sum(p.shape[-2] * p.shape[-1] for p in parts)  # the whole's (an LSTM's h and c)
    small = (n > 0) & (n < trusted_floor(parts[0].dtype, numel))
    if not tiny_norms(small):
        return ns, n, None
    idx = small.nonzero().squeeze(1)
    for part in parts:
        part[idx] = (part[idx].double() / n[idx, None, None]).to(part.dtype)
    ln_u = torch.zeros_like(n)
    ln_u[idx] = torch.log(n[idx])
    ns = [v.clone() for v in ns]
    for v in ns:
        v[idx] = v[idx] / n[idx]
    n = n.clone()
    n[idx] = 1.0
    return ns, n, ln_u
