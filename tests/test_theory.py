"""The pure theory layer: quadrature, mean-field fixed points, the Pascanu envelope, the mapping.

Everything here is checked against an independent computation (scipy's adaptive quadrature and
root finder) or a closed form; measured-vs-predicted proofs live in test_theory_measured.py.
"""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import integrate, optimize
from torch import nn

import vanishlab as vl
from vanishlab.analysis import gaussian, meanfield
from vanishlab.analysis.activations import ACTIVATIONS
from vanishlab.analysis.fits import phase_of
from vanishlab.sweep.inits import INITS

# --- an independent oracle: scipy's adaptive quadrature -------------------------------------


def quad_expectation(fn, q: float) -> float:
    """E_z[fn(sqrt(q) z)] by scipy.integrate.quad, split at 0 and at powers of 2 of 1/sqrt(q)
    (where fn(sqrt(q) z) changes), each piece to a relative error of 1e-13."""
    if q == 0:
        return float(fn(np.zeros(1))[0])
    s = math.sqrt(q)

    def f(z: float) -> float:
        return float(fn(np.array([s * z]))[0]) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    edges = sorted({0.0, 40.0, *(2.0**j / s for j in range(-4, 40) if 2.0**j / s < 40)})
    total = 0.0
    for a, b in itertools.pairwise(edges):
        for lo, hi in ((a, b), (-b, -a)):
            total += integrate.quad(f, lo, hi, epsabs=1e-16, epsrel=1e-13, limit=200)[0]
    return total


TANH2 = lambda x: np.tanh(x) ** 2  # noqa: E731
DTANH2 = lambda x: (1.0 - np.tanh(x) ** 2) ** 2  # noqa: E731
RELU2 = lambda x: np.maximum(x, 0.0) ** 2  # noqa: E731
STEP = lambda x: (x > 0).astype(np.float64)  # noqa: E731


@pytest.mark.parametrize("q", [1e-10, 1e-4, 0.05, 0.7, 1.0, 3.3, 25.0, 1e3, 1e6, 1e10])
@pytest.mark.parametrize("name", ["tanh2", "dtanh2", "relu2", "step"])
def test_quadrature_matches_scipy_quad(q: float, name: str) -> None:
    """Composite Gauss-Legendre agrees with adaptive quadrature to 1e-12 (relative for relu^2,
    which grows like q) over 20 decades of q, far beyond the 1e-6 the mean field needs."""
    fn = {"tanh2": TANH2, "dtanh2": DTANH2, "relu2": RELU2, "step": STEP}[name]
    got, want = gaussian.gaussian_expectation(fn, q), quad_expectation(fn, q)
    scale = q if name == "relu2" else 1.0
    assert abs(got - want) <= 1e-12 * scale, (got, want)


def test_even_integrands_evaluated_once_are_the_two_sided_sum() -> None:
    """The mean field's integrands (tanh^2, sech^4, sech^8) are evaluated at +sqrt(q) z only:
    the same number, bit for bit, as the sum over +z and -z it replaced (tanh odd in numpy's
    float64), over 24 decades of q and a spread of q's in between."""
    rng = np.random.default_rng(0)
    qs = [*np.geomspace(1e-12, 1e12, 97), *rng.uniform(0.0, 40.0, 200), 16.0, 0.0625]
    for fn in (gaussian.tanh2, gaussian.dtanh2, gaussian.dtanh4):
        for q in map(float, qs):
            z, w = gaussian._nodes(q)
            s = math.sqrt(q)
            two_sided = float(np.dot(w, fn(s * z) + fn(-s * z)))
            assert gaussian.gaussian_expectation(fn, q) == two_sided, (fn.__name__, q)


def test_quadrature_closed_forms() -> None:
    for q in (0.0, 0.3, 7.0, 1e5):
        assert gaussian.gaussian_expectation(RELU2, q) == pytest.approx(
            q / 2, rel=1e-13, abs=1e-300
        )
        assert gaussian.gaussian_expectation(lambda x: x * x, q) == pytest.approx(q, rel=1e-13)
        assert gaussian.gaussian_expectation(lambda x: np.ones_like(x), q) == pytest.approx(
            1, rel=1e-14
        )
    # E[sech^4(sqrt(q) z)] -> (4/3) / sqrt(2 pi q) for large q (a spike of width 1/sqrt(q)).
    q = 1e12
    assert gaussian.gaussian_expectation(DTANH2, q) == pytest.approx(
        4 / 3 / math.sqrt(2 * math.pi * q), rel=1e-5
    )
    # in the words of every numeric refusal of the API (mean_field's gain, an axis): "q must be
    # finite and >= 0" was this function's alone
    for q, shown in ((-1.0, r"-1\.0"), (math.nan, "nan"), (math.inf, "inf")):
        with pytest.raises(ValueError, match=rf"^q must be a finite number >= 0, got {shown}$"):
            gaussian.gaussian_expectation(TANH2, q)


# --- mean field: fixed points and chi_1 -------------------------------------------------------


def scipy_fixed_point(gain: float, s: float) -> float:
    """The stable tanh fixed point by brentq on scipy quadrature (independent of theory.py)."""
    if s == 0 and gain <= 1:
        return 0.0
    lo = 1e-6 if s == 0 else 0.0
    return optimize.brentq(
        lambda q: gain**2 * quad_expectation(TANH2, q) + s - q,
        lo,
        gain**2 + s,
        xtol=1e-14,
        rtol=1e-13,
    )


@pytest.mark.parametrize(
    ("gain", "s"), [(0.5, 0.1), (1.0, 0.01), (1.5, 0.0), (1.5, 1.0), (2.0, 0.0), (3.0, 10.0)]
)
def test_tanh_fixed_point_and_chi_against_scipy(gain: float, s: float) -> None:
    mf = vl.mean_field("tanh", gain, input_var=s)
    q = scipy_fixed_point(gain, s)
    assert mf.q_star == pytest.approx(q, rel=1e-10, abs=1e-14)
    # The fixed-point equation holds to rounding.
    residual = gain**2 * gaussian.gaussian_expectation(TANH2, mf.q_star) + s - mf.q_star
    assert abs(residual) <= 1e-13 * max(1.0, mf.q_star)
    chi = gain**2 * quad_expectation(DTANH2, q)
    assert mf.chi_1 == pytest.approx(chi, rel=1e-9)
    assert mf.rate == pytest.approx(0.5 * math.log(chi), abs=1e-9)
    assert not mf.diverges


def test_tanh_input_and_bias_enter_as_one_drive() -> None:
    a = vl.mean_field("tanh", 1.7, input_var=0.3, bias_var=0.2)
    b = vl.mean_field("tanh", 1.7, input_var=0.5)
    assert (a.q_star, a.chi_1) == (b.q_star, b.chi_1)


