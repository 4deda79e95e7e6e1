"""The manifest a sweep's run writes: the directory's own carried on, extended by a new grid
and its command; the run's name, description, inits (refused, without ``force``, where a name
now stands for another function than its kept cells') and times."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import VanishlabError
from . import store
from .commands import reproducing_command, with_name, with_out
from .config import AXES, grids_ids
from .experiments import Experiment
from .files import path_name
from .grid_text import axes_text, is_grid_description
from .init_records import check_init_unchanged, init_definition
from .inits import INITS
from .manifest import package_versions, union_axes, utc_now
from .measured_by import EARLIER_VERSIONS, check_same_code, earlier_versions
from .plan import SweepPlan, json_axes, run_grids

__all__ = [
    "add_elapsed",
    "checked_plan",
    "init_definitions",
    "resumed_manifest",
    "run_name",
    "sweep_manifest",
]


def add_elapsed(manifest: dict[str, Any], elapsed: float) -> dict[str, Any]:
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
                "or --out (out=) another directory; --force (force=True) if both draw the same "
                "weights",
            )
    return {**recorded, **mine}


def checked_plan(plan: SweepPlan, force: bool, retry_failed: bool) -> dict[str, str]:
    """Refuse, without ``force``, what the run would refuse of ``plan`` (the run and
    ``--dry-run`` alike): an init name that stands for another function than its kept cells'
    (first: the ``--force`` that the other grid's line offers accepts that too, which the user
    would never be told), then new cells beside kept cells that another vanishlab measured
    (:func:`~.measured_by.check_same_code`, before the grid for the same reason), then a
    different grid. Returns the manifest's ``inits``."""
    inits = init_definitions(plan, force, retry_failed)
    check_same_code(plan, force, retry_failed)
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


def sweep_manifest(
    exp: Experiment,
    out: str | os.PathLike[str],
    run_dir: Path,
    plan: SweepPlan,
    name: str | None,
    force: bool,
    scheduler: str | None,
    retry_failed: bool = False,
) -> tuple[dict[str, Any], set[str], str | None]:
    """The manifest this run writes (the directory's own, extended by this grid and command
    when they bring new cells; refused, without ``force``, for a different grid), the ids
    of every cell of its grids, and when the directory's run had finished (None: not yet, or
    a new run), which a run that finds nothing to do keeps."""
    manifest = resumed = resumed_manifest(plan, run_dir)
    grids: list[dict[str, list[Any]]] = run_grids(manifest) if manifest else []
    inits = checked_plan(plan, force, retry_failed)
    label = run_name(exp, run_dir, manifest, name)
    # One grid and one command per invocation that brought new cells: run in order, the
    # commands rebuild the directory; a resume or a subset adds neither.
    # (``commands`` null, which a manifest may say, reads as a missing one, as in the report)
    commands = [c for c in (manifest.get("commands") or [manifest.get("command")]) if c]
    # Renamed on a resume (now, or by a version that kept the first name): the commands too.
    commands = [with_name(c, label) for c in commands]
    this_grid = json_axes(exp.sweep)
    if not grids or (plan.new_cells and this_grid not in grids):
        grids.append(this_grid)
        # Extended from another path (the folder moved): replayed, commands naming the old
        # folder and the new one split the run in two, so every one names this invocation's.
        commands = [with_out(c, out) for c in commands]
        commands.append(reproducing_command(exp, out, label, force=bool(commands)))
    all_ids = grids_ids(grids)
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
        # the last invocation's that measures cells: one that measures none (a resume of a
        # finished run) leaves those that measured them, which a later resume compares
        "versions": (
            package_versions(dask=scheduler is not None)
            if plan.pending(retry_failed) or not isinstance(resumed.get("versions"), dict)
            else resumed["versions"]
        ),
        "started": manifest.get("started") or utc_now(),
        "finished": None,
        "elapsed_s": manifest.get("elapsed_s"),
        "n_cells": len(all_ids),
        "grids": grids,
        "commands": commands,
    }
    earlier = earlier_versions(resumed, plan, retry_failed)
    if earlier:  # other vanishlab code measured some of its cells
        manifest[EARLIER_VERSIONS] = earlier
    finished = resumed.get("finished")
    return manifest, all_ids, finished if isinstance(finished, str) else None
