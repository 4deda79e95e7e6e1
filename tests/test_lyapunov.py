"""Lyapunov exponents where they are known exactly, and against the measured decay rate."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

import vanishlab as vl


def linear_origin_rnn(diagonals: list[list[float]], inputs: int = 2) -> nn.RNN:
    """tanh RNN with diagonal W_hh per layer and zero biases: linear at the origin."""
    H = len(diagonals[0])
    rnn = nn.RNN(inputs, H, len(diagonals)).double()
    with torch.no_grad():
        for l, d in enumerate(diagonals):
            getattr(rnn, f"weight_hh_l{l}").copy_(torch.diag(torch.tensor(d, dtype=torch.float64)))
            getattr(rnn, f"bias_hh_l{l}").zero_()
            getattr(rnn, f"bias_ih_l{l}").zero_()
    return rnn


def test_diagonal_linear_dynamics() -> None:
    d = [0.9, -0.5, 0.2, 1.3]
    rnn = linear_origin_rnn([d])
    lyap = vl.lyapunov_spectrum(rnn, torch.zeros(50, 2, 2, dtype=torch.float64))
    want = sorted((math.log(abs(v)) for v in d), reverse=True)
    np.testing.assert_allclose(lyap.numpy(), [want, want], atol=1e-12)


def test_stacked_layers_union_of_spectra() -> None:
    """Block lower-triangular dynamics: the exponents are those of both diagonal blocks."""
    top, bottom = [0.8, 0.3, 0.6], [0.95, 0.1, 0.4]
    rnn = linear_origin_rnn([bottom, top])
    lyap = vl.lyapunov_spectrum(rnn, torch.zeros(400, 2, dtype=torch.float64), k=4, discard=100)
    want = sorted((math.log(v) for v in top + bottom), reverse=True)[:4]
    assert lyap.shape == (4,)  # unbatched input
    # The discarded steps align Q with the triangular structure; then the averages are exact.
    np.testing.assert_allclose(lyap.numpy(), want, atol=1e-12)


def test_top_exponent_is_the_decay_rate() -> None:
    """Along one trajectory the top exponent and the fitted rate of ||dh_T/dh_t|| agree."""
    torch.manual_seed(0)
    rnn = nn.RNN(8, 64).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.randn(64, 64, dtype=torch.float64) * 1.3 / 8)
    x = torch.randn(600, 1, 8, dtype=torch.float64)
    top = vl.lyapunov_spectrum(rnn, x, k=1, discard=100)[0, 0].item()
    rate = vl.fit_decay(vl.jacobian_norms(rnn, x, sources="state", norms="fro"))["rate"].item()
    # Different finite windows of the same trajectory: agreement to ~1/T, not exactly.
    assert rate == pytest.approx(top, abs=0.02)
    assert top < 0  # and a control: it is not trivially zero


def test_bad_arguments() -> None:
    rnn = nn.RNN(2, 3, 2)
    x = torch.randn(5, 1, 2)
    with pytest.raises(ValueError, match="k must be between 1 and num_layers \\* hidden_size = 6"):
        vl.lyapunov_spectrum(rnn, x, k=7)
    with pytest.raises(ValueError, match="discard must be between 0 and T - 1 = 4"):
        vl.lyapunov_spectrum(rnn, x, discard=5)


@pytest.mark.parametrize("module", [nn.RNN(2, 3), nn.LSTM(2, 3)])
@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"k": 2.5}, TypeError, "k must be an integer, got 2.5"),
        ({"k": True}, TypeError, "k must be an integer, got True"),
        ({"k": "2"}, TypeError, "k must be an integer, got '2'"),
        ({"discard": 1.0}, TypeError, "discard must be an integer, got 1.0"),
        ({"k": 1, "q0": [[1.0], [0.0], [0.0]]}, TypeError, "q0 must be a floating-point"),
        ({"k": 1, "q0": np.ones((3, 1))}, TypeError, "torch.Tensor or None, got ndarray$"),
        ({"k": 1, "q0": torch.ones(3, 1, dtype=torch.long)}, TypeError, "q0 must be a float"),
        ({"k": 1, "q0": torch.full((3, 1), math.nan)}, ValueError, "q0 holds nan"),
        # QR filled in the missing directions itself, and the default's result came back.
        ({"k": 2, "q0": torch.zeros(3, 2)}, ValueError, "k = 2 linearly independent.*rank 0"),
        ({"k": 1, "q0": torch.zeros(3, 1)}, ValueError, "k = 1 linearly independent.*rank 0"),
        ({"k": 2, "q0": torch.tensor([[1.0, 1], [0, 0], [0, 0]])}, ValueError, "rank 1"),
        ({"k": 2, "q0": torch.tensor([[1.0, 1], [1e-9, 0], [0, 0]])}, ValueError, "rank 1"),
    ],
)
def test_wrong_kinds_of_argument_are_named(module, kw, error, match) -> None:
    """They failed inside torch (eye() of a float k, '<=' between int and str, a list's
    missing .shape); numpy integers are integers."""
    x = torch.randn(5, 1, 2)
    if "q0" in kw and isinstance(module, nn.LSTM) and isinstance(kw["q0"], torch.Tensor):
        kw = {**kw, "q0": kw["q0"].repeat(2, 1)}  # an LSTM's state is 2 H wide
    with pytest.raises(error, match=match):
        vl.lyapunov_spectrum(module, x, **kw)
    assert vl.lyapunov_spectrum(module, x, k=np.int64(2), discard=np.int32(1)).shape == (1, 2)


@pytest.mark.parametrize("module", [nn.RNN(2, 3), nn.LSTM(2, 3)])
@pytest.mark.parametrize(
    ("how", "match"),
    [("meta", "q0 is on the meta device"), ("sparse", "q0 must be a dense tensor")],
)
def test_a_q0_without_dense_values_is_named(module, how, match) -> None:
    """A q0 on the meta device failed inside torch ("Tensor.item() cannot be called on meta
    tensors"), a sparse one with NotImplementedError ("aten::ne.Scalar ... SparseCPU"), where
    x and h0 of either kind get a one-line TypeError."""
    n = 6 if isinstance(module, nn.LSTM) else 3
    q0 = torch.eye(n, 2)
    q0 = q0.to("meta") if how == "meta" else q0.to_sparse()
    with pytest.raises(TypeError, match=match):
        vl.lyapunov_spectrum(module, torch.randn(5, 1, 2), k=2, q0=q0)


@pytest.mark.parametrize("module", [nn.RNN(2, 3, 2), nn.LSTM(2, 3, 2), nn.GRU(2, 3, 2)])
def test_k_is_read_from_q0_and_a_k_that_disagrees_is_named(module) -> None:
    """A q0 given alone was refused for not having all num_layers * hidden_size columns (k
    defaulted to that, whatever q0 said: "q0 must have shape (..., k) = (6, 6), got (6, 2)",
    a k the user never gave); a k given beside a q0 of another width was told only the shape
    that k implied. k is now q0's number of columns, and a k that differs says both."""
    torch.manual_seed(0)
    n = 12 if isinstance(module, nn.LSTM) else 6
    x = torch.randn(8, 2, 2)
    q0 = torch.randn(n, 2, dtype=torch.float64)
    got = vl.lyapunov_spectrum(module, x, q0=q0, discard=2)
    assert got.shape == (2, 2)
    torch.testing.assert_close(got, vl.lyapunov_spectrum(module, x, k=2, q0=q0, discard=2))
    with pytest.raises(ValueError, match=r"^k = 3 but q0 has 2 columns: one starting direction"):
        vl.lyapunov_spectrum(module, x, k=3, q0=q0)
    with pytest.raises(ValueError, match=rf"q0 must have shape .* = \({n}, k\) with 1 <= k"):
        vl.lyapunov_spectrum(module, x, q0=torch.randn(n, n + 1))
    with pytest.raises(ValueError, match=rf"= \({n}, k\) .*, got \({n},\)$"):
        vl.lyapunov_spectrum(module, x, q0=torch.randn(n))


@pytest.mark.parametrize("module", [nn.RNN(2, 3), nn.GRU(2, 3)])
def test_a_barely_independent_q0_is_taken(module) -> None:
    """The rank test is relative to q0's own precision: columns 1e-6 apart in float64 are
    independent, and QR turns them into a basis of the same plane."""
    x = torch.randn(5, 1, 2)
    q0 = torch.tensor([[1.0, 1.0], [0.0, 1e-6], [0.0, 0.0]], dtype=torch.float64)
    got = vl.lyapunov_spectrum(module, x, k=2, q0=q0)
    assert torch.allclose(got, vl.lyapunov_spectrum(module, x, k=2, q0=torch.eye(3, 2)))


def test_top_exponent_alone_equals_the_first_of_the_spectrum() -> None:
    """k = 1 takes a cheaper path (normalisation instead of QR); Gram-Schmidt's first column
    is that same normalisation, so it must equal the first exponent of a larger k."""
    torch.manual_seed(3)
    rnn = nn.RNN(4, 12, 2, nonlinearity="relu").double()
    x = torch.randn(80, 3, 4, dtype=torch.float64)
    one = vl.lyapunov_spectrum(rnn, x, k=1, discard=10)
    three = vl.lyapunov_spectrum(rnn, x, k=3, discard=10, q0=torch.eye(24, 3, dtype=torch.float64))
    torch.testing.assert_close(one[:, 0], three[:, 0], rtol=0, atol=1e-12)


def test_one_exponent_after_a_loss_in_a_discarded_step_is_finite() -> None:
    """Every unit off at step 0 annihilates every direction, but step 0 is discarded: the
    exponent is that of the counted steps' product. k = 1 normalised its direction to 0 there
    and read -inf for ever, where the full spectrum (Householder's unit fill-in) was finite."""
    rnn = nn.RNN(1, 2, nonlinearity="relu").double()
    w = torch.tensor([[0.9, 0.3], [0.2, 0.8]], dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(w)
        rnn.weight_ih_l0.fill_(1.0)
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
    x = torch.tensor([[-1.0], [1.0], [0.5], [0.7]], dtype=torch.float64)  # units on from step 1
    one = vl.lyapunov_spectrum(rnn, x, k=1, discard=1)
    full = vl.lyapunov_spectrum(rnn, x, discard=1)
    assert torch.isfinite(one).all() and torch.isfinite(full).all()
    # q is still e_1 after the lost step (k = 1 keeps its old direction): ln ||W^3 e_1|| / 3
    rate = math.log(torch.linalg.vector_norm(torch.linalg.matrix_power(w, 3)[:, 0])) / 3
    assert one[0].item() == pytest.approx(rate, abs=1e-12)
    assert one[0].item() == pytest.approx(full[0].item(), abs=1e-12)
    assert vl.lyapunov_spectrum(rnn, x, k=1).tolist() == [-math.inf]  # counted: annihilated


def test_one_exponent_of_a_step_below_1e_154_is_finite() -> None:
    """k = 1 normalised its direction with a plain vector norm, whose squares underflow to 0
    below ~1e-154 in float64: a step that shrinks every direction 1e-300-fold read -inf
    ("annihilated exactly") for nn.RNN and for a gated cell alike, where k = 2 was right."""
    rnn = torch.nn.RNN(1, 2, nonlinearity="relu").double()
    gru = torch.nn.GRU(1, 2).double()
    with torch.no_grad():
        for p in (*rnn.parameters(), *gru.parameters()):
            p.zero_()
        # J = 1e-300 I, the units on (bias 1)
        rnn.weight_hh_l0.copy_(1e-300 * torch.eye(2, dtype=torch.float64))
        rnn.bias_ih_l0.fill_(1.0)
        gru.bias_ih_l0[2:4].fill_(-700.0)  # z = sigmoid(-700) ~ 1e-304: J = diag(z)
    x = torch.zeros(5, 1, 1, dtype=torch.float64)
    z = torch.sigmoid(torch.tensor(-700.0, dtype=torch.float64))
    for module, rate in ((rnn, math.log(1e-300)), (gru, float(torch.log(z)))):
        one = vl.lyapunov_spectrum(module, x, k=1)
        both = vl.lyapunov_spectrum(module, x, k=2)
        assert torch.isfinite(one).all(), module
        assert one[0, 0].item() == pytest.approx(rate, rel=1e-12)
        assert both[0, 0].item() == pytest.approx(rate, rel=1e-12)


def test_a_step_with_fewer_live_units_than_k_annihilates_directions_exactly() -> None:
    """A step with two relu units of four on has rank 2: of k = 4 directions two are
    annihilated exactly, so the 3-volume is 0 and the exponents from the third on are -inf.
    Householder QR read the third as rounding (an R entry ~1e-17): -4.5, finite, was wrong.
    The two live ones are checked against the explicit product of the Jacobians: their sum is
    the growth rate of the 2-volume of Phi q0[:, :2]."""
    g = torch.Generator().manual_seed(0)
    rnn = nn.RNN(1, 4, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.randn(4, 4, generator=g, dtype=torch.float64) * 0.1)
        rnn.weight_ih_l0.copy_(torch.tensor([[1.0], [0.0], [1.0], [0.0]], dtype=torch.float64))
        rnn.bias_ih_l0.fill_(5.0)
        rnn.bias_hh_l0.zero_()
    x = torch.zeros(20, 1, 1, dtype=torch.float64)
    q0 = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))[0]  # generic
    assert torch.isfinite(vl.lyapunov_spectrum(rnn, x, q0=q0)).all()  # the control
    x[7] = -100.0  # units 1 and 3 off at step 7
    spectrum = vl.lyapunov_spectrum(rnn, x, q0=q0)[0]
    assert spectrum[2:].tolist() == [-math.inf, -math.inf]
    with torch.no_grad():
        h = rnn(x)[0][:, 0]  # (T, H); relu' = 1 exactly where the unit is on
    phi = torch.eye(4, dtype=torch.float64)
    for t in range(20):
        phi = torch.diag((h[t] > 0).double()) @ rnn.weight_hh_l0.detach() @ phi
    assert int((h[7] > 0).sum()) == 2
    volume = torch.linalg.qr(phi @ q0[:, :2])[1].diagonal().abs().prod()  # |det R|
    assert spectrum[:2].sum().item() == pytest.approx(math.log(volume) / 20, abs=1e-12)
    assert spectrum[0].item() == pytest.approx(
        math.log(torch.linalg.vector_norm(phi @ q0[:, 0])) / 20, abs=1e-12
    )
    # Discarded steps move Q but are not averaged: a loss before the window is no loss.
    assert torch.isfinite(vl.lyapunov_spectrum(rnn, x, q0=q0, discard=8)).all()


