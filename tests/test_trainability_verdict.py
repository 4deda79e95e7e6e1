"""The trainability verdict on curves written by hand (docs/trainability.md, "The prediction").

A cell is predicted trainable when its input gradient at the required lag (T - floor(T/2) for
the adding problem) has not fallen 1000x, i.e. 3 decades, below lag 0's; ``horizon_1000`` is
the first lag where it has. Each curve below puts the fall at exactly 3 decades, or a hair on
either side, at a lag counted by hand.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vanishlab.sweep.trainability import trainability


def _frames(curves: dict[str, tuple[str, int, list[float], object]]):
    """Shard rows and cells for ``{cell_id: (task, T, log10 norms by lag, solved)}``."""
    results, cells = [], []
    for cid, (task, T, curve, solved) in curves.items():
        for lag, value in enumerate(curve):
            results.append({"cell_id": cid, "source": "input", "lag": lag, "log10_fro_mean": value})
            results.append({"cell_id": cid, "source": "state", "lag": lag, "log10_fro_mean": 0.0})
        cells.append(
            {"cell_id": cid, "task": task, "seq_len": T, "solved": solved,
             "final_loss": 0.1, "chance_loss": 1 / 6}
        )  # fmt: skip
    return pd.DataFrame(results), pd.DataFrame(cells)


def test_a_fall_of_exactly_three_decades_at_the_required_lag_is_a_vanished_gradient() -> None:
    # T = 7: the first marker lies at least 7 - 3 = 4 steps back.
    exact = [1.0, 0.0, -1.0, -1.5, -2.0, -3.0, -4.0]  # lag 4: 1 - (-2) = 3 decades
    short = [1.0, 0.0, -1.0, -1.5, -1.999, -3.0, -4.0]  # lag 4: 2.999 decades
    # T = 8: required lag 8 - 4 = 4 as well; the 3 decades reached first at lag 6
    later = [0.0, -0.5, -1.0, -1.5, -2.0, -2.5, -3.0, -3.5]
    results, cells = _frames(
        {
            "exact": ("adding", 7, exact, False),
            "short": ("adding", 7, short, True),
            "later": ("adding", 8, later, True),
            "untrained": ("adding", 8, later, None),
        }
    )
    table = trainability(results, cells).set_index("cell_id")
    assert list(table.index) == ["exact", "short", "later"]  # an untrained cell has no verdict
    assert table["required_lag"].tolist() == [4, 4, 4]
    assert table["drop_at_required"].tolist() == pytest.approx([3.0, 2.999, 2.0])
    assert table.loc["exact", "horizon_1000"] == 4.0
    assert table.loc["short", "horizon_1000"] == 5.0
    assert table.loc["later", "horizon_1000"] == 6.0
    assert table["predicted"].tolist() == [False, True, True]
    assert table["solved"].tolist() == [False, True, True]
    assert not table["zero_at_lag0"].any() and not table["horizon_at_zero"].any()


def test_a_gradient_that_rises_has_not_fallen() -> None:
    """A growing gradient (an exploding one): no fall, no horizon, predicted trainable."""
    results, cells = _frames({"up": ("adding", 6, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], False)})
    row = trainability(results, cells).iloc[0]
    assert row["drop_at_required"] == -3.0  # lag 6 - 3 = 3: 0 - 3
    assert math.isnan(row["horizon_1000"]) and bool(row["predicted"])
