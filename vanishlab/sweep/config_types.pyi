"""What a type checker reads :class:`CellConfig` and :class:`Sweep` as (`sweep/config.py`'s).

At run time both classes are made from the axis table (``AxisSet``, with
``dataclasses.make_dataclass``), which no type checker runs: to mypy and pyright ``vl.Sweep`` and
``vl.CellConfig`` were variables of type ``type``, so a call of either was ``Any``, its axes
unchecked, and an annotation ``sweep: vl.Sweep`` an error ("Variable not allowed in type
expression"). config.py imports these declarations under ``TYPE_CHECKING`` alone; nothing
imports this file at run time. tests/test_api_types.py checks them against the axis table and
the classes it makes: the same fields in the same order, their types and defaults, and the same
public methods. An axis that applies to some models only (``activation``) is None in a cell of
another model (an LSTM's): its field says so. An integer axis takes a NumPy integer and a 0-d
integer tensor too (``int | SupportsIndex``: ``Axis.takes``) and holds an ``int``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self, SupportsIndex

@dataclass(frozen=True, init=False)
class CellConfig:
    """One cell: a complete ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` configuration, its inputs
    and its seed (one field per axis; help(vl.CellConfig) lists them)."""

    model: str
    activation: str | None
    num_layers: int
    hidden_size: int
    input_size: int
    seq_len: int
    init: str
    gain: float
    input_std: float
    bias: bool
    batch: int
    seed: int
    dtype: str
    task: str
    train_steps: int
    lr: float
    optimizer: str
    clip: float

    def __init__(
        self,
        model: str = "rnn",
        activation: str | None = "tanh",
        num_layers: int | SupportsIndex = 1,
        hidden_size: int | SupportsIndex = 64,
        input_size: int | SupportsIndex = 16,
        seq_len: int | SupportsIndex = 100,
        init: str = "default",
        gain: float = 1.0,
        input_std: float = 1.0,
        bias: bool = True,
        batch: int | SupportsIndex = 8,
        seed: int | SupportsIndex = 0,
        dtype: str = "float32",
        task: str = "none",
        train_steps: int | SupportsIndex = 0,
        lr: float = 0.01,
        optimizer: str = "adam",
        clip: float = 1.0,
    ) -> None: ...
    @property
    def cell_id(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self: ...

@dataclass(frozen=True, init=False)
class Sweep:
    """A grid: for each axis a tuple of values; the cells are their Cartesian product. Any axis
    may be given as one value, a list, a tuple or a range (help(vl.Sweep) lists them)."""

    model: tuple[str, ...]
    activation: tuple[str, ...]
    num_layers: tuple[int, ...]
    hidden_size: tuple[int, ...]
    input_size: tuple[int, ...]
    seq_len: tuple[int, ...]
    init: tuple[str, ...]
    gain: tuple[float, ...]
    input_std: tuple[float, ...]
    bias: tuple[bool, ...]
    batch: tuple[int, ...]
    seed: tuple[int, ...]
    dtype: tuple[str, ...]
    task: tuple[str, ...]
    train_steps: tuple[int, ...]
    lr: tuple[float, ...]
    optimizer: tuple[str, ...]
    clip: tuple[float, ...]

    def __init__(
        self,
        model: str | Iterable[str] = ("rnn",),
        activation: str | Iterable[str] = ("tanh",),
        num_layers: int | SupportsIndex | Iterable[int | SupportsIndex] = (1,),
        hidden_size: int | SupportsIndex | Iterable[int | SupportsIndex] = (64,),
        input_size: int | SupportsIndex | Iterable[int | SupportsIndex] = (16,),
        seq_len: int | SupportsIndex | Iterable[int | SupportsIndex] = (100,),
        init: str | Iterable[str] = ("default",),
        gain: float | Iterable[float] = (1.0,),
        input_std: float | Iterable[float] = (1.0,),
        bias: bool | Iterable[bool] = (True,),
        batch: int | SupportsIndex | Iterable[int | SupportsIndex] = (8,),
        seed: int | SupportsIndex | Iterable[int | SupportsIndex] = (0,),
        dtype: str | Iterable[str] = ("float32",),
        task: str | Iterable[str] = ("none",),
        train_steps: int | SupportsIndex | Iterable[int | SupportsIndex] = (0,),
        lr: float | Iterable[float] = (0.01,),
        optimizer: str | Iterable[str] = ("adam",),
        clip: float | Iterable[float] = (1.0,),
    ) -> None: ...
    @property
    def size(self) -> int: ...
    def axes(self) -> dict[str, tuple[Any, ...]]: ...
    def cells(self) -> list[CellConfig]: ...
    def replace(self, **axes: Any) -> Self: ...
    @classmethod
    def from_axes(cls, axes: Mapping[str, Any]) -> Self: ...
