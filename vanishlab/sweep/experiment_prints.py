"""What an experiment file prints goes to stderr: loaded (:func:`~.experiments.import_file`),
and in its init's apply as a cell is drawn, in this process or on a Dask worker (a local pool's
worker sends its whole stdout there). stdout is the command's, where ``vanishlab sweep -q``
prints the run's path alone for a script to read (``out=$(vanishlab sweep foo -q)``)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["prints_to_stderr"]

_LOCK = threading.Lock()
_HELD: list[Any] = [0, None, None]
"""How many blocks of :func:`prints_to_stderr` run now, the stdout the first one found, and
the stream it put in its place."""


@contextlib.contextmanager
def prints_to_stderr() -> Iterator[None]:
    """``sys.stdout`` is ``sys.stderr`` for the block, and what it was once the last block
    that runs at once (a Dask worker's threads, each drawing a cell) ends. Counted, not
    ``contextlib.redirect_stdout``: two of those that overlap in two threads may leave stdout
    at stderr for good (the second keeps stderr as the stdout to put back).

    Put back only where ``sys.stdout`` is still the stream the first block set: one that its
    owner set meanwhile stays. A worker thread of a threads-only Dask cluster in this process
    (``LocalCluster(processes=False)``) that drew a cell across the start of a command run in
    typer's CliRunner (or any program's own stdout) put the stdout it had found back over the
    runner's: the runner's text wrapper, held by ``sys.stdout`` alone, was freed, which closed
    the runner's buffer ("ValueError: I/O operation on closed file" as it read the output);
    one that drew a cell across a runner's end left the runner's stream the process's stdout.
    """
    with _LOCK:
        if _HELD[0] == 0:
            _HELD[1], _HELD[2] = sys.stdout, sys.stderr
            sys.stdout = sys.stderr
        _HELD[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _HELD[0] -= 1
            if _HELD[0] == 0:
                if sys.stdout is _HELD[2]:  # still this block's: else its owner's since
                    sys.stdout = _HELD[1]
                _HELD[1] = _HELD[2] = None
