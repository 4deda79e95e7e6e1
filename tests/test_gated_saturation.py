"""Gated cells at saturation against an exact reference of their own (helper 462).

The reference: PyTorch's LSTM / GRU equations re-written in mpmath (120 digits), each step's
Jacobian taken by the complex step, Im f(v + i e_j eps) / eps with eps = 1e-2000 (no
subtraction, so exact to the working precision however small the derivative), at the module's
own float64 trajectory (the states its real forward computes, as the engine measures), and the
products kept in mpmath, whose exponents do not underflow. It agrees with the float64 autograd
Jacobian of the real module's one-step forward to 1e-15 in log10 where no gate saturates; where
one does, autograd's sigmoid'(a) = s (1 - s) and tanh'(a) = 1 - h^2 lose their digits as s and
h near 1 (sigmoid'(30) 4.4e-4 off in log10, 0 from a ~ 37 in float64), and the engine, which
forms them from the pre-activation, is the one that is right: an nn.GRU(3, 2) with every
weight x50 reads rows 3.8 orders of magnitude apart from autograd's, and within 1e-14 of this
reference.

The cases below are the saturated ones of helper 462's hunt (forget or update gate bias +-20,
weights x50, h0 of 1e3, T = 1, two and three layers, bias off, batch_first, unbatched); every one
agreed with the reference to <= 5e-14 in log10 (Frobenius and spectral, state, state_h,
state_c and input rows, every lag), and to 1e-10 is asked here.
"""

from __future__ import annotations

import copy
import math

import mpmath
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core.gated_forward import _dsigmoid

TOL = 1e-10  # log10, float64 (measured: <= 5e-14)
#: The reference's working precision: its forward values keep their digits to a difference of
#: 10^-(DIGITS - 17) (a GRU's h - n, which can lie any number of orders lower, formed apart:
#: _gru_out).
DIGITS = 120


def _mp(t: torch.Tensor) -> list:
    return [mpmath.mpf(float(v)) for v in t.reshape(-1).tolist()]


class _Exact:
    """The stacked cell's equations in mpmath (weights exact from float64)."""

    def __init__(self, m: nn.LSTM | nn.GRU) -> None:
        self.lstm = isinstance(m, nn.LSTM)
        self.L, self.H = m.num_layers, m.hidden_size
        self.w = 2 * self.H if self.lstm else self.H
        self.layers = []
        for l in range(self.L):
            wi, wh = (getattr(m, f"weight_{k}_l{l}").detach().double() for k in ("ih", "hh"))
            zero = torch.zeros(wi.shape[0], dtype=torch.float64)
            bi, bh = (
                getattr(m, f"bias_{k}_l{l}").detach().double() if m.bias else zero
                for k in ("ih", "hh")
            )
            self.layers.append(([_mp(r) for r in wi], [_mp(r) for r in wh], _mp(bi), _mp(bh)))

    def cell(self, l: int, s: list, inp: list) -> list:
        wi, wh, bi, bh = self.layers[l]
        H = self.H
        sig = lambda a: 1 / (1 + mpmath.exp(-a))  # noqa: E731
        ai = [
            mpmath.fsum(a * b for a, b in zip(r, inp, strict=True)) + b0
            for r, b0 in zip(wi, bi, strict=True)
        ]
        ah = [
            mpmath.fsum(a * b for a, b in zip(r, s[:H], strict=True)) + b0
            for r, b0 in zip(wh, bh, strict=True)
        ]
        if self.lstm:
            gate = [ai[j] + ah[j] for j in range(4 * H)]
            i, f, o = ([sig(gate[b * H + j]) for j in range(H)] for b in (0, 1, 3))
            g = [mpmath.tanh(gate[2 * H + j]) for j in range(H)]
            c = [f[j] * s[H + j] + i[j] * g[j] for j in range(H)]
            return [o[j] * mpmath.tanh(c[j]) for j in range(H)] + c
        r = [sig(ai[j] + ah[j]) for j in range(H)]
        z = [sig(ai[H + j] + ah[H + j]) for j in range(H)]
        # 1 - z as sigma(-a_z): formed as 1 - z, it kept no digit where z is 1 to the working
        # precision (a_z past ~138 at 60 digits), and rows through it read 2e-5 off in log10
        zc = [sig(-ai[H + j] - ah[H + j]) for j in range(H)]
        a_n = [ai[2 * H + j] + r[j] * ah[2 * H + j] for j in range(H)]
        return [_gru_out(s[j], a_n[j], z[j], zc[j]) for j in range(H)]

    def step(self, Z: list, x: list, at: list | None = None) -> list:
        """The stacked step; ``at``: the next state whose h's each layer above reads (its
        derivative, the imaginary part, kept), as the module's own forward had them."""
        out, below = [], x
        for l in range(self.L):
            s = self.cell(l, Z[l * self.w : (l + 1) * self.w], below)
            out += s
            below = s[: self.H] if at is None else _at(at[l * self.w :], s[: self.H])
        return out

    @staticmethod
    def jac(f, v: list) -> mpmath.matrix:
        """Complex-step Jacobian of f at v."""
        eps = mpmath.mpf(10) ** -2000
        cols = []
        for j in range(len(v)):
            vv = [mpmath.mpc(a) for a in v]
            vv[j] += mpmath.mpc(0, eps)
            cols.append([mpmath.im(y) / eps for y in f(vv)])
        return mpmath.matrix(cols).T


