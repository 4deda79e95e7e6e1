"""Checking :func:`vanishlab.lyapunov_spectrum`'s own arguments, ``k``, ``discard`` and ``q0``,
for an ``nn.RNN`` and the gated cells alike (the module, ``x`` and ``h0`` are
:mod:`vanishlab.core.inputs`'s and :mod:`vanishlab.core.tensor_checks`')."""

from __future__ import annotations

import torch

from .integers import check_integer
from .tensor_checks import check_dense, check_finite

__all__ = ["check_spectrum_args"]


def check_spectrum_args(
    k: object, discard: object, q0: object, *, dim: int, seq_len: int, what: str
) -> int:
    """Check :func:`vanishlab.lyapunov_spectrum`'s ``k``, ``discard`` and ``q0`` for a state of
    dimension ``dim`` (``what`` names it) over ``seq_len`` steps; return k: as given, else
    ``q0``'s number of columns, else ``dim``. A ``k`` that is not ``q0``'s number of columns is
    a ``ValueError`` (a q0 alone was refused for not having ``dim`` columns). A wrong kind of
    value is a ``TypeError``, a value out of range a ``ValueError``."""
    if q0 is not None:
        if not isinstance(q0, torch.Tensor) or not q0.is_floating_point():
            got = f"a {q0.dtype} tensor" if isinstance(q0, torch.Tensor) else type(q0).__name__
            raise TypeError(f"q0 must be a floating-point torch.Tensor or None, got {got}")
        check_dense(q0, "q0")
        if q0.dim() != 2 or q0.shape[0] != dim or not 1 <= q0.shape[1] <= dim:
            raise ValueError(
                f"q0 must have shape ({what}, k) = ({dim}, k) with 1 <= k <= {dim}, got "
                f"{tuple(q0.shape)}"
            )
    if k is None:
        k = dim if q0 is None else q0.shape[1]  # one exponent per starting direction
    else:
        k = check_integer(k, "k")
        if not 1 <= k <= dim:
            raise ValueError(f"k must be between 1 and {what} = {dim}, got {k}")
        if q0 is not None and q0.shape[1] != k:
            raise ValueError(
                f"k = {k} but q0 has {q0.shape[1]} columns: one starting direction per "
                "exponent (leave k out to take q0's)"
            )
    discard = check_integer(discard, "discard")
    if not 0 <= discard < seq_len:
        raise ValueError(f"discard must be between 0 and T - 1 = {seq_len - 1}, got {discard}")
    if q0 is not None:
        check_finite(q0, "q0", ("entry",))
        rank = _column_rank(q0)
        if rank < k:
            raise ValueError(
                f"q0 must have k = {k} linearly independent columns, got rank {rank}: the QR "
                "that orthonormalises it would fill in the missing directions itself"
            )
    return k


def _column_rank(a: torch.Tensor) -> int:
    """The numerical rank of the matrix ``a``: its singular values above ``s_max * max(m, n)
    * eps`` of its dtype (NumPy's ``matrix_rank`` rule: below that, a column is a combination
    of the others to within the rounding ``a`` was given with). Computed in float64 on the
    CPU (``a`` is one small matrix; not every device has float64)."""
    s = torch.linalg.svdvals(a.detach().cpu().to(torch.float64))
    tol = float(s.max()) * max(a.shape) * torch.finfo(a.dtype).eps
    return int((s > tol).sum())
