"""vanishlab as a user installs it: from an sdist (``pip install .`` and ``pip install git+...``
build one's tree too) into a wheel, imported from another folder than the checkout.

The built-in experiments live in the repository's top-level ``experiments/``: an installed copy
had none (``vanishlab sweep gain_phase`` said "no experiment named 'gain_phase'"), since the
checkout's folder beside ``vanishlab/`` does not exist in site-packages. The wheel now holds
them as ``vanishlab/experiments/``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from vanishlab import __version__
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]

_NOT_SOURCE = {".git", "build", "dist", "runs", "tmp", "__pycache__", ".hypothesis"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    """What a copy of the checkout leaves out: what building, testing and running wrote (a
    virtual environment by any name, the egg-info an editable install wrote, reports)."""
    if Path(folder) == ROOT / "reports":
        return {n for n in names if n != "README.md"}
    return {
        n
        for n in names
        if n in _NOT_SOURCE
        or n.endswith((".egg-info", "_cache"))
        or (Path(folder, n) / "pyvenv.cfg").exists()
    }


def _run(*args: str | os.PathLike[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _builtin_experiments() -> set[str]:
    return {
        p.stem
        for p in (ROOT / "experiments").glob("*.py")
        if not p.name.startswith(("_", ".")) and p.stem.isidentifier()
    }


def test_every_package_folder_is_named_in_pyproject() -> None:
    """pyproject.toml names its packages (a find does not see experiments/ mapped into
    vanishlab/): a new subpackage left out of the list would be missing from the wheel. A
    folder that holds only a leftover ``__pycache__`` (a subpackage deleted on another branch)
    is no package: it failed this test."""
    folders = {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "vanishlab").rglob("*")
        if p.is_dir()
        and "__pycache__" not in p.parts
        and any(c.name != "__pycache__" for c in p.iterdir())  # a folder git can hold
    }
    packages = set(SETUPTOOLS["packages"])
    assert folders | {"vanishlab"} <= packages
    assert SETUPTOOLS["package-dir"] == {"vanishlab.experiments": "experiments"}
    assert packages - folders == {"vanishlab", "vanishlab.experiments"}


def test_the_package_ships_its_py_typed_marker() -> None:
    """A user's mypy skipped vanishlab ("module is installed, but missing library stubs or
    py.typed marker"): every ``vl.*`` call went unchecked, its result ``Any``. The marker
    (PEP 561) is in the package and in its package data, so the wheel holds it (the slow test
    below checks the installed copy)."""
    assert (ROOT / "vanishlab" / "py.typed").is_file()
    assert "py.typed" in SETUPTOOLS["package-data"]["vanishlab"]
    # and PyPI's page says so, as the Typing :: Typed classifier (missing when the marker came)
    assert "Typing :: Typed" in PYPROJECT["project"]["classifiers"]


def test_the_version_is_written_in_one_place() -> None:
    """pyproject.toml repeated vanishlab/_version.py's version: a release that changed one of
    them would install metadata of one version (pip's) and a ``--version`` of another."""
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "vanishlab._version.__version__"}


INSTALLED_CHECK = """
import sys
from pathlib import Path
import vanishlab as vl
from vanishlab.report.render import environment
from vanishlab.sweep.experiments import load_experiment

site = Path(sys.argv[1]).resolve()
assert Path(vl.__file__).resolve().is_relative_to(site), vl.__file__  # the installed copy
names = sorted(name for name, _, _ in vl.list_experiments())
for name in names:
    path = load_experiment(name).path.resolve()
    assert path.parent == site / "vanishlab" / "experiments", path
assert (site / "vanishlab" / "py.typed").is_file()  # PEP 561: type checkers read the package
assert (site / "vanishlab" / "sweep" / "config_types.pyi").is_file()  # and read Sweep by it
env = environment()
for template in ("report.html.j2", "report.css"):
    assert Path(env.get_template(template).filename).resolve().is_relative_to(site), template
print(" ".join(names))
"""


