"""docs/data.md's column tables against the loaders' frames: every column a table lists is in the
frame, every column of the frame is listed, in the frame's order, with the pandas dtype it has.

The frames are those of a sweep (the session's smoke run), of a sweep with trained cells, of an
analysis and of a monitor, so that a column only some runs have (``step``, ``loss``, the training
outcome) is checked where it appears. pandas 2 gives ``object`` where pandas 3 gives ``str``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep.config import AXIS_TABLE
from vanishlab.sweep.schema import CONFIG_COLUMNS, STEP_COLUMNS
from vanishlab.sweep.summary_fields import SUMMARY_FIELDS

DATA_MD = Path(__file__).resolve().parents[1] / "docs" / "data.md"
TABLES = {
    "config": "### Config columns",
    "load_results": "### `vl.load_results`",
    "load_cells": "### `vl.load_cells`",
    "summarize": "### `vl.summarize`",
}
#: The Arrow type of an axis as the loaders' dtype (pandas 3).
ARROW_DTYPE = {"string": "str", "int64": "int64", "float64": "float64", "bool": "bool"}


def doc_table(heading: str, text: str | None = None) -> dict[str, str]:
    """``{column: dtype}`` of the table below ``heading`` in docs/data.md, in its order."""
    text = DATA_MD.read_text(encoding="utf-8") if text is None else text
    part = text[text.index(heading) :]
    part = part[: part.index("\n#", 1)] if "\n#" in part[1:] else part
    rows = re.findall(r"^\| `(\w+)` \| ([\w]+) \|", part, flags=re.M)
    assert rows, heading
    return dict(rows)


def _dtype(series: pd.Series) -> str:
    name = str(series.dtype)
    return "str" if name in ("object", "string") else name


@pytest.fixture(scope="module")
def runs(smoke_run_dir, tmp_path_factory) -> dict[str, Path]:
    """A sweep, a trained sweep, an analysis and a monitor, tiny."""
    root = tmp_path_factory.mktemp("data-doc")
    trained = vl.Sweep(
        task="adding", train_steps=2, input_size=2, hidden_size=4, seq_len=6, batch=2, gain=1.0
    )
    vl.run_sweep(trained, root / "trained", workers=1, progress=False)
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4)
    torch.save(rnn.state_dict(), root / "m.pt")
    vl.analyze_checkpoint(root / "m.pt", root / "analysis", seq_len=5, batch=2)
    with vl.JacobianMonitor(rnn, torch.randn(5, 2, 3), out=root / "monitor", every=1) as mon:
        mon.step(0, loss=1.0)
        mon.step(1)
    return {
        "sweep": smoke_run_dir,
        "trained": root / "trained",
        "analysis": root / "analysis",
        "monitor": root / "monitor",
    }


def test_the_config_table_is_the_axis_table():
    """The config columns listed are the axes, in order, each with its Arrow type's dtype."""
    listed = doc_table(TABLES["config"])
    assert tuple(listed) == CONFIG_COLUMNS
    assert listed == {a.name: ARROW_DTYPE[a.arrow_type] for a in AXIS_TABLE}


def test_the_tables_name_the_package_s_columns():
    """The measured rows' columns are the shard's (``schema.STEP_COLUMNS``), the summary's its
    fields (``summary_fields.SUMMARY_FIELDS``) plus a monitor's ``step`` and ``loss``."""
    assert tuple(doc_table(TABLES["load_results"])) == STEP_COLUMNS[len(CONFIG_COLUMNS) :]
    summary = doc_table(TABLES["summarize"])
    assert [c for c in summary if c not in ("step", "loss")] == [n for n, _ in SUMMARY_FIELDS]


@pytest.mark.parametrize("reader", ["load_results", "load_cells", "summarize"])
def test_every_column_is_listed_with_its_dtype(runs, reader):
    """Each kind of run's frame: its columns are the listed ones, in order (a column listed for
    some runs only may be absent), and each has the listed dtype (the config columns' null
    ``seed`` of a monitor is ``Int64``, as the table says)."""
    config = doc_table(TABLES["config"])
    listed = {**config, **doc_table(TABLES[reader])}
    seen: set[str] = set()
    for kind, run in runs.items():
        frame = getattr(vl, reader)(run)
        assert len(frame), (kind, reader)
        columns = list(frame.columns)
        assert set(columns) <= set(listed), (kind, reader, set(columns) - set(listed))
        assert columns == [c for c in listed if c in columns], (kind, reader)
        for column in columns:
            want = listed[column]
            if column == "seed" and frame[column].isna().all():
                want = "Int64"
            assert _dtype(frame[column]) == want, (kind, reader, column)
        seen |= set(columns)
    assert seen == set(listed), (reader, set(listed) - seen)


def test_a_column_left_out_of_a_table_fails_the_check(runs):
    """The check reads the table it is given: a row removed from it is found missing."""
    text = DATA_MD.read_text(encoding="utf-8").replace("| `n_zero` | int64 |", "| n_zero | int64 |")
    listed = doc_table(TABLES["load_results"], text)
    assert "n_zero" not in listed and "n_zero" in vl.load_results(runs["sweep"]).columns
