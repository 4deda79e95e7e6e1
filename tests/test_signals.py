"""Ctrl-C and SIGTERM: held where a stop would break the pool, never lost, never doubled."""

from __future__ import annotations

import gc
import os
import signal
import sys

import pytest
import typer

from vanishlab.cli._app import user_errors
from vanishlab.sweep.executors import _signals_held

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_a_held_ctrl_c_acts_once_when_the_block_ends():
    before = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt), _signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # signal handlers run between bytecodes: here, they hold
            pass
        reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is before


def test_held_signals_reach_their_own_handlers_even_when_the_block_raises():
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        with pytest.raises(ValueError), _signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # two arrive: held, delivered once
            for _ in range(1000):
                pass
            raise ValueError("the block fails")
        assert seen == [signal.SIGTERM]
        # Afterwards the handler is the previous one again: nothing is held any more.
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
        assert seen == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_sigterm_python_ignores_in_a_destructor_still_stops_the_command(capsys):
    # The command's handler raises where the signal lands; in a __del__ Python prints
    # "Exception ignored" (with a traceback) and goes on, and the command used to finish as if
    # never stopped. Now it stops when it returns, and nothing but its line is printed.
    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs here, inside __del__
                pass

    @user_errors
    def command() -> str:
        Dropped()
        gc.collect()
        return "done"

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert err.startswith("terminated:") and len(err.splitlines()) == 1, err
