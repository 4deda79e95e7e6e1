"""An option's value that looks like an option: the parser takes the word after an option
that takes a value as that value whatever it is, so ``vanishlab sweep --out --help`` measured the
quick grid into a folder named "--help" (exit 0), ``--out -q`` into one named "-q", and ``sweep
--name --help`` the quick grid as a run named "--help". cli.params refuses it for every option
of every command (``single`` and ``merged``, through which every option's value comes): one
line, exit status 2, nothing made; a path option's line says how to name such a file."""

from __future__ import annotations

import pytest
import typer
from _cli_lines import one_error_line
from typer.testing import CliRunner

from vanishlab.cli import app

runner = CliRunner()

# What each command needs beside the option tried: its required argument (m.pt: an empty file).
NEEDS = {"sweep": [], "report": ["RUN"], "analyze": ["m.pt"], "inits": [], "experiments": []}


def _value_options() -> list[tuple[str, str]]:
    """(command, flag) of every option of every command that takes a value, read from the
    command line's own definition, so that an option added later is tried too."""
    group = typer.main.get_command(app)  # (typer's own click: its classes are not click's)
    return [
        (name, max(p.opts, key=len))
        for name, command in group.commands.items()
        for p in command.params
        if p.param_type_name == "option" and not p.is_flag
    ]


VALUE_OPTIONS = _value_options()

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


def test_every_option_that_takes_a_value_is_tried():
    """The list below is not empty or short: 19 axis flags, --seeds and sweep's 4 options,
    report's 2, analyze's 8."""
    assert len(VALUE_OPTIONS) >= 34, VALUE_OPTIONS
    for option in [("sweep", "--name"), ("analyze", "--name"), ("report", "--timestamp")]:
        assert option in VALUE_OPTIONS


@pytest.mark.parametrize(("command", "flag"), VALUE_OPTIONS)
@pytest.mark.parametrize("value", ["--help", "-q"])
def test_an_option_shaped_value_is_refused_and_nothing_is_made(
    tmp_path, monkeypatch, command, flag, value
):
    """``sweep --name --help --dry-run`` printed the quick grid's plan (without --dry-run it
    measured it, a run named "--help"), ``analyze m.pt --name -q`` measured; the others said
    "unknown model '--help'", "'--help' is not an integer", ...: words of a value, not of an
    option the value was missing before. --dry-run: where the old code took the value, it
    measures nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")
    args = [command, *NEEDS[command], flag, value, *(["--dry-run"] if command == "sweep" else [])]
    line = one_error_line(runner.invoke(app, args), f" {value} looks like an option, not a ")
    assert line.startswith(f"error: {flag}") or line.startswith("error: -o/--output"), line
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_value_option_says_to_give_its_value():
    """Not a path: no "./--help" (a name or a list is not a file), but the value missing."""
    result = runner.invoke(app, ["sweep", "--name", "--help", "--dry-run"])
    line = one_error_line(result, "error: --name --help looks like an option, not a value")
    assert line.endswith("; give --name its value"), line


def test_an_axis_flags_value_is_read_before_the_experiment(tmp_path, monkeypatch):
    """``--model --name x``: --name was --model's value and x the EXPERIMENT, so the line said
    "no experiment named x" (the axis flags were read after the experiment loaded)."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sweep", "--model", "--name", "x", "--dry-run"])
    one_error_line(result, "error: --model --name looks like an option, not a value")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # a negative number is a value: its own range refuses it, in its own words
        (["sweep", "--gain", "-1", "--dry-run"], "--gain: must be a finite number >= 0, got -1"),
        (["sweep", "--seed", "-3,2", "--dry-run"], "--seed: must be between 0 and 2**63 - 1"),
        (["sweep", "--lr", "-0.01", "--dry-run"], "--lr: must be a finite number >= 0"),
    ],
)
def test_a_negative_number_is_still_a_value(tmp_path, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.pt").write_bytes(b"")
    one_error_line(runner.invoke(app, args), said)


def test_a_name_beginning_with_a_dash_is_still_taken(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sweep", *TINY, "--name", "-run", "--dry-run"])
    assert result.exit_code == 0, result.output
