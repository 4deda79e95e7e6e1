"""What a sweep sweeps: the axes, a grid (:class:`Sweep`) and one cell (:class:`CellConfig`).

A cell is one ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` configuration (the ``model`` axis) with one
seed. ``activation`` applies to ``rnn`` only: a gated cell records it as None and a grid lists
that cell once, whatever activations it names. A value no model of the grid (or the cell) takes,
other than the default, is refused rather than dropped: ``Sweep(model="lstm",
activation="relu")`` and ``CellConfig(model="lstm", activation="relu")`` alike. An init that
does not apply to the cell's model (:attr:`vanishlab.sweep.inits.Init.models`) is refused when
the cell or the grid is built.

Its id is the first 16 hex digits of the SHA-256 of its config as canonical JSON (sorted keys,
no spaces, floats as Python's shortest round-trip repr, -0.0 folded to 0.0), so the same cell
has the same id on every machine, in every run and in every process; the id is the name of its
shard in a run directory.

Every axis is one entry of :data:`AXIS_TABLE` (:class:`Axis`: name, type, default, help,
example, report label, parquet type, which models it applies to). :data:`AXES`,
:class:`CellConfig`, :class:`Sweep`, :func:`parse_axis` and the table below
are derived from it (a test checks this docstring against it). Adding an axis is one entry
there plus the code that gives it meaning (``docs/design.md``).

Axes and their defaults (one value each unless a sweep lists several):

============ ========== =====================================================================
axis         default    meaning
============ ========== =====================================================================
model        rnn        ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``: ``rnn``, ``lstm`` or ``gru``
activation   tanh       ``nn.RNN(nonlinearity=...)``: ``tanh`` or ``relu``
num_layers   1          stacked layers L
hidden_size  64         H
input_size   16         I, features of the input sequence
seq_len      100        T, the sequence length; lags run 0..T
init         default    a name in :data:`vanishlab.sweep.inits.INITS` (``vanishlab inits``)
gain         1.0        scale g of the init (see :mod:`vanishlab.sweep.inits`), >= 0
input_std    1.0        x_t ~ N(0, input_std^2) i.i.d.; 0 = zero input
bias         True       ``nn.RNN(bias=...)``
batch        8          samples (input sequences) per cell; norms are aggregated over them
seed         0          seeds the weights and the inputs of the cell
dtype        float32    ``float32`` or ``float64``: the dtype of the module and its inputs
task         none       ``none``, or train on ``adding`` / ``recall`` (docs/trainability.md)
train_steps  0          optimizer steps after the measurement at init; 0 = no training
lr           0.01       learning rate of the training (> 0 when ``train_steps`` > 0)
optimizer    adam       ``adam`` or ``sgd`` (no momentum)
clip         1.0        clip the global gradient norm to this; 0 = no clipping
============ ========== =====================================================================
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..analysis.activations import ACTIVATIONS
from ..core.weights_attr import DTYPE_COLUMN
from ..errors import VanishlabError
from .axes import AxisSet
from .axis_entry import INT64_MAX, Axis
from .catalog import ALL_MODELS
from .inits import INITS
from .nearest import did_you_mean

__all__ = [
    "ACTIVATIONS",
    "AXES",
    "AXIS_TABLE",
    "DTYPES",
    "GAUSSIAN_INPUTS",
    "LABELS",
    "LATER_AXES",
    "LONGEST_CELL_DAYS",
    "MODELS",
    "OPTIMIZER_NAMES",
    "QUICK_SWEEP",
    "REPORT_ORDER",
    "TASK_INPUT_SIZES",
    "TASK_MIN_SEQ_LEN",
    "TASK_NAMES",
    "TRAINING_AXES",
    "Axis",
    "AxisSet",
    "CellConfig",
    "Sweep",
    "axis",
    "config_id",
    "grid_ids",
    "grids_ids",
    "parse_axis",
    "trains",
    "wrong_input_size",
]

DTYPES: tuple[str, ...] = ("float32", "float64")
TASK_NAMES: tuple[str, ...] = ("none", "adding", "recall")
"""``task`` values: no training, or a task of :data:`vanishlab.train.TASKS` (a test checks)."""
TASK_INPUT_SIZES: dict[str, int] = {"adding": 2, "recall": 8}
"""The ``input_size`` each task feeds per step (its ``make_task(name, T).input_size``; tested)."""
TASK_MIN_SEQ_LEN: dict[str, int] = {"adding": 2, "recall": 1}
"""The shortest sequence each task is defined on (its ``min_seq_len``; tested)."""
OPTIMIZER_NAMES: tuple[str, ...] = ("adam", "sgd")
"""``optimizer`` values: :data:`vanishlab.train.OPTIMIZERS` (a test checks; no torch here)."""
TRAINING_AXES: tuple[str, ...] = ("lr", "optimizer", "clip")
"""The axes that set how a cell trains, and nothing else: a cell that does not train
(``train_steps`` 0) measures the same whatever they hold (``task`` is not one: it chooses the
inputs measured at init too)."""


_CHRONO_NAME = re.compile(r"chrono_(\d+)")


def _known_init(value: str) -> None:
    if value not in INITS:
        # chrono at another T_max is an init the user registers (vl.chrono_init): a name of
        # its form got only the list of choices, which never holds it until it is registered
        chrono = _CHRONO_NAME.fullmatch(value) if isinstance(value, str) else None
        hint = (
            f"; chrono at T_max = {chrono.group(1)} is an init you register: "
            f"vl.register_init(vl.chrono_init({chrono.group(1)})) in an experiment module, "
            f"then vanishlab sweep MODULE.py --init {value}"
            if chrono
            else ""
        )
        raise VanishlabError(
            f"unknown init {value!r}{'' if chrono else did_you_mean(value, INITS)} (choose from "
            f"{', '.join(INITS)}; see `vanishlab inits`){hint}"
        )


MODELS: tuple[str, ...] = ALL_MODELS
"""The values of the ``model`` axis: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``."""


#: The most days a cell, trained or not, may take by :func:`~.cost.cell_cost` (refused over it
#: up front, :func:`~.capacity.check_time`): a cell cannot stop and resume midway, and
#: ``--train-steps 10**12`` was run (for centuries), as an untrained cell of H = 16384 and
#: T = 100000 was (about 99 days).
LONGEST_CELL_DAYS = 30

AXIS_TABLE: tuple[Axis, ...] = (
    Axis(
        "model", str, "rnn",
        meaning="``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``: ``rnn``, ``lstm`` or ``gru``",
        help=f"Models: {', '.join(MODELS)}.", example=",".join(MODELS), label="model",
        choices=MODELS, report_rank=-1, in_id_at_default=False,
    ),
    Axis(
        "activation", str, "tanh",
        meaning="``nn.RNN(nonlinearity=...)``: ``tanh`` or ``relu``",
        help="Activations of rnn cells (lstm and gru keep their own): tanh, relu.",
        example="tanh,relu", label="activation",
        choices=ACTIVATIONS, applies_to=("rnn",), report_rank=0,
    ),
    Axis(
        "num_layers", int, 1,
        meaning="stacked layers L",
        help="Stacked layers, e.g. 1,2,4.", example="1,2,4", label="layers",
        low=1, report_rank=1,
    ),
    Axis(
        "hidden_size", int, 64,
        meaning="H",
        help="Hidden sizes H, e.g. 32,64.", example="32,64", label="hidden",
        low=1, report_rank=5,
    ),
    Axis(
        "input_size", int, 16,
        meaning="I, features of the input sequence",
        help="Input sizes I, e.g. 16.", example="16", label="input size",
        low=1, report_rank=6,
    ),
    Axis(
        "seq_len", int, 100,
        meaning="T, the sequence length; lags run 0..T",
        help="Sequence lengths T, e.g. 50,200.", example="50,200", label="T",
        low=1, report_rank=4,
    ),
    Axis(
        "init", str, "default",
        meaning="a name in :data:`vanishlab.sweep.inits.INITS` (``vanishlab inits``)",
        help="Initialisations (see `vanishlab inits`), e.g. orthogonal,default.",
        example="orthogonal,default", label="init",
        check=_known_init, report_rank=2, names=lambda: tuple(INITS),
    ),
    Axis(
        "gain", float, 1.0,
        meaning="scale g of the init (see :mod:`vanishlab.sweep.inits`), >= 0",
        help="Gains of the init, e.g. 0.5,1,2.", example="0.5,1,2", label="gain",
        low=0.0, report_rank=3,
    ),
    Axis(
        "input_std", float, 1.0,
        meaning="x_t ~ N(0, input_std^2) i.i.d.; 0 = zero input",
        help="Std of the Gaussian inputs (0 = zero input), e.g. 0,1.", example="0,1",
        label="input std", low=0.0, report_rank=7,
    ),
    Axis(
        "bias", bool, True,
        meaning="``nn.RNN(bias=...)``",
        help="Biases on or off: true, false.", example="true,false", label="bias",
        report_rank=8,
    ),
    Axis(
        "batch", int, 8,
        meaning="samples (input sequences) per cell; norms are aggregated over them",
        help="Samples per cell, e.g. 8.", example="8", label="batch",
        low=1, report_rank=9,
    ),
    Axis(
        "seed", int, 0,
        meaning="seeds the weights and the inputs of the cell",
        help="Explicit seeds, e.g. 0,5,7 (or use --seeds N).", example="0,1,2", label="seed",
        low=0, high=INT64_MAX, report_rank=11,
    ),
    Axis(
        DTYPE_COLUMN, str, "float32",
        meaning="``float32`` or ``float64``: the dtype of the module and its inputs",
        help="Float types: float32, float64.", example="float32,float64", label="dtype",
        choices=DTYPES, report_rank=10,
    ),
    Axis(
        "task", str, "none",
        meaning="``none``, or train on ``adding`` / ``recall`` (docs/trainability.md)",
        help="Training tasks: none, "
        + ", ".join(f"{t} (needs --input-size {n})" for t, n in TASK_INPUT_SIZES.items())
        + ".",
        example="none,adding", label="task",
        choices=TASK_NAMES, report_rank=12, in_id_at_default=False,
    ),
    Axis(
        "train_steps", int, 0,
        meaning="optimizer steps after the measurement at init; 0 = no training",
        help="Training steps (0 = measure only), e.g. 0,1000; a cell estimated to take over "
        f"{LONGEST_CELL_DAYS} days, trained or not, is refused.", example="0,1000",
        label="steps", low=0, high=INT64_MAX, report_rank=13, in_id_at_default=False,
    ),
    Axis(
        "lr", float, 0.01,
        meaning="learning rate of the training (> 0 when ``train_steps`` > 0)",
        help="Learning rates, e.g. 0.01,0.001.", example="0.01,0.001", label="lr",
        low=0.0, report_rank=14, in_id_at_default=False,
    ),
    Axis(
        "optimizer", str, "adam",
        meaning="``adam`` or ``sgd`` (no momentum)",
        help="Optimizers: adam, sgd.", example="adam,sgd", label="optimizer",
        choices=OPTIMIZER_NAMES, report_rank=15, in_id_at_default=False,
    ),
    Axis(
        "clip", float, 1.0,
        meaning="clip the global gradient norm to this; 0 = no clipping",
        help="Gradient-norm clips (0 = none), e.g. 1,0.", example="1,0", label="clip",
        low=0.0, report_rank=16, in_id_at_default=False,
    ),
)  # fmt: skip
"""Every axis, in config-column order and in the grid's nesting order (last varies fastest)."""


