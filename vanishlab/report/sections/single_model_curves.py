"""The sections of a single model's page (``vanishlab analyze``) that show its curves (the model
and λ₁: :mod:`.single_model`).

- **curves**: log10 ||J|| against the lag k for every layer's state and for the input, each
  with its fitted line over the fit window;
- **fits**: per curve, :func:`vanishlab.fit_decay`'s rate (natural log per step, for the
  Frobenius and the spectral norm), r², fit window, horizon and phase.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pandas as pd

from ...analysis.fits import fitted_end
from ...sweep.section_names import CURVES, FITS
from ..format import LAG_LABEL, LOG_NORM_LABEL, r2_text, rate_text
from ..line_marks import open_shape_note
from ..line_style import hidden_band_note
from ..model import LineGrid, LinePanel, Section, Table
from ..view import LSTM_STATE, RunView, state_jacobian
from .settling import (
    GROWING_ONLY,
    NO_PHASE,
    gate_memory,
    growing_only,
    growing_only_rule,
    phase_text,
)
from .trained import (
    FITTED_LABEL,
    HORIZON_AT_ZERO,
    HORIZON_MEANING,
    ZERO_FLOOR_NOTE,
    architecture,
    curve_fits,
    curve_label,
    curve_mask,
    curve_order,
    find_fit,
    fit_horizon_text,
    fitted_line,
    inputs_seq_len,
    measured_curve,
    model_record,
    num_layers,
)

__all__ = ["curves_section", "fits_section"]

_INPUT_J = "dh_T/dx_{T−k}"


def _state_j(view: RunView, layer: int | str | None = "l") -> str:
    """The state Jacobian in symbols: d h_T / d s_{T-k}, with s = h, or [h | c] for an LSTM
    (the state it carries); the layer shown in a stack (``layer`` None: one layer)."""
    lstm = architecture(view).get("kind") == "lstm"
    return state_jacobian(lstm, "" if layer is None else str(layer))


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
        caption="",
        nrows=1,
        ncols=len(panels),
        panels=tuple(panels),
        xlabel=LAG_LABEL,
        ylabel=LOG_NORM_LABEL,
        legend_title="Jacobian",
        legend=legend,
    )
    grid = replace(
        grid,
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
            # the open shapes at its ends (the fit window's), in the words of every figure
            + open_shape_note(grid, "at the ends of the lags it was fitted on")
            + (ZERO_FLOOR_NOTE if floors else "")
        ),
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
    memory, seq_len = gate_memory(model), inputs_seq_len(model)
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
    memory, seq_len = gate_memory(model), inputs_seq_len(model)
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
