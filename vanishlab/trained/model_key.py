"""Where in a checkpoint a whole model lies (``torch.save({"model": model, "epoch": 3}, path)``),
read from its pickle without running any of it, for the recipe that converts the file.

:func:`whole_model_key` reads the archive's ``data.pkl`` with an unpickler whose every global is
a stand-in of its own (nothing is imported, no class or function of the file is called) and
whose tensors are not read, then follows the dicts, lists and tuples down to the modules:
objects whose pickled state holds ``_parameters`` and ``_modules``, as every ``nn.Module``'s
``__dict__`` does. The first that holds an nn.RNN, nn.LSTM or nn.GRU is the model (not a loss
function saved beside it). One of those is known by its class's name, or, a subclass of one
(``class MyLSTM(nn.LSTM)``, whose global is ``__main__.MyLSTM``: a stand-in's base classes are
not known), by the state every ``nn.RNNBase`` holds: its ``mode`` and ``_flat_weights_names``.
"""

from __future__ import annotations

import ast
import io
import pickle
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.modules import MEASURED

__all__ = ["whole_model_key"]

_MAX_DEPTH = 8  # nesting followed, as state_dict.find_state_dict follows it
#: A measured class's global in a pickle: torch's module of the three, and their names.
_RECURRENT = re.compile(rf"torch\.nn\.modules\.rnn\.({'|'.join(c.__name__ for c in MEASURED)})")
_MODES = frozenset({"RNN_TANH", "RNN_RELU", "LSTM", "GRU"})  # nn.RNNBase's mode, by kind


