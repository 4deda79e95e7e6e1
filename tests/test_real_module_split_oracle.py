"""Every state and input row against the real modules, split where the row's state is.

An oracle that shares nothing with the engine or with ``vanishlab.core.oracle``: each layer of
the stack is a one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` holding that layer's weights,
run by PyTorch itself. The row of layer l at time t is d h^top_{T-1} / d s^l_t where s^l_t
feeds both layer l's next step and the layer above at t (docs/maths.md, section 2): the oracle
runs layer l up to t, adds a perturbation to its state there (to h and c for an LSTM), runs it
on from the perturbed state, feeds its whole output to the layers above, and takes the
Jacobian of the top layer's last output with respect to the perturbation
(``torch.autograd.functional.jacobian``) at zero, in float64. Random cases: 1-3 layers, bias
on or off, tanh or relu, an unbatched input with a random h0 (and c0)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import vanishlab as vl

F64 = torch.float64


def random_case(rng: np.random.Generator):
    kind = str(rng.choice(["RNN", "LSTM", "GRU"]))
    layers, hidden = int(rng.integers(1, 4)), int(rng.integers(1, 9))
    features, steps = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    kw: dict = {"bias": bool(rng.integers(0, 2))}
    if kind == "RNN":
        kw["nonlinearity"] = str(rng.choice(["tanh", "relu"]))
    torch.manual_seed(int(rng.integers(0, 2**31)))
    mod = getattr(nn, kind)(features, hidden, layers, **kw).to(F64)
    gain = float(rng.uniform(0.5, 3.0))
    with torch.no_grad():
        for name, p in mod.named_parameters():
            if name.startswith("weight_hh"):
                p.copy_(torch.randn_like(p) * gain / hidden**0.5)
    x = torch.randn(steps, features, dtype=F64)
    h0 = torch.randn(layers, hidden, dtype=F64)
    c0 = torch.randn(layers, hidden, dtype=F64) if kind == "LSTM" else None
    return kind, mod, x, h0, c0


def one_layer_modules(mod: nn.Module, kind: str) -> list[nn.Module]:
    out = []
    for l in range(mod.num_layers):
        kw: dict = {"bias": mod.bias}
        if kind == "RNN":
            kw["nonlinearity"] = mod.nonlinearity
        size = mod.input_size if l == 0 else mod.hidden_size
        one = getattr(nn, kind)(size, mod.hidden_size, 1, **kw).to(F64)
        with torch.no_grad():
            for name, p in one.named_parameters():
                p.copy_(getattr(mod, name.replace("_l0", f"_l{l}")))
        out.append(one)
    return out


def top_last(mods, kind, x, h0, c0, at=None, dh=None, dc=None) -> torch.Tensor:
    """The top layer's last output; with ``at = (l, t)``, layer l's state at time t (t = -1:
    the initial state) moved by ``dh`` (and ``dc``)."""
    seq = x
    for l, one in enumerate(mods):
        state = (h0[l : l + 1], c0[l : l + 1]) if kind == "LSTM" else h0[l : l + 1]
        if at is None or at[0] != l:
            seq = one(seq, state)[0]
            continue
        t = at[1]

        def moved(s):
            return (s[0] + dh, s[1] + dc) if kind == "LSTM" else s + dh

        if t == -1:
            seq = one(seq, moved(state))[0]
            continue
        head, state = one(seq[: t + 1], state)
        state = moved(state)
        head = torch.cat([head[:-1], (state[0] if kind == "LSTM" else state)[0][None]])
        tail = one(seq[t + 1 :], state)[0] if t + 1 < seq.shape[0] else head[:0]
        seq = torch.cat([head, tail])
    return seq[-1]


def log10_norms(j: torch.Tensor) -> tuple[float, float]:
    fro, spec = torch.linalg.matrix_norm(j).item(), torch.linalg.matrix_norm(j, 2).item()
    return tuple(math.log10(v) if v > 0 else -math.inf for v in (fro, spec))


def oracle_rows(kind, mod, x, h0, c0) -> dict[tuple[str, int, int], tuple[float, float]]:
    mods = one_layer_modules(mod, kind)
    steps, (layers, hidden) = x.shape[0], h0.shape
    zero = torch.zeros(hidden, dtype=F64)
    rows = {}
    for t in range(-1, steps):
        for l in range(layers):
            lag = steps - 1 - t
            if kind == "LSTM":
                jh, jc = jacobian(
                    lambda a, b, l=l, t=t: top_last(mods, kind, x, h0, c0, (l, t), a, b),
                    (zero, zero.clone()),
                )
                rows["state", l, lag] = log10_norms(torch.cat([jh, jc], 1))
                rows["state_h", l, lag] = log10_norms(jh)
                rows["state_c", l, lag] = log10_norms(jc)
            else:
                j = jacobian(lambda a, l=l, t=t: top_last(mods, kind, x, h0, c0, (l, t), a), zero)
                rows["state", l, lag] = log10_norms(j)
    for t in range(steps):

        def moved_input(xt, t=t):
            return top_last(mods, kind, torch.cat([x[:t], xt[None], x[t + 1 :]]), h0, c0)

        rows["input", -1, steps - 1 - t] = log10_norms(jacobian(moved_input, x[t].clone()))
    return rows


@pytest.mark.parametrize("seed", range(3))
def test_every_row_matches_the_real_modules_split_at_its_state(seed: int) -> None:
    rng = np.random.default_rng(seed)
    checked = 0
    for _ in range(8):
        kind, mod, x, h0, c0 = random_case(rng)
        lstm = kind == "LSTM"
        frame = vl.jacobian_norms(
            mod,
            x,
            (h0, c0) if lstm else h0,
            **({"sources": ("state", "input", "state_h", "state_c")} if lstm else {}),
        )
        got = {
            (r.source, -1 if r.source == "input" else int(r.layer), int(r.lag)): (
                r.log10_fro,
                r.log10_spec,
            )
            for r in frame.itertuples()
        }
        want = oracle_rows(kind, mod, x, h0, c0)
        assert got.keys() == want.keys(), kind
        for key, pair in want.items():
            for a, b in zip(got[key], pair, strict=True):
                if math.isinf(b):
                    assert a == b, (kind, key, a, b)
                else:
                    assert abs(a - b) < 1e-10, (kind, key, a, b)
                    checked += 1
    assert checked > 100
