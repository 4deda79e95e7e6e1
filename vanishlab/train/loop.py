"""Train a recurrent module on a long-memory task, seeded, and say whether it learned.

The model is the caller's ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (built and initialised by the
caller) followed by a linear readout of its last output, y_hat = W o_{T-1} + b, where o_{T-1}
is the top layer's output at the last step (h^{L-1}_{T-1}, both directions concatenated when
bidirectional; the projection for an LSTM with ``proj_size``). Each step draws a fresh batch from
the task, computes the task's loss, back-propagates through time over the whole sequence,
rescales the gradient of every trained parameter (module and readout together) to a global
norm of at most ``clip`` (Pascanu, Mikolov & Bengio 2013) and takes one optimizer step: Adam
(Kingma & Ba 2015, PyTorch's defaults betas = (0.9, 0.999), eps = 1e-8) or plain SGD (no
momentum, no weight decay).

Evaluation: the loss on one fixed held-out batch of ``eval_batch`` sequences, in eval mode and
without gradients, at ``eval_points + 1`` evenly spaced steps from 0 (before any update) to
``steps`` (after the last). ``final_loss`` is the last of them. The criterion, stated against
the task's chance level c (the best loss that ignores the input):

    solved  <=>  final_loss < solve_fraction * c        (default solve_fraction = 0.1)

``steps_to_solve`` is the first evaluation step from which every later evaluation stays below
that threshold (None when not solved), so ``solved == (steps_to_solve is not None)``.

Seeds: ``seed`` feeds two independent streams (a generator per (seed, stream) seeded from
sha256("vanishlab/<stream>/<seed>"): :func:`vanishlab.core.seeds.seeded_generator`, as the sweep's
cells are), one for
the readout's initial weights (PyTorch's U(-1/sqrt(F), 1/sqrt(F)) for a readout of fan-in F)
and one for the training batches and dropout; ``eval_seed`` feeds a third for the held-out
batch, so by default every cell at one task and T is scored on the same sequences. The module's
own initial weights are the caller's. The global torch random state is left as it was. On the
CPU the same arguments and thread count give a bitwise identical loss curve. It trains in the
module's own dtype with full float32 matrix products, as a measurement does
(:func:`~vanishlab.core.forward.own_precision`): a caller's ``torch.autocast`` region or
reduced float32 matmul precision is set aside while it trains, and in force again on return.

Training happens in place: the module's parameters end trained, and its training mode
(``module.training``) is restored on return, whatever happens. Autograd is on while it trains,
also under the caller's ``torch.no_grad()`` or ``inference_mode()`` (a module made under
``inference_mode`` cannot be trained: a ValueError). Pass ``copy.deepcopy(module)``
to keep the original.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import time
from dataclasses import dataclass, field
from typing import SupportsIndex

import torch
from torch import nn

from ..core import global_rng
from ..core.forward import own_precision
from ..core.modules import MEASURED, measured_base
from ..core.seeds import seeded_generator
from ..core.training_facts import SOLVE_FRACTION
from .tasks import Task, check_int

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_CLIP",
    "DEFAULT_EVAL_BATCH",
    "DEFAULT_LR",
    "DEFAULT_STEPS",
    "OPTIMIZERS",
    "SOLVE_FRACTION",
    "TrainResult",
    "train_cell",
]

OPTIMIZERS = ("adam", "sgd")
DEFAULT_STEPS = 300
DEFAULT_LR = 1e-2
DEFAULT_CLIP = 1.0
DEFAULT_BATCH = 64
DEFAULT_EVAL_BATCH = 1000
DEFAULT_EVAL_POINTS = 10

_READOUT_STREAM, _DATA_STREAM, _EVAL_STREAM = "train/readout", "train/data", "train/eval"


@dataclass(frozen=True)
class TrainResult:
    """What one training run gives.

    Attributes:
        task: the task's name; ``seq_len``: its T.
        eval_steps: the steps at which the held-out loss was measured, 0 first, ``steps`` last.
        eval_losses: the held-out loss at each of them (NaN after a divergence).
        final_loss: the held-out loss after the last step (NaN or inf if training diverged).
        chance_loss: the task's chance level.
        threshold: ``solve_fraction * chance_loss``.
        solved: ``final_loss < threshold``.
        steps_to_solve: the first evaluation step from which the loss stays under the
            threshold, or None.
        diverged: the training loss or gradient, or the held-out loss, became inf or NaN;
            training stopped there.
        seconds: wall-clock time of the run (excluded from equality).
    """

    task: str
    seq_len: int
    eval_steps: tuple[int, ...]
    eval_losses: tuple[float, ...]
    final_loss: float
    chance_loss: float
    threshold: float
    solved: bool
    steps_to_solve: int | None
    diverged: bool
    seconds: float = field(default=0.0, compare=False)


# Training needs autograd whatever the caller's mode: under torch.no_grad() (or
# set_grad_enabled(False), or inference_mode) every step failed with torch's "element 0 of
# tensors does not require grad", and so did every trained cell of vl.run_sweep there.
@torch.inference_mode(False)
@torch.enable_grad()
def train_cell(
    module: nn.Module,
    task: Task,
    *,
    steps: int | SupportsIndex = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    optimizer: str = "adam",
    clip: float | None = DEFAULT_CLIP,
    batch: int | SupportsIndex = DEFAULT_BATCH,
    seed: int | SupportsIndex = 0,
    eval_seed: int | SupportsIndex = 0,
    eval_batch: int | SupportsIndex = DEFAULT_EVAL_BATCH,
    eval_points: int | SupportsIndex = DEFAULT_EVAL_POINTS,
    solve_fraction: float = SOLVE_FRACTION,
) -> TrainResult:
    """Train ``module`` plus a linear readout on ``task`` and score it against chance.

    Args:
        module: an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` whose ``input_size`` is the task's, with
            floating-point parameters; trained in place (see the module docstring).
        task: a :class:`~vanishlab.train.tasks.Task` (its ``seq_len`` is the lag scale).
        steps, batch, seed, eval_seed, eval_batch, eval_points: integers (a NumPy integer or a
            0-d integer tensor too; a bool or a float is refused).
        steps: number of optimizer updates (>= 1), one fresh batch each.
        lr: learning rate (> 0).
        optimizer: ``"adam"`` or ``"sgd"``.
        clip: maximum global gradient norm (> 0), or None for no clipping.
        batch: sequences per update (>= 1).
        seed: seeds the readout's initial weights and the training batches (>= 0).
        eval_seed: seeds the held-out batch (>= 0).
        eval_batch: sequences in the held-out batch (>= 1).
        eval_points: the held-out loss is measured ``eval_points + 1`` times (>= 1).
        solve_fraction: ``solved`` means a final loss below this fraction of chance (0 < f < 1).

    Returns:
        A :class:`TrainResult`.

    Raises:
        TypeError: ``module`` is not an ``nn.RNN``/``nn.LSTM``/``nn.GRU``, ``task`` not a Task,
            or another argument of the wrong type (``lr="0.1"``, ``steps=2.5``, a bool).
        ValueError: any other argument out of range, or an ``input_size`` that is not the task's.
        MemoryError: the task's batches (``batch`` or ``eval_batch`` sequences) could not be
            allocated, said before training starts (the held-out batch is drawn first).
    """
    _check_arguments(
        module, task, steps, lr, optimizer, clip, batch, seed, eval_seed, eval_batch,
        eval_points, solve_fraction,
    )  # fmt: skip
    # NumPy scalars (np.int64 from np.arange, np.float32) as Python numbers from here on.
    steps, batch, seed, eval_seed, eval_batch, eval_points = (
        int(v) for v in (steps, batch, seed, eval_seed, eval_batch, eval_points)
    )
    lr, solve_fraction = float(lr), float(solve_fraction)
    clip = None if clip is None else float(clip)
    param = next(module.parameters())
    dtype, device = param.dtype, param.device
    readout_gen, data_gen = (seeded_generator(seed, s) for s in (_READOUT_STREAM, _DATA_STREAM))
    eval_x, eval_y = task.sample(eval_batch, seeded_generator(eval_seed, _EVAL_STREAM))
    eval_x, eval_y = _to(eval_x, dtype, device), _to(eval_y, dtype, device)
    features = _output_features(module)
    bound = 1.0 / math.sqrt(features)
    weight = _uniform((task.output_size, features), bound, readout_gen, dtype, device)
    bias = _uniform((task.output_size,), bound, readout_gen, dtype, device)

    def predict(x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(_last_output(module, x), weight, bias)

    def evaluate() -> float:
        module.eval()
        with torch.no_grad():
            value = float(task.loss(predict(eval_x), eval_y))
        module.train()
        return value

    trained = [p for p in module.parameters() if p.requires_grad] + [weight, bias]
    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(trained, lr=lr)
    schedule = sorted({round(i * steps / eval_points) for i in range(eval_points + 1)})
    losses: list[float] = []
    diverged = False
    was_training = module.training
    start = time.perf_counter()
    dropout_seed = int(torch.randint(0, 2**62, (1,), generator=data_gen))
    # Dropout between layers draws from the global generator: seed it from the data stream,
    # inside a fork so the caller's random state is untouched, under global_rng's lock so that
    # no other thread of vanishlab's draws from it meanwhile. A module that draws nothing from
    # it (no dropout, no code of the user's) leaves it alone, and other threads free.
    uses_global = _draws_from_global(module)
    try:
        # In the module's own dtype with full float32 products, as a measurement is: a caller's
        # torch.autocast region (or reduced float32 matmul precision) trained in bfloat16, a
        # different loss curve from the same arguments, unflagged.
        with (
            own_precision(eval_x),
            global_rng.forked([device]) if uses_global else contextlib.nullcontext(),
        ):
            if uses_global:
                _seed_global(dropout_seed, device)
            module.train()
            step = 0
            for target in schedule:
                while step < target and not diverged:
                    x, y = task.sample(batch, data_gen)
                    opt.zero_grad(set_to_none=True)
                    loss = task.loss(predict(_to(x, dtype, device)), _to(y, dtype, device))
                    loss.backward()
                    norm = _clip(trained, clip)
                    if not (math.isfinite(float(loss.detach())) and math.isfinite(norm)):
                        diverged = True
                        break
                    opt.step()
                    step += 1
                value = math.nan if diverged else evaluate()
                # The last update can make the weights inf or NaN with a finite training loss
                # and gradient before it: the held-out loss then shows the divergence.
                diverged = diverged or not math.isfinite(value)
                losses.append(value)
    finally:
        module.train(was_training)
    seconds = time.perf_counter() - start
    chance = task.chance_loss
    threshold = solve_fraction * chance
    steps_to_solve = _steps_to_solve(schedule, losses, threshold)
    return TrainResult(
        task=task.name,
        seq_len=task.seq_len,
        eval_steps=tuple(schedule),
        eval_losses=tuple(losses),
        final_loss=losses[-1],
        chance_loss=chance,
        threshold=threshold,
        solved=steps_to_solve is not None,
        steps_to_solve=steps_to_solve,
        diverged=diverged,
        seconds=seconds,
    )


def _steps_to_solve(schedule: list[int], losses: list[float], threshold: float) -> int | None:
    """The first step from which every evaluated loss is below ``threshold`` (NaN is not)."""
    first = None
    for step, value in reversed(list(zip(schedule, losses, strict=True))):
        if not value < threshold:
            break
        first = step
    return first


def _clip(params: list[torch.Tensor], clip: float | None) -> float:
    """Clip the global gradient norm to ``clip`` (if given); return the norm before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if clip is None:
        return float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
    return float(torch.nn.utils.clip_grad_norm_(params, clip))


def _last_output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The top layer's output at the last step, ``(B, F)``, for a batch-first ``x`` (B, T, I)."""
    if module.batch_first:
        return module(x)[0][:, -1]
    return module(x.transpose(0, 1))[0][-1]  # module takes (T, B, I)


def _output_features(module: nn.Module) -> int:
    size = getattr(module, "proj_size", 0) or module.hidden_size
    return size * (2 if module.bidirectional else 1)


#: A module's hooks that a training step calls (torch keeps each kind per module and globally).
_STEP_HOOKS = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


def _draws_from_global(module: nn.Module) -> bool:
    """Whether training ``module`` may draw from torch's global generator: any dropout (the
    only draw of nn.RNN, nn.LSTM and nn.GRU; between layers, though cuDNN may take its seed
    from a one-layer module's too), or code of the user's that a step
    runs: a subclass's own ``forward``, a parametrization (DropConnect: dropout on a weight), a
    hook (AWD-LSTM's weight drop, a forward pre-hook), the module's or every module's."""
    from torch.nn.modules import module as torch_module
    from torch.nn.utils import parametrize

    base = measured_base(module) or type(module)
    dropout = module.dropout > 0
    hooks = any(getattr(module, kind) for kind in _STEP_HOOKS) or any(
        getattr(torch_module, f"_global{kind}") for kind in _STEP_HOOKS
    )
    own_code = type(module).forward is not base.forward or parametrize.is_parametrized(module)
    return dropout or own_code or hooks


def _seed_global(seed: int, device: torch.device) -> None:
    """Seed the generator dropout draws from on ``device`` (only that one)."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)


def _uniform(
    shape: tuple[int, ...],
    bound: float,
    generator: torch.Generator,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return ((2 * u - 1) * bound).to(dtype=dtype, device=device).requires_grad_()


def _to(t: torch.Tensor, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Move a task tensor to the module's device; floats take the module's dtype."""
    return t.to(device=device, dtype=dtype if t.is_floating_point() else t.dtype)


def _check_arguments(
    module: object,
    task: object,
    steps: object,
    lr: object,
    optimizer: object,
    clip: object,
    batch: object,
    seed: object,
    eval_seed: object,
    eval_batch: object,
    eval_points: object,
    solve_fraction: object,
) -> None:
    if not isinstance(module, MEASURED):
        raise TypeError(
            f"module must be a torch.nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}"
        )
    if not isinstance(task, Task):
        raise TypeError(f"task must be a vanishlab.train Task, got {type(task).__name__}")
    params = list(module.parameters())
    if not params or not all(p.is_floating_point() for p in params):
        raise ValueError("module must have floating-point parameters")
    if any(p.is_meta for p in params):  # torch's "Tensor.item() cannot be called on meta tensors"
        raise ValueError(
            "module's parameters are on the meta device and hold no values: load or "
            "initialise its weights first (module.to_empty(device='cpu') and a state dict)"
        )
    if any(p.is_inference() for p in params):  # autograd refuses them, in a message of its own
        raise ValueError(
            "module's parameters were made under torch.inference_mode(), and autograd cannot "
            "train them: build the module outside it"
        )
    if module.input_size != task.input_size:
        raise ValueError(
            f"module.input_size is {module.input_size} but the {task.name} task feeds "
            f"{task.input_size} channels per step"
        )
    for value, what, minimum in (
        (steps, "steps", 1),
        (batch, "batch", 1),
        (seed, "seed", 0),
        (eval_seed, "eval_seed", 0),
        (eval_batch, "eval_batch", 1),
        (eval_points, "eval_points", 1),
    ):
        check_int(value, what, minimum)  # a wrong type (2.5, True, "3"): TypeError
    if not _positive(lr, "lr"):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r:.60}")
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r:.60}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if clip is not None and not _positive(clip, "clip", " or None"):
        raise ValueError(f"clip must be a finite number > 0 or None, got {clip!r:.60}")
    if not (_positive(solve_fraction, "solve_fraction") and solve_fraction < 1):
        raise ValueError(f"solve_fraction must be in (0, 1), got {solve_fraction!r:.60}")


def _positive(value: object, what: str, alternative: str = "") -> bool:
    """Whether ``value`` is a finite real number > 0; a ``TypeError`` naming ``what`` when it
    is no real number at all (``lr="0.1"``, True, None: a ValueError, as for 0, before)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a finite number > 0{alternative}, got {value!r:.60}")
    try:  # an int too large for a float (lr=10**400) is no finite number: OverflowError
        return math.isfinite(value) and value > 0
    except OverflowError:
        return False
