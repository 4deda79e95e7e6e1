"""Which module a frame of Jacobian norms was measured on, from what it records, for
:func:`vanishlab.check_pascanu`: the fingerprint of its weights and the dtype it was measured
in (``frame.attrs``: :mod:`vanishlab.core.weights_attr`), a monitor's steps' fingerprints, a
sweep's ``dtype`` column; and the refusals of rows that cannot be tied to one module (rows
measured more than once, several monitored steps, a step that cannot be told), each in one line
with the way on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import torch

from ..core.fingerprint import DTYPE_ATTR, WEIGHTS_ATTR, weights_fingerprint
from ..core.inputs import FLOAT_DTYPE_NAMES
from ..core.weight_reads import module_weight
from ..core.weights_attr import DTYPE_COLUMN, MONITOR_STEP, STEP_WEIGHTS_ATTR, step_cells
from ..errors import VanishlabError

__all__ = ["check_frame_module", "rounding_eps", "row_text"]


def row_text(frame: pd.DataFrame, at: int) -> str:
    """The keys of ``frame``'s row at position ``at``, as messages name it."""
    keys = [k for k in ("sample", "source", "layer", "lag") if k in frame.columns]
    values = (frame[k].iloc[at] for k in keys)
    return ", ".join(
        f"{k}={v.item() if isinstance(v, np.generic) else v!r}"
        for k, v in zip(keys, values, strict=True)
    )


#: The columns that tell one measurement's rows apart: each is there once in a frame of one
#: measurement (a jacobian_norms frame, a shard's rows: a sweep's cell, a monitored step).
_ROW_KEYS = ("cell_id", "sample", "source", "layer", "lag")


def _step_key(value: Any) -> str | None:
    """A step column's ``value`` as its record names the step (``"100"`` for 100, 100.0 or
    "100"), or None for a value that is no whole number of steps: 100.5 was read as step 100
    and compared with its weights, and inf ended in an OverflowError traceback."""
    if isinstance(value, bool | np.bool_):  # True was read as step 1
        return None
    try:
        step = int(value)
    except (TypeError, ValueError, OverflowError):  # a step column of the user's own
        return None
    return str(step) if isinstance(value, str) or step == value else None


def _steps_record(frame: pd.DataFrame, attrs: dict[str, Any]) -> str | None:
    """The fingerprint of the weights of the monitored steps ``frame`` holds, from their record
    (:data:`STEP_WEIGHTS_ATTR`), or None where it is not there (or not for every step: a
    step written before shards recorded it). Rows of several steps, each measured on the
    weights training gave it, are refused: no one module is theirs; so are those of a frame
    that no longer has the record's step column (renamed or dropped), whose rows repeat, and
    those whose step cannot be told without it (:func:`_unstepped_keys`)."""
    record = attrs.get(STEP_WEIGHTS_ATTR)
    if not isinstance(record, dict) or not isinstance(column := record.get("column"), str):
        return None
    if column in frame.columns:
        keys = _column_keys(frame[column], column, record)
    else:
        _refuse_unstepped(frame, column)
        keys = _unstepped_keys(frame, column, record.get("cells"))
    fingerprints = record.get("fingerprints")
    if None in keys or not keys or not isinstance(fingerprints, dict):
        return None
    found = {fingerprints.get(k) for k in keys}
    if None in found:
        return None
    if len(found) > 1:
        _refuse_steps(column, sorted(keys, key=int))
    return found.pop()


def _column_keys(steps: pd.Series, column: str, record: dict[str, Any]) -> set[str | None]:
    """The steps of a monitor's rows, their step ``column`` (``steps``) read as its
    ``record`` names them (:func:`_step_key`: 1.0 from a CSV is step 1); refused where one is no
    step the record has: a mean over steps' rows (``groupby`` of the other keys, then
    ``mean()``) averaged their steps too, and steps 0 and 3 read as step 1.5 (and their mean
    checked beside no module), steps 0 and 4 as step 2."""
    known = _recorded_steps(record)
    keys: set[str | None] = set()
    for value in steps.dropna().unique():
        key = _step_key(value)
        if known is not None and key not in known:
            _refuse_no_step(column, value, sorted(known, key=int))
        keys.add(key)
    return keys


def _recorded_steps(record: dict[str, Any]) -> set[str] | None:
    """The monitored steps ``record`` (:data:`STEP_WEIGHTS_ATTR`) has, those without a
    fingerprint (written before shards recorded it) too; None where it does not list them."""
    cells = step_cells(record.get("cells"))
    fingerprints = record.get("fingerprints")
    if cells is None or not isinstance(fingerprints, dict):
        return None
    known = {*cells.values(), *fingerprints}
    return known if all(isinstance(k, str) and k.isdigit() for k in known) else None


