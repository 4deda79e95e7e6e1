"""What :meth:`vanishlab.JacobianMonitor.step` takes besides its module and its step number
(an integer, as :mod:`vanishlab.core.integers` takes every count): the training loss.

It is checked on every call, without reading a tensor's value (no GPU sync), so a wrong type
is refused at the first step, recorded or not. Its value is read (``.item()``, once) only at a
step the monitor records: :func:`loss_number`. And what the monitor itself takes of the
loss: the task's chance level, :func:`chance_number`.
"""

from __future__ import annotations

import math
import numbers

import torch

from ..core.training_facts import chance_level

__all__ = ["chance_number", "check_loss", "loss_number"]


def check_loss(loss: object) -> None:
    """Refuse (``TypeError``) a ``loss`` that is none of: None (no loss), a real number (a
    Python float or int, a NumPy one), or a 0-d tensor of a real dtype (``loss`` as the loss
    function returns it, on any device, with or without its graph). A bool, a complex number,
    a string, a list, a tensor of another shape (a 1-element ``(1,)`` one too: its value is
    ``loss.item()``, or ``loss.squeeze()`` keeps it a tensor; a NumPy array alike), of a bool
    or complex dtype, or on the meta device (no value) is refused. NaN and inf are losses:
    kept as they are."""
    if loss is None:
        return
    if isinstance(loss, torch.Tensor):
        dtype = loss.dtype
        if loss.ndim != 0:
            shape = tuple(loss.shape)
            problem = f"a tensor of shape {shape}" + (
                " (its value is loss.item())" if loss.numel() == 1 else ""
            )
        elif dtype.is_complex or dtype == torch.bool:
            problem = f"a tensor of dtype {str(dtype).removeprefix('torch.')}"
        elif loss.is_meta:
            problem = "a tensor on the meta device (no value)"
        else:
            return
    elif isinstance(loss, numbers.Real) and not isinstance(loss, bool):
        return
    else:
        problem = f"{loss!r:.60}"
        # A 1-element NumPy array of numbers; not a NumPy bool, whose .item() is refused too
        kind = getattr(getattr(loss, "dtype", None), "kind", None)
        if getattr(loss, "size", None) == 1 and kind in ("f", "i", "u"):
            problem += " (its value is loss.item())"
    raise TypeError(f"the loss must be a real number or a 0-d tensor, got {problem}")


def loss_number(loss: float | torch.Tensor | None) -> float | None:
    """A loss :func:`check_loss` took, as a Python float (a tensor's ``.item()``: on a GPU, a
    sync with the device), or None. NaN and inf as they are."""
    if loss is None:
        return None
    if isinstance(loss, torch.Tensor):
        return float(loss.item())
    try:
        return float(loss)
    except OverflowError:  # an int (or Fraction) beyond a float: as an overflowing float reads
        return math.inf if loss > 0 else -math.inf


def chance_number(chance: object) -> float | None:
    """The ``chance_loss`` a monitor is given, the loss of the task's input-free answer (the
    adding problem's 1/6: ``vanishlab.train.AddingProblem(T).chance_loss``), which its page
    draws beside the training loss: None (not given), or a finite real number > 0 (a Python or
    NumPy float or int) as a float, by the one rule of a chance level
    (:func:`~vanishlab.core.training_facts.chance_level`). A bool or another type is a
    ``TypeError``; 0, a negative number, NaN, inf or an integer too large for a float a
    ``ValueError``."""
    if chance is None:
        return None
    if isinstance(chance, bool) or not isinstance(chance, numbers.Real):
        raise TypeError(f"chance_loss must be a real number or None, got {chance!r:.60}")
    value = chance_level(chance)
    if value is None:
        raise ValueError(f"chance_loss must be a finite number > 0, got {chance!r:.60}")
    return value
