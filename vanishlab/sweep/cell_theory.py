"""The theory of one sweep cell: its top Lyapunov exponent, ln rho and the Pascanu check, and
the prediction that applies to it (linear at the origin, the mean field off it, none for a
gated cell), with the flags and notes that say where theory is not expected to hold.

:mod:`vanishlab.sweep.cell_summary` puts these into the cell's summary row beside what was
measured; its docstring says what each column means.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..analysis.linear import (
    FIXED_POINT_STEPS,
    SETTLED_DISTANCE,
    fixed_point_rates,
    linear_rate,
)
from ..analysis.lyapunov_window import discarded_steps
from ..analysis.pascanu import pascanu_bound, pascanu_holds
from ..core.cells import RNN_THEORY_MODELS, STATE_WIDTH
from ..core.lyapunov import lyapunov_spectrum
from ..core.seeds import seeded_generator
from ..errors import NonFiniteStateError
from .cell import cell_inputs, cell_module, pinned_numerics
from .config import CellConfig
from .critical import critical_gain, lower_layer_diverges, relu_divergence
from .prediction import (
    GATED_NOTE,
    GATED_REASON,
    cell_mean_field,
    mean_field_inputs,
    no_prediction_note,
)
from .summary_fields import NARROW_LIVE_UNITS, NARROW_WIDTH, NEAR_CRITICAL, SHORT_SEQ_LEN

__all__ = ["cell_predictions"]


def _scaled_orthogonal(rnn: nn.RNN) -> bool:
    """Whether the (one-layer) cell's W_hh is c Q with Q orthogonal, to float32 rounding
    (orthogonal and identity inits): then ||W_hh^k|| = c^k ||I|| and its slope is ln c = ln rho
    at every lag."""
    w = rnn.weight_hh_l0.detach().to(torch.float64)
    gram = w.T @ w
    c = float(gram.diagonal().mean())
    eye = torch.eye(len(gram), dtype=torch.float64)
    return bool(torch.allclose(gram, c * eye, rtol=0.0, atol=1e-5 * c))


def cell_predictions(
    config: CellConfig,
    cell_rows: pd.DataFrame | None,
    rnn: nn.RNN | None,
    x: torch.Tensor | None,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The cell's Lyapunov exponent, ln rho, Pascanu check and predictions (the module and
    inputs rebuilt as :func:`vanishlab.run_cell` builds them when not given)."""
    out: dict[str, Any] = {}
    flags: list[str] = []
    notes: list[str] = []
    L, T = config.num_layers, config.seq_len
    model = config.model
    with pinned_numerics(), torch.no_grad():
        if rnn is None:
            rnn = cell_module(config)
        if x is None:
            x = cell_inputs(config)
        if model in RNN_THEORY_MODELS:
            ln_rho = [linear_rate(rnn, layer=l) for l in range(L)]
            out["ln_rho"] = ln_rho[-1]
            out["pascanu_slope"] = pascanu_bound(rnn, L - 1)
            if cell_rows is not None and len(cell_rows):
                out["pascanu_ok"] = pascanu_holds(rnn, cell_rows, seq_len=T)
        discard = discarded_steps(T)
        # A random start: the standard basis vector e_1 is not generic (a diagonal Jacobian,
        # identity weights, would keep it on unit 1 forever instead of the top direction).
        # An LSTM's state is [h | c] per layer: dimension 2 L H.
        width = STATE_WIDTH[model] * L * config.hidden_size
        q0 = torch.randn(
            width, 1, generator=seeded_generator(config.seed, "lyapunov"), dtype=torch.float32
        )
        try:
            lyap = lyapunov_spectrum(rnn, x, k=1, discard=discard, q0=q0)  # (B, 1) float64
        except NonFiniteStateError:
            out["lyapunov"] = math.nan
        else:
            out["lyapunov"] = float(lyap[:, 0].mean())
        biases_zero = not config.bias or all(
            not bool(getattr(rnn, f"bias_{kind}_l{l}").any())
            for l in range(L)
            for kind in ("ih", "hh")
        )
    if model not in RNN_THEORY_MODELS:  # ln rho, Pascanu, the mean field: none for gates
        out["mf_validity"], out["mf_reason"] = "none", GATED_REASON
        out["predicted_by"] = "none"
        flags.append("no-theory")
        notes.append(GATED_NOTE)
        return out, flags, notes
    # A task cell's inputs are the task's, whatever input_std says: never at the origin.
    origin = config.input_std == 0.0 and biases_zero and config.task == "none"

    cfg = config.to_dict()
    mfi = mean_field_inputs(cfg, layer=L - 1)
    out["mf_validity"], out["mf_reason"] = mfi.validity, mfi.reason
    if origin and mfi.validity not in ("origin",):
        # An init without variances (identity) at the origin: still the linear regime.
        out["mf_validity"] = "origin"
        out["mf_reason"] = (
            "no input and every bias zero: the state stays at h = 0, where the linear regime "
            f"applies ({mfi.reason})"
        )
    if origin:
        out["predicted_by"] = "linear"
        if config.activation == "relu":
            out["predicted_rate"] = out["predicted_rate_layer0"] = -math.inf
            notes.append(
                "At the origin relu′(0) = 0: every Jacobian past lag 0 is exactly zero (rate "
                "−∞, predicted and measured)."
            )
        else:
            out["predicted_rate"] = ln_rho[-1]
            out["predicted_rate_layer0"] = max(ln_rho)
            # ln rho is the rate as k -> infinity: a fit at finite lags reaches it only as the
            # other eigenvalues' share dies out, except where every lag is exact (one layer,
            # W_hh a multiple of an orthogonal matrix: ||W^k|| = c^k ||I||). Width is no
            # flag here: ln rho is the drawn matrix's own, at any width.
            if config.seq_len < SHORT_SEQ_LEN and not (L == 1 and _scaled_orthogonal(rnn)):
                flags.append("short")
            if L > 1:
                notes.append(
                    "A stack at the origin: layer 0's rows and the Lyapunov exponent sum paths "
                    "through the layers, which adds an O(1/k) excess over max ln ρ at finite "
                    "lags."
                )
        return out, flags, notes

    mfs = [cell_mean_field(cfg, layer=l) for l in range(L)]
    top = mfs[-1]
    if top is not None:
        out["mf_rate"], out["mf_chi1"], out["mf_q_star"] = top.rate, top.chi_1, top.q_star
        out["mf_critical_gain"] = critical_gain(config)
    # No input but biases: the state leaves the origin for a fixed point h* where, once it
    # has settled, every step's factor is D* W_hh, and ln rho(D* W_hh) of the drawn network is
    # the rate at any width; the mean field is only its H -> infinity limit, +0.037 off at
    # H = 256 (tanh, default init, gain 1.5: ln rho sits at the edge of the eigenvalue disc).
    undriven = config.input_std == 0.0 and config.task == "none"
    settling: list[int | None] = []  # the steps its state takes to get there from h0 = 0
    steps = max(FIXED_POINT_STEPS, discard)
    settled = fixed_point_rates(rnn, steps, settling=settling) if undriven else None
    if undriven and settled is None:
        # Said, where the mean field (or nothing) is predicted in its place without a word: a
        # relu cell at H = 64 (gain 2, seed 1) cycles with period 2, 0.19 above the mean field.
        notes.append(
            "No input: the biases move the state from the origin, but it settles at no stable "
            "fixed point (it cycles, is chaotic or grows), so ln ρ(D* W_hh) does not apply."
        )
    if settled is not None:
        out["predicted_by"] = "linear"
        out["predicted_rate"] = settled[-1]
        out["predicted_rate_layer0"] = max(settled)
        notes.append(
            "No input: the biases move the state from the origin to a fixed point h*, where "
            "J(k) = (D* W_hh)^k with D* = diag(act′(a*)); the prediction is ln ρ(D* W_hh) of "
            "the drawn weights (the mean field's ½ ln χ₁ is only its limit as H → ∞)."
        )
        took = settling[0]
        if config.seq_len < SHORT_SEQ_LEN or took is None or took > discard:
            flags.append("short")
        if config.seq_len >= SHORT_SEQ_LEN and (took is None or took > discard):
            # The fit's window reaches back to the start: its slope measures the approach
            # too (tanh, gain 2, H = 64, seed 5 took 129 steps: 0.138 off at T = 100).
            notes.append(
                (
                    f"The state came within {SETTLED_DISTANCE:g} of h* in every unit only after "
                    f"{took} steps"
                    if took is not None
                    else f"The state was not within {SETTLED_DISTANCE:g} of h* in every unit "
                    f"after {steps} steps"
                )
                + f", past the first quarter of T = {T}: the fit window and the Lyapunov "
                "average include its approach, where the factors are not yet D* W_hh."
            )
        if L > 1:
            notes.append(
                "A stack at a fixed point: layer 0's rows and the Lyapunov exponent sum paths "
                "through the layers, which adds an O(1/k) excess over max ln ρ at finite lags."
            )
        return out, flags, notes
    if any(m is None for m in mfs):
        out["predicted_by"] = "none"
        if mfi.validity in ("none", "origin"):
            flags.append("no-theory")
            notes.append(no_prediction_note(mfi.reason))
        else:
            flags += ["no-theory", "diverges"]
            notes.append(no_prediction_note(lower_layer_diverges(config)))
        return out, flags, notes
    assert top is not None
    out["predicted_by"] = "mean field"
    out["predicted_rate"] = top.rate
    out["predicted_rate_layer0"] = max(m.rate for m in mfs if m is not None)
    if any(m.diverges for m in mfs if m is not None):
        flags.append("diverges")
        notes.append(
            f"{relu_divergence(config)}, and a drive: q has no fixed point, the activity "
            f"grows until it overflows; χ₁ = {top.chi_1:.4g} still describes the Jacobians."
        )
    if abs(top.rate) < NEAR_CRITICAL:
        flags.append("near-critical")
    if mfi.validity == "approximate":
        flags.append("non-iid")
    live = min(m.live_fraction for m in mfs if m is not None)  # saturated tanh: few units
    if config.hidden_size < NARROW_WIDTH or config.hidden_size * live < NARROW_LIVE_UNITS:
        flags.append("narrow")
    if config.seq_len < SHORT_SEQ_LEN:
        flags.append("short")
    return out, flags, notes
