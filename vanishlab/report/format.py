"""The report's shared vocabulary: limits, axis labels and how values are written as text.

Every section formats numbers and settings the same way, so these live in one place:
:func:`format_value` (a config value or number), :func:`rate_text` (a signed rate in
natural-log units per step, 3 decimals, with a true minus sign), :func:`assign` ("gain 1.5",
"2 layers", "T = 50"), and :func:`py` / :func:`hashable` (numpy scalars as Python values, so
that ``1``, ``1.0`` and ``np.int64(1)`` are one setting).

The limits keep a run of thousands of cells a page of a few megabytes: curves are thinned to
:data:`MAX_POINTS` lags, figures hold at most :data:`MAX_PANELS` panels, a section draws at most
:data:`MAX_FIGURES` figures, and every figure says in a note what it left out.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..core.weights_attr import DTYPE_COLUMN
from ..sweep.axes import NOT_APPLICABLE
from ..sweep.config import AXIS_TABLE, REPORT_ORDER
from ..sweep.config import LABELS as AXIS_LABELS
from ..sweep.manifest import utc_text
from ..sweep.progress import plural  # one helper for the page and the trained layer's lines

__all__ = [
    "CONFIG_ORDER",
    "FLOAT32_MAX_LOG10",
    "LABELS",
    "LAG_LABEL",
    "LAG_RATE_LABEL",
    "LINE_PREFERENCE",
    "LOG_NORM_LABEL",
    "LONGEST_S",
    "LYAPUNOV_LABEL",
    "MAX_ANOMALY_ROWS",
    "MAX_COLUMNS",
    "MAX_FIGURES",
    "MAX_PANELS",
    "MAX_POINTS",
    "MAX_TABLE_ROWS",
    "NOT_APPLICABLE",
    "NOT_APPLICABLE_TEXT",
    "NUMERIC_AXES",
    "PANEL_AXES",
    "RATE_LABEL",
    "SCIENTIFIC_FROM",
    "STEP_LABEL",
    "and_list",
    "assign",
    "count_text",
    "duration",
    "factor_per_step",
    "fixed",
    "format_value",
    "hashable",
    "horizon_text",
    "label",
    "minus_inf_words",
    "model_text",
    "plural",
    "py",
    "r2_text",
    "rate_text",
    "seeds_at_minus_inf",
    "setting_text",
    "setting_titles",
    "spread_decimals",
    "spread_text",
    "table_texts",
    "time_text",
    "title_digits",
    "total",
    "value_texts",
]

LAG_LABEL = "lag k (steps)"
"""The x-axis of every figure of norms against the lag."""
LOG_NORM_LABEL = r"$\log_{10}\,\|J\|$"
"""The y-axis of a trained model's curves (one Jacobian of several kinds per panel)."""
RATE_LABEL = r"rate $d\,\ln\|J\|\,/\,dk$ (per step)"
"""The axis, or colour bar, of a sweep's fitted decay rates (natural log per step)."""
LAG_RATE_LABEL = "rate (ln per step of lag)"
"""The y-axis of a monitored run's rates, against the training step: beside that x axis, the
plain "(per step)" of :data:`RATE_LABEL` could be read as per training step; and it stays one
line in a one-row figure (2.45 in tall), where "(per step of lag)" after RATE_LABEL's
d ln‖J‖/dk broke in two and moved the panel off the loss figure's axes above it."""
STEP_LABEL = "training step"
"""The x-axis of every figure of a monitored run against its training step, and the legend's
title of its decay curves at chosen steps."""
LYAPUNOV_LABEL = "top Lyapunov exponent λ₁"
"""The name of a model's λ₁ in a legend and beside its value (a monitor's, an analysed model's)."""

MAX_POINTS = 160  # lags kept per curve
MAX_PANELS = 24  # panels per figure
MAX_COLUMNS = 5  # values of the column axis shown side by side
MAX_FIGURES = 4  # figures per section (one per combination of the remaining axes)
MAX_TABLE_ROWS = 2000
MAX_ANOMALY_ROWS = 200
FLOAT32_MAX_LOG10 = math.log10(float(np.finfo(np.float32).max))  # 38.53

