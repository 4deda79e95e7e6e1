"""The sections of a single model's page (``vanishlab analyze``): what was measured, and how.

- **model**: the checkpoint (path, SHA-256, the module's key prefix), the architecture read
  from its weights, the inputs, the measurement's status and time, and the headline numbers
  (the versions and the command to measure it again close the page: :mod:`.provenance`);
- **curves**: log10 ||J|| against the lag k for every layer's state and for the input, each
  with its fitted line over the fit window;
- **fits**: per curve, :func:`vanishlab.fit_decay`'s rate (natural log per step, for the
  Frobenius and the spectral norm), r², fit window, horizon and phase;
- **lyapunov**: the top Lyapunov exponent λ₁ along the same inputs, beside the rates.

The rates and λ₁ share one unit, d ln / d step, so they compare directly: λ₁ is the long-lag
growth rate of the largest perturbation of the whole hidden state (every layer, and an LSTM's
cell state), e^{λ₁} the factor it is multiplied by per step on average.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...analysis.fits import fitted_end, fold_steps
from ...analysis.lyapunov_window import averaged_steps
from ...sweep.manifest import read_json_number
from ...sweep.progress import plural
from ...sweep.section_names import CURVES, FITS, LYAPUNOV, MODEL
from ..format import (
    LAG_LABEL,
    LOG_NORM_LABEL,
    LYAPUNOV_LABEL,
    count_text,
    factor_per_step,
    format_value,
    r2_text,
    rate_text,
    time_text,
)
from ..line_style import hidden_band_note
from ..model import KeyValues, LineGrid, LinePanel, Section, Table
from ..view import LSTM_STATE, RunView, state_jacobian
from .rate_cells import HORIZON_FOLD
from .settling import (
    GROWING_ONLY,
    NO_PHASE,
    gate_memory,
    growing_only,
    growing_only_rule,
    page_gates,
    phase_text,
    settling_reason,
)
from .trained import (
    FITTED_LABEL,
    HORIZON_AT_ZERO,
    HORIZON_MEANING,
    LONGER_SEQUENCE,
    MEASURE_SEQ_LEN,
    ZERO_FLOOR_NOTE,
    architecture,
    architecture_items,
    at_zero,
    curve_fits,
    curve_label,
    curve_mask,
    curve_order,
    find_fit,
    fit_horizon_text,
    fitted_line,
    measured_curve,
    model_record,
    num_layers,
    seconds_text,
    seq_len_of,
    shape_text,
    steps_count,
    too_few_lags,
    zero_throughout,
)

__all__ = ["curves_section", "fits_section", "lyapunov_section", "model_section"]

_INPUT_J = "dh_T/dx_{T−k}"


def _state_j(view: RunView, layer: int | str | None = "l") -> str:
    """The state Jacobian in symbols: d h_T / d s_{T-k}, with s = h, or [h | c] for an LSTM
    (the state it carries); the layer shown in a stack (``layer`` None: one layer)."""
    lstm = architecture(view).get("kind") == "lstm"
    return state_jacobian(lstm, "" if layer is None else str(layer))


def _status(view: RunView) -> tuple[str, str]:
    """The measurement's status and its failure reason ("" when ok)."""
    cells = view.cells
    if not len(cells) or "status" not in cells:
        return "not measured", ""
    rec = cells.iloc[0]
    reason = rec.get("reason")
    return str(rec["status"]), str(reason) if isinstance(reason, str) else ""


