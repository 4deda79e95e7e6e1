"""`vanishlab experiments` and `vanishlab inits` pad their names by terminal columns, not
characters: experiments/实验.py (two characters, four columns) put its description two columns
right of the others', and a name with a combining mark (é as e + U+0301: two characters, one
column) one column left. One helper (cli/output.listing_lines) pads every listing."""

from __future__ import annotations

import re
import unicodedata

import pytest
from typer.testing import CliRunner

from vanishlab.cli import app

runner = CliRunner()

_TINY = '''"""{doc}"""
import vanishlab as vl

SWEEP = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)
SMOKE = SWEEP
'''


def _columns(text: str) -> int:
    """Terminal columns, counted here apart from the helper under test."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def test_the_experiments_listing_aligns_wide_and_combining_names(tmp_path, monkeypatch):
    (tmp_path / "experiments").mkdir()
    names = {"实验": "A CJK study.", "cafe\u0301": "A combining study."}
    for name, doc in names.items():
        (tmp_path / "experiments" / f"{name}.py").write_text(_TINY.format(doc=doc), "utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["experiments"])
    assert result.exit_code == 0, result.output
    rows = result.stdout.split("\n\n")[0].splitlines()
    starts = {}
    for row in rows:
        name, gap = re.match(r"(\S+)( +)", row).groups()
        starts[name] = _columns(name) + len(gap)
    assert set(names) <= set(starts), rows
    assert len(set(starts.values())) == 1, starts  # every description in one column
    assert min(len(re.match(r"\S+( +)", row)[1]) for row in rows) == 2  # two spaces at least


def test_one_helper_pads_in_terminal_columns():
    from vanishlab.cli.output import display_width, listing_lines  # new with this test

    assert display_width("实验") == 4 and display_width("cafe\u0301") == 4
    assert display_width("Ａb") == 3  # a full-width A
    lines = listing_lines([("实验", "x", "one"), ("ab", "yy", "two"), ("cafe\u0301", "", "three")])
    assert lines == ["实验  x   one", "ab    yy  two", "cafe\u0301  " + "    three"]


@pytest.mark.parametrize("command", ["inits", "experiments"])
def test_every_listing_pads_through_the_helper(command, monkeypatch):
    """Both listings' lines are the helper's: padded in its widths, wide or narrow."""
    import vanishlab.cli.listings as listings

    seen = []
    real = listings.listing_lines

    def spy(rows):
        seen.append(rows)
        return real(rows)

    monkeypatch.setattr(listings, "listing_lines", spy)
    result = runner.invoke(app, [command])
    assert result.exit_code == 0, result.output
    assert seen and len(seen[0]) > 2
