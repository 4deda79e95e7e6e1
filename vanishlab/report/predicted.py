"""Predictions beside measurements, per setting: the data of the theory overlays and section.

Everything comes from the run's summary (:func:`vanishlab.summarize`, one row per cell with
its measured rate, top Lyapunov exponent and predictions; :attr:`RunView.theory`), aggregated
over seeds per setting like the rest of the report:

- :func:`by_setting`: one row per setting (every config column but the seed), with the mean
  measured rate (a seed whose rate is -inf is left out of the mean unless all are), the mean
  prediction (of each seed's own) and which theory made it (each kind's seeds counted, with
  their own mean; "mixed" where the seeds' kinds differ), flags and notes;
- :func:`decay_overlay`: over each decay curve that has a prediction, a segment of the
  predicted slope across the fit window, started from the measured curve at the window's first
  lag (in log10 units: slope = rate / ln 10), so that a difference in slope shows as lines
  that part.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..core.cells import RNN_THEORY_MODELS
from ..core.log_units import LN10
from ..sweep.catalog import TRAINED_INIT
from ..sweep.config import AXES
from ..sweep.inits import INITS
from ..sweep.prediction import NO_PREDICTION, unregistered_reason
from ..sweep.section_names import THEORY
from ..sweep.summary import FLAGS
from .format import py
from .layout import Overlay, index_by, key_of
from .model import Curve
from .view import RunView

__all__ = [
    "BY",
    "KIND_COLUMNS",
    "MIXED",
    "by_setting",
    "decay_overlay",
    "decay_overlay_caption",
    "has_theory",
    "kinds_of",
    "kinds_text",
    "mean_of",
    "no_prediction",
    "setting_notes",
    "shared_reasons",
    "shared_reasons_caption",
    "unregistered_note",
    "without_shared",
]

#: How each kind of prediction is named in legends.
BY = {"linear": "linear regime, ln ρ(D* W_hh)", "mean field": "mean field, ½ ln χ₁"}
#: The kinds a cell's ``predicted_by`` takes, and the stem of :func:`by_setting`'s columns
#: for each (``n_linear``, ``predicted_linear``: its seeds, and the mean of their predictions).
KIND_COLUMNS = {"linear": "linear", "mean field": "mean_field", "none": "none"}
#: :func:`by_setting`'s ``predicted_by`` of a setting whose seeds have different kinds.
MIXED = "mixed"
#: The legend's name of a decay overlay over seeds of different kinds (their mean).
MIXED_OVERLAY = "mean of the seeds' own, ln ρ(D* W_hh) or ½ ln χ₁"


def kinds_of(by: pd.Series) -> str:
    """The theory of some seeds' ``predicted_by``: its kind where they share one, else each
    counted as :func:`kinds_text` writes them."""
    counts = by.astype(str).value_counts()
    if len(counts) <= 1:
        return str(counts.index[0]) if len(counts) else "none"
    rec = {f"n_{c}": int(counts.get(k, 0)) for k, c in KIND_COLUMNS.items()}
    return kinds_text({**rec, "predicted_by": MIXED})


def kinds_text(rec: Mapping[str, object]) -> str:
    """The theories of a mixed setting's seeds, counted (a row of :func:`by_setting`): "linear
    (6 of 8 seeds), mean field (2)", the most seeds first; "" for a setting of one kind."""
    if rec["predicted_by"] != MIXED:
        return ""
    counts = [
        (int(rec[f"n_{column}"]), "no prediction" if kind == "none" else kind)  # type: ignore[call-overload]
        for kind, column in KIND_COLUMNS.items()
    ]
    counts = sorted((c for c in counts if c[0]), key=lambda c: -c[0])
    n = sum(k for k, _ in counts)
    (k0, first), rest = counts[0], counts[1:]
    return ", ".join([f"{first} ({k0} of {n} seeds)", *(f"{name} ({k})" for k, name in rest)])


