"""``vanishlab analyze CHECKPOINT``: measure a saved recurrent module into a run directory."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from ._app import app, user_errors


@app.command()
@user_errors
def analyze(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            help="A torch.save file: the state_dict of an nn.RNN/LSTM/GRU or of a model that "
            "holds one, or a dict holding it (under 'state_dict', 'model' or any key). Loaded with "
            "weights_only=True: a file that needs code to load is refused, nothing in it runs.",
            metavar="CHECKPOINT",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory \\[default: runs/<checkpoint name>].", show_default=False),
    ] = None,
    module: Annotated[
        str | None,
        typer.Option(
            help="The recurrent module's key prefix (e.g. rnn, encoder.lstm); needed only "
            "when the file holds several.",
            show_default=False,
        ),
    ] = None,
    nonlinearity: Annotated[
        str | None,
        typer.Option(
            help="tanh or relu, for an nn.RNN: it cannot be read from the weights \\[default: "
            "tanh]. Not for LSTM/GRU.",
            show_default=False,
        ),
    ] = None,
    inputs: Annotated[
        Path | None,
        typer.Option(
            help="A torch.save file of one tensor, laid out as the module takes it: (T, B, I), "
            "or unbatched (T, I) \\[default: Gaussian inputs, see --seq-len].",
            show_default=False,
        ),
    ] = None,
    batch_first: Annotated[
        bool, typer.Option("--batch-first", help="The --inputs tensor is (B, T, I).")
    ] = False,
    seq_len: Annotated[int, typer.Option(help="Gaussian inputs: sequence length T.")] = 100,
    batch: Annotated[int, typer.Option(help="Gaussian inputs: sequences (samples).")] = 8,
    input_std: Annotated[float, typer.Option(help="Gaussian inputs: standard deviation.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Gaussian inputs: seed of their draw.")] = 0,
    name: Annotated[
        str | None,
        typer.Option(
            help="A label for the run \\[default: the checkpoint's file name].", show_default=False
        ),
    ] = None,
) -> None:
    """Measure the recurrent module saved in CHECKPOINT: exact Jacobian norms at every lag.

    Infers the architecture (RNN, LSTM or GRU from the gate blocks in the weights, layers,
    sizes, bias) and writes a run directory that `vanishlab report` and vl.load_results read.
    """
    from ..trained import analyze_checkpoint

    run_dir = out if out is not None else Path("runs") / checkpoint.stem
    result = analyze_checkpoint(
        checkpoint,
        run_dir,
        module=module,
        nonlinearity=nonlinearity,
        inputs=inputs,
        batch_first=batch_first,
        seq_len=seq_len,
        batch=batch,
        input_std=input_std,
        seed=seed,
        name=name,
        command=_command(
            checkpoint,
            run_dir,
            module,
            nonlinearity,
            inputs,
            batch_first,
            seq_len,
            batch,
            input_std,
            seed,
            name,
        ),
    )
    typer.echo(str(result))


def _command(
    checkpoint: Path,
    out: Path,
    module: str | None,
    nonlinearity: str | None,
    inputs: Path | None,
    batch_first: bool,
    seq_len: int,
    batch: int,
    input_std: float,
    seed: int,
    name: str | None,
) -> str:
    """The command line that redoes this analysis (kept in the manifest)."""
    parts = ["vanishlab", "analyze", str(checkpoint), "--out", str(out)]
    for flag, value in (("--module", module), ("--nonlinearity", nonlinearity), ("--name", name)):
        if value is not None:
            parts += [flag, value]
    if inputs is not None:
        parts += ["--inputs", str(inputs)] + (["--batch-first"] if batch_first else [])
    else:
        parts += ["--seq-len", str(seq_len), "--batch", str(batch)]
        parts += ["--input-std", repr(input_std), "--seed", str(seed)]
    return shlex.join(parts)
