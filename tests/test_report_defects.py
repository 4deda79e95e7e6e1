"""The report shows every setting, fits its colour scales to the data, compares like with like,
keeps long notes readable and writes settings as "T = 50": one test per class of fault."""

from __future__ import annotations

import itertools
import math
import re
import warnings
from dataclasses import replace
from pathlib import Path

import _report_run as runs
import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.report import build_report, render_html
from vanishlab.report.format import assign, rate_text
from vanishlab.report.heatmaps import color_scale
from vanishlab.report.line_style import BAND_WORDS
from vanishlab.report.model import HeatmapGrid, HeatPanel, LineGrid, Table
from vanishlab.report.predicted import setting_notes
from vanishlab.report.view import RunView

STAMP = "2024-01-01T00:00:00Z"
INITS = ("a", "b", "c", "d")
GAINS = (0.5, 0.8, 1.0, 1.5, 2.0)


def stacked_run() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Synthetic frames: 2 activations x depths 1, 2, 4 x 4 inits x 5 gains, one seed, each
    layer's log10 norm falling linearly in the lag (no measurement, no theory)."""
    parts, cells = [], []
    for act, depth, init, gain in itertools.product(("tanh", "relu"), (1, 2, 4), INITS, GAINS):
        cell = f"{act}-{depth}-{init}-{gain}"
        k = np.arange(21)
        for layer in range(depth):
            slope = math.log10(gain) - 0.05 - 0.01 * (depth - 1 - layer)
            parts.append(
                pd.DataFrame(
                    {
                        "activation": act,
                        "num_layers": depth,
                        "init": init,
                        "gain": gain,
                        "seed": 0,
                        "cell_id": cell,
                        "source": "state",
                        "layer": pd.array(np.full(k.size, layer), dtype="Int64"),
                        "lag": k,
                        "log10_fro_mean": slope * k,
                        "log10_fro_std": 0.0,
                        "n_zero": 0,
                    }
                )
            )
        cells.append(
            {"activation": act, "num_layers": depth, "init": init, "gain": gain, "seed": 0}
            | {"cell_id": cell, "status": "ok", "reason": None, "elapsed_s": 0.1}
        )
    axes = {"activation": ["tanh", "relu"], "num_layers": [1, 2, 4], "init": list(INITS)}
    manifest = {"name": "stacked", "axes": axes | {"gain": list(GAINS), "seed": [0]}}
    return pd.concat(parts, ignore_index=True), pd.DataFrame(cells), manifest


@pytest.fixture(scope="module")
def stacked():
    results, cells, manifest = stacked_run()
    return build_report(results, cells, manifest, timestamp=STAMP, sections=["depth", "rates"])


def _section(report, key):
    return next(s for s in report.sections if s.key == key)


# The sections whose words a Models figure or table depends on (models.py's view.shows):
# its page keeps them, so that its captions read as on the whole page.
MODELS_WORDS = ["models", "decay", "rates", "theory"]
# The decay figures' caption names the theory section where the page has it.
DECAY_WORDS = ["decay", "theory"]


def _marked_points(ax) -> set[tuple[float, float]]:
    """The (x, y) of every point an axes draws a marker on."""
    return {
        (float(x), float(y))
        for line in ax.get_lines()
        if line.get_marker() not in (None, "None", "")
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
    }


def _report_of(grid, tmp_path, sections):
    """The page of ``grid`` swept into ``tmp_path / "run"`` in this process: of ``sections``
    alone (``_report_run.report_of``), the ones a test reads (and those their words depend
    on); each section the test does not read cost its share of the build."""
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    return runs.report_of(run, sections)


def test_depth_heatmaps_draw_every_stacked_setting(stacked):
    figures = _section(stacked, "depth").blocks
    assert all(isinstance(f, HeatmapGrid) for f in figures)
    assert len(figures) == 2 and [f.part for f in figures] == [(1, 2), (2, 2)]
    panels = [p for f in figures for p in f.panels]
    # one panel per (activation, depth, init); gains folded into its rows, every layer of each
    expected = {
        f"{a}, {d} layers, init = {i}" for a in ("tanh", "relu") for d in (2, 4) for i in INITS
    }
    assert {p.title for p in panels} == expected and len(panels) == len(expected)
    for p in panels:
        depth = 4 if "4 layers" in p.title else 2
        assert len(p.row_labels) == depth * len(GAINS) == p.values.shape[0]
        # each gain named once beside its layers, each layer by its number
        assert p.row_groups == tuple(f"gain = {g}" for g in GAINS)
        assert p.row_labels[:depth] == tuple(str(k) for k in range(depth - 1, -1, -1))
        assert p.separators == tuple(depth * g for g in range(1, len(GAINS)))
        assert np.isfinite(p.values).all()
    # the parts share one colour scale
    assert figures[0].scale == figures[1].scale is not None


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_the_parts_of_one_figure_share_its_number(stacked):
    """The depth maps in two parts were headed "Figure 1 (part 1 of 2)" and "Figure 2 (part 2
    of 2)": one figure under two numbers, and every later figure's number one too high."""
    html = render_html(stacked)
    headings = re.findall(r'<h3 id="figure-([^"]+)-title">Figure ([^.]+)\. ([^<]+)</h3>', html)
    depth = [(a, n) for a, n, title in headings if title.startswith("Depth")]
    assert depth == [("1-1", "1 (part 1 of 2)"), ("1-2", "1 (part 2 of 2)")]
    # the rate maps come in two parts too: Figure 2, parts 1 and 2 (not Figures 3 and 4), and
    # the second pair of axes Figure 3
    rates = [n for _, n, title in headings if title.startswith("Rate")]
    assert rates == ["2 (part 1 of 2)", "2 (part 2 of 2)", "3 (part 1 of 2)", "3 (part 2 of 2)"]
    numbers = [int(n.split()[0]) for _, n, _ in headings]
    assert sorted(set(numbers)) == list(range(1, max(numbers) + 1))
    ids = re.findall(r' id="(figure-[^"]+)"', html)
    assert len(ids) == len(set(ids))  # the parts' ids stay apart


def test_a_figure_drawn_in_one_part_is_no_part(stacked):
    """Only a figure of several pages is marked as parts: one page marked "part 1 of 1" (a
    mutant of as_parts) would be headed "Figure 1 (part 1 of 1)"."""
    from vanishlab.report.layout import as_parts

    first, second = _section(stacked, "depth").blocks
    single = replace(first, part=None)
    assert [g.part for g in as_parts([single])] == [None]
    assert [g.part for g in as_parts([replace(first, part=None), second])] == [(1, 2), (2, 2)]


def test_rate_heatmaps_draw_every_combination(stacked):
    heat = [b for b in _section(stacked, "rates").blocks if isinstance(b, HeatmapGrid)]
    by_init = [f for f in heat if f.title == "Rate by init and activation"]
    titles = [p.title for f in by_init for p in f.panels]
    # init x activation per (depth, gain): 3 x 5 = 15 panels, 4-layer ones included
    assert len(titles) == 15 == len(set(titles))
    assert sum("4 layers" in t for t in titles) == len(GAINS)
    assert all(f.note == "" for f in heat)


def test_colour_scale_fits_the_data():
    cmap, norm = color_scale([np.array([[-60.0, -30.0], [-5.0, 1.0]])], True)
    assert (norm.vmin, norm.vmax) == (-60.0, 1.0)  # not +-60
    white = np.array(mpl.colormaps["RdBu_r"](0.5))
    assert np.allclose(cmap(norm(0.0)), white, atol=0.01)  # 0 stays the white middle
    assert np.allclose(cmap(norm(-60.0)), mpl.colormaps["RdBu_r"](0.0), atol=0.01)
    # the same distance from 0 has the same depth of colour on both sides
    red = np.array(cmap(norm(1.0)))
    assert np.allclose(red, mpl.colormaps["RdBu_r"](0.5 + 0.5 / 60), atol=0.01)
    _, norm = color_scale([np.array([-4.0, 3.0])], True)
    assert (norm.vmin, norm.vmax) == (-4.0, 3.0)
    _, norm = color_scale([np.array([-4.0, -1.0]), np.array([2.0])], True)
    assert (norm.vmin, norm.vmax) == (-4.0, 2.0)  # a shared scale covers every part


def test_settings_read_as_equations():
    assert assign("seq_len", 50) == "T = 50"
    assert assign("gain", 1.5) == "gain = 1.5"
    assert assign("num_layers", 2) == "2 layers" and assign("activation", "tanh") == "tanh"
    assert assign("bias", False) == "no bias" and assign("dtype", "float64") == "float64"


def test_failed_seeds_of_a_setting_are_noted_once():
    cells = pd.DataFrame(
        {
            "status": ["failed", "failed", "ok"],
            "note": [
                "Failed: hidden state of layer 0 became inf at time step 80.",
                "Failed: hidden state of layer 0 became inf at time step 93.",
                "Near critical.",
            ],
        }
    )
    text = setting_notes(cells)
    assert text.count("Failed") == 1 and "2 of 3 seeds, the earliest shown" in text
    assert "Near critical (1 of 3 seeds)." in text
    same = pd.DataFrame({"status": ["ok", "ok"], "note": ["Narrow.", "Narrow."]})
    assert setting_notes(same) == "Narrow."
    # A sentence starting in lower case was glued to the one before: the divergence note of
    # a failed seed and of an ok one were told apart and both shown, each "(1 of 2 seeds)".
    diverges = "relu with χ₁ ≥ 1 and a drive: q has no fixed point, e.g. here."
    cells = pd.DataFrame(
        {
            "status": ["failed", "ok"],
            "note": [f"Failed: inf at time step 316. {diverges}", diverges],
        }
    )
    assert setting_notes(cells) == f"Failed: inf at time step 316 (1 of 2 seeds). {diverges}"


@pytest.fixture(scope="module")
def full(report_run, full_report_data):
    return report_run("full"), full_report_data  # build_report of the run at STAMP


