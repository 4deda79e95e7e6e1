"""Shared by the command-line tests: what a refused command's output must look like."""

from __future__ import annotations

import traceback


def one_error_line(result, contains: str) -> str:
    """The one line a refused command wrote (``result``: typer's CliRunner result): exit status
    2, stderr a single line starting "error: " that holds ``contains``."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, raised(result))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert contains in lines[0], lines[0]
    return lines[0]


def raised(result) -> str:
    """The traceback of what a command let out (CliRunner keeps it, and its exit status is 1
    with nothing written: a failure said only "(1, '', '')"); "" where it exited itself."""
    if result.exc_info is None or isinstance(result.exception, SystemExit):
        return ""
    return "".join(traceback.format_exception(*result.exc_info))
