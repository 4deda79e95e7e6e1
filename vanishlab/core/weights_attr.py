"""The keys of a frame's ``attrs`` that hold the fingerprint of the weights it was measured on
(:func:`vanishlab.core.fingerprint.weights_fingerprint`) and the dtype it was measured in,
without torch: ``vl.load_results`` sets them on an analysis's or one monitored step's rows, which a
report reads without importing torch."""

from __future__ import annotations

__all__ = [
    "DTYPE_ATTR",
    "DTYPE_COLUMN",
    "MONITOR_STEP",
    "STEP_WEIGHTS_ATTR",
    "WEIGHTS_ATTR",
    "cells_text",
    "step_cells",
]

WEIGHTS_ATTR = "vanishlab.weights_sha256"
"""The key of ``frame.attrs`` that holds :func:`~.fingerprint.weights_fingerprint` of the measured
module: :func:`vanishlab.jacobian_norms` sets it, and :func:`vanishlab.load_results` for an
analysis (``vanishlab analyze``) or one monitored step whose shard records it;
:func:`vanishlab.check_pascanu` compares it."""

STEP_WEIGHTS_ATTR = "vanishlab.weights_sha256_by_step"
"""The key of ``frame.attrs`` that holds the fingerprint of each monitored step's weights, for the
rows of several steps, which no one :data:`WEIGHTS_ATTR` covers: ``{"column": "step",
"fingerprints": {"0": ..., "100": ...}, "cells": "<cell_id>:0 <cell_id>:100 ..."}``, the steps as
strings (the JSON ``to_parquet`` writes ``attrs`` in keeps no integer key), and the step of each
step's ``cell_id`` in one string (:func:`cells_text`). :func:`vanishlab.load_results` sets it on
a monitor's rows of several steps; :func:`vanishlab.check_pascanu` compares the fingerprint of the
steps a frame holds (``rows[rows.step == n]``; by their ``cell_id`` where the step column is gone,
``rows.xs(n, level="step")``) and refuses the rows of several, and those whose step it cannot
tell."""

DTYPE_ATTR = "vanishlab.dtype"
"""The key of ``frame.attrs`` that holds the dtype the norms were measured in (``"float32"`` or
``"float64"``), beside :data:`WEIGHTS_ATTR`, which reads a float32 module and its ``.double()``
copy alike: :func:`vanishlab.jacobian_norms` sets it, and :func:`vanishlab.load_results` for an
analysis or one monitored step from its shard's ``config``; :func:`vanishlab.check_pascanu`
takes the coarser of its eps and the module's for its default tolerance."""

DTYPE_COLUMN = "dtype"
"""A sweep's config column (its ``dtype`` axis, :mod:`vanishlab.sweep.config`) that holds the
dtype each row was measured in, ``"float32"`` or ``"float64"``: a sweep's rows record no module
(the weights of many cells), and :func:`vanishlab.check_pascanu` reads each row's rounding from
this column, beside the module's; here, beside the records, so that it reads it without the
sweep layer."""

MONITOR_STEP = "step"
"""A monitored run's training step (the ``n`` of a monitor's ``step(n)``): the column its shards
add (:data:`vanishlab.sweep.schema.STEP_SCHEMA`), its key in the step's record (a shard's
``monitor``) and in :data:`STEP_WEIGHTS_ATTR`'s, and the column :func:`vanishlab.load_results`,
:func:`vanishlab.load_cells`, :func:`vanishlab.summarize` and a monitor's page give it as; here,
beside the records, so that :func:`vanishlab.check_pascanu` reads it without the sweep layer.
Not the step of a trained cell's loss curve (:mod:`vanishlab.sweep.train_cell`: another
table)."""


def cells_text(steps: dict[str, int]) -> str:
    """The ``"cells"`` of :data:`STEP_WEIGHTS_ATTR`: each monitored step's ``cell_id`` and step
    (``steps``), ``"<cell_id>:<step>"`` by step, separated by spaces. One string, not a dict:
    pandas deep-copies ``attrs`` on every operation (a column read, a comparison, a selection,
    each group of a groupby), and a dict of a 2,000-step monitor's cells made each copy 2.3 ms,
    not 0.9 (``rows[rows.lag == 3]``: 10.1 ms, not 6.0; 1.8 without ``attrs``); a string is
    copied as it is."""
    return " ".join(f"{cell}:{step}" for cell, step in sorted(steps.items(), key=lambda i: i[1]))


def step_cells(text: object) -> dict[str, str] | None:
    """The step of each ``cell_id`` that :func:`cells_text` wrote (the step as a string, as the
    record's ``"fingerprints"`` name it), or None where ``text`` is not such a string."""
    if not isinstance(text, str):
        return None
    pairs = [item.rpartition(":") for item in text.split()]
    if not all(cell and sep and step.isdigit() for cell, sep, step in pairs):
        return None
    return {cell: step for cell, _, step in pairs}
