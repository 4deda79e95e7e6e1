"""Lyapunov exponents of the hidden dynamics of a stacked ``nn.RNN`` along a trajectory.

The state is all layers at once, h_t = (h^0_t, ..., h^{L-1}_t) (dimension L H). Its one-step
Jacobian J_t = dh_t / dh_{t-1} is block lower-triangular: layer l sees its own past through
D^l_t W_hh^l and the layer below at the same step through D^l_t W_ih^l,

    (J_t Q)^l = D^l_t ( W_hh^l Q^l + W_ih^l (J_t Q)^{l-1} ),     (J_t Q)^{-1} = 0,

so J_t Q is computed block by block without forming J_t. The QR method (Benettin et al. 1980;
Vogt et al. 2022) follows k orthonormal directions forward, Q_t R_t = J_t Q_{t-1}, and
averages lambda_i = (1/n) sum_t ln |R_t[i, i]| over the n steps after ``discard``. Exponents are
in natural-log units per step, like the decay rates of :func:`vanishlab.fit_decay`; the top one
is the asymptotic rate of ||dh_T/dh_{T-k}|| along the same trajectory. Forward products, not
transposed ones. Computed in float64 whatever the module's dtype.
"""

from __future__ import annotations

import numbers
from typing import SupportsIndex

import torch

from .allocation import format_bytes, memory_refused, refuse_beyond_memory
from .cells import STATE_WIDTH
from .forward import own_precision, states_and_derivatives
from .gated_lyapunov import gated_lyapunov_spectrum
from .inputs import prepare_inputs, wrong_module
from .modules import MEASURED, module_kind
from .qr_step import qr_step
from .spectrum_args import check_spectrum_args
from .steps import step_done

__all__ = ["lyapunov_spectrum"]

#: (B, n, k) float64 arrays counted at a step's peak: Q_{t-1}, the blocks of J_t Q_{t-1} and
#: their concatenation z, QR's copy of z and its Q_t, and a layer's products. The resident peak
#: beyond the process before the call measured 8.2-27x B n k 8 bytes over 6 shapes
#: (benchmarks/lyapunov_memory.py, 2026-12-07: nn.RNN(32, 1024, 2) 8.2x and 8.9x in two runs,
#: nn.LSTM(32, 512, 2) 11.5x, the small ones' forward pass and weights weighing more): 6 is
#: below every one, so a request refused on it could not have fit. (Q, z and QR's arrays
#: alone, 5, let the full spectrum of an nn.LSTM(32, 1024, 4) at B = 8, 20 GiB counted so,
#: start on a machine with 22 GiB available: its peak would be over 32 GiB.)
_SPECTRUM_ARRAYS = 6


@torch.no_grad()
def lyapunov_spectrum(
    rnn: torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    k: int | SupportsIndex | None = None,
    *,
    discard: int | SupportsIndex = 0,
    q0: torch.Tensor | None = None,
) -> torch.Tensor:
    """The top-``k`` Lyapunov exponents of the hidden dynamics along the trajectory of ``x``.

    Args:
        rnn, x, h0: as for :func:`vanishlab.jacobian_norms`.
        k: how many exponents (default: ``q0``'s number of columns when ``q0`` is given, else
            all ``num_layers * hidden_size``; twice that for an LSTM, whose state is [h | c]).
        discard: leading steps whose Jacobians still move Q but are left out of the average
            (a transient away from h0); must leave at least one step.
        q0: the ``(L H, k)`` starting directions (``(2 L H, k)`` for an LSTM, its rows in the
            state's order layer by layer, (h^0, c^0, h^1, c^1, ...); orthonormalised
            here), ``k`` linearly independent columns (a ``ValueError`` otherwise, and for a
            ``k`` given that is not its number of columns). Default:
            the first ``k`` standard basis vectors, exact for the full spectrum; with ``k``
            below the state's size they are not generic (a diagonal Jacobian, e.g. identity
            weights, never mixes them into the top direction), so pass a random ``q0`` there.

    Returns:
        ``(B, k)`` float64 tensor on the module's device, sorted descending (``(k,)`` for an
        unbatched input); -inf marks a direction that is annihilated exactly (relu units off,
        or a derivative that is exactly 0: a float32 tanh unit past |a| ~ 45, a shut gate):
        a counted step with r < k live units (rows of J_t not identically 0) gives k - r of
        them (:mod:`vanishlab.core.qr_step`). A rank lost otherwise (a singular W_hh, or
        steps whose product loses more rank than each one, as stacked relu layers can) is
        rounding to Householder QR: a finite exponent, roughly -36 m / n for m such steps of n,
        not -inf, an R[i, i] that QR rounds to exactly 0 in a step without zero rows or columns
        included (``k=1``, normalised without QR, can read -inf there; docs/maths.md, section 6).
    """
    if not isinstance(rnn, MEASURED):
        raise wrong_module(rnn, "an nn.RNN, nn.LSTM or nn.GRU", x)
    if isinstance(h0, numbers.Integral) and not isinstance(h0, bool):  # (rnn, x, 3): k meant
        raise TypeError(
            f"h0 must be the initial state or None, got the integer {int(h0)}: k is the fourth "
            f"argument, after h0 (pass k={int(h0)})"
        )
    what = f"the Lyapunov spectrum of the {type(rnn).__name__} on this x"
    _refuse_beyond_memory(rnn, x, k, q0, what)
    # in the module's dtype inside an autocast region too; too large for memory: one line
    with own_precision(x), memory_refused(what, ", or fewer exponents (k)"):
        if isinstance(rnn, torch.nn.LSTM | torch.nn.GRU):  # full carried state: gated_lyapunov
            return gated_lyapunov_spectrum(rnn, x, h0, k, discard=discard, q0=q0)
        return _rnn_spectrum(rnn, x, h0, k, discard, q0)


