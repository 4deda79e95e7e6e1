"""A line figure's legend lists both kinds of line it draws, or neither.

A figure of one unnamed measured style (the trainability section's solved fraction at one
gain, on an LSTM or mixed-model page) listed only its dashed reference ("predicted from the
gradient at init"): the solid measured line was explained in the caption alone, while figures
whose lines have names list both kinds. The measured line now has an entry beside the
reference (:attr:`vanishlab.report.model.LineGrid.line_label`), and a figure without a
reference still has no legend.

A reference's sample is drawn in the colour the panels draw that reference in: the solved
fraction at one gain draws its dashed prediction in the measured line's blue ("Dashed, same
colour"), and a grey sample beside the blue one read as a third, grey line. The neutral grey
only where a reference's lines take several colours (one per measured line, which the caption
says) or none of a measured line (a task's required lag).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.colors import to_hex

from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import REFERENCE_COLOR, draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

X = np.array([10.0, 20.0, 40.0])


def _grid(*curves: Curve, legend: tuple[str, ...] = ()) -> LineGrid:
    return LineGrid(
        title="Solved fraction against T",
        caption="",
        nrows=1,
        ncols=1,
        panels=(LinePanel(0, 0, "init = default", curves),),
        xlabel="T",
        ylabel="fraction solved",
        legend_title="gain" if legend else "",
        legend=legend,
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


def _drawn(grid: LineGrid) -> tuple[dict[str, str], set[str]]:
    """The legend's sample colour of each label, and the colours of the panels' dashed or
    dotted lines."""
    with pinned():
        fig = draw(grid)
        legend = fig.legends[0]
        samples = {
            text.get_text(): to_hex(handle.get_color())
            for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        }
        lines = [ln for ax in fig.axes for ln in ax.get_lines() if len(ln.get_xdata())]
        dashed = {to_hex(ln.get_color()) for ln in lines if ln.get_linestyle() not in ("-", "None")}
        return samples, dashed


def _curves(style: int | None, dotted: bool = False) -> tuple[Curve, ...]:
    solved = Curve(f"{style}", style, X, np.array([1.0, 0.5, 0.0]))
    predicted = Curve("predicted", style, X, np.array([1.0, 1.0, 0.0]), reference=True)
    edge = Curve("critical", style, X[:2] + 5, np.array([0.0, 1.0]), reference=True, dotted=True)
    return (solved, predicted, edge) if dotted else (solved, predicted)


def test_a_reference_of_one_colour_has_a_sample_of_that_colour() -> None:
    samples, dashed = _drawn(_grid(*_curves(0)))
    assert len(dashed) == 1 and dashed != {REFERENCE_COLOR}, dashed
    assert samples["predicted"] == samples["solved"] == dashed.pop(), samples
    # one named gain and a dotted marker line (a critical gain) of its colour: the same
    samples, dotted = _drawn(_grid(*_curves(1, dotted=True), legend=("0.5", "1.0")))
    assert len(dotted) == 1 and samples["predicted"] == samples["critical"] == samples["1.0"]
    assert samples["critical"] in dotted, (samples, dotted)


def test_a_reference_of_several_colours_or_none_has_a_grey_sample() -> None:
    samples, dashed = _drawn(_grid(*_curves(0), *_curves(1), legend=("0.5", "1.0")))
    assert len(dashed) == 2 and REFERENCE_COLOR not in dashed, dashed  # each its line's colour
    assert samples["predicted"] == REFERENCE_COLOR, samples
    # no measured line's style (a task's required lag): grey in the panel and the legend
    need = Curve("required lag", None, X, np.array([5.0, 10.0, 20.0]), reference=True)
    samples, dashed = _drawn(_grid(Curve("", 0, X, np.array([3.0, 9.0, 30.0])), need))
    assert dashed == {REFERENCE_COLOR} and samples["required lag"] == REFERENCE_COLOR, samples
