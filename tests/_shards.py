"""Shared by the shard tests: the sweep's aggregation recomputed independently."""

from __future__ import annotations

import pandas as pd


def aggregate_by_hand(raw: pd.DataFrame) -> pd.DataFrame:
    """The shard's value columns computed from the public per-sample frame with plain pandas
    (mean and population std of log10 norms per source, layer and lag): an independent check of
    the sweep's aggregation."""
    g = raw.groupby(["source", "layer", "lag"], dropna=False)
    return pd.DataFrame(
        {
            "log10_fro_mean": g["log10_fro"].mean(),
            "log10_fro_std": g["log10_fro"].std(ddof=0),
            "log10_spec_mean": g["log10_spec"].mean(),
            "log10_spec_std": g["log10_spec"].std(ddof=0),
        }
    ).reset_index()