def _inputs_items(model: dict[str, Any]) -> list[tuple[str, str]]:
    inputs = model.get("inputs") or {}
    gaussian = inputs.get("gaussian") if isinstance(inputs, dict) else None
    if isinstance(gaussian, dict):
        std = format_value(gaussian.get("input_std"))
        return [
            ("inputs", f"Gaussian, x ~ N(0, {std}²), drawn with seed {model.get('seed', 0)}"),
            ("sequence length T", format_value(gaussian.get("seq_len"))),
            ("samples (batch)", format_value(gaussian.get("batch"))),
        ]
    if isinstance(inputs, dict) and inputs.get("file"):
        shape = inputs.get("shape")  # (hand-edited to no list: left out, no traceback)
        return [
            ("inputs", str(inputs["file"])),
            ("inputs SHA-256", str(inputs.get("sha256") or "—")),
            (
                "shape",
                shape_text(shape if isinstance(shape, list) else [], inputs.get("batch_first")),
            ),
        ]
    return [("inputs", "—")]


def _seq_len(model: dict[str, Any]) -> int | None:
    """The inputs' T, from the manifest's record of them; None where it does not say."""
    inputs = model.get("inputs") or {}
    if not isinstance(inputs, dict):
        return None
    gaussian = inputs.get("gaussian")
    if not isinstance(gaussian, dict):
        return seq_len_of(inputs.get("shape"), inputs.get("batch_first"))
    return steps_count(gaussian.get("seq_len"))


def _top_layer(view: RunView) -> int:
    return num_layers(view) - 1


def model_section(view: RunView) -> Section:
    """What model this is, what it was measured on, and the numbers that sum it up."""
    m = view.manifest
    model = model_record(view)
    arch = architecture(view)
    fits = curve_fits(view)
    status, reason = _status(view)
    layers = num_layers(view)
    top = find_fit(fits, "state", _top_layer(view))
    inp = find_fit(fits, "input", None)
    lyap = read_json_number(model.get("lyapunov"))
    memory, seq_len = gate_memory(model), _seq_len(model)
    glance: list[tuple[str, str]] = []
    if top is not None:
        glance += [
            (
                f"decay rate, {curve_label('state', _top_layer(view), layers)}",
                _glance_rate(top, memory, seq_len),
            ),
            (
                f"horizon, {curve_label('state', _top_layer(view), layers)}",
                _glance_horizon(top),
            ),
        ]
    if inp is not None:
        glance += [
            ("decay rate, input", _glance_rate(inp, memory, seq_len)),
            ("horizon, input", _glance_horizon(inp)),
        ]
    glance.append((LYAPUNOV_LABEL, _lyapunov_text(lyap)))
    blocks: list[Any] = []
    zero_note = ""
    if status == "ok":
        blocks.append(KeyValues("At a glance", tuple(glance)))
        if any(f is not None and (at_zero(f) or zero_throughout(f)) for f in (top, inp)):
            zero_note = (
                " Horizon: the first lag where the norm is 1000 times below its lag-0 value; "
                f"{HORIZON_AT_ZERO}."
            )
    module = model.get("module")
    checkpoint = [
        ("checkpoint", str(model.get("checkpoint") or "—")),
        ("SHA-256", str(model.get("sha256") or "—")),
        (
            "module in the file",
            # not "the whole file (a bare state_dict)": so read {"model": sd, "optimizer": ...}
            f"{module} (its keys' prefix)" if module else "top level (its keys have no prefix)",
        ),
    ]
    if model.get("note"):  # keys of the module that its kind has not: not measured
        checkpoint.append(("not measured", str(model["note"])))
    blocks.append(KeyValues("Model", tuple(checkpoint + architecture_items(arch))))
    blocks.append(KeyValues("Inputs", tuple(_inputs_items(model))))
    # no cell: its shard was moved aside (damaged) or the analysis stopped before writing it
    cells = view.cells
    elapsed = float(cells["elapsed_s"].iloc[0]) if len(cells) and "elapsed_s" in cells else None
    measured = [
        ("status", status + (f": {reason}" if reason else "")),
        ("measuring time", seconds_text(elapsed) if elapsed is not None else "—"),
        ("started", time_text(m.get("started"))),
        ("finished", time_text(m.get("finished"), "not finished")),
    ]
    blocks.append(KeyValues("Measurement", tuple(measured)))
    return Section(
        MODEL.key,
        MODEL.title,
        "One trained recurrent module, read from a checkpoint (its architecture inferred from "
        "its weights) and measured exactly on the inputs below. Norms are of the Jacobians of "
        "the top layer's last hidden state h_T; log10 values are averaged over the samples of "
        "the inputs (a geometric mean). Rates are in natural log per step: −0.1 means a "
        "factor e every 10 steps." + zero_note,
        tuple(blocks),
    )


