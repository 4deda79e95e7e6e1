"""A practitioner's loose ends in the Trainability section (helper 396).

- Its agreement sentence counted both sides of the 1000x cut even where one had no cell: the
  sweep's smoke run at T = 60 alone (every cell's gradient fallen) read "of the 0 cells whose
  gradient had not, 0 did", a sentence about an empty group.
- Its table gave 1/|rate| of fits the long-dependencies section does not continue (fewer than 5
  lags, a poor fit), and the mean-field lag of a 1000x drop however far past the lags measured
  it lay ("29.80" at T = 6): both now follow the pages' extrapolation rule.
- Its scoring sentence left out a learning rate or step budget that differs between cells
  ("Each network was trained 20 SGD steps on the adding problem" of cells at lr 0.01 and
  1e30): it now gives the range.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from _report_run import trainability_section

from vanishlab.report.model import Table
from vanishlab.report.sections.trainability_agreement import agreement


def _cells(predicted: list[bool], solved: list[bool]) -> pd.DataFrame:
    n = len(predicted)
    return pd.DataFrame(
        {
            "predicted": predicted,
            "solved": solved,
            "drop_at_required": [2.0 if p else 5.0 for p in predicted],
            "zero_at_lag0": [False] * n,
            "final_loss": [0.01 if s else 0.2 for s in solved],
        }
    )


def test_a_side_of_the_cut_with_no_cell_is_not_counted() -> None:
    every_fell = agreement(_cells([False, False, False], [False, True, False]))
    assert "0 cells" not in every_fell and "of the 0" not in every_fell, every_fell
    assert (
        "Every cell's gradient had fallen 1000x by the required lag, and 1 of the 3 solved the "
        "task anyway." in every_fell
    )
    none_fell = agreement(_cells([True, True], [True, False]))
    assert "0 cells" not in none_fell, none_fell
    assert (
        "No cell's gradient had fallen 1000x by the required lag, and 1 of the 2 solved the task."
        in none_fell
    )
    assert "had fallen 1000x by the required lag, and none solved the task." in agreement(
        _cells([False, False], [False, False])
    )
    one = agreement(_cells([False], [False]))
    assert "Its gradient had fallen 1000x by the required lag, and it did not solve the task." in (
        one
    )
    both = agreement(_cells([True, False], [True, False]))
    assert (
        "Of the 1 cell whose gradient had fallen 1000x by the required lag, 0 solved the task "
        "anyway; of the 1 cell whose gradient had not, 1 did." in both
    )


# --- the table's lags read off a rate: the long-dependencies section's rule ---


def _table(tmp_path: Path, **axes: object) -> Table:
    section = trainability_section(tmp_path, **axes)
    return next(b for b in section.blocks if isinstance(b, Table))


def _column(table: Table, name: str) -> list[str]:
    return [row[table.columns.index(name)] for row in table.rows]


def test_a_fit_the_long_dependencies_section_would_not_continue_gives_no_e_folding_lag(
    tmp_path: Path,
) -> None:
    """At T = 4 the state curve is fitted on lags 1..4, 4 lags: the long-dependencies section
    does not continue such a line (fewer than 5), and the table gave its 1/|rate| all the same
    ("1.17")."""
    table = _table(tmp_path, seq_len=(4,), activation=("tanh",), init=("normal",), gain=(1.0,))
    assert _column(table, "1/|rate|") == ["— (fitted on 4 lags only)"], table.rows
    assert "'—' with the reason where the line is not one to continue" in table.caption
    assert "fitted on fewer than 5 lags, r² below 0.9" in table.caption


def test_a_poor_fit_gives_no_e_folding_lag() -> None:
    from vanishlab.report.sections.trainability import _efold_text

    assert _efold_text(-0.5, 9, "poor fit, r² 0.82") == "— (poor fit, r² 0.82)"
    assert _efold_text(-0.5, 9, None) == "2.00"
    assert _efold_text(-math.inf, 9, "exactly 0 from lag 3") == "0 (rate −∞)"


def test_the_mean_field_lag_past_the_reach_reads_past_it(tmp_path: Path) -> None:
    """The mean-field lag of a 1000x drop was written however far past the lags measured it
    lay: the sweep's smoke run (tanh, gain 1, T = 6, lags 0..5) read "29.80" where the
    1/|rate| beside it stops at "> 10"."""
    table = _table(tmp_path, seq_len=(6,), activation=("tanh",), init=("normal",), gain=(1.0,))
    assert _column(table, "mean-field 1000x lag") == ["> 10"], table.rows
    assert "(3 ln 10 / |rate_mf|, where the mean field applies; '> n' past the same n)" in (
        table.caption
    )
    low = _table(
        tmp_path / "low", seq_len=(6,), activation=("tanh",), init=("normal",), gain=(0.25,)
    )
    assert float(_column(low, "mean-field 1000x lag")[0]) < 10, low.rows


# --- the scoring sentence: a budget that differs between cells, as its range ---


def test_a_budget_or_lr_that_differs_between_cells_is_given_as_its_range() -> None:
    from types import SimpleNamespace

    from vanishlab.report.sections.trainability_scoring import scoring_text

    table = pd.DataFrame(
        {
            "task": ["adding"] * 3,
            "chance_loss": [1 / 6] * 3,
            "train_steps": [300, 1000, 1000],
            "optimizer": ["adam", "adam", "sgd"],
            "lr": [0.001, 0.01, 0.01],
            "seq_len": [10, 10, 10],
        }
    )
    view = SimpleNamespace(setting_columns=["train_steps", "optimizer", "lr", "seq_len"])
    assert scoring_text(table, view).startswith(
        "Each network was trained 300 to 1000 Adam or SGD steps at lr 0.001 to 0.01 on the "
        "adding problem"
    )
    one = table.iloc[[1]]
    assert scoring_text(one, view).startswith(
        "Each network was trained 1000 Adam steps at lr 0.01 on the adding problem"
    )
