"""A stray word after a command's own ``--help``: a usage error in one line, status 2, as after
the app's (``vanishlab --help extra``); the help itself, a command's arguments and an option's
value beside ``--help`` as before."""

from __future__ import annotations

import pytest
import typer
from _cli_lines import one_error_line
from typer.testing import CliRunner

from vanishlab.cli import app

runner = CliRunner()

# Each command, and words that fill its arguments (none, or one: EXPERIMENT, RUN_DIR,
# CHECKPOINT), so that the word after them is a stray one.
FILLED = {
    "sweep": ["trainability"],
    "report": ["runs/x"],
    "analyze": ["model.pt"],
    "inits": [],
    "experiments": [],
}


def test_every_command_is_checked_here():
    assert set(FILLED) == set(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", sorted(FILLED))
@pytest.mark.parametrize("where", ["after", "before"])
def test_a_stray_word_beside_a_commands_help_is_a_usage_error(command, where):
    """``vanishlab inits --help extra`` printed inits' help and exited 0 (--help answers before
    the parser finds a word left over); so did ``sweep --help trainability extra``."""
    words = [*FILLED[command], "extra"]
    args = [command, "--help", *words] if where == "after" else [command, *words, "--help"]
    result = runner.invoke(app, args)
    one_error_line(result, f"(extra) beside --help (see 'vanishlab {command} --help')")
    assert result.stdout == ""


def test_the_apps_help_before_a_command_and_a_stray_word_is_the_same_mistake():
    result = runner.invoke(app, ["--help", "inits", "extra"])
    one_error_line(result, "(extra) beside --help (see 'vanishlab inits --help')")


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "--help"],
        ["sweep", "trainability", "--help"],  # EXPERIMENT, an argument of sweep
        ["sweep", "--help", "trainability"],
        ["--help", "sweep", "trainability"],
        ["sweep", "--help", "--name", "extra"],  # an option's value
        ["sweep", "--help", "--", "trainability"],
        ["report", "--help", "-o", "extra"],
        ["analyze", "--help", "--module", "extra", "model.pt"],
        ["inits", "--help"],
        ["experiments", "--help"],
    ],
)
def test_a_commands_help_with_its_arguments_and_option_values_is_shown(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "Usage" in result.stdout and result.stderr == ""


def test_a_mistake_beside_help_is_said_as_the_parser_says_it():
    one_error_line(runner.invoke(app, ["inits", "--help", "--bogus"]), "No such option: --bogus")
