"""A measurement's spectral queues are freed with it, by reference counting alone: a queue held
its owner's bound method (a stream's), a cycle that kept its buffer of 16 lags, 64 MiB at
H = 1024, B = 1, alive until Python's cyclic collector ran. A sweep's worker held it beside its
next cell, beyond the memory the sweep counts for it (benchmarks/worker_memory.py)."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

import vanishlab as vl
from vanishlab.core.spectral import SpectralNorms


@pytest.mark.parametrize(
    ("cls", "kw"),
    [
        (torch.nn.RNN, {"num_layers": 1}),
        (torch.nn.RNN, {"num_layers": 2}),
        (torch.nn.LSTM, {"num_layers": 1}),
        (torch.nn.GRU, {"num_layers": 2}),
    ],
)
def test_no_spectral_queue_outlives_its_measurement(cls, kw, monkeypatch) -> None:
    # Each queue the measurement makes is watched by a weak reference (scanning
    # gc.get_objects() for them took ~0.4 s a test in a worker that had run hundreds).
    made: weakref.WeakSet[SpectralNorms] = weakref.WeakSet()
    count = [0]
    init = SpectralNorms.__init__

    def watched(self: SpectralNorms, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        made.add(self)
        count[0] += 1

    monkeypatch.setattr(SpectralNorms, "__init__", watched)
    torch.manual_seed(0)
    rnn = cls(3, 20, **kw)  # a side above the Gram sizes: block power iteration, warm starts
    x = torch.randn(40, 2, 3)
    was = gc.isenabled()
    gc.disable()
    try:
        frame = vl.jacobian_norms(rnn, x)
        assert len(frame) > 0
        assert count[0] > 0  # the measurement made queues
        del frame
        assert len(made) == 0, f"{len(made)} spectral queue(s) alive after the measurement"
    finally:
        if was:
            gc.enable()
