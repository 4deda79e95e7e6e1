"""Trained models: read a saved recurrent module, measure it, and track it over training.

- :func:`read_checkpoint` finds an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` in a ``torch.save``
  file (loaded with ``weights_only=True`` only) and infers its architecture from its weights;
- :func:`analyze_checkpoint` (``vanishlab analyze``) measures it into a run directory;
- :class:`JacobianMonitor` measures a module on a fixed probe during training, one shard per
  recorded step.

Every run directory written here is read by ``vl.load_results`` like a sweep's.
"""

from __future__ import annotations

from .analyze import SINGLE_MODEL, analyze_checkpoint
from .analyze_run import AnalyzeResult
from .checkpoint import Checkpoint, RecurrentSpec, read_checkpoint
from .monitor import MONITOR, JacobianMonitor

__all__ = [
    "MONITOR",
    "SINGLE_MODEL",
    "AnalyzeResult",
    "Checkpoint",
    "JacobianMonitor",
    "RecurrentSpec",
    "analyze_checkpoint",
    "read_checkpoint",
]
