"""Checking and normalising what a user passes to the analysis functions.

``nn.RNN`` accepts a sequence as ``(T, B, I)``, ``(B, T, I)`` with ``batch_first=True``, or an
unbatched ``(T, I)``; and an initial state ``h0`` as ``(L, B, H)`` or, unbatched, ``(L, H)``.
Everything downstream works on one canonical layout, ``x: (T, B, I)`` and ``h0: (L, B, H)``.
Mistakes raise ``TypeError``/``ValueError`` that name the problem and the expected shape; a
module that is not float32/float64 is refused, and so is any inf or NaN in the weights, ``x``
or ``h0`` (the message names the tensor and where: parameter and entry, or time step and sample).
This module checks the module and its weights (read as its forward computes them:
:mod:`vanishlab.core.weight_reads`); :mod:`vanishlab.core.tensor_checks` the tensors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from .cells import BIDIRECTIONAL_HINT, gate_count
from .own_forward import base_name, check_own_forward
from .tensor_checks import (
    check_dense,
    check_finite,
    check_sequence,
    check_state,
    token_ids_advice,
)
from .weight_reads import module_weight, on_meta, raw_weight, warn_computed_elsewhere
from .wrapped import wrong_module

__all__ = [
    "FLOAT_DTYPES",
    "FLOAT_DTYPE_NAMES",
    "RNNInputs",
    "Shapes",
    "check_choices",
    "check_float_module",
    "check_one_direction",
    "check_rnn",
    "forward_weights",
    "module_dtype",
    "prepare_inputs",
    "token_ids_advice",
    "wrong_module",
]

FLOAT_DTYPES = (torch.float32, torch.float64)
FLOAT_DTYPE_NAMES = {str(d).removeprefix("torch."): d for d in FLOAT_DTYPES}
"""``{"float32": torch.float32, "float64": torch.float64}``: the dtypes by the names the
``dtype`` axis and :func:`module_dtype` spell them."""


class Shapes:
    """The sizes of a validated call, read from its ``x`` ``(T, B, I)`` and its per-layer
    recurrent weights (shared by :class:`RNNInputs` and the gated cells' inputs)."""

    x: torch.Tensor
    weights_hh: tuple[torch.Tensor, ...]

    @property
    def num_layers(self) -> int:
        return len(self.weights_hh)

    @property
    def seq_len(self) -> int:
        return self.x.shape[0]

    @property
    def batch(self) -> int:
        return self.x.shape[1]


@dataclass(frozen=True)
class RNNInputs(Shapes):
    """A validated call: the module's weights and inputs in canonical layout.

    ``x`` is ``(T, B, I)``, ``h0`` is ``(L, B, H)``; ``batched`` is False when the user gave an
    unbatched ``(T, I)`` sequence (then ``B == 1``).
    """

    x: torch.Tensor
    h0: torch.Tensor
    batched: bool
    nonlinearity: str
    weights_ih: tuple[torch.Tensor, ...]  # layer l: (H, I) for l = 0, (H, H) above
    weights_hh: tuple[torch.Tensor, ...]  # (H, H)
    biases: tuple[torch.Tensor | None, ...]  # b_ih + b_hh, (H,), None when bias=False

    @property
    def hidden_size(self) -> int:
        return self.weights_hh[0].shape[0]


def check_one_direction(module: nn.RNNBase) -> None:
    """Refuse ``bidirectional=True`` and an LSTM's ``proj_size > 0``, in one wording for
    nn.RNN, nn.LSTM and nn.GRU, naming the module's kind."""
    name = base_name(module)
    if module.bidirectional:
        raise ValueError(f"bidirectional=True is not supported for {name}: {BIDIRECTIONAL_HINT}")
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError(
            f"proj_size={module.proj_size} is not supported for {name}: vanishlab measures "
            f"{name}s without projections (proj_size=0)"
        )


_MODES = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}
"""The activation ``nn.RNN.forward`` computes, by the module's ``mode``."""


