"""The Trainability section's figure of each cell's outcome beside its gradient at init.

The section drew the solved fraction against T and the mean horizon at init against T, and
listed the cells in a table: no figure showed which cells solved the task beside what their
gradient at init said, so a reader crossed the figures with the table to see whether the
prediction held. A third figure now draws one point per trained cell at its T and at the
decades its gradient had fallen by the required lag, filled where it solved the task, open
where it did not, under the dashed 1000x cut by which the prediction is made
(:mod:`vanishlab.report.sections.trainability_outcomes`). These tests fail on the code before
it (no such module, no third figure).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import vanishlab as vl
from vanishlab.report.data import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw, figure_svg
from vanishlab.report.line_points import (
    CEILING_Y,
    SPREAD_PT,
    SPREAD_SHARE,
    spread_offsets,
    spread_step,
)
from vanishlab.report.line_style import CVD_SAFE, POINT_MS
from vanishlab.report.model import LineGrid
from vanishlab.report.sections.trainability_outcomes import outcome_curves, outcome_figure
from vanishlab.report.sections.trainability_panels import OUTCOME_TITLE
from vanishlab.sweep.store import load_manifest


def _table() -> pd.DataFrame:
    """Eight trained cells, made by hand: two gains, T = 10 and 20, seeds 0 and 1, with a fall
    exactly on the cut (3 decades: predicted to fail) that solved, an exact zero at the
    required lag (+inf), a gradient exactly 0 at lag 0 (no fall: NaN) and one that grew."""
    rows = [
        # gain, T, seed, drop at required, solved, zero at lag 0
        (0.5, 10, 0, 1.0, True, False),
        (0.5, 10, 1, 3.0, True, False),  # on the cut: predicted to fail, solved: a miss
        (0.5, 20, 0, math.inf, False, False),  # exactly 0 at the required lag
        (0.5, 20, 1, 5.0, False, False),
        (1.0, 10, 0, -0.5, True, False),  # grew over the lag
        (1.0, 10, 1, math.nan, True, True),  # exactly 0 at lag 0: not drawn
        (1.0, 20, 1, 2.0, False, False),  # below the cut, not solved: a miss
        (1.0, 20, 0, 4.0, False, False),  # listed after seed 1: drawn in seed order
    ]
    frame = pd.DataFrame(
        rows, columns=["gain", "seq_len", "seed", "drop_at_required", "solved", "zero_at_lag0"]
    )
    return frame.assign(
        task="adding",
        required_lag=frame["seq_len"] - frame["seq_len"] // 2,
        predicted=frame["drop_at_required"].fillna(0.0) < 3,
        final_loss=0.01,
        chance_loss=1 / 6,
        cell_id=[f"c{i}" for i in range(len(frame))],
    )


def _view() -> object:
    """What the figure reads of a run (its varying settings): gain, T and seed, one panel."""
    return SimpleNamespace(varying=("gain", "seq_len", "seed"), seeds=2)


def test_each_cell_is_a_point_filled_where_solved_open_where_not() -> None:
    curves = outcome_curves(_table(), [0.5, 1.0])
    assert [c.style for c in curves] == [0, 1]  # each gain's colour, as the other figures'
    low, high = curves
    assert low.x.tolist() == [10, 10, 20, 20]
    assert low.y.tolist() == [1.0, 3.0, math.inf, 5.0]  # on the cut: at 3, not moved
    assert low.hollow is not None and low.hollow.tolist() == [False, False, True, True]
    # the cell exactly 0 at lag 0 has no fall: left out, not drawn at 0 or on an edge
    assert high.x.tolist() == [10, 20, 20]
    assert high.y.tolist() == [-0.5, 4.0, 2.0]  # seed 0 before seed 1 at T = 20
    assert high.hollow is not None and high.hollow.tolist() == [False, True, True]


def test_the_caption_counts_the_predictions_that_missed_and_the_cells_not_drawn() -> None:
    grid = outcome_figure(_table(), _view())  # type: ignore[arg-type]
    assert grid.title == OUTCOME_TITLE and grid.points and grid.level == 3.0
    # missed: the solved point on the cut, and the open one at 2 below it
    assert "the filled points on or above the line and the open ones below it: 2 of the 7" in (
        grid.caption
    )
    assert "▼ on the top edge: a gradient exactly 0 at the required lag" in grid.caption
    assert "A point below 0 is a gradient that grew over the lag." in grid.caption
    # the spread parts points only where the next T leaves room: at T = 6, 8 and 60, nine
    # points a T are 1.5 pt apart (markers 5.5 pt wide), where it said "so that none hides
    # another" of every figure
    assert (
        "spread sideways, within its column, so that none hides another where the next T "
        "leaves room (where it does not, they overlap)."
    ) in grid.caption
    assert "1 cell whose gradient is exactly 0 at lag 0 ('exact 0 at lag 0' in the table)" in (
        grid.caption
    )
    assert "(a diverged one too)" not in grid.caption
    diverged = _table().assign(final_loss=[0.01] * 7 + [math.nan])  # no final loss: not solved
    assert (
        "open where it did not (a diverged one too)." in outcome_figure(diverged, _view()).caption
    )  # type: ignore[arg-type]
    right = _table().dropna().query("drop_at_required != 3.0 and drop_at_required != 2.0")
    plain = outcome_figure(right, _view())  # type: ignore[arg-type]
    assert "none of the 5 here." in plain.caption
    assert "not drawn" not in plain.caption.replace("so that none hides", "")


def _points(grid: LineGrid) -> list[dict[str, object]]:
    """The markers the figure draws, one per point: face, shape, and where on the page."""
    with pinned():
        fig = draw(grid)
        fig.canvas.draw()
        found = []
        for ax, line in [(a, ln) for a in fig.axes if a.get_visible() for ln in a.lines]:
            if line.get_marker() in ("None", None, "") or len(line.get_xdata()) != 1:
                continue
            x, y = line.get_transform().transform((line.get_xdata()[0], line.get_ydata()[0]))
            axes_y = ax.transAxes.inverted().transform((x, y))[1]
            found.append(
                {
                    "face": to_hex(line.get_markerfacecolor()),
                    "edge": to_hex(line.get_markeredgecolor()),
                    "marker": line.get_marker(),
                    "at": (x * 72 / fig.dpi, y * 72 / fig.dpi),
                    "axes_y": axes_y,
                    "data": (line.get_xdata()[0], line.get_ydata()[0]),
                }
            )
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
    return [*found, {"legend": legend}]


def test_the_points_are_filled_or_open_spread_apart_and_an_exact_zero_on_the_top_edge() -> None:
    *points, legend = _points(outcome_figure(_table(), _view()))  # type: ignore[arg-type]
    assert len(points) == 7
    open_ = [p for p in points if p["face"] == "#ffffff"]
    filled = [p for p in points if p["face"] != "#ffffff"]
    assert len(open_) == 4 and len(filled) == 3
    assert all(p["face"] == p["edge"] for p in filled)  # filled in its gain's colour
    assert {p["edge"] for p in points} == {CVD_SAFE[0], CVD_SAFE[1]}
    (top,) = [p for p in points if p["marker"] == "v"]  # the exact zero: ▼ on the top edge
    assert top["face"] == "#ffffff" and top["axes_y"] == pytest.approx(CEILING_Y)
    assert all(0 <= p["axes_y"] <= 1 for p in points)  # every point inside its panel
    # no point hides another: at least a marker's width apart on the page
    at = np.array([p["at"] for p in points])
    apart = np.hypot(*(at[:, None, :] - at[None, :, :]).transpose(2, 0, 1))
    assert apart[~np.eye(len(at), dtype=bool)].min() >= POINT_MS
    assert legend["legend"] == [
        *("0.5", "1.0", "solved", "not solved", "1000x cut", "exact 0 at the required lag")
    ]


def test_the_points_of_one_t_spread_about_it_in_order() -> None:
    curves = outcome_curves(_table(), [0.5, 1.0])
    offsets = spread_offsets(curves, 7.0)
    # T = 10: gain 0.5's two seeds, then gain 1.0's one drawn (the NaN has none): -7, 0, 7
    assert offsets[0][:2].tolist() == [-7.0, 0.0] and offsets[1][:1].tolist() == [7.0]
    # T = 20: four points, 7 pt apart about it
    assert offsets[0][2:].tolist() == [-10.5, -3.5] and offsets[1][1:].tolist() == [3.5, 10.5]


@pytest.fixture(scope="module")
def gated_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained sweep of an nn.RNN and a GRU, 2 seeds, T = 4 and 6 (2 Adam steps)."""
    run = tmp_path_factory.mktemp("outcomes") / "run"
    sweep = vl.Sweep(
        model=("rnn", "gru"), seq_len=(4, 6), seed=(0, 1), hidden_size=4, input_size=2,
        batch=4, task="adding", train_steps=2, lr=0.01,
    )  # fmt: skip
    vl.run_sweep(sweep, run, workers=1, progress=False)
    return run


