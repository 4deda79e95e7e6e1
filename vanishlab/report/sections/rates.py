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

import numpy as np
import pandas as pd

from ...analysis.fits import PHASE_TOLERANCE, fitted_end, horizon_at_zero
from ...sweep.inits import INITS
from ..format import (
    MAX_TABLE_ROWS,
    NOT_APPLICABLE,
    NUMERIC_AXES,
    and_list,
    format_value,
    horizon_text,
    label,
    py,
    r2_text,
    rate_text,
    seeds_at_minus_inf,
    setting_text,
)
from ..layout import MINUS_INF_RATE, select, value_range
from ..model import HeatmapGrid, HeatPanel, Section, Table
from ..view import RunView, applicable_values, applies_to_none

__all__ = [
    "EXACT_ZERO_RATES",
    "PANELS_PER_FIGURE",
    "TITLE",
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

#: Heatmaps per figure; more combinations make more figures (parts), never fewer panels.
PANELS_PER_FIGURE = 12

#: The section's title, by which other sections' captions name it.
TITLE = "Decay rates and horizons"


def setting_fits(view: RunView, fits: pd.DataFrame) -> pd.DataFrame:
    """Fits aggregated over seeds: one row per setting."""
    keys = [c for c in view.setting_columns if c in fits]
    if not len(fits):
        return fits
    rate = fits["rate"].to_numpy(dtype=np.float64)
    horizon = fits["horizon"].astype("Float64").fillna(np.inf).to_numpy(dtype=np.float64)
    work = fits[keys].copy()
    work["rate"] = rate
    work["finite_rate"] = np.where(np.isfinite(rate), rate, np.nan)
    work["zero"] = np.isneginf(rate)
    # A seed whose Jacobian becomes exactly 0 inside the fit window keeps the rate fitted
    # before the zero (fit_decay's zero_lag); it is counted and the table says from which lag.
    if "zero_lag" in fits:
        zero_lag = fits["zero_lag"].astype("Float64").fillna(np.inf).to_numpy(dtype=np.float64)
    else:
        zero_lag = np.full(len(fits), np.inf)
    work["cut"] = np.isfinite(rate) & (zero_lag <= fits["lag_end"].to_numpy())
    work["zero_from"] = zero_lag
    # The lag the rate cell names: the cut seeds' own zeros (a seed at -inf is counted apart).
    work["cut_from"] = np.where(work["cut"], zero_lag, np.inf)
    work["cut_last"] = np.where(work["cut"], zero_lag, -np.inf)
    work["horizon"] = horizon
    work["r2"] = fits["r2"].to_numpy(dtype=np.float64)
    work["phase"] = fits["phase"].astype(str).to_numpy()
    work["lag_start"] = fits["lag_start"].to_numpy()
    work["lag_end"] = fits["lag_end"].to_numpy()
    # The lags a seed's finite rate was fitted on (window, up to its zero); NaN: none fitted.
    end = fitted_end(rate, work["lag_end"], zero_lag)
    work["fit_end"] = np.where(np.isfinite(rate), end, np.nan)
    # A horizon at or past the seed's first exact zero: the batch's geometric mean fell
    # 1000x because some samples' Jacobians are exactly 0 there, not by decay.
    work["zero_horizon"] = horizon_at_zero(horizon, zero_lag)
    g = work.groupby(keys, sort=False, dropna=False)
    out = g.agg(
        n=("rate", "size"),
        n_zero=("zero", "sum"),
        n_cut=("cut", "sum"),
        zero_from=("zero_from", "min"),
        cut_from=("cut_from", "min"),
        cut_last=("cut_last", "max"),
        rate=("finite_rate", "mean"),
        lo=("finite_rate", "min"),
        hi=("finite_rate", "max"),
        sd=("finite_rate", "std"),
        horizon=("horizon", "median"),
        r2=("r2", "mean"),
        lag_start=("lag_start", "min"),
        lag_end=("lag_end", "max"),
        fit_end=("fit_end", "max"),
        zero_horizons=("zero_horizon", "sum"),
    )
    out["horizon_at_zero"] = (out["zero_horizons"] > 0) & (out["horizon"] >= out["zero_from"])
    # One phase per setting; only the settings whose seeds disagree are counted out.
    phase = g["phase"].first().astype(str)
    mixed = g["phase"].nunique() > 1
    for key in phase.index[mixed.to_numpy()]:
        phase[key] = _consensus(g.get_group(key if isinstance(key, tuple) else (key,))["phase"])
    out["phase"] = phase
    # Seeds whose rate is -inf (an exact zero in the window) are left out of the mean, and
    # counted; only when every seed has one is the setting's rate -inf.
    out.loc[out["n_zero"] == out["n"], "rate"] = -np.inf
    return view.setting_order(out.reset_index(), keys)


def top_setting_fits(view: RunView) -> pd.DataFrame:
    """:func:`setting_fits` of the top layer's state fits, computed once per view."""
    return view.memo("top setting fits", lambda: setting_fits(view, view.top_fits))


def _partial_zero(rec: Mapping[str, Any]) -> bool:
    """Some, not all, seeds of this setting have a rate of -inf."""
    return 0 < int(rec["n_zero"]) < int(rec["n"])


def mark_exact_zero(text: str, at_zero: object) -> str:
    """A horizon's ``text``, marked "(exact 0)" when ``at_zero``: the norm fell 1000-fold
    there because a Jacobian is exactly 0, not by a decay. The one mark of every page's
    horizons (the sweep's tables by :func:`horizon_cell`, a trained model's pages)."""
    return f"{text} (exact 0)" if bool(at_zero) else text


def exact_zero_note(whose: str) -> str:
    """The captions' one explanation of the "(exact 0)" mark of :func:`mark_exact_zero`;
    ``whose``: whose Jacobian is 0 ("some seed's", "some sample's", "the")."""
    return (
        f"'(exact 0)' when {whose} Jacobian is exactly zero there: the norm is a geometric "
        "mean over the batch, 0 as soon as one sample's Jacobian is"
    )


def horizon_cell(rec: Mapping[str, Any]) -> str:
    """The setting's horizon, marked "(exact 0)" where some seed's Jacobian is exactly 0.

    ``rec`` is a row of :func:`setting_fits` (or a record of the same three keys: a trained
    cell's lag of a 1000x drop); every table of horizons writes them with this, so that one
    setting reads the same in each."""
    text = horizon_text(float(rec["horizon"]), rec["lag_end"])
    return mark_exact_zero(text, rec.get("horizon_at_zero", False))


#: How the rate cells of :func:`rate_cell` treat exact zeros, for the captions of its tables.
EXACT_ZERO_RATES = (
    "A seed whose Jacobian becomes exactly zero inside the window keeps the rate fitted "
    "before the zero (the table says from which lag: the earliest, where seeds differ); one "
    "with fewer than two lags left "
    "before it has a rate of −∞ and is counted apart, out of the mean. "
)


def rate_cell(rec: Mapping[str, Any]) -> str:
    """The setting's rate: the mean ± sd over its seeds of finite rate, and the seeds counted
    apart ("k of n seeds −∞"; "k of n seeds exactly 0 from lag L", or "..., the earliest from
    lag L" when they are cut at different lags).

    ``rec`` is a row of :func:`setting_fits`. One definition for every table of per-setting
    rates: a mean that took the −∞ seeds in read −∞ for a setting another table gave as
    −1.871 with one seed of two at −∞."""
    text = rate_text(float(rec["rate"]))
    spread = rec["sd"]
    finite = rec["n"] - rec["n_zero"]
    if finite > 1 and isinstance(spread, float) and math.isfinite(spread):
        text += f"\u00a0±\u00a0{spread:.3f}"  # no line break inside the number
    text += seeds_at_minus_inf(rec["n_zero"], rec["n"])
    if rec.get("n_cut", 0) > 0:
        # Seeds cut at different lags: the lag named is the earliest, and says so.
        earliest = ", the earliest" if rec.get("cut_last", -np.inf) > rec["cut_from"] else ""
        text += (
            f" ({int(rec['n_cut'])} of {int(rec['n'])} seeds exactly 0{earliest} from lag "
            f"{int(rec['cut_from'])})"
        )
    return text


def _fit_lags(rec: Mapping[str, Any]) -> str:
    """The lags the setting's finite rates were fitted over; "—" where no seed has one (each
    one's Jacobian exactly 0 too soon to fit, or a window of one lag), as its r² reads."""
    if not math.isfinite(rec["fit_end"]):
        return "—"
    return f"{int(rec['lag_start'])}\u2060–\u2060{int(rec['fit_end'])}"


def _consensus(phases: pd.Series) -> str:
    counts = phases.value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    parts = ", ".join(f"{int(n)} {p}" for p, n in sorted(counts.items(), key=lambda t: -t[1]))
    return f"mixed ({parts})"


def _rates_table(view: RunView, state: pd.DataFrame, inputs: pd.DataFrame) -> Table:
    axes = [c for c in view.varying if c != "seed" and c in state]
    merged = state
    if len(inputs):
        keys = [c for c in view.setting_columns if c in state]
        cols = {"rate": "input_rate", "n": "input_n", "n_zero": "input_n_zero"}
        merged = state.merge(inputs[[*keys, *cols]].rename(columns=cols), on=keys, how="left")
    rows = []
    for rec in merged.head(MAX_TABLE_ROWS).to_dict("records"):
        row = [format_value(rec[c]) for c in axes]
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
        "as a transient; — where no seed has a finite rate), mean ± standard deviation over "
        "seeds. "
        + EXACT_ZERO_RATES
        + "Horizon: the first lag where the norm is 1000 times below its lag-0 "
        "value (median over seeds; '> n' when it never is; "
        + exact_zero_note("some seed's")
        + "). Phase: vanishing below "
        f"−{PHASE_TOLERANCE}, exploding above +{PHASE_TOLERANCE}, stable between. Input rate: "
        "the same slope for ||dh_T/dx_{T−k}||." + view.state_note + view.failed_table_note,
        tuple(columns),
        tuple(rows),
        tuple(numeric),
        note,
    )


