"""An independent float64 oracle for the engine, on random modules of all three cell types.

Written apart from :mod:`vanishlab.core.oracle` (which the other oracle tests share), so that a
misreading of PyTorch's equations common to it and the engine would show here. Each case checks
first that its hand-unrolled cell is the real module: the same top state as the module's own
forward, and the same input Jacobian as ``torch.autograd.functional.jacobian`` of that forward.
State rows are d h^{top}_{T-1} / d s^l_t with s = [h | c] for an LSTM (a perturbation added to
the carried state after each step); the initial-state rows (lag T) and input rows come from the
real module. The cases mix what the others keep apart: nn.RNN in the same draw as the gated
cells, modules in train() mode with dropout between layers, non-contiguous x, contracting and
expanding gains. The Lyapunov spectrum of tanh nn.RNN stacks and of gated cells is checked
against a plain QR iteration over the full state's step Jacobians (relu is left to
tests/test_lyapunov.py: its exact-zero rules are vanishlab's own).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import vanishlab as vl

F64 = torch.float64


def _case(seed: int, dtype: torch.dtype = F64):
    rng = np.random.default_rng(seed)
    kind = str(rng.choice(["tanh", "relu", "LSTM", "GRU"]))
    L, H, I, T, B = (int(rng.integers(1, n)) for n in (4, 8, 6, 13, 4))
    bias, bf = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    unbatched, with_h0 = bool(rng.random() < 0.2), bool(rng.random() < 0.5)
    gain = float(rng.choice([0.3, 1.0, 3.0]))
    torch.manual_seed(int(rng.integers(0, 2**31)))
    kw = {"bias": bias, "batch_first": bf, "dropout": 0.4 if L > 1 else 0.0}
    if kind in ("tanh", "relu"):
        mod = nn.RNN(I, H, L, nonlinearity=kind, **kw)
    else:
        mod = getattr(nn, kind)(I, H, L, **kw)
    with torch.no_grad():
        for name, p in mod.named_parameters():
            if name.startswith("weight_hh"):
                p.mul_(gain)
    mod = mod.to(dtype).train(bool(rng.integers(0, 2)))
    shape = (T, I) if unbatched else ((B, T, I) if bf else (T, B, I))
    x = torch.randn(*shape[:-1], 2 * I, dtype=dtype)[..., ::2]  # non-contiguous when I > 1
    h0 = None
    if with_h0:
        state = (L, H) if unbatched else (L, B, H)
        h0 = torch.randn(*state, dtype=dtype)
        h0 = (h0, torch.randn(*state, dtype=dtype)) if kind == "LSTM" else h0
    desc = f"seed={seed} {kind} L={L} H={H} I={I} T={T} gain={gain} train={mod.training}"
    return mod, x, h0, desc + f" bias={bias} bf={bf} unbatched={unbatched} h0={with_h0}"


def _canonical(mod: nn.Module, x: torch.Tensor, h0):
    """x as (T, B, I) and the initial state as (L, B, H) (and c0), all float64."""
    lstm = isinstance(mod, nn.LSTM)
    xx = x.to(F64)
    xx = xx.unsqueeze(1) if xx.dim() == 2 else (xx.transpose(0, 1) if mod.batch_first else xx)
    L, B, H = mod.num_layers, xx.shape[1], mod.hidden_size
    parts = h0 if lstm else (h0,)
    if h0 is None:
        parts = (None, None) if lstm else (None,)
    out = []
    for p in parts:
        p = torch.zeros(L, B, H, dtype=F64) if p is None else p.to(F64)
        out.append(p.unsqueeze(1) if p.dim() == 2 else p)
    return xx.contiguous(), [p.contiguous() for p in out]


def _weights(mod: nn.Module, l: int):
    get = [
        getattr(mod, f"{n}_l{l}", None) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    return [None if w is None else w.detach().to(F64) for w in get]


def _cell(mod: nn.Module, l: int, below: torch.Tensor, state: list[torch.Tensor]):
    """One step of layer l in PyTorch's documented equations; state [h] or [h, c]."""
    w_ih, w_hh, b_ih, b_hh = _weights(mod, l)
    H = mod.hidden_size
    gi = below @ w_ih.T + (0 if b_ih is None else b_ih)
    gh = state[0] @ w_hh.T + (0 if b_hh is None else b_hh)
    if isinstance(mod, nn.RNN):
        a = gi + gh
        return [torch.tanh(a) if mod.nonlinearity == "tanh" else torch.relu(a)]
    if isinstance(mod, nn.LSTM):
        i, f, g, o = (gi + gh).split(H, dim=-1)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return [torch.sigmoid(o) * torch.tanh(c), c]
    (ir, iz, i_n), (hr, hz, h_n) = gi.split(H, dim=-1), gh.split(H, dim=-1)
    r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
    return [(1 - z) * torch.tanh(i_n + r * h_n) + z * state[0]]