def _gru_out(h, a, z, zc):
    """h' = (1 - z) n + z h, n = tanh(a), as h - (1 - z) (h - n) where z >= 1/2 and n + z (h - n)
    below, h - n = (h - s) + s 2 / (1 + e^(2 s a)), s = sign(Re a) (h - tanh(a) where |a| <=
    1/2, whose sum would keep digits of 1, not of tanh a): the same analytic function (the
    complex step holds), without the cancellation of (1 - z) n + z h, whose imaginary part
    carries Im(z) (h - n) as Im(z) h - Im(z) n: at 120 digits it kept no digit of h - n below
    10^-120 (h = 1, |a| past ~138; a float32 GRU fuzz draw (38) at a_n = 150, h - n = 1.9e-130,
    read a row through such a unit 0.075 off in log10; 2.8e-6 at 400 digits and as here)."""
    s = 1 if mpmath.re(a) >= 0 else -1
    if abs(mpmath.re(a)) <= 0.5:
        diff = h - mpmath.tanh(a)
    else:
        diff = (h - s) + s * 2 / (1 + mpmath.exp(2 * s * a))
    return h - zc * diff if mpmath.re(z) >= 0.5 else mpmath.tanh(a) + z * diff


def _at(values: list, s: list) -> list:
    """``s`` with its real parts replaced by ``values`` (a complex step's derivative kept)."""
    return [mpmath.mpc(v, mpmath.im(e)) for v, e in zip(values[: len(s)], s, strict=True)]


def _log10_norms(M: mpmath.matrix) -> tuple[float, float]:
    entries = [M[i, j] for i in range(M.rows) for j in range(M.cols)]
    if all(e == 0 for e in entries):
        return -math.inf, -math.inf
    fro = mpmath.sqrt(mpmath.fsum(e**2 for e in entries))
    spec = max(mpmath.svd_r(M, compute_uv=False))
    return float(mpmath.log10(fro)), float(mpmath.log10(spec))


def exact_rows(m: nn.LSTM | nn.GRU, x: torch.Tensor, h0=None, digits: int = DIGITS) -> dict:
    """{(source, layer, lag): (log10_fro, log10_spec)} of sample 0, x as (T, B, I), at the
    float64 trajectory of the module's weights (a float32 module's is not its own: see
    module_rows)."""
    mpmath.mp.dps = digits
    m64 = m.double()
    ex = _Exact(m64)
    step64 = type(m)(m.input_size, ex.H, ex.L, bias=m.bias).double()
    step64.load_state_dict(m64.state_dict())
    x0 = x[:, 0].double()
    return _rows(ex, _trajectory(step64, ex, x0, h0), _mp_steps(x0), at=False)


def module_rows(
    m: nn.LSTM | nn.GRU, x: torch.Tensor, h0=None, digits: int = DIGITS, sample: int = 0
) -> dict:
    """exact_rows of ``sample`` at the module's own trajectory (``x`` the whole (T, B, I) batch
    the engine is given): the states of its forward in its dtype (module_states), and each
    step's map exact at them, each layer above reading the h the module's forward gave it
    (what the engine measures; ``m`` is not changed)."""
    mpmath.mp.dps = digits
    ex = _Exact(copy.deepcopy(m).double())
    Zs = module_states(m, x, h0, sample)
    return _rows(ex, Zs, _mp_steps(x[:, sample].double()), at=True)


