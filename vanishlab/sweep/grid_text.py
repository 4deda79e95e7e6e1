"""A grid in words: its values as a description lists them (``a = 1,2; b = n/a``), whether a
description is one :func:`vanishlab.sweep.experiments.variant` wrote, the models an axis does
not apply to, and the digest that names a grid too long to spell out (``custom-<hash>``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .axes import MODEL_AXIS, NOT_APPLICABLE
from .config import Sweep, axis
from .flag_text import values_text

__all__ = [
    "OTHER_AXES_TEXT",
    "applies_to_no_model",
    "axes_text",
    "grid_digest",
    "is_grid_description",
    "models_not_applying",
    "values_brief",
    "values_text",
]

#: The axes a long run name's ``custom-`` digest has hashed at every value since that name
#: was first made. An axis added since is hashed only where the grid moves it off its default
#: (as a cell id leaves out an ``in_id_at_default=False`` axis), so that a new axis keeps the
#: names, and the default ``--out``, of the runs made before it (docs/cli.md, "Naming a run").
_DIGEST_AXES = (
    "model", "activation", "num_layers", "hidden_size", "input_size", "seq_len", "init",
    "gain", "input_std", "bias", "batch", "seed", "dtype", "task", "train_steps", "lr",
    "optimizer", "clip",
)  # fmt: skip


def grid_digest(sweep: Sweep) -> str:
    """8 hex digits of a SHA-256 of the grid's axes and values (a long run name's part)."""
    defaults = type(sweep)().axes()  # its own table's: a test adds an axis to a copy
    kept = {a: list(v) for a, v in sweep.axes().items() if a in _DIGEST_AXES or v != defaults[a]}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:8]


def values_brief(values: tuple[Any, ...], most: int = 8) -> str:
    """:func:`values_text`, with a long list shortened: ``0,1,2,...,999 (1000 values)`` for a
    run of consecutive integers, ``0,5,7,9,... (12 values)`` otherwise."""
    if len(values) <= most:
        return values_text(values)
    ints = all(type(v) is int for v in values)
    if ints and all(b == a + 1 for a, b in itertools.pairwise(values)):
        return f"{values_text(values[:3])},...,{values[-1]} ({len(values)} values)"
    return f"{values_text(values[:4])},... ({len(values)} values)"


def models_not_applying(axes: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The models of the grid ``axes`` (axis name -> values) that the axis ``name`` does not
    apply to: ``("lstm", "gru")`` for ``activation`` beside ``model = rnn,lstm,gru``. Their
    cells record it as None, one cell whatever its values."""
    a = axis(name)
    return tuple(m for m in axes.get(MODEL_AXIS, ()) if not a.applies(m))


def applies_to_no_model(axes: Mapping[str, Any], name: str) -> bool:
    """Whether the axis ``name`` applies to none of the models of the grid ``axes`` (axis
    name -> values): ``activation`` beside ``model = lstm``. Its cells record it as None, so a
    description or listing of the grid shows it as ``n/a``."""
    models = tuple(axes.get(MODEL_AXIS, ()))
    return bool(models) and len(models_not_applying(axes, name)) == len(models)


def axes_text(axes: Mapping[str, Any], names: Iterable[str]) -> str:
    """``"a = 1,2; b = x"``: the values of the axes ``names``, as a description lists them; an
    axis that applies to none of the grid's models is ``n/a``, as its cells record it (None)."""

    def values(name: str) -> str:
        if applies_to_no_model(axes, name):
            return NOT_APPLICABLE
        return values_brief(tuple(axes[name]))

    return "; ".join(f"{a} = {values(a)}" for a in names)


OTHER_AXES_TEXT = " (other axes as in "
"""How a description that :func:`variant` wrote ends (before the grid's origin and ")")."""


def is_grid_description(text: str) -> bool:
    """Whether ``text`` is a description :func:`variant` wrote (a cell count and axes, true of
    that grid alone), not an experiment's own: a run extended by other grids rewrites it."""
    return text.endswith(")") and OTHER_AXES_TEXT in text
