"""The predicted lines of the Theory vs measurement section's gain figure: each kind of
prediction drawn over the settings where it predicts some seed.

A setting's seeds may have different kinds (an undriven cell with biases settles at a fixed
point in some seeds, predicted ln ρ(D* W_hh), and at none in others, which have the mean
field): the mean field's smooth line is drawn over the gains where it predicts some seed, the
linear regime's points at the mean of its own seeds' predictions, and the caption names the
mixed settings (:data:`MIXED_FIGURE_NOTE`, :func:`seed_kinds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...sweep.critical import mean_field_rate_curve
from ...sweep.inits import INITS
from ..model import Curve
from ..predicted import BY, KIND_COLUMNS

__all__ = ["MEAN_FIELD_POINTS", "MIXED_FIGURE_NOTE", "predicted_line", "seed_kinds"]


MEAN_FIELD_POINTS = 25  # gains at which the smooth mean-field line is evaluated


def _runs(of: np.ndarray) -> list[tuple[int, int]]:
    """The first and last index of each run of consecutive True in ``of``."""
    out: list[tuple[int, int]] = []
    for i, v in enumerate(of):
        if v and out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        elif v:
            out.append((i, i))
    return out


def predicted_line(rows: pd.DataFrame, style: int) -> list[Curve]:
    """The predicted rate against the gain for one line (its settings in gain order): a
    smooth mean-field curve, or the linear-regime points, each only over the settings where
    it predicts some seed; both where the line's seeds have both (an undriven cell with
    biases that settles at no stable fixed point in some seeds has the mean field there)."""
    gains = rows["gain"].to_numpy(dtype=np.float64)
    config = dict(rows["_config"].iloc[0])
    curves: list[Curve] = []
    mf = rows["n_mean_field"].to_numpy() > 0
    linear_only = ~mf & (rows["n_linear"].to_numpy() > 0)
    if mf.any() and str(config.get("init")) in INITS:
        # Across every gain of the line where no setting is the linear regime's alone (one
        # with no prediction, past a lower layer's divergence, does not cut the curve).
        if not linear_only.any():
            grid = np.linspace(gains.min(), gains.max(), MEAN_FIELD_POINTS)
            y = mean_field_rate_curve(config, grid)
        else:  # over each run of settings with mean-field seeds, apart; a lone gain a point
            pieces = [
                np.linspace(gains[a], gains[b], MEAN_FIELD_POINTS) if b > a else gains[a : a + 1]
                for a, b in _runs(mf)
            ]
            grid = np.concatenate([np.append(g, np.nan) for g in pieces])[:-1]
            y = np.full(len(grid), np.nan)
            known = np.isfinite(grid)
            y[known] = mean_field_rate_curve(config, grid[known])
        curves.append(Curve(f"predicted: {BY['mean field']}", style, grid, y, reference=True))
    elif mf.any():
        # The predictions stored with the cells, at their gains: the mean field's for an init
        # registered where the run was measured and not in this process (its variances are
        # unknown here; it raised "unknown init" from every report of such a run).
        curves += _stored_points(rows, "mean field", style)
    return curves + _stored_points(rows, "linear", style)


def _stored_points(rows: pd.DataFrame, kind: str, style: int) -> list[Curve]:
    """The mean prediction of each setting's seeds of ``kind``, at its gain (a gap where none
    is of that kind, or its prediction is not finite: relu at the origin, −∞)."""
    column = KIND_COLUMNS[kind]
    pred = rows[f"predicted_{column}"].to_numpy(dtype=np.float64)
    y = np.where(np.isfinite(pred) & (rows[f"n_{column}"].to_numpy() > 0), pred, np.nan)
    if not np.isfinite(y).any():
        return []
    gains = rows["gain"].to_numpy(dtype=np.float64)
    return [Curve(f"predicted: {BY[kind]}", style, gains, y, reference=True)]


#: Said where some setting of the figure has seeds of different theories (an undriven cell
#: with biases that settles at a fixed point in some seeds and at none in others): which, and
#: what each dashed line is of there.
MIXED_FIGURE_NOTE = (
    " The seeds of {settings} are predicted by different theories (a seed whose state settles "
    "at no stable fixed point has the mean field in place of ln ρ(D* W_hh)): there the mean "
    "field's line is the prediction of its seeds only, the linear regime's point the mean of "
    "the other seeds' ln ρ(D* W_hh), and the measured point the mean of every seed."
)


def seed_kinds(rec: dict[str, Any]) -> str:
    """A mixed setting's seeds by theory, for a caption: "6 of 8 by ln ρ(D* W_hh), 2 by the
    mean field"."""
    n = int(rec["n_linear"] + rec["n_mean_field"] + rec["n_none"])
    words = (
        (int(rec["n_linear"]), "by ln ρ(D* W_hh)"),
        (int(rec["n_mean_field"]), "by the mean field"),
        (int(rec["n_none"]), "with no prediction"),
    )
    said = [f"{k} {w}" for k, w in words if k]
    return ", ".join([said[0].replace(" ", f" of {n} ", 1), *said[1:]])
