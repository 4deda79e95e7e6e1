"""The parts of one heatmap figure keep one panel width: a mixed run's last part, of gated
cells only (one "n/a" column each), drew its panels half as wide as the first part's (nn.RNN
cells, tanh and relu), and their titles wrapped onto three and four lines."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from vanishlab.report.figure_layout import TITLE_SIZE, pinned
from vanishlab.report.figure_text import row_label, text_width, title_width, wrap_title
from vanishlab.report.figures import draw
from vanishlab.report.layout import as_parts
from vanishlab.report.model import HeatmapGrid, HeatPanel, Report
from vanishlab.report.page import PAGE_W
from vanishlab.report.render import render_html

INITS = ("default", "orthogonal")


def _grid(model: str, columns: tuple[str, ...]) -> HeatmapGrid:
    panels = tuple(
        HeatPanel(
            f"model = {model}, {depth}, hidden = {h}, T = {t}",
            INITS,
            columns,
            -0.5 * np.ones((len(INITS), len(columns))),
        )
        for depth in ("1 layer", "2 layers")
        for h in (4, 8)
        for t in (6, 12)
    )[:6]
    return HeatmapGrid("Rate by init and activation", "c", panels, 3, "activation", "init", "rate")


def test_a_part_of_gated_panels_keeps_its_one_columns_width_and_titles_fit():
    """A last part of gated cells only (one "n/a" column) was made as wide as the first
    part's two columns (tanh, relu): its one cell drawn 1.9 in wide, twice an nn.RNN's. Its
    panels are now as wide as their one column or the titles of both parts need, whichever
    is more, and every title still fits two lines."""
    parts = as_parts([_grid("rnn", ("tanh", "relu")), _grid("gru", ("n/a (gated)",))])
    panel_widths, lines = [], []
    with pinned():
        for grid in parts:
            fig = draw(grid)
            width = float(fig.get_size_inches()[0])
            maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
            panel_widths.append({round(ax.get_position().width * width, 6) for ax in maps})
            lines += [ax.get_title(loc="left").count("\n") + 1 for ax in maps]
    (rnn,), (gated,) = panel_widths
    assert rnn == 2 * 0.95, panel_widths
    titles = [p.title for g in parts for p in g.panels]
    need = max(title_width(t, 2, TITLE_SIZE) for t in titles) - 0.2  # 0.2 in towards the bar
    assert gated == pytest.approx(max(0.95, need)) and gated < rnn - 0.3, panel_widths
    assert max(lines) <= 2, lines


def test_a_figure_in_one_part_keeps_its_own_width():
    (whole,) = as_parts([_grid("gru", ("n/a (gated)",))])
    with pinned():
        narrow = float(draw(whole).get_size_inches()[0])
        wide = float(draw(_grid("rnn", ("tanh", "relu"))).get_size_inches()[0])
    assert narrow < wide


def _four_setting_grid(activation: str, n: int) -> HeatmapGrid:
    """Two-cell panels (depth by T = 6, 12) titled by four settings, as in a sweep of
    activation, hidden size, init and input std: "tanh, hidden = 4, orthogonal, input std =
    0.5" wrapped onto three lines in the last column (the room up to the colour bar). With
    "init = " (as measured, 0.6 em a character no longer), "orthogonal" titles take 2.19 in
    in two lines, more than two cells hold (1.9 in and 0.2 in towards the bar), "default"
    ones 1.94 in."""
    panels = tuple(
        HeatPanel(
            f"{activation}, hidden = {h}, init = {init}, input std = {std}",
            ("1", "2"),
            ("6", "12"),
            -0.5 * np.ones((2, 2)),
        )
        for h in (4, 8)
        for init in INITS
        for std in ("0.5", "1.0")
    )[:n]
    return HeatmapGrid("Rate by depth and sequence length", "c", panels, 3, "T", "layers", "r")


def _drawn(grids: list[HeatmapGrid]) -> tuple[list[int], list[float]]:
    """The title lines and the panel widths (inches) of ``grids`` as drawn."""
    lines, panel_widths = [], []
    with pinned():
        for grid in grids:
            fig = draw(grid)
            width = float(fig.get_size_inches()[0])
            maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
            panel_widths += [round(ax.get_position().width * width, 6) for ax in maps]
            lines += [ax.get_title(loc="left").count("\n") + 1 for ax in maps]
    return lines, panel_widths


def test_two_cell_panels_titled_by_four_settings_keep_their_titles_to_two_lines():
    parts = as_parts([_four_setting_grid("tanh", 8), _four_setting_grid("relu", 2)])
    lines, panel_widths = _drawn(parts)
    assert len(lines) == 10 and max(lines) == 2, lines
    assert len(set(panel_widths)) == 1, panel_widths  # the parts still share one width
    # The second part's own titles ("default", no "orthogonal") fit two lines in two cells:
    # the first part's set its width.
    alone = replace(parts[1], part_titles=())
    assert _drawn([alone]) == ([2, 2], [2 * 0.95] * 2)
    # as wide as its titles need, no wider: its cells alone made it 0.95 in a column
    assert 2 * 0.95 < panel_widths[0] < 2 * 0.95 + 0.2
    # short titles keep the panels' own width
    titles = tuple(replace(p, title="tanh") for p in parts[0].panels)
    short = replace(parts[0], panels=titles, part_titles=())
    assert set(_drawn([short])[1]) == {2 * 0.95}


def _long_titled(grid: HeatmapGrid, rows: tuple[str, ...] = ("1", "2")) -> HeatmapGrid:
    long = "a very long setting = " + "x" * 40
    return replace(
        grid,
        panels=tuple(
            replace(p, title=f"{long}, {long}, {long}", row_labels=rows) for p in grid.panels
        ),
    )


def _width(grid: HeatmapGrid) -> float:
    with pinned():
        return float(draw(grid).get_size_inches()[0])


def test_a_title_too_long_for_two_lines_on_a_page_is_not_made_room_for():
    """Past 3 inches a panel is not widened further: such a title takes a third line."""
    (grid,) = as_parts([_four_setting_grid("tanh", 1)])
    lines, panel_widths = _drawn([_long_titled(grid)])
    assert panel_widths == [3.0] and lines[0] >= 3, (panel_widths, lines)


#: A title of five settings that takes two lines of about 2.0 in.
TITLE = "1 layer, hidden = 4, T = 12, input std = 0.5, float64"


@pytest.mark.parametrize("rows", [("1 layer", "2 layers"), INITS])
def test_three_panels_widened_for_long_titles_still_fit_the_page(rows):
    """Three panels of 3.0 in made the figure 11.6 in with one-character row labels and
    13.4 in with "orthogonal" (over the page's 11.3 in then, so the browser drew it smaller;
    the page's 11.79 in holds the first): they are as wide as the page holds three, no wider,
    their titles on more lines."""
    (grid,) = as_parts([_four_setting_grid("tanh", 3)])
    many = _long_titled(grid, rows)
    lines, panel_widths = _drawn([many])
    assert PAGE_W - 0.01 <= _width(many) <= PAGE_W, _width(many)
    assert len(set(panel_widths)) == 1 and panel_widths[0] < 3.0 and min(lines) >= 3
    # titles that fit two lines in a panel the page holds keep their two lines
    short = replace(many, panels=tuple(replace(p, title=TITLE) for p in many.panels))
    assert _drawn([short])[0] == [2, 2, 2] and _width(short) < PAGE_W


def test_a_last_part_of_one_panel_keeps_the_page_share_of_the_first():
    """A last part of one panel (ncols 1, as rate_heatmaps gives it) alone on its row could be
    as wide as the 3.0 in cap: it keeps the width the first part's three columns leave."""
    first = _long_titled(_four_setting_grid("tanh", 3), INITS)
    last = replace(_four_setting_grid("tanh", 1), ncols=1)
    last = replace(last, panels=tuple(replace(p, row_labels=INITS) for p in last.panels))
    _, panel_widths = _drawn(as_parts([first, last]))
    assert len(panel_widths) == 4 and len(set(panel_widths)) == 1, panel_widths
    assert panel_widths[0] < 3.0 and _width(as_parts([first, last])[0]) <= PAGE_W


#: An init's name as a row label: 2.3 in at the tick labels' 8.5 pt.
LONG_INIT = "uniform_variance_scaled_recurrent"


def _labels(grid: HeatmapGrid) -> list[str]:
    """Every row label of ``grid`` as drawn (its tick labels' text)."""
    with pinned():
        fig = draw(grid)
    shown = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    return [t.get_text() for ax in shown for t in ax.get_yticklabels()]


@pytest.mark.parametrize("n", [3, 12])
def test_cell_panels_with_an_init_name_as_row_label_fit_the_page(n):
    """Rows labelled by a long init's name stand left of every panel: three two-column panels
    made a figure 14.83 in wide (a smoke sweep of a custom init by activation, three models):
    the row of panels loses a column instead, and every label is drawn whole."""
    panels = tuple(
        replace(p, row_labels=(LONG_INIT, "orthogonal"))
        for p in _grid("rnn", ("tanh", "relu")).panels
    )
    grid = replace(_grid("rnn", ("tanh", "relu")), panels=(panels * 2)[:n])
    assert _width(grid) <= PAGE_W
    assert LONG_INIT in _labels(grid)


def _dense(labels: tuple[str, ...], n: int = 2) -> HeatmapGrid:
    """A depth x lag map: ``n`` panels of one row per label, against 12 lags."""
    lags = tuple(str(k) for k in range(12))
    panel = HeatPanel("tanh, 2 layers", labels, lags, -np.ones((len(labels), len(lags))))
    return HeatmapGrid("Depth", "c", (panel,) * n, 2, "lag", "layer l", "x", dense=True)


#: A depth map's row label: the settings folded into its rows, then the layer (3.8 in).
FOLDED = "hidden = 4, T = 6, input std = 0.5, bias, float32, l = {}"


def test_a_depth_map_with_settings_folded_into_its_row_labels_fits_the_page():
    """Its two panels, each with 3.8 in labels beside them, made the figure 15.8-18.7 in wide
    (smoke sweeps of hidden, T, input std, dtype and bias by two layers): the labels are broken
    into lines, whole."""
    grid = _dense((FOLDED.format(1), FOLDED.format(0)))
    assert _width(grid) <= PAGE_W
    drawn = _labels(grid)
    assert [t.replace("\n", " ") for t in drawn[:2]] == [FOLDED.format(1), FOLDED.format(0)]
    assert all(t.count("\n") == 1 for t in drawn), drawn
    # a short label is drawn as it is, and the figure keeps its width
    short = _dense(("1", "0"))
    assert _labels(short)[:2] == ["1", "0"] and _width(short) < PAGE_W - 2


def test_a_row_label_too_long_for_three_lines_is_shortened_and_given_in_full():
    """A label that does not fit three lines of 3 in (200 characters) is drawn shortened, its
    end kept, and the caption gives it in full (as_parts adds the sentence)."""
    long = ", ".join(f"setting {k} = {k}" for k in range(14)) + ", l = 1"
    (grid,) = as_parts([_dense((long, "0"), n=1)])
    drawn = _labels(grid)
    assert "…" in drawn[0] and drawn[0].endswith("l = 1") and drawn[0].count("\n") == 2
    assert _width(grid) <= PAGE_W
    assert grid.caption == f"c Row labels shortened (…), in full: “{long}”."
    (whole,) = as_parts([_dense((FOLDED.format(1), "0"), n=1)])
    assert whole.caption == "c"  # broken into lines, not shortened: nothing to add


#: A registered init's name of 64 characters without a "_", "-" or "." to break after.
UNBROKEN = "averyveryverylonginitialisationnamewithoutanyseparatorsatallabcd"


@pytest.mark.parametrize("text", [UNBROKEN, f"init = {UNBROKEN}", f"tanh, init = {UNBROKEN}"])
def test_a_long_name_without_a_break_is_drawn_once_as_a_title_breaks_it(text):
    """A row label of a 64-character init name, too wide for 3 in, was drawn in full over two
    lines broken inside the name, then '… ' and its last 46 characters again on a third line,
    and said shortened (the caption gave 'in full' a label that was). It is now broken as a
    panel's title is, where its lines end, each character drawn once; the end of a label too
    long for three lines is taken from what the first lines leave."""
    label, cut = row_label(text)
    assert not cut and "…" not in label, label
    assert re.sub(r"\s", "", label) == re.sub(r"\s", "", text), label  # each character once
    long, cut = row_label(UNBROKEN * 3)
    head, tail = long.rsplit("\n… ", 1)
    assert cut and len(head.replace("\n", "")) + len(tail) < len(UNBROKEN * 3), long


@pytest.mark.parametrize("width_in", [1.2, 1.6, 2.4])
def test_a_title_breaks_inside_a_setting_longer_than_its_line(width_in):
    """A setting longer than a title's line ("init = uniform_variance_scaled_recurrent") was
    left whole on one line of 40 characters, past its panel and under the next one's title:
    it is broken at its space, then inside its one long word, after an underscore."""
    title = f"tanh, init = {LONG_INIT}, T = 6"
    lines = wrap_title(title, width_in, 9.5).split("\n")
    assert all(text_width(x, 9.5) <= width_in or len(x) <= 16 for x in lines), lines
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing lost
    assert any(line.endswith("_") for line in lines), lines  # broken after an underscore


def test_the_page_column_and_the_figures_width_are_one_number():
    """The style sheet's main column (max-width less its padding, at CSS's 96 px to the inch)
    is the width the figures are laid out to: 1180 px less 2 x 24 px held 11.79 in while the
    figures were fitted to 11.3 in."""
    html = render_html(Report("t", "t", "2026-01-01T00:00:00Z", "0", ()))
    rule = re.search(
        r"main, footer \{ max-width: (\d+)px; margin: 0 auto; padding: 0 (\d+)px;", html
    )
    assert rule is not None
    column, gutter = (int(v) for v in rule.groups())
    assert (column - 2 * gutter) / 96 == PAGE_W
    assert "box-sizing: border-box" in html  # the padding inside the max-width


def test_each_cell_panel_is_as_tall_as_its_own_rows():
    """An nn.RNN's panel of two rows (tanh, relu) beside a gated cell's of one (n/a) and one of
    four: every panel was drawn as tall as the tallest (1.92 in), the one-row panel's cell
    four times as tall as a cell of the four-row one. Each cell is now 0.48 in tall wherever
    it is, each panel at the top of its row of the grid."""
    rows = (("tanh", "relu"), ("n/a (gated)",), ("a", "b", "c", "d"), ("tanh", "relu"))
    panels = tuple(
        HeatPanel(f"panel {n}", r, ("0.5", "1.0"), -np.ones((len(r), 2)))
        for n, r in enumerate(rows)
    )
    with pinned():
        fig = draw(HeatmapGrid("Rate", "c", panels, 3, "gain", "activation", "rate"))
    height = float(fig.get_size_inches()[1])
    maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in maps] == [p.title for p in panels]
    tall = [ax.get_position().height * height for ax in maps]
    assert tall == pytest.approx([0.48 * len(r) for r in rows])
    tops = [ax.get_position().y1 for ax in maps[:3]]
    assert tops == pytest.approx([tops[0]] * 3)


@pytest.mark.parametrize(
    "title",
    [
        "model = omq-kdric_l., model = a",
        "hidden_size = szlcil.x1tljexc_-ldn, model = mq.galm",
        "hidden_size = _WlbkMktl.yjrpaazrmwM_j., gain = igbylbinc od.-c",
    ],
)
def test_a_title_wraps_at_its_title_width_into_the_lines_it_was_given(title):
    """title_width(t, 2) is the width a heatmap's panels are made for its titles to take two
    lines; wrap_title took the longest lines that fit there, and a longer line limit can break
    a title into more lines: these three drew on three lines, the case the width is for."""
    for lines in (2, 3):
        width = title_width(title, lines, TITLE_SIZE)
        assert wrap_title(title, width, TITLE_SIZE).count("\n") + 1 <= lines, (lines, width)
