"""Running a sweep: measure each cell, write one shard per cell, resume, run in parallel.

A cell is measured by :func:`vanishlab.sweep.cell.run_cell` (build, inputs, measure: pure,
bit-identical whatever process runs it); this module schedules cells and writes their shards.

:func:`run_sweep` runs the cells that have no shard yet (resume), in this process
(``workers=1``), in local worker processes (``forkserver``, or ``spawn`` where there is none),
or on a Dask cluster (``scheduler=ADDRESS``). In every case results come back to this process,
which alone writes shards (:mod:`vanishlab.sweep.store`) under the run directory's lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import platform
import shlex
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..errors import VanishlabError
from . import store
from .cell import (
    _log_stats,  # noqa: F401 - re-exported: tests/test_sweep.py imports it here
    build_rnn,
    cell_inputs,
    one_thread,
    run_cell,
    seeded_generator,
)
from .config import AXES, CellConfig, Sweep, grid_ids
from .experiments import Experiment, load_experiment
from .inits import INITS, Init

__all__ = [
    "RunSummary",
    "SweepPlan",
    "build_rnn",
    "cell_inputs",
    "one_thread",
    "plan_sweep",
    "run_cell",
    "run_sweep",
    "seeded_generator",
]

DASK_HINT = "pip install 'vanishlab[dask]'"


def _run_task(config: CellConfig, init: Init) -> tuple[pd.DataFrame, store.CellMeta]:
    """What a worker runs (module level so that it pickles by reference)."""
    return run_cell(config, init=init)


# --- executors -----------------------------------------------------------------------------

Task = tuple[CellConfig, Init]
OnResult = Callable[[pd.DataFrame, store.CellMeta], None]


def _run_here(tasks: Sequence[Task], on_result: OnResult) -> None:
    with one_thread():  # held across cells, so the thread pool is not resized per cell
        for config, init in tasks:
            on_result(*_run_task(config, init))


def _worker_init(parent_alive: Any) -> None:
    torch.set_num_threads(1)
    # Ctrl-C goes to the whole process group: let the parent alone handle it (it stops
    # submitting, keeps finished shards and exits), instead of each worker printing a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A pool's workers outlive a parent killed by SIGKILL (they hold their queues' both ends,
    # and the forkserver lives as long as they do). The parent alone holds the write end of
    # ``parent_alive``: end of file on it means the parent is gone, so exit at once.
    threading.Thread(target=_exit_with_parent, args=(parent_alive,), daemon=True).start()


def _exit_with_parent(parent_alive: Any) -> None:
    with contextlib.suppress(EOFError, OSError):
        parent_alive.recv_bytes()
    os._exit(1)


def _mp_context() -> multiprocessing.context.BaseContext:
    # Not fork: forking a process that holds torch's thread pools (and the rich refresh
    # thread) is unsafe. forkserver imports torch once, in its server, and forks workers fast.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["vanishlab.sweep.runner"])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows, macOS < forkserver


def _run_processes(tasks: Sequence[Task], workers: int, on_result: OnResult) -> None:
    ctx = _mp_context()
    alive_r, alive_w = ctx.Pipe(duplex=False)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(alive_r,)
    )
    completed = False
    try:
        futures = [pool.submit(_run_task, config, init) for config, init in tasks]
        for future in as_completed(futures):
            on_result(*future.result())
        completed = True
    except BrokenProcessPool:
        raise VanishlabError(
            "a worker process died (out of memory?); finished cells are kept: run the same "
            "command again to resume, perhaps with fewer --workers"
        ) from None
    finally:
        if not completed:  # interrupted or failed: workers quit now, not after their cells
            alive_w.close()
        pool.shutdown(wait=True, cancel_futures=True)
        alive_r.close()
        alive_w.close()


def _dask_client(address: str) -> Any:
    """Connect to the Dask scheduler at ``address`` (one-line errors if that is impossible)."""
    try:
        import distributed
    except ImportError:
        raise VanishlabError(f"--scheduler needs Dask: {DASK_HINT}") from None
    try:
        return distributed.Client(address, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise VanishlabError(
            f"cannot connect to the Dask scheduler at {address}: {err}".splitlines()[0]
        ) from None


def _run_dask(tasks: Sequence[Task], client: Any, on_result: OnResult) -> None:
    import distributed

    futures: list[Any] = []
    try:
        token = os.urandom(4).hex()  # fresh keys: never reuse results cached on the cluster
        futures = [
            client.submit(
                _run_task, config, init, key=f"vanishlab-{config.cell_id}-{token}", pure=False
            )
            for config, init in tasks
        ]
        done = distributed.as_completed(futures, loop=client.loop, with_results=True)
        for future, result in done:
            on_result(*result)
            future.release()
    finally:
        with contextlib.suppress(Exception):
            client.cancel(futures)


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_sweep` did.

    ``n_cells``: cells in this sweep; ``n_run``: measured now; ``n_skipped``: already done
    (resume); ``n_failed``: cells of this sweep recorded as failed, now or by an earlier run;
    ``elapsed_s``: wall time of this call; ``measure_s``: summed measurement time of the cells
    run now (``measure_s / (elapsed_s * workers)`` is the parallel efficiency).
    """

    run_dir: Path
    n_cells: int
    n_run: int
    n_skipped: int
    n_failed: int
    elapsed_s: float
    measure_s: float = 0.0
    name: str = ""

    def __str__(self) -> str:
        return (
            f"sweep {self.name}: {self.n_cells} cells, {self.n_run} run, {self.n_skipped} "
            f"skipped (already done), {self.n_failed} failed, {self.elapsed_s:.1f} s "
            f"-> {self.run_dir}"
        )


