"""``vanishlab sweep --dry-run``'s words: the resolved grid, its size, what the run directory
holds, the memory and the time of its cells, printed through
:func:`vanishlab.sweep.plan.plan_sweep`; refused, after its plan, as the run would be. It runs
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CellTooLargeError, VanishlabError
from ..sweep.axes import MODEL_AXIS, NOT_APPLICABLE
from ..sweep.grid_text import applies_to_no_model, models_not_applying
from ..sweep.progress import plural
from ..sweep.section_names import ANOMALIES
from ._app import say

if TYPE_CHECKING:
    from ..sweep.config import CellConfig
    from ..sweep.experiments import Experiment
    from ..sweep.plan import SweepPlan

__all__ = ["directory_status", "print_plan"]


def print_plan(
    exp: Experiment,
    run_dir: Path,
    label: str | None,
    workers: int | None,
    *,
    local: bool,
    force: bool,
    retry_failed: bool,
) -> None:
    """``--dry-run``: the grid, its size, what the run directory already holds (and the cells
    that ``force`` adds to it), memory (refused, as the run would be, when a cell cannot fit
    here: ``local``, no scheduler) and time (:func:`_time_line`)."""
    from ..core.allocation import available_words
    from ..sweep.memory import format_bytes
    from ..sweep.plan import plan_sweep
    from ..sweep.preflight import check_memory, check_time
    from ..sweep.run_manifest import checked_plan, resumed_manifest, run_name

    plan = plan_sweep(exp, run_dir, dry_run=True)
    # The name the run keeps: a resumed run's own without --name, as the run does.
    title = run_name(exp, run_dir, resumed_manifest(plan, run_dir), label)
    say(f"{title}: {exp.description}" if exp.description else title)
    axes = exp.sweep.axes()
    for axis, values in axes.items():
        shown = ", ".join(str(v) for v in values)
        if applies_to_no_model(axes, axis):
            shown = NOT_APPLICABLE
        elif len(values) > 1 and (others := models_not_applying(axes, axis)):
            # The cell count is not the product of the lengths listed: say why.
            models = [m for m in axes[MODEL_AXIS] if m not in others]
            shown += (
                f" ({', '.join(models)} only; {', '.join(others)}: {NOT_APPLICABLE}, "
                "one cell per setting)"
            )
        say(f"  {axis:<12} {shown}")
    status = directory_status(plan, force=force, retry_failed=retry_failed)
    say(f"{plural(len(plan.cells), 'cell')} -> {run_dir} ({status})")
    say(
        f"memory: the largest cell needs about {format_bytes(plan.peak_bytes)} "
        f"({available_words(plan.available_bytes)})"
    )
    say(_time_line(plan.pending(retry_failed), plan.available_bytes, workers, local=local))
    # The run would be refused: so is its dry run (status 2, the same line, less the advice to
    # run a dry run, DRY_RUN_ADVICE), after its plan.
    if plan.unwritable:
        raise VanishlabError(plan.unwritable)
    if local:
        check_memory(plan.cells, plan.available_bytes, 1)
    check_time(plan.cells)
    checked_plan(plan, force, retry_failed)  # another init definition, another grid


def _time_line(
    pending: list[CellConfig], free: int | None, workers: int | None, *, local: bool
) -> str:
    """``--dry-run``'s time: the ``pending`` cells' estimate (:func:`~vanishlab.sweep.cost.
    sweep_cost`) on one CPU thread and in the workers the run would start here (``local``; a
    Dask cluster's are not known), and the longest cell's."""
    from ..core.allocation import shared_bytes
    from ..report.format import LONGEST_S, duration
    from ..sweep.cost import cell_cost, start_cost, sweep_cost
    from ..sweep.preflight import worker_count

    def about(seconds: float) -> str:
        if seconds < 0.05:  # "about 0.0 s" read as no time at all
            return "under 0.1 s"
        return f"about {duration(seconds)}" if seconds <= LONGEST_S else "over ten years"

    if not pending:
        return "time: no cell to run"
    one = about(sweep_cost(pending, 1))
    where, start = f"{one} on one CPU thread", about(start_cost(1))
    if not local:  # the cluster's workers are running: the start here is the command's
        where += ", shared among the Dask cluster's workers"
    else:
        try:
            n = worker_count(workers, pending, free, local=True, shared=shared_bytes())
        except CellTooLargeError:  # the run is refused, and the dry run too, below
            n = 1
        if n > 1:
            where = f"{about(sweep_cost(pending, n))} in {n} workers ({one} on one CPU thread)"
            start = f"{about(start_cost(n))}; {start} on one thread"
    longest = about(max(map(cell_cost, pending)))
    # the sweep's start counted: a user asks how long the command takes (a one-cell sweep
    # was "under 0.1 s", and took 2.2 s of CPU in its imports, plan and manifest)
    return (
        f"time: {plural(len(pending), 'cell')} to run, {where}, with the sweep's start "
        f"({start}); the longest cell {longest}"
    )


def directory_status(plan: SweepPlan, *, force: bool, retry_failed: bool) -> str:
    """What ``--dry-run`` says of the run directory: new, started afresh, or the cells it has
    done (and failed, and what the run does with them); the cells ``force`` adds; the damaged
    shards it moves aside; the shards of cells in none of its grids."""
    from ..sweep.measured_by import EARLIER_VERSIONS, code_words, mixes_code

    if plan.reinit:
        status = "holds no finished cell: started afresh"
    elif plan.is_run_dir:
        status = f"{len(plan.done)} already done"
        from ..sweep.run_summary import failures  # (pandas: not at --help)

        kinds = failures(list(plan.done.values()))
        n_failed = sum(count for _, count, _ in kinds)
        if n_failed:
            if retry_failed:
                again = "to be measured again, as --retry-failed asks"
            elif all(kind == "overflow" for kind, _, _ in kinds):  # a result, not an error
                again = "by overflow, a result: --retry-failed would measure the same"
            else:
                again = "--retry-failed measures them again"
            status += f", {n_failed} of them failed ({again})"
    else:
        status = "new run directory"
    if plan.new_cells and plan.is_run_dir:
        needs = "added by --force" if force else "needs --force"
        status += f"; {plan.new_cells} not in its grid ({needs})"
    if mixes_code(plan, retry_failed):  # refused where it records no code (the run's line)
        status += (
            f"; its kept cells were measured by {code_words(plan.recorded_versions)} "
            f"(the run warns, and records it in the manifest's {EARLIER_VERSIONS})"
        )
    if plan.corrupt:
        status += f"; {len(plan.corrupt)} damaged shard(s) to move aside and measure again"
    if plan.outside:
        status += (
            f"; {plural(len(plan.outside), 'shard')} of a cell in none of its grids, "
            f"kept and listed by the report under {ANOMALIES.title}"
        )
    return status
