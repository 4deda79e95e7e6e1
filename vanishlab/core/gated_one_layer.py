"""The norms of a one-layer ``nn.LSTM`` / ``nn.GRU``: an optimistic fast path.

Same recurrence and blocks as :mod:`vanishlab.core.gated` (see its docstring), for the common
case (one layer), with no small operations per step: per step and sample, the norm of each
block of G, the step's (H x H) blocks built from the cached weights, and the chain's products;
for spectral norms each lag's matrix is also queued (a copy; for an LSTM's whole state the
blocks h and c side by side) for :class:`~vanishlab.core.spectral.SpectralNorms`, whose
queued norms are checked just before each spectral computation (:meth:`Stream.queue`). G is
divided by its norm every ``RENORM``-th step only (between two divisions it drifts by a few
steps' growth or decay, far inside float32's range), and the log-scale is the running sum of
the logs of the norms divided by, taken once at the end. When
any norm comes out zero (except the LSTM c block's exact zero at lag 0), below
:func:`~vanishlab.core.scaling.trusted_floor` (a sum of squares that lost entries), inf or NaN,
it returns None and the general path, which rescues such norms
step by step, measures the call; so it does, from the start, where an LSTM's k = o tanh'(c')
fell below the dtype's range (:func:`~vanishlab.core.gated_lstm_range.scaled_k`), or the o gate's,
a cell gate's coefficient or f did (``scaled_o``, ``scaled_c``, ``scaled_f``), or a GRU's
(:func:`~vanishlab.core.gated_gru_range.scaled_gru`).
"""

from __future__ import annotations

import torch

from .gated_forward import GatedInputs, GatedSteps
from .scaling import RENORM, all_normal, trusted_floor
from .steps import step_done
from .stream import Stream

__all__ = ["gate_blocks", "one_layer_norms"]


def gate_blocks(
    coef: torch.Tensor, w: torch.Tensor, gates: range, out: torch.Tensor | None = None
) -> torch.Tensor:
    """sum_g diag(coef_g) W_g over ``gates``: ``coef`` (B, G, H, 1), ``w`` (G, H, n); the
    (B, H, n) result (into ``out`` if given), without forming the (B, H, G H) pre-activation
    gradient."""
    first, *rest = gates
    out = torch.mul(coef[:, first], w[first], out=out)
    for g in rest:
        out.addcmul_(coef[:, g], w[g])
    return out