@pytest.mark.parametrize("mode", ["gru", "lstm"])
def test_a_gated_unit_saturated_shut_annihilates_its_directions_exactly(mode) -> None:
    """A unit whose gates are saturated beyond float64 has zero rows in J at every step: for a
    GRU z = sigmoid(-800) = 0 and tanh'(n = 800) = 0 (one row, h); for an LSTM i = f = o = 0
    (two rows, h and c). That many directions are lost: -inf, where QR's rounding gave ~-38."""
    torch.manual_seed(0)
    H = 3
    module = nn.GRU(1, H).double() if mode == "gru" else nn.LSTM(1, H).double()
    shut = [H, 2 * H] if mode == "gru" else [0, H, 3 * H]  # unit 0's z, n / i, f, o
    with torch.no_grad():
        module.bias_ih_l0[shut] = -800.0
        if mode == "gru":
            module.bias_ih_l0[2 * H] = 800.0  # n saturated: tanh' = 0
    n = H if mode == "gru" else 2 * H
    lost = 1 if mode == "gru" else 2
    x = torch.randn(15, 2, 1, dtype=torch.float64)
    spectrum = vl.lyapunov_spectrum(module, x, q0=torch.linalg.qr(torch.randn(n, n).double())[0])
    assert torch.isfinite(spectrum[:, : n - lost]).all()
    assert (spectrum[:, n - lost :] == -math.inf).all()


