"""Neighbouring panels' titles keep :data:`~vanishlab.report.figure_layout.TITLE_GAP` apart.

A line panel's title was wrapped at its whole slot (its panel and the gap right of it), so a
long one ran up to the first letter of the next column's title; a heatmap's to 0.1 in of it
(in a gated run's "Rate by depth and activation", "model = lstm, init = orthogonal" stood
0.2 in from "model = gru, init = default"). Both now end at least TITLE_GAP before the next
column's title: one rule, in :func:`vanishlab.report.line_box.title_room` and the heatmaps'
room.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from vanishlab.report.figure_layout import TITLE_GAP, pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, HeatmapGrid, HeatPanel, LineGrid, LinePanel

# Titles of many lengths, so that some end just short of any room they are wrapped to.
_TITLES = [
    ", ".join(["model = lstm", f"init = {'o' * n}rthogonal", "hidden = 32"][: 2 + n % 2])
    for n in range(0, 24)
]


def _title_gaps(fig: Figure) -> list[float]:
    """Inches from each panel title's right end to the start of the next title in its row."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    rows: dict[float, list[tuple[float, float]]] = {}
    for ax in fig.axes:
        title = ax.get_title(loc="left")
        texts = [t for t in ax.get_children() if isinstance(t, Text) and t.get_text() == title]
        if not ax.get_visible() or not title or not texts:
            continue
        box = texts[0].get_window_extent(renderer)
        rows.setdefault(round(ax.get_position().y1, 4), []).append(
            (box.x0 / fig.dpi, box.x1 / fig.dpi)
        )
    gaps = []
    for row in rows.values():
        row.sort()
        gaps += [b[0] - a[1] for a, b in itertools.pairwise(row)]
    return gaps


@pytest.mark.parametrize("start", range(0, 24, 3))
def test_line_panel_titles_keep_the_gap(start: int) -> None:
    x = np.arange(4.0)
    panels = tuple(
        LinePanel(0, col, _TITLES[(start + col) % len(_TITLES)], (Curve("a", 0, x, -x),))
        for col in range(3)
    )
    grid = LineGrid("t", "", 1, 3, panels, "lag", "y", "", ())
    with pinned():
        gaps = _title_gaps(draw(grid))
    assert len(gaps) == 2 and min(gaps) >= TITLE_GAP - 0.02, gaps


@pytest.mark.parametrize("start", range(0, 24, 3))
def test_heatmap_titles_keep_the_gap(start: int) -> None:
    panels = tuple(
        HeatPanel(
            _TITLES[(start + i) % len(_TITLES)],
            ("1", "2"),
            ("tanh", "relu"),
            np.array([[-0.7, -0.9], [-0.6, -0.8]]),
        )
        for i in range(3)
    )
    grid = HeatmapGrid("t", "", panels, 3, "activation", "layers", "rate")
    with pinned():
        gaps = _title_gaps(draw(grid))
    assert len(gaps) == 2 and min(gaps) >= TITLE_GAP - 0.02, gaps
