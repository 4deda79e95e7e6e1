"""What theory predicts for the Jacobian norms of an ``nn.RNN``: three regimes, three formulas.

The state Jacobian at lag k of a single-layer RNN is a product of k one-step factors
(THEORY.md), J(k) = dh_{T-1} / dh_{T-1-k} = prod_{t} D_t W_hh with D_t = diag(act'(a_t)).

**Linear regime (the origin).** With zero input, zero bias and h0 = 0, a tanh network stays at
h = 0 where D_t = I, so J(k) = W_hh^k exactly. Its asymptotic rate is (Gelfand's formula)

    lim_k (1/k) ln ||W_hh^k|| = ln rho(W_hh),     rho = spectral radius,

for any norm. It is neither ln(gain) nor ln ||W_hh||_2: for W_hh with i.i.d. N(0, g^2/H) entries
the circular law puts the eigenvalues in the disc of radius g (rho -> g slowly in H) while the
largest singular value tends to 2g (Marchenko-Pastur), and a non-normal W_hh has ||W^k|| far
above rho^k for a while. At finite lags ||W^k||_F and ||W^k||_2 carry their own prefactors
(e.g. orthogonal g Q: ||.||_2 = g^k and ||.||_F = g^k sqrt(H) exactly). For relu, PyTorch's
relu'(0) = 0 makes the Jacobian at the origin exactly zero (log-norm -inf) for every k >= 1;
relu's linear regime is positive activity with every unit on (D = I), where the rate is again
ln rho(W_hh) (identity weights, Le, Jaitly & Hinton 2015: rate 0).

**Pascanu, Mikolov & Bengio (2013).** Submultiplicativity gives, at every lag and on every
trajectory,

    ||J(k)||_2 <= prod_t ||D_t||_2 ||W_hh||_2 <= (gamma ||W_hh||_2)^k,   gamma = sup |act'| = 1

for tanh and relu. So gamma ||W_hh||_2 < 1 suffices for vanishing (rho < 1 suffices in the
linear case). The bound covers the state rows of one layer's own recurrence: every row of a
single-layer network and the top layer of a stack (lag 0 is the identity, norm 1 = bound^0).
An input row is one factor longer, dh_{T-1}/dx_{T-1-k} = J(k) D W_ih, so its bound carries an
extra gamma ||W_ih||_2; a lower layer of a stack sums paths through the layers above, and the
triangle inequality gives the bound B^l_k = a_l B^l_{k-1} + c_{l+1} B^{l+1}_k (a_l = gamma
||W_hh^l||_2, c_l = gamma ||W_ih^l||_2) that :func:`pascanu_envelope` evaluates in log space.

**Mean field (Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington & Schoenholz 2018).**
For W_hh with i.i.d. zero-mean entries of variance g^2/H, an input drive W_ih x_t of variance
s_u^2 per unit and biases of total variance s_b^2, the pre-activation variance q follows

    q_t = g^2 E_z[act(sqrt(q_{t-1}) z)^2] + s_u^2 + s_b^2,      z ~ N(0, 1),

towards a fixed point q*, and at infinite width the squared norm of the Jacobian grows by

    chi_1 = g^2 E_z[act'(sqrt(q*) z)^2]

per step. So the predicted log-norm rate is 0.5 ln chi_1 (natural log per step), the depth
scale of squared norms is -1/ln chi_1, and chi_1 = 1 is the edge of chaos (vanishing below,
exploding above). Input noise raises q*, saturates tanh and so suppresses chaos (Toyoizumi &
Abbott 2011); :func:`critical_input_var` gives the input variance where chi_1 reaches 1. For relu,
E[relu(sqrt(q) z)^2] = q/2 and chi_1 = g^2/2 whatever q (relu is positively homogeneous), and q*
has no finite fixed point once g^2 >= 2 with any drive (:attr:`MeanField.diverges`). Gaussian
expectations use composite Gauss-Legendre quadrature with panels scaled to 1/sqrt(q), accurate
to ~1e-12 for every q (plain Gauss-Hermite fails when sqrt(q) is large, where tanh(sqrt(q) z)
turns on within |z| ~ 1/sqrt(q)). At finite width, near criticality, and in transients, the
measured rates depart from the prediction; the mean field is exact only as H -> infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import torch

from .fits import phase_of

__all__ = [
    "ACTIVATIONS",
    "CRITICAL_TOLERANCE",
    "INIT_VALIDITY",
    "MeanField",
    "MeanFieldInputs",
    "cell_mean_field",
    "check_pascanu",
    "critical_input_var",
    "gaussian_expectation",
    "linear_rate",
    "mean_field",
    "mean_field_inputs",
    "origin_log_norms",
    "pascanu_bound",
    "pascanu_envelope",
]

ACTIVATIONS = ("tanh", "relu")
#: |ln chi_1| below which the mean field calls a configuration "critical".
CRITICAL_TOLERANCE = 1e-9
_LN10 = math.log(10.0)
_GAMMA = {"tanh": 1.0, "relu": 1.0}  # sup |act'|


# --------------------------------------------------------------------------------------------
# Linear regime: the origin
# --------------------------------------------------------------------------------------------


def _weight_hh(rnn_or_weight: torch.nn.RNN | torch.Tensor, layer: int) -> torch.Tensor:
    if isinstance(rnn_or_weight, torch.Tensor):
        w = rnn_or_weight
    elif isinstance(rnn_or_weight, torch.nn.RNN):
        if not 0 <= layer < rnn_or_weight.num_layers:
            raise ValueError(f"layer must be in 0..{rnn_or_weight.num_layers - 1}, got {layer}")
        w = getattr(rnn_or_weight, f"weight_hh_l{layer}")
    else:
        raise TypeError(
            f"expected a torch.nn.RNN or a square weight tensor, got {type(rnn_or_weight).__name__}"
        )
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"W_hh must be a square (H, H) matrix, got shape {tuple(w.shape)}")
    return w.detach().to(device="cpu", dtype=torch.float64)


def linear_rate(rnn_or_weight: torch.nn.RNN | torch.Tensor, layer: int = 0) -> float:
    """The asymptotic rate at the origin, ln rho(W_hh), in natural log per step.

    At h = 0 with zero input and zero bias a tanh network's one-step Jacobian is W_hh itself
    (tanh'(0) = 1), so ||dh_T/dh_{T-k}|| = ||W_hh^k||, and by Gelfand's formula
    (1/k) ln ||W_hh^k|| -> ln rho(W_hh) for every norm. This is not ln(gain): the spectral
    radius of a random N(0, g^2/H) matrix approaches g only slowly with H (an orthogonal
    g Q has rho = g exactly). Nor is it ln ||W_hh||_2, the one-step *bound* (about ln 2g for a
    Gaussian matrix, where singular values spread to 2g while eigenvalues stay in the disc of
    radius g). Finite lags have prefactors on top of rho^k: ||W^k||_F starts at sqrt(H), and a
    non-normal W_hh has transient growth; see :func:`origin_log_norms` for the exact values.

    For relu the origin is degenerate: PyTorch's relu'(0) = 0 makes every Jacobian of lag
    k >= 1 exactly zero. The same rate ln rho(W_hh) applies to relu where every unit is active
    (D_t = I), e.g. identity weights with positive activity (Le, Jaitly & Hinton 2015): rate 0.
    For a lower layer of a stack, paths through the layers above make the asymptotic rate of its
    state rows the largest ln rho(W_hh^j) over layers j >= layer.

    Args:
        rnn_or_weight: an ``nn.RNN`` (its ``weight_hh_l{layer}`` is used) or an ``(H, H)``
            tensor.
        layer: which layer's recurrent weight, for an ``nn.RNN``.

    Returns:
        ln rho(W_hh) as a float (``-inf`` for a nilpotent W_hh, e.g. all zeros).
    """
    w = _weight_hh(rnn_or_weight, layer)  # (H, H) float64
    rho = float(torch.linalg.eigvals(w).abs().max())
    return math.log(rho) if rho > 0 else -math.inf


def origin_log_norms(
    rnn_or_weight: torch.nn.RNN | torch.Tensor, max_lag: int, layer: int = 0
) -> pd.DataFrame:
    """Exact log10 norms of the state Jacobians at the origin: log10 ||W_hh^k||_F and _2.

    The closed form of what :func:`vanishlab.jacobian_norms` measures for a single-layer tanh
    network with zero input, zero biases and h0 = 0 (source ``"state"``, every lag 0..T). The
    powers are formed by repeated normalised multiplication in float64 (M_k = W M_{k-1} /
    ||W M_{k-1}||_F, the log of the scale carried apart), so nothing under- or overflows at any
    lag; the spectral norm of each normalised power comes from an exact SVD. Cost: one
    (H x H) product and one SVD per lag. For a relu ``nn.RNN`` the origin has relu'(0) = 0, so
    lags >= 1 are exactly zero (-inf), as the engine reports. In a stack at the origin it gives
    the top layer's rows with ``layer = num_layers - 1``; lower layers sum paths through the
    layers above (see :func:`pascanu_envelope`) and are not covered.

    Args:
        rnn_or_weight: an ``nn.RNN`` or an ``(H, H)`` W_hh (then tanh'(0) = 1 is assumed).
        max_lag: the largest lag k (the sequence length T, to match the engine's h0 row).
        layer: which layer's W_hh, for an ``nn.RNN``.

    Returns:
        ``max_lag + 1`` rows: ``lag`` (int64), ``log10_fro``, ``log10_spec`` (float64).
    """
    if max_lag < 0:
        raise ValueError(f"max_lag must be >= 0, got {max_lag}")
    w = _weight_hh(rnn_or_weight, layer)  # (H, H)
    H = w.shape[0]
    relu = isinstance(rnn_or_weight, torch.nn.RNN) and rnn_or_weight.nonlinearity == "relu"
    fro = np.empty(max_lag + 1)
    spec = np.empty(max_lag + 1)
    fro[0], spec[0] = 0.5 * math.log10(H), 0.0  # the identity
    m = torch.eye(H, dtype=torch.float64) / math.sqrt(H)  # ||m||_F = 1
    log_scale = 0.5 * math.log(H)
    for k in range(1, max_lag + 1):
        if relu:
            fro[k] = spec[k] = -math.inf
            continue
        m = w @ m
        n = float(torch.linalg.matrix_norm(m))
        if n == 0.0:  # nilpotent: exactly zero from here on
            fro[k:] = spec[k:] = -math.inf
            break
        m = m / n
        log_scale += math.log(n)
        fro[k] = log_scale / _LN10
        spec[k] = (log_scale + math.log(float(torch.linalg.matrix_norm(m, ord=2)))) / _LN10
    return pd.DataFrame(
        {"lag": np.arange(max_lag + 1, dtype=np.int64), "log10_fro": fro, "log10_spec": spec}
    )


# --------------------------------------------------------------------------------------------
# Pascanu, Mikolov & Bengio (2013)
# --------------------------------------------------------------------------------------------


def _rnn_weights(rnn: torch.nn.RNN) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    if not isinstance(rnn, torch.nn.RNN):
        raise TypeError(f"expected a torch.nn.RNN module, got {type(rnn).__name__}")
    if rnn.bidirectional:
        raise ValueError("bidirectional=True is not supported: measure each direction apart")
    w_hh = [getattr(rnn, f"weight_hh_l{l}").detach().cpu().double() for l in range(rnn.num_layers)]
    w_ih = [getattr(rnn, f"weight_ih_l{l}").detach().cpu().double() for l in range(rnn.num_layers)]
    return w_hh, w_ih


def _log_spec(w: torch.Tensor) -> float:
    s = float(torch.linalg.matrix_norm(w, ord=2))
    return math.log(s) if s > 0 else -math.inf


def pascanu_bound(rnn: torch.nn.RNN, layer: int = 0) -> float:
    """log10 of gamma ||W_hh^layer||_2, the per-step factor of Pascanu et al. (2013).

    ||dh_{T-1}/dh_{T-1-k}||_2 <= (gamma ||W_hh||_2)^k with gamma = sup |act'| = 1 (tanh and
    relu), for every lag k >= 0, every input and every h0, for the state rows of a layer's own
    recurrence (every row of a single-layer network, the top layer of a stack). Input rows and
    lower layers of a stack need the longer bound of :func:`pascanu_envelope`.

    Returns:
        log10(gamma ||W_hh^layer||_2) as a float (-inf for an all-zero W_hh).
    """
    w_hh, _ = _rnn_weights(rnn)
    if not 0 <= layer < len(w_hh):
        raise ValueError(f"layer must be in 0..{len(w_hh) - 1}, got {layer}")
    return (math.log(_GAMMA[rnn.nonlinearity]) + _log_spec(w_hh[layer])) / _LN10


def pascanu_envelope(rnn: torch.nn.RNN, seq_len: int) -> pd.DataFrame:
    """Upper bounds on every row :func:`vanishlab.jacobian_norms` reports for sequences of T.

    With a_l = gamma ||W_hh^l||_2 and c_l = gamma ||W_ih^l||_2, the backward recurrence of the
    engine (G^l_t = G^l_{t+1} D W_hh^l + G^{l+1}_t D W_ih^{l+1}), the triangle inequality and
    submultiplicativity give, for the state rows at lag k (B^{L-1}_k = a_{L-1}^k: Pascanu's bound):

        B^l_0 = c_{l+1} B^{l+1}_0,   B^l_k = a_l B^l_{k-1} + c_{l+1} B^{l+1}_k   (0 < k < T),
        B^l_T = a_l B^l_{T-1}            (h0[l] reaches the stack through W_hh^l only),

    and for the input rows dh/dx_{T-1-k} <= c_0 B^0_k. Frobenius norms are bounded by
    sqrt(rank) times the spectral bound, rank <= min of the Jacobian's dimensions. The bound is
    attained by orthogonal weights at the origin (tanh), so it cannot be tightened in general.

    Args:
        rnn: the ``nn.RNN`` whose Jacobians are bounded.
        seq_len: T, the length of the measured sequence (state lags 0..T, input lags 0..T-1).

    Returns:
        One row per (source, layer, lag), with ``source``, ``layer`` (nullable Int64, null for
        ``"input"``), ``lag``, ``log10_spec_bound`` and ``log10_fro_bound`` (float64).
    """
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    w_hh, w_ih = _rnn_weights(rnn)
    L, T = len(w_hh), seq_len
    H, I = w_hh[0].shape[0], w_ih[0].shape[1]
    ln_gamma = math.log(_GAMMA[rnn.nonlinearity])
    a = [ln_gamma + _log_spec(w) for w in w_hh]
    c = [ln_gamma + _log_spec(w) for w in w_ih]
    b = np.full((L, T + 1), -np.inf)  # natural-log bounds, (L, T + 1)
    for l in range(L - 1, -1, -1):
        for k in range(T):
            own = (b[l, k - 1] + a[l]) if k > 0 else (0.0 if l == L - 1 else -np.inf)
            up = b[l + 1, k] + c[l + 1] if l < L - 1 else -np.inf
            b[l, k] = np.logaddexp(own, up)
        b[l, T] = b[l, T - 1] + a[l]
    b_in = b[0, :T] + c[0]  # (T,)
    state = pd.DataFrame(
        {
            "source": "state",
            "layer": pd.array(np.repeat(np.arange(L), T + 1), dtype="Int64"),
            "lag": np.tile(np.arange(T + 1, dtype=np.int64), L),
            "log10_spec_bound": b.ravel() / _LN10,
            "log10_fro_bound": (b.ravel() + 0.5 * math.log(H)) / _LN10,
        }
    )
    inp = pd.DataFrame(
        {
            "source": "input",
            "layer": pd.array([pd.NA] * T, dtype="Int64"),
            "lag": np.arange(T, dtype=np.int64),
            "log10_spec_bound": b_in / _LN10,
            "log10_fro_bound": (b_in + 0.5 * math.log(min(H, I))) / _LN10,
        }
    )
    return pd.concat([state, inp], ignore_index=True)


def check_pascanu(
    frame: pd.DataFrame,
    rnn: torch.nn.RNN,
    *,
    seq_len: int | None = None,
    tolerance: float | None = None,
) -> pd.DataFrame:
    """Check measured norms against the Pascanu bound (:func:`pascanu_envelope`), row by row.

    Args:
        frame: from :func:`vanishlab.jacobian_norms` for ``rnn`` (``log10_spec`` and/or
            ``log10_fro``) or one cell of a sweep (``log10_spec_mean``/...: a mean of logs is
            bounded whenever every sample is).
        rnn: the module that was measured.
        seq_len: T of the measured sequence; default: the largest state lag (or the largest
            input lag + 1). Give it when the frame was cut short of lag T.
        tolerance: allowed excess in log10 per step of lag (the rounding of one normalised
            product per step); default 4 n eps / ln 10 with n the largest dimension of the
            weights and eps that of the module's dtype (worst-case rounding of a product).

    Returns:
        ``frame`` with ``log10_spec_bound`` and ``log10_fro_bound`` joined on (source, layer,
        lag), ``excess`` (the largest of measured - bound over the norms present; <= 0 means
        within the bound) and ``violated`` (``excess > tolerance * (lag + 1)``).
    """
    spec_col = next((c for c in ("log10_spec", "log10_spec_mean") if c in frame.columns), None)
    fro_col = next((c for c in ("log10_fro", "log10_fro_mean") if c in frame.columns), None)
    if spec_col is None and fro_col is None:
        raise ValueError("frame has no log10_spec/log10_fro (or *_mean) column to check")
    if seq_len is None:
        state = frame["source"] == "state"
        last = int(frame.loc[state, "lag"].max()) if state.any() else int(frame["lag"].max()) + 1
        seq_len = last
    env = pascanu_envelope(rnn, seq_len)
    out = frame.merge(env, on=["source", "layer", "lag"], how="left", validate="many_to_one")
    if out["log10_spec_bound"].isna().any():
        raise ValueError("frame has rows (source, layer, lag) that this rnn cannot produce")
    if tolerance is None:
        w_hh, w_ih = _rnn_weights(rnn)
        n = max(max(w.shape) for w in (*w_hh, *w_ih))
        tolerance = 4 * n * torch.finfo(rnn.weight_hh_l0.dtype).eps / _LN10
    excess = np.full(len(out), -np.inf)
    for col, bound in ((spec_col, "log10_spec_bound"), (fro_col, "log10_fro_bound")):
        if col is None:
            continue
        measured = out[col].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):  # -inf - -inf: an exact zero under a zero bound
            diff = measured - out[bound].to_numpy(dtype=np.float64)
        diff = np.where(np.isneginf(measured), -np.inf, diff)
        excess = np.maximum(excess, diff)
    out["excess"] = excess
    out["violated"] = excess > tolerance * (out["lag"].to_numpy(dtype=np.float64) + 1)
    return out


# --------------------------------------------------------------------------------------------
# Gaussian expectations
# --------------------------------------------------------------------------------------------

_Z_MAX = 12.0  # P(|z| > 12) ~ 3.6e-33: the tail is below float64 rounding of the result
_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)


@lru_cache(maxsize=64)
def _nodes(q: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z >= 0 and weights w (including the N(0,1) density) for 2 * int_0^Z f phi dz.

    Panels: uniform of width 1/4 over [0, 12] for the Gaussian density, plus geometric panels
    w/8, w/4, ..., up to 1/4 with w = 1/sqrt(q), where act(sqrt(q) z) changes. act has its only
    kink (relu) or its steepest point (tanh) at z = 0, a panel edge, so each panel is analytic.
    """
    edges = np.arange(0.0, _Z_MAX + 1e-9, 0.25)
    if q > 0:
        scale = 1.0 / math.sqrt(q)
        if scale < 0.25:
            geo = scale / 8 * 2.0 ** np.arange(0, 64)
            edges = np.union1d(edges, geo[geo < 0.25])
    lo, hi = edges[:-1, None], edges[1:, None]  # (P, 1)
    z = (0.5 * (hi - lo) * _GL_X + 0.5 * (hi + lo)).ravel()  # (P * 32,)
    w = (0.5 * (hi - lo) * _GL_W).ravel() * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return z, w


def gaussian_expectation(fn: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    """E_z[fn(sqrt(q) z)], z ~ N(0, 1), by composite Gauss-Legendre quadrature.

    Accurate to ~1e-12 (absolute, for |fn| <= 1) for every q >= 0 and any fn that is smooth
    away from 0 (tanh^2, sech^4, relu^2, step): panels resolve both the Gaussian (width 1) and
    fn(sqrt(q) z) (width 1/sqrt(q)). ``fn`` takes and returns float64 arrays.
    """
    if not q >= 0 or not math.isfinite(q):
        raise ValueError(f"q must be finite and >= 0, got {q}")
    if q == 0:
        return float(fn(np.zeros(1))[0])
    z, w = _nodes(float(q))
    s = math.sqrt(q)
    return float(np.dot(w, fn(s * z) + fn(-s * z)))


def _sech(x: np.ndarray) -> np.ndarray:
    e = np.exp(-2.0 * np.abs(x))  # no overflow for any x
    return 2.0 * np.sqrt(e) / (1.0 + e)


def _tanh2(x: np.ndarray) -> np.ndarray:
    return np.tanh(x) ** 2


def _dtanh2(x: np.ndarray) -> np.ndarray:
    return _sech(x) ** 4


def _tanh2_over_q(q: float) -> float:
    """E[tanh(sqrt(q) z)^2] / q, with its limit 1 at q = 0 (accurate for tiny q)."""
    if q == 0:
        return 1.0
    z, w = _nodes(float(q))
    s = math.sqrt(q)
    return float(np.dot(w, 2.0 * (np.tanh(s * z) / s) ** 2))


def _bisect(fn: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of fn on [lo, hi] where fn(lo) > 0 > fn(hi), to float64 resolution."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if fn(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# --------------------------------------------------------------------------------------------
# Mean field
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanField:
    """The mean-field fixed point and its Jacobian growth factor (Poole et al. 2016).

    Attributes:
        activation: ``"tanh"`` or ``"relu"``.
        gain: g, with W_hh entries of variance g^2 / H.
        input_var, bias_var: variance per unit of the input drive W_ih x_t and of the total
            bias b_ih + b_hh.
        q_star: the stable fixed point q* of the pre-activation variance (``inf`` when
            :attr:`diverges`).
        chi_1: g^2 E[act'(sqrt(q*) z)^2], the growth of squared Jacobian norms per step.
        diverges: True when q has no finite attracting fixed point (relu with g^2 >= 2): the
            network's activity explodes.
        note: why, for the degenerate cases (divergence, relu without drive, tanh's unstable
            origin); empty otherwise.
    """

    activation: str
    gain: float
    input_var: float
    bias_var: float
    q_star: float
    chi_1: float
    diverges: bool = False
    note: str = ""

    @property
    def rate(self) -> float:
        """0.5 ln chi_1: predicted d ln||J|| / dk, natural log per step (-inf if chi_1 = 0)."""
        return 0.5 * math.log(self.chi_1) if self.chi_1 > 0 else -math.inf

    @property
    def depth_scale(self) -> float:
        """-1/ln chi_1: steps over which squared norms fall by e (negative: grow by e).

        ``inf`` at exact criticality (chi_1 = 1), 0 when chi_1 = 0.
        """
        ln_chi = 2.0 * self.rate
        if ln_chi == 0.0:
            return math.inf
        return -1.0 / ln_chi

    @property
    def regime(self) -> str:
        """``"ordered"`` (chi_1 < 1), ``"critical"`` or ``"chaotic"`` (chi_1 > 1).

        "critical" means |ln chi_1| <= :data:`CRITICAL_TOLERANCE`. For relu, chi_1 > 1 is
        explosive growth rather than bounded chaos.
        """
        ln_chi = 2.0 * self.rate
        if abs(ln_chi) <= CRITICAL_TOLERANCE:
            return "critical"
        return "ordered" if ln_chi < 0 else "chaotic"

    @property
    def phase(self) -> str:
        """The predicted gradient phase, in :func:`vanishlab.fit_decay`'s vocabulary.

        ``"vanishing"``, ``"stable"`` or ``"exploding"`` from :attr:`rate` with the same
        tolerance (:data:`vanishlab.analysis.fits.PHASE_TOLERANCE`), so it compares with measured
        phases.
        """
        return phase_of(self.rate)

    def as_dict(self) -> dict[str, Any]:
        """Fields and derived values (rate, depth_scale, regime, phase) as a flat dict."""
        return {
            "activation": self.activation,
            "gain": self.gain,
            "input_var": self.input_var,
            "bias_var": self.bias_var,
            "q_star": self.q_star,
            "chi_1": self.chi_1,
            "rate": self.rate,
            "depth_scale": self.depth_scale,
            "regime": self.regime,
            "phase": self.phase,
            "diverges": self.diverges,
            "note": self.note,
        }


def _check_mf_args(activation: str, gain: float, **variances: float) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if not (math.isfinite(gain) and gain >= 0):
        raise ValueError(f"gain must be finite and >= 0, got {gain}")
    for name, v in variances.items():
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {v}")


def mean_field(
    activation: str, gain: float, input_var: float = 0.0, bias_var: float = 0.0
) -> MeanField:
    """The mean-field fixed point q* and chi_1 of a random RNN (Poole et al. 2016).

    Solves q* = g^2 E[act(sqrt(q*) z)^2] + input_var + bias_var (the stable root, by bisection
    on a bracket to float64 resolution) and evaluates chi_1 = g^2 E[act'(sqrt(q*) z)^2]
    (Schoenholz et al. 2017; with input, Chen, Pennington & Schoenholz 2018).

    tanh: with any drive the fixed point is unique. Without drive, g <= 1 gives q* = 0 and
    chi_1 = g^2; g > 1 gives the stable q* > 0 (q = 0 is then an unstable fixed point: a network
    started exactly at the origin without drive stays there, where :func:`linear_rate` applies).

    relu: E[relu(sqrt(q) z)^2] = q/2 and E[relu'^2] = 1/2, so q* = s^2 / (1 - g^2/2) and
    chi_1 = g^2/2 for every q* > 0. Without drive q* = 0 and chi_1 = g^2/2 is kept as the limit
    of any positive activity (the Jacobian statistics do not depend on the scale of a relu
    network); only the exact origin, where every pre-activation is 0, has relu'(0) = 0 and an
    exactly zero Jacobian. With g^2 >= 2, q grows without bound from any positive activity (with
    a drive, or from any h0 != 0; no float gain squares to exactly 2, so the marginal case
    g^2 = 2 without drive does not arise): then
    ``q_star = inf`` and ``diverges = True`` (chi_1 = g^2/2 still describes the Jacobians along
    the exploding trajectory, until the state overflows).

    Args:
        activation: ``"tanh"`` or ``"relu"``.
        gain: g >= 0, W_hh entries i.i.d. with variance g^2 / H.
        input_var: variance per unit of the input drive W_ih x_t (s_u^2).
        bias_var: variance per unit of the total bias b_ih + b_hh (s_b^2).

    Returns:
        A :class:`MeanField` (``.rate``, ``.depth_scale``, ``.regime``, ``.phase``).
    """
    _check_mf_args(activation, gain, input_var=input_var, bias_var=bias_var)
    return _mean_field(activation, float(gain), float(input_var), float(bias_var))


@lru_cache(maxsize=4096)
def _mean_field(activation: str, gain: float, input_var: float, bias_var: float) -> MeanField:
    g2, s = gain * gain, input_var + bias_var
    args = (activation, gain, input_var, bias_var)
    if activation == "relu":
        chi = g2 / 2.0
        if g2 >= 2.0:
            why = "with a drive" if s > 0 else "(q = 0 is an unstable fixed point)"
            return MeanField(
                *args,
                q_star=math.inf,
                chi_1=chi,
                diverges=True,
                note=f"relu with gain^2 = {g2:.6g} >= 2 {why}: q has no finite fixed point, "
                "the activity explodes",
            )
        if s == 0.0:
            note = (
                "relu without drive: activity decays to q* = 0; chi_1 = gain^2/2 holds for any "
                "positive activity, but at exactly h = 0 relu'(0) = 0 zeroes the Jacobian"
            )
            return MeanField(*args, q_star=0.0, chi_1=chi, note=note)
        return MeanField(*args, q_star=s / (1.0 - g2 / 2.0), chi_1=chi)

    # tanh
    if s == 0.0 and g2 <= 1.0:
        return MeanField(*args, q_star=0.0, chi_1=g2)
    if s == 0.0:
        # q = 0 is unstable; the stable root solves g^2 E[tanh^2]/q = 1 on (0, g^2).
        q = _bisect(lambda q: g2 * _tanh2_over_q(q) - 1.0, 0.0, g2)
        note = "without drive q = 0 is also a fixed point (unstable); this is the stable one"
    else:
        # h(q) = g^2 E[tanh^2] + s - q: h(0) = s > 0 > h(g^2 + s), one root (E[tanh^2] concave).
        q = _bisect(lambda q: g2 * gaussian_expectation(_tanh2, q) + s - q, 0.0, g2 + s)
        note = ""
    chi = g2 * gaussian_expectation(_dtanh2, q)
    return MeanField(*args, q_star=q, chi_1=chi, note=note)


def critical_input_var(activation: str, gain: float) -> float:
    """The least drive variance s^2 = input_var + bias_var >= 0 with chi_1 <= 1.

    Input noise suppresses chaos: for tanh, q* grows with s^2 and chi_1(q*) falls, so the
    network is ordered (vanishing gradients) for every s^2 above this value and chaotic
    (exploding) below it. The answer is always a number, never None or NaN:

    - tanh, gain <= 1: ``0.0``, already ordered (or critical, gain = 1) without input.
    - tanh, gain > 1: the s^2 > 0 where chi_1 = 1, found by solving g^2 E[sech^4(sqrt(q) z)] = 1
      for q_c (chi_1 decreases in q) and setting s^2 = q_c - g^2 E[tanh^2(sqrt(q_c) z)].
    - relu: chi_1 = g^2/2 does not depend on the input, so ``0.0`` when g^2 <= 2 and ``inf``
      when g^2 > 2 (no input variance orders it).

    Returns:
        The critical drive variance per unit (a float, possibly ``0.0`` or ``inf``).
    """
    _check_mf_args(activation, gain)
    g2 = float(gain) ** 2
    if activation == "relu":
        return 0.0 if g2 <= 2.0 else math.inf
    if g2 <= 1.0:
        return 0.0
    chi = lambda q: g2 * gaussian_expectation(_dtanh2, q) - 1.0  # noqa: E731 - decreasing in q
    hi = 1.0
    while chi(hi) > 0:
        hi *= 4.0
    q_c = _bisect(chi, 0.0, hi)
    return max(0.0, q_c - g2 * gaussian_expectation(_tanh2, q_c))


# --------------------------------------------------------------------------------------------
# From a sweep cell to the mean-field inputs
# --------------------------------------------------------------------------------------------

#: How well each initialisation meets the mean-field assumptions (i.i.d. zero-mean entries).
INIT_VALIDITY: dict[str, tuple[str, str]] = {
    "normal": ("iid", "i.i.d. zero-mean Gaussian entries: the mean-field assumptions hold"),
    "xavier_normal": ("iid", "i.i.d. zero-mean Gaussian entries (Glorot)"),
    "xavier_uniform": ("iid", "i.i.d. zero-mean uniform entries (Glorot)"),
    "kaiming_normal": ("iid", "i.i.d. zero-mean Gaussian entries (He)"),
    "kaiming_uniform": ("iid", "i.i.d. zero-mean uniform entries (He)"),
    "default": (
        "iid",
        "PyTorch's default: i.i.d. uniform weights; its biases are drawn once and held fixed, a "
        "quenched per-unit field that the mean field counts only through its variance",
    ),
    "orthogonal": (
        "approximate",
        "orthogonal g Q (Saxe et al. 2014): entries are not independent, but ||W h|| = g ||h|| "
        "makes the q recursion hold and the mean squared singular value of the Jacobian grows "
        "by the same chi_1 at large width; orthogonality narrows the spread of singular values "
        "(dynamical isometry) and the seed-to-seed spread of rates, but relu rates sit slightly "
        "below the prediction at finite width (about -0.015 per step at H = 128-256)",
    ),
    "identity": (
        "none",
        "identity (Le, Jaitly & Hinton 2015) is deterministic and far from random: the "
        "Jacobian is D_t g I, so the linear regime (rate ln g with every unit on) applies instead",
    ),
}


@dataclass(frozen=True)
class MeanFieldInputs:
    """The mean-field description of one sweep cell (one layer of it).

    Attributes:
        activation: ``"tanh"`` or ``"relu"``.
        gain: effective mean-field gain sqrt(H var_hh) (the init's ``gain`` argument only when
            the init draws with variance gain^2 / H); ``None`` when not applicable.
        input_var: variance per unit of W_ih x_t: input_std^2 * input_size * var_ih for layer 0,
            H * var_ih * E[act(sqrt(q*) z)^2] of the layer below for layers above.
        bias_var: variance per unit of the total bias b_ih + b_hh (the init's var_bias), 0
            without bias.
        validity: ``"iid"`` (assumptions hold; exact as H -> infinity), ``"approximate"``
            (orthogonal), ``"none"`` (the init is not random, e.g. identity) or ``"origin"``
            (no input and no bias: from h0 = 0 the state never leaves h = 0, so the linear
            regime, :func:`linear_rate`, applies instead; relu's Jacobians are exactly 0).
        reason: one sentence on why.
    """

    activation: str
    gain: float | None
    input_var: float | None
    bias_var: float | None
    validity: str
    reason: str


def _get(cell: Mapping[str, Any] | object, name: str, default: Any = None) -> Any:
    if isinstance(cell, Mapping):
        return cell.get(name, default)
    return getattr(cell, name, default)


def _init_variances(
    init: str, hidden: int, inputs: int, gain: float
) -> tuple[float, float, float] | None:
    from ..sweep import inits  # the contract is INITS[name].variances(...)

    registry = inits.INITS
    if init not in registry:
        raise ValueError(f"unknown init {init!r}; known: {sorted(registry)}")
    return registry[init].variances(hidden, inputs, gain)


def mean_field_inputs(
    cell: Mapping[str, Any] | object,
    *,
    layer: int = 0,
    variances: tuple[float, float, float] | None = None,
) -> MeanFieldInputs:
    """Map a sweep cell's config to the inputs of :func:`mean_field`.

    The cell (a dict or an object with attributes) gives ``activation``, ``init``, ``gain``,
    ``input_std``, ``input_size``, ``hidden_size`` and ``bias`` (default True). The init's
    per-entry variances (var_hh, var_ih, var_bias) = ``INITS[init].variances(H, I, gain)`` set

        gain_mf   = sqrt(H var_hh)                        (W_hh entries of variance gain_mf^2/H)
        input_var = input_std^2 * input_size * var_ih     (x_t with i.i.d. entries of std input_std)
        bias_var  = var_bias                              (of b_ih + b_hh), 0 with bias=False

    For a layer above the first, the input is the layer below's activity: its per-unit second
    moment E[act(sqrt(q*) z)^2] at that layer's q* times H var_ih (W_ih^l is H x H).
    Which inits meet the assumptions is in :data:`INIT_VALIDITY`; an init whose ``variances``
    returns None (identity) gets validity ``"none"`` and no numbers.

    Args:
        cell: the cell config.
        layer: which layer of a stack (0-based).
        variances: (var_hh, var_ih, var_bias) to use instead of the init registry (then
            ``init`` may be absent); for ``layer > 0`` the same variances serve every layer.

    Returns:
        A :class:`MeanFieldInputs`.
    """
    activation = str(_get(cell, "activation", "tanh"))
    init = _get(cell, "init")
    H = int(_get(cell, "hidden_size"))
    I = int(_get(cell, "input_size"))
    gain = float(_get(cell, "gain", 1.0))
    input_std = float(_get(cell, "input_std", 0.0))
    bias = bool(_get(cell, "bias", True))
    validity, reason = INIT_VALIDITY.get(
        str(init), ("iid", "variances from the init registry, assumed i.i.d. zero-mean")
    )
    if variances is None and init is None:
        raise ValueError("cell has no 'init' and no variances were given")

    def layer_vars(inputs: int) -> tuple[float, float, float] | None:
        if variances is not None:
            return variances
        return _init_variances(str(init), H, inputs, gain)

    v = layer_vars(I)
    if v is None:
        if validity != "none":
            validity, reason = "none", f"init {init!r} is not i.i.d. random (no variances)"
        return MeanFieldInputs(activation, None, None, None, validity, reason)
    var_hh, var_ih, var_bias = v
    g_mf = math.sqrt(H * var_hh)
    s_b = var_bias if bias else 0.0
    s_u = input_std**2 * I * var_ih
    if s_u == 0 and s_b == 0:
        validity, reason = (
            "origin",
            "no input and no bias: a sweep cell starts at h0 = 0 and stays there, where the "
            "linear regime (ln rho(W_hh); relu: exactly zero Jacobians) applies, not the mean "
            "field's q*",
        )
    for _ in range(layer):
        below = mean_field(activation, g_mf, s_u, s_b)
        if below.diverges:
            s_u = math.inf
            break
        # E[act(sqrt(q*) z)^2]: the per-unit second moment of the activity fed upward.
        if activation == "relu":
            second_moment = below.q_star / 2.0
        else:
            second_moment = gaussian_expectation(_tanh2, below.q_star)
        v = layer_vars(H)
        assert v is not None  # the same init gave variances for layer 0
        var_hh, var_ih, var_bias = v
        g_mf = math.sqrt(H * var_hh)
        s_b = var_bias if bias else 0.0
        s_u = H * var_ih * second_moment
    return MeanFieldInputs(activation, g_mf, s_u, s_b, validity, reason)


def cell_mean_field(
    cell: Mapping[str, Any] | object,
    *,
    layer: int = 0,
    variances: tuple[float, float, float] | None = None,
) -> MeanField | None:
    """:func:`mean_field` of a sweep cell (see :func:`mean_field_inputs`); None if not applicable.

    None when the validity is ``"none"`` or ``"origin"`` (the reason is in
    :func:`mean_field_inputs`), and when the layer below diverges (relu explosion leaves no
    finite drive).
    """
    m = mean_field_inputs(cell, layer=layer, variances=variances)
    if m.validity in ("none", "origin"):
        return None
    if m.gain is None or m.input_var is None or m.bias_var is None:
        return None
    if not math.isfinite(m.input_var):
        return None
    return mean_field(m.activation, m.gain, m.input_var, m.bias_var)
