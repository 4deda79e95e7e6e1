"""One measurement of a given (trained) recurrent module, as a run directory's shard rows.

The rows are a sweep cell's (:mod:`vanishlab.sweep.store`): the exact log10 Frobenius and
spectral norms of dh^{top}_{T-1} / d(state or input) at every lag
(:func:`vanishlab.jacobian_log_norms`), aggregated over the samples of the inputs exactly as a
sweep cell's are (mean of log10 norms, i.e. the log of the geometric mean; population std over
the finite ones; the count of exact zeros). The config columns describe the module and its
inputs: ``init`` is ``"trained"`` (the weights are the user's, not an init's: ``gain`` 1 means
"as they are"), and nothing in them can be rebuilt into a random network, so no random-network
theory is ever attached to a trained model.

The top Lyapunov exponent of the module's hidden dynamics along the same inputs (natural log
per step, :func:`vanishlab.lyapunov_spectrum`, one seeded random direction, the first
T // 4 steps discarded as a transient, averaged over the samples) is measured beside it,
as a summary of a sweep cell is; a manifest keeps it as a number, ``"-inf"`` (a direction
annihilated exactly: relu units all off, or W_hh = 0) or ``"nan"`` (the forward pass
overflowed), or null where it was not measured.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..analysis.lyapunov_window import discarded_steps
from ..core.allocation import available_bytes, available_words, memory_limit
from ..core.cells import RUN_SOURCES, STATE_WIDTH
from ..core.engine import jacobian_log_norms
from ..core.inputs import module_dtype
from ..core.lyapunov import lyapunov_spectrum
from ..core.modules import module_kind
from ..core.weight_reads import module_weight
from ..core.weights_attr import DTYPE_COLUMN
from ..errors import MemoryRefusedError, NonFiniteStateError, VanishlabError
from ..sweep.catalog import TRAINED_INIT
from ..sweep.cell import aggregate_samples
from ..sweep.config import AXES, CellConfig, config_id
from ..sweep.memory import format_bytes, measure_bytes

__all__ = [
    "TRAINED_INIT",
    "cell_id",
    "check_fits",
    "check_probe_fits",
    "measure_rows",
    "memory_refused_as",
    "module_config",
    "module_dtype",
    "probe_memory_refused",
    "top_lyapunov",
]


def canonical_inputs(module: nn.RNNBase, x: torch.Tensor) -> torch.Tensor:
    """``x`` as ``(T, B, I)`` (the engine checks it fully; this only reads T and B)."""
    if x.dim() == 2:
        return x.unsqueeze(1)
    return x.transpose(0, 1) if module.batch_first else x


def module_config(
    module: nn.RNNBase, x: torch.Tensor, *, input_std: float | None = None, seed: int = 0
) -> dict[str, Any]:
    """The config columns of a module measured on inputs ``x``.

    ``input_std`` defaults to the inputs' own standard deviation (6 significant digits).
    """
    kind = module_kind(module)
    xs = canonical_inputs(module, x)
    if input_std is None:
        input_std = (
            float(f"{float(xs.detach().double().std(unbiased=False)):.6g}") if xs.numel() else 0.0
        )
    values: dict[str, Any] = {
        # A gated cell has no activation: None, as the sweep records an axis that does not
        # apply to a cell's model.
        "activation": module.nonlinearity if kind == "rnn" else None,
        "num_layers": module.num_layers,
        "hidden_size": module.hidden_size,
        "input_size": module.input_size,
        "seq_len": int(xs.shape[0]),
        "init": TRAINED_INIT,
        "gain": 1.0,
        "input_std": input_std,
        "bias": bool(module.bias),
        "batch": int(xs.shape[1]),
        "seed": seed,
        DTYPE_COLUMN: module_dtype(module),
        "model": kind,
    }
    defaults = CellConfig().to_dict()
    return {axis: values.get(axis, defaults[axis]) for axis in AXES}


def cell_id(config: dict[str, Any], **extra: Any) -> str:
    """A stable id for this measurement (config plus what tells measurements apart)."""
    return config_id({**config, **extra})


def check_fits(
    what: str, kind: str, sizes: dict[str, Any], seq_len: int, batch: int, remedy: str
) -> None:
    """Refuse a measurement of ``what`` (a module of ``kind`` and ``sizes``: ``num_layers``,
    ``hidden_size``, ``input_size``, ``dtype``, ``activation``) on inputs of ``seq_len`` x
    ``batch`` that cannot fit in the memory available: a ``VanishlabError`` with the estimate
    (the sweep's, :mod:`..sweep.memory`) and ``remedy``, instead of an allocator's error deep
    in the engine, or the system's killing the process, halfway."""
    need = measure_bytes(seq_len=seq_len, batch=batch, model=kind, **sizes)
    free = available_bytes()
    if free is not None and need > free:
        raise VanishlabError(
            f"measuring {what} T={seq_len}, B={batch} needs about {format_bytes(need)} of "
            f"memory and {available_words(free)}; {remedy}"
        )


@contextlib.contextmanager
def memory_refused_as(what: str, remedy: str) -> Iterator[None]:
    """A measurement that the CPU's allocator refused inside the block
    (:class:`~vanishlab.errors.MemoryRefusedError`), said in its caller's words: ``measuring
    {what} needs more memory than this machine can give (... at once): {remedy}``. The
    engine's own ("measuring the RNN on this x ... measure the batch in parts") name an ``x``
    that ``vanishlab analyze`` and a monitor's step were never given, and a lever neither has:
    each measures its inputs, or its probe, whole."""
    try:
        yield
    except MemoryRefusedError as err:
        size = f" ({format_bytes(err.asked)} at once)" if err.asked is not None else ""
        raise MemoryRefusedError(
            f"measuring {what} needs more memory than {memory_limit()} can give{size}: {remedy}",
            err.asked,
        ) from None


def _on_a_probe(module: nn.RNNBase) -> tuple[str, dict[str, Any]]:
    """``nn.RNN(2, 4, num_layers=1) in float32 on a probe``, and the module's sizes."""
    sizes = {
        "num_layers": module.num_layers,
        "hidden_size": module.hidden_size,
        "input_size": module.input_size,
        "dtype": module_dtype(module),
        "activation": getattr(module, "nonlinearity", None),  # an nn.RNN's; None for gates
    }
    what = f"nn.{module_kind(module).upper()}({module.input_size}, {module.hidden_size}, "
    what += f"num_layers={module.num_layers}) in {sizes['dtype']} on a probe"
    return what, sizes


def check_probe_fits(module: nn.RNNBase, seq_len: int, batch: int) -> None:
    """:func:`check_fits` for a monitor's probe, when ``module`` is on the CPU (the estimate
    is of this machine's memory; a GPU's allocator says itself what it lacks)."""
    if module_weight(module, "weight_hh_l0").device.type != "cpu":
        return
    what, sizes = _on_a_probe(module)
    remedy = "use a smaller probe (fewer sequences)"
    check_fits(f"{what} of", module_kind(module), sizes, seq_len, batch, remedy)


def probe_memory_refused(
    module: nn.RNNBase, *, out_flag: str
) -> contextlib.AbstractContextManager[None]:
    """:func:`memory_refused_as` for a monitor's step: a probe that fitted the estimate when
    the monitor was made, refused by the allocator at a step (training holds memory too).
    Its probe is fixed for its run directory, whose manifest keeps the probe's digest;
    ``out_flag`` names the run directory as the monitor's caller gave it (the monitor's
    ``out_flag``, whose default is the one definition)."""
    return memory_refused_as(
        _on_a_probe(module)[0],
        f"use a smaller probe (fewer or shorter sequences) in a new monitor and {out_flag} "
        "directory (this one's probe is fixed), or free memory beside the training",
    )


def measure_rows(
    module: nn.RNNBase, x: torch.Tensor, config: dict[str, Any], cid: str, h0: Any = None
) -> pd.DataFrame:
    """The shard rows of ``module`` on ``x`` (see the module docstring).

    Raises NonFiniteStateError when the forward pass overflows.
    """
    result = jacobian_log_norms(module, x, h0, norms=("fro", "spec"), sources=RUN_SOURCES)
    return aggregate_samples(result, SimpleNamespace(**config, cell_id=cid))


def top_lyapunov(module: nn.RNNBase, x: torch.Tensor, h0: Any = None, seed: int = 0) -> float:
    """The top Lyapunov exponent along ``x``, averaged over the samples (NaN on overflow).

    Raises TypeError where the engine does not measure this kind of module.
    """
    xs = canonical_inputs(module, x)
    T = int(xs.shape[0])
    dim = module.num_layers * module.hidden_size * STATE_WIDTH[module_kind(module)]
    q0 = torch.randn(dim, 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    try:
        lyap = lyapunov_spectrum(module, x, h0, k=1, discard=discarded_steps(T), q0=q0)
    except NonFiniteStateError:
        return math.nan
    return float(lyap.reshape(-1, 1)[:, 0].mean())