def _rate_heatmaps(
    view: RunView,
    state: pd.DataFrame,
    row_key: str,
    col_key: str,
    title: str,
) -> list[HeatmapGrid]:
    """Rate heatmaps by ``row_key`` x ``col_key``, one panel per combination of the other
    axes: every combination is drawn, :data:`PANELS_PER_FIGURE` to a figure."""
    if row_key not in state or col_key not in state:
        return []
    if any(applies_to_none(state, k) for k in (row_key, col_key)):
        return []  # an axis of none of these cells (activation, in a run of gated cells)
    facet = [
        c
        for c in view.varying
        if c not in (row_key, col_key, "seed")
        and c in state
        # by model: an nn.RNN's one activation and the gated cells' n/a are one panel
        and not (c == "activation" and "model" in (row_key, col_key))
    ]
    combos = (
        list(view.setting_order(state[facet].drop_duplicates(), facet).itertuples(index=False))
        if facet
        else [()]
    )
    all_rows = view.values(row_key, state[row_key].unique())
    all_cols = view.values(col_key, state[col_key].unique())
    panels = []
    why: list[set[str]] = []  # per panel, why squares are hatched: an init, "" not swept
    for combo in combos:
        sub = select(state, zip(facet, combo, strict=True))
        # A panel of gated cells has no tanh and relu columns, an nn.RNN panel no "n/a" one.
        rows_v = applicable_values(sub, row_key, all_rows)
        cols_v = applicable_values(sub, col_key, all_cols)
        values = np.full((len(rows_v), len(cols_v)), np.nan)
        text = [["" for _ in cols_v] for _ in rows_v]
        for rec in sub.to_dict("records"):
            i = rows_v.index(py(rec[row_key]))
            j = cols_v.index(py(rec[col_key]))
            values[i, j] = rec["rate"]
            h = horizon_text(float(rec["horizon"]), rec["lag_end"])
            h += "‡" if rec.get("horizon_at_zero", False) else ""
            mark = "†" if _partial_zero(rec) else ""
            text[i][j] = f"{rate_text(float(rec['rate']))}{mark}\nh {h}"
        where = dict(zip(facet, combo, strict=True))
        why.append(set())
        absent = _absent(view, where, (row_key, rows_v), (col_key, cols_v), values, why[-1])
        panels.append(
            HeatPanel(
                title=setting_text(zip(facet, combo, strict=True)),
                row_labels=tuple(format_value(v) for v in rows_v),
                col_labels=tuple(format_value(v) for v in cols_v),
                values=values,
                text=tuple(tuple(t) for t in text),
                absent=absent,
            )
        )
    scale = value_range(p.values for p in panels) if len(panels) > PANELS_PER_FIGURE else None
    starts = range(0, len(panels), PANELS_PER_FIGURE)
    pages = [panels[i : i + PANELS_PER_FIGURE] for i in starts]
    hatched = [set().union(*why[i : i + PANELS_PER_FIGURE]) for i in starts]
    marked = any("†" in t for p in panels for row in (p.text or ()) for t in row)
    at_zero = any("‡" in t for p in panels for row in (p.text or ()) for t in row)
    return [
        HeatmapGrid(
            title=title + (f" (part {n + 1} of {len(pages)})" if len(pages) > 1 else ""),
            caption=(
                f"Colour: the decay rate (ln per step, mean over seeds) by {label(row_key)} (rows) "
                f"and {label(col_key)} (columns): blue vanishing, white stable, red exploding, "
                "grey an exact zero (−∞)"
                + ("; one panel per combination of the other axes. " if facet else ". ")
                + "Each cell gives the rate and the horizon h, the lag at which the norm has "
                "fallen 1000-fold (the median over seeds, so it may lie between two lags)."
                + (
                    f" † marks a mean over only some seeds: the others have {MINUS_INF_RATE}."
                    if marked
                    else ""
                )
                + (
                    " ‡ marks a horizon where some seed's Jacobian is exactly zero: the norm is "
                    "a geometric mean over the batch, 0 as soon as one sample's Jacobian is."
                    if at_zero
                    else ""
                )
                + (_absent_note(hatched[n]) if any(p.absent is not None for p in page) else "")
                + view.failed_note
            ),
            panels=tuple(page),
            ncols=min(len(page), 3),
            xlabel=label(col_key),
            ylabel=label(row_key),
            colorbar_label=r"rate $d\,\ln\|J\|\,/\,dk$ (per step)",
            scale=scale,
        )
        for n, page in enumerate(pages)
    ]


