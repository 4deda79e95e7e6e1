"""The sections of a single model's page (``vanishlab analyze``) that say what was measured and
the numbers that sum it up (its curves and their fits: :mod:`.single_model_curves`).

- **model**: the checkpoint (path, SHA-256, the module's key prefix), the architecture read
  from its weights, the inputs, the measurement's status and time, and the headline numbers
  (the versions and the command to measure it again close the page: :mod:`.provenance`);
- **lyapunov**: the top Lyapunov exponent λ₁ along the same inputs, beside the rates.

The rates and λ₁ share one unit, d ln / d step, so they compare directly: λ₁ is the long-lag
growth rate of the largest perturbation of the whole hidden state (every layer, and an LSTM's
cell state), e^{λ₁} the factor it is multiplied by per step on average.
"""

from __future__ import annotations

import math
from typing import Any

from ...analysis.fits import fold_steps
from ...analysis.lyapunov_window import averaged_steps
from ...sweep.manifest import read_json_number
from ...sweep.progress import plural
from ...sweep.section_names import LYAPUNOV, MODEL
from ..format import LYAPUNOV_LABEL, count_text, factor_per_step, format_value, rate_text, time_text
from ..model import KeyValues, Section
from ..view import RunView
from .rate_cells import HORIZON_FOLD
from .settling import gate_memory, page_gates, phase_text, settling_reason
from .trained import (
    HORIZON_AT_ZERO,
    LONGER_SEQUENCE,
    MEASURE_SEQ_LEN,
    architecture,
    architecture_items,
    at_zero,
    curve_fits,
    curve_label,
    find_fit,
    fit_horizon_text,
    inputs_seq_len,
    model_record,
    num_layers,
    seconds_text,
    shape_text,
    too_few_lags,
    zero_throughout,
)

__all__ = ["lyapunov_section", "model_section"]


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
    memory, seq_len = gate_memory(model), inputs_seq_len(model)
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


def lyapunov_section(view: RunView) -> Section:
    """The top Lyapunov exponent along the inputs, beside the top layer's state rate."""
    model = model_record(view)
    lyap = read_json_number(model.get("lyapunov"))
    top = find_fit(curve_fits(view), "state", _top_layer(view))
    items = [(LYAPUNOV_LABEL, _lyapunov_text(lyap))]
    T = inputs_seq_len(model)
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
