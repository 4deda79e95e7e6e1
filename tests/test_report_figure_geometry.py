"""Figure text as a reader sees it: titles wrapped by their widths as DejaVu Sans draws them
(0.6 em a character was 16-19% wider, so a title wrapped in one column that fitted in
another), and the shared x label under the last row's panels, not under empty slots."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from vanishlab.report.figure_layout import TITLE_SIZE, pinned
from vanishlab.report.figure_text import wrap_title
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, HeatmapGrid, HeatPanel, LineGrid, LinePanel

#: Panel titles of a gated smoke run's "Rate by depth and sequence length" (three to a row).
GATED_TITLES = (
    "model = rnn (tanh), default",
    "model = rnn (tanh), orthogonal",
    "model = lstm, default",
    "model = lstm, orthogonal",
    "model = gru, default",
    "model = gru, orthogonal",
)


def _drawn_width(text: str, size: float) -> float:
    """Inches, as the SVG's glyph paths are wide (matplotlib's text-to-path converter)."""
    prop = FontProperties(family="DejaVu Sans", size=size)
    return TextToPath().get_text_width_height_descent(text, prop, ismath=False)[0] / 72


@pytest.mark.parametrize("title", [*GATED_TITLES, "tanh, 2 layers, gain = 0.5, T = 100"])
def test_a_title_fits_one_line_where_its_drawn_width_does(title):
    """ "1 layer, gain = 0.5" is 1.23 in at 9.5 pt, estimated 1.50 in: a room of its own
    width broke it into two lines."""
    assert wrap_title(title, _drawn_width(title, TITLE_SIZE) * 1.001, TITLE_SIZE) == title
    assert "\n" in wrap_title(title, _drawn_width(title, TITLE_SIZE) * 0.95, TITLE_SIZE)


def _cells_grid() -> HeatmapGrid:
    panels = tuple(
        HeatPanel(t, ("1", "2"), ("6", "12"), -0.5 * np.ones((2, 2))) for t in GATED_TITLES
    )
    return HeatmapGrid("Rate by depth and T", "c", panels, 3, "T", "layers", "rate")


def test_one_title_is_drawn_alike_in_every_column_and_clears_the_next():
    """A gated smoke run's "model = rnn, tanh, orthogonal" (1.92 in as drawn) took two lines in
    the middle column of two-cell panels (room 2.18 in, estimated 2.30 in) beside one-line
    titles: every title now takes one line, and none reaches the next panel or the colour
    bar."""
    with pinned():
        fig = draw(_cells_grid())
        renderer = FigureCanvasAgg(fig).get_renderer()
        maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
        titles = [ax.get_title(loc="left") for ax in maps]
        assert titles == list(GATED_TITLES), titles
        bar = next(ax for ax in fig.axes if ax not in maps and ax.get_visible())
        for i, ax in enumerate(maps):
            right = ax._left_title.get_window_extent(renderer).x1  # set_title(loc="left")
            nxt = maps[i + 1] if i % 3 < 2 else bar
            assert right < nxt.get_window_extent(renderer).x0, (titles[i], right)


def _line_grid(n: int, ncols: int) -> LineGrid:
    x = np.arange(10.0)
    panels = tuple(
        LinePanel(i // ncols, i % ncols, f"panel {i}", (Curve("a", 0, x, -0.1 * x),))
        for i in range(n)
    )
    return LineGrid("t", "c", -(-n // ncols), ncols, panels, "gain g", "rate", "init", ("a",))


def _x_label_centre(fig: object, text: str) -> float:
    (label,) = [t for t in fig.texts if t.get_text() == text]  # type: ignore[attr-defined]
    return float(label.get_position()[0])


@pytest.mark.parametrize(("n", "ncols"), [(4, 3), (7, 3), (5, 2), (3, 3)])
def test_the_x_label_stands_under_the_last_rows_panels(n, ncols):
    """A 2 x 3 grid of 4 line panels (the default sweep's rate against gain, one of them tanh
    and relu by 1-2 layers) centred "gain g" under the whole grid: under the empty slots
    right of the last row's one panel. It is centred under the last row's panels now."""
    with pinned():
        fig = draw(_line_grid(n, ncols))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    last = shown[(n - 1) // ncols * ncols :]
    left, right = last[0].get_position().x0, last[-1].get_position().x1
    assert _x_label_centre(fig, "gain g") == pytest.approx((left + right) / 2)


@pytest.mark.parametrize(("n", "ncols"), [(4, 3), (6, 3)])
def test_a_heatmaps_x_label_stands_under_its_last_rows_panels(n, ncols):
    """The same for heatmaps: a gated-only run's rate by init and gain (4 panels, 3 to a
    row) centred "gain" under the last row's empty slots."""
    grid = _cells_grid()
    grid = HeatmapGrid("R", "c", grid.panels[:n], ncols, "gain", "init", "rate")
    with pinned():
        fig = draw(grid)
    maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    last = maps[(n - 1) // ncols * ncols :]
    left, right = last[0].get_position().x0, last[-1].get_position().x1
    assert _x_label_centre(fig, "gain") == pytest.approx((left + right) / 2)
