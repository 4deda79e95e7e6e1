"""``vanishlab analyze CHECKPOINT``: measure a saved recurrent module into a run directory."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import VanishlabError
from ..sweep.config import GAUSSIAN_INPUTS, axis
from ..sweep.files import path_name
from ..sweep.flag_text import parse_number
from ._app import app, finished, note, say, stop_leaves, user_errors
from .params import Quiet, path_argument, path_option, single

#: What a stop or a refused write leaves where no shard is saved (the measurement ran, or not).
NOT_SAVED = "no measurement saved; run the same command to measure it"


def _left(run_dir: Path) -> str:
    """What a stopped or refused analysis left in ``run_dir``, looked at when the stop comes:
    :data:`NOT_SAVED`, or where its shard is saved (the disk refused the manifest's end, written
    after it), that the same command finishes without measuring again: "no measurement saved;
    run the same command to measure it" was said there too, of a measurement it would not
    repeat. Raises what the look raises (the stop's line then says :data:`NOT_SAVED`)."""
    from ..sweep.shard import shard_paths  # pyarrow: looked up when a stop comes

    if next(shard_paths(run_dir), None) is None:
        return NOT_SAVED
    return (
        f"the measurement is saved in {run_dir}; run the same command to finish without "
        "measuring again"
    )


# Every option but the flags --batch-first and --no-batch-first is a list, so that one given
# twice is refused (``single``), as sweep and report refuse theirs, instead of the last silently
# winning. The two flags are two options, not typer's pair --batch-first/--no-batch-first,
# which keeps the last one given: both together are refused (:func:`_layout`).
@app.command()
# One measurement, written at its end: a stop leaves nothing half-made to keep or resume. A
# refused write comes after the measurement: "nothing measured" was said there too.
@user_errors(stopped=NOT_SAVED)
def analyze(
    checkpoint_arg: Annotated[
        str,
        typer.Argument(
            help="A torch.save file: the state_dict of an nn.RNN/LSTM/GRU or of a model that "
            "holds one, or a dict holding it (under 'state_dict', 'model' or any key). Loaded with "
            "weights_only=True: a file that needs code to load is refused, nothing in it runs. "
            "A safetensors file of a state_dict is read too.",
            metavar="CHECKPOINT",
            show_default=False,
        ),
    ],
    out: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DIR",
            help="Run directory \\[default: runs/ and the checkpoint file's name without its "
            "suffix, e.g. runs/model for model.pt].",
            show_default=False,
        ),
    ] = None,
    module: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PREFIX",
            help="The recurrent module's key prefix (e.g. rnn, encoder.lstm); needed only "
            "when the file holds several.",
            show_default=False,
        ),
    ] = None,
    nonlinearity: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME",
            help=f"{' or '.join(axis('activation').choices)}, for an nn.RNN: it cannot be read "
            f"from the weights \\[default: {axis('activation').default}]. Not for LSTM/GRU.",
            show_default=False,
        ),
    ] = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            metavar="FILE",
            help="A torch.save file of one tensor (or a safetensors file of one), laid out as the "
            "module takes it: (T, B, I), "
            "or unbatched (T, I) \\[default: Gaussian inputs, see --seq-len].",
            show_default=False,
        ),
    ] = None,
    batch_first: Annotated[
        bool,
        typer.Option(
            "--batch-first",
            help="The --inputs tensor is (B, T, I), as a batch_first model takes it. The "
            "weights do not record batch_first: without this flag such a file is read as "
            "(T, B, I), and a note says so with the T and B read. A 2-D file is one unbatched "
            "(T, I) sequence, with this flag or without (with it, a note says so).",
        ),
    ] = False,
    no_batch_first: Annotated[
        bool,
        typer.Option(
            "--no-batch-first",
            help="The --inputs tensor is (T, B, I): the layout read without a flag, stated, "
            "with no note.",
        ),
    ] = False,
    seq_len: Annotated[
        list[str] | None,
        typer.Option(
            metavar="T",
            help=f"Gaussian inputs: sequence length T \\[default: {GAUSSIAN_INPUTS['seq_len']}].",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[
        list[str] | None,
        typer.Option(
            metavar="B",
            help=f"Gaussian inputs: sequences (samples) \\[default: {GAUSSIAN_INPUTS['batch']}].",
            show_default=False,
        ),
    ] = None,
    input_std: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STD",
            help="Gaussian inputs: standard deviation "
            f"\\[default: {GAUSSIAN_INPUTS['input_std']}].",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        list[str] | None,
        typer.Option(
            metavar="N",
            help=f"Gaussian inputs: seed of their draw \\[default: {GAUSSIAN_INPUTS['seed']}].",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TEXT",
            help="A label for a new run, which names its report \\[default: the name of the "
            "run directory]. A run that exists keeps its name (unlike sweep's --name).",
            show_default=False,
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Measure the recurrent module saved in CHECKPOINT: exact Jacobian norms at every lag.

    Infers the architecture (RNN, LSTM or GRU from the gate blocks in the weights, layers,
    sizes, bias) and writes a run directory that `vanishlab report` and vl.load_results read.
    """
    from ..sweep.store import load_manifest
    from ..trained import analyze_checkpoint
    from ..trained.analyze_run import notes_unwarned, unbatched_note

    checkpoint = path_argument("CHECKPOINT", checkpoint_arg)
    run_out = path_option("--out", out)
    module_name = single("--module", module)
    activation = single("--nonlinearity", nonlinearity)
    if activation is not None:  # RELU is relu, as sweep's --activation takes it
        activation = axis("activation").as_named(activation)
    inputs_text = single("--inputs", inputs, path="path")
    inputs_file = None if inputs_text is None else path_argument("--inputs", inputs_text)
    label = single("--name", name)
    layout_given = _layout(batch_first, no_batch_first, inputs_file)
    given = {
        key: _number("--" + key.replace("_", "-"), values, kind)
        for key, values, kind in (
            ("seq_len", seq_len, int),
            ("batch", batch, int),
            ("input_std", input_std, float),
            ("seed", seed, int),
        )
    }
    gauss = {key: GAUSSIAN_INPUTS[key] if v is None else v for key, v in given.items()}
    run_dir = run_out if run_out is not None else Path("runs") / checkpoint.stem
    # Named after its directory, as a sweep is: two analyses of one checkpoint (other inputs,
    # another --module) no longer share one report file (reports/model.pt.html).
    given_name = bool(label)  # an empty --name is no name, as sweep's
    label = label if label else path_name(run_dir)
    stop_leaves(lambda: _left(run_dir))  # a stop from here on says what the folder keeps
    # The library warns that a finished analysis keeps its name, and of a checkpoint's other
    # entries; the notes below say them in the command line's words (a kept name only when
    # --name was given).
    with notes_unwarned():
        result = analyze_checkpoint(
            checkpoint,
            run_dir,
            module=module_name,
            nonlinearity=activation,
            inputs=inputs_file,
            batch_first=batch_first,
            **given,  # None where not given: analyze_checkpoint refuses them beside --inputs
            name=label,
            # Every setting named, the nonlinearity too (tanh unless given) for an nn.RNN,
            # which only the checkpoint says: it was left out where not typed, where a sweep's
            # recorded command names every axis.
            command=lambda measured: _command(
                checkpoint,
                run_dir,
                module_name,
                measured,
                inputs_file,
                batch_first if layout_given else None,
                gauss["seq_len"],
                gauss["batch"],
                gauss["input_std"],
                gauss["seed"],
                label,
            ),
            progress=not quiet,
        )
    # where it is kept, as a sweep's "the sweep has finished: 48 cells kept in s3": a stdout
    # that refused the summary (> /dev/full) left "the analysis has finished" naming no folder
    done = f"the analysis has finished: its measurement is kept in {run_dir}"
    finished(done)
    say(str(run_dir) if quiet else str(result), done=done)
    if result.moved_aside:  # as a sweep says it (the report's error said it would)
        from ..sweep.run_summary import moved_line  # here: --help imports no pandas

        for path in result.moved_aside:
            note(moved_line(path))
    if (others := result.checkpoint.others_note()) is not None:  # the library's UserWarning
        note(f"note: {others}")
    manifest = load_manifest(run_dir)
    shape = _inputs_shape(manifest)
    if not layout_given and len(shape) == 3:  # the weights do not say which the file is
        note(
            f"note: {inputs_file} was read as (T, B, I), T={shape[0]}, B={shape[1]}; "
            "a batch_first model's (B, T, I) file needs --batch-first "
            "(--no-batch-first: (T, B, I), without this note)"
        )
    if batch_first and len(shape) == 2:  # torch reads a 2-D tensor as (T, I), batch_first or not
        note(f"note: {unbatched_note(inputs_file, shape[0], '--batch-first')}")
    kept = manifest.get("name") if not result.measured else label
    if given_name and kept != label:
        note(f"note: {run_dir} keeps its name {kept!r} (--name names a new run)")


def _inputs_shape(manifest: dict[str, Any]) -> list[Any]:
    """The inputs file's shape as the analysis recorded it; [] for Gaussian inputs, or a record
    that is not the one an analysis writes (a hand-edited manifest, which the report reads:
    ``.get`` on its "model": "x" ended a finished analysis in an AttributeError traceback)."""
    model = manifest.get("model")
    inputs = model.get("inputs") if isinstance(model, dict) else None
    shape = inputs.get("shape") if isinstance(inputs, dict) else None
    return shape if isinstance(shape, list) else []


def _layout(batch_first: bool, no_batch_first: bool, inputs: Path | None) -> bool:
    """Whether --batch-first or --no-batch-first stated the inputs file's layout (then no note
    guesses it). The two together contradict each other and are refused, as is
    --no-batch-first without --inputs, the file whose layout it states (the library refuses
    batch_first without one)."""
    if batch_first and no_batch_first:
        raise VanishlabError(
            "--batch-first and --no-batch-first contradict each other; give one of them"
        )
    if no_batch_first and inputs is None:
        raise VanishlabError(
            "--no-batch-first describes the layout of an --inputs file; give one, or drop it"
        )
    return batch_first or no_batch_first


def _number(flag: str, values: list[str] | None, kind: type[int] | type[float]) -> Any:
    """The one number an option gives (:func:`single`), in ASCII digits as sweep's flags take
    them (typer's int and float took "1_0" as 10, and "10.0" as the integer 10)."""
    text = single(flag, values)
    return None if text is None else parse_number(flag, text, kind)


def _command(
    checkpoint: Path,
    out: Path,
    module: str | None,
    nonlinearity: str | None,
    inputs: Path | None,
    batch_first: bool | None,
    seq_len: int,
    batch: int,
    input_std: float,
    seed: int,
    name: str | None,
) -> str:
    """The command line that redoes this analysis (kept in the manifest); ``batch_first``:
    the layout flag given, None for neither."""
    parts = ["vanishlab", "analyze", str(checkpoint), "--out", str(out)]
    for flag, value in (("--module", module), ("--nonlinearity", nonlinearity), ("--name", name)):
        if value is not None:
            parts += [flag, value]
    if inputs is not None:
        layout = {True: ["--batch-first"], False: ["--no-batch-first"], None: []}[batch_first]
        parts += ["--inputs", str(inputs), *layout]
    else:
        parts += ["--seq-len", str(seq_len), "--batch", str(batch)]
        parts += ["--input-std", repr(input_std), "--seed", str(seed)]
    return shlex.join(parts)