def _absent(
    view: RunView,
    where: Mapping[str, object],
    rows: tuple[str, list[object]],
    cols: tuple[str, list[object]],
    values: np.ndarray,
    why: set[str],
) -> np.ndarray | None:
    """Which blank squares of a panel (the cells ``where``) are combinations the run has no
    cell of, failed or not: an init that does not apply to the square's model (added to
    ``why``), or settings never swept together ("" added to ``why``). None when the run's
    cells are not at hand (every blank square is then a failed setting's, as the captions
    say)."""
    (row_key, rows_v), (col_key, cols_v) = rows, cols
    cells = view.cells
    if not len(cells) or any(c not in cells for c in (*where, row_key, col_key)):
        return None
    cells = select(cells, where.items())
    present = {(py(r), py(c)) for r, c in zip(cells[row_key], cells[col_key], strict=True)}
    absent = np.zeros(values.shape, dtype=bool)
    for i, j in zip(*np.nonzero(np.isnan(values)), strict=True):
        if (rows_v[i], cols_v[j]) in present:
            continue  # a failed setting: blank, as the failed note says
        absent[i, j] = True
        why.add(why_absent({**view.fixed, **where, row_key: rows_v[i], col_key: cols_v[j]}))
    return absent if absent.any() else None


def why_absent(setting: Mapping[str, object]) -> str:
    """Why the run has no cell of ``setting`` (a combination of axis values, ``model`` rnn
    when not given): the name of its init when that init does not apply to its model (from
    the init registry), "" when the combination was simply not swept."""
    init = INITS.get(str(setting.get("init")))
    model = setting.get("model", "rnn")
    return init.name if init is not None and model not in init.models else ""


