"""The columns of a shard and their Arrow schema: the config columns of the axis table, then
``cell_id``, the row keys (``source``, ``layer``, ``lag``) and the measured values; a monitored
run's shards add the training ``step``. And a shard's metadata (:class:`CellMeta`), with the
kinds of failure, a trained cell's outcome fields and the name of a monitored step's training
loss. :mod:`vanishlab.sweep.store` writes and
reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pyarrow as pa

from ..core.weights_attr import MONITOR_STEP
from .axis_entry import Axis
from .checksums import META_DIGEST, StoredSummary
from .config import AXES, AXIS_TABLE

__all__ = [
    "COLUMNS",
    "CONFIG_COLUMNS",
    "FAILURES",
    "KEY_COLUMNS",
    "MONITOR_LOSS",
    "MONITOR_STEP",
    "OVERFLOW_PARTS",
    "SCHEMA",
    "STEP_COLUMNS",
    "STEP_SCHEMA",
    "TRAIN_FIELDS",
    "VALUE_COLUMNS",
    "CellMeta",
    "config_fields",
    "later_meta_keys",
    "meta_keys_ok",
    "meta_keys_readable",
    "overflow_reason",
    "overflowed_part",
    "shard_schema",
]

CONFIG_COLUMNS: tuple[str, ...] = AXES
_ROW_FIELDS: tuple[pa.Field, ...] = (
    pa.field("cell_id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("layer", pa.int64(), nullable=True),  # null for source "input"
    pa.field("lag", pa.int64(), nullable=False),
    pa.field("log10_fro_mean", pa.float64(), nullable=False),
    pa.field("log10_fro_std", pa.float64(), nullable=False),
    pa.field("log10_spec_mean", pa.float64(), nullable=False),
    pa.field("log10_spec_std", pa.float64(), nullable=False),
    pa.field("n_zero", pa.int64(), nullable=False),
)
"""The Arrow fields of a shard's columns after the config columns: the one list of them."""
KEY_COLUMNS: tuple[str, ...] = ("source", "layer", "lag")
VALUE_COLUMNS: tuple[str, ...] = tuple(f.name for f in _ROW_FIELDS[1 + len(KEY_COLUMNS) :])
COLUMNS: tuple[str, ...] = (*CONFIG_COLUMNS, "cell_id", *KEY_COLUMNS, *VALUE_COLUMNS)


def config_fields(table: Sequence[Axis]) -> list[pa.Field]:
    """The config columns' Arrow fields of an axis table: each axis's :attr:`Axis.arrow_type`,
    nullable where the axis applies to some models only (None for the others)."""
    return [
        pa.field(a.name, pa.type_for_alias(a.arrow_type), nullable=a.applies_to is not None)
        for a in table
    ]


def shard_schema(table: Sequence[Axis]) -> pa.Schema:
    """The Arrow schema of a shard of a run whose axes are ``table`` (:data:`SCHEMA` for the
    axis table of :mod:`vanishlab.sweep.config`)."""
    return pa.schema([*config_fields(table), *_ROW_FIELDS])


SCHEMA = shard_schema(AXIS_TABLE)
"""Arrow schema of a shard (and of :func:`load_results`, where ``layer`` is pandas ``Int64``)."""

STEP_COLUMNS: tuple[str, ...] = (
    *CONFIG_COLUMNS,
    "cell_id",
    MONITOR_STEP,
    *KEY_COLUMNS,
    *VALUE_COLUMNS,
)
STEP_SCHEMA = SCHEMA.insert(
    SCHEMA.get_field_index("cell_id") + 1, pa.field(MONITOR_STEP, pa.int64(), nullable=False)
)
"""Schema of a monitored run's shard: :data:`SCHEMA` plus the training ``step`` (int64)."""


