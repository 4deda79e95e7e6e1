"""The ``vanishlab`` command line: a thin typer layer over the library.

Each command parses its arguments and calls one library function. A mistake of the user's
(:class:`~vanishlab.errors.VanishlabError`) prints one line on stderr and exits with status 2;
a traceback is a bug.
Commands live in one module each and register themselves on :data:`app`.
"""

from __future__ import annotations

from . import analyze, report, sweep  # noqa: F401  (registers commands)
from ._app import app

__all__ = ["app"]
