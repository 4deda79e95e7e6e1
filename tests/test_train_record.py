"""How a sweep cell hands its settings to the training loop (docs/trainability.md, "From a
sweep cell"): 64 fresh sequences a step (not the measurement's ``batch``), the cell's own
seed, its lr and optimizer, and its clip, where 0 means no clipping."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vanishlab.sweep.train_cell as train_cell_module
from vanishlab.sweep.config import CellConfig
from vanishlab.sweep.train_cell import train_record


@pytest.mark.parametrize(("clip", "given"), [(0.0, None), (0.5, 0.5), (1.0, 1.0)])
def test_a_cell_trains_with_its_own_seed_settings_and_64_sequences_a_step(
    monkeypatch, clip: float, given: float | None
) -> None:
    seen = {}
    real = train_cell_module.train_cell

    def recording(module, task, **kw):
        seen.update(kw, task=task)
        return real(module, task, **kw)

    monkeypatch.setattr(train_cell_module, "train_cell", recording)
    config = CellConfig(
        task="adding", input_size=2, seq_len=4, hidden_size=4, batch=5, seed=7,
        train_steps=3, lr=0.02, optimizer="sgd", clip=clip,
    )  # fmt: skip
    torch.manual_seed(0)
    record = train_record(config, nn.RNN(2, 4))
    assert seen["clip"] == given
    assert (seen["seed"], seen["batch"], seen["steps"]) == (7, 64, 3)
    assert (seen["lr"], seen["optimizer"]) == (0.02, "sgd")
    assert (seen["task"].name, seen["task"].seq_len) == ("adding", 4)
    assert record["steps"] == 3 and [s for s, _ in record["loss_curve"]] == [0, 1, 2, 3]
    assert record["threshold"] == pytest.approx(1 / 60) and record["chance_loss"] == 1 / 6