def decay_overlay_caption(theory_shown: bool) -> str:
    """The decay figure's words on its dashed lines; they point to the Theory vs measurement
    section only when the page has it (an experiment's ``SECTIONS`` may leave it out)."""
    see = f" (see {THEORY.title})" if theory_shown else ""
    return (
        " Dashed: the predicted slope over the fit window (ln ρ(D* W_hh) at the fixed point "
        "an undriven network settles at, D* = I at the origin; the mean field's ½ ln χ₁ for "
        "random weights driven by input), in its measured line's colour, started "
        "from that line at the window's first lag: where the lines part, measurement and "
        f"theory disagree{see}."
    )


def unregistered_note(view: RunView, fixed: Iterable[tuple[str, object]] = ()) -> str:
    """Why a figure (of the settings ``fixed``) has no predicted line for an init: the cells'
    summary rows were computed again here (those stored with the cells came from other code:
    a vanishlab upgrade), and this process has not registered the run's own init, which a
    report does not import (an experiment file is code). "" when no such init is drawn, or
    only in gated cells, which have no predicted line with any init."""
    theory = view.theory
    if "init" not in theory or "mf_validity" not in theory or not len(theory):
        return ""
    wanted = dict(fixed).get("init")
    # mf_validity "" : no theory was evaluated (the cell could not be rebuilt); of nn.RNN cells
    # only (no model: a run from before the axis): a gated one has no line with any init
    rnn = (
        theory["model"].isna() | theory["model"].isin(RNN_THEORY_MODELS)
        if "model" in theory
        else True
    )
    unbuilt = theory[(theory["mf_validity"].fillna("") == "") & theory["init"].notna() & rnn]
    names = [
        str(i)
        for i in view.values("init", unbuilt["init"].unique())
        if str(i) not in INITS and i != TRAINED_INIT and (wanted is None or i == wanted)
    ]
    if not names:
        return ""
    return f" No dashed line for {unregistered_reason(names)}."


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
    step 93." in another) are one sentence: the one of the smallest numbers (the earliest lag
    or time step) is shown, with how many seeds have it and that it is the earliest, as the
    rates tables name the earliest lag of an exact zero; the Anomalies section lists every
    failed cell on its own.
    """
    n = len(cells)
    groups: dict[str, list[str]] = {}
    for note in cells["note"]:
        for sentence in _sentences(note):
            groups.setdefault(_NUMBER.sub("#", sentence), []).append(sentence)
    out = []
    for texts in groups.values():
        first, k, distinct = min(texts, key=_numbers), len(texts), len(set(texts))
        if n > 1 and (k < n or distinct > 1):
            detail = f"{k} of {n} seeds" + (", the earliest shown" if distinct > 1 else "")
            first = f"{first.removesuffix('.')} ({detail})."
        out.append(first)
    return " ".join(out)


# A sentence ends at a full stop and a space; the next may start in lower case ("relu with
# χ₁ = ... ≥ 1 ..."), so only the abbreviations notes may hold are not ends.
_SENTENCE = re.compile(r"(?<=\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bal\.)\s+(?=\S)")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _sentences(note: object) -> list[str]:
    """The sentences of a cell's or a setting's notes (none for a missing note)."""
    return [s for s in _SENTENCE.split(str(note or "").strip()) if s]


def _numbers(sentence: str) -> tuple[float, ...]:
    """The numbers of a sentence in order: sentences alike but for them sort by these."""
    return tuple(float(m) for m in _NUMBER.findall(sentence))


def _reasons(note: object) -> list[str]:
    """Why a cell or setting has no prediction, as its note says ("No prediction: ...")."""
    return [
        s.removeprefix(NO_PREDICTION).removesuffix(".")
        for s in _sentences(note)
        if s.startswith(NO_PREDICTION)
    ]


def shared_reasons(notes: Iterable[object]) -> tuple[str, ...]:
    """The reasons for no prediction that more than one of a table's rows give (``notes``:
    one per row), in order. Such a reason is the same in every row of its kind (every gated
    cell's, every identity init's off the origin): a table says it once, in its caption
    (:func:`shared_reasons_caption`), not as the same lines under each of those rows."""
    counts = Counter(r for note in notes for r in dict.fromkeys(_reasons(note)))
    return tuple(r for r, k in counts.items() if k > 1)


def without_shared(note: object, shared: Sequence[str]) -> str:
    """A row's notes without its sentences of the ``shared`` reasons (its own ones stay)."""
    return " ".join(s for s in _sentences(note) if not _reasons(s) or _reasons(s)[0] not in shared)


