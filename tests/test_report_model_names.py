"""A gated run's page names the nn.RNN one way in every figure and table: "rnn (tanh)".

Seen on `vanishlab sweep gated --smoke` then `vanishlab report`: the rate heatmap's columns
said "rnn", the models figure's legend and table "rnn (tanh)", and the decay curves' and the
heatmap's panel titles "model = rnn, tanh". One definition now names a model for a reader
(report/format.py's ``model_text``)."""

from __future__ import annotations

import re

import pytest
from _report_run import GATED, report_sections

from vanishlab.report.model import HeatmapGrid, LineGrid, Table

SWEEP = GATED


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Each figure's and table's names of the nn.RNN: a legend's, a table's model column's, a
    heatmap's labels, the model a panel's title names."""
    out = tmp_path_factory.mktemp("model-names") / "run"
    sections = report_sections(out, SWEEP, ["models", "decay", "rates", "theory"])
    found: dict[str, set[str]] = {}
    for key, section in sections.items():
        for n, block in enumerate(section.blocks):
            where = f"{key} {n}: {block.title}"
            texts: list[str] = []
            if isinstance(block, LineGrid):
                texts += block.legend
                texts += [m.group(1) for p in block.panels for m in _titled(p.title)]
            elif isinstance(block, HeatmapGrid):
                for p in block.panels:
                    texts += [*p.row_labels, *p.col_labels]
                    texts += [m.group(1) for m in _titled(p.title)]
            elif isinstance(block, Table) and "model" in block.columns:
                if "activation" in block.columns:  # a column per axis: the activation beside
                    continue
                texts += [row[block.columns.index("model")] for row in block.rows]
            rnn = {t for t in texts if t.startswith("rnn")}
            if rnn:
                found[where] = rnn
    return found


def _titled(title: str):
    """The model a panel's title names: the text after "model = " up to its comma."""
    return re.finditer(r"model = ([^,]*)", title.replace("\n", " "))


def test_every_figure_and_table_names_the_rnn_as_rnn_tanh(names):
    # the models figure and table, the decay curves' panels and the rate heatmap all name it
    assert len(names) >= 4, names
    assert any(k.startswith("rates") for k in names), names  # the heatmap's columns
    assert all(v == {"rnn (tanh)"} for v in names.values()), names


def test_the_one_definition():
    from vanishlab.report.format import model_text, setting_text  # new with this test

    assert model_text("rnn", "relu") == "rnn (relu)"
    assert model_text("lstm", "n/a") == "lstm"
    assert model_text("rnn", None) == "rnn"
    pairs = [("num_layers", 1), ("activation", "tanh"), ("model", "rnn")]
    assert setting_text(pairs) == "model = rnn (tanh), 1 layer"
    assert setting_text([("activation", "tanh"), ("num_layers", 2)]) == "tanh, 2 layers"
    assert setting_text([("model", "gru"), ("activation", "n/a")]) == "model = gru"
