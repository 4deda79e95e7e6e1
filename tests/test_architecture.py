"""The package's shape: layers that import only downward, no import cycles (function-level
imports included, and ``TYPE_CHECKING`` ones left out: they never run), small modules."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import vanishlab
from vanishlab.sweep.summary_fields import imported_names

ROOT = Path(vanishlab.__file__).parent

DESIGN = ROOT.parent / "docs" / "design.md"
BASE = "_version"  # below every layer


def _may_import() -> dict[str, set[str]]:
    """docs/design.md's layer table, the one statement of the layering: each package (or
    top-level module) and the packages it may import besides its own modules and
    ``_version``. "everything above": every row above its own."""
    rows = re.findall(
        r"^\| \d \| `vanishlab/(\w+)(?:\.py|/)` \|.*\| ([^|]+) \|$", DESIGN.read_text(), re.M
    )
    order = [pkg for pkg, _ in rows]
    table = {}
    for pkg, may in rows:
        may = may.strip()
        if may == "everything above":
            table[pkg] = set(order[: order.index(pkg)])
        elif may in ("—", "torch only"):
            table[pkg] = set()
        else:
            table[pkg] = {m.strip() for m in may.split(",")}
    return table


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["vanishlab", *parts])] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The vanishlab modules (of ``modules``) ``name`` imports anywhere in its body (submodules
    resolved, and the package of a ``from`` import, whose ``__init__`` runs first), as the code
    digest reads them: one reading of imports, ``summary_fields.imported_names``."""
    found = imported_names(name, path.read_bytes(), package_init=path.name == "__init__.py")
    return {m for m in found if m in modules and m != name}


@functools.cache
def _read_graph() -> tuple[tuple[str, frozenset[str]], ...]:
    """The package's import graph, read once per process: each module was read by both tests
    below, and each of its ~200 reads walked the package's files again (``_modules``), 1.8 s of
    CPU a test."""
    modules = _modules()
    return tuple((name, frozenset(_imports(name, path, modules))) for name, path in modules.items())


def _graph() -> dict[str, set[str]]:
    """The import graph, a fresh copy for each caller to change."""
    return {name: set(deps) for name, deps in _read_graph()}


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
    assert "vanishlab.sweep.inits" in graph["vanishlab.cli.listings"]  # a function-level import
    # and one by importlib, which hid the cycle inits -> init_weights -> inits (helper 164)
    assert "vanishlab.sweep.init_weights" in graph["vanishlab.sweep.inits"]
    found = _cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found or [])
    # the check finds a cycle when there is one
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_layers_import_only_what_the_design_table_allows():
    table = _may_import()
    assert set(table) == {
        "errors",
        "core",
        "analysis",
        "train",
        "sweep",
        "trained",
        "report",
        "cli",
    }
    assert table["train"] == {"core"} and table["report"] >= {"sweep", "trained"}  # parsed
    wrong = _wrong_imports(_graph(), table)
    assert not wrong, "\n".join(wrong)
    # The check sees an upward import, and one through the package's front door, whose lazy
    # names reach every layer: `from vanishlab import run_sweep` inside core/ was let through
    # (helper 164), as `vanishlab` counted as no layer at all.
    assert _wrong_imports({"vanishlab.core.frame": {"vanishlab.sweep.config"}}, table)
    assert _wrong_imports({"vanishlab.core.frame": {"vanishlab"}}, table)
    assert not _wrong_imports({"vanishlab.sweep.store": {"vanishlab._version"}}, table)


def _wrong_imports(graph: dict[str, set[str]], table: dict[str, set[str]]) -> list[str]:
    """The imports of ``graph`` that the layer table forbids: into a later layer, or through
    ``vanishlab`` itself (a layer's module imports its own layer, those before it and
    ``_version`` by their modules, never by the front door's re-exports)."""
    return [
        f"{name} imports {dep}"
        for name, deps in graph.items()
        if _package(name) in table
        for dep in deps
        if _package(dep) not in {_package(name), BASE}
        and _package(dep) not in table[_package(name)]
    ]


def test_modules_are_small():
    big = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert not {n: k for n, k in big.items() if k > 500}, "split these modules"


