"""Captions say what their figure draws, no more and no less: grey only where a heatmap's cell
is grey."""

from __future__ import annotations

import numpy as np
import pytest
from test_report import STAMP, synthetic
from test_report_zero_seeds import depth_run

from vanishlab.report import build_report
from vanishlab.report.model import HeatmapGrid


def _blocks(report, kind):
    return [b for s in report.sections for b in s.blocks if isinstance(b, kind)]


@pytest.mark.parametrize(
    "rates",
    [
        {("a", 0): -np.inf, ("a", 1): -np.inf, ("b", 0): -0.2},  # a's rate -inf: a grey cell
        {("a", 0): -0.1, ("b", 0): -0.2},  # every rate finite: no grey cell
    ],
)
def test_a_rate_heatmap_caption_names_grey_only_where_a_cell_is_grey(rates):
    report = build_report(*synthetic(rates), {"name": "grey"}, timestamp=STAMP)
    (grid,) = _blocks(report, HeatmapGrid)
    grey = any(np.isneginf(p.values).any() for p in grid.panels)
    assert grey == (-np.inf in rates.values())
    assert ("grey" in grid.caption) == grey, grid.caption
    assert "blue vanishing, white stable, red exploding" in grid.caption  # the scale, kept


@pytest.mark.parametrize("zeros", [True, False])
def test_a_depth_map_caption_names_grey_only_where_a_cell_is_grey(zeros):
    results, cells, manifest = depth_run()
    if not zeros:  # the same run with every exact zero replaced by a finite norm
        y = results["log10_fro_mean"]
        results = results.assign(log10_fro_mean=y.where(np.isfinite(y), -5.0), n_zero=0)
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["depth"])
    (grid,) = _blocks(report, HeatmapGrid)
    assert any(np.isneginf(p.values).any() for p in grid.panels) == zeros
    assert ("grey" in grid.caption) == zeros, grid.caption
