"""Long-memory tasks with a known chance level, drawn from a ``torch.Generator``.

Every task is a map from an input sequence x of shape ``(B, T, input_size)`` (batch first) to a
target read off the network's last output; what must be remembered sits at a lag of at least
about T/2 steps from the readout, so a gradient that decays like e^{rate k} with the lag k
(Pascanu, Mikolov & Bengio 2013) carries almost nothing from it once |rate| T/2 is large.

**The adding problem** (``"adding"``), the variant of Le, Jaitly & Hinton (2015), who follow
Hochreiter & Schmidhuber (1997) as adapted by Martens & Sutskever (2011). Each time step has two
channels: channel 0 holds a value u_t ~ U[0, 1], i.i.d.; channel 1 is a marker, 1 at exactly two
positions and 0 elsewhere. The first marked position p_1 is uniform on the first half
{0, ..., floor(T/2) - 1}, the second p_2 uniform on the second half {floor(T/2), ..., T - 1}.
The target is y = u_{p_1} + u_{p_2}, the loss the mean squared error. The first marked value
sits at lag T - 1 - p_1, in [T - floor(T/2), T - 1], from the last step. The best prediction
that ignores the input is E[y] = 1 and its MSE is Var(y) = 2 * (1/12) = 1/6 ~= 0.167: the
chance level. Remembering only the second value, or only the sum of all values, does not
solve it: predicting u_{p_2} + 1/2 still leaves MSE 1/12 = chance / 2.

Hochreiter & Schmidhuber's own version differs (values in [-1, 1], marker positions confined
to the first ten and to the first half, lengths drawn from [T, 1.1 T], target
0.5 + (u_1 + u_2) / 4); we do not implement it.

**Recall the first token** (``"recall"``), a one-token reduction of the copying-memory task of
Arjovsky, Shah & Bengio (2016): each step carries a one-hot symbol from an alphabet of K
(``n_symbols``, default 8), i.i.d. uniform; the target is the class of the first symbol x_0,
at lag T - 1 from the readout; the loss is the cross-entropy in nats. No prediction that
ignores the input beats the uniform distribution, whose loss is ln K (ln 8 ~= 2.079): the
chance level. (Arjovsky et al. copy ten symbols after a blank stretch and report the baseline
10 ln 8 / (T + 20), because their loss averages over every output step; ours has one output.)
"""

from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..core.allocation import format_bytes
from ..core.integers import as_integer

__all__ = ["TASKS", "AddingProblem", "RecallFirst", "Task", "check_int", "make_task"]

_MAX_BYTES = 2**63 - 1  # the most a tensor's storage can hold (its size in bytes is an int64)


@dataclass(frozen=True)
class Task(ABC):
    """A supervised sequence task: ``sample`` draws a batch, ``loss`` scores a prediction.

    Attributes:
        seq_len: T, the number of time steps of every input sequence.
    """

    seq_len: int

    name = "task"
    input_size = 0
    output_size = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "seq_len", check_int(self.seq_len, "seq_len", self.min_seq_len))
        self._batch_bytes(1)  # a task whose one sequence cannot be a tensor: refused now

    @property
    def min_seq_len(self) -> int:
        return 1

    def _bytes(self, batch: int) -> int:
        """The bytes of the tensors ``sample(batch)`` builds, all held at once (0: not known,
        for a subclass that does not say)."""
        return 0

    def _batch_bytes(self, batch: int) -> int:
        """``_bytes(batch)`` for a ``batch`` already checked (:func:`check_int`); a ValueError
        naming the sizes when it is more than a tensor can hold (torch said "Storage size
        calculation overflowed" or "Overflow when unpacking long long", deep in ``sample``)."""
        need = self._bytes(batch)
        if need > _MAX_BYTES:
            what = f"{self!r}.sample(batch={batch})" if batch != 1 else f"{self!r}"
            raise ValueError(
                f"{what} would need {need:.3g} bytes of tensors, more than torch can address "
                "(2**63 - 1): choose smaller sizes"
            )
        return need

    @contextlib.contextmanager
    def _allocating(self, batch: int, need: int) -> Iterator[None]:
        """Say, naming the sizes, that the memory for ``sample(batch)`` could not be had, where
        torch's allocator said "DefaultCPUAllocator: can't allocate memory" in its words."""
        try:
            yield
        except RuntimeError as err:
            if "allocate" not in str(err):
                raise
            raise MemoryError(
                f"{self!r}.sample(batch={batch}) needs about {format_bytes(need)} for its "
                "tensors, which could not be allocated: choose smaller sizes"
            ) from None

    @property
    @abstractmethod
    def chance_loss(self) -> float:
        """The lowest expected loss of any prediction that ignores the input."""

    @abstractmethod
    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)``: x float32 ``(batch, T, input_size)``, y the targets; CPU tensors drawn
        only from ``generator``."""

    @abstractmethod
    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The mean loss (a scalar) of ``output`` ``(batch, output_size)`` against ``target``."""


