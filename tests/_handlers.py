"""Signal handlers the tests of a block's clean-up set as "the handlers before the block": one
that raises (:class:`Broke`, as a command's handler raises its stop) and one that records."""

from __future__ import annotations


class Broke(Exception):
    """Raised by :func:`raising`: the previous handler's own exception."""


def raising(signum: int, frame: object) -> None:
    raise Broke


class Recording:
    """A handler that notes each signal it is called with, in :attr:`seen`."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, signum: int, frame: object) -> None:
        self.seen.append(signum)