@dataclass(frozen=True)
class SweepPlan:
    """A sweep resolved against its run directory, before anything runs (``--dry-run``)."""

    experiment: Experiment
    run_dir: Path
    cells: list[CellConfig]
    done: dict[str, store.CellMeta]  # cells of this sweep that already have a shard
    is_run_dir: bool  # the directory already holds a manifest
    new_cells: int  # cells of this sweep that the manifest's grid does not hold

    @property
    def pending(self) -> list[CellConfig]:
        return [c for c in self.cells if c.cell_id not in self.done]


def _as_experiment(what: Sweep | Experiment | str | os.PathLike[str], smoke: bool) -> Experiment:
    if isinstance(what, Sweep):
        exp = Experiment(name="", description="", sweep=what)
    elif isinstance(what, Experiment):
        exp = what
    elif isinstance(what, str | os.PathLike):
        exp = load_experiment(what)
    else:
        raise TypeError(f"expected a Sweep, an Experiment or a name/path, got {what!r}")
    if smoke:
        if exp.smoke is None:
            raise VanishlabError(f"experiment {exp.name or '(sweep)'} has no SMOKE variant")
        exp = dataclasses.replace(exp, sweep=exp.smoke)
    return exp


def _check_dir(run_dir: Path) -> bool:
    """True if ``run_dir`` is a run directory; False if it is new or empty; else raise."""
    if run_dir.exists() and not run_dir.is_dir():
        raise VanishlabError(f"{run_dir} exists and is not a directory")
    if (run_dir / store.MANIFEST).exists():
        return True
    if not run_dir.exists():
        return False
    # Only what an interrupted first start can leave: the lock, temp files, an empty cells/.
    for entry in run_dir.iterdir():
        if entry.name == store.LOCK or entry.name.endswith(store.TMP_SUFFIX):
            continue
        if entry.name == store.CELLS and entry.is_dir() and not any(store.shard_paths(run_dir)):
            continue
        raise VanishlabError(
            f"{run_dir} is not empty and is not a vanishlab run directory (no "
            f"{store.MANIFEST}); choose a new or empty --out"
        )
    return False


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
) -> SweepPlan:
    """Resolve a sweep and read what its run directory already holds; writes nothing."""
    exp = _as_experiment(sweep_or_experiment, smoke)
    run_dir = Path(out)
    cells = exp.sweep.cells()
    is_run = _check_dir(run_dir)
    new_cells = 0
    done: dict[str, store.CellMeta] = {}
    if is_run:
        manifest = store.load_manifest(run_dir)
        known = set().union(*(grid_ids(g) for g in _grids(manifest)))
        new_cells = sum(1 for c in cells if c.cell_id not in known)
        metas = store.read_cell_metas(run_dir)
        done = {c.cell_id: metas[c.cell_id] for c in cells if c.cell_id in metas}
    return SweepPlan(exp, run_dir, cells, done, is_run, new_cells)


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def sweep_command(exp: Experiment, out: str | os.PathLike[str], name: str) -> str:
    """The shell command that reproduces a run: every axis explicit, so the grid is pinned."""
    parts = ["vanishlab", "sweep"]
    if exp.ref is not None:
        parts.append(exp.ref)
    for axis, values in exp.sweep.axes().items():
        flag = "--" + axis.replace("_", "-")
        parts += [flag, ",".join(_value_text(v) for v in values)]
    parts += ["--out", os.fspath(out), "--name", name]
    return shlex.join(parts)


