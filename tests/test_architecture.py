"""The package's shape: layers that import only downward, no import cycles (function-level
imports included, and ``TYPE_CHECKING`` ones left out: they never run), small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import vanishlab

ROOT = Path(vanishlab.__file__).parent

# A layer may import its own modules and those of the layers listed before it (docs/design.md).
LAYERS = ("errors", "core", "analysis", "train", "sweep", "trained", "report", "cli")
BASE = ("_version", "errors")  # below every layer


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["vanishlab", *parts])] = path
    return out


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str, path: Path) -> set[str]:
    """The vanishlab modules ``name`` imports anywhere in its body (submodules resolved)."""
    modules = _modules()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) for name, path in _modules().items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles_in_the_package():
    graph = _graph()
    graph["vanishlab"] = set()  # the front door re-exports lazily; nothing imports through it
    assert sum(map(len, graph.values())) > 100  # the graph is real: function-level edges too
    assert "vanishlab.sweep.inits" in graph["vanishlab.sweep.config"]  # a function-level import
    found = _cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found or [])
    # the check finds a cycle when there is one
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _layer(module: str) -> int:
    part = module.split(".")[1] if module.count(".") else ""
    if part in BASE:
        return -1
    return LAYERS.index(part) if part in LAYERS else len(LAYERS)


def test_layers_import_only_downward():
    wrong = [
        f"{name} imports {dep}"
        for name, deps in _graph().items()
        if name != "vanishlab"
        for dep in deps
        if dep != "vanishlab" and _layer(dep) > _layer(name)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_maths_layers_do_not_import_the_sweep():
    for name, deps in _graph().items():
        if _layer(name) <= LAYERS.index("train"):
            assert not [d for d in deps if _layer(d) >= LAYERS.index("sweep")], name


def test_modules_are_small():
    big = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert not {n: k for n, k in big.items() if k > 520}, "split these modules"
