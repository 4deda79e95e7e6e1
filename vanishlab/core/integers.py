"""An integer count a user passes (``k``, ``discard``, ``layer``, ``seq_len``, ``batch``, a
seed, ``workers``, a sweep axis's size, a monitor's step number and ``every``): a Python or
NumPy integer, or a 0-d tensor of an integer dtype (a counter kept as a tensor:
``torch.tensor(7)``), as one Python int. A bool, a float (2.0), a float, complex or bool
tensor and a tensor of another shape are no integer.

No torch is imported here (the sweep's axis checks run in the command line's help): a value
can be a tensor only once torch is imported, so it is looked up among the loaded modules.
"""

from __future__ import annotations

import numbers
import sys

__all__ = ["as_integer", "check_integer"]


def as_integer(value: object, what: str) -> int | None:
    """``value`` as an int when it is an integer (see the module docstring), else None, for the
    caller to refuse in its own words. A 0-d integer tensor on the meta device holds no number:
    a ``TypeError`` naming ``what`` (torch's was "Tensor.item() cannot be called on meta
    tensors")."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        dtype = value.dtype
        if value.ndim != 0 or dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
            return None
        if value.is_meta:
            raise TypeError(
                f"{what} must be an integer, got a tensor on the meta device (no value)"
            )
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        return None
    return int(value)


def check_integer(value: object, what: str) -> int:
    """``value`` as an int (:func:`as_integer`); a ``TypeError`` naming ``what`` otherwise."""
    number = as_integer(value, what)
    if number is None:
        raise TypeError(f"{what} must be an integer, got {value!r:.60}")
    return number
