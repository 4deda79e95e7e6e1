"""nn.LSTM / nn.GRU: the gated engine against the autograd oracle and the real modules."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import vanishlab as vl
from vanishlab.core import scaling
from vanishlab.core.oracle import autograd_jacobian_norms

KEYS = ["sample", "source", "layer", "lag"]
NORM_COLS = ("log10_fro", "log10_spec")


def random_case(rng: np.random.Generator, dtype: torch.dtype = torch.float64, model: str = ""):
    """A random LSTM or GRU and input covering every option vanishlab supports for them."""
    model = model or str(rng.choice(["LSTM", "GRU"]))
    layers = int(rng.integers(1, 4))
    hidden = int(rng.integers(1, 17))
    features = int(rng.integers(1, 7))
    seq = int(rng.integers(1, 21))
    batch = int(rng.integers(1, 4))
    bias = bool(rng.integers(0, 2))
    batch_first = bool(rng.integers(0, 2))
    unbatched = rng.random() < 0.25
    with_h0 = rng.random() < 0.6
    torch.manual_seed(int(rng.integers(0, 2**31)))
    cls = nn.LSTM if model == "LSTM" else nn.GRU
    mod = cls(features, hidden, layers, bias=bias, batch_first=batch_first).to(dtype)
    gain = float(rng.uniform(0.5, 3.0))
    shift = float(rng.uniform(-2.0, 3.0))  # saturate some gates
    with torch.no_grad():
        for name, p in mod.named_parameters():
            if name.startswith("weight_hh"):
                p.copy_(torch.randn_like(p) * gain / hidden**0.5)
            elif name.startswith("bias_ih"):
                p.add_(shift)
    shape = (batch, seq, features) if batch_first else (seq, batch, features)
    x = torch.randn(*((seq, features) if unbatched else shape), dtype=dtype)
    state_shape = (layers, hidden) if unbatched else (layers, batch, hidden)
    h0 = None
    if with_h0:
        h0 = torch.randn(*state_shape, dtype=dtype)
        if model == "LSTM":
            h0 = (h0, 2 * torch.randn(*state_shape, dtype=dtype))
    desc = f"{model} L={layers} H={hidden} I={features} T={seq} bias={bias} bf={batch_first}"
    return mod, x, h0, desc + f" unbatched={unbatched} h0={with_h0} gain={gain:.2f}"


def sources_for(mod: nn.Module) -> tuple[str, ...]:
    return (
        ("state", "input", "state_h", "state_c") if isinstance(mod, nn.LSTM) else ("state", "input")
    )


def assert_log_close(got: pd.DataFrame, want: pd.DataFrame, tol: float, desc: str) -> None:
    pd.testing.assert_frame_equal(got[KEYS], want[KEYS])
    for col in NORM_COLS:
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert np.array_equal(np.isneginf(a), np.isneginf(b)), f"{desc}: -inf pattern of {col}"
        both = np.isneginf(a) & np.isneginf(b)
        err = np.abs(a[~both] - b[~both])
        assert err.max(initial=0.0) < tol, f"{desc}: {col} off by {err.max():.2e}"


@pytest.mark.parametrize("case", range(20))
def test_gated_matches_autograd_float64(case: int) -> None:
    # Half LSTM, half GRU, every option drawn at random.
    rng = np.random.default_rng(3000 + case)
    mod, x, h0, desc = random_case(rng, model="LSTM" if case % 2 == 0 else "GRU")
    src = sources_for(mod)
    got = vl.jacobian_norms(mod, x, h0, sources=src)
    want = autograd_jacobian_norms(mod, x, h0, parts=isinstance(mod, nn.LSTM))
    assert_log_close(got, want, 1e-10, desc)


def _double(h0):
    if h0 is None:
        return None
    return tuple(t.double() for t in h0) if isinstance(h0, tuple) else h0.double()


@pytest.mark.parametrize("case", range(6))
def test_gated_matches_autograd_float32(case: int) -> None:
    """A float32 module: the engine in float32 against the oracle on the float64 copy."""
    rng = np.random.default_rng(4000 + case)
    mod, x, h0, desc = random_case(rng, torch.float32, model="LSTM" if case % 2 else "GRU")
    got = vl.jacobian_norms(mod, x, h0)
    want = autograd_jacobian_norms(mod.double(), x.double(), _double(h0))
    finite = np.isfinite(want["log10_fro"].to_numpy())
    for col in NORM_COLS:
        err = np.abs(got[col].to_numpy()[finite] - want[col].to_numpy()[finite])
        assert err.max(initial=0.0) < 2e-4, f"{desc}: {col} off by {err.max():.2e}"


def _real_module_jacobians(mod: nn.Module, x: torch.Tensor, h0):
    """Input and initial-state Jacobians of the top layer's last state, by
    torch.autograd.functional.jacobian of the real module's forward (batched, time-major)."""
    lstm = isinstance(mod, nn.LSTM)
    leaves = (x, *h0) if lstm else (x, h0)

    def top_last(*args):
        hx = (args[1], args[2]) if lstm else args[1]
        out, _ = mod(args[0], hx)
        return out[:, -1] if mod.batch_first else out[-1]  # (B, H)

    return jacobian(top_last, leaves)


