"""Flags that set how a cell trains, given to a grid that trains nothing.

``vanishlab sweep --lr 0`` on the quick default grid (``train_steps`` 0): ``lr`` changes no
measurement there, yet the cells record it, so they get other ids, and the run is named
``default-lr=0.0``. The command is not refused: a run made so records that very command, which
must still resume it and, replayed into a new directory (the report's "Reproduce"), rebuild its
cells; and a grid built in Python (``vl.Sweep(lr=0.001)``) is recorded with the same flag. It
says so in one note instead (:func:`untrained_note`), naming the experiments that train.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import VanishlabError
from .config import TRAINING_AXES, axis, trains
from .experiments import builtin_experiments_dir, list_experiments, load_experiment

__all__ = ["training_experiments", "untrained_note"]


def training_experiments() -> list[str]:
    """The built-in experiments whose grid trains a cell, by name; not one that a module of
    ``./experiments`` shadows (``vanishlab sweep NAME`` would run that module)."""
    builtin = builtin_experiments_dir().resolve()
    names = []
    for name, _, path in list_experiments():
        if path.resolve().parent != builtin:
            continue
        try:
            exp = load_experiment(path)
        except VanishlabError:  # (a built-in module does load; nothing to say here if not)
            continue
        if trains(exp.sweep.axes()):
            names.append(name)
    return names


def untrained_note(
    before: Mapping[str, tuple[Any, ...]],
    after: Mapping[str, tuple[Any, ...]],
    given: Iterable[str],
) -> str | None:
    """One line on the axes of :data:`~.config.TRAINING_AXES` among ``given`` (the axes given
    as flags) that changed the grid ``before`` into ``after`` (``{axis: values}``), when
    ``after`` trains nothing; None otherwise (also for a flag that repeats the grid's own
    values, as a recorded command does). Several values (``--lr 0,0.5``) measure each cell once
    per setting, all alike: the note counts them."""
    if trains(after):
        return None
    given = set(given)
    changed = [n for n in TRAINING_AXES if n in given and tuple(after[n]) != tuple(before[n])]
    if not changed:
        return None
    flags = " and ".join(f"{axis(n).flag} {','.join(str(v) for v in after[n])}" for n in changed)
    changes, them = ("changes", "it") if len(changed) == 1 else ("change", "them")
    times = math.prod(len(after[n]) for n in TRAINING_AXES)  # each setting measures the same
    again = f", the same measurement {times} times over" if times > 1 else ""
    train = "give --task and --train-steps"
    found = training_experiments()
    if found:
        train += f", or sweep an experiment that trains ({', '.join(found)})"
    return (
        f"note: this grid trains nothing (train_steps 0), so {flags} {changes} no measurement: "
        f"its cells measure what they would without {them}, under other cell ids{again}; "
        f"to train, "
        f"{train}"
    )
