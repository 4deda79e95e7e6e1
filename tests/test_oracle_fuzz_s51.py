"""The engine and the Lyapunov spectrum against an oracle built on PyTorch's own kernels.

The other oracles differentiate hand-written cell equations for the state rows at intermediate
lags (tests/test_oracle_audit.py, vanishlab.core.oracle). Here every row comes from the real
recurrent kernels: the module is cut into one single-layer copy per layer (same class, same
weights, as ``getattr`` reads them), and the state row of layer l at step t is the Jacobian,
by ``torch.autograd.functional.jacobian``, of the top layer's last output with respect to a
shift of the state that copy carries after step t (s = [h | c] for an LSTM, whose h part is
also what the layer above reads at step t). The initial-state and input rows come from the
whole module; the copies must give the same initial-state rows. Norms are taken after
dividing by the largest entry, so 1e-200 and 1e+200 are read exactly in float64.

The cases are the corners a reviewer's fuzzing reaches that the random draws of the other
oracle tests rarely do together: hidden and input size 1, one or two steps, four layers,
bias off, ``batch_first``, unbatched input, a given ``(h0, c0)``, dropout in training mode,
parameters replaced by non-contiguous ones or frozen, an input that requires grad, zero
inputs without bias (exact zeros), and Jacobians of 1e-200 and 1e+200. Fuzzed over 1,060
such configurations (helper 245): the largest difference was 1.4e-12 in log10 (float64).
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import vanishlab as vl

F64 = torch.float64


def _module(kind: str, inp: int, hidden: int, layers: int, **kw) -> nn.RNNBase:
    if kind in ("tanh", "relu"):
        return nn.RNN(inp, hidden, layers, nonlinearity=kind, **kw)
    return getattr(nn, kind)(inp, hidden, layers, **kw)


def _layer_copies(mod: nn.RNNBase) -> list[nn.RNNBase]:
    """One float64 single-layer module per layer, holding that layer's weights (as ``getattr``
    computes them: a parametrized module's ``ParametrizedLSTM`` copies to a plain nn.LSTM)."""
    copies = []
    for l in range(mod.num_layers):
        inp = mod.input_size if l == 0 else mod.hidden_size
        kind = mod.nonlinearity if isinstance(mod, nn.RNN) else mod.mode
        one = _module(kind, inp, mod.hidden_size, 1, bias=mod.bias).to(F64).eval()
        with torch.no_grad():
            for name, _ in one.named_parameters():
                getattr(one, name).copy_(getattr(mod, name[:-1] + str(l)).detach())
        copies.append(one.requires_grad_(False))
    return copies


def _canonical(mod: nn.RNNBase, x: torch.Tensor, h0) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """x as (T, B, I) and the initial state parts as (L, B, H), float64."""
    xx = x.detach().to(F64)
    xx = xx.unsqueeze(1) if xx.dim() == 2 else (xx.transpose(0, 1) if mod.batch_first else xx)
    n_parts = 2 if isinstance(mod, nn.LSTM) else 1
    parts = [None] * n_parts if h0 is None else (list(h0) if n_parts == 2 else [h0])
    shape = (mod.num_layers, xx.shape[1], mod.hidden_size)
    init = [torch.zeros(shape, dtype=F64) if p is None else p.detach().to(F64) for p in parts]
    return xx.contiguous(), [(p.unsqueeze(1) if p.dim() == 2 else p).contiguous() for p in init]


def _run(one: nn.RNNBase, seq: torch.Tensor, state: list[torch.Tensor]):
    """Outputs (t, B, H) and the final carried state of a single-layer module."""
    if seq.shape[0] == 0:
        return seq.new_zeros(0, *state[0].shape), state
    st = tuple(s.unsqueeze(0) for s in state)
    out, fin = one(seq, st if len(st) == 2 else st[0])
    return out, [f.squeeze(0) for f in (fin if isinstance(fin, tuple) else (fin,))]


def _top(copies, xx, init, layer: int, step: int, shift: torch.Tensor) -> torch.Tensor:
    """h^{top}_{T-1} with ``shift`` (B, S) added to ``layer``'s carried state after ``step``
    (step -1: to its initial state)."""
    below, H = xx, init[0].shape[-1]
    for l, one in enumerate(copies):
        state = [p[l] for p in init]
        if l != layer:
            below = _run(one, below, state)[0]
            continue
        head, state = _run(one, below[: step + 1], state)
        state = [s + shift[:, j * H : (j + 1) * H] for j, s in enumerate(state)]
        if step >= 0:
            head = torch.cat([head[:-1], state[0].unsqueeze(0)])
        below = torch.cat([head, _run(one, below[step + 1 :], state)[0]])
    return below[-1]


