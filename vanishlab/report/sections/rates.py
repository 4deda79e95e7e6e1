"""Decay rates and horizons: one number per setting, as heatmaps and a table.

The rate is the least-squares slope of ln ||dh_T/dh_{T-k}|| (top layer; ds for an LSTM's state
s = [h | c]) against the lag k
over the fit window of :func:`vanishlab.fit_decay`, in natural-log units per step: ||J|| ~
exp(rate * k), so -0.1 loses a factor e every 10 steps. The horizon is the first lag where the
norm is 1000 times below its lag-0 value; the phase is vanishing below -tol, exploding above
+tol, stable between (tol = :data:`vanishlab.analysis.fits.PHASE_TOLERANCE`). Per setting the
rates of the seeds are averaged; a seed whose Jacobian becomes exactly zero in the window has
a rate of -inf and is counted apart, out of the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...analysis.fits import PHASE_TOLERANCE
from ...sweep.section_names import RATES
from ..format import (
    MAX_TABLE_ROWS,
    NOT_APPLICABLE,
    NUMERIC_AXES,
    label,
    r2_text,
    rate_text,
    seeds_at_minus_inf,
    table_texts,
)
from ..layout import as_parts
from ..model import Section, Table
from ..view import RunView
from .rate_cells import (
    exact_zero_note,
    exact_zero_rates,
    horizon_cell,
    horizon_median_note,
    mark_exact_zero,
    rate_cell,
    spread_digits,
    whose_jacobian,
)
from .rate_heatmaps import PANELS_PER_FIGURE, init_scopes, rate_heatmaps, why_absent
from .setting_fits import is_mixed, setting_fits, top_setting_fits

__all__ = [
    "PANELS_PER_FIGURE",
    "exact_zero_note",
    "horizon_cell",
    "init_scopes",
    "mark_exact_zero",
    "rate_cell",
    "rates_section",
    "setting_fits",
    "top_setting_fits",
    "why_absent",
]

#: The rates table's words on a setting whose seeds' phases differ (its phase is no phase of
#: the mean rate: a mean of -0.011 over a seed at -0.015 and one at -0.007 is "mixed").
MIXED_PHASES = (
    ", each seed's by its own rate: 'mixed' where the seeds' phases differ, with how many "
    "seeds have each"
)


def _fit_lags(rec: Mapping[str, Any]) -> str:
    """The lags the setting's finite rates were fitted over; "—" where no seed has one (each
    one's Jacobian exactly 0 too soon to fit, or a window of one lag), as its r² reads."""
    if not math.isfinite(rec["fit_end"]):
        return "—"
    return f"{int(rec['lag_start'])}\u2060–\u2060{int(rec['fit_end'])}"


def _rates_table(view: RunView, state: pd.DataFrame, inputs: pd.DataFrame) -> Table:
    axes = [c for c in view.table_axes(state.columns) if c != "seed"]
    merged = state
    if len(inputs):
        keys = [c for c in view.setting_columns if c in state]
        cols = {"rate": "input_rate", "n": "input_n", "n_zero": "input_n_zero"}
        merged = state.merge(inputs[[*keys, *cols]].rename(columns=cols), on=keys, how="left")
    merged = view.table_order(merged, axes)  # its rows follow its columns, the model first
    rows = []
    listed = merged.head(MAX_TABLE_ROWS)
    records = listed.to_dict("records")
    for rec, setting in zip(records, table_texts(records, axes), strict=True):
        row = list(setting)
        row += [
            str(int(rec["n"])),
            rate_cell(rec),
            horizon_cell(rec),
            r2_text(float(rec["r2"])),
            str(rec["phase"]),
            _fit_lags(rec),
        ]
        if len(inputs):
            ir = rec.get("input_rate")  # a mean over seeds: its seeds at -inf counted, as above
            known = ir is not None and not pd.isna(ir)
            inf = seeds_at_minus_inf(rec["input_n_zero"], rec["input_n"]) if known else ""
            row.append(rate_text(float(ir)) + inf if known else "—")
        rows.append(tuple(row))
    columns = [label(c) for c in axes] + [
        "seeds",
        "rate (ln/step)",
        "horizon",
        "r²",
        "phase",
        "fit lags",
    ]
    if len(inputs):
        columns.append("input rate")
    numeric = [c in NUMERIC_AXES for c in axes] + [True, True, True, True, False, True]
    if len(inputs):
        numeric.append(True)
    note = (
        f"Only the first {MAX_TABLE_ROWS} of {len(merged)} settings are listed."
        if len(merged) > MAX_TABLE_ROWS
        else ""
    )
    return Table(
        "Decay rates by setting",
        f"Rate: the least-squares slope of ln ||{view.state_jacobian()}|| (top layer) against "
        "k, in "
        "natural-log units per step, fitted over the lags shown (the first quarter is skipped "
        "as a transient; — where "
        + ("no seed has a finite rate" if view.seeds > 1 else "the seed has no finite rate")
        + "), "
        f"{view.over_seeds('mean ± standard deviation')}"
        + spread_digits(view.seeds)
        + ". "
        + exact_zero_rates(view.seeds)
        + "Horizon: the first lag where the norm is 1000 times below its lag-0 "
        "value ("
        + horizon_median_note("'> n'", view.seeds)
        + "; "
        + exact_zero_note(whose_jacobian(view.seeds))
        + "). r²: of the least-squares line ("
        + ("each seed's, mean over seeds" if view.seeds > 1 else "one seed")
        + "; low for a nearly flat curve, however well its rate is known). Phase: vanishing "
        f"below −{PHASE_TOLERANCE}, exploding above +{PHASE_TOLERANCE}, stable between"
        + (MIXED_PHASES if any(map(is_mixed, listed["phase"])) else "")
        + ". Input rate: the same slope for ||dh_T/dx_{T−k}||."
        + view.state_note
        + view.failed_table_note,
        tuple(columns),
        tuple(rows),
        tuple(numeric),
        note,
        nowrap=(len(axes) + 2,),  # the horizon: "21 (exact 0)" broke after its number
        # the rates' seeds counted apart: "(2 of 2 seeds exactly 0 from lag 100)" in 2 rows
        # of the demo's 48 made the rate column a wide band of white beside its numbers
        asides=(len(axes) + 1, *((len(columns) - 1,) if len(inputs) else ())),
    )


