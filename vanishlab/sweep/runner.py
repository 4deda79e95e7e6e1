"""Running a sweep: plan it against its run directory (:mod:`vanishlab.sweep.plan`), run the
cells that have no shard, keep the manifest (:mod:`vanishlab.sweep.run_manifest`).

A cell is measured by :func:`vanishlab.sweep.measure.run_cell`.
:func:`run_sweep` runs the cells that have no shard yet (resume), in this process
(``workers=1``), in local worker processes (``forkserver``, or ``spawn`` where there is none),
or on a Dask cluster (``scheduler=ADDRESS``) (:mod:`vanishlab.sweep.executors`). In every case
results come back to this process, which alone writes shards (:mod:`vanishlab.sweep.store`)
under the run directory's lock.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsIndex

import pandas as pd

from ..core.allocation import available_bytes, shared_bytes
from ..errors import StoppedRunError
from . import store
from .config import CellConfig, Sweep
from .cost import cell_cost
from .dask_cluster import dask_client, no_worker_line, quiet_dask, run_dask
from .executors import run_here, run_processes
from .experiments import Experiment
from .files import as_flag, as_path
from .inits import INITS, Init
from .manifest import utc_now
from .manifest_digest import changes_said
from .measured_by import mixed_code_line
from .plan import SweepPlan, as_experiment, plan_sweep
from .preflight import (
    check_importable,
    check_main_file,
    check_memory,
    check_options,
    check_sendable,
    check_shard_folders,
    check_time,
    cores,
    refuse_other_kinds,
    worker_count,
)
from .progress import Progress, status_line
from .run_manifest import add_elapsed, sweep_manifest
from .run_summary import (
    RunSummary,
    displaced_if_failed,
    failures,
    refuse_displaced,
    stopped_line,
)
from .rundir import held_new_or_run, is_run_dir, remove_stale_temps
from .shard import write_shard

__all__ = [
    "RunSummary",
    "SweepPlan",
    "plan_sweep",
    "run_sweep",
]


def run_sweep(
    sweep_or_experiment: Sweep | Experiment | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    workers: int | SupportsIndex | None = None,
    scheduler: str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    smoke: bool = False,
) -> RunSummary:
    """Measure every cell of a sweep into the run directory ``out``; skip cells already done.

    Args:
        sweep_or_experiment: a :class:`~vanishlab.sweep.config.Sweep`, a loaded
            :class:`~vanishlab.sweep.experiments.Experiment`, or an experiment name or path.
        out: the run directory (created if needed; see :mod:`vanishlab.sweep.store`). One that
            has a manifest but no shard (no cell ever finished) is started afresh.
        name: a label kept in the manifest and shown in reports (default: the name already in
            the manifest, else the experiment's name, plus ``-smoke`` with ``smoke``, else the
            directory's name).
        workers: local worker processes (default: all cores, fewer if memory is short); 1 runs
            in this process (an integer: a NumPy integer or a 0-d integer tensor too). Numbers
            are bit-identical whatever the count. With ``workers > 1`` the calling script must
            guard its entry point with ``if __name__ == "__main__":``.
        scheduler: a Dask scheduler address (``tcp://host:port``); cells then run on that
            cluster and come back here to be written. Needs ``vanishlab[dask]``.
        force: extend a directory that holds a different grid (its cells are kept).
        retry_failed: measure again the cells of this sweep recorded as failed.
        progress: show progress on stderr (a bar on a terminal, else a plain line at most every
            10 s and every tenth of the cells, at least every minute while cells finish, and one
            at the end).
        smoke: run the experiment's ``SMOKE`` variant instead of its ``SWEEP``.

    Damaged shards (see :mod:`vanishlab.sweep.store`) are moved to ``RUN_DIR/corrupt/`` and
    their cells measured again. A sound shard whose cell is in none of the run's grids (copied
    from another run?) is kept, as the report and :func:`vanishlab.load_results` keep it: the
    summary's ``outside`` names it (the CLI warns). A cell that fails is recorded (see
    :func:`run_cell`), not raised: the summary lists failures by kind.

    Raises:
        VanishlabError: bad input, a directory that is not a run or holds another grid (without
            ``force``) or another kind of run (an analysis, a monitor: even with ``force``), a
            directory in use by another process, a foreign file in it, a cell
            too big for this machine's memory, an unreachable scheduler. Nothing in the
            directory is changed in these cases. A worker process that died or a Dask
            cluster that stopped mid-run (:class:`~vanishlab.errors.StoppedRunError`): its line
            says what the directory keeps, looked at after the stop.
        TypeError: ``out`` is not a path; ``force``, ``retry_failed`` or ``smoke`` is not True
            or False.
    """
    start = time.perf_counter()
    # "no" was true: force extended a directory holding another grid, smoke ran the small one
    force, retry_failed = as_flag(force, "force"), as_flag(retry_failed, "retry_failed")
    exp = as_experiment(sweep_or_experiment, as_flag(smoke, "smoke"))
    progress = as_flag(progress, "progress")
    workers = check_options(name, workers, scheduler)
    run_dir = as_path(out, "out")
    inits = {init: INITS[init] for init in exp.sweep.init}
    with contextlib.ExitStack() as stack:
        # A manifest changed since vanishlab wrote it: said once, and kept (digested anew).
        stack.enter_context(changes_said(writer="this sweep"))
        _refuse_before_anything(exp, run_dir, inits, workers, scheduler)
        # Connect first: a missing Dask or a wrong address must fail before anything is written.
        client = None
        if scheduler is not None:
            stack.enter_context(quiet_dask())  # until the client has closed: one line
            client = stack.enter_context(dask_client(scheduler))
        # failed (or stopped) before its manifest is written, it leaves nothing it made
        lock = stack.enter_context(held_new_or_run(run_dir))
        plan = plan_sweep(exp, run_dir)  # under the lock: nobody else is writing now
        manifest, all_ids, finished_before = sweep_manifest(
            exp, out, run_dir, plan, name, force, scheduler, retry_failed
        )
        label = manifest["name"]
        mixed_code = mixed_code_line(plan, retry_failed)
        pending = plan.pending(retry_failed)
        # A finished run given nothing to do stays finished, also where this invocation stops
        # (its manifest is written now, and again after a stop).
        unchanged = not pending and finished_before is not None
        if unchanged:
            manifest["finished"] = finished_before
        # moved while it was planned (its shards read), or during the write
        with displaced_if_failed(run_dir, lock, before=True):
            moved, elsewhere = _ready_run_dir(run_dir, plan, manifest)
        tally = _Tally(failed=_failed_kept(plan, pending))
        n_workers = worker_count(
            workers,
            pending,
            plan.available_bytes,
            local=client is None,
            shared=shared_bytes(),
            say=status_line if progress else None,
        )
        try:
            _measure(
                run_dir,
                lock,
                plan,
                pending,
                inits,
                tally,
                label=label,
                progress=progress,
                client=client,
                scheduler=scheduler,
                n_workers=n_workers,
            )
        except BaseException as err:
            # An interrupted invocation's time counts as well: it was lost, and a resumed run's
            # "run time" was its last invocation's alone, beside "started ... finished" that
            # span them all. A write that fails must not hide why the sweep stopped. Not where
            # the folder has gone from its path: a manifest there would begin another run.
            with contextlib.suppress(OSError):
                if lock.displaced() is None:
                    spent = 0.0 if unchanged else time.perf_counter() - start
                    store.write_manifest(run_dir, add_elapsed(manifest, spent))
            if isinstance(err, StoppedRunError):  # a worker died: what the folder keeps, now
                raise StoppedRunError(stopped_line(err, run_dir)) from None
            raise

        # One reading of the clock for the summary and the manifest: a second one after
        # reading the shards' metadata made them disagree by that read (tens of ms under load).
        elapsed = time.perf_counter() - start
        refuse_displaced(run_dir, lock)
        metas = store.read_cell_metas(run_dir)
        complete = all_ids <= set(metas)
        # Nothing to do: the run stays as it was. Its "finished" was this invocation's time (a
        # demo run twice read "finished" 20 minutes after "started" for a 74 s run) and its
        # run time grew by the check, past that span.
        if not (unchanged and complete):
            manifest = add_elapsed(manifest, elapsed)
            manifest["finished"] = utc_now() if complete else None
        with displaced_if_failed(run_dir, lock):  # moved during the write
            store.write_manifest(run_dir, manifest)
    return RunSummary(
        run_dir=run_dir,
        n_cells=len(plan.cells),
        n_run=tally.n_run,
        n_skipped=len(plan.cells) - len(pending),
        n_failed=tally.failed,
        elapsed_s=elapsed,
        measure_s=tally.measure_s,
        name=label,
        failures=failures([metas[c.cell_id] for c in plan.cells if c.cell_id in metas]),
        moved_aside=moved,
        not_remeasured=elsewhere,
        outside=plan.outside,
        mixed_code=mixed_code,
    )


def _refuse_before_anything(
    exp: Experiment,
    run_dir: Path,
    inits: dict[str, Init],
    workers: int | None,
    scheduler: str | None,
) -> None:
    """What a sweep refuses before it connects or writes anything: a run directory of another
    kind, a cell too big for this machine's memory (a cluster has its own), and, where cells
    run in other processes, inits that cannot be sent there or a script they cannot import."""
    if is_run_dir(run_dir):
        refuse_other_kinds(store.load_manifest(run_dir), run_dir)
    if scheduler is None:
        check_memory(exp.sweep.cells(), available_bytes(), 1)
    check_time(exp.sweep.cells())  # (on a cluster too: a cell's time is its own)
    if scheduler is not None or ((workers or cores()) > 1 and exp.sweep.size > 1):
        check_sendable(inits.values())
        if scheduler is None:
            check_main_file()
            check_importable(inits.values())


def _ready_run_dir(
    run_dir: Path, plan: SweepPlan, manifest: dict[str, Any]
) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The run directory made ready, under its lock: killed writers' temporary files removed,
    its shard folders checked, the manifest written and damaged shards moved aside. Where they
    went, and where those whose cell is in none of the run's grids went (not measured again)."""
    remove_stale_temps(run_dir)  # of writers killed mid-write (a cell without shard reruns)
    check_shard_folders(run_dir, damaged=bool(plan.corrupt))  # before the manifest
    store.write_manifest(run_dir, manifest)
    moved = tuple(store.move_aside(run_dir, bad.path) for bad in plan.corrupt)
    in_grid = {c.cell_id for c in plan.cells}
    elsewhere = tuple(
        to for to, bad in zip(moved, plan.corrupt, strict=True) if bad.path.stem not in in_grid
    )
    return moved, elsewhere


