"""Every relative link of the README and of docs/*.md reaches a file, and its #anchor a heading
of that file (as GitHub names headings); the README's contents list every section and page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^()\s]+)\)")
_HEADING = re.compile(r"^(#{1,6}) +(.*?) *#* *$", re.M)


def _prose(text: str) -> str:
    """The text without fenced code blocks (a link or heading there is code)."""
    return _FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text lower-cased, without punctuation (letters,
    digits, `_`, `-` and spaces kept), spaces as `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = "".join(ch for ch in text.lower() if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings, a repeated one numbered as GitHub numbers it."""
    seen: dict[str, int] = {}
    out = set()
    for _, heading in _HEADING.findall(_prose(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    """The link targets of a page's prose (inline code read as code, not as links)."""
    text = _CODE.sub(lambda m: "`" + m.group(0)[1:-1].replace("[", "(").replace("]", ")") + "`",
                     _prose(path.read_text(encoding="utf-8")))  # fmt: skip
    return _LINK.findall(text.replace("\n", " "))


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """The relative links of a page that reach no file inside root, or no heading there."""
    broken = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: ...
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.is_relative_to(root.resolve()) or not dest.is_file():
            broken.append(f"{path.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{path.name}: {target} (no such heading)")
        elif (
            anchor
            and dest.suffix != ".md"
            and f'id="{anchor}"' not in dest.read_text(encoding="utf-8", errors="replace")
        ):
            broken.append(f"{path.name}: {target} (no such id)")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_check_finds_a_broken_file_an_anchor_and_a_link_out_of_the_tree(tmp_path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text(
        "# A page\n\n## Naming a run: `--name`\n\n## Naming a run: `--name`\n", encoding="utf-8"
    )
    page = tmp_path / "README.md"
    page.write_text(
        "## Here\n\n"
        "[ok](docs/a.md) [ok](docs/a.md#naming-a-run---name) [ok](docs/a.md#naming-a-run---name-1)"
        " [ok](#here) [web](https://example.org/x#y) `[code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n"
        "[gone](docs/b.md) [no heading](docs/a.md#naming) [wrapped\ntext](#there)"
        " [out](../outside.md)\n",
        encoding="utf-8",
    )
    (tmp_path.parent / "outside.md").write_text("# Outside\n", encoding="utf-8")
    assert broken_links(page, tmp_path) == [
        "README.md: docs/b.md (no such file)",
        "README.md: docs/a.md#naming (no such heading)",
        "README.md: #there (no such heading)",
        "README.md: ../outside.md (no such file)",
    ]


def test_the_readme_contents_list_every_section_and_every_docs_page() -> None:
    """A section or a page added without a line in the contents is one a newcomer misses."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Contents")
    contents = text[start : text.index("\n## ", start + 1)]
    listed = set(_LINK.findall(" ".join(contents.split())))
    sections = {
        slug(h) for level, h in _HEADING.findall(_prose(text)) if level == "##" and h != "Contents"
    }
    assert {f"#{s}" for s in sections} <= listed, sections - {s[1:] for s in listed}
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").iterdir() if p.suffix in (".md", ".html")}
    assert pages <= listed, pages - listed
