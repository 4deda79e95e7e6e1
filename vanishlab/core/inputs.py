"""Checking and normalising what a user passes to the analysis functions.

``nn.RNN`` accepts a sequence as ``(T, B, I)``, ``(B, T, I)`` with ``batch_first=True``, or an
unbatched ``(T, I)``; and an initial state ``h0`` as ``(L, B, H)`` or, unbatched, ``(L, H)``.
Everything downstream works on one canonical layout, ``x: (T, B, I)`` and ``h0: (L, B, H)``.
Mistakes raise ``TypeError``/``ValueError`` that name the problem and the expected shape; a
module that is not float32/float64 is refused, and so is any inf or NaN in the weights, ``x``
or ``h0`` (the message names the tensor and where: parameter and entry, or time step and sample).
This module checks the module and its weights; :mod:`vanishlab.core.tensor_checks` the tensors.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import global_rng
from .cells import BIDIRECTIONAL_HINT, gate_count
from .own_forward import base_name, caller_level, check_own_forward
from .tensor_checks import (
    check_dense,
    check_finite,
    check_sequence,
    check_state,
    token_ids_advice,
)
from .wrapped import wrong_module

__all__ = [
    "DROPPED_RAW",
    "FLOAT_DTYPES",
    "FLOAT_DTYPE_NAMES",
    "RNNInputs",
    "Shapes",
    "check_choices",
    "check_float_module",
    "check_one_direction",
    "check_rnn",
    "computed_said",
    "computed_weights",
    "forward_weights",
    "module_dtype",
    "module_weight",
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


def module_weight(module: nn.Module, name: str) -> torch.Tensor:
    """``module``'s weight or bias ``name`` as its next forward uses it.

    ``torch.nn.utils.prune``, the old ``torch.nn.utils.weight_norm`` and the old
    ``torch.nn.utils.spectral_norm`` recompute the attribute in a forward pre-hook (from
    ``name_orig`` and ``name_mask``, ``name_g`` and ``name_v``, or ``name_orig`` and u, v):
    after an optimizer step and before the next forward the attribute is the previous step's.
    The hook's own computation is used instead, without writing the attribute (a fresh tensor
    there would have no gradient history for the user's code). ``torch.nn.utils.parametrize``
    computes on every access already; its parametrizations may advance buffers of their own
    as they do (``parametrizations.spectral_norm`` takes a power step per access in training
    mode), which are restored afterwards, so the module is left as it was. The weight is then
    the one a single access computes (a forward of ``nn.RNN`` accesses it several times, each
    a further power step: the two differ by the iteration's progress, nothing once converged).
    A weight-drop wrapper's module (:func:`_raw_weight`) is read from ``name_raw``: the
    attribute holds the last forward's dropout draw (or nothing before one), and dropout on a
    weight is ignored, as a DropConnect parametrization's is.
    """
    # Imported here: ``torch.nn.utils.prune`` is needed only by modules that have the hooks.
    from torch.nn.utils import prune
    from torch.nn.utils.parametrize import is_parametrized
    from torch.nn.utils.weight_norm import WeightNorm

    value: torch.Tensor | None = None
    hook = _weight_hook(module, name)
    if hook is not None:
        if isinstance(hook, prune.BasePruningMethod):
            value = hook.apply_mask(module)
        elif isinstance(hook, WeightNorm):
            value = hook.compute_weight(module)
        else:
            value = _spectral_normed(module, hook, name)
        if value is not None and value.is_floating_point() and not value.is_meta:
            check_finite(value.detach(), f"{name}, as its forward pre-hook computes it", ("entry",))
    if value is None:
        value = _parametrized(module, name) if is_parametrized(module, name) else None
    if value is None:
        value = _raw_weight(module, name)
    value = getattr(module, name) if value is None else value
    if isinstance(value, torch.Tensor) and value.is_meta:  # failed inside torch's kernels
        raise _on_meta(f"the {base_name(module)}'s {name}")
    return value


def _weight_hook(module: nn.Module, name: str) -> Any:
    """The forward pre-hook that computes ``name`` before each forward and whose computation
    :func:`module_weight` repeats (``torch.nn.utils.prune``'s, the old ``weight_norm``'s or
    ``spectral_norm``'s), the first registered; None where none does."""
    from torch.nn.utils import prune
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, prune.BasePruningMethod) and hook._tensor_name == name:
            return hook
        if isinstance(hook, WeightNorm | SpectralNorm) and hook.name == name:
            return hook
    return None


def _warn_computed_elsewhere(module: nn.Module, name: str, weights: dict[str, Any]) -> None:
    """Say (a ``UserWarning``) which weights :func:`computed_weights` finds: tensors computed
    by code vanishlab does not run (a ``grad_fn``) and left on the module, as fastai's
    ``WeightDropout`` leaves it after a training forward (its raw weight is the wrapper's own)
    or a hypernetwork. They are measured as they are."""
    computed = [] if _SAID.get() else computed_weights(module, weights)
    if computed:
        these, first, several = ", ".join(computed), computed[0], len(computed) > 1
        are = "are no parameters but tensors" if several else "is no parameter but a tensor"
        as_is = "as they are" if several else "as it is"
        warnings.warn(
            f"the {name}'s {these} {are} computed by code vanishlab does not run (grad_fn "
            f"{type(weights[first].grad_fn).__name__}): measured {as_is} now. After a "
            "weight-drop wrapper's training forward (fastai's WeightDropout) that is its dropout "
            f"draw: to measure the raw weight, write it in first (module.{first} = "
            f"wrapper.{first}{DROPPED_RAW}.detach())",
            UserWarning,
            stacklevel=caller_level(),
        )


_SAID: ContextVar[bool] = ContextVar("vanishlab_computed_said", default=False)


@contextlib.contextmanager
def computed_said() -> Iterator[None]:
    """Within (this thread or task): no warning of computed weights again (a monitor's steps)."""
    token = _SAID.set(True)
    try:
        yield
    finally:
        _SAID.reset(token)


def computed_weights(module: nn.Module, weights: Mapping[str, Any]) -> list[str]:
    """The names of ``weights`` (:func:`forward_weights`'s) that code vanishlab does not run
    computed and left on ``module`` (no hook, parametrization or raw weight of a wrapper's,
    :func:`module_weight`, computes them), but for a parameter's values as they are
    (:func:`_a_parameter_s_values`: a view, ``p[:]``, ``p.T``, or an equal clone, fastai's
    weight before any forward and after one in evaluation mode)."""
    from torch.nn.utils.parametrize import is_parametrized

    return [
        wname
        for wname, value in weights.items()
        if not isinstance(value, nn.Parameter)
        and value.grad_fn is not None
        and not _a_parameter_s_values(value)
        and _weight_hook(module, wname) is None
        and not is_parametrized(module, wname)
        and _raw_weight(module, wname) is None
    ]


def _a_parameter_s_values(value: torch.Tensor) -> bool:
    """Whether ``value`` holds a parameter's current values as they are: a view of one (its
    ``_base``), or a tensor equal to the one leaf its ``grad_fn`` computed it from (a clone)."""
    if value._is_view() and isinstance(value._base, nn.Parameter):
        return True
    sources = [f for f, _ in value.grad_fn.next_functions if f is not None]
    leaf = getattr(sources[0], "variable", None) if len(sources) == 1 else None
    return (
        isinstance(leaf, torch.Tensor)
        and leaf.shape == value.shape
        and leaf.dtype == value.dtype
        and torch.equal(leaf.detach(), value.detach())
    )


DROPPED_RAW = "_raw"
"""The suffix of a weight-drop wrapper's raw weight (``weight_hh_l0_raw``): the parameter that
the module's weight is drawn from in training mode, and is in evaluation mode."""


def _raw_weight(module: nn.Module, name: str) -> torch.Tensor | None:
    """A weight-drop wrapper's raw weight: where ``name`` is no parameter of the module (a
    tensor, or nothing before a first forward) and ``name_raw`` is one, as AWD-LSTM's
    ``WeightDrop`` leaves the module (its forward sets ``name`` = dropout(``name_raw``), a fresh
    draw in training mode, ``name_raw`` itself in evaluation mode, whose weight is measured);
    else None. A wrapper that keeps ``name_raw`` itself (fastai's ``WeightDropout``) is out of
    the module's sight: :func:`_warn_computed_elsewhere` says so."""
    if name in module._parameters:
        return None
    return module._parameters.get(f"{name}{DROPPED_RAW}")


def module_dtype(module: nn.Module) -> str:
    """The name of the module's dtype as the ``dtype`` axis spells it (``"float32"``): its
    recurrent weight's, which the engine measures in."""
    return str(module_weight(module, "weight_hh_l0").dtype).removeprefix("torch.")


def _on_meta(what: str) -> TypeError:
    """The error for a weight (or parameter) ``what`` on the meta device."""
    return TypeError(
        f"{what} is on the meta device: it holds no values to measure (load or initialise the "
        "weights first)"
    )


def _parametrized(module: nn.Module, name: str) -> torch.Tensor:
    """A ``torch.nn.utils.parametrize`` weight as an access computes it, with the buffers of its
    parametrizations (the new ``spectral_norm``'s u and v) put back as they were.

    An access that draws random numbers (a DropConnect parametrization: dropout on the weight,
    in training mode) would give a weight of its own at every call: it is computed again with
    the parametrizations in evaluation mode (dropout is ignored, as everywhere in vanishlab),
    and the random generators are left as they were."""
    chain = module.parametrizations[name]
    kept = [(b, b.detach().clone()) for b in chain.buffers()]
    sources = [*chain.parameters(), *chain.buffers()]  # original (original0, ...), u, v
    devices = list(dict.fromkeys(t.device for t in sources if t.device.type == "cuda"))

    def states() -> list[torch.Tensor]:
        return [torch.random.get_rng_state()] + [torch.cuda.get_rng_state(d) for d in devices]

    def restore() -> None:
        with torch.no_grad():
            for buffer, value in kept:
                buffer.copy_(value)

    modes = [(m, m.training) for m in chain.modules()]
    try:
        with global_rng.forked(devices):  # no other thread of vanishlab's draws meanwhile
            before = states()
            value = getattr(module, name)
            if all(torch.equal(a, b) for a, b in zip(before, states(), strict=True)):
                return value
            restore()
            chain.train(False)
            return getattr(module, name)
    finally:
        for m, training in modes:
            m.training = training
        restore()


def _spectral_normed(module: nn.Module, hook: Any, name: str) -> torch.Tensor:
    """The old ``spectral_norm``'s weight as the next forward computes it: in training mode
    after its power step(s), which that forward writes into the module's u and v buffers;
    here they run on copies, and the module is left as it was."""
    keys = (f"{name}_u", f"{name}_v")
    kept = {k: module._buffers[k] for k in keys}
    try:
        for k, buffer in kept.items():
            module._buffers[k] = None if buffer is None else buffer.clone()
        with torch.no_grad():
            return hook.compute_weight(module, do_power_iteration=module.training)
    finally:
        module._buffers.update(kept)


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
            if weight not in names and _raw_weight(module, weight) is None:
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
            raise _on_meta(what)
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
    _warn_computed_elsewhere(module, name, weights)
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
