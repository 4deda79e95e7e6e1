"""The section "What this means for long dependencies" of one trained model's page
(``vanishlab analyze``): the measured decay read as an answer to "why does my model fail to
learn long dependencies, and what fixes it?".

- a verdict in a sentence or two, from the horizon of the input curve (the state's where there
  is no input curve): the lag where ||J|| fell 1000-fold; an exploding rate says the opposite,
  and where the run is short against how long a gated cell keeps its state
  (:mod:`.settling`), that it may be the state filling from its start: measure longer first;
- a small table: by how much the gradient from k steps back is smaller (or larger) than at lag
  0, for the top layer's state and the input, at k = 10, 30, 100, 300 and the longest lag both
  curves measured. A lag the inputs hold is read from the measured curve ("measured"); one past
  them, up to :data:`.extrapolation.EXTRAPOLATION_REACH` times the longest, is the curve's
  fitted line continued, as an order of magnitude ("~10^-3 (extrapolated)"), unless the fit is
  not one to continue (:func:`untrusted_fit`: a poor fit among others) or the verdict reads
  the curve as its state filling (:func:`.settling.settling_reason`), where it is left out;
  one farther says which sequence length measures it;
- what to try, keyed to the model (nn.RNN tanh or relu, LSTM, GRU) and to the verdict, each a
  ``vanishlab sweep`` command of the built-in inits and experiments at this model's size;
- where the verdict names a length of dependency (a horizon, measured or on the fitted line),
  the ``vanishlab sweep trainability`` command that tests whether fresh networks of this kind
  learn dependencies around it (:func:`.learn_command.learn_code`).

The fits and horizons are those of the page's other sections (:func:`.trained.curve_fits`): no
curve is fitted again here. The factor at a lag is relative to the curve's lag-0 norm, the
reference of its horizon (of its first non-zero lag where lag 0's is exactly 0).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import pandas as pd

from ...analysis.fits import HORIZON_DECADES
from ...core.log_units import LN10
from ...sweep.section_names import FITS, LONG_DEPS
from ..format import plural, rate_text
from ..model import Code, Section, Table
from ..view import LSTM_STATE, RunView, state_jacobian
from .extrapolation import (
    CONTINUED_OFF,
    REACH_WORDS,
    factor_text,
    magnitude_text,
    reach,
    untrusted_fit,
)
from .learn_command import learn_code
from .rate_cells import HORIZON_FOLD
from .settling import (
    NO_GATES,
    Gates,
    Growing,
    gate_memory,
    growing_verdict,
    page_gates,
    phase_unread,
    settling_reason,
)
from .trained import (
    LONGER_SEQUENCE,
    MEASURE_SEQ_LEN,
    architecture,
    at_zero,
    curve_fits,
    curve_mask,
    find_fit,
    fit_horizon_text,
    measure_words,
    model_record,
    num_layers,
    too_few_lags,
    zero_throughout,
)
from .what_to_try import sizes_of, suggested_gate_inits, what_to_try

__all__ = [
    "LAGS",
    "LongDepsAnswer",
    "long_deps_answer",
    "long_deps_section",
]

#: The lags the table gives, with the longest lag measured.
LAGS = (10, 30, 100, 300)


class _Curve(NamedTuple):
    """One measured curve: its fit row, its norms (log10) by lag and its reference."""

    words: str  # what the verdict calls it
    fit: dict[str, Any]
    norms: dict[int, float]
    ref: float | None  # log10 ||J|| at the horizon's reference lag (None: 0 at every lag)
    ref_lag: int | None  # that lag: 0 unless lag 0's norm is exactly 0
    last: int  # its last lag measured
    after: int  # how many steps of the sequence follow its last lag (the input's 1, the state's 0)


def _curve(
    results: pd.DataFrame, fits: pd.DataFrame, source: str, layer: int | None, words: str
) -> _Curve | None:
    fit = find_fit(fits, source, layer)
    if fit is None:
        return None
    rows = results[curve_mask(results, source, layer)].sort_values("lag")
    norms = dict(zip(rows["lag"].astype(int), rows["log10_fro_mean"].astype(float), strict=True))
    finite = [k for k, v in norms.items() if math.isfinite(v)]  # by lag: the first non-zero
    ref_lag = finite[0] if finite else None
    ref = norms[ref_lag] if ref_lag is not None else None
    # a state's lags run to T (the state before the first step), an input's to T - 1
    return _Curve(words, fit, norms, ref, ref_lag, max(norms), int(source == "input"))


def _line(curve: _Curve, k: int) -> float:
    """log10 of the factor at lag ``k`` on the curve's fitted line (natural-log units)."""
    fit = curve.fit
    return (float(fit["intercept"]) + float(fit["rate"]) * k) / LN10 - float(curve.ref or 0)


