"""Objects a training script saves beside its weights: the standard library's plain data, read;
what the rest is, for the line that refuses a file holding it.

``torch.save({"model": model.state_dict(), "args": args}, path)`` with ``args`` an
``argparse.Namespace`` (often holding a ``pathlib`` path) is the common checkpoint of a training
script, and ``torch.load(weights_only=True)`` refuses both classes. They are plain data, made
without running anything but their own constructors: a Namespace is an empty object whose
``__dict__`` gets the attributes (each one restricted in turn: a Namespace holding an object of
other code is refused for it), and a path is read as a *pure* path (``PurePosixPath``,
``PureWindowsPath``), which parses its strings and never touches the file system (so a Windows
path reads on Linux, where ``WindowsPath`` cannot be made). :func:`plain_data_allowed` lets
these through one load. NumPy's reconstructors stay refused, as torch refuses them by default
(its code, not torch's), and so does every class of the user's code (a dataclass config, an
Enum): :func:`foreign_advice` says how to save each as plain data.
"""

from __future__ import annotations

import contextlib
import pathlib
import re
import threading
from argparse import Namespace
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from ..core.wrapped import QUANTIZABLE, QUANTIZED
from .model_key import whole_model_key

__all__ = [
    "foreign_advice",
    "plain_data_allowed",
    "quantized_advice",
    "save_float",
    "whole_model_advice",
]

#: The globals of plain data read in place of what the file names (pathlib is pathlib._local
#: from Python 3.13 on, so a checkpoint written there names that module).
PLAIN_DATA: tuple[tuple[Callable[..., Any], str], ...] = (
    (Namespace, "argparse.Namespace"),
    *(
        (pure, f"{module}.{name}")
        for module in ("pathlib", "pathlib._local")
        for name, pure in (
            ("PosixPath", pathlib.PurePosixPath),
            ("PurePosixPath", pathlib.PurePosixPath),
            ("WindowsPath", pathlib.PureWindowsPath),
            ("PureWindowsPath", pathlib.PureWindowsPath),
        )
    ),
)

_LOCK = threading.Lock()  # torch's allowlist is one set for the whole process


@contextlib.contextmanager
def plain_data_allowed() -> Iterator[None]:
    """Within the block, ``torch.load(weights_only=True)`` also reads :data:`PLAIN_DATA`; the
    allowlist is left as it was (entries the caller had added stay). A torch without
    ``torch.serialization.safe_globals`` (before 2.5) reads none of them."""
    if not hasattr(torch.serialization, "safe_globals"):
        yield
        return
    with _LOCK:
        had = set(torch.serialization.get_safe_globals())
        with torch.serialization.safe_globals([g for g in PLAIN_DATA if g not in had]):
            yield


_MODEL = re.compile(r"torch\.nn\.")  # a module's class: a whole model was saved
_RECURRENT = re.compile(r"\.(RNN|LSTM|GRU)$")
_NUMPY = re.compile(r"numpy\.")
# The global a refusal names: "Unsupported global: GLOBAL numpy.core.multiarray.scalar ..."
# in recent torch, "Unsupported class numpy.core.multiarray.scalar" in torch 2.2 (the floor).
_GLOBAL = re.compile(r"(?:GLOBAL|Unsupported class) (\S+)")
# A quantized tensor's dtype (torch.qint8), which torch 2.2's weights_only load refuses; recent
# torch loads a quantized Linear's state_dict, which then holds no recurrent weights.
_QUANTIZED_DTYPE = re.compile(r"torch\.q(u)?int\w*")
_SHOWN = 3  # globals named in the advice


