"""The report package's shape: one ordered list of sections, no import cycles (function-level
imports included), no private names imported across modules, small documented modules."""

from __future__ import annotations

import ast
from pathlib import Path

import vanishlab.report as report
from vanishlab.report.sections import SECTIONS, section_keys

ROOT = Path(report.__file__).parent
PACKAGE = "vanishlab.report"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join([PACKAGE, *parts])] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, names) of every import statement, at any depth of the module."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            out.append((target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def test_sections_are_one_explicit_ordered_list():
    expected = [
        "overview", "models", "decay", "input", "depth", "rates", "gain", "theory",
        "trainability", "anomalies",
    ]  # fmt: skip
    assert list(section_keys()) == [k for k, _ in SECTIONS] == expected
    assert report.SECTIONS is SECTIONS


def test_no_import_cycles_counting_function_level_imports():
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, names in _imports(name, path):
            for t in [target, *(f"{target}.{n}" for n in names)]:
                if t in modules and t != name:
                    graph[name].add(t)
    # A parent package importing its submodules is the normal direction; a submodule importing
    # its own package's __init__ would close a loop and is counted.
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle.extend([*stack[stack.index(n) :], n] if n in stack else [m, n])
                return True
            if n not in state and visit(n, [*stack, n]):
                return True
        state[m] = 2
        return False

    for m in modules:
        if m not in state:
            assert not visit(m, [m]), f"import cycle: {' -> '.join(cycle)}"


def test_no_private_names_imported_across_modules():
    bad = []
    for name, path in _modules().items():
        for target, names in _imports(name, path):
            if target.startswith("vanishlab"):
                bad += [
                    f"{name}: {target}.{n}"
                    for n in names
                    if n.startswith("_") and n != "__version__"
                ]
    assert bad == []


def test_modules_are_small_and_open_with_a_docstring():
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 500, name
        assert ast.get_docstring(ast.parse(text)), name