def _exact_rank(rows: list[list[Fraction]]) -> int:
    """Rank by Gaussian elimination in exact rational arithmetic."""
    m, rank = [r[:] for r in rows], 0
    for c in range(len(m[0])):
        pivot = next((i for i in range(rank, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[rank], m[pivot] = m[pivot], m[rank]
        for i in range(len(m)):
            if i != rank and m[i][c] != 0:
                f = m[i][c] / m[rank][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[rank], strict=True)]
        rank += 1
    return rank


def _exact_jacobian_product(rnn: nn.RNN, x: torch.Tensor, start: int = 0) -> list[list[Fraction]]:
    """Phi = J_T ... J_{start+1} of a relu stack along x (T, I), in exact rationals (a float64
    is one): layer l's rows are D^l (W_hh^l on its own columns + W_ih^l times the rows of layer
    l - 1), D^l = 1 where the unit's pre-activation is positive (relu's derivative), else 0."""
    H, L = rnn.hidden_size, rnn.num_layers
    n = L * H
    p = {k: v.detach() for k, v in rnn.named_parameters()}
    exact = {k: [[Fraction(v) for v in r] for r in w.tolist()] for k, w in p.items() if w.ndim > 1}
    p.update({f"bias_{w}_l{l}": 0 for w in ("ih", "hh") for l in range(L) if not rnn.bias})
    rows = range(n)
    phi = [[Fraction(int(i == j)) for j in rows] for i in rows]
    hs = [torch.zeros(H, dtype=torch.float64) for _ in range(L)]
    for t in range(x.shape[0]):
        inp, jac = x[t], [[Fraction(0)] * n for _ in range(n)]
        for l in range(L):
            a = p[f"weight_ih_l{l}"] @ inp + p[f"bias_ih_l{l}"]
            a = a + p[f"weight_hh_l{l}"] @ hs[l] + p[f"bias_hh_l{l}"]
            hs[l] = inp = torch.relu(a)
            for i in (i for i in range(H) if a[i] > 0):
                row = [Fraction(0)] * n
                row[l * H : (l + 1) * H] = exact[f"weight_hh_l{l}"][i]
                for m, c in enumerate(exact[f"weight_ih_l{l}"][i] if l else []):
                    row = [r + c * b for r, b in zip(row, jac[(l - 1) * H + m], strict=True)]
                jac[l * H + i] = row
        if t >= start:
            phi = [[sum(jac[i][k] * phi[k][j] for k in rows) for j in rows] for i in rows]
    return phi


@pytest.mark.parametrize("layers", [1, 2])
def test_exact_zeros_against_the_rank_of_the_exact_jacobian_product(layers) -> None:
    """Random relu nets with units that switch off: the full spectrum (k = n, a generic q0)
    has n - rank(Phi) exponents of -inf, Phi the product of the one-step Jacobians in exact
    rational arithmetic. One layer: exactly that many, every time. Two layers: never more (no
    -inf is false); a product whose rank falls below every step's own (a layer's image
    missing the next one's rows) can still leave a finite exponent too many, as documented:
    36 of these 40 agree (before the fix, 18; and one-layer nets missed some too)."""
    agree = 0
    for seed in range(40):
        torch.manual_seed(seed)
        H, T = 2 + seed % 3, 4 + seed % 5
        rnn = nn.RNN(2, H, layers, nonlinearity="relu").double()
        x = torch.randn(T, 2, dtype=torch.float64) * (1 + seed % 4)
        n = layers * H
        q0 = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))[0]
        lost = n - _exact_rank(_exact_jacobian_product(rnn, x))
        found = int(torch.isneginf(vl.lyapunov_spectrum(rnn, x, q0=q0)).sum())
        assert found <= lost, seed
        assert found == lost or layers == 2, seed
        agree += found == lost
    assert agree >= 30, agree  # two layers: 36 of 40 here (torch 2.13)


