"""Checking a call on an ``nn.LSTM`` / ``nn.GRU``, and its forward pass with per-step derivatives.

PyTorch's equations (its documentation; gate order i, f, g, o and r, z, n), layer l, time t,
input from below x = h^{l-1}_t (x_t for l = 0), carried state of the step before h, c:

    LSTM:  a = W_ih x + b_ih + W_hh h + b_hh = [a_i; a_f; a_g; a_o]
           i, f, o = sigma(a_i), sigma(a_f), sigma(a_o),   g = tanh(a_g)
           c' = f * c + i * g,    h' = o * tanh(c')
    GRU:   [a_r; a_z] = W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z},   u = W_hn h + b_hn
           r, z = sigma(a_r), sigma(a_z),   a_n = W_in x + b_in + r * u,   n = tanh(a_n)
           h' = (1 - z) * n + z * h

The derivatives are taken from the pre-activations, not from the gate values, so that they
keep their relative accuracy in saturation (in float32, 1 - tanh(a)^2 is exactly 0 from
|a| ~ 9 on and 1 - sigma(a) loses digits from a ~ 5): with e = exp(-|a|),

    sigma'(a) = sigma(a) sigma(-a) = e / (1 + e)^2,      tanh'(a) = 4 e^2 / (1 + e^2)^2,

and the GRU's h - n likewise, as (h - s) + s (1 - tanh|a_n|) with s = sign(a_n) (h - n rounds
to 0 in saturation when formed from n).

:func:`gated_steps` returns, per layer, the coefficient vectors the backward recurrence of
:mod:`vanishlab.core.gated` multiplies by (see its docstring for where they come from):

    LSTM:  coef = [g sigma'(a_i), c sigma'(a_f), i tanh'(a_g), tanh(c') sigma'(a_o)]   (4H)
           k = o tanh'(c'),   carry = f                                               (H, H)
    GRU:   coef = [q_r, q_z, q_n] = [(1 - z) tanh'(a_n) u sigma'(a_r),
                                     (h - n) sigma'(a_z), (1 - z) tanh'(a_n)]          (3H)
           coef_hn = r q_n (the n block seen from h),   carry = z                     (H, H)

Dropout is not applied (evaluation semantics), as for ``nn.RNN``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .cells import gate_count
from .forward import (
    check_finite_states,
    flush_digitless,
    ln_sigmoid_derivative,
    ln_tanh_derivative,
    recurrence_kernel,
    tanh_derivative,
)
from .gated_carried import CarriedRows
from .gated_gru_range import minus_tanh, scaled_gru
from .inputs import (
    Shapes,
    check_float_module,
    check_one_direction,
    wrong_module,
)
from .modules import GATED
from .own_forward import base_name, check_own_forward
from .tensor_checks import check_sequence, check_state
from .weight_reads import module_weight

__all__ = [
    "GatedInputs",
    "GatedSteps",
    "gated_steps",
    "prepare_gated",
    "scaled_c",
    "scaled_f",
    "scaled_k",
    "scaled_o",
]


@dataclass(frozen=True)
class GatedInputs(Shapes):
    """A validated call on an LSTM or GRU: weights and inputs in canonical layout.

    ``x`` is ``(T, B, I)``; ``h0`` and ``c0`` (LSTM only, else None) are ``(L, B, H)``;
    ``batched`` is False for an unbatched ``(T, I)`` input (then ``B == 1``). Per layer:
    ``weights_ih`` ``(G H, I or H)``, ``weights_hh`` ``(G H, H)``, ``biases_ih`` and
    ``biases_hh`` ``(G H,)`` or None, with G = 4 (LSTM) or 3 (GRU) gate blocks.
    """

    mode: str  # "LSTM" or "GRU"
    x: torch.Tensor
    h0: torch.Tensor
    c0: torch.Tensor | None
    batched: bool
    weights_ih: tuple[torch.Tensor, ...]
    weights_hh: tuple[torch.Tensor, ...]
    biases_ih: tuple[torch.Tensor | None, ...]
    biases_hh: tuple[torch.Tensor | None, ...]

    @property
    def hidden_size(self) -> int:
        return self.weights_hh[0].shape[1]

    @property
    def gates(self) -> int:
        return gate_count(self.mode)


def check_gated(module: object) -> nn.LSTM | nn.GRU:
    """Return ``module`` if it is an ``nn.LSTM`` / ``nn.GRU`` vanishlab can measure."""
    if not isinstance(module, GATED):
        raise wrong_module(module, "a torch.nn.LSTM or torch.nn.GRU")
    check_one_direction(module)
    return module


def prepare_gated(module: object, x: object, h0: object = None, *, what: str = "x") -> GatedInputs:
    """Validate ``module``, ``x`` and ``h0`` as the module's own forward would (messages call
    ``x`` ``what``, the caller's name for it).

    ``h0`` is None (zeros), a tensor ``(L, B, H)`` (``(L, H)`` unbatched) for a GRU, or the
    tuple ``(h0, c0)`` of two such tensors for an LSTM, or the list ``[h0, c0]``, which
    ``nn.LSTM.forward`` takes alike (torch 2.13 indexes its ``hx``). Raises ``TypeError`` for a
    wrong kind of object, dtype or device and ``ValueError`` for a wrong shape, naming the
    expected one.
    """
    module = check_gated(module)
    name = base_name(module)
    L, H = module.num_layers, module.hidden_size
    w0 = check_float_module(module, name, inputs=what)
    xs, batched = check_sequence(
        x,
        input_size=module.input_size,
        batch_first=module.batch_first,
        like=w0,
        name=name,
        what=what,
    )
    B = xs.shape[1]
    shape = (L, B, H) if batched else (L, H)
    read = (what, module.batch_first, len(xs))  # a state whose batch is T: x's layout swapped
    c0s = None
    if h0 is None:
        h0s = xs.new_zeros(L, B, H)
        c0s = xs.new_zeros(L, B, H) if isinstance(module, nn.LSTM) else None
    elif isinstance(module, nn.LSTM):
        if not (isinstance(h0, tuple | list) and len(h0) == 2) or _a_call(h0, shape):
            raise TypeError(
                f"for an nn.LSTM, h0 must be None or the tuple (h0, c0) (a list [h0, c0] too), "
                f"each of shape {shape}, "
                f"got {_not_a_pair(h0, shape)}"
            )
        part = "a torch.Tensor (None stands for the whole state (h0, c0), not for a part)"
        h0s = check_state(h0[0], "h0", shape, batched, w0, part, read=read)
        # (c0 not: beside an h0 of batch B, a c0 of batch T is its own mistake, not x's)
        c0s = check_state(h0[1], "c0", shape, batched, w0, part)
    else:
        h0s = check_state(h0, "h0", shape, batched, w0, read=read)
    check_own_forward(module, xs, batched, h0)

    def params(prefix: str) -> tuple[torch.Tensor | None, ...]:
        return tuple(
            module_weight(module, f"{prefix}_l{l}").detach()
            if module.bias or "weight" in prefix
            else None
            for l in range(L)
        )

    return GatedInputs(
        mode=module.mode,
        x=xs,
        h0=h0s,
        c0=c0s,
        batched=batched,
        weights_ih=params("weight_ih"),  # type: ignore[arg-type]
        weights_hh=params("weight_hh"),  # type: ignore[arg-type]
        biases_ih=params("bias_ih"),
        biases_hh=params("bias_hh"),
    )


@dataclass(frozen=True)
class GatedSteps:
    """One layer's forward pass: states and the coefficients of its per-step Jacobians.

    ``h`` (and ``c`` for an LSTM) ``(T, B, H)``; ``coef`` ``(T, B, G H)``; ``carry`` ``(T, B,
    H)`` (f or z); ``k`` (LSTM: o tanh'(c')) or ``coef_hn`` (GRU: r q_n), ``(T, B, H)``.

    ``k_scaled`` (LSTM, None unless needed): k = exp(ln_k) k_rel in the steps and samples
    where some unit's k is below the dtype's smallest normal number, those rows alone
    (:class:`~vanishlab.core.gated_carried.CarriedRows`, :func:`scaled_k`).
    ``o_scaled`` (LSTM, None unless needed): the o gate's coefficient tanh(c') sigma'(a_o)
    (``coef``'s last block) carried the same way, O = exp(ln_O) O_rel (:func:`scaled_o`).
    ``c_scaled`` (LSTM, None unless needed): the cell gates' coefficients C (``coef``'s first
    three blocks) as C = exp(ln_C) C_rel, the rows that need it alone (:func:`scaled_c`).
    ``f_scaled`` (LSTM, None unless needed): ln f, float64, in the rows where some f is below
    the range (:func:`scaled_f`). ``gru_scaled`` (GRU, None unless
    needed): [q_r, q_z, q_n, r q_n, z] as exp(ln) rel in the steps and samples where one is
    below the range alone, rows of none where a term, one times its row of W, is
    (:func:`~vanishlab.core.gated_gru_range.scaled_gru`): the steps of either are weighed.
    """

    h: torch.Tensor
    c: torch.Tensor | None
    coef: torch.Tensor
    carry: torch.Tensor
    k: torch.Tensor | None
    coef_hn: torch.Tensor | None
    k_scaled: CarriedRows | None = None
    o_scaled: CarriedRows | None = None
    c_scaled: CarriedRows | None = None
    f_scaled: CarriedRows | None = None
    gru_scaled: CarriedRows | None = None


def _dsigmoid(a: torch.Tensor) -> torch.Tensor:
    """sigmoid'(a) = e / (1 + e)^2 with e = exp(-|a|), 0 where it has lost its digits
    (:func:`~vanishlab.core.forward.flush_digitless`)."""
    e = torch.exp(-a.abs())
    return flush_digitless(e / (1 + e).square())


# The coefficients of a step are products of gates, states and derivatives, flushed as one
# derivative is (flush_digitless, by magnitude: g sigma'(a_i) and (h - n) sigma'(a_z) are
# signed). Two normal factors can round to a subnormal with a few bits left: a float32 LSTM
# whose o = sigma(-70) and tanh'(c') = 1.8e-15 (both normal) read |dh/dc0| = 10^-44.85 where
# it is 10^-45.14, finite and unflagged; such a product reads as exactly 0 (-inf), as a
# derivative past the first subnormals does.


def _params(inp: GatedInputs, l: int) -> list[torch.Tensor]:
    """Layer l's weights (and biases) in the order PyTorch's recurrent kernels take them."""
    w = [inp.weights_ih[l], inp.weights_hh[l]]
    b_ih, b_hh = inp.biases_ih[l], inp.biases_hh[l]
    return w if b_ih is None or b_hh is None else [*w, b_ih, b_hh]


def _kernel_args(inp: GatedInputs, l: int) -> tuple:
    # (params, has_biases, num_layers, dropout, train, bidirectional, batch_first): the
    # signature nn.LSTM.forward / nn.GRU.forward use.
    return _params(inp, l), inp.biases_ih[l] is not None, 1, 0.0, False, False, False


def _lstm_layer(inp: GatedInputs, l: int, below: torch.Tensor) -> GatedSteps:
    H = inp.hidden_size
    # The states through PyTorch's own LSTM kernel (no Python loop over time), then every
    # pre-activation at once from them: a_t = W_ih x_t + b + W_hh h_{t-1}.
    h0, c0 = inp.h0[l], inp.c0[l]
    with recurrence_kernel():
        hs, *_ = torch._VF.lstm(below, (h0[None], c0[None]), *_kernel_args(inp, l))
    check_finite_states(hs, l)
    h_prev = torch.cat([h0[None], hs[:-1]])
    a = below @ inp.weights_ih[l].T  # (T, B, 4H)
    if inp.biases_ih[l] is not None:
        a += inp.biases_ih[l] + inp.biases_hh[l]
    a.view(-1, 4 * H).addmm_(h_prev.view(-1, H), inp.weights_hh[l].T)
    a_i, a_f, a_g, a_o = a.split(H, dim=-1)
    i, f, o, g = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o), torch.tanh(a_g)
    # The cells: c_t = f_t c_{t-1} + i_t g_t, an elementwise scan.
    cs = torch.mul(i, g)
    c = c0
    for t in range(cs.shape[0]):
        c = cs[t].addcmul_(f[t], c)
    check_finite_states(cs, l)
    c_prev = torch.cat([c0[None], cs[:-1]])
    tanh_c = torch.tanh(cs)
    coef = torch.cat(
        [
            g * _dsigmoid(a_i),
            c_prev * _dsigmoid(a_f),
            i * tanh_derivative(a_g),
            tanh_c * _dsigmoid(a_o),
        ],
        dim=-1,
    )
    k = flush_digitless(o * tanh_derivative(cs), signed=True)
    coef = flush_digitless(coef, signed=True)
    return GatedSteps(
        h=hs,
        c=cs,
        coef=coef,
        carry=flush_digitless(f, signed=True),  # f's forward use, the scan above, is done
        k=k,
        coef_hn=None,
        k_scaled=scaled_k(k, a_o, cs),
        o_scaled=scaled_o(coef[..., 3 * H :], a, cs, c_prev),
        c_scaled=scaled_c(coef[..., : 3 * H], a, c_prev),
        f_scaled=scaled_f(f, a_f),
    )


def scaled_f(f: torch.Tensor, a_f: torch.Tensor) -> CarriedRows | None:
    """ln f = ln sigma(a_f), float64, in the rows where some forget gate f (flushed) is below
    the smallest normal number (a_f below ~-87 in float32, ~-708 in float64); None where none
    is (one reduction). Every path from c to what follows passes through f (dc'/dc = diag(f),
    dh'/dc = k f): read as 0, the rows d y / d c_t behind it read -inf where they are finite
    (a float32 LSTM at a_f = -100: 10^-48.5)."""
    need = f.amin(dim=-1) < torch.finfo(f.dtype).tiny  # (f > 0: no |f| needed)
    if not bool(need.any()):
        return None
    rows = need.nonzero(as_tuple=True)
    ln_f = torch.nn.functional.logsigmoid(a_f[rows].double())
    return CarriedRows.of(rows, f.shape[0], torch.ones_like(f[rows]), ln_f)


def scaled_c(cell: torch.Tensor, a: torch.Tensor, c_prev: torch.Tensor) -> CarriedRows | None:
    """The cell gates' coefficients C = [g sigma'(a_i), c sigma'(a_f), i tanh'(a_g)] (``cell``,
    ``coef``'s first three blocks, flushed) as CarriedRows, C = exp(ln_C) C_rel, in the
    steps and samples where an entry that is not an exact 0 (g sigma'(a_i) is where g = 0,
    c sigma'(a_f) where c = 0, i tanh'(a_g) never) was flushed to 0; None where there is none
    (found by counts alone: no (T, B, H) temporary unless there is one).

    There, per entry, ln_C = ln |C| in float64 from the pre-activations ``a`` (T, B, 4 H) and
    ``c_prev``, and C_rel = its sign (0 for an exact 0); elsewhere ln_C = 0 and C_rel = C. A
    gate's derivative leaves the range past |a| ~ 87 (float32; ~708 in float64) and a product
    of two small factors earlier: read as 0, the paths through it were dropped, and a row they
    rule read -inf, or finite and far low where the step's scale ignored it. (A subnormal that
    kept its digits, above tiny * DIGITLESS, is kept as it is, as every derivative's.)"""
    H = cell.shape[-1] // 3
    a_i, a_f, a_g = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H]
    # the exact zeros are among the zeros of C: no more zeros than they, none flushed
    exact_zeros = 2 * c_prev.numel() - int(torch.count_nonzero(a_g) + torch.count_nonzero(c_prev))
    if cell.numel() - int(torch.count_nonzero(cell)) == exact_zeros:  # (tanh(a_g) = 0 iff a_g = 0)
        return None
    zero = torch.cat([a_g == 0, c_prev == 0, torch.zeros_like(a_g, dtype=torch.bool)], dim=-1)
    rows = ((cell == 0) & ~zero).any(dim=-1).nonzero(as_tuple=True)
    ai, af, ag = (v[rows].double() for v in (a_i, a_f, a_g))
    cp = c_prev[rows].double()
    lsig = torch.nn.functional.logsigmoid
    g = torch.tanh(ag)
    ln_dtanh = ln_tanh_derivative(ag.abs())
    ln_c = torch.cat(
        [
            torch.log(g.abs()) + ln_sigmoid_derivative(ai),
            torch.log(cp.abs()) + ln_sigmoid_derivative(af),
            lsig(ai) + ln_dtanh,
        ],
        dim=-1,
    )
    rel = torch.cat([torch.sign(g), torch.sign(cp), torch.ones_like(g)], dim=-1)
    ln_c = torch.where(rel != 0, ln_c, 0.0)  # an exact 0: rel 0, ln 0
    return CarriedRows.of(rows, cell.shape[0], rel.to(cell.dtype), ln_c)


