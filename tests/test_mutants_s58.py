"""Mutation review of the package changes of session 58 (da552b4c..d50e3657): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-07; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``; after: this file):
  report/sections/trainability_outcomes (outcome_curves, outcome_figure, _caption)  15 / 10 / 15
  report/line_points (spread_step, spread_offsets, limit_points, draw_points,
  draw_level, SPREAD_PT, SPREAD_SHARE, CEILING_Y)                                   18 /  7 / 17
  report/line_legend._point_entries; figures._draw_panel's points branch             5 /  0 /  5
  report/sections/trainability_agreement's naming of the figure                      2 /  2 /  2
  cli/_app._Group.parse_args (--help extra, --version --help extra)                  4 /  4 /  4
  sweep: CellConfig's refusal of a dropped axis and its words, cell_summary's
  rebuilt cell (9f3b09c1), the default experiment (load_experiment, module_named,
  find_experiment's known names, the listing), measured_by._mixed_counts,
  check_same_code's force, SweepPlan.kept_and_pending                             13 / 12 / 13
  analysis/linear._plain_steps and _settle's use of it                               4 /  2 /  4
In all 61 / 37 / 60. The one left is equivalent: limit_points taking ``~isnan`` for
``isfinite`` (matplotlib's update_datalim drops a point with a non-finite coordinate, so the
+inf points are left out of the limits either way). cell_summary's rebuilt cell without
``axis(a).applies(model)`` is killed by test_report_theory's gated-rows caption test, which
the commit of the fix names.
Each survivor killed was a gap in its tests, no defect of the code. Of note: the figure of
points was checked by its markers' faces and heights and its legend's words alone, so the
dashed cut, the room made above the data for the ▼, the points' sideways place, the legend's
samples and lines joining the points could all go; SPREAD_PT and CEILING_Y were read from the
module by the tests, so any value passed; the only test of the one-T and several-gap branches
of spread_step had room for 7 pt and one gap; and the fixed-point rate of two plain steps was
the same in every test whichever state Newton started from.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.colors import to_hex

import vanishlab as vl
from vanishlab.analysis.linear import _plain_steps, _settle
from vanishlab.errors import VanishlabError
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw
from vanishlab.report.line_axes import FLOOR_BASE, FLOOR_STEP
from vanishlab.report.line_legend import REFERENCE_COLOR
from vanishlab.report.line_points import SPREAD_SHARE, spread_offsets, spread_step
from vanishlab.report.line_style import CVD_SAFE, POINT_MS
from vanishlab.report.model import Curve, LineGrid, LinePanel
from vanishlab.report.sections.trainability_outcomes import outcome_figure

# --- report/sections/trainability_outcomes.py: the caption ---


def _table(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Trained cells made by hand: (gain, T, seed, drop at required, solved, final loss)."""
    frame = pd.DataFrame(
        rows, columns=["gain", "seq_len", "seed", "drop_at_required", "solved", "final_loss"]
    )
    return frame.assign(
        task="adding",
        required_lag=frame["seq_len"] // 2,
        zero_at_lag0=frame["drop_at_required"].isna(),
        chance_loss=1 / 6,
        cell_id=[f"c{i}" for i in range(len(frame))],
    )


def _view() -> Any:
    """What the figure reads of a run (its varying settings): gain, T and seed, one panel."""
    return SimpleNamespace(varying=("gain", "seq_len", "seed"), seeds=2)


#: Eight cells of two gains at T = 10 and 20: a fall on the cut that solved (a miss), an exact
#: zero at the required lag (+inf), one that grew (-0.5), one exactly 0 at lag 0 (NaN).
EIGHT = [
    (0.5, 10, 0, 1.0, True, 0.01),
    (0.5, 10, 1, 3.0, True, 0.01),
    (0.5, 20, 0, math.inf, False, 0.01),
    (0.5, 20, 1, 5.0, False, 0.01),
    (1.0, 10, 0, -0.5, True, 0.01),
    (1.0, 10, 1, math.nan, True, 0.01),
    (1.0, 20, 0, 4.0, False, 0.01),
    (1.0, 20, 1, 2.0, False, 0.01),
]