@pytest.mark.parametrize("seed", [70, 80])
def test_a_zero_product_past_the_rule_reads_finite_in_the_full_spectrum(seed) -> None:
    """docs/maths.md, section 6: a 3-layer relu stack whose 9 counted Jacobians multiply to
    exactly 0 while every step keeps live rows (the rule sets only k - r per step to 0): k = 1
    (normalised, no QR) reads -inf; the full spectrum's top is finite, the log of a few
    rounding-level R[i, i] over 9 steps, the rest -inf. Any finite top is rounding (the exact
    answer is -inf), so its value is not pinned: it moves with the build and the CPU (seeds 70
    and 80: -9.47 and -4.56 on one machine with torch 2.13, -5.13 and -0.72 on another, whose
    pinned range failed this test; -8.90 and -0.87 with torch 2.2)."""
    torch.manual_seed(seed)
    rnn = nn.RNN(4, 3, 3, nonlinearity="relu", bias=False).double()
    with torch.no_grad():
        for l in range(3):
            getattr(rnn, f"weight_hh_l{l}").mul_(2)
    x = torch.randn(15, 4, dtype=torch.float64)
    assert _exact_rank(_exact_jacobian_product(rnn, x, start=6)) == 0
    assert vl.lyapunov_spectrum(rnn, x, k=1, discard=6).item() == -math.inf
    spectrum = vl.lyapunov_spectrum(rnn, x, discard=6)
    assert -math.inf < spectrum[0].item() < 0 and (spectrum[1:] == -math.inf).all()


