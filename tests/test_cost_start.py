"""sweep/cost.py's sweep_cost, what --dry-run says a sweep takes: the sweep's start counted
(a one-cell sweep was "under 0.1 s" and took 2.2 s of CPU), and the input Jacobians' term as
the engine computes them (once a lag, from the first layer, at any depth)."""

from __future__ import annotations

import math

import pytest

import vanishlab as vl
from vanishlab.sweep import cost


def _cells(n: int, **sizes) -> list[vl.CellConfig]:
    return [vl.CellConfig(model="rnn", seed=s, **sizes) for s in range(n)]


def test_a_sweep_s_cost_counts_its_start_and_its_workers_start():
    cells = _cells(4, hidden_size=8, seq_len=4, batch=1, input_size=2)
    work = math.fsum(map(cost.cell_cost, cells))
    # one worker: the cells in this process, after the command's start
    assert cost.sweep_cost(cells, 1) == pytest.approx(cost.START_S + work)
    # a pool: its workers' start too, side by side
    assert cost.sweep_cost(cells, 2) == pytest.approx(cost.START_S + cost.WORKER_START_S + work / 2)
    # a Dask cluster's workers are running already: the command's start alone
    assert cost.sweep_cost(cells, 2, pool=False) == pytest.approx(cost.START_S + work / 2)
    # measured 2.1-2.2 s of CPU for one tiny cell, 2.2-2.7 s for two in one worker, 4.2-4.4 s
    # for two in 2 workers
    assert 2.0 <= cost.sweep_cost(cells[:1], 1) <= 2.7
    assert 3.0 <= cost.START_S + 2 * cost.WORKER_START_S <= 4.4


def test_the_input_jacobians_are_counted_once_a_lag_at_any_depth():
    # The engine makes dh/dx_t = G^0_t D^0_t W_ih^0 once a lag, from the first layer's
    # Jacobian (core/engine.py, core/gated.py): a deeper stack adds no input work. Measured
    # (nn.RNN(1024, 128), T = 200, B = 8, less the same cell of I = 16): 1.3 s at L = 1,
    # 1.45 s at L = 3 (not 3.9 s)
    for model, width in (("rnn", 1), ("lstm", 2), ("gru", 1)):
        for layers in (1, 3):
            config = vl.CellConfig(
                model=model, num_layers=layers, hidden_size=16, seq_len=50, batch=4,
                input_size=32,
            )  # fmt: skip
            assert cost.untrained_terms(config)["inputs"] == 50 * 4 * 16 * 16 * 32 * width
