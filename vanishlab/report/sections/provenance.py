"""Where a page's numbers came from: the versions a run was measured with.

- :func:`versions_block`: the manifest's ``versions`` (vanishlab, torch, python, numpy, ...,
  platform), the one definition of the "Versions" block of every kind of page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import KeyValues

__all__ = ["versions_block"]


def versions_block(manifest: Mapping[str, Any]) -> KeyValues | None:
    """The versions the run was measured with, in the manifest's order; None where it records
    none."""
    versions = manifest.get("versions") or {}
    if not versions:
        return None
    return KeyValues("Versions", tuple((str(k), str(v)) for k, v in versions.items()))
