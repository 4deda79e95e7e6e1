"""The trainability table shows each swept setting as a column of its own.

"Horizons at initialisation and outcomes" gave its settings in one "setting" column, in words
("init = default" on every row of a sweep of inits; "tanh, init = normal" broke after its "="),
where the page's other tables of settings give each swept axis its own column headed by the
axis's label. It now does the same, with the labels and values of :mod:`vanishlab.report.format`.
"""

from __future__ import annotations

from pathlib import Path

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.format import label
from vanishlab.report.model import Table


def test_each_swept_setting_is_a_column_of_the_horizons_table(tmp_path: Path) -> None:
    sweep = vl.Sweep(
        activation=("tanh", "relu"),
        init=("normal", "orthogonal"),
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
    assert "setting" not in table.columns
    assert table.columns[:3] == (label("activation"), label("init"), label("seq_len"))
    assert table.columns[:3] == ("activation", "init", "T")
    assert [row[:2] for row in table.rows] == [
        ("tanh", "normal"), ("tanh", "orthogonal"), ("relu", "normal"), ("relu", "orthogonal"),
    ]  # fmt: skip
    assert table.numeric[:3] == (False, False, True)  # words left, T right, as elsewhere
    assert table.columns.index("1000x lag") in table.nowrap
