"""A broken pool's exit codes as its own thread read them.

A forkserver child's status can be read once; the pool's manager thread reads each dead
worker's as the pool breaks, and a second reader gets EOF, which multiprocessing takes for
status 255. The sweep read ``p.exitcode`` at once, so a SIGKILLed worker was now and then said
to have "exited with status 255" (``test_a_worker_that_dies_is_said_by_its_exit_code[SIGKILL]``
failed so in a fresh clone's ``make test``). The fakes below stand for that: a status the
manager reads a moment later, and a read of our own that would get 255."""

from __future__ import annotations

import threading
import types

from vanishlab.sweep.executors import worker_exit_codes


class _Worker:
    """A pool worker whose status the manager caches after ``delay_s``, while a read of its
    own (``exitcode``, as the old code made) would get ``own_read``."""

    def __init__(self, delay_s: float | None, code: int, own_read: int) -> None:
        self._popen = types.SimpleNamespace(returncode=None)
        self._own_read = own_read
        if delay_s is not None:
            timer = threading.Timer(delay_s, setattr, (self._popen, "returncode", code))
            timer.start()

    @property
    def exitcode(self) -> int:
        return self._own_read


def test_the_status_the_pool_s_thread_read_is_taken_not_a_second_read() -> None:
    dead, alive = _Worker(0.05, -9, own_read=255), _Worker(None, 0, own_read=None)
    assert worker_exit_codes([dead, alive]) == [-9, None]


def test_where_the_pool_s_thread_reads_none_they_are_read_here() -> None:
    """A manager still waiting for a live worker's cell: after the wait, a read of our own."""
    stuck = _Worker(None, 0, own_read=-9)
    assert worker_exit_codes([stuck], wait_s=0.05) == [-9]