@pytest.mark.parametrize("case", ["as run", "one seed", "gated only", "none solved", "all solved"])
def test_the_figure_draws_for_one_seed_several_gated_none_and_all_solved(
    gated_run: Path, case: str
) -> None:
    results, cells = vl.load_results(gated_run), vl.load_cells(gated_run)
    if case == "one seed":
        results, cells = results[results["seed"] == 0], cells[cells["seed"] == 0]
    if case == "gated only":
        results, cells = results[results["model"] == "gru"], cells[cells["model"] == "gru"]
    if case in ("none solved", "all solved"):
        cells = cells.assign(solved=case == "all solved")
    report = build_report(results, cells, load_manifest(gated_run), timestamp="2026-01-01")
    section = next(s for s in report.sections if s.key == "trainability")
    (grid,) = [b for b in section.blocks if isinstance(b, LineGrid) and b.title == OUTCOME_TITLE]
    assert len(section.blocks) == 4  # three figures, then the table
    n = len(cells)
    drawn = [c for p in grid.panels for c in p.curves]
    assert sum(len(c.x) for c in drawn) == n  # one point per cell
    hollow = sum(int(c.hollow.sum()) for c in drawn if c.hollow is not None)
    assert hollow == int((~cells["solved"].astype(bool)).sum())
    assert "<svg" in figure_svg(grid, "t")
    *points, legend = _points(grid)
    assert len(points) == n
    assert sum(p["face"] == "#ffffff" for p in points) == hollow
    if case == "all solved":
        assert hollow == 0
    if case == "none solved":
        assert hollow == n
    assert ("not solved" in legend["legend"]) == bool(hollow)
    assert ("solved" in legend["legend"]) == bool(n - hollow)