@pytest.mark.parametrize(
    ("model", "layers", "batch_first"),
    [("LSTM", 1, False), ("LSTM", 3, True), ("GRU", 2, False), ("GRU", 3, True)],
)
def test_input_and_initial_state_rows_match_the_real_module(
    model: str, layers: int, batch_first: bool
) -> None:
    torch.manual_seed(7 + layers)
    T, B, I, H = 9, 2, 3, 6
    cls = nn.LSTM if model == "LSTM" else nn.GRU
    mod = cls(I, H, layers, batch_first=batch_first).double()
    x = torch.randn(*((B, T, I) if batch_first else (T, B, I)), dtype=torch.float64)
    h0 = torch.randn(layers, B, H, dtype=torch.float64)
    hx = (h0, torch.randn(layers, B, H, dtype=torch.float64)) if model == "LSTM" else h0
    jacs = _real_module_jacobians(mod, x, hx)
    src = sources_for(mod)
    res = vl.jacobian_log_norms(mod, x, hx, sources=src)
    for b in range(B):
        jx = jacs[0][b, :, b] if batch_first else jacs[0][b, :, :, b]  # (H, T, I)
        want_in = torch.linalg.matrix_norm(jx.movedim(1, 0).flip(0), ord="fro").log10()
        torch.testing.assert_close(res.input_fro[b], want_in, rtol=0, atol=1e-10)
        for l in range(layers):
            blocks = [j[b, :, l, b] for j in jacs[1:]]  # dy/dh0[l] (and dy/dc0[l]): (H, H)
            full = torch.cat(blocks, dim=-1)
            for got, mat in ((res.state_fro, full), (res.state_h_fro, blocks[0])):
                if got is not None:
                    want = torch.linalg.matrix_norm(mat, ord="fro").log10()
                    assert got[b, l, T].item() == pytest.approx(want.item(), abs=1e-10)
            want_spec = torch.linalg.matrix_norm(full, ord=2).log10()
            assert res.state_spec[b, l, T].item() == pytest.approx(want_spec.item(), abs=1e-10)
            if model == "LSTM":
                want_c = torch.linalg.matrix_norm(blocks[1], ord="fro").log10()
                assert res.state_c_fro[b, l, T].item() == pytest.approx(want_c.item(), abs=1e-10)


@pytest.mark.parametrize("gpu_like", [False, True])
@pytest.mark.parametrize("model", ["LSTM", "GRU"])
def test_spectral_norm_at_width_32_matches_svd(monkeypatch, model: str, gpu_like: bool) -> None:
    """Spectral norms from the warm-started block iteration (used above width 16) within 1e-6
    (relative) of an SVD, with a CPU's settings and with a GPU's."""
    if gpu_like:
        monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    torch.manual_seed(4)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(8, 32, 2).double()
    x = torch.randn(7, 1, 8, dtype=torch.float64)
    got = vl.jacobian_norms(mod, x, sources=sources_for(mod))
    want = autograd_jacobian_norms(mod, x, parts=model == "LSTM")
    a, b = got["log10_spec"].to_numpy(), want["log10_spec"].to_numpy()
    ok = np.isfinite(b)
    assert np.array_equal(np.isfinite(a), ok)
    assert np.abs(10 ** (a[ok] - b[ok]) - 1).max() < 1e-6