def _unrolled(mod: nn.Module, xx: torch.Tensor, init: list[torch.Tensor], delta: torch.Tensor):
    """h^{top}_{T-1}, (B, H); ``delta`` (L, T, B, S) is added to each carried state."""
    H, below = mod.hidden_size, list(xx)
    for l in range(mod.num_layers):
        state, outs = [p[l] for p in init], []
        for t, inp in enumerate(below):
            state = _cell(mod, l, inp, state)
            state = [s + delta[l, t, :, j * H : (j + 1) * H] for j, s in enumerate(state)]
            outs.append(state[0])
        below = outs
    return below[-1]


def _per_sample(j: torch.Tensor) -> torch.Tensor:
    """(B, H, ..., B, n) -> (B, H, ..., n): each sample's own block."""
    return torch.stack([j[b, ..., b, :] for b in range(j.shape[0])])


def _oracle(mod: nn.Module, x: torch.Tensor, h0):
    """log10 norms shaped like vl.jacobian_log_norms' (batched), and the two self-checks."""
    xx, init = _canonical(mod, x, h0)
    T, B, _ = xx.shape
    L, H = mod.num_layers, mod.hidden_size
    S = H * len(init)
    real = copy.deepcopy(mod).to(F64).eval()
    real.batch_first = False

    def module_top(xv, *states):
        return real(xv, tuple(states) if len(states) == 2 else states[0])[0][-1]

    jacs = jacobian(module_top, (xx, *init))
    j_x = _per_sample(jacs[0])  # (B, H, T, I)
    j_s0 = torch.cat([_per_sample(j) for j in jacs[1:]], dim=-1)  # (B, H, L, S)
    zero = torch.zeros(L, T, B, S, dtype=F64)
    j_d = _per_sample(jacobian(lambda d: _unrolled(mod, xx, init, d), zero))  # (B, H, L, T, S)
    j_x_hand = _per_sample(jacobian(lambda v: _unrolled(mod, v, init, zero), xx))
    with torch.no_grad():  # the module's own weights require grad
        forward_err = (_unrolled(mod, xx, init, zero) - module_top(xx, *init)).abs().max()
    input_err = (j_x_hand - j_x).abs().max() / j_x.abs().max().clamp(min=1e-300)
    state = torch.cat([j_d.flip(3), j_s0[:, :, :, None]], dim=3).movedim(1, 3)  # (B,L,T+1,H,S)
    inputs = j_x.flip(2).movedim(1, 2)  # (B, T, H, I)

    def log10(m, ord_):
        return torch.linalg.matrix_norm(m, ord=ord_).log10()

    want = {
        "state_fro": log10(state, "fro"),
        "state_spec": log10(state, 2),
        "input_fro": log10(inputs, "fro"),
        "input_spec": log10(inputs, 2),
    }
    if isinstance(mod, nn.LSTM):
        for part, cols in (("h", slice(0, H)), ("c", slice(H, S))):
            want[f"state_{part}_fro"] = log10(state[..., cols], "fro")
            want[f"state_{part}_spec"] = log10(state[..., cols], 2)
    return want, forward_err.item(), input_err.item()


