"""Predicted trainability: each trained cell's outcome beside its gradient at initialisation.

:func:`trainability` sets each trained cell beside its measurement at
initialisation. The task needs the gradient from an input ``required_lag`` steps back
(:func:`required_lag`: the nearest the first marker of the adding problem can lie,
T - floor(T/2); T - 1 for recall). ``horizon_1000`` is the first lag at which the input
Jacobian's norm (geometric mean over the batch) has fallen 1000x below its value at lag 0 (None
when it never does within T); ``horizon_at_zero`` says that the norm there is 0 (-inf in log10:
some sample's Jacobian is exactly 0), a fall made by an exact zero rather than by decay, as the
rates table's "(exact 0)" marks it. The measurement *predicts* a cell trainable when the gradient at
the required lag has not fallen 1000x (``drop_at_required`` < 3 decades). A norm exactly 0 at
lag 0 (``zero_at_lag0``: some sample's units all off at the last step, a relu network; in one
layer its Jacobian is then 0 at every lag) leaves nothing to fall from: no horizon and no
``drop_at_required`` (NaN), and the cell is predicted trainable when its gradient at the
required lag is not exactly 0 (it has not fallen below lag 0's), untrainable when it is (an
exact zero there counts as a fall, as it does after a finite lag 0). A cell meant to be
trained whose measurement at initialisation failed (its weights or its forward pass
overflowed) was never trained: it has no outcome, so :func:`trainability` leaves it out and
:func:`not_trained` lists it.

Pure pandas (no torch), so that a report reads it without the training code
(:mod:`vanishlab.sweep.train_cell`, which trains the cells).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..analysis.fits import HORIZON_DECADES
from .config import AXES

__all__ = [
    "DROP_DECADES",
    "REQUIRED_AT",
    "TASK_CHANCE",
    "not_trained",
    "required_lag",
    "trainability",
]

DROP_DECADES = HORIZON_DECADES
"""A gradient that has fallen this many decades (1000x) is taken to have vanished: the decades
of the fitted horizon (:data:`vanishlab.analysis.fits.HORIZON_DECADES`)."""


REQUIRED_AT = {"adding": "nearest first marker", "recall": "first token"}
"""What lies at each task's :func:`required_lag`, in a few words (the report's legend)."""


TASK_CHANCE = {
    "adding": ("the adding problem", "an MSE", "always answering 1"),
    "recall": ("recall of the first token", "a cross-entropy, in nats,", "a uniform guess"),
}
"""Each task in words, its loss, and the input-free answer whose loss is its chance level
(docs/trainability.md, "The tasks"): the report's Trainability section says what a cell's
"solved" was scored against."""


def required_lag(task: str, seq_len: int) -> int:
    """The shortest lag the task's answer lies back: T - floor(T/2) (adding), T - 1 (recall)."""
    if task == "adding":
        return seq_len - seq_len // 2
    if task == "recall":
        return seq_len - 1
    raise ValueError(f"no required lag for task {task!r}")


def trainability(results: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Each trained cell's outcome beside its gradient at initialisation (module docstring).

    Args:
        results: shard rows (:func:`vanishlab.load_results`); the ``input`` rows are used.
        cells: :func:`vanishlab.load_cells` with the training columns (``solved``, ...).

    Returns:
        One row per cell with a training outcome: the config columns, ``cell_id``,
        ``required_lag``, ``drop_at_required`` (decades fallen from lag 0 to the required lag;
        +inf when the gradient there is exactly 0, NaN when it is at lag 0), ``horizon_1000``
        (first lag of a 1000x drop, or NaN), ``horizon_at_zero`` (bool: the norm is exactly 0
        there, some sample's Jacobian being 0), ``zero_at_lag0`` (bool: the norm is exactly 0
        at lag 0, so there is no drop and no horizon), ``predicted`` (bool: not vanished at the
        required lag), ``solved``, ``final_loss``, ``chance_loss``.
    """
    columns = [*AXES, "cell_id", "required_lag", "drop_at_required", "horizon_1000"]
    columns += ["horizon_at_zero", "zero_at_lag0"]
    columns += ["predicted", "solved", "final_loss", "chance_loss"]
    if "solved" not in cells or not len(results):
        return pd.DataFrame(columns=columns)
    trained = cells[cells["solved"].notna()]
    inputs = results[(results["source"] == "input").to_numpy(dtype=bool)]
    by_cell = {str(k): g.sort_values("lag") for k, g in inputs.groupby("cell_id", sort=False)}
    rows = []
    for rec in trained.to_dict("records"):
        rows_ = by_cell.get(str(rec["cell_id"]))
        if rows_ is None:
            continue
        curve = rows_["log10_fro_mean"].to_numpy(dtype=float)
        # Decades fallen since lag 0; none when the norm is exactly 0 there (-inf - -inf was
        # NaN and -inf - y was -inf: "> n" in the table, and a prediction that hung on which).
        zero_at_lag0 = bool(np.isneginf(curve[0]))
        drop = np.full(len(curve), math.nan) if zero_at_lag0 else curve[0] - curve
        need = required_lag(str(rec["task"]), int(rec["seq_len"]))
        at = min(need, len(curve) - 1)
        fallen = np.flatnonzero(drop >= DROP_DECADES)
        rows.append(
            {
                **{a: rec.get(a) for a in AXES},
                "cell_id": rec["cell_id"],
                "required_lag": need,
                "drop_at_required": float(drop[at]),
                "horizon_1000": float(fallen[0]) if len(fallen) else math.nan,
                "horizon_at_zero": bool(len(fallen) and np.isneginf(curve[fallen[0]])),
                "zero_at_lag0": zero_at_lag0,
                # An exact zero at the required lag is a fall; a gradient there after a zero
                # lag 0 has not fallen below it.
                "predicted": bool(
                    not np.isneginf(curve[at]) and (zero_at_lag0 or drop[at] < DROP_DECADES)
                ),
                "solved": bool(rec["solved"]),
                "final_loss": rec.get("final_loss"),
                "chance_loss": rec.get("chance_loss"),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def not_trained(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells meant to be trained (a ``task`` and ``train_steps`` > 0) that have no training
    outcome: their measurement at initialisation, or their training, failed (``status`` and
    ``reason`` say which). :func:`trainability` leaves them out."""
    if "task" not in cells or "train_steps" not in cells:
        return cells.iloc[:0]
    meant = (cells["task"].fillna("none") != "none") & (cells["train_steps"].fillna(0) > 0)
    if "solved" in cells:
        meant &= cells["solved"].isna()
    return cells[meant.to_numpy(dtype=bool)]