def test_tanh_known_values() -> None:
    """gain 1 without drive is exactly critical; gain < 1 sits at q* = 0 with chi_1 = g^2."""
    crit = vl.mean_field("tanh", 1.0)
    assert (crit.q_star, crit.chi_1, crit.rate) == (0.0, 1.0, 0.0)
    assert crit.depth_scale == math.inf and crit.regime == "critical" and crit.phase == "stable"
    low = vl.mean_field("tanh", 0.6)
    assert low.q_star == 0.0 and low.chi_1 == pytest.approx(0.36, rel=1e-15)
    assert low.rate == pytest.approx(math.log(0.6), rel=1e-14)
    assert low.depth_scale == pytest.approx(-1 / math.log(0.36), rel=1e-14)
    assert low.regime == "ordered" and low.phase == "vanishing"
    # gain > 1 without drive: the stable fixed point q* > 0, chaotic, with a note on q = 0.
    hi = vl.mean_field("tanh", 2.0)
    assert hi.q_star > 0 and hi.chi_1 > 1 and hi.regime == "chaotic" and "unstable" in hi.note
    assert hi.depth_scale < 0  # squared norms grow by e every -depth_scale steps


def test_tanh_just_above_one_matches_the_series() -> None:
    """g^2 = 1 + e without drive: expanding tanh^2 and sech^4 to third order in q gives
    q* = e/2 + 5 e^2/24 and chi_1 = 1 + e^2/3 (+ O(e^3)). chi_1 - 1 is ~3e-11 at e = 1e-5: the
    quadrature and the ratio form of the fixed-point equation must be accurate far below that."""
    for e in (1e-3, 1e-4, 1e-5):
        mf = vl.mean_field("tanh", math.sqrt(1 + e))
        assert mf.q_star == pytest.approx(e / 2 + 5 * e * e / 24, rel=10 * e * e)
        assert mf.chi_1 - 1 == pytest.approx(e * e / 3, rel=10 * e)
        assert mf.regime == ("chaotic" if e * e / 3 > meanfield.CRITICAL_TOLERANCE else "critical")
        assert mf.phase == "stable"


def test_gain_zero() -> None:
    for act in ACTIVATIONS:
        mf = vl.mean_field(act, 0.0, input_var=0.4)
        assert mf.q_star == pytest.approx(0.4) and mf.chi_1 == 0.0
        assert mf.rate == -math.inf and mf.depth_scale == 0.0 and mf.regime == "ordered"


@pytest.mark.parametrize("gain", [0.3, 1.0, 1.2, 1.41])
@pytest.mark.parametrize("s", [0.0, 0.5, 4.0])
def test_relu_chi_is_half_gain_squared(gain: float, s: float) -> None:
    mf = vl.mean_field("relu", gain, input_var=s)
    assert mf.chi_1 == pytest.approx(gain**2 / 2, rel=1e-15)
    assert mf.q_star == pytest.approx(s / (1 - gain**2 / 2), rel=1e-14)
    assert not mf.diverges
    # chi_1 really is g^2 E[relu'(sqrt(q*) z)^2] (any q* > 0: E[1(z > 0)] = 1/2).
    if mf.q_star > 0:
        assert mf.chi_1 == pytest.approx(gain**2 * quad_expectation(STEP, mf.q_star), rel=1e-12)
        fixed = gain**2 * quad_expectation(RELU2, mf.q_star) + s
        assert fixed == pytest.approx(mf.q_star, rel=1e-12)
    else:
        assert "relu′(0) = 0" in mf.note  # the exact origin is documented, not hidden


@pytest.mark.parametrize(("gain", "s"), [(1.5, 0.1), (1.4143, 0.0), (3.0, 1.0)])
def test_relu_divergence_is_reported_not_a_number(gain: float, s: float) -> None:
    mf = vl.mean_field("relu", gain, input_var=s)
    assert mf.diverges and mf.q_star == math.inf and "no finite fixed point" in mf.note
    assert "χ₁ = gain²/2 = " in mf.note and "≥ 1" in mf.note  # the report's notation
    # chi_1 = g^2/2 still describes the Jacobians along the exploding trajectory.
    assert mf.chi_1 == pytest.approx(gain**2 / 2) and mf.regime == "chaotic"
    assert mf.phase == phase_of(mf.rate)


def test_relu_just_below_two_is_finite() -> None:
    g = math.nextafter(math.sqrt(2.0), 0.0)  # g^2 = 2 - 4e-16: the largest convergent gain
    mf = vl.mean_field("relu", g, input_var=1.0)
    assert not mf.diverges and 1e15 < mf.q_star < math.inf
    assert vl.mean_field("relu", math.sqrt(2.0), input_var=1.0).diverges  # g^2 rounds above 2


def test_chi_decreases_with_input_for_tanh() -> None:
    """Input noise suppresses chaos (Toyoizumi & Abbott 2011): chi_1 falls as the drive grows."""
    chis = [vl.mean_field("tanh", 2.0, input_var=s).chi_1 for s in (0.0, 0.1, 0.5, 1, 3, 10)]
    assert all(a > b for a, b in itertools.pairwise(chis))


@pytest.mark.parametrize("gain", [1.01, 1.2, 1.5, 2.0, 3.0, 5.0])
def test_critical_input_var_makes_chi_one(gain: float) -> None:
    s_c = vl.critical_input_var("tanh", gain)
    assert 0 < s_c < math.inf
    assert vl.mean_field("tanh", gain, input_var=s_c).chi_1 == pytest.approx(1.0, abs=1e-9)
    assert vl.mean_field("tanh", gain, input_var=0.9 * s_c).chi_1 > 1
    assert vl.mean_field("tanh", gain, input_var=1.1 * s_c).chi_1 < 1


def test_critical_input_var_edge_cases_are_explicit_numbers() -> None:
    assert vl.critical_input_var("tanh", 1.0) == 0.0  # critical already without input
    assert vl.critical_input_var("tanh", 0.7) == 0.0  # ordered at every input variance
    assert vl.critical_input_var("relu", 1.0) == 0.0  # chi_1 = 1/2 whatever the input
    assert vl.critical_input_var("relu", 1.5) == math.inf  # no input orders relu


def test_mean_field_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="activation"):
        vl.mean_field("sigmoid", 1.0)
    # in the words of the rest of the API (vl.Sweep's gain, fit_decay's phase_tolerance): "gain
    # must be finite and >= 0" was this function's alone
    with pytest.raises(ValueError, match=r"^gain must be a finite number >= 0, got -1\.0$"):
        vl.mean_field("tanh", -1.0)
    with pytest.raises(ValueError, match=r"^input_var must be a finite number >= 0, got nan$"):
        vl.mean_field("tanh", 1.0, input_var=math.nan)
    with pytest.raises(ValueError, match=r"^bias_var must be a finite number >= 0, got -0\.1$"):
        vl.mean_field("relu", 1.0, bias_var=-0.1)


def test_mean_field_dict_and_phase_vocabulary() -> None:
    mf = vl.mean_field("tanh", 1.5, input_var=1.0)
    d = mf.as_dict()
    assert d["rate"] == mf.rate and d["phase"] == phase_of(mf.rate) == "vanishing"
    assert set(d) >= {"q_star", "chi_1", "rate", "depth_scale", "regime", "phase", "diverges"}


# --- from a sweep cell to the mean-field inputs -----------------------------------------------


def test_mapping_arithmetic_with_explicit_variances() -> None:
    H, I = 100, 10
    cell = {"activation": "tanh", "hidden_size": H, "input_size": I, "input_std": 0.5}
    m = vl.mean_field_inputs(cell, variances=(4.0 / H, 0.3, 0.2))
    assert m.gain == pytest.approx(2.0) and m.validity == "iid"
    assert m.input_var == pytest.approx(0.25 * I * 0.3) and m.bias_var == pytest.approx(0.2)
    no_bias = vl.mean_field_inputs({**cell, "bias": False}, variances=(4.0 / H, 0.3, 0.2))
    assert no_bias.bias_var == 0.0
    mf = vl.cell_mean_field(cell, variances=(4.0 / H, 0.3, 0.2))
    assert mf == vl.mean_field("tanh", 2.0, 0.25 * I * 0.3, 0.2)


