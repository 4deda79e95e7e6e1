"""A gated run's models section says at once why a gated cell at PyTorch's default init
forgets about as fast as a tanh RNN: its gate's bias sets its horizon (docs/gated.md).

The README's gated run showed an LSTM's rate at -0.457 per step beside a tanh RNN's -0.611,
and the page said nothing of why, to a reader who expected an LSTM not to forget.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import vanishlab as vl
from vanishlab.report import build_report


def _models_intro(run: Path, models: tuple[str, ...]) -> str:
    sweep = vl.Sweep(model=models, seq_len=(6,), hidden_size=4, input_size=2, batch=2)
    return _intro_of(run, sweep)


@pytest.mark.parametrize(
    ("model", "gate", "other"),
    [
        ("lstm", "an LSTM's forget gate f", "update gate"),
        ("gru", "a GRU's update gate z", "forget gate"),
    ],
)
def test_a_gated_runs_models_intro_says_its_gate_bias_sets_the_horizon(
    tmp_path: Path, model: str, gate: str, other: str
) -> None:
    intro = _models_intro(tmp_path / "run", ("rnn", model))
    assert intro.startswith("The same settings measured on nn.RNN and nn.")
    assert f"({gate}): with small weights the gate is about sigmoid of its bias" in intro
    assert "about ln ½ = −0.69 per step, and the weights' own terms make it less steep" in intro
    assert "forget_bias (bias 1) and chrono" in intro and intro.endswith("(docs/gated.md).")
    assert other not in intro


def _intro_of(run: Path, sweep: vl.Sweep) -> str:
    # In this process, not a pool started per test: the cells are bit-identical on any number
    # of workers (test_sweep's test_workers_are_bit_identical_to_one). The whole page: the
    # models section's words name the sections beside it.
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    return next(s for s in report.sections if s.key == "models").intro


@pytest.mark.parametrize(
    ("models", "activation"),
    [(("lstm", "gru"), ("tanh",)), (("rnn", "lstm"), ("relu",))],
    ids=["gated-only", "relu-rnn"],
)
def test_the_gate_note_points_at_a_tanh_rnn_in_the_table_only_where_the_run_has_one(
    tmp_path: Path, models: tuple[str, ...], activation: tuple[str, ...]
) -> None:
    """docs/gated.md's second run (--model lstm,gru --init default,forget_bias,chrono) read "of
    the order of a tanh RNN's (the table)" above a table of LSTM and GRU rows alone; a relu RNN
    beside an LSTM, the same above a table whose only RNN was relu."""
    sweep = vl.Sweep(
        model=models, activation=activation, seq_len=(6,), hidden_size=4, input_size=2, batch=2
    )
    intro = _intro_of(tmp_path / "run", sweep)
    assert "(the table)" not in intro
    assert "of the order of a tanh RNN's, which this run has not measured (README, " in intro
    with_tanh = vl.Sweep(
        model=("rnn", "lstm"),
        activation=("tanh", "relu"),
        seq_len=(6,),
        hidden_size=4,
        input_size=2,
        batch=2,
    )
    intro = _intro_of(tmp_path / "both", with_tanh)
    assert "of the order of a tanh RNN's (the table)." in intro