#: The rate heatmaps' (rows, columns) pairs, in order of preference; at most HEATMAPS drawn.
HEATMAP_AXES = (
    ("init", "activation"),
    ("init", "model"),
    ("num_layers", "seq_len"),
    ("num_layers", "activation"),
    ("gain", "seq_len"),
    ("init", "gain"),
    ("init", "seq_len"),  # inits over T: the learning command of an analysed model's page
)
HEATMAPS = 2
_NAMES = {"num_layers": "depth", "seq_len": "sequence length"}


def _name(axis: str) -> str:
    return _NAMES.get(axis, axis)


def _swept(view: RunView, state: pd.DataFrame) -> set[str]:
    """The axes a rate heatmap may be drawn by: those with two values or more that apply to
    some cell. The activation of a mixed run of nn.RNN cells at tanh and gated cells (n/a)
    varies, but has one value: its map had one column per panel, "tanh" or "n/a". Models
    are compared by a map only where the nn.RNN cells have one activation, so that a map's
    cell is one setting."""
    swept = set()
    for axis in view.varying:
        if axis not in state or state[axis][state[axis] != NOT_APPLICABLE].nunique() > 1:
            swept.add(axis)
    if "activation" in swept:
        swept.discard("model")
    return swept


def rates_section(view: RunView) -> Section | None:
    """Fitted rates, horizons and phases: a table and heatmaps."""
    if not len(view.top_fits):
        return None
    state = top_setting_fits(view)
    inputs = (
        view.memo("input setting fits", lambda: setting_fits(view, view.input_fits))
        if len(view.input_fits)
        else pd.DataFrame()
    )
    blocks: list[Any] = []
    # Rows x columns of the rate: the first HEATMAPS pairs of which both axes are swept (an
    # axis of one value drew a one-row map under a title that named it). Figures are counted,
    # not their parts: a pair of more than PANELS_PER_FIGURE panels drawn in two parts left
    # out the next pair.
    swept = _swept(view, state)
    figures = 0
    for row_key, col_key in HEATMAP_AXES:
        if figures < HEATMAPS and {row_key, col_key} <= swept:
            title = f"Rate by {_name(row_key)} and {_name(col_key)}"
            drawn = rate_heatmaps(view, state, row_key, col_key, title)
            figures += bool(drawn)
            blocks += as_parts(drawn)
    if not blocks:  # one of them swept: a one-column map, named after it alone
        for row_key, col_key in HEATMAP_AXES[:2]:
            if not blocks and row_key in swept:
                title = f"Rate by {_name(row_key)}"
                blocks += as_parts(rate_heatmaps(view, state, row_key, col_key, title))
    blocks.append(_rates_table(view, state, inputs))
    return Section(
        RATES.key,
        RATES.title,
        "One number per setting: how many natural-log units the gradient norm loses (or gains) "
        "per step back in time, how many steps until it is 1000 times smaller, and the phase.",
        tuple(blocks),
    )
