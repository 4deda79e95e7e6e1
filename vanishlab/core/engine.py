"""Exact log-norms of the Jacobians of a stacked ``nn.RNN``, at every lag, from its weights.

With D^l_t = diag(act'(a^l_t)) and G^l_t = dh^{L-1}_{T-1} / dh^l_t (top layer, last step, with
respect to the state of layer l at time t), going backward in time and downward in layers
(Pascanu, Mikolov & Bengio 2013; THEORY.md):

    G^{L-1}_{T-1} = I
    G^l_t = G^l_{t+1} D^l_{t+1} W_hh^l  +  G^{l+1}_t D^{l+1}_t W_ih^{l+1}    (missing terms are 0)
    dh^{L-1}_{T-1} / dx_t  = G^0_t D^0_t W_ih^0
    dh^{L-1}_{T-1} / h0[l] = G^l_0 D^l_0 W_hh^l                               (lag T)

Each G is carried as exp(s) * raw, with raw well scaled (it is divided by its own Frobenius norm
inside the next step's product with D) and the natural log s of the scale carried apart in
float64, so nothing underflows at any horizon: a norm of 1e-3000 comes out as log10 = -3000.
When two terms meet they are weighted by their true magnitudes before they are added, so a
term that is tiny but the only non-zero one is never lost. An exactly zero Jacobian (all relu
units off) has log-norm -inf. Spectral norms come from a warm-started block power iteration
(:mod:`vanishlab.core.spectral`). Cost per step and sample: one (H x H) @ (H x H) product per layer
(one of (H x 2H) @ (2H x H) below the top layer of a stack), the arithmetic floor of the
problem; memory holds the O(T L B H) forward states and O(L B H^2) working matrices (plus a
16-lag queue per stream for the spectral norms), never a T x H x H tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .forward import activation_derivative, layer_states
from .frame import norms_frame
from .gated import gated_log_norms
from .inputs import RNNInputs, prepare_inputs
from .spectral import SpectralNorms

__all__ = ["JacobianLogNorms", "jacobian_log_norms", "jacobian_norms"]

_LN10 = math.log(10.0)
NORMS = ("fro", "spec")
SOURCES = ("state", "input")


@dataclass(frozen=True)
class JacobianLogNorms:
    """log10 Jacobian norms as float64 CPU tensors; ``None`` where not requested.

    ``state_*``: ``(B, L, T + 1)``, [b, l, k] = log10 ||dh^{L-1}_{T-1} / dh^l_{T-1-k}||, k = T
    being h0[l]. ``input_*``: ``(B, T)``, [b, k] = log10 ||dh^{L-1}_{T-1} / dx_{T-1-k}||.
    """

    state_fro: torch.Tensor | None
    state_spec: torch.Tensor | None
    input_fro: torch.Tensor | None
    input_spec: torch.Tensor | None
    batched: bool
    # nn.LSTM only, when asked for (sources "state_h" / "state_c"): the h and c column blocks
    # of the state Jacobians dh^{L-1}_{T-1} / d[h | c]^l_{T-1-k}, shaped like state_*.
    state_h_fro: torch.Tensor | None = None
    state_h_spec: torch.Tensor | None = None
    state_c_fro: torch.Tensor | None = None
    state_c_spec: torch.Tensor | None = None


def jacobian_norms(
    rnn: torch.nn.RNN,
    x: torch.Tensor,
    h0: torch.Tensor | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = SOURCES,
):
    """Jacobian norms of an ``nn.RNN`` at every lag, as a tidy ``pandas.DataFrame``.

    Args:
        rnn: a ``torch.nn.RNN`` (any ``num_layers``, tanh or relu, with or without bias,
            ``batch_first`` or not, float32 or float64, on any device). Evaluation semantics:
            dropout between layers is ignored. An ``nn.LSTM`` or ``nn.GRU`` is measured the
            same way by :mod:`vanishlab.core.gated` (its ``h0`` is ``(h0, c0)`` for an LSTM;
            its state rows are d h^{top}_{T-1} / d [h | c]; ``sources`` may add
            ``"state_h"`` / ``"state_c"``, the h and c column blocks, for an LSTM).
        x: the input sequence, as ``rnn`` takes it: ``(T, B, input_size)``, ``(B, T,
            input_size)`` with ``batch_first=True``, or unbatched ``(T, input_size)``.
        h0: optional initial state ``(num_layers, B, hidden_size)`` (``(num_layers,
            hidden_size)`` unbatched); zeros when omitted, as in ``nn.RNN``.
        norms: any of ``"fro"`` (Frobenius) and ``"spec"`` (spectral, largest singular value).
        sources: any of ``"state"`` (dh_T/dh_t for every layer, and h0) and ``"input"``
            (dh_T/dx_t).

    Returns:
        One row per (sample, source, layer, lag): ``sample`` (batch index), ``source``,
        ``layer`` (0-based layer of the source state; null for ``"input"``), ``lag`` (k >= 0:
        the state h^layer_{T-1-k}, k = T being h0; or the input x_{T-1-k}), and ``log10_fro``
        and/or ``log10_spec`` (-inf for an exactly zero Jacobian). Norms are of
        d h^{top}_{T-1} / d (source), computed exactly from the weights, not by autograd.

    Raises:
        TypeError, ValueError: for arguments ``nn.RNN`` would reject (the message names the
            expected shape), ``bidirectional=True`` or an LSTM's ``proj_size > 0``.
        vanishlab.NonFiniteStateError: when the forward pass itself overflows (inf/NaN);
            it names the layer, time step and sample.
    """
    result = jacobian_log_norms(rnn, x, h0, norms=norms, sources=sources)
    return norms_frame(result)


@torch.no_grad()
def jacobian_log_norms(
    rnn: torch.nn.RNN,
    x: torch.Tensor,
    h0: torch.Tensor | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = SOURCES,
) -> JacobianLogNorms:
    """Like :func:`jacobian_norms`, but returns the tensors (see :class:`JacobianLogNorms`)."""
    if isinstance(rnn, torch.nn.LSTM | torch.nn.GRU):  # gated cells: vanishlab.core.gated
        return JacobianLogNorms(**gated_log_norms(rnn, x, h0, norms=norms, sources=sources))
    norms, sources = (
        _check_choices(norms, NORMS, "norms"),
        _check_choices(sources, SOURCES, "sources"),
    )
    inp = prepare_inputs(rnn, x, h0)
    return _backward_norms(inp, norms, sources)


def _check_choices(values: Sequence[str], allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ValueError(f"{what} must be a non-empty subset of {allowed}, got {values}")
    return values


class _Stream:
    """Log-norm bookkeeping for one sequence of Jacobians (one layer's states, or the input).

    Each Jacobian arrives as exp(s) * raw with ``raw`` well scaled (never near under- or
    overflow) and its Frobenius norm ``n``: log ||J||_F = s + ln n, log ||J||_2 = s + ln
    sigma_1(raw). Natural logs are stored, on the module's device (no host sync per step on a
    GPU), and turned into log10 once at the end.
    """

    def __init__(self, batch: int, lags: int, norms: tuple[str, ...], device: torch.device) -> None:
        f64 = torch.float64
        self.fro = torch.empty(lags, batch, dtype=f64, device=device) if "fro" in norms else None
        self.spec = torch.empty(lags, batch, dtype=f64, device=device) if "spec" in norms else None
        self._spectral = SpectralNorms() if "spec" in norms else None
        self._log_scale: dict[int, torch.Tensor] = {}

    def record(self, lag: int, raw: torch.Tensor, log_scale: torch.Tensor, ln_fro: torch.Tensor):
        """Store the norms of exp(log_scale) * raw; ``ln_fro`` is log_scale + ln ||raw||_F."""
        if self.fro is not None:
            self.fro[lag] = ln_fro
        if self._spectral is not None:
            self._log_scale[lag] = log_scale
            self._spectral.push(lag, raw, self._store_spec)

    def slot(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor | None:
        """A tensor to write the next Jacobian into (saves the spectral queue a copy)."""
        if self._spectral is None:
            return None
        return self._spectral.slot(torch.Size(shape), like.dtype, like.device)

    def finish(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """log10 norms as ``(B, lags)`` CPU tensors: (Frobenius, spectral), None if not asked."""
        if self._spectral is not None:
            self._spectral.flush()
        return tuple(None if t is None else (t / _LN10).T.cpu() for t in (self.fro, self.spec))

    def _store_spec(self, lag: int, sigma: torch.Tensor) -> None:
        log_scale = self._log_scale.pop(lag)
        self.spec[lag] = log_scale + torch.log(sigma.to(torch.float64))


_TINY = 1e-17  # below this a float32 Frobenius norm is recomputed with float64 sums


def _fro(g: torch.Tensor) -> torch.Tensor:
    """Frobenius norms of ``(B, m, n)`` matrices, ``(B,)``, accurate at any scale.

    A float32 sum of squares loses digits below ~1e-19 (the squares become subnormal) and
    flushes to 0 below ~1e-23; such rare norms are recomputed with float64 accumulation.
    """
    n = torch.linalg.vector_norm(g, dim=(-2, -1))
    if g.dtype != torch.float64:
        tiny = n < _TINY
        if bool(tiny.any()):
            exact = torch.linalg.vector_norm(g[tiny], dim=(-2, -1), dtype=torch.float64)
            n = n.clone()
            n[tiny] = exact.to(n.dtype)
    return n


@dataclass
class _Jac:
    """A Jacobian as exp(s) * raw: ``raw`` (B, m, n) well scaled and ``s`` (B,) float64.

    ``ln_fro`` = s + ln ||raw||_F (the natural-log Frobenius norm of the Jacobian) and ``inv`` =
    1 / ||raw||_F are computed once, when the Jacobian is made. An exactly zero Jacobian has
    raw = 0, inv = 0 and ln_fro = -inf.
    """

    raw: torch.Tensor
    s: torch.Tensor
    ln_fro: torch.Tensor
    inv: torch.Tensor

    @classmethod
    def of(cls, raw: torch.Tensor, s: torch.Tensor) -> _Jac:
        n = torch.linalg.vector_norm(raw, dim=(-2, -1))  # (B,)
        if raw.dtype != torch.float64 and bool((n < _TINY).any()):
            # Rare: a float32 product far below 1 (tiny derivatives or weights). Its norm is
            # recomputed in float64 and the matrix rescaled now, so that the next step's
            # division by the norm can neither lose digits nor overflow.
            idx = (n < _TINY).nonzero().squeeze(1)
            exact = torch.linalg.vector_norm(raw[idx], dim=(-2, -1), dtype=torch.float64)
            idx, exact = idx[exact > 0], exact[exact > 0]  # exact zeros stay zero
            raw[idx] = (raw[idx].double() / exact[:, None, None]).to(raw.dtype)
            s = s.clone()
            s[idx] = s[idx] + torch.log(exact)
            n = torch.linalg.vector_norm(raw, dim=(-2, -1))
        inv = n.reciprocal().nan_to_num(posinf=0.0)  # (B,), 0 for an exact zero
        return cls(raw, s, s + torch.log(n.to(torch.float64)), inv)

    def times_diag(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw / ||raw||) D and its log-scale: J D = exp(ln_fro) * p with p of unit scale.

        Dividing by the norm here, inside the product with D that is needed anyway, replaces
        a separate normalisation pass over the matrix.
        """
        return self.raw * (d * self.inv[:, None])[:, None, :], self.ln_fro  # (B, m, H)


