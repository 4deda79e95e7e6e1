"""What an init name stood for when a run's cells were measured (the manifest's ``inits``).

A cell id holds the init's name only, so a run records, per init name, where its definition
lies (:func:`init_definition`), and a sweep or a summary that would take cells measured under
another definition of the name for its own is refused (:func:`check_init_unchanged`). Records
written by earlier releases, in shorter forms, compare as they did (:func:`_same_definition`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import VanishlabError
from .inits import Builtin, Init

__all__ = [
    "EXPERIMENT_MODULE_PREFIX",
    "check_init_unchanged",
    "init_definition",
    "shard_inits",
]

EXPERIMENT_MODULE_PREFIX = "vanishlab_experiment_"
"""How the module of an experiment file loaded by path is named (with its stem and a digest of
its path): local workers load such a module by the same name (an init registered in it)."""

_EXPERIMENT_MODULE = re.compile(rf"^{EXPERIMENT_MODULE_PREFIX}(.+)_[0-9a-f]{{8}}$")


def init_definition(init: Init) -> str:
    """What an init's name stands for in this process, as a run's manifest records it
    (``inits``): ``"built-in"`` for vanishlab's own (``"built-in NAME"`` for a built-in's draw
    registered under another name), else where its ``apply`` is defined,
    ``"module:function"`` (an experiment file's module by the file's name, wherever the file
    lies), and for a lambda or nested function, whose name does not tell it from another of
    its module (``"<lambda>"``, ``"make.<locals>.apply"``), the line its definition starts on:
    ``"module:<lambda> (line 12)"``. A ``functools.partial`` is its function's record with its
    arguments, ``"functools.partial(module:function, 2.0, gain=0.5)"``, and a callable object
    its class with its repr, ``"module:Class = Class(gain=0.5)"``; where a repr holds a memory
    address (an object's default repr), which tells nothing of the arguments, the record is
    the type alone, ``"functools:partial"`` or ``"module:Class"``, as earlier releases wrote
    every partial and object (two such read alike). Cell ids hold the init's name only: a
    sweep refuses to resume cells that another definition of the same name measured
    (``register_init(..., replace=True)``)."""
    apply = init.apply
    if isinstance(apply, Builtin):  # another name for a built-in's draw: which one
        return "built-in" if apply.name == init.name else f"built-in {apply.name}"
    return _callable_definition(apply)


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")


def _stable_repr(obj: object) -> str | None:
    """``repr(obj)``, None where it holds a memory address (or fails)."""
    try:
        said = repr(obj)
    except Exception:  # a broken __repr__ of the user's tells nothing either
        return None
    return None if _ADDRESS.search(said) else said


def _callable_definition(apply: Any) -> str:
    if isinstance(apply, functools.partial):
        inner = _callable_definition(apply.func)
        args = [_stable_repr(a) for a in apply.args]
        args += [
            None if (r := _stable_repr(v)) is None else f"{k}={r}"
            for k, v in apply.keywords.items()
        ]
        if None in args:  # arguments it cannot tell apart: the type alone, as it was written
            return "functools:partial"
        return f"functools.partial({', '.join([inner, *args])})"
    module = str(getattr(apply, "__module__", None) or "?")
    found = _EXPERIMENT_MODULE.match(module)
    if found:
        module = f"{found.group(1)}.py"
    qualname = getattr(apply, "__qualname__", None)
    if qualname is None:  # an object: its class, and its arguments as its repr says
        record, said = f"{module}:{type(apply).__name__}", _stable_repr(apply)
        return record if said is None else f"{record} = {said}"
    name = str(qualname)
    line = getattr(getattr(apply, "__code__", None), "co_firstlineno", None)
    if "<" in name and isinstance(line, int):  # two lambdas of one module read alike
        name += f" (line {line})"
    return f"{module}:{name}"


_LINE = re.compile(r" \(line [0-9]+\)$")


def _earlier_record(now: str) -> str:
    """``now`` as a release before the arguments were recorded wrote it: a partial as
    ``"functools:partial"``, an object as ``"module:Class"``."""
    if now.startswith("functools.partial("):
        return "functools:partial"
    return now.split(" = ", 1)[0]


def _same_definition(before: str, now: str) -> bool:
    """Whether the recorded definition ``before`` is ``now``: equal, or recorded in an earlier
    form, as it compared then: a lambda or nested function without its line, whose module and
    name ``now`` has; a partial or an object without its arguments."""
    if before == now:
        return True
    if before == _earlier_record(now):
        return True
    return "<" in before and not _LINE.search(before) and _LINE.sub("", now) == before


def shard_inits(metas: Mapping[str, Mapping[str, Any]], but: Iterable[str] = ()) -> set[str]:
    """The init names of the cells of ``metas`` (shard metadata by cell id), but those of the
    cells ``but``."""
    skip = set(but)
    configs = (m.get("config") for cid, m in metas.items() if cid not in skip)
    return {str(c["init"]) for c in configs if isinstance(c, dict) and c.get("init") is not None}


def check_init_unchanged(
    run_dir: Path, recorded: Mapping[str, str], init: str, now: str | None, where: str, why: str
) -> None:
    """Refuse ``init`` when it stands for ``now`` ``where`` (a sweep, this process) and the
    run recorded another definition (:func:`init_definition`; either unknown: nothing to
    compare). Cell ids hold the init's name only, so its cells would be taken for the other's
    (``why``, what follows)."""
    before = recorded.get(init)
    if before is not None and now is not None and not _same_definition(before, now):
        raise VanishlabError(
            f"{run_dir} measured init {init!r} as {before}, and {where} {init!r} is {now}: {why}"
        )
