"""docs/design.md names files, the names they define and the tests that check its rules: each
one it names exists, so that the next person who follows its steps finds what it points at.

Checked: every file path in backticks (``sweep/config.py``, ``tests/test_config.py``), from
the repository root or from ``vanishlab/`` (a folder is left out: ``corrupt/`` is a run
directory's, ``vanishlab/experiments/`` the installed copy of ``experiments/``); every name a
path is said to hold (```sweep/config.py``'s ``AXIS_TABLE``` or ``report/view.py``'s
``RunView``): defined there at the top level, or in one of its classes; every test
function it names (``test_...``); every dotted name of the package (``schema.shard_schema``,
``RunView.table_axes``, ``cli.sweep.make_sweep_command``, and the data flow's
``sweep.measure.run_cell``): its module, and the name in it, or a class and its member; and
every plain name in backticks in a row of the layer table (``gram``, ``summarize_cell``): a
module or a name the package defines, or one of the few names from outside it (:data:`OUTSIDE`).
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
_DOTTED = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")
_FLOW = re.compile(r"\b((?:core|analysis|train|sweep|trained|report|cli)(?:\.\w+)+)")
_ROW = re.compile(r"^\| \d \| `vanishlab/(\w+)(?:\.py|/)` \|(.*)$", re.M)
_WORD = re.compile(r"`([A-Za-z_]\w*)`")
PACKAGE = ROOT / "vanishlab"
LAYERS = ("core", "analysis", "train", "sweep", "trained", "report", "cli")
NOT_OURS = ("vl", "nn", "torch", "argparse", "functools", "vanishlab")
"""Dotted names whose first part is not one of the package's modules or classes: the front
door's (``vl.run_sweep``, checked by test_api), PyTorch's, the standard library's, and the
``vanishlab.cell`` metadata key."""
OUTSIDE = frozenset(
    {"str", "ValueError", "RuntimeError", "OutOfMemoryError", "LSTM", "safetensors"}
    | {"VANISHLAB_TRACEBACK"}  # an environment variable (errors.py reads it)
)
"""The plain names the layer table names that are not the package's: Python's, torch's
``OutOfMemoryError``, the model ``LSTM``, the ``safetensors`` package, an environment
variable."""


def _file(path: str) -> Path | None:
    """The file ``path`` names, from the root or from the package; None if neither."""
    for base in (ROOT, ROOT / "vanishlab"):
        if (base / path).exists():
            return base / path
    return None


@functools.cache
def _tree(path: Path) -> ast.Module:
    """``path`` parsed, once per process: _defined, _imported, _classes and the walk of every
    module each parsed every module of the package again (618 parses a run of this file, 0.8 of
    its 1.7 s under cProfile). Read-only: nothing here changes a tree."""
    return ast.parse(_source(path))


@functools.cache
def _defined(path: Path) -> frozenset[str]:
    """The names ``path`` defines at its top level (functions, classes, assignments) and the
    names of its classes' methods and attributes."""
    names: set[str] = set()
    for node in _tree(path).body:
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


@functools.cache
def _modules() -> dict[str, Path]:
    """Every module of the package by its dotted name under ``vanishlab`` (``sweep.schema``;
    a package by its folder's, ``report.sections``; a stub alone, ``sweep.config_types``)."""
    out = {}
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyi")]:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@functools.cache
def _classes() -> dict[str, frozenset[str]]:
    """Every class of the package by its name: the names its body defines."""
    out: dict[str, frozenset[str]] = {}
    for path in _modules().values():
        for node in _tree(path).body:
            if isinstance(node, ast.ClassDef):
                members = set(out.get(node.name, ()))
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        members.add(item.name)
                    elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        members.add(item.target.id)
                    elif isinstance(item, ast.Assign):
                        members |= {t.id for t in item.targets if isinstance(t, ast.Name)}
                out[node.name] = frozenset(members)
    return out


def _dotted_found(name: str) -> bool:
    """Whether the package holds ``name``: ``Class.member``, or a module, in full or by its
    last parts where no other module ends so (``sweep.memory``, ``manifest``), and then a
    name it defines and, for a class, one of its members (``cli.sweep.make_sweep_command``,
    ``sweep.config.Sweep.cells``)."""
    parts = name.split(".")
    if parts[0] in _classes():
        return len(parts) == 2 and parts[1] in _classes()[parts[0]]
    modules = _modules()
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])  # in full, or its last parts where one module ends so
        found = [p for m, p in modules.items() if f".{m}".endswith(f".{module}")]
        if len(found) == 1:
            path = found[0]
            rest = parts[cut:]
            if not rest:
                return True
            if rest[0] not in _defined(path) | _imported(path):  # a name re-exported too
                return False
            return len(rest) == 1 or (len(rest) == 2 and rest[1] in _classes().get(rest[0], ()))
    return False


