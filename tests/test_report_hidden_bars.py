"""A bar across seeds hidden under its point's dot is said in its figure's caption.

The phase diagrams (the gain and theory sections) draw each setting's spread across seeds as a
bar under a 4 pt dot, and their captions said "bars span the seeds" even where a bar was no
taller than its dot: the demo's drew 34 of their 47 bars so (up to 3.9 pt tall), and a small
gated run 24 of its 48, unsaid (:func:`.line_style.hidden_bar_note`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _report_run import add_failed_cell, report_sections, report_with_a_failed_seed

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.line_style import MARKER_MS, _at_most_pt, hidden_band_note, hidden_bar_note
from vanishlab.report.model import Curve, LineGrid, LinePanel

X = np.array([0.5, 1.0, 2.0])


def _panel(title: str, spread: float, y: tuple[float, ...] = (-1.0, -0.5, 0.0)) -> LinePanel:
    """A panel of one line of points ``y`` over 3 gains, each bar ``spread`` tall about its
    point."""
    ys = np.array(y)
    return LinePanel(0, 0, title, (Curve("a", 0, X, ys, lo=ys - spread / 2, hi=ys + spread / 2),))


def _grid(*panels: LinePanel, zero_line: bool = False) -> LineGrid:
    return LineGrid("t", "", 1, len(panels), panels, "g", "rate", "", (), markers=True,
                    zero_line=zero_line)  # fmt: skip


def _up(points: float) -> str:
    """``points`` to one decimal, rounded up, as a caption's "at most" says it."""
    return f"{math.ceil(round(points * 10, 6)) / 10:.1f}"


def _pt(lo: float, hi: float) -> float:
    """Points per unit on a panel 1.7 in tall whose data run from ``lo`` to ``hi``, its axis
    5 % longer at either end."""
    return 1.7 * 72 / ((hi - lo) * 1.1)


def test_every_hidden_bar_is_said():
    # bars 0.03 tall: 3.2 pt, under the 4 pt dots; 0.05: 5.3 pt, 0.4 pt above and below them
    note = hidden_bar_note(_grid(_panel("state", 0.03), _panel("input", 0.02)), "per step")
    assert note == (
        f" In every panel the bars are at most {_up(0.03 * _pt(-1.015, 0.015))} pt tall, under "
        "the 4 pt dots: the seeds agree to within 0.03 per step."
    )
    assert hidden_bar_note(_grid(_panel("state", 0.05)), "per step") == ""


def test_a_figure_of_one_panel_says_its_bars_plainly():
    """A gated run's figure of one model's phase diagram has one panel: its caption said "In
    every panel the bars ...", and its thin band "In every panel the band ..."."""
    note = hidden_bar_note(_grid(_panel("state", 0.03)), "per step")
    assert note == (
        f" The bars are at most {_up(0.03 * _pt(-1.015, 0.015))} pt tall, under the 4 pt dots: "
        "the seeds agree to within 0.03 per step."
    )
    band = hidden_band_note([_panel("state", 0.02)])  # 2.2 pt tall: thinner than 2 lines
    assert band.startswith(" The band is at most ±0.01 in log10: at most 2.2 pt tall ")
    assert hidden_band_note([_panel("state", 0.02), _panel("input", 0.02)]).startswith(
        " In every panel the band is at most ±0.01 "
    )


def test_panels_whose_every_bar_is_hidden_are_named_and_the_others_bars_counted():
    panels = [_panel("relu, 1 layer", 0.03), _panel("tanh, 1 layer", 0.02)]
    ys = np.array([-1.0, -0.5, 0.0])
    off = np.array([0.05, 0.01, 0.015])
    lo, hi = ys - off, ys + off  # one of 3 bars shows
    panels.append(LinePanel(0, 0, "tanh, 2 layers", (Curve("a", 0, X, ys, lo=lo, hi=hi),)))
    assert hidden_bar_note(_grid(*panels), "per step") == (
        f" In the 'relu, 1 layer' and 'tanh, 1 layer' panels the bars are at most "
        f"{_up(0.03 * _pt(-1.015, 0.015))} pt tall, under the 4 pt dots: the seeds agree to "
        "within 0.03 per step. In the other panel, of the 3 bars, 2 are at most "
        f"{_up(0.03 * _pt(-1.05, 0.015))} pt tall, hidden under their 4 pt dots: those seeds "
        "agree to within 0.03 per step."
    )


