"""The rates table's phase of a setting whose seeds disagree is said in its caption."""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import Table


def _rates_table(tmp_path: Path, seed: int | tuple[int, ...]) -> Table:
    """The rates table of relu at PyTorch's default init, gain 2, H = 16, T = 60, at ``seed``:
    seed 0 explodes (+0.108), seed 1 vanishes (−0.365)."""
    run = tmp_path / "run"
    grid = vl.Sweep(activation="relu", init="default", gain=2.0, hidden_size=16, seq_len=60,
                    seed=seed)  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01",
        sections=["rates"],
    )  # fmt: skip
    return next(
        b for s in report.sections for b in s.blocks
        if isinstance(b, Table) and b.title == "Decay rates by setting"
    )  # fmt: skip


def test_a_mixed_phase_is_explained_where_the_rates_table_shows_one(tmp_path: Path) -> None:
    """The caption read "Phase: vanishing below −0.01, exploding above +0.01, stable between",
    a rule of the rate it sits beside, but a setting's phase is its seeds': the demo's tanh,
    normal, gain 2 row read "mixed (1 vanishing, 1 stable)" beside its mean rate of −0.011,
    which the caption's rule calls vanishing."""
    rates = _rates_table(tmp_path, (0, 1))
    phase = rates.rows[0][rates.columns.index("phase")]
    assert phase == "mixed (1 exploding, 1 vanishing)"
    assert "stable between, each seed's by its own rate: 'mixed' where the seeds' phases" in (
        rates.caption
    )


def test_no_mixed_phase_no_words_on_it(tmp_path: Path) -> None:
    """One seed: no row is "mixed", and the caption does not explain it (the words were
    pinned only where they belong: a condition always true passed)."""
    rates = _rates_table(tmp_path, 0)
    assert rates.rows[0][rates.columns.index("phase")] == "exploding"
    assert "mixed" not in rates.caption
    assert "stable between. Input rate" in rates.caption
