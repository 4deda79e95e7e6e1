"""Measure one cell: its shard's rows, its metadata, and its summary row beside theory.

:func:`run_cell` is the whole of a cell's work, done in whatever process runs the cell (this
one, a local worker, a Dask worker):

1. build the cell's module and inputs from its seed (:func:`vanishlab.sweep.cell.cell_module`,
   :func:`vanishlab.sweep.cell.cell_inputs`);
2. measure the exact log10 Frobenius and spectral norms of dh^{top}_{T-1} / d(state or input)
   at every lag (:func:`vanishlab.core.engine.jacobian_log_norms`) and aggregate them over the
   batch (:func:`vanishlab.sweep.cell.aggregate_samples`): the shard's rows;
3. summarise the cell beside theory with that same module and those inputs
   (:func:`vanishlab.sweep.cell_summary.summarize_cell`: fitted rates, the top Lyapunov
   exponent, the predictions that apply, flags), and keep the row in the shard's metadata
   (``summary``: the row, a SHA-256 of it, and a digest of the code that computed it).

So per-cell analysis runs where the cell is measured, in parallel, and resumes with it: a
shard holds its summary row, and :func:`vanishlab.summarize` only reads it (it computes the
row of a shard that lacks one, or holds one from other code, as before).
"""

from __future__ import annotations

import time
import traceback
from typing import Any

import pandas as pd
import torch

from ..core.allocation import memory_refused
from ..core.cells import RUN_SOURCES
from ..core.engine import jacobian_log_norms
from ..errors import MemoryRefusedError, NonFiniteStateError, both_words, traceback_wanted
from . import store, train_cell
from .cell import aggregate_samples, cell_inputs, cell_module, empty_frame, pinned_numerics
from .cell_summary import summarize_cell, with_training
from .config import CellConfig
from .files import as_flag
from .inits import Init
from .memory import BESIDE, refused_reason
from .progress import status_line
from .schema import overflow_reason
from .summary_fields import code_digest

__all__ = ["run_cell"]


class _Unrepresentable(ArithmeticError):
    """A cell whose weights or inputs overflow its dtype (a ``gain`` or ``input_std`` too large
    for it: ``--gain 1e308``). Such a cell fails as an overflow, a result of its setting like
    a forward pass that diverges, not as an error that a rerun could mend."""


def _built(config: CellConfig, init: Init | None) -> tuple[Any, torch.Tensor]:
    """The cell's module and inputs; :class:`_Unrepresentable` when they are not finite in its
    dtype, or an init cannot even draw its weights at such a gain (torch's ``uniform_``
    refuses a bound beyond the dtype: the default init). Weights an init sets to inf or NaN at
    a gain that cannot overflow the dtype are the init's defect: a ValueError (an error)."""
    limit = torch.finfo(getattr(torch, config.dtype)).max / 1e3
    huge = [
        (a, v) for a, v in (("gain", config.gain), ("input_std", config.input_std)) if v > limit
    ]
    try:
        rnn = cell_module(config, init)
        x = cell_inputs(config)
    except (RuntimeError, OverflowError, ValueError):
        if not huge:
            raise
        axis, value = huge[0]
        what = "weights" if axis == "gain" else "inputs"
        raise _Unrepresentable(
            # torch's own words ("from is out of bounds for float") name no setting
            overflow_reason(what, f"{config.dtype} at {axis} {value:g} (they cannot be drawn)")
        ) from None
    for name, param in rnn.named_parameters():
        if not bool(torch.isfinite(param).all()):
            if not any(a == "gain" for a, _ in huge):  # no gain overflows: the init's doing
                raise ValueError(
                    f"init {config.init!r} set {name} to inf or NaN at gain {config.gain:g}, "
                    f"where the gain cannot overflow {config.dtype}"
                )
            raise _Unrepresentable(
                overflow_reason(
                    "weights", f"{config.dtype} at gain {config.gain:g} ({name} holds inf or NaN)"
                )
            )
    if not bool(torch.isfinite(x).all()):
        raise _Unrepresentable(
            overflow_reason("inputs", f"{config.dtype} at input_std {config.input_std:g}")
        )
    return rnn, x


def _reason(err: Exception, beside: str | None, *, training: bool = False) -> str:
    """A failed cell's reason, on one line: memory refused (the CPU's allocator, or Python's
    MemoryError: a task's batch drawn, train/'s words) in a cell's words with its levers
    (:func:`~vanishlab.sweep.memory.refused_reason`), not those of the engine's caller or of
    torch; any other error as it says, in at most 300 characters."""
    if isinstance(err, MemoryRefusedError | MemoryError):
        asked = err.asked if isinstance(err, MemoryRefusedError) else None
        said = refused_reason(asked, training=training, beside=beside)
        return f"{type(err).__name__}: {said}"
    text = " ".join(both_words(err).split())[:300]  # each surface reads its own words
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _traceback_said(config: CellConfig, err: Exception) -> None:
    """Where ``VANISHLAB_TRACEBACK`` asks for it (:func:`~vanishlab.errors.traceback_wanted`),
    the traceback of the error a cell fails with, on stderr as the cell is recorded (a Dask
    worker's in its log): its reason is one line, and a MemoryError's names the cell's levers,
    where a bug's request (an exabyte for a wrong shape) read as the machine's shortage."""
    if traceback_wanted():
        told = "".join(traceback.format_exception(err)).rstrip()
        status_line(f"cell {config.cell_id} failed with an error:\n{told}")