def _glance_rate(fit: Any, memory: float | None, seq_len: int | None) -> str:
    """A curve's rate and phase at a glance (:func:`phase_text`)."""
    return f"{rate_text(fit['rate'])} per step ({phase_text(fit, memory, seq_len)})"


def _glance_horizon(fit: Any) -> str:
    """A curve's horizon at a glance; where too few lags were measured to fit a rate, why, and
    how to measure more: "> 0 steps" alone was true and said nothing to act on."""
    few = too_few_lags(fit)
    text = fit_horizon_text(fit)
    return f"{text} ({few}; {LONGER_SEQUENCE})" if few else text


def _lyapunov_text(value: float | None) -> str:
    if value is None:
        return "not measured"
    if math.isnan(value):
        return "undefined (the forward pass overflowed)"
    if math.isinf(value):
        return "−∞ (every perturbation is annihilated exactly)" if value < 0 else "+∞"
    return f"{rate_text(value)} per step (×{factor_per_step(value)} per step)"


def curves_section(view: RunView) -> Section | None:
    """log10 ||J|| against the lag for every layer's state and the input, with fitted lines."""
    r = view.results
    order = curve_order(r)
    if not order:
        return None
    layers = num_layers(view)
    fits = curve_fits(view)
    legend = tuple(curve_label(s, layer, layers) for s, layer in order)
    state_curves, input_curves = [], []
    for style, (source, layer) in enumerate(order):
        rows = r[curve_mask(r, source, layer)]
        curves = [measured_curve(rows, style, legend[style])]
        line = fitted_line(find_fit(fits, source, layer), style)
        if line is not None:
            curves.append(line)
        (state_curves if source == "state" else input_curves).extend(curves)
    panels = []
    if state_curves:
        title = "state: " + _state_j(view, "l" if layers > 1 else None)
        panels.append(LinePanel(0, 0, title, tuple(state_curves)))
    if input_curves:
        panels.append(LinePanel(0, len(panels), f"input: {_INPUT_J}", tuple(input_curves)))
    floors = any(len(c.floor_x) for p in panels for c in p.curves)
    grid = LineGrid(
        title="Decay of the Jacobians, per layer and source",
        caption=(
            "The log10 Frobenius norm of the Jacobian of the top layer's last state h_T "
            + (f"({LSTM_STATE}) " if architecture(view).get("kind") == "lstm" else "")
            + (
                "against each layer l's state k steps earlier (one line per layer) "
                if layers > 1
                else "against its state k steps earlier "
            )
            + "and against the input k steps earlier, "
            + (
                "of the one sample (batch 1): no band."
                if view.one_sample
                else "mean over the samples; the band is ±1 standard deviation across them."
                + hidden_band_note(panels)
            )
            + " A straight falling line is exponential vanishing "
            f"(its slope is the decay rate), a rising one explosion{_growing_note(view, order)}"
            ". Dashed: the "
            f"{FITTED_LABEL.split(' (')[0]} over the lags it was fitted on, hidden under the "
            "measured line where the two agree (r² near 1"
            + (f"; see {FITS.title})." if view.shows(FITS.key) else ").")
            + (ZERO_FLOOR_NOTE if floors else "")
        ),
        nrows=1,
        ncols=len(panels),
        panels=tuple(panels),
        xlabel=LAG_LABEL,
        ylabel=LOG_NORM_LABEL,
        legend_title="Jacobian",
        legend=legend,
    )
    return Section(
        CURVES.key,
        CURVES.title,
        "How fast the influence of an earlier hidden state, or of an earlier input, on the "
        "last hidden state fades (or grows) with the distance k between them.",
        (grid,),
    )


