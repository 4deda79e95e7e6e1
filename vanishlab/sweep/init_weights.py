"""The built-in inits' weight draws: each sets every parameter of a module in place, drawing
only from the ``torch.Generator`` it is given.

:mod:`vanishlab.sweep.inits` registers them by name (with their variances, validity and
descriptions) and imports this module only when a draw is made, so that reading the registry
(``vanishlab inits``, a report's mean-field overlay) does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from ..core.cells import gate_count
from ..errors import VanishlabError
from .catalog import CHRONO_T_MAX, FORGET_BIAS, kaiming_std, xavier_std

__all__ = [
    "chrono",
    "default",
    "forget_bias",
    "identity",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "orthogonal",
    "xavier_normal",
    "xavier_uniform",
]


def _layers(rnn: nn.RNN) -> Iterator[tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]]:
    """Per layer: (W_ih (H, I_l), W_hh (H, H), [b_ih, b_hh] or [])."""
    for l in range(rnn.num_layers):
        biases = [getattr(rnn, f"bias_ih_l{l}"), getattr(rnn, f"bias_hh_l{l}")] if rnn.bias else []
        yield getattr(rnn, f"weight_ih_l{l}"), getattr(rnn, f"weight_hh_l{l}"), biases


def _zero(biases: list[torch.Tensor]) -> None:
    for b in biases:
        b.zero_()


def _uniform(w: torch.Tensor, bound: float, gen: torch.Generator) -> None:
    w.uniform_(-bound, bound, generator=gen)


def _normal(w: torch.Tensor, std: float, gen: torch.Generator) -> None:
    w.normal_(0.0, std, generator=gen)


@torch.no_grad()
def default(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    bound = 1.0 / math.sqrt(rnn.hidden_size)
    for w_ih, w_hh, biases in _layers(rnn):
        _uniform(w_ih, bound, gen)
        _uniform(w_hh, gain * bound, gen)
        for b in biases:
            _uniform(b, bound, gen)


def _scaled(rnn: nn.RNN, gain: float, gen: torch.Generator, kaiming: bool, uniform: bool) -> None:
    H = rnn.hidden_size
    for w_ih, w_hh, biases in _layers(rnn):
        for w, g in ((w_ih, 1.0), (w_hh, gain)):
            fan_in = w.shape[1]  # fan_out is H for both
            std = kaiming_std(fan_in, g) if kaiming else xavier_std(fan_in, H, g)
            if uniform:
                _uniform(w, math.sqrt(3.0) * std, gen)
            else:
                _normal(w, std, gen)
        _zero(biases)


@torch.no_grad()
def xavier_uniform(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    _scaled(rnn, gain, gen, kaiming=False, uniform=True)


@torch.no_grad()
def xavier_normal(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    _scaled(rnn, gain, gen, kaiming=False, uniform=False)


@torch.no_grad()
def kaiming_uniform(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    _scaled(rnn, gain, gen, kaiming=True, uniform=True)


@torch.no_grad()
def kaiming_normal(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    _scaled(rnn, gain, gen, kaiming=True, uniform=False)


@torch.no_grad()
def orthogonal(rnn: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
    G = gate_count(rnn.mode)  # per gate block: an RNN's one block is the whole matrix
    for w_ih, w_hh, biases in _layers(rnn):
        for block in w_ih.chunk(G):
            nn.init.orthogonal_(block, gain=1.0, generator=gen)
        for block in w_hh.chunk(G):
            nn.init.orthogonal_(block, gain=gain, generator=gen)
        _zero(biases)


@torch.no_grad()
def identity(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    for w_ih, w_hh, biases in _layers(rnn):
        _normal(w_ih, 1.0 / math.sqrt(w_ih.shape[1]), gen)
        w_hh.copy_(gain * torch.eye(rnn.hidden_size, dtype=w_hh.dtype))
        _zero(biases)


@torch.no_grad()
def normal(rnn: nn.RNN, gain: float, gen: torch.Generator) -> None:
    H = rnn.hidden_size
    for w_ih, w_hh, biases in _layers(rnn):
        _normal(w_ih, 1.0 / math.sqrt(w_ih.shape[1]), gen)
        _normal(w_hh, gain / math.sqrt(H), gen)
        _zero(biases)


_FORGET = {"LSTM": 1, "GRU": 1}  # gate block of the forget gate: LSTM i,f,g,o; GRU r,z,n


def _gated_weights(
    rnn: nn.RNNBase, gain: float, gen: torch.Generator, init: str
) -> list[list[torch.Tensor]]:
    """PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) weights, W_hh times gain; zero biases.
    ``init``: the name of the init that sets gate biases on them, which a refusal names (as
    a grid's refusal of it does: "this init" named none)."""
    if gate_count(rnn.mode) == 1:
        raise VanishlabError(
            f"init {init!r} is for gated cells (LSTM, GRU): it was applied to {type(rnn).__name__}"
        )
    if not rnn.bias:
        raise VanishlabError(
            f"init {init!r} sets gate biases: it needs a module with bias=True, and this "
            f"{type(rnn).__name__} has bias=False"
        )
    bound = 1.0 / math.sqrt(rnn.hidden_size)
    out = []
    for w_ih, w_hh, biases in _layers(rnn):
        _uniform(w_ih, bound, gen)
        _uniform(w_hh, gain * bound, gen)
        _zero(biases)
        out.append(biases)
    return out


@torch.no_grad()
def forget_bias(rnn: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
    layers = _gated_weights(rnn, gain, gen, "forget_bias")  # refuses an nn.RNN first
    H, f = rnn.hidden_size, _FORGET[rnn.mode]
    for b_ih, _b_hh in layers:
        b_ih[f * H : (f + 1) * H] = FORGET_BIAS


@torch.no_grad()
def chrono(rnn: nn.RNNBase, gain: float, gen: torch.Generator, t_max: int = CHRONO_T_MAX) -> None:
    """The built-in ``chrono`` at its T_max, and :func:`vanishlab.chrono_init`'s at the
    ``t_max`` it was given (an integer >= 3, checked there)."""
    layers = _gated_weights(rnn, gain, gen, "chrono")  # refuses an nn.RNN first
    H, f = rnn.hidden_size, _FORGET[rnn.mode]
    for b_ih, _b_hh in layers:
        u = torch.empty(H, dtype=torch.float64).uniform_(1.0, t_max - 1.0, generator=gen)
        b_f = torch.log(u).to(b_ih.dtype)
        b_ih[f * H : (f + 1) * H] = b_f
        if rnn.mode == "LSTM":
            b_ih[0:H] = -b_f  # the input gate: b_i = -b_f