def module_states(m: nn.LSTM | nn.GRU, x: torch.Tensor, h0, sample: int) -> list:
    """The module's states Z_0 .. Z_T (mpmath) of ``sample``: each layer a one-layer copy run
    over the whole sequence, as the module's forward runs it (its top layer's output is the
    module's, asserted); an LSTM's c_t, which the kernel returns only at the end, from one step
    of the kernel at the full run's h_{t-1} and c_{t-1}. Stepping a float32 module one step at
    a time, or over x[: t + 1], can round its h an ulp apart from the full run's (a GRU's in 37
    of 120 fuzz draws, an LSTM(3, 2, 3)'s at t = 0: the input gemm over T rows, not 1)."""
    lstm, L, H = isinstance(m, nn.LSTM), m.num_layers, m.hidden_size
    dtype, (T, B) = next(m.parameters()).dtype, x.shape[:2]
    if h0 is None:
        z = torch.zeros(L, B, H, dtype=dtype)
        h0 = (z, z) if lstm else z
    states, below = [], x.to(dtype)
    with torch.no_grad():
        for l in range(L):
            one = type(m)(below.shape[-1], H, 1, bias=m.bias).to(dtype)
            for name, _ in one.named_parameters():
                getattr(one, name).copy_(getattr(m, name.replace("_l0", f"_l{l}")))
            s0 = (h0[0][l : l + 1], h0[1][l : l + 1]) if lstm else h0[l : l + 1]
            out = one(below, s0)[0]
            layer = [[p[0, sample] for p in s0] if lstm else [s0[0, sample]]]
            c = s0[1] if lstm else None
            for t in range(T):
                if lstm:  # one kernel step from the full run's h_{t-1}
                    h_prev = s0[0] if t == 0 else out[t - 1 : t]
                    c = one(below[t : t + 1], (h_prev, c))[1][1]
                    layer.append([out[t, sample], c[0, sample]])
                else:
                    layer.append([out[t, sample]])
            states.append(layer)
            below = out
        assert torch.equal(below, m(x.to(dtype), h0)[0])
    return [_mp(torch.cat([p for s in states for p in s[t]]).double()) for t in range(T + 1)]


def _mp_steps(x0: torch.Tensor) -> list:
    return [_mp(x0[t].double()) for t in range(x0.shape[0])]


def _trajectory(step: nn.LSTM | nn.GRU, ex: _Exact, x0: torch.Tensor, h0) -> list:
    """The states Z_0 .. Z_T (mpmath) of sample 0, one step of ``step`` at a time."""
    dtype = x0.dtype
    if h0 is None:
        z = torch.zeros(ex.L, 1, ex.H, dtype=dtype)
        h0 = (z, z) if ex.lstm else z
    else:
        h0 = tuple(v[:, :1].to(dtype) for v in h0) if ex.lstm else h0[:, :1].to(dtype)
    T = x0.shape[0]
    with torch.no_grad():
        Zs, state = [], h0
        for t in range(T + 1):
            parts = state if ex.lstm else (state,)
            Zs.append(_mp(torch.cat([p[:, 0] for p in parts], dim=1).double()))
            if t < T:
                state = step(x0[t : t + 1, None], state)[1]
    return Zs