def test_annihilated_directions_do_not_take_the_rank_of_live_ones() -> None:
    """A 3-layer relu stack whose steps all keep only 3-7 of 15 units on: the product of its
    Jacobians has rank 3, and every unit vector grows like e^-1.28 per step. Householder QR
    fills the column of a zero R[i, i] with some vector orthogonal to the others; left in its
    place, it took the rank slot of the live directions after it, so that every column met a
    zero in turn and the full spectrum of the default q0 = I read -inf throughout, the top
    exponent too. Annihilated columns now go last: the top exponent is finite, between the
    growth of a generic vector and that of the product's largest singular value."""
    torch.manual_seed(8)
    rnn = nn.RNN(1, 5, 3, nonlinearity="relu").double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.mul_(0.5)
    x = torch.randn(60, 1, dtype=torch.float64)
    h0 = torch.randn(3, 5, dtype=torch.float64) * 0.5
    spectrum = vl.lyapunov_spectrum(rnn, x, h0)
    assert spectrum.shape == (15,)
    assert -1.35 < spectrum[0].item() < -1.2  # generic vector -1.285, product's sigma_1 -1.262
    assert (spectrum[3:] == -math.inf).all()  # rank 3 at most


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
def test_k_given_in_h0s_place_says_to_pass_it_by_name(kind):
    # lyapunov_spectrum(rnn, x, 3) read "h0 must be a torch.Tensor or None, got int".
    with pytest.raises(TypeError, match=r"got the integer 3: k is the fourth argument, after h0 "):
        vl.lyapunov_spectrum(kind(2, 3), torch.randn(4, 2), 3)
    assert vl.lyapunov_spectrum(kind(2, 3), torch.randn(4, 2), None, 3).shape == (3,)
    # a NumPy integer (a value read from an array) is told as the number, not its repr
    with pytest.raises(TypeError, match=r"got the integer 2: .* \(pass k=2\)$"):
        vl.lyapunov_spectrum(kind(2, 3), torch.randn(4, 2), np.int64(2))


