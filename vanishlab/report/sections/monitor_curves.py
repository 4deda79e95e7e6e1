"""The decay curves of a monitored training run at a few chosen steps (the first, the last and
evenly spaced ones between), one panel per curve and one line per step."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ...sweep.schema import MONITOR_STEP
from ...sweep.section_names import CURVES_STEPS
from ..format import LAG_LABEL, LOG_NORM_LABEL, STEP_LABEL
from ..line_style import hidden_band_note, rim_note
from ..model import LineGrid, LinePanel, Section
from ..view import RunView
from .monitor_steps import steps_frame
from .trained import (
    ZERO_FLOOR_NOTE,
    curve_label,
    curve_mask,
    curve_order,
    measured_curve,
    num_layers,
)

__all__ = ["MAX_SHOWN_STEPS", "chosen_steps", "curves_steps_section"]

MAX_SHOWN_STEPS = 5  # decay curves drawn at most this many steps


def chosen_steps(steps: list[int], limit: int = MAX_SHOWN_STEPS) -> list[int]:
    """At most ``limit`` of the sorted ``steps``: the first, the last, evenly spaced between."""
    if len(steps) <= limit:
        return list(steps)
    idx = np.unique(np.round(np.linspace(0, len(steps) - 1, limit)).astype(np.int64))
    return [steps[int(i)] for i in idx]


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
        f"{len(shown)} of the {len(steps)} {measured} steps (the first, the last and ones "
        "between, as evenly spaced as the recorded steps allow)"
        if len(shown) < len(steps)
        else f"every one of the {len(steps)} {measured} steps"
        if len(steps) > 1
        else f"the one {measured} step"  # it read "every one of the 1 recorded steps"
    )
    grid = LineGrid(
        title=CURVES_STEPS.title,
        caption=(
            f"The log10 Frobenius norm of each Jacobian against the lag k at {some}, one line "
            "per step; "
            + (
                "the probe is one sample: no band."
                if view.one_sample
                else "the band is ±1 standard deviation across the probe's samples."
                + hidden_band_note(panels)
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
    # steps whose curves coincide: the earlier drawn wider (its legend's labels name the step:
    # "training step = step 50" else)
    grid = replace(grid, caption=grid.caption + rim_note(replace(grid, legend_title="")))
    return Section(
        CURVES_STEPS.key,
        CURVES_STEPS.title,
        "The curves behind the rates: state Jacobians of the top layer's last state against "
        "each layer's earlier state, and against the earlier inputs.",
        (grid,),
    )