def test_theory_table_compares_like_with_like(full):
    run, report = full
    theory = _section(report, "theory")
    table = next(b for b in theory.blocks if isinstance(b, Table) and "by setting" in b.title)
    cols = table.columns
    # The whole-state Lyapunov exponent sits beside the fitted rate of the curve through every
    # layer (from layer 0), not beside the top layer's own rate.
    assert cols.index("Lyapunov (whole state)") == cols.index("rate via layer 0") + 1
    assert cols.index("measured rate (top layer)") < cols.index("predicted")
    s = vl.summarize(run)
    s = s[(s["status"] == "ok") & (s["num_layers"] == 2)]
    key = ("tanh", 2, "orthogonal", 1.5)
    mine = s[(s["activation"] == key[0]) & (s["init"] == key[2]) & (s["gain"] == key[3])]
    row = next(
        r
        for r in table.rows
        if (r[cols.index("activation")], r[cols.index("layers")], r[cols.index("init")])
        == ("tanh", "2", "orthogonal")
        and r[cols.index("gain")] == "1.5"
    )
    assert row[cols.index("rate via layer 0")] == rate_text(float(mine["rate_layer0"].mean()))
    assert row[cols.index("measured rate (top layer)")] == rate_text(float(mine["rate"].mean()))
    assert "the rate the curve approaches" not in table.caption
    assert "block triangular" in table.caption
    agreement = dict(next(b for b in theory.blocks if b.title == "Agreement").items)
    assert "two estimates of one asymptotic rate" in agreement["|Lyapunov − rate via layer 0|"]
    # A 2-layer run: "from layer 0, the only layer in a one-layer network" read as if it had one.
    assert (
        "from the bottom layer, through every layer above it"
        in (agreement["|Lyapunov − rate via layer 0|"])
    )


def test_long_notes_are_lines_under_their_rows(full, full_report):
    _, report = full
    # the session's page of this report (render_html's text and the run's marker comment):
    # rendering it again here took 4.1 s
    html = full_report.read_text(encoding="utf-8")
    theory = _section(report, "theory")
    table = next(b for b in theory.blocks if isinstance(b, Table) and "by setting" in b.title)
    assert table.detail == len(table.columns) - 1
    assert '<tr class="detail">' in html and "<th>notes</th>" not in html


def test_report_progress_counts_sections_and_figures(report_run, tmp_path, capfd):
    from vanishlab.report.progress import ReportProgress

    run = report_run("single")
    bar = ReportProgress(enabled=False)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), progress=bar
    )
    html = render_html(report, progress=bar)
    # one step per section builder asked, one per figure drawn
    assert bar.steps == len(vl.report.section_keys()) + html.count('<svg class="fig"')
    # off by default when stderr is not a terminal: nothing on stderr
    vl.render_report(run, tmp_path / "r.html", timestamp=STAMP)
    assert ReportProgress().enabled is False
    assert capfd.readouterr().err == ""
    # asked for, and past its delay, the bar is drawn on stderr
    shown = ReportProgress(enabled=True, show_after=0.0)
    with shown:
        shown.stage("figures", 2)
        shown.step("a")
        assert shown._bar is not None
    assert shown._bar is None


@pytest.mark.parametrize("width", [30, 120])
def test_report_progress_keeps_its_count_in_a_narrow_terminal(monkeypatch, width):
    """As the sweep's bar (NARROW): at 30 columns the full row cut the count off."""
    from _terminal import terminal

    from vanishlab.report.progress import ReportProgress
    from vanishlab.sweep.progress import NARROW

    drawn = terminal(monkeypatch, width)
    shown = ReportProgress(enabled=True, show_after=0.0)
    with shown:
        shown.stage("figures", 12)
        shown.step("decay")
        shown._bar.refresh()
        text = drawn()
    rows = [row for row in text.splitlines() if "report figures" in row]
    assert rows and "1/12" in rows[-1], text
    assert ("decay" in rows[-1]) == (width >= NARROW)


def test_fixed_settings_list_axes_only():
    # The cells frame also holds the run's bookkeeping (failure kind, step, status, ...): none
    # of it is a setting of the run.
    results, cells, manifest = stacked_run()
    cells = cells.assign(failure=None, step=None)
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["overview"])
    fixed = next(b for b in _section(report, "overview").blocks if b.title == "Fixed settings")
    names = [k for k, _ in fixed.items]
    assert "failure" not in names and "step" not in names and "status" not in names


@pytest.mark.parametrize("rows", [1, 6])
def test_a_short_colour_bar_keeps_its_label_whole(rows):
    """One row of heatmaps (a run with one depth or one init) has a bar shorter than its
    rotated label, which was cut at both ends ("ate d ln‖J‖/dk (per st"): the label then goes
    above the bar, wrapped, and a tall bar keeps it beside itself."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import HeatPanel

    panel = HeatPanel(
        "1 layer", tuple(f"r{i}" for i in range(rows)), ("tanh", "relu"), -np.ones((rows, 2))
    )
    label = r"rate $d\ln\|J\|/dk$ (per step)"
    grid = HeatmapGrid("t", "c", (panel,), 1, "activation", "init", label)
    with pinned():
        bar = draw(grid).axes[-1]
    if rows == 1:
        assert bar.get_ylabel() == "" and bar.get_title(loc="left").split("\n")[0].startswith(
            "rate"
        )
    else:
        assert bar.get_ylabel() == label and bar.get_title(loc="left") == ""


@pytest.mark.parametrize(("rows", "panel_rows"), [(1, 1), (2, 1), (1, 2)])
def test_a_colour_bar_title_lies_inside_its_figure(rows, panel_rows):
    """With two rows of cells (a run of two depths) the bar's title, two lines above it, was
    cut at the top of the figure: the top margin held one line."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import HeatPanel

    labels = tuple(f"r{i}" for i in range(panel_rows))
    panels = tuple(
        HeatPanel("", labels, ("5", "10"), -np.ones((panel_rows, 2))) for _ in range(rows)
    )
    grid = HeatmapGrid("t", "c", panels, 1, "T", "layers", r"rate $d\ln\|J\|/dk$ (per step)")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with pinned():
        fig = draw(grid)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        title = fig.axes[-1]._left_title  # the bar's title (cax.set_title(..., loc="left"))
        box = title.get_window_extent(canvas.get_renderer())
    assert title.get_text().startswith("rate")
    assert box.y1 <= fig.bbox.y1 and box.y0 >= fig.bbox.y0


