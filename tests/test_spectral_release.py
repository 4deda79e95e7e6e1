"""A measurement's spectral queues are freed with it, by reference counting alone: a queue held
its owner's bound method (a stream's), a cycle that kept its buffer of 16 lags, 64 MiB at
H = 1024, B = 1, alive until Python's cyclic collector ran. A sweep's worker held it beside its
next cell, beyond the memory the sweep counts for it (benchmarks/worker_memory.py)."""

from __future__ import annotations

import gc

import pytest
import torch

import vanishlab as vl
from vanishlab.core.spectral import SpectralNorms


def _queues() -> list[SpectralNorms]:
    return [o for o in gc.get_objects() if type(o) is SpectralNorms]


@pytest.mark.parametrize(
    ("cls", "kw"),
    [
        (torch.nn.RNN, {"num_layers": 1}),
        (torch.nn.RNN, {"num_layers": 2}),
        (torch.nn.LSTM, {"num_layers": 1}),
        (torch.nn.GRU, {"num_layers": 2}),
    ],
)
def test_no_spectral_queue_outlives_its_measurement(cls, kw) -> None:
    torch.manual_seed(0)
    rnn = cls(3, 20, **kw)  # a side above the Gram sizes: block power iteration, warm starts
    x = torch.randn(40, 2, 3)
    gc.collect()
    before = len(_queues())
    was = gc.isenabled()
    gc.disable()
    try:
        frame = vl.jacobian_norms(rnn, x)
        assert len(frame) > 0
        del frame
        assert len(_queues()) == before
    finally:
        if was:
            gc.enable()
