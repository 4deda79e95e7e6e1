"""The ``vanishlab`` console command (and ``python -m vanishlab``).

The command line's modules are imported here, inside the entry point, so that a Ctrl-C while
they load, or while typer builds its commands (the first tenth of a second), ends in the same
one line as one during a command (:func:`vanishlab.cli.command_errors.user_errors`), not in a
traceback. They load inside :func:`vanishlab.cli.stops.terminable` (the standard library only,
imported first): a stop raised in a finalizer then, which Python ignores (importlib's module
locks have weakref callbacks), is sent again, as during a command; it was lost, and a sweep
stopped in its first second or two ran to its end with status 0. Before that, from this
module's first statement (while it is imported, before :func:`main` runs), an uncaught Ctrl-C
is printed as that one line too (:func:`_one_line`), and Python ends the process by SIGINT, as
:func:`main` does. (The console script imports ``vanishlab`` itself first, which imports
nothing but its version, and Python starts before that: a Ctrl-C there, the first ~20 ms, is
Python's.)

A command stopped by Ctrl-C or SIGTERM prints its line and cleans up; then, once Python has run
its exit handlers (temporary folders, the semaphores of worker pools), the process ends by that
signal itself, as Python does for an unhandled Ctrl-C: a shell shows status 130 or 143 and
stops a script's loop, which an exit with status 130 would let go on. A Ctrl-C after a command
has ended (while Python shuts down) is ignored, once: its work is done; a second one ends the
process at once, should the shutdown hang. SIGTERM (`kill PID`, a batch system's stop) is
treated the same: from :func:`main`'s first statement, while the command line loads, it ends
in the line "terminated" (it was the default's silent end, status 143, for the first ~0.3 s),
and once the command has ended, the first is ignored (it ended a finished sweep by SIGTERM with
no word, in the second or more Python takes to tear torch down).
"""

import sys

_python_hook = sys.excepthook


def _one_line(kind: type[BaseException], value: BaseException, tb: object) -> None:
    """``sys.excepthook``: an uncaught Ctrl-C as one line; anything else as Python prints it."""
    if issubclass(kind, KeyboardInterrupt) and sys.stderr is not None:
        sys.stderr.write("interrupted\n")  # Python then ends the process by SIGINT (status 130)
    else:
        _python_hook(kind, value, tb)  # type: ignore[arg-type]


sys.excepthook = _one_line  # first: this module's own imports may be interrupted

import atexit  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

from .cli.stops import STOP_RAISES, Terminated, stop_word, terminable  # noqa: E402  (not typer)

