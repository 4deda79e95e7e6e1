"""A gain axis's ticks are gains measured, a readable few of them, and always 1 (or the
critical gain a panel draws) where it lies in range: the gain phase diagram of
``vanishlab sweep gain_phase`` (10 gains) read 0.8 / 1.6 / 2.4, matplotlib's ticks, none of
them a gain measured, and no tick marked gain 1, the edge of chaos for an orthogonal W_hh."""

from __future__ import annotations

import numpy as np

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import MAX_X_TICKS, draw, x_ticks
from vanishlab.report.model import LineGrid
from vanishlab.sweep.config import Sweep

GAINS = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0)  # gain_phase's default grid


def test_many_gains_are_thinned_to_measured_ones_with_1_among_them():
    ticks = list(x_ticks(np.array(GAINS), [1.0]))
    assert ticks == [0.25, 1.0, 1.5, 2.0, 3.0]
    assert set(ticks) <= set(GAINS) and len(ticks) <= MAX_X_TICKS
    assert min(np.diff(ticks)) >= (3.0 - 0.25) / MAX_X_TICKS  # room for each label


def test_a_critical_gain_drawn_is_ticked_first_and_two_near_ones_once():
    gains = np.array([0.5, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0])
    # relu's √2, drawn: ticked in place of 1, which lies too near it
    assert list(x_ticks(gains, [2**0.5, 1.0])) == [0.5, 2**0.5, 2.0, 2.5, 3.0]
    # tanh's two critical gains 0.17 apart (normal, orthogonal): one tick, not two overprinted
    assert list(x_ticks(gains, [1.86, 1.69, 1.0])) == [0.5, 1.0, 1.86, 2.5, 3.0]
    # few gains keep every one, and a mark between them where it has room
    assert list(x_ticks(np.array([0.5, 2.0]), [1.0])) == [0.5, 1.0, 2.0]
    assert list(x_ticks(np.array([0.5, 1.0, 1.5]), [2**0.5])) == [0.5, 1.0, 1.5]  # beside 1.5


def test_the_gain_phase_diagram_ticks_measured_gains_and_1(tmp_path):
    grid = {"hidden_size": 4, "input_size": 2, "seq_len": 6, "batch": 1, "seed": 0}
    out = tmp_path / "run"
    vl.run_sweep(Sweep(init="orthogonal", gain=GAINS, **grid), out, workers=1, progress=False)
    report = build_report(
        vl.load_results(out), vl.load_cells(out), vl.load_manifest(out), sections=["gain"]
    )
    gain = next(s for s in report.sections if s.key == "gain")
    (figure,) = [b for b in gain.blocks if isinstance(b, LineGrid)]
    with pinned():
        fig = draw(figure)
        labels = [t.get_text() for ax in fig.axes if ax.get_visible() for t in ax.get_xticklabels()]
    assert labels == ["0.25", "1", "1.5", "2", "3"], labels  # it read 0.8, 1.6, 2.4
