"""The forward pass of a stacked ``nn.RNN``, keeping every layer's hidden states.

For layer l (0-based) and time t (0..T-1), with h^{-1}_t = x_t and h^l_{-1} = h0[l]:

    a^l_t = W_ih^l h^{l-1}_t + b_ih^l + W_hh^l h^l_{t-1} + b_hh^l,    h^l_t = act(a^l_t)

``nn.RNN`` returns only the top layer's states; the Jacobians need all of them, plus the
activation derivatives act'(a^l_t): 1 - h^2 for tanh, 1[a > 0] (= 1[h > 0]) for relu, which is
PyTorch's own derivative (relu'(0) = 0). Dropout is not applied (evaluation semantics).
"""

from __future__ import annotations

import torch

from ..errors import NonFiniteStateError
from .inputs import RNNInputs

__all__ = ["activation_derivative", "layer_states"]


def activation_derivative(h: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    """act'(a) expressed through h = act(a), elementwise, same shape as ``h``."""
    if nonlinearity == "tanh":
        return 1.0 - h * h
    return (h > 0).to(h.dtype)


@torch.no_grad()
def layer_states(inp: RNNInputs) -> list[torch.Tensor]:
    """Hidden states of every layer: a list of L tensors, each ``(T, B, H)``.

    Raises :class:`~vanishlab.errors.NonFiniteStateError` naming the first layer, time step and
    sample where a state is inf or NaN (relu explosion, or NaN coming from the model itself).
    """
    act = torch.tanh if inp.nonlinearity == "tanh" else torch.relu
    below = inp.x  # (T, B, I) for layer 0, then (T, B, H)
    states: list[torch.Tensor] = []
    for layer in range(inp.num_layers):
        # The input projection of all time steps at once: one big matrix product.
        drive = below @ inp.weights_ih[layer].T  # (T, B, H)
        if inp.biases[layer] is not None:
            drive = drive + inp.biases[layer]
        w_hh_t = inp.weights_hh[layer].T
        # ``drive`` is a new tensor (never the caller's input): each step overwrites its own
        # drive with its state, so there is no second (T, B, H) tensor.
        out = drive
        h = inp.h0[layer]  # (B, H)
        for t in range(drive.shape[0]):
            h = act(torch.addmm(drive[t], h, w_hh_t))
            out[t] = h
        _check_finite(out, layer)
        states.append(out)
        below = out
    return states


def _check_finite(states: torch.Tensor, layer: int) -> None:
    finite = torch.isfinite(states)  # (T, B, H)
    if bool(finite.all()):
        return
    bad = (~finite).nonzero()[0]  # first (t, b, unit) in time order
    t, b, unit = (int(v) for v in bad)
    raise NonFiniteStateError(layer=layer, time=t, sample=b, value=float(states[t, b, unit]))
