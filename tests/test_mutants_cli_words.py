"""Mutants of the command line's words and stops that the earlier tests let live (a mutation
round over vanishlab/cli/help_text.py, disk_words.py, memory_words.py and stops.py: 53
hand-made mutants, 25 of which lived): each test names the mutants it kills, against an
expectation worked by hand (a line's exact words, columns counted, the stop that ends the
block)."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
import time

import click
import pytest

from vanishlab.cli import help_text
from vanishlab.cli.disk_words import os_error_text, write_remedy
from vanishlab.cli.memory_words import environment_refusal
from vanishlab.cli.stops import HungUp, Terminated, stop_word, terminable

# --- help_text -------------------------------------------------------------------------------


def _plain(width: int) -> click.HelpFormatter:
    """The narrow help's formatter (click's, words whole) at ``width`` columns, indent 0."""
    return help_text._whole_words(click.HelpFormatter)(width=width)


def test_a_required_argument_given_several_times_is_unbraced_with_its_dots():
    """Mutant: ``\\1\\2`` -> ``\\1`` in unbraced (the dots of ``{FILES}...`` dropped, as if one
    file were taken). No command takes several arguments yet, so only this says it."""
    assert help_text.unbraced(["[OPTIONS]", "{FILES}...", "{RUN_DIR}"]) == [
        "[OPTIONS]",
        "FILES...",
        "RUN_DIR",
    ]


@pytest.mark.parametrize(("columns", "narrow"), [(59, True), (60, False)])
def test_the_plain_help_starts_below_60_columns_not_at_them(monkeypatch, columns, narrow):
    """Mutant: ``<`` -> ``<=`` in narrow_terminal (60 columns got the plain help, which the
    docs and PLAIN_HELP_BELOW say starts below 60)."""
    import typer.rich_utils

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", columns)
    assert help_text.narrow_terminal() is narrow


@pytest.mark.parametrize(
    ("width", "said"),
    [
        (30, "--out\n    where it goes\n"),  # 30 - len("--out  ") = 23 columns beside: too few
        (31, "--out  where it goes\n"),  # 24 beside: MIN_BESIDE, enough
    ],
)
def test_a_description_goes_under_its_name_below_24_columns_beside_it(width, said):
    """Mutants: MIN_BESIDE 24 -> 0 (23 columns kept beside), STACKED_INDENT 4 -> 2 (under the
    name at 2 columns), ``len(term) > first - col_spacing`` -> ``>=`` (the longest name, which
    fits its column, pushed its description under it)."""
    plain = _plain(width)
    plain.write_dl([("--out", "where it goes")])
    assert plain.getvalue() == said


@pytest.mark.parametrize(
    ("width", "said"),
    [
        (32, "Usage: prog ARGS\n"),  # len("Usage: prog ") + 20 = 32 <= 32: beside
        (31, "Usage: prog\n           ARGS\n"),  # under, indented len("Usage: ") + 4 = 11
    ],
)
def test_a_usage_line_keeps_its_arguments_beside_where_20_columns_are_left(width, said):
    """Mutant: ``len(head) + 20 <= self.width`` -> ``<`` (click's rule: the arguments stay
    beside the program where 20 columns are left; at exactly 20 they went under it)."""
    plain = _plain(width)
    plain.write_usage("prog", "ARGS")
    assert plain.getvalue() == said


def test_a_word_longer_than_the_line_overflows_it_whole():
    """Mutant: break_long_words=False -> True (a word longer than the line, a path, was cut
    into pieces of the line's width)."""
    plain = _plain(20)
    plain.write_text("go to supercalifragilisticexpialidocious now")
    assert plain.getvalue() == "go to\nsupercalifragilisticexpialidocious\nnow\n"


def test_an_option_s_description_is_measured_without_rich_s_escape():
    """Mutant: write_dl's rows left escaped (``\\[`` measured with its backslash: a word of 24
    columns counted as 25, and its description pushed under the name with 24 columns beside
    it)."""
    word = "[" + "a" * 23  # 24 columns, as the help shows it
    plain = _plain(29)  # 29 - len("--x  ") = 24 columns beside: enough
    plain.write_dl([("--x", "\\" + word)])
    assert plain.getvalue() == f"--x  {word}\n"


# --- disk_words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "strerror", "remedy"),
    [
        ("EROFS", "Read-only file system", "write elsewhere"),
        ("EDQUOT", "Disk quota exceeded", "over the disk quota: free some space"),
    ],
)
def test_a_read_only_file_system_or_a_quota_is_a_refused_write_with_its_remedy(
    name, strerror, remedy
):
    """Mutants: EROFS, or EDQUOT, dropped from the write errors (said "Read-only file system:
    /d/x", no "cannot write", no remedy)."""
    err = OSError(getattr(errno, name), strerror, "/d/x")
    assert os_error_text(err) == f"cannot write /d/x: {strerror} ({remedy})"
    assert write_remedy(err) == f" ({remedy})"


