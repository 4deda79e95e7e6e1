"""Theory vs measurement: the phase diagram with predictions, agreement, flags, a table.

Each measured decay rate (the fitted slope of ln ||dh_T/dh_{T-k}||, or ds for an LSTM's
[h | c]) beside its prediction:
ln ρ(D* W_hh) in the linear regime (no input: the state settles at a fixed point h*, the origin
without biases, and the Jacobian is (D* W_hh)^k, D* = diag(act'(a*)), I at the origin), or the
mean field's ½ ln χ₁ for random weights driven by input (Poole et al. 2016;
Chen, Pennington & Schoenholz 2018), χ₁ = g² E[φ'(h)²] at the fixed point of the pre-activation
variance. The phase diagram draws the measured rate against the gain with the prediction as a
smooth dashed line (:func:`vanishlab.sweep.critical.mean_field_rate_curve`) and the
mean-field critical gain (χ₁ = 1) as a vertical line. The section is left out when no measured
cell has a prediction; settings outside the theory's domain are flagged and listed, not hidden.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.fits import PHASE_TOLERANCE
from ...sweep.section_names import THEORY
from ...sweep.summary import FLAGS
from ..format import (
    MAX_TABLE_ROWS,
    NUMERIC_AXES,
    PANEL_AXES,
    fixed,
    label,
    plural,
    rate_text,
    seeds_at_minus_inf,
    setting_text,
    spread_decimals,
    spread_text,
    table_texts,
)
from ..gain_layout import gain_curve, gain_grid
from ..layout import Plan, columns_and_figures, facet_figures, legend_of, plan
from ..line_style import BAND_WORDS, bar_words
from ..model import Curve, KeyValues, LineGrid, LinePanel, Section, Table
from ..predicted import (
    MIXED,
    by_setting,
    has_theory,
    kinds_text,
    shared_reasons,
    shared_reasons_caption,
    unregistered_note,
    without_shared,
)
from ..view import RunView
from .rate_cells import spread_digits
from .theory_lines import MIXED_FIGURE_NOTE, predicted_line, seed_kinds

__all__ = ["theory_section"]


PHASE_CAPTION = (
    "The fitted decay rate of the top layer's state (points, {seeds}{bars}){predicted} "
    "against the gain g{lines}. The horizontal line at 0 separates vanishing (below) from "
    "exploding (above) gradients, the shaded band is the stable phase (|rate| ≤ "
    f"{PHASE_TOLERANCE}, {BAND_WORDS})"
    "{edge}."
)
#: The words on the predicted rate, and what stands for them where none is finite (every
#: setting's is −∞, relu at the origin: nothing dashed is drawn).
PREDICTED_CAPTION = (
    " and the predicted rate (dashed: the mean field's ½ ln χ₁ as a function of the gain, or "
    "ln ρ(D* W_hh) at the fixed point of an undriven network)"
)
NO_PREDICTED_CAPTION = (
    " No predicted rate is drawn: none is finite (the table below gives each setting's)."
)
#: The sentence on the critical gain, for a figure where one lies inside the gains swept;
#: {what} says what it is for the activations of the lines that have one (:data:`EDGE_WHAT`).
EDGE_CAPTION = (
    "; a vertical dotted line marks the mean-field critical gain, where χ₁ = 1 "
    "({what}), in the colour of its line (grey where lines share it)"
)
#: What χ₁ = 1 is, by the activations whose critical gain a figure draws. relu has no
#: chaotic phase: past its critical gain q* has no fixed point and the activity diverges.
EDGE_WHAT = {
    ("tanh",): "the edge of chaos",
    ("relu",): "for relu no edge of chaos: relu has no chaotic phase, and past this gain its "
    "activity grows without bound",
    ("relu", "tanh"): "tanh's edge of chaos; relu has no chaotic phase: past its critical "
    "gain the activity grows without bound",
}


#: Said under the table where some seed's Lyapunov exponent is −∞ (beside, often, a finite
#: rate of the same seed): the QR method follows one direction, which a step that maps it
#: exactly to 0 wipes out for good, in the discarded first quarter too (docs/maths.md). Such
#: a step has relu units off, or W_hh = 0 (gain 0, tanh's too: "relu units off" alone was
#: said of a tanh run whose only −∞ seeds were at gain 0).
LYAPUNOV_ZERO_NOTE = (
    "A seed's Lyapunov exponent is −∞ where one step of its trajectory, the discarded first "
    "quarter included, mapped the followed direction exactly to zero (relu units off, or "
    "W_hh = 0 at gain 0): it stays zero, while the same seed's decay rate, fitted before its "
    "exact zero, can be finite. "
)


def _phase_figures(view: RunView, settings: pd.DataFrame) -> list[LineGrid]:
    if "gain" not in view.varying or "gain" not in settings:
        return []
    state = settings[(settings["n_ok"] > 0).to_numpy()]
    if not len(state) or not (state["predicted_by"] != "none").any():
        return []
    line = "init" if "init" in view.varying else None
    # Rows: activation and depth where they vary (titles stay short beside a column axis).
    panel_keys = [k for k in PANEL_AXES if k in state and k in view.varying]
    extras = [
        c for c in view.varying if c not in (*panel_keys, "gain", "seed", line) and c in state
    ]
    column_key, figure_keys = columns_and_figures(view, state, extras)
    plans, left_out = plan(view, state, panel_keys, column_key, figure_keys)
    legend = legend_of(view, state, line)
    names = [*panel_keys, *([column_key] if column_key else [])]
    edges: list[tuple[int, float]] = []  # (style, critical gain) of the panel being drawn
    edge_activations: set[str] = set()  # of the lines with a critical gain, in the figure
    mixed: list[str] = []  # the settings of the figure whose seeds have different theories

    def line_curves(
        rows: pd.DataFrame, style: int, label_: str, setting: dict[str, object]
    ) -> list[Curve]:
        c = view.setting_order(rows, ["gain"])
        x = c["gain"].to_numpy(dtype=np.float64)
        curves = [gain_curve(c, style, label_, "rate_lo", "rate_hi"), *predicted_line(c, style)]
        mixed.extend(
            f"{setting_text([*setting.items(), ('gain', rec['gain'])])} ({seed_kinds(rec)})"
            for rec in c.to_dict("records")
            if rec["predicted_by"] == MIXED
        )
        gc = c["critical_gain"].to_numpy(dtype=np.float64)
        gc = gc[np.isfinite(gc)]
        if len(gc) and x.min() <= gc[0] <= x.max():
            edges.append((style, float(gc[0])))
            edge_activations.update(str(a) for a in c.get("activation", pd.Series()).unique())
        return curves

    def finish_panel(curves: list[Curve]) -> list[Curve]:
        ys = np.concatenate([cv.y for cv in curves] or [np.empty(0)])
        ys = ys[np.isfinite(ys)]
        if edges and len(ys):
            lo, hi = float(ys.min()), float(ys.max())
            # One line per gain; several lines' shared critical gain (relu's √2 for normal and
            # orthogonal) is drawn once, grey, not one colour hidden under another.
            shared: dict[float, set[int]] = {}
            for s, gc in edges:
                shared.setdefault(round(gc, 9), set()).add(s)
            for gc, styles in shared.items():
                s = next(iter(styles)) if len(styles) == 1 else None
                curves.append(
                    Curve(
                        "mean-field critical gain (χ₁ = 1)",
                        s,
                        np.array([gc, gc]),
                        np.array([lo, hi]),
                        reference=True,
                        dotted=True,
                    )
                )
        edges.clear()
        return curves

    held = [(k, view.fixed[k]) for k in PANEL_AXES if k in view.fixed]

    def make_grid(plan_: Plan, panels: list[LinePanel], left: Sequence[str]) -> LineGrid:
        suffix = setting_text((*held, *plan_.fixed), plan_.digits)
        curves = [c for p in panels for c in p.curves]
        predicted = any(c.reference and not c.dotted for c in curves)
        what = EDGE_WHAT.get(tuple(sorted(edge_activations)), "the edge of chaos")
        edge_activations.clear()
        bars = bar_words(view.seeds, panels)
        said = list(mixed)
        mixed.clear()
        return gain_grid(
            title="Measured and predicted rate against gain" + (f" ({suffix})" if suffix else ""),
            caption=PHASE_CAPTION.format(
                seeds=view.over_seeds(),
                lines=f", one colour per {label(line)}" if line else "",
                bars=f"; {bars}" if bars else "",
                predicted=PREDICTED_CAPTION if predicted else "",
                edge=EDGE_CAPTION.format(what=what) if any(c.dotted for c in curves) else "",
            )
            + ("" if predicted else NO_PREDICTED_CAPTION)
            + (MIXED_FIGURE_NOTE.format(settings="; ".join(said)) if said else "")
            + unregistered_note(view, (*held, *plan_.fixed))
            + (
                f" {view.gated} panels have no prediction (measurements only)."
                if view.gated
                else ""
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

    return facet_figures(
        view, state, plans, left_out, names, line, line_curves, make_grid, finish_panel
    )


def _rate_or_dash(value: float) -> str:
    return rate_text(value) if not (isinstance(value, float) and math.isnan(value)) else "—"


def _seed_mean(rec: dict[str, Any], column: str, n_inf: str) -> str:
    """A mean over the setting's measured seeds, with the seeds at −∞ it left out counted."""
    return _rate_or_dash(rec[column]) + seeds_at_minus_inf(rec[n_inf], rec["n_ok"])


