"""Marks and labels of the report's figures that must read as what they are: the stable band
as a band, shortened row labels of one figure apart, a setting's name beside its value."""

from __future__ import annotations

import numpy as np
import pytest

from vanishlab.analysis.fits import PHASE_TOLERANCE
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figure_text import row_label, text_width, wrap_title
from vanishlab.report.figures import draw
from vanishlab.report.layout import as_parts
from vanishlab.report.model import Curve, HeatmapGrid, HeatPanel, LineGrid, LinePanel

#: Points: a band at least this tall reads as a band beside the 0.8 pt zero line (the report
#: draws it 6 pt tall at least, :data:`vanishlab.report.line_style.BAND_MIN_PT`).
SEEN_PT = 5.0


def _band_heights_pt(fig) -> list[float]:
    """The drawn height (points) of each panel's stable band: the patch spanning the panel's
    width that covers 0."""
    heights = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        width = ax.get_window_extent().width
        for patch in ax.patches:
            box = patch.get_window_extent()
            zero = ax.transData.transform((0.0, 0.0))[1]
            if abs(box.width - width) < 1 and box.y0 <= zero <= box.y1:
                heights.append(box.height * 72 / fig.dpi)
    return heights


def _gain_figures(report) -> list[LineGrid]:
    gain = next(s for s in report.sections if s.key == "gain")
    return [b for b in gain.blocks if isinstance(b, LineGrid)]


def test_the_stable_band_reads_as_a_band_on_a_tall_axis(full_report_data):
    """The band |rate| <= 0.01, drawn to scale on panels whose axis spans ~1-2 per step, was
    0.8-1.6 pt tall, under the 0.8 pt zero line: it read as a plain line. It is drawn at least
    6 pt tall, the legend names it with its true width, the caption says both."""
    (figure,) = _gain_figures(full_report_data)  # of report_run("full")
    with pinned():
        fig = draw(figure)
        spans = [ax.get_ylim()[1] - ax.get_ylim()[0] for ax in fig.axes if ax.get_visible()]
        heights = _band_heights_pt(fig)
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert min(spans) > 0.5, spans  # tall axes: to scale, the band is under 3 pt
    assert len(heights) == len(spans) and min(heights) >= SEEN_PT, heights
    assert f"stable: |rate| ≤ {PHASE_TOLERANCE}" in legend
    assert f"|rate| ≤ {PHASE_TOLERANCE}, drawn at least 6 pt tall" in figure.caption


def test_the_stable_band_is_drawn_to_scale_where_that_shows():
    """On an axis spanning 0.06 the band is 0.02 / 0.06 of the panel: drawn as it is."""
    x = np.array([0.5, 1.0, 2.0])
    curve = Curve("a", 0, x, np.array([-0.03, 0.0, 0.03]))
    grid = LineGrid(
        "t", "c", 1, 1, (LinePanel(0, 0, "p", (curve,)),), "gain g", "rate", "init", ("a",),
        markers=True, zero_line=True, stable_band=PHASE_TOLERANCE,
    )  # fmt: skip
    with pinned():
        fig = draw(grid)
        ax = fig.axes[0]
        (height,) = _band_heights_pt(fig)
        per_unit = ax.get_window_extent().height / np.ptp(ax.get_ylim()) * 72 / fig.dpi
    assert height == pytest.approx(2 * PHASE_TOLERANCE * per_unit, rel=1e-6)
    assert height > SEEN_PT


@pytest.mark.parametrize("width_in", [2.2, 2.4, 2.9, 3.0])
def test_a_title_keeps_a_setting_name_beside_its_value(width_in):
    """ "model = lstm, init = uniform_variance_scaled_recurrent" in a 2.9 in panel broke as
    "model = lstm," / "init =" / "uniform_variance_scaled_recurrent": the name alone on its
    line. The value now breaks after an underscore beside its name."""
    title = "model = lstm, init = uniform_variance_scaled_recurrent"
    lines = wrap_title(title, width_in, 9.5).split("\n")
    assert not any(line.endswith("=") for line in lines), lines
    assert any(line.startswith("init = uniform_") for line in lines), lines
    assert all(text_width(line, 9.5) <= width_in for line in lines), lines  # as drawn
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing lost


#: A depth map's row label with settings folded into it, too long for three lines of 3 in:
#: two init names of one start and one end, two gains, two layers.
FOLDED = (
    "model = lstm, hidden = 64, T = 100, input std = 0.5, bias, float32, "
    "init = uniform_variance_scaled_recurrent_{}_weights, gain = {}, task = adding, "
    "lr = 0.01, l = {}"
)


def _drawn_rows(rows: tuple[str, ...]) -> tuple[list[str], str]:
    """The row labels a dense heatmap of ``rows`` draws, and its caption."""
    values = np.linspace(-3.0, 1.0, len(rows) * 4).reshape(len(rows), 4)
    panel = HeatPanel("model = lstm", rows, ("0", "1", "2", "3"), values)
    (grid,) = as_parts([HeatmapGrid("Depth", "c", (panel,), 1, "lag", "l", "y", dense=True)])
    with pinned():
        ax = next(a for a in draw(grid).axes if a.get_visible() and a.get_title(loc="left"))
        return [t.get_text() for t in ax.get_yticklabels()], grid.caption