def init_scopes(why: set[str]) -> str:
    """Which inits of ``why`` (:func:`why_absent`'s answers) apply to which models only, as
    ``vanishlab inits`` lists them, and whether some combinations were not swept ("" in
    ``why``): "chrono applies to LSTM and GRU only; the others were not swept"."""
    scopes: dict[tuple[str, ...], list[str]] = {}
    for name in sorted(n for n in why if n):
        scopes.setdefault(INITS[name].models, []).append(name)
    parts = [
        f"{and_list(names)} {'applies' if len(names) == 1 else 'apply'} to "
        f"{and_list([m.upper() for m in models])} only"
        for models, names in scopes.items()
    ]
    if "" in why:
        parts.append("the others were not swept" if parts else "not swept")
    return "; ".join(parts)


def _absent_note(why: set[str]) -> str:
    """The captions' sentence on hatched squares (see :func:`init_scopes`)."""
    return (
        f" Hatched: a combination the run has no cell of ({init_scopes(why)}), not a failed "
        "setting."
    )


#: The rate heatmaps' (rows, columns) pairs, in order of preference; at most HEATMAPS drawn.
HEATMAP_AXES = (
    ("init", "activation"),
    ("init", "model"),
    ("num_layers", "seq_len"),
    ("num_layers", "activation"),
    ("gain", "seq_len"),
    ("init", "gain"),
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
    # axis of one value drew a one-row map under a title that named it).
    swept = _swept(view, state)
    for row_key, col_key in HEATMAP_AXES:
        if len(blocks) < HEATMAPS and {row_key, col_key} <= swept:
            title = f"Rate by {_name(row_key)} and {_name(col_key)}"
            blocks += _rate_heatmaps(view, state, row_key, col_key, title)
    if not blocks:  # one of them swept: a one-column map, named after it alone
        for row_key, col_key in HEATMAP_AXES[:2]:
            if not blocks and row_key in swept:
                title = f"Rate by {_name(row_key)}"
                blocks += _rate_heatmaps(view, state, row_key, col_key, title)
    blocks.append(_rates_table(view, state, inputs))
    return Section(
        "rates",
        TITLE,
        "One number per setting: how many natural-log units the gradient norm loses (or gains) "
        "per step back in time, how many steps until it is 1000 times smaller, and the phase.",
        tuple(blocks),
    )
