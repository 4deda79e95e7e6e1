"""vanishlab: measure vanishing and exploding gradients in torch.nn.RNN, LSTM and GRU, and report
them.

The public API lives here; each function's module opens with the maths it computes. Names are
imported on first use (PEP 562), so that ``import vanishlab`` and the command line's help answer
without importing torch, pandas or pyarrow.
"""

from __future__ import annotations

from ._version import __version__ as __version__

# typing.TYPE_CHECKING without importing typing: the console command imports this module before
# its Ctrl-C handling is in place (vanishlab.__main__), so it imports nothing it can do without.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .analysis.fits import fit_decay
    from .analysis.linear import linear_rate, origin_log_norms
    from .analysis.meanfield import MeanField, critical_input_var, mean_field
    from .analysis.pascanu import check_pascanu, pascanu_bound, pascanu_envelope
    from .core.engine import JacobianLogNorms, jacobian_log_norms, jacobian_norms
    from .core.lyapunov import lyapunov_spectrum
    from .core.steps import counting_steps
    from .errors import ManifestChangedWarning, NonFiniteStateError, VanishlabError
    from .report import render_report
    from .sweep.chrono import chrono_init
    from .sweep.config import CellConfig, Sweep
    from .sweep.critical import critical_gain
    from .sweep.experiments import Experiment, list_experiments, load_experiment
    from .sweep.inits import INITS, Init, register_init
    from .sweep.measure import run_cell
    from .sweep.prediction import MeanFieldInputs, cell_mean_field, mean_field_inputs
    from .sweep.runner import RunSummary, run_sweep
    from .sweep.store import load_cells, load_manifest, load_results
    from .sweep.summary import summarize
    from .sweep.train_cell import load_training
    from .train import TrainResult, train_cell
    from .trained import JacobianMonitor, analyze_checkpoint, read_checkpoint

__all__ = [
    "INITS",
    "CellConfig",
    "Experiment",
    "Init",
    "JacobianLogNorms",
    "JacobianMonitor",
    "ManifestChangedWarning",
    "MeanField",
    "MeanFieldInputs",
    "NonFiniteStateError",
    "RunSummary",
    "Sweep",
    "TrainResult",
    "VanishlabError",
    "analyze_checkpoint",
    "cell_mean_field",
    "check_pascanu",
    "chrono_init",
    "counting_steps",
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
    "load_training",
    "lyapunov_spectrum",
    "mean_field",
    "mean_field_inputs",
    "origin_log_norms",
    "pascanu_bound",
    "pascanu_envelope",
    "read_checkpoint",
    "register_init",
    "render_report",
    "run_cell",
    "run_sweep",
    "summarize",
    "train_cell",
]

_LAZY: dict[str, str] = {
    "JacobianMonitor": ".trained",
    "analyze_checkpoint": ".trained",
    "read_checkpoint": ".trained",
    "train_cell": ".train",
    "TrainResult": ".train",
    "fit_decay": ".analysis.fits",
    "linear_rate": ".analysis.linear",
    "origin_log_norms": ".analysis.linear",
    "MeanField": ".analysis.meanfield",
    "critical_input_var": ".analysis.meanfield",
    "mean_field": ".analysis.meanfield",
    "check_pascanu": ".analysis.pascanu",
    "pascanu_bound": ".analysis.pascanu",
    "pascanu_envelope": ".analysis.pascanu",
    "JacobianLogNorms": ".core.engine",
    "jacobian_log_norms": ".core.engine",
    "jacobian_norms": ".core.engine",
    "lyapunov_spectrum": ".core.lyapunov",
    "counting_steps": ".core.steps",
    "ManifestChangedWarning": ".errors",
    "NonFiniteStateError": ".errors",
    "VanishlabError": ".errors",
    "render_report": ".report",
    "run_cell": ".sweep.measure",
    "load_training": ".sweep.train_cell",
    "CellConfig": ".sweep.config",
    "Sweep": ".sweep.config",
    "Experiment": ".sweep.experiments",
    "list_experiments": ".sweep.experiments",
    "load_experiment": ".sweep.experiments",
    "chrono_init": ".sweep.chrono",
    "INITS": ".sweep.inits",
    "Init": ".sweep.inits",
    "register_init": ".sweep.inits",
    "MeanFieldInputs": ".sweep.prediction",
    "cell_mean_field": ".sweep.prediction",
    "critical_gain": ".sweep.critical",
    "mean_field_inputs": ".sweep.prediction",
    "RunSummary": ".sweep.runner",
    "run_sweep": ".sweep.runner",
    "load_cells": ".sweep.store",
    "load_manifest": ".sweep.store",
    "load_results": ".sweep.store",
    "summarize": ".sweep.summary",
}


# Hidden from type checkers, which read the API from the imports above: to them a module's
# __getattr__ answers every name, so a misspelt vl.jacobian_norm(...) was Any, and unflagged.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'vanishlab' has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(module, __name__), name)
        globals()[name] = value  # once imported, a plain module attribute
        return value


# Neither is the API: without them, a notebook's tab completion (dir) offered vl.annotations,
# the __future__ feature (the annotations above stay strings: that is decided at compile time).
del TYPE_CHECKING, annotations


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
