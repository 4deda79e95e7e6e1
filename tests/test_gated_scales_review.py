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


@pytest.mark.parametrize(
    ("dtype", "c_big", "T", "tol"),
    [
        (torch.float32, 60.0, 10, 1e-4),
        (torch.float64, 400.0, 30, 1e-10),
        # c negative: tanh'(c) is even, and ln k is formed from |c| (from c, log1p(exp(-2 c))
        # overflows past c ~ -355, k read 0 and the state_c rows column 0's decay: 46.5 low)
        (torch.float64, -400.0, 30, 1e-10),
    ],
)
def test_a_cell_column_far_below_the_others_is_kept_when_they_decay(dtype, c_big, T, tol):
    # Two units, W_hh = 0, input gates shut: unit 0's c is ~0 (k_0 ~ 0.5) and its forget gate
    # shut (f_0 = sigma(-30) ~ 1e-13); unit 1's c is c_big (k_1 = o tanh'(c) ~ 1e-52 in
    # float32, ~1e-348 in float64) and its forget gate open. d y / d c_t's column 0 is k_0
    # f_0^lag, column 1 ~ k_1: from lag ~4 (float32) the second dominates. k_1 was carried
    # only relative to the row's largest k (k_rel flushed below the dtype's range), and G's
    # c block had one scale for both columns: the state_c rows read column 0's value alone,
    # finite and unflagged, 79 orders of magnitude low at lag 10 in float32 (46 in float64 at
    # lag 30). Now each column of the c block has a log-scale of its own, and k's exponent is
    # carried per unit.
    torch.manual_seed(0)
    m = nn.LSTM(1, 2, 1)
    _bias(m, 0, [-20.0, -20.0])
    _bias(m, 1, [-30.0, 20.0])
    with torch.no_grad():
        m.weight_hh_l0.zero_()
    m = m.to(dtype)
    x = torch.randn(T, 1, 1, dtype=dtype)
    h0 = (torch.zeros(1, 1, 2, dtype=dtype), torch.tensor([[[0.0, c_big]]], dtype=dtype))
    got = engine_rows(vl.jacobian_norms(m, x, h0, sources=SOURCES))
    want = exact_rows(copy.deepcopy(m), x.double(), h0)
    rows = [want[("state_c", 0, lag)][0] for lag in (T - 3, T)]
    assert abs(rows[1] - rows[0]) < 0.01  # column 1 rules: it does not decay (f_1 ~ 1)
    assert _worst(got, want) <= tol


@pytest.mark.parametrize("deferred", [False, True])
def test_a_tiny_cell_column_is_measured_and_made_unit_in_place(deferred):
    # gated_scaled.unit_columns, the c block's per-column rescue (rare: a column of p formed from a
    # k just above the range times small entries of G_h): a float32 column of entries 3e-41
    # (subnormal; its squares are 0, so torch's norm reads 0) is measured in float64 and
    # divided by its norm; a zero column stays 0 and is not noted; with deferred checks the
    # tiny column is only noted, and nothing changes.
    from vanishlab.core.gated_scaled import unit_columns
    from vanishlab.core.scaling import TinyNorms

    c = torch.zeros(2, 3, 3)
    c[0, :, 0] = torch.tensor([1.0, -2.0, 2.0])
    c[0, :, 1] = torch.tensor([3e-41, 0.0, -3e-41])
    c[1, :, 2] = 0.5
    before = c.clone()
    s_c = torch.full((2, 3), 7.0, dtype=torch.float64)
    tiny = TinyNorms(deferred=deferred)
    n, s = unit_columns(c, s_c, tiny)
    true = before[0, :, 1].double().norm().item()  # ~4.2e-41, exact from the float32 entries
    assert n[0, 0] == 3.0 and n[1, 2] == pytest.approx(0.5 * math.sqrt(3))
    assert n[0, 2] == n[1, 0] == 0.0 and s[0, 0] == s[1, 2] == s[0, 2] == 7.0
    if deferred:
        assert tiny.found() and torch.equal(c, before) and n[0, 1] == 0.0
        return
    col = c[0, :, 1].double()
    assert n[0, 1] == 1.0 and col.norm().item() == pytest.approx(1.0, rel=1e-6)
    assert s[0, 1] == pytest.approx(7.0 + math.log(true), abs=1e-12)
    assert torch.equal(c[:, :, [0, 2]], before[:, :, [0, 2]])