def _refuse_no_step(column: str, value: Any, steps: list[str]) -> NoReturn:
    """Refuse a monitor's rows whose step ``column`` holds ``value``, none of the monitored
    ``steps``: a mean over several steps' rows, each measured on the weights training had
    then, is no one module's."""
    shown = ", ".join(steps[:3]) + (", ..." if len(steps) > 3 else "")
    value = value.item() if isinstance(value, np.generic) else value
    raise VanishlabError(
        f"frame's {column} column holds {value!r}, none of the monitored steps ({column} "
        f"{shown}): a mean over steps' rows (a groupby without {column!r}, then mean()) "
        f"averages their {column} too, and each step was measured on the weights training had "
        f"then, so no one module is theirs: check each step's rows apart, "
        f"rows[rows.{column} == n], beside the module as it was at step n"
    )


def _unstepped_keys(frame: pd.DataFrame, column: str, cells: Any) -> set[str | None]:
    """The steps of a monitor's rows without their step ``column``, by the step the record
    gives their ``cell_id`` (``cells``); refused where one row's cannot be told: one step's rows
    picked with ``rows.xs(n, level="step")``, which drops the level, were checked beside any
    module without a word, and so were the rows of a mean over steps."""
    ids = frame["cell_id"] if "cell_id" in frame.columns else None
    known = step_cells(cells)
    if known is not None and ids is not None and ids.notna().all():
        steps = {known.get(c) for c in ids.unique()}
        if None not in steps:
            return steps
    raise VanishlabError(
        f"frame holds a monitor's rows without their {column!r} column (renamed or dropped? "
        f"rows.xs(n, level={column!r}) drops it) or a cell_id the record knows, so which step's "
        f"weights measured them cannot be told: keep it, rows.xs(n, level={column!r}, "
        f"drop_level=False) or rows[rows.{column} == n], and check them beside the module as "
        "it was at step n"
    )


def _refuse_steps(column: str, steps: list[str], why: str = "") -> NoReturn:
    """Refuse the rows of several monitored ``steps`` (named as :func:`_step_key` names them):
    each was measured on the weights training had then, and no one module is theirs. ``why``:
    what the message adds after the steps."""
    shown = ", ".join(steps[:3]) + (", ..." if len(steps) > 3 else "")
    raise VanishlabError(
        f"frame holds the rows of {len(steps)} monitored steps ({column} {shown}), each "
        f"measured on the weights training had then{why}, and check_pascanu checks one "
        f"module's: check one step's rows, rows[rows.{column} == n], beside the module as it "
        "was at step n"
    )


def _refuse_unrecorded_steps(frame: pd.DataFrame, attrs: dict[str, Any]) -> None:
    """Refuse rows that record no module and hold several steps in a :data:`MONITOR_STEP`
    column: a monitor's rows of several steps whose record pandas dropped (a merge with a
    frame that has none, ``rows.merge(losses, on="step")``), or whose steps were written before
    shards recorded their weights; each step's rows have their own ``cell_id``, so nothing
    repeats, and they were checked against one module without a word. A column of that name
    is read as a monitor's whoever made it (a frame of one module has no steps to tell apart);
    a sweep's rows have none."""
    if MONITOR_STEP not in frame.columns:
        return
    names = {_step_key(s) or str(s) for s in frame[MONITOR_STEP].dropna().unique()}
    if len(names) < 2:
        return
    whole = sorted(k for k in names if _step_key(k) is not None)
    steps = sorted(whole, key=int) + sorted(names.difference(whole))
    lost = STEP_WEIGHTS_ATTR not in attrs  # (a partial record: steps written before it)
    why = (
        " and frame.attrs no longer records them (pandas drops it in a merge or concat with a "
        "frame without it)"
        if lost
        else ""
    )
    _refuse_steps(MONITOR_STEP, steps, why)


def _first_repeat(frame: pd.DataFrame, keys: Sequence[str]) -> int | None:
    """The position of ``frame``'s first row whose values of ``keys`` (those it has) an
    earlier row has too, or None where none repeats (or it has none of them)."""
    present = [k for k in keys if k in frame.columns]
    if not present:
        return None
    repeated = frame.duplicated(subset=present).to_numpy()
    return int(np.argmax(repeated)) if repeated.any() else None


def _refuse_unstepped(frame: pd.DataFrame, column: str) -> None:
    """Refuse a monitor's rows (their record names the step ``column``) without that column,
    where a row is there more than once: each step's has its own ``cell_id``, so the rows of
    several steps with the column renamed were checked against one module without a word."""
    at = _first_repeat(frame, [k for k in _ROW_KEYS if k != "cell_id"])
    if at is None:
        return
    raise VanishlabError(
        f"frame holds a monitor's rows measured more than once (two at "
        f"{row_text(frame, at)}), the rows of several steps, each measured "
        f"on the weights training had then, and has no {column!r} column to tell them apart "
        "(renamed or dropped?): check one step's rows, "
        f"rows[rows.{column} == n], beside the module as it was at step n"
    )


