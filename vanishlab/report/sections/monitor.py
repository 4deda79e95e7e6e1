"""The sections of a monitored training run's page (:class:`vanishlab.JacobianMonitor`).

The run holds, for every recorded training step n, the module's per-lag Jacobian norms on one
fixed probe batch (the same inputs at every step, so only the weights change), and the
manifest holds each step's top Lyapunov exponent λ₁(n). The page shows:

- **monitor**: the module, the probe, which steps were recorded and what recording cost;
- **training**: the training loss against the step where steps have one
  (:mod:`.monitor_loss`), the fitted rate of every curve (:func:`vanishlab.fit_decay`, natural
  log per step) and λ₁ against the training step, the horizons against the step, and a table
  of them;
- **curves-steps**: the decay curves at a few chosen steps (the first, the last and evenly
  spaced ones between), one line per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.fits import HORIZON_DECADES, PHASE_TOLERANCE
from ...analysis.lyapunov_window import averaged_steps
from ...sweep.progress import plural
from ...sweep.schema import MONITOR_LOSS, MONITOR_STEP
from ..format import (
    LAG_LABEL,
    LOG_NORM_LABEL,
    LYAPUNOV_LABEL,
    MAX_TABLE_ROWS,
    STEP_LABEL,
    format_value,
    rate_text,
    time_text,
)
from ..line_style import BAND_WORDS
from ..model import Curve, KeyValues, LineGrid, LinePanel, Section, Table
from ..view import RunView
from .monitor_loss import has_losses, loss_figure, loss_glance, loss_text, step_span
from .monitor_steps import steps_frame
from .rate_cells import HORIZON_FOLD
from .trained import (
    HORIZON_AT_ZERO,
    HORIZON_MEANING,
    ZERO_FLOOR_NOTE,
    architecture,
    architecture_items,
    at_zero,
    curve_fits,
    curve_label,
    curve_mask,
    curve_order,
    fit_horizon_text,
    measured_curve,
    model_record,
    num_layers,
    seconds_text,
    seq_len_of,
    shape_text,
)

__all__ = [
    "MAX_SHOWN_STEPS",
    "chosen_steps",
    "curves_steps_section",
    "monitor_section",
    "training_section",
]
__all__ += ["steps_frame", "training_section"]

MAX_SHOWN_STEPS = 5  # decay curves drawn at most this many steps
MARKERS_UP_TO = 25  # steps drawn with point markers when there are at most this many


FAILURE_TEXT = {"overflow": "overflow", "nan": "NaN"}
"""How the page names a failed step's recorded ``failure`` (an unknown kind as it is)."""


def chosen_steps(steps: list[int], limit: int = MAX_SHOWN_STEPS) -> list[int]:
    """At most ``limit`` of the sorted ``steps``: the first, the last, evenly spaced between."""
    if len(steps) <= limit:
        return list(steps)
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, limit)).astype(np.int64))
    return [steps[int(i)] for i in idx]


def monitor_section(view: RunView) -> Section:
    """The module, the probe, the recorded steps and what recording them cost."""
    m = view.manifest
    model = model_record(view)
    steps = steps_frame(view)
    ok = steps[steps["status"] == "ok"] if len(steps) else steps
    n, n_ok = len(steps), len(ok)
    probe = model.get("probe_shape") or []
    arch = architecture(view)
    blocks: list[Any] = [KeyValues("Module", tuple(architecture_items(arch)))]
    recorded = [
        ("probe", shape_text(probe, arch.get("batch_first"))),
        ("probe SHA-256", str(model.get("probe_sha256") or "—")),
        ("recorded every", _every(model.get("every"))),
        ("steps recorded", f"{n} ({n_ok} ok, {n - n_ok} failed{_failure_counts(steps)})"),
    ]
    if n:
        recorded.append(
            ("first, last", f"{int(steps[MONITOR_STEP].iloc[0])}, {steps[MONITOR_STEP].iloc[-1]}")
        )
        spent = steps["elapsed_s"].to_numpy(dtype=np.float64)
        spent = spent[np.isfinite(spent)]
        if len(spent):
            with np.errstate(over="ignore"):  # absurd times (1e308 s each): inf, shown as "—"
                total, each = float(spent.sum()), float(spent.mean())
            recorded.append(
                (
                    "measuring time",
                    f"{seconds_text(total)} in all, {seconds_text(each)} per recorded step",
                )
            )
    recorded += [
        ("started", time_text(m.get("started"))),
        ("finished", time_text(m.get("finished"), "not finished (or still training)")),
    ]
    blocks.append(KeyValues("Recording", tuple(recorded)))
    versions = m.get("versions") or {}
    if versions:
        blocks.append(KeyValues("Versions", tuple((str(k), str(v)) for k, v in versions.items())))
    return Section(
        "monitor",
        "Monitored training",
        "One recurrent module measured during training, every few steps, on one fixed probe "
        "batch: the inputs never change, so every change on this page is the weights'. Norms "
        "are of the Jacobians of the top layer's last hidden state h_T, averaged in log10 over "
        "the probe's samples; rates are in natural log per step of lag.",
        tuple(blocks),
    )


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