def test_a_refused_write_between_two_paths_names_both_in_order():
    """Mutants: ``len(paths) == 1`` -> ``>= 1`` (a rename onto a full disk said "cannot write
    /a", the target left out), and the join ``' -> '`` -> ``', '`` (which way it went lost)."""
    err = OSError(errno.ENOSPC, "No space left on device", "/a", None, "/b")
    said = "No space left on device (the disk is full: free some space): /a -> /b"
    assert os_error_text(err) == said


def test_a_pipe_that_refuses_the_output_for_another_reason_is_given_no_advice(monkeypatch):
    """Mutants: ``refused = err.errno in WRITE_ERRNOS`` -> True (an I/O error on a pipe told
    "send the output elsewhere", the advice for a full device), and _fd_path naming what is not
    a path (``pipe:[1234]``, Linux's name for a pipe, said as if it were one)."""
    from vanishlab.cli.disk_words import stdout_error_text

    read, write = os.pipe()

    class Piped:
        def fileno(self) -> int:
            return write

    monkeypatch.setattr(sys, "stdout", Piped())
    try:
        said = stdout_error_text(OSError(errno.EIO, "Input/output error"))
    finally:
        os.close(read)
        os.close(write)
    assert said == "cannot write the standard output: Input/output error"


# --- memory_words ----------------------------------------------------------------------------

_RAISE = "raise its limit (ulimit -v, the batch job's memory) or free some"


def test_a_memory_error_without_words_is_said_without_a_colon():
    """Mutant: ``MemoryError{': text' if text else ''}`` -> ``MemoryError: {text}`` (a bare
    MemoryError, the usual one, said "(MemoryError: )")."""
    said = environment_refusal(MemoryError())
    assert said == f"out of memory (MemoryError): the process was refused memory; {_RAISE}"


def test_a_mapping_refused_memory_is_said_in_the_loader_s_words():
    """Mutant: "cannot allocate memory" dropped from the signs of a mapping refused (the
    loader's other words for it, ``libgomp.so: cannot allocate memory in static TLS block``,
    left a traceback)."""
    text = "libgomp.so.1: cannot allocate memory in static TLS block"
    said = environment_refusal(ImportError(text))
    assert said == f"out of memory ({text}): the process was refused memory; {_RAISE}"


def test_a_library_that_failed_to_map_off_a_noexec_file_system_is_memory(tmp_path):
    """Mutant: the noexec flag's test dropped (a library on an ordinary file system that failed
    to map for want of memory told to move off a noexec mount it is not on)."""
    library = tmp_path / "_x.so"
    library.write_bytes(b"")
    text = f"{library}: failed to map segment from shared object"
    said = environment_refusal(ImportError(text))
    assert said == f"out of memory ({text}): the process was refused memory; {_RAISE}"


def test_a_thread_refused_behind_a_system_error_is_said_as_one():
    """Mutant: a SystemError's cause read as a MemoryError alone (a C function that returned
    with "can't start new thread" set left a traceback)."""
    err = SystemError("error return with exception set")
    err.__cause__ = RuntimeError("can't start new thread")
    assert environment_refusal(err) == environment_refusal(err.__cause__)
    assert environment_refusal(err).startswith("out of memory or threads (can't start new")


def test_a_subclass_of_runtime_error_in_a_thread_s_words_is_a_bug():
    """Mutant: ``type(err) is RuntimeError`` -> isinstance for the thread refused (a
    NotImplementedError, a RecursionError, said as a limit on threads)."""
    assert environment_refusal(NotImplementedError("can't start new thread")) is None


def test_torch_s_allocator_refused_is_said_from_its_words_on_on_one_line():
    """Mutants: the text before the allocator's words kept (``[enforce fail at
    alloc_cpu.cpp:127] data. ``), and the lines not joined (torch's message spans lines)."""
    err = RuntimeError(
        "[enforce fail at alloc_cpu.cpp:127] data.\nDefaultCPUAllocator: can't allocate memory:"
        "\n  you tried to allocate 800 bytes."
    )
    said = environment_refusal(err)
    assert said == (
        "out of memory (DefaultCPUAllocator: can't allocate memory: you tried to allocate 800"
        f" bytes.): the process was refused memory; {_RAISE}"
    )


