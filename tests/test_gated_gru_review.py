"""An adversarial review of a GRU's carried coefficients (helper 474, of helper 472's
core/gated_gru_range.py), against the 120-digit reference of tests/test_gated_saturation.py.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_gated_gru_range import _worst
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


def _idle_and_tiny(dtype: torch.dtype, rows: float, a_z: float, layers: int):
    """An nn.GRU(2, 2, layers): unit 0 idle (zero weights and biases, h0 = 0: it stays 0, its
    q_r and q_z exact zeros), unit 1 with its rows of W_ih and W_hh times ``rows`` and its
    update gate's bias ``a_z`` (1 - z = sigma(-a_z): every q of unit 1 small, yet a normal
    number); B = 2, T = 5."""
    torch.manual_seed(0)
    m = nn.GRU(2, 2, layers).to(dtype)
    with torch.no_grad():
        for l in range(layers):
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(m, f"{k}_l{l}").view(3, 2, -1)[:, 0] = 0.0
            for k in ("weight_ih", "weight_hh"):
                getattr(m, f"{k}_l{l}").view(3, 2, -1)[:, 1] *= rows
            getattr(m, f"bias_ih_l{l}").view(3, 2)[1, 1] = a_z
            getattr(m, f"bias_hh_l{l}").view(3, 2)[1, 1] = 0.0
    return m, torch.randn(5, 2, 2, dtype=dtype)


@pytest.mark.parametrize(
    ("dtype", "rows", "a_z", "layers", "tol"),
    [
        # before: d h^1 / d h^0 -inf where it is 10^-45.06, the input rows -inf (10^-45.29 at
        # one layer); q ~ 1.9e-36 is a normal number, so nothing was carried, and each term
        # q W ~ 1e-46 fell out of the range in the step divided by ||G||_F
        (torch.float32, 1e-10, 80.0, 1, 1e-5),
        (torch.float32, 1e-10, 80.0, 2, 1e-5),
        # before: 5.5e-5 off (terms of ~1e-41, subnormal, most of their digits lost)
        (torch.float32, 1e-10, 69.0, 2, 1e-5),
        # before: -inf where it is 10^-360.90 (q ~ 2.7e-262, rows 1e-100)
        (torch.float64, 1e-100, 600.0, 2, 1e-12),
    ],
)
def test_normal_coefficients_whose_terms_leave_the_range_are_weighed(
    dtype, rows, a_z, layers, tol
) -> None:
    """The "weighed only where carried" rule missed a layer whose coefficients are all normal
    numbers but whose terms, a coefficient times its row of W, are not: now such a layer is
    weighed (gated_gru_range.terms_below). Measured after: <= 1.3e-7 (float32), 1.2e-13
    (float64), both norms, state and input rows, beside an idle unit."""
    m, x = _idle_and_tiny(dtype, rows, a_z, layers)
    assert _worst(m, x) <= tol


def test_an_ordinary_gru_is_neither_carried_nor_weighed() -> None:
    """The wider rule leaves ordinary calls on the old steps (and the one-layer fast path):
    its check is one more reduction in the forward's scan (a 1-layer GRU, H 128, B 8, T 256:
    forward 0.96-1.0x, whole call 0.98-1.0x of the time before, medians of 9 alternated)."""
    torch.manual_seed(1)
    m = nn.GRU(8, 64, 2)
    x = torch.randn(50, 4, 8)
    assert all(st.gru_scaled is None for st in gated_steps(prepare_gated(m, x)))