def _failed_kept(plan: SweepPlan, pending: list[CellConfig]) -> int:
    """The cells recorded as failed that this invocation does not measure again."""
    pending_ids = {c.cell_id for c in pending}
    return sum(
        1
        for cid, meta in plan.done.items()
        if meta["status"] == "failed" and cid not in pending_ids
    )


@dataclass
class _Tally:
    """What the cells measured so far came to: failed ones (with those kept from earlier
    invocations), cells run, and seconds spent measuring them."""

    failed: int
    n_run: int = 0
    measure_s: float = 0.0


def _measure(
    run_dir: Path,
    lock: store.RunLock,
    plan: SweepPlan,
    pending: list[CellConfig],
    inits: dict[str, Init],
    tally: _Tally,
    *,
    label: str,
    progress: bool,
    client: Any,
    scheduler: str | None,
    n_workers: int,
) -> None:
    """Measure the ``pending`` cells on the Dask ``client``, in ``n_workers`` local processes
    or here, writing each one's shard as it comes back, counted in ``tally``; with progress.
    Each shard is written where the run directory (held by ``lock``) is still at its path."""
    tasks = [(c, inits[c.init]) for c in pending]
    costs = {c.cell_id: cell_cost(c) for c in pending}  # the time left weighs each cell
    longest_first = sorted(tasks, key=lambda t: -costs[t[0].cell_id])  # workers, Dask

    def on_result(frame: pd.DataFrame, meta: store.CellMeta) -> None:
        # moved since the last cell, or during the write (its fsync)
        with displaced_if_failed(run_dir, lock, before=True):
            write_shard(run_dir, frame, meta)
        tally.n_run += 1
        tally.failed += meta["status"] == "failed"
        tally.measure_s += meta["elapsed_s"]
        bar.advance(tally.failed, costs[meta["cell_id"]])

    n_done = len(plan.cells) - len(pending)
    work = sum(costs.values())
    with Progress(progress, label, len(plan.cells), n_done, tally.failed, work=work) as bar:
        if client is not None and tasks:
            # Dask waits for a worker without end: say so, at the start or when every
            # worker has left (a lost scheduler: run_dask's one line)
            say = (lambda: status_line(no_worker_line(scheduler))) if progress else None
            run_dask(longest_first, client, on_result, say)
        elif n_workers > 1:
            run_processes(longest_first, n_workers, on_result)
        else:
            run_here(tasks, on_result)
