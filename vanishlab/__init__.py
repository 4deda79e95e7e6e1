"""vanishlab: measure vanishing and exploding gradients in torch.nn.RNN, and report them.

The public API lives here; each function's module opens with the maths it computes.
"""

from .engine import JacobianLogNorms, jacobian_log_norms, jacobian_norms
from .errors import NonFiniteStateError, VanishlabError

__all__ = [
    "JacobianLogNorms",
    "NonFiniteStateError",
    "VanishlabError",
    "jacobian_log_norms",
    "jacobian_norms",
]

__version__ = "0.1.0"
