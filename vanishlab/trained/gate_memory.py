"""How long a gated cell's units keep their state with their gates at their biases alone:
:func:`gate_memory_steps`. A run much shorter than it measures the state while it still fills
from its start: an LSTM of forget-gate bias +4 (56 steps) grew at +0.02 to +0.03 per step at
T = 50, and its same lags measured after 350 steps held level (the page of a trained model,
:mod:`vanishlab.report.sections.long_deps`; benchmarks/extrapolation_rule.py, "settle")."""

from __future__ import annotations

import torch
from torch import nn

from ..core.modules import GATED

__all__ = ["KEEP_GATE", "gate_memory_steps"]

#: The gate block that keeps the state, in PyTorch's gate order: an LSTM's forget gate f (i, f,
#: g, o: c' = f c + i g) and a GRU's update gate z (r, z, n: h' = (1 - z) n + z h).
KEEP_GATE = 1


def gate_memory_steps(module: nn.Module) -> float | None:
    """The median over the units of every layer of 1 / (1 - sigmoid(b_ih + b_hh)) of the gate
    that keeps the state (:data:`KEEP_GATE`): the steps a unit's state lasts, e-fold, where its
    gate is at its bias (no input, no state; 2 without biases). None for an nn.RNN, which has
    no such gate."""
    if not isinstance(module, GATED):
        return None
    h, steps = module.hidden_size, []
    for layer in range(module.num_layers):
        bias = torch.zeros(h, dtype=torch.float64)
        if module.bias:
            for side in ("ih", "hh"):
                block = getattr(module, f"bias_{side}_l{layer}").detach()
                # on the CPU: a monitored module may train on a GPU
                bias += block[KEEP_GATE * h : (KEEP_GATE + 1) * h].to("cpu", torch.float64)
        # 1 / (1 - sigmoid(b)) = 1 + e^b, exactly, and finite up to b of about 709
        steps.append(1 + torch.exp(bias))
    return float(torch.cat(steps).quantile(0.5))