def test_the_spread_of_one_t_stays_within_the_gap_to_the_next() -> None:
    """Points 7 pt apart (SPREAD_PT) where there is room; closer where the T values lie
    closer than many points need: within 0.7 of the gap, so that two T's points do not mix."""
    assert spread_step(np.array([10.0, 11.0]), 5, 150.0, 2.0) == SPREAD_PT
    step = spread_step(np.array([10.0, 11.0, 11.0]), 20, 150.0, 2.0)  # 75 pt per unit
    assert step == pytest.approx(0.7 * 75 / 19) and step * 19 <= 0.7 * 75
    assert spread_step(np.array([6.0]), 3, 150.0, 1.0) == SPREAD_PT  # one T: room enough
    assert spread_step(np.array([6.0, 20.0]), 1, 150.0, 14.0) == 0.0  # one point: no spread


def _crowded(seq_lens: tuple[int, ...], per_t: int) -> pd.DataFrame:
    """``per_t`` solved cells at each T of ``seq_lens`` (two gains), falls 1 to 2 decades."""
    rows = [
        (gain, t, seed, 1.0 + 0.1 * seed, True, False)
        for gain in (0.5, 1.0)
        for t in seq_lens
        for seed in range(per_t // 2)
    ]
    frame = pd.DataFrame(
        rows, columns=["gain", "seq_len", "seed", "drop_at_required", "solved", "zero_at_lag0"]
    )
    return frame.assign(
        task="adding", required_lag=frame["seq_len"] // 2, predicted=True, final_loss=0.01,
        chance_loss=1 / 6, cell_id=[f"c{i}" for i in range(len(frame))],
    )  # fmt: skip


@pytest.mark.parametrize(("seq_lens", "per_t"), [((6, 60), 12), ((6, 20, 40), 12)])
def test_the_points_of_one_t_stay_in_its_column_once_the_limits_are_widened(
    seq_lens: tuple[int, ...], per_t: int
) -> None:
    """The spread was taken at the x limits before they were widened to hold the outermost
    points: at T = 6 and 60, 12 points a T spread over 0.95 of the gap between the T's as
    drawn (77 pt of 81), the two T's points 4 pt apart, one row across the panel. Now it
    stays within SPREAD_SHARE of the gap on the page, as spread_step promises."""
    *points, _ = _points(outcome_figure(_crowded(seq_lens, per_t), _view()))  # type: ignore[arg-type]
    by_t: dict[float, list[float]] = {}
    for p in points:
        by_t.setdefault(float(p["data"][0]), []).append(p["at"][0])  # type: ignore[index]
    columns = [np.array(by_t[t]) for t in sorted(by_t)]
    assert all(len(c) == per_t for c in columns)
    centres = [float(c.mean()) for c in columns]  # the offsets are symmetric about each T
    gap = min(np.diff(centres))
    assert all(np.ptp(c) <= SPREAD_SHARE * gap + 1e-6 for c in columns)
    for left, right in itertools.pairwise(columns):
        assert right.min() - left.max() >= POINT_MS  # two T's points never touch


def test_a_fall_beside_the_cut_shows_the_digits_that_tell_its_side() -> None:
    """The table and the sentences printed a fall of 2.96 decades as "3.0", beside a prediction
    to solve: read against the 3-decade cut, the number said the opposite of the verdict."""
    from vanishlab.report.sections.trainability_agreement import decades_text

    assert decades_text(2.96) == "2.96" and decades_text(3.04) == "3.04"
    assert decades_text(2.9996) == "2.9996" and decades_text(3.0) == "3.0"
    assert decades_text(2.94) == "2.9" and decades_text(4.21) == "4.2"
