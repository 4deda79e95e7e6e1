"""A path option's value that looks like an option: the parser takes the word after ``--out``
as its value whatever it is, so ``vanishlab sweep --out --help`` measured the quick grid into a
folder named "--help" (exit 0), and ``--out -q`` into one named "-q". cli.params refuses it for
every path option (sweep's and analyze's --out, report's -o, analyze's --inputs): one line,
exit status 2, nothing made."""

from __future__ import annotations

import pytest
from _cli_lines import one_error_line
from typer.testing import CliRunner

from vanishlab.cli import app

runner = CliRunner()

# A grid of one tiny cell, so that the old code's run (which made the folder) is short.
TINY = ["--model", "rnn", "--hidden-size", "4", "--input-size", "2", "--seq-len", "4"]
TINY += ["--gain", "1", "--seeds", "1", "--batch", "2", "--workers", "1", "-q"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sweep", *TINY, "--out", "--help"], "--out --help looks like an option"),
        (["sweep", *TINY, "--out", "-h"], "--out -h looks like an option, not a directory"),
        (["sweep", *TINY, "--out", "--name", "x"], "--out --name looks like an option"),
        (["report", "RUN", "-o", "--help"], "-o/--output --help looks like an option, not a"),
        (["report", "RUN", "--output", "--force"], "-o/--output --force looks like an option"),
        (["analyze", "m.pt", "--out", "--help"], "--out --help looks like an option"),
        (["analyze", "m.pt", "--inputs", "-q"], "--inputs -q looks like an option, not a path"),
    ],
)
def test_an_option_shaped_path_is_refused_and_nothing_is_made(tmp_path, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")
    line = one_error_line(runner.invoke(app, args), said)
    assert line.endswith(f"(./{said.split()[1]} for one of that name)"), line
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", *TINY, "--out", "./--help", "--dry-run"],  # the way to name such a folder
        ["sweep", *TINY, "--out", "-run", "--dry-run"],  # a longer word after one '-': a path
    ],
)
def test_a_path_beginning_with_a_dash_is_still_taken(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "(new run directory)" in result.stdout
