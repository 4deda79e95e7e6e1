"""The numbers docs/trained.md states of the code are the code's."""

from __future__ import annotations

import re
from pathlib import Path

from vanishlab.sweep.memory import format_bytes, measure_bytes

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "trained.md").read_text(encoding="utf-8")
PROSE = " ".join(PAGE.split())  # the page's lines wrap anywhere


def test_the_memory_estimates_quoted_beside_the_peaks_are_the_estimate_s() -> None:
    """The page set its measured peaks against the estimate as it was before its refit
    (2.0 GiB for both modules, which the estimate has put at 1.5 GiB since): a reader
    comparing the two read a margin the estimate no longer has."""
    sizes = re.search(r"`nn\.LSTM\(256, 512, num_layers=2\)` at T = (\d+), B = (\d+)", PROSE)
    said = re.search(
        r"\*\*Memory\.\*\*.*?T = (\d+).*?against ([\d.]+ GiB) estimated, and .*?LSTM.*?"
        r"against ([\d.]+ GiB)\.",
        PROSE,
    )
    assert sizes and said, "the Time or Memory paragraph's sentence moved: update this test"
    T, B = int(said.group(1)), int(sizes.group(2))
    assert int(sizes.group(1)) == T  # the sizes the page times are those it measured
    rnn = measure_bytes(
        seq_len=T, num_layers=1, batch=B, hidden_size=1024, input_size=128, dtype="float32"
    )
    lstm = measure_bytes(
        seq_len=T, num_layers=2, batch=B, hidden_size=512, input_size=256, dtype="float32",
        model="lstm", activation=None,
    )  # fmt: skip
    assert (said.group(2), said.group(3)) == (format_bytes(rnn), format_bytes(lstm))