def test_per_sample_and_per_column_scales_do_not_mix_samples(monkeypatch):
    # Three samples through the general path (a GPU's deferred checks forced too): c0 of 50
    # (k below float32's range from step 1), an ordinary one, and c0 of -50 with one unit
    # ordinary. Every row of each sample against the reference (measured <= 1.1e-5).
    from vanishlab.core import scaling

    torch.manual_seed(0)
    m = nn.LSTM(3, 2, 1)
    _bias(m, 0, [20.0, 20.0])
    _bias(m, 1, [20.0, 20.0])
    _bias(m, 2, [20.0, 20.0])
    x = torch.randn(40, 3, 3)
    h0 = (torch.randn(1, 3, 2), torch.tensor([[[50.0, 50.0], [0.0, 0.0], [-50.0, 0.3]]]))
    part = lambda v, b: v[:, b : b + 1]  # noqa: E731
    want = [
        exact_rows(copy.deepcopy(m), part(x, b).double(), (part(h0[0], b), part(h0[1], b)))
        for b in range(3)
    ]
    for deferred in (False, True):
        if deferred:
            monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
        frame = vl.jacobian_norms(m, x, h0, sources=SOURCES)
        for b in range(3):
            got = engine_rows(frame[frame["sample"] == b].assign(sample=0))
            assert _worst(got, want[b]) <= 1e-4, (deferred, b)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_a_layer_no_path_reaches_reads_minus_inf_not_nan(cls):
    # Layer 1's W_ih = 0: nothing of layer 0 reaches y, so its rows are exact zeros, -inf.
    # gated_scaled.over_max weighs two terms of ln -inf each (-inf - -inf: NaN) as 0: without that,
    # the NaN reached the frame (an internal error) instead of -inf.
    torch.manual_seed(0)
    m = cls(3, 4, 2)
    with torch.no_grad():
        m.weight_ih_l1.zero_()
    frame = vl.jacobian_norms(m, torch.randn(5, 2, 3), sources=("state",))
    low, top = frame[frame["layer"] == 0], frame[frame["layer"] == 1]
    assert len(low) == 12 and (low[["log10_fro", "log10_spec"]] == -math.inf).all(axis=None)
    assert top["log10_fro"].map(math.isfinite).all()


def test_deferred_checks_do_not_run_an_lstm_again_for_its_zero_cell_columns(monkeypatch):
    # With a GPU's deferred checks, a tiny column norm is only noted and the call runs again
    # (scaling.checked_run). An all-zero column (the c block at lag 0, and every column until
    # a path reaches it) has norm 0 in any precision: not noted, or every LSTM call through the
    # general path would run twice. An ordinary stack: one run.
    from vanishlab.core import gated, scaling

    runs = []
    general = gated._general
    monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    monkeypatch.setattr(gated, "_general", lambda *a: runs.append(a[-1].deferred) or general(*a))
    torch.manual_seed(0)
    vl.jacobian_norms(nn.LSTM(3, 4, 2), torch.randn(6, 2, 3), sources=SOURCES)
    assert runs == [True]


