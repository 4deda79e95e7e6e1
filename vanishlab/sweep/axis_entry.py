"""One sweep axis: the :class:`Axis` entry of an axis table, with what a value of it must be,
its canonical form, and its flag, Arrow type and words for messages.

:class:`vanishlab.sweep.axes.AxisSet` derives a table's classes and parsing from its entries.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, SupportsIndex

from ..core.integers import as_integer
from ..errors import VanishlabError
from .files import is_bool
from .nearest import as_known_case, did_you_mean

__all__ = ["ARROW_TYPES", "INT64_MAX", "Axis"]

INT64_MAX = 2**63 - 1
"""The largest integer a shard's int64 column stores: the bound of seeds and training steps."""


ARROW_TYPES = {int: "int64", float: "float64", bool: "bool", str: "string"}
_TYPE_TEXT = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}


@dataclass(frozen=True)
class Axis:
    """One sweep axis: everything the config, the CLI, the store and the report need to know.

    Attributes:
        name: the field of :class:`CellConfig` and :class:`Sweep`, the parquet column, and
            (with ``-`` for ``_``) the ``vanishlab sweep`` flag.
        type: ``int``, ``float``, ``bool`` or ``str``: the Python type of a value.
        default: the value of a cell that does not set it.
        meaning: one line for the docstring table of this module.
        help: the ``vanishlab sweep --FLAG`` help text.
        example: a comma-separated example value list for that flag and its error messages.
        label: the short name the report prints (``"T"`` for ``seq_len``).
        choices: the allowed values of a ``str`` axis (None: any, or ``check`` decides).
        names: for a ``str`` axis whose ``check`` decides, the names it takes now (the init
            registry's, which grows as inits are registered), for :meth:`as_named`.
        low, high: bounds of an ``int`` or ``float`` axis, inclusive (None: unbounded).
        check: an extra check of one canonical value (raises VanishlabError), e.g. that an
            init is registered.
        applies_to: the models (values of the ``model`` axis) the axis means something for;
            None for every model. When the table has a ``model`` axis, a cell of another model
            records this axis as None (not applicable), and a grid lists that cell once.
        report_rank: position in the report's tables (smaller first).
        in_id_at_default: False for an axis added after runs exist: a cell at its default
            then hashes as before the axis existed, so old run directories still resume.
    """

    name: str
    type: type
    default: Any
    meaning: str
    help: str
    example: str
    label: str
    choices: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    check: Callable[[Any], None] | None = None
    applies_to: tuple[str, ...] | None = None
    report_rank: int = 100
    in_id_at_default: bool = True
    names: Callable[[], Iterable[str]] | None = None

    @property
    def arrow_type(self) -> str:
        """The parquet (Arrow) type name: ``int64``, ``float64``, ``bool`` or ``string``."""
        return ARROW_TYPES[self.type]

    @property
    def takes(self) -> Any:
        """What a constructor takes for a value, as its annotation says: ``int |
        SupportsIndex`` for an ``int`` axis (a NumPy integer, a 0-d integer tensor too:
        :meth:`canonical`, through ``core.integers``), else :attr:`type`. A value is held in
        canonical form, of :attr:`type`."""
        return int | SupportsIndex if self.type is int else self.type

    @property
    def flag(self) -> str:
        """The command-line flag, ``--seq-len`` for ``seq_len``."""
        return "--" + self.name.replace("_", "-")

    @property
    def type_text(self) -> str:
        """What a value must be, for messages: ``an integer``, ``a finite number``, ..."""
        return _TYPE_TEXT[self.type]

    def stores(self, value: Any) -> bool:
        """Whether ``value``, as read back from JSON (a manifest's grid, a shard's config), is
        of this axis's type: an integer (not a bool), a finite number (an integer too), a bool,
        a string; None only where the axis applies to some models (a cell of another model).
        Choices and bounds are not checked: a run may name an init this process lacks."""
        if value is None:
            return self.applies_to is not None
        if self.type is bool or isinstance(value, bool):
            return self.type is bool and isinstance(value, bool)
        if self.type is float:
            return isinstance(value, int | float) and math.isfinite(value)
        return isinstance(value, self.type)

    def misfit(self, values: Iterable[Any]) -> str | None:
        """``hidden_size holds "8", not an integer`` for the first of ``values`` that this axis
        does not :meth:`stores`, or ``hidden_size holds -8 (must be at least 1)`` for one out of
        its bounds or choices (the checks of a command-line flag, but for ``check``: a run may
        name an init this process has not registered), else None."""
        for value in values:
            text = json.dumps(value, default=repr)
            if not self.stores(value):
                return f"{self.name} holds {text}, not {self.type_text}"
            if value is None:
                continue
            if self.choices is not None and value not in self.choices:
                return f"{self.name} holds {text} (choose from {', '.join(self.choices)})"
            if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high
            ):
                return f"{self.name} holds {text} (must be {self._range_text()})"
        return None

    def as_named(self, word: str) -> str:
        """A word typed on the command line as the value it names: ``LSTM`` is ``lstm``, where
        it differs from exactly one of the axis's :attr:`choices` (or :attr:`names`) only by
        case (:func:`.nearest.as_known_case`); any other word as it is, for :meth:`canonical`
        to check."""
        if self.choices is not None:
            return as_known_case(word, self.choices)
        return word if self.names is None else as_known_case(word, self.names())

    def applies(self, model: str) -> bool:
        """Whether the axis means something for ``model`` (``"rnn"``, ...)."""
        return self.applies_to is None or model in self.applies_to

    def canonical(self, value: Any) -> Any:
        """``value`` in canonical form (int, float, bool or str), or raise VanishlabError."""
        name = self.name
        if self.type is int:
            number = as_integer(value, name)  # a NumPy integer, a 0-d integer tensor too
            if number is None:
                raise VanishlabError(f"{name} must be an integer, got {value!r}")
            value = number
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise VanishlabError(f"{name} must be a number, got {value!r}")
            value = float(value) + 0.0  # + 0.0 folds -0.0 into 0.0, so the cell id is unique
            if not math.isfinite(value):
                raise VanishlabError(f"{name} must be a finite number >= 0, got {value}")
        elif self.type is bool:
            if not is_bool(value):  # a NumPy bool too (a row of load_cells), as np.int64
                raise VanishlabError(f"{name} must be true or false, got {value!r}")
            value = bool(value)
        elif not isinstance(value, str):
            raise VanishlabError(f"{name} must be a string, got {value!r}")
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise VanishlabError(f"{name} must be {self._range_text()}, got {value}")
        if self.choices is not None and value not in self.choices:
            raise VanishlabError(
                f"unknown {name} {value!r}{did_you_mean(value, self.choices)} (choose from "
                f"{', '.join(self.choices)})"
            )
        if self.check is not None:
            self.check(value)
        return value

    def _range_text(self) -> str:
        if self.type is float:
            return f"a finite number >= {self.low:g}"
        if self.high == INT64_MAX:
            return f"between {self.low:g} and 2**63 - 1"
        if self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        return "at least 1" if self.low == 1 else f">= {self.low:g}"  # (analyze's words)
