"""The words of an environment that refused a command memory, a thread or a library's
mapping (:func:`environment_refusal`): one line, not a traceback, where it is the environment's
doing and not a bug; a library on a file system mounted ``noexec`` is said as such, never as
memory.

The standard library only (and, without torch, the words of torch's CPU allocator).
"""

from __future__ import annotations

import os
import re

from ..core.allocation import CPU_ALLOCATOR_FAILED

__all__ = ["environment_refusal"]


def environment_refusal(err: BaseException) -> str | None:
    """One line for ``err`` where it is the environment refusing memory, not a bug; else None.

    Under an address-space limit (``ulimit -v``, a batch system's memory cap) or on a machine
    short of memory, the refusal reached the command as a ``MemoryError`` (compiling a module,
    drawing a figure), an ``ImportError`` of a native library that could not be mapped
    (``libtorch_cpu.so: failed to map segment from shared object``), or a thread that could
    not be started (``RuntimeError: can't start new thread``, its stack refused): each ended
    in a traceback, status 1. A library on a file system mounted ``noexec`` fails to map in
    the same words: that one is said as it is, never as memory. torch's CPU allocator refused
    is a ``RuntimeError`` in its own words (:func:`_allocator_refused`), and a C function that
    returned with a MemoryError set is a ``SystemError`` caused by it: both ended in a
    traceback too."""
    text = str(err)
    mapped = isinstance(err, ImportError) and any(
        sign in text.lower() for sign in ("failed to map segment", "cannot allocate memory")
    )
    if mapped and (library := _noexec_library(text)) is not None:
        return (
            f"cannot load {library}: it lies on a file system mounted noexec, where no program "
            "may run; install vanishlab's environment on another (or mount it without noexec)"
        )
    if type(err) is RuntimeError and text == "can't start new thread":
        # a thread's stack refused (ulimit -v), or a limit on threads (ulimit -u, a cgroup's)
        return (
            f"out of memory or threads ({text}): the process was refused a thread; raise its "
            "limits (ulimit -v, ulimit -u, the batch job's memory) or free some"
        )
    if isinstance(err, SystemError):  # a C function that returned with a MemoryError set
        cause = err.__cause__
        return environment_refusal(cause) if isinstance(cause, MemoryError | RuntimeError) else None
    if isinstance(err, MemoryError):
        what = f"MemoryError{f': {text}' if text else ''}"
    elif mapped:
        what = text
    elif (what := _allocator_refused(err)) is None:
        return None
    return (
        f"out of memory ({what}): the process was refused memory; raise its limit "
        "(ulimit -v, the batch job's memory) or free some"
    )


def _allocator_refused(err: BaseException) -> str | None:
    """torch's own words where its CPU allocator was refused (a plain ``RuntimeError``: ``[enforce
    fail at alloc_cpu.cpp:127] ... DefaultCPUAllocator: can't allocate memory: you tried to
    allocate N bytes ...``, or a C++ ``std::bad_alloc`` it passed on), from the allocator's
    words on; else None. A GPU's OutOfMemoryError, a subclass, is left as it is, as
    :mod:`vanishlab.core.allocation` leaves it."""
    text = " ".join(str(err).split())
    if type(err) is not RuntimeError:
        return None
    if CPU_ALLOCATOR_FAILED in text:
        return text[text.index(CPU_ALLOCATOR_FAILED) :]
    return "std::bad_alloc" if re.search(r"\bstd::bad_alloc\b", text) else None


# The loader's words for a library it could not map: "/PATH.so: failed to map segment ..."
# (a Python extension, named by its path; numpy quotes them inside its own advice).
_MAP_FAILED = re.compile(r"(/[^:\n]+): failed to map segment")


def _noexec_library(text: str) -> str | None:
    """The library the loader's ``text`` names by its path where it lies on a file system
    mounted noexec (the map failed for that, not for memory); else None."""
    found = _MAP_FAILED.search(text)
    if found is None:
        return None
    try:
        flags = os.statvfs(found[1]).f_flag
    except (OSError, ValueError, AttributeError):  # gone since, a bad path, no statvfs
        return None
    return found[1] if flags & getattr(os, "ST_NOEXEC", 0) else None
