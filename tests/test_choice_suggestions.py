"""A named value typed on the command line in another case is the one it differs from only by
case (`--model LSTM` is lstm: it was refused, "did you mean 'lstm'?"), recorded in its canonical
form everywhere; a misspelt one is refused with the one meant (a misspelt init got only the list
of ten), and Python's API takes the names exactly."""

from __future__ import annotations

import json

import pytest
import torch
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep.config import parse_axis
from vanishlab.sweep.nearest import nearest_name

runner = CliRunner()
TINY = ["--hidden-size", "4", "--input-size", "2", "--seq-len", "3", "--batch", "2"]
TINY += ["--num-layers", "1", "--gain", "1", "--seed", "0", "--workers", "1"]


@pytest.mark.parametrize(
    ("axis", "text", "values"),
    [
        ("model", "LSTM,Gru,rnn", ("lstm", "gru", "rnn")),
        ("activation", "Tanh,ReLU", ("tanh", "relu")),
        ("init", "Orthogonal,DEFAULT", ("orthogonal", "default")),
        ("dtype", "Float64", ("float64",)),
        ("task", "Adding", ("adding",)),
        ("optimizer", "SGD", ("sgd",)),
        ("bias", "True,NO", (True, False)),
    ],
)
def test_a_name_in_another_case_is_the_one_meant(axis, text, values):
    assert parse_axis(axis, text) == values


def test_a_sweep_given_upper_case_names_records_them_in_lower_case(tmp_path):
    out = tmp_path / "run"
    upper = ["sweep", "--model", "LSTM", "--init", "Orthogonal", "--dtype", "FLOAT64", *TINY]
    first = runner.invoke(app, [*upper, "--out", str(out)])
    assert first.exit_code == 0, first.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["axes"]["model"], manifest["axes"]["init"]) == (["lstm"], ["orthogonal"])
    assert "--model lstm --" in manifest["command"] and "LSTM" not in manifest["command"]
    cells = vl.load_cells(out)
    assert list(cells["model"]) == ["lstm"] and list(cells["dtype"]) == ["float64"]
    lower = [
        word if word not in ("LSTM", "Orthogonal", "FLOAT64") else word.lower() for word in upper
    ]
    again = runner.invoke(app, [*lower, "--out", str(out)])
    assert again.exit_code == 0, again.stderr
    assert "0 run, 1 skipped (already done)" in again.stdout  # the same cell, resumed


def test_two_names_alike_but_for_case_are_not_guessed(registry):
    from vanishlab.sweep.nearest import as_known_case

    identity = vl.sweep.inits.INITS["identity"]
    vl.register_init(vl.Init("MyInit", "one", identity.apply))
    assert parse_axis("init", "myinit") == ("MyInit",)
    vl.register_init(vl.Init("myinit", "two", identity.apply))
    assert parse_axis("init", "myinit,MyInit") == ("myinit", "MyInit")  # each exactly
    with pytest.raises(vl.VanishlabError, match="unknown init 'MYINIT'"):
        parse_axis("init", "MYINIT")
    assert as_known_case("Tanh", ("tanh", "relu")) == "tanh"
    assert as_known_case("gelu", ("tanh", "relu")) == "gelu"


def test_analyze_takes_a_nonlinearity_in_another_case(tmp_path):
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "3", "--batch", "1"]
    result = runner.invoke(app, [*args, "--nonlinearity", "ReLU", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert "--nonlinearity relu" in manifest["command"]
    assert list(vl.load_cells(out)["activation"]) == ["relu"]


@pytest.mark.parametrize(
    ("flag", "value", "meant"),
    [("--init", "orthogonl", "orthogonal"), ("--model", "LSTMs", "lstm")],
)
def test_a_misspelt_choice_names_the_one_meant(tmp_path, flag, value, meant):
    args = ["sweep", "--smoke", flag, value, "--out", str(tmp_path / "run"), "--dry-run"]
    line = one_error_line(runner.invoke(app, args), f"(did you mean {meant!r}?)")
    assert "(choose from " in line  # the list stays beside it
    assert not (tmp_path / "run").exists()


def test_a_value_near_none_gets_the_list_alone_and_python_the_same_words():
    with pytest.raises(vl.VanishlabError) as refused:
        vl.Sweep(model="transformer")
    assert "did you mean" not in str(refused.value) and "(choose from rnn" in str(refused.value)
    with pytest.raises(vl.VanishlabError, match=r"'GRU' \(did you mean 'gru'\?\)"):
        vl.Sweep(model="GRU")  # Python's API takes the names exactly
    assert nearest_name("ACTIVATON", ["activation", "init"]) == "activation"