def check_rnn(rnn: object) -> nn.RNN:
    """Return ``rnn`` if it is an ``nn.RNN`` vanishlab can measure, else raise a clear error.

    ``nn.RNN`` fixes its activation when it is built: its forward computes what ``mode`` says
    (``"RNN_TANH"`` or ``"RNN_RELU"``), and ``nonlinearity`` is only read then. vanishlab reads
    ``nonlinearity``; a module where the two disagree (``rnn.nonlinearity = "relu"`` set after
    construction, whose forward still computes tanh) was measured with the other activation
    than its forward's, in silence: it is refused."""
    if not isinstance(rnn, nn.RNN):
        raise wrong_module(rnn, "a torch.nn.RNN")
    check_one_direction(rnn)
    computed = _MODES.get(getattr(rnn, "mode", None))
    if rnn.nonlinearity != computed:
        does = f"computes {computed}" if computed else "computes neither tanh nor relu"
        raise ValueError(
            f"the RNN's nonlinearity is {rnn.nonlinearity!r} but its forward {does} (its mode "
            f"is {getattr(rnn, 'mode', None)!r}, which nn.RNN sets from nonlinearity when it is "
            "built: one of the two was changed since): build nn.RNN(..., nonlinearity='tanh' or "
            "'relu') and copy the weights in with load_state_dict"
        )
    return rnn


def module_dtype(module: nn.Module) -> str:
    """The name of the module's dtype as the ``dtype`` axis spells it (``"float32"``): its
    recurrent weight's, which the engine measures in."""
    return str(module_weight(module, "weight_hh_l0").dtype).removeprefix("torch.")


def forward_weights(module: nn.RNNBase, name: str) -> dict[str, torch.Tensor]:
    """The weights its forward uses, by name, as :func:`module_weight` reads them (parameters
    or plain tensors); ``TypeError`` for one missing (from ``dir()``: ``hasattr`` would
    compute a parametrized weight, advancing its buffers) or no tensor, ``ValueError`` for one
    whose shape is not the module's (torch's own "mat1 and mat2 shapes cannot be multiplied"
    named none)."""
    rows, size, width = gate_count(module.mode) * module.hidden_size, module.input_size, 0
    names, weights = set(dir(module)), {}
    for layer in range(module.num_layers):
        width = size if layer == 0 else module.hidden_size
        shapes = {"weight_ih": (rows, width), "weight_hh": (rows, module.hidden_size)}
        if module.bias:
            shapes.update(bias_ih=(rows,), bias_hh=(rows,))
        for kind, shape in shapes.items():
            weight = f"{kind}_l{layer}"
            if weight not in names and raw_weight(module, weight) is None:
                raise TypeError(
                    f"the {name} has no {weight}: its forward needs it (was it deleted?)"
                )
            weights[weight] = value = module_weight(module, weight)
            if not isinstance(value, torch.Tensor):
                raise TypeError(
                    f"the {name}'s {weight} must be a tensor, got {type(value).__name__}"
                )
            if tuple(value.shape) != shape:
                raise ValueError(
                    f"the {name}'s {weight} has shape {tuple(value.shape)}, where its "
                    f"input_size={size} and hidden_size={module.hidden_size} need {shape}"
                )
    return weights


def check_float_module(module: nn.Module, name: str, inputs: str | None = None) -> torch.Tensor:
    """Return ``module.weight_ih_l0`` after checking every parameter and every weight its
    forward uses: float32 or float64, all of one dtype and device, dense, with values
    (``TypeError`` otherwise, saying how to convert), and finite (``ValueError`` naming it).

    ``inputs`` is the caller's name for the inputs it measures the module on (``"x"``,
    ``"probe"``), which must then be converted too; None for a caller that takes no inputs
    (``linear_rate``, ``pascanu_bound``), whose message names none."""
    weights = forward_weights(module, name)
    w0 = weights["weight_ih_l0"]
    if w0.dtype not in FLOAT_DTYPES:
        likewise = "" if inputs is None else f" (and {inputs} likewise)"
        raise TypeError(
            f"the {name}'s weights are {w0.dtype}; vanishlab measures float32 or float64 "
            f"modules: convert it with module.float() or module.double(){likewise}"
        )
    params = dict(module.named_parameters())
    # Then the weights that are no parameter, which escaped these checks (NaN norms).
    others = {wname: v for wname, v in weights.items() if wname not in params}
    for pname, param in [*params.items(), *others.items()]:
        plain = pname not in params
        what = (
            f"the {name}'s {pname} (no parameter)" if plain else f"the {name}'s parameter {pname}"
        )
        if param.is_meta:
            raise on_meta(what)
        check_dense(param, what)  # a sparse one failed inside torch's kernels (NaN checks)
        if param.dtype != w0.dtype or param.device != w0.device:
            # module.double() and .to() convert parameters and buffers, not a plain tensor
            # (fastai's WeightDropout's weight before its first forward after .double())
            fix = (
                "module.float(), module.double() and .to() leave a tensor that is no parameter "
                f"as it is: convert it too (module.{pname} = module.{pname}.to(module."
                "weight_ih_l0)), or run the forward of the wrapper that sets it"
                if plain
                else "convert the whole module with module.float() or module.double() (and "
                ".to(device))"
            )
            raise TypeError(
                f"{what} is {param.dtype} on {param.device}, but its weight_ih_l0 is "
                f"{w0.dtype} on {w0.device}: {fix}"
            )
        check_finite(param.detach(), what, ("entry",))
    warn_computed_elsewhere(module, name, weights)
    return w0