def test_one_hidden_bar_and_one_other_panel_are_said_in_the_singular():
    """A gated run's LSTM figure said "Of the 3 bars, 1 are at most 2.1 pt tall, hidden under
    their 4 pt dots: those seeds agree", and a figure with one panel not wholly hidden said
    "In the other panels"."""
    ys = np.array([-1.0, -0.5, 0.0])
    off = np.array([0.05, 0.01, 0.05])  # the middle bar of 3 is hidden
    curve = Curve("a", 0, X, ys, lo=ys - off, hi=ys + off)
    one, two = (LinePanel(0, 0, t, (curve,)) for t in ("s", "t"))
    assert hidden_bar_note(_grid(one), "per step") == (
        f" Of the 3 bars, 1 is at most {_up(0.02 * _pt(-1.05, 0.05))} pt tall, hidden under its "
        "4 pt dot: its seeds agree to within 0.02 per step."
    )
    note = hidden_bar_note(_grid(_panel("a", 0.03), one, two), "per step")
    assert " In the other panels, of the 6 bars, 2 are at most " in note
    note = hidden_bar_note(_grid(_panel("a", 0.03), one), "per step")
    assert " In the other panel, of the 3 bars, 1 is at most " in note


def test_a_bar_is_hidden_by_how_far_it_reaches_from_its_dot():
    """A bar across 3 seeds need not be centred on their mean: one 3.3 pt tall that reaches
    2.7 pt above its dot shows; one of no height (the seeds agree exactly) is hidden."""
    ys = np.array([-1.0, -0.5, 0.0])
    off = LinePanel(0, 0, "s", (Curve("a", 0, X, ys, lo=ys - 0.005, hi=ys + 0.025),))
    assert hidden_bar_note(_grid(off), "per step") == ""
    flat = LinePanel(0, 0, "s", (Curve("a", 0, X, ys, lo=ys, hi=ys),))
    assert hidden_bar_note(_grid(flat), "per step") == " The seeds agree exactly: no bar shows."


def test_a_bar_without_a_dot_shows():
    ys = np.array([-1.0, np.nan, 0.0])
    lo, hi = np.array([-1.01, -0.6, -0.01]), np.array([-0.99, -0.5, 0.01])
    bare = LinePanel(0, 0, "s", (Curve("a", 0, X, ys, lo=lo, hi=hi),))
    assert hidden_bar_note(_grid(bare), "per step") == (
        f" Of the 3 bars, 2 are at most {_up(0.02 * _pt(-1.01, 0.01))} pt tall, hidden under "
        "their 4 pt dots: those seeds agree to within 0.02 per step."
    )


def test_the_zero_line_lengthens_the_axis():
    """Rates from -1.1 to -0.6 on an axis drawn up to its zero line: a bar 0.03 tall is
    3.0 pt there, 6.3 pt (3.2 pt either side of its dot) on the rates' span alone."""
    panel = _panel("s", 0.03, (-1.1, -0.8, -0.6))
    assert hidden_bar_note(_grid(panel), "per step") == ""
    assert hidden_bar_note(_grid(panel, zero_line=True), "per step").startswith(
        f" The bars are at most {_up(0.03 * _pt(-1.115, 0.0))} pt tall"
    )


