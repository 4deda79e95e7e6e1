"""docs/gated.md's worked example prints what the page says it prints."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[1] / "docs" / "gated.md"


def test_the_worked_example_prints_the_page_s_output(capsys) -> None:
    """The page quotes the example's output as measured; a change of the engine, the fit or
    an init's draws that moves a printed digit makes the page wrong."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## A worked estimate you can check") :]
    (code,) = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    printed = section[section.index("It prints") :].split("```")[1].strip().splitlines()
    exec(compile(code, "docs/gated.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == printed
