"""Python's warning filters, which every thread of a process shares.

``warnings.catch_warnings`` saves the process's filter list on entry and puts it back on exit.
Two threads inside one at once undo each other: the first to leave restores the list it saw
(dropping the other's filters while that one still runs), and the last to leave restores a list
that holds the first one's filter, which then stays for good. vanishlab silences a few known
warnings of its own calls (torch.load's, cuDNN's, matplotlib's, the library's notes that the
command line says in its own words) and may run in several threads (Dask workers, a caller's
thread pool around ``vl.analyze_checkpoint``); every such stretch runs inside :func:`ignoring`,
under one process-wide lock, so vanishlab's threads never overlap there. (A thread of the
user's own that changes the filters meanwhile is not covered; one that warns meanwhile has the
same filters applied.) The lock is re-entrant: a stretch may hold another (the command line's
analysis loads a checkpoint); a lock of another process-wide setting is taken inside it.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

__all__ = ["LOCK", "ignoring"]

#: Held while a thread of vanishlab's has the process's warning filters saved and changed.
LOCK = threading.RLock()


@contextlib.contextmanager
def ignoring(*messages: str, category: type[Warning] = Warning) -> Iterator[None]:
    """Under :data:`LOCK`, ignore the warnings of ``category`` whose message matches one of the
    regular expressions ``messages`` (from its start, as ``warnings.filterwarnings`` matches);
    the filters as they were come back on exit."""
    with LOCK, warnings.catch_warnings():
        for message in messages:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield
