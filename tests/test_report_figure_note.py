"""A line figure whose columns show some of an axis's values says so inside the figure: with
9 gains the decay curves drew 5 columns, and only the caption's note said that 4 were left
out (the panels' titles, gain = 0.25 ... 3.0, read as every gain)."""

from __future__ import annotations

import numpy as np
import pytest
from _report_run import report_sections
from matplotlib.backends.backend_agg import FigureCanvasAgg

import vanishlab as vl
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

GAINS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 3.0)


@pytest.fixture(scope="module")
def sections(tmp_path_factory):
    """Two inits (the lines) by nine gains (the columns), H = 2, T = 4."""
    grid = vl.Sweep(
        init=("default", "orthogonal"), gain=GAINS, hidden_size=2, input_size=2, seq_len=4,
        batch=1, num_layers=1, activation="tanh",
    )  # fmt: skip
    return report_sections(tmp_path_factory.mktemp("gains") / "run", grid)


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_thinned_columns_are_said_in_the_figure_above_its_legend(sections):
    grids = [b for b in sections["decay"].blocks if isinstance(b, LineGrid)]
    assert grids and all(g.ncols == 5 for g in grids)
    for grid in grids:
        assert grid.figure_note == "columns show 5 of the 9 values of gain"
        assert grid.figure_note in grid.note.lower()  # the caption's note still says it too
        with pinned():
            fig = draw(grid)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            renderer = canvas.get_renderer()
            (note,) = [t for t in fig.texts if t.get_text().startswith("Columns show")]
            box = note.get_window_extent(renderer)
            (legend,) = fig.legends
            below = [legend.get_window_extent(renderer)]
            below += [ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_visible()]
        assert note.get_text() == "Columns show 5 of the 9 values of gain"
        assert box.y1 <= fig.bbox.y1 and all(box.y0 >= b.y1 for b in below), (box, below)


def test_a_figure_that_shows_every_value_has_no_note_line():
    x = np.arange(5.0)
    grid = LineGrid("t", "c", 1, 1, (LinePanel(0, 0, "p", (Curve("a", 0, x, x),)),), "x", "y",
                    "init", ("a",))  # fmt: skip
    with pinned():
        assert draw(grid).texts and not any("show" in t.get_text() for t in draw(grid).texts)