def training_section(view: RunView) -> Section | None:
    """Rates, λ₁ and horizons against the training step, and their table."""
    steps = steps_frame(view)
    fits = curve_fits(view, (MONITOR_STEP,))
    if not len(steps):
        return None
    order = curve_order(view.results)
    layers = num_layers(view)
    labels = [curve_label(s, layer, layers) for s, layer in order]
    by_curve: dict[tuple[str, int | None], pd.DataFrame] = {}
    for source, layer in order:
        by_curve[(source, layer)] = fits[curve_mask(fits, source, layer)].sort_values(MONITOR_STEP)
    markers = len(steps) <= MARKERS_UP_TO
    failed = steps.loc[steps["status"] != "ok", MONITOR_STEP].to_numpy(dtype=np.float64)
    legend = (*labels, LYAPUNOV_LABEL)
    rate_curves, horizon_curves = [], []
    for style, key in enumerate(order):
        f = by_curve[key]
        x = f[MONITOR_STEP].to_numpy(dtype=np.float64)
        rate = f["rate"].to_numpy(dtype=np.float64)
        rate_curves.append(_series(x, rate, style, labels[style], failed))
        h = f["horizon"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        horizon_curves.append(_series(x, h, style, labels[style], failed))
    measured = steps[steps["measured"].to_numpy(dtype=bool)]
    curves = list(rate_curves)
    if len(measured):
        x = measured[MONITOR_STEP].to_numpy(dtype=np.float64)
        y = measured["lyapunov"].to_numpy(dtype=np.float64)
        curves.append(_series(x, y, len(order), LYAPUNOV_LABEL, failed))
    panels = [LinePanel(0, 0, "", tuple(curves))]
    floors = any(len(c.floor_x) for c in curves)
    # No horizon at any step (an IRNN's norms that never fall 1000-fold): no empty figure.
    any_horizon = any(np.isfinite(c.y).any() for c in horizon_curves)
    any_at_zero = any(at_zero(rec) for f in by_curve.values() for rec in f.to_dict("records"))
    gap_note = " A gap: a failed step, where nothing was measured." if len(failed) else ""
    zero_note = (
        " Triangles on the floor mark steps where a value is −∞ (an exact zero Jacobian: the "
        "gradient is cut off completely)."
    )
    rates = LineGrid(
        title="Decay rates and the top Lyapunov exponent over training",
        caption=(
            "The fitted decay rate d ln||J|| / dk of each curve (vl.fit_decay of the Frobenius "
            f"norm over lags K/4..K, K the last lag measured{_window(fits)}) at each recorded "
            "training step, and the top Lyapunov "
            f"exponent λ₁ of the hidden dynamics along the probe{_averaged(view)}, in the same "
            "unit. Below the "
            f"grey band (|rate| ≤ {PHASE_TOLERANCE}, {BAND_WORDS}) gradients vanish "
            "exponentially with the "
            "lag, above it they explode."
            + ("" if len(measured) else " λ₁ was not measured (lyapunov=False).")
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
        ylabel="rate (ln per step of lag)",  # one line: the loss's step axis above lines up
        legend_title="",
        legend=legend,
        markers=markers,
        zero_line=True,
        stable_band=PHASE_TOLERANCE,
        x_span=step_span(steps),  # failed steps at either end too: the loss's axis
    )
    horizons = LineGrid(
        title="Horizons over training",
        caption=(
            f"The horizon of each curve, {HORIZON_MEANING}, at each recorded training step: "
            "how far back the last state still feels an earlier state or input within a "
            "factor 1000. A gap: the norm never fell that far within the probe's lags"
            + (", or a failed step." if len(failed) else ".")
            + (
                " Where curves have the same horizon, the later curve's marker sits inside a "
                "ring of the earlier one's colour; where they have it at most steps, the "
                "earlier line is drawn wider, a rim around the later."
                if markers and len(horizon_curves) > 1
                else ""
            )
            + (
                " Some of these horizons are where a Jacobian is exactly zero, not a decay "
                "('(exact 0)' in the table)."
                if any_at_zero
                else ""
            )
        ),
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "", tuple(horizon_curves)),),
        xlabel=STEP_LABEL,
        ylabel="horizon (steps of lag)",
        legend_title="",
        legend=legend,
        markers=markers,
        integer_y=True,
        x_span=step_span(steps),
    )
    table = _training_table(steps, by_curve, order, labels)
    loss = loss_figure(steps, markers)  # none where no step has a loss: the page as before
    blocks: list[Any] = [*([loss] if loss else []), rates, *([horizons] if any_horizon else [])]
    blocks.append(table)
    glance = _first_to_last(steps, by_curve, order, labels)
    if glance is not None:
        blocks.insert(0, glance)
    return Section(
        "training",
        "Over training",
        "How the gradients' decay moves as the model learns: a rate that falls towards −∞ and a "
        "horizon that shrinks are gradients vanishing; a rate rising through 0 is explosion.",
        tuple(blocks),
    )