def scaled_k(k: torch.Tensor, a_o: torch.Tensor, c: torch.Tensor) -> CarriedRows | None:
    """k = o tanh'(c) as CarriedRows, k = exp(ln_k) k_rel (see :class:`GatedSteps`), or
    None where every k is a normal number.

    k is the one coefficient that a long horizon alone drives out of range: c grows with t
    (by ~1 a step where i, f and g are open) and tanh'(c) ~ 4 e^-2|c| is below float32's
    range from |c| ~ 44 (float64's from ~355), where every path from c to h passes through it.
    Read as 0 there, every row d y / d c_t dominated by such a path read -inf, or finite and
    orders of magnitude low where a weaker path remained. In a step and sample with a k below
    the smallest normal number, ln_k = ln k = ln sigma(a_o) + ln 4 - 2|c| - 2 ln(1 + e^-2|c|)
    in float64 and k_rel = 1, for each unit (not relative to the row's largest k: G's c block
    keeps its columns, d y / d c_j, apart, and a unit far below the others can come to rule
    it); elsewhere ln_k = 0 and k_rel = k."""
    need = k.amin(dim=-1) < torch.finfo(k.dtype).tiny  # (T, B): no (T, B, H) temporary
    if not bool(need.any()):
        return None
    rows = need.nonzero(as_tuple=True)
    a, cc = a_o[rows].double(), c[rows].double().abs()
    ln_k = torch.nn.functional.logsigmoid(a) + ln_tanh_derivative(cc)
    return CarriedRows.of(rows, k.shape[0], torch.ones_like(k[rows]), ln_k)


