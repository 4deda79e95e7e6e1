"""The verdict on a trained model's curve that grows (:func:`growing_verdict`), and whether
it was measured over a run short against how long its gated cell keeps its state
(:func:`settle_len`): from a state of 0, as ``vanishlab analyze`` starts it, the state fills
over the first steps, and a curve can grow over them alone. The page (:mod:`.long_deps`, "At
a glance") then asks for that longer run before any change to the model. Measured in
benchmarks/extrapolation_rule.py, "settle" (its log in benchmarks/results/)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import pandas as pd

from ...errors import VanishlabError
from ...sweep.config import MODELS, CellConfig
from ...sweep.cost import cell_cost
from ...sweep.manifest import read_json_number
from ..format import duration, plural, rate_text
from .extrapolation import factor_text, poor_fit, untrusted_clause, untrusted_fit

__all__ = [
    "GROWING_ONLY",
    "LONG_SETTLE_S",
    "NO_GATES",
    "NO_PHASE",
    "SETTLE_MEMORIES",
    "STILL_FILLING",
    "Gates",
    "Growing",
    "gate_memory",
    "gate_words",
    "growing_only",
    "growing_only_rule",
    "growing_verdict",
    "page_gates",
    "phase_text",
    "phase_unread",
    "settle_len",
    "settle_run",
    "settling_reason",
]

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
    record (or a monitor's step's) holds it
    (:func:`vanishlab.trained.gate_memory.gate_memory_steps`); None where it holds none (an
    nn.RNN, a run written before it was recorded) or no finite positive number."""
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


#: The estimated time on one CPU thread past which the run the page asks for
#: (:func:`settle_run`) is said with it: a forget-gate bias of +6 keeps an LSTM's state about
#: 400 steps and asks for T = 1990, seconds for nn.LSTM(32, 32) at B = 4 and about 3 h 8 min
#: for nn.LSTM(2048, 2048) at B = 8 (:func:`~vanishlab.sweep.cost.cell_cost`), and a
#: measurement cannot stop and resume midway. The estimate is a sweep cell's, from sizes: an
#: analysis of nn.LSTM(256, 256) at T = 1990, B = 8 took 37 s of CPU at PyTorch's weights and
#: 94-98 s with its forget-gate biases at +6, 46 s estimated.
LONG_SETTLE_S = 3600


class Gates(NamedTuple):
    """What the page knows of a gated model that the verdict on a growing curve reads."""

    kind: object  # "lstm", "gru", "rnn" (None: not known)
    memory: float | None  # its gate memory (:func:`gate_memory`; None: not known)
    # num_layers, hidden_size, batch, input_size (the estimate's input Jacobians read it)
    sizes: tuple[object, object, object, object] | None = None


#: Nothing known of the model's gates: a growing curve is not read against them.
NO_GATES = Gates(None, None)


def page_gates(arch: Mapping[str, Any], memory: float | None, results: pd.DataFrame) -> Gates:
    """What a page knows of its model's gates: its architecture's kind, layers, hidden and
    input sizes, ``memory`` (:func:`gate_memory`) and the batch its rows (``results``) were measured
    at, which a run at another T would measure too (sizes None where the batch is not one)."""
    batches = results["batch"].dropna().unique() if "batch" in results else []
    if len(batches) != 1:
        return Gates(arch.get("kind"), memory)
    sizes = (
        arch.get("num_layers"),
        arch.get("hidden_size"),
        int(batches[0]),
        arch.get("input_size"),
    )
    return Gates(arch.get("kind"), memory, sizes)


def _run_time(gates: Gates, seq_len: int) -> float | None:
    """The seconds :func:`~vanishlab.sweep.cost.cell_cost` estimates a measurement of this
    model at ``seq_len`` takes on one CPU thread; None where its sizes are not known or are
    none a cell takes."""
    if gates.sizes is None or gates.kind not in MODELS:
        return None
    layers, hidden, batch, inputs = gates.sizes
    try:
        config = CellConfig(
            model=str(gates.kind),
            num_layers=layers,  # (CellConfig checks each: a hand-edited manifest's too)
            hidden_size=hidden,
            batch=batch,
            input_size=inputs,  # nn.LSTM(256, 256) was priced as one of 16 inputs: 35 s, not 46 s
            seq_len=seq_len,
        )
    except (VanishlabError, ValueError, TypeError):
        return None
    return cell_cost(config)


