"""What :meth:`vanishlab.JacobianMonitor.step` takes besides its module: the step number ``n``
(and the monitor's ``every``), checked without reading more of a tensor than its integer.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["untensored"]


def untensored(value: Any, what: str) -> Any:
    """A 0-d tensor of an integer dtype (a counter kept as a tensor: ``torch.tensor(7)``) as its
    Python int, for ``step`` and ``every`` alike; anything else (a float, complex or bool
    tensor, a 1-d one) as it is, for the caller's integer check to refuse. A tensor on the meta
    device holds no number: a TypeError naming ``what`` (it was torch's RuntimeError,
    "Tensor.item() cannot be called on meta tensors")."""
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        return value
    dtype = value.dtype
    if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
        return value
    if value.is_meta:
        raise TypeError(f"{what} must be an integer, got a tensor on the meta device (no value)")
    return value.item()
