"""A sweep resolved against its run directory before anything runs (``--dry-run`` prints it):
the cells already done, damaged or outside the run's grids, the grid it would add, memory.
Reads (and verifies) what the directory holds; writes nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.allocation import available_bytes
from ..errors import VanishlabError
from . import store
from .config import AXES, CellConfig, Sweep, grids_ids
from .experiments import Experiment, load_experiment, variant
from .init_records import shard_inits
from .memory import cell_bytes
from .preflight import dir_problem, refuse_other_kinds
from .rundir import is_run_dir
from .shard import CELLS, shard_paths
from .shard_file import SHARD_SUFFIX

__all__ = ["SweepPlan", "as_experiment", "json_axes", "plan_sweep", "run_grids"]


@dataclass(frozen=True)
class SweepPlan:
    """A sweep resolved against its run directory, before anything runs (``--dry-run``).

    ``reinit``: the directory has a manifest but no shard (no cell ever finished), so the sweep
    starts it afresh whatever grid it held; ``corrupt``: damaged shards of this run, which the
    sweep moves aside and measures again; ``outside``: sound shards whose cell is in none of
    the run's grids nor this sweep's (copied from another run?), which it keeps and names;
    ``other_inits``: the inits of the sound shards of cells that are not this sweep's;
    ``recorded_inits``: the manifest's ``inits`` (what each init name stood for);
    ``sound``: the ids of every sound shard the directory holds (this sweep's and other grids');
    ``recorded_versions``: the manifest's ``versions`` (those of the invocation that last
    measured cells; None where it records none);
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
    sound: frozenset[str] = frozenset()
    recorded_versions: Mapping[str, Any] | None = None

    def kept(self, retry_failed: bool = False) -> int:
        """How many sound shards the run keeps as they are (not measured again)."""
        return self.kept_and_pending(retry_failed)[0]

    def kept_and_pending(self, retry_failed: bool = False) -> tuple[int, list[CellConfig]]:
        """:meth:`kept` and :meth:`pending` from one pass over the cells, for a caller that
        needs both."""
        pending = self.pending(retry_failed)
        return len(self.sound - {c.cell_id for c in pending}), pending

    def pending(self, retry_failed: bool = False) -> list[CellConfig]:
        """Cells to measure: those without a sound shard (and the failed ones if asked)."""
        return [
            c
            for c in self.cells
            if c.cell_id not in self.done
            or (retry_failed and self.done[c.cell_id]["status"] == "failed")
        ]


def as_experiment(what: Sweep | Experiment | str | os.PathLike[str], smoke: bool) -> Experiment:
    """The experiment a sweep runs: ``what`` itself, a bare grid, or one loaded by name or path;
    its ``SMOKE`` variant with ``smoke``."""
    if isinstance(what, Sweep):
        exp = Experiment(name="", description="", sweep=what)
    elif isinstance(what, Experiment):
        exp = what
    elif isinstance(what, str | os.PathLike):
        exp = load_experiment(what)
    else:
        raise TypeError(f"expected a Sweep, an Experiment or a name/path, got {what!r}")
    return variant(exp, smoke=True) if smoke else exp


def run_grids(manifest: dict[str, Any]) -> list[dict[str, list[Any]]]:
    """The grids of a sweep's manifest (an older one's ``axes``), each of every axis."""
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
    """Resolve a sweep and read (and verify) what its run directory holds; leaves nothing
    written (a dry run's probe is made and removed: :func:`~.preflight.dir_problem`).
    ``unwritable`` says why the run could not write a new directory there (and, with
    ``dry_run``, an existing one): the plan is still made, so that a dry run shows it."""
    exp = as_experiment(sweep_or_experiment, smoke)
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
    sound: frozenset[str] = frozenset()
    recorded_versions = None
    if is_run:
        manifest = store.load_manifest(run_dir)
        refuse_other_kinds(manifest, run_dir)
        if dry_run:
            # A run always writes (its lock, its manifest), even with every cell done: a dry
            # run refuses a read-only one as the run would, not "N already done".
            unwritable = dir_problem(run_dir)
        reinit = not any(shard_paths(run_dir))
        if not reinit:
            grids = run_grids(manifest)
            recorded_inits = manifest.get("inits") or {}
            known = grids_ids(grids)
            new_cells = sum(1 for c in cells if c.cell_id not in known)
            if new_cells:
                diff = _describe_difference(grids[-1], json_axes(exp.sweep))
                other_grid = (
                    f"{run_dir} holds a different grid ({diff}; {new_cells} new cells): "
                    "rerun with its own flags to resume, give --out (out=) another directory, "
                    "or pass --force (force=True) to add the new cells to it"
                )
            metas, corrupt = store.scan_shards(run_dir)
            sound = frozenset(metas)
            recorded_versions = manifest.get("versions")
            done = {c.cell_id: metas[c.cell_id] for c in cells if c.cell_id in metas}
            other_inits = shard_inits(metas, but=done)
            known |= {c.cell_id for c in cells}  # this sweep's grid: its own (--force adds it)
            outside = tuple(
                run_dir / CELLS / f"{cid}{SHARD_SUFFIX}"
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
        sound,
        recorded_versions,
    )


def json_axes(sweep: Sweep) -> dict[str, list[Any]]:
    """The grid of ``sweep`` as a manifest keeps it: each axis's values as a list."""
    return {axis: list(values) for axis, values in sweep.axes().items()}
