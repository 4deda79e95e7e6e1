"""The engine against the plain autograd oracle, on random configurations (float64 and float32)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import forward, scaling
from vanishlab.core.inputs import prepare_inputs
from vanishlab.core.oracle import autograd_jacobian_norms

KEYS = ["sample", "source", "layer", "lag"]


def random_case(rng: np.random.Generator, dtype: torch.dtype = torch.float64):
    """A random nn.RNN and input covering every option nn.RNN offers that vanishlab supports."""
    layers = int(rng.integers(1, 4))
    hidden = int(rng.integers(1, 33))
    features = int(rng.integers(1, 9))
    seq = int(rng.integers(1, 41))
    batch = int(rng.integers(1, 4))
    act = str(rng.choice(["tanh", "relu"]))
    bias = bool(rng.integers(0, 2))
    batch_first = bool(rng.integers(0, 2))
    unbatched = rng.random() < 0.2
    with_h0 = rng.random() < 0.6
    torch.manual_seed(int(rng.integers(0, 2**31)))
    rnn = nn.RNN(features, hidden, layers, nonlinearity=act, bias=bias, batch_first=batch_first)
    rnn = rnn.to(dtype)
    gain = float(rng.uniform(0.5, 2.0))
    with torch.no_grad():  # vary the regime: from vanishing to exploding
        for name, p in rnn.named_parameters():
            if name.startswith("weight_hh"):
                p.copy_(torch.randn_like(p) * gain / hidden**0.5)
    if unbatched:
        x = torch.randn(seq, features, dtype=dtype)
        h0 = torch.randn(layers, hidden, dtype=dtype) if with_h0 else None
    else:
        shape = (batch, seq, features) if batch_first else (seq, batch, features)
        x = torch.randn(*shape, dtype=dtype)
        h0 = torch.randn(layers, batch, hidden, dtype=dtype) if with_h0 else None
    desc = f"L={layers} H={hidden} I={features} T={seq} {act} bias={bias} bf={batch_first}"
    return rnn, x, h0, desc + f" unbatched={unbatched} h0={with_h0} gain={gain:.2f}"


@pytest.mark.parametrize("case", range(30))
def test_engine_matches_autograd_float64(case: int) -> None:
    rnn, x, h0, desc = random_case(np.random.default_rng(1000 + case))
    got = vl.jacobian_norms(rnn, x, h0)
    want = autograd_jacobian_norms(rnn, x, h0)
    pd.testing.assert_frame_equal(got[KEYS], want[KEYS])
    for col in ("log10_fro", "log10_spec"):
        a, b = got[col].to_numpy(), want[col].to_numpy()
        both_zero = np.isneginf(a) & np.isneginf(b)
        assert np.array_equal(np.isneginf(a), np.isneginf(b)), desc
        err = np.abs(a[~both_zero] - b[~both_zero])
        assert err.max(initial=0.0) < 1e-10, f"{desc}: {col} off by {err.max():.2e}"


@pytest.mark.parametrize("case", range(8))
def test_engine_matches_autograd_float32(case: int) -> None:
    """A float32 module: the engine in float32 against the oracle on the float64 copy."""
    rng = np.random.default_rng(2000 + case)
    rnn, x, h0, desc = random_case(rng, torch.float32)
    got = vl.jacobian_norms(rnn, x, h0)
    want = autograd_jacobian_norms(rnn.double(), x.double(), None if h0 is None else h0.double())
    finite = np.isfinite(want["log10_fro"].to_numpy())
    for col in ("log10_fro", "log10_spec"):
        err = np.abs(got[col].to_numpy()[finite] - want[col].to_numpy()[finite])
        # float32 rounding compounds along the lag: ~1e-7 relative per step, T <= 40.
        assert err.max(initial=0.0) < 2e-4, f"{desc}: {col} off by {err.max():.2e}"


@pytest.mark.parametrize("kernel", [False, True])
@pytest.mark.parametrize("nonlinearity", ["relu", "tanh"])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_states_match_the_module(nonlinearity: str, bias: bool, kernel: bool) -> None:
    """The engine's own forward pass is the module's: top outputs and final states agree (its
    CPU loop, and the kernel path a GPU takes, run here on the CPU)."""
    from vanishlab.core.forward import _kernel_states, layer_states
    from vanishlab.core.inputs import prepare_inputs

    torch.manual_seed(3)
    rnn = nn.RNN(5, 12, 3, nonlinearity=nonlinearity, bias=bias).double()
    x = torch.randn(17, 4, 5, dtype=torch.float64)
    h0 = torch.randn(3, 4, 12, dtype=torch.float64)
    out, hn = rnn(x, h0)
    inp = prepare_inputs(rnn, x, h0)
    states = _kernel_states(inp, False)[0] if kernel else layer_states(inp)
    torch.testing.assert_close(states[-1], out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.stack([s[-1] for s in states]), hn, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("gpu_like", "layers"),
    [
        (False, 1),
        (True, 1),
        (True, 2),
        pytest.param(False, 2, marks=pytest.mark.slow),  # 5.5 s; the stacked path, as (True, 2)
    ],
)
def test_spectral_norm_at_width_128_matches_svd(monkeypatch, gpu_like: bool, layers: int) -> None:
    """Spectral norms from the warm-started block iteration within 1e-6 (relative) of an SVD,
    with a CPU's settings and with a GPU's (long queue, two steps per check, Gram-Schmidt)."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(4)
    rnn = nn.RNN(16, 128, layers).double()
    x = torch.randn(90, 2, 16, dtype=torch.float64)
    got = vl.jacobian_norms(rnn, x)
    want = autograd_jacobian_norms(rnn, x)
    rel = np.abs(10 ** (got["log10_spec"] - want["log10_spec"]).to_numpy() - 1)
    assert rel.max() < 1e-6