def test_shortened_row_labels_of_one_figure_are_told_apart():
    """Labels that differ only halfway (the init's name, the gain) were shortened to one
    drawing: "model = lstm, hidden = 64, T = 100, input" / "std = 0.5, bias, float32, init =
    uniform_va" / "… = 0.5, task = adding, lr = 0.01, l = 1" for both inits. They now show
    the settings in which they differ, the init's name cut to the part that differs; the
    end starts at a setting ("… = 0.5" was a value without its name)."""
    rows = tuple(
        FOLDED.format(init, gain, layer)
        for init in ("alpha", "omega")
        for gain in ("0.5", "2.0")
        for layer in (1, 0)
    )
    drawn, caption = _drawn_rows(rows)
    assert len(set(drawn)) == len(rows), drawn
    assert all(t.count("\n") == 2 and "…" in t for t in drawn), drawn
    # (measured as drawn, the end holds the gain too: the middle tells the inits apart)
    assert drawn[0].split("\n")[1] == "… init = …alpha…", drawn[0]
    assert drawn[-1].split("\n")[1] == "… init = …omega…", drawn[-1]
    assert drawn[-1].split("\n")[2] == "… gain = 2.0, task = adding, lr = 0.01, l = 0", drawn[-1]
    assert all(text_width(line, 8.5) <= 3.0 for t in drawn for line in t.split("\n")), drawn
    assert all(f"“{t}”" in caption for t in rows)  # the caption gives each in full


def test_shortened_row_labels_apart_where_their_settings_do_not_line_up():
    """Labels of different numbers of settings, alike but for one halfway: each shows the
    part where it differs."""
    start = "s " * 10 + ", ".join(f"k{i} = {i}" for i in range(30))
    other = start.replace("k12 = 12", "k12 = 99, extra")
    drawn, _ = _drawn_rows((start, other))
    assert len(set(drawn)) == 2, drawn
    assert "k12 = 12" in drawn[0] and "k12 = 99" in drawn[1], drawn


def _repeating(length: int, **at: str) -> str:
    """A label of ``length`` settings "q = 0", those at ``at`` ("i20": index 20) replaced."""
    settings = ["q = 0"] * length
    for key, value in at.items():
        settings[int(key[1:])] = value
    return ", ".join(settings)


def test_row_labels_alike_after_their_differing_parts_are_numbered_with_a_key():
    """Labels whose differing parts read alike too (settings repeating "q = 0") are numbered
    after their end, and the caption gives each number before the label in full."""
    rows = (
        _repeating(39, i20="r", i30="q = 2"),
        _repeating(39, i20="r", i23="q = 2", i31="q = 2"),
        _repeating(38, i19="q = 2"),
    )
    drawn, caption = _drawn_rows(rows)
    assert len(set(drawn)) == 3, drawn
    assert drawn[1].endswith(" [1]") and drawn[2].endswith(" [2]"), drawn
    assert f"“{rows[0]}”; [1] “{rows[1]}”; [2] “{rows[2]}”." in caption


@pytest.mark.parametrize("width_in", [1.4, 1.6, 1.8, 2.2, 2.6])
@pytest.mark.parametrize(
    "title",
    [
        "model = lstm, init = mycustominitialisation",
        "activation = tanh, T = 50",
        "train steps = 100000, T = 5",
    ],
)
def test_no_title_line_ends_with_a_setting_name_whose_value_cannot_break(title, width_in):
    """A value without a "_", "-" or "." to break at left its name alone at a line's end:
    "activation =" / "tanh, T = 50" (1.4 in), "init =" / "mycustominitialisation" (1.8 in).
    Now the value is broken beside its name where the line has room for half a line, else
    the value's line starts with the "=": "activation" / "= tanh, T = 50"."""
    lines = wrap_title(title, width_in, 9.5).split("\n")
    assert not any(line.endswith("=") for line in lines), lines
    assert all(text_width(line, 9.5) <= width_in for line in lines), lines  # as drawn
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing lost


@pytest.mark.parametrize(
    "text",
    [
        "2 layers, optimizer = adam, dtype = float64, lr = 0.001, init = forget_bias",
        "bias = False, activation = tanh, model = lstm, init = orthogonal, gain = 0.5, "
        "task = adding, l = 1",
    ],
)
def test_no_row_label_line_ends_with_a_setting_name(text):
    """A row label too long for a line was broken at any space where its settings did not
    fit two lines: "2 layers, optimizer = adam, dtype =" / "float64, lr = 0.001, init =
    forget_bias". It now breaks between settings, inside a name, or where a setting must
    break, before its "=" ("dtype" / "= float64, ..."), never after it; in three lines or
    fewer."""
    drawn, shortened = row_label(text)
    lines = drawn.split("\n")
    assert not shortened and len(lines) <= 3, lines
    assert not any(line.endswith("=") for line in lines), lines
    assert " ".join(lines) == text, lines  # broken at a space, nothing cut
