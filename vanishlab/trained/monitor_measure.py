"""One step of a monitor measured: the module on its probe, as a sweep cell's rows
(:func:`~vanishlab.trained.measure.measure_rows`), with torch's random number generators
restored after it and a refusal of memory in the monitor's words; a parameter that training
made inf or NaN, or a forward pass that overflowed, a failed step; and, where asked, the top
Lyapunov exponent along the probe.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..core import global_rng
from ..core.weight_reads import computed_said, module_weight
from ..errors import NonFiniteStateError
from ..sweep.cell import empty_frame
from .measure import measure_rows, probe_memory_refused, top_lyapunov
from .monitored import failure_kind, non_finite_parameter

__all__ = ["measure_step"]


def measure_step(
    module: nn.RNNBase,
    probe: torch.Tensor,
    h0: Any,
    config: dict[str, Any],
    cid: str,
    *,
    lyapunov: bool,
    out_flag: str,
) -> tuple[pd.DataFrame, str, str | None, str | None, float | None]:
    """The rows of step ``cid`` (``config``: the module's), its status (``"ok"`` or
    ``"failed"``), the reason and the kind (``"overflow"``, ``"nan"``) of a failure, and the
    top Lyapunov exponent (None where not asked for, failed, or of a module whose dynamics
    the engine does not follow)."""
    lyap: float | None = None
    failure: str | None = None
    device = module_weight(module, "weight_hh_l0").device
    refused = probe_memory_refused(module, out_flag=out_flag)
    with global_rng.forked([device]), refused:  # RNG restored
        diverged = non_finite_parameter(module)
        if diverged is not None:  # training diverged: a failed step, as an overflow is
            frame, status, (reason, failure) = empty_frame(), "failed", diverged
        else:
            try:
                frame = measure_rows(module, probe, config, cid, h0)
                status, reason = "ok", None
            except NonFiniteStateError as err:
                frame, status, reason = empty_frame(), "failed", str(err)
                failure = failure_kind(err.value)
        if lyapunov and status == "ok":
            # TypeError/ValueError: a kind of module whose dynamics the engine does not follow
            # (computed_said: a computed weight's warning said by measure_rows, not twice)
            with contextlib.suppress(TypeError, ValueError), computed_said():
                lyap = top_lyapunov(module, probe, h0)
    return frame, status, reason, failure, lyap