def test_mapping_upper_layer_is_driven_by_the_layer_below() -> None:
    H = 50
    v = (1.5**2 / H, 1.0 / H, 0.0)
    cell = {"activation": "tanh", "hidden_size": H, "input_size": H, "input_std": 1.0}
    below = vl.mean_field("tanh", 1.5, input_var=1.0)
    m1 = vl.mean_field_inputs(cell, layer=1, variances=v)
    assert m1.input_var == pytest.approx(gaussian.gaussian_expectation(TANH2, below.q_star))
    relu = vl.mean_field_inputs({**cell, "activation": "relu"}, layer=1, variances=v)
    assert relu.input_var == math.inf  # relu at g = 1.5 diverges below: no finite drive
    assert vl.cell_mean_field({**cell, "activation": "relu"}, layer=1, variances=v) is None


@pytest.mark.parametrize(
    ("activation", "init"),
    [
        (a, i)
        for a in ("tanh", "relu")
        for i in ("normal", "xavier_normal", "kaiming_normal")
        if (a, i) != ("relu", "kaiming_normal")
    ],  # relu kaiming at g 1.2: g_mf² ≥ 2, diverges
)
def test_an_upper_layer_of_a_registered_init_is_driven_with_fan_in_h(activation, init) -> None:
    # The tests of upper layers gave constant variances or I = H: upper layers drawn with
    # layer 0's fan-in, or relu's E[relu²] taken as q* instead of q*/2, passed them. Here each
    # layer's drive comes from its own fixed point: E[act²] = (q* − s_u − s_b) / g².
    H, I, g = 64, 8, 1.2
    cell = {
        "activation": activation,
        "init": init,
        "gain": g,
        "hidden_size": H,
        "input_size": I,
        "input_std": 1.0,
        "bias": False,
        "num_layers": 3,
    }
    variances = INITS[init].variances
    var_hh, var_ih, _ = variances(H, I, g)
    g0, s0 = math.sqrt(H * var_hh), I * var_ih
    for layer in (1, 2):
        below = vl.mean_field(activation, g0, input_var=s0)
        second_moment = (below.q_star - s0) / g0**2
        var_hh, var_ih, _ = variances(H, H, g)  # fan-in H above the first layer
        g0, s0 = math.sqrt(H * var_hh), H * var_ih * second_moment
        m = vl.mean_field_inputs(cell, layer=layer)
        assert m.gain == pytest.approx(g0, rel=1e-12)
        assert m.input_var == pytest.approx(s0, rel=1e-9)
        mf = vl.cell_mean_field(cell, layer=layer)
        assert mf.rate == pytest.approx(vl.mean_field(activation, g0, input_var=s0).rate, rel=1e-9)


@pytest.mark.parametrize("init", sorted(n for n, i in INITS.items() if "rnn" in i.models))
def test_mapping_matches_the_weights_each_init_draws(init: str) -> None:
    """For every registered init, the mean-field gain and input variance from the mapping equal
    the empirical per-entry variances of the weights the init actually draws (H = I = 256:
    relative sampling error ~ sqrt(2 / H^2) ~ 0.6 %, tolerance 5 %)."""
    H, I, gain = 256, 64, 1.3
    cell = {
        "activation": "tanh",
        "init": init,
        "gain": gain,
        "input_std": 0.7,
        "input_size": I,
        "hidden_size": H,
        "bias": True,
    }
    m = vl.mean_field_inputs(cell)
    rnn = nn.RNN(I, H).double().requires_grad_(False)
    INITS[init].apply(rnn, gain, torch.Generator().manual_seed(0))
    if m.validity == "none":
        assert m.gain is None and init == "identity"
        return
    var_hh = float(rnn.weight_hh_l0.pow(2).mean())
    var_ih = float(rnn.weight_ih_l0.pow(2).mean())
    assert m.gain == pytest.approx(math.sqrt(H * var_hh), rel=0.05)
    assert m.input_var == pytest.approx(0.7**2 * I * var_ih, rel=0.05)
    bias_total = rnn.bias_ih_l0 + rnn.bias_hh_l0
    if float(bias_total.abs().max()) == 0:
        assert m.bias_var == 0.0
    else:
        assert m.bias_var == pytest.approx(float(bias_total.pow(2).mean()), rel=0.25)
    assert m.validity in ("iid", "approximate")


def test_mapping_of_a_cell_config() -> None:
    """A real CellConfig: init "normal" puts g on W_hh only and unit-variance rows on W_ih, so
    the mean-field inputs are (g, input_std^2, 0) whatever H and I."""
    cfg = vl.CellConfig(
        activation="tanh", init="normal", gain=1.7, input_std=0.6, hidden_size=49, input_size=7
    )
    m = vl.mean_field_inputs(cfg)
    assert (m.gain, m.input_var, m.bias_var, m.validity) == pytest.approx((1.7, 0.36, 0.0, "iid"))
    mf = vl.cell_mean_field(cfg)
    assert mf is not None and mf.rate == pytest.approx(vl.mean_field("tanh", 1.7, 0.36).rate)
    kaiming = vl.mean_field_inputs(vl.CellConfig(activation="relu", init="kaiming_normal"))
    assert kaiming.gain == pytest.approx(math.sqrt(2.0))  # He: relu-critical at gain 1
    assert vl.cell_mean_field(vl.CellConfig(activation="relu", init="kaiming_normal")).diverges


def test_mapping_flags_cells_that_stay_at_the_origin() -> None:
    """No input and no bias: the cell's state stays at h = 0, so the mean field's q* > 0
    (tanh, g > 1) is never reached; the mapping says so and gives no prediction."""
    cfg = vl.CellConfig(activation="tanh", init="normal", gain=2.0, input_std=0.0)
    m = vl.mean_field_inputs(cfg)
    assert m.validity == "origin" and "linear regime" in m.reason
    assert vl.cell_mean_field(cfg) is None
    with_bias = vl.CellConfig(activation="tanh", init="default", gain=2.0, input_std=0.0)
    assert vl.mean_field_inputs(with_bias).validity == "iid"  # the bias drives it off h = 0


def test_mapping_validity_per_init() -> None:
    assert INITS["identity"].validity == "none"
    assert INITS["orthogonal"].validity == "approximate"
    for name in ("normal", "xavier_normal", "kaiming_uniform", "default"):
        assert INITS[name].validity == "iid"
    cell = {"activation": "relu", "init": "identity", "hidden_size": 8, "input_size": 2}
    assert vl.cell_mean_field(cell) is None


# --- linear regime and the Pascanu envelope (pure arithmetic on weights) ----------------------