def test_norm_and_source_selection() -> None:
    torch.manual_seed(5)
    rnn = nn.RNN(3, 8, 2)
    x = torch.randn(6, 2, 3)
    full = vl.jacobian_norms(rnn, x)
    fro_state = vl.jacobian_norms(rnn, x, norms=("fro",), sources=("state",))
    assert list(fro_state.columns) == [*KEYS, "log10_fro"]
    assert set(fro_state["source"]) == {"state"}
    state_rows = full[full["source"] == "state"].reset_index(drop=True)
    pd.testing.assert_frame_equal(fro_state, state_rows[[*KEYS, "log10_fro"]])
    spec_input = vl.jacobian_norms(rnn, x, norms="spec", sources="input")
    assert list(spec_input.columns) == [*KEYS, "log10_spec"]
    assert len(spec_input) == 2 * 6


def test_frame_shape_and_types() -> None:
    torch.manual_seed(6)
    L, T, B = 3, 7, 2
    rnn = nn.RNN(4, 6, L)
    frame = vl.jacobian_norms(rnn, torch.randn(T, B, 4))
    assert len(frame) == B * (L * (T + 1) + T)
    assert str(frame["layer"].dtype) == "Int64"
    assert frame.loc[frame["source"] == "input", "layer"].isna().all()
    state = frame[frame["source"] == "state"]
    assert sorted(state["lag"].unique()) == list(range(T + 1))
    # Lag 0 of the top layer is the identity: Frobenius sqrt(H), spectral 1.
    top0 = state[(state["layer"] == L - 1) & (state["lag"] == 0)]
    np.testing.assert_allclose(top0["log10_fro"], 0.5 * np.log10(6), atol=1e-6)
    np.testing.assert_allclose(top0["log10_spec"], 0.0, atol=1e-6)


