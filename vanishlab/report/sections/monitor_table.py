"""The table of a monitored training run's steps (:mod:`.monitor_training`): each curve's rate
and horizon, λ₁, the loss, the time and a failed step's reason, one row per recorded step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ...analysis.fits import HORIZON_DECADES, PHASE_TOLERANCE
from ...sweep.progress import plural
from ...sweep.schema import MONITOR_LOSS, MONITOR_STEP
from ...sweep.section_names import LONG_DEPS
from ..format import MAX_ANOMALY_ROWS, MAX_TABLE_ROWS, rate_text
from ..model import Table
from .monitor_loss import has_losses, loss_text
from .monitor_steps import status_text
from .settling import GROWING_ONLY, NO_PHASE, growing_only_rule
from .trained import HORIZON_AT_ZERO, fit_horizon_text, seconds_text

__all__ = ["PROBE", "shown_steps", "step_horizon", "training_table"]

#: What a monitor's pages call the sequence its steps are measured on (its T's).
PROBE = "the probe"


def training_table(
    steps: pd.DataFrame,
    by_curve: dict[tuple[str, int | None], pd.DataFrame],
    order: list[tuple[str, int | None]],
    labels: list[str],
    phase: Callable[[Any, int], str] | None = None,
    read: tuple[str, int | None] | None = None,
) -> Table:
    """Every recorded step in a row (the first :data:`MAX_TABLE_ROWS`, then the failed ones
    only, :func:`shown_steps`): its status and loss,
    each curve's rate and horizon (``by_curve``, in ``order``, headed by ``labels``), the phase
    of the curve the verdict reads (``read``, a key of ``by_curve``) as ``phase`` words it
    (its fit row and the step: the verdict's own reading, :func:`.settling.phase_text`), λ₁,
    the time it took and a failed step's reason."""
    index = {
        key: {int(s): rec for s, rec in zip(f[MONITOR_STEP], f.to_dict("records"), strict=True)}
        for key, f in by_curve.items()
    }
    losses = has_losses(steps)  # a column only where some step has a loss
    columns = [MONITOR_STEP, "status", *([MONITOR_LOSS] if losses else [])]
    short = [label.removeprefix("state, ") for label in labels]  # "layer 1 (top)", "input"
    columns += [f"rate, {label}" for label in short]
    columns += [f"horizon, {label}" for label in short]
    phased = phase is not None and read in by_curve
    if phased:
        columns.append(f"phase, {short[order.index(read)]}")
    columns += ["λ₁", "time", "reason"]
    rows = []
    unread = False  # whether some step's phase is NO_PHASE: the caption then says what it is
    shown, note = shown_steps(steps)
    for rec in shown.to_dict("records"):
        n = int(rec[MONITOR_STEP])
        row = [str(n), status_text(rec)]
        if losses:
            row.append(loss_text(float(rec[MONITOR_LOSS]), bool(rec["has_loss"])))
        fits = [index[key].get(n) for key in order]
        row += [rate_text(float(f["rate"])) if f else "—" for f in fits]
        row += [step_horizon(f) if f else "—" for f in fits]
        if phased:
            fit = index[read].get(n)
            row.append(phase(fit, n) if fit else "—")
            unread = unread or row[-1].startswith(NO_PHASE)
        lyap = float(rec["lyapunov"])
        row.append(rate_text(lyap) if rec["measured"] else "—")
        row.append(seconds_text(float(rec["elapsed_s"])).replace(" ", "\u00a0"))
        row.append(str(rec["reason"] or ""))
        rows.append(tuple(row))
    k = len(order)
    numeric = (True, False, *([True] * losses), *([True] * (2 * k)), *([False] * phased))
    numeric += (True, True, False)
    return Table(
        "Rates, horizons and λ₁ by step",
        "Every recorded step: "
        + ("its training loss ('—' where none was given), " if losses else "")
        + "the rate (natural log per step of lag) and horizon (steps; "
        f"'> n' when the norm never fell below 1e-{HORIZON_DECADES:g} of its lag-0 value by "
        "lag n, the probe's last; "
        f"{HORIZON_AT_ZERO}) "
        "of each curve, "
        + (
            f"the phase of the {short[order.index(read)]} curve, which the verdict reads, as "
            f"{LONG_DEPS.title} reads it at that step (vanishing below −{PHASE_TOLERANCE} per "
            f"step, exploding above +{PHASE_TOLERANCE}, else stable; {GROWING_ONLY}: above "
            f"+{PHASE_TOLERANCE}, not read as explosion but as {growing_only_rule(PROBE)}"
            + (
                f"; {NO_PHASE}: a rate between those whose fit is not one to read a phase from"
                if unread
                else ""
            )
            + "), "
            if phased
            else ""
        )
        + "the top Lyapunov exponent λ₁ and the time the measurement took. A "
        "failed step has its reason under its row and its kind in its status: overflow (the "
        "forward pass on the probe, or a parameter, reached inf) or NaN (it reached NaN; runs "
        "recorded before the two were told apart say overflow for both).",
        tuple(columns),
        tuple(rows),
        numeric,
        note=note,
        detail=len(columns) - 1,
        # the horizons: "1 (exact 0)" broke after its number
        nowrap=tuple(i for i, c in enumerate(columns) if c.startswith("horizon, ")),
    )


def shown_steps(steps: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The steps the table lists, and its note on those it leaves out: the first
    :data:`MAX_TABLE_ROWS`, then the failed steps only (the first :data:`MAX_ANOMALY_ROWS`),
    with their reasons. A training diverges at its end: the steps past the first rows were
    left out, a failed one's reason with them, and the page said why none of its steps did."""
    head, rest = steps.head(MAX_TABLE_ROWS), steps.iloc[MAX_TABLE_ROWS:]
    every_failed = rest[(rest["status"] != "ok").to_numpy()]
    failed = every_failed.head(MAX_ANOMALY_ROWS)
    more = len(rest) - len(failed)
    left = f"{plural(more, 'more step')} {'is' if more == 1 else 'are'} not listed" if more else ""
    # Past MAX_ANOMALY_ROWS failed steps are among them: "only the failed steps are listed"
    # read as if every failed one were.
    unlisted = len(every_failed) - len(failed)
    if unlisted:
        left += " (it failed)" if more == 1 else f" ({unlisted} of them failed)"
    left += "." if left else ""
    if failed.empty:
        return head, left
    last = int(head[MONITOR_STEP].iloc[-1])
    listed = f"After step {last}, only the failed steps are listed ({len(failed)} of {len(rest)})."
    return pd.concat([head, failed]), f"{listed} {left}".rstrip()


def step_horizon(fit: Any) -> str:
    """A curve's horizon at one step (its fit row, or a row of it by step): the lag, marked
    "(exact 0)" when an exact zero made it, or "> n" beyond the probe's last lag n."""
    return fit_horizon_text(fit, word=None)