def _versions(dask: bool) -> dict[str, str]:
    import pyarrow

    from .. import __version__

    versions = {
        "vanishlab": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }
    if dask:
        import dask as dask_mod
        import distributed

        versions["dask"] = dask_mod.__version__
        versions["distributed"] = distributed.__version__
    return versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json_axes(sweep: Sweep) -> dict[str, list[Any]]:
    return {axis: list(values) for axis, values in sweep.axes().items()}


def _union_axes(grids: list[dict[str, list[Any]]]) -> dict[str, list[Any]]:
    union: dict[str, list[Any]] = {axis: [] for axis in AXES}
    for grid in grids:
        for axis in AXES:
            union[axis] += [v for v in grid[axis] if v not in union[axis]]
    return union


class _Progress:
    """A rich progress bar on stderr (cells done / total, elapsed, ETA), or nothing."""

    def __init__(self, enabled: bool, name: str, total: int, done: int, failed: int) -> None:
        self._bar: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cells"),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(name or "sweep", total=total, completed=done, failed=failed)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, failed: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=failed)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and Slurm set)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def _cost(config: CellConfig) -> int:
    # Arithmetic of one cell (docs/design.md): batch * L * T * H^3; run the big ones first.
    return config.batch * config.num_layers * config.seq_len * config.hidden_size**3


