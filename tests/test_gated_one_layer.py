"""The one-layer fast path of the gated engine against its general path.

The general path is proven against float64 autograd oracles (tests/test_gated_oracle.py); the
fast path must give the same numbers on every form of call it takes, and must hand over to the
general path (not return wrong numbers) when a norm leaves float32's trustworthy range."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated, gated_forward, gated_one_layer, scaling

F64 = torch.float64

FIELDS = tuple(
    f"{src}_{norm}" for src in ("state", "input", "state_h", "state_c") for norm in ("fro", "spec")
)


def general_path(monkeypatch: pytest.MonkeyPatch, *args, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(gated, "one_layer_norms", lambda *a: None)
        return vl.jacobian_log_norms(*args, **kwargs)


@pytest.mark.parametrize(
    ("model", "dtype", "bias", "given_h0", "norms"),
    [
        (*case, norms)
        for case in itertools.product(
            [nn.LSTM, nn.GRU], [torch.float64, torch.float32], [True, False], [False, True]
        )
        for norms in (("fro",), ("fro", "spec"))
    ]
    + [
        (nn.LSTM, torch.float32, True, False, ("spec",)),
        (nn.GRU, torch.float64, True, True, ("spec",)),
    ],
)
def test_fast_path_matches_the_general_path(
    monkeypatch, model, dtype, bias, given_h0, norms
) -> None:
    torch.manual_seed(int(bias) + 2 * int(given_h0))
    mod = model(3, 17, bias=bias).to(dtype)
    x = torch.randn(40, 2, 3, dtype=dtype)
    h0 = None
    if given_h0:
        h = torch.randn(1, 2, 17, dtype=dtype)
        h0 = (h, torch.randn(1, 2, 17, dtype=dtype)) if model is nn.LSTM else h
    sources = ["state", "input"] + (["state_h", "state_c"] if model is nn.LSTM else [])
    used = []
    real = gated_one_layer.one_layer_norms
    monkeypatch.setattr(gated, "one_layer_norms", lambda *a: used.append(real(*a)) or used[-1])
    fast = vl.jacobian_log_norms(mod, x, h0, norms=norms, sources=sources)
    assert len(used) == 1 and used[0] is not None, "the fast path did not answer"
    slow = general_path(monkeypatch, mod, x, h0, norms=norms, sources=sources)
    tol = 1e-10 if dtype == torch.float64 else 2e-6
    for field in FIELDS:
        a, b = getattr(fast, field), getattr(slow, field)
        if b is None:
            assert a is None
            continue
        assert a.shape == b.shape
        assert torch.equal(torch.isfinite(a), torch.isfinite(b)), field
        ok = torch.isfinite(b)
        assert (a[ok] - b[ok]).abs().max().item() < tol, field


def test_fast_path_stays_exact_over_3000_float32_steps(monkeypatch) -> None:
    """Forget gates nearly shut: the norms fall to ~1e-2600, kept in logs, as the general
    path has them."""
    torch.manual_seed(0)
    mod = nn.LSTM(4, 24)
    with torch.no_grad():
        mod.bias_hh_l0[24:48] = -8.0
    x = torch.randn(3000, 2, 4)
    answered = []
    real = gated_one_layer.one_layer_norms
    monkeypatch.setattr(
        gated, "one_layer_norms", lambda *a: answered.append(real(*a)) or answered[-1]
    )
    fast = vl.jacobian_log_norms(mod, x, norms="fro", sources="state")
    assert answered[0] is not None, "the fast path did not answer"
    monkeypatch.undo()
    slow = general_path(monkeypatch, mod, x, norms="fro", sources="state")
    assert torch.isfinite(fast.state_fro).all()
    assert fast.state_fro[:, 0, -1].max() < -2000
    assert (fast.state_fro - slow.state_fro).abs().max().item() < 1e-3  # 3000 float32 steps


@pytest.mark.parametrize("norms", [("fro",), ("fro", "spec")])
@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_fast_path_hands_over_when_norms_leave_float32_range(monkeypatch, model, norms) -> None:
    """Tiny recurrent weights shrink G by ~1e-6 a step: between two divisions its float32
    norm goes below 1e-17, where sums of squares go subnormal. The fast path gives way and the
    general path answers (with spectral norms, before any such matrix reaches the iteration:
    it raised LinAlgError there without the check before each flush)."""
    torch.manual_seed(0)
    mod = model(4, 24)
    with torch.no_grad():
        mod.weight_hh_l0.mul_(1e-6)
        # LSTM: forget gate f ~ 1e-13, the c path shrinks as fast; GRU: update gate z ~ 1e-13,
        # no carry of h.
        mod.bias_hh_l0[24:48] = -30.0
    x = torch.randn(30, 2, 4)
    answers = []
    real = gated_one_layer.one_layer_norms
    monkeypatch.setattr(
        gated, "one_layer_norms", lambda *a: answers.append(real(*a)) or answers[-1]
    )
    res = vl.jacobian_log_norms(mod, x, norms=norms, sources="state")
    assert answers == [None]
    assert torch.isfinite(res.state_fro).all()
    assert res.state_fro[:, 0, -1].max() < -100
    if "spec" in norms:
        assert torch.isfinite(res.state_spec).all()
        assert (res.state_spec <= res.state_fro + 1e-6).all()


@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_fast_path_hands_over_when_only_the_input_norms_leave_float32_range(
    monkeypatch, model
) -> None:
    """Input weights of 1e-30: the input Jacobians' float32 sums of squares underflow while
    the states' norms stay normal. Every norm read is checked, not just one kind: the general
    path answers, as float64 does (the fast path's input norms read -inf)."""
    torch.manual_seed(0)
    mod = model(4, 16)
    with torch.no_grad():
        mod.weight_ih_l0.mul_(1e-30)
    x = torch.randn(12, 2, 4)
    answers = []
    real = gated_one_layer.one_layer_norms
    monkeypatch.setattr(
        gated, "one_layer_norms", lambda *a: answers.append(real(*a)) or answers[-1]
    )
    res = vl.jacobian_log_norms(mod, x, norms=("fro",))
    assert answers == [None]
    want = vl.jacobian_log_norms(mod.double(), x.double(), norms=("fro",))
    assert (res.input_fro - want.input_fro).abs().max() < 1e-6
    assert (res.state_fro - want.state_fro).abs().max() < 1e-6


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_fast_path_spectral_norms_of_small_cells(monkeypatch, model, gpu_like) -> None:
    """H = 12: every matrix is small enough for an exact norm (at once on a CPU, queued per
    chunk on a GPU); an LSTM's whole state is then built by concatenation, not in a slot."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(3)
    mod = model(3, 12).double()
    x = torch.randn(30, 2, 3, dtype=torch.float64)
    sources = ["state", "input"] + (["state_h", "state_c"] if model is nn.LSTM else [])
    used = []
    real = gated_one_layer.one_layer_norms
    monkeypatch.setattr(gated, "one_layer_norms", lambda *a: used.append(real(*a)) or used[-1])
    fast = vl.jacobian_log_norms(mod, x, sources=sources)
    assert used[0] is not None
    slow = general_path(monkeypatch, mod, x, sources=sources)
    for field in FIELDS:
        a, b = getattr(fast, field), getattr(slow, field)
        if b is None:
            assert a is None
            continue
        ok = torch.isfinite(b)
        assert torch.equal(torch.isfinite(a), ok), field
        assert (a[ok] - b[ok]).abs().max().item() < 1e-12, field


def test_fast_path_hands_over_where_k_is_below_the_dtypes_range(monkeypatch) -> None:
    """An LSTM's k = o tanh'(c') below float32's range (c' ~ 50 here) is carried as
    exp(ln_k) k_rel by the general path only (gated_lstm_range.scaled_k): the fast path, which
    multiplies by k itself, hands any call with such a k over before it measures anything
    (here its own checks would pass: the same steps with a harmless k_scaled), and the rows
    are the general path's."""
    torch.manual_seed(0)
    mod = nn.LSTM(3, 2)
    x = torch.randn(60, 1, 3)
    inp = gated_forward.prepare_gated(mod, x)
    plain = gated_forward.gated_steps(inp)[0]
    assert plain.k_scaled is None
    args = (("fro", "spec"), ("state", "state_c"))
    assert gated_one_layer.one_layer_norms(inp, plain, *args) is not None
    harmless = dataclasses.replace(plain, k_scaled=(plain.k, torch.zeros(60, 1, dtype=F64)))
    assert gated_one_layer.one_layer_norms(inp, harmless, *args) is None
    with torch.no_grad():
        mod.bias_ih_l0[:6] = 20.0  # i, f and g open: c grows by ~1 a step
    steps = gated_forward.gated_steps(gated_forward.prepare_gated(mod, x))[0]
    assert steps.k_scaled is not None and (steps.k[-1] == 0).all()  # flushed, carried apart
    res = vl.jacobian_log_norms(mod, x, sources=("state", "state_c"))
    assert torch.isfinite(res.state_c_fro[0, 0, 1:]).all()
    want = general_path(monkeypatch, mod, x, sources=("state", "state_c"))
    for field in ("state_fro", "state_spec", "state_c_fro", "state_c_spec"):
        assert torch.equal(getattr(res, field), getattr(want, field)), field


@pytest.mark.parametrize("carried", ["c_scaled", "f_scaled"])
def test_fast_path_hands_over_where_a_cell_gates_coefficient_or_forget_gate_is_carried(
    carried: str,
) -> None:
    """A cell gate's coefficient C, or a forget gate f, below the dtype's range is carried (as
    exp(ln_C) C_rel, as ln f) by the general path only (gated_lstm_range.scaled_c, scaled_f): the
    fast path, which reads C and f as they are, hands such a call over before it measures
    anything, as with a carried k. Here its own checks would pass (the same steps with a
    harmless c_scaled or f_scaled); a call with C past the range that the fast path would
    measure wrong trips its own checks first (G_h falls below them before the paths through C
    come to rule it), so the hand-over is checked by itself."""
    torch.manual_seed(0)
    mod = nn.LSTM(3, 2)
    inp = gated_forward.prepare_gated(mod, torch.randn(20, 1, 3))
    plain = gated_forward.gated_steps(inp)[0]
    assert plain.c_scaled is None and plain.f_scaled is None
    args = (("fro", "spec"), ("state", "state_c"))
    assert gated_one_layer.one_layer_norms(inp, plain, *args) is not None
    cell = plain.coef[..., :6]
    harmless = {
        "c_scaled": (cell, torch.zeros(cell.shape, dtype=F64)),
        "f_scaled": plain.carry.double().log(),
    }[carried]
    steps = dataclasses.replace(plain, **{carried: harmless})
    assert gated_one_layer.one_layer_norms(inp, steps, *args) is None
