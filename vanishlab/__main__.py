"""The ``vanishlab`` console command (and ``python -m vanishlab``).

The command line's modules are imported here, inside the entry point, so that a Ctrl-C while
they load, or while typer builds its commands (the first tenth of a second), ends in the same
one line as one during a command (:func:`vanishlab.cli._app.user_errors`), not in a
traceback. Before that, from this module's first statement (while it is imported, before
:func:`main` runs), an uncaught Ctrl-C is printed as that one line too (:func:`_one_line`),
and Python ends the process by SIGINT, as :func:`main` does. (The console script imports
``vanishlab`` itself first, which imports nothing but its version, and Python starts before
that: a Ctrl-C there, the first ~20 ms, is Python's.)

A command stopped by Ctrl-C or SIGTERM prints its line and cleans up; then, once Python has run
its exit handlers (temporary folders, the semaphores of worker pools), the process ends by that
signal itself, as Python does for an unhandled Ctrl-C: a shell shows status 130 or 143 and
stops a script's loop, which an exit with status 130 would let go on. A Ctrl-C after a command
has ended (while Python shuts down) is ignored, once: its work is done; a second one ends the
process at once, should the shutdown hang.
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
import io  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402

_BY_STATUS = {128 + signal.SIGINT: signal.SIGINT, 128 + signal.SIGTERM: signal.SIGTERM}
_MAX_WIDTH = 10_000  # columns: wider than any terminal (help is padded to it, line by line)


def main() -> None:
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
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(ending[0], signal.SIG_DFL)
            os.kill(os.getpid(), ending[0])
        else:
            # The last exit handler: what is left is the interpreter's teardown, where Python
            # sets a handler written in Python back to the default (ending by SIGINT, without
            # a word). Nothing there can hang on the command's work: ignored outright.
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    # Registered before anything else is: exit handlers run last-registered first, so this
    # one runs after every other.
    atexit.register(end_by_signal)
    _ignore_malformed_width()
    try:
        from .cli import app

        app()  # (typer builds its commands here, before the parser's own Ctrl-C handling)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        ending.append(signal.SIGINT)
        sys.exit(128 + signal.SIGINT)
    except SystemExit as done:
        if isinstance(done.code, int) and done.code in _BY_STATUS:
            ending.append(_BY_STATUS[done.code])
        else:
            # The command has ended (its run finished, its report written): a Ctrl-C in the
            # moment left, while Python shuts down, ended the process by SIGINT with no word,
            # so a script took finished work for interrupted. The first is ignored now; a
            # second ends the process at once (a shutdown that hangs can still be stopped).
            signal.signal(signal.SIGINT, _second_ctrl_c_ends)
        raise


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
    """After a command ended: ignore one Ctrl-C, end by SIGINT at the next."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


if __name__ == "__main__":
    main()
