"""Where a page's numbers came from: the versions a run was measured with, and its command.

- :func:`versions_block`: the manifest's ``versions`` (vanishlab, torch, python, numpy, ...,
  platform), the one definition of the "Versions" block of every kind of page;
- :func:`provenance_section` (**provenance**): the last section of a trained model's page and
  a monitor's, holding that block and, for ``vanishlab analyze``, the command that measures
  the same model again; without a command (a monitor's), the section is titled "Versions" and
  its block has no heading of its own. It comes last so that these long blocks do not stand
  between the model's own facts and what its measurement means for long dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...sweep.commands import command_text
from ...sweep.measured_by import EARLIER_VERSIONS, code_words
from ...sweep.section_names import PROVENANCE
from ..model import Code, KeyValues, Section
from ..view import RunView

__all__ = ["provenance_section", "versions_block"]


def versions_block(manifest: Mapping[str, Any]) -> KeyValues | None:
    """The versions the run was measured with, in the manifest's order, and each other
    vanishlab whose cells a resumed sweep kept (``earlier_versions``); None where it records
    none."""
    versions = manifest.get("versions") or {}
    earlier = manifest.get(EARLIER_VERSIONS) or []
    if not versions and not earlier:
        return None
    items = [(str(k), str(v)) for k, v in versions.items()]
    # a resumed run's cells that another vanishlab measured: said beside this one's versions
    items += [("some cells measured by", code_words(v or None)) for v in earlier]
    return KeyValues("Versions", tuple(items))


def provenance_section(view: RunView) -> Section | None:
    """The versions and the command that measures the same model again (an analysed model's; a
    monitor records none); None where the manifest holds neither."""
    m = view.manifest
    blocks: list[Any] = []
    versions = versions_block(m)
    if versions is not None:
        blocks.append(versions)
    if m.get("command"):
        blocks.append(
            Code(
                "Reproduce",
                command_text(str(m["command"])),
                "Run this command from the folder it was first run in (its paths are as "
                "typed there) to measure the same model on the same inputs again, with --out "
                "naming a new directory: in this one it finds the measurement and does nothing.",
            )
        )
    if not blocks:
        return None
    if not m.get("command"):  # the versions alone: the section's title is theirs, said once
        # (a monitor's page read "Versions" over a block headed "Versions")
        blocks = [replace(b, title="") for b in blocks]
    return Section(
        PROVENANCE.key,
        PROVENANCE.title if m.get("command") else "Versions",
        "How this page's numbers were made: "
        "the versions of vanishlab, its libraries and the platform they were measured with"
        + (", and the command that measures them again." if m.get("command") else "."),
        tuple(blocks),
    )
