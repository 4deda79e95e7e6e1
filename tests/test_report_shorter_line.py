"""A shorter T's line that a longer T's runs over is drawn wider, a rim around it.

On a trainability page's decay figures (T = 6 and 60, one line per T), the T = 6 line lay
under the first lags of the T = 60 one, of the same values, and did not show at all, while
the legend listed it: lines counted as one only where their x values were all equal. They
are now compared at the x values both have.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_hex

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw, palette
from vanishlab.report.line_style import LINE_LW
from vanishlab.report.model import Curve, LineGrid, LinePanel


def _widths(*curves: Curve) -> dict[str, float]:
    grid = LineGrid(
        title="Decay",
        caption="",
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "model = rnn", curves),),
        xlabel="lag k",
        ylabel="log10 norm",
        legend_title="T",
        legend=("6", "60"),
    )
    colors = palette(2)
    with pinned():
        lines = [ln for ax in draw(grid).axes for ln in ax.get_lines()]
        return {
            label: max(
                ln.get_linewidth()
                for ln in lines
                if to_hex(ln.get_color()) == colors[s] and ln.get_linestyle() != "None"
            )
            for s, label in enumerate(grid.legend)
        }


def test_a_shorter_line_under_a_longer_one_is_drawn_wider() -> None:
    long_x = np.arange(60.0)
    long_y = -0.28 * long_x
    short = Curve("6", 0, long_x[:6], long_y[:6] + 0.01)
    widths = _widths(short, Curve("60", 1, long_x, long_y))
    assert widths["6"] > widths["60"] == LINE_LW, widths
    # apart: each at its own width, as before
    widths = _widths(Curve("6", 0, long_x[:6], long_y[:6] + 3.0), Curve("60", 1, long_x, long_y))
    assert widths["6"] == widths["60"] == LINE_LW, widths
