"""Mutation round of the command line (vanishlab/cli/), 2026-12-07: each test here failed on
a small plausible change of the code it names that passed the CLI's fast tests, and passes on
the code as it is.

32 hand-made mutants, one at a time, each against the fast tests of its code (``pytest -x -m
"not slow"``): 26 killed by the tests before (81%), 32 with these (100%). Killed before: exit
status 2 -> 1; fail()'s line on stdout; 141 -> 1; VANISHLAB_TRACEBACK ignored for a
VanishlabError; ``except Exception`` for ``except OSError``; an unknown RuntimeError made a
user error; the SIGTERM/Ctrl-C order of ignored stops; no removed-cwd check; _FINISHED kept
between commands; ``given N times`` from 3; blank paths taken; ``-o -`` taken; ``-1`` read as
an option; ``--seeds`` bound 0; ``--seeds`` with ``--seed``; torch imported by ``inits``;
``--version extra`` and ``inits --help extra`` taken; the ``--`` in the dash-path hint;
``--dry-run`` running the sweep; ``--force`` ignored by sweep, report and the dry run's
words; analyze's two ``--batch-first`` checks dropped; report's check of a regular file above
``-o`` dropped.
No defect was found in the code: each survivor was a gap in its tests.
"""

from __future__ import annotations

import errno
import types

import pytest
import typer
from _cli_lines import one_error_line
from typer.testing import CliRunner

from vanishlab.cli import _app, app, output
from vanishlab.cli.command_errors import stop_leaves, user_errors

runner = CliRunner()


def _exit_of(func, capsys) -> tuple[int, str]:
    """Run a :func:`user_errors` command ``func`` in-process: its exit status and stderr."""
    with pytest.raises(typer.Exit) as caught:
        func()
    return caught.value.exit_code, capsys.readouterr().err


def test_a_stop_whose_look_fails_still_says_its_fixed_words(capsys):
    """Mutant: command_errors._after catching less than ``Exception`` of the look that says what
    a stop leaves (``except ZeroDivisionError``): an ``OSError`` of that look (the run folder
    gone) came out of the Ctrl-C's handler as a traceback, not the stop's one line."""

    def stopped():
        def look() -> str:
            raise FileNotFoundError(2, "No such file or directory", "runs/x")

        stop_leaves(look)
        raise KeyboardInterrupt

    status, err = _exit_of(user_errors(stopped, stopped="finished work is kept"), capsys)
    assert status == 130
    assert err.strip() == "interrupted: finished work is kept", err


def test_a_ctrl_c_while_the_group_parses_is_the_commands_one_line(monkeypatch):
    """Mutant: _OneLineUsage.make_context without its ``except KeyboardInterrupt``: a Ctrl-C
    while the app's own arguments are parsed (before any command's ``invoke``, which catches
    its own) was click's "Aborted!", status 1, not "interrupted", status 130."""

    def interrupted_here(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_app, "itertools", types.SimpleNamespace(takewhile=interrupted_here))
    result = runner.invoke(app, ["inits"])
    assert result.exit_code == 130, (result.exit_code, result.stderr)
    assert result.stderr.strip() == "interrupted", result.stderr


def test_a_refused_read_is_not_told_what_a_stop_leaves(capsys):
    """Mutant: user_errors adding what a stop leaves (``_after``) to every ``OSError``'s line,
    not only to a write the system refused (``err.errno in WRITE_ERRNOS``): a path that does not
    exist read "No such file or directory: runs/x; finished work is kept; run the same command
    to resume", advice that runs the same refusal again."""

    def reads():
        raise FileNotFoundError(2, "No such file or directory", "runs/x")

    status, err = _exit_of(user_errors(reads), capsys)
    assert status == 2
    assert err.strip() == "error: No such file or directory: runs/x", err


def test_an_empty_value_of_a_repeated_axis_flag_is_refused_not_dropped(tmp_path, monkeypatch):
    """Mutant: params.merged joining only the non-empty values of an axis flag given twice:
    ``--gain 1 --gain ''`` swept gain 1 alone, an empty item dropped in silence, where ``--gain
    1,`` (the same list, written once) is refused as malformed."""
    monkeypatch.chdir(tmp_path)
    for args in (["--gain", "1", "--gain", ""], ["--gain", "1,"]):
        result = runner.invoke(app, ["sweep", *args, "--dry-run"])
        one_error_line(result, "--gain")
    assert not any(tmp_path.iterdir())


def test_a_standard_output_that_refuses_a_listing_is_named_as_such(monkeypatch):
    """Mutant: output.say letting the ``OSError`` of its write out as it is (``raise``), not
    as the standard output's refusal: ``vanishlab inits > /dev/full`` was told "No space left
    on device (the disk is full: free some space)", naming no file at all."""

    def refused(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(typer, "echo", refused)
    one_error_line(runner.invoke(app, ["inits"]), "error: cannot write the standard output")


def test_a_broken_pipe_other_than_stdouts_is_one_line_not_a_quiet_141(monkeypatch, capsys):
    """Mutant: output.broken_pipe not asking whether stdout's reader went away
    (``_stdout_reader_gone``): a pipe of the command's own that broke (a socket, a child's
    stdin) ended it quietly with status 141, as if ``| head`` had stopped reading, where it is
    one line and status 2."""
    monkeypatch.setattr(output, "_stdout_reader_gone", lambda: False)
    exit_ = output.broken_pipe(BrokenPipeError(errno.EPIPE, "Broken pipe"))
    assert exit_.exit_code == 2
    assert capsys.readouterr().err.strip() == "error: Broken pipe", capsys.readouterr()
