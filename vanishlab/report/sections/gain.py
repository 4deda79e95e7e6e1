"""The gain phase diagram: the fitted rate against the gain g, one line per init.

The scale of the recurrent weights decides the phase: below the critical gain gradients
vanish (rate < 0), above it they explode (rate > 0), and the stable band |rate| <= tol lies
between (tol = :data:`vanishlab.analysis.fits.PHASE_TOLERANCE`). Points are the mean over
seeds of each setting's rate (:func:`.setting_fits.setting_fits`), bars span the seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ...analysis.fits import PHASE_TOLERANCE
from ...sweep.section_names import GAIN
from ..format import assign, label, setting_text
from ..gain_layout import gain_curve, gain_grid
from ..layout import Plan, facet_figures, legend_of, plan
from ..line_style import BAND_WORDS, bar_words
from ..model import Curve, LineGrid, LinePanel, Section
from ..view import RunView
from .setting_fits import top_setting_fits

__all__ = ["gain_section"]


def gain_section(view: RunView) -> Section | None:
    """Rate against gain, one line per init, one panel per activation and depth."""
    if "gain" not in view.varying or not len(view.top_fits):
        return None
    state = top_setting_fits(view)
    intro = (
        "Where the transition from vanishing to exploding gradients lies, as the scale of the "
        "recurrent weights grows."
    )
    # A setting whose fit window holds a single lag (T = 1: lags 0 and 1, the window [1, 1])
    # can have no rate: its panels and figures were drawn empty. They are left out, said once.
    single = (state["lag_end"] <= state["lag_start"]).to_numpy()
    if state["rate"][~single].isna().all():  # no point, no floor triangle: empty panels
        return Section(GAIN.key, GAIN.title, f"{intro} {_no_rate(single.all())}", ())
    if single.any():
        intro += " " + _not_drawn(state[single])
        state = state[~single]
    line = "init" if "init" in view.varying else None
    panel_keys = view.panel_keys(state)
    figure_keys = [
        c for c in view.varying if c not in (*panel_keys, "gain", "seed", line) and c in state
    ]
    plans, left_out = plan(view, state, panel_keys[:-1], panel_keys[-1], figure_keys)
    legend = legend_of(view, state, line)

    def line_curves(
        rows: pd.DataFrame, style: int, label_: str, setting: dict[str, object]
    ) -> list[Curve]:
        return [gain_curve(view.setting_order(rows, ["gain"]), style, label_, "lo", "hi")]

    def make_grid(plan_: Plan, panels: list[LinePanel], left: Sequence[str]) -> LineGrid:
        suffix = setting_text(plan_.fixed, plan_.digits)
        bars = bar_words(view.seeds, panels)
        return gain_grid(
            title=GAIN.title + (f" ({suffix})" if suffix else ""),
            caption=(
                "The fitted decay rate (ln per step, top layer's state) against the gain g, "
                + (f"one line per {label(line)}; " if line else "")
                + (f"{bars}. " if bars else "one seed. ")
                + "Below the grey band (stable, |rate| ≤ "
                f"{PHASE_TOLERANCE}, {BAND_WORDS}) gradients vanish, above it they explode."
            ),
            failed_note=view.failed_note_in(plan_.fixed),
            plan=plan_,
            panels=panels,
            line=line,
            legend=legend,
            left_out=left,
            figure_keys=figure_keys,
            seeds=view.seeds,
        )

    figures = facet_figures(view, state, plans, left_out, panel_keys, line, line_curves, make_grid)
    return Section(GAIN.key, GAIN.title, intro, tuple(figures))


def _no_rate(single_lag: bool) -> str:
    """Why no phase diagram is drawn: no setting has a fitted rate (nor a rate of −∞);
    ``single_lag``: every setting's fit window holds a single lag."""
    if single_lag:
        why = "each fit window holds a single lag, as at T = 1, and a rate needs two"
    else:
        why = "the rates table says why for each setting"
    return f"No setting has a fitted decay rate ({why}): there is no phase diagram to draw."


def _not_drawn(single: pd.DataFrame) -> str:
    """Which settings the phase diagrams leave out, and why: those of a single-lag window."""
    where = " and ".join(assign("seq_len", t) for t in sorted(single["seq_len"].unique()))
    return (
        f"The settings at {where} are not drawn: their fit windows hold a single lag, and a "
        "rate needs two."
    )