def run_cell(
    config: CellConfig,
    *,
    init: Init | None = None,
    summary: bool = True,
    beside: str | None = None,
) -> tuple[pd.DataFrame, store.CellMeta]:
    """Measure one cell: its shard rows and its metadata (see the module docstring).

    Returns ``(frame, meta)``: ``frame`` has the columns of :data:`vanishlab.sweep.store.COLUMNS`,
    one row per (source, layer, lag), inputs first; ``meta`` is the shard's ``vanishlab.cell``
    metadata ``{cell_id, config, status, reason, failure, elapsed_s, n_rows, summary}``. A
    forward pass that overflows (:class:`~vanishlab.errors.NonFiniteStateError`, e.g. relu
    explosion), or weights or inputs beyond the dtype (``gain=1e308`` in float32), give a
    zero-row frame with ``status = "failed"``, ``failure = "overflow"`` and the error as
    ``reason``; any other exception of the measurement likewise with
    ``failure = "error"`` (so one bad cell does not stop a sweep; :func:`run_sweep` reports
    it). ``init`` overrides the registry entry (used to ship user-registered inits to
    workers). ``summary=False`` skips the summary row (``meta`` then has no ``summary``);
    ``elapsed_s`` includes it, but not the one-off digest of the code that computes it.
    ``beside`` is what may run beside the cell, so that a cell refused memory names the lever
    that frees some (:data:`vanishlab.sweep.memory.BESIDE`): None (alone), ``"workers"``
    (local worker processes) or ``"dask"`` (a Dask worker); the executors pass it.
    """
    if not isinstance(config, CellConfig):  # a dict failed with "no attribute 'cell_id'"
        raise TypeError(
            f"config must be a vanishlab.CellConfig (vl.CellConfig(**settings)), got "
            f"{type(config).__name__}"
        )
    if init is not None and not isinstance(init, Init):  # a programmer's mistake, not a cell's
        raise TypeError(f"init must be a vanishlab.Init or None, got {type(init).__name__}")
    if beside not in BESIDE:  # a programmer's mistake: the reason would have no lever
        raise ValueError(f"beside must be one of {', '.join(map(repr, BESIDE))}, got {beside!r}")
    summary = as_flag(summary, "summary")  # summary="no" computed the row
    # Before the clock: a process's first digest parses ~60 modules (~1.2 s on a loaded 2-core
    # machine, where a quick grid's cell takes 0.2 s), which its first cell's time recorded
    code = code_digest() if summary else None
    start = time.perf_counter()
    failure: str | None = None
    rnn: Any = None
    x: Any = None
    stored: store.StoredSummary | None = None
    trained: train_cell.TrainRecord | None = None
    # (the module is built as a normal tensor's owner even under the caller's inference_mode,
    # so that a trained cell can train it: train_cell turns autograd on itself)
    with pinned_numerics(), torch.inference_mode(False):
        try:
            with memory_refused("building the cell"):  # its module and inputs: torch's words
                rnn, x = _built(config, init)
            result = jacobian_log_norms(rnn, x, norms=("fro", "spec"), sources=RUN_SOURCES)
        except (NonFiniteStateError, _Unrepresentable) as err:  # diverged: a result, not an error
            frame, status, reason, failure = empty_frame(), "failed", str(err), "overflow"
        except Exception as err:  # recorded, listed, exit status 1; --retry-failed reruns it
            frame, status, reason, failure = empty_frame(), "failed", _reason(err, beside), "error"
            _traceback_said(config, err)
        else:
            frame, status, reason = aggregate_samples(result, config), "ok", None
        row: dict[str, Any] | None = None
        if summary and failure != "error":
            try:  # at initialisation, before any training changes the weights
                row = summarize_cell(config, frame, status=status, reason=reason, rnn=rnn, x=x)
            except Exception:  # left to summarize(), which computes the row again
                row = None
        if status == "ok" and config.train_steps > 0:
            try:  # trained in place after the measurement at init: docs/trainability.md
                with memory_refused("training the cell"):  # torch's words, from inside train/
                    trained = train_cell.train_record(config, rnn)
            except Exception as err:  # recorded like a failed measurement
                reason = f"training: {_reason(err, beside, training=True)}"
                _traceback_said(config, err)
                frame, status, failure, row = empty_frame(), "failed", "error", None
        if row is not None and code is not None:
            if trained is not None:
                row = with_training(row, trained)
            stored = store.stored_summary(row, code)
    meta: store.CellMeta = {
        "cell_id": config.cell_id,
        "config": config.to_dict(),
        "status": status,
        "reason": reason,
        "failure": failure,
        "elapsed_s": time.perf_counter() - start,
        "n_rows": len(frame),
    }
    if stored is not None:
        meta["summary"] = stored
    if trained is not None and status == "ok":
        meta["train"] = trained  # type: ignore[typeddict-item]
    return frame, meta
