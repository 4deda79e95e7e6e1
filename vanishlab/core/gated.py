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
an LSTM, H x H for a GRU). Each step's blocks are formed first, per sample, without any
(H x G H) pre-activation gradient: sum_g diag(coef_g) W_g costs O(G H n) per sample, so

    LSTM:  J_h = ds'/dh = [(k C + O) W_hh; C W_hh]  (2H x H),   ds'/dc = [k f; f] (diagonals)
           V = ds'/dx = [(k C + O) W_ih; C W_ih]
    GRU:   J_h = ds'/dh = [q_r, q_z, r q_n] W_hh + diag(z)  (H x H),   V = [q_r, q_z, q_n] W_ih

and then, going backward in time and downward in layers,

    G^{L-1}_{T-1} = [I | 0] (LSTM), I (GRU)
    G^l_t (h columns) = G^l_{t+1} J_h^l_{t+1}  +  G^{l+1}_t V^{l+1}_t     (missing terms are 0)
    G^l_t (c columns, LSTM) = G_h^l_{t+1} k f + G_c^l_{t+1} f            (the step t + 1's k, f)
    dy / dx_t = G^0_t V^0_t,      dy / s0[l] = the in-layer term from step 0 (lag T)

The lag-0 top row of an LSTM is therefore ||[I | 0]||, the same as an RNN's ||I||. G is kept
as its h and c blocks, two contiguous (B, H, H) tensors, and an LSTM step is computed as
p = G_h diag(k) + G_c, then [p C W_hh + G_h O W_hh | p diag(f)]: per step and sample two
(H x H) @ (H x H) products per layer for an LSTM and one for a GRU (plus one with V below the
top of a stack), the arithmetic floor of the state map's own chain, the same as an RNN's for a
GRU and twice it for an LSTM. One layer (the common case) takes the fast path of
:mod:`vanishlab.core.gated_one_layer`, which hands the call back here when a norm leaves
float32's trustworthy range.

Exactness at any horizon, as in :mod:`vanishlab.core.engine`: G's h block is carried as exp(s)
raw with the natural log s of its scale in float64, and an LSTM's c block with one such scale
per column (the division of raw by its norms folded into the coefficient vectors; the one-layer
fast path keeps one scale, divides every few steps only, and hands the call here where that
cannot hold), so an LSTM's c block can lie any number of orders of magnitude below its h block,
and one of its columns d y / d c_j, which never meet (dc'/dc = diag(f)), below another that
decays later: every path from c to h
passes through k = o tanh'(c'), ~e^-2|c'|, and c grows with the horizon (by ~1 a step where i,
f and g are open). Where a k is below the dtype's range it is carried as exp(ln_k) k_rel too
(:func:`~vanishlab.core.gated_lstm_range.scaled_k`), not read as 0: a row that only such paths
reach reads its value, not -inf, and not a weaker path's value orders of magnitude low; so is
the o gate's coefficient where o itself is past the range (``scaled_o``: k leaves it with o),
the cell gates' coefficients C (``scaled_c``) and the forget gate f (``scaled_f``, as ln f),
and a GRU's q_r, q_z, q_n, r q_n and z (:func:`~vanishlab.core.gated_gru_range.scaled_gru`).
Two terms that meet are weighted by their true magnitudes first, so a tiny but only non-zero
term is never lost: each term of an LSTM step, and of a GRU step in a layer with a coefficient
carried, by its coefficient, exponent included, the column of G it meets and its row of W
(:mod:`~vanishlab.core.gated_terms`); an exactly zero Jacobian has log-norm -inf. Spectral
norms come from :class:`~vanishlab.core.spectral.SpectralNorms`.
Memory: the O(T L B G H) forward coefficients and O(L B H^2) working matrices, never a
T x H x H tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .gated_forward import GatedInputs, GatedSteps, gated_steps, prepare_gated
from .gated_gru_range import GRU_BLOCKS
from .gated_one_layer import gate_blocks, one_layer_norms
from .gated_scaled import ScaledG, over_max, unit_norm, weights_below
from .gated_terms import column_sizes, unit_rows, weigh
from .inputs import check_choices
from .log_units import LN10
from .scaling import TinyNorms, checked_run
from .spectral import SpectralNorms
from .steps import step_done