@pytest.mark.parametrize("ncols", [1, 3])
def test_heatmap_titles_end_before_the_next_panel_and_the_colour_bar(ncols):
    """A mixed run's rate maps of gated cells (one column of cells, 'n/a') titled their last
    column 'model = gru, 2 layers, gain = 2.0' on one line that ran under the colour bar,
    its '0' hidden: titles were wrapped to the panel's width plus 0.7 in, while the bar
    stands 0.25 in past the last column."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import HeatPanel

    panels = tuple(
        HeatPanel(
            f"model = gru, 2 layers, gain = {g}",
            ("default", "orthogonal"),
            ("n/a",),
            -np.ones((2, 1)),
        )
        for g in ("0.5", "1.0", "2.0")
    )
    grid = HeatmapGrid("t", "c", panels, ncols, "activation", "init", "rate")
    with pinned():
        fig = draw(grid)
        renderer = FigureCanvasAgg(fig).get_renderer()
        *maps, bar = [ax for ax in fig.axes if ax.get_visible()]
        edges = sorted({ax.get_window_extent(renderer).x0 for ax in maps})
        edges.append(bar.get_window_extent(renderer).x0)
        for ax in maps:
            title = ax._left_title.get_window_extent(renderer)  # set_title(loc="left")
            beyond = edges[edges.index(ax.get_window_extent(renderer).x0) + 1]
            assert title.x1 < beyond, (ax._left_title.get_text(), title.x1, beyond)


@pytest.mark.parametrize("markers", [True, False])
def test_a_critical_gain_line_in_its_lines_colour_has_no_end_markers(markers):
    """The theory figure's vertical critical-gain line takes its line's colour (style 1 of 2
    lines here, whose shape is a square): the shapes given to every line but the first
    (line_style.style_marker) put an open square at both its ends, which read as predicted
    rates at the critical gain (the demo's tanh panel: one at rate -1.37 on g = 1.69), and
    its legend sample, a dotted line, has none."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    gains = np.array([0.5, 1.0, 2.0])
    curves = (
        Curve("a", 0, gains, np.array([-1.0, -0.5, 0.1])),
        Curve("b", 1, gains, np.array([-1.2, -0.6, 0.05])),
        Curve("predicted", 1, gains, np.array([-1.1, -0.55, 0.08]), reference=True),
        Curve(
            "critical", 1, np.array([1.7, 1.7]), np.array([-1.2, 0.1]), reference=True, dotted=True
        ),
    )
    panels = (LinePanel(0, 0, "", curves),)
    grid = LineGrid("t", "c", 1, 1, panels, "g", "rate", "init", ("a", "b"), markers=markers)
    with pinned():
        (ax,) = [a for a in draw(grid).axes if a.get_visible()]
    marked = _marked_points(ax)
    assert (1.0, -0.55) in marked  # the dashed prediction keeps its open squares
    assert not {(1.7, -1.2), (1.7, 0.1)} & marked, sorted(marked)


@pytest.mark.parametrize("markers", [True, False])
def test_a_reference_of_one_point_is_drawn(markers):
    """A trainability run of one T drew neither its predicted fraction nor the required lag
    (dashed lines of one point draw nothing), though the legend listed them."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    one = np.array([6.0])
    curves = (
        Curve("gain = 1", 0, one, np.array([1.0])),
        Curve("predicted", 0, one, np.array([0.5]), reference=True),
        Curve("required lag", None, one, np.array([3.0]), reference=True),
        # a critical-gain line (vertical, two points): no end rings (they came with the fix)
        Curve("critical", None, np.array([7.0, 7.0]), np.array([0.0, 1.0]), reference=True),
    )
    panels = (LinePanel(0, 0, "", curves),)
    grid = LineGrid("t", "c", 1, 1, panels, "T", "y", "gain", ("gain = 1",), markers=markers)
    with pinned():
        (ax,) = [a for a in draw(grid).axes if a.get_visible()]
    marked = {(x, y) for x, y in _marked_points(ax) if np.isfinite(y)}
    assert {(6.0, 0.5), (6.0, 3.0)} <= marked and (7.0, 0.0) not in marked
    if markers:  # few measured x values are the ticks ("6", not 5.70, 5.85, ..., 6.30; not
        # the critical line's 7, which is not a measured value)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["6"]
        one_t = LineGrid("t", "c", 1, 1, (LinePanel(0, 0, "", curves[:2]),), "T", "y", "gain",
                         ("gain = 1",), markers=True)  # fmt: skip
        with pinned():
            (ax,) = [a for a in draw(one_t).axes if a.get_visible()]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["6"]


def test_a_panel_of_one_lag_reads_that_lag():
    """The input panels of a run at seq_len 1 (one lag, 0) had ticks at -0.075 ... 0.075, or,
    beside a floor triangle (a relu cell's exact zero), an x axis 1e-17 wide scaled by
    "1e-17": a single x value now gets its own tick, half a unit either side of it."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    zero = np.array([0.0])
    lines = (Curve("normal", 0, zero, np.array([0.24])), Curve("orthogonal", 1, zero, zero))
    floor = Curve("default", 2, zero, np.array([np.nan]), floor_x=zero)
    for curves in (lines, (floor, *lines)):
        panels = (LinePanel(0, 0, "relu", curves),)
        grid = LineGrid("t", "c", 1, 1, panels, "lag k (steps)", "y", "init", ("a", "b", "c"))
        with pinned():
            fig = draw(grid)
            (ax,) = [a for a in fig.axes if a.get_visible()]
            fig.canvas.draw()
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0"]
        lo, hi = ax.get_xlim()
        assert lo <= -0.5 and hi >= 0.5 and not ax.xaxis.get_offset_text().get_text()


def test_equal_marked_lines_stay_visible():
    """Two gains with the same solved fraction at every T drew one colour: the later line
    covered the earlier one. Marked points now shrink with the style (rings)."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    x, y = np.array([10.0, 20.0]), np.array([1.0, 1.0])
    curves = (Curve("gain = 0.5", 0, x, y), Curve("gain = 1", 1, x, y))
    grid = LineGrid(
        "t", "c", 1, 1, (LinePanel(0, 0, "", curves),), "T", "y", "gain", ("a", "b"), True
    )
    with pinned():
        (ax,) = [a for a in draw(grid).axes if a.get_visible()]
    # each line's points (the second's squares: no line of up to 6 differs in colour alone)
    sizes = [ln.get_markersize() for ln in ax.get_lines() if ln.get_linestyle() == "None"]
    assert len(sizes) == 2 and sizes[0] > sizes[1]


def test_equal_horizons_of_a_monitor_show_both_markers():
    """A monitor's "Horizons over training": the state and input horizons are whole lags,
    equal at most steps, and the input's marker hid the state's (4.0 pt over 4.8 pt: a rim of
    0.4 pt, not to be seen). A point that a later curve's point sits on is drawn larger by
    2.4 pt per such curve, a 1.2 pt ring; a point nothing sits on keeps the common size."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    x = np.arange(0.0, 70.0, 10.0)
    state = np.array([11.0, 11, 11, 10, 10, 10, 10])
    inputs = np.array([11.0, 12, 11, 10, 10, 11, 10])
    curves = (Curve("state", 0, x, state), Curve("input", 1, x, inputs))
    grid = LineGrid(
        "Horizons over training",
        "c",
        1,
        1,
        (LinePanel(0, 0, "", curves),),
        "training step",
        "horizon (steps of lag)",
        "",
        ("state", "input"),
        markers=True,
        integer_y=True,
    )
    with pinned():
        (ax,) = [a for a in draw(grid).axes if a.get_visible()]
    size: dict[tuple[str, float], float] = {}
    for ln in ax.get_lines():
        if ln.get_linestyle() == "None":  # the points: the state's dots, the input's squares
            for px in ln.get_xdata():
                size[(ln.get_color(), float(px))] = ln.get_markersize()
    blue, orange = dict.fromkeys(c for c, _ in size)  # state's colour, drawn first
    for px, same in zip(x, state == inputs, strict=True):
        rim = (size[(blue, px)] - size[(orange, px)]) / 2
        assert rim >= 1.0 if same else rim == 0.0, (px, rim)


def test_counts_of_one_are_singular():
    """The pages said "(1 cells)" and "recorded every 1 training steps"."""
    from vanishlab.report.format import plural
    from vanishlab.report.sections.monitor import _every

    assert (plural(1, "cell"), plural(2, "cell"), plural(0, "cell")) == (
        "1 cell",
        "2 cells",
        "0 cells",
    )
    assert (_every(1), _every(50)) == ("training step", "50 training steps")


def test_horizons_read_the_same_in_every_table():
    """The models table wrote a median horizon as "9.0" and a norm that never fell as "—",
    beside the rates table's "9" and "> 10" for the same cells."""
    from vanishlab.report.format import horizon_text

    assert horizon_text(9.0, 10) == "9" and horizon_text(9.5, 10) == "9.5"
    assert horizon_text(math.inf, np.int64(10)) == "> 10" and horizon_text(math.nan, 10) == "—"


def test_r2_has_four_decimals_in_every_table():
    """The rates table wrote r² by significant digits: "1", "0.995" beside "0.9986"; the
    analyze page "1.0000"."""
    from vanishlab.report.format import r2_text

    assert (r2_text(1.0), r2_text(0.995), r2_text(0.99861), r2_text(math.nan)) == (
        "1.0000",
        "0.9950",
        "0.9986",
        "—",
    )


@pytest.mark.parametrize(
    ("axes", "titles"),
    [
        # the depth experiment's axes: it drew "Rate by init and activation", one row each
        ({"num_layers": (1, 2), "activation": ("tanh", "relu")}, ["Rate by depth and activation"]),
        # the trainability experiment's: "Rate by depth and sequence length", one row "1"
        ({"gain": (0.5, 1.0), "seq_len": (6, 8)}, ["Rate by gain and sequence length"]),
        ({"init": ("default", "normal")}, ["Rate by init"]),  # one axis: named alone
        # inits over T, the learning command of an analysed LSTM's page: it drew "Rate by
        # init" with one "lstm" column per T panel, its caption "by init and model"
        (
            {"model": "lstm", "init": ("default", "forget_bias"), "seq_len": (6, 8)},
            ["Rate by init and sequence length"],
        ),
        # the same of nn.RNN inits: one "tanh" column per panel, "by init and activation"
        ({"init": ("default", "normal"), "seq_len": (6, 8)}, ["Rate by init and sequence length"]),
        # the gated experiment's: activation varied (tanh, and n/a for the gated cells), so it
        # drew "Rate by init and activation", one "tanh" or "n/a" column per panel
        (
            {"model": ("rnn", "lstm", "gru"), "init": ("default", "orthogonal")},
            ["Rate by init and model"],
        ),
        # two activations of nn.RNN: a map by model would put tanh and relu in one cell
        (
            {
                "model": ("rnn", "gru"),
                "activation": ("tanh", "relu"),
                "init": ("default", "orthogonal"),
            },
            ["Rate by init and activation"],
        ),
    ],
)
def test_rate_heatmaps_are_of_swept_axes(tmp_path, axes, titles):
    grid = vl.Sweep(**{"hidden_size": 4, "input_size": 2, "seq_len": 6, "batch": 2, **axes})
    report = _report_of(grid, tmp_path, ["rates"])  # a depth map's title is "Depth ..."
    heat = [b for s in report.sections for b in s.blocks if isinstance(b, HeatmapGrid)]
    assert [h.title for h in heat if h.title.startswith("Rate")] == titles
    if titles == ["Rate by init and sequence length"]:  # one map: inits by T, no facet
        (figure,) = heat
        assert [p.col_labels for p in figure.panels] == [("6", "8")]
        assert "model (columns)" not in figure.caption
        assert "activation (columns)" not in figure.caption
    if titles == ["Rate by init and model"]:  # every panel compares the three models
        (figure,) = heat
        assert {p.col_labels for p in figure.panels} == {("rnn (tanh)", "lstm", "gru")}
        assert not np.isnan(np.stack([p.values for p in figure.panels])).any()


def test_a_rate_map_drawn_in_parts_leaves_the_next_pair_of_axes_its_map():
    """The rates section draws the first two swept pairs of HEATMAP_AXES, but counted each
    part of a figure as a map: the stacked run's init x activation map (15 panels: two parts)
    took both places, and its depth x activation map (20 panels), a swept pair, was left
    out."""
    results, cells, manifest = stacked_run()
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["rates"])
    maps = [b for b in _section(report, "rates").blocks if isinstance(b, HeatmapGrid)]
    assert [(m.title, m.part) for m in maps] == [
        ("Rate by init and activation", (1, 2)),
        ("Rate by init and activation", (2, 2)),
        ("Rate by depth and activation", (1, 2)),
        ("Rate by depth and activation", (2, 2)),
    ]


def test_a_one_axis_rate_map_drawn_in_parts_is_marked_as_parts():
    """The rates section's map of one swept axis (no swept pair: 'Rate by init') in two pages
    is one figure in two parts, as a pair's map is (not marked, a mutant, it read as two
    figures). Synthetic: 2 inits x 13 widths, one layer, one panel per width."""
    parts, cells = [], []
    widths = list(range(4, 17))
    lag = np.arange(21)
    for init, width in itertools.product(("a", "b"), widths):
        setting = {"activation": "tanh", "num_layers": 1, "gain": 1.0, "init": init}
        setting |= {"hidden_size": width, "seed": 0, "cell_id": f"{init}-{width}"}
        parts.append(
            pd.DataFrame(
                setting
                | {"source": "state", "layer": pd.array(np.zeros(lag.size, int), dtype="Int64")}
                | {"lag": lag, "log10_fro_mean": (-0.05 - 0.001 * width) * lag}
                | {"log10_fro_std": 0.0, "n_zero": 0}
            )
        )
        cells.append(setting | {"status": "ok", "reason": None, "elapsed_s": 0.1})
    manifest = {"name": "widths", "axes": {"init": ["a", "b"], "hidden_size": widths, "seed": [0]}}
    results = pd.concat(parts, ignore_index=True)
    report = build_report(
        results, pd.DataFrame(cells), manifest, timestamp=STAMP, sections=["rates"]
    )
    maps = [b for b in _section(report, "rates").blocks if isinstance(b, HeatmapGrid)]
    assert [(m.title, m.part) for m in maps] == [("Rate by init", (1, 2)), ("Rate by init", (2, 2))]


def test_the_models_table_says_a_prediction_is_of_cells_that_diverge(tmp_path):
    """The models table gave a 1-layer relu nn.RNN past its critical gain (orthogonal, gain
    1.5: χ₁ = 1.125) the mean field's finite "+0.059 (mean field)" and no word that its cells
    diverge, where the theory table flags them 'diverges' and its note says why."""
    from vanishlab.sweep.summary import FLAGS

    grid = vl.Sweep(
        model=("rnn", "gru"), activation="relu", init="orthogonal", gain=(1.0, 1.5),
        hidden_size=4, input_size=2, seq_len=6, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, MODELS_WORDS)
    table = next(b for b in _section(report, "models").blocks if isinstance(b, Table))
    gain, model = table.columns.index("gain"), table.columns.index("model")
    predicted = {r[gain]: r[-1] for r in table.rows if r[model] == "rnn (relu)"}
    assert predicted["1.5"] == f"{rate_text(0.5 * math.log(1.125))} (mean field; diverges)"
    assert predicted["1.0"] == f"{rate_text(0.5 * math.log(0.5))} (mean field)"
    assert "'diverges' after a prediction is the flag in Theory vs measurement of that " in (
        table.caption
    )
    # the flag's meaning, but not its "the note says which": this table has no notes
    said = FLAGS["diverges"].replace(", the note says which", ", which that table's notes give")
    assert said in table.caption and "the note says which" not in table.caption
    # said in so many words: a diverges_meaning that dropped its `which` passed the line above
    assert "depends on the init, which that table's notes give; " in table.caption

    # a page without the theory table names no section for the flag (naming it always, a
    # mutant, pointed at a table the page lacks)
    run = tmp_path / "run"
    alone = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run),
        timestamp="2024-01-01", sections=["models"],
    )  # fmt: skip
    (caption,) = [b.caption for b in _section(alone, "models").blocks if isinstance(b, Table)]
    assert "'diverges' after a prediction is the flag of that name: " in caption
    assert "depends on the init; " in caption  # no table's notes to point at
    theory = next(b for b in _section(report, "theory").blocks if isinstance(b, Table))
    at = {c: theory.columns.index(c) for c in ("model", "gain", "flags")}
    flags = {r[at["gain"]]: r[at["flags"]] for r in theory.rows if r[at["model"]] == "rnn"}
    assert "diverges" in flags["1.5"] and "diverges" not in flags["1.0"]  # the same cells


