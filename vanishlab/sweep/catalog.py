"""The built-in initialisations' names and one-line descriptions, without torch.

:mod:`vanishlab.sweep.inits` builds its registry from this table, and ``vanishlab inits`` lists
it without importing torch (the command answers in a fraction of torch's import time).
"""

from __future__ import annotations

__all__ = ["BUILTIN_INITS"]

BUILTIN_INITS: dict[str, str] = {
    "default": "PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) on every weight and bias, W_hh times gain",
    "xavier_uniform": (
        "Glorot uniform, std sqrt(2/(fan_in+fan_out)) on W_ih and W_hh, W_hh times gain"
    ),
    "xavier_normal": (
        "Glorot normal, std sqrt(2/(fan_in+fan_out)) on W_ih and W_hh, W_hh times gain"
    ),
    "kaiming_uniform": (
        "He uniform, std sqrt(2/fan_in) on W_ih and W_hh, W_hh times gain (relu-critical at 1)"
    ),
    "kaiming_normal": (
        "He normal, std sqrt(2/fan_in) on W_ih and W_hh, W_hh times gain (relu-critical at 1)"
    ),
    "orthogonal": (
        "gain times a random orthogonal W_hh, a semi-orthogonal W_ih (Saxe 2014); zero biases"
    ),
    "identity": "IRNN (Le et al. 2015): W_hh = gain * I, W_ih ~ N(0, 1/fan_in), zero biases",
    "normal": "mean-field: W_hh ~ N(0, gain^2/H), W_ih ~ N(0, 1/fan_in), zero biases",
}
"""Name -> the line ``vanishlab inits`` shows, in registry order."""
