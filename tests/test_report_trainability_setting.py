"""The trainability table shows each swept setting as a column of its own.

"Horizons at initialisation and outcomes" gave its settings in one "setting" column, in words
("init = default" on every row of a sweep of inits; "tanh, init = normal" broke after its "="),
where the page's other tables of settings give each swept axis its own column headed by the
axis's label. It now does the same, with the labels and values of :mod:`vanishlab.report.format`.

Its figures' axes carry their units: "Gradient horizon at initialisation against T" labelled its
y axis "lag", with no unit, where every other figure of lags says "lag k (steps)".
"""

from __future__ import annotations

from pathlib import Path

from _report_run import trainability_section

from vanishlab.report.format import LAG_LABEL, label
from vanishlab.report.model import LineGrid, Section, Table


def _trainability_section(tmp_path: Path, **axes: object) -> Section:
    """The trainability section of a tiny trained sweep over ``axes``."""
    return trainability_section(tmp_path, **axes)


def test_each_swept_setting_is_a_column_of_the_horizons_table(tmp_path: Path) -> None:
    section = _trainability_section(
        tmp_path, activation=("tanh", "relu"), init=("normal", "orthogonal")
    )
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


def test_the_horizon_figure_gives_its_lags_in_steps(tmp_path: Path) -> None:
    section = _trainability_section(tmp_path, init=("normal",))
    grids = {b.title: b for b in section.blocks if isinstance(b, LineGrid)}
    horizon = grids["Gradient horizon at initialisation against T"]
    assert horizon.ylabel == LAG_LABEL == "lag k (steps)"
    assert horizon.xlabel.startswith("T (")
