"""Lyapunov exponents of a stacked ``nn.LSTM`` / ``nn.GRU`` along a trajectory, full state.

The state is everything the stack carries, ordered layer by layer: s_t = (h^0_t, c^0_t, ...,
h^{L-1}_t, c^{L-1}_t) for an LSTM (dimension 2 L H) and (h^0_t, ..., h^{L-1}_t) for a GRU
(L H). Its one-step Jacobian J_t = ds_t / ds_{t-1} is block lower-triangular in the layers;
a tangent vector v is pushed through it layer by layer without forming J_t. With the
coefficients of :mod:`vanishlab.core.gated_forward` (the blocks of :mod:`vanishlab.core.gated`)
and dx = (J_t v)'s h part of the layer below at the same step (0 for layer 0):

    LSTM:  da = W_hh dh + W_ih dx,   dc' = f dc + q_i da_i + q_f da_f + q_g da_g,
           dh' = k dc' + q_o da_o
    GRU:   e = W_hh dh,  e' = W_ih dx,
           dh' = z dh + q_r (e_r + e'_r) + q_z (e_z + e'_z) + r q_n e_n + q_n e'_n

The QR method (Benettin et al. 1980; Vogt et al. 2022) then follows k orthonormal directions,
Q_t R_t = J_t Q_{t-1}, lambda_i = (1/n) sum_t ln |R_t[i, i]| over the n steps after
``discard``, in natural-log units per step, computed in float64 whatever the module's dtype.
"""

from __future__ import annotations

import torch
from torch import nn

from .gated_forward import gated_steps, prepare_gated
from .qr_step import qr_step
from .spectrum_args import check_spectrum_args
from .steps import step_done

__all__ = ["gated_lyapunov_spectrum"]


@torch.no_grad()
def gated_lyapunov_spectrum(
    module: nn.LSTM | nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    k: int | None = None,
    *,
    discard: int = 0,
    q0: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`vanishlab.lyapunov_spectrum` for an LSTM or GRU (same arguments and result).

    ``k`` defaults to ``q0``'s number of columns, else to the full state dimension (2 L H for
    an LSTM, L H for a GRU); ``q0`` is ``(dimension, k)`` in the state order of the module
    docstring.
    """
    inp = prepare_gated(module, x, h0)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    lstm = inp.mode == "LSTM"
    width = 2 * H if lstm else H  # per layer
    n = L * width
    what = "2 * num_layers * hidden_size" if lstm else "num_layers * hidden_size"
    k = check_spectrum_args(k, discard, q0, dim=n, seq_len=T, what=what)
    f64, device = torch.float64, inp.x.device
    steps = gated_steps(inp)

    def vec(t: torch.Tensor | None, i: int) -> torch.Tensor:
        assert t is not None
        return t[i].to(f64)[:, :, None]  # (B, width, 1)

    w_hh = [w.to(f64) for w in inp.weights_hh]
    w_ih = [w.to(f64) for w in inp.weights_ih]
    if q0 is None:
        q = torch.eye(n, k, dtype=f64, device=device).expand(B, n, k)
    else:
        q = torch.linalg.qr(q0.to(device=device, dtype=f64))[0].expand(B, n, k)
    total = torch.zeros(B, k, dtype=f64, device=device)
    for t in range(T):
        blocks = []
        below = None  # the new dh of the layer below, (B, H, k)
        for l in range(L):
            st = steps[l]
            dh = q[:, l * width : l * width + H]
            coef = vec(st.coef, t)
            if lstm:
                da = w_hh[l] @ dh
                if below is not None:
                    da = da + w_ih[l] @ below
                dc = vec(st.carry, t) * q[:, l * width + H : (l + 1) * width]
                dc = dc + (coef[:, : 3 * H] * da[:, : 3 * H]).unflatten(1, (3, H)).sum(1)
                new_h = vec(st.k, t) * dc + coef[:, 3 * H :] * da[:, 3 * H :]
                blocks += [new_h, dc]
            else:
                e = w_hh[l] @ dh  # (B, 3H, k)
                new_h = vec(st.carry, t) * dh + vec(st.coef_hn, t) * e[:, 2 * H :]
                rz = e[:, : 2 * H]
                if below is not None:
                    e_in = w_ih[l] @ below
                    rz = rz + e_in[:, : 2 * H]
                    new_h = new_h + coef[:, 2 * H :] * e_in[:, 2 * H :]
                new_h = new_h + (coef[:, : 2 * H] * rz).unflatten(1, (2, H)).sum(1)
                blocks.append(new_h)
            below = new_h
        z = torch.cat(blocks, dim=1)  # (B, n, k)
        q, total = qr_step(z, total, counted=t >= discard, prev=q)
        step_done(t + 1, T)
    exponents = (total / (T - discard)).sort(dim=-1, descending=True).values
    return exponents if inp.batched else exponents[0]
