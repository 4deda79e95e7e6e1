"""Every report section's name (its key: the page's anchor, an experiment's ``SECTIONS``) and
title are written once, in ``vanishlab/sweep/section_names.py``, and the package reads them
there (helper 402): a section's key was written in its module, in the registry of its page, in
``RunView.shows`` calls and in ``sweep/manifest.py``'s ``SWEEP_SECTION_NAMES``; a title in its
module and in the sentences of other sections, the sweep's lines and the CLI that point to it
("listed under Anomalies", "see Theory vs measurement"), so renaming one left the others
saying the old words. The tests keep their literal strings: they pin the contract."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from vanishlab.report.sections import MONITOR_SECTIONS, SECTIONS, SINGLE_MODEL_SECTIONS
from vanishlab.sweep import section_names
from vanishlab.sweep.section_names import SWEEP_PAGE, SWEEP_SECTION_NAMES, SectionName

PACKAGE = Path(__file__).resolve().parents[1] / "vanishlab"
ALL = [v for v in vars(section_names).values() if isinstance(v, SectionName)]
KEYS = {s.key for s in ALL}
#: keys that are other words of the package too: a source ("input"), an axis ("gain",
#: "model"), a column ("lyapunov", "theory"), a manifest's kind ("monitor"), a label
#: ("depth"), a field ("models"), a word ("training"); checked where only a section's key goes
SHARED_WORDS = {"input", "gain", "model", "models", "lyapunov", "theory", "monitor", "depth"}
SHARED_WORDS |= {"training"}
#: titles that are common words or phrases of the package's text ("the top Lyapunov exponent",
#: a block titled "Model", a table column "Theory"): checked where only a title goes
COMMON_TITLES = {"Lyapunov exponent", "Model", "Theory"}
#: a title's words that say no section: the monitor's verdict, "Over training, the input
#: curve's horizon went from 12 at step 0 to 40 at step 100."
PLAIN_WORDS = {" Over training, the "}


def _strings(nodes: list[ast.AST]) -> list[ast.Constant]:
    """The string constants of a module's ``nodes`` (all of them: ``ast.walk``'s) but its
    docstrings (and strings alone as a statement) and its ``__all__``."""
    skip: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            skip.add(id(node.value))  # a docstring, or an attribute's below its assignment
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                skip |= {id(n) for n in ast.walk(node)}
    return [
        n
        for n in nodes
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
    ]


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(path.relative_to(PACKAGE.parent)), ast.parse(path.read_text()))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "section_names.py"
    ]


def test_the_pages_list_the_names_of_section_names_in_its_order() -> None:
    assert tuple(key for key, _ in SECTIONS) == SWEEP_SECTION_NAMES
    assert tuple(s.key for s in SWEEP_PAGE) == SWEEP_SECTION_NAMES
    listed = {
        key for page in (SECTIONS, SINGLE_MODEL_SECTIONS, MONITOR_SECTIONS) for key, _ in page
    }
    assert listed == KEYS  # no name left over, none missing
    assert len({s.title for s in ALL if s.title}) >= len(ALL) - 3  # pages share a few titles


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_no_module_writes_a_section_key_or_title_of_its_own() -> None:
    titled = [s.title for s in ALL if s.title and s.title not in COMMON_TITLES]
    title_words = re.compile("|".join(rf"\b{re.escape(t)}\b" for t in titled))
    found = []
    for name, tree in _modules():
        # Each module's tree walked once, where _strings walked it twice and the calls' check
        # a third time (3.5 of the test's 5.8 s under cProfile).
        nodes = list(ast.walk(tree))
        strings = _strings(nodes)
        for node in strings:
            if node.value in KEYS - SHARED_WORDS:
                found.append((name, node.lineno, node.value))
            elif node.value in PLAIN_WORDS:
                continue
            elif (match := title_words.search(node.value)) is not None:
                found.append((name, node.lineno, match.group()))
        for node in nodes:
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called == "shows" or called == "Section":
                args = [
                    *node.args[:2],
                    *(k.value for k in node.keywords if k.arg in ("key", "title")),
                ]
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append((name, arg.lineno, f"{called}({arg.value!r})"))
        if name.endswith("report/sections/__init__.py"):  # the pages' lists and ALWAYS
            found += [(name, n.lineno, n.value) for n in strings if n.value in KEYS]
    assert not found, found