def _growing_note(view: RunView, order: list[tuple[str, int | None]]) -> str:
    """The curves that rise and that the verdict reads as growing over the lags measured alone
    (:func:`.settling.growing_only`), in the figure's caption: an LSTM of forget-gate bias +4 at
    T = 50 was said to explode there, beside a verdict that read its state as still filling
    and asked for T = 280 first. "" where none is."""
    model = model_record(view)
    memory, seq_len = gate_memory(model), _seq_len(model)
    if seq_len is None:
        return ""
    fits, layers = curve_fits(view), num_layers(view)
    rising = [
        curve_label(source, layer, layers)
        for source, layer in order
        if (fit := find_fit(fits, source, layer)) is not None and growing_only(fit, memory, seq_len)
    ]
    if not rising:
        return ""
    return (
        f"; the rising curves here ({'; '.join(rising)}) are read as growing over the lags "
        "measured alone, not as explosion, as the verdict above reads them"
        if len(rising) > 1
        else f"; the rising {rising[0]} curve here is read as growing over the lags measured "
        "alone, not as explosion, as the verdict above reads it"
    )


def _fit_lags(fit: Any) -> str:
    """The lags one fit row's rate was fitted on (:func:`~vanishlab.analysis.fits.fitted_end`;
    its zero_lag may be NA), or "—" where its rate is not finite and nothing was fitted (−∞:
    exactly 0 too soon; NaN: a window of one lag), as the sweep report's rates table reads."""
    if not math.isfinite(float(fit["rate"])):
        return "—"
    zero = fit["zero_lag"]
    end = int(fitted_end(fit["rate"], fit["lag_end"], math.inf if pd.isna(zero) else zero))
    return f"{int(fit['lag_start'])}–{end}"


def fits_section(view: RunView) -> Section | None:
    """Rates (Frobenius and spectral norm), fit quality, window, horizon and phase per curve."""
    fits = curve_fits(view)
    spec = curve_fits(view, norm="spec")
    order = curve_order(view.results)
    if not order or not len(fits):
        return None
    layers = num_layers(view)
    model = model_record(view)
    memory, seq_len = gate_memory(model), _seq_len(model)
    rows = []
    for source, layer in order:
        f = find_fit(fits, source, layer)
        if f is None:
            continue
        s = find_fit(spec, source, layer)
        rows.append(
            (
                curve_label(source, layer, layers),
                _jacobian_text(view, source, layer, layers),
                rate_text(float(f["rate"])),
                rate_text(float(s["rate"])) if s is not None else "—",
                r2_text(float(f["r2"])),
                _fit_lags(f),
                fit_horizon_text(f, word=None),
                phase_text(f, memory, seq_len),  # as "At a glance" and the verdict read it
                str(f["note"] or ""),
            )
        )
    table = Table(
        "Rates and horizons per curve",
        "Rate: the least-squares slope of ln ||J|| against the lag k over the fit window (the "
        "last three quarters of the lags, skipping the transient), in natural log per step, "
        "for the Frobenius norm (the figure's) and the spectral norm; r² and fit lags: of the "
        "Frobenius fit ('—' where its rate is not finite: nothing was fitted). "
        f"Horizon: {HORIZON_MEANING} ('> n': it never is by lag n, the last measured; "
        f"{HORIZON_AT_ZERO}). "
        "Phase: vanishing below −0.01 per step, exploding above +0.01, else stable"
        + (
            f"; {GROWING_ONLY}: above +0.01, not read as explosion but, as the page's verdict "
            f"reads it, as {growing_only_rule('the sequence')}"
            if any(GROWING_ONLY in row[7] for row in rows)
            else ""
        )
        + (
            f"; {NO_PHASE}: a rate between those whose fit is not one to read a phase from "
            "(why after the colon), as the page's verdict says"
            if any(row[7].startswith(NO_PHASE) for row in rows)
            else ""
        )
        + ". These are vl.fit_decay of the curves of the figure.",
        (
            "Jacobian",
            "J",
            "rate (Frobenius)",
            "rate (spectral)",
            "r²",
            "fit lags",
            "horizon",
            "phase",
            "note",
        ),
        tuple(rows),
        (False, False, True, True, True, True, True, False, False),
        detail=8,
        nowrap=(6,),  # the horizon: "1 (exact 0)" broke after its number
    )
    return Section(
        FITS.key,
        FITS.title,
        "One number per curve: how many natural-log units the gradient norm loses (or gains) "
        "per step back in time, and how many steps until it is 1000 times smaller.",
        (table,),
    )


