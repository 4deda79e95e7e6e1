"""What rich draws on a terminal of a given width, for the tests of the progress bars."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
import rich.console

_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


def terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> Callable[[], str]:
    """Make every rich Console made from now on draw into a terminal of ``width`` columns;
    return a function that gives what was drawn so far, without its control sequences."""
    out = io.StringIO()
    real = rich.console.Console

    class Terminal(real):  # type: ignore[misc,valid-type]
        def __init__(self, *args, stderr=False, **kwargs):
            super().__init__(*args, file=out, width=width, force_terminal=True, **kwargs)

    monkeypatch.setattr(rich.console, "Console", Terminal)
    return lambda: _ANSI.sub("", out.getvalue())
