"""The README's first example prints what the README says it prints."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

import vanishlab as vl

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_table() -> np.ndarray:
    """The numbers of the first output block after the classic example, one row per line."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## A first measurement") :]
    block = section.split("```")[3]  # [0] prose, [1] python, [2] prose, [3] output
    rows = [line.split() for line in block.strip().splitlines()[1:]]
    return np.array([[float(r[5]), float(r[6])] for r in rows])  # index, sample, source, ..


def test_readme_first_example_output() -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(10, 20, 2)
    x = torch.randn(5, 3, 10)
    h0 = torch.randn(2, 3, 20)
    norms = vl.jacobian_norms(rnn, x, h0)
    want = readme_table()
    got = norms[["log10_fro", "log10_spec"]].head(len(want)).to_numpy()
    np.testing.assert_allclose(got, want, atol=2e-6)  # the README prints 6 decimals
    assert re.search(r"vl\.jacobian_norms\(rnn, input, h0\)", README.read_text(encoding="utf-8"))