def test_oracle_state_jacobian_is_the_state_map() -> None:
    """A control on the oracle itself: dy/dc at lag 0 is exactly zero (the state map), while
    dy/dc0 through the real module is not."""
    torch.manual_seed(1)
    mod = nn.LSTM(2, 3).double()
    frame = autograd_jacobian_norms(mod, torch.randn(4, 1, 2, dtype=torch.float64), parts=True)
    c = frame[frame["source"] == "state_c"].set_index("lag")["log10_fro"]
    assert np.isneginf(c[0]) and np.isfinite(c[1:]).all()


def _log_space_rows(mod: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 log10 Frobenius norms of the top layer's state rows and the input rows (sample
    0), from the real module's one-step Jacobians (each layer's state map and its input map,
    by jacobian of the module's own cell in float64), chained backward with the scale carried
    apart in a natural log at every step: G^l_t = G^l_{t+1} A^l_{t+1} + G^{l+1}_t B^{l+1}_t."""
    mod = copy.deepcopy(mod).double()
    L, H = mod.num_layers, mod.hidden_size
    lstm = isinstance(mod, nn.LSTM)
    cells = []
    for l in range(L):
        cell = (nn.LSTMCell if lstm else nn.GRUCell)(mod.input_size if l == 0 else H, H).double()
        cell.load_state_dict(
            {k[:-3]: v for k, v in mod.state_dict().items() if k.endswith(f"_l{l}")}
        )
        cells.append(cell)
    w = 2 * H if lstm else H

    def step(l: int, s: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        out = cells[l](u[None], (s[None, :H], s[None, H:]) if lstm else s[None])
        return torch.cat(out, -1)[0] if lstm else out[0]

    T, u = x.shape[0], x[:, 0].double()
    a, b = [], []
    for l in range(L):
        s, outs, al, bl = torch.zeros(w, dtype=torch.float64), [], [], []
        for t in range(T):
            ja, jb = jacobian(lambda v, q, l=l: step(l, v, q), (s, u[t]))
            al.append(ja)
            bl.append(jb)
            s = step(l, s, u[t]).detach()
            outs.append(s[:H])
        a.append(al)
        b.append(bl)
        u = torch.stack(outs)
    state, inputs = torch.empty(T, dtype=torch.float64), torch.empty(T, dtype=torch.float64)
    g, scale = [None] * L, [0.0] * L
    for t in range(T - 1, -1, -1):
        for l in range(L - 1, -1, -1):
            terms = [] if g[l] is None else [(g[l] @ a[l][t + 1], scale[l])]
            if l == L - 1 and t == T - 1:
                terms.append((torch.eye(H, w, dtype=torch.float64), 0.0))
            if l < L - 1:
                p = torch.zeros(H, w, dtype=torch.float64)
                p[:, :H] = g[l + 1] @ b[l + 1][t]
                terms.append((p, scale[l + 1]))
            top = max(s for _, s in terms)
            m = sum(math.exp(s - top) * r for r, s in terms)
            n = torch.linalg.matrix_norm(m).item()
            g[l], scale[l] = m / n, top + math.log(n)
        state[T - 1 - t] = scale[L - 1] / math.log(10)
        inputs[T - 1 - t] = (
            scale[0] + math.log(torch.linalg.matrix_norm(g[0] @ b[0][t]))
        ) / math.log(10)
    return state, inputs


@pytest.mark.slow
@pytest.mark.parametrize("model", ["LSTM", "GRU"])
def test_a_long_float32_stack_against_a_float64_log_space_chain(model: str) -> None:
    """1200 float32 steps of a dense 2-layer stack, its norms down to 1e-200 to 1e-300, where
    autograd's float32 gradients are 0 long before: every row finite, and within float32's
    accuracy (4e-6 in log10 measured; 2e-5 allowed) of a float64 chain that
    carries its own log-scale."""
    torch.manual_seed(5)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(3, 4, 2)
    x = torch.randn(1200, 1, 3)
    got = vl.jacobian_log_norms(mod, x, norms=("fro",))
    state, inputs = _log_space_rows(mod, x)
    assert torch.isfinite(got.state_fro).all() and torch.isfinite(got.input_fro).all()
    assert state.min() < -200
    torch.testing.assert_close(got.state_fro[0, 1, :-1], state, rtol=0, atol=2e-5)
    torch.testing.assert_close(got.input_fro[0], inputs, rtol=0, atol=2e-5)
