"""The activations of ``nn.RNN`` and the one fact every bound needs about them.

``nn.RNN(nonlinearity=...)`` takes ``"tanh"`` or ``"relu"``. Both have gamma = sup |act'| = 1
(tanh'(0) = 1, relu' in {0, 1}), the factor of the Pascanu bound (docs/theory.md).
"""

from __future__ import annotations

__all__ = ["ACTIVATIONS", "GAMMA"]

ACTIVATIONS: tuple[str, ...] = ("tanh", "relu")
"""``nn.RNN``'s nonlinearities: the values of the sweep's ``activation`` axis."""

GAMMA: dict[str, float] = {"tanh": 1.0, "relu": 1.0}
"""sup |act'(a)| over a, per activation."""
