"""The ``vanishlab`` console command (and ``python -m vanishlab``).

The command line's modules are imported here, inside the entry point, so that a Ctrl-C while
they load, or while typer builds its commands (the first tenth of a second), ends in the same
one line and status 130 as one during a command (:func:`vanishlab.cli._app.user_errors`), not
in a traceback.
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    try:
        from .cli import app

        app()  # (typer builds its commands here, before the parser's own Ctrl-C handling)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(128 + signal.SIGINT)  # as the commands' own Ctrl-C (130)


if __name__ == "__main__":
    main()
