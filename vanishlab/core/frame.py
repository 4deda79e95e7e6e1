"""The tidy frame of per-lag Jacobian norms (one row per sample, source, layer and lag).

Columns, in order: ``sample`` (int64), ``source`` ("state" or "input"; for an ``nn.LSTM``
also "state_h" / "state_c" when asked for: the h and c column blocks of the "state" Jacobian,
rows after the "state" rows), ``layer`` (nullable Int64, null for "input"), ``lag`` (int64),
then ``log10_fro`` and/or ``log10_spec`` (float64;
-inf marks an exactly zero Jacobian, NaN never appears).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .engine import JacobianLogNorms

__all__ = ["KEY_COLUMNS", "norms_frame"]

KEY_COLUMNS = ("sample", "source", "layer", "lag")


def norms_frame(result: JacobianLogNorms) -> pd.DataFrame:
    """Flatten the tensors of a :class:`~vanishlab.core.engine.JacobianLogNorms` into the frame."""
    parts = []
    state_sources = (
        ("state", result.state_fro, result.state_spec),
        ("state_h", getattr(result, "state_h_fro", None), getattr(result, "state_h_spec", None)),
        ("state_c", getattr(result, "state_c_fro", None), getattr(result, "state_c_spec", None)),
    )
    for source, fro, spec in state_sources:
        if fro is None and spec is None:
            continue
        ref = fro if fro is not None else spec
        B, L, K = ref.shape
        sample, layer, lag = np.meshgrid(np.arange(B), np.arange(L), np.arange(K), indexing="ij")
        cols = {
            "sample": sample.ravel(),
            "source": np.full(B * L * K, source, dtype=object),
            "layer": pd.array(layer.ravel(), dtype="Int64"),
            "lag": lag.ravel(),
        }
        for name, t in (("log10_fro", fro), ("log10_spec", spec)):
            if t is not None:
                cols[name] = t.numpy().ravel()
        parts.append(pd.DataFrame(cols))
    if result.input_fro is not None or result.input_spec is not None:
        ref = result.input_fro if result.input_fro is not None else result.input_spec
        B, K = ref.shape
        sample, lag = np.meshgrid(np.arange(B), np.arange(K), indexing="ij")
        cols = {
            "sample": sample.ravel(),
            "source": np.full(B * K, "input", dtype=object),
            "layer": pd.array(np.zeros(B * K, dtype=np.int64), dtype="Int64"),
            "lag": lag.ravel(),
        }
        cols["layer"][:] = pd.NA
        for name, t in (("log10_fro", result.input_fro), ("log10_spec", result.input_spec)):
            if t is not None:
                cols[name] = t.numpy().ravel()
        parts.append(pd.DataFrame(cols))
    frame = pd.concat(parts, ignore_index=True)
    frame["sample"] = frame["sample"].astype("int64")
    frame["lag"] = frame["lag"].astype("int64")
    frame["source"] = frame["source"].astype(str)
    if any(frame[c].isna().any() for c in ("log10_fro", "log10_spec") if c in frame):
        raise AssertionError("vanishlab bug: a NaN norm reached the output frame")
    return frame
