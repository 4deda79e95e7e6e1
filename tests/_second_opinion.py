"""An independent float64 autograd oracle for the engine (tests/test_oracle_second_opinion.py).

Written apart from vanishlab's own oracle (vanishlab/core/oracle.py): each layer of the module is
copied into a one-layer ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` in float64 and the network is rerun
from the state at time t, made an input of ``torch.autograd.functional.jacobian``; the input rows
differentiate the float64 copy of the whole module. The Lyapunov oracle forms each step's full
Jacobian of the stacked state ([h | c] per layer for an LSTM) by autograd and runs plain QR.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.autograd.functional import jacobian

F64 = torch.float64


def _layer_copy(rnn: nn.Module, layer: int) -> nn.Module:
    """Layer ``layer`` of ``rnn`` as a one-layer module of its class's base type, in float64."""
    base = nn.LSTM if isinstance(rnn, nn.LSTM) else nn.GRU if isinstance(rnn, nn.GRU) else nn.RNN
    kwargs = {"nonlinearity": rnn.nonlinearity} if base is nn.RNN else {}
    size_in = rnn.input_size if layer == 0 else rnn.hidden_size
    one = base(size_in, rnn.hidden_size, 1, bias=rnn.bias, **kwargs).to(F64)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
            getattr(one, f"{name}_l0").copy_(getattr(rnn, f"{name}_l{layer}").detach().to(F64))
    return one.eval()


def _step(cell: nn.Module, x_t: torch.Tensor, s: torch.Tensor, lstm: bool) -> torch.Tensor:
    """One unbatched step of a one-layer copy: (I,) input, (S,) state -> (S,) (S = 2H: [h|c])."""
    if lstm:
        h, c = s.chunk(2, dim=-1)
        _, (h1, c1) = cell(x_t[None], (h[None].contiguous(), c[None].contiguous()))
        return torch.cat([h1[0], c1[0]], dim=-1)
    return cell(x_t[None], s[None])[1][0]


def _canonical(rnn, x, h0):
    """x as (T, B, I) float64, and the initial states as a list per layer of (B, S)."""
    batched = x.dim() == 3
    x = x.detach().to(F64).clone()  # clone: an inference tensor becomes a normal one
    if not batched:
        x = x[:, None]
    elif rnn.batch_first:
        x = x.transpose(0, 1)
    B = x.shape[1]
    H, L = rnn.hidden_size, rnn.num_layers
    lstm = isinstance(rnn, nn.LSTM)
    if h0 is None:
        h0 = (torch.zeros(L, B, H, dtype=F64),) * (2 if lstm else 1)
    else:
        parts = h0 if lstm else (h0,)
        h0 = tuple((p if batched else p[:, None]).detach().to(F64).clone() for p in parts)
    states = [torch.cat([p[layer] for p in h0], dim=-1) for layer in range(L)]
    return x, states


def trajectory(rnn, x, h0=None):
    """(T, B, I) x and every layer's state (list over layers of (T + 1, B, S), index 0 = h0)."""
    x, init = _canonical(rnn, x, h0)
    lstm = isinstance(rnn, nn.LSTM)
    cells = [_layer_copy(rnn, layer) for layer in range(rnn.num_layers)]
    traj = []
    below = x
    with torch.no_grad():
        for layer, cell in enumerate(cells):
            s = [init[layer]]
            for t in range(x.shape[0]):
                s.append(
                    torch.stack(
                        [_step(cell, below[t, b], s[-1][b], lstm) for b in range(x.shape[1])]
                    )
                )
            traj.append(torch.stack(s))
            below = traj[-1][1:, :, : rnn.hidden_size]
    return x, cells, traj


def _top_after(cells, traj, x, b, layer, t, s, lstm, H):
    """h^{top}_{T-1} of sample b when layer ``layer``'s state at time t (-1: h0) is ``s``."""
    T = x.shape[0]
    seq = [s] if t >= 0 else []  # this layer's states from time max(t, 0) on
    for u in range(t + 1, T):
        src = x[u, b] if layer == 0 else traj[layer - 1][u + 1, b, :H]
        seq.append(_step(cells[layer], src, seq[-1] if seq else s, lstm))
    start = max(t, 0)
    for m in range(layer + 1, len(cells)):
        prev = traj[m][start, b]  # state of layer m at time start - 1 (index start)
        out = []
        for i in range(T - start):
            prev = _step(cells[m], seq[i][:H], prev, lstm)
            out.append(prev)
        seq = out
    return seq[-1][:H]


