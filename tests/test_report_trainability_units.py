"""The trainability figures' axes carry their units.

"Gradient horizon at initialisation against T" labelled its y axis "lag", with no unit, where
every other figure of lags says "lag k (steps)" and its own x axis says "T (sequence length)".
"""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.format import LAG_LABEL
from vanishlab.report.model import LineGrid


def test_the_horizon_figure_gives_its_lags_in_steps(tmp_path: Path) -> None:
    sweep = vl.Sweep(
        init=("normal",),
        seq_len=(6,),
        hidden_size=4,
        input_size=2,
        batch=4,
        task="adding",
        train_steps=2,
        lr=0.01,
    )
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, progress=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    grids = {b.title: b for b in section.blocks if isinstance(b, LineGrid)}
    horizon = grids["Gradient horizon at initialisation against T"]
    assert horizon.ylabel == LAG_LABEL == "lag k (steps)"
    assert horizon.xlabel.startswith("T (")
