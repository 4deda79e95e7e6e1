"""One cell of a sweep: build its network and inputs from its seed; aggregate its norms.

A cell (:class:`~vanishlab.sweep.config.CellConfig`) is measured by
:func:`vanishlab.sweep.measure.run_cell`, from the pieces of this module:

1. build ``nn.RNN(input_size, hidden_size, num_layers, nonlinearity, bias, dtype)`` (or
   ``nn.LSTM`` / ``nn.GRU`` without ``nonlinearity``, by the cell's ``model``) and set
   every parameter with the cell's init and gain (:mod:`vanishlab.sweep.inits`), drawing from a
   ``torch.Generator`` seeded from (``seed``, "weights");
2. draw ``batch`` input sequences x ~ N(0, input_std^2), shape (T, batch, input_size), from a
   second generator seeded from (``seed``, "inputs"); h0 = 0, as ``nn.RNN`` defaults;
3. measure the exact log10 Frobenius and spectral norms of dh^{top}_{T-1} / d(state or input)
   at every lag (:func:`vanishlab.core.engine.jacobian_log_norms`);
4. aggregate over the batch (:func:`aggregate_samples`), per (source, layer, lag):
   ``log10_*_mean`` is the mean of log10 norms, i.e. the log of the geometric mean of the
   norms (-inf as soon as one sample's Jacobian is exactly zero, which is then the true
   geometric mean); ``log10_*_std`` the population standard deviation (ddof = 0) over the
   samples whose norm is finite (0 in the shard when there is none, every sample exactly zero,
   which :func:`vanishlab.sweep.store.load_results` reads as NaN: not applicable, said by the
   row's ``n_zero``); ``n_zero`` the number of samples whose Jacobian is exactly zero. NaN
   never appears in a shard.

Two generators keyed by the seed alone mean that cells which differ only in gain, init or
activation see the same base draws and the same inputs (common random numbers), so a gain
sweep traces smooth curves; nothing is drawn from torch's global RNG, whose state is left
untouched. Each measurement pins torch to one intra-op thread (reductions are chunked by
thread, so the thread count would otherwise change the last bits) and keeps subnormal floats
(a caller's ``torch.set_flush_denormal(True)`` would turn them into zeros, and a relu
derivative of a subnormal pre-activation into 0), and every tensor is made with an explicit
dtype (never torch's default, which a caller may have changed): so a cell's numbers are
bit-identical whatever runs it: this process, a local worker process, or a Dask worker
(:func:`pinned_numerics`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..core import global_rng
from ..core.engine import JacobianLogNorms
from ..core.seeds import seeded_generator
from ..errors import VanishlabError
from . import store, train_cell
from .config import AXES, CellConfig
from .inits import INITS, Init

__all__ = [
    "aggregate_samples",
    "cell_inputs",
    "cell_module",
    "empty_frame",
    "pinned_numerics",
]


@contextlib.contextmanager
def pinned_numerics() -> Iterator[None]:
    """Pin what torch keeps per thread while a measurement of this thread runs: one intra-op
    thread, and subnormal floats kept (flush-to-zero off), restoring both after.

    Both are settings of the calling thread, so each measuring thread pins and restores its
    own (Dask workers measure cells in several threads at once). The intra-op thread count is
    OpenMP's, which every thread keeps for itself once it has run torch code: another thread's
    ``torch.set_num_threads(1)`` left it measuring on all cores (other last bits). Flushing is
    the CPU's, per thread (a new thread inherits its creator's).
    """
    threads = torch.get_num_threads()  # this thread's
    if threads != 1:
        torch.set_num_threads(1)
    flushing = _flushes_denormals()
    if flushing:
        torch.set_flush_denormal(False)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(True)
        if threads != 1:
            torch.set_num_threads(threads)


def _flushes_denormals() -> bool:
    """Whether this thread flushes subnormal floats to zero (torch has no getter for it)."""
    return torch.tensor([1e-39], dtype=torch.float32).mul(1.0).item() == 0.0


def cell_module(config: CellConfig, init: Init | None = None) -> nn.RNNBase:
    """The cell's ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (its ``model``), initialised from its
    seed (see the module docstring). Raises VanishlabError for an init that does not apply to
    the model (a registered init object given here bypasses the grid's check)."""
    init = _resolve_init(config, init)
    model = config.model
    if model not in init.models:
        raise VanishlabError(f"init {init.name!r} does not apply to model {model!r}")
    dtype = getattr(torch, config.dtype)
    shape = (config.input_size, config.hidden_size, config.num_layers)
    # Under global_rng's lock throughout: another thread's constructor drawing between the
    # two reads of the state below failed this cell as if its init had drawn.
    with global_rng.LOCK:
        with global_rng.forked():  # nn.RNN's own reset draws from the global RNG
            module: nn.RNNBase
            if model == "lstm":
                module = nn.LSTM(*shape, bias=config.bias, dtype=dtype)
            elif model == "gru":
                module = nn.GRU(*shape, bias=config.bias, dtype=dtype)
            else:
                nonlinearity = config.activation
                module = nn.RNN(*shape, nonlinearity=nonlinearity, bias=config.bias, dtype=dtype)
        drawn = {name: p.detach().clone() for name, p in module.named_parameters()}
        with global_rng.forked():  # the state is compared, then restored
            before = torch.random.get_rng_state()
            init.apply(module, config.gain, seeded_generator(config.seed, "weights"))
            drew_global = not torch.equal(before, torch.random.get_rng_state())
    if drew_global:  # its weights would change with the cells run before it in the process
        raise VanishlabError(
            f"init {init.name!r} drew from torch's global random generator: draw only from the "
            "generator its apply is given (torch.randn(..., generator=gen)), so that a cell's "
            "weights depend on its seed alone"
        )
    # A parameter left as the constructor drew it (from the global RNG) is not the seed's.
    kept = [name for name, p in module.named_parameters() if torch.equal(p, drawn[name])]
    if kept:
        raise VanishlabError(
            f"init {init.name!r} left {', '.join(kept)} as nn.{type(module).__name__} drew "
            f"{'them' if len(kept) > 1 else 'it'}: set every parameter from the generator its "
            "apply is given, so that a cell's weights depend on its seed alone"
        )
    return module


def cell_inputs(config: CellConfig) -> torch.Tensor:
    """The cell's input sequences, ``(seq_len, batch, input_size)`` in the cell's dtype: the
    task's own inputs for a cell with a ``task`` (:mod:`vanishlab.sweep.train_cell`)."""
    if config.task != "none":
        return train_cell.task_inputs(config, seeded_generator(config.seed, "inputs"))
    shape = (config.seq_len, config.batch, config.input_size)
    dtype = getattr(torch, config.dtype)
    if config.input_std == 0:
        return torch.zeros(shape, dtype=dtype)
    x = torch.randn(shape, generator=seeded_generator(config.seed, "inputs"), dtype=dtype)
    return x * config.input_std


def _resolve_init(config: CellConfig, init: Init | None) -> Init:
    if init is None:
        try:
            return INITS[config.init]
        except KeyError:
            raise VanishlabError(f"unknown init {config.init!r}") from None
    if init.name != config.init:
        raise ValueError(f"init {init.name!r} given for a cell with init {config.init!r}")
    return init


def _log_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``a`` (samples x rows, log10 norms): mean, std over finite, zero count."""
    if np.isnan(a).any() or np.isposinf(a).any():
        raise AssertionError("vanishlab bug: NaN or +inf log-norm from the engine")
    finite = np.isfinite(a)
    n = finite.sum(axis=0)
    mean = a.mean(axis=0)  # -inf where any sample is an exact zero: the true geometric mean
    safe_n = np.maximum(n, 1)
    fmean = np.where(finite, a, 0.0).sum(axis=0) / safe_n
    var = (np.where(finite, a - fmean, 0.0) ** 2).sum(axis=0) / safe_n
    return mean, np.sqrt(var), (~finite).sum(axis=0)


def empty_frame() -> pd.DataFrame:
    """A shard's rows for a cell with none (a failed cell): the columns, typed."""
    frame = store.SCHEMA.empty_table().to_pandas()
    frame["layer"] = frame["layer"].astype("Int64")
    return frame


def aggregate_samples(result: JacobianLogNorms, config: CellConfig) -> pd.DataFrame:
    """Shard rows: inputs (lag 0..T-1), then states of layer 0..L-1 (lag 0..T each)."""
    assert result.state_fro is not None and result.state_spec is not None
    assert result.input_fro is not None and result.input_spec is not None
    B, L, K = result.state_fro.shape  # K = T + 1

    def columns(state: torch.Tensor, inputs: torch.Tensor) -> np.ndarray:
        return np.concatenate([inputs.numpy(), state.numpy().reshape(B, L * K)], axis=1)

    fro_mean, fro_std, n_zero = _log_stats(columns(result.state_fro, result.input_fro))
    spec_mean, spec_std, _ = _log_stats(columns(result.state_spec, result.input_spec))
    T = K - 1
    n_rows = T + L * K
    layer = pd.array([pd.NA] * T + list(np.repeat(np.arange(L), K)), dtype="Int64")
    frame = pd.DataFrame({axis: [getattr(config, axis)] * n_rows for axis in AXES})
    frame["cell_id"] = config.cell_id
    frame["source"] = ["input"] * T + ["state"] * (L * K)
    frame["layer"] = layer
    frame["lag"] = np.concatenate([np.arange(T), np.tile(np.arange(K), L)]).astype(np.int64)
    frame["log10_fro_mean"] = fro_mean
    frame["log10_fro_std"] = fro_std
    frame["log10_spec_mean"] = spec_mean
    frame["log10_spec_std"] = spec_std
    frame["n_zero"] = n_zero.astype(np.int64)
    return frame
