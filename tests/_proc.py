"""Reading other processes' /proc entries in tests that scan every process on the machine.

Any process may be named in bytes that are not UTF-8 (seen on a shared machine: a test that
decoded every command line strictly failed with UnicodeDecodeError), so they are decoded with
replacement; a process that ends while it is read is skipped.
"""

from __future__ import annotations

from pathlib import Path


def stat_fields(stat: Path) -> list[str] | None:
    """The fields of a ``/proc/<pid>/stat`` after the command name (state, ppid, pgrp,
    session, ...), or None where the process has gone."""
    try:
        text = stat.read_bytes().decode(errors="replace")
    except OSError:
        return None
    _, sep, rest = text.rpartition(")")
    return rest.split() if sep else None


def cmdline(pid_dir: Path) -> str | None:
    """A process's command line, its arguments joined by spaces, or None where it has gone."""
    try:
        return (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
