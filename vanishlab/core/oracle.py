"""A slow, plain autograd oracle for :func:`vanishlab.jacobian_norms` (used by the tests).

It unrolls the stacked RNN with ``torch.nn.functional`` and lets autograd do all the calculus:
a zero perturbation delta^l_t is added to every hidden state, h^l_t = act(a^l_t) + delta^l_t,
so d h^{L-1}_{T-1} / d delta^l_t is exactly the Jacobian with respect to the state h^l_t (all
paths included, in time and across layers). Inputs and h0 are leaves of the graph, and so is
each delta^l_t (one leaf per step, never a slice of one tensor: a slice's backward writes a
whole zero tensor). Full Jacobians come from one batched backward pass per sample
(``is_grads_batched`` with the identity as the output gradients: every output unit's row at
once) and their norms from ``torch.linalg.matrix_norm``. Nothing here underflow-protects: in
float64 it is exact until the true norms fall below ~1e-300, which the tests stay above.

``nn.LSTM`` and ``nn.GRU`` are unrolled the same way from PyTorch's documented equations (gate
orders i, f, g, o and r, z, n, with n = tanh(W_in x + b_in + r (W_hn h + b_hn))), written here
independently of :mod:`vanishlab.core.gated`. The carried state is perturbed after each step:
h^l_t = o tanh(c^l_t) + delta_h, c^l_t = f c + i g + delta_c for an LSTM (so delta_c reaches y
only through later steps: each carried component is an independent variable of the state
map), and the state Jacobian is [dy/d delta_h | dy/d delta_c] (H x 2H).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .frame import JacobianLogNorms, norms_frame
from .gated_forward import prepare_gated
from .inputs import prepare_inputs
from .modules import GATED

__all__ = ["autograd_jacobian_norms", "autograd_jacobians"]


def autograd_jacobians(rnn: torch.nn.RNN, x: torch.Tensor, h0: torch.Tensor | None = None):
    """Full Jacobians of the top layer's last state, per sample, by autograd.

    Returns ``(state, inputs)``: ``state[b][l][k]`` is the ``(H, H)`` Jacobian with respect to
    h^l_{T-1-k} (k = T: h0[l]); ``inputs[b][k]`` is ``(H, I)`` with respect to x_{T-1-k}.
    """
    if isinstance(rnn, GATED):
        return _gated_jacobians(rnn, x, h0)
    inp = prepare_inputs(rnn, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    act = torch.tanh if inp.nonlinearity == "tanh" else torch.relu
    state: list = []
    inputs: list = []
    for b in range(B):
        xs = inp.x[:, b].clone().requires_grad_(True)  # (T, I)
        h0s = inp.h0[:, b].clone().requires_grad_(True)  # (L, H)
        deltas = [[_leaf(H, xs) for _ in range(T)] for _ in range(L)]
        below = list(xs)
        for l in range(L):
            h = h0s[l]
            outs = []
            for t in range(T):
                a = F.linear(below[t], inp.weights_ih[l]) + F.linear(h, inp.weights_hh[l])
                if inp.biases[l] is not None:
                    a = a + inp.biases[l]
                h = act(a) + deltas[l][t]
                outs.append(h)
            below = outs
        top = below[-1]  # h^{L-1}_{T-1}, (H,)
        grads = _rows(top, [*(d for layer in deltas for d in layer), xs, h0s])
        d_delta, (d_x, d_h0) = grads[:-2], grads[-2:]  # L T x (H, H); (H, T, I), (H, L, H)
        state.append(
            [[d_delta[l * T + T - 1 - k] for k in range(T)] + [d_h0[:, l]] for l in range(L)]
        )
        inputs.append([d_x[:, T - 1 - k] for k in range(T)])
    return state, inputs


def _leaf(n: int, like: torch.Tensor) -> torch.Tensor:
    """A zero perturbation of ``n`` entries, its own leaf of the graph."""
    return torch.zeros(n, dtype=like.dtype, requires_grad=True)


def _rows(top: torch.Tensor, leaves: list[torch.Tensor]) -> list[torch.Tensor]:
    """d top / d leaf for every leaf, ``(H, *leaf.shape)``: all H rows in one batched backward
    pass (the identity as the output gradients). A leaf ``top`` does not reach gives zeros."""
    eye = torch.eye(top.shape[0], dtype=top.dtype)
    grads = torch.autograd.grad(
        top, leaves, grad_outputs=eye, is_grads_batched=True, allow_unused=True
    )
    return [
        torch.zeros(top.shape[0], *leaf.shape, dtype=leaf.dtype) if g is None else g
        for g, leaf in zip(grads, leaves, strict=True)
    ]


def _gated_step(mode: str, inp, l: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
    """One step of PyTorch's LSTM / GRU cell, from its documented equations."""
    w_ih, w_hh, b_ih, b_hh = (
        inp.weights_ih[l],
        inp.weights_hh[l],
        inp.biases_ih[l],
        inp.biases_hh[l],
    )
    if mode == "LSTM":
        i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c_new), c_new
    xr, xz, xn = F.linear(x, w_ih, b_ih).chunk(3)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h, None