def _backward_norms(
    inp: RNNInputs, norms: tuple[str, ...], sources: tuple[str, ...]
) -> JacobianLogNorms:
    states = layer_states(inp)  # L x (T, B, H)
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    dtype, device = inp.x.dtype, inp.x.device
    derivs = [activation_derivative(s, inp.nonlinearity) for s in states]  # L x (T, B, H)
    want_state, want_input = "state" in sources, "input" in sources
    state_streams = [_Stream(B, T + 1, norms, device) for _ in range(L)] if want_state else []
    input_stream = _Stream(B, T, norms, device) if want_input else None
    # Stacked [W_hh^l; W_ih^{l+1}] so that both terms of the recurrence are one product.
    stacked = [
        torch.cat([inp.weights_hh[l], inp.weights_ih[l + 1]], dim=0) for l in range(L - 1)
    ]  # (2H, H)

    def product(p: torch.Tensor, w: torch.Tensor, stream: _Stream | None) -> torch.Tensor:
        out = None if stream is None else stream.slot((*p.shape[:-1], w.shape[1]), p)
        return torch.matmul(p, w, out=out)

    jac: list[_Jac] = [None] * L  # type: ignore[list-item]  # G^l_t for the current t
    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        for l in range(L - 1, -1, -1):
            stream = state_streams[l] if want_state else None
            if t == T - 1 and l == L - 1:  # G^{L-1}_{T-1} = I
                eye = torch.eye(H, dtype=dtype, device=device).expand(B, H, H)
                zero = torch.zeros(B, dtype=torch.float64, device=device)
                slot = None if stream is None else stream.slot(eye.shape, eye)
                raw = eye if slot is None else slot.copy_(eye)
                new = _Jac.of(raw, zero)
            elif t == T - 1:  # only the vertical term: G^{l+1}_t D^{l+1}_t W_ih^{l+1}
                p, s = jac[l + 1].times_diag(derivs[l + 1][t])
                new = _Jac.of(product(p, inp.weights_ih[l + 1], stream), s)
            elif l == L - 1:  # only the in-layer term: G^l_{t+1} D^l_{t+1} W_hh^l
                p, s = jac[l].times_diag(derivs[l][t + 1])
                new = _Jac.of(product(p, inp.weights_hh[l], stream), s)
            else:
                pa, sa = jac[l].times_diag(derivs[l][t + 1])
                pb, sb = jac[l + 1].times_diag(derivs[l + 1][t])
                new = _two_terms(pa, sa, pb, sb, stacked[l], stream)
            jac[l] = new
            if stream is not None:
                stream.record(lag, new.raw, new.s, new.ln_fro)
        if input_stream is not None:  # dh/dx_t = G^0_t D^0_t W_ih^0, (B, H, I)
            p, s = jac[0].times_diag(derivs[0][t])
            jx = _Jac.of(product(p, inp.weights_ih[0], input_stream), s)
            input_stream.record(lag, jx.raw, jx.s, jx.ln_fro)
    if want_state:  # lag T: the initial state h0[l] feeds h^l_0 through W_hh^l only
        for l in range(L):
            p, s = jac[l].times_diag(derivs[l][0])
            j0 = _Jac.of(product(p, inp.weights_hh[l], state_streams[l]), s)
            state_streams[l].record(T, j0.raw, j0.s, j0.ln_fro)

    state = [st.finish() for st in state_streams]
    inputs = input_stream.finish() if input_stream is not None else (None, None)

    def stack(i: int) -> torch.Tensor | None:
        if not state or state[0][i] is None:
            return None
        return torch.stack([norm[i] for norm in state], dim=1)  # (B, L, T+1)

    return JacobianLogNorms(
        state_fro=stack(0),
        state_spec=stack(1),
        input_fro=inputs[0],
        input_spec=inputs[1],
        batched=inp.batched,
    )