def test_linear_rate_is_log_spectral_radius_not_gain_nor_norm() -> None:
    H, g = 64, 1.0
    w = torch.randn(H, H, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    w = w * g / math.sqrt(H)
    rate = vl.linear_rate(w)
    rho = float(np.abs(np.linalg.eigvals(w.numpy())).max())
    assert rate == pytest.approx(math.log(rho), abs=1e-12)
    assert abs(rate - math.log(g)) > 1e-3  # finite H: rho is not g
    norm2 = float(torch.linalg.matrix_norm(w, ord=2))
    assert math.log(norm2) - rate > 0.5  # ||W||_2 ~ 2g: the bound, far above the rate
    assert vl.linear_rate(torch.zeros(3, 3)) == -math.inf
    q, _ = torch.linalg.qr(w)
    assert vl.linear_rate(0.7 * q) == pytest.approx(math.log(0.7), abs=1e-14)
    with pytest.raises(ValueError, match="square"):
        vl.linear_rate(torch.zeros(2, 3))


def test_a_layer_beside_a_weight_tensor_is_refused() -> None:
    """linear_rate(w, layer=5) gave w's rate, the layer ignored in silence."""
    w = torch.eye(3, dtype=torch.float64)
    for call in (lambda: vl.linear_rate(w, layer=5), lambda: vl.origin_log_norms(w, 4, layer=1)):
        with pytest.raises(ValueError, match=r"layer=\d picks a layer of a module"):
            call()
    assert vl.linear_rate(w, layer=0) == 0.0


def test_origin_norms_closed_forms() -> None:
    H, g, K = 12, 0.8, 40
    q, _ = torch.linalg.qr(torch.randn(H, H, generator=torch.Generator().manual_seed(1)).double())
    o = vl.origin_log_norms(g * q, K)
    k = o["lag"].to_numpy()
    np.testing.assert_allclose(o["log10_spec"], k * math.log10(g), atol=1e-13)
    np.testing.assert_allclose(o["log10_fro"], k * math.log10(g) + 0.5 * math.log10(H), atol=1e-13)
    # A nilpotent shift: W^k = 0 from k = H on, exactly -inf.
    shift = torch.diag(torch.ones(H - 1, dtype=torch.float64), 1)
    s = vl.origin_log_norms(shift, H + 2)
    assert np.isneginf(s["log10_fro"].to_numpy()[H:]).all()
    np.testing.assert_allclose(s["log10_fro"][:H], 0.5 * np.log10(H - np.arange(H)), atol=1e-14)
    # No underflow: 0.01^2000 = 1e-4000.
    far = vl.origin_log_norms(0.01 * q, 2000)
    assert far["log10_spec"].iloc[-1] == pytest.approx(-4000, abs=1e-9)
    # A weight whose float64 squares underflow (torch's norm of 1e-160 q reads ~0.1 low).
    tiny = vl.origin_log_norms(1e-160 * q, 3)
    np.testing.assert_allclose(tiny["log10_fro"], k[:4] * -160 + 0.5 * math.log10(H), atol=1e-12)


def test_origin_norms_of_relu_are_exact_zeros() -> None:
    rnn = nn.RNN(2, 4, nonlinearity="relu").double()
    o = vl.origin_log_norms(rnn, 5)
    assert o["log10_spec"].iloc[0] == 0.0 and np.isneginf(o["log10_spec"].to_numpy()[1:]).all()


_NON_FINITE_THEORY = """
import torch, vanishlab as vl
w = torch.randn(8, 8); w[0, 0] = float("nan")
rnn = torch.nn.RNN(2, 8)
with torch.no_grad():
    rnn.weight_hh_l0[1, 1] = float("inf")
calls = [lambda: vl.linear_rate(w), lambda: vl.origin_log_norms(w, 5),
         lambda: vl.linear_rate(rnn), lambda: vl.pascanu_bound(rnn),
         lambda: vl.pascanu_envelope(rnn, 5), lambda: vl.linear_rate(torch.zeros(0, 0))]
for call in calls:
    try:
        call()
    except ValueError as err:
        print("ValueError:", err)
"""


def test_theory_of_non_finite_weights_is_refused_by_name() -> None:
    """The fast tier's check of the refusal that the subprocess test below (slow tier since
    c040314, which left the make test tier without one) guards against a crash."""
    w = torch.randn(8, 8, dtype=torch.float64)
    w[0, 0] = math.nan
    rnn = nn.RNN(2, 8)
    with torch.no_grad():
        rnn.weight_hh_l0[1, 1] = math.inf
    for call in (lambda: vl.linear_rate(w), lambda: vl.origin_log_norms(w, 5)):
        with pytest.raises(ValueError, match=r"W_hh \(layer 0\) holds nan at entry \[0, 0\]"):
            call()
    calls = (lambda: vl.linear_rate(rnn), lambda: vl.pascanu_bound(rnn))
    for call in (*calls, lambda: vl.pascanu_envelope(rnn, 5)):
        with pytest.raises(ValueError, match=r"weight_hh_l0 holds inf at entry \[1, 1\]"):
            call()


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_theory_of_non_finite_weights_is_refused_not_crashed() -> None:
    """LAPACK's eigvals crashed the interpreter on a NaN weight (oneMKL DGEBAL, then a double
    free: exit 134 or 139), or returned -inf; the SVDs raised torch's _LinAlgError. In a
    subprocess, so that the old crash could not take the test run down."""
    proc = subprocess.run(
        [sys.executable, "-c", _NON_FINITE_THEORY], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("ValueError:") for line in lines), lines
    assert "W_hh (layer 0) holds nan at entry [0, 0]" in lines[0]
    assert "weight_hh_l0 holds inf at entry [1, 1]" in lines[3]
    assert "square (H, H) matrix, H > 0" in lines[5]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_modules_are_refused_by_the_theory_as_by_the_engine(dtype, tmp_path) -> None:
    """The theory functions took a float16 or bfloat16 module (and check_pascanu read its
    tolerance from float16's eps, 0.01 per step of lag at H = 8), which the engine refuses:
    now the same check refuses them in the engine's words. A weight tensor of any floating
    dtype is still read exactly in float64 (it is a matrix, not a module to measure)."""
    rnn = nn.RNN(3, 8, 2).to(dtype)
    frame = vl.jacobian_norms(nn.RNN(3, 8, 2), torch.randn(5, 2, 3))
    calls = [
        lambda: vl.linear_rate(rnn),
        lambda: vl.origin_log_norms(rnn, 5),
        lambda: vl.pascanu_bound(rnn),
        lambda: vl.pascanu_envelope(rnn, 5),
        lambda: vl.check_pascanu(rnn, frame),
        lambda: vl.jacobian_norms(rnn, torch.randn(5, 2, 3, dtype=dtype)),
    ]
    for call in calls:
        with pytest.raises(TypeError, match=f"the RNN's weights are {dtype}; vanishlab measures"):
            call()
    # Those that take no inputs do not ask to convert any ("(and x likewise)" was said to all);
    # those that do name them as their caller does (the monitor's probe).
    for call in calls[:-1]:
        with pytest.raises(TypeError, match=r"module\.float\(\) or module\.double\(\)$"):
            call()
    with pytest.raises(TypeError, match=r"module\.double\(\) \(and x likewise\)$"):
        calls[-1]()
    with pytest.raises(TypeError, match=r"module\.double\(\) \(and probe likewise\)$"):
        vl.JacobianMonitor(rnn, torch.randn(5, 2, 3, dtype=dtype), out=tmp_path / "m")
    # torch.eye(3, dtype=torch.bfloat16): not implemented on the CPU in torch 2.2
    assert vl.linear_rate(torch.eye(3).to(dtype)) == 0.0


def test_wrong_arguments_of_the_theory_functions_are_named() -> None:
    """Each failed inside numpy or pandas (a KeyError 'layer', "cannot convert float NaN to
    integer", "'<' not supported between 'RNN' and 'int'", "dictionary update sequence"), or
    was taken (layer 3 of a one-layer cell, gain -1 read as 1, model 'foo' read as gated)."""
    rnn = nn.RNN(2, 4)
    frame = vl.jacobian_norms(rnn, torch.randn(6, 2, 2))
    cell = vl.CellConfig()
    cases = [
        (lambda: vl.check_pascanu(rnn, frame.drop(columns="layer")), ValueError, "no layer col"),
        (lambda: vl.check_pascanu(rnn, frame.iloc[:0]), ValueError, "no rows"),
        (lambda: vl.pascanu_envelope(rnn, 5.5), TypeError, "seq_len must be an integer"),
        (lambda: vl.pascanu_envelope(10, rnn), TypeError, "expected a torch.nn.RNN"),
        (lambda: vl.cell_mean_field(cell, layer=3), ValueError, r"layer must be in 0\.\.0"),
        (lambda: vl.critical_gain(cell, layer=-1), ValueError, "layer must be a layer index"),
        (lambda: vl.critical_gain("normal"), TypeError, "cell must be a dict, a CellConfig or"),
        (lambda: vl.cell_mean_field({"init": "normal"}), ValueError, "no 'hidden_size'"),
        (lambda: vl.cell_mean_field({**cell.to_dict(), "hidden_size": 0}), ValueError, "positive"),
        (lambda: vl.cell_mean_field({**cell.to_dict(), "gain": -1}), ValueError, "gain must be"),
        (lambda: vl.cell_mean_field({**cell.to_dict(), "model": "foo"}), ValueError, "unknown"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_pascanu_envelope_single_layer_is_pascanu() -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(3, 7).double().requires_grad_(False)
    T = 9
    env = vl.pascanu_envelope(rnn, T)
    per_step = vl.pascanu_bound(rnn) / math.log(10)  # ln per step, like every rate
    assert per_step == pytest.approx(
        math.log10(float(torch.linalg.matrix_norm(rnn.weight_hh_l0, ord=2)))
    )
    state = env[env["source"] == "state"]
    np.testing.assert_allclose(state["log10_spec_bound"], state["lag"] * per_step, atol=1e-13)
    np.testing.assert_allclose(
        state["log10_fro_bound"], state["lag"] * per_step + 0.5 * math.log10(7), atol=1e-13
    )
    inp = env[env["source"] == "input"]
    w_ih = math.log10(float(torch.linalg.matrix_norm(rnn.weight_ih_l0, ord=2)))
    np.testing.assert_allclose(inp["log10_spec_bound"], inp["lag"] * per_step + w_ih, atol=1e-13)
    assert len(inp) == T and len(state) == T + 1


def test_pascanu_envelope_stack_sums_paths() -> None:
    """Two layers, scalar norms a (recurrent) and c (between layers): the lower layer's bound is
    sum over the k + 1 climbing steps of c a^k = (k + 1) c a^k; h0 (lag T) has only k = T paths
    through W_hh^0 first, so T c a^T."""
    H, T, a, c = 5, 6, 0.9, 0.5
    rnn = nn.RNN(H, H, 2).double()
    q, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(a * q)
        rnn.weight_hh_l1.copy_(a * q.T)
        rnn.weight_ih_l1.copy_(c * torch.eye(H, dtype=torch.float64))
    env = vl.pascanu_envelope(rnn, T)
    low = env[(env["source"] == "state") & (env["layer"] == 0)]
    k = low["lag"].to_numpy()
    want = np.where(k < T, np.log10((k + 1) * c * a**k), np.log10(T * c * a**T))
    np.testing.assert_allclose(low["log10_spec_bound"], want, atol=1e-13)
    with pytest.raises(ValueError):
        vl.pascanu_envelope(rnn, 0)


def test_check_pascanu_takes_the_module_first_and_refuses_the_old_order() -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(3, 5).double()
    frame = vl.jacobian_norms(rnn, torch.randn(6, 2, 3, dtype=torch.float64))
    assert not vl.check_pascanu(rnn, frame)["violated"].any()
    with pytest.raises(TypeError, match=r"module first: check_pascanu\(rnn, frame\)"):
        vl.check_pascanu(frame, rnn)
    with pytest.raises(TypeError, match=r"expected a torch\.nn\.RNN"):
        vl.check_pascanu(nn.Linear(2, 2), frame)


def test_check_pascanu_reads_named_index_levels_and_keeps_the_frames_index() -> None:
    """A frame with its keys in the index (frame.set_index(["source", "layer", "lag"])) was
    refused as having "no source, layer, lag column", and a sample in the index was dropped
    from the rows returned (merge numbered them afresh). Named levels are now columns, as
    fit_decay reads them, and the returned frame has the given frame's index."""
    import pandas as pd

    torch.manual_seed(0)
    rnn = nn.RNN(2, 6, 2)
    frame = vl.jacobian_norms(rnn, torch.randn(20, 3, 2))
    want = vl.check_pascanu(rnn, frame)
    for index in (["source", "layer", "lag"], ["sample"], ["sample", "source", "layer", "lag"]):
        given = frame.set_index(index)
        got = vl.check_pascanu(rnn, given)
        assert got.index.equals(given.index), index
        pd.testing.assert_frame_equal(got.reset_index(), want[[*index, *want.drop(columns=index)]])
    layer0 = frame[frame["layer"] == 0]
    assert vl.check_pascanu(rnn, layer0).index.equals(layer0.index)  # its labels, not 0..n-1
    with pytest.raises(ValueError, match="'lag' both as an index level and as a column"):
        vl.check_pascanu(rnn, frame.set_index("lag", drop=False))


@pytest.mark.parametrize(
    ("column", "cast", "error", "match"),
    [
        ("lag", bool, TypeError, "frame's lag column must hold integers, got bool"),
        # a column of strings: dtype str in pandas 3, object in pandas 2
        ("lag", str, TypeError, "frame's lag column must hold integers, got (str|object)"),
        ("lag", "Int64", ValueError, "frame's lag column holds nan: lags are integers >= 0"),
        ("layer", str, TypeError, "frame's layer column must hold integers, got (str|object)"),
        ("source", "codes", TypeError, "frame's source column must hold 'state' or 'input'"),
    ],
)
def test_check_pascanu_names_key_columns_of_the_wrong_kind(column, cast, error, match) -> None:
    """String keys failed inside pandas ("You are trying to merge on str and Int64 columns for
    key 'layer'"), boolean lags were joined as lags 0 and 1 and checked against those bounds,
    and a missing lag was "a row this rnn cannot produce"."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4, 2)
    frame = vl.jacobian_norms(rnn, torch.randn(8, 3, 2))
    if cast == "codes":
        frame["source"] = (frame["source"] == "state").astype(int)
    elif cast == "Int64":
        frame["lag"] = frame["lag"].astype("Int64").where(frame.index != 2)
    else:
        frame[column] = frame[column].astype(cast)
    with pytest.raises(error, match=f"^{match}"):
        vl.check_pascanu(rnn, frame)


def test_rates_share_one_unit_natural_log_per_step() -> None:
    # The Pascanu factor, the linear rate and the mean-field rate are all ln per step: for an
    # orthogonal g Q they coincide at ln g.
    g = 0.7
    rnn = nn.RNN(2, 6, bias=False).double()
    with torch.no_grad():
        nn.init.orthogonal_(rnn.weight_hh_l0, gain=g)
    assert vl.pascanu_bound(rnn) == pytest.approx(math.log(g), abs=1e-12)
    assert vl.linear_rate(rnn) == pytest.approx(math.log(g), abs=1e-12)
    assert vl.mean_field("tanh", g).rate == pytest.approx(math.log(g), abs=1e-12)


def test_a_user_init_that_states_no_validity_gets_no_mean_field() -> None:
    from vanishlab.sweep import inits

    base = INITS["normal"]
    user = vl.Init("user_normal_test", "a copy of normal", base.apply, base.variances)
    vl.register_init(user)
    try:
        cell = {"activation": "tanh", "init": "user_normal_test", "hidden_size": 8}
        m = vl.mean_field_inputs({**cell, "input_size": 2, "input_std": 1.0, "gain": 1.5})
        assert m.validity == "none" and "Init.validity" in m.reason
        stated = vl.Init("user_iid_test", "stated", base.apply, base.variances, "iid", "ok")
        vl.register_init(stated)
        cell["init"] = "user_iid_test"
        got = vl.cell_mean_field({**cell, "input_size": 2, "input_std": 1.0, "gain": 1.5})
        normal = vl.cell_mean_field(
            {**cell, "init": "normal", "input_size": 2, "input_std": 1.0, "gain": 1.5}
        )
        assert got == normal
        with pytest.raises(vl.VanishlabError, match="validity must be one of"):
            vl.register_init(vl.Init("bad_validity", "x", base.apply, validity="maybe"))
    finally:
        inits.INITS.pop("user_normal_test", None)
        inits.INITS.pop("user_iid_test", None)


def _rnn34() -> nn.RNN:
    torch.manual_seed(0)
    return nn.RNN(3, 4, 2)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        # each failed inside torch, numpy or pandas, or was taken (a reviewer's list)
        (lambda: vl.linear_rate(nn.RNN(3, 4, bidirectional=True)), ValueError, "bidirectional"),
        (lambda: vl.origin_log_norms(nn.RNN(3, 4, bidirectional=True), 3), ValueError, "bidir"),
        (lambda: vl.linear_rate(_rnn34(), 1.5), TypeError, "layer must be an integer"),
        (lambda: vl.pascanu_bound(_rnn34(), 1.0), TypeError, "layer must be an integer"),
        (lambda: vl.origin_log_norms(_rnn34(), 3.5), TypeError, "max_lag must be an integer"),
        (lambda: vl.origin_log_norms(_rnn34(), "3"), TypeError, "max_lag must be an integer"),
        (lambda: vl.pascanu_envelope(_rnn34(), 2.0), TypeError, "seq_len must be an integer"),
        (
            lambda: vl.check_pascanu(
                _rnn34(), vl.jacobian_norms(_rnn34(), torch.randn(4, 1, 3)), tolerance="x"
            ),
            ValueError,
            "tolerance must be a finite number >= 0",
        ),
        (
            lambda: vl.check_pascanu(
                _rnn34(), vl.jacobian_norms(_rnn34(), torch.randn(4, 1, 3)), tolerance=-1.0
            ),
            ValueError,
            "tolerance must be a finite number >= 0",
        ),
        (
            lambda: vl.fit_decay(vl.origin_log_norms(_rnn34(), 8), phase_tolerance=math.nan),
            ValueError,
            "phase_tolerance must be a finite number >= 0",
        ),
        (lambda: vl.mean_field("tanh", 1e200, 1.0), ValueError, "gain² plus the drive"),
    ],
)
def test_wrong_arguments_are_named(call, error, match) -> None:
    with pytest.raises(error, match=match):
        call()


def test_a_gated_cells_mean_field_inputs_have_no_activation() -> None:
    """It was the string 'None' (the docs say "tanh" or "relu")."""
    inputs = vl.mean_field_inputs(vl.CellConfig(model="gru", activation=None))
    assert inputs.activation is None and inputs.validity == "none"


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: vl.mean_field("tanh", "1.5"), "gain"),
        (lambda: vl.mean_field("tanh", None), "gain"),
        (lambda: vl.mean_field("tanh", True), "gain"),
        (lambda: vl.mean_field("tanh", 1.5 + 0j), "gain"),
        (lambda: vl.mean_field("tanh", 1.5, "1"), "input_var"),
        (lambda: vl.mean_field("relu", 1.0, 1.0, bias_var=[0.1]), "bias_var"),
        (lambda: vl.critical_input_var("tanh", "2"), "gain"),
        (lambda: vl.critical_input_var("tanh", None), "gain"),
    ],
)
def test_mean_field_arguments_that_are_no_numbers_are_named(call, name) -> None:
    """Each failed with Python's "must be real number, not str" (naming no argument), or was
    taken: gain=True as a gain of 1."""
    with pytest.raises(TypeError, match=rf"^{name} must be a real number, got "):
        call()


def test_mean_field_takes_numpy_and_one_element_tensor_numbers() -> None:
    want = vl.mean_field("tanh", 1.5, 0.5)
    assert vl.mean_field("tanh", np.float32(1.5), np.float64(0.5)) == want
    assert vl.mean_field("tanh", torch.tensor(1.5), torch.tensor(0.5, dtype=torch.float64)) == want


@pytest.mark.parametrize("gain", [1.5e77, 1e100, 1e150])
def test_critical_input_var_of_a_gain_past_float64_is_named(gain: float) -> None:
    """From gain ~1.5e77 the critical drive variance (~0.28 gain^4) leaves float64: the bracket
    of the search overflowed and the call failed with an inner "q must be finite and >= 0, got
    inf", naming no argument. Below that the answer follows 0.28 gain^4 (16 / (18 pi) gain^4,
    from E[sech^4(sqrt(q) z)] ~ 4 / (3 sqrt(2 pi q)) at large q)."""
    with pytest.raises(ValueError, match=re.escape(f"gain {gain:g} is too large: the critical")):
        vl.critical_input_var("tanh", gain)
    for g in (1e10, 1e70, 1.3e77):
        want = 16 / (18 * math.pi) * g**2 * g**2  # g**4 alone overflows at 1.3e77
        assert vl.critical_input_var("tanh", g) == pytest.approx(want, rel=1e-6)


def test_the_mean_field_of_a_cell_takes_a_numpy_layer_index() -> None:
    """A layer read from a frame (fit_decay's or load_results' layer column holds np.int64)
    was refused: "layer must be a layer index >= 0, got np.int64(1)"."""
    cell = vl.CellConfig(num_layers=2, input_std=1.0)
    layer = vl.fit_decay(vl.run_cell(cell)[0], by="layer")["layer"].dropna().iloc[-1]
    assert isinstance(layer, np.integer) and layer == 1
    assert vl.cell_mean_field(cell, layer=layer) == vl.cell_mean_field(cell, layer=1)
    assert vl.mean_field_inputs(cell, layer=layer) == vl.mean_field_inputs(cell, layer=1)
    assert vl.critical_gain(cell, layer=np.int64(0)) == vl.critical_gain(cell, layer=0)


def test_critical_gain_takes_a_row_of_a_frame_of_settings_as_the_mean_field_does() -> None:
    """critical_gain refused a pandas row ("cell must be a dict or a CellConfig, got Series"),
    where mean_field_inputs and cell_mean_field take one: a row now gives the dict's answer."""
    import pandas as pd

    cells = [
        vl.CellConfig(activation="relu", input_std=1.0).to_dict(),
        vl.CellConfig(input_std=1.0, num_layers=2, bias=False).to_dict(),
        vl.CellConfig(model="lstm").to_dict(),
    ]
    frame = pd.DataFrame(cells)
    got = [vl.critical_gain(row) for _, row in frame.iterrows()]
    want = [vl.critical_gain(cell) for cell in cells]
    np.testing.assert_array_equal(got, want)  # NaN for the LSTM, as its dict gives
    assert math.isfinite(got[0]) and math.isfinite(got[1]) and math.isnan(got[2])
    assert vl.critical_gain(frame.iloc[1], layer=0) == vl.critical_gain(cells[1], layer=0)
    assert vl.cell_mean_field(frame.iloc[1]) == vl.cell_mean_field(cells[1])


def test_a_num_layers_of_none_is_absent_to_every_mean_field_entry_point() -> None:
    """critical_gain said a cell with num_layers None "has no 'num_layers'", where
    mean_field_inputs and cell_mean_field take None as absent (one layer); the rate curve
    took it as 1 too, but failed on a NaN in Python's words ("cannot convert float NaN")."""
    from vanishlab.sweep.critical import mean_field_rate_curve

    cell = {**vl.CellConfig(input_std=1.0).to_dict(), "num_layers": None}
    absent = {k: v for k, v in cell.items() if k != "num_layers"}
    assert vl.critical_gain(cell) == vl.critical_gain(absent)
    assert vl.mean_field_inputs(cell) == vl.mean_field_inputs(absent)
    gains = np.array([0.5, 1.0])
    np.testing.assert_array_equal(
        mean_field_rate_curve(cell, gains), mean_field_rate_curve(absent, gains)
    )
    for call in (vl.critical_gain, lambda c: mean_field_rate_curve(c, gains)):
        with pytest.raises(ValueError, match="num_layers must be a positive integer, got nan"):
            call({**cell, "num_layers": math.nan})


@pytest.mark.parametrize("activation", ["gelu", "Tanh", None])
def test_the_mean_field_of_an_rnn_cell_with_an_unknown_activation_is_refused(activation) -> None:
    """mean_field_inputs took activation "gelu" and gave numbers with validity "iid" (the
    activation is read only above the first layer, and by mean_field, which refused it)."""
    cell = {**vl.CellConfig(input_std=1.0).to_dict(), "activation": activation}
    for call in (vl.mean_field_inputs, vl.cell_mean_field, vl.critical_gain):
        with pytest.raises(ValueError, match=r"activation must be one of \('tanh', 'relu'\)"):
            call(cell)
    gated = {**vl.CellConfig(model="gru").to_dict(), "activation": activation}
    assert vl.mean_field_inputs(gated).validity == "none"  # a gated cell has none to check


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("gain", "abc", TypeError, "gain must be a real number, got 'abc'"),
        ("gain", None, TypeError, "gain must be a real number, got None"),
        ("input_std", None, TypeError, "input_std must be a real number, got None"),
        ("input_std", "1.0", TypeError, "input_std must be a real number, got '1.0'"),
        ("input_std", True, TypeError, "input_std must be a real number, got True"),
        ("input_std", math.nan, ValueError, "input_std must be a number >= 0, got nan"),
        ("input_std", -1.0, ValueError, r"input_std must be a number >= 0, got -1\.0"),
    ],
)
def test_the_mean_field_of_a_cell_names_a_gain_or_input_std_that_is_no_number(
    field, value, error, match
) -> None:
    """A dict cell's gain or input_std went through float(): None and "abc" failed in its words
    ("float() argument must be a string or a real number"), "1.0" and True were read as
    numbers, a NaN input_std was reported as variances that "overflow float64", and a
    negative one was taken as the std of its absolute value."""
    cell = {**vl.CellConfig(input_std=1.0).to_dict(), field: value}
    for call in (vl.mean_field_inputs, vl.cell_mean_field):
        with pytest.raises(error, match=f"^{match}"):
            call(cell)


