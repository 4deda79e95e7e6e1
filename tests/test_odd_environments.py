"""The command line where its authors seldom run it: an ASCII locale without Python's UTF-8
mode (LC_ALL=C PYTHONUTF8=0), and a working directory removed under the shell. The terminal's
own kinds (TERM=dumb, a pipe, FORCE_COLOR) are tests/test_dumb_terminal.py's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _tiny_run import tiny_run_dir

from vanishlab.cli.command_errors import WORKING_DIRECTORY_GONE
from vanishlab.sweep.files import fs_name

_TINY_EXPERIMENT = '''"""A tiny study."""
import vanishlab as vl

SWEEP = vl.Sweep(hidden_size=4, input_size=2, seq_len=3, batch=2)
SMOKE = SWEEP
'''


def _ascii_locale() -> dict[str, str]:
    """The environment of a shell under LC_ALL=C without Python's UTF-8 mode: every stream and
    the file system's encoding ASCII."""
    drop = ("LANG", "LANGUAGE", "PYTHONIOENCODING", "PYTHONUTF8", "PYTHONCOERCECLOCALE")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("LC_")}
    return env | {"LC_ALL": "C", "PYTHONUTF8": "0"}


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX locale")
def test_an_experiment_named_in_utf8_sweeps_under_an_ascii_locale(tmp_path):
    """`vanishlab sweep mé.py --smoke` under LC_ALL=C PYTHONUTF8=0 ended in a
    UnicodeEncodeError traceback (status 1): its default folder, runs/ plus the experiment's
    name read as text, held an é that the file system's encoding (ASCII) could not write. The
    folder is the name's UTF-8 bytes, the one a UTF-8 locale makes, so that either resumes it."""
    (tmp_path / "mé.py").write_text(_TINY_EXPERIMENT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", "sweep", "mé.py", "--smoke", "--dry-run"],
        capture_output=True,
        env=_ascii_locale(),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stderr, done.stderr
    assert "-> runs/mé-smoke (new run directory)".encode() in done.stdout, done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX locale")
def test_an_experiment_named_in_utf8_is_listed_and_run_by_name_under_an_ascii_locale(tmp_path):
    """Under LC_ALL=C PYTHONUTF8=0 Python keeps the é of experiments/mé.py as two escaped bytes,
    which are no identifier: `vanishlab experiments` left mé out, and `vanishlab sweep mé` said
    "'m\\xc3\\xa9' is not an experiment name or a path to a .py file"."""
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "mé.py").write_text(_TINY_EXPERIMENT, encoding="utf-8")
    vanishlab = [sys.executable, "-m", "vanishlab"]
    kw = {"capture_output": True, "env": _ascii_locale(), "cwd": tmp_path, "timeout": 120}
    listed = subprocess.run([*vanishlab, "experiments"], **kw)
    assert listed.returncode == 0, listed.stderr
    assert "mé ".encode() in listed.stdout, listed.stdout
    # its description in the column of the others' (it stood one left: é padded as two bytes)
    rows = listed.stdout.decode().split("\n\n")[0].splitlines()
    assert len({len(re.match(r"\S+ +", row)[0]) for row in rows}) == 1, rows
    run = subprocess.run([*vanishlab, "sweep", "mé", "--smoke", "--dry-run"], **kw)
    assert run.returncode == 0, run.stderr
    assert "-> runs/mé-smoke (new run directory)".encode() in run.stdout, run.stdout


# "mé\udcff": a byte already kept as a surrogate is that byte (it was ED B3 BF: another folder)
@pytest.mark.parametrize("name", ["mé", "中文 🚀", "m\ufffd", "plain", "mé\udcff"])
def test_a_folder_name_is_its_utf8_bytes_where_the_file_system_cannot_write_it(monkeypatch, name):
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "ascii")
    monkeypatch.setattr(sys, "getfilesystemencodeerrors", lambda: "surrogateescape")
    folder = fs_name(name)
    assert folder.encode("ascii", "surrogateescape") == name.encode("utf-8", "surrogateescape")
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "utf-8")
    assert fs_name(name) == name  # a UTF-8 locale's folder: the same bytes


def _in_a_removed_folder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``vanishlab ARGS`` started by a shell whose working directory was removed under it."""
    gone = tmp_path / "gone"
    gone.mkdir()
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    return subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(gone), sys.executable, "-m", "vanishlab", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="a removed working directory: POSIX")
@pytest.mark.parametrize(
    "args",
    [
        # "Intel oneMKL FATAL ERROR: Cannot load .../libtorch_cpu.so": importing torch there
        # ends the process (status 2), naming a library that is there
        ("sweep", "--smoke", "--model", "rnn", "--num-layers", "1", "--out", "{tmp}/new"),
        ("experiments",),  # "error: No such file or directory"
        ("report", "{tmp}/run"),  # likewise, of the report's default folder
    ],
)
def test_a_command_in_a_removed_folder_says_so_in_one_line(tmp_path, args):
    tiny_run_dir(tmp_path)
    done = _in_a_removed_folder(tmp_path, *(a.format(tmp=tmp_path) for a in args))
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr == f"error: {WORKING_DIRECTORY_GONE}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing written


@pytest.mark.skipif(sys.platform == "win32", reason="a removed working directory: POSIX")
def test_help_still_answers_in_a_removed_folder(tmp_path):
    done = _in_a_removed_folder(tmp_path, "sweep", "--help")
    assert done.returncode == 0 and "--out" in done.stdout, done.stderr


@pytest.mark.parametrize("command", [["inits"], ["experiments"], ["sweep", "--dry-run"]])
def test_a_working_directory_whose_path_cannot_be_read_is_one_line(monkeypatch, command):
    """``os.getcwd()`` raises PermissionError where a parent of a path past PATH_MAX may not be
    read (seen: 45 levels of 100-character names, the first mode 311, as user nobody). The
    check of a removed folder caught FileNotFoundError alone, before the command's ``except
    OSError``: every command ended in a traceback there (``inits`` had answered; a sweep ended
    in the oneMKL line of a removed folder)."""
    from typer.testing import CliRunner

    from vanishlab.cli import app, command_errors

    def refused() -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(command_errors.os, "getcwd", refused)
    result = CliRunner().invoke(app, command)
    assert (result.exit_code, result.stdout) == (2, ""), result.exc_info
    assert result.stderr == (
        "error: the current directory's path cannot be read (Permission denied): cd to a "
        "directory whose path you can read, then run the command again\n"
    )
