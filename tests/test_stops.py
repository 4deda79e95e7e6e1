"""vanishlab.cli.stops.terminable, on its own: what a command's stop handling leaves as it found
it (another thread's command, a signal the launcher ignores, the handlers and the hook before
it), a stop that lands while the unraisable hook reports another finalizer's error, and a stop
that code swallows."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time

import pytest
import typer
from _next_steps import next_steps

from vanishlab.cli._app import user_errors
from vanishlab.cli.stops import Terminated, terminable

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_a_command_run_outside_the_main_thread_sets_no_handler():
    """A decorated command called from another thread (a caller's worker thread) runs as it
    is: Python sets signal handlers in the main thread only (ValueError elsewhere)."""
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    @user_errors
    def command() -> str:
        seen.append(signal.getsignal(signal.SIGTERM))
        return "done"

    def body() -> None:
        seen.append(command())
        with terminable() as received:
            seen.append(list(received))

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert seen == [before, "done", []]


def test_a_signal_the_launcher_ignores_stays_ignored_while_a_command_runs():
    """A launcher may start a command with SIGTERM ignored; the command must not take it up
    (tests/test_signals.py checks this of the console command while it loads, not of the
    command's own block)."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with terminable() as received:
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # a handler would run here
                pass
        assert received == [] and signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_block_puts_back_the_handlers_and_the_hook_it_found():
    """Whether the block ends or raises, the handlers and the unraisable hook are those it
    found, and a handler not set from Python (getsignal's None) becomes the default action."""

    def mine(signum: int, frame: object) -> None:
        pass

    def hook(unraisable: object) -> None:
        pass

    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    saved_hook = sys.unraisablehook
    try:
        signal.signal(signal.SIGTERM, mine)
        sys.unraisablehook = hook
        with terminable():
            assert signal.getsignal(signal.SIGTERM) is not mine and sys.unraisablehook is not hook
        assert signal.getsignal(signal.SIGTERM) is mine and sys.unraisablehook is hook
        with pytest.raises(KeyboardInterrupt), terminable():
            raise KeyboardInterrupt
        assert signal.getsignal(signal.SIGTERM) is mine and sys.unraisablehook is hook
        assert signal.getsignal(signal.SIGINT) is saved[signal.SIGINT]

        real = signal.getsignal
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(signal, "getsignal", lambda s: None if s == signal.SIGTERM else real(s))
            with terminable():
                pass
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        for s, was in saved.items():
            signal.signal(s, was)
        sys.unraisablehook = saved_hook


@pytest.mark.parametrize(
    ("signum", "stop", "status"),
    [(signal.SIGTERM, "terminated", 143), (signal.SIGINT, "interrupted", 130)],
)
def test_a_stop_while_the_hook_reports_another_finalizer_s_error_stops_the_command(
    capsys, signum, stop, status
):
    """A Ctrl-C or SIGTERM that lands while the hook hands another finalizer's error (not a
    stop) to the hook before it (Python's, printing "Exception ignored") would be ignored
    there: it is owed and sent again once the hook has returned, and the command stops at its
    next step. The hook before it still gets that error."""
    reported: list[type[BaseException]] = []
    done: list[str] = []

    def previous_hook(unraisable: object) -> None:
        reported.append(type(unraisable.exc_value))  # type: ignore[attr-defined]
        os.kill(os.getpid(), signum)  # the user's stop, while the error is reported
        for _ in range(1000):  # the handler runs here, inside the hook
            pass

    class Broken:
        def __del__(self) -> None:
            raise ValueError("a finalizer's own error")

    @user_errors(stopped="nothing measured")
    def command() -> None:
        Broken()
        gc.collect()
        next_steps()  # ended by the stop sent again
        done.append("measured")

    saved = sys.unraisablehook
    sys.unraisablehook = previous_hook
    try:
        with pytest.raises(typer.Exit) as stopped:
            command()
    finally:
        sys.unraisablehook = saved
    assert reported == [ValueError]
    assert done == [] and stopped.value.exit_code == status
    assert capsys.readouterr().err == f"{stop}: nothing measured\n"


def test_a_stop_sent_again_as_the_block_ends_is_still_the_block_s(monkeypatch):
    """The thread that sends an owed stop again may be about to send it when the block ends:
    the block waits for it, so the stop still meets the block's handler (Terminated), not
    the one put back after it (SIGTERM's default action ended the process without a word).

    Told by events, not by the clock: the block ended 0.1 s after the stop, and a sender
    thread not yet scheduled by then (a loaded machine) found the block ended before its
    first look, sent nothing, and the test failed ("DID NOT RAISE"). Here the block ends once
    the sender is looking, and the sender sends once the block is ending (its end set, the
    block waiting for the sender)."""
    real_frames = sys._current_frames
    looking = threading.Event()
    main = threading.main_thread().ident

    def ending() -> bool:  # the main thread in terminable's clean-up, its end set
        frame = real_frames().get(main)
        return (
            frame is not None
            and frame.f_code is terminable.__wrapped__.__code__
            and frame.f_locals["ended"].is_set()
        )

    def slow_frames() -> dict:
        if threading.current_thread() is not threading.main_thread():
            looking.set()  # the sender, descheduled as the block ends
            deadline = time.monotonic() + 60
            while not ending():
                assert time.monotonic() < deadline, "the block never ended"
                time.sleep(0.005)
        return real_frames()

    class Dropped:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # raised here, Python ignores it: owed
            for _ in range(1000):
                pass

    after: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: after.append(signum))
    monkeypatch.setattr(sys, "_current_frames", slow_frames)
    try:
        with pytest.raises(Terminated), terminable():
            Dropped()
            gc.collect()
            assert looking.wait(60)  # the sender looks, and is held as the block ends
        assert after == []
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_terminated_is_no_exception_a_command_catches():
    """SIGTERM stops a command as Ctrl-C does: past ``except Exception`` in its body."""
    assert not issubclass(Terminated, Exception) and issubclass(Terminated, BaseException)


def _swallowing(signum: int) -> None:
    """Code that swallows a stop raised in it, as Cython's generated module initialisation
    does (``except: pass`` around registering its memoryview with ``collections.abc``: the
    extension modules of numpy.random and pandas, imported in a sweep's first seconds)."""
    try:
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the handler runs here, and raises
            pass
    except:  # noqa: E722 - the swallowing this test stands for
        pass


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "terminated: "), (signal.SIGINT, "interrupted: ")]
)
def test_a_stop_swallowed_by_the_command_s_code_stops_it_at_its_next_step(capsys, signum, said):
    """A Ctrl-C that landed while numpy's or pandas' extension modules loaded (helper 202: 1
    run in 65 of a sweep stopped in its first two seconds, on a loaded machine) was raised
    and then swallowed there: the sweep ran on to its end, 20-30 s, and only then said "the
    command finished first". The stop is now sent again; the command stops at its next step."""
    done: list[str] = []

    @user_errors(stopped="nothing measured")
    def command() -> None:
        _swallowing(signum)
        next_steps()  # ended by the stop sent again
        done.append("measured")

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert done == [] and stopped.value.exit_code == 128 + signum
    assert capsys.readouterr().err == f"{said}nothing measured\n"


