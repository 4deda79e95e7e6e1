"""The docs' prose keeps to 100 columns, as the code does (README.md and docs/*.md).

Exempt: table rows (a Markdown table row cannot be wrapped), fenced and indented code blocks
(formulas and commands read as written) and lines holding a long URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WIDTH = 100
_FENCE = re.compile(r"(`{3,}|~{3,})")
_URL = re.compile(r"https?://\S{20,}")


def long_prose_lines(text: str, width: int = WIDTH) -> list[tuple[int, int]]:
    """(line number, length) of each line of ``text`` over ``width`` characters that is no
    table row, no line of a fenced or indented code block and holds no long URL."""
    found = []
    fence = ""
    prev_blank, indented = True, False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        opens = _FENCE.match(stripped)
        if fence:
            if opens and stripped.startswith(fence):
                fence = ""
            continue
        if opens:
            fence = opens.group(1)
            continue
        # An indented code block starts after a blank line and runs while lines stay indented.
        if line.startswith("    ") and (prev_blank or indented):
            indented = True
        elif line.strip():
            indented = False
        prev_blank = not line.strip()
        if len(line) <= width or indented or stripped.startswith("|") or _URL.search(line):
            continue
        found.append((number, len(line)))
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_doc_prose_lines_are_at_most_100_characters(path: Path) -> None:
    assert long_prose_lines(path.read_text(encoding="utf-8")) == [], path.name


def test_the_width_check_exempts_only_what_cannot_be_wrapped() -> None:
    """The check itself: a long prose line or list item is found; a table row, a fenced or an
    indented code block and a long URL are not."""
    long = "word " * 25
    text = "\n".join(
        [
            long,  # 1: prose
            f"- {long}",  # 2: a list item
            f"| {long} |",  # 3: a table row
            "```",
            long,  # 5: fenced
            "```",
            "",
            f"    {long}",  # 8: indented code
            "",
            f"see https://example.org/{'a' * 90}",  # 10: a URL
        ]
    )
    assert [n for n, _ in long_prose_lines(text)] == [1, 2]
