"""What docs/cli.md says a command says is what the command says: each "`COMMAND` says
`TEXT`" of the page whose command needs no shell (no redirection, pipe or `;`) is run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vanishlab.cli import app

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
PROSE = " ".join(PAGE.split())  # the page's lines wrap anywhere
SAID = [
    (command, text)
    for command, text in re.findall(r"`(?:vanishlab )?([a-z][^`]*)` says `([^`]*)`", PROSE)
    if not set(command) & set(";|<>&$")
]


def test_the_page_still_quotes_commands_this_test_runs() -> None:
    assert len(SAID) >= 2, SAID  # `sweep --seq-len 0`, `report RUN -o a -o b`


@pytest.mark.parametrize(("command", "text"), SAID, ids=[c for c, _ in SAID])
def test_a_quoted_command_says_what_the_page_quotes(command, text, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a command that is not refused writes nothing of the checkout's
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 2, result.output
    assert text in result.output, result.output
