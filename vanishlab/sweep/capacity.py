"""How many workers a sweep starts, and the cells it refuses for this machine: a cell larger
than the memory available, or longer than a cell may take; the notes where fewer workers fit
than were asked for, or more were asked for than the cores (torch-free, for ``--dry-run``
too). Checked before anything is written (:mod:`.preflight`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ..core.allocation import available_words
from ..errors import CellTooLargeError
from .config import LONGEST_CELL_DAYS, CellConfig
from .cost import cell_cost
from .memory import POOL_BYTES, WORKER_BYTES, cell_bytes, format_bytes

__all__ = [
    "check_memory",
    "check_time",
    "cores",
    "fewer_workers_line",
    "more_workers_line",
    "worker_count",
]


def check_memory(
    cells: Sequence[CellConfig], free: int | None, n_workers: int, shared: int | None = None
) -> int:
    """Refuse cells whose largest cannot fit in ``free`` bytes (one process's); return how
    many of ``n_workers`` fit in ``shared`` bytes (what the processes share; default ``free``),
    each with its cell and its own :data:`~.memory.WORKER_BYTES`, beside the forkserver's
    :data:`~.memory.POOL_BYTES` (1: the cells run in this process). An address-space limit
    (``ulimit -v``) is each process's own: counted in ``free``, not divided among the workers
    (under ``ulimit -v 8388608`` a grid of 4.4 GiB cells ran in 1 worker where 4 fit). The
    refusal,
    a :class:`~vanishlab.errors.CellTooLargeError`, gives no advice: ``vanishlab sweep`` adds
    its own (``--dry-run``), which ``vl.run_sweep`` has no counterpart of."""
    if free is None or not cells:
        return n_workers
    big = max(cells, key=cell_bytes)
    peak = cell_bytes(big)
    if peak > free:
        raise CellTooLargeError(
            f"a cell of this sweep (hidden_size {big.hidden_size}, batch {big.batch}, "
            f"num_layers {big.num_layers}, seq_len {big.seq_len}) needs about "
            f"{format_bytes(peak)} of memory and {available_words(free)}; "
            "choose smaller sizes"
        )
    if n_workers < 2:
        return 1
    pool = free if shared is None else shared
    return max(1, min(n_workers, (pool - POOL_BYTES) // (peak + WORKER_BYTES)))


def cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and Slurm set)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def worker_count(
    workers: int | None,
    pending: Sequence[CellConfig],
    free: int | None,
    *,
    local: bool,
    say: Callable[[str], None] | None = None,
    shared: int | None = None,
) -> int:
    """How many workers measure the ``pending`` cells: ``workers`` (default: all cores), at
    most one a cell, and on this machine (``local``) as many as ``free`` bytes hold
    (:func:`check_memory`, which refuses a cell that cannot fit; ``shared``: what the workers
    share, where it differs from ``free``); ``say`` is given the line
    where that is fewer than ``workers`` asked for, or more than the cores. The run's count,
    and its ``--dry-run``'s time estimate."""
    n_workers = workers if workers is not None else cores()
    n_workers = max(1, min(n_workers, len(pending)))
    if not local:
        return n_workers
    fit = check_memory(pending, free, n_workers, shared)
    if fit < n_workers and workers is not None and say:  # (capped by the cells)
        say(fewer_workers_line(n_workers, fit, pending, free if shared is None else shared))
    if workers is not None and fit > (usable := cores()) and say:
        say(more_workers_line(fit, usable))
    return fit


def check_time(cells: Sequence[CellConfig]) -> None:
    """Refuse a cell, trained or not, that would take, by :func:`~.cost.cell_cost`, more than
    :data:`~.config.LONGEST_CELL_DAYS`: a cell cannot stop and resume midway. A
    :class:`~vanishlab.errors.CellTooLargeError`, as :func:`check_memory`'s. Untrained cells
    were let through: ``--hidden-size 16384 --seq-len 100000 --batch 1``, about 56 GiB (a Dask
    cluster's memory is not checked here at all), is estimated at 99 days."""
    if not cells:
        return
    long = max(cells, key=cell_cost)
    days = cell_cost(long) / 86400
    if days <= LONGEST_CELL_DAYS:
        return
    if long.train_steps > 0:
        sizes = f"train_steps {long.train_steps}, hidden_size {long.hidden_size}"
        way = "fewer --train-steps (train_steps=) or smaller sizes"
    else:  # its batch too: a measurement's time grows with it (a training's batch is fixed)
        sizes = f"hidden_size {long.hidden_size}, batch {long.batch}"
        way = "smaller sizes"
    raise CellTooLargeError(
        f"a cell of this sweep ({sizes}, num_layers {long.num_layers}, seq_len {long.seq_len}) "
        f"would take about {days:,.0f} days on one CPU thread, and a cell cannot stop and "
        f"resume midway (at most {LONGEST_CELL_DAYS} days a cell); choose {way}"
    )


def fewer_workers_line(asked: int, fit: int, cells: Sequence[CellConfig], free: int | None) -> str:
    """The note that ``fit`` of the ``asked`` workers run, as :func:`check_memory` found."""
    peak = max(cell_bytes(c) for c in cells)
    where = "this process" if fit == 1 else f"{fit} workers"
    return (
        f"note: the cells run in {where}, not {asked} workers: each needs about "
        f"{format_bytes(peak + WORKER_BYTES)} (its largest cell and its own) beside "
        f"{format_bytes(POOL_BYTES)} for the process that starts them, and "
        f"{available_words(free)}"
    )


def more_workers_line(asked: int, cores: int) -> str:
    """The note that ``asked`` local workers are more than the ``cores`` they share."""
    return (
        f"note: --workers {asked} (workers={asked}) is more than the {cores} "
        f"{'core' if cores == 1 else 'cores'} this process may "
        f"use: the workers take turns on them (each runs torch on one thread), so more of them "
        f"add memory and start-up time, not speed; --workers {cores} keeps every core busy"
    )
