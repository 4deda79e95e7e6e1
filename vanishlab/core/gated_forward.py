"""Checking a call on an ``nn.LSTM`` / ``nn.GRU``, and its forward pass with per-step derivatives.

PyTorch's equations (its documentation; gate order i, f, g, o and r, z, n), layer l, time t,
input from below x = h^{l-1}_t (x_t for l = 0), carried state of the step before h, c:

    LSTM:  a = W_ih x + b_ih + W_hh h + b_hh = [a_i; a_f; a_g; a_o]
           i, f, o = sigma(a_i), sigma(a_f), sigma(a_o),   g = tanh(a_g)
           c' = f * c + i * g,    h' = o * tanh(c')
    GRU:   [a_r; a_z] = W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z},   u = W_hn h + b_hn
           r, z = sigma(a_r), sigma(a_z),   a_n = W_in x + b_in + r * u,   n = tanh(a_n)
           h' = (1 - z) * n + z * h

The derivatives are taken from the pre-activations, not from the gate values, so that they
keep their relative accuracy in saturation (in float32, 1 - tanh(a)^2 is exactly 0 from
|a| ~ 9 on and 1 - sigma(a) loses digits from a ~ 5): with e = exp(-|a|),

    sigma'(a) = sigma(a) sigma(-a) = e / (1 + e)^2,      tanh'(a) = 4 e^2 / (1 + e^2)^2,

and the GRU's h - n likewise, as (h - s) + s (1 - tanh|a_n|) with s = sign(a_n) (h - n rounds
to 0 in saturation when formed from n), h - tanh(a_n) where |a_n| <= 0.5.

:func:`gated_steps` returns, per layer, the coefficient vectors the backward recurrence of
:mod:`vanishlab.core.gated` multiplies by (see its docstring for where they come from):

    LSTM:  coef = [g sigma'(a_i), c sigma'(a_f), i tanh'(a_g), tanh(c') sigma'(a_o)]   (4H)
           k = o tanh'(c'),   carry = f                                               (H, H)
    GRU:   coef = [q_r, q_z, q_n] = [(1 - z) tanh'(a_n) u sigma'(a_r),
                                     (h - n) sigma'(a_z), (1 - z) tanh'(a_n)]          (3H)
           coef_hn = r q_n (the n block seen from h),   carry = z                     (H, H)

Dropout is not applied (evaluation semantics), as for ``nn.RNN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .cells import gate_count
from .forward import (
    check_finite_states,
    flush_digitless,
    recurrence_kernel,
    tanh_derivative,
)
from .gated_carried import CarriedRows
from .gated_gru_range import candidate, minus_tanh, scaled_gru
from .gated_lstm_range import exact_cells, scaled_c, scaled_f, scaled_k, scaled_o
from .inputs import (
    Shapes,
    check_float_module,
    check_one_direction,
    wrong_module,
)
from .modules import GATED
from .own_forward import base_name, check_own_forward
from .tensor_checks import check_sequence, check_state
from .weight_reads import module_weight

__all__ = [
    "GatedInputs",
    "GatedSteps",
    "gated_steps",
    "prepare_gated",
]


@dataclass(frozen=True)
class GatedInputs(Shapes):
    """A validated call on an LSTM or GRU: weights and inputs in canonical layout.

    ``x`` is ``(T, B, I)``; ``h0`` and ``c0`` (LSTM only, else None) are ``(L, B, H)``;
    ``batched`` is False for an unbatched ``(T, I)`` input (then ``B == 1``). Per layer:
    ``weights_ih`` ``(G H, I or H)``, ``weights_hh`` ``(G H, H)``, ``biases_ih`` and
    ``biases_hh`` ``(G H,)`` or None, with G = 4 (LSTM) or 3 (GRU) gate blocks.
    """

    mode: str  # "LSTM" or "GRU"
    x: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor | None
    batched: bool
    weights_ih: tuple[torch.Tensor, ...]
    weights_hh: tuple[torch.Tensor, ...]
    biases_ih: tuple[torch.Tensor | None, ...]
    biases_hh: tuple[torch.Tensor | None, ...]

    @property
    def hidden_size(self) -> int:
        return self.weights_hh[0].shape[1]

    @property
    def gates(self) -> int:
        return gate_count(self.mode)


def check_gated(module: object) -> nn.LSTM | nn.GRU:
    """Return ``module`` if it is an ``nn.LSTM`` / ``nn.GRU`` vanishlab can measure."""
    if not isinstance(module, GATED):
        raise wrong_module(module, "a torch.nn.LSTM or torch.nn.GRU")
    check_one_direction(module)
    return module


def prepare_gated(module: object, x: object, h0: object = None, *, what: str = "x") -> GatedInputs:
    """Validate ``module``, ``x`` and ``h0`` as the module's own forward would (messages call
    ``x`` ``what``, the caller's name for it).

    ``h0`` is None (zeros), a tensor ``(L, B, H)`` (``(L, H)`` unbatched) for a GRU, or the
    tuple ``(h0, c0)`` of two such tensors for an LSTM, or the list ``[h0, c0]``, which
    ``nn.LSTM.forward`` takes alike (torch 2.13 indexes its ``hx``). Raises ``TypeError`` for a
    wrong kind of object, dtype or device and ``ValueError`` for a wrong shape, naming the
    expected one.
    """
    module = check_gated(module)
    name = base_name(module)
    L, H = module.num_layers, module.hidden_size
    w0 = check_float_module(module, name, inputs=what)
    xs, batched = check_sequence(
        x,
        input_size=module.input_size,
        batch_first=module.batch_first,
        like=w0,
        name=name,
        what=what,
    )
    B = xs.shape[1]
    shape = (L, B, H) if batched else (L, H)
    read = (what, module.batch_first, len(xs))  # a state whose batch is T: x's layout swapped
    c0s = None
    if h0 is None:
        h0s = xs.new_zeros(L, B, H)
        c0s = xs.new_zeros(L, B, H) if isinstance(module, nn.LSTM) else None
    elif isinstance(module, nn.LSTM):
        if not (isinstance(h0, tuple | list) and len(h0) == 2) or _a_call(h0, shape):
            raise TypeError(
                f"for an nn.LSTM, h0 must be None or the tuple (h0, c0) (a list [h0, c0] too), "
                f"each of shape {shape}, "
                f"got {_not_a_pair(h0, shape)}"
            )
        part = "a torch.Tensor (None stands for the whole state (h0, c0), not for a part)"
        h0s = check_state(h0[0], "h0", shape, batched, w0, part, read=read)
        # (c0 not: beside an h0 of batch B, a c0 of batch T is its own mistake, not x's)
        c0s = check_state(h0[1], "c0", shape, batched, w0, part)
    else:
        h0s = check_state(h0, "h0", shape, batched, w0, read=read)
    check_own_forward(module, xs, batched, h0)

    def params(prefix: str) -> tuple[torch.Tensor | None, ...]:
        return tuple(
            module_weight(module, f"{prefix}_l{l}").detach()
            if module.bias or "weight" in prefix
            else None
            for l in range(L)
        )

    return GatedInputs(
        mode=module.mode,
        x=xs,
        h0=h0s,
        c0=c0s,
        batched=batched,
        weights_ih=params("weight_ih"),  # type: ignore[arg-type]
        weights_hh=params("weight_hh"),  # type: ignore[arg-type]
        biases_ih=params("bias_ih"),
        biases_hh=params("bias_hh"),
    )


@dataclass(frozen=True)
class GatedSteps:
    """One layer's forward pass: states and the coefficients of its per-step Jacobians.

    ``h`` (and ``c`` for an LSTM) ``(T, B, H)``; ``coef`` ``(T, B, G H)``; ``carry`` ``(T, B,
    H)`` (f or z); ``k`` (LSTM: o tanh'(c')) or ``coef_hn`` (GRU: r q_n), ``(T, B, H)``.

    ``k_scaled`` (LSTM, None unless needed): k = exp(ln_k) k_rel in the steps and samples
    where some unit's k is below the dtype's smallest normal number, those rows alone
    (:class:`~vanishlab.core.gated_carried.CarriedRows`). ``o_scaled`` (LSTM, None unless
    needed): the o gate's coefficient tanh(c') sigma'(a_o) (``coef``'s last block) carried the
    same way, O = exp(ln_O) O_rel. ``c_scaled`` (LSTM, None unless needed): the cell gates'
    coefficients C (``coef``'s first three blocks) as C = exp(ln_C) C_rel, the rows that need
    it alone. ``f_scaled`` (LSTM, None unless needed): ln f, float64, in the rows where some f
    is below the range. These four are :mod:`~vanishlab.core.gated_lstm_range`'s
    ``scaled_k``, ``scaled_o``, ``scaled_c`` and ``scaled_f``. ``gru_scaled`` (GRU, None unless
    needed): [q_r, q_z, q_n, r q_n, z] as exp(ln) rel in the steps and samples where one is
    below the range alone, rows of none where a term, one times its row of W, is
    (:func:`~vanishlab.core.gated_gru_range.scaled_gru`): the steps of either are weighed.
    """

    h: torch.Tensor
    c: torch.Tensor | None
    coef: torch.Tensor
    carry: torch.Tensor
    k: torch.Tensor | None
    coef_hn: torch.Tensor | None
    k_scaled: CarriedRows | None = None
    o_scaled: CarriedRows | None = None
    c_scaled: CarriedRows | None = None
    f_scaled: CarriedRows | None = None
    gru_scaled: CarriedRows | None = None


def _dsigmoid(a: torch.Tensor) -> torch.Tensor:
    """sigmoid'(a) = e / (1 + e)^2 with e = exp(-|a|), 0 where it has lost its digits
    (:func:`~vanishlab.core.forward.flush_digitless`)."""
    e = torch.exp(-a.abs())
    return flush_digitless(e / (1 + e).square())


# The coefficients of a step are products of gates, states and derivatives, flushed as one
# derivative is (flush_digitless, by magnitude: g sigma'(a_i) and (h - n) sigma'(a_z) are
# signed). Two normal factors can round to a subnormal with a few bits left: a float32 LSTM
# whose o = sigma(-70) and tanh'(c') = 1.8e-15 (both normal) read |dh/dc0| = 10^-44.85 where
# it is 10^-45.14, finite and unflagged; such a product reads as exactly 0 (-inf), as a
# derivative past the first subnormals does.


def _params(inp: GatedInputs, l: int) -> list[torch.Tensor]:
    """Layer l's weights (and biases) in the order PyTorch's recurrent kernels take them."""
    w = [inp.weights_ih[l], inp.weights_hh[l]]
    b_ih, b_hh = inp.biases_ih[l], inp.biases_hh[l]
    return w if b_ih is None or b_hh is None else [*w, b_ih, b_hh]


def _kernel_args(inp: GatedInputs, l: int) -> tuple:
    # (params, has_biases, num_layers, dropout, train, bidirectional, batch_first): the
    # signature nn.LSTM.forward / nn.GRU.forward use.
    return _params(inp, l), inp.biases_ih[l] is not None, 1, 0.0, False, False, False


def _lstm_layer(inp: GatedInputs, l: int, below: torch.Tensor) -> GatedSteps:
    H = inp.hidden_size
    # The states through PyTorch's own LSTM kernel (no Python loop over time), then every
    # pre-activation at once from them: a_t = W_ih x_t + b + W_hh h_{t-1}.
    h0, c0 = inp.h0[l], inp.c0[l]
    with recurrence_kernel():
        hs, *_ = torch._VF.lstm(below, (h0[None], c0[None]), *_kernel_args(inp, l))
    check_finite_states(hs, l)
    h_prev = torch.cat([h0[None], hs[:-1]])
    a = below @ inp.weights_ih[l].T  # (T, B, 4H)
    if inp.biases_ih[l] is not None:
        a += inp.biases_ih[l] + inp.biases_hh[l]
    a.view(-1, 4 * H).addmm_(h_prev.view(-1, H), inp.weights_hh[l].T)
    a_i, a_f, a_g, a_o = a.split(H, dim=-1)
    i, f, o, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o), torch.tanh(a_g)
    # The cells: c_t = f_t c_{t-1} + i_t g_t, an elementwise scan.
    cs = torch.mul(i, g)
    c = c0
    for t in range(cs.shape[0]):
        c = cs[t].addcmul_(f[t], c)
    check_finite_states(cs, l)
    c_prev = torch.cat([c0[None], cs[:-1]])
    # O and k read the step's own c' (the next step reads the module's state, cs): they differ
    # where f c and i g cancel below half the dtype's digits (gated_lstm_range.exact_cells)
    c_map, c_below = exact_cells(cs, a, c_prev, f, i)
    tanh_c = torch.tanh(c_map)
    coef = torch.cat(
        [
            g * _dsigmoid(a_i),
            c_prev * _dsigmoid(a_f),
            i * tanh_derivative(a_g),
            tanh_c * _dsigmoid(a_o),
        ],
        dim=-1,
    )
    k = flush_digitless(o * tanh_derivative(c_map), signed=True)
    coef = flush_digitless(coef, signed=True)
    return GatedSteps(
        h=hs,
        c=cs,
        coef=coef,
        carry=flush_digitless(f, signed=True),  # f's forward use, the scan above, is done
        k=k,
        coef_hn=None,
        k_scaled=scaled_k(k, a_o, c_map),
        o_scaled=scaled_o(coef[..., 3 * H :], a, c_map, c_prev, c_below),
        c_scaled=scaled_c(coef[..., : 3 * H], a, c_prev),
        f_scaled=scaled_f(f, a_f),
    )


def _gru_layer(inp: GatedInputs, l: int, below: torch.Tensor) -> GatedSteps:
    H = inp.hidden_size
    # The states through PyTorch's own GRU kernel, then every gate at once from them.
    h0 = inp.h0[l]
    with recurrence_kernel():
        hs, _ = torch._VF.gru(below, h0[None], *_kernel_args(inp, l))
    check_finite_states(hs, l)
    h_prev = torch.cat([h0[None], hs[:-1]])
    gi = below @ inp.weights_ih[l].T  # (T, B, 3H): W_ih x + b_ih
    gh = h_prev @ inp.weights_hh[l].T  # W_hh h + b_hh
    if inp.biases_ih[l] is not None:
        gi += inp.biases_ih[l]
        gh += inp.biases_hh[l]
    a_rz = gi[..., : 2 * H] + gh[..., : 2 * H]
    a_r, a_z = a_rz.split(H, dim=-1)
    u = gh[..., 2 * H :]
    r = torch.sigmoid(a_r)
    a_n = candidate(gi[..., 2 * H :], a_r, r, u)  # (r u in float64 where r is flushed)
    q_n = torch.sigmoid(-a_z) * tanh_derivative(a_n)  # (1 - z) tanh'(a_n)
    coef = torch.cat(
        [q_n * u * _dsigmoid(a_r), minus_tanh(h_prev, a_n) * _dsigmoid(a_z), q_n], dim=-1
    )
    # (Flushed as an LSTM's are, though no measured number depends on it: scaled_gru carries
    # every step and sample with an entry below tiny, flushed or not, and replaces those rows)
    coef, z = flush_digitless(coef, signed=True), flush_digitless(torch.sigmoid(a_z))
    coef_hn = flush_digitless(r * q_n)
    return GatedSteps(
        h=hs,
        c=None,
        coef=coef,
        carry=z,
        k=None,
        coef_hn=coef_hn,
        gru_scaled=scaled_gru(
            coef, coef_hn, z, (a_r, a_z, a_n), u, h_prev, (inp.weights_hh[l], inp.weights_ih[l])
        ),
    )


@torch.no_grad()
def gated_steps(inp: GatedInputs) -> list[GatedSteps]:
    """The forward pass of every layer with its Jacobian coefficients (see the module doc).

    Raises :class:`~vanishlab.errors.NonFiniteStateError` naming the first layer, time step and
    sample where a state is inf or NaN.
    """
    layer = _lstm_layer if inp.mode == "LSTM" else _gru_layer
    below = inp.x
    out: list[GatedSteps] = []
    for l in range(inp.num_layers):
        steps = layer(inp, l, below)
        out.append(steps)
        below = steps.h
    return out


def _a_call(h0: tuple | list, shape: tuple[int, ...]) -> bool:
    """Whether an LSTM's ``h0`` is what its call returns, ``(output, (h_n, c_n))``: a tensor
    not of the state's ``shape``, then a pair of tensors of it (``(h0, (c0, c0))`` is not).
    A nested tensor, which has no shape to read, is none (its part's check names it)."""
    return (
        len(h0) == 2
        and isinstance(h0[1], tuple | list)
        and len(h0[1]) == 2
        and all(_shape(v) == shape for v in h0[1])
        and _shape(h0[0]) not in (None, shape)
    )


def _shape(value: object) -> tuple[int, ...] | None:
    """A dense tensor's shape; None for anything else (a nested tensor's sizes raise)."""
    if not isinstance(value, torch.Tensor) or value.is_nested:
        return None
    return tuple(value.shape)


def _not_a_pair(h0: object, shape: tuple[int, ...]) -> str:
    """What an LSTM's ``h0`` that is no pair ``(h0, c0)`` is, and the way out where one shows."""
    if isinstance(h0, tuple | list) and _a_call(h0, shape):
        return "an nn.LSTM call's (output, (h_n, c_n)): pass h0[1], the (h_n, c_n) it ends in"
    if isinstance(h0, torch.Tensor):  # an RNN's or GRU's state, given to an LSTM
        return "one tensor: an LSTM carries a cell state too; pass (h0, torch.zeros_like(h0))"
    if isinstance(h0, tuple | list):
        return f"a {type(h0).__name__} of {len(h0)}"
    return type(h0).__name__
