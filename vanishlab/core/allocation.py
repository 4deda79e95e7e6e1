"""A measurement too large for the CPU's memory: one line that says what to do, instead of the
allocator's ``RuntimeError`` from deep inside torch.

The measurement holds a few ``(B, H, H)`` matrices per layer (B sequences of a module of
hidden size H; :mod:`vanishlab.sweep.memory` has the estimate the command line checks first);
:func:`vanishlab.lyapunov_spectrum` holds ``(B, n, k)`` ones in float64 for its k directions
of the n-dimensional state. A request beyond what the machine can give fails in torch's CPU
allocator with a ``RuntimeError`` ("DefaultCPUAllocator: can't allocate memory"); it is told
here as a :class:`~vanishlab.errors.MemoryRefusedError` (a ``VanishlabError``, holding the
bytes asked for). Each sample's rows and exponents depend on its own sequence only: a batch
can be measured in parts; one sequence too long for memory (its T + 1 states) can only be
measured shorter. A GPU's ``torch.OutOfMemoryError`` is left as it is: code that halves its
batch on it keeps working.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from ..errors import MemoryRefusedError

__all__ = ["CPU_ALLOCATOR_FAILED", "memory_refused"]

#: Part of the message of torch's CPU allocator when it cannot give the memory asked for.
CPU_ALLOCATOR_FAILED = "DefaultCPUAllocator: can't allocate memory"
_ASKED = re.compile(r"you tried to allocate (\d+) bytes")


@contextlib.contextmanager
def memory_refused(what: str, remedy: str = "") -> Iterator[None]:
    """Tell a CPU allocation that failed inside the block as one line: ``what`` (``"the
    measurement"``) needs more memory than this machine has, and ``remedy`` besides fewer
    sequences at a time, or shorter ones (one long sequence's states alone can be too many)."""
    try:
        yield
    except RuntimeError as err:
        if CPU_ALLOCATOR_FAILED not in str(err):
            raise
        found = _ASKED.search(str(err))
        asked = int(found.group(1)) if found else None
        size = f" ({asked / 2**30:.1f} GiB at once)" if asked is not None else ""
        raise MemoryRefusedError(
            f"{what} needs more memory than this machine can give{size}: measure fewer "
            "sequences at a time (each sample's numbers depend on its own sequence only: "
            f"measure the batch in parts), or shorter ones{remedy}",
            asked,
        ) from None
