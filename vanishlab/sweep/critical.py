"""The critical gain of a sweep cell: :func:`critical_gain`, the smallest gain at which the
mean-field rate of its configuration reaches 0, the edge between vanishing and exploding
gradients (docs/theory.md); :func:`mean_field_rate_curve`, that rate over a range of gains;
and a relu cell's divergence said with the gain from which its init reaches it.

The mean field of one cell at one gain is :func:`vanishlab.sweep.prediction.cell_mean_field`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, SupportsIndex

import numpy as np

from .config import CellConfig
from .inits import INITS
from .prediction import MEAN_FIELD_AXES, cell_mean_field, cell_size, cell_value, checked_model
from .summary_fields import RELU_DIVERGES

if TYPE_CHECKING:  # pandas is imported when a row of a frame is given (critical_gain)
    import pandas as pd

__all__ = [
    "MAX_CRITICAL_GAIN",
    "critical_gain",
    "lower_layer_diverges",
    "mean_field_rate_curve",
    "relu_divergence",
]

MAX_CRITICAL_GAIN = 100.0
""":func:`critical_gain` searches gains up to this value."""


def relu_divergence(cell: Mapping[str, Any] | CellConfig) -> str:
    """When a relu cell's activity diverges, in words: :data:`RELU_DIVERGES` (chi_1 ≥ 1) and
    the gain from which the cell's init reaches it, its :func:`critical_gain`: for relu the
    rate 0.5 ln chi_1 reaches 0 exactly where the mean field says it diverges (in a stack,
    where a layer below does). Not gain² ≥ 2 for every init: ``default`` (variance
    gain²/(3H)) from gain sqrt(6), ``kaiming`` (2 gain²/H) from 1."""
    gain = critical_gain(cell)
    if not math.isfinite(gain):
        return RELU_DIVERGES
    return f"{RELU_DIVERGES}, which init {cell_value(cell, 'init')!r} reaches at gain {gain:.4g}"


def lower_layer_diverges(cell: Mapping[str, Any] | CellConfig) -> str:
    """Why a stack's cell has no prediction where a layer below the top has no mean field."""
    return (
        f"a lower layer diverges ({relu_divergence(cell)}), so the layers above have no "
        "finite drive"
    )


def _mf_rate_at(config: Mapping[str, Any], gain: float, layer: int) -> float:
    mf = cell_mean_field({**config, "gain": gain}, layer=layer)
    return math.nan if mf is None else mf.rate


class _Same:
    """A cache key that is one object itself (by identity, which an ``Init`` holding a list
    cannot be hashed by), and keeps it alive while cached, so that its id is not reused."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj


@lru_cache(maxsize=1024)
def _critical_gain(items: tuple[tuple[str, Any], ...], layer: int, entry: _Same) -> float:
    """The search, cached by the config, the layer and the init's registry ``entry`` (an init
    replaced by ``register_init(..., replace=True)`` gave the old entry's gain)."""
    config = dict(items)

    def exploding(g: float) -> bool:
        # No prediction at a gain where one applied below it: a lower relu layer diverges
        # (chi_1 = g_mf^2 / 2 >= 1, which for relu is also where the rate reaches 0).
        r = _mf_rate_at(config, g, layer)
        return math.isnan(r) or r >= 0

    # A coarse geometric scan for the first sign change, then bisection (the rate grows with
    # the gain over the scanned range for every built-in init; the scan does not rely on it).
    grid = np.geomspace(0.02, MAX_CRITICAL_GAIN, 49)
    if math.isnan(_mf_rate_at(config, float(grid[0]), layer)):
        return math.nan  # the mean field does not apply to this configuration at all
    lo = 0.0
    for g in grid:
        if exploding(float(g)):
            hi = float(g)
            for _ in range(48):
                mid = 0.5 * (lo + hi)
                if exploding(mid):
                    hi = mid
                else:
                    lo = mid
            return hi
        lo = float(g)
    return math.inf


def critical_gain(
    cell: Mapping[str, Any] | CellConfig | pd.Series, *, layer: int | SupportsIndex | None = None
) -> float:
    """The smallest gain at which the mean-field rate of this configuration reaches 0.

    Every other axis of ``cell`` is held fixed and the gain varied (the gain scales W_hh only,
    so the input drive stays fixed; :data:`vanishlab.sweep.inits.GAIN_RULE`). The critical
    point chi_1 = 1 of :func:`vanishlab.mean_field`: relu with ``normal`` weights at sqrt(2)
    (no edge of chaos: past it the activity diverges), driven tanh above 1 (its edge of chaos;
    input noise suppresses chaos). An undriven cell (no input and no bias)
    stays at the origin, where the linear regime applies instead: NaN (the mean field's own
    undriven tanh is critical at 1, :func:`vanishlab.mean_field`).

    Args:
        cell: a cell config: a dict, a :class:`~vanishlab.sweep.config.CellConfig`, or a row
            of a frame of settings (a pandas Series, as
            :func:`.prediction.mean_field_inputs` takes it).
            Keys the mean field does not read (``seed``, a column of one's own) are ignored.
        layer: which layer's recurrence (default: the top one, ``num_layers - 1``).

    Returns:
        The gain (to about 1e-12 relative), ``inf`` when the rate stays below 0 up to a gain of
        100, NaN when the mean field does not apply (:func:`vanishlab.cell_mean_field` is None:
        an LSTM or GRU, identity weights, a cell at the origin, a task cell told no drive).
        A summary row's NaN ``mf_critical_gain`` has ``mf_validity`` "none" or "origin" and
        ``mf_reason`` saying why; a report draws no critical gain for it.
    """
    if isinstance(cell, CellConfig):
        config = cell.to_dict()
    elif isinstance(cell, Mapping):
        config = dict(cell)
    else:
        # A row of the user's frame of settings (df.iloc[i], df.iterrows()) was refused, where
        # mean_field_inputs and cell_mean_field take it. pandas is imported only for this.
        import pandas as pd

        if not isinstance(cell, pd.Series):
            raise TypeError(
                "cell must be a dict, a CellConfig or a pandas Series (a row of a frame of "
                f"settings), got {type(cell).__name__}"
            )
        config = cell.to_dict()
    if layer is None:
        layer = cell_size(config, "num_layers", 1) - 1
    layer = checked_model(config, layer)[1]  # a mistake: raised here, not in the cached search
    # The search's config and cache key: the axes the mean field reads, so a gain or seed of
    # its own caches across them, and a column the mean field ignores (a list of notes) is
    # ignored here too, where hashing it failed ("unhashable type: 'list'").
    items = tuple((k, config[k]) for k in MEAN_FIELD_AXES if k in config)
    for key, value in items:
        try:
            hash(value)
        except TypeError:
            raise TypeError(
                f"{key} must be a string, a number or a bool, got {type(value).__name__} "
                f"{value!r:.60}"
            ) from None
    entry = _Same(INITS.get(str(config.get("init"))))
    return _critical_gain(items, layer, entry)


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
    if layer is None:  # as critical_gain reads it (int(nan) failed in Python's words)
        layer = cell_size(config, "num_layers", 1) - 1
    out = np.full(len(gains), math.nan)
    for i, g in enumerate(np.asarray(gains, dtype=np.float64)):
        mf = cell_mean_field({**config, "gain": float(g)}, layer=layer)
        if mf is not None:
            out[i] = mf.rate
    return out
