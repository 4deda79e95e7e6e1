"""A file written by ``torch.save``, read with ``torch.load(weights_only=True)`` on the CPU (or
a safetensors file, read with its package): every failure one clear line; and an inputs file,
one floating-point tensor.

Tensors and plain containers are restored; a file that would need to import or run code to
unpickle is refused before any runs.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import struct
from pathlib import Path
from typing import Any

import torch

from ..core import warning_filters
from ..core.tensor_checks import NESTED_ADVICE, PADDED_STEPS, token_ids_advice
from ..errors import VanishlabError
from ..sweep.files import link_problem
from ..sweep.links import link_remedy
from .archive import (
    check_records,
    cut_short,
    is_torchscript,
    legacy_tar,
    starts_as_zip,
    unpickler_reason,
)
from .foreign import foreign_advice, plain_data_allowed, save_float
from .safetensors_file import is_safetensors, load_safetensors
from .state_dict import with_article

__all__ = ["load_file", "load_tensor_file"]


_SAVE_INSTEAD = {"inputs file": "Save the inputs as one tensor instead: torch.save(x, path)"}
_PACKED = (
    "It holds packed weights, a quantized module's (torch.ao.quantization.quantize_dynamic?): "
    + save_float()
)


def load_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, or a safetensors file's tensors by
    name (:mod:`vanishlab.trained.safetensors_file`); every failure is one clear line."""
    if not path.exists():
        # a link to nothing (its target on a disk not mounted now) was said not to exist, where
        # a run folder's said what it is and what to do
        link = link_problem(path)
        why = f"{link}; {link_remedy(path, f'a copy of the {what}')}" if link else "does not exist"
        raise VanishlabError(f"{what} {path} {why}")
    if not path.is_file():
        raise VanishlabError(f"{what} {path} is not a file")
    # Data alone, known by its first bytes whatever its name. torch.load hands every file
    # named *.safetensors to that package: one whose header is none (its length beyond 100 MB,
    # no "{") is said damaged by the package (from inside torch.load, its SafetensorError had
    # been a traceback), and a torch.save file under that name (a zip archive) is read as the
    # file it is, from a handle torch.load knows no name of (it had been called damaged).
    by_contents = is_safetensors(path)
    misnamed = not by_contents and path.name.endswith(".safetensors")
    if by_contents or (misnamed and not starts_as_zip(path)):
        return load_safetensors(path, what)
    try:
        if is_torchscript(path):  # torch < 2.6 loads one (torch.jit.load) even so: refused below
            raise RuntimeError("a TorchScript archive")
        # A plain pickle of protocol > 2 warns that the restricted unpickler may not know
        # every instruction; it either loads or raises, and both are handled here. A
        # TorchScript archive warns before it fails (refused below, in one line), and a
        # quantized tensor (a quantized Linear's) is rebuilt by torch's deprecated storages
        # and quantized constructors, which warn (no recurrent weights: refused below).
        with (
            warning_filters.ignoring(
                "Detected pickle protocol",
                ".*looks like a TorchScript archive",
                "TypedStorage is deprecated",
                r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized",
            ),
            plain_data_allowed(),  # an argparse.Namespace, a path: see foreign.py
            open(path, "rb") if misnamed else contextlib.nullcontext(path) as source,
        ):
            obj = torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = unpickler_reason(err)
        if not _NEEDS_CODE.search(reason):
            if _GARBLED_OPCODE.search(reason):  # "Unsupported operand 123": a JSON file, bytes
                reason = _NOT_TORCH_SAVE
            raise VanishlabError(
                f"{what} {path} is not readable as a torch.save file ({reason})"
            ) from None
        advice = _SAVE_INSTEAD.get(what, "Save model.state_dict() instead")
        if what != "checkpoint":
            if "numpy" in reason:  # numpy inputs
                advice = "It holds a numpy object: save torch.as_tensor(x) instead"
            elif "PackedSequence" in reason:  # the Python API's own advice, said here too
                advice = (
                    f"It holds a PackedSequence: save the padded tensor instead ({PADDED_STEPS}), "
                    "torch.save(torch.nn.utils.rnn.pad_packed_sequence(packed)[0], path)"
                )
        elif "ScriptObject" in reason:  # packed (quantized) weights
            advice = _PACKED
        else:  # a state_dict beside a numpy number (an epoch), a dataclass config, an Enum
            advice = foreign_advice(path, reason) or advice
        raise VanishlabError(
            f"{what} {path} needs code to be loaded (it is not plain tensors and containers), "
            f"and vanishlab loads with weights_only=True only; nothing in it was run. "
            f"{advice} ({reason})"
        ) from None
    except (
        OSError,
        RuntimeError,
        EOFError,
        ValueError,
        UnicodeDecodeError,
        # A garbled legacy (non-zip) pickle fails inside the unpickler with these.
        IndexError,
        KeyError,
        struct.error,
        # An allowlisted class given other arguments than its own (PurePosixPath(1)).
        TypeError,
    ) as err:
        if "TorchScript" in str(err):  # torch's own advice (weights_only=False) runs code
            advice = _SAVE_INSTEAD.get(what, "Save model.state_dict() instead")
            raise VanishlabError(
                f"{what} {path} is a TorchScript archive (torch.jit.save), which vanishlab "
                f"does not load; {advice[0].lower()}{advice[1:]}"
            ) from None
        # The garbled-pickle errors say nothing to a user ("101": a KeyError of an opcode),
        # nor does the zip reader's ("failed finding central directory", "[Errno 22] ...").
        why = _NOT_TORCH_SAVE if isinstance(err, IndexError | KeyError | struct.error) else None
        if isinstance(err, EOFError):
            why = "it ends early: empty, or cut short"
        elif "legacy .tar format" in str(err):  # torch's words end in weights_only=False
            why = legacy_tar(path)
        elif "central directory" in str(err):
            why = "a zip archive that is damaged or cut short"
        elif any(m in str(err) for m in ("PytorchStreamReader", "inline_container", "hasRecord")):
            why = "a zip archive that torch.save did not write, or a damaged one"
        raise VanishlabError(  # a zip archive's start without its end: said so, at every length
            f"{what} {path} is not readable as a torch.save file "
            f"({cut_short(path) or why or _first_line(err)})"
        ) from None
    check_records(path, what)
    return obj