def _init_applies(axes: Mapping[str, tuple[Any, ...]]) -> None:
    """Refuse an init that does not apply to a model of the grid (or needs biases it lacks)."""
    models = axes["model"]
    for init in axes["init"]:
        applies, needs_bias = INITS[init].models, INITS[init].needs_bias
        for model in models:
            if model not in applies:
                raise VanishlabError(
                    f"init {init!r} does not apply to model {model!r} (it applies to "
                    f"{', '.join(applies)}; see `vanishlab inits`)"
                )
        if needs_bias and False in axes["bias"]:
            raise VanishlabError(
                f"--init {init} (init={init!r}) sets gate biases and needs --bias true "
                f"(bias=True): the grid has --bias false (bias=False)"
            )


def trains(axes: Mapping[str, tuple[Any, ...]]) -> bool:
    """Whether a grid (``{axis: values}``, every axis) trains a cell: has ``train_steps``
    above 0."""
    return any(steps > 0 for steps in axes["train_steps"])


def _task_applies(axes: Mapping[str, tuple[Any, ...]]) -> None:
    """Refuse, before any cell runs, a grid whose task, training and input axes cannot combine."""
    tasks = axes["task"]
    if trains(axes) and "none" in tasks:
        why = "--train-steps (train_steps=) above 0 needs a --task (task=), adding or recall"
        if len(tasks) > 1:  # the user gave one: say why the grid has an untrainable cell
            steps = next(s for s in axes["train_steps"] if s > 0)
            why += (
                f": a grid pairs every task with every train_steps, and task none with "
                f"train_steps {steps} cannot train; sweep task none as a grid of its own "
                "(--force adds the other grid to the same --out)"
            )
        raise VanishlabError(why)
    if trains(axes) and any(lr <= 0 for lr in axes["lr"]):
        raise VanishlabError(
            "--lr (lr=) must be above 0 to train: the grid has --train-steps (train_steps=) "
            "above 0 and --lr 0 (lr=0)"
        )
    _one_input_size(tasks)
    for task in tasks:
        needed = TASK_INPUT_SIZES.get(task)
        for size in axes["input_size"]:
            if needed is not None and size != needed:
                raise VanishlabError(wrong_input_size(task, needed, size))
        shortest = TASK_MIN_SEQ_LEN.get(task, 1)
        short = [length for length in axes["seq_len"] if length < shortest]
        if short:
            raise VanishlabError(
                f"--task {task} (task={task!r}) needs sequences of at least {shortest} steps: "
                f"--seq-len {short[0]} (seq_len={short[0]}) is shorter"
            )


