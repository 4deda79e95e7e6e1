"""A trained cell: measure the Jacobians at initialisation on the task's own inputs, then train.

A cell whose ``task`` axis is not ``"none"`` is measured on the task's inputs instead of
Gaussian ones (:func:`task_inputs`, used by :func:`vanishlab.sweep.cell.cell_inputs`): ``batch``
sequences of the task at T = ``seq_len``, drawn from the cell's "inputs" stream, so the measured
gradient horizon is the one training faces. The adding problem's inputs (values U[0, 1], a sparse
marker) saturate tanh far less than unit Gaussians do. ``input_size`` must then be the task's
(2 for ``adding``, 8 for ``recall``); ``input_std`` does not change the inputs (it is what the
mean field is told: ``experiments/trainability.py`` sets the task's r.m.s. input).

When ``train_steps`` > 0, :func:`train_record` then trains the measured module in place with
:func:`vanishlab.train.train_cell` (``steps = train_steps``, ``lr``, ``optimizer``, ``clip``
(0 = none), batch :data:`TRAIN_BATCH` fresh sequences per step, the cell's ``seed`` for the
readout and the data) and returns the record stored in the shard's metadata under ``"train"``
(:data:`TrainRecord`): the held-out loss curve at 11 points, ``final_loss``, ``chance_loss``,
``threshold``, ``solved`` (final loss below :data:`vanishlab.train.SOLVE_FRACTION` x chance),
``steps_to_solve``, ``diverged``. A loss that is not a number (after a divergence) is stored as
None. :func:`load_training` reads the loss curves of a run as a tidy frame.

**Predicted trainability** (:func:`trainability`): :mod:`vanishlab.sweep.trainability`.
"""

from __future__ import annotations

import math
import os
from typing import Any, TypedDict

import pandas as pd
import torch
from torch import nn

from ..errors import VanishlabError
from ..train import make_task, train_cell
from ..train.loop import DEFAULT_BATCH
from . import store
from .config import AXES, CellConfig, wrong_input_size
from .manifest import MONITOR
from .trainability import DROP_DECADES, required_lag, trainability

__all__ = [
    "DROP_DECADES",
    "TRAIN_BATCH",
    "TrainRecord",
    "load_training",
    "required_lag",
    "task_inputs",
    "train_record",
    "trainability",
]

TRAIN_BATCH = DEFAULT_BATCH
"""Fresh task sequences per optimizer step (the measurement uses the ``batch`` axis)."""


class TrainRecord(TypedDict):
    """The ``"train"`` entry of a trained cell's shard metadata (JSON: no NaN, None instead)."""

    task: str
    seq_len: int
    steps: int
    loss_curve: list[list[float | None]]  # [[step, held-out loss], ...]
    final_loss: float | None
    chance_loss: float
    threshold: float
    solved: bool
    steps_to_solve: int | None
    diverged: bool


def _task(config: CellConfig) -> Any:
    task = make_task(config.task, config.seq_len)
    if config.input_size != task.input_size:
        raise VanishlabError(wrong_input_size(config.task, task.input_size, config.input_size))
    return task


def task_inputs(config: CellConfig, generator: torch.Generator) -> torch.Tensor:
    """``batch`` sequences of the cell's task, ``(seq_len, batch, input_size)`` in its dtype."""
    x, _ = _task(config).sample(config.batch, generator)  # (B, T, I)
    return x.transpose(0, 1).contiguous().to(getattr(torch, config.dtype))


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def train_record(config: CellConfig, module: nn.Module) -> TrainRecord:
    """Train ``module`` (in place) on the cell's task with its settings; the stored record."""
    # (a CellConfig with train_steps > 0 has a task and lr > 0: config._task_applies)
    result = train_cell(
        module,
        _task(config),
        steps=config.train_steps,
        lr=config.lr,
        optimizer=config.optimizer,
        clip=config.clip if config.clip > 0 else None,
        batch=TRAIN_BATCH,
        seed=config.seed,
    )
    return {
        "task": result.task,
        "seq_len": result.seq_len,
        "steps": config.train_steps,
        "loss_curve": [
            [s, _number(v)] for s, v in zip(result.eval_steps, result.eval_losses, strict=True)
        ],
        "final_loss": _number(result.final_loss),
        "chance_loss": result.chance_loss,
        "threshold": result.threshold,
        "solved": result.solved,
        "steps_to_solve": result.steps_to_solve,
        "diverged": result.diverged,
    }


def load_training(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The loss curves of a run's trained cells, tidy: one row per (cell, evaluation step).

    Columns: the config columns, ``cell_id``, ``step``, ``loss`` (NaN after a divergence),
    ``chance_loss``. Empty (with those columns) when no cell was trained. Raises
    VanishlabError for a path that is not a run directory (a typo read as "no training"), and
    for a training monitor's run: its losses are the training batches' at the recorded steps
    (``vl.load_cells``' ``loss``), not held-out curves of cells vanishlab trained, and have no
    chance level; its frame was empty.
    """
    if store.load_manifest(run_dir).get("kind") == MONITOR:
        raise VanishlabError(
            f"{run_dir} is a training monitor's run (vl.JacobianMonitor), whose losses are "
            "those mon.step(n, loss=) recorded: vl.load_cells(run_dir)[['step', 'loss']]; "
            "load_training reads the loss curves of a sweep's trained cells"
        )
    rows = []
    for cid, meta in sorted(store.read_cell_metas(run_dir).items()):
        record = meta.get("train")
        if not record:
            continue
        config = {a: meta["config"].get(a) for a in AXES}
        for step, loss in record["loss_curve"]:
            rows.append(
                {
                    **config,
                    "cell_id": cid,
                    "step": int(step),  # type: ignore[arg-type]
                    "loss": math.nan if loss is None else float(loss),
                    "chance_loss": float(record["chance_loss"]),
                }
            )
    columns = [*AXES, "cell_id", "step", "loss", "chance_loss"]
    return pd.DataFrame(rows, columns=columns)