def test_spectrum_argument_review_k_0_a_bool_h0_and_the_rank_rule() -> None:
    """Mutation review of spectrum_args and lyapunov: a k of 0 taken (only k > dim was tested),
    h0=True told it was k=1 given in h0's place (a bool is no integer here, as for k), and q0's
    rank tolerance scaled by its shorter side instead of NumPy's longer one: each passed."""
    rnn, x = nn.RNN(2, 64), torch.randn(5, 2)
    with pytest.raises(ValueError, match=r"^k must be between 1 and .* = 64, got 0$"):
        vl.lyapunov_spectrum(rnn, x, k=0)
    with pytest.raises(TypeError, match=r"^h0 must be a torch.Tensor or None, got bool$"):
        vl.lyapunov_spectrum(rnn, x, True)
    # two columns apart by 1.2e-15 of the largest singular value: within 64 eps (NumPy's
    # matrix_rank: rank 1), beyond 2 eps
    g = torch.Generator().manual_seed(0)
    v, w = (torch.randn(64, 1, dtype=torch.float64, generator=g) for _ in range(2))
    q0 = torch.cat([v, v + 3e-15 * w], dim=1)
    assert np.linalg.matrix_rank(q0.numpy()) == 1
    with pytest.raises(ValueError, match=r"k = 2 linearly independent columns, got rank 1"):
        vl.lyapunov_spectrum(rnn, x, q0=q0)


