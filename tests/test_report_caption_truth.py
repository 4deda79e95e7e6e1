"""Captions say what their figure draws, no more and no less: grey only where a heatmap's cell
is grey, a rim only where a line figure draws one, and no theory where the figure draws none."""

from __future__ import annotations

import numpy as np
import pytest
from test_report import STAMP, synthetic
from test_report_zero_seeds import depth_run

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.line_style import covered_curves
from vanishlab.report.model import HeatmapGrid, LineGrid


def _blocks(report, kind):
    return [b for s in report.sections for b in s.blocks if isinstance(b, kind)]


@pytest.mark.parametrize(
    "rates",
    [
        {("a", 0): -np.inf, ("a", 1): -np.inf, ("b", 0): -0.2},  # a's rate -inf: a grey cell
        {("a", 0): -0.1, ("b", 0): -0.2},  # every rate finite: no grey cell
    ],
)
def test_a_rate_heatmap_caption_names_grey_only_where_a_cell_is_grey(rates):
    report = build_report(*synthetic(rates), {"name": "grey"}, timestamp=STAMP)
    (grid,) = _blocks(report, HeatmapGrid)
    grey = any(np.isneginf(p.values).any() for p in grid.panels)
    assert grey == (-np.inf in rates.values())
    assert ("grey" in grid.caption) == grey, grid.caption
    assert "blue vanishing, white stable, red exploding" in grid.caption  # the scale, kept


@pytest.mark.parametrize("zeros", [True, False])
def test_a_depth_map_caption_names_grey_only_where_a_cell_is_grey(zeros):
    results, cells, manifest = depth_run()
    if not zeros:  # the same run with every exact zero replaced by a finite norm
        y = results["log10_fro_mean"]
        results = results.assign(log10_fro_mean=y.where(np.isfinite(y), -5.0), n_zero=0)
    report = build_report(results, cells, manifest, timestamp=STAMP, sections=["depth"])
    (grid,) = _blocks(report, HeatmapGrid)
    assert any(np.isneginf(p.values).any() for p in grid.panels) == zeros
    assert ("grey" in grid.caption) == zeros, grid.caption


def test_a_decay_caption_says_a_rim_only_where_its_figure_draws_one():
    # a and b fall at the same rate (one line: a's drawn wider), c apart; then all apart
    same = synthetic({("a", 0): -0.1, ("b", 0): -0.1, ("c", 0): -0.3})
    apart = synthetic({("a", 0): -0.1, ("b", 0): -0.2, ("c", 0): -0.3})
    for frames, rim in ((same, True), (apart, False)):
        report = build_report(*frames, {"name": "rim"}, timestamp=STAMP)
        (grid,) = [g for g in _blocks(report, LineGrid) if "lag k" in g.caption]  # the decay
        assert not grid.zero_line and not grid.stable_band  # (no other level to cover)
        labels = {p.curves[i].label for p in grid.panels for i in covered_curves(p.curves)}
        assert (labels == {"a"}) == rim and bool(labels) == rim
        assert ("drawn wider" in grid.caption) == rim, grid.caption
        # named as the lines drawn wider: "(here: init = a and init = b)" read as if a and b
        # coincided with each other
        assert ("so that both show; drawn wider here: init = a." in grid.caption) == rim
        # it names the lines drawn wider, and no other
        for name in "abc":
            assert (f"init = {name}" in grid.caption.split("drawn wider")[-1]) == (name in labels)


def test_the_side_by_side_figure_says_it_draws_no_theory_for_any_model(tmp_path):
    """Its caption said "no theory is drawn for LSTM and GRU cells", as if the RNN panels had
    theory: the figure draws none for any model, and points to where the RNN's is drawn."""
    out = tmp_path / "mixed"
    grid = vl.Sweep(model=("rnn", "gru"), hidden_size=4, seq_len=6, init="default")
    vl.run_sweep(grid, out, workers=1, progress=False)
    run = [vl.load_results(out), vl.load_cells(out), vl.load_manifest(out)]
    for sections, decay in ((None, True), (["models"], False)):
        report = build_report(*run, timestamp=STAMP, sections=sections)
        (side,) = [g for s in report.sections if s.key == "models" for g in s.blocks[:1]]
        assert isinstance(side, LineGrid)
        assert not any(c.reference for p in side.panels for c in p.curves)  # no theory drawn
        no_theory = side.caption.split("Measurements only: ")[1].split(".")[0]
        assert "GRU" in no_theory and not no_theory.startswith("no theory is drawn for GRU")
        assert ("Decay curves" in no_theory) == decay  # named where the page has it


def _says_rims(grid: LineGrid) -> tuple[bool, bool]:
    """Whether ``grid`` draws a rim or a ring (a line drawn wider, a marker ringed, where
    later curves cover it), and whether its caption says so."""
    from vanishlab.report.line_style import covered_points, shown_levels, widened

    labels, reference = widened(grid)
    shown = shown_levels(grid)
    rings = grid.markers and any(covered_points(p.curves, shown) for p in grid.panels)
    drawn = bool(labels) or reference or rings
    return drawn, "drawn wider" in grid.caption or "inside a" in grid.caption


@pytest.mark.parametrize(
    ("kind", "still", "rims"),
    [
        # still weights: every step's curves are the first's; the state's and the input's
        # rates and horizons coincide (T = 40)
        ("rnn", True, {"Decay rates", "Horizons", "Decay curves"}),
        ("rnn", False, {"Decay rates", "Horizons"}),
        ("lstm", False, set()),  # two horizon curves apart: no rim, no ring
    ],
)
def test_a_monitor_pages_line_figures_say_their_rims_and_only_theirs(tmp_path, kind, still, rims):
    """The monitor's rates figure and its decay curves at chosen steps drew lines wider
    (steps or curves that coincide) with nothing said of it, and its horizons figure said so
    wherever it had two curves, whether or not it drew a rim."""
    import torch
    from _report_run import monitor_report_of
    from torch import nn

    from vanishlab.trained import JacobianMonitor

    torch.manual_seed(0)
    module = nn.RNN(2, 16) if kind == "rnn" else nn.LSTM(2, 16)
    with JacobianMonitor(module, torch.randn(40, 2, 2), out=tmp_path / "m") as mon:
        for step in range(4):
            if not still:  # the weights move between steps
                with torch.no_grad():
                    module.weight_hh_l0.mul_(1.05)
            mon.step(step, loss=0.1)
    grids = _blocks(monitor_report_of(tmp_path / "m"), LineGrid)
    assert any(g.title == "Horizons over training" for g in grids)
    for grid in grids:
        drawn, said = _says_rims(grid)
        assert said == drawn, (grid.title, grid.caption)
        assert drawn == any(grid.title.startswith(r) for r in rims), grid.title


def test_the_theory_figure_says_the_prediction_drawn_wider(tmp_path):
    """normal and orthogonal weights have one mean field: their dashed predictions coincide,
    the earlier drawn wider; the caption said nothing of it."""
    out = tmp_path / "theory"
    grid = vl.Sweep(
        activation="relu",
        init=("normal", "orthogonal"),
        gain=(0.5, 1.0, 2.0),
        hidden_size=8,
        input_size=4,
        seq_len=12,
        batch=2,
    )
    vl.run_sweep(grid, out, workers=1, progress=False)
    run = [vl.load_results(out), vl.load_cells(out), vl.load_manifest(out)]
    report = build_report(*run, timestamp=STAMP)
    (theory,) = [b for s in report.sections if s.key == "theory" for b in s.blocks[:1]]
    assert isinstance(theory, LineGrid)
    assert _says_rims(theory) == (True, True), theory.caption