def run_sweep(
    sweep_or_experiment: Sweep | Experiment | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    smoke: bool = False,
) -> RunSummary:
    """Measure every cell of a sweep into the run directory ``out``; skip cells already done.

    Args:
        sweep_or_experiment: a :class:`~vanishlab.sweep.config.Sweep`, a loaded
            :class:`~vanishlab.sweep.experiments.Experiment`, or an experiment name or path.
        out: the run directory (created if needed; see :mod:`vanishlab.sweep.store`).
        name: a label kept in the manifest and shown in reports (default: the name already in
            the manifest, else the experiment's name, else the directory's name).
        workers: local worker processes (default: all cores); 1 runs in this process. Numbers
            are bit-identical whatever the count. With ``workers > 1`` the calling script must
            guard its entry point with ``if __name__ == "__main__":`` (multiprocessing).
        scheduler: a Dask scheduler address (``tcp://host:port``); cells then run on that
            cluster and come back here to be written. Needs ``vanishlab[dask]``.
        force: extend a directory that holds a different grid (its cells are kept).
        progress: show a progress bar on stderr.
        smoke: run the experiment's ``SMOKE`` variant instead of its ``SWEEP``.

    Raises:
        VanishlabError: bad input, a directory that is not a run or holds another grid (without
            ``force``), a directory in use by another process, a corrupt or foreign file in
            it. Nothing in the directory is changed in these cases.
    """
    start = time.perf_counter()
    exp = _as_experiment(sweep_or_experiment, smoke)
    if scheduler is not None and workers is not None:
        raise VanishlabError("--workers and --scheduler exclude each other: the cluster decides")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise VanishlabError(f"--workers must be a positive integer, got {workers}")
    run_dir = Path(out)
    tasks_init = {init: INITS[init] for init in exp.sweep.init}
    _check_dir(run_dir)
    with contextlib.ExitStack() as stack:
        # Connect first: a missing Dask or a wrong address must fail before anything is written.
        client = stack.enter_context(_dask_client(scheduler)) if scheduler is not None else None
        stack.enter_context(store.RunLock(run_dir))
        plan = plan_sweep(exp, run_dir)  # under the lock: nobody else is writing now
        manifest: dict[str, Any] = {}
        grids: list[dict[str, list[Any]]] = []
        if plan.is_run_dir:
            manifest = store.load_manifest(run_dir)
            grids = _grids(manifest)
            if plan.new_cells and not force:
                diff = _describe_difference(grids[-1], _json_axes(exp.sweep))
                raise VanishlabError(
                    f"{run_dir} holds a different grid ({diff}; {plan.new_cells} new cells): "
                    "rerun with its own flags to resume, choose another --out, or pass "
                    "--force to add the new cells to it"
                )
        label = name or manifest.get("name") or exp.name or run_dir.resolve().name
        # One grid and one command per invocation that brought new cells: run in order, the
        # commands rebuild the directory; a resume or a subset adds neither.
        commands = [c for c in manifest.get("commands", [manifest.get("command")]) if c]
        this_grid = _json_axes(exp.sweep)
        if not grids or (plan.new_cells and this_grid not in grids):
            grids.append(this_grid)
            commands.append(sweep_command(exp, out, label))
        all_ids = set().union(*(grid_ids(g) for g in grids))
        manifest = {
            "format": store.FORMAT,
            "name": label,
            "experiment": exp.name if exp.path is not None else manifest.get("experiment"),
            "description": exp.description or manifest.get("description", ""),
            "axes": _union_axes(grids),
            "sections": list(exp.sections)
            if exp.sections is not None
            else manifest.get("sections"),
            "command": commands[-1],
            "versions": _versions(dask=scheduler is not None),
            "started": manifest.get("started") or _now(),
            "finished": None,
            "elapsed_s": manifest.get("elapsed_s"),
            "n_cells": len(all_ids),
            "grids": grids,
            "commands": commands,
        }
        for stale in (run_dir / store.CELLS).glob(f".*{store.TMP_SUFFIX}"):
            stale.unlink(missing_ok=True)  # a writer killed mid-shard; the cell reruns
        store.write_manifest(run_dir, manifest)

        pending = plan.pending
        failed = sum(1 for meta in plan.done.values() if meta["status"] == "failed")
        n_run, measure_s = 0, 0.0

        def on_result(frame: pd.DataFrame, meta: store.CellMeta) -> None:
            nonlocal n_run, failed, measure_s
            store.write_shard(run_dir, frame, meta)
            n_run += 1
            failed += meta["status"] == "failed"
            measure_s += meta["elapsed_s"]
            bar.advance(failed)

        tasks = [(c, tasks_init[c.init]) for c in pending]
        n_workers = workers if workers is not None else _cores()
        n_workers = max(1, min(n_workers, len(tasks)))
        with _Progress(progress, label, len(plan.cells), len(plan.done), failed) as bar:
            if client is not None and tasks:
                _run_dask(sorted(tasks, key=lambda t: -_cost(t[0])), client, on_result)
            elif n_workers > 1:
                tasks.sort(key=lambda t: -_cost(t[0]))
                _run_processes(tasks, n_workers, on_result)
            else:
                _run_here(tasks, on_result)

        elapsed = time.perf_counter() - start
        metas = store.read_cell_metas(run_dir)
        complete = all_ids <= set(metas)
        manifest["finished"] = _now() if complete else None
        manifest["elapsed_s"] = round((manifest["elapsed_s"] or 0.0) + elapsed, 3)
        store.write_manifest(run_dir, manifest)
    return RunSummary(
        run_dir=run_dir,
        n_cells=len(plan.cells),
        n_run=n_run,
        n_skipped=len(plan.done),
        n_failed=failed,
        elapsed_s=elapsed,
        measure_s=measure_s,
        name=label,
    )