__all__ = ["GATED_SOURCES", "NORMS", "SOURCE_HINTS", "gated_log_norms"]

NORMS = ("fro", "spec")
#: ``state_h`` / ``state_c``: the h and c column blocks of an LSTM's state rows (LSTM only).
GATED_SOURCES = ("state", "input", "state_h", "state_c")
#: What an unknown ``state_h`` / ``state_c`` (a GRU's or an nn.RNN's sources) is told.
SOURCE_HINTS = dict.fromkeys(
    GATED_SOURCES[2:], "state_h and state_c are the h and c parts of an nn.LSTM's state"
)


@torch.no_grad()
def gated_log_norms(
    module: nn.LSTM | nn.GRU,
    x: torch.Tensor,
    h0: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | list[torch.Tensor] | None = None,
    *,
    norms: Sequence[str] = NORMS,
    sources: Sequence[str] = ("state", "input"),
) -> dict[str, Any]:
    """The fields of a :class:`~vanishlab.core.frame.JacobianLogNorms` for an LSTM or GRU.

    ``state_*``: ``(B, L, T + 1)`` log10 norms of dy/ds^l_{T-1-k} (s = [h | c] for an LSTM);
    ``state_h_*`` / ``state_c_*``: the same for the h and c column blocks alone (LSTM, when
    ``sources`` asks for ``"state_h"`` / ``"state_c"``); ``input_*``: ``(B, T)``. Fields not
    asked for are None. Arguments as for :func:`vanishlab.jacobian_log_norms`.
    """
    inp = prepare_gated(module, x, h0)
    allowed = GATED_SOURCES if inp.mode == "LSTM" else GATED_SOURCES[:2]
    norms = check_choices(norms, NORMS, "norms")
    return _backward(inp, norms, check_choices(sources, allowed, "sources", SOURCE_HINTS))