@dataclass(frozen=True)
class AddingProblem(Task):
    """The adding problem of Le et al. (2015): see the module docstring. Targets ``(B, 1)``."""

    name = "adding"
    input_size = 2
    output_size = 1

    @property
    def min_seq_len(self) -> int:
        return 2

    @property
    def chance_loss(self) -> float:
        return 1.0 / 6.0

    def _bytes(self, batch: int) -> int:
        return 16 * batch * self.seq_len + 24 * batch  # values, markers, x; the positions

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        batch = check_int(batch, "batch", 1)
        need = self._batch_bytes(batch)
        T, half = self.seq_len, self.seq_len // 2
        with self._allocating(batch, need):
            values = torch.rand(batch, T, generator=generator, dtype=torch.float32)  # (B, T)
            first = torch.randint(0, half, (batch,), generator=generator)
            second = torch.randint(half, T, (batch,), generator=generator)
            rows = torch.arange(batch)
            markers = torch.zeros(batch, T, dtype=torch.float32)
            markers[rows, first] = 1.0
            markers[rows, second] = 1.0
            x = torch.stack([values, markers], dim=-1)  # (B, T, 2)
        y = (values[rows, first] + values[rows, second]).unsqueeze(-1)  # (B, 1)
        return x, y

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, target)


@dataclass(frozen=True)
class RecallFirst(Task):
    """Recall the first of T one-hot symbols: see the module docstring. Targets ``(B,)`` int64.

    Attributes:
        n_symbols: K, the alphabet size (at least 2); chance loss ln K.
    """

    n_symbols: int = 8

    name = "recall"

    def __post_init__(self) -> None:
        n_symbols = check_int(self.n_symbols, "n_symbols", 2)  # first: the sizes' check reads it
        object.__setattr__(self, "n_symbols", n_symbols)
        super().__post_init__()

    @property
    def input_size(self) -> int:  # type: ignore[override]
        return self.n_symbols

    @property
    def output_size(self) -> int:  # type: ignore[override]
        return self.n_symbols

    @property
    def chance_loss(self) -> float:
        return math.log(self.n_symbols)

    def _bytes(self, batch: int) -> int:
        return batch * self.seq_len * (8 + 12 * self.n_symbols)  # symbols, one-hot, x

    def sample(self, batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        batch = check_int(batch, "batch", 1)
        need = self._batch_bytes(batch)
        with self._allocating(batch, need):
            symbols = torch.randint(0, self.n_symbols, (batch, self.seq_len), generator=generator)
            x = F.one_hot(symbols, self.n_symbols).to(torch.float32)  # (B, T, K)
        return x, symbols[:, 0]

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)


TASKS: dict[str, Callable[[int], Task]] = {
    AddingProblem.name: AddingProblem,
    RecallFirst.name: RecallFirst,
}


def make_task(name: str, seq_len: int) -> Task:
    """The task registered as ``name`` (``"adding"`` or ``"recall"``) at sequence length T."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(sorted(TASKS))}")
    return TASKS[name](seq_len)


def check_int(value: object, what: str, minimum: int) -> int:
    """``value`` as an int: a TypeError for a wrong type (10.0, True, "10"), a ValueError below
    ``minimum``, as train_cell says them; a NumPy integer and a 0-d integer tensor are integers
    (:mod:`vanishlab.core.integers`)."""
    number = as_integer(value, what)
    if number is None:
        raise TypeError(f"{what} must be an integer >= {minimum}, got {value!r:.60}")
    if number < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {number}")
    return number