# The configuration columns (the axes) in the order tables show them (the axis table's
# report ranks).
CONFIG_ORDER: tuple[str, ...] = REPORT_ORDER
# Preference for the axis drawn as separate lines when ``init`` does not vary.
LINE_PREFERENCE = ("init", "gain", "input_std", "hidden_size", "bias", "input_size", "seq_len")
# Axes that make panels (rows of the grid); the rest make columns or separate figures.
PANEL_AXES = ("activation", "num_layers")

LABELS: dict[str, str] = dict(AXIS_LABELS)
"""The short name of each column in titles and legends: each axis's is its ``label`` in the
axis table."""


NOT_APPLICABLE_TEXT = "n/a (gated)"
"""How the page writes :data:`NOT_APPLICABLE` (the activation of an LSTM or GRU cell, which
records none: its gates fix their own sigmoid and tanh) in a table, a list or a heatmap's
column: a bare "n/a" under "activation" read as a value not available, beside "—" for one."""


def format_value(value: object, digits: int = 4) -> str:
    """A config value or number as short plain text (NaN/NA as an em dash, -inf as -inf, an
    axis that does not apply to the cell's model as :data:`NOT_APPLICABLE_TEXT`), a float of
    no whole value to ``digits`` significant digits (17: as many as tell it from every other
    float, no more: 0.3 is "0.3", not "0.29999999999999999")."""
    if value is None or value is pd.NA:
        return "—"
    if _is_na(value):
        return NOT_APPLICABLE_TEXT
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "−∞" if v < 0 else "+∞"
        if v == int(v) and abs(v) < 1e6:
            return fixed(v, 1) if abs(v) < 10 else str(int(v))
        return f"{v:.{digits}g}" if digits < 17 else repr(v)  # the shortest that reads back
    return str(value)


SCIENTIFIC_FROM = 1e15
"""The size from which :func:`fixed` writes a number in scientific notation: a float's digits
from the 16th on are no longer all exact."""


def fixed(value: float, decimals: int, *, sign: bool = False) -> str:
    """A finite ``value`` to ``decimals`` places, ``+`` before a positive one when ``sign``;
    one that rounds to zero is unsigned, ``0.000``: "-0.000" (a λ₁ of -0.0002, a -0.0 from a
    subtraction) read as a negative number that is not one at that precision. For every number
    of the page that can be negative or a -0.0 (rates, their spread, r², decades fallen). One
    of :data:`SCIENTIFIC_FROM` or more in size is in scientific notation, to four significant
    digits whatever ``decimals``: a rate fitted to hand-made log10 norms near 1e300 was 300
    digits long, every one past the 17th noise."""
    if abs(value) >= SCIENTIFIC_FROM:
        text = f"{value:+.3e}"
        return text if sign or value < 0 else text[1:]
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        return text[1:]
    return text if sign or text[0] == "-" else text[1:]


def rate_text(rate: float, decimals: int = 3) -> str:
    """A rate (ln per step) with its sign: ``+0.012``, ``−1.386``, ``−∞``; NaN as an em dash.
    One that rounds to zero is ``0.000``, unsigned (:func:`fixed`). ``decimals``: fewer where
    the seeds' spread beside it says the third is noise (:func:`spread_decimals`)."""
    if math.isnan(rate):
        return "—"
    if math.isinf(rate):
        return "−∞" if rate < 0 else "+∞"
    return fixed(rate, decimals, sign=True).replace("-", "−")


def spread_decimals(sd: float, most: int = 3) -> int:
    """The decimals of a mean ± standard deviation over seeds: as many as give the standard
    deviation two significant digits, at most ``most`` (a rate's three), so that the mean
    claims no digit its seeds' spread makes noise ("−1.519 ± 0.116", the demo's relu, 2
    layers, default, gain 0.5, whose 2 seeds read −1.60 and −1.44, is "−1.52 ± 0.12"). An sd
    of 0 or not finite keeps ``most``."""
    if not (math.isfinite(sd) and sd > 0):
        return most
    first = math.floor(math.log10(sd))  # the place of its first significant digit
    decimals = 1 - first
    if decimals >= 0 and round(sd, decimals) >= 10.0 ** (first + 1):  # 0.0996 reads 0.10
        decimals -= 1
    return max(0, min(most, decimals))