def test_a_diverged_cell_that_is_not_drawn_is_not_said_among_the_points() -> None:
    """The caption's "(a diverged one too)" says an open point is a diverged cell: one whose
    gradient is exactly 0 at lag 0 has no point, so it is not one of them (without
    ``notna()``, said)."""
    rows = [(*r[:5], math.nan if math.isnan(r[3]) else r[5]) for r in EIGHT]
    caption = outcome_figure(_table(rows), _view()).caption
    assert "(a diverged one too)" not in caption and "1 cell whose gradient" in caption


def test_a_fall_of_exactly_0_is_no_gradient_that_grew() -> None:
    """A point at 0 fell by nothing: "below 0" is for a gradient that grew (``<= 0`` said it
    of a fall of 0; the tests' only point at or below 0 was -0.5)."""
    rows = [(0.5, 10, 0, 0.0, True, 0.01), (0.5, 20, 0, 4.0, False, 0.01)]
    caption = outcome_figure(_table(rows), _view()).caption
    assert "none of the 2 here." in caption and "below 0" not in caption


@pytest.mark.parametrize(("zeros", "said"), [(1, "1 cell"), (2, "2 cells")])
def test_the_cells_not_drawn_are_counted_and_agree_with_their_verb(zeros: int, said: str):
    """The tests had one such cell and read the caption up to before its verb: "1 cell ...
    are not drawn" and a count of ``any()`` for ``sum()`` passed."""
    rows = [(0.5, 10 + i, 0, math.nan, True, 0.01) for i in range(zeros)]
    caption = outcome_figure(_table([*rows, (0.5, 30, 0, 1.0, True, 0.01)]), _view()).caption
    verb = "is" if zeros == 1 else "are"
    assert f" {said} whose gradient is exactly 0 at lag 0 ('exact 0 at lag 0' in the table) " in (
        caption
    )
    assert f"had nothing to fall from and {verb} not drawn." in caption


# --- report/line_points.py: spread_step ---


def test_one_t_s_points_spread_over_two_thirds_of_the_panel_at_most() -> None:
    """One T: its points spread over at most 2/3 of the width; the test's 3 points had room
    for 7 pt whatever the share (1/3 passed)."""
    assert spread_step(np.array([6.0]), 31, 150.0, 1.0) == pytest.approx(100 / 30)


def test_the_spread_keeps_within_the_closest_gap_not_the_widest() -> None:
    """T = 10, 11 and 15 on 30 pt a unit: 20 points of one T stay within 0.7 of the gap of 1
    (21 pt), not of 4 (the test's T had one gap: ``max()`` passed)."""
    step = spread_step(np.array([10.0, 11.0, 15.0]), 20, 150.0, 5.0)
    assert step == pytest.approx(SPREAD_SHARE * 30 / 19)
    assert SPREAD_SHARE == 0.7  # the module's word


def test_a_nan_takes_no_place_among_the_points_of_its_x() -> None:
    """A NaN is not drawn, so it has no offset and the drawn points of its x close up about
    it: the figure's curves never hold one (outcome_curves leaves those cells out), so
    spreading it among them passed."""
    one = Curve("", 0, np.array([5.0, 5.0]), np.array([1.0, np.nan]))
    two = Curve("", 1, np.array([5.0]), np.array([2.0]))
    assert [o.tolist() for o in spread_offsets([one, two], 7.0)] == [[-3.5, 0.0], [3.5]]


# --- report/line_points.py and figures.py: the figure as drawn ---


def _drawn(grid: LineGrid) -> dict[str, Any]:
    """The figure drawn: each point marker's face, edge, shape and place (page points and
    axes units), the axes' y limits and size in points, the lines of several points, and the
    legend's entries (label, face, marker)."""
    with pinned():
        fig = draw(grid)
        fig.canvas.draw()
        ax = next(a for a in fig.axes if a.get_visible() and a.lines)
        box = ax.get_window_extent()
        points, lines = [], []
        for line in ax.lines:
            if len(line.get_xdata()) != 1:
                lines.append(line)
                continue
            x, y = line.get_transform().transform((line.get_xdata()[0], line.get_ydata()[0]))
            ax_x, ax_y = ax.transAxes.inverted().transform((x, y))
            points.append(
                {
                    "face": to_hex(line.get_markerfacecolor()),
                    "edge": to_hex(line.get_markeredgecolor()),
                    "marker": line.get_marker(),
                    "at": (x * 72 / fig.dpi, y * 72 / fig.dpi),
                    "axes": (ax_x, ax_y),
                    "x": float(line.get_xdata()[0]),
                }
            )
        legend = fig.legends[0]
        handles = zip(legend.get_texts(), legend.legend_handles, strict=True)
        faces = {t.get_text(): to_hex(h.get_markerfacecolor()) for t, h in handles}
        return {
            "points": points,
            "lines": lines,
            "ylim": ax.get_ylim(),
            "height_pt": box.height * 72 / fig.dpi,
            "width_pt": box.width * 72 / fig.dpi,
            "legend": faces,
        }