def _globals(path: Path, reason: str) -> tuple[list[str], bool]:
    """The globals of ``path`` that weights_only refuses, sorted (torch lists them in no set
    order: which the advice names was left to chance), or the one ``reason`` names; and
    whether the list is the file's whole list (False: the reason's first one only)."""
    try:
        found = list(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # torch < 2.5, a legacy (non-zip) file: the reason's global is named
        found = []
    allowed = {name for _, name in PLAIN_DATA}
    found = sorted(g for g in found if g not in allowed)
    return (found, True) if found else (_GLOBAL.findall(reason)[:1], False)


def save_float(doing: str = "quantizing") -> str:
    """What to save instead of quantized weights, one wording for every way they are found."""
    return f"save the float model's state_dict() before {doing} it"


def quantized_advice(named: str) -> str:
    """What to save instead of a quantized model, or one prepared for quantization, whose
    class (or module) ``named`` (``torch.ao.nn.quantizable.LSTM``) tells which: the float
    model's state_dict, saved before; a whole model's file and a state_dict's keys alike."""
    what, doing = ("a quantized model", "quantizing")
    if named.startswith(QUANTIZABLE):
        what, doing = ("a model prepared for quantization", "preparing")
    return (
        f"It holds {what} ({named}), whose weights are no nn.RNN's, nn.LSTM's or "
        f"nn.GRU's: {save_float(doing)}"
    )


def whole_model_advice(
    path: Path, classes: Sequence[str] = (), complete: bool = False, key: str | None = None
) -> str:
    """What to give instead of a whole model saved with ``torch.save(model, path)``: its
    state_dict, and the two lines that write it, run where the model's classes are defined
    (its loading runs the file's code: only for a file one trusts). ``classes``: the globals
    the file needs, ``complete`` when they are all of them. Those not torch's own are named
    (``__main__.Copy``: the training script's class, which a session must define first); where
    the whole list holds torch's alone (``torch.save(rnn)``), any session loads it. "A session
    that defines its classes" named none, and a torch.nn.GRU saved whole needs none. NumPy's
    globals (an array beside the model: ``numpy.core.multiarray._reconstruct``) are no class
    of the user's to define: ``weights_only=False`` loads them from NumPy, as it loads torch's
    (they were named as classes to define). ``key``: the subscripts that reach the model in
    what the file holds (``['model']``, :func:`~vanishlab.trained.model_key.whole_model_key`),
    where it is not the file's whole content: the recipe takes it from there (it called the
    dict "model" and saved the dict's state_dict(), which a dict has not)."""
    saved = path.with_name(f"{path.stem}_sd{path.suffix or '.pt'}")
    own = [g for g in classes if not g.startswith("torch.") and not _NUMPY.match(g)]
    if own:
        shown = ", ".join(own[:_SHOWN]) + (", ..." if len(own) > _SHOWN else "")
        session = f"in a Python session that defines {shown} (import it or run its code first)"
    elif classes and complete:
        owners = "torch's and NumPy's" if any(_NUMPY.match(g) for g in classes) else "torch's"
        session = f"in any Python session (its classes are {owners} own)"
    else:
        session = "in a Python session that defines its classes"
    load = f"torch.load({str(path)!r}, weights_only=False)"
    held, recipe = "torch.save(model)", f"model = {load} (the model in it), then "
    if key:
        held, recipe = f"under {key}", f"ckpt = {load}, then "
    return (
        f"Save model.state_dict() instead: the file holds a whole model ({held}; its class is "
        f"code). For a file you trust, {session}: {recipe}torch.save({'ckpt' if key else 'model'}"
        f"{key or ''}.state_dict(), {str(saved)!r}), and give that file"
    )


def foreign_advice(path: Path, reason: str) -> str | None:
    """What to save instead, for a checkpoint the restricted unpickler refused with
    ``reason``: for a whole model its state_dict, with the recipe (:func:`whole_model_advice`);
    for a quantized one (or one prepared for quantization) the float model's, as its
    state_dict's weights are packed (or split by gate); None for what cannot be told (the
    caller's own advice, to save ``model.state_dict()``)."""
    found, complete = _globals(path, reason)
    quantized = [g for g in found if g.startswith(QUANTIZED)]
    if quantized:  # "Save model.state_dict() instead": a quantized one's holds packed weights
        return quantized_advice(next((g for g in quantized if _RECURRENT.search(g)), quantized[0]))
    if not found:
        return None
    # A subclass of nn.LSTM saved whole (alone, in a dict, in a model of the user's) names
    # no class of torch.nn: it was told to save "objects of other code" as plain data.
    key = whole_model_key(path)
    if key is not None or any(_MODEL.match(g) for g in found):
        return whole_model_advice(path, found, complete, key)
    if any(_QUANTIZED_DTYPE.fullmatch(g) for g in found):
        return (
            f"It holds quantized weights (torch.ao.quantization.quantize_dynamic?): {save_float()}"
        )
    if all(_NUMPY.match(g) for g in found):
        return (
            "It holds a numpy object: save plain Python numbers (float(x)) or tensors "
            "(torch.from_numpy(a)) instead"
        )
    shown = ", ".join(found[:_SHOWN]) + (", ..." if len(found) > _SHOWN else "")
    return (
        f"Beside tensors it holds objects of other code ({shown}): save them as plain data "
        "(dicts, lists, strings, numbers: dataclasses.asdict(config), an Enum's .value, "
        "vars(args)), or save model.state_dict() alone"
    )
