"""The machinery of sweep axes: an :class:`AxisSet` deriving from a table of
:class:`~vanishlab.sweep.axis_entry.Axis` entries the cell and grid classes, value checks,
parsing and the docstring table.

The project's table is :data:`vanishlab.sweep.config.AXIS_TABLE`; this module knows no axis by
name except :data:`MODEL_AXIS`, whose value decides which other axes apply to a cell
(:attr:`Axis.applies_to`). See docs/design.md, "The axis table".
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sized
from functools import cached_property
from typing import Any

from ..errors import GridTooLargeError, VanishlabError
from .axis_entry import ARROW_TYPES, Axis
from .flag_text import parse_number, values_text
from .nearest import as_known_case, unknown_names

__all__ = [
    "MAX_CELLS",
    "MODEL_AXIS",
    "NOT_APPLICABLE",
    "AxisSet",
    "too_many_cells",
]

MODEL_AXIS = "model"
"""The axis whose value decides which other axes apply (:attr:`Axis.applies_to`)."""
NOT_APPLICABLE = "n/a"
"""How an axis that does not apply to a cell's model (activation of an LSTM) is shown: by the
report, and by a description of a grid none of whose models it applies to."""
MAX_CELLS = 1_000_000
"""The most cells one grid may have: listing a million takes seconds, and a bigger grid is
almost always a slip (``--seeds 10000000``); split such work into several runs."""


def too_many_cells(what: str) -> str:
    """The refusal of a grid above :data:`MAX_CELLS`; ``what`` says what is too many."""
    return (
        f"{what}: more cells than one run takes ({MAX_CELLS:,}); give fewer values, or split "
        "the work into several runs"
    )


# The command line's words, as --help lists them in lower case; a word in another case is the
# one it differs from only by case (Axis.as_named, nearest.as_known_case): --bias True, --model
# LSTM, --init Orthogonal.
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class _Named:
    """What :class:`CellConfig` and :class:`Sweep` share: a keyword that names no axis is
    refused naming the nearest (Python's own TypeError said "unexpected keyword argument")."""

    _axes: AxisSet
    _what = "axis"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        unknown = unknown_names(kwargs, cls._axes.names, cls._what)
        if unknown is not None:  # still a TypeError, as Python's own was
            several = sum(name not in cls._axes.names for name in kwargs) > 1
            raise TypeError(f"{cls.__name__}() got {'' if several else 'an '}{unknown}")
        return super().__new__(cls)


class _CellConfigBase(_Named):
    """Methods of :class:`CellConfig`; its fields come from an axis table."""

    _what = "config field"

    def __post_init__(self) -> None:
        model = getattr(self, MODEL_AXIS, None)
        if model is not None:
            # an axis no model of the cell takes, given a value (not its default): refused as
            # a grid's is, where CellConfig(model="lstm", activation="relu") dropped relu
            model = self._axes.by_name[MODEL_AXIS].canonical(model)
            given = {
                a.name: (getattr(self, a.name),)
                for a in self._axes.table
                if not a.applies(model) and getattr(self, a.name) is not None
            }
            self._axes.refuse_dropped(given, {**given, MODEL_AXIS: (model,)}, cell=True)
        for a in self._axes.table:
            value = getattr(self, a.name)
            if model is not None and not a.applies(model):
                # Not applicable to this model (activation of a gated cell): recorded as None,
                # its default or None given, so the cell exists once, not once per value.
                object.__setattr__(self, a.name, None)
                continue
            object.__setattr__(self, a.name, a.canonical(value))
        if self._axes.grid_check is not None:
            self._axes.grid_check({name: (getattr(self, name),) for name in self._axes.names})

    @classmethod
    def _of_grid(cls, values: Mapping[str, Any]) -> Any:
        """A cell of a :class:`Sweep`'s product, whose values are already canonical and whose
        grid check covered every combination: the same cell as ``cls(**values)``, built
        without checking each value again (a grid of a million cells lists in seconds)."""
        cell = object.__new__(cls)
        fields = cell.__dict__  # a frozen dataclass refuses setattr, not its own __dict__
        fields.update(values)
        model = values.get(MODEL_AXIS)
        if model is not None:
            fields.update(cls._axes.not_applying(model))
        return cell

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict, in :attr:`AxisSet.names` order."""
        return {name: getattr(self, name) for name in self._axes.names}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        cls._axes.refuse_unknown(data, cls._what)
        return cls(**data)

    @cached_property
    def cell_id(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of :meth:`to_dict`."""
        return self._axes.config_id(self.to_dict())


class _SweepBase(_Named):
    """Methods of :class:`Sweep`; its fields come from an axis table."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        sweep = super().__new__(cls, *args, **kwargs)
        if args or kwargs:  # (none where pickle or copy makes it: no check, nothing left)
            # the axes the caller wrote: __post_init__ refuses those that no model takes
            sweep.__dict__["_given"] = (*cls._axes.names[: len(args)], *kwargs)
        return sweep

    def __post_init__(self) -> None:
        given = self.__dict__.pop("_given", ())
        for name in self._axes.names:
            object.__setattr__(self, name, self._axes.values(name, getattr(self, name)))
        if self._axes.grid_check is not None:
            self._axes.grid_check(self.axes())
        self._axes.refuse_dropped(given, self.axes())
        if self.size > MAX_CELLS:
            name, values = max(self.axes().items(), key=lambda item: len(item[1]))
            raise GridTooLargeError(
                too_many_cells(
                    f"the grid has {self.size:,} cells (its longest axis, {name}, has "
                    f"{len(values):,} values)"
                )
            )

    @classmethod
    def from_axes(cls, axes: Mapping[str, Any]) -> Any:
        """A sweep from ``{axis: values}`` (as stored in a manifest); unknown axes are an error.
        An axis whose values no model of the grid takes is not (:meth:`AxisSet.refuse_dropped`):
        a run's grid ``model = lstm; activation = tanh,relu`` (the quick grid's ``--model
        lstm``) still reads."""
        cls._axes.refuse_unknown(axes)
        return cls._made(axes, given=())

    def axes(self) -> dict[str, tuple[Any, ...]]:
        """``{axis: values}`` in :attr:`AxisSet.names` order."""
        return {name: getattr(self, name) for name in self._axes.names}

    def replace(self, **axes: Any) -> Any:
        """A copy with some axes replaced (each value checked as on construction; an axis
        given here whose values no model of the grid takes is refused, as ``vanishlab sweep
        EXPERIMENT --model lstm --activation relu`` is)."""
        self._axes.refuse_unknown(axes)
        return self._made({**self.axes(), **axes}, given=tuple(axes))

    @classmethod
    def _made(cls, axes: Mapping[str, Any], given: tuple[str, ...]) -> Any:
        """``cls(**axes)``, refusing what :meth:`AxisSet.refuse_dropped` refuses in the axes
        ``given`` only (the others came from a grid already made, or from a manifest)."""
        sweep = object.__new__(cls)
        sweep.__dict__["_given"] = given
        sweep.__init__(**axes)
        return sweep

    @property
    def size(self) -> int:
        """Number of cells (distinct: an axis that does not apply to a model adds none), counted
        without listing them."""
        axes = self.axes()
        if not self._axes.conditional:
            return math.prod(len(values) for values in axes.values())
        # Per model: the product over the other axes that apply to it (one value otherwise).
        total = 0
        for model in axes[MODEL_AXIS]:
            fixed = {MODEL_AXIS, *self._axes.not_applying(model)}
            total += math.prod(len(v) for name, v in axes.items() if name not in fixed)
        return total

    def cells(self) -> list[Any]:
        """Every cell of the grid, in a fixed order (the last axis varies fastest).

        With a ``model`` axis, a cell whose model an axis does not apply to is listed once
        (at the first of that axis's values), not once per value.
        """
        names, columns = self._axes.names, tuple(self.axes().values())
        # Per model, the positions of the axes that do not apply to it: a combination with any
        # but the first value there repeats an earlier cell, and is skipped.
        skip: dict[Any, tuple[int, ...]] = {}
        if self._axes.conditional:
            model_at = names.index(MODEL_AXIS)
            skip = {
                model: tuple(names.index(name) for name in self._axes.not_applying(model))
                for model in columns[model_at]
            }
        make = self._axes.CellConfig._of_grid
        cells = []
        for combo in itertools.product(*columns):
            if skip and any(combo[i] != columns[i][0] for i in skip[combo[model_at]]):
                continue
            cells.append(make(dict(zip(names, combo, strict=True))))
        return cells


_CELL_DOC = """One cell: a complete ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` configuration, its inputs
    and its seed.

    One field per axis of :data:`AXIS_TABLE`, with its default (the table below). Values are
    checked and put in canonical form on construction (VanishlabError otherwise). An axis that
    does not apply to the cell's model is recorded as None; given a value other than its
    default (``model="lstm", activation="relu"``), it is refused, as a grid's is. ``cell_id``
    is the stable content hash.
    """

_SWEEP_DOC = """A grid: for each axis a tuple of values; the cells are their Cartesian product.

    Any axis may be given as one value, a list, a tuple or a range (``seed=range(3)``); it is
    stored as a tuple of checked, canonical values. Axes left out take the one default value of
    :class:`CellConfig`. Example::

        vl.Sweep(activation=("tanh", "relu"), gain=(0.5, 1.0, 2.0), seed=range(3))

    Values are checked on construction, in the command line's words (VanishlabError): an axis
    given a value that applies to none of the grid's models (``model="lstm",
    activation="relu"``) is refused, as ``vanishlab sweep`` refuses it.
    """


class AxisSet:
    """Everything derived from one axis table: names, types, the two classes and parsing.

    The module's :data:`AXES`, :class:`CellConfig`, :class:`Sweep` and :func:`parse_axis` are
    those of ``AxisSet(AXIS_TABLE)``; a test builds one from an extended table to prove that an
    axis needs nothing but its entry.
    """

    def __init__(
        self,
        table: tuple[Axis, ...],
        module: str = __name__,
        grid_check: Callable[[Mapping[str, tuple[Any, ...]]], None] | None = None,
    ) -> None:
        """Derive everything from ``table``; ``module`` is where the classes will live (so that
        cells pickle by reference: :mod:`vanishlab.sweep.config` passes its own name).
        ``grid_check(axes)`` checks values of several axes together (an init that does not
        apply to a model) on ``{axis: checked values}``: a grid's, or a cell's (one value
        each); it raises VanishlabError."""
        self.table = table
        self.grid_check = grid_check
        self.names: tuple[str, ...] = tuple(a.name for a in table)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"axis table names an axis twice: {self.names}")
        self.by_name: dict[str, Axis] = {a.name: a for a in table}
        self._not_applying: dict[str, dict[str, None]] = {}
        # the axes left out of a cell id at their default, and that default
        self._omitted_at_default: dict[str, Any] = {
            a.name: a.default for a in table if not a.in_id_at_default
        }
        #: True when some axis applies to some models only, and the table has a model axis.
        self.conditional = MODEL_AXIS in self.by_name and any(
            a.applies_to is not None for a in table
        )
        for a in table:  # a bad default is a bug in the table: fail on import
            if type(a.default) is not a.type or a.type not in ARROW_TYPES:
                raise ValueError(f"axis {a.name}: default {a.default!r} is not a {a.type}")
        ns = {"_axes": self, "__module__": module}
        self.CellConfig: type = dataclasses.make_dataclass(
            "CellConfig",
            # what a field takes (Axis.takes: a NumPy integer too); it holds a value of a.type
            [(a.name, a.takes, dataclasses.field(default=a.default)) for a in table],
            bases=(_CellConfigBase,),
            # help(vl.CellConfig) and help(vl.Sweep) list the axes, their defaults and
            # meanings (the module docstring's table, which an IDE does not show beside them)
            namespace={**ns, "__doc__": self._class_doc(_CELL_DOC)},
            frozen=True,
        )
        self.Sweep: type = dataclasses.make_dataclass(
            "Sweep",
            # what a field takes (one value or several, _SWEEP_DOC); it holds a tuple of them
            [
                (a.name, a.takes | Iterable[a.takes], dataclasses.field(default=(a.default,)))
                for a in table
            ],
            bases=(_SweepBase,),
            namespace={**ns, "__doc__": self._class_doc(_SWEEP_DOC)},
            frozen=True,
        )
        # From Python 3.12 make_dataclass sets __module__ to its caller's (this module), over
        # the namespace's: a cell then failed to pickle ("attribute lookup CellConfig on
        # vanishlab.sweep.axes failed"), and every sweep with workers > 1 with it.
        self.CellConfig.__module__ = self.Sweep.__module__ = module

    def _class_doc(self, doc: str) -> str:
        """``doc`` and, below it, the axes, defaults and meanings (:meth:`docstring_table`)."""
        table = self.docstring_table().replace("\n", "\n    ")
        return f"{doc.rstrip()}\n\n    Axes and their defaults:\n\n    {table}\n    "

    def axis(self, name: str) -> Axis:
        """The :class:`Axis` called ``name``, or VanishlabError naming every axis."""
        try:
            return self.by_name[name]
        except KeyError:
            raise VanishlabError(str(unknown_names((name,), self.names, "axis"))) from None

    def refuse_unknown(self, names: Iterable[object], what: str = "axis") -> None:
        """VanishlabError where some of ``names`` is no axis, naming the nearest axis of each
        (:func:`.nearest.unknown_names`; ``what``: ``axis``, or ``config field``)."""
        unknown = unknown_names(names, self.names, what)
        if unknown is not None:
            raise VanishlabError(unknown)

    def config_id(self, config: Mapping[str, Any]) -> str:
        """The cell id of a canonical config mapping: the first 16 hex digits of the SHA-256
        of its canonical JSON. An axis with ``in_id_at_default=False`` is left out at its
        default; an axis that does not apply to the config's model counts as None."""
        model = config.get(MODEL_AXIS)
        # found once per model, not per axis and cell: a million cells' ids take seconds
        absent = self.not_applying(model) if model is not None else {}
        omitted = self._omitted_at_default
        kept: dict[str, Any] = {}
        for k, v in config.items():
            if k in absent:
                v = None
            if k in omitted and v == omitted[k]:
                continue
            kept[k] = v
        text = json.dumps(kept, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def refuse_dropped(
        self, given: Iterable[str], axes: Mapping[str, tuple[Any, ...]], cell: bool = False
    ) -> None:
        """Refuse an axis of ``given`` whose values would be dropped: one that applies to none of
        the models of the grid ``axes`` (``{axis: checked values}``), given a value other than
        its default. A cell records such an axis as None, so ``--model lstm --activation relu``
        (``Sweep(model="lstm", activation="relu")``) would quietly measure an LSTM and drop
        relu. The axis's default changes nothing and passes; beside a model it applies to, every
        value counts. ``cell``: ``axes`` are one cell's (``CellConfig``), said so."""
        models = axes.get(MODEL_AXIS, ())
        for name in given:
            a = self.by_name[name]
            if a.applies_to is None or any(a.applies(m) for m in models):
                continue
            dropped = tuple(v for v in axes[name] if v != a.default)
            if dropped:
                flag, model = f"{a.flag} ({name}=)", f"--model ({MODEL_AXIS}=)"
                takers = " or ".join(a.applies_to)
                whose, remedy = (
                    (f"the cell's model is {models[0]}", f"use model {takers}")
                    if cell
                    else (f"the grid's models are {', '.join(models)}", f"add {takers} to {model}")
                )
                raise VanishlabError(
                    f"{flag} applies to model {', '.join(a.applies_to)} only, and {whose}: "
                    f"{values_text(dropped)} would be dropped; leave out {flag}, or {remedy}"
                )

    def not_applying(self, model: str) -> dict[str, None]:
        """``{axis: None}`` for the axes that mean nothing for ``model`` (what its cells
        record there)."""
        found = self._not_applying.get(model)
        if found is None:
            found = self._not_applying[model] = {
                a.name: None for a in self.table if not a.applies(model)
            }
        return dict(found)

    def values(self, name: str, values: Any) -> tuple[Any, ...]:
        """One axis's values as a checked tuple: one value, a list, a tuple or a range."""
        a = self.axis(name)
        # one value: a 0-d tensor or array too (torch.tensor(16), an integer as
        # core.integers takes it), which is Iterable but has no len() (torch's TypeError)
        one = getattr(values, "ndim", None) == 0
        if isinstance(values, str | bytes) or not isinstance(values, Iterable) or one:
            values = (values,)
        if isinstance(values, Sized):  # refused before each value is checked
            try:
                count = f"{len(values):,}" if len(values) > MAX_CELLS else None
            except OverflowError:  # a range longer than sys.maxsize (``--seeds 2**63``)
                count = f"more than {sys.maxsize:,}"
            if count is not None:
                raise GridTooLargeError(too_many_cells(f"axis {name} has {count} values"))
        out = tuple(a.canonical(v) for v in values)
        if not out:
            raise VanishlabError(f"axis {name} has no values")
        seen: set[Any] = set()
        for v in out:
            if v in seen:
                raise VanishlabError(f"axis {name} lists {v!r} twice")
            seen.add(v)
        return out

    def parse(self, name: str, text: str) -> tuple[Any, ...]:
        """See :func:`parse_axis`."""
        a = self.axis(name)
        flag = a.flag
        items = [item.strip() for item in text.split(",")]
        if any(not item for item in items):
            raise VanishlabError(
                f"{flag}: malformed list {text!r} (empty item; write values separated by commas, "
                f"e.g. {flag} {a.example})"
            )
        values: list[Any] = []
        for item in items:
            if a.type is int or a.type is float:
                values.append(parse_number(flag, item, a.type))
            elif a.type is bool:
                word = as_known_case(item, (*_TRUE, *_FALSE))
                if word not in _TRUE | _FALSE:
                    raise VanishlabError(f"{flag}: {item!r} is not true or false")
                values.append(word in _TRUE)
            else:
                values.append(a.as_named(item))
        try:
            return self.values(name, values)
        except VanishlabError as err:
            # the flag names the axis: "--seq-len: seq_len must be positive" named it twice
            said = str(err).removeprefix(f"axis {name} ").removeprefix(f"{name} ")
            raise VanishlabError(f"{flag}: {said}") from None

    def docstring_table(self) -> str:
        """The reStructuredText table of axes, defaults and meanings (the module docstring's)."""
        rule = "=" * 12 + " " + "=" * 10 + " " + "=" * 69
        lines = [rule, f"{'axis':<12} {'default':<10} meaning", rule]
        lines += [f"{a.name:<12} {a.default!s:<10} {a.meaning}" for a in self.table]
        return "\n".join([*lines, rule])
