"""A line figure's shared y label stays inside the figure and clear of the tick labels, however
few rows of panels the figure has (a monitor's one-panel figures are 2.45 in tall)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.format import LAG_RATE_LABEL, RATE_LABEL
from vanishlab.report.line_box import MIN_PANEL_W, PANEL_W
from vanishlab.report.model import Curve, LineGrid, LinePanel
from vanishlab.report.page import PAGE_W

PAD_IN = 0.05
LABELS = [
    LAG_RATE_LABEL,  # the monitor's rates figure
    "rate (natural log per step of lag)",  # its longer words of an earlier release
    "horizon (steps of lag)",
    RATE_LABEL,  # the gain figures'
    r"$\log_{10}\,\|\partial h_T\,/\,\partial x_{T-k}\|$",
]


@pytest.mark.parametrize("nrows", [1, 2])
@pytest.mark.parametrize("ylabel", LABELS)
def test_a_y_label_lies_inside_its_figure_and_left_of_the_ticks(ylabel, nrows):
    """The monitor's 'rate (natural log per step of lag)' reached the top edge of its one-row
    figure (1 px from it, its ')' cut in a browser): a label was centred on the panels
    whatever its length. A label keeps 0.05 in from the figure's edges."""
    x = np.arange(0.0, 700.0, 50.0)
    curve = Curve("state", 0, x, -0.45 - 0.01 * np.sin(x))  # tick labels like "−0.450"
    panels = tuple(LinePanel(r, 0, "", (curve,)) for r in range(nrows))
    grid = LineGrid("t", "c", nrows, 1, panels, "training step", ylabel, "", ("state",))
    with pinned():
        fig = draw(grid)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        (label,) = [t for t in fig.texts if t.get_rotation() == 90]
        box = label.get_window_extent(renderer)
        ticks = [
            t.get_window_extent(renderer).x0
            for ax in fig.axes
            if ax.get_visible()
            for t in ax.get_yticklabels()
            if t.get_text()
        ]
    assert label.get_text().replace("\n", " ") == ylabel
    pad = PAD_IN * fig.dpi
    assert fig.bbox.y0 + pad <= box.y0 and box.y1 <= fig.bbox.y1 - pad, (box, fig.bbox)
    assert fig.bbox.x0 <= box.x0 and box.x1 < min(ticks), (box, min(ticks))


@pytest.mark.parametrize("ncols", [1, 2])
@pytest.mark.parametrize(
    "y",
    [
        0.0029488 - 3.5e-8 * np.arange(40.0),  # tick labels like "0.0029485": a flat loss
        1e6 + 0.37 * np.arange(40.0),  # like "1.000008" (x 1e6)
        -0.45 - 0.01 * np.sin(np.arange(40.0)),  # like "−0.450": the margins as before
    ],
)
def test_long_y_tick_labels_widen_the_margins(y, ncols):
    """A monitor's loss that barely moved (0.0029488 to 0.0029474 over 40 steps of an LSTM)
    drew tick labels like '0.0029485' across its y label 'loss' (and, in a second column,
    they would reach the panel on their left): the margins were 0.8 and 0.6 in whatever the
    ticks' width. They grow by what the widest tick label needs beyond the room of one like
    '−0.465'; the panels keep their width."""
    x = np.arange(40.0)
    panels = tuple(LinePanel(0, c, "", (Curve("loss", None, x, y),)) for c in range(ncols))
    grid = LineGrid("t", "c", 1, ncols, panels, "step", "loss", "", ())
    with pinned():
        fig = draw(grid)
        renderer, box, axes, ticks = _y_label_geometry(fig)
        panel_w = [ax.get_position().width * fig.get_size_inches()[0] for ax in axes]
    _assert_clear(fig, renderer, box, axes, ticks)
    assert panel_w == pytest.approx([PANEL_W - 0.6] * ncols)


@pytest.mark.parametrize("ylabel", ["loss", LABELS[1]])
@pytest.mark.parametrize("ncols", [4, 5])
def test_long_y_tick_labels_keep_a_wide_grid_within_the_page(ncols, ylabel):
    """A grid of 4 or 5 panels across is laid out to the page's width (11.79 in): widened by
    its tick labels' room in every column ('−0.0125', '0.0029485'), it grew past it (12.67 in,
    13.27 at 5 columns) and the browser shrank the whole figure, its text with it. The room
    now comes out of the panels; kept at their narrowest (1.6 in), 5 columns were still
    12.51 in: a figure fits the page, its panels narrower still where they must be. The tick
    labels still clear the y label and the panel on their left. A y label broken into two
    lines widened the left margin past the page too (11.96 in, with short tick labels)."""
    x = np.arange(40.0)
    y = 0.0029488 - 3.5e-8 * x  # tick labels like "0.0029485"
    panels = tuple(LinePanel(0, c, "", (Curve("loss", None, x, y),)) for c in range(ncols))
    grid = LineGrid("t", "c", 1, ncols, panels, "step", ylabel, "", ())
    short = LineGrid(
        "t",
        "c",
        1,
        ncols,
        tuple(
            LinePanel(0, c, "", (Curve("loss", None, x, -0.45 - 0.01 * np.sin(x)),))
            for c in range(ncols)
        ),
        "step",
        ylabel,
        "",
        (),
    )
    with pinned():
        fig, before = draw(grid), draw(short)
        renderer, box, axes, ticks = _y_label_geometry(fig)
        width = float(fig.get_size_inches()[0])
        panel_w = [ax.get_position().width * width for ax in axes]
    assert float(before.get_size_inches()[0]) <= PAGE_W + 1e-9  # with short tick labels
    assert width <= PAGE_W + 1e-9, width
    assert panel_w == pytest.approx([panel_w[0]] * ncols)
    assert min(panel_w) >= (MIN_PANEL_W - 0.6) * 0.85  # narrower by the ticks' room alone
    _assert_clear(fig, renderer, box, axes, ticks)


def _y_label_geometry(fig):
    """A drawn line figure's renderer, its y label's box, its visible panels and each panel's
    leftmost tick label's x (display units)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (label,) = [t for t in fig.texts if t.get_rotation() == 90]
    axes = [a for a in fig.axes if a.get_visible()]
    ticks = [
        min(t.get_window_extent(renderer).x0 for t in ax.get_yticklabels() if t.get_text())
        for ax in axes
    ]
    return renderer, label.get_window_extent(renderer), axes, ticks


def _assert_clear(fig, renderer, box, axes, ticks) -> None:
    """The y label inside the figure and clear of the first panel's tick labels, and each
    panel's tick labels clear of the panel on their left."""
    gap = 0.015 * fig.dpi
    assert fig.bbox.x0 <= box.x0 and box.x1 + gap < ticks[0]
    for left_ax, tick in zip(axes[:-1], ticks[1:], strict=True):
        assert left_ax.get_window_extent(renderer).x1 + gap < tick