class _Stream:
    """Log-norms of one sequence of Jacobians, each given as exp(s) * raw (natural logs kept
    on the module's device, turned into log10 CPU tensors at the end)."""

    def __init__(self, batch: int, lags: int, norms: tuple[str, ...], device: torch.device) -> None:
        f64 = torch.float64
        self.fro = torch.empty(lags, batch, dtype=f64, device=device) if "fro" in norms else None
        self.spec = torch.empty(lags, batch, dtype=f64, device=device) if "spec" in norms else None
        self._spectral = SpectralNorms() if "spec" in norms else None
        self._log_scale: dict[int, torch.Tensor] = {}

    def record(
        self,
        lag: int,
        scaled: Callable[[], tuple[torch.Tensor, torch.Tensor]],
        ln_fro: torch.Tensor,
    ) -> None:
        """Store the norms at ``lag``; ``scaled()`` builds the matrix as ``(raw, s)``, the
        matrix exp(s) raw, called only when needed."""
        if self.fro is not None:
            self.fro[lag] = ln_fro
        if self._spectral is not None:
            raw, self._log_scale[lag] = scaled()
            self._spectral.push(lag, raw, self._store_spec)

    def _store_spec(self, lag: int, sigma: torch.Tensor) -> None:
        self.spec[lag] = self._log_scale.pop(lag) + torch.log(sigma.to(torch.float64))

    def finish(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self._spectral is not None:
            self._spectral.flush()
        return tuple(None if t is None else (t / LN10).T.cpu() for t in (self.fro, self.spec))


@dataclass
class _Step:
    """The Jacobian blocks of one layer and step, with the weights of the G they meet folded
    in, and what they need of that G.

    GRU: ``j_hh`` = ds'/dh = dh'/dh ((B, H, H), its diagonal z included) and ``j_ih`` = ds'/dx,
    divided by ||G||_F. LSTM (with C, O, k, f as in the module doc): ``p`` = G_h diag(k) + G_c,
    each column's two terms weighted by their magnitudes (k's exponent included) over the
    column's log-scale ``scale_c`` (B, H); then ``j_hh`` = C W_hh and ``o_hh`` = O W_hh ((B, H,
    H) each), ``j_ih`` = C W_ih and ``o_ih`` = O W_ih, with W's rows at norm 1 and each
    coefficient weighed by its term's bound (:mod:`~vanishlab.core.gated_terms`: C's and O's
    carried exponents, p's column or G_h's, its row's norm), so that p j_hh + G_h o_hh is G
    ds'/dh at log-scale ``scale`` and p j_ih + G_h o_ih G ds'/dx at ``scale_ih``; ``ln_f`` (B,
    H) float64, ln f (carried where f is below the range: gated_lstm_range.scaled_f): G ds'/ds =
    [exp(scale) (p j_hh + G_h o_hh) | p exp(scale_c + ln f)]. The ``*_ih`` blocks
    are None when no one needs them. For a GRU, both scales are G's ln ||G||_F, or, in a
    layer whose coefficients were carried, the largest of its terms' bounds (``_gru_step``).
    """

    j_hh: torch.Tensor
    j_ih: torch.Tensor | None
    scale: torch.Tensor
    scale_ih: torch.Tensor
    o_hh: torch.Tensor | None = None
    o_ih: torch.Tensor | None = None
    ln_f: torch.Tensor | None = None
    p: torch.Tensor | None = None
    scale_c: torch.Tensor | None = None


def _blocks(coef: torch.Tensor, w: torch.Tensor, H: int, gates: range) -> torch.Tensor:
    """sum_g diag(coef_g) W_g over ``gates`` from ``coef`` (B, G H) and ``w`` (G H, n)."""
    return gate_blocks(coef.view(coef.shape[0], -1, H, 1), w.view(-1, H, w.shape[1]), gates)


_CELL_GATES, _OUT_GATE = range(3), range(3, 4)  # LSTM: i, f, g feed c'; o feeds h' only


def _step(
    g: ScaledG, st: GatedSteps, t: int, inp: GatedInputs, l: int, want_ih: bool, rows: tuple
) -> _Step:
    H = inp.hidden_size
    dtype = g.h.dtype
    if st.k is not None:  # LSTM (``rows``: its weights' unit rows, gated_terms.unit_rows)
        assert g.c is not None and g.ln_cols is not None and g.inv_c is not None
        k, ln_h_k = st.k[t], g.ln_h[:, None]  # G_h diag(k)'s columns: at most ||G_h|| k_j
        if st.k_scaled is not None:  # k = exp(ln_k) k_rel (a k below the dtype's range)
            k, ln_k = st.k_scaled.at(t, k)
            ln_h_k = g.ln_h[:, None] + ln_k
        scale_c = torch.maximum(ln_h_k, g.ln_cols)  # (B, H): each column of p
        w_h = weights_below(ln_h_k, scale_c) * g.inv[:, None]
        w_c = weights_below(g.ln_cols, scale_c) * g.inv_c
        p = torch.addcmul(g.c * w_c.to(dtype)[:, None, :], g.h, (k * w_h).to(dtype)[:, None, :])
        # Each gate's coefficient per unit as exp(ln_scale) rel: i, f and g meet p's columns
        # (C's exponent included where carried), o meets G_h (O's likewise)
        coef = st.coef[t].view(-1, 4, H)
        rel = coef.to(torch.float64, copy=True)  # (written below: never the forward's own)
        ln_scale = torch.empty_like(rel)
        ln_scale[:, :3] = scale_c[:, None, :]
        if st.c_scaled is not None:
            c_rel, ln_c = st.c_scaled.at(t, st.coef[t][:, : 3 * H])
            rel[:, :3] = c_rel.view(-1, 3, H)
            ln_scale[:, :3] += ln_c.view(-1, 3, H)
        ln_scale[:, 3] = g.s[:, None]  # G_h O's scale (O's exponent included where carried)
        if st.o_scaled is not None:
            o_rel, ln_o = st.o_scaled.at(t, st.coef[t][:, 3 * H :])
            rel[:, 3] = o_rel
            ln_scale[:, 3] += ln_o
        w_hh, w_ih, ln_r = rows  # ln_r: (2, 4, H), W_hh's rows' and W_ih's
        ln_p = column_sizes(p)  # what each coefficient meets: p's column, or G_h's (o)
        ln_meet = torch.stack([ln_p, ln_p, ln_p, column_sizes(g.h)], dim=1)
        coefs, scales = weigh(rel, ln_scale, ln_meet, ln_r if want_ih else ln_r[:1])
        coefs = coefs.to(dtype).view(coefs.shape[0], -1, 4 * H)
        coef_hh, scale = coefs[:, 0], scales[:, 0]
        coef_ih, scale_ih = (coefs[:, 1], scales[:, 1]) if want_ih else (None, scale)
        return _Step(
            j_hh=_blocks(coef_hh, w_hh, H, _CELL_GATES),
            j_ih=_blocks(coef_ih, w_ih, H, _CELL_GATES) if coef_ih is not None else None,
            scale=scale,
            scale_ih=scale_ih,
            o_hh=_blocks(coef_hh, w_hh, H, _OUT_GATE),
            o_ih=_blocks(coef_ih, w_ih, H, _OUT_GATE) if coef_ih is not None else None,
            ln_f=_ln_f(st, t),
            p=p,
            scale_c=scale_c,
        )
    if st.gru_scaled is not None:  # a coefficient below the range: each term weighed
        return _gru_step(g, st, t, H, want_ih, rows)
    inv = g.inv.to(dtype)[:, None]
    coef = st.coef[t] * inv  # (B, G H): the division by ||G|| folded in
    coef_hh = coef.clone()
    coef_hh[:, 2 * H :] = st.coef_hn[t] * inv  # r q_n: the n block seen from h
    j_hh = _blocks(coef_hh, inp.weights_hh[l], H, range(3))
    j_hh.diagonal(dim1=-2, dim2=-1).add_(st.carry[t] * inv)  # + diag(z)
    j_ih = _blocks(coef, inp.weights_ih[l], H, range(3)) if want_ih else None
    return _Step(j_hh=j_hh, j_ih=j_ih, scale=g.ln_fro, scale_ih=g.ln_fro)


def _ln_f(st: GatedSteps, t: int) -> torch.Tensor:
    """ln f at step t, (B, H) float64: carried (ln sigma(a_f)) in the rows where some f is
    below the range (gated_lstm_range.scaled_f), ln f elsewhere."""
    if st.f_scaled is None:
        return st.carry[t].double().log()
    rel, ln = st.f_scaled.at(t, st.carry[t])
    return rel.log_().add_(ln)


_GRU_HH = [0, 1, 3, 4]  # q_r, q_z, r q_n (W_hh's rows) and z (the identity's, norm 1)


def _gru_step(g: ScaledG, st: GatedSteps, t: int, H: int, want_ih: bool, rows: tuple) -> _Step:
    """A GRU step's blocks in a layer whose coefficients were carried (gated_gru_range.
    scaled_gru), or one of whose terms, a coefficient times its row of W, was below the range
    (gated_gru_range.terms_below), each term weighed by its coefficient, exponent included, the
    column of G it meets and its row of W (gated_terms.weigh), as an LSTM's are. Only there:
    weighing every GRU step cost 18% (default call) to 43% (Frobenius) on a 2-layer GRU, H =
    128 (benchmarks/bench_gru_range.py); elsewhere the step is divided by ||G||_F."""
    w_hh, w_ih, ln_r = rows  # W's unit rows and their norms' logs, (2, 3, H)
    assert st.gru_scaled is not None
    rel, ln = st.gru_scaled.at(t, torch.cat([st.coef[t], st.coef_hn[t], st.carry[t]], dim=-1))
    rel = rel.view(-1, GRU_BLOCKS, H)
    ln_scale = ln.view(-1, GRU_BLOCKS, H) + g.s[:, None, None]
    ln_meet = column_sizes(g.h)[:, None, :]  # every term meets G's column j
    ln_r_hh = torch.cat([ln_r[0], ln_r.new_zeros(1, H)])[None]
    coefs, scale = weigh(rel[:, _GRU_HH], ln_scale[:, _GRU_HH], ln_meet, ln_r_hh)
    coefs = coefs[:, 0].to(g.h.dtype)
    j_hh = _blocks(coefs[:, :3].reshape(-1, 3 * H), w_hh, H, range(3))
    j_hh.diagonal(dim1=-2, dim2=-1).add_(coefs[:, 3])  # + diag(z)
    if not want_ih:
        return _Step(j_hh=j_hh, j_ih=None, scale=scale[:, 0], scale_ih=scale[:, 0])
    coef_ih, scale_ih = weigh(rel[:, :3], ln_scale[:, :3], ln_meet, ln_r[1:])
    j_ih = _blocks(coef_ih[:, 0].to(g.h.dtype).reshape(-1, 3 * H), w_ih, H, range(3))
    return _Step(j_hh=j_hh, j_ih=j_ih, scale=scale[:, 0], scale_ih=scale_ih[:, 0])


_Blocks = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]