def _theory_table(view: RunView, settings: pd.DataFrame) -> Table:
    axes = [c for c in view.table_axes(settings.columns) if c != "seed"]
    settings = view.table_order(settings, axes)  # its rows follow its columns, the model first
    stacks = "num_layers" in settings and bool((settings["num_layers"] > 1).any())
    rows = []
    records = settings.head(MAX_TABLE_ROWS).to_dict("records")
    # A reason for no prediction that rows share (every gated row's, every identity row's) is
    # said once in the caption: it was the same lines under each of them.
    shared = shared_reasons(r["notes"] for r in records)
    dash = (
        ", with the reason in the row's notes, or here once where several rows share it: "
        + shared_reasons_caption(shared)
        if shared
        else "."
    )
    for rec, setting in zip(records, table_texts(records, axes), strict=True):
        delta = _rate_or_dash(rec["delta"])
        if rec["n_ok"] - rec["n_zero"] > 1 and math.isfinite(rec["delta_sd"]):
            # The mean to the sd's decimals, as the rates table's (rate_cell). The ± may go
            # under the mean (the table's widest column else): the numbers stay whole.
            places = spread_decimals(rec["delta_sd"])
            spread = spread_text(rec["delta_sd"], places)
            delta = f"{rate_text(rec['delta'], places)} ±\u00a0{spread}"
        by = rec["predicted_by"]
        # A mean field that is only approximate (orthogonal weights) is said by its flag,
        # non-iid: "mean field (approximate)" here made the column, '—' in most rows of a run
        # with gated cells, wide enough to push the flags out of a 1400 px window. Never
        # "mean / field" (a no-break space). A setting whose seeds have different theories
        # names each with its seeds, never the first seed's alone beside a mean of both (tanh,
        # gain 2, H = 64, no input, biases: "linear" beside -0.055, the mean of 6 seeds'
        # ln ρ(D* W_hh) and 2 mean fields).
        theory = "—" if by == "none" else (kinds_text(rec) or by).replace(" field", "\u00a0field")
        whole = [_seed_mean(rec, "rate_layer0", "n_zero_rate_layer0")] if stacks else []
        rows.append(
            (
                *setting,
                f"{int(rec['n_ok'])}" + (f" of {int(rec['n'])}" if rec["n_ok"] < rec["n"] else ""),
                _seed_mean(rec, "rate", "n_zero"),
                _rate_or_dash(rec["predicted"]),
                theory,
                delta,
                *whole,
                _seed_mean(rec, "lyapunov", "n_zero_lyapunov"),
                _rate_or_dash(rec["pascanu"]),
                rec["flags"] or "—",
                without_shared(rec["notes"], shared),
            )
        )
    columns = (
        *(label(c) for c in axes),
        "cells",
        _MEASURED,
        "predicted",
        "theory",
        "measured − predicted",
        *((_VIA_LAYER0,) if stacks else ()),
        _LYAPUNOV,
        "Pascanu slope",
        "flags",
        "notes",
    )
    # cells, measured, predicted, theory, difference, [via layer 0], Lyapunov, Pascanu, flags,
    # notes
    numeric = (
        *(c in NUMERIC_AXES for c in axes),
        *(True, True, True, False, True),
        *((True,) if stacks else ()),
        *(True, True, False, False),
    )
    note = (
        f"Only the first {MAX_TABLE_ROWS} of {len(settings)} settings are listed."
        if len(settings) > MAX_TABLE_ROWS
        else ""
    )
    lyapunov = (
        "Rate via layer 0 and Lyapunov compare the whole stack with itself: the fitted slope of "
        f"ln ||{view.state_jacobian('0')}|| (the curve from the bottom layer, through every "
        "layer) and the top Lyapunov exponent of the whole state (all layers; QR method along "
        "the same trajectories, the first quarter discarded). A stack's one-step Jacobian is block "
        "triangular, so its Lyapunov exponent is the largest of the layers' own rates, and it "
        "is the rate the layer-0 curve approaches at long lags; the top layer's own rate (the "
        "measured rate) can be lower. "
        if stacks
        else "Lyapunov: the top Lyapunov exponent of the state along the same trajectories "
        "(QR method, the first quarter discarded), the rate the measured curve approaches at "
        "long lags. "
    )
    return Table(
        f"{THEORY.title} by setting",
        f"Measured rate: the fitted slope of ln ||{view.state_jacobian()}|| of the top layer "
        "against its own earlier state (natural log per step, "
        + (
            "mean over the seeds; a seed whose rate is −∞ is left out of the mean unless all "
            "are, and counted: '(k of n seeds −∞)', as in the rate via layer 0 and the Lyapunov "
            "exponent"
            if view.seeds > 1
            else view.over_seeds()
        )
        + "). Predicted: "
        "the same rate by theory, ln ρ(D* W_hh) in the linear regime (no input: the state "
        "settles at a fixed point, the origin without biases, where D* = I), or the mean "
        "field's ½ ln χ₁ for random weights; '—' where neither applies"
        + dash
        + (MIXED_TABLE_NOTE if any(r["predicted_by"] == MIXED for r in records) else "")
        + f" Measured − predicted: {view.over_seeds('mean ± standard deviation')}"
        + spread_digits(view.seeds)
        + ". "
        + lyapunov
        + (LYAPUNOV_ZERO_NOTE if any(r["n_zero_lyapunov"] > 0 for r in records) else "")
        + "Pascanu slope: ln ||W_hh||₂ ("
        + ("mean over the measured seeds" if view.seeds > 1 else "one seed")
        + ", as the rate), the bound "
        "every lag's norm stays under, not a prediction. Flags mark settings outside the "
        "domain where the theory is expected to hold; they are listed, not hidden."
        + view.state_note,
        columns,
        tuple(rows),
        numeric,
        note,
        detail=len(columns) - 1,  # the notes: a line under each row, never cut off
        nowrap=(columns.index("cells"),),  # "0 of 2" (a failed setting) broke after its "of"
        # "(k of n seeds −∞)" under its rate, as in the rates table: one row's made its column
        asides=tuple(columns.index(c) for c in (_MEASURED, _VIA_LAYER0, _LYAPUNOV) if c in columns),
    )


