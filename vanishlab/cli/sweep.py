"""``vanishlab sweep``, ``vanishlab inits`` and ``vanishlab experiments``.

``sweep`` parses axis flags (comma-separated lists; a flag given twice adds its values), resolves
the experiment (none: the quick default grid), names the run after its own grid
(:func:`vanishlab.sweep.experiments.variant`) and calls :func:`vanishlab.sweep.runner.run_sweep`;
``--dry-run`` prints the resolved grid and its memory through
:func:`vanishlab.sweep.runner.plan_sweep` and runs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._app import app, merged, single, user_errors

_AXIS_HELP = {
    "model": "Models: rnn, lstm, gru.",
    "activation": "Activations: tanh, relu.",
    "num_layers": "Stacked layers, e.g. 1,2,4.",
    "hidden_size": "Hidden sizes H, e.g. 32,64.",
    "input_size": "Input sizes I.",
    "seq_len": "Sequence lengths T, e.g. 50,200.",
    "init": "Initialisations (see `vanishlab inits`), e.g. orthogonal,default.",
    "gain": "Gains of the init, e.g. 0.5,1,2.",
    "input_std": "Std of the Gaussian inputs (0 = zero input), e.g. 0,1.",
    "bias": "Biases on or off: true, false.",
    "batch": "Samples per cell.",
    "seed": "Explicit seeds, e.g. 0,5,7 (or use --seeds N).",
    "dtype": "float32, float64.",
}


def _axis(axis: str) -> Any:
    return typer.Option(
        "--" + axis.replace("_", "-"), help=_AXIS_HELP[axis], metavar="LIST", show_default=False
    )


def _positive(flag: str, text: str | None) -> int | None:
    from ..errors import VanishlabError

    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise VanishlabError(f"{flag}: {text!r} is not an integer") from None
    if value < 1:
        raise VanishlabError(f"{flag} must be a positive integer, got {value}")
    return value


@app.command()
@user_errors
def sweep(
    experiment: Annotated[
        str | None,
        typer.Argument(
            help="Experiment name (experiments/<name>.py) or path to a module; "
            "none: the quick default grid.",
            metavar="EXPERIMENT",
            show_default=False,
        ),
    ] = None,
    model: Annotated[list[str] | None, _axis("model")] = None,
    activation: Annotated[list[str] | None, _axis("activation")] = None,
    num_layers: Annotated[list[str] | None, _axis("num_layers")] = None,
    hidden_size: Annotated[list[str] | None, _axis("hidden_size")] = None,
    input_size: Annotated[list[str] | None, _axis("input_size")] = None,
    seq_len: Annotated[list[str] | None, _axis("seq_len")] = None,
    init: Annotated[list[str] | None, _axis("init")] = None,
    gain: Annotated[list[str] | None, _axis("gain")] = None,
    input_std: Annotated[list[str] | None, _axis("input_std")] = None,
    bias: Annotated[list[str] | None, _axis("bias")] = None,
    batch: Annotated[list[str] | None, _axis("batch")] = None,
    seeds: Annotated[
        list[str] | None,
        typer.Option(help="Use seeds 0..N-1.", metavar="N", show_default=False),
    ] = None,
    seed: Annotated[list[str] | None, _axis("seed")] = None,
    dtype: Annotated[list[str] | None, _axis("dtype")] = None,
    out: Annotated[
        list[Path] | None,
        typer.Option(
            help="Run directory \\[default: runs/<name>; see --name].",
            metavar="DIR",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            help="The run's name, kept in the manifest and used for its report "
            "\\[default: the name of --out, else the experiment's, plus -smoke and the axes "
            "given as flags].",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        list[str] | None,
        typer.Option(
            help="Local worker processes \\[default: all cores].", metavar="N", show_default=False
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
        typer.Option("--dry-run", help="Print the grid, its size and memory; run nothing."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress bar, no summary (failures still shown).")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Add this grid's cells to a run directory holding another."),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Measure again the cells recorded as failed."),
    ] = False,
) -> None:
    """Measure a grid of nn.RNN configurations into a parquet run directory (resumable).

    Axis flags take comma-separated lists; an axis flag given twice adds its values.

    Exit status: 0 when every cell is measured or failed by overflow (a result: the network's
    forward pass diverged); 1 when a cell failed with an error (listed; rerun with
    --retry-failed); 2 for a mistake in the command or a refusal of the file system.
    """
    from ..errors import VanishlabError
    from ..sweep.config import parse_axis
    from ..sweep.experiments import DEFAULT_EXPERIMENT, load_experiment, variant
    from ..sweep.memory import format_bytes
    from ..sweep.runner import plan_sweep, run_sweep

    n_workers = _positive("--workers", single("--workers", workers))
    n_seeds = _positive("--seeds", single("--seeds", seeds))
    out_dir = single("--out", out)
    label = single("--name", name)
    address = single("--scheduler", scheduler)
    if n_seeds is not None and seed is not None:
        raise VanishlabError("give either --seeds N or --seed LIST, not both")
    given = {
        "model": model,
        "activation": activation,
        "num_layers": num_layers,
        "hidden_size": hidden_size,
        "input_size": input_size,
        "seq_len": seq_len,
        "init": init,
        "gain": gain,
        "input_std": input_std,
        "bias": bias,
        "batch": batch,
        "seed": seed,
        "dtype": dtype,
    }
    # A flag given twice adds its values: --activation tanh --activation relu = tanh,relu.
    overrides: dict[str, Any] = {
        axis: parse_axis(axis, text)
        for axis, text in ((a, merged(v)) for a, v in given.items())
        if text is not None
    }
    if n_seeds is not None:
        overrides["seed"] = tuple(range(n_seeds))

    base = load_experiment(experiment) if experiment is not None else DEFAULT_EXPERIMENT
    # Named and described after its own grid: a smoke or flags-built grid is not the study.
    exp = variant(base, smoke=smoke, overrides=overrides, out=out_dir)
    run_dir = out_dir if out_dir is not None else Path("runs") / exp.name

    if dry_run:
        plan = plan_sweep(exp, run_dir)
        typer.echo(f"{label or exp.name}: {exp.description}" if exp.description else exp.name)
        for axis, values in exp.sweep.axes().items():
            typer.echo(f"  {axis:<12} {', '.join(str(v) for v in values)}")
        if plan.reinit:
            status = "holds no finished cell: started afresh"
        elif plan.is_run_dir:
            status = f"{len(plan.done)} already done"
            n_failed = sum(m["status"] == "failed" for m in plan.done.values())
            if n_failed:
                status += f", {n_failed} of them failed (--retry-failed measures them again)"
        else:
            status = "new run directory"
        if plan.new_cells and plan.is_run_dir:
            status += f"; {plan.new_cells} not in its grid (needs --force)"
        if plan.corrupt:
            status += f"; {len(plan.corrupt)} damaged shard(s) to move aside and measure again"
        typer.echo(f"{len(plan.cells)} cells -> {run_dir} ({status})")
        typer.echo(
            f"memory: the largest cell needs about {format_bytes(plan.peak_bytes)} "
            f"({format_bytes(plan.available_bytes)} available)"
        )
        return

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
    if not quiet:
        typer.echo(str(summary))
    for line in summary.failure_lines():
        typer.echo(line, err=True)
    if summary.n_errors:
        raise typer.Exit(1)


@app.command()
@user_errors
def inits() -> None:
    """List the weight initialisations (the values of --init), one line each."""
    from ..sweep.catalog import BUILTIN_INITS  # the built-in registry's table, without torch

    width = max(len(n) for n in BUILTIN_INITS)
    for init_name, description in BUILTIN_INITS.items():
        typer.echo(f"{init_name:<{width}}  {description}")


@app.command()
@user_errors
def experiments() -> None:
    """List the experiment modules found by name, with their one-line descriptions."""
    from ..sweep.experiments import experiment_dirs, list_experiments

    found = list_experiments()
    if not found:
        dirs = ", ".join(str(d) for d in experiment_dirs()) or "none found"
        typer.echo(f"no experiment modules (searched: {dirs})")
        return
    width = max(len(n) for n, _, _ in found)
    for exp_name, description, _ in found:
        typer.echo(f"{exp_name:<{width}}  {description}")
