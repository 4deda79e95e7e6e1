"""The built-in initialisations' names and one-line descriptions, without torch.

:mod:`vanishlab.sweep.inits` builds its registry from this table, and ``vanishlab inits`` lists
it without importing torch (the command answers in a fraction of torch's import time).
"""

from __future__ import annotations

__all__ = ["BUILTIN_INITS"]

BUILTIN_INITS: dict[str, str] = {
    "default": "PyTorch's own: every weight U(-1/sqrt(H), 1/sqrt(H)) times gain; biases as PyTorch",
    "xavier_uniform": (
        "Glorot uniform, std gain*sqrt(2/(fan_in+fan_out)), on W_ih and W_hh; zero biases"
    ),
    "xavier_normal": (
        "Glorot normal, std gain*sqrt(2/(fan_in+fan_out)), on W_ih and W_hh; zero biases"
    ),
    "kaiming_uniform": (
        "He uniform, std gain*sqrt(2/fan_in) (relu-critical at gain 1), W_ih and W_hh; zero biases"
    ),
    "kaiming_normal": (
        "He normal, std gain*sqrt(2/fan_in) (relu-critical at gain 1), W_ih and W_hh; zero biases"
    ),
    "orthogonal": (
        "gain times a random orthogonal W_hh and semi-orthogonal W_ih (Saxe 2014); zero biases"
    ),
    "identity": "IRNN (Le et al. 2015): W_hh = gain * I, W_ih ~ N(0, 1/fan_in), zero biases",
    "normal": "mean-field: W_hh ~ N(0, gain^2/H), W_ih ~ N(0, 1/fan_in), zero biases",
}
"""Name -> the line ``vanishlab inits`` shows, in registry order."""
