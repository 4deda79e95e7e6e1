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

An analysis whose tables grow with a length the caller gives (:func:`vanishlab.pascanu_envelope`'s
``seq_len``, :func:`vanishlab.origin_log_norms`' ``max_lag``) is refused in the same words before
it allocates anything (:func:`refuse_beyond_memory`), where its estimate exceeds the memory
available now (:func:`available_bytes`, which a sweep's and an analysis's estimates read too):
numpy's ``MemoryError`` ("Unable to allocate 7.28 TiB") came from deep inside it, and a length that
did fit its first array ran for minutes before failing in a later one.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import MemoryRefusedError

__all__ = [
    "CPU_ALLOCATOR_FAILED",
    "available_bytes",
    "available_words",
    "format_bytes",
    "memory_limit",
    "memory_refused",
    "refuse_beyond_memory",
    "refused",
    "shared_bytes",
]

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
        raise refused(
            what,
            int(found.group(1)) if found else None,
            "measure fewer sequences at a time (each sample's numbers depend on its own "
            f"sequence only: measure the batch in parts), or shorter ones{remedy}",
        ) from None


def refused(what: str, asked: int | None, way: str) -> MemoryRefusedError:
    """The one wording of a refusal for memory: ``what`` needs more memory than this machine
    (or what limits this process's memory, :func:`memory_limit`) can give (``asked`` bytes at
    once, where known): ``way``, the caller's levers."""
    size = f" ({format_bytes(asked)} at once)" if asked is not None else ""
    return MemoryRefusedError(
        f"{what} needs more memory than {memory_limit()} can give{size}: {way}", asked
    )


def format_bytes(n: int | None) -> str:
    """``1.5 GiB``-style text (``unknown`` for None): every size a refusal for memory says,
    the engine's (:func:`refused`, where "178813.9 GiB" was said of 175 TiB), a sweep's and a
    trained model's (:mod:`vanishlab.sweep.memory` re-exports it)."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            if unit == "B":
                return f"{value:.0f} {unit}"
            # "33396645449101921767823849291776.0 TiB" for an absurd hidden size
            return f"{value:.1f} {unit}" if value < 1e6 else f"{value:.1e} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def refuse_beyond_memory(what: str, asked: int, way: str) -> None:
    """Raise :func:`refused` before allocating where ``asked`` bytes (an estimate of what
    ``what`` holds at its peak) exceed the memory available now; nothing where it cannot be
    told (then the allocation itself is the judge)."""
    free = available_bytes()
    if free is not None and asked > free:
        raise refused(what, asked, way)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """What a cgroup v2 memory limit (containers, Slurm) leaves, if one is set."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(0, int(limit) - used)
    except (OSError, ValueError):
        return None


def _address_space_available() -> int | None:
    """What an address-space limit (``ulimit -v``, ``prlimit --as``, a batch system's
    ``h_vmem``) leaves this process: the soft limit less its address space now (``VmSize``),
    where one is set. Under ``ulimit -v 4194304`` on a 24 GiB machine, ``vanishlab analyze``
    of an ``nn.LSTM(32, 1024, num_layers=2)`` at T = 500, B = 8 (estimated 5.8 GiB) passed the
    check on 19.5 GiB available, then measured for 90 s (3 of 500 steps, its progress saying
    1:16:44 left) before the allocator refused it."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, AttributeError, OSError, ValueError):  # not on every platform
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    used = _address_space_used()
    return None if used is None else max(0, soft - used)


def _address_space_used() -> int | None:
    """This process's address space now (``VmSize`` of ``/proc/self/status``), or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


#: What limits the memory available, by the figure that is least (:func:`memory_limit`): the
#: words a refusal says it in ("needs more memory than {words} can give").
MACHINE = "this machine"
CGROUP = "this process's cgroup memory limit (memory.max)"
ADDRESS_SPACE = "this process's address-space limit (ulimit -v)"


def _shared() -> list[tuple[int, str]]:
    """Each figure of the memory that this process and any it starts share now, with what it
    is the limit of (:data:`MACHINE`, :data:`CGROUP`)."""
    found = [(n, MACHINE) for n in (_meminfo_available(),) if n is not None]
    if (cgroup := _cgroup_available()) is not None:
        found.append((cgroup, CGROUP))
    if not found and hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):  # names absent on some platforms
            found.append((os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), MACHINE))
    return found


def _available() -> list[tuple[int, str]]:
    """Each figure of the memory available to this process now, with what it is the limit of:
    :func:`_shared`'s, and what its address-space limit leaves (:data:`ADDRESS_SPACE`)."""
    found = _shared()
    if (limited := _address_space_available()) is not None:
        found.append((limited, ADDRESS_SPACE))
    return found


def shared_bytes() -> int | None:
    """Memory that this process and any it starts share now (the least of the system's and its
    cgroup's), or None where it cannot be told. An address-space limit is left out: each
    process has its own (:func:`available_bytes` counts this one's)."""
    found = _shared()
    return min(n for n, _ in found) if found else None


def available_bytes() -> int | None:
    """Memory available to this process now (the least of the system's, its cgroup's and what
    its address-space limit leaves), or None where it cannot be told."""
    found = _available()
    return min(n for n, _ in found) if found else None


def memory_limit() -> str:
    """What limits the memory available to this process now, in a refusal's words: the limit
    whose figure is least (:data:`ADDRESS_SPACE` under ``ulimit -v``, :data:`CGROUP` in a
    container or a Slurm job with less than the machine has free), else :data:`MACHINE`. A
    refusal under ``prlimit --as=4GiB`` on a 24 GiB machine said "more memory than this
    machine can give", which sent the user to look for memory the machine had."""
    found = _available()
    return min(found)[1] if found else MACHINE


def available_words(free: int | None) -> str:
    """``3.0 GiB is available``, and under which limit where it is not the machine's
    (:func:`memory_limit`): the end of every estimate's refusal."""
    limit = memory_limit()
    return f"{format_bytes(free)} is available" + ("" if limit == MACHINE else f" under {limit}")
