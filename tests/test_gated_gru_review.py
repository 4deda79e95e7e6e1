"""An adversarial review of a GRU's carried coefficients (helper 474, of helper 472's
core/gated_gru_range.py), against the 120-digit reference of tests/test_gated_saturation.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from vanishlab.core.gated_forward import gated_steps, prepare_gated


def _bytes(value: object) -> int:
    """The bytes of every tensor ``value`` holds (a tensor, a tuple or a dataclass of them)."""
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, tuple | list):
        return sum(_bytes(v) for v in value)
    if dataclasses.is_dataclass(value):
        return sum(_bytes(getattr(value, f.name)) for f in dataclasses.fields(value))
    return 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_saturated_entry_keeps_its_rows_not_the_whole_layer(dtype) -> None:
    """A 2-layer GRU, H 32, B 8, T 200, whose one sample saturates its gates at one step (an
    input of 3e3 / 3e4): the carried coefficients keep the (step, sample) rows that need them.
    Before: (rel, ln), each (T, B, 5 H), rel in the dtype and ln float64, 2.5x (float32) and
    1.7x (float64) the bytes of every other tensor the layer keeps, for one row of 1600; the
    sweep's memory estimate counts 6 numbers a step and unit for a GRU layer, none of them."""
    torch.manual_seed(0)
    m = nn.GRU(4, 32, 2).to(dtype)
    x = torch.randn(200, 8, 4, dtype=dtype)
    x[100, 3] = 3e3 if dtype == torch.float32 else 3e4
    steps = gated_steps(prepare_gated(m, x))
    st = steps[0]
    assert st.gru_scaled is not None  # the case carries something
    kept = _bytes((st.h, st.coef, st.carry, st.coef_hn))
    # measured after: 0.04% (float32), 0.03% (float64) of the layer's other tensors
    assert _bytes(st.gru_scaled) < 0.01 * kept
