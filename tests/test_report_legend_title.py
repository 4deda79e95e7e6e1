"""A line figure's legend title is left-aligned wherever the legend stands, as the panels'
titles are: above a wide grid it was, on the right of a narrow one it stood centred over its
entries (over "0.25" and a long "predicted: mean field, ½ ln χ₁" alike)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

LEGEND = ("0.25", "0.5", "a much longer entry than the title")


@pytest.mark.parametrize("ncols", [1, 5])  # the legend on the right, then above
def test_the_legend_title_starts_where_its_entries_start(ncols):
    x = np.arange(10.0)
    curves = tuple(Curve(name, s, x, -0.1 * (s + 1) * x) for s, name in enumerate(LEGEND))
    panels = tuple(LinePanel(0, c, f"gain = {c}", curves) for c in range(ncols))
    grid = LineGrid("t", "c", 1, ncols, panels, "lag k (steps)", "y", "gain", LEGEND)
    with pinned():
        fig = draw(grid)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        (legend,) = fig.legends
        title = legend.get_title().get_window_extent(renderer)
        # where each sample's line starts (its extent reaches a marker's half size past it)
        entries = min(
            h.get_transform().transform(h.get_xydata())[:, 0].min() for h in legend.legend_handles
        )
        on_right = legend.get_window_extent(renderer).x0 > fig.axes[0].get_position().x1 * (
            fig.bbox.width
        )
    assert on_right == (ncols == 1)
    assert abs(title.x0 - entries) <= 1.0, (title.x0, entries)
