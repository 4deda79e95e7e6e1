"""The "Over training" section of a monitored training run's page: the training loss where
steps have one (:mod:`.monitor_loss`), the fitted rate of every curve (:func:`vanishlab.fit_decay`,
natural log per step) and λ₁ against the training step, the horizons against the step, and
the table of them (:mod:`.monitor_table`), after each one's first and last value."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.fits import PHASE_TOLERANCE
from ...analysis.lyapunov_window import averaged_steps
from ...sweep.progress import plural
from ...sweep.schema import MONITOR_STEP
from ...sweep.section_names import LONG_DEPS, TRAINING
from ..format import LAG_RATE_LABEL, LYAPUNOV_LABEL, STEP_LABEL, and_list, rate_text
from ..line_style import BAND_WORDS, covered_points, marker_word, shown_levels, widened
from ..model import Curve, KeyValues, LineGrid, LinePanel, Section
from ..view import RunView
from .monitor_loss import TRAINING_FIGURES, chance_of, loss_figure, loss_glance, step_span
from .monitor_steps import step_gate_memory, steps_frame
from .monitor_table import PROBE, step_horizon, training_table
from .rate_cells import HORIZON_FOLD
from .settling import SETTLE_MEMORIES, growing_only, growing_only_rule, phase_text, settle_len
from .trained import (
    HORIZON_MEANING,
    architecture,
    at_zero,
    beyond_lags,
    curve_fits,
    curve_label,
    curve_mask,
    curve_order,
    model_record,
    num_layers,
    seq_len_of,
)

__all__ = [
    "MARKERS_UP_TO",
    "ByCurve",
    "first_and_last",
    "fits_by_curve",
    "measured_span",
    "training_section",
]

MARKERS_UP_TO = 25  # steps drawn with point markers when there are at most this many
BEYOND_LABEL = "beyond the probe's lags (drawn at the last)"

ByCurve = dict[tuple[str, int | None], pd.DataFrame]  # each curve's fits, by step


def training_section(view: RunView) -> Section | None:
    """Rates, λ₁ and horizons against the training step, and their table."""
    steps = steps_frame(view)
    fits = curve_fits(view, (MONITOR_STEP,))
    if not len(steps):
        return None
    order = curve_order(view.results)
    layers = num_layers(view)
    labels = [curve_label(s, layer, layers) for s, layer in order]
    by_curve = fits_by_curve(view)
    horizons = _horizons_figure(steps, by_curve, labels)
    rates = _rates_figure(view, steps, fits, by_curve, labels, any_horizon=horizons is not None)
    chance = chance_of(model_record(view))  # the task's, where the monitor was given it
    loss = loss_figure(steps, _markers(steps), chance)  # none where no step has a loss
    blocks: list[Any] = [*([loss] if loss else []), rates, *([horizons] if horizons else [])]
    T = _probe_len(view)
    read = ("input", None) if ("input", None) in by_curve else ("state", layers - 1)

    def phase(fit: Any, step: int) -> str:  # the verdict's reading at that step
        return phase_text(fit, step_gate_memory(view, step), T)

    blocks.append(training_table(steps, by_curve, order, labels, phase, read))
    glance = _first_to_last(steps, by_curve, order, labels, chance)
    if glance is not None:
        blocks.insert(0, glance)
    return Section(
        TRAINING.key,
        TRAINING.title,
        "How the gradients' decay moves as the model learns: a rate that falls towards −∞ and a "
        "horizon that shrinks are gradients vanishing; a rate rising through 0 is explosion, "
        f"unless {LONG_DEPS.title} would read that step's curve as "
        f"{growing_only_rule(PROBE)}. The table's phase column says how each step is read.",
        tuple(blocks),
    )


def fits_by_curve(view: RunView) -> ByCurve:
    """Each curve's fits by step (:func:`.trained.curve_fits` by ``step``), sorted by step, in
    :func:`.trained.curve_order`'s order; a curve no step could fit has no rows."""
    fits = curve_fits(view, (MONITOR_STEP,))
    return {
        (source, layer): fits[curve_mask(fits, source, layer)].sort_values(MONITOR_STEP)
        for source, layer in curve_order(view.results)
    }


def measured_span(by_curve: ByCurve) -> tuple[int, int] | None:
    """The first and the last measured step (a step some curve has a fit at: a failed step has
    none); None where no step was measured."""
    ok = [f for f in by_curve.values() if len(f)]
    if not ok:
        return None
    first = min(int(f[MONITOR_STEP].iloc[0]) for f in ok)
    return first, max(int(f[MONITOR_STEP].iloc[-1]) for f in ok)


