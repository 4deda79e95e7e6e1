"""``import vanishlab as vl`` as a user's type checker reads it.

``vl.CellConfig`` and ``vl.Sweep`` are made at run time from the axis table
(``dataclasses.make_dataclass``), which no type checker runs: to mypy and pyright they were
variables of type ``type``, each call ``Any`` (``vl.Sweep(gian=2)`` passed unflagged) and an
annotation ``sweep: vl.Sweep`` an error (mypy: 'Variable "vanishlab.sweep.config.Sweep" is not
valid as a type'; pyright: "Variable not allowed in type expression"). ``sweep/config_types.pyi``
declares them for type checkers; these tests hold it to the classes the table makes.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import os
import re
import subprocess
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import vanishlab as vl
from vanishlab.sweep.config import AXIS_TABLE

ROOT = Path(vl.__file__).resolve().parent
DECLARED = ROOT / "sweep" / "config_types.pyi"


def _declared() -> types.ModuleType:
    """The stub's classes, made by running its text (a stub is Python, with ``...`` bodies) as
    a module of its own, which dataclasses reads its annotations' names in."""
    module = types.ModuleType("vanishlab_config_types_pyi")
    sys.modules[module.__name__] = module
    try:
        code = compile(DECLARED.read_text(encoding="utf-8"), str(DECLARED), "exec")
        exec(code, module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


def _public(cls: type) -> set[str]:
    fields = {f.name for f in dataclasses.fields(cls)}
    return {n for n in dir(cls) if not n.startswith("_") and n not in fields}


def _parameters(fn: typing.Any) -> list[tuple[str, inspect._ParameterKind, typing.Any]]:
    params = inspect.signature(fn).parameters.values()
    return [(p.name, p.kind, p.default) for p in params if p.name not in ("self", "cls")]


def test_config_and_sweep_import_their_declarations_only_for_type_checkers():
    """config.py binds the stub's names under ``TYPE_CHECKING`` alone; at run time the classes
    are the table's (the stub is never imported)."""
    tree = ast.parse((ROOT / "sweep" / "config.py").read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    (imported,) = block.body
    assert isinstance(imported, ast.ImportFrom) and imported.module == "config_types"
    assert {a.name for a in imported.names} == {"CellConfig", "Sweep"}
    assert vl.Sweep.__module__ == vl.CellConfig.__module__ == "vanishlab.sweep.config"
    assert "vanishlab.sweep.config_types" not in sys.modules


@pytest.mark.parametrize("name", ["CellConfig", "Sweep"])
def test_the_declared_fields_and_constructor_are_the_tables(name):
    declared, made = getattr(_declared(), name), getattr(vl, name)
    assert [f.name for f in dataclasses.fields(declared)] == [a.name for a in AXIS_TABLE]
    assert declared.__dataclass_params__.frozen and made.__dataclass_params__.frozen
    # the same parameters, in the same order, with the same defaults as the class made
    assert _parameters(declared.__init__) == _parameters(made)
    fields = typing.get_type_hints(declared)
    takes = typing.get_type_hints(declared.__init__)
    made_takes = typing.get_type_hints(made)  # the runtime field: what the constructor takes
    for a in AXIS_TABLE:
        # what a value is taken as: an int axis's `int | SupportsIndex` (a NumPy integer too)
        taken = int | typing.SupportsIndex if a.type is int else a.type
        assert a.takes == taken, a.name
        if name == "Sweep":
            assert fields[a.name] == tuple[a.type, ...], a.name  # what it holds
            assert takes[a.name] == taken | Iterable[taken] == made_takes[a.name], a.name
        else:
            # an axis of some models only is None in another model's cell (an LSTM's
            # activation): what the field holds, and a value the constructor takes
            some = a.applies_to is not None
            assert fields[a.name] == (a.type | None if some else a.type), a.name
            assert takes[a.name] == (taken | None if some else taken), a.name
            assert made_takes[a.name] == taken, a.name


@pytest.mark.parametrize("name", ["CellConfig", "Sweep"])
def test_an_integer_axis_is_annotated_as_the_integers_it_takes(name):
    """An integer axis takes a NumPy integer and a 0-d integer tensor (core/integers.py) and
    holds an int; it was annotated ``int``, which neither is to a type checker (mypy:
    'Argument "seed" to "Sweep" has incompatible type "signedinteger[_64Bit]"'). A bool and a
    float stay refused."""
    declared, made = getattr(_declared(), name), getattr(vl, name)
    hints = typing.get_type_hints(declared.__init__)
    for a in AXIS_TABLE:
        if a.type is not int:
            continue
        value = a.default
        for given in (np.int64(value), np.int32(value), torch.tensor(value)):
            held = getattr(made(**{a.name: given}), a.name)
            assert held == (value if name == "CellConfig" else (value,)), a.name
            assert type(held if name == "CellConfig" else held[0]) is int, a.name
            assert isinstance(given, typing.get_args(hints[a.name])[:2]), hints[a.name]
        for refused in (True, float(value)):
            with pytest.raises(vl.VanishlabError, match=f"^{a.name} must be an integer"):
                made(**{a.name: refused})


@pytest.mark.parametrize("name", ["CellConfig", "Sweep"])
def test_the_declared_methods_are_the_classes(name):
    declared, made = getattr(_declared(), name), getattr(vl, name)
    assert _public(declared) == _public(made)
    for method in _public(made):
        runtime, stub = (
            inspect.getattr_static(made, method),
            inspect.getattr_static(declared, method),
        )
        if isinstance(runtime, property | functools.cached_property):  # size, cell_id
            assert isinstance(stub, property), method
            continue
        assert isinstance(stub, classmethod) == isinstance(runtime, classmethod), method
        assert _parameters(getattr(declared, method)) == _parameters(getattr(made, method))


def test_every_lazy_name_is_imported_for_type_checkers():
    """The package imports its API on first use (``__getattr__``, PEP 562), which a type
    checker does not follow: each name of ``__all__`` must be imported in its ``if
    TYPE_CHECKING:`` block, from the module ``_LAZY`` names, or ``vl.name`` is unknown to it."""
    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imported = {
        alias.name: "." * node.level + (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.level
        for alias in node.names
    }
    assert imported == vl._LAZY
    assert set(imported) | {"__version__"} == set(vl.__all__) | {"__version__"}


def test_type_checkers_see_no_module_getattr():
    """``vanishlab.__getattr__`` (PEP 562) answers every name to a type checker, so
    ``vl.jacobian_norm(...)`` (a slip for ``jacobian_norms``) was ``Any`` and unflagged by mypy
    and pyright: it is defined under ``if not TYPE_CHECKING:`` alone."""
    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    top = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert "__getattr__" not in top
    (hidden,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "not TYPE_CHECKING"
    ]
    assert [n.name for n in hidden.body if isinstance(n, ast.FunctionDef)] == ["__getattr__"]
    with pytest.raises(AttributeError, match="no attribute 'jacobian_norm'"):
        vl.jacobian_norm  # noqa: B018


def test_the_monitor_s_step_numbers_are_annotated_as_the_integers_it_takes(tmp_path):
    """docs/trained.md: ``mon.step(n)``'s ``n`` and ``every`` take a Python or NumPy integer or
    a 0-d integer tensor; both were annotated ``int``, which a NumPy integer and a tensor are
    not to a type checker (mypy: 'Argument 1 to "step" of "JacobianMonitor" has incompatible
    type "Tensor"; expected "int"')."""
    rnn, probe = torch.nn.RNN(2, 3), torch.randn(4, 1, 2)
    every = typing.get_type_hints(vl.JacobianMonitor.__init__)["every"]
    n = typing.get_type_hints(vl.JacobianMonitor.step)["n"]
    with vl.JacobianMonitor(rnn, probe, out=tmp_path / "run", every=torch.tensor(1)) as mon:
        for step in (np.int64(0), torch.tensor(1), 2):
            assert mon.step(step) is not None  # taken, and recorded
            assert isinstance(step, typing.get_args(n)), n
            assert isinstance(step, typing.get_args(every)), every


_RNN = torch.nn.RNN(3, 4, 2)
_CELL = {"activation": "tanh", "init": "normal", "hidden_size": 8, "input_size": 4, "num_layers": 2}
# A count each function takes (core/integers.py: a Python or NumPy integer, a 0-d integer
# tensor), and a call with it; a value refused for its size is still taken as an integer.
COUNTS = {
    ("lyapunov_spectrum", "k"): lambda v: vl.lyapunov_spectrum(_RNN, torch.randn(5, 1, 3), k=v),
    ("lyapunov_spectrum", "discard"): lambda v: vl.lyapunov_spectrum(
        _RNN, torch.randn(5, 1, 3), discard=v
    ),
    ("linear_rate", "layer"): lambda v: vl.linear_rate(_RNN, layer=v),
    ("origin_log_norms", "max_lag"): lambda v: vl.origin_log_norms(_RNN, v),
    ("origin_log_norms", "layer"): lambda v: vl.origin_log_norms(_RNN, 3, layer=v),
    ("pascanu_bound", "layer"): lambda v: vl.pascanu_bound(_RNN, v),
    ("pascanu_envelope", "seq_len"): lambda v: vl.pascanu_envelope(_RNN, v),
    ("chrono_init", "t_max"): lambda v: vl.chrono_init(v + 9),
    ("critical_gain", "layer"): lambda v: vl.critical_gain(_CELL, layer=v),
    ("cell_mean_field", "layer"): lambda v: vl.cell_mean_field(_CELL, layer=v),
    ("mean_field_inputs", "layer"): lambda v: vl.mean_field_inputs(_CELL, layer=v),
    ("check_pascanu", "seq_len"): lambda v: vl.check_pascanu(
        _RNN, vl.jacobian_norms(_RNN, torch.randn(4, 1, 3)), seq_len=v + 3
    ),
}


@pytest.mark.parametrize(("name", "parameter"), list(COUNTS), ids=[f"{n}-{p}" for n, p in COUNTS])
def test_a_count_is_annotated_as_the_integers_it_takes(name, parameter):
    """Each of these counts takes a NumPy integer and a 0-d integer tensor (core/integers.py),
    and was annotated ``int``, which neither is to a type checker (mypy: 'Argument "k" to
    "lyapunov_spectrum" has incompatible type "signedinteger[_64Bit]"; expected "int | None"')."""
    plain = inspect.unwrap(getattr(vl, name))
    names = {**plain.__globals__, "pd": pd, "CellConfig": vl.CellConfig}  # TYPE_CHECKING's
    hint = typing.get_type_hints(plain, names)[parameter]
    for value in (np.int64(1), torch.tensor(1)):
        COUNTS[name, parameter](value)  # taken
        assert isinstance(value, typing.get_args(hint) or hint), hint


def test_fit_decay_s_window_is_annotated_as_the_integers_it_takes():
    """Its lags take a NumPy integer and a 0-d integer tensor (core/integers.py) and were
    annotated ``int``; a float stays refused."""
    frame = pd.DataFrame({"lag": range(8), "log10_fro": -np.arange(8.0)})
    hint = typing.get_type_hints(vl.fit_decay, vl.fit_decay.__globals__)["window"]
    start, end = typing.get_args(typing.get_args(hint)[0])  # tuple[start, end]
    for value in (np.int64(2), torch.tensor(2)):
        assert vl.fit_decay(frame, window=(value, value + 4))["lag_end"].iloc[0] == 6
        assert isinstance(value, typing.get_args(start)) and isinstance(value, typing.get_args(end))
    with pytest.raises(ValueError, match="window lags must be integers"):
        vl.fit_decay(frame, window=(2.0, None))


def _analyzed(tmp: Path, **count: typing.Any) -> object:
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp / "rnn.pt")
    return vl.analyze_checkpoint(tmp / "rnn.pt", tmp / "out", **count)


def _trained(**count: typing.Any) -> object:
    from vanishlab.train.tasks import make_task

    return vl.train_cell(torch.nn.RNN(2, 3), make_task("adding", 4), **{"steps": 1, **count})


_TINY = vl.Sweep(hidden_size=2, input_size=1, seq_len=3, batch=1)
# The counts of the functions that write runs or train, each with a call that takes it.
RUN_COUNTS = {
    **{
        ("analyze_checkpoint", p): lambda v, tmp, p=p: _analyzed(tmp, **{p: v})
        for p in ("seq_len", "batch", "seed")
    },
    **{
        ("train_cell", p): lambda v, tmp, p=p: _trained(**{p: v})
        for p in ("steps", "batch", "seed", "eval_seed", "eval_batch", "eval_points")
    },
    ("run_sweep", "workers"): lambda v, tmp: vl.run_sweep(
        _TINY, tmp / "run", workers=v, progress=False
    ),
}


@pytest.mark.parametrize(
    ("name", "parameter"), list(RUN_COUNTS), ids=[f"{n}-{p}" for n, p in RUN_COUNTS]
)
def test_a_count_of_a_run_or_training_is_annotated_as_the_integers_it_takes(
    name, parameter, tmp_path
):
    """These counts take a NumPy integer and a 0-d integer tensor as the others do, and were
    annotated ``int``; a bool and a float stay refused (a TypeError, before anything runs)."""
    plain = inspect.unwrap(getattr(vl, name))
    hint = typing.get_type_hints(plain, plain.__globals__)[parameter]
    for i, value in enumerate((np.int64(1), torch.tensor(1))):
        (tmp_path / str(i)).mkdir()
        RUN_COUNTS[name, parameter](value, tmp_path / str(i))  # taken
        assert isinstance(value, typing.get_args(hint)[:2]), hint
    for refused in (True, 1.0):
        with pytest.raises(TypeError, match=f"^{parameter} must be"):
            RUN_COUNTS[name, parameter](refused, tmp_path)


USER_SCRIPT = Path(__file__).with_name("_typing_user.py")
MISTAKES = Path(__file__).with_name("_typing_mistakes.py")


def _checker(module: str) -> list[str]:
    """The command of a type checker installed beside the tests (the dev extra has none:
    ``pip install mypy pyright``), or a skip: where it is missing, or cannot start (pyright's
    package fetches its Node.js code on first use, which an offline machine cannot)."""
    pytest.importorskip(module)
    command = [sys.executable, "-m", module]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    if version.returncode != 0:
        pytest.skip(f"{module} does not start: {(version.stdout + version.stderr).strip()[-200:]}")
    return command


# In the slow tier: mypy reads torch, pandas and the package cold, ~20-40 s of CPU; pyright ~5 s.
@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        # imported modules are read, their own errors not shown: as for an installed package
        ["mypy", "--strict", "--follow-imports=silent", "--no-incremental"],
        ["pyright", "--pythonpath", sys.executable],
    ],
    ids=["mypy", "pyright"],
)
def test_a_users_script_type_checks(command, tmp_path):
    """Every documented call of ``tests/_typing_user.py`` passes ``mypy --strict`` and pyright,
    each ``assert_type`` there included, and each mistake of ``tests/_typing_mistakes.py`` is
    flagged: the checker reads the checkout's ``vanishlab`` (run from the repository's root), as
    a user's reads the installed one."""
    tool, *options = command
    done = subprocess.run(
        [*_checker(tool), *options, str(USER_SCRIPT), str(MISTAKES)],
        cwd=ROOT.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / "mypy-cache")},
    )
    output = done.stdout + done.stderr
    # "tests/_typing_user.py:12: error: ..." (mypy), "  /path/_typing_user.py:12:5 - error: ..."
    flagged = {
        (Path(path).name, int(line))
        for path, line in re.findall(r"^\s*(\S+?\.py):(\d+):(?:\d+ -|) error", output, re.M)
    }
    marked = {
        (MISTAKES.name, number)
        for number, text in enumerate(MISTAKES.read_text(encoding="utf-8").splitlines(), 1)
        if text.endswith("# flagged")
    }
    assert marked and flagged == marked, output
