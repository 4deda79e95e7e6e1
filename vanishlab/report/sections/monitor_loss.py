"""The training loss on a monitored run's page: what the gradients are compared against.

``mon.step(n, loss=...)`` records the loss with each recorded step (:mod:`.monitor_steps`
reads it as ``loss`` and ``has_loss``). The "Over training" section (:mod:`.monitor_training`)
then shows a small figure of the loss against the step (:func:`loss_figure`), its first and
last value (:func:`loss_glance`) and a column of the steps' table (:func:`loss_text`). Where no
recorded step has a loss (a run recorded without, or before losses were kept), none of them
is shown: such a page is the one it was before. Where the monitor was given the task's chance
level (``JacobianMonitor(..., chance_loss=...)``, kept in the manifest's ``model``), the figure
draws it dashed and the glance gives it (:func:`chance_of`); where it was not, the page cannot
know it and says nothing of it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...core.training_facts import chance_level
from ...sweep.schema import MONITOR_LOSS, MONITOR_STEP
from ..format import STEP_LABEL, and_list, format_value
from ..model import AXIS_MARGIN, Curve, LineGrid, LinePanel

__all__ = [
    "CHANCE_LABEL",
    "LOSS_LABEL",
    "TRAINING_FIGURES",
    "chance_of",
    "has_losses",
    "log_scale",
    "loss_figure",
    "loss_glance",
    "loss_text",
    "step_span",
]

LOSS_LABEL = "training loss"
CHANCE_LABEL = "chance level"
#: The :attr:`.model.LineGrid.align` of the figures against the training step (loss, rates,
#: horizons): drawn one above the other, their panels line up.
TRAINING_FIGURES = "training step"
LISTED_STEPS = 5  # steps named in a caption at most


def chance_of(model: dict[str, object]) -> float | None:
    """The chance level a monitor's manifest ``model`` records (``chance_loss``): a finite
    number > 0 (:func:`~vanishlab.core.training_facts.chance_level`), else None (not given, or a
    run recorded before it was kept)."""
    return chance_level(model.get("chance_loss"))


def has_losses(steps: pd.DataFrame) -> bool:
    """Whether any recorded step has a loss (a NaN one too)."""
    return bool(len(steps)) and "has_loss" in steps and bool(steps["has_loss"].any())


def loss_text(loss: float, has_loss: bool) -> str:
    """A step's loss in a table: ``0.1602``, ``NaN``, ``+∞``; an em dash where none was given."""
    if not has_loss:
        return "—"
    return "NaN" if math.isnan(loss) else format_value(float(loss))


def log_scale(y: np.ndarray) -> bool:
    """A log-scale axis for losses ``y`` (NaN and ±inf ignored): when every one is positive
    and the largest is more than 10 times the smallest."""
    finite = y[np.isfinite(y)]
    return len(finite) > 1 and bool((finite > 0).all()) and finite.max() > 10 * finite.min()


def step_span(steps: pd.DataFrame) -> tuple[float, float] | None:
    """The x range of every figure against the training step: all recorded steps, with the
    report's margin (:data:`~vanishlab.report.model.AXIS_MARGIN`, pinned while it draws), so
    that the loss, the rates and the horizons share one axis, a failed first or last step
    included (its line is a gap: autoscaled, the rates' axis ended at the
    last step measured while the loss's went on). None for fewer than two steps."""
    if len(steps) < 2:
        return None
    x = steps[MONITOR_STEP].to_numpy(dtype=np.float64)
    pad = AXIS_MARGIN * (x.max() - x.min())
    return (x.min() - pad, x.max() + pad) if pad else None


def _steps_text(steps: np.ndarray) -> str:
    """``"step 400"``, ``"steps 400, 500 and 600"``, ``"steps 1, 2, 3, 4, 5 and 7 more"``."""
    names = [str(int(s)) for s in steps[:LISTED_STEPS]]
    more = len(steps) - len(names)
    if more:
        names.append(f"{more} more")
    return ("step " if len(steps) == 1 else "steps ") + and_list(names)