def settle_run(settle: int, measure: str, gates: Gates) -> str:
    """How the page asks for the run of T = ``settle`` (:func:`settle_len`): ``measure`` (a
    format of one field), with its estimated time where that is over :data:`LONG_SETTLE_S`:
    "measure with --seq-len 1990 (about 3 h 8 min on one CPU thread, by the sweep's time
    estimate)"."""
    words = measure.format(settle)
    seconds = _run_time(gates, settle)
    if seconds is None or seconds <= LONG_SETTLE_S:
        return words
    days = seconds / 86400
    took = duration(seconds) if days < 2 else f"{days:,.0f} days"
    return f"{words} (about {took} on one CPU thread, by the sweep's time estimate)"


#: Why a growing curve measured over a run short against its cell's settling is read as its
#: state filling from its start: the verdict's words, and the table's beside a line it does
#: not continue (:func:`settling_reason`).
STILL_FILLING = "the state is still filling"


def settling_reason(fit: Mapping[str, Any], gates: Gates, seq_len: int, measure: str) -> str | None:
    """Why the table does not continue the fitted line of a curve that :func:`settle_len`
    reads as its state filling, and how to measure past that: "the state is still filling;
    measure with --seq-len 280" (:func:`settle_run`: ``measure``, a format of one field, with
    the verdict's T); None where it does not read the curve so. The state's line of an LSTM of
    forget-gate bias +4 at T = 50 (B = 4) read "~1 (extrapolated)" at k = 100 where T = 280
    measured 0.14, 0.83 decades off (0.58 at k = 65), against a median 0.23 for lines
    continued that far (:data:`.extrapolation.EXTRAPOLATION_REACH`)."""
    settle = settle_len(fit, gates.memory, seq_len)
    return None if settle is None else f"{STILL_FILLING}; {settle_run(settle, measure, gates)}"


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


#: How :func:`phase_text` names a curve read as growing over the lags measured alone.
GROWING_ONLY = "growing over the lags measured"


def growing_only_rule(measured: str) -> str:
    """:func:`growing_only`'s rule, for the pages that state the verdict's reading of a rate
    above +0.01 (a monitor's "Over training" and its table of steps, a single model's table of
    fits), after "read as": "growing over the probe's lags alone: where its fit is not one to
    extrapolate, or where the probe is short against how long the gates keep the state, which
    still fills from 0 over it". ``measured`` names the sequence measured ("the probe"). Two
    wordings of it on one page, the intro's and its table's, read as two rules."""
    return (
        f"growing over {measured}'s lags alone: where its fit is not one to extrapolate, or "
        f"where {measured} is short against how long the gates keep the state, which still "
        "fills from 0 over it"
    )


#: How :func:`phase_text` names a curve whose fitted rate is not one to read a phase from.
NO_PHASE = "no phase read"


def phase_unread(fit: Mapping[str, Any]) -> str | None:
    """Why no phase is read from a curve's fitted rate ("poor fit, r² 0.88"), or None where
    one is: a curve neither vanishing nor growing (phase "stable") that has no horizon, whose
    fit is not one to extrapolate (:func:`untrusted_fit`). The verdict of a trained model's page
    then says its rate "is not one to read a phase from" (:mod:`.long_deps`), and
    :func:`phase_text` says so too, where it said "stable; poor fit, r² 0.88" beside it."""
    if fit.get("phase") != "stable" or not pd.isna(fit.get("horizon", math.nan)):
        return None
    return untrusted_fit(fit)


