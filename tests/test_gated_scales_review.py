"""Review of the gated engine's carried exponents (helper 465): an LSTM's k = o tanh'(c') below
the dtype's range, carried as exp(ln_k) k_rel, against the 120-digit reference of
tests/test_gated_saturation.py, on cases its own tests do not cover."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from test_gated_saturation import engine_rows, exact_rows
from torch import nn

import vanishlab as vl

SOURCES = ("state", "input", "state_h", "state_c")


def _bias(m: nn.LSTM, block: int, values: list[float]) -> None:
    """Gate ``block`` (i, f, g, o) of every layer: b_ih = ``values`` per unit, b_hh = 0."""
    H = m.hidden_size
    with torch.no_grad():
        for l in range(m.num_layers):
            getattr(m, f"bias_ih_l{l}")[block * H : (block + 1) * H] = torch.tensor(values)
            getattr(m, f"bias_hh_l{l}")[block * H : (block + 1) * H] = 0.0


def _worst(got: dict, want: dict) -> float:
    """The largest log10 difference over every row and both norms (inf where one side is
    -inf and the other not)."""
    assert got.keys() == want.keys()
    worst = 0.0
    for key, pair in want.items():
        for e, w in zip(got[key], pair, strict=True):
            worst = max(worst, 0.0 if e == w else abs(e - w))
    return worst


@pytest.mark.parametrize("layers", [1, 2])
def test_an_output_gate_shut_below_float32s_range_reads_exact_or_not_at_all(layers):
    # a_o = -100: o = sigma(-100) ~ 3.7e-44, below float32's range, and k = o tanh'(c') with
    # it. The o gate's coefficient tanh(c') sigma'(a_o) is of the same size as k (c' ~ 3), so
    # dh'/dh = (k C + O) W_hh is two terms of one size. k's exponent was carried and O was
    # read as 0: rows finite and unflagged up to 0.9 orders of magnitude off (-inf before k
    # was carried). Now O's exponent is carried too: within 1e-4 of the reference.
    torch.manual_seed(4)
    m = nn.LSTM(2, 2, layers)
    _bias(m, 3, [-100.0, -100.0])
    x = torch.randn(8, 1, 2)
    h0 = (torch.randn(layers, 1, 2), torch.full((layers, 1, 2), 3.0))
    got = engine_rows(vl.jacobian_norms(m, x, h0, sources=SOURCES))
    want = exact_rows(copy.deepcopy(m), x.double(), h0)
    assert all(math.isfinite(w[0]) for k, w in want.items() if k[0] != "state_c" or k[2] > 0)
    assert _worst(got, want) <= 1e-4