@pytest.mark.parametrize(
    ("variances", "error", "match"),
    [
        ((1.0, 2.0), TypeError, r"variances must be three numbers \(var_hh, var_ih, var_bias\)"),
        (0.5, TypeError, "variances must be three numbers"),
        ((1.0, "2", 0.0), TypeError, "variances must be a real number, got '2'"),
        # in the house words, naming the one refused ("variances must be finite and >= 0, got
        # (-1.0, 2.0, 0.0)" left the reader to find it)
        (
            (-1.0, 2.0, 0.0),
            ValueError,
            r"var_hh of variances must be a finite number >= 0, got -1\.0$",
        ),
        (
            (1.0, math.nan, 0.0),
            ValueError,
            "var_ih of variances must be a finite number >= 0, got nan$",
        ),
        (
            (1.0, 0.0, -math.inf),
            ValueError,
            "var_bias of variances must be a finite number >= 0, got -inf$",
        ),
    ],
)
def test_the_mean_field_of_a_cell_names_variances_of_the_wrong_form(
    variances, error, match
) -> None:
    """A pair failed to unpack ("not enough values to unpack"), a float was "not iterable", a
    negative variance failed in math.sqrt ("math domain error")."""
    cell = vl.CellConfig(input_std=1.0)
    for call in (vl.mean_field_inputs, vl.cell_mean_field):
        with pytest.raises(error, match=match):
            call(cell, variances=variances)
    assert vl.cell_mean_field(cell, variances=[1 / 64, 1 / 64, 0.0]) is not None


