"""What the single-model and monitor pages share: the model's facts, its fits and its curves.

A trained model's run (``vanishlab analyze``, :class:`vanishlab.JacobianMonitor`) holds the
exact per-lag norms of one module: for the state, J = dh^{top}_T / dh^{(l)}_{T-k} of the top
layer's last state against layer l's state k steps earlier, one curve per layer l; for the
input, J = dh^{top}_T / dx_{T-k}. Each curve is the mean over the inputs' samples of log10 ||J||
(a geometric mean), with their standard deviation. Its fit is :func:`vanishlab.fit_decay` of
that curve: rate = d ln||J|| / dk over lags K/4..K (natural log per step), the horizon (the
first lag where ||J|| is below 1e-3 of its lag-0 value) and the phase. A monitored run has
one such set of curves per recorded training step.

No random-network theory applies to trained weights: :func:`theory_trained_section` says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.fits import HORIZON_DECADES, fit_decay, horizon_at_zero
from ...core.log_units import LN10
from ...sweep.section_names import THEORY_TRAINED
from ..format import duration, format_value, horizon_text, plural
from ..layout import thin
from ..model import Curve, Section
from ..view import RunView
from .rate_cells import exact_zero_note, mark_exact_zero

__all__ = [
    "CURVE_KEYS",
    "FITTED_LABEL",
    "HORIZON_AT_ZERO",
    "HORIZON_MEANING",
    "LONGER_SEQUENCE",
    "MEASURE_INPUTS",
    "MEASURE_SEQ_LEN",
    "ZERO_FLOOR_NOTE",
    "architecture",
    "architecture_items",
    "at_zero",
    "beyond_lags",
    "curve_fits",
    "curve_label",
    "curve_mask",
    "curve_order",
    "find_fit",
    "fit_horizon_text",
    "fitted_line",
    "inputs_seq_len",
    "measure_words",
    "measured_curve",
    "model_record",
    "module_text",
    "num_layers",
    "seconds_text",
    "seq_len_of",
    "shape_text",
    "steps_count",
    "theory_trained_section",
    "too_few_lags",
    "zero_throughout",
]

#: The columns that tell one curve of a trained model's run from another (a monitored run adds
#: ``step`` in front).
CURVE_KEYS = ("source", "layer")
_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def model_record(view: RunView) -> dict[str, Any]:
    """The manifest's ``model``, what a trained model's run records of it (empty when absent,
    or not a mapping in a hand-edited manifest)."""
    model = view.manifest.get("model")
    return dict(model) if isinstance(model, Mapping) else {}


def architecture(view: RunView) -> dict[str, Any]:
    """The manifest's ``model.architecture`` (empty when absent)."""
    arch = model_record(view).get("architecture")
    return dict(arch) if isinstance(arch, Mapping) else {}


def num_layers(view: RunView) -> int:
    """The module's number of layers: the manifest's, else the deepest layer measured + 1."""
    n = architecture(view).get("num_layers")
    if isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        return n
    layers = view.results["layer"].dropna() if len(view.results) else pd.Series([], dtype=int)
    return int(layers.max()) + 1 if len(layers) else 1


def module_text(arch: Mapping[str, Any]) -> str:
    """``nn.LSTM(4, 16, num_layers=2, bias=True)`` from an architecture dict ("—" if unknown)."""
    name = _NAMES.get(str(arch.get("kind")))
    if name is None:
        return "—"
    extra = f", nonlinearity='{arch.get('nonlinearity')}'" if arch.get("kind") == "rnn" else ""
    return (
        f"nn.{name}({arch.get('input_size')}, {arch.get('hidden_size')}, "
        f"num_layers={arch.get('num_layers')}, bias={arch.get('bias')}{extra})"
    )