def _in_layer(g: ScaledG, step: _Step) -> _Blocks:
    """G_{t-1} = G_t ds_t/ds_{t-1} as (h, its log-scale, c, its log-scale); c None (GRU)."""
    if step.p is None:
        return g.h @ step.j_hh, step.scale, None, None
    assert step.o_hh is not None and step.ln_f is not None and step.scale_c is not None
    h = torch.bmm(step.p, step.j_hh).baddbmm_(g.h, step.o_hh)
    # G_c's columns: p's, each at its scale times f_j (f's exponent joins the column's: a
    # product p f in the dtype could leave its range). p itself is the c block from here
    # on (its one use before, the vertical term, is done).
    return h, step.scale, step.p, step.scale_c + step.ln_f


def _through_input(g: ScaledG, step: _Step) -> tuple[torch.Tensor, torch.Tensor]:
    """G_t ds_t/dx_t, ``(B, H, n_in)``, and its log-scale."""
    assert step.j_ih is not None
    if step.p is None:
        return g.h @ step.j_ih, step.scale_ih
    assert step.o_ih is not None
    return torch.bmm(step.p, step.j_ih).baddbmm_(g.h, step.o_ih), step.scale_ih


def _combine(
    a: tuple[ScaledG, _Step] | None,
    b: tuple[ScaledG, _Step] | None,
    lstm: bool,
    tiny_norms: TinyNorms,
) -> _Blocks:
    """The blocks (h, its log-scale, c, its log-scale) of G^l_t from the in-layer term ``a``
    (layer l, step t + 1) and the vertical term ``b`` (layer l + 1, step t), each given as
    (its G, its step's blocks). The vertical term has no c block: it adds to h only."""
    if b is None:  # in-layer only
        assert a is not None
        return _in_layer(*a)
    hb, sb = _through_input(*b)
    if a is None:  # vertical only (t = T - 1 below the top)
        if not lstm:
            return hb, sb, None, None
        return hb, sb, torch.zeros_like(hb), sb[:, None].expand(-1, hb.shape[1])
    ha, sa, ca, sca = _in_layer(*a)
    # Each term is weighted by 1 / its norm below: a term of subnormal entries is made unit
    # first (recurrent weights of 1e-310 in float64, 1e-40 in float32, in a stack).
    na, sa = unit_norm(ha, sa, tiny_norms)
    nb, sb = unit_norm(hb, sb, tiny_norms)
    # Each term as (t / ||t||) exp(ln magnitude - m): weights <= 1, common scale exp(m), so a
    # tiny term that is the only non-zero one is kept.
    m, w = over_max(sa + torch.log(na), sb + torch.log(nb))
    n = torch.stack([na, nb])
    wa, wb = (w / torch.where(n > 0, n, 1)).to(ha.dtype)[:, :, None, None]
    return ha.mul_(wa).addcmul_(hb, wb), m, ca, sca


