"""The ``vanishlab`` command line: a thin typer layer over the library.

Each command parses its arguments and calls one library function. A mistake of the user's
(:class:`~vanishlab.errors.VanishlabError`) prints one line on stderr and exits with status 2;
a traceback is a bug.
Commands live in one module each and register themselves on :data:`app`, which is imported on
first use (PEP 562): the console command (:mod:`vanishlab.__main__`) imports :mod:`.stops`, the
standard library only, to have its stops in hand before typer and the commands load.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see .stops)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import analyze, report, sweep  # noqa: F401  (registers commands)
    from ._app import app

    globals()["app"] = app  # looked up here from now on
    return app
