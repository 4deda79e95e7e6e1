"""The built-in initialisations' names, one-line descriptions and models, and the names that
are not inits (a trained model's): plain tables that :mod:`vanishlab.sweep.inits` builds its
registry from (no torch is imported by either; ``vanishlab inits`` lists the registry). Also
the standard deviations of Xavier and Kaiming, which the registry's variances and the draws of
:mod:`vanishlab.sweep.init_weights` share: so the draws import the catalog, not the registry,
which imports them on the first draw (an import the other way would be a cycle).
"""

from __future__ import annotations

import math

from ..core.cells import MODELS

__all__ = [
    "ALL_MODELS",
    "BUILTIN_INITS",
    "BUILTIN_MODELS",
    "CHRONO_MEMORY",
    "CHRONO_T_MAX",
    "FORGET_BIAS",
    "FORGET_BIAS_MEMORY",
    "TRAINED_INIT",
    "chrono_description",
    "chrono_memory",
    "kaiming_std",
    "xavier_std",
]

TRAINED_INIT = "trained"
"""The ``init`` column of a trained model's rows (``vanishlab analyze``, a JacobianMonitor):
not an init of the registry, since its weights were learned, not drawn."""

FORGET_BIAS = 1.0
"""The total bias the built-in ``forget_bias`` init gives the gate that keeps the state (LSTM f,
GRU z; b_ih, with b_hh 0), Gers et al. 2000 and Jozefowicz et al. 2015's 1."""

CHRONO_T_MAX = 100
"""T_max of the built-in ``chrono`` init: the longest dependency it prepares for (Tallec &
Ollivier 2018 draw the forget bias as log U(1, T_max - 1)); fixed, so that cells differing only
in ``seq_len`` share their weights (common random numbers), and equal to the default
``seq_len``. :func:`vanishlab.chrono_init` makes a chrono init of another T_max."""

# How long each gate init keeps the state, the median over the units of 1 + e^b at the gate's
# bias b alone, as vanishlab.trained.gate_memory.gate_memory_steps reads a model's: the page's
# "What to try" compares a model's gates with them.
FORGET_BIAS_MEMORY = 1 + math.exp(FORGET_BIAS)
"""The ``forget_bias`` init's: 1 + e^1 = 3.7 steps."""


def chrono_memory(t_max: float) -> float:
    """A chrono init of this T_max's: b = log u, u ~ U(1, T_max - 1), so 1 + u, whose median is
    1 + T_max / 2."""
    return 1 + t_max / 2


CHRONO_MEMORY = chrono_memory(CHRONO_T_MAX)
"""The built-in ``chrono``'s: 51 steps."""


def chrono_description(t_max: int) -> str:
    """The line ``vanishlab inits`` shows for a chrono init of this T_max: the built-in's
    (:data:`CHRONO_T_MAX`) and :func:`vanishlab.chrono_init`'s."""
    return (
        "gated: PyTorch's default weights (W_hh times gain), chrono biases b_f = log U(1, "
        f"T_max - 1), T_max = {t_max}, on LSTM f with b_i = -b_f, on GRU z (no input gate; "
        "Tallec & Ollivier 2018)"
    )


BUILTIN_INITS: dict[str, str] = {
    "default": "PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) on every weight and bias, W_hh times gain",
    "xavier_uniform": (
        "Glorot uniform, std sqrt(2/(fan_in+fan_out)) on W_ih and W_hh, W_hh times gain, "
        "zero biases"
    ),
    "xavier_normal": (
        "Glorot normal, std sqrt(2/(fan_in+fan_out)) on W_ih and W_hh, W_hh times gain, zero biases"
    ),
    "kaiming_uniform": (
        "He uniform, std sqrt(2/fan_in) on W_ih and W_hh, W_hh times gain (relu-critical at 1), "
        "zero biases"
    ),
    "kaiming_normal": (
        "He normal, std sqrt(2/fan_in) on W_ih and W_hh, W_hh times gain (relu-critical at 1), "
        "zero biases"
    ),
    "orthogonal": (
        "gain times a random orthogonal W_hh (each gate block of an LSTM's or GRU's), a "
        "semi-orthogonal W_ih (Saxe 2014); zero biases"
    ),
    "identity": "IRNN (Le et al. 2015): W_hh = gain * I, W_ih ~ N(0, 1/fan_in), zero biases",
    "normal": "mean-field: W_hh ~ N(0, gain^2/H), W_ih ~ N(0, 1/fan_in), zero biases",
    "forget_bias": (
        "gated: PyTorch's default weights (W_hh times gain), zero biases but the forget gate's "
        f"(LSTM f; GRU z) total bias {FORGET_BIAS:g} (Gers 2000; Jozefowicz 2015)"
    ),
    "chrono": chrono_description(CHRONO_T_MAX),
}
"""Name -> the line ``vanishlab inits`` shows. Its order is the registry's (the one statement
of it): :mod:`vanishlab.sweep.inits` registers the built-ins in this order."""

ALL_MODELS: tuple[str, ...] = MODELS
"""Every model an init may apply to (the ``model`` axis's values)."""

BUILTIN_MODELS: dict[str, tuple[str, ...]] = {
    **{name: ("rnn",) for name in BUILTIN_INITS},
    "default": ALL_MODELS,
    "orthogonal": ALL_MODELS,
    "forget_bias": ("lstm", "gru"),
    "chrono": ("lstm", "gru"),
}
"""Name -> the models each built-in init applies to (:attr:`vanishlab.sweep.inits.Init.models`)."""


def xavier_std(fan_in: int, fan_out: int, gain: float) -> float:
    """Glorot's standard deviation, ``gain * sqrt(2 / (fan_in + fan_out))``."""
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def kaiming_std(fan_in: int, gain: float) -> float:
    """He's standard deviation with the relu gain built in, ``gain * sqrt(2 / fan_in)``."""
    return gain * math.sqrt(2.0 / fan_in)
