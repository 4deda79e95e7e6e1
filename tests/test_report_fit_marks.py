"""The analyze page's fitted lines carry open shapes at the ends of their fit window, and the
caption says so in the words of the marks' one definition (report/line_marks.OPEN_SHAPE).

Seen on an analysed 2-layer nn.RNN's "Decay of the Jacobians": the dashed fitted lines of
layer 0 and of the input had an open square and an open diamond at lags 6 and 24 (23), and the
caption explained the dashed line, not the marks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel
from vanishlab.trained import analyze_checkpoint


@pytest.fixture(scope="module")
def curves(tmp_path_factory: pytest.TempPathFactory) -> LineGrid:
    root = tmp_path_factory.mktemp("fit-marks")
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(3, 8, num_layers=2).state_dict(), root / "m.pt")
    analyze_checkpoint(root / "m.pt", root / "run", seq_len=24, batch=4)
    run = root / "run"
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), sections=["curves"]
    )
    (grid,) = [b for s in report.sections for b in s.blocks if isinstance(b, LineGrid)]
    return grid


def test_the_caption_says_the_open_shapes_at_the_fit_windows_ends(curves):
    fitted = [c for p in curves.panels for c in p.curves if c.reference]
    with pinned():
        fig = draw(curves)
        open_marks = {
            float(x)
            for ax in fig.axes
            for line in ax.get_lines()
            if line.get_linestyle() == "None" and line.get_markerfacecolor() == "white"
            for x in line.get_xdata()
        }
    ends = {float(x) for c in fitted for x in c.x}
    assert open_marks and open_marks <= ends, (open_marks, ends)  # drawn, at the window's ends
    assert "A dashed line carries its line's shape, open, at the ends of the lags it was " in (
        curves.caption
    )


def test_no_shape_drawn_no_word_of_it():
    from vanishlab.report.line_marks import OPEN_SHAPE, open_shape_note  # new with this test

    assert OPEN_SHAPE == "carries its line's shape, open"
    x, y = np.array([0.0, 1.0, 2.0]), np.array([0.0, -1.0, -2.0])
    first = (Curve("a", 0, x, y), Curve("fit", 0, x[1:], y[1:], reference=True))
    second = (Curve("b", 1, x, y), Curve("fit", 1, x[1:], y[1:], reference=True))
    one = LineGrid("t", "", 1, 1, (LinePanel(0, 0, "", first),), "k", "y", "", ("a",))
    assert open_shape_note(one, "there") == ""  # the first line has no shape
    both = LineGrid("t", "", 1, 1, (LinePanel(0, 0, "", first + second),), "k", "y", "", ("a", "b"))
    assert open_shape_note(both, "there") == f" A dashed line {OPEN_SHAPE}, there."


def test_a_sweep_page_s_predictions_say_their_open_shapes(tmp_path):
    """The sweep page's decay figure drew its dashed predictions with their lines' shapes, open,
    at the fit window's ends (the demo's orthogonal and normal inits: an open square and
    diamond), and its caption did not say so, as the analyze page's now did."""
    from _report_run import report_sections

    sweep = vl.Sweep(
        init=("orthogonal", "normal", "xavier_normal"),
        hidden_size=8,
        input_size=4,
        seq_len=24,
        batch=2,
    )
    (grid,) = [
        b
        for b in report_sections(tmp_path / "run", sweep, ["decay", "theory"])["decay"].blocks
        if isinstance(b, LineGrid)
    ]
    assert any(c.reference for p in grid.panels for c in p.curves)  # predictions drawn
    assert "A dashed line carries its line's shape, open, at the ends of the fit window." in (
        grid.caption
    )