#: Said after the table's words on the predicted rate where some row's seeds have different
#: theories (:func:`vanishlab.report.predicted.kinds_text` names them in its theory cell).
MIXED_TABLE_NOTE = (
    " Where a setting's seeds are predicted by different theories (no input and biases: a "
    "seed whose state settles at no stable fixed point has the mean field in place of "
    "ln ρ(D* W_hh)), its theory cell counts the seeds of each, its predicted rate is the mean "
    "of each seed's own prediction, and measured − predicted is taken seed by seed, each "
    "against its own."
)


#: The columns whose rates may carry "(k of n seeds −∞)" (the second only for a stack).
_MEASURED, _VIA_LAYER0, _LYAPUNOV = (
    "measured rate (top layer)",
    "rate via layer 0",
    "Lyapunov (whole state)",
)


def _agreement(summary: pd.DataFrame, view: RunView) -> KeyValues:
    measured = summary[(summary["status"] == "ok").to_numpy()]
    n = len(measured)
    by = measured["predicted_by"].value_counts()
    predicted = int(by.get("linear", 0) + by.get("mean field", 0))
    items: list[tuple[str, str]] = [
        (
            "measured cells with a prediction",
            f"{predicted} of {n} ({int(by.get('linear', 0))} linear regime, "
            f"{int(by.get('mean field', 0))} mean field)",
        )
    ]
    delta = measured["delta_rate"].to_numpy(dtype=np.float64)
    flagged = (measured["flag"] != "").to_numpy()
    known = np.isfinite(delta)
    # Where every cell is flagged (a narrow network flags them all), the row says so: it read
    # as if some cells had been left out.
    every = "flagged cells (all of them)" if not (known & ~flagged).any() else "flagged cells"
    for name, mask in (("unflagged cells", ~flagged), (every, flagged)):
        d = np.abs(delta[mask & known])
        if len(d):
            items.append(
                (
                    f"|measured − predicted|, {name}",
                    f"median {fixed(np.median(d), 3)}, largest {fixed(d.max(), 3)} per step "
                    f"({plural(len(d), 'cell')})",
                )
            )
    lyap = np.abs((measured["lyapunov"] - measured["rate_layer0"]).to_numpy(dtype=np.float64))
    lyap = lyap[np.isfinite(lyap)]
    if len(lyap):
        items.append(
            (
                "|Lyapunov − rate via layer 0|",
                f"median {fixed(np.median(lyap), 3)} per step over "
                f"{plural(len(lyap), 'cell')}: the top Lyapunov exponent of the whole state and "
                "the fitted slope of "
                f"ln ||{view.state_jacobian('0')}|| (from the bottom layer, through every layer "
                "above it) are two estimates of one asymptotic rate; a large difference means "
                "the fit window is still transient",
            )
        )
    bad = measured[measured["pascanu_ok"].eq(False).fillna(False).to_numpy(dtype=bool)]
    # Only nn.RNN cells have the bound: "all 8 measured cells" in a 24-cell mixed run.
    rnn = " nn.RNN" if view.gated else ""
    checked = int(measured["pascanu_ok"].notna().sum())
    if len(bad):
        ids = ", ".join(str(c) for c in bad["cell_id"].head(10))
        items.append(("Pascanu bound", f"VIOLATED in {len(bad)} of {checked}{rnn} cells: {ids}"))
    elif checked:
        # "all 2 measured nn.RNN cells" in a depth-2 gated smoke run: two are "both"
        every = {1: f"the measured{rnn} cell", 2: f"both measured{rnn} cells"}.get(
            checked, f"all {checked} measured{rnn} cells"
        )
        items.append(("Pascanu bound", f"holds at every lag of {every}"))
    return KeyValues("Agreement", tuple(items))