# In the slow tier: ~4 s of CPU (a wheel built and installed).
@pytest.mark.slow
def test_the_installed_package_holds_its_experiments_and_templates(tmp_path: Path) -> None:
    """Build an sdist from a copy of the checkout, a wheel from that sdist (as pip does), install
    the wheel with ``pip install --target`` and use it from another folder: the built-in
    experiments and the report templates are found, in the installed copy, not the checkout."""
    pytest.importorskip("setuptools", minversion="77")  # --no-build-isolation: the backend is
    # this environment's (the dev extra's)
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-W",
        "error",  # setuptools' deprecations: builds it will refuse (a license table, 2027)
        "-c",
        "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])",
        dist,
        cwd=source,
    )
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        assert f"vanishlab-{__version__}/LICENSE" in tar.getnames()  # the MIT text
        # filter="data" (no links out, no devices) from Python 3.11.4; requires-python is 3.11
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "unpacked", **safe)
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    # The source tree that `make test` runs on: its tests/ lacked conftest.py and the helpers
    # the tests import, and the docs, benchmarks and example the tests read were absent (and
    # constraints-floors.txt, which make test-floors installs from and a test here reads).
    parts = ("Makefile", "constraints-floors.txt", "reports", "tests", "docs", "benchmarks")
    for part in (*parts, "examples", "experiments"):
        for path in [source / part, *(source / part).rglob("*")]:
            if path.is_file():
                relative = path.relative_to(source)
                assert (unpacked / relative).is_file(), f"{relative} is not in the sdist"
    # --no-cache-dir: pip kept each wheel it built from the unpacked sdist in its cache
    # (~/.cache/pip/wheels: one more, ~420 kB, at every run). Its cache is pointed here all
    # the same, to see that nothing is written to it.
    pip = (
        sys.executable,
        "-m",
        "pip",
        "--disable-pip-version-check",
        "--no-input",
        "--no-cache-dir",
    )
    pip_cache = tmp_path / "pip-cache"
    pip_env = {**os.environ, "PIP_CACHE_DIR": str(pip_cache)}
    wheels = tmp_path / "wheels"
    build = ("wheel", "--no-deps", "--no-build-isolation", "-w", wheels, unpacked)
    _run(*pip, *build, cwd=tmp_path, env=pip_env)
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name.startswith(f"vanishlab-{__version__}-"), wheel.name
    licence = zipfile.ZipFile(wheel).read(f"vanishlab-{__version__}.dist-info/licenses/LICENSE")
    assert licence == (ROOT / "LICENSE").read_bytes()
    site = tmp_path / "site"
    install = ("install", "--no-deps", "--no-compile", "--target", site, wheel)
    _run(*pip, *install, cwd=tmp_path, env=pip_env)
    assert not [p for p in pip_cache.rglob("*") if p.is_file()], "pip's cache was written"

    elsewhere = tmp_path / "elsewhere"  # no experiments/ here: the built-in ones are found
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    # The check tells the copies apart: this environment's own vanishlab fails it.
    checkout = subprocess.run(
        [sys.executable, "-c", INSTALLED_CHECK, str(site)], cwd=elsewhere, capture_output=True
    )
    assert checkout.returncode == 1 and b"AssertionError" in checkout.stderr, checkout
    names = _run(sys.executable, "-c", INSTALLED_CHECK, site, cwd=elsewhere, env=env).split()
    assert set(names) == _builtin_experiments()
    listing = _run(sys.executable, "-m", "vanishlab", "experiments", cwd=elsewhere, env=env)
    assert listing.splitlines()[-1].endswith(
        f": {site.resolve() / 'vanishlab' / 'experiments'} (built in)"
    ), listing
    # The modules, and the quick grid's name (sweep/experiments.DEFAULT_EXPERIMENT), no module
    listed = {line.split()[0] for line in listing.split("\n\n")[0].splitlines()}
    assert listed == set(names) | {DEFAULT_EXPERIMENT.name}


def _declared(*groups: str) -> dict[str, str]:
    """pyproject.toml's floors by lower-case name: ``"dependencies"`` (the runtime ones) and the
    extras named (``dask[distributed]>=2024.1`` declares dask and distributed)."""
    import re

    specs = [
        spec
        for group in groups
        for spec in (
            PYPROJECT["project"]["dependencies"]
            if group == "dependencies"
            else PYPROJECT["project"]["optional-dependencies"][group]
        )
    ]
    declared: dict[str, str] = {}
    for spec in specs:
        found = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[(\w+)\])?>=([0-9.]+)", spec)
        assert found, f"pyproject.toml: {spec!r} is not NAME>=FLOOR"
        name, extra, floor = found.groups()
        declared.update({n.lower(): floor for n in (name, extra) if n})
    return declared


ALL_GROUPS = ("dependencies", "dev", "dask", "safetensors")
UNPINNED = {"ruff", "setuptools"}  # tools, not the code's dependencies: their newest