def scaled_o(
    coef_o: torch.Tensor, a: torch.Tensor, c: torch.Tensor, c_prev: torch.Tensor
) -> CarriedRows | None:
    """The o gate's coefficient O = tanh(c') sigma'(a_o) (``coef``'s last block, flushed) as
    CarriedRows, O = exp(ln_O) O_rel, ln_O the largest ln |O| over the units, in the
    steps and samples where some unit's O is below the smallest normal number and c' is not 0
    in the exact step; None where there is none.

    It leaves the range with o itself (a_o below ~-87 in float32, ~-708 in float64), and then
    k = o tanh'(c'), carried apart by :func:`scaled_k`, does too: dh'/dh = (k C + O) W_hh is
    two terms of one size, and with O read as 0 and k kept, a float32 LSTM with a_o = -100 and
    c' ~ 3 read its rows finite and unflagged up to 1.1 orders of magnitude off. Where the
    module's step rounded c' to 0, f c and i g both below the range, the step's map has
    tanh(c') = c' = f c + i g, in float64 from ``a`` (T, B, 4 H) and ``c_prev``: read as 0,
    the h rows were k times the c rows (Lyapunov, i, f, o at -100: -237.5 for -201.0)."""
    H = c.shape[-1]
    tiny = torch.finfo(coef_o.dtype).tiny
    zero = c == 0  # lost: c' rounded to 0 (an idle unit's is exact: c_prev and a_g 0)
    lost = zero & ((c_prev != 0) | (a[..., 2 * H : 3 * H] != 0)) if bool(zero.any()) else None
    live = ~zero if lost is None else ~zero | lost
    need = ((coef_o < tiny) & (coef_o > -tiny) & live).any(dim=-1)
    if not bool(need.any()):
        return None
    rows = need.nonzero(as_tuple=True)
    ar, cc = a[rows].double(), c[rows].double()
    ln_t, sign = torch.log(torch.tanh(cc).abs()), torch.sign(cc)
    if lost is not None and bool((lost := lost[rows]).any()):
        ln_c, sign_c = _ln_cell(ar, c_prev[rows].double())
        lost = lost & (ln_c < math.log(tiny))  # below the range: not a cancellation of normals
        ln_t, sign = torch.where(lost, ln_c, ln_t), torch.where(lost, sign_c, sign)
    ln_o = ln_t + ln_sigmoid_derivative(ar[..., 3 * H :])  # (rows, H)
    top = ln_o.amax(dim=-1)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # every unit 0
    rel = torch.exp(ln_o - top[:, None]) * sign  # O has c's sign
    o_rel = flush_digitless(rel.to(coef_o.dtype), signed=True)  # far below the top: 0
    return CarriedRows.of(rows, coef_o.shape[0], o_rel, top[:, None].expand_as(rel).clone())


