"""A GPU's way through the general paths (vanishlab.core.scaling.TinyNorms): tiny-norm checks
are only noted on the device, and a call that noted one is measured again with the checks at
once. Forced here on the CPU: the answers equal the CPU's, whether or not a re-run was needed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_engine_oracle import KEYS, random_case
from torch import nn

import vanishlab as vl
from vanishlab.core import scaling, spectral
from vanishlab.core.oracle import autograd_jacobian_norms


@pytest.fixture
def deferred(monkeypatch):
    """Force a GPU's settings; collect what each deferred run's ``found()`` answered."""
    answers: list[bool] = []
    real = scaling.TinyNorms.found

    def found(self) -> bool:
        answers.append(real(self))
        return answers[-1]

    monkeypatch.setattr(scaling, "gpu_like", lambda device: True)
    monkeypatch.setattr(scaling.TinyNorms, "found", found)
    return answers


def tiny(model, layers: int, o_gate: float | None = -40.0) -> tuple[nn.Module, torch.Tensor]:
    """Weights of 1e-20 in float32 (and a gated cell's carry shut: forget gate of an
    LSTM, update gate of a GRU, about 1e-13): every step's product far below float32's normal
    range. An LSTM's steps take W's rows at norm 1 (core/gated_terms.py), so its products are
    not tiny for its weights' sake: its o gate is at ``o_gate`` too, k = o tanh'(c') ~ 1e-18,
    and the scale of G_h diag(k)'s columns is G_h's (k, a normal number, not in it). (Before
    each term was weighed by its row of W, this LSTM read its input rows -inf in float32 where
    the float64 module's are 10^-37.6 (one layer) and 10^-75.5 to 10^-217.7 (two).) A GRU's
    coefficients below the range are carried and its steps then weighed (helper 472): with
    every weight at 1e-20, its n followed no input, h - n ~ 1e-13 (h - n)_prev, q_z went below
    the range and nothing was tiny. Its W_ih is left as it is, and z = sigma(-70) ~ 4e-31 (a
    normal number) shuts its carry instead. Since helper 474 its terms q_z W_hh ~ 1e-51, below
    the range though q_z is not, have its steps weighed too, and nothing is tiny
    (test_a_gru_with_tiny_terms_needs_no_second_run)."""
    torch.manual_seed(1)
    H = 40
    mod = model(4, H, layers)
    gru = model is nn.GRU
    with torch.no_grad():
        for name, p in mod.named_parameters():
            if name.startswith("weight_hh" if gru else "weight"):
                p.mul_(1e-20)
            if name.startswith("bias_hh") and model is not nn.RNN:
                p[H : 2 * H] = -70.0 if gru else -30.0
            if name.startswith("bias_hh") and model is nn.LSTM and o_gate is not None:
                p[3 * H :] = o_gate
    return mod, torch.randn(12, 2, 4)


@pytest.fixture
def flush_denormal():
    torch.set_flush_denormal(True)  # float32 squares below ~1e-38 become 0, not subnormal
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@pytest.mark.parametrize("model", [nn.RNN, nn.LSTM])
@pytest.mark.parametrize("layers", [1, 2])
def test_a_tiny_norm_makes_the_deferred_run_measure_again(
    deferred, flush_denormal, model, layers
) -> None:
    mod, x = tiny(model, layers)
    got = vl.jacobian_norms(mod, x)
    assert True in deferred, "no deferred run noted the tiny norms"
    _agrees_with_float64(got, mod, x)


@pytest.mark.parametrize("layers", [1, 2])
def test_an_lstm_with_tiny_weights_needs_no_second_run(deferred, flush_denormal, layers) -> None:
    # The LSTM of tiny() with its o gate open: weights of 1e-20 made every product of a step
    # tiny, and the deferred run noted it and ran again; the rows of W are now taken at norm
    # 1 and their norms' exponents carried, so nothing is tiny, and the rows are the float64
    # module's to the same 1e-4 (measured 8.7e-7)
    mod, x = tiny(nn.LSTM, layers, o_gate=None)
    got = vl.jacobian_norms(mod, x)
    assert deferred == [False]  # its one deferred run found nothing tiny
    _agrees_with_float64(got, mod, x)


@pytest.mark.parametrize("layers", [1, 2])
def test_a_gru_with_tiny_terms_needs_no_second_run(deferred, flush_denormal, layers) -> None:
    # The GRU of tiny(): q_z ~ 1e-31 times rows of W_hh of 1e-20, terms far below float32's
    # range, though every coefficient is a normal number. Divided by ||G||_F, its steps' products
    # were tiny, and the deferred run noted it and ran again; since helper 474 such a layer is
    # weighed (gated_gru_range.terms_below: a normal coefficient whose term leaves the range
    # read its only path -inf), so nothing is tiny, and the rows are the float64 module's
    mod, x = tiny(nn.GRU, layers)
    got = vl.jacobian_norms(mod, x)
    assert deferred == [False]  # its one deferred run found nothing tiny
    _agrees_with_float64(got, mod, x)


def _agrees_with_float64(got, mod: nn.Module, x: torch.Tensor) -> None:
    """``got``, a float32 module's rows, are its float64 copy's: the same -inf, the others
    within 1e-4 (float32 rounding over 12 steps)."""
    want = vl.jacobian_norms(mod.double(), x.double())
    assert got[KEYS].equals(want[KEYS])
    for col in ("log10_fro", "log10_spec"):
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert np.array_equal(np.isneginf(a), np.isneginf(b))
        ok = np.isfinite(b)
        assert np.abs(a[ok] - b[ok]).max() < 1e-4, col


@pytest.mark.parametrize("case", range(10))
def test_deferred_runs_match_the_oracle(deferred, case: int) -> None:
    rnn, x, h0, desc = random_case(np.random.default_rng(1000 + case))
    got = vl.jacobian_norms(rnn, x, h0)
    want = autograd_jacobian_norms(rnn, x, h0)
    for col in ("log10_fro", "log10_spec"):
        a, b = got[col].to_numpy(), want[col].to_numpy()
        assert np.array_equal(np.isneginf(a), np.isneginf(b)), desc
        ok = np.isfinite(b)
        assert np.abs(a[ok] - b[ok]).max(initial=0.0) < 1e-10, f"{desc}: {col}"
    assert True not in deferred  # float64 norms are never tiny here: no re-run


@pytest.fixture
def host_reads(monkeypatch):
    """Count what waits for a GPU: every tensor-to-Python conversion, and every call of the
    linear algebra that checks its result on the host (eigh, SVD-based norms)."""
    count = [0]

    def counting(real):
        def counted(*a, **k):
            count[0] += 1
            return real(*a, **k)

        return counted

    for name in ("__bool__", "item", "__int__", "__float__"):
        monkeypatch.setattr(torch.Tensor, name, counting(getattr(torch.Tensor, name)))
    for name in ("eigh", "matrix_norm", "svd", "svdvals"):
        monkeypatch.setattr(torch.linalg, name, counting(getattr(torch.linalg, name)))
    return count


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.RNN(8, 64),  # input rows of 64 x 8: exact norms, queued on a GPU
        pytest.param(
            lambda: nn.RNN(8, 64, 2), marks=pytest.mark.slow
        ),  # among the fast tier's slowest
        lambda: nn.LSTM(8, 40),
        pytest.param(
            lambda: nn.GRU(8, 40, 2), marks=pytest.mark.slow
        ),  # among the fast tier's slowest
    ],
    ids=["rnn", "rnn-2-layers", "lstm", "gru-2-layers"],
)
def test_a_gpu_waits_per_chunk_not_per_step(deferred, host_reads, make) -> None:
    """With a GPU's settings the default call reads values back to the host a number of times
    that grows with the chunks of up to 64 lags, not with the steps (the CUDA run of
    tests/test_cuda.py counts the real waits); and a normal call is never measured twice (an
    LSTM's exactly zero c block at lag 0 once made every call run again)."""
    torch.manual_seed(0)
    mod = make()
    reads = []
    for T in (64, 512):
        x = torch.randn(T, 4, 8)
        host_reads[0] = 0
        vl.jacobian_log_norms(mod, x)
        reads.append(host_reads[0])
    assert reads[1] - reads[0] < (512 - 64) / 8, f"host reads at T = 64, 512: {reads}"
    assert True not in deferred, "a normal call was measured twice"


@pytest.mark.parametrize("zero_lag", [3, 67])
def test_a_zero_jacobian_at_a_chunks_end_keeps_the_warm_start(deferred, zero_lag: int) -> None:
    """Relu, one sample's layer 0 all off at one step: its input Jacobian there is exactly zero
    and nonzero at the lags after. At the end of a chunk (lags 3 and 67 with a GPU's queue)
    such a zero once became the next chunk's warm start, and every later spectral norm of that
    sample read -inf."""
    torch.manual_seed(0)
    T = 100
    rnn = nn.RNN(20, 32, 2, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_ih_l0.abs_()
        rnn.bias_ih_l0.abs_()
    x = torch.rand(T, 2, 20, dtype=torch.float64)
    x[T - 1 - zero_lag, 0] = -1e3
    got, want = vl.jacobian_norms(rnn, x), autograd_jacobian_norms(rnn, x)
    a, b = got["log10_spec"].to_numpy(), want["log10_spec"].to_numpy()
    assert np.array_equal(np.isneginf(a), np.isneginf(b))
    ok = np.isfinite(b)
    assert np.abs(a[ok] - b[ok]).max() < 1e-8


def test_relu_rows_on_few_units_do_not_stall_the_iteration(deferred, monkeypatch) -> None:
    """Relu with 5 of 32 units on at the last step: every G's rows live on those 5 units, so a
    block of 8 rows has 3 with no direction of their own. Left as rounding residue they made
    the GPU's iteration stall until its SVD fallback (310 checks); completed from fixed rows
    it settles as fast as the CPU's Householder QR. The fallback is spectral's exact_norms
    (an eigvalsh, which replaced the SVD of torch.linalg.matrix_norm; a count of the latter,
    which the engine no longer calls, was 0 whatever happened). Mutant: gram_schmidt_rows's
    fill row never used (``torch.where(..., v, v)``): 316 checks and 7 exact norms."""
    checks, fallbacks = [0], [0]
    eigh, exact_norms = torch.linalg.eigh, spectral.exact_norms

    def counted_eigh(a):
        checks[0] += 1
        return eigh(a)

    def counted_exact(g):
        fallbacks[0] += len(g)
        return exact_norms(g)

    monkeypatch.setattr(torch.linalg, "eigh", counted_eigh)
    monkeypatch.setattr(spectral, "exact_norms", counted_exact)
    torch.manual_seed(0)
    H, T = 32, 512
    rnn = nn.RNN(H, H, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.eye(H))
        rnn.bias_ih_l0.zero_()
        rnn.bias_hh_l0.zero_()
        rnn.weight_hh_l0.mul_(1.5)
    x = torch.rand(T, 2, H, dtype=torch.float64)
    x[-1] = -100.0
    x[-1, :, :5] = 5.0  # only units 0-4 on at the last step
    vl.jacobian_log_norms(rnn, x, sources="state")
    assert fallbacks[0] == 0 and checks[0] < 60, f"{checks[0]} checks, {fallbacks[0]} fallbacks"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_trusted_floor_bounds_what_lost_squares_can_change(dtype) -> None:
    """A norm at the trusted floor of a matrix of ``numel`` entries loses at most 1e-12 of its
    square to entries whose squares fall below the smallest normal (each loses < tiny, and
    there are up to ``numel`` of them): the floor grows as sqrt(numel). A floor without the
    entry count (a mutation audit's survivor) trusted a 1000 x 1000 matrix's norm 1000x lower,
    where lost squares may change it by 1e-6."""
    tiny = torch.finfo(dtype).tiny
    for numel in (1, 64 * 64, 1000 * 1000):
        floor = scaling.trusted_floor(dtype, numel)
        assert numel * tiny / floor**2 == pytest.approx(1e-12, rel=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_whole_of_two_blocks_is_trusted_by_its_own_entry_count(dtype) -> None:
    """unit_if_tiny took the first block's entry count for the floor of the whole [h | c] (an
    LSTM's state: twice as many entries), a floor sqrt(2) too low: a whole between the two was
    kept, where squares lost below the smallest normal may change it by 2e-12 of its square,
    not the 1e-12 the floor promises (never a visible digit of a norm). Now it is made unit."""
    numel = 4 * 4
    floor = scaling.trusted_floor(dtype, numel)
    h = torch.full((1, 4, 4), 1.2 * floor / 4, dtype=dtype)  # whole norm 1.2 x the block floor
    c = torch.zeros_like(h)
    assert 1.2 * floor < scaling.trusted_floor(dtype, 2 * numel)
    ns, n, ln_u = scaling.unit_if_tiny([h, c], scaling.TinyNorms(deferred=False))
    assert ln_u is not None and float(ln_u[0]) == pytest.approx(np.log(1.2 * floor), rel=1e-6)
    assert float(n[0]) == 1.0 and float(ns[0][0]) == pytest.approx(1.0, rel=1e-6)
    assert float(torch.linalg.vector_norm(h.double())) == pytest.approx(1.0, rel=1e-6)
    # a whole above the whole's floor is left as it is
    h = torch.full((1, 4, 4), 1.01 * scaling.trusted_floor(dtype, 2 * numel) / 4, dtype=dtype)
    assert scaling.unit_if_tiny([h, torch.zeros_like(h)], scaling.TinyNorms(False))[2] is None


@pytest.mark.parametrize(
    ("dtype", "scale", "steps"),
    [
        (torch.float32, 1e12, 3),
        (torch.float64, 1e80, 3),
        (torch.float32, 1e20, 2),
        (torch.float64, 1e160, 2),
    ],
)
def test_norms_whose_squares_overflow_are_measured_not_read_as_inf(dtype, scale, steps) -> None:
    """A relu RNN with positive weights and inputs (every unit active: dh_T/dh_{T-k} = W_hh^k)
    and W_hh scaled so that ||W_hh^2|| squared overflows the dtype (float32 beyond ~1e38,
    float64 beyond ~1e308) while the forward pass stays finite: the one-layer fast path's norm
    reads inf and must hand the call to the general path, which rescues such a norm (scaled by
    its largest entry). Two mutations of core/scaling.py survived every test, as no earlier
    network reached an inf norm without a zero or NaN one beside it: all_normal's `hi < inf`
    as `hi <= inf` (the fast path's inf kept), and frobenius_norms without `| (n == inf)` (the
    general path's inf kept). W_hh x1e12 (x1e80) over 3 steps kills the first (the fast
    path's norm of W^2 reads inf; the general path, dividing every step, never overflows), W_hh
    x1e20 (x1e160) over 2 steps both (the general path's one-step matrix overflows too)."""
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, nonlinearity="relu").to(dtype)
    with torch.no_grad():
        for p in rnn.parameters():
            p.abs_()
        rnn.weight_hh_l0.mul_(scale)
    x = torch.rand(steps, 1, 3, dtype=dtype)
    out = vl.jacobian_log_norms(rnn, x)
    w = rnn.weight_hh_l0.detach().double() / scale
    w_ih = rnn.weight_ih_l0.detach().double()
    power = torch.eye(4, dtype=torch.float64)
    for k in range(steps + 1):  # lag k: W^k (state), W^k W_ih (input, lags below steps)
        state = torch.linalg.matrix_norm(power).log10() + k * np.log10(scale)
        assert float(out.state_fro[0, 0, k]) == pytest.approx(float(state), rel=1e-5)
        if k < steps:
            inp = torch.linalg.matrix_norm(power @ w_ih).log10() + k * np.log10(scale)
            assert float(out.input_fro[0, k]) == pytest.approx(float(inp), rel=1e-5)
        power = power @ w
