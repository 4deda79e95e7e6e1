"""The command line where its authors seldom run it: an ASCII locale without Python's UTF-8
mode (LC_ALL=C PYTHONUTF8=0). The terminal's own kinds (TERM=dumb, a pipe, FORCE_COLOR) are
tests/test_dumb_terminal.py's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("name", ["mé", "中文 🚀", "m\ufffd", "plain"])
def test_a_folder_name_is_its_utf8_bytes_where_the_file_system_cannot_write_it(monkeypatch, name):
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "ascii")
    monkeypatch.setattr(sys, "getfilesystemencodeerrors", lambda: "surrogateescape")
    folder = fs_name(name)
    assert folder.encode("ascii", "surrogateescape") == name.encode("utf-8")
    monkeypatch.setattr(sys, "getfilesystemencoding", lambda: "utf-8")
    assert fs_name(name) == name  # a UTF-8 locale's folder: the same bytes
