"""A line figure's legend lists both kinds of line it draws, or neither.

A figure of one unnamed measured style (the trainability section's solved fraction at one
gain, on an LSTM or mixed-model page) listed only its dashed reference ("predicted from the
gradient at init"): the solid measured line was explained in the caption alone, while figures
whose lines have names list both kinds. The measured line now has an entry beside the
reference (:attr:`vanishlab.report.model.LineGrid.line_label`), and a figure without a
reference still has no legend.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

X = np.array([10.0, 20.0, 40.0])


def _grid(*curves: Curve) -> LineGrid:
    return LineGrid(
        title="Solved fraction against T",
        caption="",
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "init = default", curves),),
        xlabel="T",
        ylabel="fraction solved",
        legend_title="",
        legend=(),
        markers=True,
        line_label="solved",
    )


def _legend(grid: LineGrid) -> list[tuple[str, str]]:
    with pinned():
        fig = draw(grid)
        if not fig.legends:
            return []
        legend = fig.legends[0]
        return [
            (text.get_text(), str(handle.get_linestyle()))
            for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        ]


def test_one_unnamed_measured_line_beside_a_reference_is_listed() -> None:
    solved = Curve("", 0, X, np.array([1.0, 0.5, 0.0]))
    predicted = Curve("predicted", 0, X, np.array([1.0, 1.0, 0.0]), reference=True)
    entries = _legend(_grid(solved, predicted))
    assert [t for t, _ in entries] == ["solved", "predicted"], entries
    assert entries[0][1] == "-" and entries[1][1] != "-", entries  # solid, then dashed
    assert _legend(_grid(solved)) == []  # no reference: neither kind listed, as before
    named = replace(_grid(solved, predicted), legend=("0.5",), legend_title="gain")
    assert [t for t, _ in _legend(named)] == ["0.5", "predicted"]  # its name, not a second
