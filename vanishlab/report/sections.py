"""The figure and table sections of a report: decay curves, input sensitivity, depth x lag,
rates and horizons, the gain phase diagram, and anomalies (stage one, like :mod:`.data`).

Each builder takes a :class:`~.data.RunView` and returns a :class:`~.model.Section`, or None
when the run has nothing for it; importing this module registers them, in page order, after
the overview of :mod:`.data`. The theory section (:mod:`.theory`) goes before "anomalies".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.fits import PHASE_TOLERANCE
from .data import (
    FLOAT32_MAX_LOG10,
    MAX_ANOMALY_ROWS,
    MAX_COLUMNS,
    MAX_FIGURES,
    MAX_PANELS,
    MAX_POINTS,
    MAX_TABLE_ROWS,
    PANEL_AXES,
    RunView,
    _assign,
    _label,
    _py,
    _rate_text,
    _section,
    format_value,
)
from .model import (
    Curve,
    HeatmapGrid,
    HeatPanel,
    LineGrid,
    LinePanel,
    Section,
    Table,
)

# --------------------------------------------------------------------------- curves


def _thin(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` evenly spread indices of ``range(n)``, ends included."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))


def _seed_stats(frame: pd.DataFrame, keys: list[str], value: str, spread: str) -> pd.DataFrame:
    """Per (keys, lag): mean of finite ``value`` over seeds, band, and whether any was -inf.

    Band: min and max over seeds when a setting has several, else ``value +- spread``.
    """
    v = frame[value].to_numpy(dtype=np.float64)
    finite = np.where(np.isfinite(v), v, np.nan)
    zero = np.isneginf(v)
    if "n_zero" in frame:
        zero |= frame["n_zero"].fillna(0).to_numpy(dtype=np.float64) > 0
    work = pd.DataFrame(
        {
            **{k: frame[k].to_numpy() for k in keys},
            "lag": frame["lag"].to_numpy(dtype=np.int64),
            "v": finite,
            "zero": zero,
            "sd": frame[spread].to_numpy(dtype=np.float64) if spread in frame else np.nan,
        }
    )
    g = work.groupby([*keys, "lag"], sort=False, dropna=False)
    out = g.agg(
        y=("v", "mean"), lo=("v", "min"), hi=("v", "max"), n=("v", "size"), zero=("zero", "any")
    )
    sd = g["sd"].mean()
    single = out["n"] == 1
    out.loc[single, "lo"] = out.loc[single, "y"] - sd[single].where(np.isfinite(sd[single]))
    out.loc[single, "hi"] = out.loc[single, "y"] + sd[single].where(np.isfinite(sd[single]))
    return out.reset_index()


def _columns_and_figures(
    view: RunView, frame: pd.DataFrame, extras: list[str]
) -> tuple[str | None, list[str]]:
    """Of the axes not yet in the layout, the one for columns and the ones for figures.

    Columns take the axis with the most values that still fit side by side
    (:data:`MAX_COLUMNS`), so that as much as possible is drawn; the rest split figures.
    """
    if not extras:
        return None, []
    counts = {c: len(view.values(c, frame[c].unique())) for c in extras}
    best = min(extras, key=lambda c: (counts[c] > MAX_COLUMNS, -counts[c], extras.index(c)))
    return best, [c for c in extras if c != best]


@dataclass(frozen=True)
class _Plan:
    """One figure of a faceted section: fixed values, panel combinations, line values."""

    fixed: tuple[tuple[str, object], ...]
    panels: list[tuple[object, ...]]
    ncols: int
    omitted_panels: int
    omitted_columns: str = ""  # "gain: 5 of 9 values shown", when columns were thinned


def _plan(
    view: RunView,
    frame: pd.DataFrame,
    panel_keys: list[str],
    column_key: str | None,
    figure_keys: list[str],
) -> tuple[list[_Plan], int]:
    """Split ``frame`` into figures (one per combination of ``figure_keys``) of panels.

    Panels are the combinations of ``panel_keys`` (rows) times the values of ``column_key``
    (columns, at most :data:`MAX_COLUMNS`, evenly chosen). Returns the plans (at most
    :data:`MAX_FIGURES`) and how many figure combinations were left out.
    """
    keys = [*figure_keys, *panel_keys, *([column_key] if column_key else [])]
    combos = view.setting_order(frame[keys].drop_duplicates(), keys) if keys else None
    if combos is None or not len(combos):
        return [_Plan((), [()], 1, 0)], 0
    col_values: list[object] = []
    thinned = ""
    if column_key:
        col_values = view.values(column_key, frame[column_key].unique())
        if len(col_values) > MAX_COLUMNS:
            pick = np.unique(np.round(np.linspace(0, len(col_values) - 1, MAX_COLUMNS)))
            thinned = (
                f"columns show {len(pick)} of the {len(col_values)} values of {_label(column_key)}"
            )
            col_values = [col_values[int(i)] for i in pick]
    plans: list[_Plan] = []
    fig_combos = list(
        dict.fromkeys(
            tuple(_py(v) for v in row) for row in combos[figure_keys].itertuples(index=False)
        )
    )
    for fig in fig_combos[:MAX_FIGURES]:
        sub = combos
        for k, v in zip(figure_keys, fig, strict=True):
            sub = sub[(sub[k] == v).to_numpy()]
        rows = list(
            dict.fromkeys(
                tuple(_py(v) for v in row) for row in sub[panel_keys].itertuples(index=False)
            )
        )
        panels: list[tuple[object, ...]] = []
        for r in rows:
            panels += [(*r, c) for c in col_values] if column_key else [r]
        ncols = len(col_values) if column_key else min(len(panels), 3)
        kept = panels[: max(MAX_PANELS // max(ncols, 1), 1) * ncols]
        fixed = tuple(zip(figure_keys, fig, strict=True))
        plans.append(_Plan(fixed, kept, ncols, len(panels) - len(kept), thinned))
    return plans, max(len(fig_combos) - MAX_FIGURES, 0)


def _select(frame: pd.DataFrame, assignment: Iterable[tuple[str, object]]) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    for k, v in assignment:
        mask &= (frame[k] == v).to_numpy()
    return frame[mask]


#: ``overlay(setting, curve)``: a reference (theory) curve to draw over the measured ``curve``, or
#: None; ``setting`` maps every axis that tells the curve apart from the others to its value.
Overlay = Callable[[Mapping[str, object], Curve], "Curve | None"]


def _curve_figures(
    view: RunView,
    frame: pd.DataFrame,
    *,
    title: str,
    what: str,
    ylabel: str,
    overlay: Overlay | None = None,
    overlay_caption: str = "",
) -> list[LineGrid]:
    """Decay-curve figures of ``frame`` (one curve per setting, seeds averaged).

    ``overlay`` adds reference curves (drawn dashed); ``overlay_caption`` is appended to the
    caption of the figures that have one.
    """
    if not len(frame):
        return []
    line = view.line_axis
    panel_keys = [k for k in PANEL_AXES if k in frame]
    extras = [c for c in view.varying if c not in (*panel_keys, "seed", line) and c in frame]
    column_key, figure_keys = _columns_and_figures(view, frame, extras)
    keys = [
        *figure_keys,
        *panel_keys,
        *([column_key] if column_key else []),
        *([line] if line else []),
    ]
    stats = _seed_stats(frame, keys, "log10_fro_mean", "log10_fro_std")
    line_values = view.values(line, stats[line].unique()) if line else [None]
    legend = tuple(format_value(v) for v in line_values) if line else ()
    plans, left_out = _plan(view, frame, panel_keys, column_key, figure_keys)
    seeds = view.seeds
    band = (
        f"the band spans the {seeds} seeds."
        if seeds > 1
        else "the band is ±1 standard deviation across the cell's samples."
    )
    figures = []
    for p, plan in enumerate(plans):
        sub = _select(stats, plan.fixed)
        panels = []
        for i, combo in enumerate(plan.panels):
            names = [*panel_keys, *([column_key] if column_key else [])]
            cell = _select(sub, zip(names, combo, strict=True))
            curves = []
            for s, lv in enumerate(line_values):
                c = cell if line is None else cell[(cell[line] == lv).to_numpy()]
                if not len(c):
                    continue
                c = c.sort_values("lag")
                idx = _thin(len(c))
                x = c["lag"].to_numpy(dtype=np.float64)
                zero_x = x[c["zero"].to_numpy(dtype=bool)]
                curves.append(
                    Curve(
                        label=legend[s] if line else "",
                        style=s,
                        x=x[idx],
                        y=c["y"].to_numpy(dtype=np.float64)[idx],
                        lo=c["lo"].to_numpy(dtype=np.float64)[idx],
                        hi=c["hi"].to_numpy(dtype=np.float64)[idx],
                        floor_x=zero_x[_thin(len(zero_x))],
                    )
                )
                if overlay is not None:
                    setting = {**dict(plan.fixed), **dict(zip(names, combo, strict=True))}
                    if line:
                        setting[line] = lv
                    ref = overlay(setting, curves[-1])
                    if ref is not None:
                        curves.append(ref)
            ptitle = ", ".join(_assign(k, v) for k, v in zip(names, combo, strict=True))
            panels.append(LinePanel(i // plan.ncols, i % plan.ncols, ptitle, tuple(curves)))
        suffix = ", ".join(_assign(k, v) for k, v in plan.fixed)
        note = _omitted(
            plan.omitted_panels,
            left_out if p == len(plans) - 1 else 0,
            figure_keys,
            plan.omitted_columns,
        )
        figures.append(
            LineGrid(
                title=f"{title}" + (f" ({suffix})" if suffix else ""),
                caption=(
                    f"The log10 Frobenius norm of {what} against the lag k, "
                    + (f"one line per {_label(line)}, " if line else "")
                    + f"mean over seeds; {band} A straight falling line is exponential "
                    "vanishing (its slope is the rate), a rising one explosion."
                    + (ZERO_NOTE if any(len(c.floor_x) for q in panels for c in q.curves) else "")
                    + (
                        overlay_caption
                        if any(c.reference for q in panels for c in q.curves)
                        else ""
                    )
                ),
                nrows=max(len(plan.panels) // plan.ncols + (len(plan.panels) % plan.ncols > 0), 1),
                ncols=plan.ncols,
                panels=tuple(panels),
                xlabel="lag k (steps)",
                ylabel=ylabel,
                legend_title=_label(line) if line else "",
                legend=legend,
                note=note,
            )
        )
    return figures


def _omitted(panels: int, figures: int, figure_keys: Sequence[str], columns: str = "") -> str:
    parts = [columns] if columns else []
    if panels:
        parts.append(f"{panels} more panels are not drawn")
    if figures:
        axes = ", ".join(_label(k) for k in figure_keys)
        parts.append(f"{figures} more combinations of {axes} are not drawn")
    if not parts:
        return ""
    text = "; ".join(parts) + " (the rates table lists every setting)."
    return text[0].upper() + text[1:]


ZERO_NOTE = (
    " Triangles on the floor of a panel (one row per line) mark lags where some sample's "
    "Jacobian is exactly zero, so that its cell's mean log10 is −∞; the line averages the other "
    "seeds and breaks where none is left."
)


@_section("decay")
def decay_section(view: RunView) -> Section | None:
    """State Jacobian norms of the top layer against the lag, with the predicted slopes."""
    from .theory import DECAY_OVERLAY_CAPTION, decay_overlay  # theory overlays, drawn dashed

    figs = _curve_figures(
        view,
        view.top_state,
        title="Decay of the state Jacobian",
        what="dh_T/dh_{T−k} (top layer, its own state k steps earlier)",
        ylabel=r"$\log_{10}\,\|\partial h_T\,/\,\partial h_{T-k}\|$",
        overlay=decay_overlay(view),
        overlay_caption=DECAY_OVERLAY_CAPTION,
    )
    if not figs:
        return None
    return Section(
        "decay",
        "Decay curves",
        "How fast the influence of an earlier hidden state on the last one fades (or grows) "
        "with the distance between them.",
        tuple(figs),
    )


@_section("input")
def input_section(view: RunView) -> Section | None:
    """Input sensitivity against the lag."""
    figs = _curve_figures(
        view,
        view.inputs,
        title="Input sensitivity",
        what="dh_T/dx_{T−k} (the last state against the input k steps earlier)",
        ylabel=r"$\log_{10}\,\|\partial h_T\,/\,\partial x_{T-k}\|$",
    )
    if not figs:
        return None
    return Section(
        "input",
        "Input sensitivity",
        "How strongly the last hidden state still depends on an input seen k steps earlier: "
        "the quantity that decides whether a long-range dependency can be learned.",
        tuple(figs),
    )


# --------------------------------------------------------------------------- depth x lag


@_section("depth")
def depth_section(view: RunView) -> Section | None:
    """Layer x lag heatmaps of stacked networks."""
    r = view.results
    if "num_layers" not in r:
        return None
    deep = r[((r["source"] == "state") & (r["num_layers"] > 1)).to_numpy(dtype=bool)]
    if not len(deep):
        return None
    line = view.line_axis
    facet = [k for k in ("activation", "num_layers") if k in deep]
    if line:
        facet.append(line)
    facet += [c for c in view.varying if c not in (*facet, "seed") and c in deep]
    stats = _seed_stats(
        deep.assign(layer=deep["layer"].astype("int64")),
        [*facet, "layer"],
        "log10_fro_mean",
        "log10_fro_std",
    )
    combos = view.setting_order(stats[facet].drop_duplicates(), facet)
    rows = list(combos.itertuples(index=False))
    shown, left = rows[: MAX_PANELS // 2], max(len(rows) - MAX_PANELS // 2, 0)
    panels = []
    for combo in shown:
        cell = _select(stats, zip(facet, combo, strict=True))
        n_layers = int(cell["layer"].max()) + 1
        lags = np.sort(cell["lag"].unique())
        grid = np.full((n_layers, len(lags)), np.nan)
        li = cell["layer"].to_numpy(dtype=np.int64)
        ki = np.searchsorted(lags, cell["lag"].to_numpy(dtype=np.int64))
        y = cell["y"].to_numpy(dtype=np.float64)
        y = np.where(cell["zero"].to_numpy(dtype=bool) & np.isnan(y), -np.inf, y)
        grid[n_layers - 1 - li, ki] = y  # top layer drawn at the top
        panels.append(
            HeatPanel(
                title=", ".join(_assign(k, v) for k, v in zip(facet, combo, strict=True)),
                row_labels=tuple(str(n_layers - 1 - i) for i in range(n_layers)),
                col_labels=tuple(str(int(k)) for k in lags),
                values=grid,
            )
        )
    note = f"{left} more settings are not drawn." if left else ""
    fig = HeatmapGrid(
        title="Depth × lag: every layer's state",
        caption=(
            "Colour: log10 ||dh_T/dh^(l)_{T−k}|| (the last state of the top layer against layer "
            "l's state k steps earlier, mean over seeds) for each layer l (rows, top layer at "
            "the top) and lag k (columns). Blue is a norm below 1 (vanishing), red above 1 "
            "(exploding), grey an exact zero."
        ),
        panels=tuple(panels),
        ncols=2,
        xlabel="lag k (steps)",
        ylabel="layer l",
        colorbar_label=r"$\log_{10}\,\|\partial h_T\,/\,\partial h^{(l)}_{T-k}\|$",
        dense=True,
        note=note,
    )
    return Section(
        "depth",
        "Depth and lag",
        "In a stacked network the gradient travels back in time and down through the layers; "
        "these maps show both directions at once.",
        (fig,),
    )


# --------------------------------------------------------------------------- rates


def _setting_fits(view: RunView, fits: pd.DataFrame) -> pd.DataFrame:
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
    work["horizon"] = horizon
    work["r2"] = fits["r2"].to_numpy(dtype=np.float64)
    work["phase"] = fits["phase"].astype(str).to_numpy()
    work["lag_start"] = fits["lag_start"].to_numpy()
    work["lag_end"] = fits["lag_end"].to_numpy()
    g = work.groupby(keys, sort=False, dropna=False)
    out = g.agg(
        n=("rate", "size"),
        n_zero=("zero", "sum"),
        n_cut=("cut", "sum"),
        zero_from=("zero_from", "min"),
        rate=("finite_rate", "mean"),
        lo=("finite_rate", "min"),
        hi=("finite_rate", "max"),
        sd=("finite_rate", "std"),
        horizon=("horizon", "median"),
        r2=("r2", "mean"),
        lag_start=("lag_start", "min"),
        lag_end=("lag_end", "max"),
    )
    out["phase"] = g["phase"].agg(_consensus)
    # Seeds whose rate is -inf (an exact zero in the window) are left out of the mean, and
    # counted; only when every seed has one is the setting's rate -inf.
    out.loc[out["n_zero"] == out["n"], "rate"] = -np.inf
    return view.setting_order(out.reset_index(), keys)


def _partial_zero(rec: Mapping[str, Any]) -> bool:
    """Some, not all, seeds of this setting have a rate of -inf."""
    return 0 < int(rec["n_zero"]) < int(rec["n"])


def _consensus(phases: pd.Series) -> str:
    counts = phases.value_counts()
    if len(counts) == 1:
        return str(counts.index[0])
    parts = ", ".join(f"{int(n)} {p}" for p, n in sorted(counts.items(), key=lambda t: -t[1]))
    return f"mixed ({parts})"


def _horizon_text(h: float, lag_end: int | float) -> str:
    if math.isnan(h):
        return "—"
    if math.isinf(h):
        return f"> {int(lag_end)}"
    return format_value(float(h)) if h != int(h) else str(int(h))


def _rates_table(view: RunView, state: pd.DataFrame, inputs: pd.DataFrame) -> Table:
    axes = [c for c in view.varying if c != "seed" and c in state]
    merged = state
    if len(inputs):
        keys = [c for c in view.setting_columns if c in state]
        merged = state.merge(
            inputs[[*keys, "rate"]].rename(columns={"rate": "input_rate"}), on=keys, how="left"
        )
    rows = []
    for rec in merged.head(MAX_TABLE_ROWS).to_dict("records"):
        rate = float(rec["rate"])
        spread = rec["sd"]
        rate_text = _rate_text(rate)
        finite = rec["n"] - rec["n_zero"]
        if finite > 1 and isinstance(spread, float) and math.isfinite(spread):
            rate_text += f"\u00a0±\u00a0{spread:.3f}"  # no line break inside the number
        if _partial_zero(rec):
            rate_text += f" ({int(rec['n_zero'])} of {int(rec['n'])} seeds −∞)"
        if rec.get("n_cut", 0) > 0:
            rate_text += (
                f" ({int(rec['n_cut'])} of {int(rec['n'])} seeds exactly 0 from lag "
                f"{int(rec['zero_from'])})"
            )
        row = [format_value(rec[c]) for c in axes]
        row += [
            str(int(rec["n"])),
            rate_text,
            _horizon_text(float(rec["horizon"]), rec["lag_end"]),
            format_value(float(rec["r2"])) if not math.isnan(rec["r2"]) else "—",
            str(rec["phase"]),
            f"{int(rec['lag_start'])}\u2060–\u2060{int(rec['lag_end'])}",
        ]
        if len(inputs):
            ir = rec.get("input_rate")
            row.append(_rate_text(float(ir)) if ir is not None and not pd.isna(ir) else "—")
        rows.append(tuple(row))
    columns = [_label(c) for c in axes] + [
        "seeds",
        "rate (ln/step)",
        "horizon",
        "r²",
        "phase",
        "fit lags",
    ]
    if len(inputs):
        columns.append("input rate")
    numeric = [c not in ("activation", "init", "bias", "dtype") for c in axes] + [
        True,
        True,
        True,
        True,
        False,
        True,
    ]
    if len(inputs):
        numeric.append(True)
    note = (
        f"Only the first {MAX_TABLE_ROWS} of {len(merged)} settings are listed."
        if len(merged) > MAX_TABLE_ROWS
        else ""
    )
    return Table(
        "Decay rates by setting",
        "Rate: the least-squares slope of ln ||dh_T/dh_{T−k}|| (top layer) against k, in "
        "natural-log units per step, fitted over the lags shown (the first quarter is skipped "
        "as a transient), mean ± standard deviation over seeds. A seed whose Jacobian becomes "
        "exactly zero inside the window keeps the rate fitted before the zero (the table says "
        "from which lag); one with fewer than two lags left before it has a rate of −∞ and is "
        "counted apart, out of the mean. "
        "Horizon: the first lag where the norm is 1000 times below its lag-0 "
        "value (median over seeds; '> n' when it never is). Phase: vanishing below "
        f"−{PHASE_TOLERANCE}, exploding above +{PHASE_TOLERANCE}, stable between. Input rate: "
        "the same slope for ||dh_T/dx_{T−k}||.",
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
) -> HeatmapGrid | None:
    if row_key not in state or col_key not in state:
        return None
    if row_key not in view.varying and col_key not in view.varying:
        return None
    facet = [c for c in view.varying if c not in (row_key, col_key, "seed") and c in state]
    combos = (
        list(view.setting_order(state[facet].drop_duplicates(), facet).itertuples(index=False))
        if facet
        else [()]
    )
    limit = 12
    rows_v = view.values(row_key, state[row_key].unique())
    cols_v = view.values(col_key, state[col_key].unique())
    panels = []
    for combo in combos[:limit]:
        sub = _select(state, zip(facet, combo, strict=True))
        values = np.full((len(rows_v), len(cols_v)), np.nan)
        text = [["" for _ in cols_v] for _ in rows_v]
        for rec in sub.to_dict("records"):
            i = rows_v.index(_py(rec[row_key]))
            j = cols_v.index(_py(rec[col_key]))
            values[i, j] = rec["rate"]
            h = _horizon_text(float(rec["horizon"]), rec["lag_end"])
            mark = "†" if _partial_zero(rec) else ""
            text[i][j] = f"{_rate_text(float(rec['rate']))}{mark}\nh {h}"
        panels.append(
            HeatPanel(
                title=", ".join(_assign(k, v) for k, v in zip(facet, combo, strict=True)),
                row_labels=tuple(format_value(v) for v in rows_v),
                col_labels=tuple(format_value(v) for v in cols_v),
                values=values,
                text=tuple(tuple(t) for t in text),
            )
        )
    left = max(len(combos) - limit, 0)
    return HeatmapGrid(
        title=title,
        caption=(
            f"Colour: the decay rate (ln per step, mean over seeds) by {_label(row_key)} (rows) "
            f"and {_label(col_key)} (columns): blue vanishing, white stable, red exploding, "
            "grey an exact zero (−∞)"
            + ("; one panel per combination of the other axes. " if facet else ". ")
            + "Each cell gives the rate and the horizon h, the lag at which the norm has "
            "fallen 1000-fold."
            + (
                " † marks a mean over only some seeds: the others have an exact zero in the "
                "fit window (rate −∞)."
                if any("†" in t for p in panels for row in (p.text or ()) for t in row)
                else ""
            )
        ),
        panels=tuple(panels),
        ncols=min(len(panels), 3),
        xlabel=_label(col_key),
        ylabel=_label(row_key),
        colorbar_label=r"rate $d\,\ln\|J\|\,/\,dk$ (per step)",
        note=f"{left} more combinations are not drawn (see the table)." if left else "",
    )


@_section("rates")
def rates_section(view: RunView) -> Section | None:
    """Fitted rates, horizons and phases: a table and heatmaps."""
    if not len(view.top_fits):
        return None
    state = _setting_fits(view, view.top_fits)
    inputs = _setting_fits(view, view.input_fits) if len(view.input_fits) else pd.DataFrame()
    blocks: list[Any] = []
    by_init = _rate_heatmaps(view, state, "init", "activation", "Rate by init and activation")
    if by_init is not None:
        blocks.append(by_init)
    # Depth x T: when T varies, or when depth is all there is to see (the panels of the
    # init x activation map already split by depth).
    if "seq_len" in view.varying or by_init is None:
        by_depth = _rate_heatmaps(
            view, state, "num_layers", "seq_len", "Rate by depth and sequence length"
        )
        if by_depth is not None:
            blocks.append(by_depth)
    blocks.append(_rates_table(view, state, inputs))
    return Section(
        "rates",
        "Decay rates and horizons",
        "One number per setting: how many natural-log units the gradient norm loses (or gains) "
        "per step back in time, how many steps until it is 1000 times smaller, and the phase.",
        tuple(blocks),
    )


# --------------------------------------------------------------------------- gain


def gain_curve(settings: pd.DataFrame, style: int, label: str, lo: str, hi: str) -> Curve:
    """Measured rate against gain for settings sorted by gain; ``lo``/``hi`` name the band.

    Non-finite rates are gaps; gains where some seed has a rate of -inf get a floor marker.
    """
    x = settings["gain"].to_numpy(dtype=np.float64)
    y = settings["rate"].to_numpy(dtype=np.float64)
    return Curve(
        label=label,
        style=style,
        x=x,
        y=np.where(np.isfinite(y), y, np.nan),
        lo=settings[lo].to_numpy(dtype=np.float64),
        hi=settings[hi].to_numpy(dtype=np.float64),
        floor_x=x[settings["n_zero"].to_numpy() > 0],
    )


def gain_grid(
    *,
    title: str,
    caption: str,
    plan: Any,
    panels: list[LinePanel],
    line: str | None,
    legend: tuple[str, ...],
    left_out: int,
    figure_keys: Sequence[str],
) -> LineGrid:
    """A figure of rate against gain (the phase diagrams of the gain and theory sections).

    ``left_out`` figures were not drawn (said in this figure's note, with ``figure_keys``).
    """
    return LineGrid(
        title=title,
        caption=caption,
        nrows=max(len(plan.panels) // plan.ncols + (len(plan.panels) % plan.ncols > 0), 1),
        ncols=plan.ncols,
        panels=tuple(panels),
        xlabel="gain g",
        ylabel=r"rate $d\,\ln\|J\|\,/\,dk$ (per step)",
        legend_title=_label(line) if line else "",
        legend=legend,
        markers=True,
        zero_line=True,
        stable_band=PHASE_TOLERANCE,
        note=_omitted(plan.omitted_panels, left_out, figure_keys, plan.omitted_columns),
    )


@_section("gain")
def gain_section(view: RunView) -> Section | None:
    """Rate against gain, one line per init, one panel per activation and depth."""
    if "gain" not in view.varying or not len(view.top_fits):
        return None
    state = _setting_fits(view, view.top_fits)
    line = "init" if "init" in view.varying else None
    panel_keys = [k for k in PANEL_AXES if k in state]
    figure_keys = [
        c for c in view.varying if c not in (*panel_keys, "gain", "seed", line) and c in state
    ]
    plans, left_out = _plan(view, state, panel_keys[:-1], panel_keys[-1], figure_keys)
    line_values = view.values(line, state[line].unique()) if line else [None]
    legend = tuple(format_value(v) for v in line_values) if line else ()
    figures = []
    for p, plan in enumerate(plans):
        sub = _select(state, plan.fixed)
        panels = []
        for i, combo in enumerate(plan.panels):
            cell = _select(sub, zip(panel_keys, combo, strict=True))
            curves = []
            for s, lv in enumerate(line_values):
                c = cell if line is None else cell[(cell[line] == lv).to_numpy()]
                if not len(c):
                    continue
                c = view.setting_order(c, ["gain"])
                curves.append(gain_curve(c, s, legend[s] if line else "", "lo", "hi"))
            title = ", ".join(_assign(k, v) for k, v in zip(panel_keys, combo, strict=True))
            panels.append(LinePanel(i // plan.ncols, i % plan.ncols, title, tuple(curves)))
        suffix = ", ".join(_assign(k, v) for k, v in plan.fixed)
        figures.append(
            gain_grid(
                title="Gain phase diagram" + (f" ({suffix})" if suffix else ""),
                caption=(
                    "The fitted decay rate (ln per step, top layer's state) against the gain g, "
                    + (f"one line per {_label(line)}; " if line else "")
                    + "bars span the seeds. Below the grey band (stable, |rate| ≤ "
                    f"{PHASE_TOLERANCE}) gradients vanish, above it they explode."
                    + (
                        " Triangles on the floor mark gains where some seed has an exact zero "
                        "in the fit window (rate −∞); the point is the mean of the other seeds."
                        if any(len(c.floor_x) for q in panels for c in q.curves)
                        else ""
                    )
                ),
                plan=plan,
                panels=panels,
                line=line,
                legend=legend,
                left_out=left_out if p == len(plans) - 1 else 0,
                figure_keys=figure_keys,
            )
        )
    return Section(
        "gain",
        "Gain phase diagram",
        "Where the transition from vanishing to exploding gradients lies, as the scale of the "
        "recurrent weights grows.",
        tuple(figures),
    )


# --------------------------------------------------------------------------- anomalies


def _config_text(rec: Mapping[str, object], columns: Sequence[str]) -> str:
    return ", ".join(_assign(c, rec[c]) for c in columns if c in rec)


def _is_overflow(reason: str) -> bool:
    text = reason.lower()
    return any(w in text for w in ("overflow", " inf", "nan", "non-finite", "nonfinite"))


@_section("anomalies")
def anomalies_section(view: RunView) -> Section | None:
    """Failed cells, exact zeros and overflow, each listed with its configuration."""
    axes = [c for c in view.varying]
    blocks: list[Any] = []
    cells = view.cells
    if len(cells) and "status" in cells:
        bad = view.setting_order(cells[(cells["status"] != "ok").to_numpy()], axes)
        if len(bad):
            rows = []
            for rec in bad.head(MAX_ANOMALY_ROWS).to_dict("records"):
                reason = str(rec.get("reason") or "")
                # The kind recorded by the sweep; shards older than it: guessed from the text.
                failure = rec.get("failure")
                if not isinstance(failure, str):
                    failure = "overflow" if _is_overflow(reason) else "error"
                kind = failure
                rows.append((str(rec["cell_id"]), _config_text(rec, axes) or "—", kind, reason))
            blocks.append(
                Table(
                    "Failed cells",
                    "Cells that produced no measurement, with the reason recorded by the sweep. "
                    "'overflow' means the network's own forward pass reached inf or NaN, so its "
                    "Jacobians are undefined.",
                    ("cell", "setting", "kind", "reason"),
                    tuple(rows),
                    (False, False, False, False),
                    _more(len(bad)),
                )
            )
    r = view.results
    if len(r) and "n_zero" in r:
        z = r[(r["n_zero"].fillna(0) > 0).to_numpy(dtype=bool)]
        if len(z):
            keys = ["cell_id", "source", *axes]
            keys = [k for k in dict.fromkeys(keys) if k in z]
            g = z.groupby(keys, sort=False, dropna=False).agg(
                lags=("lag", "size"), first=("lag", "min"), most=("n_zero", "max")
            )
            g = view.setting_order(g.reset_index(), axes)
            batch = view.fixed.get("batch")
            rows = []
            for rec in g.head(MAX_ANOMALY_ROWS).to_dict("records"):
                most = f"{int(rec['most'])}" + (f" of {batch}" if batch is not None else "")
                rows.append(
                    (
                        str(rec["cell_id"]),
                        _config_text(rec, axes) or "—",
                        str(rec["source"]),
                        str(int(rec["lags"])),
                        str(int(rec["first"])),
                        most,
                    )
                )
            blocks.append(
                Table(
                    "Exact zeros",
                    "Cells where some sample's Jacobian is exactly zero (log10 = −∞), typically "
                    "a relu network whose units are all off. Plots mark these lags on their "
                    "floor; fits report a rate of −∞ when a zero falls in the window.",
                    ("cell", "setting", "source", "lags with zeros", "first lag", "most samples"),
                    tuple(rows),
                    (False, False, False, True, True, True),
                    _more(len(g)),
                )
            )
    if len(r):
        top = r.groupby("cell_id", sort=False)["log10_fro_mean"].max()
        big = top[top > FLOAT32_MAX_LOG10]
        if len(big):
            first = r.drop_duplicates("cell_id").set_index("cell_id").loc[big.index]
            first = first.assign(_max=big.to_numpy())
            first = view.setting_order(first.reset_index(), axes)
            rows = [
                (
                    str(rec["cell_id"]),
                    _config_text(rec, axes) or "—",
                    f"{rec['_max']:.1f}",
                )
                for rec in first.head(MAX_ANOMALY_ROWS).to_dict("records")
            ]
            blocks.append(
                Table(
                    "Norms beyond float32",
                    f"Cells whose Jacobian norm exceeds the float32 range (log10 > "
                    f"{FLOAT32_MAX_LOG10:.2f}): exact here thanks to the log scale, but a plain "
                    "float32 backward pass would overflow to inf.",
                    ("cell", "setting", "largest log10 ‖J‖"),
                    tuple(rows),
                    (False, False, True),
                    _more(len(first)),
                )
            )
    if not blocks:
        return None
    return Section(
        "anomalies",
        "Anomalies",
        "What did not go as planned, cell by cell: nothing here is hidden from the figures, "
        "but these are the places to read them with care.",
        tuple(blocks),
    )


def _more(n: int) -> str:
    return f"Only the first {MAX_ANOMALY_ROWS} of {n} are listed." if n > MAX_ANOMALY_ROWS else ""
