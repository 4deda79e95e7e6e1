"""Whether a subclass of ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` that overrides ``forward`` still
computes its base class's equations (vanishlab measures PyTorch's equations with the module's
weights): :func:`check_own_forward`, which :func:`vanishlab.core.inputs.prepare_inputs` and
the gated cells' inputs call.
"""

from __future__ import annotations

import os
import sys
import warnings

import torch
from torch import nn

from . import global_rng
from .modules import measured_base

__all__ = ["base_name", "caller_level", "check_own_forward"]


def _base(module: nn.Module) -> type[nn.Module]:
    """The module's nn base class (nn.RNN, nn.LSTM or nn.GRU); its own class for another."""
    return measured_base(module) or type(module)


def base_name(module: nn.RNNBase) -> str:
    """The name of the module's nn base class, ``"RNN"``, ``"LSTM"`` or ``"GRU"``, as messages
    call the module (a parametrized module's class is ``ParametrizedLSTM``, a subclass's any);
    the class's own name for another module."""
    return _base(module).__name__


def check_own_forward(module: nn.RNNBase, xs: torch.Tensor, batched: bool, h0: object) -> None:
    """Refuse a subclass whose ``forward`` computes other equations than its base class's.

    vanishlab measures PyTorch's equations with the module's weights. A subclass that
    overrides ``forward`` (a layer-norm LSTM, say) was measured as if it did not, in silence.
    Such a module's ``forward`` is now called once, on the first two steps of ``xs``
    (``(T, B, I)``, in the module's own layout) from ``h0``, beside the base class's
    ``forward`` with the same weights: a harmless override (logging, then ``super().forward``)
    gives the same output and is measured; another output is refused with a ``TypeError``.
    Two steps, not one: from h0 = 0 the first step's output does not depend on W_hh, nor on
    the order of the steps. When the override cannot be called so (it takes other arguments)
    or returns no comparable output (no tensor of the base's shape, first in a tuple or
    alone), it is measured with a ``UserWarning`` that says its equations were not checked.

    Both calls are made in evaluation mode (vanishlab's semantics: no dropout draws, no power
    step of a spectral norm), the module's and its submodules' modes restored afterwards, and
    as plain ``forward`` calls: no hooks run (a pruning hook would give the override fresh
    weights and the base stale ones). The override's own random draws happen in a forked RNG.
    The override runs on the module itself: one that keeps state of its own in ``forward``
    (``self.last = h``) sees this call. Forward pre-hooks of the user's are never run, and said
    (:func:`_check_pre_hooks`).
    """
    _check_pre_hooks(module)
    base = _base(module)
    if type(module).forward is base.forward:
        return
    first = xs[:2]  # (2, B, I): put back in the module's own layout
    if not batched:
        first = first[:, 0]
    elif module.batch_first:
        first = first.transpose(0, 1)
    name, kind = type(module).__name__, f"nn.{base.__name__}"
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.train(False)
        with torch.no_grad(), global_rng.forked([xs.device]):
            ours = base.forward(module, first, h0)[0]
            try:
                theirs = type(module).forward(module, first, h0)
            except Exception as err:  # any failure of the user's forward: not checked, and said
                theirs = f"calling it as {kind}(x, h0) failed ({type(err).__name__}: {err})"
    finally:
        for m, training in modes:
            m.training = training
    out = theirs[0] if isinstance(theirs, tuple) else theirs
    if not (isinstance(out, torch.Tensor) and out.shape == ours.shape and out.dtype == ours.dtype):
        why = theirs if isinstance(theirs, str) else "it returns no output shaped as the base's"
        warnings.warn(
            f"{name} overrides forward and its equations could not be checked ({why}): "
            f"measured with {kind}'s equations and the module's weights",
            UserWarning,
            stacklevel=caller_level(),
        )
        return
    eps = torch.finfo(ours.dtype).eps
    if not torch.allclose(out, ours, rtol=16 * eps, atol=16 * eps):
        raise TypeError(
            f"{name} overrides forward with other equations than {kind}'s (its output for the "
            f"first two steps differs from {kind}.forward's with the same weights): vanishlab "
            f"measures {kind}'s equations only"
        )


def _hook_name(hook: object) -> str:
    return getattr(hook, "__qualname__", type(hook).__name__)


def _check_pre_hooks(module: nn.RNNBase) -> None:
    """Say (a ``UserWarning``) that the module's forward pre-hooks, and those registered for
    all modules (``torch.nn.modules.module.register_module_forward_pre_hook``), are not run,
    except those whose weights :func:`vanishlab.core.weight_reads.module_weight` computes itself
    (prune, the old weight_norm and spectral_norm): one that sets a weight or changes x leaves
    the module measured with its weights as they are and x as given, but for a weight drop's
    (a parameter ``name_raw`` beside it: the raw weight, as module_weight reads it)."""
    # Imported here, as in module_weight: torch.nn.utils.prune only for modules with hooks.
    from torch.nn.modules import module as torch_module
    from torch.nn.utils import prune
    from torch.nn.utils.spectral_norm import SpectralNorm
    from torch.nn.utils.weight_norm import WeightNorm

    known = (prune.BasePruningMethod, WeightNorm, SpectralNorm)
    hooks = [h for h in module._forward_pre_hooks.values() if not isinstance(h, known)]
    # and those registered for every module (register_module_forward_pre_hook), run first
    everywhere = list(torch_module._global_forward_pre_hooks.values())
    if not hooks and not everywhere:
        return
    names = ", ".join(
        [f"{_hook_name(h)} (registered for all modules)" for h in everywhere]
        + [_hook_name(h) for h in hooks]
    )
    warnings.warn(
        f"{type(module).__name__} has forward pre-hooks that vanishlab does not run ({names}): "
        "measured with its weights as they are now and x as given (what a hook sets or changes "
        "is not seen; a weight dropped from a parameter name_raw is measured with that raw "
        "weight, as in evaluation mode)",
        UserWarning,
        stacklevel=caller_level(),
    )


def caller_level() -> int:
    """The ``stacklevel`` (for a ``warnings.warn`` in the function calling this one) of the
    first frame outside vanishlab and torch: the user's line, whichever entry point and
    decorators (``torch.no_grad``) lie between."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # vanishlab/
    inside = (package + os.sep, os.path.dirname(os.path.abspath(torch.__file__)) + os.sep)
    level, frame = 2, sys._getframe(2)  # level 2: the caller of the function that warns
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