@functools.cache
def _imported(path: Path) -> frozenset[str]:
    """The names ``path`` imports at its top level (``from .json_numbers import
    read_seconds``: ``manifest.read_seconds``, re-exported)."""
    return frozenset(
        alias.asname or alias.name
        for node in _tree(path).body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    )


@functools.cache
def _source(path: Path) -> str:
    """``path``'s text, read once per process."""
    return path.read_text(encoding="utf-8")


@functools.cache
def _defined_at_any_depth(path: Path) -> frozenset[str]:
    """Every name ``path`` defines at any depth: functions, classes, assignments to a plain
    name."""
    names: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def _defined_anywhere(name: str) -> bool:
    """Whether the package defines ``name`` anywhere (:func:`_defined_at_any_depth`). A name a
    module defines is written in it: only the modules whose text holds ``name`` are walked
    (each module's every node was, 0.5 of the path check's 1.4 s under cProfile)."""
    return any(
        name in _defined_at_any_depth(path) for path in _modules().values() if name in _source(path)
    )


def stale_dotted_and_table_names(text: str) -> list[str]:
    """What ``text`` names by a dotted name, or in a row of its layer table, that the package
    does not hold (a module renamed, a function moved)."""
    dotted = set(_DOTTED.findall(text))
    if "## Data flow" in text:  # its diagram, a code block: sweep.measure.run_cell
        flow = text.split("## Data flow", 1)[1].split("```")[1]
        dotted |= set(_FLOW.findall(flow))
    stale = [
        f"no such name: {name}"
        for name in sorted(dotted)
        if name.split(".")[0] not in NOT_OURS and not _dotted_found(name)
    ]
    stems = {name.rsplit(".", 1)[-1] for name in _modules()}
    for layer, row in _ROW.findall(text):
        stale += [
            f"layer table, {layer}: no module or name {word}"
            for word in sorted(set(_WORD.findall(row)))
            if word not in stems and word not in OUTSIDE and not _defined_anywhere(word)
        ]
    return stale


def stale_references(text: str) -> list[str]:
    """What ``text`` (design.md's) names that the repository does not hold."""
    stale = [f"no such path: {p}" for p in sorted(set(_PATH.findall(text))) if _file(p) is None]
    for path, name in sorted(set(_HOLDS.findall(text))):
        found = _file(path)
        if found is not None and name not in _defined(found):
            stale.append(f"{path} defines no {name}")
    named = set(_TEST.findall(text))
    tests = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        # A name a file defines is written in it: the ~200 test files (2.5 MB) are parsed
        # only where they hold a name the text gives (0.5 s of CPU where each was parsed).
        if any(name in path.read_text(encoding="utf-8") for name in named):
            tests |= {n for n in _defined(path) if n.startswith("test_")}
    stale += [f"no test named {t}" for t in sorted(named - tests)]
    return stale + stale_dotted_and_table_names(text)


def test_every_path_name_and_test_design_md_names_exists() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    assert len(_PATH.findall(text)) > 20 and len(_HOLDS.findall(text)) > 10  # parsed
    assert len(_DOTTED.findall(text)) > 15 and len(_ROW.findall(text)) == 1 + len(LAYERS)
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


def test_a_stale_dotted_name_or_layer_table_name_is_caught() -> None:
    """design.md's dotted names (``RunView.table_axes``, ``schema.shard_schema``, the data
    flow's ``sweep.measure.run_cell``) and the modules its layer table names were not
    checked: a module renamed, or a method moved, left the text pointing at nothing."""
    assert stale_dotted_and_table_names("`RunView.table_axis`, `RunView.table_order`") == [
        "no such name: RunView.table_axis"
    ]
    assert stale_dotted_and_table_names(
        "`schema.shard_schemas` `cli.sweep.make_sweep_command`"
    ) == ["no such name: schema.shard_schemas"]
    flow = "## Data flow\n\n```\nx ──sweep.measure.run_cells──▶ y\n```\n"
    assert stale_dotted_and_table_names(flow) == ["no such name: sweep.measure.run_cells"]
    row = "| 1 | `vanishlab/core/` | `gram` (norms), `grams` (none), `frame` | errors |"
    assert stale_dotted_and_table_names(row) == ["layer table, core: no module or name grams"]
    assert stale_dotted_and_table_names("`vl.run_sweep`, `torch.save`, `Axis.arrow_type`") == []