def phase_text(fit: Any, memory: float | None, seq_len: int | None) -> str:
    """A curve's phase as the verdict reads it, at a glance, in the fits table and in a monitor's
    table of steps (``seq_len``: its probe's T; ``memory``: that step's gates'): a curve that
    grows and that the verdict does not call exploding (:func:`.settling.growing_only`: a fit
    not one to extrapolate, or a run short against its gates' memory) is "growing over the
    lags measured, T = 50", with why its fit is not one to extrapolate where it is not
    ("exploding" said more than the verdict beside it); else its fitted phase, with
    "; poor fit, r² 0.88" where its fit is one (:func:`.extrapolation.poor_fit`); but "no phase
    read: poor fit, r² 0.88" where the verdict reads none (:func:`phase_unread`)."""
    if seq_len is not None and growing_only(fit, memory, seq_len):
        why = untrusted_fit(fit)
        return f"{GROWING_ONLY}, T = {seq_len}" + (f"; {why}" if why else "")
    unread = phase_unread(fit)
    if unread is not None:
        return f"{NO_PHASE}: {unread}"
    # any phase read from a poor fit says so: "+0.007 per step (stable)" stood beside a table
    # that continued no line of it ("not extrapolated: poor fit, r² 0.88")
    poor = poor_fit(fit)
    return str(fit["phase"]) + (f"; {poor}" if poor else "")


class Growing(NamedTuple):
    """What the verdict on a growing curve says of it besides its fit."""

    what: str  # "Measured on these inputs: the gradient from an input k steps back"
    span: str  # "the lags measured (up to 49)"
    last: int  # its last lag measured
    factor: float  # log10 of its factor there, against its reference
    seq_len: int  # the page's T
    start: float = math.nan  # log10 of its factor at its fitted line's first lag


def growing_verdict(
    fit: Mapping[str, Any],
    curve: Growing,
    longer: str,
    measure: str,
    gates: Gates,
) -> tuple[str, str]:
    """The verdict on a curve that grows and its regime: "exploding", or "unread" where
    :func:`growing_only` (its fit not one to extrapolate, said so, or the run short against
    the cell's settling), a longer run wanted before a change to the model. ``longer`` says
    how to measure more lags, ``measure`` how to measure at T = N (a format of one field) and
    ``gates`` what the page knows of the model's gates (:class:`Gates`)."""
    rate, last = float(fit["rate"]), curve.factor
    first = int(fit["lag_start"])
    fitted = f"lags {first} to {int(fit['lag_end'])}"
    end = f"×{factor_text(last)} at k = {curve.last}"
    # "×0.78 at k = 49" alone read as a fall beside "grows": said from its fitted line's start
    if math.isfinite(curve.start) and first < curve.last:
        end = f"from ×{factor_text(curve.start)} at k = {first} to {end}"
    at_last = f", {end}" if math.isfinite(last) else ""
    poor = untrusted_clause(fit)  # a poor fit says so, as a decaying curve's does
    grows = (
        f"{curve.what} grows with k within {curve.span}: {rate_text(rate)} per step on its "
        f"fitted line ({fitted}){at_last}{poor}."
    )
    kind, memory, _ = gates
    settle = settle_len(fit, memory, curve.seq_len)
    if settle is not None and memory is not None:
        # The measurement that showed it (docs/trained.md) is not quoted: an LSTM of
        # forget-gate bias +4 (56 steps) beside this model's own read as two numbers for one.
        return (
            f"{grows} This run is short against how long the cell keeps its state: its "
            f"{gate_words(kind)} keep it for about {plural(round(memory), 'step')} at their "
            f"biases alone (the median over its units), and T = {curve.seq_len} is under "
            f"{SETTLE_MEMORIES} times that. From a state of 0, as here, {STILL_FILLING} over "
            "these lags, and a curve can grow over them alone and hold level over the same lags "
            "once settled. "
            f"First {settle_run(settle, measure, gates)}, before changing the model.",
            "unread",
        )
    # Said of the lags measured: a curve can grow over a sequence's first steps alone. An
    # LSTM of forget-gate bias +4 grew at +0.02 to +0.03 per step at T = 50, and its same
    # lags measured after 350 steps held level (-0.013 to 0.000 per step)
    return (
        f"{grows} There a longer dependency gets a larger gradient, not a smaller one. Longer "
        "ones were not measured, and a curve can grow over a sequence's first steps alone, "
        f"while the state settles from its start: {longer} to see whether it goes on growing.",
        # a poor fit asks for more lags before a change to the model, as a decaying one does
        "unread" if growing_only(fit, memory, curve.seq_len) else "exploding",
    )
