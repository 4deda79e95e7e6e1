"""Children that a test stops by a signal start with the stops at their defaults.

An ignored disposition and the signal mask survive exec: a pytest process started with SIGHUP
ignored (``nohup make test``) or blocked, or one a test left so, passed that on to the child,
and a command that keeps a stop its launcher ignored (nohup semantics) then ran to its end
instead of being stopped (tests/test_hangup.py's analysis: status 0 instead of -SIGHUP)."""

from __future__ import annotations

import signal

from vanishlab.sweep.held_signals import STOPS as _STOPS


def stops_at_their_defaults() -> None:
    """A ``preexec_fn``: Ctrl-C, SIGTERM and SIGHUP at their defaults and unblocked in the
    child, whatever this process has."""
    for signum in _STOPS:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
