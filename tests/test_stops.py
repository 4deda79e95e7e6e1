"""vanishlab.cli.stops.terminable, on its own: what a command's stop handling leaves as it found
it (another thread's command, a signal the launcher ignores, the handlers and the hook before
it), a stop that lands while the unraisable hook reports another finalizer's error, and a stop
that code swallows.

Each stop here lands where the test puts it (as in tests/test_signals.py, whose docstring says
how): none in an import or a file's open. Beside 3 busy loops on 2 cores (load 5-14), 16 of 16
fresh runs of this file and 50 repeats of each in-process stop test of it, of test_signals.py
and of test_mutants_s46.py in one process (2,100 runs) passed."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
import time
from typing import Any

import pytest
import typer
from _handlers import Broke, Recording, raising
from _next_steps import next_steps

from vanishlab.cli._app import user_errors
from vanishlab.cli.stops import STOP_RAISES, Terminated, terminable

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


def _senders() -> list[object]:
    """The frames of a block's sending threads still looking (bare threads: not in
    threading.enumerate)."""
    found = []
    for frame in sys._current_frames().values():
        while frame is not None:
            code = frame.f_code
            if code.co_name == "send_again" and code.co_filename.endswith("stops.py"):
                found.append(frame)
            frame = frame.f_back
    return found


def _left_behind(saved: dict[int, object], saved_hook: object) -> list[str]:
    """What a block left behind, each thing put back (a sender looking ended): left, they met
    the next tests' stops."""
    senders = _senders()
    for frame in senders:
        frame.f_locals["ended"].set()
    left = [
        f"{signal.Signals(s).name}'s handler"
        for s, was in saved.items()
        if signal.getsignal(s) is not was
    ]
    left += ["the unraisable hook"] * (sys.unraisablehook is not saved_hook)
    left += ["a sender"] * len(senders)
    for s, was in saved.items():
        signal.signal(s, was)
    sys.unraisablehook = saved_hook
    return left


def _landing_in(monkeypatch, owner: object, name: str, signum: int, after: Any = None) -> None:
    """``owner.name`` called from terminable's own code sends ``signum`` before it runs (or
    after it, where ``after(*its arguments)``), and runs the bytecodes its handler runs in: a
    stop that lands in the block's set-up or clean-up."""
    real = getattr(owner, name)

    def stop() -> None:
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the handler runs here
            pass

    def with_a_stop(*args: object) -> object:
        callers = (sys._getframe(1), sys._getframe(1).f_back)  # (or a function of its own)
        ours = any(f is not None and f.f_code is terminable.__wrapped__.__code__ for f in callers)
        if ours and after is None:
            stop()
        done = real(*args)
        if ours and after is not None and after(*args):
            stop()
        return done

    monkeypatch.setattr(owner, name, with_a_stop)


