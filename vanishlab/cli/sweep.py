"""``vanishlab sweep``, ``vanishlab inits`` and ``vanishlab experiments``.

``sweep`` parses axis flags (comma-separated lists; a flag given twice adds its values), resolves
the experiment (none: the quick default grid), names the run after its own grid
(:func:`vanishlab.sweep.experiments.variant`) and calls :func:`vanishlab.sweep.runner.run_sweep`;
``--dry-run`` prints the resolved grid, its memory and its time through
:func:`vanishlab.sweep.plan.plan_sweep` and runs nothing.

Its axis flags are not written here: :func:`sweep_command` derives one option per entry of
:data:`vanishlab.sweep.config.AXIS_TABLE` (flag, help, metavar ``LIST``) and puts them in the
command's signature, which typer reads; ``--seeds N`` comes just before ``--seed``. The axis
table imports no torch, so ``vanishlab --help`` stays fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import CellTooLargeError, VanishlabError
from ..sweep.axes import MODEL_AXIS, NOT_APPLICABLE
from ..sweep.axis_entry import Axis
from ..sweep.config import AXIS_TABLE, parse_axis
from ..sweep.experiments import (
    DEFAULT_EXPERIMENT,
    Experiment,
    builtin_experiments_dir,
    experiment_dirs,
    list_experiments,
    load_experiment,
    unsearched,
    variant,
)
from ..sweep.flag_text import parse_number
from ..sweep.grid_text import applies_to_no_model, models_not_applying
from ..sweep.progress import plural
from ..sweep.section_names import ANOMALIES
from ..sweep.training_flags import untrained_note
from ._app import app, note, say, stdout_refused, stop_leaves, user_errors
from .params import Quiet, merged, path_option, single

if TYPE_CHECKING:
    from ..sweep.config import CellConfig
    from ..sweep.plan import SweepPlan

__all__ = ["axis_overrides", "experiments", "inits", "sweep", "sweep_command"]

SEEDS_BEFORE = "seed"
"""The axis whose flag ``--seeds N`` (seeds 0..N-1) is listed before, and replaces."""
DRY_RUN_ADVICE = " (--dry-run checks them without running anything)"
"""What the command adds to a refusal of a cell too large for memory: ``vl.run_sweep``, which
refuses it in the same words, has no ``--dry-run``, and a dry run is not pointed to itself."""


def _axis_parameter(a: Axis) -> inspect.Parameter:
    option = typer.Option(a.flag, help=a.help, metavar="LIST", show_default=False)
    return inspect.Parameter(
        a.name,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        default=None,
        annotation=Annotated[list[str] | None, option],
    )


_SEEDS = inspect.Parameter(
    "seeds",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=None,
    annotation=Annotated[
        list[str] | None,
        typer.Option(help="Use seeds 0..N-1.", metavar="N", show_default=False),
    ],
)


def _positive(flag: str, text: str | None) -> int | None:
    if text is None:
        return None
    value = int(parse_number(flag, text, int))  # ASCII digits: int() took "1_0" as 10
    if value < 1:
        raise VanishlabError(f"{flag}: must be at least 1, got {value}")
    return value


def axis_overrides(
    table: Sequence[Axis],
    parse: Callable[[str, str], tuple[Any, ...]],
    flags: Mapping[str, list[str] | None],
    seeds: list[str] | None,
) -> dict[str, Sequence[Any]]:
    """``{axis: values}`` of the axis flags given (``flags``: typer's lists, one per axis of
    ``table``), each parsed by ``parse``; ``--seeds N`` gives ``seed = 0..N-1``."""
    n_seeds = _positive("--seeds", single("--seeds", seeds))
    if n_seeds is not None and flags.get(SEEDS_BEFORE) is not None:
        raise VanishlabError("give either --seeds N or --seed LIST, not both")
    # A flag given twice adds its values: --activation tanh --activation relu = tanh,relu.
    overrides = {
        a.name: parse(a.name, text)
        for a, text in ((a, merged(flags.get(a.name))) for a in table)
        if text is not None
    }
    if n_seeds is not None:
        # A range, not a tuple: the axis check refuses a huge one before building its values.
        overrides[SEEDS_BEFORE] = range(n_seeds)
    return overrides


def sweep_command(
    table: Sequence[Axis] = AXIS_TABLE,
    parse: Callable[[str, str], tuple[Any, ...]] = parse_axis,
) -> Callable[..., None]:
    """The ``sweep`` command with one option per axis of ``table`` (parsed by ``parse``).

    The command's own options are the parameters of :func:`_sweep` after the first (which
    receives the parsing of the axis flags); the axis options go after ``EXPERIMENT`` in the
    signature typer reads.
    """

    @user_errors
    def command(**kwargs: Any) -> None:
        axis_flags = {a.name: kwargs.pop(a.name) for a in table}
        seeds = kwargs.pop("seeds")
        _sweep(lambda: axis_overrides(table, parse, axis_flags, seeds), **kwargs)

    own = list(inspect.signature(_sweep, eval_str=True).parameters.values())[1:]
    axes: list[inspect.Parameter] = []
    for a in table:
        if a.name == SEEDS_BEFORE:
            axes.append(_SEEDS)
        axes.append(_axis_parameter(a))
    if SEEDS_BEFORE not in (a.name for a in table):
        axes.append(_SEEDS)
    params = [own[0], *axes, *own[1:]]  # EXPERIMENT, the axes, then the run's options
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = _sweep.__doc__
    return command


def _sweep(
    parse_overrides: Callable[[], dict[str, Sequence[Any]]],
    experiment: Annotated[
        str | None,
        typer.Argument(
            help="Experiment name (a module in ./experiments, or a built-in one: "
            "`vanishlab experiments` lists them and where) or path to a module; "
            "none: the quick default grid.",
            metavar="EXPERIMENT",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        list[str] | None,
        typer.Option(
            help="Run directory \\[default: runs/ and the experiment's name, plus -smoke and "
            "the axes given as flags, e.g. runs/default-gain=2.0; --name does not change it].",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            help="The run's name, kept in the manifest and used for its report "
            "\\[default: the name it has when resumed, else the name of --out, else the "
            "experiment's, plus -smoke and the axes given as flags; --name '' is the default too].",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        list[str] | None,
        typer.Option(
            help="Local worker processes \\[default: all cores; fewer where memory is short].",
            metavar="N",
            show_default=False,
        ),
    ] = None,
    scheduler: Annotated[
        list[str] | None,
        typer.Option(
            help="Dask scheduler address, e.g. tcp://host:8786 (needs vanishlab\\[dask]).",
            metavar="ADDRESS",
            show_default=False,
        ),
    ] = None,
    smoke: Annotated[
        bool, typer.Option("--smoke", help="Run the experiment's seconds-long SMOKE variant.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the grid, its size, memory and time; run nothing."),
    ] = False,
    quiet: Quiet = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Add this grid's cells to a run directory holding another."),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Measure again the cells recorded as failed."),
    ] = False,
) -> None:
    """Measure a grid of nn.RNN, LSTM and GRU settings into a parquet run directory (resumable).

    Axis flags take comma-separated lists; an axis flag given twice adds its values. An axis
    not given keeps the experiment's values (its SMOKE variant's with --smoke; with no
    EXPERIMENT, the quick default grid's); --dry-run prints every axis of the grid.

    Exit status: 0 when every cell is measured or failed by overflow (a result: the network's
    weights, inputs or forward pass reached inf or NaN); 1 when a cell failed with an error
    (listed on stderr; rerun with --retry-failed), even where stdout could not take the
    summary; 2 for a mistake in the command or a refusal of the file system; 141 when the
    reader of its output went away (`| head`); 130, 143 or 129 (ended by the signal, after
    one line) for Ctrl-C, SIGTERM or SIGHUP, which keep the finished cells.
    """
    n_workers = _positive("--workers", single("--workers", workers))
    out_dir = path_option("--out", out)
    label = single("--name", name)
    address = single("--scheduler", scheduler)
    # A stop while the experiment module runs (seconds, where it imports torch) says what is
    # left too: it said "finished work is kept; run the same command to resume" of a dry run,
    # and of a run whose folder is not yet named.
    stop_leaves(lambda: _left_before_the_grid(out_dir, dry_run=dry_run))
    # The experiment first: a module may register inits that its axis flags then name.
    base = load_experiment(experiment) if experiment is not None else DEFAULT_EXPERIMENT
    overrides = parse_overrides()  # after the run's options: their errors come first
    # Named and described after its own grid: a smoke or flags-built grid is not the study.
    exp = variant(base, smoke=smoke, overrides=overrides, out=out_dir)
    run_dir = out_dir if out_dir is not None else Path("runs") / exp.name
    # A stop from here on says what the folder keeps; a dry run's, that it wrote nothing: it
    # was told "N finished cells kept in RUN; run the same command to resume" (a dry run
    # resumes nothing), or "nothing was written (RUN does not exist)" of a folder it never made.
    stop_leaves((lambda: DRY_RUN_LEFT) if dry_run else (lambda: _kept(run_dir)))
    # --lr 0, no training: said once the command is taken (after a dry run's plan, after a
    # run with its warnings), so that a refusal stays the one line on stderr
    before = variant(base, smoke=smoke).sweep  # the grid the flags changed
    flags_note = untrained_note(before.axes(), exp.sweep.axes(), overrides)

    if dry_run:
        from ..sweep.preflight import check_options

        check_options(label, n_workers, address)  # as the run refuses them, before its plan
        if address is not None:  # Dask and the address's form, as the run checks them
            from ..sweep.dask_cluster import dask_module, scheduler_location

            dask_module()
            scheduler_location(address)
        _print_plan(
            exp,
            run_dir,
            label,
            n_workers,
            local=address is None,
            force=force,
            retry_failed=retry_failed,
        )
        if flags_note is not None:
            note(flags_note)
        return

    from ..sweep.runner import run_sweep  # torch: not for a dry run's plan

    try:
        summary = run_sweep(
            exp,
            run_dir,
            name=label,
            workers=n_workers,
            scheduler=address,
            force=force,
            retry_failed=retry_failed,
            progress=not quiet,
        )
    except CellTooLargeError as err:  # the advice of a command: vl.run_sweep has no --dry-run
        raise CellTooLargeError(f"{err}{DRY_RUN_ADVICE}") from None
    # stderr's lines first: a stdout that cannot take the summary (| head -c 0, > /dev/full)
    # lost the failure lines, and status 1 with them (141 or 2 instead)
    notes = [flags_note] if flags_note is not None else []
    for line in [*notes, *summary.warning_lines(), *summary.failure_lines()]:
        note(line)
    # -q: the run directory alone, as report and analyze print only the path they wrote
    text = str(run_dir) if quiet else str(summary)
    try:
        say(text, done=summary.finished_line())
    except (BrokenPipeError, VanishlabError) as err:
        if not summary.n_errors:
            raise  # 141 or 2, as for any command
        stdout_refused(err)  # said as ever; the status stays 1, that cells failed
    if summary.n_errors:
        raise typer.Exit(1)


#: What a stopped dry run leaves: nothing, and nothing to resume.
DRY_RUN_LEFT = "a dry run writes nothing"


def _left_before_the_grid(out_dir: Path | None, *, dry_run: bool) -> str:
    """What a sweep stopped before its grid is known left: nothing of its own; ``--out``'s
    folder as it was."""
    if dry_run:
        return DRY_RUN_LEFT
    return "nothing was written" if out_dir is None else _kept(out_dir)


def _kept(run_dir: Path) -> str:
    """What a stopped sweep left in ``run_dir`` (pandas: looked up when a stop comes)."""
    from ..sweep.run_summary import kept_line

    return kept_line(run_dir)


def _print_plan(
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
    status = _directory_status(plan, force=force, retry_failed=retry_failed)
    say(f"{plural(len(plan.cells), 'cell')} -> {run_dir} ({status})")
    say(
        f"memory: the largest cell needs about {format_bytes(plan.peak_bytes)} "
        f"({format_bytes(plan.available_bytes)} available)"
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
            n = worker_count(workers, pending, free, local=True)
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


def _directory_status(plan: SweepPlan, *, force: bool, retry_failed: bool) -> str:
    """What ``--dry-run`` says of the run directory: new, started afresh, or the cells it has
    done (and failed, and what the run does with them); the cells ``force`` adds; the damaged
    shards it moves aside; the shards of cells in none of its grids."""
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
    if plan.corrupt:
        status += f"; {len(plan.corrupt)} damaged shard(s) to move aside and measure again"
    if plan.outside:
        status += (
            f"; {plural(len(plan.outside), 'shard')} of a cell in none of its grids, "
            f"kept and listed by the report under {ANOMALIES.title}"
        )
    return status


sweep = app.command(name="sweep")(sweep_command())


@app.command()
@user_errors(stopped="")  # a listing: nothing to keep or resume
def inits() -> None:
    """List the weight initialisations (the values of --init), one line each: the --model
    values each applies to, whether the mean field's assumptions hold for it, and what --gain
    multiplies."""
    from ..sweep.inits import INITS  # the registry, without torch

    rows = [("init", "models", "mean field", "description")]
    rows += [(n, ",".join(i.models), i.validity, i.description) for n, i in INITS.items()]
    widths = [max(len(row[c]) for row in rows) for c in range(3)]
    for row in rows:
        say("  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)), row[3]]))
    say(
        "\nmean field: iid (its assumptions hold; exact as H grows), approximate, or none "
        "(no prediction); for nn.RNN cells (LSTM and GRU cells have none)."
    )
    by_rule: dict[str, list[str]] = {}
    for name, init in INITS.items():
        by_rule.setdefault(init.gain_on or "not stated", []).append(name)
    for rule, names in by_rule.items():
        say(f"--gain multiplies, for {', '.join(names)}: {rule}.")


@app.command()
@user_errors(stopped="")  # a listing: nothing to keep or resume
def experiments() -> None:
    """List the experiment modules found by name, with their one-line descriptions, and the
    folders searched for them, in order: ./experiments, then the built-in ones (the
    repository's experiments/, installed as vanishlab/experiments/)."""
    found = list_experiments()
    builtin = builtin_experiments_dir().resolve()
    dirs = ", ".join(
        f"{d} ({'built in' if d.resolve() == builtin else 'working directory'})"
        for d in experiment_dirs()
    )
    dirs = "; ".join(filter(None, (dirs, unsearched())))
    if not found:
        say(f"no experiment modules (searched: {dirs or 'none found'})")
        return
    width = max(len(n) for n, _, _ in found)
    for exp_name, description, _ in found:
        say(f"{exp_name:<{width}}  {description}")
    say(f"\nsearched in this order (the first module of a name is the one run): {dirs}")