def graded_tanh_net() -> tuple[nn.RNN, torch.Tensor]:
    """A 3-unit tanh net in float64 at weights ~x30 (oracle fuzz, helper 333) and its input:
    every step of full rank, rows of J_t at 1e-11, 1e-33 and 1e-17 (tests/test_qr_graded.py
    reads it too)."""
    f64 = torch.float64
    rnn = nn.RNN(1, 3).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(
            torch.tensor([[15.986194610595703], [4.082569777965546], [14.960675239562988]])
        )
        rnn.weight_hh_l0.copy_(
            torch.tensor(
                [
                    [2.860385701060295, -13.078426122665405, -5.248429477214813],
                    [-1.401713490486145, 14.10858929157257, 15.115887522697449],
                    [-12.951495051383972, -13.08021068572998, -10.56881994009018],
                ],
                dtype=f64,
            )
        )
        rnn.bias_ih_l0.copy_(
            torch.tensor([1.2731735408306122, -1.639494001865387, -1.071016564965248])
        )
        rnn.bias_hh_l0.copy_(
            torch.tensor([14.32775616645813, 9.916035532951355, 3.528132811188698])
        )
    return rnn, torch.tensor([[0.5638119924664015], [0.8970742305256788]], dtype=f64)


def test_an_r_entry_rounded_to_exactly_0_in_a_full_rank_step_is_finite() -> None:
    """A 3-unit tanh net in float64 at weights ~x30 (oracle fuzz, helper 333): every step has
    full rank (tanh' ~1e-34 at most, W_hh invertible), so no direction is annihilated; the
    exponents in 80-digit arithmetic are -21.667, -27.456 and -60.246. LAPACK rounded the
    second step's R[2, 2] to exactly 0.0 (rows of 1e-11, 1e-33 and 1e-17), and the third read
    -inf, "annihilated exactly". It is rounding, read at rounding's size (finite) as
    docs/maths.md, section 6 says. A direction that a step maps to exactly 0 (a zero column
    of W_hh with q0 = I) stays -inf. With z's rows sorted in qr_step (helper 476) that 0 is gone
    and the third reads -60.246 (tests/test_qr_graded.py, which keeps the rule's own test)."""
    rnn, x = graded_tanh_net()
    spectrum = vl.lyapunov_spectrum(rnn, x)
    assert torch.isfinite(spectrum).all(), spectrum
    assert spectrum[:2].tolist() == pytest.approx([-21.667079871354993, -27.455640551731786])
    assert spectrum[2].item() < -30  # -53.4 (rounding) before the rows were sorted, now -60.246
    with torch.no_grad():
        rnn.weight_hh_l0[:, 1] = 0.0  # unit 1 feeds nothing: J_t e_1 = 0 exactly
    assert vl.lyapunov_spectrum(rnn, x)[2].item() == -math.inf