@pytest.fixture(scope="module")
def eight() -> dict[str, Any]:
    return _drawn(outcome_figure(_table(EIGHT), _view()))


@pytest.fixture(scope="module")
def below() -> dict[str, Any]:
    """One gain, every point below the cut and none infinite: three seeds at T = 10 and 20."""
    rows = [(1.0, t, s, 0.2 + 0.1 * s, s != 1, 0.01) for t in (10, 20) for s in range(3)]
    return _drawn(outcome_figure(_table(rows), _view()))


def test_the_points_of_one_t_are_7_pt_apart_and_inside_the_panel(eight) -> None:
    """SPREAD_PT (7 pt) was read from the module by the tests, so any spread passed; and only
    the points' heights were checked to lie inside the panel, not their sideways place (without
    the widened x limits, T = 20's outer point lies past the edge)."""
    by_t: dict[float, list[float]] = {}
    for p in eight["points"]:
        by_t.setdefault(p["x"], []).append(p["at"][0])
    assert sorted(len(xs) for xs in by_t.values()) == [3, 4]  # T = 10 and 20
    gaps = [b - a for xs in by_t.values() for a, b in zip(sorted(xs), sorted(xs)[1:], strict=False)]
    assert all(g == pytest.approx(7.0, abs=0.05) for g in gaps)
    half = POINT_MS / 2 / eight["width_pt"]  # no marker reaches past the panel's sides
    assert all(half < p["axes"][0] < 1 - half for p in eight["points"])


def test_the_exact_zero_sits_inside_the_top_edge_above_every_point(eight) -> None:
    """The ▼ of +inf lies wholly inside the panel (CEILING_Y was read from the module: 1.0, on
    the edge itself, passed), and room is made for it above the data (without it, the point at
    5 decades lay under the ▼, less than a marker's height below it)."""
    (top,) = [p for p in eight["points"] if p["marker"] == "v"]
    height = eight["height_pt"]
    assert (1 - top["axes"][1]) * height >= POINT_MS / 2
    assert top["axes"][1] == pytest.approx(1 - FLOOR_BASE)
    highest = max(p["axes"][1] for p in eight["points"] if p["marker"] != "v")
    assert highest <= 1 - FLOOR_BASE - FLOOR_STEP
    assert (top["axes"][1] - highest) * height >= POINT_MS


def test_the_cut_is_drawn_dashed_and_in_view_where_every_point_lies_below_it(below) -> None:
    """The dashed 1000x cut, in the reference grey, across the panel, its y axis from no fall
    to the cut at least: neither the line nor the limits were read (without the level's line,
    or its y taken into the limits, the tests passed)."""
    lo, hi = below["ylim"]
    assert lo <= 0.0 and hi >= 3.0
    (cut,) = [ln for ln in below["lines"] if list(ln.get_ydata()) == [3.0, 3.0]]
    assert to_hex(cut.get_color()) == REFERENCE_COLOR and cut.get_linestyle() == "--"


def test_a_figure_of_points_joins_none_of_them(eight) -> None:
    """Points alone: no line joins a gain's points (the curves drawn as well, the tests'
    markers of one point each still passed)."""
    joined = [ln for ln in eight["lines"] if len(ln.get_xdata()) > 2 or ln.get_marker() != "None"]
    assert joined == []


def test_the_legend_shows_solved_filled_and_not_solved_open(eight, below) -> None:
    """The legend's samples: the tests read its words alone (an open "solved" and a filled
    "not solved" sample passed); the ▼ is listed only where one is drawn; with one gain the
    samples take its colour."""
    faces = eight["legend"]
    assert faces["not solved"] == "#ffffff" and faces["solved"] == REFERENCE_COLOR
    assert "exact 0 at the required lag" in faces
    one = below["legend"]
    assert one["solved"] == CVD_SAFE[0] and one["not solved"] == "#ffffff"
    assert "exact 0 at the required lag" not in one