def _jacobian_text(view: RunView, source: str, layer: int | None, layers: int) -> str:
    """The Jacobian of a curve in symbols (the layer shown only in a stack)."""
    if source != "state":
        return _INPUT_J
    return _state_j(view, layer if layers > 1 else None)


def lyapunov_section(view: RunView) -> Section:
    """The top Lyapunov exponent along the inputs, beside the top layer's state rate."""
    model = model_record(view)
    lyap = read_json_number(model.get("lyapunov"))
    top = find_fit(curve_fits(view), "state", _top_layer(view))
    items = [(LYAPUNOV_LABEL, _lyapunov_text(lyap))]
    T = _seq_len(model)
    averaged = averaged_steps(T) if T is not None else None
    if lyap is not None and averaged is not None:
        items.append(("averaged over", f"the last {plural(averaged, 'step')} of T = {T}"))
    if lyap is not None and math.isfinite(lyap) and lyap != 0:
        what = "shrinks" if lyap < 0 else "grows"
        steps = fold_steps(lyap)
        beyond = averaged is not None and steps > averaged
        # not continued where the verdict reads the state's growth as it filling from its start
        # (the long-dependency table's words): +0.008 at T = 50 read "815 steps (extrapolated
        # beyond the 38 steps averaged)", and T = 280 measured +0.002
        gates = page_gates(architecture(view), gate_memory(model), view.results)
        filling = (
            settling_reason(top, gates, T, MEASURE_SEQ_LEN) if beyond and top is not None else None
        )
        said = (
            f"— (not extrapolated: {filling})"
            if filling
            else f"{count_text(steps)} steps"
            + (f" (extrapolated beyond the {plural(averaged, 'step')} averaged)" if beyond else "")
        )
        items.append((f"a perturbation {what} {HORIZON_FOLD} in", said))
    if top is not None:
        layers = num_layers(view)
        name = curve_label("state", _top_layer(view), layers)
        items.append((f"decay rate, {name} (spectral norm)", _spectral_rate(view)))
        items.append((f"decay rate, {name} (Frobenius norm)", rate_text(float(top["rate"]))))
    arch = architecture(view)
    state = "every layer's hidden state" + (" and cell state" if arch.get("kind") == "lstm" else "")
    return Section(
        LYAPUNOV.key,
        LYAPUNOV.title,
        f"λ₁ is the average exponential growth rate, per step, of the largest perturbation of "
        f"the whole state ({state}) as the model runs along these inputs: one random direction "
        "followed through the exact one-step Jacobians with renormalisation, the first quarter "
        "of the steps discarded as a transient (none of a single step), averaged over the "
        "samples. Like the rates, it "
        "is in natural log per step; it governs the spectral norm of the full-state Jacobian "
        "over long spans, while a fitted rate describes one (source, layer) curve over the "
        "lags measured, so the two agree only as far as the lags are long and the top layer "
        "carries the slowest direction.",
        (KeyValues("Top Lyapunov exponent", tuple(items)),),
    )


def _spectral_rate(view: RunView) -> str:
    spec = find_fit(curve_fits(view, norm="spec"), "state", _top_layer(view))
    return rate_text(float(spec["rate"])) if spec is not None else "—"
