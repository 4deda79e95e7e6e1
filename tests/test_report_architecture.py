"""The report package's shape: one ordered list of sections, no private names imported across
modules, documented modules (cycles and sizes: tests/test_architecture.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from _tiny_run import tiny_run_dir

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


def test_modules_open_with_a_docstring():
    # (their size and import cycles: tests/test_architecture.py, for the whole package)
    for name, path in _modules().items():
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), name


def test_a_section_keyed_other_than_its_name_is_refused(tmp_path, monkeypatch):
    """A section is named in the page's list (what an experiment's ``SECTIONS`` asks for, and
    what tests look for) and again by the key of the ``Section`` its builder returns (the
    page's anchor, its table of contents' link). Nothing compared the two: a new section
    built as ``Section("lyapunov_cells", ...)`` under the name ``"lyapunov-cells"`` was
    shown with an anchor no name asks for. A builder's key must now be its name."""
    import vanishlab as vl
    from vanishlab.report import build_report
    from vanishlab.report.model import Section
    from vanishlab.report.sections import PAGES, SWEEP

    run, _ = tiny_run_dir(tmp_path)
    frames = (vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    built = [s.key for s in build_report(*frames).sections]  # the builders as they are
    assert built[:2] == ["overview", "decay"]

    def misnamed(view):
        return Section("decay_curves", "Decay curves", "", ())

    page = tuple((k, misnamed if k == "decay" else b) for k, b in PAGES[SWEEP])
    monkeypatch.setitem(PAGES, SWEEP, page)
    with pytest.raises(ValueError, match=r"'decay'.*'misnamed'.*keyed 'decay_curves'"):
        build_report(*frames)
