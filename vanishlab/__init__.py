"""vanishlab: measure vanishing and exploding gradients in torch.nn.RNN, and report them.

The public API lives here; each function's module opens with the maths it computes.
"""

from ._version import __version__ as __version__
from .analysis.fits import fit_decay
from .analysis.theory import (
    MeanField,
    MeanFieldInputs,
    cell_mean_field,
    check_pascanu,
    critical_input_var,
    linear_rate,
    mean_field,
    mean_field_inputs,
    origin_log_norms,
    pascanu_bound,
    pascanu_envelope,
)
from .core.engine import JacobianLogNorms, jacobian_log_norms, jacobian_norms
from .core.lyapunov import lyapunov_spectrum
from .errors import NonFiniteStateError, VanishlabError
from .report import render_report
from .sweep.config import CellConfig, Sweep
from .sweep.experiments import Experiment, list_experiments, load_experiment
from .sweep.inits import INITS, Init, register_init
from .sweep.runner import RunSummary, run_cell, run_sweep
from .sweep.store import load_cells, load_manifest, load_results
from .sweep.summary import critical_gain, summarize

__all__ = [
    "INITS",
    "CellConfig",
    "Experiment",
    "Init",
    "JacobianLogNorms",
    "MeanField",
    "MeanFieldInputs",
    "NonFiniteStateError",
    "RunSummary",
    "Sweep",
    "VanishlabError",
    "cell_mean_field",
    "check_pascanu",
    "critical_gain",
    "critical_input_var",
    "fit_decay",
    "jacobian_log_norms",
    "jacobian_norms",
    "linear_rate",
    "list_experiments",
    "load_cells",
    "load_experiment",
    "load_manifest",
    "load_results",
    "lyapunov_spectrum",
    "mean_field",
    "mean_field_inputs",
    "origin_log_norms",
    "pascanu_bound",
    "pascanu_envelope",
    "register_init",
    "render_report",
    "run_cell",
    "run_sweep",
    "summarize",
]