def _ln_cell(a: torch.Tensor, c_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ln |c'|, sign(c') of c' = sigma(a_f) c_prev + sigma(a_i) tanh(a_g) at any magnitude,
    float64, from ``a`` (n, 4 H) and ``c_prev`` (n, H) (-inf, 0 where both terms are 0)."""
    H = c_prev.shape[-1]
    lsig = torch.nn.functional.logsigmoid
    g = torch.tanh(a[..., 2 * H : 3 * H])
    terms = torch.stack(
        [lsig(a[..., :H]) + torch.log(g.abs()), lsig(a[..., H : 2 * H]) + torch.log(c_prev.abs())]
    )
    top = terms.amax(dim=0)
    v = (torch.stack([torch.sign(g), torch.sign(c_prev)]) * (terms - top).exp()).sum(dim=0)
    ln = torch.where(torch.isfinite(top), top + torch.log(v.abs()), -math.inf)
    return ln, torch.sign(v).nan_to_num(0.0)


def _gru_layer(inp: GatedInputs, l: int, below: torch.Tensor) -> GatedSteps:
    H = inp.hidden_size
    # The states through PyTorch's own GRU kernel, then every gate at once from them.
    h0 = inp.h0[l]
    with recurrence_kernel():
        hs, _ = torch._VF.gru(below, h0[None], *_kernel_args(inp, l))
    check_finite_states(hs, l)
    h_prev = torch.cat([h0[None], hs[:-1]])
    gi = below @ inp.weights_ih[l].T  # (T, B, 3H): W_ih x + b_ih
    gh = h_prev @ inp.weights_hh[l].T  # W_hh h + b_hh
    if inp.biases_ih[l] is not None:
        gi += inp.biases_ih[l]
        gh += inp.biases_hh[l]
    a_rz = gi[..., : 2 * H] + gh[..., : 2 * H]
    a_r, a_z = a_rz.split(H, dim=-1)
    u = gh[..., 2 * H :]
    r = torch.sigmoid(a_r)
    a_n = torch.addcmul(gi[..., 2 * H :], r, u)
    q_n = torch.sigmoid(-a_z) * tanh_derivative(a_n)  # (1 - z) tanh'(a_n)
    coef = torch.cat(
        [q_n * u * _dsigmoid(a_r), minus_tanh(h_prev, a_n) * _dsigmoid(a_z), q_n], dim=-1
    )
    # (Flushed as an LSTM's are, though no measured number depends on it: scaled_gru carries
    # every step and sample with an entry below tiny, flushed or not, and replaces those rows)
    coef, z = flush_digitless(coef, signed=True), flush_digitless(torch.sigmoid(a_z))
    coef_hn = flush_digitless(r * q_n)
    return GatedSteps(
        h=hs,
        c=None,
        coef=coef,
        carry=z,
        k=None,
        coef_hn=coef_hn,
        gru_scaled=scaled_gru(
            coef, coef_hn, z, (a_r, a_z, a_n), u, h_prev, (inp.weights_hh[l], inp.weights_ih[l])
        ),
    )


@torch.no_grad()
def gated_steps(inp: GatedInputs) -> list[GatedSteps]:
    """The forward pass of every layer with its Jacobian coefficients (see the module doc).

    Raises :class:`~vanishlab.errors.NonFiniteStateError` naming the first layer, time step and
    sample where a state is inf or NaN.
    """
    layer = _lstm_layer if inp.mode == "LSTM" else _gru_layer
    below = inp.x
    out: list[GatedSteps] = []
    for l in range(inp.num_layers):
        steps = layer(inp, l, below)
        out.append(steps)
        below = steps.h
    return out


def _a_call(h0: tuple | list, shape: tuple[int, ...]) -> bool:
    """Whether an LSTM's ``h0`` is what its call returns, ``(output, (h_n, c_n))``: a tensor
    not of the state's ``shape``, then a pair of tensors of it (``(h0, (c0, c0))`` is not).
    A nested tensor, which has no shape to read, is none (its part's check names it)."""
    return (
        len(h0) == 2
        and isinstance(h0[1], tuple | list)
        and len(h0[1]) == 2
        and all(_shape(v) == shape for v in h0[1])
        and _shape(h0[0]) not in (None, shape)
    )


def _shape(value: object) -> tuple[int, ...] | None:
    """A dense tensor's shape; None for anything else (a nested tensor's sizes raise)."""
    if not isinstance(value, torch.Tensor) or value.is_nested:
        return None
    return tuple(value.shape)


def _not_a_pair(h0: object, shape: tuple[int, ...]) -> str:
    """What an LSTM's ``h0`` that is no pair ``(h0, c0)`` is, and the way out where one shows."""
    if isinstance(h0, tuple | list) and _a_call(h0, shape):
        return "an nn.LSTM call's (output, (h_n, c_n)): pass h0[1], the (h_n, c_n) it ends in"
    if isinstance(h0, torch.Tensor):  # an RNN's or GRU's state, given to an LSTM
        return "one tensor: an LSTM carries a cell state too; pass (h0, torch.zeros_like(h0))"
    if isinstance(h0, tuple | list):
        return f"a {type(h0).__name__} of {len(h0)}"
    return type(h0).__name__
