"""``vanishlab sweep``; and where ``vanishlab inits`` and ``vanishlab experiments``
(:mod:`.listings`) are registered, after it.

``sweep`` parses axis flags (comma-separated lists; a flag given twice adds its values), resolves
the experiment (none: the quick default grid), names the run after its own grid
(:func:`vanishlab.sweep.experiments.variant`) and calls :func:`vanishlab.sweep.runner.run_sweep`;
``--dry-run`` prints the resolved grid, its memory and its time through
:func:`vanishlab.sweep.plan.plan_sweep` (:mod:`.dry_run`) and runs nothing.

Its axis flags are not written here: :func:`make_sweep_command` puts one option per entry of
:data:`vanishlab.sweep.config.AXIS_TABLE` (:mod:`.sweep_flags`: flag, help, metavar ``LIST``)
in the command's signature, which typer reads; ``--seeds N`` comes just before ``--seed``. The
axis table imports no torch, so ``vanishlab --help`` stays fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import CellTooLargeError, VanishlabError
from ..sweep.axis_entry import Axis
from ..sweep.config import AXIS_TABLE, parse_axis
from ..sweep.experiments import DEFAULT_EXPERIMENT, load_experiment, variant
from ..sweep.files import fs_name
from ..sweep.training_flags import untrained_note
from ._app import app, note, say, stdout_refused, stop_leaves, user_errors
from .dry_run import print_plan
from .listings import experiments, inits
from .params import Quiet, path_option, single
from .sweep_flags import axis_overrides, axis_parameters, axis_texts, positive

__all__ = ["axis_overrides", "experiments", "inits", "make_sweep_command", "sweep"]

DRY_RUN_ADVICE = " (--dry-run checks them without running anything)"
"""What the command adds to a refusal of a cell too large for memory: ``vl.run_sweep``, which
refuses it in the same words, has no ``--dry-run``, and a dry run is not pointed to itself."""


def make_sweep_command(
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
        # their values' shapes before anything (load_experiment included) reads the others
        texts = axis_texts(table, {a.name: kwargs.pop(a.name) for a in table})
        seeds = single("--seeds", kwargs.pop("seeds"))
        _sweep(lambda: axis_overrides(table, parse, texts, seeds), **kwargs)

    own = list(inspect.signature(_sweep, eval_str=True).parameters.values())[1:]
    axes = axis_parameters(table)
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
            "none, or default: the quick default grid. A module is Python code, run as a "
            "script is (here and in each worker): sweep only one you trust, and mind that a "
            "name is looked for in ./experiments first.",
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
        typer.Option(
            "--force",
            help="Add this grid's cells to a run directory holding another; also keep cells "
            "beside an init name's other definition, or beside cells of a vanishlab that "
            "recorded no code digest (before 2026-12-06).",
        ),
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
    n_workers = positive("--workers", single("--workers", workers))
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
    run_dir = out_dir if out_dir is not None else Path("runs") / fs_name(exp.name)
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
        print_plan(
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


sweep = app.command(name="sweep")(make_sweep_command())

# The listings, registered after sweep: ``vanishlab --help`` lists them in this order.
app.command()(inits)
app.command()(experiments)