def _backward(inp: GatedInputs, norms: tuple[str, ...], sources: tuple[str, ...]) -> dict:
    steps = gated_steps(inp)
    if inp.num_layers == 1:  # the common case, without small ops per step
        fast = one_layer_norms(inp, steps[0], norms, sources)
        if fast is not None:
            empty = {f"{src}_{norm}": None for src in GATED_SOURCES for norm in NORMS}
            return {**empty, **fast, "batched": inp.batched}
    # On a GPU without a host wait per step (scaling.checked_run).
    return checked_run(inp.x.device, lambda tiny: _general(inp, steps, norms, sources, tiny))


def _general(
    inp: GatedInputs,
    steps: list[GatedSteps],
    norms: tuple[str, ...],
    sources: tuple[str, ...],
    tiny_norms: TinyNorms,
) -> dict:
    """The general recurrence (any depth, any norms), every tiny norm rescued step by step (or,
    with deferred ``tiny_norms``, noted: the caller then runs it again)."""
    L, T, B, H = inp.num_layers, inp.seq_len, inp.batch, inp.hidden_size
    lstm = inp.mode == "LSTM"
    dtype, device = inp.x.dtype, inp.x.device
    streams = {
        src: [_Stream(B, T + 1, norms, device) for _ in range(L)]
        for src in ("state", "state_h", "state_c")
        if src in sources
    }
    input_stream = _Stream(B, T, norms, device) if "input" in sources else None
    rows: list[tuple] = []  # the weights with unit rows, and the rows' norms (gated_terms)
    for l in range(L):
        if not lstm and steps[l].gru_scaled is None:  # (weighed where carried or a term tiny)
            rows.append(())
            continue
        (w_hh, ln_hh), (w_ih, ln_ih) = (
            unit_rows(inp.weights_hh[l], inp.gates),
            unit_rows(inp.weights_ih[l], inp.gates),
        )
        rows.append((w_hh, w_ih, torch.stack([ln_hh, ln_ih])))

    def record(l: int, lag: int, g: ScaledG) -> None:
        for src, per_layer in streams.items():
            if src == "state":
                per_layer[l].record(lag, g.whole, g.ln_fro)
            elif src == "state_h":
                per_layer[l].record(lag, lambda: (g.h, g.s), g.ln_h)
            else:
                assert g.ln_c is not None
                per_layer[l].record(lag, g.c_block, g.ln_c)

    inlayer: list[tuple[ScaledG, _Step] | None] = [None] * L  # G^l_{t+1} and its step blocks
    for t in range(T - 1, -1, -1):
        lag = T - 1 - t
        vertical: tuple[ScaledG, _Step] | None = None  # the same for layer l + 1 at step t
        for l in range(L - 1, -1, -1):
            if t == T - 1 and l == L - 1:
                h = torch.eye(H, dtype=dtype, device=device).expand(B, H, H).clone()
                c = torch.zeros_like(h) if lstm else None
                s = torch.zeros(B, dtype=torch.float64, device=device)
                s_c = torch.zeros(B, H, dtype=torch.float64, device=device) if lstm else None
            else:
                h, s, c, s_c = _combine(inlayer[l], vertical, lstm, tiny_norms)
            g = ScaledG.of(h, c, s, s_c, tiny_norms)
            record(l, lag, g)
            want_ih = l > 0 or input_stream is not None
            step = _step(g, steps[l], t, inp, l, want_ih, rows[l])
            inlayer[l] = vertical = (g, step)
        if input_stream is not None:
            assert vertical is not None
            # dy/dx_t = G^0_t ds^0_t/dx_t = [G_h | G_c] [dh'/dx; dc'/dx] for an LSTM
            jx_raw, jx_scale = _through_input(*vertical)
            jx = ScaledG.of(jx_raw, None, jx_scale, None, tiny_norms)
            input_stream.record(lag, jx.whole, jx.ln_fro)
        step_done(lag + 1, T)
    if streams:  # lag T: the initial state s0[l] feeds step 0 of layer l only
        for l in range(L):
            h, s, c, s_c = _combine(inlayer[l], None, lstm, tiny_norms)
            record(l, T, ScaledG.of(h, c, s, s_c, tiny_norms))

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
