"""A terminal that rich does not redraw (TERM=dumb: Emacs' M-x shell, an editor's terminal)
takes the plain progress lines of a pipe: rich's bar drew nothing there until it stopped, so a
sweep of hours showed no progress at all until its end."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from vanishlab.sweep import progress

_ONE_CELL = (
    *(sys.executable, "-m", "vanishlab", "sweep", "--smoke", "--model", "rnn"),
    *("--activation", "tanh", "--num-layers", "1", "--init", "default", "--workers", "1"),
)
_RICH_ENV = ("TERM", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "redrawn"),
    [
        ({"TERM": "xterm-256color"}, True),
        ({}, True),  # TERM unset: rich redraws (as it does in a bare `env -i` shell)
        ({"TERM": "dumb"}, False),
        ({"TERM": "unknown"}, False),
        ({"TERM": "xterm", "TTY_INTERACTIVE": "0"}, False),
        ({"TERM": "xterm", "TTY_COMPATIBLE": "0"}, False),
    ],
)
def test_a_terminal_rich_does_not_redraw_is_none(monkeypatch, env, redrawn):
    for name in _RICH_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress.is_terminal() is redrawn


def test_the_suite_runs_without_rich_overrides_of_a_stream():
    # conftest unsets them for every test and every process a test starts (fails where one is
    # set in the environment of the suite, without conftest's care: FORCE_COLOR=1 make test)
    from conftest import RICH_STREAM_OVERRIDES

    assert [name for name in RICH_STREAM_OVERRIDES if name in os.environ] == []


def test_a_pipe_is_none_whatever_force_color_says(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's terminal, but a log file takes lines
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress.is_terminal() is False


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX pseudo-terminal")
def test_a_sweep_on_a_dumb_terminal_prints_plain_lines(tmp_path):
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in _RICH_ENV} | {"TERM": "dumb"}
    out = tmp_path / "run"
    try:
        result = subprocess.run(
            [*_ONE_CELL, "--out", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            timeout=120,
            text=True,
            cwd=tmp_path,
        )
        os.close(follower)
        follower = -1
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower's side closed and drained (Linux: EIO)
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0, drawn
    text = drawn.decode("utf-8", "replace")
    assert "━" not in text and "\x1b[" not in text, text  # no bar, no cursor movement
    assert "run: 1/1 cells (100%), 0 failed" in text, text  # the plain line of a pipe
    assert result.stdout.endswith(f"-> {out}\n"), result.stdout
