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


def test_the_stacks_horizons_and_rates_are_its_analysis_s(tmp_path) -> None:
    """The page reads a 2-layer nn.RNN(4, 16)'s input horizon against its top layer's (13
    against 9) and layer 0's rate against the top's (−0.559 against −0.904); the test of
    learning then trains at its 7, 13 and 26 steps. Those are `vanishlab analyze`'s numbers at
    its defaults (T = 100, B = 8) for the module torch.manual_seed(0) makes; at B = 4 the
    input's horizon reads 12, so the page names the settings."""
    import torch

    import vanishlab as vl
    from vanishlab.report.sections.learn_command import learn_lags
    from vanishlab.trained.analyze import analyze_checkpoint

    said = re.search(
        r"\((\d+) steps against the top layer's (\d+) for a 2-layer `nn\.RNN\(4, 16\)` made "
        r"after `torch\.manual_seed\((\d+)\)`, at the defaults T = (\d+) and B = (\d+)\): .*?"
        r"decays more slowly \(([−\d.]+) per step against ([−\d.]+)\)",
        PROSE,
    )
    learned = re.search(
        r"For the 2-layer `nn\.RNN\(4, 16\)` of horizon (\d+), its 6 networks .*?the dependency "
        r"of (\d+) steps, the default init that of (\d+) .*?neither that of (\d+)\.",
        PROSE,
    )
    assert said and learned, "the verdict's or the test of learning's sentence moved"
    seed, seq_len, batch = (int(said.group(i)) for i in (3, 4, 5))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        torch.save(torch.nn.RNN(4, 16, num_layers=2).state_dict(), tmp_path / "rnn.pt")
    analyze_checkpoint(tmp_path / "rnn.pt", tmp_path / "run", seq_len=seq_len, batch=batch)
    fits = vl.fit_decay(vl.load_results(tmp_path / "run")).set_index(["source", "layer"])
    top, layer0, inputs = fits.loc[("state", 1)], fits.loc[("state", 0)], fits.xs("input")
    assert (int(inputs.horizon.iloc[0]), int(top.horizon)) == (
        int(said.group(1)),
        int(said.group(2)),
    )
    shown = tuple(f"{r:.3f}".replace("-", "−") for r in (layer0.rate, top.rate))
    assert shown == (said.group(6), said.group(7))
    assert f"{inputs.rate.iloc[0]:.3f}" == f"{layer0.rate:.3f}"  # "and the input's at that rate"
    horizon = int(learned.group(1))
    assert horizon == int(said.group(1))
    assert learn_lags(horizon) == tuple(int(learned.group(i)) for i in (2, 3, 4))
