"""The mean field of a random ``nn.RNN``: the fixed point q* and the Jacobian growth chi_1.

Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington & Schoenholz 2018 (docs/theory.md).
For W_hh with i.i.d. zero-mean entries of variance g^2/H, an input drive W_ih x_t of variance
s_u^2 per unit and biases of total variance s_b^2, the pre-activation variance q follows

    q_t = g^2 E_z[act(sqrt(q_{t-1}) z)^2] + s_u^2 + s_b^2,      z ~ N(0, 1),

towards a fixed point q*, and at infinite width the squared norm of the Jacobian grows by

    chi_1 = g^2 E_z[act'(sqrt(q*) z)^2]

per step. So the predicted log-norm rate is 0.5 ln chi_1 (natural log per step), the depth
scale of squared norms is -1/ln chi_1, and chi_1 = 1 is the critical point (vanishing below,
exploding above): for tanh the edge of chaos. Input noise raises q*, saturates tanh and so
suppresses chaos (Toyoizumi & Abbott 2011); :func:`critical_input_var` gives the input variance
where chi_1 reaches 1. For relu, E[relu(sqrt(q) z)^2] = q/2 and chi_1 = g^2/2 whatever q (relu
is positively homogeneous), and q* has no finite fixed point once g^2 >= 2 with any drive
(:attr:`MeanField.diverges`): relu has no chaotic phase, and its chi_1 = 1 is no edge of chaos
but the gain past which the activity diverges. Gaussian expectations:
:mod:`vanishlab.analysis.gaussian`. At finite width, near criticality, and in
transients, the measured rates depart from the prediction; the mean field is exact only as
H -> infinity.

In a stack, layer l > 0 is driven by the layer below: :func:`layer_drive` maps per-entry weight
variances to (g, s_u^2, s_b^2) of any layer. Which initialisation has which variances, and
whether it meets the assumptions, is the init registry's knowledge
(:mod:`vanishlab.sweep.inits`); :mod:`vanishlab.sweep.prediction` puts the two together.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .activations import ACTIVATIONS
from .fits import phase_of
from .gaussian import bisect, dtanh2, dtanh4, gaussian_expectation, tanh2, tanh2_over_q

__all__ = [
    "CRITICAL_TOLERANCE",
    "MeanField",
    "Variances",
    "critical_input_var",
    "layer_drive",
    "mean_field",
    "real_number",
]

#: |ln chi_1| below which the mean field calls a configuration "critical" (docs/theory.md,
#: "Mean field", says why 1e-9: 1000x the quadrature's error; tests/test_docs_theory.py holds
#: the page's number to this one).
CRITICAL_TOLERANCE = 1e-9

Variances = tuple[float, float, float]
"""Per-entry variances (var_hh, var_ih, var_bias) of W_hh, W_ih and b_ih + b_hh."""


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
    def live_fraction(self) -> float:
        """(E[act'(sqrt(q*) z)^2])^2 / E[act'(sqrt(q*) z)^4], between 0 and 1.

        The participation ratio of the squared derivatives: H times it is the effective number
        of units that carry the Jacobian at a step. 1 at q* = 0 (every tanh' is 1), 1/2 for
        relu (half the units on, for any positive activity), and small for saturated tanh at a
        large gain (about 0.8/g: only units near 0 pass a gradient). A finite network's rate
        falls short of :attr:`rate` by about 1/(H live_fraction) per step (measured with input
        std 1: about -3/H for tanh at g = 3; -1.07 at g = 50 and H = 64, where H live_fraction
        is 1.0), the mean field being exact as that goes to 0.
        """
        if self.activation == "relu":
            return 0.5
        if self.q_star == 0.0:
            return 1.0
        second = gaussian_expectation(dtanh2, self.q_star)
        fourth = gaussian_expectation(dtanh4, self.q_star)
        return second * second / fourth if fourth > 0 else 0.0

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


def real_number(name: str, value: object) -> float:
    """``value`` as a float: a real number (Python, NumPy, a one-element tensor), not a bool
    or a string (``float("1.5")`` would take it); a ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(value, bool | str | bytes):
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, RuntimeError):
            pass
    raise TypeError(f"{name} must be a real number, got {value!r:.60}")


def _check_mf_args(activation: str, gain: object, **variances: object) -> tuple[float, ...]:
    """``gain`` and the ``variances`` as floats, after checking every argument."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    gain = real_number("gain", gain)
    if not (math.isfinite(gain) and gain >= 0):
        raise ValueError(f"gain must be a finite number >= 0, got {gain}")
    values = {name: real_number(name, v) for name, v in variances.items()}
    for name, v in values.items():
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v}")
    if not math.isfinite(gain * gain + sum(values.values())):  # q* would be inf
        raise ValueError(
            f"gain² plus the drive variances overflow float64 (gain {gain:g}): too large"
        )
    return (gain, *values.values())


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
    checked = _check_mf_args(activation, gain, input_var=input_var, bias_var=bias_var)
    return _mean_field(activation, *checked)


@lru_cache(maxsize=4096)
def _mean_field(activation: str, gain: float, input_var: float, bias_var: float) -> MeanField:
    g2, s = gain * gain, input_var + bias_var
    args = (activation, gain, input_var, bias_var)
    if activation == "relu":
        chi = g2 / 2.0  # exact: chi >= 1 is g^2 >= 2, and the rate's 0.5 ln chi >= 0
        if chi >= 1.0:  # in words: vanishlab.sweep.summary_fields.RELU_DIVERGES
            why = "with a drive" if s > 0 else "(q = 0 is an unstable fixed point)"
            return MeanField(
                *args,
                q_star=math.inf,
                chi_1=chi,
                diverges=True,
                note=f"relu with χ₁ = gain²/2 = {chi:.6g} ≥ 1 {why}: q has no finite fixed "
                "point, the activity explodes",
            )
        if s == 0.0:
            note = (
                "relu without drive: activity decays to q* = 0; χ₁ = gain²/2 holds for any "
                "positive activity, but at exactly h = 0 relu′(0) = 0 zeroes the Jacobian"
            )
            return MeanField(*args, q_star=0.0, chi_1=chi, note=note)
        return MeanField(*args, q_star=s / (1.0 - g2 / 2.0), chi_1=chi)

    # tanh
    if s == 0.0 and g2 <= 1.0:
        return MeanField(*args, q_star=0.0, chi_1=g2)
    if s == 0.0:
        # q = 0 is unstable; the stable root solves g^2 E[tanh^2]/q = 1 on (0, g^2).
        q = bisect(lambda q: g2 * tanh2_over_q(q) - 1.0, 0.0, g2)
        note = "without drive q = 0 is also a fixed point (unstable); this is the stable one"
    else:
        # h(q) = g^2 E[tanh^2] + s - q: h(0) = s > 0 > h(g^2 + s), one root (E[tanh^2] concave).
        q = bisect(lambda q: g2 * gaussian_expectation(tanh2, q) + s - q, 0.0, g2 + s)
        note = ""
    chi = g2 * gaussian_expectation(dtanh2, q)
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
    (gain,) = _check_mf_args(activation, gain)
    g2 = gain**2
    if activation == "relu":
        return 0.0 if g2 <= 2.0 else math.inf
    if g2 <= 1.0:
        return 0.0
    chi = lambda q: g2 * gaussian_expectation(dtanh2, q) - 1.0  # noqa: E731 - decreasing in q
    hi = 1.0
    top = sys.float_info.max / 2  # bisect's lo + hi stays finite
    while chi(hi) > 0:
        if hi == top:  # q_c ~ 0.28 g^4 reaches float64's largest numbers from g ~ 1.3e77
            raise ValueError(
                f"gain {gain:g} is too large: the critical drive variance (about 0.28 gain⁴) "
                "is near or beyond float64's largest number"
            )
        hi = min(4.0 * hi, top)
    q_c = bisect(chi, 0.0, hi)
    return max(0.0, q_c - g2 * gaussian_expectation(tanh2, q_c))


def layer_drive(
    activation: str,
    *,
    hidden_size: int,
    input_size: int,
    input_std: float,
    bias: bool,
    variances: Callable[[int], Variances],
    layer: int = 0,
) -> tuple[float, float, float]:
    """(g, input_var, bias_var) of :func:`mean_field` for layer ``layer`` of a random stack.

    ``variances(fan_in)`` gives the per-entry variances (var_hh, var_ih, var_bias) of a layer
    whose W_ih has ``fan_in`` columns (``input_size`` for layer 0, ``hidden_size`` above). Then

        g         = sqrt(H var_hh)                        (W_hh entries of variance g^2/H)
        input_var = input_std^2 * input_size * var_ih     (x_t with i.i.d. entries of std input_std)
        bias_var  = var_bias                              (of b_ih + b_hh), 0 with bias=False

    and for a layer above the first the input is the layer below's activity: its per-unit
    second moment E[act(sqrt(q*) z)^2] at that layer's q* times H var_ih. ``input_var`` is
    ``inf`` when a layer below diverges (relu with g^2 >= 2: no finite drive).
    """
    H = hidden_size
    var_hh, var_ih, var_bias = variances(input_size)
    g = math.sqrt(H * var_hh)
    s_b = var_bias if bias else 0.0
    s_u = input_std**2 * input_size * var_ih
    for _ in range(layer):
        below = mean_field(activation, g, s_u, s_b)
        if below.diverges:
            return g, math.inf, s_b
        # E[act(sqrt(q*) z)^2]: the per-unit second moment of the activity fed upward.
        if activation == "relu":
            second_moment = below.q_star / 2.0
        else:
            second_moment = gaussian_expectation(tanh2, below.q_star)
        var_hh, var_ih, var_bias = variances(H)
        g = math.sqrt(H * var_hh)
        s_b = var_bias if bias else 0.0
        s_u = H * var_ih * second_moment
    return g, s_u, s_b
