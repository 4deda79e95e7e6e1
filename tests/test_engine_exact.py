"""Closed-form cases, long horizons, exact zeros and overflow: where the answer is known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import vanishlab as vl


def origin_rnn(hidden: int, gain: float, dtype=torch.float64, layers: int = 1, inputs: int = 3):
    """tanh RNN with W_hh = gain * Q (Q orthogonal) and zero biases: at h = 0, x = 0 the
    one-step Jacobian is exactly gain * Q, so at lag k ||dh_T/dh_{T-k}|| = gain^k * ||Q^k||."""
    torch.manual_seed(0)
    rnn = nn.RNN(inputs, hidden, layers).to(dtype)
    with torch.no_grad():
        for l in range(layers):
            q, _ = torch.linalg.qr(torch.randn(hidden, hidden, dtype=torch.float64))
            getattr(rnn, f"weight_hh_l{l}").copy_(gain * q)
            getattr(rnn, f"bias_hh_l{l}").zero_()
            getattr(rnn, f"bias_ih_l{l}").zero_()
    return rnn


@pytest.mark.parametrize("gain", [0.3, 0.9, 1.0, 1.7])
def test_orthogonal_at_origin_decays_exactly_as_gain_to_the_k(gain: float) -> None:
    H, T = 16, 30
    rnn = origin_rnn(H, gain)
    x = torch.zeros(T, 2, 3, dtype=torch.float64)
    f = vl.jacobian_norms(rnn, x)
    state = f[f["source"] == "state"]
    k = state["lag"].to_numpy()
    np.testing.assert_allclose(state["log10_spec"], k * math.log10(gain), atol=1e-12)
    np.testing.assert_allclose(
        state["log10_fro"], k * math.log10(gain) + 0.5 * math.log10(H), atol=1e-12
    )
    # Input: at lag k, dh_T/dx_{T-k} = (gain Q)^k W_ih (x_T enters h_T through W_ih alone),
    # and Q^k preserves the Frobenius norm.
    inp = f[f["source"] == "input"]
    w_fro = math.log10(torch.linalg.matrix_norm(rnn.weight_ih_l0).item())
    np.testing.assert_allclose(
        inp["log10_fro"], inp["lag"].to_numpy() * math.log10(gain) + w_fro, atol=1e-12
    )
    rates = vl.fit_decay(f[f["source"] == "state"])["rate"]
    np.testing.assert_allclose(rates, math.log(gain), atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_no_underflow_at_long_horizons(dtype: torch.dtype) -> None:
    """gain 0.1 over 3000 steps: the true norm is 1e-3000, reported as log10 = -3000."""
    H, T, gain = 8, 3000, 0.1
    rnn = origin_rnn(H, gain, dtype)
    x = torch.zeros(T, 1, 3, dtype=dtype)
    f = vl.jacobian_norms(rnn, x, sources=("state",))
    last = f[f["lag"] == T]
    assert float(last["log10_spec"].iloc[0]) == pytest.approx(
        -T, abs=1e-6 if dtype == torch.float64 else 1e-2
    )
    k = f["lag"].to_numpy()
    tol = 1e-9 if dtype == torch.float64 else 1e-2
    np.testing.assert_allclose(f["log10_spec"], -k.astype(float), atol=tol)
    assert np.isfinite(f["log10_fro"]).all()


def test_stacked_orthogonal_layers_at_origin() -> None:
    """Two layers at the origin with the same W_hh = g Q and W_ih^1 = c I: at lag k,
    dh^1_T / dh^0_{T-k} sums k + 1 paths (one per step T-k, ..., T at which the path climbs),
    each equal to c (g Q)^k, so the spectral norm is exactly (k + 1) c g^k. Lag T (h0) is left
    out: no path climbs at step 0 (h^1_0 is h0's own), so it has k paths, not k + 1."""
    H, T, g, c = 6, 12, 0.8, 0.5
    rnn = origin_rnn(H, g, layers=2, inputs=H)
    with torch.no_grad():
        rnn.weight_hh_l1.copy_(rnn.weight_hh_l0)  # same Q in both layers: paths commute
        rnn.weight_ih_l1.copy_(c * torch.eye(H, dtype=torch.float64))
    f = vl.jacobian_norms(rnn, torch.zeros(T, 1, H, dtype=torch.float64), sources=("state",))
    low = f[(f["layer"] == 0) & (f["lag"] < T)]
    k = low["lag"].to_numpy()
    np.testing.assert_allclose(low["log10_spec"], np.log10((k + 1) * c * g**k), atol=1e-12)


def test_identity_relu_with_positive_activity_keeps_norm_one() -> None:
    """IRNN (W_hh = I, relu) with positive states: every one-step Jacobian is I."""
    H, T = 10, 50
    rnn = nn.RNN(4, H, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(H, dtype=torch.float64))
        rnn.weight_ih_l0.copy_(torch.rand(H, 4, dtype=torch.float64))
        rnn.bias_ih_l0.fill_(0.1)
        rnn.bias_hh_l0.zero_()
    x = torch.rand(T, 2, 4, dtype=torch.float64)  # positive drive keeps every unit on
    f = vl.jacobian_norms(rnn, x, sources=("state",))
    np.testing.assert_allclose(f["log10_spec"], 0.0, atol=1e-13)
    np.testing.assert_allclose(f["log10_fro"], 0.5 * math.log10(H), atol=1e-13)


def test_exact_zero_jacobian_is_minus_infinity() -> None:
    """relu units all off (negative bias): the Jacobian is exactly 0 and log10 is -inf."""
    rnn = nn.RNN(3, 5, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.bias_ih_l0.fill_(-100.0)
    f = vl.jacobian_norms(rnn, torch.rand(8, 2, 3, dtype=torch.float64))
    state = f[f["source"] == "state"]
    assert np.isneginf(state.loc[state["lag"] > 0, "log10_fro"]).all()
    assert np.isneginf(state.loc[state["lag"] > 0, "log10_spec"]).all()
    assert np.isfinite(state.loc[state["lag"] == 0, "log10_fro"]).all()
    assert np.isneginf(f.loc[f["source"] == "input", "log10_fro"]).all()
    assert not f[["log10_fro", "log10_spec"]].isna().any().any()
    fits = vl.fit_decay(f)
    assert (fits["phase"] == "vanishing").all()
    assert fits["note"].str.contains("exact zero").all()


def test_stacked_relu_with_dead_units_matches_the_oracle() -> None:
    """Stacked relu: many units off, so terms of very different scale meet in the recurrence."""
    torch.manual_seed(1)
    rnn = nn.RNN(3, 4, 2, nonlinearity="relu").double()
    x = torch.rand(30, 1, 3, dtype=torch.float64)
    got = vl.jacobian_norms(rnn, x)
    from vanishlab.core.oracle import autograd_jacobian_norms

    want = autograd_jacobian_norms(rnn, x)
    a, b = got["log10_fro"].to_numpy(), want["log10_fro"].to_numpy()
    assert np.array_equal(np.isneginf(a), np.isneginf(b))
    fin = np.isfinite(b)
    assert np.abs(a[fin] - b[fin]).max() < 1e-10


def test_relu_explosion_raises_naming_the_time_step() -> None:
    rnn = nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(3.0 * torch.eye(4))
        rnn.weight_ih_l0.fill_(1.0)
    with pytest.raises(vl.NonFiniteStateError, match=r"layer 0 became inf at time step \d+") as err:
        vl.jacobian_norms(rnn, torch.ones(200, 1, 2))
    assert 70 < err.value.time < 90  # 3^t passes float32's 3.4e38 near t = 80
    assert isinstance(err.value, vl.VanishlabError)
    # raised in a process pool's worker, it reaches the parent pickled: it failed to unpickle
    # there (its __init__ takes four arguments, an exception pickles its message alone)
    import pickle

    back = pickle.loads(pickle.dumps(err.value))
    assert type(back) is vl.NonFiniteStateError and str(back) == str(err.value)
    assert (back.layer, back.time, back.sample) == (err.value.layer, err.value.time, 0)


def test_nan_in_the_input_is_refused_up_front() -> None:
    rnn = nn.RNN(2, 4)
    x = torch.randn(10, 1, 2)
    x[6, 0, 1] = float("nan")
    with pytest.raises(ValueError, match="x holds nan at time step 6, sample 0, feature 1"):
        vl.jacobian_norms(rnn, x)


def test_deterministic_bit_identical() -> None:
    torch.manual_seed(2)
    rnn = nn.RNN(5, 40, 2)
    x = torch.randn(30, 3, 5)
    a, b = vl.jacobian_norms(rnn, x), vl.jacobian_norms(rnn, x)
    assert a.equals(b)


def test_gradients_of_the_module_are_untouched() -> None:
    rnn = nn.RNN(3, 5)
    vl.jacobian_norms(rnn, torch.randn(4, 2, 3, requires_grad=True))
    assert all(p.grad is None for p in rnn.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-9), (torch.float32, 1e-3)])
