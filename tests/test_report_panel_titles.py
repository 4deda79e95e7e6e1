"""Panels of one figure whose settings differ past the 4 significant digits of a title are
told apart (:func:`.format.setting_titles`): a sweep over input_std = 1.00001,1.00002 titled
two panels "input std = 1", which could not be told apart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _report_run import report_of

import vanishlab as vl
from vanishlab.report.format import setting_titles, title_digits, value_texts
from vanishlab.report.model import HeatmapGrid, LineGrid


def test_titles_that_read_the_same_get_the_digits_that_tell_them_apart():
    assert setting_titles([[("gain", 1.00001)], [("gain", 1.00002)], [("gain", 1.5)]]) == [
        "gain = 1.00001",
        "gain = 1.00002",
        "gain = 1.5",  # its title read apart already: 4 digits
    ]
    assert setting_titles([[("gain", 0.1 + 0.2)], [("gain", 0.3)]]) == [
        "gain = 0.30000000000000004",
        "gain = 0.3",
    ]
    same = [("model", "rnn"), ("gain", 1.00001)]
    assert setting_titles([same, same]) == ["model = rnn, gain = 1", "model = rnn, gain = 1"]


def test_missing_values_are_one_setting_and_no_title_gets_more_digits_than_it_needs():
    """Two settings of NaN were two (NaN != NaN), which no digits told apart: each was raised
    to 17 digits, its other numbers written with all of them ("input std = 0.123456789");
    None, pd.NA and NaN all read "—" and are one setting; +inf and -inf read apart."""
    row = [("gain", np.float64("nan")), ("input_std", 0.123456789)]
    assert title_digits([list(row), list(row)]) == [4, 4]
    assert setting_titles([list(row), list(row)]) == ["gain = —, input std = 0.1235"] * 2
    missing = [None, pd.NA, float("nan"), np.nan, np.float32("nan")]
    assert title_digits([[("gain", v)] for v in missing]) == [4] * len(missing)
    values = [math.inf, -math.inf, np.float64("inf"), float("nan"), 1.00001, 1.00002]
    assert value_texts("gain", values) == ["+∞", "−∞", "+∞", "—", "1.00001", "1.00002"]
    assert title_digits([[("gain", v)] for v in values]) == [4, 4, 4, 4, 6, 6]
    # 1.00001 reads apart from 1.0000101 at 6 digits and as at 8: 6, the fewest that write it
    assert title_digits([[("gain", 1.00001)], [("gain", 1.00002)], [("gain", 1.0000101)]]) == [
        6,
        6,
        8,
    ]


def test_a_reports_panels_of_near_settings_are_told_apart(tmp_path):
    sweep = vl.Sweep(model="rnn", gain=(0.5, 2.0), input_std=(1.00001, 1.00002), hidden_size=8,
                     input_size=4, seq_len=20, batch=2)  # fmt: skip
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    report = report_of(tmp_path / "run")
    checked = 0
    for section in report.sections:
        for grid in section.blocks:
            if isinstance(grid, LineGrid | HeatmapGrid) and len(grid.panels) > 1:
                titles = [p.title for p in grid.panels]
                assert len(set(titles)) == len(titles), (section.key, titles)
                checked += any(t.endswith("input std = 1.00001") for t in titles)
    assert checked == 3, checked  # the decay, input and theory figures


def test_figures_and_lines_of_near_settings_are_told_apart(tmp_path):
    """Two gain phase diagrams of input_std = 1.00001 and 1.00002 were both titled "Gain phase
    diagram (input std = 1)", and the decay curves' lines of gains 1.00001 and 1.00002 both
    "1" in their legend."""
    sweep = vl.Sweep(model="rnn", gain=(1.00001, 1.00002), input_std=(1.00001, 1.00002),
                     hidden_size=8, input_size=4, seq_len=20, batch=2)  # fmt: skip
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    report = report_of(tmp_path / "run", ["decay", "gain", "theory"])  # theory: decay's overlay
    (gain,) = [s for s in report.sections if s.key == "gain"]
    titles = [b.title for b in gain.blocks if isinstance(b, LineGrid)]
    assert titles == [
        "Gain phase diagram (input std = 1.00001)",
        "Gain phase diagram (input std = 1.00002)",
    ]
    (decay,) = [s for s in report.sections if s.key == "decay"]
    (grid,) = [b for b in decay.blocks if isinstance(b, LineGrid)]
    assert grid.legend == ("1.00001", "1.00002")


def _view(tmp_path, **axes):
    from vanishlab.report.view import RunView

    sweep = vl.Sweep(hidden_size=4, input_size=2, seq_len=5, batch=2, **axes)
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    run = tmp_path / "run"
    return RunView(vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))


def test_the_depth_heatmaps_panels_and_their_rows_of_near_settings_are_told_apart(tmp_path):
    """The depth heatmaps titled two panels of gains 1.00001 and 1.00002 "tanh, 2 layers,
    gain = 1", and named the rows of input_std = 1.00001 and 1.00002 in each "input std = 1"."""
    from vanishlab.report.sections.depth import depth_section

    view = _view(tmp_path, num_layers=2, gain=(1.00001, 1.00002), input_std=(1.00001, 1.00002))
    (grid,) = [b for b in depth_section(view).blocks if isinstance(b, HeatmapGrid)]
    assert [p.title for p in grid.panels] == [
        "tanh, 2 layers, gain = 1.00001",
        "tanh, 2 layers, gain = 1.00002",
    ]
    for panel in grid.panels:
        assert panel.row_groups == ("input std = 1.00001", "input std = 1.00002")