def test_no_public_function_or_class_name_is_defined_in_two_modules():
    """One name, one definition: ``build_module``, ``check_same_weights``, ``gate_blocks``,
    ``memory_refused`` and ``sweep_command`` were each defined in two unrelated modules, doing
    different things (a cell's module from its seed and a checkpoint's from its weights; a
    skipped step's weights and a frame's module; a mode's number of gate blocks and their
    weighted sum; ...), so that a name read in one module said nothing of which it was."""
    where: dict[str, list[str]] = {}
    for name, path in _modules().items():
        for node in ast.parse(path.read_text()).body:
            defines = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, defines) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(name)
    assert {n: ms for n, ms in where.items() if len(ms) > 1} == {}


def test_no_module_imports_another_modules_private_names():
    """A name one module uses from another is public (in that module's ``__all__``): the splits
    of stops 46 and 47 left 19 underscore names imported across modules."""
    crossing = [
        f"{name}: {'.' * node.level}{node.module or ''}.{alias.name}"
        for name, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.level > 0 or (node.module or "").split(".")[0] == "vanishlab")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert crossing == []


def _declared_all(path: Path) -> set[str] | None:
    """A module's ``__all__`` as it writes it, or None where it has none (nothing public is
    declared then: its commands, ``__main__``)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return None


def test_a_name_imported_across_modules_is_in_its_modules_all():
    """The other half of the rule above: a name another module imports is listed in its own
    module's ``__all__`` (36 were not: ``plural``, ``module_kind``, ``GAUSSIAN_INPUTS``, ...),
    so that ``__all__`` is the whole of what its module offers the others."""
    modules = _modules()
    declared = {name: _declared_all(path) for name, path in modules.items()}
    missing = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            public = declared.get(source)
            if public is None:
                continue
            missing += [
                f"{name}: {source}.{alias.name}"
                for alias in node.names
                if alias.name not in public
                and not alias.name.startswith("_")
                and f"{source}.{alias.name}" not in modules  # a submodule
            ]
    assert missing == []


README = ROOT.parent / "README.md"


def _layout_entries() -> dict[str, str]:
    """The README's Layout block: each folder of the package (``core``, ``report/sections``
    as ``report``'s) and the text that describes it, continuation lines included."""
    text = README.read_text(encoding="utf-8")
    block = text[text.index("## Layout") :].split("```")[1]
    entries: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        if m := re.match(r"^  (\w+)/\s", line):
            current = m.group(1)
            entries[current] = line
        elif current is not None and line.startswith(" " * 18):
            entries[current] += line
        else:
            current = None
    return entries


def test_the_readme_layout_and_the_design_table_name_every_module():
    """The README's Layout listed core/ without wrapped and global_rng, and sweep/ without
    flag_text and init_records: a newcomer looking there for a module found no word of it.
    Each folder's modules are named in both its Layout entry and its layer-table row."""
    design = DESIGN.read_text(encoding="utf-8")
    layout = _layout_entries()
    assert {"core", "sweep", "report", "cli"} <= set(layout)  # parsed
    missing = []
    for pkg in ("core", "analysis", "train", "sweep", "trained", "report", "cli"):
        (row,) = re.findall(rf"^\| \d \| `vanishlab/{pkg}/` \|.*$", design, re.M)
        for path in sorted((ROOT / pkg).glob("*.py")):
            if path.stem == "__init__":
                continue
            if not re.search(rf"\b{path.stem}\b", layout[pkg]):
                missing.append(f"README Layout, {pkg}/: {path.stem}")
            if f"`{path.stem}`" not in row:
                missing.append(f"docs/design.md's table, {pkg}/: {path.stem}")
    assert not missing, "\n".join(missing)


def test_the_readme_layout_and_the_design_table_name_every_part_of_a_section():
    """report/sections/ holds one module per section and the parts sections read. The Layout
    and the layer table named the rates section's three parts alone, while the long-dependencies
    section's learn_command and try_length and the monitor page's monitor_steps, monitor_table
    and monitor_loss went unnamed. A part (a module that builds no section) is named in both."""
    design = DESIGN.read_text(encoding="utf-8")
    (row,) = re.findall(r"^\| \d \| `vanishlab/report/` \|.*$", design, re.M)
    layout = _layout_entries()["report"]
    missing = []
    for path in sorted((ROOT / "report" / "sections").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if path.stem == "__init__" or re.search(r"^def \w+_section\(", source, re.M):
            continue
        if not re.search(rf"\b{path.stem}\b", layout):
            missing.append(f"README Layout, report/sections/: {path.stem}")
        if f"`{path.stem}`" not in row:
            missing.append(f"docs/design.md's table, report/sections/: {path.stem}")
    assert not missing, "\n".join(missing)