def first_and_last(
    by_curve: ByCurve, key: tuple[str, int | None], span: tuple[int, int]
) -> tuple[pd.Series, pd.Series] | None:
    """One curve's fit rows at the first and the last measured step (``span``), as a pair;
    None where it has no fit at either."""
    f = by_curve[key].set_index(MONITOR_STEP)
    first, last = span
    if first not in f.index or last not in f.index:
        return None
    return f.loc[first], f.loc[last]


def _markers(steps: pd.DataFrame) -> bool:
    """Whether the figures against the step mark each step (few steps were recorded)."""
    return len(steps) <= MARKERS_UP_TO


def _failed(steps: pd.DataFrame) -> np.ndarray:
    """The failed steps (nothing measured there), as x values: gaps in every line."""
    return steps.loc[steps["status"] != "ok", MONITOR_STEP].to_numpy(dtype=np.float64)


def _curves(by_curve: ByCurve, labels: list[str], column: str, failed: np.ndarray) -> list[Curve]:
    """Each curve's ``column`` of its fits (``rate``, ``horizon``: NA a gap) against the step,
    one line a curve, styled by its place."""
    out = []
    for style, (f, label) in enumerate(zip(by_curve.values(), labels, strict=True)):
        x = f[MONITOR_STEP].to_numpy(dtype=np.float64)
        y = f[column].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        out.append(_series(x, y, style, label, failed))
    return out


def _lyapunov_curve(steps: pd.DataFrame, style: int, failed: np.ndarray) -> Curve | None:
    """λ₁ against the step, where some step measured it (None: lyapunov=False)."""
    measured = steps[steps["measured"].to_numpy(dtype=bool)]
    if not len(measured):
        return None
    x = measured[MONITOR_STEP].to_numpy(dtype=np.float64)
    y = measured["lyapunov"].to_numpy(dtype=np.float64)
    return _series(x, y, style, LYAPUNOV_LABEL, failed)


def _rates_figure(
    view: RunView,
    steps: pd.DataFrame,
    fits: pd.DataFrame,
    by_curve: ByCurve,
    labels: list[str],
    *,
    any_horizon: bool,
) -> LineGrid:
    """Every curve's fitted rate and λ₁ against the training step, on one panel, with the
    stable band; its caption says where no horizon figure follows (``any_horizon`` false)."""
    failed = _failed(steps)
    curves = _curves(by_curve, labels, "rate", failed)
    lyapunov = _lyapunov_curve(steps, len(labels), failed)
    if lyapunov is not None:
        curves.append(lyapunov)
    panels = [LinePanel(0, 0, "", tuple(curves))]
    floors = any(len(c.floor_x) for c in curves)
    gap_note = " A gap: a failed step, where nothing was measured." if len(failed) else ""
    zero_note = (
        " Triangles on the floor mark steps where a value is −∞ (an exact zero Jacobian: the "
        "gradient is cut off completely)."
    )
    grid = LineGrid(
        title="Decay rates and the top Lyapunov exponent over training",
        caption=(
            "The fitted decay rate d ln||J|| / dk of each curve (vl.fit_decay of the Frobenius "
            f"norm over lags K/4..K, K the last lag measured{_window(fits)}) at each recorded "
            "training step, and the top Lyapunov "
            f"exponent λ₁ of the hidden dynamics along the probe{_averaged(view)}, in the same "
            "unit. Below the "
            f"grey band (|rate| ≤ {PHASE_TOLERANCE}, {BAND_WORDS}) gradients vanish "
            "exponentially with the "
            f"lag, above it they explode{_growing_note(view, by_curve)}."
            + ("" if lyapunov is not None else " λ₁ was not measured (lyapunov=False).")
            + (zero_note if floors else "")
            + gap_note
            + (
                ""
                if any_horizon
                else f" No horizon ({HORIZON_MEANING}) is drawn: at no recorded step did a "
                f"norm fall {HORIZON_FOLD} within the probe's lags."
            )
        ),
        nrows=1,
        ncols=len(panels),
        panels=tuple(panels),
        xlabel=STEP_LABEL,
        ylabel=LAG_RATE_LABEL,
        legend_title="",
        legend=(*labels, LYAPUNOV_LABEL),
        markers=_markers(steps),
        zero_line=True,
        stable_band=PHASE_TOLERANCE,
        x_span=step_span(steps),  # failed steps at either end too: the loss's axis
        align=TRAINING_FIGURES,
    )
    return _coincide_note(grid, "rate")


#: The most steps :func:`_growing_note` names one by one.
GROWING_STEPS_NAMED = 4