def architecture_items(arch: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The architecture as labelled facts (what a key/value list shows)."""
    kind = str(arch.get("kind") or "")
    items = [
        ("architecture", module_text(arch)),
        ("input size", format_value(arch.get("input_size"))),
        ("hidden size", format_value(arch.get("hidden_size"))),
        ("layers", format_value(arch.get("num_layers"))),
        ("bias", format_value(arch.get("bias"))),
    ]
    if kind == "rnn":
        nonlinearity = str(arch.get("nonlinearity"))
        if arch.get("nonlinearity_given") is False:
            nonlinearity += (
                " (assumed: an nn.RNN's nonlinearity is not in its weights; "
                "--nonlinearity relu if it is relu)"
            )
        items.append(("nonlinearity", nonlinearity))
    elif kind in ("lstm", "gru"):
        items.append(("nonlinearity", "the gated cell's own (sigmoid gates, tanh)"))
    if "batch_first" in arch:
        items.append(("batch_first", format_value(arch.get("batch_first"))))
    dtype = str(arch.get("dtype") or "—")
    stored = arch.get("stored_dtype")
    if stored and stored != dtype:
        dtype += f" (stored as {stored}, widened exactly)"
    items.append(("measured in", dtype))
    return items


def curve_order(frame: pd.DataFrame) -> list[tuple[str, int | None]]:
    """The (source, layer) curves present in ``frame``: state layers top first, then input."""
    if not len(frame):
        return []
    present = frame[["source", "layer"]].drop_duplicates()
    state = sorted(
        (int(v) for v in present.loc[present["source"] == "state", "layer"].dropna()),
        reverse=True,
    )
    out: list[tuple[str, int | None]] = [("state", layer) for layer in state]
    if (present["source"] == "input").any():
        out.append(("input", None))
    return out


def curve_label(source: str, layer: int | None, layers: int) -> str:
    """``"state, layer 1 (top)"``, ``"state"`` (one layer) or ``"input"``."""
    if source != "state":
        return "input"
    if layers <= 1 or layer is None:
        return "state"
    return f"state, layer {layer}" + (" (top)" if layer == layers - 1 else "")


def curve_fits(view: RunView, keys: Sequence[str] = (), norm: str = "fro") -> pd.DataFrame:
    """:func:`vanishlab.fit_decay` of every curve, one row per (``keys``, source, layer).

    ``keys``: the columns in front of (source, layer) that tell curves apart (``("step",)``
    for a monitored run). Computed once per page.
    """

    def compute() -> pd.DataFrame:
        r = view.results
        if not len(r):
            return pd.DataFrame()
        return fit_decay(r[[*keys, *CURVE_KEYS, "lag", f"log10_{norm}_mean"]], norm=norm)

    return view.memo(f"trained-fits-{norm}-{','.join(keys)}", compute)


def curve_mask(frame: pd.DataFrame, source: str, layer: int | None) -> np.ndarray:
    """The rows of ``frame`` that belong to the curve (``source``, ``layer``)."""
    mask = (frame["source"] == source).to_numpy(dtype=bool)
    layers = frame["layer"].astype("Float64")
    if layer is None:
        return mask & layers.isna().to_numpy(dtype=bool)
    return mask & (layers == layer).fillna(False).to_numpy(dtype=bool)


def find_fit(
    fits: pd.DataFrame, source: str, layer: int | None, **where: object
) -> dict[str, Any] | None:
    """The fit row of one curve (None when there is none)."""
    if not len(fits):
        return None
    mask = curve_mask(fits, source, layer)
    for k, v in where.items():
        mask = mask & (fits[k] == v).to_numpy(dtype=bool)
    rows = fits[mask]
    return rows.iloc[0].to_dict() if len(rows) else None


def measured_curve(rows: pd.DataFrame, style: int, label: str) -> Curve:
    """One curve of log10 ||J|| against the lag, with a +-1 standard deviation band across the
    samples; an exact zero (-inf) is a floor marker, never a number."""
    c = rows.sort_values("lag")
    idx = thin(len(c))
    x = c["lag"].to_numpy(dtype=np.float64)
    y = c["log10_fro_mean"].to_numpy(dtype=np.float64)
    zero = np.isneginf(y)
    if "n_zero" in c:
        zero |= c["n_zero"].fillna(0).to_numpy(dtype=np.float64) > 0
    y = np.where(np.isfinite(y), y, np.nan)
    sd = c["log10_fro_std"].to_numpy(dtype=np.float64) if "log10_fro_std" in c else None
    lo = hi = None
    if sd is not None:
        sd = np.where(np.isfinite(sd), sd, np.nan)
        lo, hi = (y - sd)[idx], (y + sd)[idx]
    zero_x = x[zero]
    return Curve(
        label=label,
        style=style,
        x=x[idx],
        y=y[idx],
        lo=lo,
        hi=hi,
        floor_x=zero_x[thin(len(zero_x))],
    )


FITTED_LABEL = "fitted line (fit window)"


def fitted_line(fit: Mapping[str, Any] | None, style: int) -> Curve | None:
    """The fitted straight line of a curve over its fit window, in log10 units (dashed)."""
    if fit is None:
        return None
    rate, intercept = float(fit["rate"]), float(fit["intercept"])
    if not (math.isfinite(rate) and math.isfinite(intercept)):
        return None
    x = np.array([float(fit["lag_start"]), float(fit["lag_end"])])
    y = (intercept + rate * x) / LN10
    return Curve(label=FITTED_LABEL, style=style, x=x, y=y, reference=True)


def shape_text(shape: Sequence[object], batch_first: object) -> str:
    """An input tensor's shape with its dimensions named, as the module takes it: "50 × 8 × 2
    (T, B, I)", "(B, T, I), batch first", or "(T, I), one unbatched sequence"."""
    dims = " × ".join(str(s) for s in shape)
    if not dims:
        return "—"
    if len(shape) == 2:
        return f"{dims} (T, I), one unbatched sequence"
    return f"{dims} " + ("(B, T, I), batch first" if batch_first else "(T, B, I)")


def seq_len_of(shape: object, batch_first: object) -> int | None:
    """T of an input tensor's recorded shape, laid out as :func:`shape_text` names it; None
    where the record is not such a shape (a hand-edited manifest)."""
    if not isinstance(shape, list) or len(shape) not in (2, 3):
        return None
    return steps_count(shape[1] if len(shape) == 3 and batch_first else shape[0])


def steps_count(value: object) -> int | None:
    """``value`` as a recorded sequence length: a positive int, else None (a bool, a string, a
    float or 0 in a hand-edited manifest)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def inputs_seq_len(model: dict[str, Any]) -> int | None:
    """The inputs' T, from the manifest's record of them; None where it does not say."""
    inputs = model.get("inputs") or {}
    if not isinstance(inputs, dict):
        return None
    gaussian = inputs.get("gaussian")
    if not isinstance(gaussian, dict):
        return seq_len_of(inputs.get("shape"), inputs.get("batch_first"))
    return steps_count(gaussian.get("seq_len"))


def seconds_text(seconds: float) -> str:
    """A short time: ``35 ms`` below a second, else as :func:`~..format.duration` writes it."""
    if math.isfinite(seconds) and 0 <= seconds < 1 and round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.0f} ms"  # 0.9996 s is 1.0 s, not 1000 ms
    return duration(seconds)


def fit_horizon_text(fit: Mapping[str, Any], word: str | None = "step") -> str:
    """A curve's horizon (its row of :func:`curve_fits`) in steps ("1 step", "12 steps"; the
    bare number with ``word`` None); ``"> 49 steps"`` (``"> 49"``) when the norm never fell
    1000-fold by lag 49, the last measured (:func:`beyond_lags`), as the sweep's tables write
    it (:func:`~..format.horizon_text`; it read "none", which the monitor's figure beside it
    drew at the last lag with a caret; a curve too short to fit a rate has its horizon all
    the same, which the norms give, not the fit: it read "—"), and "—" where nothing tells;
    marked "(exact 0)" when it was reached because the Jacobian became exactly 0
    (:func:`~vanishlab.analysis.fits.horizon_at_zero`), as the sweep's tables mark it; and
    :data:`ZERO_THROUGHOUT` for a curve exactly 0 from lag 0 on (it has no horizon: there is
    no lag-0 value to fall from, but "none" read as a gradient that never fell)."""
    value = fit["horizon"]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        if zero_throughout(fit):
            return ZERO_THROUGHOUT
        value = math.inf if beyond_lags(fit).all() else math.nan
    text = horizon_text(float(value), _lag(fit["lag_end"]))
    if word is not None and text != "—":
        number = text.removeprefix("> ")
        text = text.removesuffix(number) + plural(int(number), word)
    return mark_exact_zero(text, at_zero(fit))


def beyond_lags(fit: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
    """Whether a curve's horizon lies beyond the lags measured, elementwise (a row of
    :func:`curve_fits`, or a frame of them): it has none, and no exact zero cut it, with or
    without a fitted rate (the horizon is read off the norms; one lag past lag 0 fits no
    rate). The one test of the steps table's ``"> 49"`` and of the caret the monitor's figure
    draws at the last lag."""
    h, zero, last = (_floats(fit[k]) for k in ("horizon", "zero_lag", "lag_end"))
    return np.isnan(h) & np.isnan(zero) & np.isfinite(last)


def _floats(values: Any) -> np.ndarray:
    """A fit's column, or one value of it, as floats: NA (a nullable lag's none) is NaN."""
    cells = np.atleast_1d(np.asarray(values, dtype=object))
    return pd.array(cells, dtype="Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _lag(value: Any) -> float:
    """A fit's ``lag_end`` as :func:`~..format.horizon_text` takes it: NaN where it has none."""
    return float(_floats(value)[0])


