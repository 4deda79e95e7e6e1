"""A ``.safetensors`` file (``safetensors.torch.save_file(model.state_dict(), path)``), known by
its first bytes and read with the safetensors package: its format is data alone, so nothing in
it runs.

The format (https://github.com/huggingface/safetensors) begins with 8 bytes, the length N of a
JSON header as an unsigned little-endian integer, then the header, which begins with ``{``. A
torch.save file begins with ``PK`` (a zip archive) or a pickle's protocol byte, which read as
a length of petabytes.

torch.load (2.13) reads such a file only by its ``.safetensors`` suffix and only where that
package is installed; under another name it called the file no torch.save file. Known by its
contents here, it is read whatever its name, and where the package is missing (the analysis
environment need not be the training one) the one line says to install it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import torch

from ..errors import VanishlabError

__all__ = ["is_safetensors", "load_safetensors"]

#: A header longer than this is no safetensors header (the package's own limit: 100 MB).
_MAX_HEADER = 100_000_000


def is_safetensors(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` begins as a safetensors file: a header length of at most 100 MB,
    followed by ``{`` (a file cut short within its header too)."""
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
    """The tensors of the safetensors file at ``path``, by name (sorted), on the CPU, read by the
    safetensors package; every failure is one line naming ``what`` (``checkpoint``, ``inputs
    file``) and ``path``."""
    try:
        from safetensors import SafetensorError
        from safetensors.torch import load_file
    except ImportError:
        raise VanishlabError(
            f"{what} {path} is a safetensors file: reading it needs the safetensors package "
            "(pip install safetensors)"
        ) from None
    try:
        tensors = load_file(path, device="cpu")
    except SafetensorError as err:  # "Error while deserializing header: ..." and the like
        why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise VanishlabError(
            f"{what} {path} is not readable as a safetensors file ({why}): damaged or cut short"
        ) from None
    return dict(sorted(tensors.items()))  # by name: the file's own order is its layout's