def _growing_note(view: RunView, by_curve: ByCurve) -> str:
    """Where some step's curve grows and is read, as the long-dependencies verdict reads its
    last step's (:func:`.settling.growing_only`), as growing over the lags measured alone, the
    caption's words for it: an LSTM of forget-gate bias +4 on a probe of 50 steps (its gates
    keep the state about 55 steps) was said to explode, beside a verdict that asked for a
    probe of 280 steps first. "" where none is."""
    T = _probe_len(view)
    if T is None:
        return ""
    growing, memories, poor = set(), [], False
    for fits in by_curve.values():
        for _, fit in fits.iterrows():
            step = int(fit[MONITOR_STEP])
            memory = step_gate_memory(view, step)
            if not growing_only(fit, memory, T):
                continue
            growing.add(step)
            if memory is not None and settle_len(fit, memory, T) is not None:
                memories.append(round(memory))
            else:
                poor = True
    if not growing:
        return ""
    steps = sorted(growing)
    if len(steps) <= GROWING_STEPS_NAMED:
        where = ("step " if len(steps) == 1 else "steps ") + and_list([str(n) for n in steps])
    else:
        where = f"{len(steps)} steps, from step {steps[0]} to {steps[-1]}"
    why = []
    if memories:
        low, high = min(memories), max(memories)
        kept = f"{low} to {high}" if low != high else str(low)
        why.append(
            f"the probe's {T} steps are under {SETTLE_MEMORIES} times how long the gates keep "
            f"the state, about {kept} steps, and from a state of 0 it still fills over them"
        )
    if poor:
        why.append("its fit is not one to extrapolate")
    return (
        f"; at {where}, though, a curve above it is read as growing over the lags measured "
        f"alone, not as explosion, as {LONG_DEPS.title} reads such a curve: "
        f"{', or '.join(why)}"
    )


def _probe_len(view: RunView) -> int | None:
    """The probe's T, which a growing curve is read against (None: not recorded)."""
    return seq_len_of(model_record(view).get("probe_shape"), architecture(view).get("batch_first"))


def _horizons_figure(steps: pd.DataFrame, by_curve: ByCurve, labels: list[str]) -> LineGrid | None:
    """Every curve's horizon against the training step; None where no step has one (an IRNN's
    norms that never fall 1000-fold): no empty figure."""
    failed = _failed(steps)
    curves = _horizon_curves(by_curve, labels, failed)
    if not any(np.isfinite(c.y[~np.isin(c.x, c.at_least_x)]).any() for c in curves):
        return None
    markers = _markers(steps)
    any_at_zero = any(at_zero(rec) for f in by_curve.values() for rec in f.to_dict("records"))
    grid = LineGrid(
        title="Horizons over training",
        caption=(
            f"The horizon of each curve, {HORIZON_MEANING}, at each recorded training step: "
            "how far back the last state still feels an earlier state or input within a "
            "factor 1000."
            + (
                " A caret: the norm never fell that far within the probe's lags; the horizon lies "
                "beyond them, and is drawn at the last lag measured."
                if any(len(c.at_least_x) for c in curves)
                else ""
            )
            + (" A gap: a failed step." if len(failed) else "")
            + (
                " Some of these horizons are where a Jacobian is exactly zero, not a decay "
                "('(exact 0)' in the table)."
                if any_at_zero
                else ""
            )
        ),
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "", tuple(curves)),),
        xlabel=STEP_LABEL,
        ylabel="horizon (steps of lag)",
        legend_title="",
        legend=(*labels, LYAPUNOV_LABEL),
        markers=markers,
        integer_y=True,
        x_span=step_span(steps),
        at_least_label=BEYOND_LABEL,
        align=TRAINING_FIGURES,
    )
    return _coincide_note(grid, "horizon")


def _coincide_note(grid: LineGrid, what: str) -> LineGrid:
    """``grid`` with its caption's sentence on the curves that coincide, where it draws them
    so, and only there: a marker inside a ring (or a larger marker) of an earlier curve's
    colour, an earlier line drawn wider (the rates figure drew both, its caption said neither;
    the horizons figure said both wherever it had two curves)."""
    shown = shown_levels(grid)
    rings = grid.markers and any(covered_points(p.curves, shown) for p in grid.panels)
    wider = bool(widened(grid)[0])
    curves = [c for p in grid.panels for c in p.curves]
    # a ring round a dot; round a square or a diamond past 6 lines, a larger one of its shape
    ring = "ring" if marker_word(curves, len(grid.legend)) == "dot" else "larger marker"
    marker = f"the later curve's marker sits inside a {ring} of the earlier one's colour"
    line = "the earlier line is drawn wider, a rim around the later"
    if rings and wider:
        note = f" Where curves have the same {what}, {marker}; where they have it at most "
        note += f"steps, {line}."
    elif rings:
        note = f" Where curves have the same {what}, {marker}."
    elif wider:
        note = f" Where curves have the same {what} at most steps, {line}."
    else:
        return grid
    return replace(grid, caption=grid.caption + note)