def spread_text(sd: float, decimals: int) -> str:
    """A standard deviation over seeds to ``decimals`` places (:func:`spread_decimals`'s), but
    ``<0.001`` for one above 0 that rounds to zero there: the demo's tanh, 2 layers,
    orthogonal, gain 1 read "−0.326 ± 0.000" for seeds 2.7e-5 apart, as if they agreed
    exactly (an sd of exactly 0 still reads ``0.000``)."""
    text = fixed(sd, decimals)
    if sd > 0 and float(text) == 0:
        return f"<{10.0**-decimals:.{decimals}f}"
    return text


def seeds_at_minus_inf(n_inf: int, n: int) -> str:
    """`` (k of n seeds −∞)`` after a mean over seeds that left its k seeds at −∞ out; ``""``
    when none or all are (all: the mean itself reads −∞). Every such mean says it so."""
    words = minus_inf_words(n_inf, n)
    return f" ({words})" if words else ""


def minus_inf_words(n_inf: int, n: int) -> str:
    """The words of :func:`seeds_at_minus_inf` without its parenthesis (``"k of n seeds −∞"``),
    for a cell that says more of its seeds in the same one."""
    k, n = int(n_inf), int(n)
    return f"{k} of {n} seeds −∞" if 0 < k < n else ""


NUMERIC_AXES = frozenset(a.name for a in AXIS_TABLE if a.type in (int, float))
"""The axes whose values are numbers: their table columns are right-aligned (``model``,
``activation``, ``init``, ``bias``, ``dtype``, ``task`` and ``optimizer`` read as words)."""


def label(column: str) -> str:
    """The short name of an axis in titles and legends (``seq_len`` is ``T``)."""
    return LABELS.get(column, column)


def assign(column: str, value: object, digits: int = 4) -> str:
    """A setting in words: ``"T = 50"``, ``"gain = 1.5"``, ``"init = chrono"``, ``"2 layers"``,
    ``"no bias"``; activation and dtype name themselves (``"tanh"``, ``"float32"``). An init
    does not: "default" or "forget_bias" alone in a panel's title ("T = 6, default") said
    nothing of what it was. ``digits``: as :func:`format_value`'s."""
    text = format_value(value, digits)
    if column in ("activation", DTYPE_COLUMN):
        return text
    if column == "num_layers":
        return f"{text} layer" + ("" if text == "1" else "s")
    if column == "bias" and isinstance(value, bool | np.bool_):
        return "bias" if value else "no bias"
    return f"{label(column)} = {text}"


def model_text(model: object, activation: object = None) -> str:
    """A model as every figure and table of a page names it to a reader: an nn.RNN with its
    activation, ``"rnn (tanh)"``, a gated cell (or an RNN of no activation known) by its name
    alone, ``"lstm"``. The one definition: a gated run's page wrote "rnn" in its heatmap's
    columns, "rnn (tanh)" in its legend and "model = rnn, tanh" in its panels' titles."""
    if model == "rnn" and _named(activation):
        return f"rnn ({format_value(activation)})"
    return format_value(model)


def _named(value: object) -> bool:
    """Whether ``value`` is a setting's value to name: not missing, not :data:`NOT_APPLICABLE`."""
    if value is None or value is pd.NA or _is_na(value):
        return False
    return not (isinstance(value, float | np.floating) and math.isnan(value))


def setting_text(pairs: Iterable[tuple[str, object]], digits: int = 4) -> str:
    """A setting as a title: ``"tanh, 2 layers, gain 1.5"``, the model first whatever its
    place in ``pairs`` (``"model = rnn (tanh), 2 layers"``: the first thing a reader needs,
    which a figure of mixed models, drawing it as its column axis, put last), named with its
    activation as :func:`model_text` names it, the other axes in the order given. An axis that
    does not apply to the setting's model is left out (``"model = lstm, 1 layer"``, not
    ``"model = lstm, n/a, 1 layer"``). ``digits``: as :func:`format_value`'s."""
    ordered = sorted(pairs, key=lambda kv: kv[0] != "model")  # stable: the rest keep their order
    given = dict(ordered)
    act = given.get("activation")
    merged = "model" in given and model_text(given["model"], act) != format_value(given["model"])
    return ", ".join(
        f"{label(k)} = {model_text(v, act)}" if k == "model" else assign(k, v, digits)
        for k, v in ordered
        if not _is_na(v) and not (merged and k == "activation")
    )


