"""Running a sweep: plan it against its run directory, run the cells that have no shard, keep
the manifest.

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
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import VanishlabError
from . import store
from .commands import sweep_command, with_name
from .config import AXES, CellConfig, Sweep, grid_ids
from .cost import cell_cost
from .dask_cluster import dask_client, no_worker_line, quiet_dask, run_dask
from .executors import cores, run_here, run_processes
from .experiments import Experiment, axes_text, is_grid_description, load_experiment, variant
from .files import as_flag, as_path, path_name
from .init_records import check_init_unchanged, init_definition, shard_inits
from .inits import INITS
from .manifest import package_versions, union_axes
from .memory import available_bytes, cell_bytes
from .preflight import (
    check_main_file,
    check_memory,
    check_options,
    check_sendable,
    check_shard_folders,
    dir_problem,
    fewer_workers_line,
    make_dir,
    refuse_other_kinds,
)
from .progress import Progress, status_line
from .run_summary import RunSummary, failures
from .rundir import is_run_dir, remove_stale_temps

__all__ = [
    "RunSummary",
    "SweepPlan",
    "plan_sweep",
    "run_sweep",
]


@dataclass(frozen=True)
class SweepPlan:
    """A sweep resolved against its run directory, before anything runs (``--dry-run``).

    ``reinit``: the directory has a manifest but no shard (no cell ever finished), so the sweep
    starts it afresh whatever grid it held; ``corrupt``: damaged shards of this run, which the
    sweep moves aside and measures again; ``outside``: sound shards whose cell is in none of
    the run's grids nor this sweep's (copied from another run?), which it keeps and names;
    ``other_inits``: the inits of the sound shards of cells that are not this sweep's;
    ``recorded_inits``: the manifest's ``inits`` (what each init name stood for);
    ``peak_bytes``: the memory the largest cell needs
    (:func:`vanishlab.sweep.memory.cell_bytes`); ``available_bytes``: this machine's (None if
    unknown); ``other_grid``: the line that refuses the run without ``force`` when the
    directory holds a different grid (``new_cells`` > 0), which a dry run prints as the run
    would.
    """

    experiment: Experiment
    run_dir: Path
    cells: list[CellConfig]
    done: dict[str, store.CellMeta]  # cells of this sweep that already have a sound shard
    is_run_dir: bool  # the directory already holds a manifest
    new_cells: int  # cells of this sweep that the manifest's grid does not hold
    reinit: bool = False
    corrupt: tuple[store.CorruptShardError, ...] = ()
    peak_bytes: int = 0
    available_bytes: int | None = None
    unwritable: str | None = None  # why a run could not write the directory (dry runs)
    outside: tuple[Path, ...] = ()
    other_inits: frozenset[str] = frozenset()  # inits of the run's sound shards of other grids
    other_grid: str | None = None
    recorded_inits: Mapping[str, str] = field(default_factory=dict)

    def pending(self, retry_failed: bool = False) -> list[CellConfig]:
        """Cells to measure: those without a sound shard (and the failed ones if asked)."""
        return [
            c
            for c in self.cells
            if c.cell_id not in self.done
            or (retry_failed and self.done[c.cell_id]["status"] == "failed")
        ]


def _as_experiment(what: Sweep | Experiment | str | os.PathLike[str], smoke: bool) -> Experiment:
    if isinstance(what, Sweep):
        exp = Experiment(name="", description="", sweep=what)
    elif isinstance(what, Experiment):
        exp = what
    elif isinstance(what, str | os.PathLike):
        exp = load_experiment(what)
    else:
        raise TypeError(f"expected a Sweep, an Experiment or a name/path, got {what!r}")
    return variant(exp, smoke=True) if smoke else exp


def _grids(manifest: dict[str, Any]) -> list[dict[str, list[Any]]]:
    grids = manifest.get("grids") or [manifest.get("axes")]
    if not all(isinstance(g, dict) and set(g) == set(AXES) for g in grids):
        raise VanishlabError(
            f"manifest.json of this run has a grid with other axes than {', '.join(AXES)}"
        )
    return grids


def _describe_difference(old: dict[str, list[Any]], new: dict[str, list[Any]]) -> str:
    diffs = [
        f"{axis} {list(old[axis])} -> {list(new[axis])}"
        for axis in AXES
        if list(old[axis]) != list(new[axis])
    ]
    return "; ".join(diffs) if diffs else "same axes"


def plan_sweep(
    sweep_or_experiment: Sweep | Experiment | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    smoke: bool = False,
    dry_run: bool = False,
) -> SweepPlan:
    """Resolve a sweep and read (and verify) what its run directory holds; writes nothing.
    ``unwritable`` says why the run could not write a new directory there (and, with
    ``dry_run``, an existing one): the plan is still made, so that a dry run shows it."""
    exp = _as_experiment(sweep_or_experiment, smoke)
    run_dir = Path(out)
    cells = exp.sweep.cells()
    is_run = is_run_dir(run_dir)
    new_cells = 0
    done: dict[str, store.CellMeta] = {}
    corrupt: list[store.CorruptShardError] = []
    reinit = False
    unwritable = None
    outside: tuple[Path, ...] = ()
    other_inits: set[str] = set()
    other_grid = None
    recorded_inits: dict[str, str] = {}
    if is_run:
        manifest = store.load_manifest(run_dir)
        refuse_other_kinds(manifest, run_dir)
        if dry_run:
            # A run always writes (its lock, its manifest), even with every cell done: a dry
            # run refuses a read-only one as the run would, not "N already done". (The run
            # itself finds out by writing: os.access may misjudge ACLs or NFS.)
            unwritable = dir_problem(run_dir)
        reinit = not any(store.shard_paths(run_dir))
        if not reinit:
            grids = _grids(manifest)
            recorded_inits = manifest.get("inits") or {}
            known = set().union(*(grid_ids(g) for g in grids))
            new_cells = sum(1 for c in cells if c.cell_id not in known)
            if new_cells:
                diff = _describe_difference(grids[-1], _json_axes(exp.sweep))
                other_grid = (
                    f"{run_dir} holds a different grid ({diff}; {new_cells} new cells): "
                    "rerun with its own flags to resume, choose another out (--out), or "
                    "pass force (--force) to add the new cells to it"
                )
            metas, corrupt = store.scan_shards(run_dir)
            done = {c.cell_id: metas[c.cell_id] for c in cells if c.cell_id in metas}
            other_inits = shard_inits(metas, but=done)
            known |= {c.cell_id for c in cells}  # this sweep's grid: its own (--force adds it)
            outside = tuple(
                run_dir / store.CELLS / f"{cid}{store.SHARD_SUFFIX}"
                for cid in sorted(metas)
                if cid not in known
            )
    else:
        unwritable = dir_problem(run_dir)
    peak = max((cell_bytes(c) for c in cells), default=0)
    return SweepPlan(
        exp,
        run_dir,
        cells,
        done,
        is_run,
        new_cells,
        reinit,
        tuple(corrupt),
        peak,
        available_bytes(),
        unwritable,
        outside,
        frozenset(other_inits),
        other_grid,
        recorded_inits,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_axes(sweep: Sweep) -> dict[str, list[Any]]:
    return {axis: list(values) for axis, values in sweep.axes().items()}


def _add_elapsed(manifest: dict[str, Any], elapsed: float) -> dict[str, Any]:
    """``manifest`` with this invocation's wall time ``elapsed`` (seconds) added to
    ``elapsed_s``: the run's time summed over every invocation (resumed, interrupted,
    extended; not one killed by SIGKILL, which runs nothing after it)."""
    return {**manifest, "elapsed_s": round((manifest.get("elapsed_s") or 0.0) + elapsed, 3)}


def _description(new: str, earlier: str | None, grids: list[dict[str, Any]], n_cells: int) -> str:
    """The run's description: that of the command that made it; for a run that --force
    extended, the whole run's: its cell count and the axes on which its grids differ (with
    all their values), after the experiment's own description if it had one. A description
    that ``variant`` wrote for the first grid ("2 cells; ... seq_len = 3 ...") is dropped: it
    was true of that grid alone, and read beside the run's other cell count and axes."""
    if len(grids) < 2:
        return new or earlier or ""
    own = (earlier or new).split(" [run of ", 1)[0]  # an earlier extension's part, rewritten
    if own.startswith("Run of ") or is_grid_description(own):
        own = ""
    differ = [a for a in AXES if any(g[a] != grids[0][a] for g in grids)]
    merged = (
        f"run of {len(grids)} grids, extended with --force (see Reproduce): {n_cells} cells; "
        f"{axes_text(union_axes(grids), differ) or 'the same axes'}"
    )
    return f"{own} [{merged}]" if own else merged[0].upper() + merged[1:]


