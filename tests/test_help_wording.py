"""Every command's --help says its defaults one way, ``text [default: X].``, and every axis flag
what it takes: `report --help` said "Default: reports/<run name>.html." where sweep and analyze
said "[default: ...]", analyze put its four after the sentence ("sequence length T. [default:
100]"), and `sweep --help` said "--dtype  float32, float64." (no word of what they are),
"--input-size  Input sizes I." and "--batch  Samples per cell." (no example)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vanishlab.cli import app
from vanishlab.sweep.config import AXIS_TABLE

runner = CliRunner()


@pytest.mark.parametrize("command", ["sweep", "report", "analyze", "inits", "experiments"])
def test_defaults_are_said_one_way(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    words = " ".join(result.output.split())
    assert "Default:" not in words and ". [default" not in words, words


@pytest.mark.parametrize("axis", AXIS_TABLE, ids=lambda a: a.name)
def test_each_axis_flag_says_what_it_takes(axis):
    if axis.choices is not None or axis.type is bool:  # a word for them, then the names
        label, _, names = axis.help.partition(": ")
        assert label[:1].isupper() and names, axis.help
        assert all(choice in names for choice in axis.choices or ("true", "false")), axis.help
    else:
        assert "e.g." in axis.help, axis.help
    words = " ".join(runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "300"}).output.split())
    assert f"{axis.flag} LIST {axis.help}" in words


@pytest.mark.parametrize("axis", [a for a in AXIS_TABLE if a.applies_to], ids=lambda a: a.name)
def test_an_axis_flag_of_some_models_names_them_in_its_help(axis):
    """`sweep --help` read "--activation  Activations: tanh, relu.", and a reader comparing
    nn.RNN with LSTM and GRU took relu for one the gated cells would take too; it applies to
    rnn cells only (README, "RNN, LSTM and GRU side by side")."""
    label, _, _ = axis.help.partition(": ")
    assert all(model in label for model in axis.applies_to), axis.help
    assert "lstm and gru keep their own" in label or axis.name != "activation", axis.help


def test_sweep_help_says_an_experiment_module_is_code_that_runs():
    """`sweep --help` named EXPERIMENT a module to find by name or path, with no word that the
    module is Python code run as a script is, nor that ./experiments comes before the built-in
    modules of the same name (a cloned folder's experiments/gated.py runs for `sweep gated`)."""
    words = " ".join(runner.invoke(app, ["sweep", "--help"], env={"COLUMNS": "300"}).output.split())
    assert "A module is Python code, run as a script is (here and in each worker)" in words
    assert "sweep only one you trust" in words
    assert "a name is looked for in ./experiments first" in words
