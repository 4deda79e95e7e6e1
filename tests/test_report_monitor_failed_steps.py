"""The monitor page's table of steps lists its first rows, then every failed step (with its
reason) that the cut would leave out: a training diverges at its end, past the first rows."""

from __future__ import annotations

import pandas as pd

from vanishlab.report.sections.monitor_table import training_table

REASON = "the module's parameter weight_hh_l0 holds inf at entry [1, 2]: ... (training diverged)"


def test_the_failed_steps_past_the_first_rows_are_listed_with_their_reasons(monkeypatch):
    """With 2000 rows the table stopped at step 2000 of a 3000-step monitor that diverged at
    step 2500: its failed steps, their reasons too, were only "1000 more steps are not listed"."""
    monkeypatch.setattr("vanishlab.report.sections.monitor_table.MAX_TABLE_ROWS", 3)
    monkeypatch.setattr("vanishlab.report.sections.monitor_table.MAX_ANOMALY_ROWS", 2)
    n, bad = 10, {6, 8, 9}  # 3 failed past the first 3 rows; 2 of them listed
    steps = pd.DataFrame(
        {
            "step": [10 * i for i in range(n)],
            "status": ["failed" if i in bad else "ok" for i in range(n)],
            "failure": ["overflow" if i in bad else "" for i in range(n)],
            "lyapunov": [float("nan") if i in bad else 0.1 for i in range(n)],
            "measured": [i not in bad for i in range(n)],
            "elapsed_s": [0.5] * n,
            "reason": [f"{REASON} {i}" if i in bad else "" for i in range(n)],
        }
    )
    table = training_table(steps, {}, [], [])
    assert [row[0] for row in table.rows] == ["0", "10", "20", "60", "80"]
    assert [row[-1] for row in table.rows][3:] == [f"{REASON} 6", f"{REASON} 8"]
    assert table.note == (
        "After step 20, only the failed steps are listed (2 of 7). 5 more steps are not listed "
        "(1 of them failed)."
    )  # "5 more steps are not listed." alone read as if every failed step were listed


def test_one_step_left_out_is_said_in_the_singular(monkeypatch):
    """The note said "1 more steps are not listed."."""
    monkeypatch.setattr("vanishlab.report.sections.monitor_table.MAX_TABLE_ROWS", 2)
    steps = pd.DataFrame(
        {
            "step": [1, 2, 3],
            "status": ["ok"] * 3,
            "failure": [""] * 3,
            "lyapunov": [0.1] * 3,
            "measured": [True] * 3,
            "elapsed_s": [0.5] * 3,
            "reason": [""] * 3,
        }
    )
    assert training_table(steps, {}, [], []).note == "1 more step is not listed."