def init_definitions(plan: SweepPlan, force: bool, retry_failed: bool) -> dict[str, str]:
    """The manifest's ``inits``: each init name of the run to what it stands for
    (:func:`~vanishlab.sweep.init_records.init_definition`). A cell id holds the init's name
    only, so a name that now stands for another function (``register_init(...,
    replace=True)`` on ``orthogonal``) would keep the other one's cells under it: refused,
    without ``force`` (the same weights under a moved or renamed function), when the run keeps
    any (a cell of this sweep already done and not measured again, or of its other grids)."""
    recorded = plan.recorded_inits
    pending = {c.cell_id for c in plan.pending(retry_failed)}
    kept = set(plan.other_inits)
    kept |= {c.init for c in plan.cells if c.cell_id in plan.done and c.cell_id not in pending}
    mine = {init: init_definition(INITS[init]) for init in plan.experiment.sweep.init}
    for init, now in mine.items():
        if init in kept and not force:
            check_init_unchanged(
                plan.run_dir,
                recorded,
                init,
                now,
                "this sweep's",
                "their cells would be mixed under one name; give your init a name of its own "
                "or choose another out (--out); force (--force) if both draw the same weights",
            )
    return {**recorded, **mine}


def checked_plan(plan: SweepPlan, force: bool, retry_failed: bool) -> dict[str, str]:
    """Refuse, without ``force``, what the run would refuse of ``plan`` (the run and
    ``--dry-run`` alike): an init name that stands for another function than its kept cells'
    (first: the ``--force`` that the other grid's line offers accepts that too, which the user
    would never be told), then a different grid. Returns the manifest's ``inits``."""
    inits = init_definitions(plan, force, retry_failed)
    if plan.other_grid is not None and not force:
        raise VanishlabError(plan.other_grid)
    return inits


