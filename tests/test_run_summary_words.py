"""What ``vl.run_sweep``'s summary says of a failed cell, in Python's words.

A cell's reason is stored with both names of an option ("--gain (gain=) 2.0 ..."), which each
surface turns into its own: the command line's lines say the flag. ``RunSummary.failures`` and
``failure_lines()`` gave a Python caller the stored form, "--gain (gain=)", where
``vl.load_cells`` says "gain="."""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.sweep.run_summary import RunSummary


def _refusing(rnn, gain, generator):
    raise vl.VanishlabError("--gain (gain=) 2.0 is refused by this init")


def test_a_python_caller_reads_a_failed_cell_s_reason_in_python_s_words(tmp_path, registry) -> None:
    vl.register_init(vl.Init("refuses_summary_test", "refuses", _refusing), replace=True)
    grid = vl.Sweep(init="refuses_summary_test", hidden_size=4, input_size=2, seq_len=5, batch=1)
    summary = vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    assert summary.failures == (("error", 1, "VanishlabError: gain= 2.0 is refused by this init"),)
    assert "--gain" not in " ".join(summary.failure_lines())
    reasons = set(vl.load_cells(tmp_path / "run")["reason"])
    assert reasons == {"VanishlabError: gain= 2.0 is refused by this init"}


def test_the_finished_line_counts_its_own_grid_s_cells() -> None:
    """``> /dev/full`` after a sweep of 1 cell into a folder that keeps 2 (an earlier grid's)
    said "1 cell kept in f1": the folder keeps 2, the sweep's own grid 1."""
    summary = RunSummary(run_dir=Path("f1"), n_cells=1,
                         n_run=1, n_skipped=0, n_failed=0, elapsed_s=0.1)  # fmt: skip
    assert summary.finished_line() == "the sweep has finished: its 1 cell kept in f1"