def at_zero(fit: Mapping[str, Any]) -> bool:
    """Whether a curve's horizon (its row of :func:`curve_fits`) is an exact zero's."""
    return bool(horizon_at_zero(fit["horizon"], fit.get("zero_lag"))[0])


#: How an analysed model's page says to measure more lags (a monitor's names its probe
#: instead): "analyze a longer sequence" named no option.
LONGER_SEQUENCE = "analyze a longer sequence (--seq-len, or a longer --inputs tensor)"
#: How its table says to measure a lag past those its line is continued to (a sequence that
#: long), and its verdict the run it asks for; :data:`MEASURE_INPUTS` where it had an inputs
#: file (:func:`measure_words`).
MEASURE_SEQ_LEN = "measure with --seq-len {}"
#: The same, on the page of an analysis of an inputs file: its T is the file's, and analyze
#: refuses --seq-len beside --inputs ("measure with --seq-len 280" could not be done as said).
MEASURE_INPUTS = (
    "measure with inputs of {0} steps or more (--inputs), or with --seq-len {0} without them"
)


def measure_words(model: Mapping[str, Any]) -> str:
    """How a trained model's page says to measure at T = N (a format of one field), by its
    manifest's ``model`` (:func:`model_record`): :data:`MEASURE_INPUTS` where its inputs were
    a file, else :data:`MEASURE_SEQ_LEN`."""
    inputs = model.get("inputs")
    return MEASURE_INPUTS if isinstance(inputs, Mapping) and inputs.get("file") else MEASURE_SEQ_LEN


