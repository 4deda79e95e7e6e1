"""Exact log-norms of the Jacobians of a stacked ``nn.RNN``, at every lag, from its weights.

With D^l_t = diag(act'(a^l_t)) and G^l_t = dh^{L-1}_{T-1} / dh^l_t (top layer, last step, with
respect to the state of layer l at time t), going backward in time and downward in layers
(Pascanu, Mikolov & Bengio 2013; docs/maths.md, section 2):

    G^{L-1}_{T-1} = I
    G^l_t = G^l_{t+1} D^l_{t+1} W_hh^l  +  G^{l+1}_t D^{l+1}_t W_ih^{l+1}    (missing terms are 0)
    dh^{L-1}_{T-1} / dx_t  = G^0_t D^0_t W_ih^0
    dh^{L-1}_{T-1} / dh0[l] = G^l_0 D^l_0 W_hh^l                               (lag T)

Each G is carried as exp(s) * raw (docs/maths.md, section 3), with raw well scaled (divided by
its own Frobenius norm inside the next step's product with D: at every step on the general path,
every few steps on the one-layer path, whose norms must stay in the trusted range of
:mod:`vanishlab.core.scaling`) and the natural log s of the scale carried apart in float64, so
nothing underflows at any horizon: a norm of 1e-3000 comes out as log10 = -3000. When two terms
meet they are weighted by their true magnitudes before they are added, so a term that is tiny
but the only non-zero one is never lost. An exactly zero Jacobian (all relu units off) has
log-norm -inf. Spectral norms come from a warm-started block power iteration
(:mod:`vanishlab.core.spectral`).

Two paths compute the same recurrence. ``_one_layer`` (one layer, the common case) does per
step one norm pass, scales G_t's columns by d_t (and by 1 / ||G_t||_F every few steps), and one
(B H x H) @ (H x H) product with the shared W_hh into a preallocated buffer, with no small
per-step operations: the log-scale is summed once at the end. It hands
the call to ``_stacked`` (any depth, norms made accurate step by step, tiny float32 norms
rescued) when a norm is zero, tiny or not finite. Cost per step and sample: one
(H x H) @ (H x H) product per layer (one (H x 2H) @ (2H x H) below the top layer of a stack);
measured ratios to the bare chain of products are in README "Speed and memory" and
``benchmarks/results/``. Memory holds the O(T L B H) forward states and O(L B H^2) working
matrices (plus, for the spectral norms, a queue per stream: 16 lags on a CPU, up to 64 lags
within 1 GiB on a GPU), never a T x H x H tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from .allocation import memory_refused
from .fingerprint import DTYPE_ATTR, WEIGHTS_ATTR, weights_fingerprint
from .forward import own_precision, states_and_derivatives
from .frame import JacobianLogNorms, norms_frame
from .gated import NORMS, SOURCE_HINTS, gated_log_norms
from .inputs import RNNInputs, check_choices, module_dtype, prepare_inputs, wrong_module
from .modules import GATED, MEASURED
from .scaling import (
    RENORM,
    TinyNorms,
    all_normal,
    checked_run,
    frobenius_norms,
    trusted_floor,
    unit_if_tiny,
)
from .steps import step_done
from .stream import Stream

__all__ = ["JacobianLogNorms", "jacobian_log_norms", "jacobian_norms"]

SOURCES = ("state", "input")


def jacobian_norms(
    rnn: torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = SOURCES,
) -> pd.DataFrame:
    """Jacobian norms of an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` at every lag, a tidy DataFrame.

    Args:
        rnn: a ``torch.nn.RNN`` (tanh or relu), ``torch.nn.LSTM`` or ``torch.nn.GRU``: any
            ``num_layers``, with or without bias, ``batch_first`` or not, float32 or float64,
            on any device. Evaluation semantics: dropout between layers is ignored, and so are
            a ``torch.autocast`` region around the call and a reduced float32 matmul precision
            (TF32): the module is measured in its own dtype, with full float32 products. An
            ``nn.LSTM`` or ``nn.GRU`` is measured by :mod:`vanishlab.core.gated` (its ``h0`` is
            ``(h0, c0)`` for an LSTM, or ``[h0, c0]`` as the module takes it too; its state rows
            are d h^{top}_{T-1} / d [h | c]; ``sources`` may add ``"state_h"`` /
            ``"state_c"``, the h and c column blocks, for an LSTM).
        x: the input sequence, as ``rnn`` takes it: ``(T, B, input_size)``, ``(B, T,
            input_size)`` where ``rnn.batch_first`` is True, or unbatched ``(T, input_size)``.
            The layout is the module's: an ``x`` in the other one cannot be told from its
            shape and is measured with time and batch swapped (an ``h0`` whose batch is the T
            read refuses it).
        h0: optional initial state ``(num_layers, B, hidden_size)`` (``(num_layers,
            hidden_size)`` unbatched); zeros when omitted, as in ``nn.RNN``.
        norms: any of ``"fro"`` (Frobenius) and ``"spec"`` (spectral, largest singular value;
            iterated to a Kato-Temple stopping rule of a relative 1e-6 of sigma^2 in float32,
            1e-13 in float64, with exact fallbacks: not a certificate, and in a network of
            decoupled blocks of units a few lags after one block overtakes another can read
            low; docs/maths.md, section 5).
        sources: any of ``"state"`` (dh_T/dh_t for every layer, and h0) and ``"input"``
            (dh_T/dx_t). ``norms`` and ``sources`` are sets: a name given twice counts once,
            and their order is not the rows' or columns' (``sources=("state", "state")`` is
            ``sources=("state",)``).

    Returns:
        One row per (sample, source, layer, lag): ``sample`` (batch index), ``source``,
        ``layer`` (0-based layer of the source state; null for ``"input"``), ``lag`` (k >= 0:
        the state h^layer_{T-1-k}, k = T being h0; or the input x_{T-1-k}), and ``log10_fro``
        and/or ``log10_spec`` (-inf for an exactly zero Jacobian). Norms are of
        d h^{top}_{T-1} / d (source), computed exactly from the weights, not by autograd.
        ``frame.attrs["vanishlab.weights_sha256"]`` is a fingerprint of the weights measured,
        which :func:`vanishlab.check_pascanu` compares with the module it is given, and
        ``frame.attrs["vanishlab.dtype"]`` the dtype measured in (``"float32"``), whose
        rounding it allows for.

    Raises:
        TypeError, ValueError: for arguments ``nn.RNN`` would reject (the message names the
            expected shape), ``bidirectional=True``, an LSTM's ``proj_size > 0``, a module that
            is not float32/float64, an ``nn.RNN`` whose ``nonlinearity`` or ``mode`` was set
            after it was built (its forward computes the activation ``mode`` says), or an
            inf/NaN in the weights, ``x`` or ``h0`` (named, with where).
        vanishlab.NonFiniteStateError: when the forward pass itself overflows (inf/NaN);
            it names the layer, time step and sample.
        vanishlab.VanishlabError: when the measurement needs more memory than the CPU's
            allocator can give (:mod:`vanishlab.core.allocation`).
    """
    result = jacobian_log_norms(rnn, x, h0, norms=norms, sources=sources)
    frame = norms_frame(result)
    frame.attrs[WEIGHTS_ATTR] = weights_fingerprint(rnn)  # check_pascanu compares it
    frame.attrs[DTYPE_ATTR] = module_dtype(rnn)  # and reads its rounding from this too
    return frame


@torch.no_grad()
def jacobian_log_norms(
    rnn: torch.nn.RNN | torch.nn.LSTM | torch.nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = SOURCES,
) -> JacobianLogNorms:
    """Like :func:`jacobian_norms`, but returns the tensors (see :class:`JacobianLogNorms`)."""
    if not isinstance(rnn, MEASURED):
        raise wrong_module(rnn, "an nn.RNN, nn.LSTM or nn.GRU", x)
    # in the module's dtype inside an autocast region too; too large for memory: one line
    with own_precision(x), memory_refused(f"measuring the {type(rnn).__name__} on this x"):
        if isinstance(rnn, GATED):  # gated cells: vanishlab.core.gated
            return JacobianLogNorms(**gated_log_norms(rnn, x, h0, norms=norms, sources=sources))
        norms, sources = (
            check_choices(norms, NORMS, "norms"),
            check_choices(sources, SOURCES, "sources", SOURCE_HINTS),
        )
        inp = prepare_inputs(rnn, x, h0)
        return _backward_norms(inp, norms, sources)


@dataclass
class _Jac:
    """A Jacobian as exp(s) * raw: ``raw`` (B, m, n) well scaled and ``s`` (B,) float64.

    ``n`` = ||raw||_F (float64), ``ln_fro`` = s + ln n (the natural-log Frobenius norm of the
    Jacobian) and ``inv`` = 1 / n (0 for an exactly zero Jacobian, whose ln_fro is -inf) are
    computed once, when the Jacobian is made.
    """

    raw: torch.Tensor
    s: torch.Tensor
    n: torch.Tensor
    ln_fro: torch.Tensor
    inv: torch.Tensor

    @classmethod
    def of(cls, raw: torch.Tensor, s: torch.Tensor, tiny_norms: TinyNorms) -> _Jac:
        # Rare: a product far below 1 (tiny derivatives or weights) is made unit now, so that
        # the next step's division by its norm can neither lose digits nor overflow.
        _, n, ln_u = unit_if_tiny([raw], tiny_norms)  # (B,) float64
        s = s if ln_u is None else s + ln_u
        inv = n.reciprocal().nan_to_num(posinf=0.0).to(raw.dtype)  # (B,), 0 for an exact zero
        return cls(raw, s, n, s + torch.log(n), inv)

    def times_diag(self, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw / ||raw||) D and its log-scale: J D = exp(ln_fro) * p with p of unit scale.

        Dividing by the norm here, inside the product with D that is needed anyway, replaces
        a separate normalisation pass over the matrix.
        """
        return self.raw * (d * self.inv[:, None])[:, None, :], self.ln_fro  # (B, m, H)

    def record(self, stream: Stream, lag: int, sigma: torch.Tensor | None = None) -> None:
        """Store this Jacobian's norms at ``lag`` (``sigma``: its raw spectral norm, if known)."""
        stream.log_scale[lag] = self.s
        stream.fro[lag] = self.n
        if sigma is None:
            stream.push(lag, self.raw)
        else:
            stream.known(lag, sigma)


def _backward_norms(
    inp: RNNInputs, norms: tuple[str, ...], sources: tuple[str, ...]
) -> JacobianLogNorms:
    derivs = states_and_derivatives(inp)[1]  # L x (T, B, H): act'(a^l_t)
    streams = None
    if inp.num_layers == 1:
        streams = _one_layer(inp, derivs[0], norms, sources)
    if streams is None:  # on a GPU without a host wait per step (scaling.checked_run)
        streams = checked_run(
            inp.x.device, lambda tiny: _stacked(inp, derivs, norms, sources, tiny)
        )
    state_streams, input_stream = streams
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


Streams = tuple[list[Stream], Stream | None]


def _one_layer(
    inp: RNNInputs, d: torch.Tensor, norms: tuple[str, ...], sources: tuple[str, ...]
) -> Streams | None:
    """The one-layer recurrence G_{t-1} = G_t (D_t W_hh), optimistic, with no small ops per step.

    Per step: one norm pass over G_t, its columns scaled by d_t (divided by ||G_t||_F every
    ``RENORM``-th step only; in place unless G_t waits in a spectral queue), and one
    (B H x H) @ (H x H) product with the shared W_hh into a preallocated buffer, the bare
    chain's own product (plus the input's (B H x H) @ (H x I) product with W_ih from the same
    scaled G_t D_t); the log-scale is the running sum of the logs of the
    norms divided by, taken once at the end. When any norm is not a normal number far from
    underflow (an exact zero, or a norm below :func:`~vanishlab.core.scaling.trusted_floor`,
    whose sum of squares lost entries) it returns None and :func:`_stacked`, which rescues
    such norms step by step, measures the call instead.
    """
    T, B, H = inp.seq_len, inp.batch, inp.hidden_size
    x, w_hh, w_ih = inp.x, inp.weights_hh[0], inp.weights_ih[0]
    n_in = w_ih.shape[1]
    want_state, want_input = "state" in sources, "input" in sources
    st = Stream(B, T + 1, norms if want_state else (), x)
    xs = Stream(B, T, norms, x) if want_input else None

    def empty(*shape: int) -> torch.Tensor:
        return torch.empty(*shape, dtype=x.dtype, device=x.device)

    n_state = empty(T + 1, B)  # ||raw_k||_F
    n_input = empty(T, B) if want_input else None
    # Views made once, so that the loop does no indexing: d_t as a row, norms as (B, 1, 1).
    d_row = d.unsqueeze(-2).unbind(0)  # T x (B, 1, H)
    n_rows, n_cols = n_state.unbind(0), n_state.view(T + 1, B, 1, 1).unbind(0)
    scale = empty(B, 1, H)  # d_t / ||G_t||_F
    spare = [empty(B, H, H) for _ in range(3)]  # two for G, one for G D when G is queued
    x_spare = empty(B, H, n_in) if want_input else None
    norm, dims = torch.linalg.vector_norm, (-2, -1)

    def buffer(stream: Stream, shape: tuple[int, ...], fallback: torch.Tensor) -> torch.Tensor:
        slot = stream.slot(shape, x)
        return fallback if slot is None else slot

    def times(a: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> None:
        # (B, H, H) @ (H, n) as one (B H, H) @ (H, n) product with the shared weight.
        torch.mm(a.view(B * H, H), w, out=out.view(B * H, w.shape[1]))

    floor = trusted_floor(x.dtype, H * H)
    floor_x = trusted_floor(x.dtype, H * n_in)

    def queue(stream: Stream, lag: int, raw: torch.Tensor, n: torch.Tensor) -> bool:
        # A matrix whose norm is not normal never reaches a spectral computation: the call is
        # handed over to the careful path instead (Stream.queue).
        return stream.queue(lag, raw, n, floor if raw.shape[-1] == H else floor_x)

    raw = spare[0]
    raw.copy_(torch.eye(H, dtype=x.dtype, device=x.device).expand(B, H, H))  # G_{T-1} = I
    norm(raw, dim=dims, out=n_rows[0])
    st.known(0, torch.ones(B, dtype=x.dtype, device=x.device))  # ||I||_2 = 1, no iteration
    spectral = st.sigma is not None or (xs is not None and xs.sigma is not None)
    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        if lag:
            norm(raw, dim=dims, out=n_rows[lag])
            if spectral and not queue(st, lag, raw, n_state):
                return None
        # Every RENORM-th step also rescales by 1 / ||G_t||_F (the others skip the division).
        renorm = lag % RENORM == 0
        factor = torch.div(d_row[t], n_cols[lag], out=scale) if renorm else d_row[t]
        # G_t D_t, in place unless G_t waits in a spectral queue.
        if raw is spare[0] or raw is spare[1]:
            scaled = raw.mul_(factor)
        else:
            scaled = torch.mul(raw, factor, out=spare[2])
        if xs is not None and n_input is not None and x_spare is not None:
            jx = buffer(xs, (B, H, n_in), x_spare)  # dh/dx_t = G_t D_t W_ih
            times(scaled, w_ih, jx)
            norm(jx, dim=dims, out=n_input[lag])
            if spectral and not queue(xs, lag, jx, n_input):
                return None
        if t > 0 or want_state:  # G_{t-1} = G_t D_t W_hh (at t = 0: dh/dh0, lag T)
            new = buffer(st, (B, H, H), spare[(lag + 1) % 2])
            times(scaled, w_hh, new)
            raw = new
        step_done(lag + 1, T)
    if want_state:
        norm(raw, dim=dims, out=n_rows[T])
        if not queue(st, T, raw, n_state):
            return None
    if not all_normal(n_state if want_state else n_state[:T], floor) or (
        n_input is not None and not all_normal(n_input, floor_x)
    ):
        return None
    ln_n = torch.log(n_state.to(torch.float64))  # (T + 1, B)
    ln_n[torch.arange(T + 1, device=x.device) % RENORM != 0] = 0.0  # not divided by
    # s_k = the sum of ln ||raw_j||_F over the lags j < k whose step divided by it.
    cum = torch.cumsum(ln_n, dim=0)
    st.log_scale[1:] = cum[:-1]
    st.fro.copy_(n_state)
    if xs is not None and n_input is not None:
        xs.log_scale.copy_(cum[:T])
        xs.fro.copy_(n_input)
    return ([st] if want_state else []), xs


def _stacked(
    inp: RNNInputs,
    derivs: list[torch.Tensor],
    norms: tuple[str, ...],
    sources: tuple[str, ...],
    tiny_norms: TinyNorms,
) -> Streams:
    """The general recurrence (any depth), with every norm made accurate step by step (or,
    with deferred ``tiny_norms``, the need for that noted: the caller then runs it again)."""
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    x = inp.x
    want_state, want_input = "state" in sources, "input" in sources
    state_streams = [Stream(B, T + 1, norms, x) for _ in range(L)] if want_state else []
    input_stream = Stream(B, T, norms, x) if want_input else None
    # Stacked [W_hh^l; W_ih^{l+1}] so that both terms of the recurrence are one product.
    stacked = [
        torch.cat([inp.weights_hh[l], inp.weights_ih[l + 1]], dim=0) for l in range(L - 1)
    ]  # (2H, H)

    def product(p: torch.Tensor, w: torch.Tensor, stream: Stream | None) -> torch.Tensor:
        out = None if stream is None else stream.slot((*p.shape[:-1], w.shape[1]), p)
        return torch.matmul(p, w, out=out)

    jac: list[_Jac] = [None] * L  # type: ignore[list-item]  # G^l_t for the current t
    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        for l in range(L - 1, -1, -1):
            stream = state_streams[l] if want_state else None
            if t == T - 1 and l == L - 1:  # G^{L-1}_{T-1} = I
                eye = torch.eye(H, dtype=x.dtype, device=x.device).expand(B, H, H)
                zero = torch.zeros(B, dtype=torch.float64, device=x.device)
                slot = None if stream is None else stream.slot(eye.shape, eye)
                new = _Jac.of(eye.clone() if slot is None else slot.copy_(eye), zero, tiny_norms)
            elif t == T - 1:  # only the vertical term: G^{l+1}_t D^{l+1}_t W_ih^{l+1}
                p, s = jac[l + 1].times_diag(derivs[l + 1][t])
                new = _Jac.of(product(p, inp.weights_ih[l + 1], stream), s, tiny_norms)
            elif l == L - 1:  # only the in-layer term: G^l_{t+1} D^l_{t+1} W_hh^l
                p, s = jac[l].times_diag(derivs[l][t + 1])
                new = _Jac.of(product(p, inp.weights_hh[l], stream), s, tiny_norms)
            else:
                pa, sa = jac[l].times_diag(derivs[l][t + 1])
                pb, sb = jac[l + 1].times_diag(derivs[l + 1][t])
                new = _two_terms(pa, sa, pb, sb, stacked[l], tiny_norms, stream)
            jac[l] = new
            if stream is not None:  # ||I||_2 = 1 at the top layer's lag 0
                top = t == T - 1 and l == L - 1
                new.record(stream, lag, torch.ones_like(new.s, dtype=x.dtype) if top else None)
        if input_stream is not None:  # dh/dx_t = G^0_t D^0_t W_ih^0, (B, H, I)
            p, s = jac[0].times_diag(derivs[0][t])
            _Jac.of(product(p, inp.weights_ih[0], input_stream), s, tiny_norms).record(
                input_stream, lag
            )
        step_done(lag + 1, T)
    if want_state:  # lag T: the initial state h0[l] feeds h^l_0 through W_hh^l only
        for l in range(L):
            p, s = jac[l].times_diag(derivs[l][0])
            j0 = _Jac.of(product(p, inp.weights_hh[l], state_streams[l]), s, tiny_norms)
            j0.record(state_streams[l], T)
    return state_streams, input_stream


def _two_terms(
    pa: torch.Tensor,
    sa: torch.Tensor,
    pb: torch.Tensor,
    sb: torch.Tensor,
    stacked: torch.Tensor,
    tiny_norms: TinyNorms,
    stream: Stream | None = None,
) -> _Jac:
    """exp(sa) pa @ W_hh + exp(sb) pb @ W_ih as one product with [W_hh; W_ih].

    Each operand is weighted by its true magnitude exp(s) ||p||_F relative to the larger one,
    so the sum is exact up to rounding and neither term can underflow the other away unless it
    is below the other's rounding error.
    """
    na, nb = frobenius_norms(pa, tiny_norms), frobenius_norms(pb, tiny_norms)  # (B,) float64
    ma, mb = sa + torch.log(na), sb + torch.log(nb)  # ln magnitudes, -inf when a term is zero
    m = torch.maximum(ma, mb)
    finite = torch.isfinite(m)
    m_safe = torch.where(finite, m, torch.zeros_like(m))
    # Each term as (p / ||p||) * exp(ln magnitude - m): unit-norm operands weighted by factors
    # <= 1, so nothing overflows and the sum carries the common scale exp(m).
    wa = (torch.exp(ma - m_safe) / torch.where(na > 0, na, 1)).to(pa.dtype)
    wb = (torch.exp(mb - m_safe) / torch.where(nb > 0, nb, 1)).to(pb.dtype)
    both = torch.cat([pa * wa[:, None, None], pb * wb[:, None, None]], dim=-1)  # (B, H, 2H)
    out = None if stream is None else stream.slot(pa.shape, pa)
    raw = torch.matmul(both, stacked, out=out)
    return _Jac.of(raw, torch.where(finite, m_safe, torch.full_like(m_safe, -math.inf)), tiny_norms)