def test_a_swallowed_stop_is_sent_again_once():
    """A swallowed stop is sent once more, and that one ends the block; it is not sent again
    after it (the handler put back meets none)."""
    swallowed: list[int] = []
    after: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: after.append(signum))
    try:
        with pytest.raises(KeyboardInterrupt), terminable() as received:
            for _ in range(2):
                _swallowing(signal.SIGINT)
                swallowed.append(len(received))
                next_steps()  # sent again: raised here, the first time it is swallowed
        time.sleep(0.1)
        assert swallowed == [1] and received == [signal.SIGINT] * 2 and after == []
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_while_torch_is_imported_is_held_until_the_import_is_done(tmp_path, signum):
    """A Ctrl-C raised in Python code that torch's C++ start-up calls (``_autograd_init``)
    aborted the process ("terminate called after throwing an instance of
    'pybind11::error_already_set'", SIGABRT). A stop in the body of a ``torch/__init__.py`` is
    now held until that body has run, then raised. (A stand-in file of that name: the real
    import runs once per process, and the abort is a race inside it.)"""
    import importlib.util

    init = tmp_path / "torch" / "__init__.py"
    init.parent.mkdir()
    init.write_text(
        "import os, signal, time\n"
        f"os.kill(os.getpid(), {int(signum)})\n"
        "deadline = time.monotonic() + 0.3\n"
        "while time.monotonic() < deadline:  # the handler runs between these lines\n"
        "    pass\n"
        "DONE = True\n"
    )
    spec = importlib.util.spec_from_file_location("_stand_in_torch", init)
    module = importlib.util.module_from_spec(spec)
    stopped = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    with pytest.raises(stopped), terminable() as received:
        spec.loader.exec_module(module)
        assert getattr(module, "DONE", False)  # the body ran to its end
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # then the stop, sent again
            time.sleep(0.01)
    # sent again once the import was done, not into it (held again there, each RESEND_S)
    assert received == [signum, signum] and getattr(module, "DONE", False)
