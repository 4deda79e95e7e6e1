"""The engine's result: per-lag log-norm tensors, and their tidy frame (one row per sample,
source, layer and lag).

Columns, in order: ``sample`` (int64), ``source`` ("state" or "input"; for an ``nn.LSTM``
also "state_h" / "state_c" when asked for: the h and c column blocks of the "state" Jacobian,
rows after the "state" rows), ``layer`` (nullable Int64, null for "input"), ``lag`` (int64),
then ``log10_fro`` and/or ``log10_spec`` (float64;
-inf marks an exactly zero Jacobian, NaN never appears).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

__all__ = ["KEY_COLUMNS", "JacobianLogNorms", "norms_frame"]

KEY_COLUMNS = ("sample", "source", "layer", "lag")


@dataclass(frozen=True)
class JacobianLogNorms:
    """log10 Jacobian norms as float64 CPU tensors; ``None`` where not requested.

    ``state_*``: ``(B, L, T + 1)``, [b, l, k] = log10 ||dh^{L-1}_{T-1} / dh^l_{T-1-k}||, k = T
    being h0[l]. ``input_*``: ``(B, T)``, [b, k] = log10 ||dh^{L-1}_{T-1} / dx_{T-1-k}||.
    """

    state_fro: torch.Tensor | None
    state_spec: torch.Tensor | None
    input_fro: torch.Tensor | None
    input_spec: torch.Tensor | None
    batched: bool
    # nn.LSTM only, when asked for (sources "state_h" / "state_c"): the h and c column blocks
    # of the state Jacobians dh^{L-1}_{T-1} / d[h | c]^l_{T-1-k}, shaped like state_*.
    state_h_fro: torch.Tensor | None = None
    state_h_spec: torch.Tensor | None = None
    state_c_fro: torch.Tensor | None = None
    state_c_spec: torch.Tensor | None = None


def norms_frame(result: JacobianLogNorms) -> pd.DataFrame:
    """Flatten the tensors of a :class:`JacobianLogNorms` into the frame."""
    parts = []
    state_sources = (
        ("state", result.state_fro, result.state_spec),
        ("state_h", result.state_h_fro, result.state_h_spec),
        ("state_c", result.state_c_fro, result.state_c_spec),
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