def shared_reasons_caption(shared: Sequence[str]) -> str:
    """A caption's words for the ``shared`` reasons: each once, a sentence of its own."""
    return " ".join(f"{r[:1].upper()}{r[1:]}." for r in shared)


def no_prediction(note: object, shared: Sequence[str] = ()) -> str:
    """A table cell for a cell without a prediction: a dash, and the reason its note gives
    ("No prediction: ..."), as the theory table's dash has beside it in the notes; the dash
    alone for a reason in ``shared``, which the caption says once."""
    for reason in _reasons(note):
        return "—" if reason in shared else f"— (no prediction: {reason})"
    return "—"


def _mean_by(groups: pd.Series, values: pd.Series, include: np.ndarray | None = None) -> pd.Series:
    """:func:`mean_of` of ``values`` per group (rows where ``include`` is False left out)."""
    v = values.to_numpy(dtype=np.float64)
    inc = np.ones(len(v), dtype=bool) if include is None else include
    finite = inc & np.isfinite(v)
    frame = pd.DataFrame(
        {
            "g": groups,
            "sum": np.where(finite, v, 0.0),
            "fin": finite,
            "inc": inc,
            "neg": inc & np.isneginf(v),
        }
    )
    t = frame.groupby("g", sort=False).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (t["sum"] / t["fin"]).where(t["fin"] > 0, np.nan)
    mean[(t["fin"] == 0) & (t["inc"] > 0) & (t["neg"] == t["inc"])] = -math.inf
    return mean