def test_a_gain_panel_of_exact_zeros_only_is_explained(tmp_path):
    """meanfield's relu panels at input std 0 were empty axes filled by the stable band, with
    floor triangles and no word on why."""
    grid = vl.Sweep(
        activation=("tanh", "relu"), init="normal", gain=(0.5, 1.0), input_std=0.0, bias=False,
        hidden_size=4, input_size=2, seq_len=8, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, ["gain"])
    gain = next(s for s in report.sections if s.key == "gain")
    (figure,) = [b for b in gain.blocks if isinstance(b, LineGrid)]
    assert "A panel of floor triangles alone has no finite rate" in figure.caption
    grid = grid.replace(input_std=(1.0,))
    vl.run_sweep(grid, tmp_path / "driven", workers=1, progress=False)
    report = runs.report_of(tmp_path / "driven", ["gain"])
    gain = next(s for s in report.sections if s.key == "gain")
    assert all("floor triangles alone" not in b.caption for b in gain.blocks)


def test_a_gain_panel_without_rates_is_not_called_exact_zeros(tmp_path):
    """A tanh run at seq_len 1 (too few lags for a fit: every rate is NaN, none -inf, no
    floor triangle) got the caption's "A panel of floor triangles alone ... every seed's
    Jacobian is exactly zero ... (relu without input or bias ...)", in the gain and theory
    figures alike; only a panel whose every gain is an exact zero gets it now. The gain
    section then drew only empty panels (the theory figure has its predicted line): it now
    draws none and says why."""
    grid = vl.Sweep(
        activation="tanh", init="normal", gain=(0.5, 1.0), hidden_size=4, input_size=2,
        seq_len=1, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, ["gain", "theory"])
    (figure,) = [
        b for s in report.sections if s.key in ("gain", "theory") for b in s.blocks
        if isinstance(b, LineGrid)
    ]  # fmt: skip
    assert "exactly zero" not in figure.caption
    assert "A panel without points has no fitted rate at any gain" in figure.caption
    gain = next(s for s in report.sections if s.key == "gain")
    assert gain.blocks == ()
    assert gain.intro.endswith(
        " No setting has a fitted decay rate (each fit window holds a single lag, as at T = 1, "
        "and a rate needs two): there is no phase diagram to draw."
    )


def test_a_gain_sweep_partly_at_t1_draws_no_empty_figure(tmp_path):
    """With seq_len swept through 1 (--seq-len 1,8), the gain section drew the T = 1 figure
    as panels with nothing in them but the stable band, under the generic "A panel without
    points has no fitted rate at any gain"; the all-T = 1 run already drew none. The settings
    at T = 1 are now left out of the figures and the intro says why, once."""
    grid = vl.Sweep(
        activation="tanh", init=("normal", "orthogonal"), gain=(0.5, 1.0), hidden_size=4,
        input_size=2, seq_len=(1, 8), batch=2,
    )  # fmt: skip
    gain = next(s for s in _report_of(grid, tmp_path, ["gain"]).sections if s.key == "gain")
    (figure,) = gain.blocks
    assert isinstance(figure, LineGrid) and figure.title == "Gain phase diagram (T = 8)"
    curves = [c for p in figure.panels for c in p.curves if not c.reference]
    assert curves and all(np.isfinite(c.y).all() for c in curves)
    assert "A panel without points" not in figure.caption
    assert gain.intro.endswith(
        " The settings at T = 1 are not drawn: their fit windows hold a single lag, and a rate "
        "needs two."
    )


def test_captions_list_things_with_and():
    # The depth caption folded "model, activation" without an "and"; the models section
    # wrote its own join.
    from vanishlab.report.format import and_list

    assert and_list([]) == "" and and_list(["a"]) == "a"
    assert and_list(["a", "b"]) == "a and b" and and_list(["a", "b", "c"]) == "a, b and c"


def test_sections_come_in_the_order_asked_between_overview_and_anomalies(report_run):
    """An experiment's SECTIONS (trainability's lists "trainability" first) only selected:
    the page kept its own order, so the section asked for first came last."""
    run = report_run("zeros")
    results, cells, manifest = vl.load_results(run), vl.load_cells(run), vl.load_manifest(run)
    keys = [
        s.key
        for s in build_report(
            results, cells, manifest, timestamp=STAMP, sections=["rates", "decay", "overview"]
        ).sections
    ]
    assert keys == ["overview", "rates", "decay", "anomalies"]
    default = [s.key for s in build_report(results, cells, manifest, timestamp=STAMP).sections]
    assert default[0] == "overview" and default[-1] == "anomalies"
    assert default.index("decay") < default.index("rates")  # page order when none are asked


def test_panel_titles_break_between_settings_not_inside_one():
    """Titles broke as "gain =" / "0.5" and "1" / "layer"."""
    from vanishlab.report.figure_text import wrap_title

    # (2.2 in: the title is 2.26 in as drawn, 0.6 em a character said 2.78 in, so 2.4 in)
    assert wrap_title("1 layer, T = 100, default, gain = 0.5", 2.2, 9) == (
        "1 layer, T = 100, default,\ngain = 0.5"
    )
    assert wrap_title("model = lstm, 1 layer, T = 50", 1.5, 9) == "model = lstm, 1 layer,\nT = 50"
    assert wrap_title("relu, 1 layer", 3.0, 9) == "relu, 1 layer"


