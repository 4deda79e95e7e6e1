"""Whether a trained model's curve that grows was measured over a run short against how long
its gated cell keeps its state (:func:`settle_len`): from a state of 0, as ``vanishlab analyze``
starts it, the state fills over the first steps, and a curve can grow over them alone. The
page (:mod:`.long_deps`, "At a glance") then asks for that longer run before any change to
the model. Measured in benchmarks/extrapolation_rule.py, "settle" (its log in
benchmarks/results/)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...sweep.manifest import read_json_number
from .extrapolation import untrusted_fit

__all__ = ["SETTLE_MEMORIES", "gate_memory", "gate_words", "growing_only", "settle_len"]

#: A gated cell's growing curve is read as its state still filling from its start where T is
#: under this many times the cell's gate memory (:func:`gate_memory`). LSTMs and GRUs of a
#: raised gate bias at PyTorch's W_hh, fitted from a state of 0 at T = 50 to 400: the 59 lines
#: that grew (rate above +0.01) and were level or falling over the same lags once settled all
#: had T under 4.7 times it. With W_hh 6 and 10 times PyTorch's too, T under 5 times it held 88
#: of the 155 that grew from the start alone, and 28 of the 245 that grew settled too (these
#: are asked for the longer run first, and grow there).
SETTLE_MEMORIES = 5


def gate_memory(model: Mapping[str, Any]) -> float | None:
    """The steps the gates keep the state at their biases alone, as the manifest's ``model``
    record holds it (:func:`vanishlab.trained.gate_memory.gate_memory_steps`); None where it
    holds none (an nn.RNN, a monitor's run, an analysis before it was recorded) or no finite
    positive number."""
    steps = read_json_number(model.get("gate_memory_steps"))
    return steps if steps is not None and math.isfinite(steps) and steps > 0 else None


def settle_len(fit: Mapping[str, Any], memory: float | None, seq_len: int) -> int | None:
    """The T that measures a growing curve (``fit``, phase "exploding") past its cell's
    settling, :data:`SETTLE_MEMORIES` times ``memory`` rounded up to a multiple of 10; None
    where the curve does not grow, the memory is not known, or ``seq_len`` (the page's T) is
    already that long."""
    if fit.get("phase") != "exploding" or memory is None:
        return None
    needed = SETTLE_MEMORIES * memory
    return 10 * math.ceil(needed / 10) if seq_len < needed else None


def gate_words(kind: object) -> str:
    """The gates :func:`gate_memory` reads, as the page names them."""
    return "update gates (z)" if kind == "gru" else "forget gates"


def growing_only(fit: Mapping[str, Any], memory: float | None, seq_len: int) -> bool:
    """Whether a curve that grows (phase "exploding") is read as growing over the lags measured
    alone, not as exploding: its fit is not one to extrapolate (:func:`untrusted_fit`), or the
    run is short against its cell's settling (:func:`settle_len`). The verdict then asks for
    more lags before any change to the model, and "At a glance" says "growing"."""
    if fit.get("phase") != "exploding":
        return False
    return untrusted_fit(fit) is not None or settle_len(fit, memory, seq_len) is not None