# The stops a handler of ours ends the process by: SIGTERM and SIGHUP (a closed terminal),
# each with its line (SIGHUP ended it at once without a word: see stops.HungUp).
_ENDING = tuple(s for s in STOP_RAISES if s != signal.SIGINT)
_BY_STATUS = {128 + s: s for s in (signal.SIGINT, *_ENDING)}
_MAX_WIDTH = 10_000  # columns: wider than any terminal (help is padded to it, line by line)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM or SIGHUP outside :func:`terminable`'s block (before it, and after it, while
    the ending is decided), as the block raises it."""
    raise STOP_RAISES[signum]  # (only where there is a SIGHUP is one raised as such)


def main() -> None:
    for signum in _ENDING:
        if signal.getsignal(signum) == signal.SIG_DFL:  # one the launcher ignores stays so (nohup)
            signal.signal(signum, _terminate)
    if sys.stdout is None:  # started with its standard output closed (`vanishlab inits >&-`)
        # Every command's output was lost, with status 0: an environment problem, one line.
        if sys.stderr is not None:
            sys.stderr.write(
                "error: the standard output is closed, so nothing this command prints could be "
                "read; redirect it to /dev/null to discard it\n"
            )
        sys.exit(2)
    # An output encoding that cannot show a name or a path (an ISO-8859-1 terminal, a
    # PYTHONIOENCODING) escapes it: the final line raised a traceback after the work was done.
    # (Under a C or C.UTF-8 locale Python writes such a byte of a path back as it came,
    # "surrogateescape": left so, the path printed is the file's.)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    ending: list[int] = []

    def end_by_signal() -> None:
        if ending:
            _flush_quietly()
            signal.signal(ending[0], signal.SIG_DFL)
            os.kill(os.getpid(), ending[0])
        else:
            _flush_quietly()
            # The last exit handler: what is left is the interpreter's teardown, where Python
            # sets a handler written in Python back to the default (ending by SIGINT, without
            # a word; SIGTERM too). Nothing there can hang on the command's work: ignored.
            for signum in (signal.SIGINT, *_ENDING):
                signal.signal(signum, signal.SIG_IGN)

    # Registered before anything else is: exit handlers run last-registered first, so this
    # one runs after every other.
    atexit.register(end_by_signal)
    _ignore_malformed_width()
    try:
        # (A stop Python ignored that is still to be sent again when the command ends, within
        # RESEND_S of its end, came as it ended: ignored, as one just after it is.)
        with terminable():
            from .cli import app

            app()  # (typer builds its commands here, before the parser's own Ctrl-C handling)
    except (KeyboardInterrupt, Terminated) as stop:
        signum = signal.SIGINT if isinstance(stop, KeyboardInterrupt) else stop.signum
        _end_quietly_at_sigterm()
        _say(f"{stop_word(signum)}\n")
        ending.append(signum)
        sys.exit(128 + signum)
    except SystemExit as done:
        if isinstance(done.code, int) and done.code in _BY_STATUS:
            _end_quietly_at_sigterm()  # its line is written: a second SIGTERM ends it
            ending.append(_BY_STATUS[done.code])
        else:
            # The command has ended (its run finished, its report written): a Ctrl-C in the
            # moment left, while Python shuts down, ended the process by SIGINT with no word,
            # so a script took finished work for interrupted. The first is ignored now; a
            # second ends the process at once (a shutdown that hangs can still be stopped).
            signal.signal(signal.SIGINT, _second_ctrl_c_ends)
            for signum in _ENDING:
                if signal.getsignal(signum) != signal.SIG_IGN:
                    signal.signal(signum, _second_ctrl_c_ends)
        raise


def _say(line: str) -> None:
    """``line`` on stderr, if it can take it: a closed stderr (``2>&-``: None) or one that
    fails (a pipe whose reader has gone, 2>/dev/full) raised here, and the process ended with
    status 1 instead of by its signal. (A full pipe whose reader is there blocks the write,
    as it blocks any.)"""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(line)


def _flush_quietly() -> None:
    """Flush stdout and stderr at the end (by a signal or not); one that is closed or fails is
    passed over (it raised in the exit handler, which never sent the signal: status 130), and
    one that cannot take what is left in its buffer (``> /dev/full``, ``2>/dev/full``, a pipe
    whose reader has gone) is pointed at the null device, so that the interpreter's own flush
    after the exit handlers succeeds. A write that failed keeps its bytes in the buffer, and
    that last flush failed again: every command then ended with status 120 and Python's
    "Exception ignored ... OSError" lines, after its own one line and status (2 for a refused
    stdout, 0 for a finished sweep under ``2>/dev/full``), wherever PYTHONUNBUFFERED was not
    set (it is unset for users)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            # (no descriptor, or a closed one: nothing to point elsewhere)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _end_quietly_at_sigterm() -> None:
    """SIGTERM and SIGHUP back to their default (ending the process), unless the launcher
    ignored them."""
    for signum in _ENDING:
        if signal.getsignal(signum) == _terminate:
            signal.signal(signum, signal.SIG_DFL)


def _ignore_malformed_width() -> None:
    """Drop a ``TERMINAL_WIDTH`` or ``COLUMNS`` that is no whole number (``x``, ``80px``) or is
    wider than any terminal (over :data:`_MAX_WIDTH`): typer reads ``TERMINAL_WIDTH`` with
    ``int()`` when it first formats help, and every ``--help`` ended in a ValueError traceback;
    rich pads help's lines to the width, and ``TERMINAL_WIDTH`` or ``COLUMNS`` of 10**20 ended
    it in an OverflowError (2**63 - 1: a MemoryError). Help then takes the terminal's width, as
    rich does for a ``COLUMNS`` that is no number."""
    for name in ("TERMINAL_WIDTH", "COLUMNS"):
        value = os.environ.get(name)
        if value:
            try:
                malformed = int(value) > _MAX_WIDTH
            except ValueError:
                malformed = True
            if malformed:
                del os.environ[name]


def _second_ctrl_c_ends(signum: int, frame: object) -> None:
    """After a command ended: ignore one Ctrl-C (or SIGTERM), end by that signal at the next."""
    signal.signal(signum, signal.SIG_DFL)


if __name__ == "__main__":
    main()
