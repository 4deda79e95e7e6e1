"""Which steps of a trajectory a measured top Lyapunov exponent averages over: the first
quarter of T steps is discarded as a transient (none of a single step). One definition for
the sweep's cells, a trained model's analysis and monitor, and the report that says it."""

from __future__ import annotations

__all__ = ["averaged_steps", "discarded_steps"]


def discarded_steps(seq_len: int) -> int:
    """The steps discarded as a transient before the exponent is averaged: ``T // 4``, and
    none where ``T`` is 1 (a single step is all there is)."""
    return seq_len // 4 if seq_len > 1 else 0


def averaged_steps(seq_len: int) -> int:
    """The steps the exponent is averaged over: the ``T`` less those discarded."""
    return seq_len - discarded_steps(seq_len)