# In the slow tier: ~4 s of CPU; make test keeps the titles' other tests.
@pytest.mark.slow
def test_the_settings_a_models_figure_leaves_out_are_told_apart(tmp_path):
    """The models figure draws 12 panels and names the settings it leaves out: input_std =
    3.00001 and 3.00002 were both named "input std = 3"."""
    from vanishlab.report.sections.models import MAX_PANELS, models_section

    stds = (*(round(0.1 * k, 1) for k in range(1, MAX_PANELS + 1)), 3.00001, 3.00002)
    view = _view(tmp_path, model=("rnn", "gru"), input_std=stds)
    (grid,) = [b for b in models_section(view).blocks if isinstance(b, LineGrid)]
    assert len(grid.panels) == MAX_PANELS
    assert grid.note.endswith(
        ": (input std = 3.00001), (input std = 3.00002) (the table below lists every setting)."
    )


def test_the_settings_the_trainability_figures_leave_out_are_told_apart(tmp_path):
    """The trainability figures draw 12 panels and name the settings they leave out: input_std
    = 3.00001 and 3.00002 were both named "input std = 3"."""
    from vanishlab.report.sections.trainability_panels import MAX_PANELS as _MAX_PANELS

    stds = (*(round(0.1 * k, 1) for k in range(1, _MAX_PANELS + 1)), 3.00001, 3.00002)
    sweep = vl.Sweep(input_std=stds, seq_len=(6,), hidden_size=4, input_size=2, batch=4,
                     task="adding", train_steps=2, lr=0.01)  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = report_of(run, ["trainability"])  # the section alone: it reads no other
    (section,) = [s for s in report.sections if s.key == "trainability"]
    grids = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert len(grids) == 3
    for grid in grids:
        assert len(grid.panels) == _MAX_PANELS
        assert "(input std = 3.00001), (input std = 3.00002)" in grid.note, grid.note


def test_an_axis_s_values_in_the_overview_heatmaps_and_trainability_legend_are_told_apart(
    tmp_path,
):
    """The overview's swept axes listed gains 1.00001 and 1.00002 as "1, 1", the rate
    heatmaps labelled their two rows "1", and the trainability figures' legend its two lines
    "1", where the figures' titles and the decay curves' legend told them apart."""
    from vanishlab.report.model import HeatmapGrid, Table

    sweep = vl.Sweep(gain=(1.00001, 1.00002), input_std=(1.00001, 1.00002), seq_len=(5, 6),
                     hidden_size=4, input_size=2, batch=4, task="adding", train_steps=2,
                     lr=0.01)  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(sweep, run, workers=1, progress=False)
    report = report_of(run, ["rates", "trainability"])  # and the overview, always built
    sections = {s.key: s for s in report.sections}
    (axes,) = [b for b in sections["overview"].blocks if isinstance(b, Table)]
    values = {row[0]: row[2] for row in axes.rows}
    assert values["gain"] == "1.00001, 1.00002" and values["input_std"] == "1.00001, 1.00002"
    labels = [p.row_labels for b in sections["rates"].blocks if isinstance(b, HeatmapGrid)
              for p in b.panels]  # fmt: skip
    assert labels and all(ls == ("1.00001", "1.00002") for ls in labels), labels
    grids = [b for b in sections["trainability"].blocks if isinstance(b, LineGrid)]
    assert grids and all(g.legend == ("1.00001", "1.00002") for g in grids), grids
