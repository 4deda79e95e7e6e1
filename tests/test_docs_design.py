"""docs/design.md names files, the names they define and the tests that check its rules: each
one it names exists, so that the next person who follows its steps finds what it points at.

Checked: every file path in backticks (``sweep/config.py``, ``tests/test_config.py``), from
the repository root or from ``vanishlab/`` (a folder is left out: ``corrupt/`` is a run
directory's, ``vanishlab/experiments/`` the installed copy of ``experiments/``); every name a
path is said to hold (```sweep/config.py``'s ``AXIS_TABLE``` or ``report/view.py``'s
``RunView``): defined there at the top level, or in one of its classes; and every test
function it names (``test_...``): defined in the test files.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"

_PATH = re.compile(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|md|toml|html))`")
_HOLDS = re.compile(r"`((?:[\w.-]+/)*[\w.-]+\.py)`'s `(\w+)`")
_TEST = re.compile(r"`(test_\w+)`")


def _file(path: str) -> Path | None:
    """The file ``path`` names, from the root or from the package; None if neither."""
    for base in (ROOT, ROOT / "vanishlab"):
        if (base / path).exists():
            return base / path
    return None


@functools.cache
def _defined(path: Path) -> frozenset[str]:
    """The names ``path`` defines at its top level (functions, classes, assignments) and the
    names of its classes' methods and attributes."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def stale_references(text: str) -> list[str]:
    """What ``text`` (design.md's) names that the repository does not hold."""
    stale = [f"no such path: {p}" for p in sorted(set(_PATH.findall(text))) if _file(p) is None]
    for path, name in sorted(set(_HOLDS.findall(text))):
        found = _file(path)
        if found is not None and name not in _defined(found):
            stale.append(f"{path} defines no {name}")
    tests = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        tests |= {n for n in _defined(path) if n.startswith("test_")}
    stale += [f"no test named {t}" for t in sorted(set(_TEST.findall(text)) - tests)]
    return stale


def test_every_path_name_and_test_design_md_names_exists() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    assert len(_PATH.findall(text)) > 20 and len(_HOLDS.findall(text)) > 10  # parsed
    assert stale_references(text) == []


def test_a_moved_file_or_a_renamed_name_is_caught() -> None:
    """The check itself: a path, a name or a test renamed in the text is reported."""
    assert stale_references("`sweep/axis_table.py`") == ["no such path: sweep/axis_table.py"]
    assert stale_references("`sweep/config.py`'s `AXES_TABLE`") == [
        "sweep/config.py defines no AXES_TABLE"
    ]
    assert stale_references("`test_cell_ids_differ_on_every_axis`") == [
        "no test named test_cell_ids_differ_on_every_axis"
    ]
    assert stale_references("`report/view.py`'s `RunView`, `report/view.py`'s `table_order`") == []
