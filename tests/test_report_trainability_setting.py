"""The trainability table's setting column reads on one line.

"Horizons at initialisation and outcomes" broke its "setting" column after "init =" on every
row ("tanh, init =" over "normal") while the headers of the numbers beside it stayed on one
line; the setting is now a column the page never breaks, as a horizon is.
"""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import Table


def test_the_setting_column_of_the_horizons_table_is_never_broken(tmp_path: Path) -> None:
    sweep = vl.Sweep(
        activation=("tanh", "relu"),
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
    table = next(
        b for b in section.blocks if isinstance(b, Table) and b.title.startswith("Horizons")
    )
    setting = table.columns.index("setting")
    assert {row[setting] for row in table.rows} == {"tanh", "relu"}
    assert setting in table.nowrap
    assert table.columns.index("1000x lag") in table.nowrap