def _pinned() -> dict[str, str]:
    """constraints-floors.txt's pins, ``name==version`` a line."""
    text = (ROOT / "constraints-floors.txt").read_text(encoding="utf-8")
    return dict(
        line.lower().split("==") for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def test_the_floors_checked_are_pyproject_floors() -> None:
    """constraints-floors.txt (``make test-floors``, docs/supported-versions.md) pins each floor
    that pyproject.toml declares: a floor raised in one and not in the other would check, and
    document as tested, versions that are not the ones users may get."""
    declared = _declared(*ALL_GROUPS)
    pinned = _pinned()
    for name, floor in declared.items():
        if name in UNPINNED:
            continue
        assert name in pinned, f"{name}>={floor} is not in constraints-floors.txt"
        parts = pinned[name].split(".")
        assert parts[: len(floor.split("."))] == floor.split("."), (
            f"{name}: pyproject's floor {floor}, constraints-floors.txt's {pinned[name]}"
        )
    assert set(pinned) == set(declared) - UNPINNED, set(pinned) ^ (set(declared) - UNPINNED)


def _floor_key(version: str) -> tuple[int, ...]:
    """A floor as numbers without trailing zeros: "8" and "8.0.0" are the same floor."""
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def test_the_supported_versions_table_gives_every_floor() -> None:
    """docs/supported-versions.md's table names every package pyproject.toml gives a floor
    (the dev extra's ruff and setuptools among them) with that floor: ruff's was left out, and
    its declared 0.5 could not run ``make lint`` clean."""
    declared = _declared(*ALL_GROUPS)
    documented = _documented()
    for name, floor in declared.items():
        assert name in documented, f"{name}>={floor} is not in docs/supported-versions.md"
        assert _floor_key(documented[name][0]) == _floor_key(floor), (
            f"{name}: pyproject's floor {floor}, docs/supported-versions.md's {documented[name][0]}"
        )
    assert set(documented) == set(declared), set(documented) ^ set(declared)


def test_the_supported_versions_table_gives_the_pinned_versions() -> None:
    """The version the table says was checked (in parentheses, or the floor where it is written
    in full) is constraints-floors.txt's pin for every package pinned there, and the tools left
    unpinned are said to be: a pin moved in one file and not in the other (numpy 1.24.3 for
    1.24.4, say) went unnoticed, the table still naming what ``make test-floors`` no longer
    installs."""
    pinned = _pinned()
    documented = _documented()
    for name, pin in pinned.items():
        assert name in documented, f"{name}=={pin} is not in docs/supported-versions.md"
        assert documented[name][1] == pin, (
            f"{name}: constraints-floors.txt's {pin}, docs/supported-versions.md's "
            f"{documented[name][1]}"
        )
    for name in UNPINNED:
        assert name not in pinned, name
        assert "not in `constraints-floors.txt`" in documented[name][2], name


def _documented() -> dict[str, tuple[str, str, str]]:
    """docs/supported-versions.md's table: each package's (floor, version checked, the row's
    first cell). A cell lists several packages ("dask, distributed (extra `dask`)") with one
    floor for all or one each ("8.0.0, 2.2.0, ..."); "2.2 (2.2.2)" is floor 2.2, checked at
    2.2.2, and a floor written in full ("0.20.1") is the version checked."""
    import re

    documented: dict[str, tuple[str, str, str]] = {}
    text = (ROOT / "docs" / "supported-versions.md").read_text(encoding="utf-8")
    for first, second in re.findall(r"^\| (?!package |---)(.+?) \| (.+?) \|", text, flags=re.M):
        names = re.sub(r"\s*\(.*\)", "", first).split(", ")
        versions = [
            re.fullmatch(r"([0-9.]+)(?: \(([0-9.]+)\))?", v.strip()) for v in second.split(", ")
        ]
        assert all(versions), f"docs/supported-versions.md: {second!r}"
        pairs = [(v[1], v[2] or v[1]) for v in versions]
        pairs = pairs if len(pairs) == len(names) else pairs[:1] * len(names)
        for name, (floor, checked) in zip(names, pairs, strict=True):
            assert name.lower() not in documented, f"{name}: two rows"
            documented[name.lower()] = (floor, checked, first)
    return documented


def _third_party_imports() -> dict[str, set[str]]:
    """The top-level modules outside the standard library that the installed code (vanishlab/
    and experiments/) imports anywhere, a function's body or ``if TYPE_CHECKING:`` included,
    each with the files that import it."""
    import ast

    found: dict[str, set[str]] = {}
    for path in sorted([*(ROOT / "vanishlab").rglob("*.py"), *(ROOT / "experiments").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names}:
                if top not in sys.stdlib_module_names and top not in ("vanishlab", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_code_imports_only_its_declared_dependencies() -> None:
    """Each package the code imports is one pyproject.toml declares for a user (the
    dependencies, the dask extra for the Dask executor, the safetensors extra for a safetensors
    checkpoint), not one that happens to be installed
    beside them: vanishlab/cli/_app.py imported click, which only the dev extra declares and
    typer 0.29 no longer installs (it carries its own copy), and the report imports markupsafe,
    which only jinja2 declared."""
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    declared = _declared("dependencies", "dask", "safetensors")
    for module, files in _third_party_imports().items():
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        assert names & set(declared), f"{module} ({sorted(names)}), imported by {sorted(files)}"


def test_the_license_declared_is_shipped() -> None:
    """pyproject.toml declares the MIT license, whose text asks to be included in every copy:
    the sdist and the wheel held none (no LICENSE file; the metadata's License-Expression
    alone). license-files names it (setuptools warns where it matches no file: an error in
    the slow build above, run with -W error), and it is the MIT text."""
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "this permission notice shall be included in all\ncopies" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_python_classifiers_are_the_versions_that_passed() -> None:
    """pyproject.toml had no classifiers (PyPI's filters and its page listed no Python version).
    The 3.N ones run from requires-python's floor, without a gap, to the newest that
    docs/supported-versions.md says passed the suite ("Python 3.13.0 ... passed"): a version
    named there and not here, or here and not there, is a claim one of them does not make."""
    import re

    classifiers = PYPROJECT["project"]["classifiers"]
    prefix = "Programming Language :: Python :: 3."
    minors = sorted(int(c[len(prefix) :]) for c in classifiers if c.startswith(prefix))
    assert PYPROJECT["project"]["requires-python"] == f">=3.{minors[0]}"
    assert minors == list(range(minors[0], minors[-1] + 1)), minors
    text = (ROOT / "docs" / "supported-versions.md").read_text(encoding="utf-8")
    tried = {int(m) for m in re.findall(r"Python 3\.(\d+)\.\d+", text)}
    assert tried - {minors[0]} == set(minors[1:]), (sorted(tried), minors)
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    # A license classifier beside the SPDX expression: setuptools >= 77 refuses to build
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_every_declared_dependency_is_imported() -> None:
    """The other direction: each package pyproject.toml declares for a user (the dependencies,
    the dask and safetensors extras) is imported by the installed code somewhere. One the code
    stopped importing would still be installed by every ``pip install vanishlab`` (and pinned in
    constraints-floors.txt, and tabled in docs/supported-versions.md), for nothing."""
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()  # once: ~65 ms a call, 1.4 s once per module
    imported = {
        d.lower().replace("_", "-")
        for module in _third_party_imports()
        for d in distributions.get(module, [module])
    }
    unused = set(_declared("dependencies", "dask", "safetensors")) - imported
    assert not unused, f"declared in pyproject.toml, imported by no module: {sorted(unused)}"


# In the slow tier: a wheel built twice (~6 s of CPU).
@pytest.mark.slow
def test_a_wheel_built_in_the_checkout_holds_no_module_the_checkout_lost(tmp_path: Path) -> None:
    """``pip install .`` builds in the checkout, where setuptools stages the package in
    ``build/lib`` and never removed a file from there: after a module was deleted (here an
    experiment, as a ``git pull`` can delete one), the next ``pip install .`` installed it all
    the same, beside the checkout's modules (build_backend/vanishlab_backend.py empties
    ``build/lib`` first)."""
    pytest.importorskip("setuptools", minversion="77")  # --no-build-isolation, as above
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=_ignore)
    (source / "experiments" / "removed_later.py").write_text('"""An experiment."""\n')
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input")
    build = ("wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", source)
    _run(*pip, *build, "-w", tmp_path / "first", cwd=tmp_path)
    (first,) = (tmp_path / "first").glob("*.whl")
    assert "vanishlab/experiments/removed_later.py" in zipfile.ZipFile(first).namelist()
    (source / "experiments" / "removed_later.py").unlink()
    _run(*pip, *build, "-w", tmp_path / "second", cwd=tmp_path)
    (second,) = (tmp_path / "second").glob("*.whl")
    names = zipfile.ZipFile(second).namelist()
    assert "vanishlab/experiments/removed_later.py" not in names
    assert {n for n in names if n.startswith("vanishlab/")} == {
        n for n in zipfile.ZipFile(first).namelist() if n.startswith("vanishlab/")
    } - {"vanishlab/experiments/removed_later.py"}


def test_the_build_backend_empties_build_lib_before_a_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend's one change to setuptools', without building (the slow test above builds):
    a file left in ``build/lib`` is gone when setuptools' ``build_wheel`` starts, and the
    hook's arguments and answer pass through."""
    monkeypatch.syspath_prepend(str(ROOT / "build_backend"))
    backend = importlib.import_module("vanishlab_backend")
    assert PYPROJECT["build-system"]["build-backend"] == backend.__name__
    assert PYPROJECT["build-system"]["backend-path"] == ["build_backend"]
    stale = tmp_path / "build" / "lib" / "vanishlab" / "gone.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("")
    seen = []

    def build_wheel(*args: object) -> str:
        seen.append((args, (tmp_path / "build" / "lib").exists()))
        return "vanishlab-0-py3-none-any.whl"

    monkeypatch.setattr(backend._setuptools, "build_wheel", build_wheel)
    monkeypatch.chdir(tmp_path)
    assert backend.build_wheel("out", {"a": "b"}) == "vanishlab-0-py3-none-any.whl"
    assert seen == [(("out", {"a": "b"}, None), False)]
    assert backend.build_sdist is importlib.import_module("setuptools.build_meta").build_sdist