def too_few_lags(fit: Mapping[str, Any]) -> str | None:
    """Why a curve's horizon says only "> 0 steps" or "> 1 step": it has no fitted rate and no
    fall within its lags, because it measured too few lags ("lag 0 only: too few to fit a
    rate", "lags 0 to 1 only: ..."); None for any other curve. True, "> 1 step" said nothing a
    reader could act on: the words name the cause, and the page its remedy."""
    if zero_throughout(fit) or not bool(beyond_lags(fit)):
        return None
    rate = fit["rate"]
    if rate is not None and rate is not pd.NA and not pd.isna(rate):
        return None
    last = int(fit["lag_end"])
    lags = "lag 0 only" if last == 0 else f"lags 0 to {last} only"
    return f"{lags}: too few to fit a rate"


def zero_throughout(fit: Mapping[str, Any]) -> bool:
    """Whether a curve (its row of :func:`curve_fits`) is exactly 0 at every lag."""
    zero = fit.get("zero_lag")
    return zero is not None and zero is not pd.NA and not pd.isna(zero) and int(zero) == 0


#: The horizon of a curve that is exactly 0 from lag 0 on (:func:`zero_throughout`).
ZERO_THROUGHOUT = "exact 0 at every lag"

#: What a horizon marked "(exact 0)" means, for the captions of a trained model's pages.
HORIZON_AT_ZERO = (
    exact_zero_note("the")
    + f"; '{ZERO_THROUGHOUT}' when it is exactly zero from lag 0 on, with no lag-0 value to "
    "fall from"
)


ZERO_FLOOR_NOTE = (
    " Triangles on a panel's floor mark lags where a sample's Jacobian is exactly zero "
    "(log10 = −∞)."
)
"""The curves' captions' words for their floor triangles, on either page of a trained model."""

HORIZON_MEANING = (
    f"the first lag k where ||J|| has fallen below 10^-{HORIZON_DECADES:g} of its lag-0 value "
    "(of its first non-zero lag's where lag 0's is exactly 0)"
)


#: The gain where χ₁ = 1: tanh's edge of chaos ("order-to-chaos" read as relu's too, whose
#: mean field has no chaotic phase: past that gain its activity diverges).
CRITICAL_GAIN = (
    "the critical gain (χ₁ = 1: for tanh the edge of chaos, for relu that of divergence)"
)


def theory_trained_section(view: RunView) -> Section:
    """A plain statement: the random-network predictions do not apply to trained weights; for
    an nn.RNN, the two that hold for any weights (ln rho(W_hh) at the origin, Pascanu's bound)
    need the weights, which the run does not keep."""
    if architecture(view).get("kind") == "rnn":
        weights = (
            " Two statements hold for any weights of an nn.RNN, and need the weights "
            "themselves, which the run does not keep: at the origin (zero input, zero bias, "
            "h0 = 0) a tanh network's state rows change at ln ρ(W_hh) per step as the lag "
            "grows (vl.linear_rate(module.weight_hh_l0) for one layer; a relu network's are "
            "exactly 0 there past lag 0), and Pascanu et al.'s upper "
            "bound holds at every lag (vl.check_pascanu(module, vl.jacobian_norms(module, x)) "
            "computes it)."
        )
        drawn = f"the mean-field rate ½ ln χ₁ and {CRITICAL_GAIN}"
    else:
        weights = " An LSTM or GRU gets none of them: they are nn.RNN's theory."
        drawn = (
            "the linear rate ln ρ(W_hh) at the origin, the mean-field rate ½ ln χ₁, "
            f"{CRITICAL_GAIN}"
        )
    return Section(
        THEORY_TRAINED.key,
        THEORY_TRAINED.title,
        f"None applies to this model, so this page shows measurements only. vanishlab's "
        f"random-network predictions ({drawn}) describe networks at initialisation, whose "
        "weights are drawn i.i.d. (or orthogonal) at a known gain; a trained model's weights "
        "are not such a draw." + weights + " The rates on this page are exact measurements of "
        "this model on these inputs.",
        (),
    )
