"""The config columns that say nothing of a user's model, shown null by a run's readers.

A run of ``vanishlab analyze`` or of :class:`vanishlab.JacobianMonitor` is a sweep's run
directory: its shards hold a column for every axis of the table, and where the user's model has
no value the axis table's default fills it. Two kinds of those defaults read as facts about the
model when they are none: the training settings ``lr``, ``optimizer`` and ``clip`` (vanishlab
did not train the model, and knows nothing of how it was trained), and ``seed`` where no seed
drew the inputs (an inputs file, a monitor's probe; a seed also starts the Lyapunov exponent's
direction, but that is no setting of the run). :func:`~.store.load_results`,
:func:`~.store.load_cells` and :func:`~.summary.summarize` show them null (``seed`` as a
nullable ``Int64``), as a cell records an axis that does not apply to its model (an LSTM's
``activation``). ``task`` (``none``) and ``train_steps`` (0) say that vanishlab trained
nothing, which holds; a monitor's training step is its ``step`` column.

The shards keep the defaults, and are written as before: those columns are not nullable in a
shard's schema, and a cell id hashes its config, so a null written there would give an
existing analysis another cell id and measure it again. Blanked when read, runs written before
and after read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .config import TRAINING_AXES, axis
from .manifest import MONITOR, SINGLE_MODEL

__all__ = ["UNSET_TRAINING", "unset_axes", "without_unset"]

UNSET_TRAINING: tuple[str, ...] = TRAINING_AXES
"""The training settings that are null in a trained model's run (the module docstring)."""

_NULLABLE = {"int64": "Int64", "float64": "float64", "bool": "boolean"}
"""The nullable dtype of a blanked column, by its axis's Arrow type; a string column keeps the
dtype it was read with (``str`` in pandas 3, ``object`` before), as every other reader's string
column has it: blanked to ``object``, an analysis's ``optimizer`` made a sweep's frame
concatenated with it ``object``, and its all-null column written by ``to_parquet`` took Arrow's
``null`` type, which no reader of a folder holding a sweep's file beside it could cast."""


def unset_axes(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """The config columns shown null in the run of ``manifest``: none for a sweep;
    :data:`UNSET_TRAINING` for an analysis and a monitor, and ``seed`` too unless the analysis
    drew Gaussian inputs (its manifest's ``model.inputs`` has ``gaussian``)."""
    kind = manifest.get("kind")
    if kind not in (SINGLE_MODEL, MONITOR):
        return ()
    model = manifest.get("model")
    inputs = model.get("inputs") if isinstance(model, dict) else None
    seeded = kind == SINGLE_MODEL and (not isinstance(inputs, dict) or "gaussian" in inputs)
    return UNSET_TRAINING if seeded else (*UNSET_TRAINING, "seed")


def without_unset(frame: pd.DataFrame, manifest: Mapping[str, Any]) -> pd.DataFrame:
    """``frame`` (a reader's: one column per axis) with the columns of :func:`unset_axes`
    null: NaN, None, or ``<NA>`` in an ``Int64`` column."""
    names = [name for name in unset_axes(manifest) if name in frame]
    if not names:
        return frame
    frame = frame.copy()
    for name in names:
        dtype = _NULLABLE.get(axis(name).arrow_type, frame[name].dtype)
        frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=dtype)
    return frame
