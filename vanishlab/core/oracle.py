"""A slow, plain autograd oracle for :func:`vanishlab.jacobian_norms` (used by the tests).

It unrolls the stacked RNN with ``torch.nn.functional`` and lets autograd do all the calculus:
a zero perturbation delta^l_t is added to every hidden state, h^l_t = act(a^l_t) + delta^l_t,
so d h^{L-1}_{T-1} / d delta^l_t is exactly the Jacobian with respect to the state h^l_t (all
paths included, in time and across layers). Inputs and h0 are leaves of the graph. Full
Jacobians are built row by row (one backward pass per output unit) and their norms taken with
``torch.linalg.matrix_norm``. Nothing here underflow-protects: in float64 it is exact until the
true norms fall below ~1e-300, which the tests stay above.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .engine import JacobianLogNorms
from .frame import norms_frame
from .inputs import prepare_inputs

__all__ = ["autograd_jacobian_norms", "autograd_jacobians"]


def autograd_jacobians(rnn: torch.nn.RNN, x: torch.Tensor, h0: torch.Tensor | None = None):
    """Full Jacobians of the top layer's last state, per sample, by autograd.

    Returns ``(state, inputs)``: ``state[b][l][k]`` is the ``(H, H)`` Jacobian with respect to
    h^l_{T-1-k} (k = T: h0[l]); ``inputs[b][k]`` is ``(H, I)`` with respect to x_{T-1-k}.
    """
    inp = prepare_inputs(rnn, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    act = torch.tanh if inp.nonlinearity == "tanh" else torch.relu
    state: list = []
    inputs: list = []
    for b in range(B):
        xs = inp.x[:, b].clone().requires_grad_(True)  # (T, I)
        h0s = inp.h0[:, b].clone().requires_grad_(True)  # (L, H)
        deltas = torch.zeros(L, T, H, dtype=xs.dtype, requires_grad=True)
        below = list(xs)
        for l in range(L):
            h = h0s[l]
            outs = []
            for t in range(T):
                a = F.linear(below[t], inp.weights_ih[l]) + F.linear(h, inp.weights_hh[l])
                if inp.biases[l] is not None:
                    a = a + inp.biases[l]
                h = act(a) + deltas[l, t]
                outs.append(h)
            below = outs
        top = below[-1]  # h^{L-1}_{T-1}, (H,)
        rows = [torch.autograd.grad(top[i], (deltas, xs, h0s), retain_graph=True) for i in range(H)]
        d_delta = torch.stack([r[0] for r in rows])  # (H, L, T, H)
        d_x = torch.stack([r[1] for r in rows])  # (H, T, I)
        d_h0 = torch.stack([r[2] for r in rows])  # (H, L, H)
        state.append(
            [[d_delta[:, l, T - 1 - k] for k in range(T)] + [d_h0[:, l]] for l in range(L)]
        )
        inputs.append([d_x[:, T - 1 - k] for k in range(T)])
    return state, inputs


def autograd_jacobian_norms(rnn: torch.nn.RNN, x: torch.Tensor, h0: torch.Tensor | None = None):
    """The same frame as :func:`vanishlab.jacobian_norms`, computed by the autograd oracle."""
    state, inputs = autograd_jacobians(rnn, x, h0)
    ln10 = torch.log(torch.tensor(10.0, dtype=torch.float64))

    def log10(mats, ord):
        m = torch.stack(mats).to(torch.float64)
        return torch.log(torch.linalg.matrix_norm(m, ord=ord)) / ln10

    sf = torch.stack([torch.stack([log10(ks, "fro") for ks in layers]) for layers in state])
    ss = torch.stack([torch.stack([log10(ks, 2) for ks in layers]) for layers in state])
    xf = torch.stack([log10(ks, "fro") for ks in inputs])
    xsp = torch.stack([log10(ks, 2) for ks in inputs])
    res = JacobianLogNorms(
        state_fro=sf.detach(),
        state_spec=ss.detach(),
        input_fro=xf.detach(),
        input_spec=xsp.detach(),
        batched=True,
    )
    return norms_frame(res)
