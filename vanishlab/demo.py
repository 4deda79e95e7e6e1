"""The README's first example: the classic ``nn.RNN(10, 20, 2)`` measured and summarised."""

from __future__ import annotations

import torch
from torch import nn

from .core.engine import jacobian_norms

__all__ = ["demo_table"]


def demo_table(seq_len: int = 60, seed: int = 0) -> str:
    """Measure ``nn.RNN(10, 20, 2)`` on a random sequence and return a printable summary."""
    torch.manual_seed(seed)
    rnn = nn.RNN(10, 20, 2)
    x = torch.randn(seq_len, 3, 10)
    h0 = torch.randn(2, 3, 20)
    frame = jacobian_norms(rnn, x, h0)
    lags = sorted({0, 1, 5, 10, 20, 40, seq_len - 1} & set(range(seq_len)))
    table = (
        frame[frame["lag"].isin(lags)]
        .groupby(["source", "layer", "lag"], dropna=False)[["log10_fro", "log10_spec"]]
        .mean()
        .round(3)
    )
    return (
        f"nn.RNN(10, 20, 2), T={seq_len}, batch of 3: mean log10 Jacobian norms by lag\n"
        f"{table.to_string()}"
    )