def _horizon_curves(by_curve: ByCurve, labels: list[str], failed: np.ndarray) -> list[Curve]:
    """Each curve's horizon against the step. Where the norm never fell 1000-fold within the
    probe's lags (no horizon, no exact zero), the last lag measured, a lower bound marked by
    a caret: it was a gap, and the steps where training had lengthened the horizon beyond the
    probe, the ones a reader looks for, vanished from the figure."""
    out = []
    for style, (f, label) in enumerate(zip(by_curve.values(), labels, strict=True)):
        x = f[MONITOR_STEP].to_numpy(dtype=np.float64)
        y = f["horizon"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        last = f["lag_end"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        beyond = beyond_lags(f)  # the table's "> n"
        curve = _series(x, np.where(beyond, last, y), style, label, failed)
        out.append(replace(curve, at_least_x=x[beyond]))
    return out


def _series(x: np.ndarray, y: np.ndarray, style: int, label: str, failed: np.ndarray) -> Curve:
    """A quantity against the training step: NaN is a gap, -inf a floor marker, and a failed
    step (nothing measured) a gap too, not a line drawn across it."""
    gaps = np.setdiff1d(failed, x)
    if len(gaps):
        order = np.argsort(np.concatenate([x, gaps]), kind="stable")
        x = np.concatenate([x, gaps])[order]
        y = np.concatenate([y, np.full(len(gaps), np.nan)])[order]
    return Curve(
        label=label,
        style=style,
        x=x,
        y=np.where(np.isfinite(y), y, np.nan),
        floor_x=x[np.isneginf(y)],
    )


def _window(fits: pd.DataFrame) -> str:
    """The lags of the fit windows, per source when each has one window at every step: ":
    here lags 12..50 (state), 12..49 (input)"; "" when they vary."""
    if not len(fits) or not {"source", "lag_start", "lag_end"} <= set(fits.columns):
        return ""
    windows = []
    for source in ("state", "input"):
        rows = fits[(fits["source"] == source).to_numpy(dtype=bool)]
        pairs = set(zip(rows["lag_start"], rows["lag_end"], strict=True))
        if len(pairs) > 1:
            return ""
        windows += [f"{int(a)}..{int(b)} ({source})" for a, b in pairs]
    return ": here lags " + ", ".join(windows) if windows else ""


def _averaged(view: RunView) -> str:
    """The steps of the probe λ₁ is averaged over, in a caption: " (averaged over the last
    75 of its 100 steps)"; "" where the manifest does not record the probe's shape."""
    probe = model_record(view).get("probe_shape")
    T = seq_len_of(probe, architecture(view).get("batch_first"))
    if T is None:
        return ""
    n = averaged_steps(T)
    return f" (averaged over the last {n} of its {plural(T, 'step')})"


def _first_to_last(
    steps: pd.DataFrame,
    by_curve: ByCurve,
    order: list[tuple[str, int | None]],
    labels: list[str],
    chance: float | None = None,
) -> KeyValues | None:
    """Each curve's rate and horizon, and λ₁, at the first and the last measured step, and the
    loss's first and last; where no step was measured (every one failed), the loss's alone,
    under its own steps."""
    span = measured_span(by_curve)
    if span is None:
        loss = loss_glance(steps, chance=chance)
        if loss is None:
            return None
        given = steps.loc[steps["has_loss"].to_numpy(dtype=bool), MONITOR_STEP]
        return KeyValues(f"From step {given.iloc[0]} to step {given.iloc[-1]}", (loss,))
    first, last = span
    # Its own first and last (step 0 is often recorded without), noted where they lie outside
    # first..last (a diverged training's failed last steps, their losses kept).
    loss = loss_glance(steps, (first, last), chance)
    items = [loss] if loss else []
    for key, label in zip(order, labels, strict=True):
        pair = first_and_last(by_curve, key, span)
        if pair is None:
            continue
        a, b = pair
        items.append(
            (
                label,
                f"rate {rate_text(float(a['rate']))} → {rate_text(float(b['rate']))} per step, "
                f"horizon {step_horizon(a)} → {step_horizon(b)}",
            )
        )
    lyap = steps.set_index(MONITOR_STEP)
    if first in lyap.index and last in lyap.index:
        a, b = lyap.loc[first], lyap.loc[last]
        if a["measured"] and b["measured"]:
            text = f"{rate_text(float(a['lyapunov']))} → {rate_text(float(b['lyapunov']))}"
            items.append((LYAPUNOV_LABEL, text + " per step"))
    return KeyValues(f"From step {first} to step {last}", tuple(items))