def resumed_manifest(plan: SweepPlan, run_dir: Path) -> dict[str, Any]:
    """The manifest a run of ``plan`` extends: the directory's own, or none (``{}``) for a new
    directory or one that holds no finished cell (started afresh)."""
    return store.load_manifest(run_dir) if plan.is_run_dir and not plan.reinit else {}


def run_name(exp: Experiment, run_dir: Path, manifest: Mapping[str, Any], name: str | None) -> str:
    """The name the run keeps in its manifest: ``name``, else the one it has when resumed
    (``manifest``: :func:`resumed_manifest`), else the experiment's, else the directory's."""
    return name or manifest.get("name") or exp.name or path_name(run_dir)


def _run_manifest(
    exp: Experiment,
    out: str | os.PathLike[str],
    run_dir: Path,
    plan: SweepPlan,
    name: str | None,
    force: bool,
    scheduler: str | None,
    retry_failed: bool = False,
) -> tuple[dict[str, Any], set[str]]:
    """The manifest this run writes (the directory's own, extended by this grid and command
    when they bring new cells; refused, without ``force``, for a different grid), and the ids
    of every cell of its grids."""
    manifest = resumed_manifest(plan, run_dir)
    grids: list[dict[str, list[Any]]] = _grids(manifest) if manifest else []
    inits = checked_plan(plan, force, retry_failed)
    label = run_name(exp, run_dir, manifest, name)
    # One grid and one command per invocation that brought new cells: run in order, the
    # commands rebuild the directory; a resume or a subset adds neither.
    # (``commands`` null, which a manifest may say, reads as a missing one, as in the report)
    commands = [c for c in (manifest.get("commands") or [manifest.get("command")]) if c]
    # Renamed on a resume (now, or by a version that kept the first name): the commands too.
    commands = [with_name(c, label) for c in commands]
    this_grid = _json_axes(exp.sweep)
    if not grids or (plan.new_cells and this_grid not in grids):
        grids.append(this_grid)
        commands.append(sweep_command(exp, out, label, force=bool(commands)))
    all_ids = set().union(*(grid_ids(g) for g in grids))
    manifest = {
        "format": store.FORMAT,
        "run_id": manifest.get("run_id") or uuid.uuid4().hex,
        "name": label,
        "experiment": exp.path.stem if exp.path is not None else manifest.get("experiment"),
        "description": _description(
            exp.description, manifest.get("description"), grids, len(all_ids)
        ),
        "axes": union_axes(grids),
        "inits": inits,
        "sections": list(exp.sections) if exp.sections is not None else manifest.get("sections"),
        "command": commands[-1] if commands else None,  # none recorded: none to give
        "versions": package_versions(dask=scheduler is not None),
        "started": manifest.get("started") or _now(),
        "finished": None,
        "elapsed_s": manifest.get("elapsed_s"),
        "n_cells": len(all_ids),
        "grids": grids,
        "commands": commands,
    }
    return manifest, all_ids