def _cell(curve: _Curve | None, k: int, measure: str, gates: Gates) -> str:
    """A curve's factor at lag ``k``: measured, on its fitted line, or why not; ``measure``
    says how to measure lag N and ``gates`` what the page knows of the model's gates."""
    if curve is None:
        return "—"
    if k in curve.norms:
        if curve.ref is None:  # exactly 0 at every lag
            return "0 (exact, measured)"
        value = curve.norms[k] - curve.ref
        return "0 (exact, measured)" if value == -math.inf else f"{factor_text(value)} (measured)"
    # a line the verdict reads as the state filling is not continued, as a poor fit's is not
    seq_len = curve.last + curve.after
    why = settling_reason(curve.fit, gates, seq_len, measure) or untrusted_fit(curve.fit)
    if why:
        return f"— (not extrapolated: {why})"
    if k > reach(curve.last):
        return f"— (past {REACH_WORDS} the lags measured: {measure.format(k + curve.after)})"
    return f"{magnitude_text(_line(curve, k))} (extrapolated)"


def _line_horizon(curve: _Curve) -> int:
    """The lag where the fitted line falls 1000-fold below the reference: past the last lag
    (and possibly past :func:`reach` of it, where the verdict does not name it)."""
    rate, intercept = float(curve.fit["rate"]), float(curve.fit["intercept"])
    k = ((float(curve.ref or 0) - HORIZON_DECADES) * LN10 - intercept) / rate
    return max(math.ceil(k), curve.last + 1)


def _tenfold(main: _Curve, line: int) -> tuple[int, int]:
    """The lags where the fitted line falls 100-fold and 10^4-fold: its horizon ``line`` (a
    1000-fold fall) if the line were 10-fold off, as 1 in 5 continued that far were; never a
    lag measured (the curve had not fallen 1000-fold there)."""
    decade = LN10 / abs(float(main.fit["rate"]))
    rate, intercept = float(main.fit["rate"]), float(main.fit["intercept"])
    k = ((float(main.ref or 0) - HORIZON_DECADES) * LN10 - intercept) / rate
    return max(math.ceil(k - decade), main.last + 1), max(math.ceil(k + decade), line)


#: How many times faster the top layer's state's gradient must decay than the input's for the
#: verdict to say why their horizons differ (13 and 9 steps: -0.904 and -0.559 per step).
NOTABLY_FASTER = 1.25


def _why_two(inp: _Curve | None, top: _Curve | None, first: _Curve | None, layers: int) -> str:
    """Why a stack's input horizon is longer than its top layer's state's: the input's gradient
    passes through the layers below too, and decays as slowly as the gradient from layer 0's
    state (``first``) does, the slowest of the stack ("": the rates are near, or not so)."""
    if inp is None or top is None or first is None or first is top:
        return ""
    r_in, r_top, r_0 = (float(c.fit["rate"]) for c in (inp, top, first))
    if not all(math.isfinite(r) and r < 0 for r in (r_in, r_top, r_0)):
        return ""
    if r_top > NOTABLY_FASTER * r_in or abs(r_0 - r_in) > 0.1 * abs(r_in):
        return ""
    return (
        " The input's column falls more slowly than the state's because an input's gradient "
        f"also passes through {'layer 0' if layers == 2 else 'the layers below the top one'}, "
        f"where it decays at {rate_text(r_in)} per step, as the gradient from layer 0's state "
        f"does{_own(r_0, r_in)}, against the top layer's {rate_text(r_top)}."
    )


#: How far (decades) a curve's longest lag may sit above its least value over the later half
#: of its lags before the table's caption says that it rises again there: 10-fold.
LATE_RISE_DECADES = 1.0