# --- stops -----------------------------------------------------------------------------------


def test_a_stop_of_no_word_of_its_own_is_said_terminated():
    """Mutant: stop_word's fallback Terminated -> KeyboardInterrupt (a stop by a signal that
    raises nothing of its own, SIGUSR1 sent on, said "interrupted", Ctrl-C's word)."""
    assert stop_word(signal.SIGUSR1) == "terminated"
    assert (stop_word(signal.SIGINT), stop_word(signal.SIGTERM)) == ("interrupted", "terminated")
    assert stop_word(signal.SIGHUP) == "hung up"
    assert (Terminated.signum, HungUp.signum) == (15, 1)  # the status is 128 + these


def _stop(signum: int) -> None:
    """``signum`` sent to this process, and the bytecodes its handler runs in."""
    os.kill(os.getpid(), signum)
    for _ in range(1000):  # the handler runs here
        pass


def test_of_two_stops_in_the_clean_up_the_first_is_the_block_s(monkeypatch):
    """Mutant: ``raise raises[late[0]]()`` -> ``late[-1]`` (a SIGTERM that landed in the
    block's clean-up, then a Ctrl-C, ended the block "interrupted", status 130, not 143). Each
    lands once the block's end is set (Event.set called from the block's own frame); each is
    sent once the last has been handled (CPython runs pending handlers by signal number)."""
    real = threading.Event.set

    def set_then_two_stops(event: threading.Event) -> None:
        real(event)
        if sys._getframe(1).f_code is terminable.__wrapped__.__code__:
            _stop(signal.SIGTERM)
            _stop(signal.SIGINT)

    monkeypatch.setattr(threading.Event, "set", set_then_two_stops)
    with pytest.raises(BaseException) as ended, terminable() as received:  # which: below
        pass
    assert (ended.type, received) == (Terminated, [signal.SIGTERM, signal.SIGINT])


def test_two_swallowed_stops_are_sent_again_in_the_order_they_came(monkeypatch):
    """Mutant: ``owed.pop(0)`` -> ``owed.pop()`` (a Ctrl-C swallowed, then a SIGTERM swallowed,
    sent again SIGTERM first: the command said "terminated", status 143). RESEND_S is made
    0.3 s so that both are swallowed before the sender first looks."""
    from vanishlab.cli import stops

    monkeypatch.setattr(stops, "RESEND_S", 0.3)

    def swallowing(signum: int) -> None:
        with contextlib.suppress(BaseException):  # the swallowing this test stands for
            _stop(signum)

    with pytest.raises(BaseException) as ended, terminable() as received:  # which: below
        swallowing(signal.SIGINT)
        swallowing(signal.SIGTERM)
        time.sleep(30)  # the next steps: the stop sent again ends them
    assert ended.type is KeyboardInterrupt
    assert received == [signal.SIGINT, signal.SIGTERM, signal.SIGINT]


@pytest.mark.parametrize("ending", [KeyboardInterrupt, SystemExit])
def test_a_stop_in_the_clean_up_of_a_block_already_ending_is_only_noted(monkeypatch, ending):
    """Mutants: ``if late and not stopped`` -> ``if late``, and ``stopped = False`` (a SIGTERM
    that landed in the clean-up of a block ending by Ctrl-C, or by sys.exit, replaced that
    ending: "terminated", status 143, where the command had already been stopped or ended)."""
    real = threading.Event.set

    def set_then_a_stop(event: threading.Event) -> None:
        real(event)
        if sys._getframe(1).f_code is terminable.__wrapped__.__code__:
            _stop(signal.SIGTERM)

    monkeypatch.setattr(threading.Event, "set", set_then_a_stop)
    with pytest.raises(BaseException) as ended, terminable() as received:  # which: below
        raise ending()
    assert (ended.type, received) == (ending, [signal.SIGTERM])


def test_a_block_s_handler_met_after_its_end_passes_the_stop_to_the_one_before():
    """Mutant: ``signal.raise_signal(signum)`` dropped from the handler met once the block has
    ended (its handler put back, but the stop itself lost: a SIGTERM did nothing at all)."""
    seen: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        recorder = signal.getsignal(signal.SIGTERM)
        with terminable():
            blocks = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, blocks)  # left set, as a handler that raised leaves it
        _stop(signal.SIGTERM)
        assert seen == [signal.SIGTERM] and signal.getsignal(signal.SIGTERM) is recorder
    finally:
        signal.signal(signal.SIGTERM, before)