def _refuse_unrecorded_concat(frame: pd.DataFrame) -> None:
    """Refuse a frame that records no module and holds one measurement's row more than once:
    a concat of frames (pandas keeps ``attrs`` through one only where every frame's record is
    the same), of several modules, or of one in float32 and float64, whose rows were checked
    against this module's bound and its rounding without a word; or a sweep's rows of several
    cells without their ``cell_id`` (seeds of one setting), which the refusal named a concat."""
    at = _first_repeat(frame, _ROW_KEYS)
    if at is None:
        return
    raise VanishlabError(
        f"frame holds rows measured more than once (two at {row_text(frame, at)}) and records no "
        "module, so which module's each row is cannot be told: pd.concat keeps frame.attrs "
        "only where every frame's record is the same (one module, one dtype), and a sweep's "
        "rows are one module's only within a cell (one cell_id); check each frame or cell "
        "apart, vl.check_pascanu(rnn, frame) for each"
    )


def check_frame_module(rnn: torch.nn.RNN, frame: pd.DataFrame, attrs: dict[str, Any]) -> None:
    """Refuse a frame whose ``attrs`` say it was measured on other weights than ``rnn``'s: its
    norms were checked against this module's bound, and "within the bound" said nothing; and
    one whose rows cannot be told to be one module's (:func:`_steps_record`,
    :func:`_refuse_unrecorded_concat`). ``frame``: its index levels as columns."""
    recorded = attrs.get(WEIGHTS_ATTR)
    if recorded is None:
        recorded = _steps_record(frame, attrs)
    if recorded is None:
        _refuse_unrecorded_steps(frame, attrs)
        _refuse_unrecorded_concat(frame)
    if recorded is None or recorded == weights_fingerprint(rnn):
        return
    # A frame of a module of another size, number of layers or nonlinearity was said to be of
    # "a module with other weights ... of the same shape"; and pandas' read_parquet of a folder
    # of several modules' files keeps the first file's record on every row, whose refusal named
    # no way out (beside the first file's module such a folder is not told: see check_pascanu).
    raise VanishlabError(
        "frame was measured on another module than this rnn (other weights, size, nonlinearity "
        "or number of layers, a lower precision, or before training changed it): measure this "
        "one, vl.check_pascanu(rnn, vl.jacobian_norms(rnn, x)); a frame that holds this rnn's "
        "norms under another's record (read back from several modules' parquet files) passes "
        f"once it is dropped: frame.attrs.pop({WEIGHTS_ATTR!r})"
    )


def rounding_eps(
    rnn: torch.nn.RNN, frame: pd.DataFrame, attrs: dict[str, Any]
) -> float | np.ndarray:
    """The eps of the coarser of ``rnn``'s dtype and the one ``frame`` was measured in (its
    ``attrs``; the module's alone for a frame without the record), and, row by row, the one in
    a sweep's :data:`DTYPE_COLUMN` (an array then). The fingerprint reads a float32 module and
    its ``.double()`` copy alike: float32 norms checked beside the copy were allowed float64's
    rounding, and rows within float32's were reported violated; a sweep's float32 rows, which
    record no module, were too. ``frame``: its index levels as columns."""
    eps = torch.finfo(module_weight(rnn, "weight_hh_l0").dtype).eps
    recorded = attrs.get(DTYPE_ATTR)
    if recorded is not None:
        if not isinstance(recorded, str) or recorded not in FLOAT_DTYPE_NAMES:
            raise VanishlabError(
                f"frame.attrs[{DTYPE_ATTR!r}] is {recorded!r}, not a dtype vanishlab measures in "
                f"({' or '.join(FLOAT_DTYPE_NAMES)}), so the rounding to allow is unknown: give "
                "tolerance=, or drop the record to allow the module's: "
                f"frame.attrs.pop({DTYPE_ATTR!r})"
            )
        eps = max(eps, torch.finfo(FLOAT_DTYPE_NAMES[recorded]).eps)
    if DTYPE_COLUMN not in frame.columns:
        return eps
    given = frame[DTYPE_COLUMN].astype(object)
    named = {v: _dtype_name(v) for v in given.dropna().unique()}
    names = given if all(isinstance(v, str) for v in named) else given.map(named)
    unknown = ~(names.isna() | names.isin(list(FLOAT_DTYPE_NAMES))).to_numpy()
    if unknown.any():
        at = int(np.argmax(unknown))
        raise VanishlabError(
            f"frame's {DTYPE_COLUMN} column holds {given.iloc[at]!r} at "
            f"{row_text(frame, at)}, not a dtype vanishlab measures in "
            f"({' or '.join(FLOAT_DTYPE_NAMES)}), so the rounding to allow is unknown: give "
            "tolerance=, or drop the column to allow the module's: "
            f"frame.drop(columns={DTYPE_COLUMN!r})"
        )
    by_name = {name: torch.finfo(dtype).eps for name, dtype in FLOAT_DTYPE_NAMES.items()}
    return np.maximum(eps, names.map(by_name).fillna(0.0).to_numpy(dtype=np.float64))


def _dtype_name(value: object) -> object:
    """A :data:`DTYPE_COLUMN` value by the name the ``dtype`` axis gives it: a torch or numpy
    dtype, or a numpy scalar type, as ``"float32"`` (a column of ``np.dtype("float32")`` was
    refused as "not a dtype vanishlab measures in"); anything else as it is."""
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    return value