def run_sweep(
    sweep_or_experiment: Sweep | Experiment | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    workers: int | None = None,
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
            in this process. Numbers are bit-identical whatever the count. With ``workers > 1``
            the calling script must guard its entry point with ``if __name__ == "__main__":``.
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
            directory is changed in these cases.
        TypeError: ``out`` is not a path; ``force``, ``retry_failed`` or ``smoke`` is not True
            or False.
    """
    start = time.perf_counter()
    # "no" was true: force extended a directory holding another grid, smoke ran the small one
    force, retry_failed = as_flag(force, "force"), as_flag(retry_failed, "retry_failed")
    exp = _as_experiment(sweep_or_experiment, as_flag(smoke, "smoke"))
    progress = as_flag(progress, "progress")
    workers = check_options(name, workers, scheduler)
    run_dir = as_path(out, "out")
    tasks_init = {init: INITS[init] for init in exp.sweep.init}
    if is_run_dir(run_dir):  # refused before connecting or writing anything
        refuse_other_kinds(store.load_manifest(run_dir), run_dir)
    if scheduler is None:  # refused before anything is written (a cluster has its own memory)
        check_memory(exp.sweep.cells(), available_bytes(), 1)
    if scheduler is not None or ((workers or cores()) > 1 and exp.sweep.size > 1):
        check_sendable(tasks_init.values())
        if scheduler is None:
            check_main_file()
    with contextlib.ExitStack() as stack:
        # Connect first: a missing Dask or a wrong address must fail before anything is written.
        client = None
        if scheduler is not None:
            stack.enter_context(quiet_dask())  # until the client has closed: one line
            client = stack.enter_context(dask_client(scheduler))
        make_dir(run_dir)
        stack.enter_context(store.RunLock(run_dir))
        plan = plan_sweep(exp, run_dir)  # under the lock: nobody else is writing now
        manifest, all_ids = _run_manifest(
            exp, out, run_dir, plan, name, force, scheduler, retry_failed
        )
        label = manifest["name"]
        remove_stale_temps(run_dir)  # of writers killed mid-write (a cell without shard reruns)
        check_shard_folders(run_dir, damaged=bool(plan.corrupt))  # before the manifest
        store.write_manifest(run_dir, manifest)
        moved = tuple(store.move_aside(run_dir, bad.path) for bad in plan.corrupt)
        in_grid = {c.cell_id for c in plan.cells}
        elsewhere = tuple(
            to for to, bad in zip(moved, plan.corrupt, strict=True) if bad.path.stem not in in_grid
        )

        pending = plan.pending(retry_failed)
        pending_ids = {c.cell_id for c in pending}
        failed = sum(
            1
            for cid, meta in plan.done.items()
            if meta["status"] == "failed" and cid not in pending_ids
        )
        n_run, measure_s = 0, 0.0

        def on_result(frame: pd.DataFrame, meta: store.CellMeta) -> None:
            nonlocal n_run, failed, measure_s
            store.write_shard(run_dir, frame, meta)
            n_run += 1
            failed += meta["status"] == "failed"
            measure_s += meta["elapsed_s"]
            bar.advance(failed, costs[meta["cell_id"]])

        tasks = [(c, tasks_init[c.init]) for c in pending]
        costs = {c.cell_id: cell_cost(c) for c in pending}  # the time left weighs each cell
        longest_first = sorted(tasks, key=lambda t: -costs[t[0].cell_id])  # workers, Dask
        n_workers = workers if workers is not None else cores()
        n_workers = max(1, min(n_workers, len(tasks)))
        if client is None:
            fit = check_memory(pending, plan.available_bytes, n_workers)
            if fit < n_workers and workers is not None and progress:  # (capped by the cells)
                status_line(fewer_workers_line(n_workers, fit, pending, plan.available_bytes))
            n_workers = fit
        n_done = len(plan.cells) - len(pending)
        try:
            work = sum(costs.values())
            with Progress(progress, label, len(plan.cells), n_done, failed, work=work) as bar:
                if client is not None and tasks:
                    # Dask waits for a worker without end: say so, at the start or when every
                    # worker has left (a lost scheduler: run_dask's one line)
                    say = (lambda: status_line(no_worker_line(scheduler))) if progress else None
                    run_dask(longest_first, client, on_result, say)
                elif n_workers > 1:
                    run_processes(longest_first, n_workers, on_result)
                else:
                    run_here(tasks, on_result)
        except BaseException:
            # An interrupted invocation's time counts as well: it was lost, and a resumed run's
            # "run time" was its last invocation's alone, beside "started ... finished" that
            # span them all. A write that fails must not hide why the sweep stopped.
            with contextlib.suppress(OSError):
                store.write_manifest(run_dir, _add_elapsed(manifest, time.perf_counter() - start))
            raise

        # One reading of the clock for the summary and the manifest: a second one after
        # reading the shards' metadata made them disagree by that read (tens of ms under load).
        elapsed = time.perf_counter() - start
        manifest = _add_elapsed(manifest, elapsed)
        metas = store.read_cell_metas(run_dir)
        complete = all_ids <= set(metas)
        manifest["finished"] = _now() if complete else None
        store.write_manifest(run_dir, manifest)
    return RunSummary(
        run_dir=run_dir,
        n_cells=len(plan.cells),
        n_run=n_run,
        n_skipped=n_done,
        n_failed=failed,
        elapsed_s=elapsed,
        measure_s=measure_s,
        name=label,
        failures=failures([metas[c.cell_id] for c in plan.cells if c.cell_id in metas]),
        moved_aside=moved,
        not_remeasured=elsewhere,
        outside=plan.outside,
    )
