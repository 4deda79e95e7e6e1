"""Predictions beside measurements, per setting: the data of the theory overlays and section.

Everything comes from the run's summary (:func:`vanishlab.summarize`, one row per cell with
its measured rate, top Lyapunov exponent and predictions; :attr:`RunView.theory`), aggregated
over seeds per setting like the rest of the report:

- :func:`by_setting`: one row per setting (every config column but the seed), with the mean
  measured rate (a seed whose rate is -inf is left out of the mean unless all are), the mean
  prediction and which theory made it, flags and notes;
- :func:`decay_overlay`: over each decay curve that has a prediction, a segment of the
  predicted slope across the fit window, started from the measured curve at the window's first
  lag (in log10 units: slope = rate / ln 10), so that a difference in slope shows as lines
  that part.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..sweep.config import AXES
from ..sweep.summary import FLAGS
from .format import py
from .layout import Overlay, select
from .model import Curve
from .view import RunView

__all__ = [
    "BY",
    "DECAY_OVERLAY_CAPTION",
    "by_setting",
    "decay_overlay",
    "has_theory",
    "mean_of",
    "setting_notes",
]

LN10 = math.log(10.0)
#: How each kind of prediction is named in legends.
BY = {"linear": "linear regime, ln ρ(W_hh)", "mean field": "mean field, ½ ln χ₁"}

DECAY_OVERLAY_CAPTION = (
    " Dashed: the predicted slope over the fit window (ln ρ(W_hh) at the origin, the mean "
    "field's ½ ln χ₁ for random weights off it), started from the measured line at the "
    "window's first lag: where the lines part, measurement and theory disagree (see Theory vs "
    "measurement)."
)


def mean_of(values: np.ndarray) -> float:
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


def setting_notes(cells: pd.DataFrame) -> str:
    """The notes of one setting's cells (its seeds), each sentence said once.

    Sentences that differ only in their numbers ("... inf at time step 80." in one seed, "...
    step 93." in another) are one sentence: the first is shown, with how many seeds have it
    and that the numbers differ; the Anomalies section lists every failed cell on its own.
    """
    n = len(cells)
    groups: dict[str, list[str]] = {}
    for note in cells["note"]:
        for sentence in _SENTENCE.split(str(note or "").strip()):
            if sentence:
                groups.setdefault(_NUMBER.sub("#", sentence), []).append(sentence)
    out = []
    for texts in groups.values():
        first, k, distinct = texts[0], len(texts), len(set(texts))
        if n > 1 and (k < n or distinct > 1):
            detail = f"{k} of {n} seeds" + (", first shown" if distinct > 1 else "")
            first = f"{first.removesuffix('.')} ({detail})."
        out.append(first)
    return " ".join(out)


_SENTENCE = re.compile(r"(?<=\.)\s+(?=[A-Z])")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def by_setting(view: RunView) -> pd.DataFrame:
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
        notes = setting_notes(g)
        rows.append(
            {
                **dict(zip(keys, (py(k) for k in key), strict=True)),
                "n": len(g),
                "n_ok": len(ok),
                "n_zero": int(np.isneginf(rate).sum()),
                "rate": mean_of(rate),
                "rate_lo": float(np.nanmin(rate[np.isfinite(rate)]))
                if np.isfinite(rate).any()
                else math.nan,
                "rate_hi": float(np.nanmax(rate[np.isfinite(rate)]))
                if np.isfinite(rate).any()
                else math.nan,
                "rate_layer0": mean_of(ok["rate_layer0"].to_numpy(dtype=np.float64))
                if "rate_layer0" in ok
                else math.nan,
                "lyapunov": mean_of(ok["lyapunov"].to_numpy(dtype=np.float64)),
                "predicted": mean_of(g["predicted_rate"].to_numpy(dtype=np.float64)),
                "predicted_by": str(g["predicted_by"].iloc[0]),
                "validity": str(g["mf_validity"].iloc[0]),
                "delta": float(finite_delta.mean()) if len(finite_delta) else math.nan,
                "delta_sd": float(finite_delta.std(ddof=1)) if len(finite_delta) > 1 else math.nan,
                "pascanu": mean_of(g["pascanu_slope"].to_numpy(dtype=np.float64)),
                "critical_gain": mean_of(g["mf_critical_gain"].to_numpy(dtype=np.float64)),
                "lag_start": int(ok["lag_start"].min()) if ok["lag_start"].notna().any() else -1,
                "lag_end": int(ok["lag_end"].max()) if ok["lag_end"].notna().any() else -1,
                "flags": _ordered_flags(g["flag"]),
                "notes": notes,
                "_config": g.iloc[0][[a for a in AXES if a in g.columns]].to_dict(),
            }
        )
    out = pd.DataFrame(rows)
    return view.setting_order(out, keys)


def has_theory(settings: pd.DataFrame) -> bool:
    """Some setting has a measured rate and a prediction."""
    if not len(settings):
        return False
    measured = settings["n_ok"] > 0
    predicted = settings["predicted_by"] != "none"
    return bool((measured & predicted).any())


def decay_overlay(view: RunView) -> Overlay | None:
    """The predicted slopes over the decay curves (None when nothing applies)."""
    s = view.theory
    if not len(s):
        return None
    usable = s[((s["status"] == "ok") & (s["predicted_by"] != "none")).to_numpy()]
    if not len(usable):
        return None

    def overlay(setting: Mapping[str, object], curve: Curve) -> Curve | None:
        if any(k not in usable.columns for k in setting):
            return None
        rows = select(usable, setting.items())
        if not len(rows):
            return None
        pred = mean_of(rows["predicted_rate"].to_numpy(dtype=np.float64))
        if not math.isfinite(pred):
            return None
        start, end = float(rows["lag_start"].min()), float(rows["lag_end"].max())
        finite = np.isfinite(curve.y)
        if not finite.any() or not curve.x[finite][0] <= start <= curve.x[finite][-1]:
            return None
        y0 = float(np.interp(start, curve.x[finite], curve.y[finite]))
        by = BY.get(str(rows["predicted_by"].iloc[0]), str(rows["predicted_by"].iloc[0]))
        return Curve(
            label=f"predicted: {by}",
            style=curve.style,
            x=np.array([start, end]),
            y=np.array([y0, y0 + pred * (end - start) / LN10]),
            reference=True,
        )

    return overlay