def test_a_cell_column_whose_squares_overflow_is_measured_again():
    # gated_scaled.unit_columns: float32 entries of ~3e19 square to inf; such a column is measured
    # in float64 from itself over its largest entry and made unit, as a tiny one is.
    from vanishlab.core.gated_scaled import unit_columns
    from vanishlab.core.scaling import TinyNorms

    c = torch.zeros(1, 2, 2)
    c[0, :, 0] = torch.tensor([0.75, -1.0]) * 2.0**65  # norm 1.25 * 2^65, exact
    c[0, :, 1] = torch.tensor([0.6, 0.8])
    n, s = unit_columns(c, torch.zeros(1, 2, dtype=torch.float64), TinyNorms(deferred=False))
    assert n.tolist() == [[1.0, pytest.approx(1.0)]]
    assert s[0, 0].item() == pytest.approx(65 * math.log(2) + math.log(1.25), abs=1e-12)
    assert s[0, 1] == 0.0
    assert c[0, :, 0].tolist() == pytest.approx([0.6, -0.8])


def test_an_output_gate_shut_below_the_range_beside_an_idle_unit_is_carried():
    # As the first test, with unit 1 idle: its g gate's weights and biases 0 and c0 = 0, so its
    # c' stays exactly 0, and its O = tanh(c') sigma'(a_o) = 0 is not "below the range". Unit
    # 0's O is: the row carries it (with "all" for "any" in scaled_o's test, unit 0's O read
    # 0: 1.03 orders off). The step took its scale from unit 1's column of p (k_1 ~ 0.5),
    # which meets C_1 = 0 and O_1 = 0, and unit 0's terms, 10^-44 below it, were subnormal in
    # float32: 0.0088 off. Now within 8.1e-7 (the next test: the same at a_o = -150).
    assert _idle_unit_worst(-100.0) <= 1e-5


def test_a_cell_that_stays_exactly_zero_carries_no_o_exponent():
    # Unit 1's c' = 0 exactly (its g gate's weights and biases 0, c0 = 0, as in a pruned unit):
    # its O = tanh(c') sigma'(a_o) is an exact 0, not a number below the range; nothing is
    # carried apart and the one-layer fast path measures the call (without the c' != 0
    # condition, every call with such a unit went to the general path).
    from vanishlab.core.gated_forward import gated_steps, prepare_gated
    from vanishlab.core.gated_one_layer import one_layer_norms

    torch.manual_seed(0)
    m = nn.LSTM(3, 4, 1)
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(m, name)[9] = 0.0  # the g block's unit 1 (row 2 H + 1)
    inp = prepare_gated(m, torch.randn(6, 2, 3))
    st = gated_steps(inp)[0]
    assert st.c is not None and not st.c[..., 1].any() and st.c[..., 0].all()
    assert st.o_scaled is None and st.k_scaled is None
    assert one_layer_norms(inp, st, ("fro",), ("state", "input")) is not None


def test_an_idle_unit_does_not_set_the_scale_of_an_output_gate_shut_past_the_range():
    # The case above at a_o = -150: float32 read the state_h row at lag 1 as -inf, where the
    # reference reads 10^-65.39 (float64 at a_o = -800 likewise: -inf for 10^-347.6). Each
    # term of a step is now weighed by its coefficient and its row of W (core/gated_terms.py),
    # C's exponent carried where it is below the range: within 2.7e-6 (-100: 8.1e-7), as the
    # same case with unit 1 active (4e-7). tests/test_gated_idle_unit.py: stacks, float64.
    assert _idle_unit_worst(-150.0) <= 1e-5


def _idle_unit_worst(a_o: float) -> float:
    """The worst row of a float32 LSTM(2, 2) whose unit 0's o gate is at ``a_o`` (c0 = 3) and
    whose unit 1 is idle (its g gate's weights and biases 0, c0 = 0: c' stays exactly 0),
    against the 120-digit reference."""
    torch.manual_seed(4)
    m = nn.LSTM(2, 2, 1)
    _bias(m, 3, [a_o, 0.0])
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(m, name)[5] = 0.0  # the g block's unit 1 (row 2 H + 1)
    x = torch.randn(8, 1, 2)
    h0 = (torch.randn(1, 1, 2), torch.tensor([[[3.0, 0.0]]]))
    got = engine_rows(vl.jacobian_norms(m, x, h0, sources=SOURCES))
    return _worst(got, exact_rows(copy.deepcopy(m), x.double(), h0))