def title_digits(settings: Sequence[Iterable[tuple[str, object]]]) -> list[int]:
    """The significant digits (:func:`format_value`'s ``digits``) with which each setting's
    title tells it apart from the others' (:func:`setting_titles`): 4, or where two settings'
    titles read the same (gains 1.00001 and 1.00002 were both "gain = 1"), as many as tell
    them apart, up to every digit a float has, and no more than give its title its text;
    settings that are the same keep one title (a missing value, None, pd.NA or NaN, is one
    value: each reads "—")."""
    pairs = [list(s) for s in settings]
    keys = [tuple((k, _setting_key(v)) for k, v in p) for p in pairs]
    digits = [4] * len(pairs)
    for more in range(5, 18):
        of: dict[str, set[tuple[object, ...]]] = {}
        titles = [setting_text(p, d) for p, d in zip(pairs, digits, strict=True)]
        for title, key in zip(titles, keys, strict=True):
            of.setdefault(title, set()).add(key)
        clash = [i for i, t in enumerate(titles) if len(of[t]) > 1]
        if not clash:
            break
        for i in clash:
            digits[i] = more
    # A clash raises its settings together: one told apart sooner, or one no digits tell
    # apart, is given back the fewest digits that write its title as it stands.
    for i, d in enumerate(digits):
        if d > 4:
            title = setting_text(pairs[i], d)
            digits[i] = next(k for k in range(4, d + 1) if setting_text(pairs[i], k) == title)
    return digits


def _setting_key(value: object) -> Hashable:
    """:func:`hashable`, with every missing value (None, pd.NA, NaN) one key: NaN != NaN made
    two settings of NaN two, which no digits told apart (each raised to 17, and its other
    numbers written with every digit: "input std = 0.123456789" for 0.1235)."""
    if value is None or value is pd.NA:
        return _MISSING
    if isinstance(value, float | np.floating) and math.isnan(value):
        return _MISSING
    return hashable(value)


_MISSING = ("missing",)


def setting_titles(settings: Sequence[Iterable[tuple[str, object]]]) -> list[str]:
    """The titles of one figure's panels, one per setting (:func:`setting_text`), told apart
    (:func:`title_digits`)."""
    pairs = [list(s) for s in settings]
    return [setting_text(p, d) for p, d in zip(pairs, title_digits(pairs), strict=True)]


def value_texts(column: str, values: Sequence[object]) -> list[str]:
    """``values`` of the axis ``column`` as a legend, a heatmap's labels or a list of an axis's
    values write them (:func:`format_value`), told apart as panel titles are
    (:func:`title_digits`): gains 1.00001 and 1.00002 were both "1"."""
    digits = title_digits([[(column, v)] for v in values])
    return [format_value(v, d) for v, d in zip(values, digits, strict=True)]


def table_texts(
    records: Sequence[Mapping[str, object]], columns: Sequence[str]
) -> list[tuple[str, ...]]:
    """Each record's values of ``columns`` as a table's cells write them, each column told
    apart (:func:`value_texts`): the models, trainability and rates tables wrote input_std
    1.00001 and 1.00002 both as "1", two settings in two rows that read the same."""
    texts = [value_texts(c, [rec[c] for rec in records]) for c in columns]
    return list(zip(*texts, strict=True)) if texts else [() for _ in records]


def _is_na(value: object) -> bool:
    return isinstance(value, str) and value == NOT_APPLICABLE


def horizon_text(h: float, lag_end: object) -> str:
    """A horizon in a sweep's tables: whole lags as integers, ``"> lag_end"`` when the norm
    never fell far enough (inf), ``"—"`` when unknown (NaN). One definition for every table:
    the models table wrote "9.0" and "—" beside another's "9" and "> 10"."""
    if math.isnan(h):
        return "—"
    if math.isinf(h):
        known = isinstance(lag_end, numbers.Real) and not math.isnan(float(lag_end))
        return f"> {int(lag_end)}" if known else "—"  # type: ignore[call-overload]
    return format_value(float(h)) if h != int(h) else str(int(h))