class CellMeta(TypedDict):
    """The ``vanishlab.cell`` metadata of a shard.

    ``failure`` says why a failed cell failed, as data: ``"overflow"`` (the network's own
    weights, inputs or forward pass reached inf or NaN: a result), ``"nan"`` (a monitored
    training step's forward pass or parameters reached NaN: a result; the monitor records
    ``"overflow"`` only for inf, sweep cells and analysed checkpoints record ``"overflow"`` for
    either) or ``"error"`` (the measurement raised); None when ok. ``digest`` is
    :func:`content_digest` of the rows, checked on every read. ``summary`` is the cell's
    summary row (:class:`StoredSummary`), computed where the cell was measured. All three are
    absent from shards written before they existed, as ``analysis`` is (an analysed
    checkpoint's ``{lyapunov}``, under the metadata's checksum: :func:`~.manifest.as_shards_hold`).
    """

    cell_id: str
    config: dict[str, Any]
    status: str  # "ok" or "failed"
    reason: str | None
    elapsed_s: float
    n_rows: int
    failure: NotRequired[str | None]
    digest: NotRequired[str]
    summary: NotRequired[StoredSummary]
    train: NotRequired[dict[str, Any]]  # a trained cell's record (vanishlab.sweep.train_cell)
    monitor: NotRequired[dict[str, Any]]  # a monitored step's record (vanishlab.trained.monitor)
    analysis: NotRequired[dict[str, Any]]  # an analysis's record (vanishlab.trained.analyze)


_META_KEYS = frozenset(("cell_id", "config", "status", "reason", "elapsed_s", "n_rows"))
_OPTIONAL_KEYS = frozenset(
    ("failure", "digest", "summary", "train", "monitor", "analysis", META_DIGEST)
)
FAILURES = ("overflow", "nan", "error")
"""The kinds of failure a failed cell records (``CellMeta.failure``)."""
OVERFLOW_PARTS = ("weights", "inputs", "forward pass")
"""What of a sweep cell reached inf or NaN when its ``failure`` is ``"overflow"``: its weights
or inputs as drawn (a ``gain`` or ``input_std`` beyond its dtype), or its forward pass."""


def overflow_reason(part: str, detail: str) -> str:
    """The ``reason`` of a sweep cell whose weights or inputs overflow its dtype (``part``
    ``"weights"`` or ``"inputs"``), as :func:`overflowed_part` reads it back."""
    return f"the {part} overflow {detail}"


def overflowed_part(reason: object) -> str:
    """Which of :data:`OVERFLOW_PARTS` a cell that failed with ``"overflow"`` says overflowed
    in its ``reason``: the weights or inputs (:func:`overflow_reason`), else its forward pass
    (:class:`~vanishlab.errors.NonFiniteStateError`)."""
    for part in OVERFLOW_PARTS[:2]:
        if isinstance(reason, str) and reason.startswith(overflow_reason(part, "")):
            return part
    return OVERFLOW_PARTS[2]


TRAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("final_loss", "double"),
    ("chance_loss", "double"),
    ("solved", "bool"),
    ("steps_to_solve", "int64"),
)
"""A trained cell's outcome as columns of :func:`load_cells` and of the summary (null for a
cell that was not trained)."""


MONITOR_LOSS = "loss"
"""The training loss given to a monitor's ``step(n, loss=...)``: its key in the step's record
(a shard's ``monitor``, the manifest's ``"steps"``) and the column :func:`vanishlab.load_cells`,
:func:`vanishlab.summarize` and a monitor's page give it as. Not a trained cell's (its held-out
``loss`` curve and ``final_loss``, :mod:`vanishlab.sweep.train_cell`: another quantity)."""


def meta_keys_ok(meta: Mapping[str, Any]) -> bool:
    """Whether ``meta`` has every key a shard's metadata needs and none it may not have: what
    this release writes."""
    return _META_KEYS <= set(meta) <= _META_KEYS | _OPTIONAL_KEYS


def later_meta_keys(meta: Mapping[str, Any]) -> set[str]:
    """The keys of ``meta`` this release does not know: a later release's records."""
    return set(meta) - _META_KEYS - _OPTIONAL_KEYS


def meta_keys_readable(meta: Mapping[str, Any]) -> bool:
    """Whether a shard's metadata ``meta`` may be read: every key it needs, and a key this
    release does not know (:func:`later_meta_keys`, a later release's added record) only under
    the metadata's checksum (:data:`META_DIGEST`), which the reader checks. A change of what
    a known key or a row means changes the run's format instead (``manifest.FORMAT``)."""
    return set(meta) >= _META_KEYS and (META_DIGEST in meta or not later_meta_keys(meta))