def test_cuda_module_matches_cpu(dtype: torch.dtype, tol: float) -> None:  # pragma: no cover
    """A module on CUDA is measured on CUDA and gives the CPU's numbers (GPU CI: device tool)."""
    torch.manual_seed(7)
    rnn = nn.RNN(6, 64, 2).to(dtype)
    x = torch.randn(300, 3, 6, dtype=dtype)
    cpu = vl.jacobian_norms(rnn, x)
    gpu = vl.jacobian_norms(rnn.cuda(), x.cuda())
    assert gpu[["sample", "source", "layer", "lag"]].equals(
        cpu[["sample", "source", "layer", "lag"]]
    )
    np.testing.assert_allclose(gpu["log10_fro"], cpu["log10_fro"], atol=tol)
    np.testing.assert_allclose(gpu["log10_spec"], cpu["log10_spec"], atol=tol)
    lyap_cpu = vl.lyapunov_spectrum(rnn.cpu(), x, k=2)
    lyap_gpu = vl.lyapunov_spectrum(rnn.cuda(), x.cuda(), k=2)
    assert lyap_gpu.device.type == "cuda"
    np.testing.assert_allclose(lyap_gpu.cpu().numpy(), lyap_cpu.numpy(), atol=tol)


def test_frobenius_norms_of_tiny_float32_matrices_are_accurate() -> None:
    """A float32 sum of squares goes subnormal below ~1e-19: the engine's norms do not."""
    from vanishlab.core.scaling import frobenius_norms

    g = (
        torch.randn(3, 40, 40, dtype=torch.float64)
        * torch.tensor([1.0, 1e-22, 1e-30])[:, None, None]
    )
    got = frobenius_norms(g.float()).double()
    want = torch.linalg.vector_norm(g.float().double(), dim=(-2, -1))
    torch.testing.assert_close(got, want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("scale", [-20, -26])
def test_float32_weights_near_the_subnormal_range(scale: int) -> None:
    """W_hh = 10^scale Q in float32: every raw product is that small (at 1e-26 even the float32
    sum of squares flushes to 0); it must be rescaled, neither read as an exact zero nor
    divided by a norm whose reciprocal overflows float32."""
    rnn = origin_rnn(20, 10.0**scale, torch.float32)
    f = vl.jacobian_norms(rnn, torch.zeros(50, 2, 3), sources=("state",))
    k = f["lag"].to_numpy()
    np.testing.assert_allclose(f["log10_spec"], scale * k, atol=1e-3)
    np.testing.assert_allclose(f["log10_fro"], scale * k + 0.5 * math.log10(20), atol=1e-3)


def test_float64_subnormal_weights() -> None:
    """W_hh = 1e-310 Q in float64: every product is subnormal, and 1 / ||raw|| overflows float64
    (~6e-309 is the least norm whose reciprocal is finite). The engine read that as an exact
    zero (-inf from lag 2 on); the norms fall by 310 per lag, as at any other scale."""
    rnn = origin_rnn(3, 1e-310, torch.float64)
    f = vl.jacobian_norms(rnn, torch.zeros(6, 2, 3, dtype=torch.float64), sources=("state",))
    k = f["lag"].to_numpy()
    # 1e-310 is subnormal: it holds ~44 significant bits, far more than this tolerance asks.
    np.testing.assert_allclose(f["log10_spec"], -310.0 * k, atol=1e-9)
    np.testing.assert_allclose(f["log10_fro"], -310.0 * k + 0.5 * math.log10(3), atol=1e-9)