def test_a_line_that_another_runs_on_is_drawn_wide():
    """An LSTM's curve under a GRU's, or two gains solving every T, left one colour."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.line_style import LINE_LW, covered_curves, line_width
    from vanishlab.report.model import Curve, LinePanel

    x = np.arange(10.0)
    same = [Curve(name, s, x, -0.5 * x) for s, name in enumerate(("lstm", "gru"))]
    apart = Curve("rnn", 2, x, -1.5 * x)
    panel = LinePanel(0, 0, "p", (*same, apart))
    grid = LineGrid("t", "c", 1, 1, (panel,), "lag", "y", "model", ("lstm", "gru", "rnn"))
    with pinned():
        lines = draw(grid).axes[0].get_lines()
        widths = [ln.get_linewidth() for ln in lines if ln.get_linestyle() == "-"]  # no marks
    assert widths == [line_width(1), LINE_LW, LINE_LW] and line_width(1) > LINE_LW
    # three lines on one another: each rim shows around the next (one width hid the first)
    three = [Curve(str(s), s, x, -0.5 * x) for s in range(3)]
    assert covered_curves(three) == {0: 2, 1: 1}


def test_a_prediction_that_another_runs_on_is_drawn_wide():
    """The trainability section's first figure: two gains predicted to solve every T drew
    their dashed lines one on the other, and the second hid the first without a word (the
    solid lines were already drawn wide). A reference line another runs on is now wider."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    x = np.array([5.0, 10.0, 20.0])
    solved = [Curve(g, s, x, np.zeros(3)) for s, g in enumerate(("0.5", "1.0", "2.0"))]
    predicted = [
        Curve("predicted", s, x, y, reference=True)
        for s, y in enumerate((np.array([1.0, 1.0, 0.0]), np.ones(3), np.ones(3)))
    ]
    curves = [c for pair in zip(solved, predicted, strict=True) for c in pair]
    panel = LinePanel(0, 0, "p", tuple(curves))
    grid = LineGrid("t", "c", 1, 1, (panel,), "T", "y", "gain", ("0.5", "1.0", "2.0"), markers=True)
    with pinned():
        lines = draw(grid).axes[0].get_lines()
    # (marked points are lines of their own, of no line style: "None")
    dashed = [ln.get_linewidth() for ln in lines if ln.get_linestyle() not in ("-", "None")]
    assert len(dashed) == 3
    assert dashed[1] > dashed[2] == dashed[0]  # gain 1.0's under 2.0's; 0.5's apart


def test_small_counts_and_abbreviations_in_the_notes():
    """A one-cell grid was "1 cells" in its description and "all 1 measured cells" on its
    page; a note's "et al." cut its sentence in two."""
    from vanishlab.sweep.experiments import load_experiment, variant
    from vanishlab.sweep.manifest import read_json_number

    one = variant(
        load_experiment("gain_phase"),
        smoke=True,
        overrides={
            "gain": (1.0,),
            "seed": (0,),
            "init": ("normal",),
            "activation": ("tanh",),
            "num_layers": (1,),
        },
    )
    assert one.sweep.size == 1 and one.description.startswith("Smoke variant: 1 cell; ")
    cells = pd.DataFrame(
        {"status": ["ok", "ok"], "note": ["Gilboa et al. 2019's field. Narrow.", "Narrow."]}
    )
    assert setting_notes(cells) == "Gilboa et al. 2019's field (1 of 2 seeds). Narrow."
    assert read_json_number("0.5") == 0.5 and read_json_number("-inf") == -math.inf
    assert read_json_number("x") is None and read_json_number(True) is None


def test_no_dashed_caption_over_a_window_of_one_lag(tmp_path):
    """At T = 1 the fit window is the single lag 1: the predicted slope was a segment from
    lag 1 to lag 1, drawn as nothing, while the caption said "Dashed: the predicted slope over
    the fit window ...". No segment is made, and the caption no longer promises one."""
    grid = vl.Sweep(
        activation="tanh", init="normal", gain=1.0, hidden_size=4, input_size=2, seq_len=1,
        batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, DECAY_WORDS)
    (figure,) = _section(report, "decay").blocks
    assert not any(c.reference for p in figure.panels for c in p.curves)
    assert "Dashed" not in figure.caption


def test_phase_caption_names_the_critical_gain_only_where_drawn(tmp_path):
    """tanh at gains 0.5 and 1 with input: the mean field's critical gain lies above the gains
    swept, so no dotted line is drawn, yet the caption said "a vertical dotted line marks the
    mean-field critical gain"."""
    grid = vl.Sweep(
        activation="tanh", init="normal", gain=(0.5, 1.0), hidden_size=4, input_size=2,
        seq_len=8, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, ["theory"])
    (phase,) = [b for b in _section(report, "theory").blocks if isinstance(b, LineGrid)]
    assert not any(c.dotted for p in phase.panels for c in p.curves)
    assert "dotted" not in phase.caption
    assert phase.caption.endswith(f"(|rate| ≤ 0.01, {BAND_WORDS}).")


def test_phase_caption_promises_no_dashed_prediction_where_none_is_finite(tmp_path):
    """relu without input or bias stays at the origin: every setting's predicted rate is −∞,
    so no dashed line is drawn, yet the caption described "the predicted rate (dashed: ...)"."""
    grid = vl.Sweep(
        activation="relu", init="normal", gain=(0.5, 1.0), hidden_size=4, input_size=2,
        seq_len=8, batch=2, input_std=0.0, bias=False,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, ["theory"])
    (phase,) = [b for b in _section(report, "theory").blocks if isinstance(b, LineGrid)]
    assert not any(c.reference for p in phase.panels for c in p.curves)
    assert "dashed" not in phase.caption
    assert "No predicted rate is drawn: none is finite" in phase.caption


def _merged_report(run, sections, **gated):
    """The report (of ``sections``) of an nn.RNN run (tanh and relu, default and identity)
    extended with --force by the gated cells of ``gated`` (Sweep axes), relu with identity
    made as if it failed (no measurement, its cell marked failed)."""
    small = {"hidden_size": 4, "input_size": 2, "seq_len": 6, "batch": 2}
    rnn = vl.Sweep(model="rnn", activation=("tanh", "relu"), init=("default", "identity"), **small)
    vl.run_sweep(rnn, run, workers=1, progress=False)
    vl.run_sweep(vl.Sweep(**gated, **small), run, workers=1, progress=False, force=True)
    results, cells = vl.load_results(run), vl.load_cells(run)
    failed = cells.loc[(cells["activation"] == "relu") & (cells["init"] == "identity"), "cell_id"]
    cells.loc[cells["cell_id"].isin(failed), "status"] = "failed"
    results = results[~results["cell_id"].isin(failed)]
    manifest = vl.load_manifest(run)
    return build_report(results, cells, manifest, timestamp=STAMP, sections=sections)


def test_rate_map_squares_not_in_the_run_are_hatched_apart_from_failed_ones(tmp_path):
    """A run extended with --force by gated cells: the nn.RNN panels of "Rate by init and
    activation" had blank chrono rows and the gated panels a blank identity row, with no word
    on them (the caption explained blank squares only as failed cells). They are hatched now
    and the caption names the inits' models; a failed setting's square stays blank."""
    from matplotlib.patches import Rectangle

    from vanishlab.report.heatmaps import draw_heatmaps

    report = _merged_report(tmp_path / "run", ["rates"], model="lstm", init=("default", "chrono"))
    (figure,) = [
        b for b in _section(report, "rates").blocks
        if isinstance(b, HeatmapGrid) and b.title == "Rate by init and activation"
    ]  # fmt: skip
    assert "Hatched: a combination the run has no cell of (chrono applies to LSTM and GRU " in (
        figure.caption
    )
    assert "identity applies to RNN only), not a failed setting." in figure.caption
    assert "1 failed cell" in figure.caption
    rnn_panel, lstm_panel = figure.panels
    assert rnn_panel.row_labels == lstm_panel.row_labels == ("default", "identity", "chrono")
    assert rnn_panel.col_labels == ("tanh", "relu")
    # nn.RNN: the chrono row is hatched, the failed (identity, relu) square blank, not hatched
    assert np.isnan(rnn_panel.values[1, 1]) and np.isnan(rnn_panel.values[2]).all()
    assert rnn_panel.absent.tolist() == [[False, False], [False, False], [True, True]]
    assert lstm_panel.absent.tolist() == [[False], [True], [False]]
    hatched = [
        p for ax in draw_heatmaps(figure).axes for p in ax.patches
        if isinstance(p, Rectangle) and p.get_hatch()
    ]  # fmt: skip
    assert len(hatched) == 3


def test_depth_rows_of_a_shorter_sequence_are_explained(tmp_path, stacked):
    """A depth x lag panel stacks T = 4 and T = 8: the T = 4 rows were blank (white) past lag
    4 with no word on it in the caption; it says now that a row ends at its own T."""
    grid = vl.Sweep(
        num_layers=2, seq_len=(4, 8), init=("normal", "orthogonal"), hidden_size=4,
        input_size=2, batch=2,
    )  # fmt: skip
    (figure,) = _section(_report_of(grid, tmp_path, ["depth"]), "depth").blocks
    assert [p.row_groups for p in figure.panels] == [("T = 4", "T = 8")] * 2  # T folded
    assert all(np.isnan(p.values).any() for p in figure.panels)
    assert "A row ends at its own T, the last lag it has: white past it are" in figure.caption
    assert all("A row ends" not in f.caption for f in _section(stacked, "depth").blocks)


def test_the_gain_figures_cap_leaves_no_model_without_a_figure(tmp_path):
    """Three models at three T make nine (model, T) gain figures, four drawn: they were the
    first four in (model, T) order (rnn at every T, lstm at one), so GRU had no gain figure at
    all, and the note only counted "5 more combinations". The figures go round-robin over the
    models now, and the note names the ones not drawn."""
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), gain=(0.5, 1.0), seq_len=(4, 6, 8), hidden_size=4,
        input_size=2, batch=2,
    )  # fmt: skip
    figures = _section(_report_of(grid, tmp_path, ["gain"]), "gain").blocks
    assert [f.title for f in figures] == [
        "Gain phase diagram (model = rnn, T = 4)",
        "Gain phase diagram (model = rnn, T = 6)",
        "Gain phase diagram (model = lstm, T = 4)",
        "Gain phase diagram (model = gru, T = 4)",
    ]
    assert [f.note for f in figures[:3]] == ["", "", ""]
    assert figures[-1].note == (
        "5 more combinations of model, T are not drawn: (model = rnn, T = 8), (model = lstm, "
        "T = 6), (model = lstm, T = 8), (model = gru, T = 6), (model = gru, T = 8) (the rates "
        "table lists every setting)."
    )


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_models_figure_says_which_lines_a_panel_lacks_and_why(tmp_path):
    """A run extended with --force by gated cells: "RNN, LSTM and GRU side by side" drew the
    chrono panels without an RNN line and the identity panels without LSTM and GRU lines, with
    no word on them (the failed note's "a line stops" could be read as covering them). The
    caption names the lines each panel lacks and why, in the rate heatmaps' words; a failed
    setting's missing line is left to the failed note."""
    report = _merged_report(
        tmp_path / "run",
        MODELS_WORDS,
        model=("lstm", "gru"),
        init=("default", "chrono", "forget_bias"),
    )
    (figure,) = [b for b in _section(report, "models").blocks if isinstance(b, LineGrid)]
    lines = {p.title: {c.label for c in p.curves} for p in figure.panels}
    assert lines["init = chrono"] == lines["init = forget_bias"] == {"lstm", "gru"}
    assert lines["init = identity"] == {"rnn (tanh)"}
    assert (
        " A panel without a model's line is a combination the run has no cell of (chrono and "
        "forget_bias apply to LSTM and GRU only; identity applies to RNN only), not a failed "
        "setting: no LSTM or GRU line at init = identity; no RNN line at init = chrono or "
        "forget_bias. "
    ) in figure.caption
    assert "rnn (relu)" not in figure.caption  # failed: the failed note's
    assert "1 failed cell" in figure.caption
    # a run that swept every combination says nothing of it
    whole = vl.Sweep(model=("rnn", "lstm"), hidden_size=4, input_size=2, seq_len=6, batch=2)
    report = _report_of(whole, tmp_path / "whole", MODELS_WORDS)
    (figure,) = [b for b in _section(report, "models").blocks if isinstance(b, LineGrid)]
    assert "no cell of" not in figure.caption


