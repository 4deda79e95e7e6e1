"""A line panel's title in the last column stops at the figure's right margin: it was wrapped
at a whole slot (the panel and the gap right of it), so in the last column, with no gap on its
right, it ran up to 0.6 in past the panel, across the legend on the right (the models figure of
`--model rnn,lstm,gru` with the default grid's axes: "1 layer, T = 100, init = default,
gain = 2.0" over "rnn (tanh)") or, with no legend, off the figure's edge."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

#: The models figure's legend and panel titles (three to a row), as `vanishlab report` drew
#: them for `vanishlab sweep --model rnn,lstm,gru --init default,orthogonal --seq-len 100,400`.
LEGEND = ("rnn (tanh)", "rnn (relu)", "lstm", "gru")
TITLES = tuple(
    f"1 layer, T = 100, init = {init}, gain = {gain}"
    for init in ("default", "orthogonal")
    for gain in ("0.5", "1.0", "2.0")
)


def _grid(legend: tuple[str, ...]) -> LineGrid:
    x = np.arange(101.0)
    curves = tuple(Curve(name, s, x, -0.1 * (s + 1) * x) for s, name in enumerate(legend))
    curves = curves or (Curve("a", 0, x, -0.1 * x),)
    panels = tuple(LinePanel(i // 3, i % 3, t, curves) for i, t in enumerate(TITLES))
    return LineGrid("t", "c", 2, 3, panels, "lag k (steps)", "y", "model", legend)


@pytest.mark.parametrize("legend", [LEGEND, ()])
def test_a_last_column_title_stays_left_of_the_legend_and_inside_the_figure(legend):
    with pinned():
        fig = draw(_grid(legend))
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        edge = fig.bbox.x1
        if legend:
            (drawn,) = fig.legends
            edge = drawn.get_window_extent(renderer).x0
        shown = [ax for ax in fig.axes if ax.get_visible()]
        for ax in shown:
            title = ax._left_title  # set_title(loc="left")
            right = title.get_window_extent(renderer).x1
            assert right < edge, (title.get_text(), right, edge)