def by_setting(view: RunView) -> pd.DataFrame:
    """The summary aggregated over seeds: one row per setting (config columns but the seed).

    One groupby: every column is a vectorised aggregate of the setting's cells, ``rate``,
    ``lyapunov``, ``pascanu`` and the lag window over its measured (ok) cells only.
    """
    s = view.theory
    if not len(s):
        return pd.DataFrame()
    keys = [c for c in view.setting_columns if c in s.columns]
    s = s.reset_index(drop=True)
    if keys:
        gid = pd.Series(s.groupby(keys, sort=False, dropna=False).ngroup(), index=s.index)
    else:
        gid = pd.Series(np.zeros(len(s), dtype=np.int64), index=s.index)
    ok = (s["status"] == "ok").to_numpy()
    rate = s["rate"].to_numpy(dtype=np.float64)
    head = s.groupby(gid, sort=False).head(1)
    first = head.set_index(gid[head.index].to_numpy())  # each setting's first cell
    work = pd.DataFrame(
        {
            "g": gid,
            "ok": ok,
            "zero": ok & np.isneginf(rate),
            "fin_rate": np.where(ok & np.isfinite(rate), rate, np.nan),
            "delta": np.where(ok, s["delta_rate"].to_numpy(dtype=np.float64), np.nan),
            "lag_start": s["lag_start"].where(ok).astype("float64"),
            "lag_end": s["lag_end"].where(ok).astype("float64"),
        }
    )
    work.loc[~np.isfinite(work["delta"]), "delta"] = np.nan
    g = work.groupby("g", sort=False)
    agg = g.agg(
        n=("ok", "size"),
        n_ok=("ok", "sum"),
        n_zero=("zero", "sum"),
        rate_lo=("fin_rate", "min"),
        rate_hi=("fin_rate", "max"),
        n_finite=("fin_rate", "count"),
        delta=("delta", "mean"),
        delta_sd=("delta", "std"),
        lag_start=("lag_start", "min"),
        lag_end=("lag_end", "max"),
    )
    out = first[keys].copy() if keys else pd.DataFrame(index=agg.index)
    out = out.loc[agg.index]
    out["n"] = agg["n"].astype(int)
    out["n_ok"] = agg["n_ok"].astype(int)
    out["n_zero"] = agg["n_zero"].astype(int)
    out["rate"] = _mean_by(gid, s["rate"], ok)
    out["rate_lo"] = agg["rate_lo"]
    out["rate_hi"] = agg["rate_hi"]
    out["n_finite"] = agg["n_finite"].astype(int)
    out["rate_layer0"] = _mean_by(gid, s["rate_layer0"], ok) if "rate_layer0" in s else math.nan
    out["lyapunov"] = _mean_by(gid, s["lyapunov"], ok)
    # The measured cells at -inf that each of these means leaves out (the table counts them).
    for column in ("rate_layer0", "lyapunov"):
        v = s[column].to_numpy(dtype=np.float64) if column in s else np.full(len(s), np.nan)
        out[f"n_zero_{column}"] = pd.Series(ok & np.isneginf(v)).groupby(gid.to_numpy()).sum()
    out["predicted"] = _mean_by(gid, s["predicted_rate"])
    # Which theory predicts each seed: the seeds of one setting may differ (an undriven cell
    # with biases settles at a fixed point in some seeds and at none in others, the mean field
    # standing in for those), so each kind is counted and its own seeds' mean kept, and the
    # setting's kind is "mixed" where they differ, never its first seed's alone.
    by = s["predicted_by"].fillna("none").astype(str)
    for kind, column in KIND_COLUMNS.items():
        of = (by == kind).to_numpy()
        out[f"n_{column}"] = pd.Series(of).groupby(gid.to_numpy()).sum().astype(int)
        out[f"predicted_{column}"] = _mean_by(gid, s["predicted_rate"], of)
    kinds = by.groupby(gid, sort=False).nunique()
    out["predicted_by"] = first["predicted_by"].astype(str).where(kinds <= 1, MIXED)
    out["validity"] = first["mf_validity"].astype(str)
    out["delta"] = agg["delta"]
    out["delta_sd"] = agg["delta_sd"]
    # The bound beside the measured rate is that of the same cells: a failed cell's weights
    # have a slope too, but no norm that it bounds.
    out["pascanu"] = _mean_by(gid, s["pascanu_slope"], ok)
    out["critical_gain"] = _mean_by(gid, s["mf_critical_gain"])
    out["lag_start"] = agg["lag_start"].fillna(-1).astype(int)
    out["lag_end"] = agg["lag_end"].fillna(-1).astype(int)
    out["flags"] = s.groupby(gid, sort=False)["flag"].agg(_ordered_flags)
    out["notes"] = [setting_notes(c) for _, c in s[["status", "note"]].groupby(gid, sort=False)]
    axes = [a for a in AXES if a in s.columns]
    out["_config"] = first[axes].to_dict("records")
    out = out.reset_index(drop=True)
    for k in keys:
        out[k] = [py(v) for v in out[k]]
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

    indexes: dict[tuple[str, ...], dict] = {}  # one groupby per set of axes asked about

    def overlay(setting: Mapping[str, object], curve: Curve) -> Curve | None:
        if any(k not in usable.columns for k in setting):
            return None
        keys = tuple(setting)
        if keys not in indexes:
            indexes[keys] = index_by(usable, keys)
        rows = indexes[keys].get(key_of(setting.values()))
        if rows is None or not len(rows):
            return None
        pred = mean_of(rows["predicted_rate"].to_numpy(dtype=np.float64))
        if not math.isfinite(pred):
            return None
        start, end = float(rows["lag_start"].min()), float(rows["lag_end"].max())
        if not end > start:  # a window of one lag (T = 1): a segment of no length, not drawn
            return None
        finite = np.isfinite(curve.y)
        if not finite.any() or not curve.x[finite][0] <= start <= curve.x[finite][-1]:
            return None
        y0 = float(np.interp(start, curve.x[finite], curve.y[finite]))
        kinds = [str(k) for k in rows["predicted_by"].unique()]
        # Seeds of different theories (an undriven cell with biases that settles at a fixed
        # point in some seeds only): the segment is their mean, said so, not the first's kind.
        by = BY.get(kinds[0], kinds[0]) if len(kinds) == 1 else MIXED_OVERLAY
        return Curve(
            label=f"predicted: {by}",
            style=curve.style,
            x=np.array([start, end]),
            y=np.array([y0, y0 + pred * (end - start) / LN10]),
            reference=True,
        )

    return overlay
