"""The depth x lag maps of a run of many folded settings: each panel as tall as its own rows,
a setting its panel's rows share said once in its title, and each folded setting said once
beside its layers. A smoke run of three models (rnn, lstm, gru), a custom init, two depths, two
activations, three gains, two input stds and two lengths drew one figure 142.7 in tall: every
panel as tall as the tallest (72 rows), and every row's label "model = rnn, T = 20, gain =
0.5, input std = 0.0, l = 1", "model = rnn" in all 24 of a tanh panel's (now 53.1 in)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.layout import as_parts
from vanishlab.report.model import HeatmapGrid, HeatPanel
from vanishlab.report.page import PAGE_W

LAGS = tuple(str(k) for k in range(12))


def _dense(title: str, rows: int, **kw: object) -> HeatPanel:
    labels = tuple(str(k % 2) for k in range(rows))
    return HeatPanel(title, labels, LAGS, -np.ones((rows, len(LAGS))), **kw)  # type: ignore[arg-type]


def _drawn(grid: HeatmapGrid) -> tuple[float, list[float], list[str]]:
    """The figure's height, its panels' heights (inches, in order) and the texts it writes
    beside its panels (the labels of groups of rows)."""
    with pinned():
        fig = draw(grid)
    height = float(fig.get_size_inches()[1])
    maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
    heights = [round(ax.get_position().height * height, 6) for ax in maps]
    return height, heights, [t.get_text() for ax in maps for t in ax.texts]


def test_a_short_panel_is_as_tall_as_its_own_rows():
    """Two panels of 2 rows beside each other, above two of 24 (a three-layer network by
    eight folded settings): each was drawn 24 rows tall (7.68 in); the short ones take their
    own 2 rows now (0.64 in), their row of the grid as tall as they are."""
    panels = (_dense("a", 2), _dense("b", 2), _dense("c", 24), _dense("d", 24))
    height, heights, _ = _drawn(HeatmapGrid("Depth", "c", panels, 2, "lag", "l", "x", dense=True))
    assert heights[0] == heights[1] == pytest.approx(heights[2] * 2 / 24)
    assert heights[2] == heights[3]
    assert height < heights[2] + heights[0] + 2.5, height  # margins, titles and one gap


def test_a_group_of_rows_is_named_once_beside_its_rows():
    """A group's label is drawn once, beside its rows, which keep their own (the layer's
    number); rows stay as tall as their one-line labels need, the figure within the page,
    and a group label too long for the page is given in full in the caption."""
    settings = [f"model = lstm, T = {t}, gain = {g}" for t in (20, 40) for g in (0.5, 1.0, 2.0)]
    long = ", ".join(f"setting {k} = {k}" for k in range(14))
    groups = (*settings, long)
    seps = tuple(2 * k for k in range(1, len(groups)))
    panel = _dense("2 layers, orthogonal", 2 * len(groups), separators=seps, row_groups=groups)
    (grid,) = as_parts([HeatmapGrid("Depth", "c", (panel,) * 2, 2, "lag", "l", "x", dense=True)])
    _, heights, texts = _drawn(grid)
    assert [t.replace("\n", " ") for t in texts[:6]] == settings
    assert "…" in texts[6] and texts[6].endswith("setting 13 = 13")
    assert grid.caption == f"c Row labels shortened (…), in full: “{long}”."
    assert heights[0] < 0.32 * len(panel.row_labels)  # rows of one-line labels: 0.2 in, not 0.32
    with pinned():
        assert float(draw(grid).get_size_inches()[0]) <= PAGE_W


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """The depth section of a run of three models, two depths, activations and inits, two
    gains and two input stds (H = 4, T = 6): 64 cells (three gains, 96 cells, took 1.5 s of
    CPU more for the same kind of figure: panels of as many sizes, taller)."""
    run = tmp_path_factory.mktemp("mixed") / "run"
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), num_layers=(2, 3), activation=("tanh", "relu"),
        init=("default", "orthogonal"), gain=(0.5, 1.0), input_std=(0.0, 1.0),
        hidden_size=4, input_size=2, seq_len=6, batch=2,
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    # The depth section alone (no section's words depend on which others a page shows but
    # through view.shows, which it does not call): building all took 2.4-2.8 s of CPU, 1.5 now.
    report = build_report(
        vl.load_results(run),
        vl.load_cells(run),
        vl.load_manifest(run),
        timestamp="2024-01-01",
        sections=["depth"],
    )
    return next(s for s in report.sections if s.key == "depth")


def _pieces(text: str) -> set[str]:
    return set(re.split(r", ", text))


# In the slow tier: ~5 s of CPU (a run of 64 cells); the titles' rule is tested in
# test_report_panel_titles.
@pytest.mark.slow
def test_a_setting_shared_by_a_panels_rows_is_said_once_in_its_title(mixed):
    """The nn.RNN panels (tanh, relu) hold one model: "model = rnn" was in each of their rows'
    labels, beside "gain = ..., input std = ..., l = 1"; their titles say it now, and no
    row's label or group's repeats a setting every row of its panel shares."""
    (figure,) = mixed.blocks
    rnn = [p for p in figure.panels if p.title.startswith("model = rnn ")]
    models = ("model = rnn (tanh)", "model = rnn (relu)")
    assert len(rnn) == 8 and all(p.title.split(", ")[0] in models for p in rnn)
    for p in figure.panels:
        assert all(label.isdigit() for label in p.row_labels), p.row_labels  # a layer's number
        assert len(p.row_groups) == len(p.separators) + 1
        shared = set.intersection(*(_pieces(g) for g in p.row_groups))
        assert not shared, (p.title, shared)
        assert all("model = rnn" not in g for g in p.row_groups)
    gated = [p for p in figure.panels if p not in rnn]
    assert gated and all(p.row_groups[0].startswith("model = lstm, gain = 0.5") for p in gated)
    assert "a setting that all of a panel's rows share is named in its title" in figure.caption


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_the_figure_of_many_folded_settings_is_as_tall_as_its_rows(mixed):
    """12 panels of 8 to 24 rows, two to a row of the grid: some 46 in of panels when every
    panel was as tall as the 24-row ones (0.32 in a row); each row of the grid as tall as its
    own panels, 80 rows in all at 0.2 in (a layer's number their label), it is 21.1 in. (Of
    three gains, 12 to 36 rows: 73.5 in before, 29.1 in now.)"""
    (figure,) = mixed.blocks
    height, heights, _ = _drawn(figure)
    rows = [len(p.row_labels) for p in figure.panels]
    assert rows == [8, 8, 12, 12, 8, 8, 12, 12, 16, 16, 24, 24]
    assert heights == pytest.approx([0.2 * r for r in rows])
    assert height < 0.2 * sum(rows[::2]) + 6 * 1.0, height  # a row's titles, ticks and gap


def test_the_layer_label_heads_the_layer_numbers_right_of_the_settings():
    """The figure's y label "layer l" stood at its left edge, left of the groups' labels
    ("gain = 0.5", beside each setting's layers), and read as naming the settings; it now heads
    each panel's column of layer numbers: above its top row, its right edge with theirs, right
    of its groups' labels, and clear of every other text of the figure (titles, ticks)."""
    groups = ("T = 20, gain = 0.5", "T = 20, gain = 1.0", "T = 50, gain = 0.5")
    panel = _dense("tanh, 2 layers, default", 6, separators=(2, 4), row_groups=groups)
    plain = _dense("relu, 2 layers, default", 2)
    grid = HeatmapGrid("Depth", "c", (panel, plain, panel), 2, "lag k", "layer l", "x", dense=True)
    with pinned():
        fig = draw(grid)
        renderer = FigureCanvasAgg(fig).get_renderer()
        maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title(loc="left")]
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        boxes = {t: t.get_window_extent(renderer) for t in texts}
        heads = [t for t in texts if t.get_text() == "layer l"]
        assert len(heads) == len(maps), [t.get_text() for t in texts]
        for ax in maps:
            frame = ax.get_window_extent(renderer)
            (head,) = [t for t in heads if t.axes is ax]
            box = boxes[head]
            assert box.y0 >= frame.y1 and box.x1 <= frame.x0, (box, frame)
            for label in [t for t in ax.texts if t is not head]:  # the groups' labels
                assert box.x1 > boxes[label].x1 + 4, (label.get_text(), box, boxes[label])
        others = [t for t in texts if t not in heads]
        for head in heads:
            assert not [t.get_text() for t in others if boxes[head].overlaps(boxes[t])]
