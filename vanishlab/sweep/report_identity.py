"""Which run a report shows: the run's identity (its ``run_id``, or for a run written before
ids existed its name and start time) and the HTML comment that ends its report and names it,
so that a report is never taken for another run's (``vanishlab report`` refreshes only its
own run's page)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["report_marker", "report_run", "run_identity"]

_MARKER = "vanishlab-run:"
_MARKER_RE = re.compile(r"<!-- vanishlab-run:([^ ]*) -->")


def run_identity(manifest: Mapping[str, Any]) -> str:
    """A run's identity: its ``run_id`` (a random id given when the run directory is created),
    or, for a run written before ids existed, its name and start time."""
    run_id = manifest.get("run_id")
    if isinstance(run_id, str) and run_id:
        return run_id
    return f"{manifest.get('name')}@{manifest.get('started')}".replace(" ", "_")


def report_marker(manifest: Mapping[str, Any]) -> str:
    """The HTML comment that ends a report and names its run (see :func:`report_run`)."""
    return f"<!-- {_MARKER}{run_identity(manifest)} -->\n"


def report_run(path: str | os.PathLike[str]) -> str | None:
    """The identity of the run whose report ``path`` is, or None if it is not a report."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    found = _MARKER_RE.findall(tail)
    return found[-1] if found else None
