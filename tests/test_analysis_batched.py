"""vl.pascanu_envelope and vl.origin_log_norms without a step per lag in Python, against the
per-lag code they replaced (kept here as oracles): the same values to the last digit where
the sums are the same (a single layer's envelope, every origin norm), and a stack's lower
layers within the rounding pascanu_envelope's docstring states (2**-40 of max(1, |bound|))."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.analysis import linear, pascanu
from vanishlab.core.log_units import LN10


def _envelope_per_lag(rnn: nn.RNN, T: int) -> pd.DataFrame:
    """The envelope as it was computed until 2026-12-06: a step per lag and layer."""
    ln_gamma = math.log(vl.analysis.activations.GAMMA[rnn.nonlinearity])
    w_hh, w_ih = pascanu._rnn_weights(rnn)
    a = [ln_gamma + pascanu._log_spec(w) for w in w_hh]
    c = [ln_gamma + pascanu._log_spec(w) for w in w_ih]
    L, H, I = len(w_hh), w_hh[0].shape[0], w_ih[0].shape[1]
    b = np.full((L, T + 1), -np.inf)
    for l in range(L - 1, -1, -1):
        for k in range(T):
            own = (b[l, k - 1] + a[l]) if k > 0 else (0.0 if l == L - 1 else -np.inf)
            up = b[l + 1, k] + c[l + 1] if l < L - 1 else -np.inf
            b[l, k] = np.logaddexp(own, up)
        b[l, T] = b[l, T - 1] + a[l]
    b_in = b[0, :T] + c[0]
    state = pd.DataFrame(
        {
            "source": "state",
            "layer": pd.array(np.repeat(np.arange(L), T + 1), dtype="Int64"),
            "lag": np.tile(np.arange(T + 1, dtype=np.int64), L),
            "log10_spec_bound": b.ravel() / LN10,
            "log10_fro_bound": (b.ravel() + 0.5 * math.log(H)) / LN10,
        }
    )
    inp = pd.DataFrame(
        {
            "source": "input",
            "layer": pd.array([pd.NA] * T, dtype="Int64"),
            "lag": np.arange(T, dtype=np.int64),
            "log10_spec_bound": b_in / LN10,
            "log10_fro_bound": (b_in + 0.5 * math.log(min(H, I))) / LN10,
        }
    )
    return pd.concat([state, inp], ignore_index=True)


def _origin_per_lag(w: torch.Tensor, max_lag: int) -> pd.DataFrame:
    """origin_log_norms of a weight tensor as it was computed until 2026-12-06."""
    from vanishlab.core.scaling import scaled_norms

    w = w.double()
    H = w.shape[0]
    fro, spec = np.empty(max_lag + 1), np.empty(max_lag + 1)
    fro[0], spec[0] = 0.5 * math.log10(H), 0.0
    m = torch.eye(H, dtype=torch.float64) / math.sqrt(H)
    log_scale = 0.5 * math.log(H)
    for k in range(1, max_lag + 1):
        m = w @ m
        n = float(scaled_norms(m[None])[0])
        if n == 0.0:
            fro[k:] = spec[k:] = -math.inf
            break
        m = m / n
        log_scale += math.log(n)
        fro[k] = log_scale / LN10
        spec[k] = (log_scale + math.log(float(torch.linalg.matrix_norm(m, ord=2)))) / LN10
    return pd.DataFrame(
        {"lag": np.arange(max_lag + 1, dtype=np.int64), "log10_fro": fro, "log10_spec": spec}
    )


def _scaled_rnn(layers: int, gains: list[float], seed: int) -> nn.RNN:
    torch.manual_seed(seed)
    rnn = nn.RNN(3, 5, num_layers=layers).double()
    with torch.no_grad():
        for l in range(layers):
            getattr(rnn, f"weight_hh_l{l}").mul_(gains[l % len(gains)])
    return rnn


@pytest.mark.parametrize("T", [1, 2, 255, 256, 257, 600])
def test_a_single_layer_envelope_is_the_per_lag_one_to_the_last_digit(T):
    for seed, nonlinearity in enumerate(("tanh", "relu")):
        torch.manual_seed(seed)
        rnn = nn.RNN(3, 5, nonlinearity=nonlinearity)
        pd.testing.assert_frame_equal(
            vl.pascanu_envelope(rnn, T), _envelope_per_lag(rnn, T), check_exact=True
        )


GAINS = [[1.0], [0.1, 3.0], [30.0, 1e-3], [1e-30, 1.0, 0.5], [2.0, 0.0]]


@pytest.mark.parametrize("T", [1, 2, 256, 257, 1500])
@pytest.mark.parametrize("gains", GAINS)
def test_a_stack_s_envelope_is_the_per_lag_one_within_its_stated_rounding(gains, T):
    for layers in (2, 3):
        rnn = _scaled_rnn(layers, gains, seed=layers)
        new, old = vl.pascanu_envelope(rnn, T), _envelope_per_lag(rnn, T)
        pd.testing.assert_frame_equal(
            new.drop(columns=["log10_spec_bound", "log10_fro_bound"]),
            old.drop(columns=["log10_spec_bound", "log10_fro_bound"]),
            check_exact=True,
        )
        for col in ("log10_spec_bound", "log10_fro_bound"):
            x, y = new[col].to_numpy(), old[col].to_numpy()
            assert (np.isneginf(x) == np.isneginf(y)).all() and np.isfinite(
                y[~np.isneginf(y)]
            ).all()
            fin = np.isfinite(y)
            diff = np.abs(x[fin] - y[fin])
            assert (diff <= 2**-40 * np.maximum(1.0, np.abs(y[fin]))).all()
            top = (new["source"] == "state") & (new["layer"] == layers - 1)
            assert (x[top.to_numpy()] == y[top.to_numpy()]).all()  # the top layer: its sums


class _Counted:
    """np.logaddexp, its calls counted (its accumulate, the running one, as it is)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return np.logaddexp(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(np.logaddexp, name)


def test_the_envelope_takes_no_step_per_lag_in_python(monkeypatch):
    # 10**7 lags of one layer took 16 s of CPU (a logaddexp per lag and layer), 10**9 hours
    counted = _Counted()

    class _Numpy:
        logaddexp = counted

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(pascanu, "np", _Numpy())
    rnn, T = nn.RNN(3, 5, num_layers=3), 3000
    assert len(vl.pascanu_envelope(rnn, T)) == 3 * (T + 1) + T
    assert counted.calls <= 2 * (T // 256 + 2)  # a carry per block of a lower layer (was 9000)


WEIGHTS = {
    "gaussian": lambda H: torch.randn(H, H, dtype=torch.float64) / math.sqrt(H),
    "tiny": lambda H: 1e-160 * torch.randn(H, H, dtype=torch.float64),
    "huge": lambda H: 1e150 * torch.randn(H, H, dtype=torch.float64),
    "nilpotent": lambda H: torch.triu(torch.randn(H, H, dtype=torch.float64), 1),
    "orthogonal": lambda H: 0.9 * torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))[0],
    "float32": lambda H: torch.randn(H, H) / math.sqrt(H),
}