class _StandIn:
    """An object of a global of the file (``global_name``): whatever it was made with, it
    keeps its state, and the items a pickled dict subclass (an ``OrderedDict``) is given."""

    __slots__ = ("global_name", "items", "state")

    def __init__(self, global_name: str) -> None:
        self.global_name = global_name
        self.state: Any = None
        self.items: dict[Any, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items[key] = value

    def append(self, value: Any) -> None:
        self.items[len(self.items)] = value

    def extend(self, values: Any) -> None:
        for value in values:
            self.append(value)


class _Global:
    """A global the file names (a class, a function), nothing imported: called (REDUCE, INST,
    OBJ) or made (NEWOBJ: ``cls.__new__(cls, *args)``), it gives a :class:`_StandIn` of its
    name. A small object, not a class: a class made for each global (about 2 KB) took a
    data.pkl of 9 MB naming 300,000 to 1 GB."""

    __slots__ = ("global_name",)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if isinstance(cls, _Global):  # NEWOBJ on the file's global
            return _StandIn(cls.global_name)
        return super().__new__(cls)

    def __init__(self, global_name: str) -> None:
        self.global_name = global_name

    def __call__(self, *args: Any, **kwargs: Any) -> _StandIn:
        return _StandIn(self.global_name)


# The unpickler written in Python, not the C one (pickle.Unpickler): the C one's memo is an
# array sized by the largest index a file puts in it, filled as it grows, so a data.pkl of 45
# bytes (LONG_BINPUT 2**27) took 2.4 GB and 5 s, and 2**31 - 1 asks for 32 GB; this one's memo
# is a dict, one entry an index.
class _Reader(pickle._Unpickler):
    def find_class(self, module: str, name: str) -> _Global:  # never imports: a stand-in
        return _Global(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> None:  # a tensor's storage: not read
        return None


def _module_state(obj: Any) -> dict[Any, Any] | None:
    """The attributes of a module's stand-in (its pickled ``__dict__``), or None for any other
    object."""
    state = obj.state if isinstance(obj, _StandIn) else None
    if isinstance(state, tuple) and state:  # (__dict__, slots) of a class with slots
        state = state[0]
    is_module = isinstance(state, dict) and "_parameters" in state and "_modules" in state
    return state if is_module else None


def _is_module(obj: Any) -> bool:
    return _module_state(obj) is not None


def _is_recurrent(obj: Any) -> bool:
    """Whether ``obj`` is an nn.RNN, nn.LSTM or nn.GRU: by its class's name, or for a subclass
    of one (``__main__.MyLSTM``) by the state nn.RNNBase gives it, a ``mode`` of one of them
    beside the list of its ``_flat_weights_names``."""
    if _RECURRENT.fullmatch(getattr(obj, "global_name", "")):
        return True
    state = _module_state(obj) or {}
    mode, names = state.get("mode"), state.get("_flat_weights_names")
    return isinstance(mode, str) and mode in _MODES and isinstance(names, list)


def _inside(obj: Any) -> list[tuple[Any, Any]]:
    """The (key, value) pairs one level down in ``obj``: a dict's, a list's or tuple's, and a
    stand-in's items and state."""
    if isinstance(obj, dict):
        return list(obj.items())
    if isinstance(obj, list | tuple):
        return list(enumerate(obj))
    if isinstance(obj, _StandIn):
        return [*obj.items.items(), (None, obj.state)]
    return []


def _modules(
    obj: Any, key: str | None, depth: int, expanded: dict[int, int]
) -> Iterator[tuple[str | None, Any]]:
    """The outermost modules in ``obj``, each with the subscripts that reach it (None where
    one of them cannot be written: :func:`_subscript`), in the order of the file.
    ``expanded``: the least depth each object was looked into at; one shared by many (a list
    of one list 200 times, 8 deep: a file of 7 KB) is looked into again only from nearer the
    top, so each is looked into at most ``_MAX_DEPTH`` times (200**8 before)."""
    if _is_module(obj):
        yield key, obj
        return
    if depth >= _MAX_DEPTH or expanded.get(id(obj), _MAX_DEPTH) <= depth:
        return
    expanded[id(obj)] = depth
    # a stand-in's items are keys (an OrderedDict's); its state, an object's attributes, not
    pairs = list(obj.items.items()) if isinstance(obj, _StandIn) else _inside(obj)
    for k, v in pairs:
        said = _subscript(k)
        below = None if key is None or said is None else f"{key}{said}"
        yield from _modules(v, below, depth + 1, expanded)


def _subscript(key: Any) -> str | None:
    """``[key]`` as Python reads it back, or None for a key that cannot be written so: an
    object of a class (a path, an Enum: its stand-in's repr, "<...PurePosixPath object at
    0x7f59...>", was the recipe's subscript), or a NaN (no subscript finds it)."""
    text = repr(key)
    try:
        return f"[{text}]" if ast.literal_eval(text) == key else None
    except Exception:  # not a literal
        return None


def _holding_recurrent(root: Any) -> set[int]:
    """The ids of the objects in ``root`` that are, or hold, an nn.RNN, nn.LSTM or nn.GRU:
    each object looked into once (shared, or in a cycle: a dict holding itself twice was
    followed 2**32 times), the holders found from the recurrent ones up."""
    held_by: dict[int, list[int]] = {id(root): []}
    found: list[int] = []
    todo = [root]
    while todo:
        obj = todo.pop()
        if _is_recurrent(obj):
            found.append(id(obj))
        for _, v in _inside(obj):
            if id(v) not in held_by:
                held_by[id(v)] = []
                todo.append(v)
            held_by[id(v)].append(id(obj))
    holding = set(found)
    while found:
        for holder in held_by[found.pop()]:
            if holder not in holding:
                holding.add(holder)
                found.append(holder)
    return holding


def whole_model_key(path: Path) -> str | None:
    """The subscripts that reach the whole model in the file at ``path``
    (``['model']``, ``['models'][0]``), ``""`` when the file is the model, and None when no
    module holding a recurrent one is found, where a key on the way to it cannot be written
    (:func:`_subscript`), or where the file cannot be read so (a legacy, non-zip file; a
    damaged one)."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "data.pkl")
            data = archive.read(name)
        obj = _Reader(io.BytesIO(data)).load()
    except Exception:  # what cannot be read so keeps the general recipe
        return None
    holding = _holding_recurrent(obj)
    return next((k for k, m in _modules(obj, "", 0, {}) if id(m) in holding), None)
