"""An LSTM's coefficients past the dtype's range, carried as exp(ln) rel (:mod:`.gated_forward`).

An LSTM step (PyTorch's equations, :mod:`vanishlab.core.gated_forward`) has, per unit, the
coefficients C = [g sigma'(a_i), c sigma'(a_f), i tanh'(a_g)], O = tanh(c') sigma'(a_o),
k = o tanh'(c') and the forget gate f. Each is a product of gates, states and derivatives and
leaves the dtype's range where a gate saturates (a_o below ~-87 in float32, ~-708 in float64)
or, for k, where c grows over a long horizon: read as 0, the paths through it were dropped and
a row they rule read -inf, or finite and far low. :func:`scaled_c`, :func:`scaled_o`,
:func:`scaled_k` and :func:`scaled_f` form their natural logs in float64 from the
pre-activations in the steps and samples where one is below the range (as
:class:`~vanishlab.core.gated_carried.CarriedRows`), and the backward step
(:mod:`vanishlab.core.gated`) weighs each term by its coefficient, exponent included. A GRU's
are :mod:`.gated_gru_range`'s.
"""

from __future__ import annotations

import math

import torch

from .forward import ln_sigmoid_derivative, ln_tanh_derivative
from .gated_carried import CarriedRows

__all__ = ["exact_cells", "scaled_c", "scaled_f", "scaled_k", "scaled_o"]


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
    """k = o tanh'(c) as CarriedRows, k = exp(ln_k) k_rel (see
    :class:`~vanishlab.core.gated_forward.GatedSteps`), or
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
    coef_o: torch.Tensor,
    a: torch.Tensor,
    c: torch.Tensor,
    c_prev: torch.Tensor,
    below: Below | None = None,
) -> CarriedRows | None:
    """The o gate's coefficient O = tanh(c') sigma'(a_o) (``coef``'s last block, flushed) as
    CarriedRows, O = exp(ln_O) O_rel, per unit (O_rel its sign), in the
    steps and samples where some unit's O is below the smallest normal number and c' is not 0
    in the exact step; None where there is none.

    It leaves the range with o itself (a_o below ~-87 in float32, ~-708 in float64), and then
    k = o tanh'(c'), carried apart by :func:`scaled_k`, does too: dh'/dh = (k C + O) W_hh is
    two terms of one size, and with O read as 0 and k kept, a float32 LSTM with a_o = -100 and
    c' ~ 3 read its rows finite and unflagged up to 1.1 orders of magnitude off. Where the
    module's step rounded c' to 0, f c and i g both below the range, the step's map has
    tanh(c') = c' = f c + i g, in float64 from ``a`` (T, B, 4 H) and ``c_prev``: read as 0,
    the h rows were k times the c rows (Lyapunov, i, f, o at -100: -237.5 for -201.0).
    ``below``: c' that :func:`exact_cells` formed below the dtype's range, in float64."""
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
    if below is not None:  # (c there is 0 or a subnormal: in rows, coef_o flushed)
        exact = torch.zeros(c.shape, dtype=torch.float64, device=c.device)
        has = torch.zeros(c.shape, dtype=torch.bool, device=c.device)
        exact[below[0]], has[below[0]] = below[1], True
        exact, has = exact[rows], has[rows]
        ln_t = torch.where(has, torch.log(torch.tanh(exact).abs()), ln_t)
        sign = torch.where(has, torch.sign(exact), sign)
    ln_o = ln_t + ln_sigmoid_derivative(ar[..., 3 * H :])  # (rows, H)
    # per unit, as C's (scaled_c): relative to the row's largest O, a unit's O more than the
    # dtype's range below it was flushed, while its k C terms, carried per unit, were kept (a
    # float64 LSTM(2, 2), unit 0's o gate at -800 beside an open one, the input reaching unit 0
    # alone: rows 0.74 off in log10, float32 at -100 alike)
    finite = torch.isfinite(ln_o)  # -inf: an exact 0 (c' = 0 in the exact step): rel 0, ln 0
    rel = torch.where(finite, sign, 0.0)  # O has c's sign
    ln = torch.where(finite, ln_o, 0.0)
    return CarriedRows.of(rows, coef_o.shape[0], rel.to(coef_o.dtype), ln)


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


Below = tuple[tuple[torch.Tensor, ...], torch.Tensor]  # (indices into (T, B, H), float64 c')


def exact_cells(
    c: torch.Tensor, a: torch.Tensor, c_prev: torch.Tensor, f: torch.Tensor, i: torch.Tensor
) -> tuple[torch.Tensor, Below | None]:
    """The step's own c' = f c_prev + i g where the module's (``c``, (T, B, H)) lost its digits
    by cancellation, else ``c`` itself (the same tensor: no copy unless one has); and, for
    :func:`scaled_o`, the float64 c' that the dtype rounds below its normal range (or None).

    f c and i g of one size and opposite signs cancel to a c' many orders below them (saturated
    gates round f, i and |g| to an ulp or two of 1 and the states to round numbers: f =
    sigma(33.35) = 1 - 3.288e-15 is 1 - 3.331e-15 in float64, c_prev = 1, g = -1), and c'
    keeps an error of an ulp of |f c|: the module's -3.331e-15 for the step's -3.288e-15, and
    O = tanh(c') sigma'(a_o), 1.3% off, read a row 2.9e-4 off in log10 (or none: f = 1 and c'
    = 0, O read 0). Where c' (0 included) is below sqrt(eps) of |f c| (``f``: the forget
    gates; both terms below the range are :func:`scaled_o`'s case), and a
    gate is within sqrt(eps) of 1, c' is formed again in float64 from ``a`` (T, B, 4 H) and
    ``c_prev``, each gate a pair hi + lo (a saturated one from its complement, 1 - sigma(-a)
    or s (1 - tanh|a|), which keeps its digits), with error-free sums and products (SumK,
    K = 5): to ~eps of the complements' products (sigma(-a) c, ...), which float64 rounds.
    Elsewhere c' is left as it is, bit for bit. Such a c' can lie below the dtype's range
    (float32: f = i = sigma(100.375), g = tanh(-59.625), c' = 3.2e-52), and the cast reads it 0
    or a subnormal of a few bits (1.6e-43: 7): O, ~c' there, read 0 or 0.4% off, rows 0.17
    and 5e-4 off; those entries are handed back in float64, and scaled_o reads them.

    Where the dtype's sigmoid flushed a gate (``i``, ``f``) to 0 whose value, e^a, is not (a
    below ~-709.8 in float64, ~-88.7 in float32: exp(-a) overflows), the module's c' lacks
    that gate's term, which a c' near the bottom of the range still reads: c' is formed again
    in float64 there too (:func:`_flushed_terms`)."""
    fixes = [_cancelled(c, a, c_prev, f), _flushed_terms(c, a, c_prev, f, i)]
    fixes = [fix for fix in fixes if fix is not None]
    if not fixes:
        return c, None
    out, deep_at, deep_values = c.clone(), [], []
    for where, value in fixes:
        # (Dekker's split overflows past |c_prev| ~ 1.3e300: c' kept there)
        value = torch.where(value.isfinite(), value, c[where].double())
        out[where] = value.to(c.dtype)
        deep = (value.abs() < torch.finfo(c.dtype).tiny) & (value != 0)
        deep_at.append(tuple(w[deep] for w in where))
        deep_values.append(value[deep])
    if not any(bool(v.numel()) for v in deep_values):
        return out, None
    return out, (tuple(torch.cat(w) for w in zip(*deep_at, strict=True)), torch.cat(deep_values))


def _flushed_terms(
    c: torch.Tensor, a: torch.Tensor, c_prev: torch.Tensor, f: torch.Tensor, i: torch.Tensor
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor] | None:
    """(where, float64 c') of the c' = f c_prev + i g whose i or f the dtype's sigmoid flushed
    to 0 (its exp(-a) overflows; the gate is e^a, a subnormal or less) beside a partner not 0 (g,
    c_prev), with c' itself not 0 (both terms below the range: scaled_o's case); None where no
    gate is 0 (one reduction of i and f each). The term lost is below the smallest normal
    number times |partner|, and a c' near the range's bottom reads it: a float64 LSTM stack
    (fuzz of docs/maths.md section 7) with c_prev = 8.2e-306, a_i = -710.7, g ~ -1, lost i g =
    -2.0e-309, 2.4e-4 of c', and O = tanh(c') sigma'(a_o) read an input row 1.19e-4 off in
    log10. Each term is formed in float64 (a gate float64 flushes, float64's own case, as
    exp(ln sigma(a) + ln |partner|))."""
    if bool(torch.minimum(i.amin(), f.amin()) > 0):
        return None
    H = c.shape[-1]
    a_i, a_f, a_g = a[..., :H], a[..., H : 2 * H], a[..., 2 * H : 3 * H]
    lost = ((i == 0) & (a_g != 0)) | ((f == 0) & (c_prev != 0))
    where = (lost & (c != 0)).nonzero(as_tuple=True)
    if not where[0].numel():
        return None
    lsig = torch.nn.functional.logsigmoid

    def term(a_gate: torch.Tensor, partner: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(a_gate)
        deep = partner.sign() * (lsig(a_gate) + partner.abs().log()).exp()
        return torch.where(gate > 0, gate * partner, deep)

    g = torch.tanh(a_g[where].double())
    value = term(a_f[where].double(), c_prev[where].double()) + term(a_i[where].double(), g)
    return where, value


def _cancelled(
    c: torch.Tensor, a: torch.Tensor, c_prev: torch.Tensor, f: torch.Tensor
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor] | None:
    """(where, float64 c') of the c' that f c and i g cancelled (:func:`exact_cells`), or
    None where there is none."""
    half = math.sqrt(torch.finfo(c.dtype).eps)
    # c' = 0 included: where f c is not 0 the terms cancelled to it (the dtype's f = sigma(20)
    # is 1 in float32, sigma(40) in float64): O read 0 and the rows 1.59 off in log10; where
    # both terms are below the range, f c is 0 too and scaled_o forms c' in log space
    lost = c.abs() < (f * c_prev).abs_().mul_(half)
    if not bool(lost.any()):
        return None
    H, where = c.shape[-1], lost.nonzero(as_tuple=True)
    ar = a[where[:2]].double()
    a_i, a_f, a_g = (ar.gather(1, (g * H + where[2])[:, None])[:, 0] for g in range(3))
    # a gate within sqrt(eps) of 1 (sigma(-a), 1 - tanh|a| below it): there the dtype's gate
    # lost the digits the pair keeps; elsewhere (an ordinary cancellation, 7 entries a call
    # in a float32 LSTM(32, 64, 2), T = 200, B = 4) the pre-activations' own rounding is of
    # the same size, and the module's c' is left as it is
    edge = -math.log(half)
    near = (a_i > edge) | (a_f > edge) | (a_g.abs() > (edge + math.log(2)) / 2)
    if not bool(near.any()):
        return None
    where = tuple(w[near] for w in where)
    a_i, a_f, a_g, cp = a_i[near], a_f[near], a_g[near], c_prev[where].double()
    (fh, fl), (ih, il), (gh, gl) = _sigmoid_pair(a_f), _sigmoid_pair(a_i), _tanh_pair(a_g)
    terms = [*_two_prod(fh, cp), fl * cp, *_two_prod(ih, gh), il * gh, ih * gl]
    # Ogita, Rump and Oishi's SumK (K = 5): TwoSum's errors summed in plain float64 lost a c'
    # below ~eps^2 of |f c| (float64, f = i = sigma(40.375), g = tanh(-39.625): c' = 7.6e-35
    # read 0, O 0, the rows 0.17 off); each pass moves the sum, error-free, into the last term
    for _ in range(4):
        for j in range(1, len(terms)):
            terms[j], terms[j - 1] = _two_sum(terms[j - 1], terms[j])
    return where, sum(terms[:-1], torch.zeros_like(cp)) + terms[-1]


def _two_sum(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """s, e with s + e = a + b exactly (Knuth's TwoSum)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """p, e with p + e = a b exactly (Dekker's product, float64, |a|, |b| < ~1.3e300: past it
    the split's 134217729 v overflows)."""
    p = a * b
    split = lambda v: v * 134217729.0 - (v * 134217729.0 - v)  # noqa: E731  (hi of v)
    ah, bh = split(a), split(b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _sigmoid_pair(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma(a) as hi + lo: e / (1 + e) below 0, 1 - sigma(-a) (exact as a pair) from 0 on."""
    q = torch.sigmoid(-a.abs())
    hi, lo = _two_sum(torch.ones_like(q), -q)
    up = a >= 0
    return torch.where(up, hi, q), torch.where(up, lo, 0.0)


def _tanh_pair(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """tanh(a) as hi + lo: s (1 - m) with m = 1 - tanh|a| = 2 e / (1 + e), e = exp(-2|a|)
    (exact as a pair) from |a| = 0.5 on, tanh(a) itself below."""
    e = torch.exp(-2 * a.abs())
    hi, lo = _two_sum(torch.ones_like(e), -2 * e / (1 + e))
    s, far = torch.sign(a), a.abs() >= 0.5
    return torch.where(far, s * hi, torch.tanh(a)), torch.where(far, s * lo, 0.0)
