"""A broken pool's dead workers, told without reading a status (their exit codes are read
after the pool's shutdown, the pool's own thread ended).

A forkserver child's status can be read once; the pool's manager thread reads each dead
worker's as the pool breaks (or later), and a second reader gets EOF, which multiprocessing
takes for status 255. The sweep read ``p.exitcode`` at once, so a SIGKILLed worker was now and
then said to have "exited with status 255" (``test_a_worker_that_dies_is_said_by_its_exit_code
[SIGKILL]`` failed so in a fresh clone's ``make test``); then it waited 2 s for the manager's
read and read itself after that, which met a manager late by about those 2 s
(tests/test_late_status_read.py, a real pool). The fakes stand for a worker's sentinel (a pipe:
readable once the forkserver has reported the death) and the status the manager has read."""

from __future__ import annotations

import os
import threading
import time
import types

from vanishlab.sweep.worker_deaths import dead_workers


class _Worker:
    """A pool worker: its death reported after ``reported_s`` (its sentinel turns readable;
    None: alive), and the status the manager thread has read (``read``; None: not yet)."""

    def __init__(self, reported_s: float | None, read: int | None = None) -> None:
        self.sentinel, self._report = os.pipe()
        self._popen = types.SimpleNamespace(returncode=read)
        if reported_s == 0:
            self.report()
        elif reported_s is not None:
            threading.Timer(reported_s, self.report).start()

    def report(self) -> None:
        os.write(self._report, b"\xf7\xff\xff\xff\xff\xff\xff\xff")  # -9, as the forkserver

    @property
    def exitcode(self) -> int:
        raise AssertionError("a status read while the pool's thread may read it")


def test_the_dead_are_told_by_their_sentinels_without_reading_a_status() -> None:
    dead, alive = _Worker(0), _Worker(None)
    assert dead_workers([alive, dead], wait_s=0) == [dead]


def test_a_status_the_pool_s_thread_has_read_tells_a_death_too() -> None:
    """The manager read the status just as the forkserver wrote it, before it closed the pipe:
    for that moment the sentinel is not readable, but the status is cached."""
    read, alive = _Worker(None, read=-9), _Worker(None)
    assert dead_workers([alive, read], wait_s=0) == [read]


def test_a_death_reported_after_the_pool_broke_is_waited_for() -> None:
    """A worker killed mid-message: the pool saw the end of its result pipe first."""
    start = time.monotonic()
    late, alive = _Worker(0.05), _Worker(None)
    assert dead_workers([alive, late], wait_s=300) == [late]
    # The report (0.05 s), not the whole wait: a bound far above it, never one a loaded
    # machine may pass (it was 10 s, of a 30 s wait).
    assert time.monotonic() - start < 300


def test_where_no_death_is_reported_none_is_named() -> None:
    """No false cause: "a worker process died (out of memory?)" (worker_death of none)."""
    assert dead_workers([_Worker(None), _Worker(None)], wait_s=0.05) == []
