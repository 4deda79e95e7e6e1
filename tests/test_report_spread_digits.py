"""A mean over seeds claims no digit its seeds' spread makes noise.

The rates table wrote every rate to three decimals beside its standard deviation over seeds:
the demo's "relu, 2 layers, default, gain 0.5" read "−1.519 ± 0.116" (its 2 seeds −1.60 and
−1.44), a third decimal 100 times finer than the spread, and the theory table's measured −
predicted "+0.070 ± 0.116" the same. Both now take the decimals that give the standard
deviation two significant digits, at most three ("−1.52 ± 0.12", "+0.07 ± 0.12"; "−0.712 ±
0.030" as it was), and the captions say so; the rates table's caption now also says what its
r² column is (each seed's fit, mean over seeds), which it never did.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import HeatmapGrid, Table
from vanishlab.report.sections.rate_cells import rate_cell

_PM = re.compile(r"([−+]?\d+(?:\.(\d+))?)\s*±\s*(\d+(?:\.(\d+))?)")


@pytest.mark.parametrize(
    ("sd", "decimals"),
    [(0.116, 2), (0.0996, 2), (0.095, 3), (0.03, 3), (0.005, 3), (0.0, 3), (1.23, 1),
     (0.999, 1), (12.0, 0), (math.nan, 3)],
)  # fmt: skip
def test_the_decimals_give_the_spread_two_significant_digits_at_most_three(sd, decimals):
    from vanishlab.report.format import spread_decimals

    assert spread_decimals(sd) == decimals


def test_a_rate_takes_its_spreads_decimals() -> None:
    rec = {"rate": -1.5187, "sd": 0.1164, "n": 2, "n_zero": 0}
    assert rate_cell(rec) == "−1.52\u00a0±\u00a00.12"  # was −1.519 ± 0.116
    assert rate_cell({**rec, "sd": 0.0296}) == "−1.519\u00a0±\u00a00.030"  # as it was
    assert rate_cell({**rec, "sd": 0.0}) == "−1.519\u00a0±\u00a00.000"


def test_the_rates_and_theory_tables_write_a_mean_to_its_spreads_decimals(
    tmp_path: Path,
) -> None:
    """4-unit, 2-layer stacks at gains 2 and 3 have seeds 0.2-0.4 apart in rate (sd 0.13 to
    0.27 when this was written), the default init's at gain 1.5 0.04 apart (sd 0.026): rows of
    two decimals and of three in each table, and the heatmap's cells read the table's means
    (they wrote −0.260 beside the table's −0.26 ± 0.18)."""
    run = tmp_path / "run"
    grid = vl.Sweep(
        hidden_size=4, input_size=2, seq_len=12, batch=2, num_layers=2, gain=(1.5, 2.0, 3.0),
        init=("default", "normal"), seed=(0, 1),
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=["rates", "theory"],
    )  # fmt: skip
    blocks = [b for s in report.sections for b in s.blocks]
    tables = {b.title: b for b in blocks if isinstance(b, Table)}
    for title in ("Decay rates by setting", "Theory vs measurement by setting"):
        table = tables[title]
        found = [m for row in table.rows for cell in row for m in _PM.findall(cell)]
        assert len(found) == 6, (title, table.rows)
        wide = 0
        for _mean, mean_places, sd, sd_places in found:
            places = 2 if 0.1 <= float(sd) < 0.995 else 3  # the rule, for these sds
            assert len(mean_places) == len(sd_places) == places, (title, found)
            wide += float(sd) >= 0.1
        assert 2 <= wide <= 4, (title, found)  # rows the rule shortens, and rows it keeps
        assert "the sd's two significant digits, at most three" in table.caption
    rates = tables["Decay rates by setting"]
    assert "r²: of the least-squares line (each seed's, mean over seeds" in rates.caption
    means = {row[rates.columns.index("rate (ln/step)")].split("\u00a0")[0] for row in rates.rows}
    (heatmap,) = [b for b in blocks if isinstance(b, HeatmapGrid)]
    drawn = {cell.split("\n")[0] for p in heatmap.panels for row in p.text for cell in row}
    assert drawn == means
    assert "Each cell gives the rate (to the decimals of the table below) and" in heatmap.caption


def test_a_spread_above_zero_that_rounds_to_zero_reads_below_the_last_decimal() -> None:
    # The demo's tanh, 2 layers, orthogonal, gain 1 (seeds 2.7e-5 apart in rate) and three
    # relu identity settings read "± 0.000", as if their seeds agreed exactly.
    from vanishlab.report.format import spread_text

    rec = {"rate": -0.32579, "sd": 2.7e-5, "n": 2, "n_zero": 0}
    assert rate_cell(rec) == "−0.326\u00a0±\u00a0<0.001"
    assert rate_cell({**rec, "sd": 0.00049}) == "−0.326\u00a0±\u00a0<0.001"
    assert rate_cell({**rec, "sd": 0.0005}) == "−0.326\u00a0±\u00a00.001"
    assert rate_cell({**rec, "sd": 0.0}) == "−0.326\u00a0±\u00a00.000"  # exactly: as it is
    assert spread_text(0.004, 2) == "<0.01" and spread_text(1.5, 1) == "1.5"
