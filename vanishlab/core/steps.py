"""The engine's backward recursion, and the Lyapunov spectrum's forward one, step by step,
for a caller that shows its progress (``vanishlab analyze``, whose one measurement may take
minutes).

:func:`counting_steps` sets, for the calls made in its body (in this thread or task: a context
variable), a function that every backward loop, and every Lyapunov loop, calls after each time
step with the steps done and the steps in all. A fast path that hands the call back to the
general one (a norm that left its dtype's trustworthy range) starts counting again from 1.
Without it, :func:`step_done` costs a context variable's read a step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = ["counting_steps", "step_done"]

_CALLBACK: ContextVar[Callable[[int, int], None] | None] = ContextVar("steps", default=None)


@contextlib.contextmanager
def counting_steps(callback: Callable[[int, int], None]) -> Iterator[None]:
    """While the body runs, call ``callback(done, total)`` after each step of a backward loop."""
    token = _CALLBACK.set(callback)
    try:
        yield
    finally:
        _CALLBACK.reset(token)


def step_done(done: int, total: int) -> None:
    """Step ``done`` of ``total`` is done (said to the :func:`counting_steps` callback, if any)."""
    callback = _CALLBACK.get()
    if callback is not None:
        callback(done, total)