def _one_input_size(tasks: tuple[Any, ...]) -> None:
    """Refuse tasks that need different input sizes in one grid: every input_size fails one of
    them, so the per-task refusal sent the user from --input-size 2 to 8 and back."""
    needs = {task: TASK_INPUT_SIZES[task] for task in tasks if task in TASK_INPUT_SIZES}
    if len(set(needs.values())) > 1:
        said = " and ".join(f"{task} {size}" for task, size in needs.items())
        raise VanishlabError(
            f"--task (task=) {','.join(needs)} cannot share a grid: each task feeds its own "
            f"number of channels per step ({said}), and a grid pairs every task with every "
            "--input-size (input_size=); sweep each task as a grid of its own, at its input "
            "size (--force adds the other grid to the same --out)"
        )


def _grid_check(axes: Mapping[str, tuple[Any, ...]]) -> None:
    """The checks of several axes together, on every axis's values (``AxisSet`` passes them
    all: a grid's, or a cell's one value each)."""
    _init_applies(axes)
    _task_applies(axes)


_AXIS_SET = AxisSet(AXIS_TABLE, module=__name__, grid_check=_grid_check)

AXES: tuple[str, ...] = _AXIS_SET.names
"""The axis names, in :data:`AXIS_TABLE` order (config-column and grid-nesting order)."""

