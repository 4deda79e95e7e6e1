"""A report's first import of matplotlib is quiet wherever it comes from: the page's layout
measures its titles (``text_metrics``) before a figure is drawn, and that import came before
``render_html`` made matplotlib's folders writable. An ``MPLCONFIGDIR`` that could not be
written then got matplotlib's own two lines of warning ("... is not a writable directory",
"Matplotlib created a temporary cache directory ..."), not vanishlab's one note."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


# In the slow tier: ~3 s of CPU, as is the test below; make test keeps tests/test_report.py's
# in-process test_an_mplconfigdir_that_cannot_be_written_gets_one_note_and_a_private_folder.
@pytest.mark.slow
def test_a_report_whose_mplconfigdir_cannot_be_written_says_one_note(smoke_run_dir, tmp_path):
    (tmp_path / "file").write_text("")
    chosen = tmp_path / "file" / "mpl"  # below a file: it cannot be made
    (tmp_path / "tmp").mkdir()
    page = tmp_path / "page.html"
    env = {**os.environ, "MPLCONFIGDIR": str(chosen), "TMPDIR": str(tmp_path / "tmp")}
    env.pop("VANISHLAB_TRACEBACK", None)
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", "report", str(smoke_run_dir), "-o", str(page)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"note: MPLCONFIGDIR={chosen} cannot be written; matplotlib's cache is in a temporary "
        "folder for this run\n"
    )
    assert page.is_file() and list((tmp_path / "tmp").iterdir()) == []  # removed at exit


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_report_makes_no_home_folder(smoke_run_dir, tmp_path):
    """`HOME=/nonexistent vanishlab report RUN` (root in a container) made /nonexistent, and
    .config/matplotlib and .cache/matplotlib in it: matplotlib makes its folders with their
    parents. Its cache is in a temporary folder instead, removed at exit, silently."""
    home = tmp_path / "nonexistent"
    (tmp_path / "tmp").mkdir()
    page = tmp_path / "page.html"
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp_path / "tmp")}
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "VANISHLAB_TRACEBACK"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "vanishlab", "report", str(smoke_run_dir), "-o", str(page), "-q"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{page}\n", "")
    assert not home.exists() and list((tmp_path / "tmp").iterdir()) == []