def oracle_rows(rnn, x, h0=None):
    """{(sample, source, layer, lag): (log10 fro, log10 spec)}, every row of the engine's frame."""
    lstm = isinstance(rnn, nn.LSTM)
    H, L = rnn.hidden_size, rnn.num_layers
    x, cells, traj = trajectory(rnn, x, h0)
    T, B, _ = x.shape
    rows = {}
    for b in range(B):
        for layer in range(L):
            for lag in range(T + 1):
                t = T - 1 - lag
                s = traj[layer][t + 1, b].clone()

                def top(v, b=b, layer=layer, t=t):
                    return _top_after(cells, traj, x, b, layer, t, v, lstm, H)

                J = jacobian(top, s)
                rows[(b, "state", layer, lag)] = _log10_norms(J)
                if lstm:
                    rows[(b, "state_h", layer, lag)] = _log10_norms(J[:, :H])
                    rows[(b, "state_c", layer, lag)] = _log10_norms(J[:, H:])
        full = [traj[m][0, b] for m in range(L)]
        J = jacobian(lambda xs, full=full: _whole(cells, xs, full, lstm, H), x[:, b].clone())
        for lag in range(T):
            rows[(b, "input", None, lag)] = _log10_norms(J[:, T - 1 - lag])
    return rows


def _whole(cells, xs, init, lstm, H):
    below = list(xs)
    for cell, s in zip(cells, init, strict=True):
        out = []
        for x_t in below:
            s = _step(cell, x_t, s, lstm)
            out.append(s[:H])
        below = out
    return below[-1]


def _log10_norms(J: torch.Tensor) -> tuple[float, float]:
    J = J.reshape(J.shape[0], -1)
    fro = torch.linalg.matrix_norm(J, "fro").item()
    spec = torch.linalg.matrix_norm(J, 2).item()
    return (math.log10(fro) if fro > 0 else -math.inf, math.log10(spec) if spec > 0 else -math.inf)


def oracle_lyapunov(rnn, x, h0=None, discard=0):
    """(B, n) full spectrum by QR of each step's autograd Jacobian of the stacked state."""
    lstm = isinstance(rnn, nn.LSTM)
    H = rnn.hidden_size
    x, cells, traj = trajectory(rnn, x, h0)
    T, B, _ = x.shape
    S = traj[0].shape[-1]
    out = []
    for b in range(B):

        def one_step(state, t=0, b=b):
            parts, below = [], x[t, b]
            for m, cell in enumerate(cells):
                new = _step(cell, below, state[m * S : (m + 1) * S], lstm)
                parts.append(new)
                below = new[:H]
            return torch.cat(parts)

        n = S * len(cells)
        q = torch.eye(n, dtype=F64)
        total = torch.zeros(n, dtype=F64)
        for t in range(T):
            prev = torch.cat([traj[m][t, b] for m in range(len(cells))])
            J = jacobian(lambda v, t=t: one_step(v, t), prev)
            q, r = torch.linalg.qr(J @ q)
            if t >= discard:
                total += torch.log(r.diagonal().abs())
        out.append((total / (T - discard)).sort(descending=True).values)
    return torch.stack(out)


def forward_gap(rnn, x, h0=None) -> float:
    """Largest gap between the copies' top states and the module's own forward, in float64,
    relative to the largest state (at least 1).

    Anchors the oracle to what the module computes (its own class's forward, on a float64 copy
    in evaluation mode), not only to the weights its attributes name. Relative: the two forwards
    round apart by some 1e-16 of the states, and a relu stack at gain 6 (H = 6, L = 4, T = 6)
    reaches states of 1e4-3e5, an absolute gap of 5e-12-6e-11 where the copies are right.
    """
    own = copy.deepcopy(rnn).to(F64).eval()
    x64 = x.detach().to(F64)
    if h0 is not None:
        h0 = tuple(p.detach().to(F64) for p in h0) if isinstance(h0, tuple) else h0.to(F64)
    with torch.no_grad():
        out = own(x64, h0)[0]
    out = out[:, None] if out.dim() == 2 else out.transpose(0, 1) if rnn.batch_first else out
    top = trajectory(rnn, x, h0)[2][-1][1:, :, : rnn.hidden_size]
    return ((out - top).abs().max() / out.abs().max().clamp(min=1.0)).item()
