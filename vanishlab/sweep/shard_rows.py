"""What a shard's rows may hold, checked where it is written and where it is read.

A shard's checksums are SHA-256 digests that anyone can compute again: they tell damaged bytes,
not a file made or edited by hand (a run directory sent to a user). Its rows are those of
:func:`~vanishlab.sweep.cell.aggregate_samples`: per (source, layer, lag) once, the inputs at
lags 0 to T - 1, each layer's state at lags 0 to T (T the cell's ``seq_len``), a log10 mean
that is finite or -inf (an exactly zero Jacobian), a standard deviation that is finite and
>= 0, and ``n_zero`` samples of the cell's ``batch`` (the Frobenius mean is -inf where it is
above 0, and only there). A row outside these had made the report
end in a traceback (a lag below 0 or twice, a +inf norm) or draw a figure of numbers no
measurement gives (a lag beyond T, a negative deviation); :func:`rows_problem` says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["rows_problem"]

_MEANS = ("log10_fro_mean", "log10_spec_mean")
_STDS = ("log10_fro_std", "log10_spec_std")


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    """The column ``name`` as float64, a null as NaN."""
    column = table.column(name).combine_chunks()
    return column.to_numpy(zero_copy_only=False).astype(np.float64)


def rows_problem(table: pa.Table, config: Mapping[str, Any]) -> str | None:
    """Why ``table`` (a shard's rows, of the cell of ``config``) holds rows no measurement
    writes, in words after "its rows hold"; None where every row is one it could write."""
    if table.num_rows == 0:
        return None
    source = table.column("source").combine_chunks().to_numpy(zero_copy_only=False)
    if not np.isin(source, ("input", "state")).all():
        return "a source other than 'input' or 'state'"
    is_input = source == "input"
    layer = _numbers(table, "layer")
    if not (np.isnan(layer) == is_input).all():
        return "a layer where the source is 'input', or none where it is 'state'"
    layers, seq_len, batch = config["num_layers"], config["seq_len"], config["batch"]
    state_layer = layer[~is_input]
    if ((state_layer < 0) | (state_layer >= layers)).any():
        return f"a layer outside 0 to {layers - 1}, in a cell of {layers} layer(s)"
    lag = _numbers(table, "lag")
    last = np.where(is_input, seq_len - 1, seq_len)
    if ((lag < 0) | (lag > last)).any():
        at = int(np.argmax((lag < 0) | (lag > last)))
        return (
            f"lag {int(lag[at])} of the {source[at]}, where a cell of seq_len {seq_len} "
            f"has lags 0 to {int(last[at])}"
        )
    # within those bounds, one integer per (source, layer, lag): the inputs' row 0 of T + 1
    keys = (np.nan_to_num(layer, nan=-1.0) + 1.0) * (seq_len + 1) + lag
    if np.unique(keys).size != keys.size:
        return "some (source, layer, lag) twice"
    for name in _MEANS:
        values = _numbers(table, name)
        if (np.isnan(values) | (values == np.inf)).any():
            return f"a {name} that is NaN or +inf: a log10 norm is finite, or -inf"
    for name in _STDS:
        values = _numbers(table, name)
        if not (np.isfinite(values) & (values >= 0)).all():
            return f"a {name} that is negative or not finite"
    n_zero = _numbers(table, "n_zero")
    if ((n_zero < 0) | (n_zero > batch)).any():
        return f"an n_zero outside 0 to {batch}, the cell's batch"
    if ((_numbers(table, "log10_fro_mean") == -np.inf) != (n_zero > 0)).any():
        return "a log10_fro_mean of -inf without an exactly zero sample (n_zero), or one with"
    return None