def test_models_figure_names_at_most_as_many_panels_lacking_a_line_as_every_caption(tmp_path):
    """The panels without a model's line were named up to 4 (models.py's own cap) where every
    other caption names up to line_style.MAX_NAMED_PANELS (3) in one sentence."""
    from vanishlab.report.line_style import MAX_NAMED_PANELS

    run = tmp_path / "run"
    small = {"hidden_size": 4, "input_size": 2, "seq_len": 6, "batch": 2}
    gains = (0.5, 1.0, 1.5, 2.0, 2.5)
    vl.run_sweep(vl.Sweep(model="rnn", gain=gains, **small), run, workers=1, progress=False)
    lstm = vl.Sweep(model="lstm", gain=0.5, **small)
    vl.run_sweep(lstm, run, workers=1, progress=False, force=True)
    report = runs.report_of(run, MODELS_WORDS)
    (figure,) = [b for b in _section(report, "models").blocks if isinstance(b, LineGrid)]
    assert MAX_NAMED_PANELS == 3
    assert "no LSTM line in 4 panels (gain = 1.0; gain = 1.5; gain = 2.0 and 1 more)." in (
        figure.caption
    )


def test_depth_maps_say_a_failed_setting_has_no_rows(tmp_path):
    """The depth maps' failed note said a failed setting's "square stays blank", but the maps
    draw only measured rows: a setting whose every seed failed has no rows at all, and no
    panel where it was a panel's only setting."""
    run = tmp_path / "run"
    grid = vl.Sweep(
        activation=("tanh", "relu"), init=("default", "orthogonal"), gain=(1.0, 1.5),
        num_layers=2, hidden_size=4, input_size=2, seq_len=6, batch=2,
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    # as if they failed (no measurement, cells marked failed): relu, orthogonal at gain 1.5
    # (rows folded into a panel) and tanh, default at both gains (a panel's every setting)
    relu = (cells["activation"] == "relu") & (cells["init"] == "orthogonal") & (cells["gain"] > 1)
    tanh = (cells["activation"] == "tanh") & (cells["init"] == "default")
    failed = cells.loc[relu | tanh, "cell_id"]
    cells.loc[cells["cell_id"].isin(failed), "status"] = "failed"
    results = results[~results["cell_id"].isin(failed)]
    manifest = vl.load_manifest(run)
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["depth"])
    (figure,) = _section(report, "depth").blocks
    rows = {p.title: p.row_labels for p in figure.panels}
    assert "tanh, 2 layers, init = default" not in rows and len(rows) == 3
    # its one gain left, said in its title
    assert rows["relu, 2 layers, init = orthogonal, gain = 1.0"] == ("1", "0")
    assert not any(np.isnan(p.values).any() for p in figure.panels)  # no blank square
    assert "a square stays blank" not in figure.caption
    assert (
        "3 failed cells (listed under Anomalies) have no measurement: a setting with no seed "
        "measured has no rows in these maps (and no panel, where it would have been a panel's "
        "only setting), and the others are means"
    ) in figure.caption


# In the slow tier: ~2 s of CPU; make test keeps test_report_panel_titles.
@pytest.mark.slow
def test_models_figure_names_the_settings_it_leaves_out(tmp_path):
    """ "RNN and LSTM side by side" draws at most 12 settings; its note only counted the rest
    ("4 more settings are not drawn (see the table)"). It names them, as the faceted
    figures' notes do."""
    grid = vl.Sweep(
        model=("rnn", "lstm"), seq_len=(4, 6), num_layers=(1, 2), init=("default", "orthogonal"),
        gain=(0.5, 1.0), hidden_size=4, input_size=2, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, MODELS_WORDS)
    (figure,) = [b for b in _section(report, "models").blocks if isinstance(b, LineGrid)]
    assert len(figure.panels) == 12
    assert figure.note == (
        "4 more combinations of layers, T, init, gain are not drawn: "
        "(2 layers, T = 6, init = default, gain = 0.5), (2 layers, T = 6, init = default, "
        "gain = 1.0), (2 layers, T = 6, init = orthogonal, gain = 0.5), (2 layers, T = 6, "
        "init = orthogonal, gain = 1.0) "
        "(the table below lists every setting)."
    )


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_failed_note_names_an_axis_value_no_cell_of_was_measured(tmp_path):
    """Every cell at gain 1e39 failed (its float32 weights overflow): the decay figures had no
    panel for it and the rate map no row or panel, while their captions said only that a
    failed setting's "line stops" and "square stays blank", neither of which the page
    showed. The note now names such a value and says it has no place in the figures."""
    grid = vl.Sweep(
        activation=("tanh", "relu"), init=("normal", "orthogonal"), gain=(1.0, 1e39),
        hidden_size=4, input_size=2, seq_len=6, batch=2,
    )  # fmt: skip
    report = _report_of(grid, tmp_path, [*DECAY_WORDS, "rates"])
    (decay,) = [b for b in _section(report, "decay").blocks if isinstance(b, LineGrid)]
    assert all("1e+39" not in p.title for p in decay.panels)  # no panel for it
    rates = [b for b in _section(report, "rates").blocks if isinstance(b, HeatmapGrid)]
    assert rates and all(len(b.panels) == 1 for b in rates)
    said = (
        "4 failed cells (listed under Anomalies) have no measurement: a setting with no seed "
        "measured is not drawn (a line stops, a square stays blank; gain = 1e+39, of which no "
        "cell was measured, has no point, line, row, column or panel at all), and the others "
        "are means over the seeds measured."
    )
    assert said in decay.caption and all(said in b.caption for b in rates)
    # a value some of whose cells were measured is not named
    part = vl.Sweep(activation=("tanh", "relu"), gain=(1e39,), dtype=("float32", "float64"),
                    hidden_size=4, input_size=2, seq_len=6, batch=2)  # fmt: skip
    caption = next(
        b for b in _section(_report_of(part, tmp_path / "part", DECAY_WORDS), "decay").blocks
        if isinstance(b, LineGrid)
    ).caption  # fmt: skip
    assert "a square stays blank; float32, of which no cell was measured, has no" in caption
    assert "float64," not in caption and "tanh," not in caption


