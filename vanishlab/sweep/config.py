"""What a sweep sweeps: the axes, a grid (:class:`Sweep`) and one cell (:class:`CellConfig`).

A cell is one ``nn.RNN`` configuration with one seed. Its id is the first 16 hex digits of the
SHA-256 of its config as canonical JSON (sorted keys, no spaces, floats as Python's shortest
round-trip repr, -0.0 folded to 0.0), so the same cell has the same id on every machine, in every
run and in every process; the id is the name of its shard in a run directory.

Axes and their defaults (one value each unless a sweep lists several):

============ ========== =====================================================================
axis         default    meaning
============ ========== =====================================================================
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
============ ========== =====================================================================
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, reduce
from typing import Any

from ..errors import VanishlabError
from .catalog import BUILTIN_INITS

__all__ = [
    "ACTIVATIONS",
    "AXES",
    "DTYPES",
    "QUICK_SWEEP",
    "CellConfig",
    "Sweep",
    "config_id",
    "grid_ids",
    "parse_axis",
]

AXES: tuple[str, ...] = (
    "activation",
    "num_layers",
    "hidden_size",
    "input_size",
    "seq_len",
    "init",
    "gain",
    "input_std",
    "bias",
    "batch",
    "seed",
    "dtype",
)
"""Every axis, in config-column order and in the grid's nesting order (last varies fastest)."""

ACTIVATIONS = ("tanh", "relu")
DTYPES = ("float32", "float64")

AXIS_TYPES: dict[str, type] = {
    "activation": str,
    "num_layers": int,
    "hidden_size": int,
    "input_size": int,
    "seq_len": int,
    "init": str,
    "gain": float,
    "input_std": float,
    "bias": bool,
    "batch": int,
    "seed": int,
    "dtype": str,
}
"""The Python type of each axis's values (also the parquet column types, in the store)."""
_SEED_MAX = 2**63 - 1