def _flag_legend(settings: pd.DataFrame) -> KeyValues | None:
    present = {f for text in settings["flags"] for f in str(text).split(", ") if f}
    items = tuple((f, FLAGS[f]) for f in FLAGS if f in present)
    return KeyValues("What the flags mean", items) if items else None


def theory_section(view: RunView) -> Section | None:
    """Theory vs measurement: phase diagram, agreement, flags and the per-setting table."""
    settings = by_setting(view)
    if not has_theory(settings):
        return None
    blocks: list[Any] = list(_phase_figures(view, settings))
    blocks.append(_agreement(view.theory, view))
    legend = _flag_legend(settings)
    if legend is not None:
        blocks.append(legend)
    blocks.append(_theory_table(view, settings))
    return Section(
        THEORY.key,
        THEORY.title,
        "Each measured decay rate beside what theory predicts for it: ln ρ(D* W_hh) where an "
        "undriven network settles at a fixed point (linear regime; D* = I at the origin), the "
        "mean field's ½ ln χ₁ for random "
        "weights driven by input (Poole et al. 2016; Chen, Pennington & Schoenholz 2018). "
        "Where a setting lies outside the theory's domain (finite width, near-critical gains, "
        "short sequences, non-i.i.d. weights, relu divergence), it is flagged and its "
        "difference shown all the same.",
        tuple(blocks),
    )