def _gated_jacobians(module, x, h0):
    inp = prepare_gated(module, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    lstm = inp.mode == "LSTM"
    state: list = []
    inputs: list = []
    for b in range(B):
        xs = inp.x[:, b].clone().requires_grad_(True)  # (T, I)
        h0s = inp.h0[:, b].clone().requires_grad_(True)  # (L, H)
        c0s = (inp.c0 if lstm else inp.h0)[:, b].clone().requires_grad_(True)  # unused for GRU
        d_h = [[_leaf(H, xs) for _ in range(T)] for _ in range(L)]
        d_c = [[_leaf(H, xs) for _ in range(T)] for _ in range(L)]
        below = list(xs)
        for l in range(L):
            h, c = h0s[l], c0s[l]
            outs = []
            for t in range(T):
                h, c = _gated_step(inp.mode, inp, l, below[t], h, c)
                h = h + d_h[l][t]
                c = c + d_c[l][t] if lstm else None
                outs.append(h)
            below = outs
        top = below[-1]
        flat_h = [d for layer in d_h for d in layer]
        flat_c = [d for layer in d_c for d in layer]
        grads = _rows(top, [*flat_h, *flat_c, xs, h0s, c0s])
        n = L * T
        dh, dc = grads[:n], grads[n : 2 * n]  # L T x (H, H), by [l * T + t]
        dx, dh0, dc0 = grads[2 * n :]  # (H, T, I), (H, L, H), (H, L, H)
        if lstm:
            per_layer = [
                [torch.cat([dh[l * T + T - 1 - k], dc[l * T + T - 1 - k]], -1) for k in range(T)]
                + [torch.cat([dh0[:, l], dc0[:, l]], -1)]
                for l in range(L)
            ]
        else:
            per_layer = [[dh[l * T + T - 1 - k] for k in range(T)] + [dh0[:, l]] for l in range(L)]
        state.append(per_layer)
        inputs.append([dx[:, T - 1 - k] for k in range(T)])
    return state, inputs


def autograd_jacobian_norms(
    rnn: torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    parts: bool = False,
):
    """The same frame as :func:`vanishlab.jacobian_norms`, computed by the autograd oracle.

    ``parts=True`` (``nn.LSTM`` only) adds the "state_h" and "state_c" rows (the h and c
    column blocks of the state Jacobians).
    """
    state, inputs = autograd_jacobians(rnn, x, h0)
    ln10 = torch.log(torch.tensor(10.0, dtype=torch.float64))

    def log10(mats, ord):
        m = torch.stack(mats).to(torch.float64)
        return torch.log(torch.linalg.matrix_norm(m, ord=ord)) / ln10

    def per_state(mats, ord):
        return torch.stack([torch.stack([log10(ks, ord) for ks in layers]) for layers in mats])

    sf, ss = per_state(state, "fro"), per_state(state, 2)
    extra = {}
    if parts:
        H = state[0][0][0].shape[0]
        for name, cols in (("state_h", slice(0, H)), ("state_c", slice(H, 2 * H))):
            block = [[[m[:, cols] for m in ks] for ks in layers] for layers in state]
            extra[f"{name}_fro"] = per_state(block, "fro").detach()
            extra[f"{name}_spec"] = per_state(block, 2).detach()
    xf = torch.stack([log10(ks, "fro") for ks in inputs])
    xsp = torch.stack([log10(ks, 2) for ks in inputs])
    res = JacobianLogNorms(
        state_fro=sf.detach(),
        state_spec=ss.detach(),
        input_fro=xf.detach(),
        input_spec=xsp.detach(),
        batched=True,
        **extra,
    )
    return norms_frame(res)