def _rnn_spectrum(
    rnn: torch.nn.RNN,
    x: torch.Tensor,
    h0: torch.Tensor | None,
    k: int | None,
    discard: int,
    q0: torch.Tensor | None,
) -> torch.Tensor:
    """:func:`lyapunov_spectrum` of an ``nn.RNN`` (same arguments and result)."""
    inp = prepare_inputs(rnn, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    n = L * H
    k = check_spectrum_args(k, discard, q0, dim=n, seq_len=T, what="num_layers * hidden_size")
    f64 = torch.float64
    # In the module's dtype, each step's made float64 as it is used (as gated_lyapunov does): a
    # float64 copy of them all took 2 T L B H float32 numbers more than the engine's forward
    # states, beyond the sweep's memory estimate where H is small against T.
    derivs = states_and_derivatives(inp)[1]
    w_hh = [w.to(f64) for w in inp.weights_hh]
    w_ih = [w.to(f64) for w in inp.weights_ih]
    if q0 is None:
        q = torch.eye(n, k, dtype=f64, device=inp.x.device).expand(B, n, k)  # (B, L H, k)
    else:
        q0 = torch.linalg.qr(q0.to(device=inp.x.device, dtype=f64))[0]
        q = q0.expand(B, n, k)  # (B, L H, k)
    total = torch.zeros(B, k, dtype=f64, device=inp.x.device)
    for t in range(T):
        blocks = []
        below = None
        for l in range(L):
            z = w_hh[l] @ q[:, l * H : (l + 1) * H]  # (B, H, k)
            if below is not None:
                z = z + w_ih[l] @ below
            z = derivs[l][t].to(f64)[:, :, None] * z
            blocks.append(z)
            below = z
        z = torch.cat(blocks, dim=1)  # (B, L H, k)
        q, total = qr_step(z, total, counted=t >= discard, prev=q)
        step_done(t + 1, T)
    exponents = (total / (T - discard)).sort(dim=-1, descending=True).values
    return exponents if inp.batched else exponents[0]


def _refuse_beyond_memory(
    rnn: torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU, x: object, k: object, q0: object, what: str
) -> None:
    """Refuse, before the forward pass, a spectrum whose (B, n, k) float64 arrays
    (:data:`_SPECTRUM_ARRAYS` of them) exceed the memory available: the full spectrum of an
    ``nn.LSTM(32, 1024, num_layers=4)`` (n = 8192) is 512 MiB an array a sequence. Under a
    4 GiB ``ulimit -v`` its B = 4 was refused by the allocator 30 s in; without a limit, B = 8
    asks some 36 GiB of a 24 GiB machine, whose arrays the system grants one by one until it
    kills the process. Arguments the checks after it refuse are left to them."""
    if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3):
        return
    batch = 1 if x.dim() == 2 else x.shape[0 if rnn.batch_first else 1]
    n = rnn.num_layers * rnn.hidden_size * STATE_WIDTH[module_kind(rnn)]
    if isinstance(q0, torch.Tensor) and q0.dim() == 2:
        k = q0.shape[1]
    elif k is None:
        k = n
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
        return
    refuse_beyond_memory(
        what,
        _SPECTRUM_ARRAYS * batch * n * k * 8,
        f"ask fewer exponents (k; its {batch} x {n} x {k} float64 directions are "
        f"{format_bytes(batch * n * k * 8)} an array, some {_SPECTRUM_ARRAYS} of them), or "
        "measure fewer sequences at a time (each sample's exponents depend on its own sequence "
        "only)",
    )