def _check(mod, x, h0, desc, atol):
    sources = ("state", "input", "state_h", "state_c") if isinstance(mod, nn.LSTM) else None
    got = vl.jacobian_log_norms(mod, x, h0, **({"sources": sources} if sources else {}))
    want, forward_err, input_err = _oracle(mod, x, h0)
    assert forward_err < 1e-12 and input_err < 1e-12, f"{desc}: the oracle is not the module"
    for name, w in want.items():
        g = getattr(got, name)  # (B, ...): B = 1 for an unbatched x
        assert g.shape == w.shape, f"{desc}: {name} shape {tuple(g.shape)}"
        assert torch.equal(torch.isneginf(g), torch.isneginf(w)), f"{desc}: {name} -inf"
        finite = torch.isfinite(w)
        err = (g[finite] - w[finite]).abs().max().item() if finite.any() else 0.0
        assert err <= atol, f"{desc}: {name} off by {err:.2e} in log10"


@pytest.mark.parametrize("seed", range(24))
def test_float64_rows_match_an_independent_oracle(seed: int) -> None:
    """1e-10 relative (4.3e-11 in log10); measured at most 7.8e-13 over 600 such cases."""
    mod, x, h0, desc = _case(seed)
    _check(mod, x, h0, desc, atol=1e-10 / math.log(10))


@pytest.mark.parametrize("seed", range(100, 106))
def test_float32_rows_match_an_independent_oracle(seed: int) -> None:
    """The module measured in float32 against its weights in float64: at most 1.9e-5
    relative over 600 cases."""
    mod, x, h0, desc = _case(seed, torch.float32)
    _check(mod, x, h0, desc, atol=1e-4 / math.log(10))


def _qr_spectrum(mod: nn.Module, x: torch.Tensor, discard: int) -> torch.Tensor:
    """Benettin's QR iteration on the real full-state step Jacobians, (B, n) descending."""
    xx, init = _canonical(mod, x, None)
    T, B, _ = xx.shape
    L, H, parts = mod.num_layers, mod.hidden_size, len(init)

    def step(xt: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        s = flat.view(L, parts, H)
        new, below = [], xt
        for l in range(L):
            out = _cell(mod, l, below, list(s[l]))
            new += out
            below = out[0]
        return torch.cat(new)

    result = []
    for b in range(B):
        flat = torch.cat([p[l, b] for l in range(L) for p in init])
        q, total = torch.eye(flat.numel(), dtype=F64), torch.zeros(flat.numel(), dtype=F64)
        for t in range(T):
            q, r = torch.linalg.qr(jacobian(lambda v, xt=xx[t, b]: step(xt, v), flat) @ q)
            total += torch.diagonal(r).abs().log() * (t >= discard)
            flat = step(xx[t, b], flat)
        result.append((total / (T - discard)).sort(descending=True).values)
    return torch.stack(result)


@pytest.mark.parametrize(
    ("kind", "layers", "gain"),
    [("tanh", 3, 1.5), ("tanh", 2, 0.5), ("LSTM", 2, 2.0), ("GRU", 3, 1.0)],
)
def test_full_lyapunov_spectrum_matches_a_plain_qr_iteration(kind, layers, gain) -> None:
    """Measured: at most 6e-10 apart (an LSTM), 3e-15 for nn.RNN and GRU."""
    torch.manual_seed(layers)
    mod = nn.RNN(3, 4, layers) if kind == "tanh" else getattr(nn, kind)(3, 4, layers)
    with torch.no_grad():
        for name, p in mod.named_parameters():
            if name.startswith("weight_hh"):
                p.mul_(gain)
    mod = mod.double()
    x = torch.randn(2, 20, 3, dtype=F64).transpose(0, 1)  # (T, B, I), non-contiguous
    got = vl.lyapunov_spectrum(mod, x, discard=4)
    torch.testing.assert_close(got, _qr_spectrum(mod, x, 4), rtol=0, atol=1e-8)