def _first_to_last(
    steps: pd.DataFrame,
    by_curve: dict[tuple[str, int | None], pd.DataFrame],
    order: list[tuple[str, int | None]],
    labels: list[str],
) -> KeyValues | None:
    """Each curve's rate and horizon, and λ₁, at the first and the last measured step, and the
    loss's first and last; where no step was measured (every one failed), the loss's alone,
    under its own steps."""
    ok = [f for f in by_curve.values() if len(f)]
    if not ok:
        loss = loss_glance(steps)
        if loss is None:
            return None
        given = steps.loc[steps["has_loss"].to_numpy(dtype=bool), MONITOR_STEP]
        return KeyValues(f"From step {given.iloc[0]} to step {given.iloc[-1]}", (loss,))
    first = min(int(f[MONITOR_STEP].iloc[0]) for f in ok)
    last = max(int(f[MONITOR_STEP].iloc[-1]) for f in ok)
    # Its own first and last (step 0 is often recorded without), noted where they lie outside
    # first..last (a diverged training's failed last steps, their losses kept).
    loss = loss_glance(steps, (first, last))
    items = [loss] if loss else []
    for key, label in zip(order, labels, strict=True):
        f = by_curve[key].set_index(MONITOR_STEP)
        if first not in f.index or last not in f.index:
            continue
        a, b = f.loc[first], f.loc[last]
        items.append(
            (
                label,
                f"rate {rate_text(float(a['rate']))} → {rate_text(float(b['rate']))} per step, "
                f"horizon {_horizon(a)} → {_horizon(b)}",
            )
        )
    lyap = steps.set_index(MONITOR_STEP)
    if first in lyap.index and last in lyap.index:
        a, b = lyap.loc[first], lyap.loc[last]
        if a["measured"] and b["measured"]:
            text = f"{rate_text(float(a['lyapunov']))} → {rate_text(float(b['lyapunov']))}"
            items.append((LYAPUNOV_LABEL, text + " per step"))
    return KeyValues(f"From step {first} to step {last}", tuple(items))


def _training_table(
    steps: pd.DataFrame,
    by_curve: dict[tuple[str, int | None], pd.DataFrame],
    order: list[tuple[str, int | None]],
    labels: list[str],
) -> Table:
    index = {
        key: {int(s): rec for s, rec in zip(f[MONITOR_STEP], f.to_dict("records"), strict=True)}
        for key, f in by_curve.items()
    }
    losses = has_losses(steps)  # a column only where some step has a loss
    columns = [MONITOR_STEP, "status", *([MONITOR_LOSS] if losses else [])]
    short = [label.removeprefix("state, ") for label in labels]  # "layer 1 (top)", "input"
    columns += [f"rate, {label}" for label in short]
    columns += [f"horizon, {label}" for label in short]
    columns += ["λ₁", "time", "reason"]
    rows = []
    for rec in steps.head(MAX_TABLE_ROWS).to_dict("records"):
        n = int(rec[MONITOR_STEP])
        row = [str(n), _status_text(rec)]
        if losses:
            row.append(loss_text(float(rec[MONITOR_LOSS]), bool(rec["has_loss"])))
        fits = [index[key].get(n) for key in order]
        row += [rate_text(float(f["rate"])) if f else "—" for f in fits]
        row += [_horizon(f) if f else "—" for f in fits]
        lyap = float(rec["lyapunov"])
        row.append(rate_text(lyap) if rec["measured"] else "—")
        row.append(seconds_text(float(rec["elapsed_s"])).replace(" ", "\u00a0"))
        row.append(str(rec["reason"] or ""))
        rows.append(tuple(row))
    k = len(order)
    numeric = (True, False, *([True] * losses), *([True] * (2 * k)), True, True, False)
    more = len(steps) - MAX_TABLE_ROWS
    return Table(
        "Rates, horizons and λ₁ by step",
        "Every recorded step: "
        + ("its training loss ('—' where none was given), " if losses else "")
        + "the rate (natural log per step of lag) and horizon (steps; "
        f"'none' when the norm never fell below 1e-{HORIZON_DECADES:g} of its lag-0 value; "
        f"{HORIZON_AT_ZERO}) "
        "of each curve, the top Lyapunov exponent λ₁ and the time the measurement took. A "
        "failed step has its reason under its row and its kind in its status: overflow (the "
        "forward pass on the probe, or a parameter, reached inf) or NaN (it reached NaN; runs "
        "recorded before the two were told apart say overflow for both).",
        tuple(columns),
        tuple(rows),
        numeric,
        note=f"{more} more steps are not listed." if more > 0 else "",
        detail=len(columns) - 1,
        # the horizons: "1 (exact 0)" broke after its number
        nowrap=tuple(i for i, c in enumerate(columns) if c.startswith("horizon, ")),
    )