def r2_text(r2: float) -> str:
    """r² with four decimals in every table ("0.9950", "1.0000"; one table wrote "1", "0.995"
    and "0.9986" by significant digits); "—" when there is none."""
    return fixed(r2, 4) if math.isfinite(r2) else "—"


def and_list(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``, as captions list things."""
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def count_text(value: float) -> str:
    """A positive count (of steps) to three significant digits in plain digits, as the page
    writes counts: "14.8", "815", "2,670", "6,910,000" (the Lyapunov section read "a
    perturbation grows 1000-fold in 3.38e+03 steps")."""
    rounded = float(f"{value:.3g}")
    return f"{rounded:,.0f}" if rounded >= 100 else f"{rounded:g}"


def factor_per_step(rate: float) -> str:
    """The factor e^rate of one step, to three significant digits, with as many more as show
    it is not 1: "0.627", "1.22", "1.0020" (a λ₁ of +0.002 read "×1 per step" above "a
    perturbation grows 1000-fold in" so many steps)."""
    factor = math.exp(rate)
    text = f"{factor:.3g}"
    if float(text) != 1.0 or rate == 0:
        return text
    return f"{factor:.{1 - math.floor(math.log10(abs(factor - 1)))}f}"


#: The longest time :func:`duration` writes: ten years (anything longer is no run's time).
LONGEST_S = 10 * 365.25 * 24 * 3600


def duration(seconds: object) -> str:
    """Seconds as ``12.3 s``, ``4 min 5 s`` or ``2 h 3 min``, rounded before the units are
    chosen (59.97 s is ``1 min 0 s``, 119.7 s ``2 min 0 s``, never ``60.0 s`` or ``1 min 60 s``);
    an em dash when unknown: not a number, not a finite one (a sum of absurd step times that
    overflowed to inf; an integer too large for a float), or none a run can take (negative, a
    clock set back, or over :data:`LONGEST_S`, a hand-edited or absurd record)."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return "—"
    try:
        seconds = float(seconds) + 0.0  # -0.0 as 0.0
    except OverflowError:
        return "—"
    if not (math.isfinite(seconds) and 0 <= seconds <= LONGEST_S):
        return "—"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    whole = math.floor(seconds + 0.5)  # halves up: round() gave 88.5 s 88 and 89.5 s 90
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    hours, minutes = divmod(math.floor(seconds / 60 + 0.5), 60)
    return f"{hours} h {minutes} min"


def total(values: Iterable[float]) -> float:
    """The sum of ``values`` (NaN left out, as pandas' sum leaves it) rounded once
    (:func:`math.fsum`), for every total the page shows rounded: numpy's sum rounds at each
    addition and can be an ulp off (steps of 0.176494, 0.084296, 0.089295, 0.092417, 0.039991
    and 0.038007 s read "521 ms in all", 0.5205000000000001 s, where they sum to 0.5205 s, 520
    ms; Python's sum is compensated from 3.12 only, Neumaier's: nearer, not always so). ±inf
    where it overflows (absurd times, 1e308 s each: a duration shows it as "—"), NaN where
    +inf meets -inf."""
    kept = [v for v in map(float, values) if not math.isnan(v)]
    try:
        return math.fsum(kept)
    except OverflowError:  # finite terms past the largest float: the plain sum's ±inf
        return sum(kept)
    except ValueError:  # +inf and -inf
        return math.nan


def time_text(value: object, missing: str = "—") -> str:
    """A manifest's ``started`` or ``finished`` as the page shows it: a UTC time in the one
    form vanishlab writes (:func:`~vanishlab.sweep.manifest.utc_text`, ``...T12:00:00Z``), a
    sweep's written before in ``+00:00`` too; ``missing`` for none; anything else as written."""
    if value is None or value == "":
        return missing
    text = str(value)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    return utc_text(when) if when.utcoffset() == timedelta(0) else text


def py(value: object) -> object:
    """numpy scalars as Python scalars (so that 1 and np.int64(1) are one value)."""
    return value.item() if isinstance(value, np.generic) else value


def hashable(value: object) -> Hashable:
    """A dictionary key for a config value: equal numbers (1, 1.0) give one key."""
    value = py(value)
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return ("num", int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return ("num", value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[return-value]