_NEEDS_CODE = re.compile(r"global|class|reduce|build|persistent", re.IGNORECASE)
_GARBLED_OPCODE = re.compile(r"Unsupported operand|invalid load key|unpickling stack", re.I)
_NOT_TORCH_SAVE = (
    "not a zip archive or pickle that torch.load reads: another kind of file, or one damaged "
    "or cut short"
)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def load_tensor_file(path: str | os.PathLike[str]) -> torch.Tensor:
    """A single floating-point tensor saved with ``torch.save`` (read with weights_only=True),
    or the one tensor of a safetensors file."""
    path = Path(path)
    obj = load_file(path, "inputs file")
    named = is_safetensors(path)  # a safetensors file holds tensors by name
    if named and len(obj) == 1:
        (obj,) = obj.values()
    if not isinstance(obj, torch.Tensor):
        raise VanishlabError(
            f"inputs file {path} holds {with_article(type(obj).__name__)}, not a tensor"
            f"{_container_advice(obj, path, named)}"
        )
    if obj.is_nested:  # failed inside torch's kernels, with a traceback
        raise VanishlabError(f"inputs file {path} holds a nested tensor{NESTED_ADVICE}")
    if obj.is_meta:  # failed inside torch's kernels; x.to_dense() gives it no values
        raise VanishlabError(
            f"inputs file {path} holds a tensor on the meta device: it holds no values to "
            "measure (save the inputs themselves, made on the CPU or a GPU)"
        )
    if obj.layout != torch.strided:  # failed inside torch's kernels
        raise VanishlabError(
            f"inputs file {path} holds a {obj.layout} tensor, not a dense one with values "
            "(x.to_dense())"
        )
    if not obj.is_floating_point():
        what = f"a {obj.dtype} tensor, not floating point{token_ids_advice(obj)}"
        raise VanishlabError(f"inputs file {path} holds {what}")
    return obj


#: The most items of a tuple, list or dict whose tensors an inputs file's refusal lists.
_LISTED_ITEMS = 4


def _container_advice(obj: Any, path: Path, named: bool) -> str:
    """The end of the refusal of an inputs file that holds no tensor: the tensors of a small
    tuple, list or dict (a data set's ``(x, y)`` or ``{"x": x, "y": y}``), and the one to save
    where a single floating-point tensor of 2 or 3 dimensions is among them; else the general
    advice. It had said "holds a tuple, not a tensor (save one tensor with torch.save(x,
    path))", and which item held the inputs was the user's to look up. ``named``: the file is
    a safetensors file, which torch.load does not read."""
    general = " (save one tensor with torch.save(x, path))"
    if isinstance(obj, dict):
        items = [(f"[{key!r}]", value) for key, value in obj.items()]
    elif isinstance(obj, tuple | list):
        items = [(f"[{i}]", value) for i, value in enumerate(obj)]
    else:
        return general
    tensors = [(at, t) for at, t in items if isinstance(t, torch.Tensor)]
    if not tensors or len(items) > _LISTED_ITEMS:
        return general
    listed = "; ".join(f"{at}: a {t.dtype} tensor {tuple(t.shape)}" for at, t in tensors)
    inputs = [at for at, t in tensors if t.is_floating_point() and t.dim() in (2, 3)]
    if len(inputs) != 1 or named:
        return f" ({listed}): save the inputs alone, torch.save(x, path)"
    save = f"torch.save(torch.load({str(path)!r}){inputs[0]}, 'x.pt')"
    return f" ({listed}): save the inputs alone, {save}"