def test_lines_at_minus_inf_at_the_same_point_are_compared_without_a_warning():
    """Two lines at −∞ at one x (the rates of tanh and relu at gain 0, both exact zeros):
    −∞ − −∞ was taken before the finite points were picked, and ``vanishlab report`` printed
    numpy's "RuntimeWarning: invalid value encountered in subtract" four times on stderr."""
    from vanishlab.report.line_style import covered_curves
    from vanishlab.report.model import Curve

    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([-np.inf, -0.5, -0.2, 0.1])
    same = [Curve(name, s, x, y.copy()) for s, name in enumerate(("tanh", "relu"))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert covered_curves(same) == {0: 1}
        apart = [same[0], Curve("apart", 2, x, y - 1.0)]
        assert covered_curves(apart) == {}


@pytest.mark.parametrize(
    ("values", "ends"),
    [
        # the depth x lag map of make demo's report: a bar down to -66.3 labelled from -60
        ([[-66.3, -12.0], [5.0, 32.1]], ("\u221266.3", "32.1")),
        ([[-24.52, -3.0], [-1.0, -0.2]], ("\u221224.5", "0")),  # all below 0: the bar ends at 0
    ],
)
def test_a_colour_bar_is_labelled_at_both_ends(values, ends):
    """The caption says the scale spans the values drawn; the bar's ends had no label, so
    its extremes could not be read off it. Round ticks stay between them."""
    from vanishlab.report.heatmaps import draw_heatmaps

    panel = HeatPanel("p", ("a", "b"), ("x", "y"), np.array(values))
    grid = HeatmapGrid("t", "c", (panel,), 1, "lag", "layer", "log10 norm")
    bar = draw_heatmaps(grid).axes[-1]
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert (labels[0], labels[-1]) == ends and len(labels) >= 3, labels
    inner = [float(t.replace("\u2212", "-")) for t in labels[1:-1]]
    assert all(v == round(v) for v in inner), labels


@pytest.mark.parametrize(("center_zero", "zero"), [(True, True), (False, False)])
def test_a_colour_bars_white_zero_is_labelled_where_its_label_clears_the_ends(center_zero, zero):
    """Rates from -1.73 to 0.15 on a bar 2.6 in tall: 0, where the diverging map is white and
    the sign changes, is 0.21 in below the top end's label, room for both (0.13 in), but was
    dropped as a round tick within a tenth of the bar of an end: no mark said which pale cells
    were above 0. A sequential (viridis) bar has no such point: its round ticks as before."""
    from vanishlab.report.heatmaps import draw_heatmaps

    panel = HeatPanel("p", tuple("abcdef"), ("x", "y"), np.linspace(-1.73, 0.15, 12).reshape(6, 2))
    grid = HeatmapGrid("t", "c", (panel,), 1, "lag", "layer", "rate", center_zero=center_zero)
    bar = draw_heatmaps(grid).axes[-1]
    labels = [t.get_text() for t in bar.get_yticklabels()]
    assert (labels[0], labels[-1]) == ("\u22121.73", "0.15"), labels
    assert ("0" in labels) is zero, labels
    assert labels[-3:-1] == (["\u22120.25", "0"] if zero else ["\u22120.5", "\u22120.25"])


def test_lines_apart_by_little_of_the_drawn_range_are_told_apart_too():
    """A monitor's state and input rates (-0.527, -0.535, -0.530 against -0.527, -0.537,
    -0.531) are 10 % of their own range apart, and were drawn one width, but the panel draws
    them on an axis down from its zero line: the input's line hid the state's. Its horizons
    (12 or 13 steps) were ticked at 12.25, 12.5, 12.75."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.line_style import LINE_LW, covered_curves, line_width
    from vanishlab.report.model import Curve, LinePanel

    x = np.array([100.0, 200.0, 300.0])
    state = Curve("state", 0, x, np.array([-0.52707677, -0.53537433, -0.53004874]))
    inp = Curve("input", 1, x, np.array([-0.52719833, -0.53733743, -0.53061355]))
    assert covered_curves([state, inp]) == {}  # apart on their own range
    assert covered_curves([state, inp], shown=[0.0]) == {0: 1}
    panel = LinePanel(0, 0, "", (state, inp))
    rates = LineGrid("t", "c", 1, 1, (panel,), "step", "rate", "", ("state", "input"))
    for grid, want in ((rates, [LINE_LW, LINE_LW]), (replace(rates, zero_line=True), None)):
        with pinned():
            lines = draw(grid).axes[0].get_lines()
            widths = [ln.get_linewidth() for ln in lines if ln.get_linestyle() == "-"][-2:]
        assert widths == (want or [line_width(1), LINE_LW])  # the last two: the curves
    h = (Curve("state", 0, x, np.array([12.0, 12, 12])), Curve("i", 1, x, np.array([13.0, 12, 12])))
    horizons = LineGrid("t", "c", 1, 1, (LinePanel(0, 0, "", h),), "step", "h", "", ("s", "i"))
    for grid, whole in ((horizons, False), (replace(horizons, integer_y=True), True)):
        with pinned():
            ticks = draw(grid).axes[0].get_yticks()
        assert all(t == int(t) for t in ticks) is whole


def test_monitor_page_helpers_count_and_name_what_they_leave_out():
    """Four facts of the monitor page that no test read (a mutation audit's survivors): the
    table's note counts the steps it does not list, the failed steps of no recorded kind are
    counted beside the others, a failed step with no kind reads "failed", and the fit windows
    are named only where each source has one window at every step."""
    import pandas as pd

    from vanishlab.report.format import MAX_TABLE_ROWS
    from vanishlab.report.sections.monitor_steps import failure_counts, status_text
    from vanishlab.report.sections.monitor_table import training_table
    from vanishlab.report.sections.monitor_training import _window

    n = MAX_TABLE_ROWS + 2
    steps = pd.DataFrame(
        {
            "step": range(n),
            "status": ["ok"] * (n - 3) + ["failed"] * 3,
            "failure": [""] * (n - 3) + ["overflow", "nan", ""],
            "lyapunov": [0.1] * (n - 3) + [float("nan")] * 3,
            "measured": [True] * (n - 3) + [False] * 3,
            "elapsed_s": [0.5] * n,
            "reason": [""] * n,
        }
    )
    table = training_table(steps, {}, [], [])
    assert len(table.rows) == MAX_TABLE_ROWS + 2  # the failed steps past the first rows too
    assert (
        table.note == f"After step {MAX_TABLE_ROWS - 1}, only the failed steps are listed (2 of 2)."
    )
    table = training_table(steps.assign(status="ok"), {}, [], [])
    assert len(table.rows) == MAX_TABLE_ROWS and table.note == "2 more steps are not listed."
    assert failure_counts(steps) == ": 1 overflow, 1 NaN, 1 of no recorded kind"
    assert status_text({"status": "failed", "failure": ""}) == "failed"
    assert status_text({"status": "failed", "failure": "nan"}) == "failed: NaN"
    one = pd.DataFrame(
        {"source": ["state", "state", "input"], "lag_start": [12, 12, 3], "lag_end": [50, 50, 9]}
    )
    assert _window(one) == ": here lags 12..50 (state), 3..9 (input)"
    two = one.assign(lag_end=[50, 49, 9])  # the state's window moved between steps
    assert _window(two) == ""


def test_a_flat_curve_reads_its_own_value():
    """An IRNN's state curve (relu, W_hh = I, every unit on) is flat at log10 sqrt(H) = 0.602,
    up to ~1e-12 of rounding in the log-space products. Its panel read 7.50 ... 8.50 on the
    y axis, with "1e-12+6.0205999136e-1" written over the panel's title: a student read a
    norm of 10^8. A y range within rounding of flat is now widened as an exactly flat one
    is, around its value, and no axis writes an offset or a multiplier."""
    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.model import Curve, LinePanel

    x = np.arange(61.0)
    for y0, noise in ((0.5 * math.log10(16), 1e-12), (0.0, 1e-13), (-3000.0, 1e-9)):
        y = y0 + noise * np.sin(x)
        panels = (LinePanel(0, 0, "state: dh_T/dh_{T-k}", (Curve("state", 0, x, y),)),)
        grid = LineGrid("t", "c", 1, 1, panels, "lag k (steps)", "log10", "J", ("state",))
        with pinned():
            fig = draw(grid)
            (ax,) = [a for a in fig.axes if a.get_visible()]
            fig.canvas.draw()
            ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
            offset = ax.yaxis.get_major_formatter().get_offset()
        lo, hi = ax.get_ylim()
        assert not offset, offset
        assert len(set(ticks)) == len(ticks) >= 2, ticks
        assert lo < y0 < hi and hi - lo >= 0.05 * max(1.0, abs(y0)), (lo, hi)
        values = [float(t.replace("\u2212", "-")) for t in ticks]
        assert min(values) <= y0 + 0.1 * max(1.0, abs(y0)) and max(values) >= y0 - 0.1 * max(
            1.0, abs(y0)
        ), ticks


def test_a_one_cell_run_s_anomalies_name_its_setting(tmp_path):
    """A run of one cell has no axis that varies, and its anomaly tables, which name a cell by
    the varying axes, wrote "—" as its setting: they name its whole setting instead."""
    small = {"model": "rnn", "activation": "relu", "hidden_size": 4, "input_size": 2}
    one = vl.Sweep(**small, seq_len=20, gain=1e30, seed=0)
    failed = _report_of(one, tmp_path / "a", ["anomalies"])
    (row,) = next(b for b in _section(failed, "anomalies").blocks if b.title == "Failed cells").rows
    assert row[2] == "overflow"
    assert "model = rnn (relu), 1 layer" in row[1] and "gain = 1e+30" in row[1]
    # a cell that trains nothing is not named by the training's settings
    assert not any(w in row[1] for w in ("task", "steps", "lr", "optimizer", "clip"))
    zeros = _report_of(
        vl.Sweep(**small, seq_len=5, input_std=0.0, bias=False, seed=0), tmp_path / "b", []
    )
    tables = {b.title: b for b in _section(zeros, "anomalies").blocks}
    rows = tables["Exact zeros"].rows  # one per source
    assert rows and all("input std = 0.0" in r[1] and "T = 5" in r[1] for r in rows)


# In the slow tier: ~2 s of CPU; make test keeps the failed notes' other tests.
@pytest.mark.slow
def test_failed_note_is_only_in_the_figures_that_hold_a_failed_cell(tmp_path):
    """A run whose failed cells all had T = 200 said "3 failed cells (listed under Anomalies)
    have no measurement: ... a line stops" under its T = 50 figures too, whose every line was
    whole. A figure of one setting (decay, input, gain phase, theory against gain) now counts
    its own failed cells and says nothing when it has none."""
    run = tmp_path / "run"
    grid = vl.Sweep(
        activation=("tanh", "relu"), init=("default", "orthogonal"), gain=(1.0, 1.5),
        seq_len=(4, 6), num_layers=(1, 2), hidden_size=4, input_size=2, batch=2,
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    failed = cells.loc[(cells["seq_len"] == 6) & (cells["gain"] > 1), "cell_id"].iloc[:2]
    cells.loc[cells["cell_id"].isin(failed), "status"] = "failed"
    results = results[~results["cell_id"].isin(failed)]
    report = build_report(results, cells, vl.load_manifest(run), timestamp="2024-01-01")
    captions = {
        b.title: b.caption
        for key in ("decay", "input", "gain")
        for b in _section(report, key).blocks
        if isinstance(b, LineGrid)
    }
    whole = [t for t in captions if t.endswith(("(gain = 1.0)", "(T = 4)"))]
    holding = [t for t in captions if t.endswith(("(gain = 1.5)", "(T = 6)"))]
    assert len(whole) == len(holding) == 3
    assert not any("failed" in captions[t] for t in whole)
    said = (
        "2 failed cells (listed under Anomalies) have no measurement: a setting with no seed "
        "measured is not drawn (a line stops, a square stays blank), and the others are means"
    )
    assert all(said in captions[t] for t in holding)


def partly_failed_view(run: Path) -> RunView:
    """The view of a run swept into ``run``: gain 1.0, 1.5 x T = 4, 6 x seeds 0, 1, every cell
    of T = 6 at gain 1.5 failed (gain 1.5 and T = 6 each have measured cells, the pair none)."""
    grid = vl.Sweep(
        gain=(1.0, 1.5), seq_len=(4, 6), seed=(0, 1), hidden_size=4, input_size=2, batch=2
    )
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    failed = cells.loc[(cells["seq_len"] == 6) & (cells["gain"] > 1), "cell_id"]
    cells.loc[cells["cell_id"].isin(failed), "status"] = "failed"
    results = results[~results["cell_id"].isin(failed)]
    return RunView(results, cells, vl.load_manifest(run))


def test_failed_note_stays_where_a_figure_of_failed_cells_is_not_drawn(tmp_path):
    """A figure's note counts its own failed cells; but where every cell of a figure's setting
    failed (T = 6 at gain 1.5: no figure of it at all), the other figures keep the run's note,
    the only place the page says that cells are missing from its figures."""
    view = partly_failed_view(tmp_path / "run")
    n = int((view.cells["status"] == "failed").sum())
    assert n > 1 and f"{n} failed cells (listed under Anomalies)" in view.failed_note
    assert view.failed_note_in((("seq_len", 4),)) == ""  # T = 6 has a figure, which says it
    assert view.failed_note_in((("seq_len", 6),)) == view.failed_note
    assert view.failed_note_in((("seq_len", 4), ("gain", 1.0))) == view.failed_note
    assert view.failed_note_in((("seq_len", 6), ("gain", 1.0))) == view.failed_note


# In the slow tier: ~4 s of CPU; make test keeps the failed notes' other tests.
@pytest.mark.slow
def test_a_page_of_rate_heatmaps_counts_its_own_failed_cells(tmp_path):
    """The rate heatmaps, 12 panels to a page, said "3 failed cells" under both pages of a run
    whose first page held 1 of them and the second 2. Each page now counts the failed cells of
    its own panels, and says nothing when it has none."""
    run = tmp_path / "run"
    grid = vl.Sweep(
        activation=("tanh", "relu"), init=("default", "orthogonal"), gain=(0.5, 1.0, 1.5, 2.0),
        seq_len=(4, 6), num_layers=(1, 2), hidden_size=4, input_size=2, batch=2,
    )  # fmt: skip
    vl.run_sweep(grid, run, workers=1, progress=False)
    results, cells = vl.load_results(run), vl.load_cells(run)
    # the second page's first panel: a page reaching one panel past its own counted it too
    at = (cells["num_layers"] == 2) & (cells["seq_len"] == 6) & (cells["gain"] == 0.5)
    failed = cells.loc[at & (cells["init"] == "default") & (cells["activation"] == "tanh")]
    cells.loc[cells["cell_id"].isin(failed["cell_id"]), "status"] = "failed"
    results = results[~results["cell_id"].isin(failed["cell_id"])]
    report = build_report(results, cells, vl.load_manifest(run), timestamp="2024-01-01")
    pages = [
        b
        for b in _section(report, "rates").blocks
        if isinstance(b, HeatmapGrid) and b.title.endswith("init and activation")
    ]
    assert len(pages) == 2
    holding = [p for p in pages if p.panels[0].title == "2 layers, T = 6, gain = 0.5"]
    (other,) = [p for p in pages if p not in holding]
    assert len(holding) == 1 and "1 failed cell (listed under Anomalies) has" in holding[0].caption
    assert "failed" not in other.caption


def test_training_settings_of_a_run_that_trains_nothing_are_said_unused(smoke_run_dir):
    """lr, optimizer and clip are recorded by every cell; on a run that only measures at
    initialisation (train_steps 0) "Fixed settings: optimizer adam" read as if it had trained.
    A run whose cells train keeps them plain."""
    UNTRAINED = " (unused: nothing is trained)"
    run = smoke_run_dir
    results, cells, manifest = vl.load_results(run), vl.load_cells(run), vl.load_manifest(run)

    def fixed(cells):
        report = build_report(results, cells, manifest, timestamp=STAMP, sections=["overview"])
        block = next(b for b in _section(report, "overview").blocks if b.title == "Fixed settings")
        return dict(block.items)

    idle = fixed(cells)
    assert {a for a, v in idle.items() if v.endswith(UNTRAINED)} == {"lr", "optimizer", "clip"}
    assert idle["train_steps"] == "0"
    trained = fixed(cells.assign(train_steps=50))
    assert not any(v.endswith(UNTRAINED) for v in trained.values())


# In the slow tier: ~3 s of CPU; make test keeps the failed notes' other tests.
@pytest.mark.slow
def test_failed_notes_need_no_dataframe_map(tmp_path, monkeypatch):
    """pandas 2.0 (the floor pyproject.toml allows) has no DataFrame.map (2.1's name for
    applymap): the figures' failed-cell notes used it and would end the report in an
    AttributeError there. Run without it, as at the floor (where there is none to delete)."""
    monkeypatch.delattr(pd.DataFrame, "map", raising=False)
    test_failed_note_is_only_in_the_figures_that_hold_a_failed_cell(tmp_path / "a")
    test_failed_note_stays_where_a_figure_of_failed_cells_is_not_drawn(tmp_path / "b")


def test_no_number_on_the_page_reads_minus_zero() -> None:
    """A value that rounds to zero at the places shown is an unsigned 0 (report/format.fixed),
    in every format that can meet a negative number or a -0.0: a rate (a λ₁ of -1e-9), r²
    (1 - ss_res / ss_tot of a perfect fit, -1e-17), decades fallen (a gradient that grew by
    a hair), a config value of -0.0. Three of them wrote "-0.0000", "-0.0" and "-0.0"."""
    from vanishlab.report.format import fixed, format_value, r2_text
    from vanishlab.report.sections.trainability_agreement import decades_text as _decades_text

    assert rate_text(-1e-9) == "0.000" and rate_text(-0.0) == "0.000"
    assert rate_text(-0.0006) == "−0.001" and rate_text(0.0006) == "+0.001"
    assert r2_text(-1e-17) == "0.0000"
    assert _decades_text(-0.01) == "0.0" and _decades_text(-0.06) == "-0.1"
    assert format_value(-0.0) == "0.0" and format_value(-2.0) == "-2.0"
    assert (fixed(-4e-5, 3), fixed(2.5e-4, 3, sign=True), fixed(0.0123, 3)) == (
        "0.000",
        "0.000",
        "0.012",
    )


def test_a_horizon_beyond_the_probe_is_drawn_as_a_lower_bound(tmp_path):
    """A monitored LSTM (examples/monitor_adding.py) whose training lengthened its horizons
    past the probe's 50 lags at its last step drew nothing there: a horizon that never fell
    1000-fold was a gap in 'Horizons over training', so the step a reader looks for vanished
    (helper 262's walk-through). It is drawn at the last lag measured with a caret, the
    legend's 'beyond the probe's lags (drawn at the last)'."""
    import torch
    from torch import nn

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.sections.monitor_training import BEYOND_LABEL, training_section

    torch.manual_seed(0)
    rnn = nn.RNN(2, 8)
    with vl.JacobianMonitor(rnn, 0.1 * torch.randn(40, 2, 2), out=tmp_path / "m") as mon:
        mon.step(0)  # PyTorch's init: a horizon of about 14 lags
        with torch.no_grad():  # near the origin, W_hh = I: the norms stay about 1
            rnn.weight_hh_l0.copy_(torch.eye(8))
            rnn.bias_hh_l0.zero_()
            rnn.bias_ih_l0.zero_()
        mon.step(1)
    run = tmp_path / "m"
    view = RunView(vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    figure = next(b for b in training_section(view).blocks if b.title == "Horizons over training")
    last = {"state": 40.0, "input": 39.0}  # the last lag measured
    for curve in figure.panels[0].curves:
        assert list(curve.x) == [0.0, 1.0] and 5 < curve.y[0] < 30
        assert curve.y[1] == last[curve.label] and list(curve.at_least_x) == [1.0]
    assert figure.at_least_label == BEYOND_LABEL and "A caret:" in figure.caption
    with pinned():
        legend = draw(figure).legends[0]
    assert BEYOND_LABEL in [t.get_text() for t in legend.get_texts()]


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_a_median_horizon_says_how_a_seed_that_never_fell_counts(tmp_path):
    """The rates table said "median over seeds; '> n' when it never is", the rate maps "the
    median over seeds": neither said that a seed whose norm never fell counts as past the last
    lag, so that two seeds, one at lag 5 and one never, read '> n', not 5. Each caption now
    says it, and a setting reads as the words say."""
    from vanishlab.report.sections.rate_cells import horizon_cell
    from vanishlab.report.sections.setting_fits import setting_fits

    small = {"hidden_size": 4, "input_size": 2, "batch": 2, "gain": (0.5, 1.0), "seed": (0, 1)}
    by_model = vl.Sweep(**small, seq_len=6, model=("rnn", "gru"))
    by_model = _report_of(by_model, tmp_path / "m", MODELS_WORDS)
    report = _report_of(vl.Sweep(**small, seq_len=(6, 8)), tmp_path, ["rates"])
    blocks = {b.title: b for r in (by_model, report) for s in r.sections for b in s.blocks}
    for title, reads in [
        ("Decay rates by setting", "'> n'"),
        ("Rates and horizons by model", "'> n'"),
        ("Rate by gain and sequence length", "'h > n'"),
    ]:
        caption = blocks[title].caption
        assert "a seed whose norm never falls that far by lag n, the last lag measured, " in caption
        assert f"counts as past it, so the median reads {reads} where half the seeds or " in caption
    run = tmp_path / "run"
    view = RunView(vl.load_results(run), vl.load_cells(run), vl.load_manifest(run))
    fits = view.top_fits
    two = fits[(fits["gain"] == 0.5) & (fits["seq_len"] == 6)].copy()
    assert len(two) == 2  # the setting's two seeds: one at lag 5, one that never fell
    two["horizon"] = pd.array([5, None], dtype="Int64")
    (row,) = setting_fits(view, two).to_dict("records")
    assert horizon_cell(row) == f"> {int(row['lag_end'])}"
