"""The weights a module's forward uses, read as that forward computes them (:func:`module_weight`):
``torch.nn.utils.prune``'s and the old ``weight_norm``'s and ``spectral_norm``'s hooks,
``torch.nn.utils.parametrize`` (in evaluation mode, its buffers and the random generators left
as they were), a weight-drop wrapper's raw weight (AWD-LSTM's ``WeightDrop``); and the
``UserWarning`` for a weight that code vanishlab does not run computed and left on the module
(fastai's ``WeightDropout`` after a training forward, a hypernetwork's), said once within
:func:`computed_said`. :mod:`vanishlab.core.inputs` checks what these return.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn

from . import global_rng
from .own_forward import base_name, caller_level
from .tensor_checks import check_finite

__all__ = [
    "DROPPED_RAW",
    "computed_said",
    "computed_weights",
    "module_weight",
    "on_meta",
    "raw_weight",
    "same_values",
    "warn_computed_elsewhere",
]


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
    A weight-drop wrapper's module (:func:`raw_weight`) is read from ``name_raw``: the
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
        value = raw_weight(module, name)
    value = getattr(module, name) if value is None else value
    if isinstance(value, torch.Tensor) and value.is_meta:  # failed inside torch's kernels
        raise on_meta(f"the {base_name(module)}'s {name}")
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


def warn_computed_elsewhere(module: nn.Module, name: str, weights: dict[str, Any]) -> None:
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
    """The names of ``weights`` (:func:`vanishlab.core.inputs.forward_weights`'s) that code
    vanishlab does not run computed and left on ``module`` (no hook, parametrization or raw
    weight of a wrapper's, :func:`module_weight`, computes them), but for a parameter's values
    as they are (:func:`_a_parameter_s_values`: a view, ``p[:]``, ``p.T``, or an equal clone,
    fastai's weight before any forward and after one in evaluation mode)."""
    from torch.nn.utils.parametrize import is_parametrized

    return [
        wname
        for wname, value in weights.items()
        if not isinstance(value, nn.Parameter)
        and value.grad_fn is not None
        and not _a_parameter_s_values(value)
        and _weight_hook(module, wname) is None
        and not is_parametrized(module, wname)
        and raw_weight(module, wname) is None
    ]


def _a_parameter_s_values(value: torch.Tensor) -> bool:
    """Whether ``value`` holds a parameter's current values as they are: a view of one (its
    ``_base``), or a tensor equal to the one leaf its ``grad_fn`` computed it from (a clone)."""
    if value._is_view() and isinstance(value._base, nn.Parameter):
        return True
    sources = [f for f, _ in value.grad_fn.next_functions if f is not None]
    leaf = getattr(sources[0], "variable", None) if len(sources) == 1 else None
    return same_values(leaf, value)


def same_values(a: object, b: torch.Tensor) -> bool:
    """Whether ``a`` is a tensor with ``b``'s dtype, shape and values: a weight and a copy of it
    (here, and a checkpoint's raw key beside its weight, :mod:`vanishlab.trained.state_dict`)."""
    return (
        isinstance(a, torch.Tensor)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and torch.equal(a.detach(), b.detach())
    )


DROPPED_RAW = "_raw"
"""The suffix of a weight-drop wrapper's raw weight (``weight_hh_l0_raw``): the parameter that
the module's weight is drawn from in training mode, and is in evaluation mode."""


def raw_weight(module: nn.Module, name: str) -> torch.Tensor | None:
    """A weight-drop wrapper's raw weight: where ``name`` is no parameter of the module (a
    tensor, or nothing before a first forward) and ``name_raw`` is one, as AWD-LSTM's
    ``WeightDrop`` leaves the module (its forward sets ``name`` = dropout(``name_raw``), a fresh
    draw in training mode, ``name_raw`` itself in evaluation mode, whose weight is measured);
    else None. A wrapper that keeps ``name_raw`` itself (fastai's ``WeightDropout``) is out of
    the module's sight: :func:`warn_computed_elsewhere` says so."""
    if name in module._parameters:
        return None
    return module._parameters.get(f"{name}{DROPPED_RAW}")


def on_meta(what: str) -> TypeError:
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
