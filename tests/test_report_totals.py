"""Totals the page shows rounded are summed rounded once (:func:`.format.total`, math.fsum),
as the monitor page's measuring time is: numpy's sum, left to right, can be an ulp off and
round the other way."""

from __future__ import annotations

import math

import vanishlab as vl
from vanishlab.report.model import KeyValues


def test_a_total_is_rounded_once_and_says_what_it_cannot_sum():
    from vanishlab.report.format import total

    assert total([2.314, 0.712, 0.924]) == 3.95  # numpy's sum: 3.9499999999999997
    assert total([1.5, math.nan, 2.0]) == 3.5  # NaN left out, as pandas' sum leaves it
    assert total([]) == 0.0
    assert total([1e308, 1e308]) == math.inf and total([-1e308, -1e308]) == -math.inf
    assert math.isnan(total([math.inf, -math.inf]))


def test_the_overviews_time_in_cells_is_the_sum_rounded_once(tmp_path):
    """Cells of 2.314, 0.712 and 0.924 s sum to 3.95 s, "4.0 s"; pandas' sum made it
    3.9499999999999997 s, and the overview said "3.9 s"."""
    from vanishlab.report.sections.overview import overview_section
    from vanishlab.report.view import RunView

    sweep = vl.Sweep(gain=(0.5, 1.0, 1.5), hidden_size=4, input_size=2, seq_len=5, batch=2)
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    cells = vl.load_cells(run)
    cells["elapsed_s"] = [2.314, 0.712, 0.924]
    view = RunView(vl.load_results(run), cells, vl.load_manifest(run))
    facts = next(b for b in overview_section(view).blocks if isinstance(b, KeyValues))
    assert dict(facts.items)["time in cells (sum)"] == "4.0 s"