@pytest.mark.parametrize("call", [vl.linear_rate, lambda m: vl.origin_log_norms(m, 3)])
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile, inside torch
def test_the_linear_regime_tells_a_wrapped_rnn_where_its_module_is(call) -> None:
    """Every other function that takes an nn.RNN tells a torch.compile'd or DataParallel one
    which attribute holds it; linear_rate and origin_log_norms said only "got
    OptimizedModule"."""
    rnn = nn.RNN(2, 3)
    for wrapped, attr in ((torch.compile(rnn), "_orig_mod"), (nn.DataParallel(rnn), "module")):
        with pytest.raises(TypeError, match=rf"it wraps one: pass its \.{attr}, the RNN itself"):
            call(wrapped)


def test_critical_gain_ignores_what_the_mean_field_does_not_read() -> None:
    """A cell holding a value that cannot be hashed (a list of notes, which mean_field_inputs
    and cell_mean_field ignore) failed in critical_gain's cache with Python's own words,
    "unhashable type: 'list'". The search is keyed on the axes the mean field reads, and one of
    those that cannot be hashed is named."""
    import pandas as pd

    from vanishlab.sweep import prediction

    cell = vl.CellConfig(input_std=1.0).to_dict()
    noted = {**cell, "notes": [1, 2]}
    assert vl.critical_gain(noted) == vl.critical_gain(cell)
    assert vl.critical_gain(pd.Series(noted)) == vl.critical_gain(cell)
    assert vl.cell_mean_field(noted) == vl.cell_mean_field(cell)
    with pytest.raises(TypeError, match=r"^task must be a string, a number or a bool, got list"):
        vl.critical_gain({**cell, "task": ["adding"]})

    read: set[str] = set()

    class Reads(dict):
        """A cell that records the keys read from it."""

        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    for c in (
        vl.CellConfig(input_std=1.0, num_layers=2),
        vl.CellConfig(input_std=0.0, bias=False, activation="relu"),
        vl.CellConfig(task="adding", input_size=2, train_steps=1),
        vl.CellConfig(init="identity"),
        vl.CellConfig(model="gru"),
    ):
        for layer in range(c.num_layers):
            vl.mean_field_inputs(Reads(c.to_dict()), layer=layer)
    assert read <= {*prediction.MEAN_FIELD_AXES, "gain"}, read


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden_size", [8]),
        ("hidden_size", math.nan),
        ("input_size", math.inf),
        ("num_layers", math.nan),
        ("num_layers", "2"),
    ],
)
def test_the_mean_field_of_a_cell_names_a_size_that_is_no_integer(field, value) -> None:
    """A size given as a list failed in int() ("int() argument must be a string, a bytes-like
    object or a real number, not 'list'"), a NaN there (a frame's missing value) with
    "cannot convert float NaN to integer", an inf with an OverflowError."""
    cell = {**vl.CellConfig(input_std=1.0).to_dict(), field: value}
    for call in (vl.mean_field_inputs, vl.cell_mean_field, vl.critical_gain):
        with pytest.raises(ValueError, match=f"^{field} must be a positive integer, got "):
            call(cell)
    assert vl.critical_gain({**cell, field: torch.tensor(2)}) > 0  # a number, as gain takes one


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize(
    ("call", "theory"),
    [
        (lambda m, x: vl.check_pascanu(m, vl.jacobian_norms(m, x)), "the Pascanu bound"),
        (lambda m, x: vl.pascanu_bound(m), "the Pascanu bound"),
        (lambda m, x: vl.pascanu_envelope(m, 5), "the Pascanu bound"),
        (lambda m, x: vl.linear_rate(m), "the linear rate"),
    ],
)
def test_nn_rnn_theory_says_why_it_refuses_a_gated_cell(kind, call, theory) -> None:
    """The README: these are nn.RNN's theory and refuse a gated cell (a TypeError). The error
    read "expected a torch.nn.RNN module, got LSTM", as for a caller's slip, after
    vl.jacobian_norms had just measured the same LSTM."""
    module = kind(2, 4)
    with pytest.raises(TypeError) as err:
        call(module, torch.rand(5, 2, 2))
    message = str(err.value)
    name = kind.__name__
    assert message.startswith(f"expected a torch.nn.RNN module, got {name}: {theory} is "), message
    assert "nn.RNN's theory" in message and "no counterpart for a gated cell" in message
    assert f"vl.jacobian_norms measures the {name}'s Jacobians" in message