REPORT_ORDER: tuple[str, ...] = tuple(
    a.name for a in sorted(AXIS_TABLE, key=lambda a: a.report_rank)
)
"""The axes in the order the report's tables list them."""

LATER_AXES: dict[str, object] = {a.name: a.default for a in AXIS_TABLE if not a.in_id_at_default}
"""Axes added after runs existed (``in_id_at_default=False``), with their defaults: a run
directory written before one of them holds its cells at that default (readers fill it in)."""

LABELS: dict[str, str] = {a.name: a.label for a in AXIS_TABLE}
"""The report's short name of each axis."""

if TYPE_CHECKING:  # made from the table at run time, which no type checker runs
    from .config_types import CellConfig, Sweep
else:
    CellConfig = _AXIS_SET.CellConfig
    Sweep = _AXIS_SET.Sweep
axis = _AXIS_SET.axis

GAUSSIAN_INPUTS: dict[str, Any] = {
    name: axis(name).default for name in ("seq_len", "batch", "input_std", "seed")
}
"""The Gaussian inputs' settings with their defaults, the axis table's: what ``vanishlab
analyze`` measures a saved module on without ``--inputs``, drawn as a sweep's cell draws its."""


def config_id(config: Mapping[str, Any]) -> str:
    """The cell id of a canonical config mapping (as :meth:`CellConfig.to_dict` or JSON gives).

    SHA-256 of the canonical JSON (sorted keys, no spaces), first 16 hex digits. An axis with
    ``in_id_at_default=False`` is left out of the hash at its default value.
    """
    return _AXIS_SET.config_id(config)


def grid_ids(axes: Mapping[str, Any]) -> set[str]:
    """Cell ids of the product of ``{axis: [values]}`` as stored in a manifest (no checks, so
    a grid naming an init this process has not registered can still be compared)."""
    names = list(axes)
    return {
        config_id(dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(axes[n] for n in names))
    }


def grids_ids(grids: Iterable[Mapping[str, Any]]) -> set[str]:
    """Cell ids of every grid of a run's manifest (the union of their :func:`grid_ids`)."""
    return set().union(*(grid_ids(g) for g in grids))


def parse_axis(axis: str, text: str) -> tuple[Any, ...]:
    """Parse a comma-separated command-line list (``"0.5,1,2"``) into checked axis values.

    Raises VanishlabError naming the axis and the offending item for an empty item
    (``"1,,2"``), a word where a number belongs, a non-positive size, an unknown name, etc.
    """
    return _AXIS_SET.parse(axis, text)


QUICK_SWEEP = Sweep(
    activation=("tanh", "relu"),
    num_layers=(1, 2),
    hidden_size=(32,),
    seq_len=(100,),
    init=("default", "orthogonal", "normal", "identity"),
    gain=(0.5, 1.0, 2.0),
    seed=(0, 1),
)
"""The built-in quick grid of ``vanishlab sweep`` with no argument: 96 small cells.

Both activations, one and two layers, four inits (PyTorch's default, orthogonal, mean-field
normal, identity) at gains 0.5, 1 and 2, that is clearly vanishing, near the critical gain and
exploding; two seeds; H = 32, T = 100, 8 samples per cell. About 15 s of one core.
"""


def wrong_input_size(task: str, needed: int, size: int) -> str:
    """What to say of a grid or cell whose input_size is not its task's (both the API's
    argument and the command line's flag: it said "input_size=2" to a user of --input-size)."""
    return (
        f"the {task} task feeds {needed} channels per step: "
        f"set --input-size {needed} (input_size={needed}) (got {size})"
    )
