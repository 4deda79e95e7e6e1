"""A value of a choice typed in another case, or misspelt, is refused with the one meant: `--model
LSTM` got only "(choose from rnn, lstm, gru)" (difflib scored 'LSTM' against 'lstm' 0), and a
misspelt init only the list of ten."""

from __future__ import annotations

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep.nearest import nearest_name


@pytest.mark.parametrize(
    ("flag", "value", "meant"),
    [
        ("--model", "LSTM", "lstm"),
        ("--activation", "Tanh", "tanh"),
        ("--init", "Orthogonal", "orthogonal"),
        ("--init", "orthogonl", "orthogonal"),
    ],
)
def test_a_choice_in_another_case_or_misspelt_names_the_one_meant(tmp_path, flag, value, meant):
    args = ["sweep", "--smoke", flag, value, "--out", str(tmp_path / "run"), "--dry-run"]
    line = one_error_line(CliRunner().invoke(app, args), f"(did you mean {meant!r}?)")
    assert "(choose from " in line  # the list stays beside it
    assert not (tmp_path / "run").exists()


def test_a_value_near_none_gets_the_list_alone_and_python_the_same_words():
    with pytest.raises(vl.VanishlabError) as refused:
        vl.Sweep(model="transformer")
    assert "did you mean" not in str(refused.value) and "(choose from rnn" in str(refused.value)
    with pytest.raises(vl.VanishlabError, match=r"'GRU' \(did you mean 'gru'\?\)"):
        vl.Sweep(model="GRU")
    assert nearest_name("ACTIVATON", ["activation", "init"]) == "activation"
