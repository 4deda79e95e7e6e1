"""The Trainability section's figure of each cell's outcome beside its gradient at init
(:mod:`.trainability`): one point per trained cell (per seed) at its T, at the decades its input
gradient had fallen from lag 0 to the task's required lag at initialisation
(``drop_at_required``, :func:`vanishlab.sweep.trainability.trainability`), filled where it
solved the task and open where it did not, under the dashed 1000x cut that the prediction is
made by: a cell is predicted to fail where its point is on or above the cut (a fall of
exactly 3 decades is one), so the predictions that missed are the filled points on or above
it and the open ones below it. The other figures draw means over seeds by T; the table lists
every cell: neither shows, in one place, which cells learned beside what their gradient said.

A gradient exactly 0 at the required lag fell without bound (+inf): a ▼ on the panel's top edge.
A cell whose gradient is exactly 0 at lag 0 has no fall (NaN) and is not drawn; the caption
counts it. Past :data:`.trainability_panels.MAX_PANELS` the caption's every count is of the
cells of the panels drawn ("in the 12 panels drawn"), and the note names the ones left out.
The fall at the required lag is always measured (the required lag is under T), so no point is
a lower bound, as a horizon that never fell within T is in the horizon figure.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...sweep.trainability import DROP_DECADES
from ..format import plural
from ..model import Curve, LineGrid, LinePanel
from ..view import RunView
from .trainability_agreement import ZERO_AT_LAG0
from .trainability_panels import (
    OUTCOME_TITLE,
    SEQ_LEN_LABEL,
    drawn_cells,
    drawn_gains,
    gain_legend,
    panel_columns,
    setting_panels,
)

__all__ = ["outcome_curves", "outcome_figure"]


def outcome_curves(rows: pd.DataFrame, gains: list[float]) -> tuple[Curve, ...]:
    """One curve of points per gain of ``gains`` (its style the gain's index, as the other
    figures' lines) that ``rows`` (a panel's cells) have: x its cells' T, y the decades
    fallen at the required lag (+inf where the gradient there is exactly 0), hollow where the
    cell did not solve the task; the cells with no fall (exactly 0 at lag 0) left out. In
    the order of T, then seed."""
    curves = []
    drawn = rows[rows["drop_at_required"].notna()]
    for style, g in enumerate(gains):
        at = drawn[drawn["gain"] == g].sort_values(["seq_len", "seed"], kind="stable")
        if not len(at):
            continue
        curves.append(
            Curve(
                "",
                style,
                at["seq_len"].to_numpy(dtype=float),
                at["drop_at_required"].to_numpy(dtype=float),
                hollow=~at["solved"].to_numpy(dtype=bool),
            )
        )
    return tuple(curves)


def outcome_figure(table: pd.DataFrame, view: RunView) -> LineGrid:
    """The figure (the module's docstring), panels and gains as the section's other figures."""
    groups, note = setting_panels(table, view)
    gains = drawn_gains(groups)
    legend = gain_legend(gains)
    ncols = panel_columns(groups)
    panels = tuple(
        LinePanel(i // ncols, i % ncols, title, outcome_curves(rows, gains))
        for i, (title, rows) in enumerate(groups)
    )
    # The caption counts the cells of the panels drawn, all of them: its count of missed
    # predictions went by the points drawn and its diverged and exactly-0-at-lag-0 cells by
    # the whole table, past MAX_PANELS (the note names the panels left out).
    drawn = drawn_cells(groups)
    return LineGrid(
        title=OUTCOME_TITLE,
        caption=_caption(drawn, [c for p in panels for c in p.curves], len(panels) if note else 0),
        nrows=math.ceil(len(panels) / ncols),
        ncols=ncols,
        panels=panels,
        xlabel=SEQ_LEN_LABEL,
        ylabel="decades fallen",  # by the required lag: the caption says
        legend_title="gain" if legend else "",
        legend=legend,
        markers=True,
        points=True,
        fill_labels=("solved", "not solved"),
        ceiling_label="exact 0 at the required lag",
        level=float(DROP_DECADES),
        level_label=f"{10**DROP_DECADES:.0f}x cut",
        note=note,
    )


def _caption(table: pd.DataFrame, curves: list[Curve], some_panels: int) -> str:
    """What the points, their fill, the cut and the marks drawn mean; how many predictions
    missed among the points drawn, and which cells of their panels are not drawn: ``table``
    the cells of the panels drawn, ``curves`` their points, ``some_panels`` how many panels
    are drawn where others are left out (0 where every one is). (One gain is named once, by
    the first figure's caption: :func:`.trainability_panels.one_gain`.)"""
    ys = np.concatenate([c.y for c in curves] or [np.empty(0)])
    hollow = np.concatenate([c.open_points() for c in curves] or [np.empty(0, bool)])
    missed = int(((ys >= DROP_DECADES) != hollow).sum())
    diverged = table["drop_at_required"].notna() & table["final_loss"].isna()
    where = f"in the {some_panels} panels drawn" if some_panels else "here"
    text = (
        "One point per trained cell: the decades its input gradient ||dh_T/dx_{T−k}|| had "
        "fallen from lag 0 to the task's required lag at initialisation, filled where the cell "
        "solved the task, open where it did not"
        + (" (a diverged one too)" if diverged.any() else "")
        + f". Dashed: the {10**DROP_DECADES:.0f}x cut ({DROP_DECADES:g} decades); a point on or "
        "above it was predicted to fail, one below it to solve, so the predictions that missed "
        "are the filled points on or above the line and the open ones below it: "
        + f"{missed or 'none'} of the {len(ys)} {where}."
        + " Points of one T are spread sideways, within its column, so that none hides another "
        "where the next T leaves room (where it does not, they overlap)."
    )
    if np.isposinf(ys).any():
        text += (
            " ▼ on the top edge: a gradient exactly 0 at the required lag, an infinite fall "
            "(predicted to fail)."
        )
    if (ys < 0).any():
        text += " A point below 0 is a gradient that grew over the lag."
    zero = int(table["drop_at_required"].isna().sum())
    if zero:
        text += (
            f" {plural(zero, 'cell')}{' of these panels' if some_panels else ''} whose "
            f"gradient is exactly 0 at lag 0 ('{ZERO_AT_LAG0}' in "
            f"the table) had nothing to fall from and {'is' if zero == 1 else 'are'} not drawn."
        )
    return text