def _check_value(axis: str, value: Any) -> Any:
    """Return ``value`` in canonical form (int, float, bool or str) or raise VanishlabError."""
    kind = AXIS_TYPES[axis]
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise VanishlabError(f"{axis} must be an integer, got {value!r}")
        value = int(value)
        if axis == "seed":
            if not 0 <= value <= _SEED_MAX:
                raise VanishlabError(f"seed must be between 0 and 2**63 - 1, got {value}")
        elif value <= 0:
            raise VanishlabError(f"{axis} must be positive, got {value}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise VanishlabError(f"{axis} must be a number, got {value!r}")
        value = float(value) + 0.0  # + 0.0 folds -0.0 into 0.0, so the cell id is unique
        if not math.isfinite(value) or value < 0:
            raise VanishlabError(f"{axis} must be a finite number >= 0, got {value}")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise VanishlabError(f"{axis} must be true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise VanishlabError(f"{axis} must be a string, got {value!r}")
    if axis == "activation" and value not in ACTIVATIONS:
        raise VanishlabError(f"unknown activation {value!r} (choose from {', '.join(ACTIVATIONS)})")
    if axis == "dtype" and value not in DTYPES:
        raise VanishlabError(f"unknown dtype {value!r} (choose from {', '.join(DTYPES)})")
    if axis == "init" and value not in BUILTIN_INITS:  # a built-in needs no torch import
        from .inits import INITS

        if value not in INITS:
            raise VanishlabError(
                f"unknown init {value!r} (choose from {', '.join(INITS)}; see `vanishlab inits`)"
            )
    return value


@dataclass(frozen=True)
class CellConfig:
    """One cell: a complete ``nn.RNN`` configuration, its inputs and its seed.

    Values are checked and put in canonical form on construction (VanishlabError otherwise);
    see the module docstring for each field. ``cell_id`` is the stable content hash.
    """

    activation: str = "tanh"
    num_layers: int = 1
    hidden_size: int = 64
    input_size: int = 16
    seq_len: int = 100
    init: str = "default"
    gain: float = 1.0
    input_std: float = 1.0
    bias: bool = True
    batch: int = 8
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for axis in AXES:
            object.__setattr__(self, axis, _check_value(axis, getattr(self, axis)))

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict, in :data:`AXES` order."""
        return {axis: getattr(self, axis) for axis in AXES}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = sorted(set(data) - set(AXES))
        if unknown:
            raise VanishlabError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**data)

    @cached_property
    def cell_id(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of :meth:`to_dict`."""
        return config_id(self.to_dict())


def config_id(config: Mapping[str, Any]) -> str:
    """The cell id of a canonical config mapping (as :meth:`CellConfig.to_dict` or JSON gives)."""
    text = json.dumps(dict(config), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def grid_ids(axes: Mapping[str, Any]) -> set[str]:
    """Cell ids of the product of ``{axis: [values]}`` as stored in a manifest (no checks, so
    a grid naming an init this process has not registered can still be compared)."""
    names = list(axes)
    return {
        config_id(dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(axes[n] for n in names))
    }


_DEFAULTS = CellConfig()


def _as_values(axis: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        values = (values,)
    out = tuple(_check_value(axis, v) for v in values)
    if not out:
        raise VanishlabError(f"axis {axis} has no values")
    seen: set[Any] = set()
    for v in out:
        if v in seen:
            raise VanishlabError(f"axis {axis} lists {v!r} twice")
        seen.add(v)
    return out


@dataclass(frozen=True)
class Sweep:
    """A grid: for each axis a tuple of values; the cells are their Cartesian product.

    Any axis may be given as one value, a list, a tuple or a range (``seed=range(3)``); it is
    stored as a tuple of checked, canonical values. Axes left out take the one default value of
    :class:`CellConfig`. Example::

        vl.Sweep(activation=("tanh", "relu"), gain=(0.5, 1.0, 2.0), seed=range(3))
    """

    activation: tuple[str, ...] = (_DEFAULTS.activation,)
    num_layers: tuple[int, ...] = (_DEFAULTS.num_layers,)
    hidden_size: tuple[int, ...] = (_DEFAULTS.hidden_size,)
    input_size: tuple[int, ...] = (_DEFAULTS.input_size,)
    seq_len: tuple[int, ...] = (_DEFAULTS.seq_len,)
    init: tuple[str, ...] = (_DEFAULTS.init,)
    gain: tuple[float, ...] = (_DEFAULTS.gain,)
    input_std: tuple[float, ...] = (_DEFAULTS.input_std,)
    bias: tuple[bool, ...] = (_DEFAULTS.bias,)
    batch: tuple[int, ...] = (_DEFAULTS.batch,)
    seed: tuple[int, ...] = (_DEFAULTS.seed,)
    dtype: tuple[str, ...] = (_DEFAULTS.dtype,)

    def __post_init__(self) -> None:
        for axis in AXES:
            object.__setattr__(self, axis, _as_values(axis, getattr(self, axis)))

    @classmethod
    def from_axes(cls, axes: Mapping[str, Any]) -> Sweep:
        """A sweep from ``{axis: values}`` (as stored in a manifest); unknown axes are an error."""
        unknown = sorted(set(axes) - set(AXES))
        if unknown:
            raise VanishlabError(f"unknown axis {', '.join(unknown)} (axes are: {', '.join(AXES)})")
        return cls(**axes)

    def axes(self) -> dict[str, tuple[Any, ...]]:
        """``{axis: values}`` in :data:`AXES` order."""
        return {axis: getattr(self, axis) for axis in AXES}

    def replace(self, **axes: Any) -> Sweep:
        """A copy with some axes replaced (each value checked as on construction)."""
        unknown = sorted(set(axes) - set(AXES))
        if unknown:
            raise VanishlabError(f"unknown axis {', '.join(unknown)} (axes are: {', '.join(AXES)})")
        return dataclasses.replace(self, **axes)

    @property
    def size(self) -> int:
        """Number of cells."""
        return reduce(lambda n, values: n * len(values), self.axes().values(), 1)

    def cells(self) -> list[CellConfig]:
        """Every cell of the grid, in a fixed order (the last axis, ``dtype``, varies fastest)."""
        return [
            CellConfig(**dict(zip(AXES, combo, strict=True)))
            for combo in itertools.product(*self.axes().values())
        ]


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
normal, identity) at gains 0.5, 1 and 2, that is clearly vanishing, near the edge of chaos and
exploding; two seeds; H = 32, T = 100, 8 samples per cell. About 15 s of one core.
"""

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_axis(axis: str, text: str) -> tuple[Any, ...]:
    """Parse a comma-separated command-line list (``"0.5,1,2"``) into checked axis values.

    Raises VanishlabError naming the axis and the offending item for an empty item
    (``"1,,2"``), a word where a number belongs, a non-positive size, an unknown name, etc.
    """
    if axis not in AXIS_TYPES:
        raise VanishlabError(f"unknown axis {axis!r} (axes are: {', '.join(AXES)})")
    flag = "--" + axis.replace("_", "-")
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise VanishlabError(
            f"{flag}: malformed list {text!r} (empty item; write values separated by commas, "
            f"e.g. {flag} {_EXAMPLES[axis]})"
        )
    kind = AXIS_TYPES[axis]
    values: list[Any] = []
    for item in items:
        if kind is int:
            try:
                values.append(int(item))
            except ValueError:
                raise VanishlabError(f"{flag}: {item!r} is not an integer") from None
        elif kind is float:
            try:
                values.append(float(item))
            except ValueError:
                raise VanishlabError(f"{flag}: {item!r} is not a number") from None
        elif kind is bool:
            word = item.lower()
            if word not in _TRUE | _FALSE:
                raise VanishlabError(f"{flag}: {item!r} is not true or false")
            values.append(word in _TRUE)
        else:
            values.append(item)
    try:
        return _as_values(axis, values)
    except VanishlabError as err:
        raise VanishlabError(f"{flag}: {err}") from None


_EXAMPLES = {
    "activation": "tanh,relu",
    "num_layers": "1,2,4",
    "hidden_size": "32,64",
    "input_size": "16",
    "seq_len": "50,200",
    "init": "orthogonal,default",
    "gain": "0.5,1,2",
    "input_std": "0,1",
    "bias": "true,false",
    "batch": "8",
    "seed": "0,1,2",
    "dtype": "float32,float64",
}