def _status_text(rec: dict[str, Any]) -> str:
    """``"ok"``, ``"failed: overflow"``, ``"failed: NaN"``; ``"failed"`` with no kind
    recorded (shards written before failed steps had one)."""
    status, failure = str(rec["status"]), str(rec.get("failure") or "")
    if status == "ok" or not failure:
        return status
    return f"{status}: {FAILURE_TEXT.get(failure, failure)}"


def _failure_counts(steps: pd.DataFrame) -> str:
    """``": 1 overflow, 2 NaN"``: the failed steps by kind ("" when none has a kind)."""
    failed = steps.loc[(steps["status"] != "ok").to_numpy(), "failure"] if len(steps) else []
    counts = pd.Series(failed, dtype=object).value_counts(sort=False).to_dict()
    unknown = counts.pop("", 0)
    if not counts:
        return ""
    order = [k for k in FAILURE_TEXT if k in counts] + sorted(set(counts) - set(FAILURE_TEXT))
    parts = [f"{counts[k]} {FAILURE_TEXT.get(k, k)}" for k in order]
    return ": " + ", ".join(parts + ([f"{unknown} of no recorded kind"] if unknown else []))


def _horizon(fit: Any) -> str:
    """A curve's horizon at one step (its fit row, or a row of it by step): "none", or the
    lag, marked "(exact 0)" when an exact zero made it."""
    return fit_horizon_text(fit, word=None, none="none")


def curves_steps_section(view: RunView) -> Section | None:
    """The decay curves at a few chosen steps: one panel per curve, one line per step."""
    r = view.results
    if not len(r) or MONITOR_STEP not in r:
        return None
    steps = sorted(int(s) for s in r[MONITOR_STEP].unique())
    shown = chosen_steps(steps)
    order = curve_order(r)
    layers = num_layers(view)
    legend = tuple(f"step {n}" for n in shown)
    ncols = min(len(order), 3)
    panels = []
    for i, (source, layer) in enumerate(order):
        rows = r[curve_mask(r, source, layer)]
        curves = []
        for style, n in enumerate(shown):
            at = rows[(rows[MONITOR_STEP] == n).to_numpy()]
            if len(at):
                curves.append(measured_curve(at, style, legend[style]))
        title = curve_label(source, layer, layers)
        panels.append(LinePanel(i // ncols, i % ncols, title, tuple(curves)))
    floors = any(len(c.floor_x) for p in panels for c in p.curves)
    measured = "measured" if len(steps) < len(steps_frame(view)) else "recorded"  # failed ones
    some = (
        f"{len(shown)} of the {len(steps)} {measured} steps (the first, the last and evenly "
        "spaced ones between)"
        if len(shown) < len(steps)
        else f"every one of the {len(steps)} {measured} steps"
    )
    grid = LineGrid(
        title="Decay curves at chosen steps",
        caption=(
            f"The log10 Frobenius norm of each Jacobian against the lag k at {some}, one line "
            "per step; "
            + (
                "the probe is one sample: no band."
                if view.one_sample
                else "the band is ±1 standard deviation across the probe's samples."
            )
            + " A curve that steepens over training is a gradient that vanishes faster."
            + (ZERO_FLOOR_NOTE if floors else "")
        ),
        nrows=math.ceil(len(panels) / ncols),
        ncols=ncols,
        panels=tuple(panels),
        xlabel=LAG_LABEL,
        ylabel=LOG_NORM_LABEL,
        legend_title=STEP_LABEL,
        legend=legend,
    )
    return Section(
        "curves-steps",
        "Decay curves at chosen steps",
        "The curves behind the rates: state Jacobians of the top layer's last state against "
        "each layer's earlier state, and against the earlier inputs.",
        (grid,),
    )


def _every(every: object) -> str:
    """``"1 training step"``, ``"50 training steps"`` (it said "1 training steps")."""
    return "training step" if every == 1 else f"{format_value(every)} training steps"