def prepare_inputs(rnn: object, x: object, h0: object = None, *, what: str = "x") -> RNNInputs:
    """Validate ``rnn``, ``x`` and ``h0`` as ``nn.RNN.forward`` would, and put them in layout.

    Raises ``TypeError`` for a wrong kind of object or dtype/device mismatch and ``ValueError``
    for a wrong shape or a non-finite value, naming what was expected or where it is (``x`` as
    ``what``, the caller's name for it).
    """
    rnn = check_rnn(rnn)
    L, H = rnn.num_layers, rnn.hidden_size
    w0 = check_float_module(rnn, "RNN", inputs=what)
    xs, batched = check_sequence(
        x, input_size=rnn.input_size, batch_first=rnn.batch_first, like=w0, name="RNN", what=what
    )
    B = xs.shape[1]
    if h0 is None:
        h0s = xs.new_zeros(L, B, H)
    else:
        shape = (L, B, H) if batched else (L, H)
        h0s = check_state(h0, "h0", shape, batched, w0, read=(what, rnn.batch_first, len(xs)))
    check_own_forward(rnn, xs, batched, h0)

    w_ih = tuple(module_weight(rnn, f"weight_ih_l{layer}").detach() for layer in range(L))
    w_hh = tuple(module_weight(rnn, f"weight_hh_l{layer}").detach() for layer in range(L))
    biases: tuple[torch.Tensor | None, ...]
    if rnn.bias:
        biases = tuple(
            (
                module_weight(rnn, f"bias_ih_l{layer}") + module_weight(rnn, f"bias_hh_l{layer}")
            ).detach()
            for layer in range(L)
        )
    else:
        biases = (None,) * L
    return RNNInputs(
        x=xs,
        h0=h0s,
        batched=batched,
        nonlinearity=rnn.nonlinearity,
        weights_ih=w_ih,
        weights_hh=w_hh,
        biases=biases,
    )


def check_choices(
    values: object, allowed: tuple[str, ...], what: str, hints: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """``values`` (one name, or an iterable of names) as a non-empty tuple of names from
    ``allowed``: a ``TypeError`` for what is no name nor iterable, a ``ValueError`` for an
    unknown name, followed by the ``hints`` of the unknown names that have one. The names are
    a set, a subset of ``allowed``: a repeat is dropped here, once for every caller
    (``jacobian_norms``'s docstring says so), not left to each to count once."""
    given = values  # as the caller wrote it, for the message: 'bogus', not ('bogus',)
    values = (values,) if isinstance(values, str) else values
    if not isinstance(values, Iterable):
        raise TypeError(
            f"{what} must be a name or a sequence of names from {allowed}, got {values!r:.60}"
        )
    values, hints = tuple(values), hints or {}
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        notes = dict.fromkeys(hints[v] for v in unknown if v in hints)  # each said once
        hint = "".join(f" ({note})" for note in notes)
        got = given if isinstance(given, str | tuple | list) else values
        raise ValueError(f"{what} must be a non-empty subset of {allowed}, got {got!r:.80}{hint}")
    return tuple(dict.fromkeys(values))