def _drawn_bars(grid: LineGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far each bar of ``grid`` reaches from its dot and how tall it is, in points, as
    matplotlib draws the figure; and its height in the axis's unit."""
    reach, tall, spread = [], [], []
    with pinned():
        fig = draw(grid)
        fig.canvas.draw()
        titled = {a.get_title(loc="left"): a for a in fig.axes if a.get_visible()}
        for panel in grid.panels:
            ax = titled[panel.title]
            lo, hi = ax.get_ylim()
            scale = ax.get_window_extent().height * 72 / fig.dpi / (hi - lo)
            for c in panel.curves:
                if not c.reference:
                    reach.append(np.maximum(c.hi - c.y, c.y - c.lo) * scale)
                    tall.append((c.hi - c.lo) * scale)
                    spread.append(c.hi - c.lo)
    return np.concatenate(reach), np.concatenate(tall), np.concatenate(spread)


@pytest.mark.parametrize("key", ["gain", pytest.param("theory", marks=pytest.mark.slow)])
def test_a_phase_diagram_says_the_bars_it_draws_under_their_dots(tmp_path, key):
    """The bars as drawn: 3 of the 6 of this run's orthogonal and default tanh cells reach no
    farther from their markers (the default's dots, the orthogonal's squares) than 2 pt, on an
    axis that runs from about -0.6 up to the zero line."""
    sweep = vl.Sweep(
        activation=("tanh",),
        init=("default", "orthogonal"),
        gain=(0.5, 1.0, 2.0),
        seed=(0, 1),
        hidden_size=32,
        input_size=4,
        seq_len=100,
        batch=4,
    )
    sections = report_sections(tmp_path / "run", sweep, [key])
    (grid,) = [b for b in sections[key].blocks if isinstance(b, LineGrid)]
    reach, tall, spread = _drawn_bars(grid)
    hidden = reach <= MARKER_MS / 2
    assert 0 < hidden.sum() < len(hidden), reach
    assert (
        f" Of the {len(hidden)} bars, {hidden.sum()} are at most {_up(tall[hidden].max())} pt "
        f"tall, hidden under their 4 pt markers: those seeds agree to within "
        f"{spread[hidden].max():.2g} per step."
    ) in grid.caption


def test_one_seed_draws_no_bars_to_say(tmp_path):
    sweep = vl.Sweep(activation=("tanh",), gain=(0.5, 1.0), seed=(0,), hidden_size=16,
                     input_size=4, seq_len=20, batch=2)  # fmt: skip
    sections = report_sections(tmp_path / "run", sweep, ["gain", "theory"])
    for key in ("gain", "theory"):
        (grid,) = [b for b in sections[key].blocks if isinstance(b, LineGrid)]
        assert "bars" not in grid.caption


def test_a_panel_of_one_value_has_bars_of_no_height():
    """One point whose seeds agree exactly, on an axis of that one value: no 0 x ∞ (a
    RuntimeWarning, an error in this suite), and the bar is hidden."""
    y = np.array([-0.5])
    lone = LinePanel(0, 0, "s", (Curve("a", 0, X[:1], y, lo=y, hi=y),))
    assert hidden_bar_note(_grid(lone), "per step") == " The seeds agree exactly: no bar shows."


def test_a_point_of_one_seed_s_rate_has_no_bar_to_say(tmp_path):
    """A setting of 2 seeds whose other seed failed (or sits at -inf) has one finite rate: its
    point was drawn with a bar of no height, counted among the bars hidden under their dots,
    and, where it was the only one, said to be of seeds that "agree exactly". It has no bar."""
    from vanishlab.report.gain_layout import gain_curve

    settings = pd.DataFrame(
        {
            "gain": X,
            "rate": [-1.0, -0.5, 0.0],
            "lo": [-1.05, -0.5, -0.05],
            "hi": [-0.95, -0.5, 0.05],
            "n_finite": [2, 1, 2],
            "n_zero": [0, 0, 0],
        }
    )
    curve = gain_curve(settings, 0, "a", "lo", "hi")
    assert np.isnan(curve.lo[1]) and np.isnan(curve.hi[1]) and curve.lo[0] == -1.05
    assert hidden_bar_note(_grid(LinePanel(0, 0, "s", (curve,))), "per step") == ""
    # a real run: seed 1 failed at g = 2, and both sections draw no bar there
    report = report_with_a_failed_seed(
        tmp_path / "run", (0.5, 2.0), ["gain", "theory"], activation=("tanh",)
    )
    for section in report.sections:
        if section.key in ("gain", "theory"):
            (grid,) = [b for b in section.blocks if isinstance(b, LineGrid)]
            (measured,) = [c for p in grid.panels for c in p.curves if not c.reference]
            assert np.isfinite(measured.y).all()
            assert np.isfinite(measured.lo[0]) and np.isnan(measured.lo[1])


def test_seeds_that_agree_exactly_are_said_without_a_height_of_0():
    """Bars of no height were "at most 0.0 pt tall, under the 4 pt dots: the seeds agree
    exactly", and a bar a hundredth of a point tall "at most 0.0 pt tall"."""
    ys = np.array([-1.0, -0.5, 0.0])
    flat = LinePanel(0, 0, "s", (Curve("a", 0, X, ys, lo=ys, hi=ys),))
    assert hidden_bar_note(_grid(flat, flat), "per step") == (
        " In every panel the seeds agree exactly: no bar shows."
    )
    off = np.array([0.05, 0.0, 0.05])  # the middle bar has no height
    one = LinePanel(0, 0, "s", (Curve("a", 0, X, ys, lo=ys - off, hi=ys + off),))
    assert hidden_bar_note(_grid(one), "per step") == (
        " Of the 3 bars, 1 does not show: its seeds agree exactly."
    )
    assert hidden_bar_note(_grid(flat, one), "per step") == (
        " In the 's' panel the seeds agree exactly: no bar shows. In the other panel, of the 3 "
        "bars, 1 does not show: its seeds agree exactly."
    )
    tiny = _panel("s", 1e-4)
    assert hidden_bar_note(_grid(tiny), "per step") == (
        " The bars are under 0.1 pt tall, under the 4 pt dots: the seeds agree to within "
        "0.0001 per step."
    )


def test_panels_of_one_title_are_told_apart():
    """Two panels whose titles read the same (a theory figure of a sweep over input_std =
    1.00001,1.00002 titles both "input std = 1"): the second's bars, which show, stood for the
    first's, hidden, and the caption said nothing."""
    grid = _grid(_panel("s", 0.03), _panel("s", 0.05))
    assert hidden_bar_note(grid, "per step") == (
        f" In the 's' panel the bars are at most {_up(0.03 * _pt(-1.015, 0.015))} pt tall, under "
        "the 4 pt dots: the seeds agree to within 0.03 per step."
    )


def test_a_figure_whose_every_point_has_one_finite_rate_says_it_draws_no_bars(tmp_path):
    """A gated run of 2 seeds whose seed 1 failed in every LSTM cell: the LSTM's phase diagram
    draws no bar (each point is seed 0's rate), yet its caption said "bars span the seeds"
    (the words followed the most seeds any setting of the run has, 2, not what is drawn)."""
    from vanishlab.report.line_style import NO_BARS

    sweep = vl.Sweep(model=("rnn", "lstm"), gain=(0.5, 2.0), seed=(0, 1), hidden_size=8,
                     input_size=4, seq_len=20, batch=2)  # fmt: skip
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    for cell in sweep.cells():
        if cell.seed == 1 and cell.model == "lstm":
            add_failed_cell(tmp_path / "run", "test failure", **cell.to_dict())
    report = build_report(
        vl.load_results(tmp_path / "run"),
        vl.load_cells(tmp_path / "run"),
        vl.load_manifest(tmp_path / "run"),
        timestamp="2024-01-01",
        sections=["gain"],
    )
    (section,) = [s for s in report.sections if s.key == "gain"]
    rnn, lstm = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert "model = lstm" in lstm.title
    ((measured,),) = [p.curves for p in lstm.panels]
    assert np.isfinite(measured.y).all() and np.isnan(measured.lo).all()
    assert f"against the gain g, {NO_BARS}. Below" in lstm.caption
    assert "bars" not in lstm.caption.replace(NO_BARS, "")
    assert "against the gain g, bars span the seeds. Below" in rnn.caption


@pytest.mark.parametrize(
    ("points", "said"),
    [
        (3.94, "at most 4.0 pt"),  # said "at most 3.9 pt" of a bar taller than that
        (3.9, "at most 3.9 pt"),
        (0.3, "at most 0.3 pt"),  # not 0.4: 10 x 0.3 is 3.0000000000000004
        (0.12, "at most 0.2 pt"),
        (0.1, "at most 0.1 pt"),
        (0.07, "under 0.1 pt"),  # said "at most 0.1 pt": so, but "under" says more
        (1e-5, "under 0.1 pt"),
    ],
)
def test_at_most_is_rounded_up_to_the_digit_it_prints(points: float, said: str):
    assert _at_most_pt(points) == said


def test_every_panel_is_said_only_of_every_panel():
    """A figure whose panels with bars hide them all, beside a panel without a bar (its
    points one seed's finite rate each), said "In every panel the bars are ... under the
    4 pt dots" of that panel too; and a title with "=" and no comma read "In the model =
    lstm panel the ...", as an equation."""
    ys = np.array([-1.0, -0.5, 0.0])
    bare = LinePanel(0, 0, "model = gru", (Curve("a", 0, X, ys),))
    hidden = [_panel("model = rnn", 0.03), _panel("model = lstm", 0.02)]
    tall = f"{_up(0.03 * _pt(-1.015, 0.015))} pt tall"
    assert hidden_bar_note(_grid(*hidden, bare), "per step") == (
        f" In every panel that has bars the bars are at most {tall}, under the 4 pt dots: "
        "the seeds agree to within 0.03 per step."
    )
    assert hidden_bar_note(_grid(hidden[0], bare), "per step").startswith(
        f" In the 'model = rnn' panel the bars are at most {tall}"
    )
    assert hidden_bar_note(_grid(*hidden), "per step").startswith(" In every panel the bars")
    thin = [_panel("model = rnn", 0.02), _panel("model = lstm", 0.02)]
    assert hidden_band_note([*thin, bare]).startswith(
        " In every panel that has a band the band is at most ±0.01 "
    )
    assert hidden_band_note([thin[1], bare]).startswith(" In the 'model = lstm' panel the band")


def test_a_figure_of_bars_and_bare_dots_says_what_a_bare_dot_is(tmp_path):
    """A run of 2 seeds whose seed 1 failed at one gain: its point there is seed 0's rate, a
    dot without a bar beside the other gains' bars, under a caption that said only "bars span
    the seeds" (a bare dot read as a bar hidden under it, or a setting of one seed)."""
    from vanishlab.report.line_style import BARE_POINTS

    report = report_with_a_failed_seed(
        tmp_path / "run", (0.5, 1.0, 2.0), ["gain", "theory"], model="rnn"
    )
    for key in ("gain", "theory"):
        (section,) = [s for s in report.sections if s.key == key]
        (grid,) = [b for b in section.blocks if isinstance(b, LineGrid)]
        ((measured, *_),) = [p.curves for p in grid.panels]
        assert np.isfinite(measured.y).all() and np.isnan(measured.lo).sum() == 1
        assert f"bars span the seeds; {BARE_POINTS}" in grid.caption, key


def test_the_panels_with_bars_not_all_hidden_are_named_beside_a_panel_without_bars():
    """One panel's bars all hidden, one's partly, and a third without a bar: the second was
    "the other panel", of two others."""
    ys = np.array([-1.0, -0.5, 0.0])
    off = np.array([0.05, 0.01, 0.05])  # the middle bar of 3 is hidden
    some = LinePanel(0, 0, "model = lstm", (Curve("a", 0, X, ys, lo=ys - off, hi=ys + off),))
    bare = LinePanel(0, 0, "model = gru", (Curve("a", 0, X, ys),))
    note = hidden_bar_note(_grid(_panel("model = rnn", 0.03), some, bare), "per step")
    assert " In the 'model = lstm' panel, of the 3 bars, 1 is at most " in note
    note = hidden_bar_note(_grid(_panel("model = rnn", 0.03), some), "per step")
    assert " In the other panel, of the 3 bars, 1 is at most " in note


def test_past_three_panels_a_caption_names_the_others_or_counts_them():
    """A caption named every panel it was of in one sentence, up to a figure's 24 ("In the
    'a = 1' panel, the 'a = 2' panel, ..."): past 3 it names those it is not of, where they
    are as few, else it counts them."""
    ys = np.array([-1.0, -0.5, 0.0])
    off = np.array([0.05, 0.01, 0.05])  # the middle bar of 3 is hidden
    some = [LinePanel(0, 0, f"s{i}", (Curve("a", 0, X, ys, lo=ys - off, hi=ys + off),))
            for i in range(12)]  # fmt: skip
    hidden = [_panel(f"h{i}", 0.03) for i in range(12)]
    bare = LinePanel(0, 0, "bare", (Curve("a", 0, X, ys),))
    tall = f"at most {_up(0.03 * _pt(-1.015, 0.015))} pt tall"
    assert hidden_bar_note(_grid(*hidden[:3], *some[:9]), "per step").startswith(
        f" In the 'h0', 'h1' and 'h2' panels the bars are {tall}"
    )
    assert hidden_bar_note(_grid(*hidden[:7], *some[:5]), "per step").startswith(
        f" In 7 of the 12 panels the bars are {tall}"
    )
    assert hidden_bar_note(_grid(*hidden[:10], bare, *some[:1]), "per step").startswith(
        f" In all but the 'bare' and 's0' panels the bars are {tall}"
    )
    note = hidden_bar_note(_grid(hidden[0], *some[:10], bare), "per step")
    assert " In all but the 'h0' and 'bare' panels, of the 30 bars, 10 are at most " in note
    note = hidden_bar_note(_grid(*hidden[:6], *some[:5], bare), "per step")
    assert " In 5 of the 12 panels, of the 15 bars, 5 are at most " in note
    thin = [_panel(f"t{i}", 0.02) for i in range(11)]
    wide = _panel("wide", 0.5)
    assert hidden_band_note([*thin[:4], wide]).startswith(
        " In all but the 'wide' panel the band is at most ±0.01 "
    )
    assert hidden_band_note([*thin[:4], *(wide,) * 4]).startswith(
        " In 4 of the 8 panels the band is at most ±0.01 "
    )


def _styled(style: int, spread: float, n_styles: int, off: tuple[float, ...] = ()) -> LineGrid:
    """A figure of ``n_styles`` line styles, one panel of a line of style ``style`` over 3 gains,
    each bar ``spread`` tall about its point (its half-heights ``off`` where given)."""
    ys = np.array([-1.0, -0.5, 0.0])
    half = np.array(off) if off else np.full(3, spread / 2)
    curve = Curve("a", style, X, ys, lo=ys - half, hi=ys + half)
    legend = tuple(f"init {i}" for i in range(n_styles))
    return LineGrid("t", "", 1, 1, (LinePanel(0, 0, "s", (curve,)),), "g", "rate", "init",
                    legend, markers=True)  # fmt: skip


@pytest.mark.parametrize("style", [6, 12])
def test_a_bar_under_a_square_or_a_diamond_is_not_said_to_be_under_a_dot(style: int) -> None:
    """Past 6 lines the 7th to 12th lines' points are squares, the 13th to 18th's diamonds
    (:func:`.line_style.style_marker`), whose half height is a dot's radius or more: their
    hidden bars were said to be "under the 4 pt dots" (an activation_init sweep over gains,
    8 inits); they are under the 4 pt markers."""
    tall = f"at most {_up(0.03 * _pt(-1.015, 0.015))} pt tall"
    assert hidden_bar_note(_styled(style, 0.03, 18), "per step") == (
        f" The bars are {tall}, under the 4 pt markers: the seeds agree to within 0.03 per step."
    )
    note = hidden_bar_note(_styled(style, 0, 18, off=(0.05, 0.01, 0.05)), "per step")
    assert note.startswith(" Of the 3 bars, 1 is at most ")
    assert "hidden under its 4 pt marker: its seeds agree to within 0.02 per step." in note


def test_a_figure_of_dots_alone_still_says_dots() -> None:
    """A figure of up to 6 lines (every demo figure), and one whose shaped lines draw no bar
    here, keeps its words: "dots"; so does a figure of more than 18 lines (a colour map, no
    shapes)."""
    for style, n in ((0, 6), (5, 8), (6, 19)):
        note = hidden_bar_note(_styled(style, 0.03, n), "per step")
        assert " under the 4 pt dots: " in note, (style, n)


def test_a_monitor_of_more_than_6_curves_rings_no_square() -> None:
    """A monitor's horizons figure draws the later curve's marker inside a larger one of the
    earlier curve's colour and shape: a ring round a dot, a square round a square (the second
    curve's and each later one's shape, past 6 curves the 7th's), where its caption said "a
    ring" for every figure; a ring where no curve has a shape (past 18, a colour map)."""
    from vanishlab.report.sections.monitor_training import _horizons_figure
    from vanishlab.sweep.schema import MONITOR_STEP

    steps = pd.DataFrame({MONITOR_STEP: [0, 2, 4], "status": ["ok"] * 3})

    def caption(n: int) -> str:
        fit = {MONITOR_STEP: [0, 2, 4], "horizon": [5.0, 6.0, 7.0],
               "zero_lag": [np.nan] * 3, "lag_end": [20.0] * 3}  # fmt: skip
        by_curve = {f"c{i}": pd.DataFrame(fit) for i in range(n)}
        grid = _horizons_figure(steps, by_curve, [f"curve {i}" for i in range(n)])
        assert grid is not None
        return grid.caption

    assert "marker sits inside a larger marker of the earlier one's colour" in caption(5)
    assert "marker sits inside a larger marker of the earlier one's colour" in caption(7)
    assert "marker sits inside a ring of the earlier one's colour" in caption(18)