@pytest.mark.parametrize("layers", [1, 2])
def test_tiny_weights_match_autograd_float64(layers: int) -> None:
    """W_hh scaled by 1e-20 in float64: Jacobians of 1e-80 at lag 4, where the one-layer path
    holds its matrix undivided for a few lags. The spectral iteration once took such a matrix
    as converged at once (its residual test underflowed) and read 0.23 off in log10."""
    torch.manual_seed(1)
    rnn = nn.RNN(4, 40, layers).double()
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("weight_hh"):
                p.mul_(1e-20)
    x = torch.randn(12, 2, 4, dtype=torch.float64)
    got, want = vl.jacobian_norms(rnn, x), autograd_jacobian_norms(rnn, x)
    for col in ("log10_fro", "log10_spec"):
        a, b = got[col].to_numpy(), want[col].to_numpy()
        ok = np.isfinite(b)  # the oracle's own float64 products underflow past ~1e-300
        assert ok.mean() > 0.5 and (b[ok] < -75).sum() > 10
        assert np.abs(a[ok] - b[ok]).max() < 1e-10, col


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_a_diagonal_recurrent_weight_matches_autograd(monkeypatch, gpu_like, act) -> None:
    """A diagonal W_hh (IndRNN-like): every G is diagonal and its largest entry moves from unit
    to unit with the lag. The spectral iteration's warm start once sat on the old units and
    read up to 0.6 off in log10 (and a GRU with W_hh x 1e-8, near-diagonal, 0.07 off)."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    worst = 0.0
    for seed in range(3):
        torch.manual_seed(seed)
        rnn = nn.RNN(8, 48, nonlinearity=act).double()
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(torch.diag(torch.rand(48) * 0.5 + 0.5))
        x = torch.randn(80, 3, 8, dtype=torch.float64) * (1.0 + seed)
        got, want = vl.jacobian_norms(rnn, x), autograd_jacobian_norms(rnn, x)
        a, b = got["log10_spec"].to_numpy(), want["log10_spec"].to_numpy()
        ok = np.isfinite(b)
        assert np.array_equal(np.isfinite(a), ok)
        worst = max(worst, float(np.abs(a[ok] - b[ok]).max()))
    assert worst < 1e-10


@pytest.mark.parametrize("model", [nn.GRU, nn.LSTM])
def test_gated_cells_with_tiny_recurrent_weights_match_autograd(model) -> None:
    """Near-diagonal state Jacobians (the carried state dominates): the same trap as a
    diagonal W_hh (a GRU at W_hh x 1e-8 read 0.07 off)."""
    torch.manual_seed(46)
    mod = model(24, 48).double()
    with torch.no_grad():
        mod.weight_hh_l0.mul_(1e-8)
    x = torch.randn(30, 2, 24, dtype=torch.float64)
    got, want = vl.jacobian_norms(mod, x), autograd_jacobian_norms(mod, x)
    for col in ("log10_fro", "log10_spec"):
        a, b = got[col].to_numpy(), want[col].to_numpy()
        ok = np.isfinite(b)
        assert np.abs(a[ok] - b[ok]).max() < 1e-10, col


@pytest.mark.parametrize("gpu_like", [False, True])
def test_float64_norms_below_1e_154_are_exact(monkeypatch, gpu_like) -> None:
    """W_hh scaled by 1e-160 in float64: the Jacobian at lag k is 1e-160k times the product
    with the unscaled weight, computed here without underflow. torch's float64 Frobenius norm
    sums plain squares, which underflow below ~1e-154: the engine read lag 1 3.7e-4 off in
    log10 before it rescued such norms (scaling.scaled_norms). H = 40 and I = 24 take the
    spectral iteration (states) and the exact cold chunks, then the iteration (inputs), on
    either device's settings."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(0)
    H, I, T = 40, 24, 25
    rnn = nn.RNN(I, H).double()
    w0 = rnn.weight_hh_l0.detach().clone()
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(1e-160)
    x = torch.randn(T, 2, I, dtype=torch.float64)
    got = vl.jacobian_log_norms(rnn, x)
    with torch.no_grad():
        d = 1 - rnn(x)[0] ** 2  # (T, B, H): tanh' at every step
    w_ih = rnn.weight_ih_l0.detach()
    g = torch.eye(H, dtype=torch.float64).expand(2, H, H)  # dh_{T-1}/dh_{T-1-k} / 1e-160k
    for k in range(T):
        jx = g * d[T - 1 - k, :, None, :] @ w_ih  # dh_{T-1}/dx_{T-1-k} / 1e-160k
        for ord_, state, inputs in (
            ("fro", got.state_fro, got.input_fro),
            (2, got.state_spec, got.input_spec),
        ):
            want = torch.linalg.matrix_norm(g, ord=ord_).log10() - 160 * k
            torch.testing.assert_close(state[:, 0, k], want, rtol=0, atol=1e-10)
            want_x = torch.linalg.matrix_norm(jx, ord=ord_).log10() - 160 * k
            torch.testing.assert_close(inputs[:, k], want_x, rtol=0, atol=1e-10)
        g = g * d[T - 1 - k, :, None, :] @ w0


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize(("kind", "layers"), [("rnn", 1), ("rnn", 2), ("lstm", 1), ("gru", 2)])
def test_float32_weights_whose_squares_overflow_match_float64(
    monkeypatch, gpu_like, kind, layers
) -> None:
    """Recurrent weights scaled by 1e20 in float32: each step's product has entries ~1e20, whose
    float32 squares overflow, so torch's Frobenius norm reads inf. The engines read NaN from
    lag 2 on (and the frame raised "vanishlab bug") before such norms were recomputed scaled
    (scaling.frobenius_norms). With x = 0 and no bias every unit stays at its linear point
    (nothing saturates), so the norms grow ~20 decades per lag. The same module in float64 is
    the reference."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(0)
    H, I, T, B = 6, 3, 7, 2
    make = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    mod = make(I, H, num_layers=layers, bias=False)
    with torch.no_grad():
        for name, w in mod.named_parameters():
            if name.startswith("weight_hh"):
                w.mul_(1e20)
    x = torch.zeros(T, B, I)
    got = vl.jacobian_log_norms(mod, x)
    want = vl.jacobian_log_norms(copy.deepcopy(mod).double(), x.double())
    for col in ("state_fro", "state_spec", "input_fro", "input_spec"):
        a, b = getattr(got, col).double(), getattr(want, col)
        if col.startswith("state"):  # lag T - 1 to T: ~20 decades a lag
            assert (b[..., -1] - b[..., 1] > 15 * (T - 1)).all(), col
        assert torch.isfinite(b).all(), col
        assert (a - b).abs().max() < 1e-4, col
    assert vl.jacobian_norms(mod, x)[["log10_fro", "log10_spec"]].notna().all().all()


@pytest.mark.parametrize(
    ("dtype", "drive"),
    [(torch.float64, 12.0), (torch.float64, 20.0), (torch.float32, 5.0), (torch.float32, 10.0)],
)
def test_saturated_tanh_units_keep_their_derivative(dtype, drive) -> None:
    """tanh'(a) from the pre-activation, not 1 - h^2 from the state: with W_hh = 0.5 I, a
    constant drive b and x = 0, a_t = b + 0.5 h_{t-1} and G_k = prod 0.5 sech^2(a_j) I exactly.
    1 - h^2 read 0.0024 off in log10 at |a| ~ 5 in float32 and -inf from |a| ~ 9 (float32) and
    ~ 19 (float64), where the true norms are ~1e-9 and ~1e-17 a step (a reviewer's case). The
    Lyapunov exponents use the same derivatives."""
    T = 8
    rnn = nn.RNN(1, 2).to(dtype)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(0.5 * torch.eye(2))
        rnn.weight_ih_l0.fill_(1.0)
        rnn.bias_ih_l0.fill_(drive)
        rnn.bias_hh_l0.zero_()
    x = torch.zeros(T, 1, 1, dtype=dtype)
    with torch.no_grad():
        h = rnn(x)[0][:, 0, 0].double()
    a = [drive] + [drive + 0.5 * float(h[t - 1]) for t in range(1, T)]
    step = [math.log10(0.5) - 2 * math.log10(math.cosh(v)) for v in a]  # log10 0.5 sech^2
    want = [0.5 * math.log10(2)]
    for k in range(1, T + 1):
        want.append(want[-1] + step[T - k])
    got = vl.jacobian_log_norms(rnn, x, sources=("state",)).state_fro[0, 0].double()
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64), rtol=0, atol=tol)
    x = torch.zeros(50, 1, 1, dtype=dtype)
    with torch.no_grad():
        h = rnn(x)[0][:, 0, 0].double()
    a = [drive] + [drive + 0.5 * float(h[t - 1]) for t in range(1, 50)]
    rate = sum(math.log(0.5) - 2 * math.log(math.cosh(v)) for v in a) / 50  # both exponents
    lyap = vl.lyapunov_spectrum(rnn, x, k=2).double()
    torch.testing.assert_close(lyap, torch.full_like(lyap, rate), rtol=0, atol=tol)


@pytest.mark.parametrize(
    ("dtype", "drive", "exact"),
    [
        (torch.float32, 43.0, True),
        (torch.float32, 44.5, True),  # subnormal, with its digits: kept
        (torch.float32, 48.0, False),
        (torch.float32, 51.0, False),
        (torch.float64, 350.0, True),
        (torch.float64, 360.0, False),
    ],
)
def test_a_derivative_below_the_normal_range_is_an_exact_zero(dtype, drive, exact) -> None:
    """sech^2 is exact while it is a normal number, and nearly so through the first subnormals;
    a subnormal that has lost its digits gave finite input norms up to 0.12 in log10 off
    (float32 at a = 51.5): it now reads -inf, as with torch.set_flush_denormal(True)."""
    rnn = nn.RNN(1, 1).to(dtype)
    with torch.no_grad():
        rnn.weight_hh_l0.zero_()
        rnn.weight_ih_l0.fill_(1.0)
        rnn.bias_ih_l0.fill_(drive)
        rnn.bias_hh_l0.zero_()
    got = vl.jacobian_log_norms(rnn, torch.zeros(3, 1, 1, dtype=dtype)).input_fro[0, 0].item()
    want = math.log10(4) - 2 * drive / math.log(10)  # log10 sech^2(drive)
    if exact:
        assert got == pytest.approx(want, abs=2e-6 if dtype == torch.float32 else 1e-12)
    else:
        assert got == -math.inf


def test_the_gpu_forward_forms_the_same_derivatives() -> None:
    """On a GPU the states come from PyTorch's fused kernel, which keeps no pre-activations:
    they are formed again from the states. Its derivatives equal the CPU loop's (the kernel
    runs on a CPU too), in saturation as well."""
    torch.manual_seed(0)
    for nonlinearity in ("tanh", "relu"):
        rnn = nn.RNN(3, 5, num_layers=2, nonlinearity=nonlinearity).double()
        with torch.no_grad():
            rnn.weight_hh_l0.mul_(8.0)  # saturate some tanh units
        x = torch.randn(30, 4, 3, dtype=torch.float64)
        inp = prepare_inputs(rnn, x, None)
        s_cpu, d_cpu = forward.states_and_derivatives(inp)
        s_gpu, d_gpu = forward._kernel_states(inp, True)
        for a, b in zip(s_cpu + d_cpu, s_gpu + d_gpu, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-300)


def test_the_recurrence_kernels_settings_are_one_threads_at_a_time():
    """recurrence_kernel saves and restores cuDNN's flags and the warning filters, which belong
    to the whole process, and Dask workers measure cells (an LSTM's or GRU's forward pass, on
    any device) in threads. Before: the first thread to leave restored TF32 under the other's
    kernel, and the last left TF32 off and its filter in place for good. Here the other
    thread tries to enter while the main thread is inside: it now waits for it."""
    import threading
    import warnings

    cudnn = torch.backends.cudnn
    other_in, main_out, seen = threading.Event(), threading.Event(), []
    # What cuDNN's RNN reads: PyTorch 2.9+'s own setting (where the legacy getter raises while
    # the kernel has it at "ieee" and cuDNN's convolutions at "tf32"), else allow_tf32.
    new_api = forward._CUDNN_RNN is not None

    def tf32() -> bool:
        return cudnn.rnn.fp32_precision == "tf32" if new_api else cudnn.allow_tf32

    def other() -> None:
        with forward.recurrence_kernel():
            other_in.set()
            assert main_out.wait(5)
            seen.append(tf32())

    saved_tf32, saved_filters = cudnn.allow_tf32, list(warnings.filters)
    cudnn.allow_tf32 = True  # the user's setting (cuDNN's RNN reads "tf32")
    try:
        thread = threading.Thread(target=other)
        with forward.recurrence_kernel():
            thread.start()
            other_in.wait(0.5)  # before: the other thread is inside by now
        main_out.set()
        thread.join()
        assert seen == [False]  # TF32 stayed off through the other thread's kernel
        assert tf32() and cudnn.allow_tf32 is True  # the user's, back
        assert warnings.filters == saved_filters  # the filter taken off again
    finally:
        cudnn.allow_tf32 = saved_tf32
        warnings.filters[:] = saved_filters
