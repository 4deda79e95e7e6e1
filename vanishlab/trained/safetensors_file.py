"""A ``.safetensors`` file (``safetensors.torch.save_file(model.state_dict(), path)``), read
without the ``safetensors`` package: its format is data alone, so nothing in it runs.

The format (https://github.com/huggingface/safetensors): 8 bytes, the length N of a JSON header
as an unsigned little-endian integer; the header, N bytes of UTF-8 JSON that begins with ``{``
(padded with spaces); then the tensors' bytes, little-endian, each entry of the header naming
its ``dtype``, ``shape`` and ``data_offsets`` ``[begin, end)`` in them. A ``__metadata__`` entry
holds strings, not a tensor.

torch.load (2.13) reads such a file only by its ``.safetensors`` suffix and only where that
package is installed; without it the file was refused ("not readable as a torch.save file
(Attempting to load a safetensors file but safetensors is not installed ...)"), and a torch
that does not look for the format calls it no torch.save file. Read here, it is read by its
contents, under every torch vanishlab supports.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import torch

from ..errors import VanishlabError

__all__ = ["is_safetensors", "load_safetensors"]

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
for _name, _attr in (("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2")):
    if hasattr(torch, _attr):  # torch >= 2.1
        _DTYPES[_name] = getattr(torch, _attr)

#: A header longer than this is no safetensors header (the package's own limit: 100 MB).
_MAX_HEADER = 100_000_000


def is_safetensors(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` begins as a safetensors file: a header length of at most 100 MB,
    followed by ``{`` (a file cut short within its header too). A torch.save file begins with
    ``PK`` (a zip archive) or a pickle's protocol byte, which read as a length of petabytes."""
    try:
        with open(path, "rb") as f:
            start = f.read(9)
    except OSError:
        return False
    if len(start) < 9:
        return False
    (n,) = struct.unpack("<Q", start[:8])
    return 2 <= n <= _MAX_HEADER and start[8:9] == b"{"


def load_safetensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of the safetensors file at ``path``, by name, on the CPU; every failure is
    one line naming ``what`` (``checkpoint``, ``inputs file``) and ``path``."""

    def refuse(why: str) -> VanishlabError:
        return VanishlabError(f"{what} {path} is not readable as a safetensors file ({why})")

    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise refuse("its header runs past the file's end: it is cut short")
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise refuse("its header is not JSON: damaged or cut short") from None
    if not isinstance(header, dict):
        raise refuse("its header is not a JSON object")
    data = memoryview(blob)[8 + n :]
    tensors: dict[str, torch.Tensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _tensor(name, entry, data, refuse)
    return tensors


def _tensor(name: str, entry: object, data: memoryview, refuse) -> torch.Tensor:
    if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= entry.keys():
        raise refuse(f"its entry {name!r} has no dtype, shape and data_offsets")
    dtype = _DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise refuse(f"tensor {name!r} has dtype {entry['dtype']!r}, which vanishlab does not read")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (
        isinstance(shape, list)
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        and isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        and 0 <= offsets[0] <= offsets[1]
    ):
        raise refuse(f"tensor {name!r} has a malformed shape or data_offsets")
    begin, end = offsets
    nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
    if end - begin != nbytes:
        raise refuse(f"tensor {name!r} of shape {tuple(shape)} is not {end - begin} bytes")
    if end > len(data):
        raise refuse(f"tensor {name!r} lies past the file's end: it is cut short")
    if nbytes == 0:
        return torch.empty(shape, dtype=dtype)
    flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype)
    return flat.reshape(shape)