def _rows(ex: _Exact, Zs: list, xs: list, *, at: bool) -> dict:
    """The rows from the states Zs and inputs xs; ``at``: each layer above reads Zs' h (the
    module's), not the exact step's."""
    L, H, w, T = ex.L, ex.H, ex.w, len(xs)
    g = mpmath.zeros(H, L * w)
    for j in range(H):
        g[j, (L - 1) * w + j] = 1
    rows = {}
    for t in range(T, -1, -1):
        lag = T - t
        for l in range(L):
            if t == 0 or l == L - 1:  # h0, or the top: s^l_t alone
                P = mpmath.zeros(L * w, w)
                for j in range(w):
                    P[l * w + j, j] = 1
            else:  # the layers above at the same step read s^l_t

                def f(s, l=l, prev=Zs[t - 1], now=Zs[t]):
                    out, below = [mpmath.mpc(a) for a in now[: l * w]] + list(s), list(s[:H])
                    for j in range(l + 1, L):
                        sj = ex.cell(j, [mpmath.mpc(a) for a in prev[j * w : (j + 1) * w]], below)
                        out, below = out + sj, sj[:H] if not at else _at(now[j * w :], sj[:H])
                    return out

                P = ex.jac(f, Zs[t][l * w : (l + 1) * w])
            M = g * P
            rows[("state", l, lag)] = _log10_norms(M)
            if ex.lstm:
                rows[("state_h", l, lag)] = _log10_norms(M[:, :H])
                rows[("state_c", l, lag)] = _log10_norms(M[:, H:])
        if t == 0:
            return rows
        prev, xt, now = [mpmath.mpc(a) for a in Zs[t - 1]], xs[t - 1], Zs[t] if at else None
        xc = [mpmath.mpc(a) for a in xt]
        rows[("input", None, lag)] = _log10_norms(
            g * ex.jac(lambda v, p=prev, now=now: ex.step(p, v, now), xt)
        )
        g = g * ex.jac(lambda Z, xc=xc, now=now: ex.step(Z, xc, now), Zs[t - 1])
    return rows


def engine_rows(frame) -> dict:
    out = {}
    for r in frame[frame["sample"] == 0].itertuples(index=False):
        layer = None if pd.isna(r.layer) else int(r.layer)
        out[(r.source, layer, int(r.lag))] = (r.log10_fro, r.log10_spec)
    return out


def _gate_bias(m: nn.Module, block: int, value: float) -> None:
    H = m.hidden_size
    with torch.no_grad():
        for l in range(m.num_layers):
            getattr(m, f"bias_ih_l{l}")[block * H : (block + 1) * H] = value
            getattr(m, f"bias_hh_l{l}")[block * H : (block + 1) * H] = 0


def _gate_biases(m: nn.Module, *values: float) -> None:
    for block, value in enumerate(values):
        _gate_bias(m, block, value)


def _scale_weights(m: nn.Module, factor: float) -> None:
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("weight"):
                p.mul_(factor)


