"""Exact log-norms of the Jacobians of a stacked ``nn.LSTM`` or ``nn.GRU``, at every lag.

The state of layer l at time t is what the cell carries: s = h for a GRU and s = [h | c] for an
LSTM, each component an independent variable of the state map s_{t-1} -> s_t (its input x =
h^{l-1}_t, the layer below at the same step, held fixed). With PyTorch's equations and the
coefficient vectors of :mod:`vanishlab.core.gated_forward` (a: the pre-activations, G gate
blocks; diag(v) is written v), the one-step Jacobian blocks are:

LSTM, gate blocks i, f, g, o. Let C = dc'/da = [g sigma'(a_i), c sigma'(a_f), i tanh'(a_g), 0]
(block diagonals, H x 4H), O = [0, 0, 0, tanh(c') sigma'(a_o)] and k = o tanh'(c'). Then
dh'/da = k C + O, da/dh = W_hh, da/dx = W_ih, and

    dh'/dh = (k C + O) W_hh      dh'/dc = k f      dh'/dx = (k C + O) W_ih
    dc'/dh = C W_hh              dc'/dc = f        dc'/dx = C W_ih

GRU, gate blocks r, z, n, with u = W_hn h + b_hn, q_r = (1 - z) tanh'(a_n) u sigma'(a_r),
q_z = (h - n) sigma'(a_z), q_n = (1 - z) tanh'(a_n):

    dh'/dh = z + [q_r, q_z, r q_n] W_hh                     dh'/dx = [q_r, q_z, q_n] W_ih

Backward recurrence. Let y = h^{L-1}_{T-1} and G^l_t = dy / ds^l_t ((H x 2H) = [G_h | G_c] for
an LSTM, H x H for a GRU). For the step t of layer l, the gradient with respect to its
pre-activations, P^l_t = dy / da^l_t (H x G H), is

    LSTM:  Ghat = G_c + G_h k   (dy/dc' through both c' and h' = o tanh(c'))
           P = [Ghat (g sigma'(a_i)), Ghat (c sigma'(a_f)), Ghat (i tanh'(a_g)), G_h O_o]
    GRU:   P_hh = G [q_r, q_z, r q_n]  (as seen from h),   P_ih = G [q_r, q_z, q_n]  (from x)

(for the LSTM P_hh = P_ih = P). Going backward in time and downward in layers:

    G^{L-1}_{T-1} = [I | 0] (LSTM), I (GRU)
    G^l_t  (h part) = P_hh^l_{t+1} W_hh^l  +  P_ih^{l+1}_t W_ih^{l+1}     (missing terms are 0)
           LSTM c part: Ghat^l_{t+1} f^l_{t+1};   GRU: + G^l_{t+1} z^l_{t+1}
    dy / dx_t = P_ih^0_t W_ih^0,    dy / s0[l] = the same in-layer terms from step 0 (lag T)

The lag-0 top row of an LSTM is therefore ||[I | 0]||, the same as an RNN's ||I||. Per step
and sample this costs one (H x G H) @ (G H x H) product per layer (one of (H x 2 G H) @
(2 G H x H) below the top of a stack): the arithmetic floor, G = 4 or 3 times an RNN's.

Exactness at any horizon, as in :mod:`vanishlab.core.engine`: each G is carried as exp(s) raw
with raw of unit Frobenius norm (the division by the norm is folded into the coefficient
vectors) and the natural log s of the scale in float64; two terms that meet are weighted by
their true magnitudes first, so a tiny but only non-zero term is never lost; an exactly zero
Jacobian has log-norm -inf. Spectral norms come from :class:`~vanishlab.core.spectral.
SpectralNorms`. Memory: the O(T L B G H) forward coefficients and O(L B G H^2) working
matrices, never a T x H x H tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .gated_forward import GatedInputs, GatedSteps, gated_steps, prepare_gated
from .spectral import SpectralNorms

__all__ = ["GATED_SOURCES", "gated_log_norms"]

_LN10 = math.log(10.0)
NORMS = ("fro", "spec")
#: ``state_h`` / ``state_c``: the h and c column blocks of an LSTM's state rows (LSTM only).
GATED_SOURCES = ("state", "input", "state_h", "state_c")
_TINY = 1e-17  # below this a float32 Frobenius norm is recomputed with float64 sums


def _choices(values: Sequence[str], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    values = (values,) if isinstance(values, str) else tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        hint = ""
        if any(v in ("state_h", "state_c") for v in unknown):
            hint = " (state_h and state_c are the h and c parts of an nn.LSTM's state)"
        raise ValueError(f"{what} must be a non-empty subset of {allowed}, got {values}{hint}")
    return values


@torch.no_grad()
def gated_log_norms(
    module: nn.LSTM | nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = ("state", "input"),
) -> dict[str, Any]:
    """The fields of a :class:`~vanishlab.core.engine.JacobianLogNorms` for an LSTM or GRU.

    ``state_*``: ``(B, L, T + 1)`` log10 norms of dy/ds^l_{T-1-k} (s = [h | c] for an LSTM);
    ``state_h_*`` / ``state_c_*``: the same for the h and c column blocks alone (LSTM, when
    ``sources`` asks for ``"state_h"`` / ``"state_c"``); ``input_*``: ``(B, T)``. Fields not
    asked for are None. Arguments as for :func:`vanishlab.jacobian_log_norms`.
    """
    inp = prepare_gated(module, x, h0)
    allowed = GATED_SOURCES if inp.mode == "LSTM" else GATED_SOURCES[:2]
    return _backward(inp, _choices(norms, NORMS, "norms"), _choices(sources, allowed, "sources"))


class _Stream:
    """Log-norms of one sequence of Jacobians, each given as exp(s) * raw (natural logs kept
    on the module's device, turned into log10 CPU tensors at the end)."""

    def __init__(self, batch: int, lags: int, norms: tuple[str, ...], device: torch.device) -> None:
        f64 = torch.float64
        self.fro = torch.empty(lags, batch, dtype=f64, device=device) if "fro" in norms else None
        self.spec = torch.empty(lags, batch, dtype=f64, device=device) if "spec" in norms else None
        self._spectral = SpectralNorms() if "spec" in norms else None
        self._log_scale: dict[int, torch.Tensor] = {}

    def record(self, lag: int, raw: torch.Tensor, s: torch.Tensor, ln_fro: torch.Tensor) -> None:
        if self.fro is not None:
            self.fro[lag] = ln_fro
        if self._spectral is not None:
            self._log_scale[lag] = s
            self._spectral.push(lag, raw, self._store_spec)

    def _store_spec(self, lag: int, sigma: torch.Tensor) -> None:
        self.spec[lag] = self._log_scale.pop(lag) + torch.log(sigma.to(torch.float64))

    def finish(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self._spectral is not None:
            self._spectral.flush()
        return tuple(None if t is None else (t / _LN10).T.cpu() for t in (self.fro, self.spec))


def _norm(m: torch.Tensor) -> torch.Tensor:
    """Frobenius norms of ``(B, r, c)`` matrices as float64 ``(B,)``, accurate at any scale
    (float32 sums of squares flush below ~1e-19: those are recomputed with float64 sums)."""
    n = torch.linalg.vector_norm(m, dim=(-2, -1))
    if m.dtype != torch.float64 and bool((n < _TINY).any()):
        tiny = n < _TINY
        n = n.to(torch.float64)
        n[tiny] = torch.linalg.vector_norm(m[tiny], dim=(-2, -1), dtype=torch.float64)
    return n.to(torch.float64)


@dataclass
class _Scaled:
    """G = exp(s) * raw; ``ln_fro`` = s + ln ||raw||_F, ``inv`` = 1 / ||raw||_F (0 for a zero
    matrix), and for an LSTM ``ln_h`` / ``ln_c`` the same for the h and c column blocks."""

    raw: torch.Tensor
    s: torch.Tensor
    ln_fro: torch.Tensor
    inv: torch.Tensor
    ln_h: torch.Tensor | None = None
    ln_c: torch.Tensor | None = None

    @classmethod
    def of(cls, raw: torch.Tensor, s: torch.Tensor, split: int | None) -> _Scaled:
        parts = (raw,) if split is None else (raw[..., :split], raw[..., split:])
        ns = [_norm(p) for p in parts]
        n = ns[0] if split is None else torch.hypot(ns[0], ns[1])
        if raw.dtype != torch.float64 and bool(((n < _TINY) & (n > 0)).any()):
            # Rare: a float32 product far below 1. Rescale it now, exactly, so that the next
            # step's division by its norm can neither lose digits nor overflow.
            idx = ((n < _TINY) & (n > 0)).nonzero().squeeze(1)
            raw[idx] = (raw[idx].double() / n[idx, None, None]).to(raw.dtype)
            s = s.clone()
            s[idx] = s[idx] + torch.log(n[idx])
            ns = [v.clone() for v in ns]
            for v in ns:
                v[idx] = v[idx] / n[idx]
            n = n.clone()
            n[idx] = 1.0
        inv = n.reciprocal().nan_to_num(posinf=0.0).to(raw.dtype)
        lns = [s + torch.log(v) for v in ns]
        if split is None:
            return cls(raw, s, lns[0], inv)
        return cls(raw, s, s + torch.log(n), inv, lns[0], lns[1])


@dataclass
class _Grad:
    """dy/da of one layer and step at log-scale ``s``: ``p_hh`` (seen from h, (B, H, G H)),
    ``p_ih`` (seen from x; None when not needed), ``carry`` (the c part for an LSTM,
    G z for a GRU, (B, H, H))."""

    p_hh: torch.Tensor
    p_ih: torch.Tensor | None
    carry: torch.Tensor
    s: torch.Tensor


def _expand(g: _Scaled, st: GatedSteps, t: int, H: int, lstm: bool, want_ih: bool) -> _Grad:
    B = g.raw.shape[0]
    inv = g.inv[:, None]
    coef = st.coef[t] * inv  # (B, G H): the division by ||raw|| folded in
    if lstm:
        gh, gc = g.raw[..., :H], g.raw[..., H:]
        ghat = torch.addcmul(gc, gh, st.k[t][:, None, :])  # G_c + G_h k
        p = g.raw.new_empty(B, H, 4, H)
        torch.mul(ghat[:, :, None, :], coef[:, None, : 3 * H].view(B, 1, 3, H), out=p[:, :, :3])
        torch.mul(gh, coef[:, None, 3 * H :], out=p[:, :, 3])
        p = p.view(B, H, 4 * H)
        return _Grad(p, p, ghat * (st.carry[t] * inv)[:, None, :], g.ln_fro)
    raw = g.raw
    p_hh = (raw[:, :, None, :] * coef.view(B, 1, 3, H)).view(B, H, 3 * H)
    p_ih = None
    if want_ih:
        p_ih = p_hh.clone()
    torch.mul(raw, (st.coef_hn[t] * inv)[:, None, :], out=p_hh[..., 2 * H :])
    return _Grad(p_hh, p_ih, raw * (st.carry[t] * inv)[:, None, :], g.ln_fro)


def _combine(
    a: _Grad | None,
    b: _Grad | None,
    w_hh: torch.Tensor,
    w_ih_above: torch.Tensor | None,
    stacked: torch.Tensor | None,
    lstm: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """raw and s of G^l_t from the in-layer term ``a`` (layer l, step t + 1) and the vertical
    term ``b`` (layer l + 1, step t); either may be None."""
    if b is None:  # in-layer only
        assert a is not None
        h = a.p_hh @ w_hh
        return (torch.cat([h, a.carry], dim=-1) if lstm else h.add_(a.carry)), a.s
    if a is None:  # vertical only (t = T - 1 below the top)
        h = b.p_ih @ w_ih_above
        return (torch.cat([h, torch.zeros_like(h)], dim=-1) if lstm else h), b.s
    na = torch.hypot(_norm(a.p_hh), _norm(a.carry))
    nb = _norm(b.p_ih)
    ma, mb = a.s + torch.log(na), b.s + torch.log(nb)  # ln magnitudes, -inf for zero terms
    m = torch.maximum(ma, mb)
    finite = torch.isfinite(m)
    m_safe = torch.where(finite, m, torch.zeros_like(m))
    # Each term as (p / ||p||) exp(ln magnitude - m): weights <= 1, common scale exp(m).
    wa = (torch.exp(ma - m_safe) / torch.where(na > 0, na, 1)).to(a.p_hh.dtype)[:, None, None]
    wb = (torch.exp(mb - m_safe) / torch.where(nb > 0, nb, 1)).to(a.p_hh.dtype)[:, None, None]
    h = torch.cat([a.p_hh * wa, b.p_ih * wb], dim=-1) @ stacked
    s = torch.where(finite, m_safe, torch.full_like(m_safe, -math.inf))
    carry = a.carry * wa
    return (torch.cat([h, carry], dim=-1) if lstm else h.add_(carry)), s


def _backward(inp: GatedInputs, norms: tuple[str, ...], sources: tuple[str, ...]) -> dict:
    steps = gated_steps(inp)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    lstm = inp.mode == "LSTM"
    dtype, device = inp.x.dtype, inp.x.device
    split = H if lstm else None
    streams = {
        src: [_Stream(B, T + 1, norms, device) for _ in range(L)]
        for src in ("state", "state_h", "state_c")
        if src in sources
    }
    input_stream = _Stream(B, T, norms, device) if "input" in sources else None
    w_hh, w_ih = inp.weights_hh, inp.weights_ih
    stacked = [torch.cat([w_hh[l], w_ih[l + 1]], dim=0) for l in range(L - 1)]

    def record(l: int, lag: int, g: _Scaled) -> None:
        for src, per_layer in streams.items():
            if src == "state":
                per_layer[l].record(lag, g.raw, g.s, g.ln_fro)
            elif src == "state_h":
                per_layer[l].record(lag, g.raw[..., :H], g.s, g.ln_h)
            else:
                per_layer[l].record(lag, g.raw[..., H:], g.s, g.ln_c)

    inlayer: list[_Grad | None] = [None] * L
    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        vertical: _Grad | None = None  # dy/da of layer l + 1 at step t
        for l in range(L - 1, -1, -1):
            if t == T - 1 and l == L - 1:
                raw = torch.zeros(B, H, 2 * H if lstm else H, dtype=dtype, device=device)
                raw[..., :H] = torch.eye(H, dtype=dtype, device=device)
                s = torch.zeros(B, dtype=torch.float64, device=device)
            else:
                above = (w_ih[l + 1], stacked[l]) if l < L - 1 else (None, None)
                raw, s = _combine(inlayer[l], vertical, w_hh[l], *above, lstm)
            g = _Scaled.of(raw, s, split)
            record(l, lag, g)
            want_ih = l > 0 or input_stream is not None
            inlayer[l] = vertical = _expand(g, steps[l], t, H, lstm, want_ih)
        if input_stream is not None:
            assert vertical is not None and vertical.p_ih is not None
            jx = _Scaled.of(vertical.p_ih @ w_ih[0], vertical.s, None)
            input_stream.record(lag, jx.raw, jx.s, jx.ln_fro)
    if streams:  # lag T: the initial state s0[l] feeds step 0 of layer l only
        for l in range(L):
            raw, s = _combine(inlayer[l], None, w_hh[l], None, None, lstm)
            record(l, T, _Scaled.of(raw, s, split))

    out: dict[str, Any] = {"batched": inp.batched}
    for src in ("state", "state_h", "state_c"):
        done = [st.finish() for st in streams[src]] if src in streams else None
        for i, norm in enumerate(NORMS):
            out[f"{src}_{norm}"] = (
                None if done is None or done[0][i] is None else torch.stack([d[i] for d in done], 1)
            )
    fx = input_stream.finish() if input_stream is not None else (None, None)
    out["input_fro"], out["input_spec"] = fx
    return out
