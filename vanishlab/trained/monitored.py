"""The module and probe a monitor follows: its one recurrent module (and the check, at each
recorded step, that it is still the model's, with the architecture it opened on), copies and
digests of tensors, a parameter that training made inf or NaN (a failed step, and its
kind), and a weight-drop wrapper's raw weight written into its module while a step is measured
(fastai's ``WeightDropout``, whose module cannot see it)."""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.inputs import forward_weights
from ..core.modules import module_kind
from ..core.tensor_checks import check_finite
from ..core.weight_reads import DROPPED_RAW, computed_weights
from ..core.wrapped import where_it_is
from ..errors import VanishlabError
from .monitor_dir import module_architecture

__all__ = [
    "check_same_module",
    "clone_tensors",
    "failure_kind",
    "find_module",
    "non_finite_parameter",
    "raw_weights_in",
    "says_computed",
    "tensor_digest",
    "wrapper_raw_weights",
]


def non_finite_parameter(module: nn.Module) -> tuple[str, str] | None:
    """Why a module cannot be measured because training made a parameter inf or NaN (it
    raised from ``step``, where an overflow of the forward pass is a failed step), and the
    failure kind of the entry it names (:func:`failure_kind`); or None."""
    for name, param in module.named_parameters():
        p = param.detach()
        try:
            check_finite(p, f"the module's parameter {name}", ("entry",))
        except ValueError as err:
            first = float(p[~torch.isfinite(p)][0])  # the entry the message names
            return f"{err} (training diverged)", failure_kind(first)
    return None


def failure_kind(value: float) -> str:
    """A failed step's ``failure``: ``"nan"`` for a NaN, ``"overflow"`` for an inf."""
    return "nan" if math.isnan(value) else "overflow"


def find_module(model: nn.Module) -> nn.RNNBase:
    """``model`` if it is an nn.RNN / nn.LSTM / nn.GRU, else its one recurrent submodule."""
    if isinstance(model, nn.RNNBase):
        module_kind(model)  # raises TypeError for other RNNBase subclasses
        return model
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(model).__name__}")
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.RNNBase)]
    if len(found) == 1:
        return find_module(found[0][1])
    if not found:
        # "Linear contains no nn.RNN, nn.LSTM or nn.GRU" named no way out
        where = where_it_is(model) or (
            ": the Jacobians measured are a recurrent module's; pass an nn.RNN, nn.LSTM or "
            "nn.GRU, or a model that holds exactly one"
        )
        raise TypeError(f"{type(model).__name__} contains no nn.RNN, nn.LSTM or nn.GRU{where}")
    names = ", ".join(name for name, _ in found)
    raise ValueError(
        f"{type(model).__name__} contains several recurrent modules ({names}): pass one"
    )


def wrapper_raw_weights(model: nn.Module, module: nn.RNNBase) -> dict[str, torch.Tensor]:
    """The raw weights a weight-drop wrapper in ``model`` holds for ``module`` (fastai's
    ``WeightDropout``: its parameter ``weight_hh_l0_raw`` for the module's plain tensor
    ``weight_hh_l0``), by the module's weight name, in the wrapper's order; a weight that is a
    parameter (or parametrized) of the module's own is not among them."""
    found: dict[str, torch.Tensor] = {}
    uses = set(getattr(module, "_flat_weights_names", ()))
    for wrapper in model.modules():
        if getattr(wrapper, "module", None) is not module:
            continue
        for raw_name, raw in wrapper._parameters.items():
            name = raw_name.removesuffix(DROPPED_RAW)
            if raw is None or name == raw_name or name not in uses or name in found:
                continue
            if name in module._parameters or not isinstance(
                module.__dict__.get(name), torch.Tensor
            ):
                continue  # a parameter (or parametrized) of the module's own: read as it is
            found[name] = raw
    return found