def _assert_agrees(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, pair in want.items():
        for e, w in zip(got[key], pair, strict=True):
            assert e == w if math.isinf(w) else abs(e - w) <= TOL, (key, e, w)


def _all_gates(m: nn.Module) -> None:
    _gate_biases(m, 30.0, -30.0, 12.0, 30.0)


# (id, class, input_size, hidden, layers, T, batch, make): make(module) saturates it
CASES = [
    ("lstm-forget+20-3layers", nn.LSTM, 3, 2, 3, 12, 1, lambda m: _gate_bias(m, 1, 20.0)),
    ("lstm-forget-20", nn.LSTM, 3, 2, 1, 20, 1, lambda m: _gate_bias(m, 1, -20.0)),
    ("lstm-weights-x50-2layers", nn.LSTM, 3, 2, 2, 12, 1, lambda m: _scale_weights(m, 50.0)),
    ("gru-update+20-2layers", nn.GRU, 3, 2, 2, 15, 1, lambda m: _gate_bias(m, 1, 20.0)),
    ("gru-update-20", nn.GRU, 3, 2, 1, 20, 1, lambda m: _gate_bias(m, 1, -20.0)),
    ("gru-weights-x50", nn.GRU, 3, 2, 1, 25, 1, lambda m: _scale_weights(m, 50.0)),
    ("gru-weights-x50-2layers", nn.GRU, 3, 2, 2, 12, 1, lambda m: _scale_weights(m, 50.0)),
    # i, o open and f shut at |a| = 30, g at 12: the step's Jacobian is i tanh'(a_g) W_g's
    ("lstm-all-gates-saturated", nn.LSTM, 3, 2, 1, 10, 1, _all_gates),
    ("lstm-T1-2layers", nn.LSTM, 3, 2, 2, 1, 1, lambda m: _gate_bias(m, 1, 20.0)),
    ("gru-T2-H1-nobias-x50", nn.GRU, 1, 1, 1, 2, 1, lambda m: _scale_weights(m, 50.0)),
]


@pytest.mark.parametrize(
    ("cls", "I", "H", "L", "T", "B", "make"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_saturated_rows_agree_with_the_exact_reference(cls, I, H, L, T, B, make):
    torch.manual_seed(0)
    m = cls(I, H, L).double()
    make(m)
    x = torch.randn(T, B, I, dtype=torch.float64)
    sources = ("state", "input", "state_h", "state_c") if cls is nn.LSTM else ("state", "input")
    _assert_agrees(engine_rows(vl.jacobian_norms(m, x, sources=sources)), exact_rows(m, x))


@pytest.mark.parametrize("layout", ["batch_first", "unbatched"])
@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize(("weights", "h0_scale"), [(50.0, 2.0), (1.0, 1e3)])
def test_saturated_layouts_and_a_huge_h0_agree_with_the_exact_reference(
    cls, layout, weights, h0_scale
):
    # weights x50 and h0 ~ 1e3 together reach derivatives below float64's range (-inf rows,
    # known); each alone stays within it
    torch.manual_seed(1)
    m = cls(2, 2, 2, batch_first=layout == "batch_first").double()
    _scale_weights(m, weights)
    x = torch.randn(8, 1, 2, dtype=torch.float64)
    h = torch.randn(2, 1, 2, dtype=torch.float64) * h0_scale
    h0 = (h, torch.randn(2, 1, 2, dtype=torch.float64) * h0_scale) if cls is nn.LSTM else h
    sources = ("state", "input", "state_h", "state_c") if cls is nn.LSTM else ("state", "input")
    if layout == "batch_first":
        got = vl.jacobian_norms(m, x.transpose(0, 1), h0, sources=sources)
    else:
        one = tuple(v[:, 0] for v in h0) if cls is nn.LSTM else h[:, 0]
        got = vl.jacobian_norms(m, x[:, 0], one, sources=sources)
    _assert_agrees(engine_rows(got), exact_rows(m, x, h0))


@pytest.mark.parametrize("a", [-20.0, 20.0, 30.0, 37.0, 40.0, 88.0, 700.0, 709.0])
def test_sigmoid_derivative_keeps_its_digits_where_the_gate_saturates(a):
    # autograd's s (1 - s) reads sigmoid'(20) 1.6e-8 off (relative) in float64, sigmoid'(30)
    # 1e-3 off and 0 from a ~ 37; the engine's is the 60-digit value to the last bits.
    mpmath.mp.dps = 60
    e = mpmath.exp(-abs(mpmath.mpf(a)))
    exact = float(mpmath.log10(e / (1 + e) ** 2))
    got = _dsigmoid(torch.tensor([a], dtype=torch.float64)).item()
    assert abs(math.log10(got) - exact) <= 1e-14


def _assert_near(got: dict, want: dict, tol: float) -> None:
    """Every row of ``want`` finite and within ``tol`` of ``got`` (log10, both norms)."""
    assert got.keys() == want.keys()
    for key, pair in want.items():
        for e, w in zip(got[key], pair, strict=True):
            if key[0] == "state_c" and key[2] == 0:  # d y / d c_{T-1} = 0 exactly
                assert e == w == -math.inf, key
            else:
                assert math.isfinite(w) and abs(e - w) <= tol, (key, e, w)


def _open_cells(L: int, T: int, dtype: torch.dtype) -> tuple[nn.LSTM, torch.Tensor]:
    """An LSTM whose i, f and g gates are open (biases +20): c grows by ~1 a step, and every
    path from c to h passes through k = o tanh'(c) ~ 4 e^-2|c|, below float32's range from
    |c| ~ 44 and float64's from ~355."""
    torch.manual_seed(0)
    m = nn.LSTM(3, 2, L)
    _gate_biases(m, 20.0, 20.0, 20.0)
    return m.to(dtype), torch.randn(T, 1, 3, dtype=dtype)


ALL_LSTM_SOURCES = ("state", "input", "state_h", "state_c")


@pytest.mark.parametrize("L", [1, 2])
def test_a_cell_state_path_through_a_tanh_derivative_below_float32s_range_is_kept(L):
    # The state_c rows are 10^-103.2 to 10^-103.8 from lag 1 on (one layer, T = 120). While k
    # was read as 0 below float32's range, and G's c block shared the h block's scale, they
    # read -inf to lag 75, then 10^-109.66 at lag 76 where it is 10^-103.17: 6.5 orders low,
    # finite and unflagged (from a weaker path through an early, small c). k's exponent is
    # now carried apart (gated_lstm_range.scaled_k) and the c block has a log-scale of its own:
    # within 2.6e-5 of the reference on its float64 states (float32 states differ so much).
    # Two layers: the general path from the start, and the layer below's rows through it.
    m, x = _open_cells(L, 120 if L == 1 else 50, torch.float32)
    got = engine_rows(vl.jacobian_norms(m, x, sources=ALL_LSTM_SOURCES))
    want = exact_rows(copy.deepcopy(m), x.double())
    below = math.log10(torch.finfo(torch.float32).tiny)  # every row below float32's range
    assert max(want[("state_c", L - 1, lag)][0] for lag in range(1, len(x) + 1)) < below
    _assert_near(got, want, 1e-4)


@pytest.mark.slow  # the 120-digit reference of 400 steps takes ~3 s
def test_a_cell_state_path_through_a_tanh_derivative_below_float64s_range_is_kept():
    # |c| passes ~355 at step ~355: k = o tanh'(c) below float64's range. At T = 900 the
    # state_c rows (~10^-780.7) read -inf to lag 545, then 40 orders low, before the fix;
    # here 400 steps (every row from lag 1 on dominated by such a k) within 1e-10 (measured
    # 1.8e-12 at T = 900).
    m, x = _open_cells(1, 400, torch.float64)
    got = engine_rows(vl.jacobian_norms(m, x, sources=ALL_LSTM_SOURCES))
    want = exact_rows(copy.deepcopy(m), x)
    assert max(want[("state_c", 0, lag)][0] for lag in range(1, 401)) < -300
    _assert_near(got, want, TOL)


def exact_spectrum(
    m: nn.LSTM | nn.GRU, x: torch.Tensor, h0=None, *, discard: int = 0, q0=None
) -> list[float]:
    """The QR method on the reference's step Jacobians, in mpmath (sample 0; the full
    spectrum, or ``q0``'s columns, orthonormalised in mpmath; ``discard`` as the engine's)."""
    mpmath.mp.dps = DIGITS
    m64 = m.double()
    ex = _Exact(m64)
    step64 = type(m)(m.input_size, ex.H, ex.L, bias=m.bias).double()
    step64.load_state_dict(m64.state_dict())
    L, H = ex.L, ex.H
    z = torch.zeros(L, 1, H, dtype=torch.float64)
    state = h0 if h0 is not None else ((z, z) if ex.lstm else z)
    Q = mpmath.eye(L * ex.w)
    if q0 is not None:
        Q = mpmath.qr(mpmath.matrix(q0.tolist()), mode="skinny")[0]
    total = [mpmath.mpf(0)] * Q.cols
    x0 = x[:, 0].double()
    with torch.no_grad():
        for t in range(x0.shape[0]):
            parts = state if ex.lstm else (state,)
            Z = _mp(torch.cat([p[:, 0] for p in parts], dim=1))
            xc = [mpmath.mpc(a) for a in _mp(x0[t])]
            Q, R = mpmath.qr(ex.jac(lambda v, xc=xc: ex.step(v, xc), Z) * Q, mode="skinny")
            if t >= discard:
                total = [s + mpmath.log(abs(R[i, i])) for i, s in enumerate(total)]
            state = step64(x0[t : t + 1, None], state)[1]
    return sorted((float(s / (x0.shape[0] - discard)) for s in total), reverse=True)


@pytest.mark.parametrize(
    ("cls", "make"),
    [(nn.LSTM, lambda m: _gate_bias(m, 1, 20.0)), (nn.GRU, lambda m: _gate_bias(m, 1, -20.0))],
    ids=["lstm-forget+20", "gru-update-20"],
)
def test_saturated_lyapunov_spectrum_agrees_with_the_exact_reference(cls, make):
    # Steps whose Jacobians are well conditioned (measured: <= 3e-15 apart). Where a step's
    # singular values span more than float64's 1e-16 (weights x50: 1e21 and more), the lower
    # exponents of any float64 QR are rounding, and read up to 16 apart from this reference.
    torch.manual_seed(0)
    m = cls(3, 2, 1).double()
    make(m)
    x = torch.randn(30, 1, 3, dtype=torch.float64)
    got = vl.lyapunov_spectrum(m, x)[0].tolist()
    want = exact_spectrum(m, x)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= TOL
