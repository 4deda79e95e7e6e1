"""Exceptions that vanishlab raises on purpose, and the one warning of its own.

Anything derived from :class:`VanishlabError` is a problem with what the user asked for (bad
input, a broken experiment module, a run directory that holds something else). The CLI prints
such an error as one line and exits with status 2; any other exception is a bug.
:class:`ManifestChangedWarning` says what is read, not refused: a manifest edited since written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "TRACEBACK",
    "CellTooLargeError",
    "GridTooLargeError",
    "ManifestChangedWarning",
    "MemoryRefusedError",
    "NonFiniteStateError",
    "StoppedRunError",
    "VanishlabError",
    "both_words",
    "command_line_words",
    "on_command_line",
    "python_words",
    "surface_words",
    "traceback_wanted",
]

TRACEBACK = "VANISHLAB_TRACEBACK"
"""The environment variable that, set (to anything but :data:`_TRACEBACK_OFF`), shows the
traceback behind an error vanishlab says in one line: a command ends in it instead (status 1;
``cli.command_errors``), and a sweep's cell that fails with an error prints it as it is recorded
(``sweep.measure``). A MemoryError from a shape bug that asked for 7 PiB read as the machine's
shortage, its origin lost."""

# The values that ask for no traceback, in any case and spacing: the off words that --bias
# takes too. VANISHLAB_TRACEBACK=false (or no, off) ended a user's mistake in a traceback.
_TRACEBACK_OFF = frozenset({"", "0", "false", "no", "off"})


def traceback_wanted() -> bool:
    """Whether ``$VANISHLAB_TRACEBACK`` asks for an error's traceback beside its line."""
    return os.environ.get(TRACEBACK, "").strip().lower() not in _TRACEBACK_OFF


# An option in words that reach both the command line and the Python API, written once as
# "--seq-len (seq_len=)" or with a value, "--bias true (bias=True)": the flag (and the value as
# typed), then the argument (and its Python value). Each surface keeps its own half.
_OPTION = re.compile(
    r"(?P<flag>--[a-z][a-z0-9-]*(?: [^\s()]+)?)"
    r" \((?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>[^\s()]*)\)"
)
_command_line = 0  # how many command-line commands are running in this process


def command_line_words(text: str) -> str:
    """``text`` as the command line says it: each option by its flag alone ("--seq-len: must
    be at least 1", where the words say "--seq-len (seq_len=): ...")."""
    return _OPTION.sub(r"\g<flag>", text)


def python_words(text: str) -> str:
    """``text`` as a caller of the Python API reads it: each option by its argument alone
    ("seq_len=: must be at least 1", "bias=True")."""
    return _OPTION.sub(r"\g<name>=\g<value>", text)


@contextmanager
def on_command_line() -> Iterator[None]:
    """While a command runs: a :class:`VanishlabError` keeps both names of an option in
    ``str(err)`` (the words another message embeds, and that the command line's one writer of
    lines, ``cli.output.note``, turns into :func:`command_line_words`); elsewhere ``str(err)`` is
    :func:`python_words`."""
    global _command_line
    _command_line += 1
    try:
        yield
    finally:
        _command_line -= 1


def surface_words(text: str) -> str:
    """``text`` as this process says it now: :func:`command_line_words` while a command runs
    (:func:`on_command_line`), else :func:`python_words`."""
    return command_line_words(text) if _command_line else python_words(text)


def both_words(err: BaseException) -> str:
    """``err``'s text as a record that both surfaces read keeps it: a :class:`VanishlabError`'s
    with both names of an option ("--gain (gain=)"), which each reader turns into its own (a
    failed cell's reason, which the command line's lines say by the flag); any other as
    ``str``. A cell measured in a worker process stored Python's words ("gain="), where the
    sweep's own process stored both, so ``--workers 2`` and Dask said "gain=" on the command
    line and ``--workers 1`` "--gain"."""
    return Exception.__str__(err) if isinstance(err, VanishlabError) else str(err)


class VanishlabError(Exception):
    """Base class of errors the user can fix; the CLI shows ``str(err)`` and exits with 2.

    Its words name an option once for both surfaces ("--seq-len (seq_len=)"): ``str(err)``
    names the argument alone (:func:`python_words`), and the command line the flag alone."""

    def __str__(self) -> str:
        text = super().__str__()
        return text if _command_line else python_words(text)


class GridTooLargeError(VanishlabError):
    """A grid with more cells than one run takes (:data:`vanishlab.sweep.axes.MAX_CELLS`)."""


class CellTooLargeError(VanishlabError):
    """A sweep's largest cell needs more memory, by its estimate, than this machine has
    available: refused before anything runs (:func:`vanishlab.sweep.capacity.check_memory`);
    or a cell would take longer than one may (``check_time`` beside it).
    The command line adds its advice (``--dry-run``), which Python has no counterpart of."""


class MemoryRefusedError(VanishlabError):
    """A measurement asked the CPU's allocator for more memory than it could give
    (:mod:`vanishlab.core.allocation`); ``asked`` is the request in bytes, None when torch did
    not say. A sweep's cell words its reason with its own levers (its axes, its workers)."""

    def __init__(self, message: str, asked: int | None = None) -> None:
        self.asked = asked
        super().__init__(message)


class StoppedRunError(VanishlabError):
    """A sweep's cells stopped running before its end: a worker process died, the Dask cluster
    stopped. ``str(err)`` says why, ``then`` what to change when the sweep runs again (", perhaps
    with fewer --workers (workers=)"; "" for nothing). Its raiser knows no run directory: the
    runner adds what the directory keeps, looked at after the stop
    (:func:`vanishlab.sweep.run_summary.stopped_line`). "finished cells are kept" was said
    where no cell had finished."""

    def __init__(self, message: str, then: str = "") -> None:
        self.then = then
        super().__init__(message)

    def __reduce__(self) -> tuple[type[StoppedRunError], tuple[str, str]]:
        return type(self), (self.args[0], self.then)


class ManifestChangedWarning(UserWarning):
    """A run's ``manifest.json`` changed since vanishlab wrote it (edited by hand, or damaged
    where it still parses and validates): read as it is now, never refused. Its words name the
    file and the keys that differ (:mod:`vanishlab.sweep.manifest_digest`)."""


class NonFiniteStateError(VanishlabError, ArithmeticError):
    """The model's own forward pass produced inf or NaN, so its Jacobians are undefined.

    Attributes name where it first happened: ``layer`` and ``time`` (0-based position in the
    sequence) and ``sample`` (index in the batch).
    """

    def __init__(self, layer: int, time: int, sample: int, value: float) -> None:
        self.layer, self.time, self.sample, self.value = layer, time, sample, value
        kind = "NaN" if value != value else "inf"
        super().__init__(
            f"hidden state of layer {layer} became {kind} at time step {time} (sample {sample}): "
            "the forward pass overflowed, so its Jacobians are undefined"
        )

    def __reduce__(self) -> tuple[type[NonFiniteStateError], tuple[int, int, int, float]]:
        # its own arguments, not the message alone (an exception pickles its args): raised in
        # a process pool's worker, it failed to unpickle in the parent (a TypeError there)
        return type(self), (self.layer, self.time, self.sample, self.value)