def _late_rise(curve: _Curve | None, column: str, measure: str) -> str:
    """A caption sentence where ``curve``, falling on its fitted line, rises again over its last
    lags, at least :data:`LATE_RISE_DECADES` from its least value over the later half of its
    lags up to the longest ("" otherwise): those lags are the sequence's first steps, where the
    state is still leaving its start, and the table's row of the longest lag reads them. A
    growing curve is left to its verdict, which says that it may grow over those steps alone.

    A trained 2-layer LSTM (forget gates keeping its state about 22 steps) measured at T = 120
    from a state of 0 read its input column 11 times higher at k = 119 (6.7e-3) than at k = 99:
    at T = 240 the same lag 119 read 2.1e-4, 32 times lower, and the rise had moved to the new
    last lags (11-fold from k = 219 to 239). Its verdict said that a dependency longer than 84
    steps gets little gradient, beside a row of the longest lag 6.7 times above the horizon's
    1000-fold fall, unexplained."""
    if curve is None or curve.ref is None or not float(curve.fit["rate"]) < 0:
        return ""  # a growing curve's verdict says itself that it may be the start's
    late = {k: v for k, v in curve.norms.items() if k >= curve.last // 2 and math.isfinite(v)}
    if curve.last not in late or len(late) < 2:
        return ""
    low = min(late, key=late.__getitem__)
    rise = late[curve.last] - late[low]
    if low == curve.last or rise < LATE_RISE_DECADES:
        return ""
    seq_len = curve.last + curve.after
    return (
        f" The {column} column rises again over its last lags, {factor_text(rise)}-fold from "
        f"k = {low} to k = {curve.last}. Those lags are the sequence's first steps, where the "
        "state is still leaving its start: the row of the longest lag need not be what a "
        "dependency that long gets later in a sequence "
        f"({measure.format(2 * seq_len)} to see whether these lags rise there too)."
    )


def _own(rate: float, beside: float) -> str:
    """`` (rate)`` where it reads otherwise than ``beside``, which the words say it equals
    (within a tenth): the table shows layer 0's rate nowhere."""
    return "" if rate_text(rate) == rate_text(beside) else f" ({rate_text(rate)})"


def _verdict(
    main: _Curve,
    other: _Curve | None,
    measured_on: str,
    longer: str,
    measure: str,
    gates: Gates = NO_GATES,
) -> tuple[str, str, int | None]:
    """The verdict's words, its regime ("vanishing", "exploding", "fine", or "unread": a fit
    too short to extrapolate, a fitted line that reaches a horizon only past :func:`reach` of
    its lags, or a curve that grows over a run short against its cell's settling, more lags
    wanted first) and the length of dependency it names
    (None: it names none); ``longer`` says how to measure more lags, ``measure`` how to
    measure lag N (a format of one field), and ``gates`` what the page knows of the model's
    gates (:class:`.settling.Gates`: its kind, gate memory and sizes)."""
    fit, what = main.fit, f"Measured on {measured_on}: the gradient from {main.words} k steps back"
    if zero_throughout(fit):
        return f"{what} is exactly 0 at every lag: none reaches h_T.", "vanishing", None
    rate, span = float(fit["rate"]), f"the lags measured (up to {main.last})"
    last = main.norms[main.last] - float(main.ref or 0)  # the factor measured at the last lag
    if fit["phase"] == "exploding":
        start = main.norms.get(int(fit["lag_start"]), math.nan) - float(main.ref or 0)
        grows = Growing(what, span, main.last, last, main.last + main.after, start)
        return (*growing_verdict(fit, grows, longer, measure, gates), None)
    horizon = fit["horizon"]
    # Read off the norms, not the fit: a window of one lag fits no rate and has a horizon all
    # the same where that lag fell 1000-fold (it was said to be too short to tell).
    if not pd.isna(horizon):
        if at_zero(fit):
            return (
                # "from k on" held for the top layer's state (a zero is a left factor of every
                # longer lag's), not for a stack's input, which paths through the layers above
                # can bring back: the lag where one first is, and the table gives the rest
                f"{what} is exactly 0 for some sample at k = {int(horizon)}, the first lag where "
                "one is: a dependency that long gets no gradient from that sample there.",
                "vanishing",
                int(horizon),
            )
        few = too_few_lags(other.fit) if other else None
        beside = (
            f" (from {other.words}: horizon {fit_horizon_text(other.fit)}"
            + (f", {few}" if few else "")
            + ")"
            if other
            else ""
        )
        return (
            f"{what} has fallen {HORIZON_FOLD} by k = {int(horizon)}{beside}. So a dependency "
            f"longer than about {plural(int(horizon), 'step')} gets little gradient: it is "
            "hard to learn, though not out of reach (an adaptive optimizer such as Adam "
            "rescales small gradients; only training says whether a network learns it).",
            "vanishing",
            int(horizon),
        )
    if math.isnan(rate):  # a window of one lag: no rate, no phase, and no horizon within it
        return (
            f"{what}: too few lags measured to fit a rate; {longer}.",
            "fine",
            None,
        )
    if fit["phase"] == "vanishing":
        why = untrusted_fit(fit)
        line = _line_horizon(main) if why is None else None
        if line is not None and line > reach(main.last):
            # a rate of -0.02 at T = 24 read "by about k = 346 (extrapolated)"
            line, far = None, reach(main.last)
            then = (
                f"its fitted line would not before k = {far}, {REACH_WORDS} "
                f"the lags measured, as far as a line is continued: {longer} to see where it does."
            )
        elif line is not None:
            lo, hi = _tenfold(main, line)
            then = (
                f"on its fitted line, continued past the lags measured, it would by about "
                f"k = {line} (extrapolated, not measured: {CONTINUED_OFF}; 10-fold either way "
                f"puts it at k = {lo} to {hi}), and a dependency much longer than that would "
                "get little gradient."
            )
        else:
            then = f"its fit ({why}) is not one to extrapolate: {longer}."
        # A line not continued says "measure more lags" first: commands at this T (3 on a
        # T = 3 page) would measure no more than it did.
        regime = "vanishing" if line is not None else "unread"
        return f"{what} has not fallen {HORIZON_FOLD} within {span}; {then}", regime, line
    # Said with what it measured at the last lag (-0.009 per step is "stable", and a 90-fold
    # fall over 500 lags), and with a poor fit said so, as a growing curve's is (r² 0.88).
    at_last = f"×{factor_text(last)} at k = {main.last}, " if math.isfinite(last) else ""
    why = phase_unread(fit)  # the rule that "At a glance" and the phase column read it by
    if why is not None:
        # "neither vanishes nor explodes ..., though its fit (poor fit, r² 0.85) is not one to
        # extrapolate" read a phase off a line the curve does not follow
        return (
            f"{what} has not fallen {HORIZON_FOLD} within {span}"
            + (f": it is {at_last.removesuffix(', ')}" if at_last else "")
            + f". Its fitted rate, {rate_text(rate)} per step, is not one to read a phase from "
            f"({why}): it does not tell whether the gradient vanishes or explodes past these "
            f"lags. Longer dependencies were not measured: {longer} to see them.",
            "unread",
            None,
        )
    return (
        f"{what} neither vanishes nor explodes within {span}: {rate_text(rate)} per step, and "
        f"it is {at_last}short of a {HORIZON_FOLD} fall. Longer dependencies were not "
        f"measured: {longer} to see them.",
        "fine",
        None,
    )


class LongDepsAnswer(NamedTuple):
    """The section's answer for one set of curves: its verdict, its blocks (the table, what
    to try where the verdict has something to try, and the test of learning where it also
    names a length of dependency) and the curve the verdict reads."""

    verdict: str
    blocks: tuple[Table | Code, ...]
    curve: tuple[str, int | None]  # (source, layer): the input's, else the top layer's state


def long_deps_answer(
    results: pd.DataFrame,
    fits: pd.DataFrame,
    arch: dict[str, Any],
    layers: int,
    *,
    measured_on: str = "these inputs",
    held: str = "the inputs hold",
    rates_in: str | None = None,
    longer: str = LONGER_SEQUENCE,
    measure: str = MEASURE_SEQ_LEN,
    memory: float | None = None,
) -> LongDepsAnswer | None:
    """The verdict, the gradient from k steps back at a few lags, and what to try, from one
    measurement's rows (``results``: one curve per source and layer) and their fits (``fits``,
    :func:`.trained.curve_fits`'s rows for those curves); None where neither the input's curve
    nor the top layer's state's was fitted. ``measured_on`` names what was measured in the
    verdict ("these inputs"), ``held`` the lags measured in the table's caption ("the inputs
    hold"), ``rates_in`` the page's section of the fitted rates (None: the caption names none),
    ``longer`` how to measure more lags (:data:`LONGER_SEQUENCE`), ``measure`` how to measure
    lag N (a format of one field: :func:`.trained.measure_words`) and ``memory`` the steps the
    gates keep the state (:func:`.settling.gate_memory`; None: not read against it)."""
    top = layers - 1
    state = _curve(results, fits, "state", top, "the top layer's state" if top else "the state")
    inp = _curve(results, fits, "input", None, "an input")
    curves = [c for c in (inp, state) if c is not None]
    if not curves:
        return None
    other = curves[1] if len(curves) > 1 else None
    first = _curve(results, fits, "state", 0, "layer 0's state") if top else None
    gates = page_gates(arch, memory, results)
    verdict, regime, lag = _verdict(curves[0], other, measured_on, longer, measure, gates)
    longest = min(c.last for c in curves)
    lags = sorted({*LAGS, longest})
    # The input's last lag is T - 1, the state's T: at T = 100 (analyze's default) the row
    # "99 (longest measured)" stood above "100 | 1.8e-39 (measured)" for the state
    shorter = [w for w, c in (("state", state), ("input", inp)) if c and c.last == longest]
    ends = f"{shorter[0]}'s " if len(curves) > len(shorter) else ""
    rows = tuple(
        (
            f"{k} ({ends}longest measured)" if k == longest else str(k),
            _cell(state, k, measure, gates),
            _cell(inp, k, measure, gates),
        )
        for k in lags
    )
    lstm = arch.get("kind") == "lstm"
    later = any(c.ref_lag not in (None, min(c.norms)) for c in curves)
    table = Table(
        "The gradient from k steps back, against lag 0's",
        "||J(k)|| / ||J(0)||, Frobenius norms, geometric means over the samples"
        + (" (against the first non-zero lag's where lag 0's is exactly 0)" if later else "")
        + ": below 1, the gradient from k steps back is that much smaller than the most recent "
        f"one's (above 1, larger); measured at the lags {held}, extrapolated past "
        "them along the curve's fitted line"
        + (f" (its rate in {rates_in})" if rates_in else "")
        + f" up to {REACH_WORDS} the longest lag measured, as an order of magnitude: "
        f"{CONTINUED_OFF}."
        # the section comes before the curves' caption that said what s is
        + (f" Here {LSTM_STATE}." if lstm else "")
        # said beside the columns, not in the verdict that the page's top repeats
        + _why_two(inp, state, first, layers)
        + _late_rise(state, "state's", measure)
        + _late_rise(inp, "input's", measure),
        (
            "k (steps back)",
            ("state, top layer: " if top else "state: ") + state_jacobian(lstm),
            "input: dh_T/dx_{T−k}",
        ),
        rows,
        (True, True, True),
    )
    page_t = state.last if state is not None else longest + 1
    fixes = what_to_try(arch, regime, page_t, lag, memory)
    sizes = sizes_of(arch)
    learn = (
        learn_code(
            str(arch["kind"]),
            arch.get("nonlinearity") == "relu",
            *sizes[:2],
            lag,
            suggested_gate_inits(arch.get("kind"), memory),  # the inits fixes suggests
        )
        if fixes is not None and sizes is not None and lag is not None
        else None
    )
    curve = ("input", None) if inp is not None else ("state", top)
    blocks = tuple(b for b in (table, fixes, learn) if b is not None)
    return LongDepsAnswer(verdict, blocks, curve)


def long_deps_section(view: RunView) -> Section | None:
    """The verdict, the gradient from k steps back at a few lags, and what to try."""
    answer = long_deps_answer(
        view.results,
        curve_fits(view),
        architecture(view),
        num_layers(view),
        rates_in=FITS.title if view.shows(FITS.key) else None,
        measure=measure_words(model_record(view)),  # an inputs file's T is the file's
        memory=gate_memory(model_record(view)),
    )
    if answer is None:
        return None
    return Section(LONG_DEPS.key, LONG_DEPS.title, answer.verdict, answer.blocks, in_short=True)