def loss_figure(steps: pd.DataFrame, markers: bool, chance: float | None = None) -> LineGrid | None:
    """The loss against the training step (None when no step has a finite loss: an empty
    plot with a made-up axis said nothing the steps' table does not). A NaN or infinite
    loss is a gap, named in the caption, and so is a step recorded without a loss. Every
    recorded step is an x of the curve (a gap where it has no loss), and the x axis spans
    them all: the axis and ticks of the figures below it. ``chance``: the task's chance
    level (:func:`chance_of`), drawn dashed across the steps where it is given: a loss of 0.16
    read as nothing learned only to a reader who knew the adding problem's 1/6."""
    if not has_losses(steps):
        return None
    x = steps[MONITOR_STEP].to_numpy(dtype=np.float64)
    given = steps["has_loss"].to_numpy(dtype=bool)
    y = steps[MONITOR_LOSS].to_numpy(dtype=np.float64)
    if not np.isfinite(y[given]).any():  # nothing to draw (the table lists the NaN, the inf)
        return None
    gaps = (given & np.isnan(y), "a NaN loss"), (np.isinf(y), "an infinite loss")
    gaps += ((~given, "no loss given"),)
    notes = [f"{what} ({_steps_text(x[mask])})" for mask, what in gaps if mask.any()]
    curve = Curve(LOSS_LABEL, None, x, np.where(given & np.isfinite(y), y, np.nan))
    curves = (curve,)
    if chance is not None:  # across every recorded step, as the loss's axis spans them
        ends = np.array([x.min(), x.max()]) if len(x) > 1 else x[:1]
        curves += (Curve(CHANCE_LABEL, None, ends, np.full(len(ends), chance), reference=True),)
    log = log_scale(np.append(y[given], chance) if chance is not None else y[given])
    return LineGrid(
        title="Training loss",
        caption=(
            "The loss given to the monitor at each recorded training step (mon.step(n, "
            "loss=...): that step's batch, one value, not a mean over the steps between), to "
            "read beside the gradients' decay below"
            + (
                f". Dashed: the task's chance level, {format_value(chance)}, the loss of its "
                "input-free answer (given to the monitor as chance_loss=): a loss near it has "
                "learned nothing of the input"
                if chance is not None
                else ""
            )
            + (": a log scale, the losses spanning more than a factor 10." if log else ".")
            + (f" Gaps: {'; '.join(notes)}." if notes else "")
        ),
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "", curves),),
        xlabel=STEP_LABEL,
        ylabel="loss (log scale)" if log else "loss",
        legend_title="",
        legend=(),
        line_label=LOSS_LABEL,  # the legend's sample beside the chance level's
        markers=markers,
        log_y=log,
        x_span=step_span(steps),  # autoscaled, the points at either end might be gaps
        align=TRAINING_FIGURES,  # its panel above the rates' (tick labels like '0.0029485')
    )


def loss_glance(
    steps: pd.DataFrame, measured: tuple[int, int] | None = None, chance: float | None = None
) -> tuple[str, str] | None:
    """The first and the last recorded loss, with their steps: ``("training loss", "0.693 at
    step 100 → 0.0123 at step 1000")``; None when fewer than two steps have one.

    ``measured``: the first and last step whose gradients were measured, the span of the
    rates beside it under a heading "From step a to step b". A loss recorded outside it (a
    training that diverged: its last steps failed, their losses kept) says so, "(beyond step
    100, the last step measured)", rather than read as inside it. ``chance``: the task's
    chance level where the monitor was given it, "(chance 0.167)" after them."""
    if not has_losses(steps):
        return None
    given = steps[steps["has_loss"].to_numpy(dtype=bool)]
    if len(given) < 2:
        return None
    a, b = given.iloc[0], given.iloc[-1]
    text = (
        f"{loss_text(float(a[MONITOR_LOSS]), True)} at step {int(a[MONITOR_STEP])} → "
        f"{loss_text(float(b[MONITOR_LOSS]), True)} at step {int(b[MONITOR_STEP])}"
    )
    text += _beyond(int(a[MONITOR_STEP]), int(b[MONITOR_STEP]), measured)
    return LOSS_LABEL, text + (f" (chance {format_value(chance)})" if chance is not None else "")


def _beyond(first: int, last: int, measured: tuple[int, int] | None) -> str:
    """The note of a loss from step ``first`` to ``last`` that runs outside the ``measured``
    steps; "" when it does not."""
    if measured is None:
        return ""
    start, end = measured
    if first < start and last > end:
        return f" (beyond steps {start} to {end}, the steps measured)"
    if last > end:
        return f" (beyond step {end}, the last step measured)"
    if first < start:
        return f" (from before step {start}, the first step measured)"
    return ""