@torch.no_grad()
def one_layer_norms(
    inp: GatedInputs, st: GatedSteps, norms: tuple[str, ...], sources: tuple[str, ...]
) -> dict[str, torch.Tensor | None] | None:
    """log10 norms ``{source}_{norm}`` (states ``(B, 1, T + 1)``, input ``(B, T)``) of a
    one-layer LSTM or GRU, or None when a norm is not a normal number (see the module doc).
    """
    carried = (st.k_scaled, st.o_scaled, st.c_scaled, st.f_scaled, st.gru_scaled)
    if any(v is not None for v in carried):
        return None  # an exponent carried apart
    T, B, H = inp.seq_len, inp.batch, inp.hidden_size
    x, lstm = inp.x, st.k is not None
    G = inp.gates
    w_hh = inp.weights_hh[0].view(G, H, H)
    w_ih = inp.weights_ih[0].view(G, H, -1)
    want_input = "input" in sources
    cell, out_gate = (range(3), range(3, 4)) if lstm else (range(3), range(0))

    def empty(*shape: int) -> torch.Tensor:
        return torch.empty(*shape, dtype=x.dtype, device=x.device)

    n_h = empty(T + 1, B)  # ||G_h||_F per lag
    n_c = empty(T + 1, B) if lstm else None
    n_x = empty(T, B) if want_input else None
    divisor = empty(T + 1, B).fill_(1.0)  # what each step divides G by (1 between divisions)
    streams = {src: Stream(B, T + 1, norms, x) for src in sources if src != "input"}
    xs = Stream(B, T, norms, x) if want_input else None
    spectral = "spec" in norms
    # An LSTM's whole state [G_h | G_c] is queued side by side; n_all: its norms, for the checks
    n_all = empty(T + 1, B) if lstm and spectral and "state" in streams else None
    floor, floor_x = trusted_floor(x.dtype, H * H), trusted_floor(x.dtype, H * w_ih.shape[-1])
    coef = st.coef.view(T, B, G, H, 1)
    if not lstm:  # the n block seen from h is r q_n (not q_n, which the input sees)
        coef_hh = coef.clone()
        coef_hh[:, :, 2] = st.coef_hn.unsqueeze(-1)
    else:
        coef_hh = coef
    h = torch.eye(H, dtype=x.dtype, device=x.device).expand(B, H, H).clone()
    c = torch.zeros_like(h) if lstm else None
    # Every per-step matrix goes into a buffer made once (a fresh 0.5 MiB tensor per operation
    # cost more than the operation: the allocator returns such blocks to the system).
    spare_h = [h, torch.empty_like(h)]  # G_h, alternating
    n_x_cols = w_ih.shape[-1]
    block, block_out = empty(B, H, H), empty(B, H, H)  # the step's (H x H) blocks
    x_block, x_block_out = empty(B, H, n_x_cols), empty(B, H, n_x_cols)
    jx_buf = empty(B, H, n_x_cols) if want_input else None
    if spectral:  # lag 0: G = [I | 0] (LSTM) or I, exactly
        one = torch.ones(B, dtype=x.dtype, device=x.device)
        for src, stream in streams.items():
            stream.known(0, one if src != "state_c" else torch.zeros_like(one))
            stream.checked_to = 1  # lag 0 is not queued (the c block's norm there is 0)
    norm, dims = torch.linalg.vector_norm, (-2, -1)

    def queue_states(lag: int) -> bool:
        """Queue this lag's G for the spectral norms asked (False: hand the call over)."""
        if not spectral or lag == 0:
            return True
        for src, stream in streams.items():
            if src == "state_c" and c is not None and n_c is not None:
                raw, n = c, n_c
            elif src == "state" and c is not None and n_c is not None and n_all is not None:
                torch.hypot(n_h[lag], n_c[lag], out=n_all[lag])
                slot = stream.slot((B, H, 2 * H), x)  # a queue slot: spectral norms are on
                assert slot is not None
                slot[..., :H].copy_(h)
                slot[..., H:].copy_(c)
                raw, n = slot, n_all
            else:  # state_h, or a GRU's whole state
                raw, n = h, n_h
            if not stream.queue(lag, raw, n, floor):
                return False
        return True

    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        norm(h, dim=dims, out=n_h[lag])
        if c is not None and n_c is not None:
            norm(c, dim=dims, out=n_c[lag])
        if not queue_states(lag):
            return None
        if lag % RENORM == 0:  # divide by ||G||_F at this step
            n = n_h[lag] if n_c is None else torch.hypot(n_h[lag], n_c[lag])
            divisor[lag] = n
            inv = n.reciprocal()
            a_hh = coef_hh[t] * inv[:, None, None, None]
            a_ih = a_hh if lstm else coef[t] * inv[:, None, None, None]
            carry = st.carry[t] * inv[:, None]
        else:
            a_hh, a_ih, carry = coef_hh[t], coef[t], st.carry[t]
        jx = None
        h_new = spare_h[1] if h is spare_h[0] else spare_h[0]
        if lstm:
            assert c is not None and st.k is not None
            p = c.addcmul_(h, st.k[t][:, None, :])  # G_h diag(k) + G_c, in c's buffer
            if want_input:
                jx = torch.bmm(p, gate_blocks(a_ih, w_ih, cell, x_block), out=jx_buf)
                jx.baddbmm_(h, gate_blocks(a_ih, w_ih, out_gate, x_block_out))
            torch.bmm(p, gate_blocks(a_hh, w_hh, cell, block), out=h_new)
            h = h_new.baddbmm_(h, gate_blocks(a_hh, w_hh, out_gate, block_out))
            c = p.mul_(carry[:, None, :])
        else:
            if want_input:
                jx = torch.bmm(h, gate_blocks(a_ih, w_ih, cell, x_block), out=jx_buf)
            j_hh = gate_blocks(a_hh, w_hh, cell, block)
            j_hh.diagonal(dim1=-2, dim2=-1).add_(carry)  # + diag(z)
            h = torch.bmm(h, j_hh, out=h_new)
        if jx is not None and n_x is not None and xs is not None:
            norm(jx, dim=dims, out=n_x[lag])
            if not xs.queue(lag, jx, n_x, floor_x):
                return None
        step_done(lag + 1, T)
    norm(h, dim=dims, out=n_h[T])
    if c is not None and n_c is not None:
        norm(c, dim=dims, out=n_c[T])
    if not queue_states(T):
        return None
    n_whole = n_h if n_c is None else torch.hypot(n_h, n_c)
    # Every norm read must be trustworthy: the c block's only at lags >= 1 (at lag 0 it is an
    # exact zero, dy/dc_{T-1} = 0, whose log-norm is -inf).
    checks = [(n_h, floor)] + ([(n_c[1:], floor)] if n_c is not None else [])
    if n_x is not None:
        checks.append((n_x, floor_x))
    if not all(all_normal(n, f) for n, f in checks):
        return None
    cum = torch.cumsum(torch.log(divisor.to(torch.float64)), dim=0)  # sum of ln divisor_j, j <= k
    s = torch.cat([cum.new_zeros(1, B), cum[:-1]])  # s_k: the log-scale of G at lag k
    fro = {"state": n_whole, "state_h": n_h, "state_c": n_c}
    out: dict[str, torch.Tensor | None] = {}
    for src, stream in streams.items():
        stream.log_scale.copy_(s)
        stream.fro.copy_(fro[src])  # the c block's -inf at lag 0: dy/dc_{T-1} = 0
        f, sp = stream.finish()
        out[f"{src}_fro"] = None if f is None else f.unsqueeze(1)
        out[f"{src}_spec"] = None if sp is None else sp.unsqueeze(1)
    if xs is not None and n_x is not None:
        xs.log_scale.copy_(cum[:T])
        xs.fro.copy_(n_x)
        out["input_fro"], out["input_spec"] = xs.finish()
    return out
