"""vanishlab: measure vanishing and exploding gradients in torch.nn.RNN, and report them.

The public API lives here; each function's module opens with the maths it computes.
"""

from .engine import JacobianLogNorms, jacobian_log_norms, jacobian_norms
from .errors import NonFiniteStateError, VanishlabError
from .fits import fit_decay
from .lyapunov import lyapunov_spectrum

__all__ = [
    "JacobianLogNorms",
    "NonFiniteStateError",
    "VanishlabError",
    "fit_decay",
    "jacobian_log_norms",
    "jacobian_norms",
    "lyapunov_spectrum",
]

__version__ = "0.1.0"
