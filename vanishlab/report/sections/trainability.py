"""Trainability: did the networks learn the task, and did their gradient at init say so?

For a run with trained cells (``train_steps`` > 0, :mod:`vanishlab.sweep.train_cell`): the
fraction of seeds solved against T, one line per gain and one panel per remaining setting
(activation, init, ...), with the fraction *predicted* solvable from the measurement at
initialisation drawn dashed on the same axes: a cell is predicted solvable when its input
gradient at the task's required lag has not fallen 1000x below lag 0
(:func:`vanishlab.sweep.train_cell.trainability`). The mean horizon at init against T is
drawn beside the required lag, and each cell's fall at the required lag, filled where it solved
the task and open where not, under the cut (:mod:`.trainability_outcomes`; the panels and gains
of all three figures are :mod:`.trainability_panels`'). A table gives, per cell, the required lag
beside the horizons at init: the lag of a 1000x drop, the e-folding lag 1/|rate| of the fitted
state curve, and the mean-field depth scale (the lag of a 1000x drop at the mean-field rate,
3 ln 10 / |rate_mf|) where the theory applies, both by the pages' extrapolation rule
(:mod:`.extrapolation`: "> n" past twice the last lag, and no 1/|rate| of a line that is not
continued). One sentence states how often the prediction and the outcome agree
(:mod:`.trainability_agreement`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...analysis.fits import fold_steps
from ...core.training_facts import solve_words
from ...sweep.schema import OVERFLOW_PARTS, overflowed_part
from ...sweep.section_names import ANOMALIES, TRAINABILITY
from ...sweep.summary_fields import POOR_FIT_R2
from ...sweep.trainability import DROP_DECADES, REQUIRED_AT, not_trained, trainability
from ..format import (
    LAG_LABEL,
    NUMERIC_AXES,
    format_value,
    label,
    plural,
    table_texts,
)
from ..model import AXIS_MARGIN, Curve, LineGrid, LinePanel, Section, Table
from ..view import RunView
from .extrapolation import MIN_EXTRAPOLATED_POINTS, REACH_WORDS, reach, untrusted_fit
from .rate_cells import exact_zero_note, horizon_cell
from .trainability_agreement import ZERO_AT_LAG0, agreement, decades_text
from .trainability_outcomes import outcome_figure
from .trainability_panels import (
    SEQ_LEN_LABEL,
    drawn_cells,
    drawn_gains,
    gain_legend,
    one_gain,
    panel_columns,
    panel_keys,
    setting_panels,
    trained_gains,
)
from .trainability_scoring import scoring_text

__all__ = ["trainability_section"]


def _figure(table: pd.DataFrame, view: RunView) -> LineGrid:
    groups, note = setting_panels(table, view)
    gains = drawn_gains(groups)
    legend = gain_legend(gains)
    panels: list[LinePanel] = []
    ncols = panel_columns(groups)
    for i, (title, rows) in enumerate(groups):
        curves: list[Curve] = []
        for style, g in enumerate(gains):
            at = rows[rows["gain"] == g]
            if not len(at):
                continue
            by_t = at.groupby("seq_len", sort=True)
            x = np.asarray(list(by_t.groups), dtype=float)
            solved = by_t["solved"].mean().to_numpy(dtype=float)
            predicted = by_t["predicted"].mean().to_numpy(dtype=float)
            curves.append(Curve(legend[style] if legend else "", style, x, solved))
            curves.append(
                Curve("predicted from the gradient at init", style, x, predicted, reference=True)
            )
        panels.append(LinePanel(i // ncols, i % ncols, title, tuple(curves)))
    return LineGrid(
        title="Solved fraction against T",
        caption=(
            f"Solid: the fraction of seeds whose held-out loss ended below {solve_words()}. "
            "Dashed, same colour: the fraction predicted solvable because the input gradient "
            f"at the task's required lag had not fallen {10**DROP_DECADES:.0f}x at "
            "initialisation, drawn over the solid line: where the two agree, its dashes run along "
            "it."
            + (
                " Where two gains' lines coincide, the lower gain's is drawn wider, a rim around "
                "the other."
                if legend
                else one_gain(gains, view, trained_gains(table))
            )
        ),
        nrows=math.ceil(len(panels) / ncols),
        ncols=ncols,
        panels=tuple(panels),
        xlabel=SEQ_LEN_LABEL,
        ylabel="fraction solved",
        legend_title="gain" if legend else "",
        legend=legend,
        line_label="solved",
        markers=True,
        y_span=(-AXIS_MARGIN, 1 + AXIS_MARGIN),  # 0 to 1 in every panel, with the margins
        note=note,
    )


def _horizon_figure(table: pd.DataFrame, view: RunView) -> LineGrid:
    """The lag of a 1000x drop at init against T, per gain, beside the lag the task needs."""
    shown = table["horizon_1000"].fillna(table["seq_len"].astype(float))  # never: T
    # A norm exactly 0 at lag 0 has no horizon (not "never fell": nothing to fall from).
    zero = table["zero_at_lag0"].astype(bool)
    never = table["horizon_1000"].isna() & ~zero  # T stands for "beyond T": a lower bound
    table = table.assign(shown=shown.where(~zero), never=never)
    groups, note = setting_panels(table, view)
    # What the caption says of the lags drawn goes by the panels drawn: past MAX_PANELS it
    # spoke of exact zeros and gaps of cells in panels left out.
    drawn = drawn_cells(groups)
    gains = drawn_gains(groups)  # the legend's, as the other figures'
    legend = gain_legend(gains)
    ncols = panel_columns(groups)
    panels: list[LinePanel] = []
    for i, (title, rows) in enumerate(groups):
        curves: list[Curve] = []
        for style, g in enumerate(gains):
            at = rows[rows["gain"] == g]
            if len(at):
                by_t = at.groupby("seq_len", sort=True)
                x = np.asarray(list(by_t.groups), dtype=float)
                y = by_t["shown"].mean().to_numpy()
                at_least = x[by_t["never"].any().to_numpy()]
                label = legend[style] if legend else ""
                curves.append(Curve(label, style, x, y, at_least_x=at_least))
        need = rows.groupby("seq_len", sort=True)["required_lag"].first()
        task = str(rows["task"].iloc[0])  # one per panel: a task that varies makes panels
        curves.append(
            Curve(
                f"required lag ({REQUIRED_AT[task]})",
                None,  # no gain's colour: the task's, the same for every gain
                need.index.to_numpy(dtype=float),
                need.to_numpy(dtype=float),
                reference=True,
            )
        )
        panels.append(LinePanel(i // ncols, i % ncols, title, tuple(curves)))
    return LineGrid(
        title="Gradient horizon at initialisation against T",
        caption=(
            "Solid: the lag at which the input gradient ||dh_T/dx_{T−k}|| had fallen "
            f"{10**DROP_DECADES:.0f}x below lag 0 at initialisation ({view.over_seeds()}; "
            + (
                "a seed whose gradient never fell that far within the sequence counts as T, "
                "so a mean with such a seed"
                if view.seeds > 1
                else "a gradient that never fell that far within the sequence counts as T, which"
            )
            + " is only a lower bound: a caret, ▲). Dashed: the shortest lag the "
            "task's answer lies back. A horizon under the dashed line predicts failure."
            + (
                " Some of these lags are where a sample's Jacobian is exactly zero, not a "
                "decay ('(exact 0)' in the table)."
                if drawn["horizon_at_zero"].any()
                else ""
            )
            + (
                f" Cells whose gradient is exactly 0 at lag 0 ('{ZERO_AT_LAG0}' in the table) "
                "have no horizon"
                + (
                    " and are left out of the mean (a gap where every seed is)."
                    if view.seeds > 1
                    else " (a gap)."
                )
                if drawn["zero_at_lag0"].any()
                else ""
            )
        ),
        nrows=math.ceil(len(panels) / ncols),
        ncols=ncols,
        panels=tuple(panels),
        xlabel=SEQ_LEN_LABEL,
        ylabel=LAG_LABEL,  # the lag k of its caption, in steps (it read "lag": no unit)
        legend_title="gain" if legend else "",
        legend=legend,
        line_label=f"lag of a {10**DROP_DECADES:.0f}x fall",
        markers=True,
        integer_y=True,
        note=note,
    )


def _lag_text(value: float, rate: float = math.nan) -> str:
    """A lag read off a rate (``value``, from ``rate``), with two decimals in every row, as the
    table's other computed columns have a fixed number ("1.01", "2.02", "1.41", "0.66",
    "54.10"; two significant digits read "1" and "2" beside "1.4", and whole numbers from 10
    on); "0 (rate −∞)" for an exact zero, which read "0" (as if the gradient e-folded in no
    steps). A lag below 0.005, which would read "0.00", keeps one significant digit."""
    if rate == -math.inf:
        return "0 (rate −∞)"
    if value is None or not math.isfinite(value):
        return "—"
    return _decimals(value, 2)


def _efold_text(rate: float, last_lag: int, untrusted: str | None = None) -> str:
    """1/|rate| of a fitted state curve of lags 0..``last_lag`` as :func:`_reached_text` writes
    it: an IRNN's near-flat fit over lags 0..79 read "68292.67" steps. "—" for a rate not
    negative, and "— (why)" where the long-dependencies section would not continue the line
    (``untrusted``, :func:`.extrapolation.untrusted_fit`: fewer than 5 lags, a poor fit, an
    exact zero), as it is not continued anywhere: the table gave 1/|rate| of them all."""
    if untrusted and rate != -math.inf:
        return f"— ({untrusted})"
    return _reached_text(1.0 / abs(rate) if rate < 0 else math.nan, rate, last_lag)


def _reached_text(lag: float, rate: float, last_lag: int) -> str:
    """A lag read off ``rate`` as :func:`_lag_text` writes it, "> n" past n =
    :func:`.extrapolation.reach` of ``last_lag``, as far as a line is continued anywhere on the
    pages: the e-folding lag and the mean-field lag of a 1000x drop alike (the mean field's read
    "29.80" at T = 6, lags 0..5)."""
    far = reach(last_lag)
    return f"> {far}" if lag > far else _lag_text(lag, rate)


def _untrusted(fits: pd.DataFrame | None, cell: str) -> str | None:
    """Why the cell's fitted state line is not one to continue
    (:func:`.extrapolation.untrusted_fit`, the long-dependencies section's rule); None where it
    is, or where the cell has no fit."""
    if fits is None or cell not in fits.index:
        return None
    return untrusted_fit(fits.loc[cell].to_dict())


def _decimals(value: float, places: int) -> str:
    """A finite value >= 0 with ``places`` decimals, as a column of the table writes every
    row; one that would read as zero ("0.00") keeps one significant digit ("0.003")."""
    return f"{value:.{places}f}" if value >= 0.5 * 10**-places else f"{value:.1g}"


def _loss_text(final: object, chance: float) -> str:
    """The final held-out loss as a fraction of chance, with three decimals in every row
    ("0.008", "0.165", "1.060"; four significant digits wrote "0.008419" beside "1.06"): the
    solved cut at 0.1 stays readable to three digits, and a fraction below 0.0005 keeps one
    significant digit. "diverged" without a final loss."""
    if final is None or pd.isna(final):
        return "diverged"
    ratio = float(final) / float(chance)
    return _decimals(ratio, 3) if math.isfinite(ratio) else format_value(ratio)


def _table(table: pd.DataFrame, view: RunView) -> Table:
    theory = view.theory.set_index("cell_id")
    fits = view.top_fits.set_index("cell_id") if len(view.top_fits) else None
    # Each swept setting is a column of its own, headed by its label (format.label), as every
    # table of settings on the page shows it: one "setting" column read "init = default" on
    # every row. Settings that do not vary are left out, as the page's other tables leave
    # them: one gain (the figures' rule: the first one's caption says it), one seed.
    keys = panel_keys(table, view)
    axes = [
        *keys,
        *(["gain"] if len(trained_gains(table)) > 1 else []),
        "seq_len",
        *(["seed"] if "seed" in view.varying else []),
    ]
    rows, mean_field, untrusted = [], False, False
    # In display order, as the figures' panels (a sort by name put gru and lstm before rnn).
    records = view.table_order(table, [*keys, "gain", "seq_len", "seed"]).to_dict("records")
    for rec, setting in zip(records, table_texts(records, axes), strict=True):
        t = theory.loc[rec["cell_id"]] if rec["cell_id"] in theory.index else None
        rate = float(t["rate"]) if t is not None else math.nan
        mf = float(t["mf_rate"]) if t is not None else math.nan
        depth = fold_steps(mf, DROP_DECADES) if mf < 0 else math.nan
        mean_field |= not math.isnan(depth)
        last = int(rec["seq_len"]) - 1  # the last lag of the input curve, as "> n" says
        why = _untrusted(fits, rec["cell_id"]) if rate != -math.inf else None
        untrusted |= why is not None
        # The lag of a 1000x drop as the rates table writes a horizon: "> T-1" when there is
        # none within the lags 0..T-1, "(exact 0)" when an exact zero made the drop.
        horizon = horizon_cell(
            {
                "horizon": math.inf if math.isnan(rec["horizon_1000"]) else rec["horizon_1000"],
                "lag_end": int(rec["seq_len"]) - 1,
                "horizon_at_zero": rec["horizon_at_zero"],
            }
        )
        if rec["zero_at_lag0"]:  # not "> n": there is no lag-0 value to fall from
            horizon = ZERO_AT_LAG0
        rows.append(
            (
                *setting,
                str(rec["required_lag"]),
                horizon,
                _efold_text(rate, last, why),
                _reached_text(depth, mf, last),
                decades_text(rec["drop_at_required"]),
                "yes" if rec["predicted"] else "no",
                "yes" if rec["solved"] else "no",
                _loss_text(rec["final_loss"], rec["chance_loss"]),
            )
        )
    columns = (
        *(label(c) for c in axes), "required lag", "1000x lag", "1/|rate|",
        "mean-field 1000x lag", "decades at required", "predicted", "solved", "loss / chance",
    )  # fmt: skip
    numeric = (
        *(c in NUMERIC_AXES for c in axes), True, True, True, True, True, False, False, True,
    )  # fmt: skip
    # No row has a mean field (LSTM and GRU cells): a column of "—" in every row said nothing.
    dropped = set() if mean_field else {"mean-field 1000x lag"}
    kept = [i for i, c in enumerate(columns) if c not in dropped]
    columns, numeric = tuple(columns[i] for i in kept), tuple(numeric[i] for i in kept)
    rows = [tuple(row[i] for i in kept) for row in rows]
    return Table(
        "Horizons at initialisation and outcomes",
        "Per trained cell: the shortest lag the task needs (required lag), the lag at which "
        "the input gradient had fallen 1000x at init ('> n' when it never had by lag n, the last "
        "lag measured; "
        + exact_zero_note("some sample's")
        + f"; '{ZERO_AT_LAG0}' when the norm is exactly zero at lag 0, with no value to fall "
        "from), the e-folding lag 1/|rate| of the fitted "
        f"state curve ('> n' when it lies past n, {REACH_WORDS} the last lag measured, as far as "
        "a fitted line is continued: a rate near 0 gives a lag far past any measured"
        + (
            "; '—' with the reason where the line is not one to continue, as the "
            f"long-dependencies section does not: fitted on fewer than {MIN_EXTRAPOLATED_POINTS} "
            f"lags, r² below {POOR_FIT_R2}, or cut to an exact zero"
            if untrusted
            else ""
        )
        + "), "
        + (
            "the mean-field lag of a 1000x drop (3 ln 10 / |rate_mf|, where the mean field "
            "applies; '> n' past the same n), "
            if mean_field
            else ""
        )
        + "the decades fallen by the required lag ('∞ (exact 0)' when the "
        "gradient there is exactly zero, '—' when it is at lag 0), the prediction (a gradient "
        "exactly zero at the required lag is one that fell; one after a zero at lag 0 that is "
        "not has not fallen), the outcome and the final held-out loss as a fraction of chance.",
        columns,
        tuple(rows),
        numeric,
        nowrap=(columns.index("1000x lag"),),  # "3 (exact 0)" broke after its number
    )


def trainability_section(view: RunView) -> Section | None:
    """The solved fraction against T with the prediction at init, and the horizons table."""
    table, missing = trainability(view.results, view.cells), not_trained(view.cells)
    if not len(table) and not len(missing):
        return None
    intro = "Whether each network learned its task, set beside its gradient at initialisation."
    if len(table):
        drawn = drawn_cells(setting_panels(table, view)[0])
        intro += " " + scoring_text(table, view) + " " + agreement(table, drawn)
    if len(missing):
        intro += " " + _not_trained_text(missing, len(table))
    if not len(table):  # only cells left out: nothing to draw
        return Section(TRAINABILITY.key, TRAINABILITY.title, intro, ())
    figures = (_figure(table, view), _horizon_figure(table, view), outcome_figure(table, view))
    blocks = (*figures, _table(table, view))
    return Section(TRAINABILITY.key, TRAINABILITY.title, intro, blocks)


_PARTS_PLURAL = {"forward pass": "forward passes"}


def _not_trained_text(missing: pd.DataFrame, n_trained: int) -> str:
    """What became of the cells meant to be trained that have no outcome (sweep.trainability)."""
    n = len(missing)
    failure = missing["failure"] if "failure" in missing else pd.Series("", index=missing.index)
    overflowed = failure == "overflow"
    overflow = int(overflowed.sum())
    errors = n - overflow
    why = []
    if overflow:  # what overflowed, as each cell's reason says: weights, inputs, forward pass
        reason = missing["reason"] if "reason" in missing else pd.Series(None, index=missing.index)
        parts = reason[overflowed].map(overflowed_part).value_counts()
        parts = [(part, int(parts[part])) for part in OVERFLOW_PARTS if part in parts]
        if len(parts) == 1 and not errors:  # "its forward pass" / "their weights"
            part = parts[0][0]
            whose = [f"its {part}" if n == 1 else f"their {_PARTS_PLURAL.get(part, part)}"]
        else:  # "the weights of 1 and the forward pass of 2"
            whose = [f"the {part} of {count}" for part, count in parts]
        why.append(
            f"{' and '.join(whose)} overflowed at initialisation, so "
            f"{'it was' if overflow == 1 else 'they were'} neither measured nor trained"
        )
    if errors:
        why.append(f"{errors if overflow else 'it' if n == 1 else 'they'} failed with an error")
    where = "the figures, the table and the counts above" if n_trained else "this section"
    return (
        f"{plural(n, 'cell')} meant to be trained {'is' if n == 1 else 'are'} left out of "
        f"{where}: {' and '.join(why)} (listed under {ANOMALIES.title})."
    )