def test_a_point_not_drawn_makes_no_legend_sample() -> None:
    """A NaN is not drawn (:mod:`.line_points`): an open NaN beside filled points gave a
    "not solved" sample of nothing drawn where its ``~isnan`` was left out."""
    curve = Curve(
        "", 0, np.array([1.0, 2.0]), np.array([1.0, np.nan]), hollow=np.array([False, True])
    )
    grid = LineGrid(
        title="t", caption="", nrows=1, ncols=1, panels=(LinePanel(0, 0, "p", (curve,)),),
        xlabel="x", ylabel="y", legend_title="", legend=(), markers=True, points=True,
        fill_labels=("yes", "no"),
    )  # fmt: skip
    labels = list(_drawn(grid)["legend"])
    assert "yes" in labels and "no" not in labels


def test_four_panels_are_laid_out_three_a_row_as_the_section_s_other_figures() -> None:
    """The section's figures lay out their panels three a row (one rule for the three:
    trainability_panels.panel_columns); the outcome figure's tests drew one or two panels, so
    two a row passed."""
    rows = [(1.0, 10, 0, 1.0, True, 0.01)]
    table = pd.concat([_table(rows).assign(init=name) for name in "abcd"], ignore_index=True)
    view = SimpleNamespace(
        varying=("init", "gain", "seq_len", "seed"), seeds=1, setting_order=lambda f, k: f
    )
    grid = outcome_figure(table, view)  # type: ignore[arg-type]
    assert (grid.nrows, grid.ncols) == (2, 3)
    assert [(p.row, p.col) for p in grid.panels] == [(0, 0), (0, 1), (0, 2), (1, 0)]


# --- analysis/linear.py: _plain_steps ---


def test_plain_steps_keep_the_states_from_the_first_kept_step_on() -> None:
    """h -> W h + d with W = I and d = 1 from 0 (the identity as the activation) is t after
    step t: 5 steps from step 3 (0-based) on keep steps 4 and 5, the last one the last state.
    The states kept were read only through fixed_point_rates, whose approach check a tail one
    state shorter (``t > first_kept``) passed alike."""
    eye, one = torch.eye(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    kept = _plain_steps(torch.zeros(2, dtype=torch.float64), eye, one, lambda a: a, 5, 3)
    assert [s.tolist() for s in kept] == [[4.0, 4.0], [5.0, 5.0]]
    assert [float(s[0]) for s in _plain_steps(kept[-1], eye, one, lambda a: a, 3)] == [6, 7, 8]


# --- sweep/experiments.py: the name default ---


def test_a_broken_default_py_of_the_user_s_comes_before_the_built_in_grid(tmp_path, monkeypatch):
    """./experiments/default.py that is a link to nothing is the user's module of that name,
    broken: said so, not passed over for the built-in grid (``module_named`` by ``isfile``
    ran the quick grid in its place; the tests' default.py was a plain file)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "default.py").symlink_to("nowhere.py")
    with pytest.raises(VanishlabError, match=r"default\.py is a symbolic link to nothing"):
        vl.load_experiment("default")


@pytest.mark.parametrize(
    ("w", "drive", "nonlinearity", "rate"),
    [
        (
            [[0.1, -1.27, 0.36], [0.54, 1.42, -0.23], [0.59, -0.44, 1.19]],
            [0.21, 1.4, 0.8],
            "tanh",
            -0.7955202508480586,
        ),
        (
            [[-0.13, 0.69, -0.08], [-1.16, -0.89, 0.87], [0.67, -0.56, 1.23]],
            [0.11, 0.16, -1.4],
            "relu",
            -0.04381487498048739,
        ),
    ],
)
def test_two_plain_steps_settle_from_the_last_state_with_both_states_kept(
    w, drive, nonlinearity, rate
) -> None:
    """Two plain steps, the fewest allowed: both states are kept and Newton starts from the
    last. Each of these two networks (found among 2400 random ones) is rated by the code as it
    is and not at all where Newton started from the first kept state (``tail[0]``, the tanh
    one) or where one state alone was kept (``steps - 1``, the relu one): the tests' networks
    gave the same rates either way."""
    out = _settle(torch.tensor(w, dtype=torch.float64), torch.tensor(drive, dtype=torch.float64),
                  nonlinearity, 2)  # fmt: skip
    assert out is not None and out[1] == pytest.approx(rate, abs=1e-9)
