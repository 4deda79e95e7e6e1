"""A practitioner's loose ends in the Trainability section (helper 396).

- Its agreement sentence counted both sides of the 1000x cut even where one had no cell: the
  sweep's smoke run at T = 60 alone (every cell's gradient fallen) read "of the 0 cells whose
  gradient had not, 0 did", a sentence about an empty group.
"""

from __future__ import annotations

import pandas as pd

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
    assert "had fallen 1000x by the required lag, and none solved it." in agreement(
        _cells([False, False], [False, False])
    )
    one = agreement(_cells([False], [False]))
    assert "Its gradient had fallen 1000x by the required lag, and it did not solve the task." in (
        one
    )
    both = agreement(_cells([True, False], [True, False]))
    assert (
        "Of the 1 cell whose gradient had fallen 1000x by the required lag, 0 solved it anyway; "
        "of the 1 cell whose gradient had not, 1 did." in both
    )