def _own_blocks(j: torch.Tensor) -> torch.Tensor:
    """(B, H, ..., B, n) -> (B, H, ..., n): each sample's Jacobian of its own output."""
    return torch.stack([j[b, ..., b, :] for b in range(j.shape[0])])


def _log10_norms(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log10 Frobenius and spectral norms over the last two axes, at any float64 scale."""
    top = m.abs().amax(dim=(-2, -1))
    unit = m / torch.where(top > 0, top, 1.0)[..., None, None]
    fro = torch.linalg.matrix_norm(unit, "fro").log10() + top.log10()
    spec = torch.linalg.matrix_norm(unit, 2).log10() + top.log10()
    return fro.where(top > 0, -torch.inf), spec.where(top > 0, -torch.inf)


def _oracle(mod: nn.RNNBase, x: torch.Tensor, h0) -> dict[str, torch.Tensor]:
    """log10 norms shaped like vl.jacobian_log_norms' tensors (batched)."""
    whole = copy.deepcopy(mod).to(F64).eval().requires_grad_(False)
    whole.batch_first = False
    xx, init = _canonical(mod, x, h0)
    (T, B, _), L, H = xx.shape, mod.num_layers, mod.hidden_size
    S = len(init) * H

    def whole_top(xv, *parts):
        return whole(xv, tuple(parts) if len(parts) == 2 else parts[0])[0][-1]

    jacs = jacobian(whole_top, (xx, *init), vectorize=True)
    j_x = torch.stack([jacs[0][b, :, :, b] for b in range(B)])  # (B, H, T, I)
    j_0 = torch.cat([torch.stack([j[b, :, :, b] for b in range(B)]) for j in jacs[1:]], -1)
    copies, zero = _layer_copies(mod), torch.zeros(B, S, dtype=F64)
    state = torch.empty(B, L, T + 1, H, S, dtype=F64)
    for l in range(L):
        for step in range(-1, T):
            f = lambda d, l=l, step=step: _top(copies, xx, init, l, step, d)  # noqa: E731
            state[:, l, T - 1 - step] = _own_blocks(jacobian(f, zero, vectorize=True))
        torch.testing.assert_close(state[:, l, T], j_0[:, :, l], rtol=1e-12, atol=0)
    parts = {"state": state, "input": j_x.flip(2).movedim(1, 2)}
    if isinstance(mod, nn.LSTM):
        parts.update(state_h=state[..., :H], state_c=state[..., H:])
    want = {}
    for name, jac in parts.items():
        want[f"{name}_fro"], want[f"{name}_spec"] = _log10_norms(jac)
    return want


def _assert_matches(mod: nn.RNNBase, x: torch.Tensor, h0=None, atol: float = 1e-10) -> None:
    lstm = isinstance(mod, nn.LSTM)
    sources = ("state", "input", "state_h", "state_c") if lstm else ("state", "input")
    got = vl.jacobian_log_norms(mod, x, h0, sources=sources)
    for name, want in _oracle(mod, x, h0).items():
        have = getattr(got, name)
        assert have.shape == want.shape, name
        assert torch.equal(torch.isneginf(have), torch.isneginf(want)), f"{name}: -inf"
        finite = torch.isfinite(want)
        torch.testing.assert_close(have[finite], want[finite], rtol=0, atol=atol, msg=name)


# (kind, layers, hidden, input, steps, batch); each with its own options below
CORNERS = [
    ("tanh", 4, 1, 1, 1, 1, dict(bias=False)),
    ("relu", 3, 2, 1, 2, 2, dict(batch_first=True, h0=True)),
    ("LSTM", 4, 1, 1, 2, 1, dict(unbatched=True, h0=True, dropout=0.5)),
    ("LSTM", 2, 2, 2, 3, 2, dict(batch_first=True, h0=True, replaced=True)),
    ("GRU", 4, 2, 1, 1, 2, dict(bias=False, frozen=True, x_grad=True)),
    ("GRU", 2, 1, 2, 3, 1, dict(unbatched=True, batch_first=True, dropout=0.5)),
    ("relu", 2, 2, 1, 3, 2, dict(bias=False, zero_x=True)),
    ("LSTM", 2, 2, 1, 2, 1, dict(bias=False, zero_x=True)),
]


def _corner(kind, layers, hidden, inp, steps, batch, opts):
    mod = _module(
        kind,
        inp,
        hidden,
        layers,
        bias=opts.get("bias", True),
        batch_first=opts.get("batch_first", False),
        dropout=opts.get("dropout", 0.0),
    )
    mod = mod.double().train(bool(opts.get("dropout")))
    if opts.get("replaced"):  # non-contiguous parameters, set after construction
        for name, p in list(mod.named_parameters()):
            if p.dim() == 2:
                setattr(mod, name, nn.Parameter(p.detach().T.contiguous().T))
    if opts.get("frozen"):
        mod.requires_grad_(False)
    unbatched = opts.get("unbatched", False)
    shape = (steps, inp) if unbatched else (batch, steps, inp)
    if not unbatched and not opts.get("batch_first"):
        shape = (steps, batch, inp)
    x = torch.zeros(shape, dtype=F64) if opts.get("zero_x") else torch.randn(shape, dtype=F64)
    x.requires_grad_(opts.get("x_grad", False))
    h0 = None
    if opts.get("h0"):
        st = (layers, hidden) if unbatched else (layers, batch, hidden)
        h0 = torch.randn(st, dtype=F64)
        h0 = (h0, torch.randn(st, dtype=F64)) if kind == "LSTM" else h0
    return mod, x, h0


@pytest.mark.parametrize("case", CORNERS, ids=lambda c: f"{c[0]}-L{c[1]}-H{c[2]}-T{c[4]}")
def test_every_row_matches_pytorchs_own_kernels_at_the_corners(case) -> None:
    """Measured at most 1.4e-12 in log10 over 1,060 such fuzzed configurations."""
    mod, x, h0 = _corner(*case[:6], case[6])
    training = mod.training
    _assert_matches(mod, x, h0)
    assert mod.training == training


@pytest.mark.parametrize("kind", ["tanh", "relu", "LSTM", "GRU"])
@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_input_rows_of_1e_200_and_1e_plus_200_match_the_kernels(kind: str, scale: float) -> None:
    """W_ih of layer 0 scaled by 1e-200 (x ordinary), or by 1e+200 with x scaled by 1e-200
    (the same pre-activations): input rows near 1e-200 and 1e+198, read to 6e-14 in log10."""
    torch.manual_seed(1)
    mod = _module(kind, 2, 3, 2).double()
    x = torch.randn(4, 2, 2, dtype=F64)
    with torch.no_grad():
        mod.weight_ih_l0.mul_(scale)
    x = x * (1e-200 if scale > 1 else 1.0)
    x = x.abs() if kind == "relu" else x
    _assert_matches(mod, x)


def test_relu_jacobians_of_1e_plus_224_match_the_kernels() -> None:
    """Positive weights x1e25 and positive inputs: states and Jacobians grow 1e25 a step,
    to 1e+224 at lag 7 of the lower layer, inside float64's range; read to 3e-14."""
    torch.manual_seed(2)
    mod = nn.RNN(2, 3, 2, nonlinearity="relu", bias=False).double()
    with torch.no_grad():
        for p in mod.parameters():
            p.copy_(p.abs() * 1e25)
    _assert_matches(mod, torch.rand(8, 2, 2, dtype=F64))


def _step_jacobians(mod: nn.RNNBase, x: torch.Tensor) -> torch.Tensor:
    """The full carried state's one-step Jacobians, (B, T, n, n), from the kernels; state
    order (h^0, c^0, h^1, c^1, ...) as vl.lyapunov_spectrum documents it."""
    copies, (xx, init) = _layer_copies(mod), _canonical(mod, x, None)
    (T, B, _), L, H, P = xx.shape, mod.num_layers, mod.hidden_size, len(init)

    def step(xt: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        s, below, new = flat.view(L, P, H), xt.view(1, 1, -1), []
        for l, one in enumerate(copies):
            below, fin = _run(one, below, [s[l, j].view(1, H) for j in range(P)])
            new += [f.view(H) for f in fin]
        return torch.cat(new)

    out = torch.empty(B, T, L * P * H, L * P * H, dtype=F64)
    for b in range(B):
        flat = torch.cat([init[j][l, b] for l in range(L) for j in range(P)])
        for t in range(T):
            out[b, t] = jacobian(lambda v, xt=xx[t, b]: step(xt, v), flat)
            flat = step(xx[t, b], flat)
    return out


@pytest.mark.parametrize(
    ("kind", "layers", "hidden", "steps", "discard"),
    [("tanh", 4, 1, 2, 0), ("GRU", 1, 1, 1, 0), ("LSTM", 3, 1, 12, 5), ("GRU", 2, 2, 9, 8)],
)
def test_lyapunov_spectrum_matches_qr_on_the_kernels_step_jacobians(
    kind, layers, hidden, steps, discard
) -> None:
    """Full spectrum (2 L H for an LSTM) against Benettin's QR over the kernels' step
    Jacobians: one-unit layers, a single step, a single counted step. Fuzzed over 449 tanh,
    LSTM and GRU cells (1-4 layers, H <= 3, T <= 12): the top exponent agreed to 3.2e-11;
    exponents below about -3 per step of nearly singular gated steps differed by up to 4e-4,
    as two float64 QR codes do there (docs/maths.md, section 6): a 40-digit QR of the same
    step Jacobians put this test's oracle 9e-5 and vanishlab 4e-4 from it."""
    torch.manual_seed(layers * 10 + hidden)
    mod = _module(kind, 2, hidden, layers).double()
    x = torch.randn(steps, 2, 2, dtype=F64)
    got = vl.lyapunov_spectrum(mod, x, discard=discard)
    jac = _step_jacobians(mod, x)
    want = []
    for b in range(jac.shape[0]):
        q, total = torch.eye(jac.shape[-1], dtype=F64), torch.zeros(jac.shape[-1], dtype=F64)
        for t in range(steps):
            q, r = torch.linalg.qr(jac[b, t] @ q)
            total += torch.diagonal(r).abs().log() * (t >= discard)
        want.append((total / (steps - discard)).sort(descending=True).values)
    torch.testing.assert_close(got, torch.stack(want), rtol=0, atol=1e-10)


def test_a_transient_amplifying_1e9_is_exact_where_a_rerun_oracle_is_not() -> None:
    """A tanh nn.RNN whose W_hh holds a rotated Jordan-like block (0.5 I + 5 N, 22 units) and
    a rotation (2 units): inputs of 1e-3 are amplified until 211 of 960 pre-activations pass
    |a| = 5 (up to 14.4), and the rows grow to 1e+9.7. This file's oracle runs step 0 alone
    for the lag-39 row: its h_0 differs from the whole run's by 6.5e-19 (the kernel's input
    product has another shape), 2.1e-10 in the states 38 steps on, and the row reads 2.2e-10
    off in log10 (1.2e-8 in a like case of 48 units); autograd through the whole run is
    exact. Against the product of D_t W_hh, D_t = sech^2(a_t) from math.cosh on the module's
    own states, in float64, vanishlab agrees to 1.8e-15 (in a like case, with a 60-digit
    product to 1.8e-15; helper 245). A relative error of 1e-7 in tanh' (its 4 read as
    4.0000004) moves the rows by up to 1.7e-6."""
    torch.manual_seed(7)
    H, h = 24, 22
    mod = nn.RNN(H, H, 1, bias=False).double()
    with torch.no_grad():
        mod.weight_hh_l0.zero_()
        block = 0.5 * torch.eye(h, dtype=F64) + 5 * torch.diag(torch.ones(h - 1, dtype=F64), 1)
        rot = torch.linalg.qr(torch.randn(h, h, dtype=F64))[0]
        mod.weight_hh_l0[:h, :h] = rot @ block @ rot.T
        mod.weight_hh_l0[h:, h:] = 0.9 * torch.linalg.qr(torch.randn(H - h, H - h, dtype=F64))[0]
    x = torch.randn(40, 1, H, dtype=F64) * 1e-3
    with torch.no_grad():
        states = mod(x)[0][:, 0]
    w_hh = mod.weight_hh_l0.detach()
    before = torch.cat([torch.zeros(1, H, dtype=F64), states[:-1]])
    pre = x[:, 0] @ mod.weight_ih_l0.detach().T + before @ w_hh.T  # (T, H)
    sech2 = torch.tensor([[1 / math.cosh(a) ** 2 for a in row] for row in pre.tolist()], dtype=F64)
    assert pre.abs().max() > 10  # saturated: where 1 - tanh(a)^2 loses its digits
    g, want = torch.eye(H, dtype=F64), [0.5 * math.log10(H)]
    for t in range(39, -1, -1):  # lag 40 - t: G_{t-1} = G_t D_t W_hh
        g = (g * sech2[t]) @ w_hh
        want.append(torch.linalg.matrix_norm(g).log10().item())
    got = vl.jacobian_log_norms(mod, x, sources=("state",), norms=("fro",)).state_fro[0, 0]
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64), rtol=0, atol=1e-12)