def test_a_setting_a_cell_leaves_out_reads_as_a_sweep_s_default() -> None:
    """A dict without ``input_std`` read as 0 (a cell at the origin: NaN from critical_gain,
    "origin" from the mean field), where a sweep's cell without the flag has 1.0. Every key
    the mean field reads but the sizes now falls back to the axis table's default."""
    from vanishlab.sweep.config import AXIS_TABLE

    sizes = {"hidden_size": 64, "input_size": 64, "init": "normal"}
    full = {a.name: a.default for a in AXIS_TABLE} | sizes | {"activation": "relu"}
    assert vl.critical_gain({"activation": "relu", **sizes}) == pytest.approx(math.sqrt(2))
    assert vl.critical_gain({"activation": "relu", **sizes}) == vl.critical_gain(full)
    partial = vl.mean_field_inputs({"activation": "tanh", **sizes})
    assert partial == vl.mean_field_inputs(full | {"activation": "tanh"})
    assert partial.validity == "iid"
    assert math.isnan(vl.critical_gain({"activation": "relu", "input_std": 0.0, **sizes}))
    # but the sizes and the init, which docs/theory.md says a cell must give
    for key in sizes:
        left = {k: v for k, v in sizes.items() if k != key}
        with pytest.raises(ValueError, match=f"no '{key}'"):
            vl.critical_gain(left)