@pytest.mark.parametrize("ended", [False, True], ids=["as-it-ends", "once-ended"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_in_the_block_s_clean_up_leaves_none_of_the_block_behind(monkeypatch, signum, ended):
    """A stop (a second Ctrl-C, one sent again) that landed in the block's clean-up raised
    there, before the clean-up had waited for the sender or put anything back: the block's
    handlers and hook stayed, and its sender kept looking and sent a stop later, into what
    came next (a test once ended 143 "terminated:" where a Ctrl-C was sent). Now the clean-up
    runs to its end; then a stop that came once the block had ended is raised as the
    block's, and one that came as it ended (before its end was set) is noted."""
    saved = {s: signal.getsignal(s) for s in STOP_RAISES}
    saved_hook = sys.unraisablehook
    _landing_in(monkeypatch, threading.Event, "set", signum, (lambda e: True) if ended else None)
    kept: list[BaseException] = []
    raised: list[BaseException] = []
    try:
        try:
            with terminable() as received:
                try:  # a stop raised and kept: the sender is started, and watches it
                    os.kill(os.getpid(), signal.SIGINT)
                    for _ in range(1000):
                        pass
                except KeyboardInterrupt as stop:
                    kept.append(stop)
        except (KeyboardInterrupt, Terminated) as stop:  # kept: one let go of is sent again
            raised.append(stop)
    finally:
        left = _left_behind(saved, saved_hook)
    assert left == [] and received == [signal.SIGINT, signum]
    assert [type(r) for r in raised] == ([STOP_RAISES[signum]] if ended else [])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_on_the_block_s_way_out_leaves_none_of_the_block_behind(monkeypatch, signum):
    """A stop that landed as the ``with`` left the block, in contextlib's ``__exit__`` before
    the clean-up began, raised there and broke the ``with`` off with no clean-up run: while
    the exception lived (a caller's traceback), the block's handlers, hook and sender stayed,
    the sender sent the stop again into what came next, and a process that kept it hung at
    its exit. Python 3.12 and 3.13 check for signals there: a SIGTERM sent again as a
    command returned landed there, and the next test's Ctrl-C ended 143, "terminated:"
    (tests/test_signals.py, under -n 2). Now it is noted, as one that lands in
    the clean-up before the block's end is set, and the clean-up runs."""
    from vanishlab.cli import stops

    monkeypatch.setattr(stops, "RESEND_S", 60.0)  # not sent again: noted, as the block ends
    saved = {s: signal.getsignal(s) for s in STOP_RAISES}
    saved_hook = sys.unraisablehook
    tracing = sys.gettrace()

    def on_the_way_out(frame: object, event: str, arg: object) -> None:
        sys.settrace(tracing)  # the first call after the block's last line: its way out
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the handler runs here
            pass

    kept: list[BaseException] = []  # as a caller's traceback keeps it
    try:
        try:
            with terminable() as received:
                sys.settrace(on_the_way_out)
        except BaseException as stop:
            kept.append(stop)
    finally:
        sys.settrace(tracing)
        left = _left_behind(saved, saved_hook)
    assert left == [] and kept == [] and received == [signum]


def test_a_stop_on_the_block_s_way_in_is_raised_in_the_block():
    """One that landed in contextlib's ``__enter__`` once the set-up was done (its handlers
    set) raised there: the ``with`` was never entered, so nothing was put back. Now it is
    sent again, into the block, and the clean-up puts everything back."""
    saved = {s: signal.getsignal(s) for s in STOP_RAISES}
    saved_hook = sys.unraisablehook
    tracing = sys.gettrace()
    entering = contextlib._GeneratorContextManager.__enter__.__code__  # the block's way in

    def set_up_done(frame: Any, event: str, arg: object) -> Any:
        if frame.f_code is not entering:
            return None
        if event == "return":  # the set-up has yielded: its handlers are set
            sys.settrace(tracing)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs here
                pass
        return set_up_done

    done: list[str] = []
    try:
        with pytest.raises(Terminated) as raised:
            sys.settrace(set_up_done)
            with terminable() as received:
                sys.settrace(tracing)
                next_steps()  # ended by the stop, sent again
                done.append("measured")
    finally:
        sys.settrace(tracing)
        left = _left_behind(saved, saved_hook)
    assert left == [] and done == [] and received == [signal.SIGTERM] * 2 and raised.value


def test_a_stop_in_the_block_s_set_up_is_raised_in_the_block(monkeypatch):
    """One that landed after the first handler was set, before the block began, raised out of
    the set-up: no clean-up ran, and the block's handlers stayed. Now it is raised in the
    block, at its first step, and the clean-up puts everything back."""
    saved = {s: signal.getsignal(s) for s in STOP_RAISES}
    saved_hook = sys.unraisablehook
    _landing_in(monkeypatch, signal, "signal", signal.SIGTERM, lambda s, h: s == signal.SIGTERM)
    done: list[str] = []
    try:
        with pytest.raises(Terminated) as raised, terminable() as received:
            monkeypatch.undo()
            next_steps()  # ended by the stop, sent again
            done.append("measured")
    finally:
        monkeypatch.undo()
        left = _left_behind(saved, saved_hook)
    assert left == [] and done == [] and received == [signal.SIGTERM] * 2 and raised.value


def test_a_handler_of_the_block_left_set_acts_as_the_one_before_it_and_puts_it_back(
    monkeypatch,
):
    """A handler put back may raise at once, before the clean-up has put back the rest (here
    SIGINT's, a Ctrl-C meeting it): the block's handlers still set then raised the block's
    stops after it. Now each acts as the handler before the block would, and puts it back."""

    recording = Recording()
    seen = recording.seen

    saved = {s: signal.getsignal(s) for s in STOP_RAISES}
    saved_hook = sys.unraisablehook
    signal.signal(signal.SIGINT, raising)
    signal.signal(signal.SIGTERM, recording)
    before = {s: signal.getsignal(s) for s in STOP_RAISES}
    _landing_in(
        monkeypatch,
        signal,
        "signal",
        signal.SIGINT,
        lambda s, h: s == signal.SIGINT and h is raising,
    )
    try:
        with pytest.raises(Broke), terminable():
            pass
        monkeypatch.undo()
        still = [s for s in STOP_RAISES if signal.getsignal(s) is not before[s]]
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs here
            pass
        after = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    finally:
        monkeypatch.undo()
        _left_behind(saved, saved_hook)
    assert signal.SIGTERM in still and seen == [signal.SIGTERM]
    assert after == {signal.SIGINT: raising, signal.SIGTERM: recording}
