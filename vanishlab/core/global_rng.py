"""torch's global random generator, which every thread of a process shares.

torch keeps one default generator per device for the whole process. vanishlab reads, seeds and
restores it in a few places: a module's constructor draws its own initial weights from it (which
the caller's init then replaces), a sweep's cell checks that an init drew nothing from it by
comparing its state before and after, and training seeds it where the module may draw from it
(dropout, or code of the user's: a subclass's forward, a parametrization, a hook). Each of those
is right only if no other thread draws from it or restores it meanwhile: two Dask worker threads
building cells at once made one see the other's constructor draws and fail its cell with "init
... drew from torch's global random generator" (about 1 build in 150 with 4 threads). Every such
stretch of vanishlab's own runs inside :func:`forked`, under one process-wide lock, so
vanishlab's threads never overlap there. (A thread of the user's own that draws from the global
generator meanwhile is not covered.)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence

import torch

__all__ = ["LOCK", "forked"]

#: Held while a thread of vanishlab's saves, draws from, seeds or restores the global generator.
LOCK = threading.RLock()


@contextlib.contextmanager
def forked(devices: Sequence[torch.device] = ()) -> Iterator[None]:
    """Under :data:`LOCK`, save torch's CPU generator (and those of the CUDA devices among
    ``devices``, where a module or its tensors lie; a CPU needs no other) and restore them on
    exit, as ``torch.random.fork_rng`` does."""
    cuda = list(dict.fromkeys(d for d in devices if d.type == "cuda"))
    with LOCK, torch.random.fork_rng(devices=cuda, device_type="cuda"):
        yield
