"""The figures of rate against gain (the phase diagrams of the gain and theory sections): one
curve per line value (:func:`gain_curve`) and the figure with what its marks mean said in its
caption (:func:`gain_grid`), laid out by :func:`.layout.plan`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..analysis.fits import PHASE_TOLERANCE
from .format import RATE_LABEL, and_list, label
from .layout import Plan, grid_rows, minus_inf_rate, omitted
from .line_axes import format_number, unticked_lines
from .line_style import hidden_bar_note, rim_note
from .model import Curve, LineGrid, LinePanel

__all__ = ["gain_curve", "gain_grid"]


def gain_curve(settings: pd.DataFrame, style: int, label_: str, lo: str, hi: str) -> Curve:
    """Measured rate against gain for settings sorted by gain; ``lo``/``hi`` name the band.

    Non-finite rates are gaps; gains where some seed has a rate of -inf get a floor marker.
    A bar spans two seeds' finite rates or more (``n_finite``): a point of one (the others at
    -inf, failed or unfitted) has none, where it was a bar of no height, said to be hidden
    under its dot with its seeds agreeing exactly (:func:`.line_style.hidden_bar_note`).
    """
    x = settings["gain"].to_numpy(dtype=np.float64)
    y = settings["rate"].to_numpy(dtype=np.float64)
    spans = settings["n_finite"].to_numpy() >= 2
    return Curve(
        label=label_,
        style=style,
        x=x,
        y=np.where(np.isfinite(y), y, np.nan),
        lo=np.where(spans, settings[lo].to_numpy(dtype=np.float64), np.nan),
        hi=np.where(spans, settings[hi].to_numpy(dtype=np.float64), np.nan),
        floor_x=x[settings["n_zero"].to_numpy() > 0],
    )


def gain_grid(
    *,
    title: str,
    caption: str,
    plan: Plan,
    panels: list[LinePanel],
    line: str | None,
    legend: tuple[str, ...],
    left_out: Sequence[str],
    figure_keys: Sequence[str],
    seeds: int,
    failed_note: str = "",
) -> LineGrid:
    """A figure of rate against gain (the phase diagrams of the gain and theory sections), of
    a run of at most ``seeds`` seeds a setting.

    ``left_out``: the settings of the figures not drawn (named in this figure's note, with
    ``figure_keys``).
    Floor triangles (gains where some seed's rate is -inf) are explained in the caption; so is
    a panel whose measured rates are all -inf (only floor triangles, in a stable band that
    seemed to say "stable"), and one without any rate; ``failed_note`` (the run's failed
    cells) comes last, after what the figure's own marks mean. The bars across seeds hidden
    under their dots are said first (:func:`.line_style.hidden_bar_note`; the caption says what
    the bars are: :func:`.line_style.bar_words`).
    """
    grid = LineGrid(
        title=title,
        caption="",
        nrows=grid_rows(len(plan.panels), plan.ncols),
        ncols=plan.ncols,
        panels=tuple(panels),
        xlabel="gain g",
        x_marks=(1.0,),  # the edge of chaos for an orthogonal or identity W_hh: always ticked
        ylabel=RATE_LABEL,
        legend_title=label(line) if line else "",
        legend=legend,
        markers=True,
        zero_line=True,
        stable_band=PHASE_TOLERANCE,
        note=omitted(plan.omitted_panels, left_out, figure_keys, plan.omitted_columns),
        figure_note=plan.omitted_columns,
    )
    caption += _unticked_note(grid)  # "" where every dotted line has its tick
    caption += hidden_bar_note(grid, "per step")  # "" where no bar is drawn
    measured = [[c for c in p.curves if not c.reference] for p in panels]
    if any(len(c.floor_x) for cs in measured for c in cs):
        # a gain where every seed is at -inf has no point (the demo's relu IRNN at g = 0.5),
        # where the caption read that the point is the mean of the other seeds
        bare = any(
            (np.isin(c.x, c.floor_x) & ~np.isfinite(c.y)).any() for cs in measured for c in cs
        )
        caption += (
            f" Triangles on the floor mark gains where some seed has {minus_inf_rate(seeds)}; "
            "the point is the mean of the other seeds"
            + (
                "; a triangle with no point above it: no seed has a finite rate there."
                if bare
                else "."
            )
            if seeds > 1  # of one seed, there are no others, and no point: it said so
            else " Triangles on the floor mark gains where the seed has "
            f"{minus_inf_rate(seeds)}; no point is drawn there."
        )
    empty = [cs for cs in measured if cs and not any(np.isfinite(c.y).any() for c in cs)]
    floors_only = [all(np.isin(c.x, c.floor_x).all() for c in cs) for cs in empty]
    if any(floors_only):
        caption += (
            " A panel of floor triangles alone has no finite rate: every seed's Jacobian is "
            "exactly zero in the window at every gain (relu without input or bias stays at "
            "the origin, where relu′(0) = 0)."
        )
    if not all(floors_only):
        caption += (
            " A panel without points has no fitted rate at any gain (the tables say why for "
            "each setting)."
        )
    # the rims it draws (a line, or a dashed prediction, over an earlier one), and only those
    return replace(grid, caption=caption + rim_note(grid) + failed_note)


def _unticked_note(grid: LineGrid) -> str:
    """The caption's values of the critical gains drawn (dotted lines) in each panel where one
    has no x tick (:func:`.line_axes.unticked_lines`: too near another, it is left out, and
    its line stood at a gain the figure gave no number for), each named by its line's legend
    entry; "" where every one has its tick."""
    parts: list[str] = []
    unticked = 0
    for panel in grid.panels:
        if not (alone := len(unticked_lines(panel, grid))):
            continue
        unticked += alone
        gains = [
            f"{format_number(float(c.x[0]))} ({_line_name(grid, c.style)})"
            for c in panel.curves
            if c.dotted and len(c.x)
        ]
        parts.append(and_list(gains) + (f" in the {panel.title} panel" if panel.title else ""))
    if not parts:
        return ""
    lines = (
        "A dotted line too near another x tick has none of its own"
        if unticked == 1
        else "Dotted lines too near another x tick have none of their own"
    )
    return f" {lines}: the critical gains are {'; '.join(parts)}."


def _line_name(grid: LineGrid, style: int | None) -> str:
    """A dotted line's name in the caption: its line's legend entry, or, grey, that lines
    share it."""
    if style is None or not 0 <= style < len(grid.legend):
        return "lines share it"
    return grid.legend[style]
