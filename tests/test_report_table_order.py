"""Every table of settings orders its rows by one rule (``RunView.table_order``): grouped by
model first, in the model axis' order (rnn, lstm, gru), then by its other setting columns left
to right, each in its values' order. A mixed run's models table alternated rnn, lstm and gru
setting by setting, and its rates and theory tables sorted by init before T beside columns
that put T before init."""

from __future__ import annotations

import pytest
from _report_run import report_sections

import vanishlab as vl

# The setting columns of these tables (their labels) and the order of their values.
_VALUES = {
    "model": ("rnn", "lstm", "gru"),
    "activation": ("tanh", "n/a (gated)"),
    "layers": ("1", "2"),
    "T": ("6", "8"),
    "init": ("orthogonal", "default"),
}
_TABLES = (
    "Rates and horizons by model",
    "Decay rates by setting",
    "Theory vs measurement by setting",
)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """rnn, lstm and gru at two depths, lengths and inits, the inits given out of name order."""
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), num_layers=(1, 2), seq_len=(6, 8),
        init=("orthogonal", "default"), hidden_size=2, input_size=2, batch=1,
    )  # fmt: skip
    sections = report_sections(tmp_path_factory.mktemp("mixed") / "run", grid)
    found = {b.title: b for s in sections.values() for b in s.blocks if b.kind == "table"}
    return {title: found[title] for title in _TABLES}


def _rank(column: str, text: str) -> int:
    if column == "model":  # the models table's "rnn (tanh)"
        text = text.split(" (")[0]
    return _VALUES[column].index(text)


@pytest.mark.parametrize("title", _TABLES)
def test_a_mixed_runs_table_lists_one_model_after_another_its_rows_in_column_order(tables, title):
    table = tables[title]
    shown = [c for c in table.columns if c in _VALUES]
    assert shown[0] == "model" and "T" in shown and "init" in shown, table.columns
    assert shown.index("T") < shown.index("init")  # the axes' order, as the figures' panels
    at = [table.columns.index(c) for c in shown]
    keys = [tuple(_rank(c, row[i]) for c, i in zip(shown, at, strict=True)) for row in table.rows]
    assert len(keys) == 24 == len(set(keys))
    assert keys == sorted(keys), [row[: max(at) + 1] for row in table.rows]
