"""The report's theory: predicted slopes over the decay curves, and "Theory vs measurement".

Everything comes from the run's summary (:func:`vanishlab.summarize`, one row per cell with
its measured rate, top Lyapunov exponent and predictions; :attr:`RunView.theory`), aggregated
over seeds per setting like the rest of the report:

- :func:`decay_overlay` draws, over each decay curve that has a prediction, a dashed line of
  the predicted slope across the fit window, started from the measured curve at the window's
  first lag, so that a difference in slope shows as lines that part;
- the "theory" section: the phase diagram (measured and predicted rate against the gain, the
  line rate = 0 between vanishing and exploding, and the mean-field critical gain), what the
  flags mean, how well theory and measurement agree, and a table per setting that lists every
  setting, flagged ones included with their reason. The section is left out when no measured
  cell has a prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.fits import PHASE_TOLERANCE
from ..sweep.config import AXES
from ..sweep.prediction import cell_mean_field
from ..sweep.summary import FLAGS
from .data import (
    MAX_TABLE_ROWS,
    PANEL_AXES,
    RunView,
    _assign,
    _label,
    _py,
    _rate_text,
    format_value,
    register_section,
)
from .model import Curve, KeyValues, LineGrid, LinePanel, Section, Table
from .sections import Overlay, _columns_and_figures, _plan, _select, gain_curve, gain_grid

__all__ = ["DECAY_OVERLAY_CAPTION", "decay_overlay", "theory_section"]

_LN10 = math.log(10.0)
_BY = {"linear": "linear regime, ln ρ(W_hh)", "mean field": "mean field, ½ ln χ₁"}

DECAY_OVERLAY_CAPTION = (
    " Dashed: the predicted slope over the fit window (ln ρ(W_hh) at the origin, the mean "
    "field's ½ ln χ₁ for random weights off it), started from the measured line at the "
    "window's first lag: where the lines part, measurement and theory disagree (see Theory vs "
    "measurement)."
)


# --------------------------------------------------------------------------- per setting


def _mean(values: np.ndarray) -> float:
    """Mean of the finite values; -inf when every value is -inf; NaN when none is a number."""
    finite = values[np.isfinite(values)]
    if len(finite):
        return float(finite.mean())
    if len(values) and np.isneginf(values).all():
        return -math.inf
    return math.nan


def _ordered_flags(flags: pd.Series) -> str:
    present = {f for text in flags for f in str(text).split(",") if f}
    return ", ".join(f for f in FLAGS if f in present)


def _by_setting(view: RunView) -> pd.DataFrame:
    """The summary aggregated over seeds: one row per setting (config columns but the seed)."""
    s = view.theory
    if not len(s):
        return pd.DataFrame()
    keys = [c for c in view.setting_columns if c in s.columns]
    rows = []
    groups = s.groupby(keys, sort=False, dropna=False) if keys else [((), s)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = g[(g["status"] == "ok").to_numpy()]
        rate = ok["rate"].to_numpy(dtype=np.float64)
        delta = ok["delta_rate"].to_numpy(dtype=np.float64)
        finite_delta = delta[np.isfinite(delta)]
        notes = list(dict.fromkeys(n for n in g["note"] if n))
        rows.append(
            {
                **dict(zip(keys, (_py(k) for k in key), strict=True)),
                "n": len(g),
                "n_ok": len(ok),
                "n_zero": int(np.isneginf(rate).sum()),
                "rate": _mean(rate),
                "rate_lo": float(np.nanmin(rate[np.isfinite(rate)]))
                if np.isfinite(rate).any()
                else math.nan,
                "rate_hi": float(np.nanmax(rate[np.isfinite(rate)]))
                if np.isfinite(rate).any()
                else math.nan,
                "lyapunov": _mean(ok["lyapunov"].to_numpy(dtype=np.float64)),
                "predicted": _mean(g["predicted_rate"].to_numpy(dtype=np.float64)),
                "predicted_by": str(g["predicted_by"].iloc[0]),
                "validity": str(g["mf_validity"].iloc[0]),
                "delta": float(finite_delta.mean()) if len(finite_delta) else math.nan,
                "delta_sd": float(finite_delta.std(ddof=1)) if len(finite_delta) > 1 else math.nan,
                "pascanu": _mean(g["pascanu_slope"].to_numpy(dtype=np.float64)),
                "critical_gain": _mean(g["mf_critical_gain"].to_numpy(dtype=np.float64)),
                "lag_start": int(ok["lag_start"].min()) if ok["lag_start"].notna().any() else -1,
                "lag_end": int(ok["lag_end"].max()) if ok["lag_end"].notna().any() else -1,
                "flags": _ordered_flags(g["flag"]),
                "notes": " ".join(notes),
                "_config": g.iloc[0][[a for a in AXES if a in g.columns]].to_dict(),
            }
        )
    out = pd.DataFrame(rows)
    return view.setting_order(out, keys)


def _has_theory(settings: pd.DataFrame) -> bool:
    """Some setting has a measured rate and a prediction."""
    if not len(settings):
        return False
    measured = settings["n_ok"] > 0
    predicted = settings["predicted_by"] != "none"
    return bool((measured & predicted).any())


# --------------------------------------------------------------------------- decay overlays


def decay_overlay(view: RunView) -> Overlay | None:
    """The predicted slopes for :func:`~.data._curve_figures` (None when nothing applies)."""
    s = view.theory
    if not len(s):
        return None
    usable = s[((s["status"] == "ok") & (s["predicted_by"] != "none")).to_numpy()]
    if not len(usable):
        return None

    def overlay(setting: Mapping[str, object], curve: Curve) -> Curve | None:
        if any(k not in usable.columns for k in setting):
            return None
        rows = _select(usable, setting.items())
        if not len(rows):
            return None
        pred = _mean(rows["predicted_rate"].to_numpy(dtype=np.float64))
        if not math.isfinite(pred):
            return None
        start, end = float(rows["lag_start"].min()), float(rows["lag_end"].max())
        finite = np.isfinite(curve.y)
        if not finite.any() or not curve.x[finite][0] <= start <= curve.x[finite][-1]:
            return None
        y0 = float(np.interp(start, curve.x[finite], curve.y[finite]))
        by = _BY.get(str(rows["predicted_by"].iloc[0]), str(rows["predicted_by"].iloc[0]))
        return Curve(
            label=f"predicted: {by}",
            style=curve.style,
            x=np.array([start, end]),
            y=np.array([y0, y0 + pred * (end - start) / _LN10]),
            reference=True,
        )

    return overlay


# --------------------------------------------------------------------------- phase diagram


def _predicted_line(rows: pd.DataFrame, style: int) -> list[Curve]:
    """The predicted rate against the gain for one line: a smooth mean-field curve, or the
    linear-regime points; plus the mean-field critical gain (as a vertical line, later)."""
    gains = rows["gain"].to_numpy(dtype=np.float64)
    by = rows["predicted_by"].to_numpy()
    if (by == "mean field").any():
        config = dict(rows["_config"].iloc[0])
        layer = int(config.get("num_layers") or 1) - 1
        grid = np.linspace(gains.min(), gains.max(), 61)
        y = []
        for g in grid:
            mf = cell_mean_field({**config, "gain": float(g)}, layer=layer)
            y.append(mf.rate if mf is not None else math.nan)
        label = f"predicted: {_BY['mean field']}"
        return [Curve(label, style, grid, np.array(y), reference=True)]
    if (by == "linear").any():
        pred = rows["predicted"].to_numpy(dtype=np.float64)
        y = np.where(np.isfinite(pred), pred, np.nan)
        if np.isfinite(y).any():
            return [Curve(f"predicted: {_BY['linear']}", style, gains, y, reference=True)]
    return []


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
    column_key, figure_keys = _columns_and_figures(view, state, extras)
    plans, left_out = _plan(view, state, panel_keys, column_key, figure_keys)
    line_values = view.values(line, state[line].unique()) if line else [None]
    legend = tuple(format_value(v) for v in line_values) if line else ()
    names = [*panel_keys, *([column_key] if column_key else [])]
    figures = []
    for p, plan in enumerate(plans):
        sub = _select(state, plan.fixed)
        panels = []
        for i, combo in enumerate(plan.panels):
            cell = _select(sub, zip(names, combo, strict=True))
            curves: list[Curve] = []
            edges: list[tuple[int, float]] = []
            for s, lv in enumerate(line_values):
                c = cell if line is None else cell[(cell[line] == lv).to_numpy()]
                if not len(c):
                    continue
                c = view.setting_order(c, ["gain"])
                x = c["gain"].to_numpy(dtype=np.float64)
                curves.append(gain_curve(c, s, legend[s] if line else "", "rate_lo", "rate_hi"))
                curves += _predicted_line(c, s)
                gc = c["critical_gain"].to_numpy(dtype=np.float64)
                gc = gc[np.isfinite(gc)]
                if len(gc) and x.min() <= gc[0] <= x.max():
                    edges.append((s, float(gc[0])))
            ys = np.concatenate([cv.y for cv in curves] or [np.empty(0)])
            ys = ys[np.isfinite(ys)]
            if edges and len(ys):
                lo, hi = float(ys.min()), float(ys.max())
                for s, gc in edges:
                    curves.append(
                        Curve(
                            "mean-field critical gain (χ₁ = 1)",
                            s,
                            np.array([gc, gc]),
                            np.array([lo, hi]),
                            reference=True,
                        )
                    )
            title = ", ".join(_assign(k, v) for k, v in zip(names, combo, strict=True))
            panels.append(LinePanel(i // plan.ncols, i % plan.ncols, title, tuple(curves)))
        fixed = [(k, view.fixed[k]) for k in PANEL_AXES if k in view.fixed]
        suffix = ", ".join(_assign(k, v) for k, v in (*fixed, *plan.fixed))
        figures.append(
            gain_grid(
                title="Measured and predicted rate against gain"
                + (f" ({suffix})" if suffix else ""),
                caption=(
                    "The fitted decay rate of the top layer's state (points, mean over seeds; "
                    "bars span the seeds) and the predicted rate (dashed: the mean field's "
                    "½ ln χ₁ as a function of the gain, or ln ρ(W_hh) at the origin) against "
                    "the gain g"
                    + (f", one colour per {_label(line)}" if line else "")
                    + ". The horizontal line at 0 separates vanishing (below) from exploding "
                    "(above) gradients, the shaded band is the stable phase (|rate| ≤ "
                    f"{PHASE_TOLERANCE}); "
                    "a vertical dashed line marks the mean-field critical gain, where χ₁ = 1 "
                    "(the edge of chaos), in the colour of its line."
                ),
                plan=plan,
                panels=panels,
                line=line,
                legend=legend,
                left_out=left_out if p == len(plans) - 1 else 0,
                figure_keys=figure_keys,
            )
        )
    return figures


# --------------------------------------------------------------------------- table and facts


def _rate_or_dash(value: float) -> str:
    return _rate_text(value) if not (isinstance(value, float) and math.isnan(value)) else "—"


def _theory_table(view: RunView, settings: pd.DataFrame) -> Table:
    axes = [c for c in view.varying if c != "seed" and c in settings]
    rows = []
    for rec in settings.head(MAX_TABLE_ROWS).to_dict("records"):
        delta = _rate_or_dash(rec["delta"])
        if rec["n_ok"] - rec["n_zero"] > 1 and math.isfinite(rec["delta_sd"]):
            delta += f"\u00a0±\u00a0{rec['delta_sd']:.3f}"
        by = rec["predicted_by"]
        theory = "—" if by == "none" else by
        if by == "mean field" and rec["validity"] not in ("", "iid"):
            theory += f" ({rec['validity']})"
        rows.append(
            (
                *(format_value(rec[c]) for c in axes),
                f"{int(rec['n_ok'])}" + (f" of {int(rec['n'])}" if rec["n_ok"] < rec["n"] else ""),
                _rate_or_dash(rec["rate"]),
                _rate_or_dash(rec["lyapunov"]),
                _rate_or_dash(rec["predicted"]),
                theory,
                delta,
                _rate_or_dash(rec["pascanu"]),
                rec["flags"] or "—",
                rec["notes"],
            )
        )
    columns = (
        *(_label(c) for c in axes),
        "cells",
        "measured rate",
        "Lyapunov",
        "predicted",
        "theory",
        "measured − predicted",
        "Pascanu slope",
        "flags",
        "notes",
    )
    # cells, measured, Lyapunov, predicted, theory, difference, Pascanu, flags, notes
    numeric = (
        *(c not in ("activation", "init", "bias", "dtype") for c in axes),
        *(True, True, True, True, False, True, True, False, False),
    )
    note = (
        f"Only the first {MAX_TABLE_ROWS} of {len(settings)} settings are listed."
        if len(settings) > MAX_TABLE_ROWS
        else ""
    )
    return Table(
        "Theory vs measurement by setting",
        "Measured rate: the fitted slope of ln ||dh_T/dh_{T−k}|| of the top layer (natural log "
        "per step, mean over the seeds; a seed whose rate is −∞ is left out of the mean unless "
        "all are). Lyapunov: the top Lyapunov exponent of the whole state along the same "
        "trajectories (QR method, the first quarter discarded), the rate the curves approach "
        "at long lags. Predicted: ln ρ(W_hh) in the linear regime (no input, no bias: the state "
        "stays at 0), or the mean field's ½ ln χ₁ for random weights; '—' where neither "
        "applies. Measured − predicted: mean ± standard deviation over seeds. Pascanu slope: "
        "ln ||W_hh||₂, the bound every lag's norm stays under, not a prediction. Flags mark "
        "settings outside the domain where the theory is expected to hold; they are listed, "
        "not hidden.",
        columns,
        tuple(rows),
        numeric,
        note,
    )


def _agreement(settings: pd.DataFrame, summary: pd.DataFrame) -> KeyValues:
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
    for name, mask in (("unflagged", ~flagged), ("flagged", flagged)):
        d = np.abs(delta[mask & np.isfinite(delta)])
        if len(d):
            items.append(
                (
                    f"|measured − predicted|, {name} cells",
                    f"median {np.median(d):.3f}, largest {d.max():.3f} per step ({len(d)} cells)",
                )
            )
    lyap = np.abs((measured["lyapunov"] - measured["rate_layer0"]).to_numpy(dtype=np.float64))
    lyap = lyap[np.isfinite(lyap)]
    if len(lyap):
        items.append(
            (
                "|Lyapunov − fitted rate (layer 0)|",
                f"median {np.median(lyap):.3f} per step: two estimates of one asymptotic rate",
            )
        )
    bad = measured[measured["pascanu_ok"].eq(False).fillna(False).to_numpy(dtype=bool)]
    checked = int(measured["pascanu_ok"].notna().sum())
    if len(bad):
        ids = ", ".join(str(c) for c in bad["cell_id"].head(10))
        items.append(("Pascanu bound", f"VIOLATED in {len(bad)} of {checked} cells: {ids}"))
    elif checked:
        items.append(("Pascanu bound", f"holds at every lag of all {checked} measured cells"))
    return KeyValues("Agreement", tuple(items))


def _flag_legend(settings: pd.DataFrame) -> KeyValues | None:
    present = {f for text in settings["flags"] for f in str(text).split(", ") if f}
    items = tuple((f, FLAGS[f]) for f in FLAGS if f in present)
    return KeyValues("What the flags mean", items) if items else None


def theory_section(view: RunView) -> Section | None:
    """Theory vs measurement: phase diagram, agreement, flags and the per-setting table."""
    settings = _by_setting(view)
    if not _has_theory(settings):
        return None
    blocks: list[Any] = list(_phase_figures(view, settings))
    blocks.append(_agreement(settings, view.theory))
    legend = _flag_legend(settings)
    if legend is not None:
        blocks.append(legend)
    blocks.append(_theory_table(view, settings))
    return Section(
        "theory",
        "Theory vs measurement",
        "Each measured decay rate beside what theory predicts for it: ln ρ(W_hh) where the "
        "network stays at the origin (linear regime), the mean field's ½ ln χ₁ for random "
        "weights driven by input (Poole et al. 2016; Chen, Pennington & Schoenholz 2018). "
        "Where a setting lies outside the theory's domain (finite width, near-critical gains, "
        "short sequences, non-i.i.d. weights, relu divergence), it is flagged and its "
        "difference shown all the same.",
        tuple(blocks),
    )


register_section("theory", theory_section, before="anomalies")