@pytest.mark.parametrize("kind", sorted(WEIGHTS))
@pytest.mark.parametrize("H", [1, 3, 8])
def test_origin_norms_are_the_per_lag_ones_to_the_last_digit(monkeypatch, kind, H):
    torch.manual_seed(H)
    w = WEIGHTS[kind](H)
    for chunk in (1024, 7, 1):  # whole, across chunks of 7, one power at a time
        monkeypatch.setattr(linear, "_CHUNK", chunk)
        for max_lag in (0, 1, 6, 7, 8, 300) if chunk > 1 else (0, 1, 2, 9):
            pd.testing.assert_frame_equal(
                vl.origin_log_norms(w, max_lag), _origin_per_lag(w, max_lag), check_exact=True
            )


def test_origin_norms_take_their_svds_batched(monkeypatch):
    # an SVD per lag (torch.linalg.matrix_norm(ord=2)), 48 us a lag at H = 8 with the products
    calls = []
    for name in ("svdvals", "matrix_norm", "svd"):
        real = getattr(torch.linalg, name)
        monkeypatch.setattr(
            torch.linalg,
            name,
            lambda *a, _real=real, _n=name, **k: calls.append(_n) or _real(*a, **k),
        )
    torch.manual_seed(0)
    out = vl.origin_log_norms(torch.randn(4, 4, dtype=torch.float64), 3000)
    assert len(out) == 3001 and np.isfinite(out["log10_spec"]).all()
    assert len(calls) <= 3  # 1024 lags a call (was 3000)


@pytest.mark.parametrize(
    "huge",
    [("weight_hh_l0",), ("weight_hh_l0", "weight_ih_l1"), ("weight_ih_l2",), ("weight_hh_l1",)],
)
def test_a_spectral_norm_beyond_float64_gives_the_per_lag_infs_and_nans(huge):
    # ||W||_2 of entries 1e308 is inf (ln a = +inf): the lower layer takes the per-lag sums
    rnn = nn.RNN(2, 3, num_layers=3).double()
    with torch.no_grad():
        for name in huge:
            getattr(rnn, name).fill_(1e308)
    new, old = vl.pascanu_envelope(rnn, 600), _envelope_per_lag(rnn, 600)
    for col in ("log10_spec_bound", "log10_fro_bound"):
        x, y = new[col].to_numpy(), old[col].to_numpy()
        fin = np.isfinite(y)
        assert (np.isfinite(x) == fin).all()
        assert ((x == y) | (np.isnan(x) & np.isnan(y)))[~fin].all()
        diff = np.abs(x[fin] - y[fin])
        assert (diff <= 2**-40 * np.maximum(1.0, np.abs(y[fin]))).all()
