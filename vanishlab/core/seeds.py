"""A random generator per (seed, stream), independent of the others and the same on every
machine: seeded from the first 8 bytes of sha256("vanishlab/<stream>/<seed>"). A sweep's cell
draws its weights, inputs and Lyapunov direction from it (``sweep/cell.py``), and training its
readout, batches and held-out batch (``train/loop.py``): one derivation, so that a cell's numbers
are the same in every process and release.
"""

from __future__ import annotations

import hashlib

import torch

__all__ = ["seeded_generator"]


def seeded_generator(seed: int, stream: str) -> torch.Generator:
    """An independent generator per (seed, stream), the same on every machine."""
    digest = hashlib.sha256(f"vanishlab/{stream}/{seed}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)
