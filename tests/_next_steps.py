"""Shared by the tests of a stop sent again: the command's next steps, which that stop ends."""

from __future__ import annotations

import time

#: The most the next steps last. A stop sent again ends them at once: within RESEND_S (10 ms)
#: on an idle machine, when its sender thread is next scheduled on a loaded one. A fixed 0.5 s
#: took a sender that 2 cores shared with other work ran late for a lost stop (the test failed
#: by chance); one never sent again still runs them out, and the test fails, only slowly.
STEPS_S = 30.0


def next_steps(seconds: float = STEPS_S) -> None:
    """The command's next steps (a sweep's next cells): ``seconds`` of a wait that a stop's
    exception, raised in this thread, ends."""
    time.sleep(seconds)