def _two_terms(
    pa: torch.Tensor,
    sa: torch.Tensor,
    pb: torch.Tensor,
    sb: torch.Tensor,
    stacked: torch.Tensor,
    stream: _Stream | None = None,
) -> _Jac:
    """exp(sa) pa @ W_hh + exp(sb) pb @ W_ih as one product with [W_hh; W_ih].

    Each operand is weighted by its true magnitude exp(s) ||p||_F relative to the larger one,
    so the sum is exact up to rounding and neither term can underflow the other away unless it
    is below the other's rounding error.
    """
    na, nb = _fro(pa), _fro(pb)  # (B,)
    ma = sa + torch.log(na.to(torch.float64))  # ln magnitudes, -inf when a term is zero
    mb = sb + torch.log(nb.to(torch.float64))
    m = torch.maximum(ma, mb)
    finite = torch.isfinite(m)
    m_safe = torch.where(finite, m, torch.zeros_like(m))
    # Each term as (p / ||p||) * exp(ln magnitude - m): unit-norm operands weighted by factors
    # <= 1, so nothing overflows and the sum carries the common scale exp(m).
    wa = (torch.exp(ma - m_safe) / torch.where(na > 0, na, 1).to(torch.float64)).to(pa.dtype)
    wb = (torch.exp(mb - m_safe) / torch.where(nb > 0, nb, 1).to(torch.float64)).to(pb.dtype)
    both = torch.cat([pa * wa[:, None, None], pb * wb[:, None, None]], dim=-1)  # (B, H, 2H)
    out = None if stream is None else stream.slot(pa.shape, pa)
    raw = torch.matmul(both, stacked, out=out)
    return _Jac.of(raw, torch.where(finite, m_safe, torch.full_like(m_safe, -math.inf)))
