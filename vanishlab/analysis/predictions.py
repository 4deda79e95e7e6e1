"""Predicted decay rates along a grid of gains, for plotting theory as a smooth line.

For a sweep cell's configuration c and gains g_1 < ... < g_n, :func:`mean_field_rate_curve`
returns the mean field's predicted rate ½ ln χ₁(g_i) of the cell's top layer (or of a chosen
layer) with every other setting of c held fixed: the same
:func:`vanishlab.analysis.theory.cell_mean_field` that predicts each measured cell, evaluated
at gains between the measured ones. Where the mean field does not apply (the linear regime at
the origin, a diverging relu layer below) the value is NaN, so a plotted line breaks there.
Pure: no torch, no state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .theory import cell_mean_field

__all__ = ["mean_field_rate_curve"]


def mean_field_rate_curve(
    config: Mapping[str, Any], gains: np.ndarray, *, layer: int | None = None
) -> np.ndarray:
    """The mean field's predicted rate (ln per step) of ``config`` at each gain in ``gains``.

    Args:
        config: a cell's configuration (axis name -> value); its own ``gain`` is ignored.
        gains: the gains at which to predict (1-D).
        layer: the layer whose rate is predicted; default the top one (``num_layers - 1``).

    Returns:
        float64 array shaped like ``gains``; NaN where the mean field does not apply.
    """
    if layer is None:
        layer = int(config.get("num_layers") or 1) - 1
    out = np.full(len(gains), math.nan)
    for i, g in enumerate(np.asarray(gains, dtype=np.float64)):
        mf = cell_mean_field({**config, "gain": float(g)}, layer=layer)
        if mf is not None:
            out[i] = mf.rate
    return out
