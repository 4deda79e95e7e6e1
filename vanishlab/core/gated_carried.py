"""Coefficients carried past the dtype's range, in the rows that need it alone.

Where a gated cell's coefficient is below the smallest normal number, :mod:`.gated_forward`
(an LSTM's k, O, C and f) and :mod:`.gated_gru_range` (a GRU's q_r, q_z, q_n, r q_n and z) keep
it as exp(ln) rel in the (step, sample) rows where one is, not as (T, B, K) tensors; the
backward steps (:mod:`.gated`) and the Lyapunov spectrum (:mod:`.gated_lyapunov`) read one step
at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["CarriedRows"]


@dataclass(frozen=True)
class CarriedRows:
    """Coefficients carried as exp(ln) rel in the (step, sample) rows that need it alone: the
    rows of step t are ``starts[t]:starts[t + 1]``, with their samples ``sample`` (n,), ``rel``
    (n, K) in the dtype and ``ln`` (n, K) float64; every other row is its coefficient as it
    is, exponent 0. (Dense (T, B, K) tensors, one saturated entry asked a float32 GRU layer's
    forward to keep 3.5x the memory it kept, a float64 one's 2.7x, which no memory estimate
    counts; the backward reads one step at a time, :meth:`at`.) An LSTM's C, k, O and ln f are
    kept so too (:func:`~vanishlab.core.gated_lstm_range.scaled_c`, ``scaled_k``, ``scaled_o``,
    ``scaled_f``)."""

    starts: list[int]
    sample: torch.Tensor
    rel: torch.Tensor
    ln: torch.Tensor

    @classmethod
    def of(
        cls, rows: tuple[torch.Tensor, ...], steps: int, rel: torch.Tensor, ln: torch.Tensor
    ) -> CarriedRows:
        """The rows ``rows`` = (steps' indices, samples' indices), in (t, b) order as
        ``nonzero`` gives them, of ``steps`` steps, with their ``rel`` and ``ln``."""
        counts = torch.bincount(rows[0], minlength=steps).cumsum(0).tolist()
        return cls([0, *counts], rows[1], rel, ln)

    def at(self, t: int, coef: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Step t's ``(rel, ln)``, each (B, K) float64, from ``coef`` (B, K), its coefficients
        as the forward flushed them."""
        rel = coef.to(torch.float64, copy=True)  # (never the forward's own, float64 included)
        ln = torch.zeros_like(rel)
        lo, hi = self.starts[t], self.starts[t + 1]
        if hi > lo:
            b = self.sample[lo:hi]
            rel[b] = self.rel[lo:hi].double()
            ln[b] = self.ln[lo:hi]
        return rel, ln