@contextlib.contextmanager
def raw_weights_in(model: nn.Module, module: nn.RNNBase) -> Iterator[None]:
    """Within: ``module``'s weights that a weight-drop wrapper in ``model`` holds the raw weight
    of (fastai's ``WeightDropout``: its own parameter ``weight_hh_l0_raw``, its ``.module``'s
    ``weight_hh_l0`` a plain tensor it sets to dropout(raw) in each forward) are that raw weight,
    the evaluation-mode one, detached; the module's tensors as they were come back on exit.

    The module alone cannot see the wrapper (:func:`vanishlab.core.weight_reads.module_weight` reads
    the raw weight a wrapper leaves on the module, AWD-LSTM's); a monitor holds the model, and
    measured each step's dropout draw instead, with a UserWarning at every step."""
    written: dict[str, torch.Tensor] = {}
    for name, raw in wrapper_raw_weights(model, module).items():
        written[name] = module.__dict__[name]
        setattr(module, name, raw.detach())
    try:
        yield
    finally:
        for name, value in written.items():
            setattr(module, name, value)


def says_computed(module: nn.RNNBase) -> bool:
    """Whether measuring ``module`` warns that a weight is computed by code vanishlab does not
    run (:func:`vanishlab.core.weight_reads.computed_weights`: a hypernetwork's): a monitor says so
    once, where it opens or at the first step that does, not at every step (the warning
    filters' ``catch_warnings`` between steps clears Python's once-per-line registry)."""
    return bool(computed_weights(module, forward_weights(module, type(module).__name__)))


def tensor_digest(*tensors: Any) -> str:
    """A SHA-256 of ``tensors`` (each a tensor, a tuple or list of them, or None): their dtypes,
    shapes and bytes, on the CPU. A monitor's probe and a recorded step's weights."""
    digest = hashlib.sha256()
    for t in tensors:
        if t is None:
            digest.update(b"none")
            continue
        for part in t if isinstance(t, tuple | list) else (t,):
            c = part.detach().cpu().contiguous()
            digest.update(f"{c.dtype} {tuple(c.shape)}".encode())
            digest.update(c.view(torch.uint8).numpy().tobytes() if c.numel() else b"")
    return digest.hexdigest()


def clone_tensors(t: Any) -> Any:
    """A copy of the tensors in ``t`` (a tensor, or a tuple or list of them: a tuple, a
    namedtuple too, as a plain tuple, which the engine takes as it takes the namedtuple);
    anything else as it is, for the engine to refuse in its words (``h0=[[0.0]]`` was an
    AttributeError)."""
    if isinstance(t, torch.Tensor):
        return t.detach().clone()
    if isinstance(t, tuple):  # type(t)(...) failed for a namedtuple (h, c): fields, no iterable
        return tuple(clone_tensors(p) for p in t)
    if isinstance(t, list):
        return [clone_tensors(p) for p in t]
    return t


def check_same_module(
    model: nn.Module, module: nn.RNNBase, opened: dict[str, Any], out: Path, out_flag: str
) -> None:
    """Refuse to measure when the recurrent ``module`` a monitor of ``out`` opened on (its
    architecture then: ``opened``, :func:`~.monitor_dir.module_architecture`; ``out_flag``
    names ``out`` in the way on) is no longer part of the ``model`` it was given
    (``model.rnn = nn.RNN(...)``: the monitor went on measuring
    the old module, which training no longer moves, and recorded its frozen weights at
    every later step), or when that module's architecture changed (``module.double()``:
    the engine refused the probe, naming ``x``), or one of its weights was replaced by one of
    another shape, its sizes left as they were, or deleted (the engine's ``ValueError``, or
    an ``AttributeError``, named no way on). A model that gained another recurrent module
    beside it still has it, and it is measured."""
    if not any(m is module for m in model.modules()):
        raise VanishlabError(
            f"the recurrent module this monitor of {out} opened on is no longer part of "
            f"the {type(model).__name__} it was given (replaced since): a monitor "
            "follows that one module; give the new one a new JacobianMonitor with a new or "
            f"empty {out_flag}"
        )
    try:  # a weight replaced by one of another shape (its module's sizes left), or deleted
        forward_weights(module, type(module).__name__)
    except (TypeError, ValueError) as err:
        changed = [str(err)]
    else:
        now = module_architecture(module)
        changed = [f"{k} {opened[k]} -> {now[k]}" for k in opened if opened[k] != now[k]]
    if changed:
        raise VanishlabError(
            f"the module monitored in {out} has changed since the monitor opened "
            f"({', '.join(changed)}): a monitor measures one architecture on one probe; "
            "give the module as it is now a new JacobianMonitor (a probe to match) with "
            f"a new or empty {out_flag}"
        )