def test_a_misspelt_key_of_a_cell_is_named_before_a_missing_one() -> None:
    """``critical_gain({"activaton": "relu"})`` said the cell had no 'hidden_size', and with
    the sizes it measured tanh in silence: a key that is no axis, near one the mean field reads
    that the cell lacks, is named first with that axis, in every entry point. A frame's own
    columns (``layer``, ``lag``) and a near name whose axis is there too are ignored."""
    import pandas as pd

    sizes = {"hidden_size": 16, "input_size": 1, "init": "normal"}
    calls = (vl.critical_gain, vl.cell_mean_field, vl.mean_field_inputs)
    for cell, key, near in (
        ({"activaton": "relu"}, "activaton", "activation"),
        ({**sizes, "activaton": "relu"}, "activaton", "activation"),
        ({"hidden_sise": 16, "input_size": 1, "init": "normal"}, "hidden_sise", "hidden_size"),
        (pd.Series({**sizes, "inputstd": 0.5}), "inputstd", "input_std"),
    ):
        for call in calls:
            with pytest.raises(
                ValueError, match=rf"^unknown key '{key}' in the cell: did you mean '{near}'\? "
            ):
                call(cell)
    own = {**sizes, "activation": "relu", "layer": 0, "lag": 3, "activations": "notes"}
    assert vl.critical_gain(own) == pytest.approx(math.sqrt(2))


def _nodes_made_afresh(q: float) -> tuple[np.ndarray, np.ndarray]:
    """The quadrature's nodes and weights as the whole grid of panels makes them for one q:
    the uniform edges and, for q > 16, the geometric ones below 1/4 (docs/theory.md)."""
    edges = np.arange(0.0, 12.0 + 1e-9, 0.25)
    if q > 0 and 1.0 / math.sqrt(q) < 0.25:
        geo = 1.0 / math.sqrt(q) / 8 * 2.0 ** np.arange(0, 64)
        edges = np.union1d(edges, geo[geo < 0.25])
    x, w = np.polynomial.legendre.leggauss(32)
    lo, hi = edges[:-1, None], edges[1:, None]
    z = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    return z, (0.5 * (hi - lo) * w).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def test_the_quadratures_nodes_made_once_are_the_grids_own_bit_for_bit():
    """The panels above 1/4 (all of them for q <= 16) are made once, not for each of a
    mean-field search's ~20,000 new q's: the same numbers, and shared, never written."""
    rng = np.random.default_rng(0)
    qs = [0.0, 1e-300, 0.5, 16.0, np.nextafter(16.0, 17.0), 64.0, 1e6, 1e300]
    for q in [*qs, *(10.0 ** rng.uniform(-8.0, 20.0, 300))]:
        gaussian._nodes.cache_clear()
        z, w = gaussian._nodes(float(q))
        want_z, want_w = _nodes_made_afresh(float(q))
        assert np.array_equal(z, want_z) and np.array_equal(w, want_w), q
    gaussian._nodes.cache_clear()
    small = gaussian._nodes(0.5)
    gaussian._nodes.cache_clear()
    assert gaussian._nodes(2.0)[0] is small[0] and not small[0].flags.writeable
