"""Log-norm bookkeeping for one sequence of Jacobians: the one definition that the RNN engine
and the gated one-layer path share.

The Jacobian at lag k is exp(s_k) * raw_k with raw_k well scaled (its norm in the trusted range
of :mod:`vanishlab.core.scaling`, far from overflow). Per lag a stream keeps s_k (natural log,
float64), ||raw_k||_F and, when asked, sigma_1(raw_k); log ||J||_F = s + ln ||raw||_F and
log ||J||_2 = s + ln sigma_1(raw). Logs are taken once, at the end, on the module's device (no
host wait per step on a GPU).
"""

from __future__ import annotations

import torch

from .log_units import LN10
from .scaling import all_normal
from .spectral import SpectralNorms

__all__ = ["Stream"]


class Stream:
    """One sequence of Jacobians (a layer's states, the inputs, or a part of a gated state)."""

    def __init__(self, batch: int, lags: int, norms: tuple[str, ...], like: torch.Tensor) -> None:
        f64, dev = torch.float64, like.device
        self.log_scale = torch.zeros(lags, batch, dtype=f64, device=dev)
        self.fro = torch.empty(lags, batch, dtype=f64, device=dev)  # ||raw||_F
        self.want_fro = "fro" in norms
        self.checked_to = 0  # lags below this had their norms checked (see `queue`)
        spec = "spec" in norms
        self.sigma = torch.empty(lags, batch, dtype=like.dtype, device=dev) if spec else None
        self._spectral = SpectralNorms() if spec else None

    def known(self, lag: int, sigma: torch.Tensor) -> None:
        """Store the spectral norm of raw_lag when it is known exactly (the identity's is 1)."""
        if self.sigma is not None:
            self.sigma[lag] = sigma

    def push(self, lag: int, raw: torch.Tensor) -> None:
        """Queue raw_lag for its spectral norm (no-op when spectral norms are not asked)."""
        if self._spectral is not None:
            self._spectral.push(lag, raw, self._store_sigma)

    def queue(self, lag: int, raw: torch.Tensor, n: torch.Tensor, floor: float) -> bool:
        """:meth:`push` for the optimistic one-layer paths, which must never hand a matrix whose
        norm is not normal (zero, below ``floor``, inf, NaN) to a spectral computation: the
        norms queued since the last check (``n`` holds every lag's norm of the stream) are
        checked together, just before the queue computes (one wait per chunk on a GPU, not one
        per lag). False when one is not normal: the caller hands the call to its general path.
        """
        if self._spectral is None:
            return True
        if self._spectral.flushes_on_push(raw):
            first, self.checked_to = self.checked_to, lag + 1
            if not all_normal(n[first : lag + 1], floor):
                return False
        self._spectral.push(lag, raw, self._store_sigma)
        return True

    def slot(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor | None:
        """A tensor to write the next Jacobian into (saves the spectral queue a copy)."""
        if self._spectral is None:
            return None
        return self._spectral.slot(torch.Size(shape), like.dtype, like.device)

    def finish(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """log10 norms as ``(B, lags)`` CPU tensors: (Frobenius, spectral), None if not asked."""
        out: list[torch.Tensor | None] = [None, None]
        if self.want_fro:
            out[0] = self.log_scale + torch.log(self.fro)
        if self._spectral is not None and self.sigma is not None:
            self._spectral.flush()
            out[1] = self.log_scale + torch.log(self.sigma.to(torch.float64))
        return tuple(None if t is None else (t / LN10).T.cpu() for t in out)  # type: ignore[return-value]

    def _store_sigma(self, lag: int, sigma: torch.Tensor) -> None:
        assert self.sigma is not None
        self.sigma[lag] = sigma
