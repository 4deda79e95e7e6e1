"""Decay curves and input sensitivity: log10 ||J|| against the lag k, one line per setting.

For the state, J = dh_T/dh_{T-k} of the top layer against its own state k steps earlier
(dh_T/ds_{T-k} in a run with LSTM cells, whose state is s = [h | c]; every caption names it by
:meth:`RunView.state_jacobian`); for the input, J = dh_T/dx_{T-k}. The curves are means over
seeds of each cell's mean log10 ||J|| (a geometric mean of the norms), with the spread across
seeds as a band, or +-1 standard deviation across the cell's samples when there is one seed
(none with one sample). A straight falling line is exponential vanishing: its slope times ln 10
is the rate of the rates section. Where a theory predicts the slope, a dashed segment of that
slope is drawn over the fit window (:mod:`..predicted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ...sweep.section_names import DECAY, INPUT, THEORY
from ..format import LAG_LABEL, label, setting_text
from ..layout import (
    ZERO_NOTE,
    Overlay,
    Plan,
    columns_and_figures,
    facet_figures,
    grid_rows,
    legend_of,
    omitted,
    plan,
    seed_stats,
    thin,
)
from ..line_marks import open_shape_note
from ..line_style import hidden_band_note, with_rim_note
from ..model import Curve, LineGrid, LinePanel, Section
from ..predicted import decay_overlay, decay_overlay_caption, unregistered_note
from ..view import RunView

__all__ = ["band_words", "curve_figures", "decay_section", "input_section"]


def curve_figures(
    view: RunView,
    frame: pd.DataFrame,
    *,
    title: str,
    what: str,
    ylabel: str,
    overlay: Overlay | None = None,
    overlay_caption: str = "",
    theory_note: bool = False,
) -> list[LineGrid]:
    """Decay-curve figures of ``frame`` (one curve per setting, seeds averaged).

    ``overlay`` adds reference curves (drawn dashed); ``overlay_caption`` is appended to the
    caption of the figures that have one. ``theory_note``: the figures are where predictions
    are drawn, and say why an init has none (:func:`~vanishlab.report.predicted.unregistered_note`).
    """
    if not len(frame):
        return []
    line = view.line_axis
    panel_keys = view.panel_keys(frame)
    extras = [c for c in view.varying if c not in (*panel_keys, "seed", line) and c in frame]
    column_key, figure_keys = columns_and_figures(view, frame, extras)
    names = [*panel_keys, *([column_key] if column_key else [])]
    keys = [*figure_keys, *names, *([line] if line else [])]
    stats = seed_stats(frame, keys, "log10_fro_mean", "log10_fro_std")
    legend = legend_of(view, stats, line)
    plans, left_out = plan(view, frame, panel_keys, column_key, figure_keys)
    drawn: list[pd.DataFrame] = []  # the seeds behind each point of the figure being made

    def line_curves(
        rows: pd.DataFrame, style: int, label_: str, setting: dict[str, object]
    ) -> list[Curve]:
        c = rows.sort_values("lag")
        idx = thin(len(c))
        x = c["lag"].to_numpy(dtype=np.float64)
        zero_x = x[c["zero"].to_numpy(dtype=bool)]
        curve = Curve(
            label=label_,
            style=style,
            x=x[idx],
            y=c["y"].to_numpy(dtype=np.float64)[idx],
            lo=c["lo"].to_numpy(dtype=np.float64)[idx],
            hi=c["hi"].to_numpy(dtype=np.float64)[idx],
            floor_x=zero_x[thin(len(zero_x))],
        )
        drawn.append(c.iloc[idx][["y", "n", "n_finite"]])
        ref = overlay(setting, curve) if overlay is not None else None
        return [curve] if ref is None else [curve, ref]

    def make_grid(plan_: Plan, panels: list[LinePanel], left: Sequence[str]) -> LineGrid:
        suffix = setting_text(plan_.fixed, plan_.digits)
        curves = [c for q in panels for c in q.curves]
        band = band_words(view, pd.concat(drawn) if drawn else stats.iloc[:0])
        drawn.clear()
        grid = LineGrid(
            title=f"{title}" + (f" ({suffix})" if suffix else ""),
            caption="",
            nrows=grid_rows(len(plan_.panels), plan_.ncols),
            ncols=plan_.ncols,
            panels=tuple(panels),
            xlabel=LAG_LABEL,
            ylabel=ylabel,
            legend_title=label(line) if line else "",
            legend=legend,
            note=omitted(plan_.omitted_panels, left, figure_keys, plan_.omitted_columns),
            figure_note=plan_.omitted_columns,
        )
        caption = (
            f"The log10 Frobenius norm of {what} against the lag k, "
            + (f"one line per {label(line)}, " if line else "")
            + f"{view.over_seeds()}; {band}"
            + hidden_band_note(panels)
            + " A straight falling line is exponential vanishing (its slope is the "
            "rate), a rising one explosion."
            + (ZERO_NOTE if any(len(c.floor_x) for c in curves) else "")
            # the open shapes its dashed lines carry, in the words of every figure
            + (
                overlay_caption + open_shape_note(grid, "at the ends of the fit window")
                if any(c.reference for c in curves)
                else ""
            )
            + (unregistered_note(view, plan_.fixed) if theory_note else "")
            + view.failed_note_in(plan_.fixed)
        )
        return with_rim_note(replace(grid, caption=caption))

    return facet_figures(view, stats, plans, left_out, names, line, line_curves, make_grid)


def band_words(view: RunView, drawn: pd.DataFrame) -> str:
    """What a decay or input figure's caption says its band is, from the points it draws
    (``drawn``: each one's mean ``y``, its seeds ``n`` and those of a finite norm
    ``n_finite``, from :func:`.layout.seed_stats`), as the phase diagrams' bars go by what
    they draw (:func:`.line_style.bar_words`): "the band spans the 2 seeds" was said by the most
    seeds any setting has, over a setting whose other seed failed (its band ±1 standard
    deviation across one seed's samples) and lags where one seed alone was finite (no
    band)."""
    if view.seeds == 1:
        if view.one_sample:
            return "one seed of one sample (batch 1): no band."
        return "the band is ±1 standard deviation across the cell's samples."
    finite = drawn[np.isfinite(drawn["y"].to_numpy(dtype=np.float64))]
    n, n_finite = finite["n"].to_numpy(), finite["n_finite"].to_numpy()
    spans = sorted({int(k) for k in n_finite[(n > 1) & (n_finite > 1)]})
    said = []
    if spans == [view.seeds]:
        said.append(f"the band spans the {view.seeds} seeds")
    elif spans:
        some = f"{spans[0]}" + (f" to {spans[-1]}" if len(spans) > 1 else "")
        said.append(f"the band spans the seeds of a finite norm ({some} of the {view.seeds})")
    if ((n > 1) & (n_finite == 1)).any():
        said.append(
            "a lag where one seed's norm alone is finite has no band (it closes on the line)"
        )
    if (n == 1).any():
        spread = (
            "no band" if view.one_sample else "a band of ±1 standard deviation across its samples"
        )
        said.append(f"a setting of which one seed was measured has {spread}")
    return "; ".join(said) + "." if said else "no band."


def decay_section(view: RunView) -> Section | None:
    """State Jacobian norms of the top layer against the lag, with the predicted slopes."""
    what = (
        f"{view.state_jacobian()} (top layer, its own state k steps earlier"
        + (": h, or an LSTM's [h | c]" if view.lstm else "")
        + (f"; {view.gated} panels have no predicted slope" if view.gated else "")
        + ")"
    )
    figs = curve_figures(
        view,
        view.top_state,
        title="Decay of the state Jacobian",
        what=what,
        ylabel=view.state_label(),
        overlay=decay_overlay(view),
        overlay_caption=decay_overlay_caption(view.shows(THEORY.key)),
        theory_note=True,
    )
    if not figs:
        return None
    return Section(
        DECAY.key,
        DECAY.title,
        "How fast the influence of an earlier hidden state on the last one fades (or grows) "
        "with the distance between them.",
        tuple(figs),
    )


def input_section(view: RunView) -> Section | None:
    """Input sensitivity against the lag."""
    figs = curve_figures(
        view,
        view.inputs,
        title=INPUT.title,
        what="dh_T/dx_{T−k} (the last state against the input k steps earlier)",
        ylabel=r"$\log_{10}\,\|\partial h_T\,/\,\partial x_{T-k}\|$",
    )
    if not figs:
        return None
    return Section(
        INPUT.key,
        INPUT.title,
        "How strongly the last hidden state still depends on an input seen k steps earlier: "
        "the quantity that decides whether a long-range dependency can be learned.",
        tuple(figs),
    )
