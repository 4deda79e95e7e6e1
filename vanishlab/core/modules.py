"""The torch classes vanishlab measures, one table for every layer: each model's class
(:data:`MODULES`, in :data:`~vanishlab.core.cells.MODELS`' order), the classes themselves
(:data:`MEASURED`, what the engine, the Lyapunov spectrum, the training loop and a wrapper's
hint accept) and the gated ones (:data:`GATED`, more than one gate block: measured by
:mod:`~vanishlab.core.gated`), a module's model (:func:`module_kind`) and the class it is
measured as (:func:`measured_base`, which ``own_forward`` and the training loop read). The facts
without torch (gate blocks, state width) are :mod:`~vanishlab.core.cells`', which the report reads
without importing torch; ``trained/spec.py`` re-exports :data:`MODULES`.
"""

from __future__ import annotations

from torch import nn

from .cells import GATE_BLOCKS

__all__ = ["GATED", "MEASURED", "MODULES", "measured_base", "module_kind"]

#: Model kind -> its PyTorch class.
MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
#: The classes measured (a subclass of one is measured as its base).
MEASURED: tuple[type[nn.RNNBase], ...] = tuple(MODULES.values())
#: The gated ones (more than one gate block stacked in their weights): nn.LSTM and nn.GRU.
GATED: tuple[type[nn.RNNBase], ...] = tuple(
    cls for model, cls in MODULES.items() if GATE_BLOCKS[model] > 1
)


def measured_base(module: nn.Module) -> type[nn.RNNBase] | None:
    """The class of :data:`MEASURED` that ``module`` is an instance of (a parametrized module's
    ``ParametrizedLSTM``, a subclass, is measured as nn.LSTM); None for another module. The one
    rule, ``isinstance``, that the checks of a module (``isinstance(module, MEASURED)``) and
    :func:`module_kind` follow too."""
    return next((c for c in MEASURED if isinstance(module, c)), None)


def module_kind(module: nn.Module) -> str:
    """``"rnn"``, ``"lstm"`` or ``"gru"``: the model of ``module``'s class or of the one it
    subclasses."""
    base = measured_base(module)
    for kind, cls in MODULES.items():
        if cls is base:
            return kind
    raise TypeError(f"expected nn.RNN, nn.LSTM or nn.GRU, got {type(module).__name__}")
