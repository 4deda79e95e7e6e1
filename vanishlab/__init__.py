"""vanishlab: measure vanishing and exploding gradients in torch.nn.RNN, and report them.

The public API lives here; each function's module opens with the maths it computes.
"""

from .config import CellConfig, Sweep
from .engine import JacobianLogNorms, jacobian_log_norms, jacobian_norms
from .errors import NonFiniteStateError, VanishlabError
from .experiments import Experiment, list_experiments, load_experiment
from .fits import fit_decay
from .inits import INITS, Init, register_init
from .lyapunov import lyapunov_spectrum
from .report import render_report
from .store import load_cells, load_manifest, load_results
from .sweep import RunSummary, run_cell, run_sweep

__all__ = [
    "INITS",
    "CellConfig",
    "Experiment",
    "Init",
    "JacobianLogNorms",
    "NonFiniteStateError",
    "RunSummary",
    "Sweep",
    "VanishlabError",
    "fit_decay",
    "jacobian_log_norms",
    "jacobian_norms",
    "list_experiments",
    "load_cells",
    "load_experiment",
    "load_manifest",
    "load_results",
    "lyapunov_spectrum",
    "register_init",
    "render_report",
    "run_cell",
    "run_sweep",
]

__version__ = "0.1.0"
