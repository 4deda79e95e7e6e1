"""nn.LSTM / nn.GRU: closed forms at long horizons, the frame, and the errors users get."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl

H = 6


def gates_without_recurrence(model: str, dtype: torch.dtype, seed: int = 0) -> nn.Module:
    """A one-layer cell with W_hh = 0 and per-unit biases: with zero input every gate is a
    constant, so the state Jacobians have closed forms (see the tests)."""
    torch.manual_seed(seed)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(3, H).to(dtype)
    with torch.no_grad():
        mod.weight_hh_l0.zero_()
        mod.bias_hh_l0.zero_()
        mod.bias_ih_l0.copy_(torch.linspace(-3.0, 2.0, mod.bias_ih_l0.numel()))
    return mod


def closed_form_log10(factors: np.ndarray, scale: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """log10 || diag(scale * factors^j) ||_F for each lag j, in float64 logs (no underflow)."""
    ln = np.log(scale)[None, :] + lags[:, None] * np.log(factors)[None, :]
    top = ln.max(axis=1, keepdims=True)
    return (top[:, 0] + 0.5 * np.log(np.exp(2 * (ln - top)).sum(axis=1))) / math.log(10)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# float64 in the slow tier (~2.3 s, among the fast tier's slowest on 2 cores: make test < 5
# min); make test keeps the float32 stack of the contract (finite norms at 3,000 steps)
@pytest.mark.parametrize(
    "dtype", [torch.float32, pytest.param(torch.float64, marks=pytest.mark.slow)]
)
def test_lstm_3000_steps_closed_form(dtype: torch.dtype) -> None:
    """W_hh = 0, zero input: dy/dh_t = 0 below lag 1 and dy/dc_{T-1-j} = diag(k f^j) (k = o
    tanh'(c_{T-1})), so ||.|| reaches ~1e-3000 at T = 3000: float32 must still be exact."""
    T = 3000
    mod = gates_without_recurrence("LSTM", dtype)
    x = torch.zeros(T, 1, 3, dtype=dtype)
    res = vl.jacobian_log_norms(mod, x, sources=("state", "state_h", "state_c"))
    b = mod.bias_ih_l0.detach().double().numpy()
    f, o = sigmoid(b[H : 2 * H]), sigmoid(b[3 * H :])
    _, (_, c_n) = mod.double()(x.double())
    k = o * (1 - np.tanh(c_n[0, 0].detach().numpy()) ** 2)
    lags = np.arange(1, T + 1)
    want = closed_form_log10(f, k, lags)
    assert want[-1] < -500  # far below float32's (and float64's) range
    for got in (res.state_fro, res.state_c_fro):
        g = got[0, 0].numpy()
        assert np.isfinite(g[1:]).all()
        # float32: the gates themselves carry ~1e-7 relative rounding, compounded T times.
        tol = 1e-9 if dtype == torch.float64 else 2e-3
        np.testing.assert_allclose(g[1:], want, rtol=0, atol=tol)
    assert res.state_fro[0, 0, 0].item() == pytest.approx(0.5 * math.log10(H), abs=1e-6)
    assert np.isneginf(res.state_h_fro[0, 0, 1:].numpy()).all()  # W_hh = 0: no h path
    assert res.state_h_fro[0, 0, 0].item() == pytest.approx(0.5 * math.log10(H), abs=1e-6)
    assert np.isneginf(res.state_c_fro[0, 0, 0].item())  # lag 0: [I | 0]
    spec = res.state_spec[0, 0].numpy()
    lnf = np.log(f)
    want_spec = (np.log(k)[None, :] + lags[:, None] * lnf[None, :]).max(1) / math.log(10)
    np.testing.assert_allclose(spec[1:], want_spec, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gru_3000_steps_closed_form(dtype: torch.dtype) -> None:
    """W_hh = 0, zero input: dh'/dh = diag(z), so dy/dh_{T-1-j} = diag(z^j) (lag T: h0)."""
    T = 3000
    mod = gates_without_recurrence("GRU", dtype)
    x = torch.zeros(T, 2, 3, dtype=dtype)
    res = vl.jacobian_log_norms(mod, x)
    z = sigmoid(mod.bias_ih_l0.detach().double().numpy()[H : 2 * H])
    lags = np.arange(T + 1)
    want = closed_form_log10(z, np.ones(H), lags)
    assert want[-1] < -500
    tol = 1e-9 if dtype == torch.float64 else 2e-3
    for b in range(2):
        np.testing.assert_allclose(res.state_fro[b, 0].numpy(), want, rtol=0, atol=tol)
        want_spec = lags * np.log10(z.max())
        np.testing.assert_allclose(res.state_spec[b, 0].numpy(), want_spec, rtol=0, atol=tol)
    assert np.isfinite(res.input_fro.numpy()).all()


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.parametrize(("steps", "floor"), [(600, -45), (3000, -300)])
def test_long_float32_lstm_is_finite_and_agrees_with_float64(steps: int, floor: float) -> None:
    """A generic long float32 LSTM stack (no closed form): every norm finite, no 0 or -inf,
    and within the compounded float32 rounding of the float64 engine."""
    torch.manual_seed(0)
    mod = nn.LSTM(4, 16, 2)
    x = torch.randn(steps, 2, 4)
    got = vl.jacobian_log_norms(mod, x)
    want = vl.jacobian_log_norms(mod.double(), x.double())
    for a, b in ((got.state_fro, want.state_fro), (got.input_spec, want.input_spec)):
        assert torch.isfinite(a).all()
        assert b.min() < floor  # beyond what a float32 product could hold
        assert (a - b).abs().max() < 1e-3 * b.abs().max()


def test_unbatched_and_batch_first_agree_with_the_plain_layout() -> None:
    torch.manual_seed(1)
    for cls in (nn.LSTM, nn.GRU):
        mod = cls(3, 5, 2).double()
        x = torch.randn(7, 3, dtype=torch.float64)
        h = torch.randn(2, 5, dtype=torch.float64)
        h0 = (h, -h) if cls is nn.LSTM else h
        h0b = (h[:, None], -h[:, None]) if cls is nn.LSTM else h[:, None]
        one = vl.jacobian_norms(mod, x, h0)
        plain = vl.jacobian_norms(mod, x[:, None], h0b)
        pd.testing.assert_frame_equal(one, plain, rtol=1e-12)
        mod.batch_first = True
        pd.testing.assert_frame_equal(vl.jacobian_norms(mod, x[None], h0b), plain, rtol=1e-12)


def test_frame_layout_and_parts() -> None:
    torch.manual_seed(2)
    L, T, B = 2, 5, 3
    lstm = nn.LSTM(4, H, L)
    x = torch.randn(T, B, 4)
    frame = vl.jacobian_norms(lstm, x)
    assert len(frame) == B * (L * (T + 1) + T)
    assert list(frame.columns) == ["sample", "source", "layer", "lag", "log10_fro", "log10_spec"]
    parts = vl.jacobian_norms(lstm, x, sources=("state", "state_h", "state_c"), norms="fro")
    assert list(parts["source"].unique()) == ["state", "state_h", "state_c"]
    wide = parts.pivot_table(index=["sample", "layer", "lag"], columns="source", values="log10_fro")
    # ||[A | B]||_F^2 = ||A||_F^2 + ||B||_F^2
    total = np.log10(np.hypot(10 ** wide["state_h"], 10 ** wide["state_c"]))
    np.testing.assert_allclose(total, wide["state"], atol=1e-6)
    gru = nn.GRU(4, H, L)
    with pytest.raises(ValueError, match="state_h and state_c are the h and c parts"):
        vl.jacobian_norms(gru, x, sources=("state", "state_h"))


def test_refused_options_and_bad_arguments() -> None:
    x = torch.randn(5, 2, 3)
    with pytest.raises(ValueError, match="bidirectional=True is not supported for LSTM"):
        vl.jacobian_norms(nn.LSTM(3, 4, bidirectional=True), x)
    with pytest.raises(ValueError, match="bidirectional=True is not supported for GRU"):
        vl.lyapunov_spectrum(nn.GRU(3, 4, bidirectional=True), x)
    with pytest.raises(ValueError, match="proj_size=2 is not supported"):
        vl.jacobian_norms(nn.LSTM(3, 4, proj_size=2), x)
    lstm, gru = nn.LSTM(3, 4, 2), nn.GRU(3, 4, 2)
    h0 = torch.zeros(2, 2, 4)
    with pytest.raises(TypeError, match=r"h0 must be None or the tuple \(h0, c0\)"):
        vl.jacobian_norms(lstm, x, h0)
    with pytest.raises(ValueError, match=r"c0 must have shape .* = \(2, 2, 4\), got \(1, 2, 4\)"):
        vl.jacobian_norms(lstm, x, (h0, torch.zeros(1, 2, 4)))
    with pytest.raises(TypeError, match=r"h0 must be a torch\.Tensor"):
        vl.jacobian_norms(gru, x, (h0, h0))
    with pytest.raises(ValueError, match="input_size=3"):
        vl.jacobian_norms(gru, torch.randn(5, 2, 4))
    with pytest.raises(TypeError, match=r"float64 but the GRU's weights are torch\.float32"):
        vl.jacobian_norms(gru, x.double())
    with pytest.raises(ValueError, match=r"2 \* num_layers \* hidden_size = 16"):
        vl.lyapunov_spectrum(lstm, x, k=17)


@pytest.mark.parametrize("part", [0, 1])
def test_a_none_inside_an_lstm_state_tuple_is_named(part: int) -> None:
    """(h0, None) read "c0 must be a torch.Tensor or None, got NoneType": None is taken for
    the whole state, not for one of its parts (nn.LSTM refuses (h0, None) too)."""
    lstm, x = nn.LSTM(3, 4), torch.randn(5, 2, 3)
    state = [torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)]
    state[part] = None
    what = ("h0", "c0")[part]
    with pytest.raises(TypeError, match=rf"^{what} must be a torch\.Tensor \(None stands for"):
        vl.jacobian_norms(lstm, x, tuple(state))
    with pytest.raises(TypeError, match="or None"):  # the whole state may be None
        vl.jacobian_norms(nn.GRU(3, 4), x, [torch.zeros(1, 2, 4)])


def test_non_finite_state_is_named() -> None:
    # Finite inputs, state and weights whose products overflow: a_n = W_in x + r (W_hn h) reads
    # -inf + 0.5 inf = NaN at step 4 (before it, W_hn h = +inf, n = tanh(inf) = 1 keeps h at 1).
    # The inf - inf lies between two products the cell adds, so no kernel's order of summation
    # decides it. It lay inside one dot product, W x = 10 * 3e38 - 10 * 3e38, which MKL's AVX2
    # code (MKL_ENABLE_INSTRUCTIONS=AVX2, as on an AVX2-only Xeon) read as inf, leaving the
    # state finite: the test failed there.
    gru = nn.GRU(2, 3)
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.weight_ih_l0[6:].fill_(10.0)  # W_in
        gru.weight_hh_l0[6:].fill_(3e38)  # W_hn
    x = torch.zeros(6, 1, 2)
    x[4, 0, 0] = -3e38
    with pytest.raises(vl.NonFiniteStateError, match="layer 0 became NaN at time step 4"):
        vl.jacobian_norms(gru, x, torch.ones(1, 1, 3))
    nan_input = torch.zeros(6, 1, 2)
    nan_input[4, 0, 1] = float("nan")  # a NaN the user passes in is refused before the forward
    with pytest.raises(ValueError, match="x holds nan at time step 4, sample 0, feature 1"):
        vl.jacobian_norms(gru, nan_input)


def test_measurement_stays_on_the_module_dtype_and_leaves_inputs_alone() -> None:
    torch.manual_seed(3)
    lstm = nn.LSTM(3, 4, 2)
    x = torch.randn(6, 2, 3)
    h0 = (torch.randn(2, 2, 4), torch.randn(2, 2, 4))
    copies = (x.clone(), h0[0].clone(), h0[1].clone())
    out = vl.jacobian_log_norms(lstm, x, h0)
    assert out.state_fro.dtype == torch.float64 and out.state_fro.shape == (2, 2, 7)
    for a, b in zip((x, *h0), copies, strict=True):
        assert torch.equal(a, b)


def test_a_sigmoid_derivative_that_lost_its_digits_is_zero() -> None:
    """As tanh's (tests/test_engine_oracle.py): sigmoid'(a) at |a| = 95 in float32 is a
    subnormal with few digits; at |a| = 88 (below the normal range too) it has 21 bits."""
    from vanishlab.core.gated_forward import _dsigmoid

    a = torch.tensor([88.0, 95.0])
    d = _dsigmoid(a.clone())
    want = torch.exp(-a.double())  # sigmoid'(a) = e^-|a| / (1 + e^-|a|)^2 ~ e^-|a|
    assert d[0] > 0 and abs(float(d[0]) / float(want[0]) - 1) < 2e-6
    assert float(d[0]) < torch.finfo(torch.float32).tiny and d[1] == 0


@pytest.mark.parametrize("model", ["LSTM", "GRU"])
@pytest.mark.parametrize(
    ("dtype", "tiny_scale", "layers", "atol"),
    [
        (torch.float64, 1e-310, 1, 1e-8),
        (torch.float64, 1e-310, 2, 1e-8),
        (torch.float32, 1e-40, 2, 1e-3),  # 1e-40 holds ~16 bits in float32
    ],
)
def test_subnormal_recurrent_weights(
    model: str, dtype: torch.dtype, tiny_scale: float, layers: int, atol: float
) -> None:
    """W_hh scaled into the subnormal range, with the carried path closed (forget gate, or GRU
    update gate, at 0): each step's Jacobian is linear in that scale, so every lag k reads
    log10(1e-10 / scale) k below the same cell at scale 1e-10. One layer read the first
    overflowed 1 / ||raw|| as an exact zero (-inf from lag 2 on); a stack, whose two terms
    are weighted by 1 / ||term||, put NaN in the frame (an AssertionError)."""

    def cell(scale: float) -> nn.Module:
        torch.manual_seed(0)
        mod = (nn.LSTM if model == "LSTM" else nn.GRU)(3, H, layers).to(dtype)
        with torch.no_grad():
            for l in range(layers):
                getattr(mod, f"weight_hh_l{l}").mul_(scale)
                # the forget gate (LSTM) or update gate (GRU) at 0
                getattr(mod, f"bias_ih_l{l}")[H : 2 * H] = -800.0
        return mod

    x = torch.randn(6, 2, 3, dtype=dtype, generator=torch.Generator().manual_seed(1))
    tiny = vl.jacobian_norms(cell(tiny_scale), x, sources=("state",))
    normal = vl.jacobian_norms(cell(1e-10), x, sources=("state",))
    per_lag = math.log10(1e-10 / tiny_scale)
    k = tiny["lag"].to_numpy()
    assert np.isfinite(tiny["log10_fro"]).all() and np.isfinite(tiny["log10_spec"]).all()
    for norm in ("log10_fro", "log10_spec"):
        np.testing.assert_allclose(tiny[norm], normal[norm] - per_lag * k, atol=atol)


@pytest.mark.parametrize(
    ("dtype", "a_n", "h0"),
    [
        (torch.float32, 8.0, 1.0),  # tanh(8) rounds to 1 - 4 ulps: 0.025 off in log10
        (torch.float32, 12.0, 1.0),  # tanh(12) rounds to 1: read -inf
        (torch.float32, -14.0, -1.0),
        (torch.float32, 10.0, 0.75),  # no cancellation: unchanged
        (torch.float64, 20.0, 1.0),  # tanh(20) rounds to 1 in float64 too: read -inf
    ],
)
def test_gru_update_gate_term_of_a_state_that_follows_its_candidate(
    dtype: torch.dtype, a_n: float, h0: float
) -> None:
    """A GRU whose input reaches the state only through the update gate (W_ir = W_in = 0,
    W_hh = 0): dh_0/dx_0 = sigmoid'(a_z) (h0 - tanh(a_n)) w_iz, with a_n = b_in. With h0 and
    tanh(a_n) both near +-1, h0 - tanh(a_n) was formed in the module's dtype from a rounded
    tanh: a few ulps of 1 where the true value is 2 e^(-2|a_n|), or an exact 0 (-inf)."""
    mod = nn.GRU(1, 1).to(dtype)
    with torch.no_grad():
        mod.weight_hh_l0.zero_()
        mod.bias_hh_l0.zero_()
        mod.weight_ih_l0.copy_(torch.tensor([[0.0], [1.5], [0.0]]))
        mod.bias_ih_l0.copy_(torch.tensor([0.0, 0.0, a_n]))
    x = torch.full((1, 1), 0.25, dtype=dtype)
    res = vl.jacobian_log_norms(mod, x, torch.full((1, 1), h0, dtype=dtype))
    s = math.copysign(1.0, a_n)
    e = math.exp(-2 * abs(a_n))
    h_minus_n = (h0 - s) + s * 2 * e / (1 + e)  # exact for these h0
    a_z = 1.5 * 0.25
    want = math.log10(sigmoid(np.float64(a_z)) * sigmoid(np.float64(-a_z)) * abs(h_minus_n) * 1.5)
    tol = 1e-12 if dtype == torch.float64 else 2e-7
    for got in (res.input_fro, res.input_spec):
        assert abs(float(got[0]) - want) < tol
