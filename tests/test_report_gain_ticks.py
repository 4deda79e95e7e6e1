"""A gain axis's ticks are gains measured, a readable few of them, and always 1 (or the
critical gain a panel draws) where it lies in range: the gain phase diagram of
``vanishlab sweep gain_phase`` (10 gains) read 0.8 / 1.6 / 2.4, matplotlib's ticks, none of
them a gain measured, and no tick marked gain 1, the edge of chaos for an orthogonal W_hh."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import MAX_X_TICKS, draw, x_ticks
from vanishlab.report.line_axes import format_number
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


def test_a_critical_gain_drawn_without_its_tick_is_given_in_the_caption(tmp_path):
    """The demo's theory figure drew tanh's critical gains of orthogonal (1.69) and normal
    (1.86) 0.17 apart: 1.86 got no tick (too near 1.69, as above), and its dotted line stood
    at a gain the figure gave no number for. The caption now gives the critical gains of such
    a panel, each with its line's name; a figure whose every dotted line has its tick says
    nothing of them."""
    grid = {"hidden_size": 4, "input_size": 2, "seq_len": 6, "batch": 1, "seed": 0}
    sweep = Sweep(activation="tanh", init=("orthogonal", "normal"), gain=(0.5, 1.0, 2.0), **grid)
    out = tmp_path / "run"
    vl.run_sweep(sweep, out, workers=1, progress=False)
    report = build_report(
        vl.load_results(out), vl.load_cells(out), vl.load_manifest(out), sections=["theory"]
    )
    theory = next(s for s in report.sections if s.key == "theory")
    (figure,) = [b for b in theory.blocks if isinstance(b, LineGrid)]
    with pinned():
        fig = draw(figure)
        axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_xticklabels()]
        ticked = [{t.get_text() for t in ax.get_xticklabels()} for ax in axes]
    (panel,) = figure.panels
    (labels,) = ticked
    edges = {format_number(c.x[0]): figure.legend[c.style] for c in panel.curves if c.dotted}
    unticked = {g: name for g, name in edges.items() if g not in labels}
    assert unticked == {"1.86": "normal"}, (edges, labels)  # orthogonal's 1.69 is ticked
    assert "A dotted line too near another x tick has none of its own: the critical gains " in (
        figure.caption
    )
    assert "are 1.69 (orthogonal) and 1.86 (normal)." in figure.caption, figure.caption
    from vanishlab.report.line_axes import unticked_lines  # new with this test

    (normal,) = unticked_lines(panel, figure)
    assert format_number(normal.x[0]) == "1.86"
    # orthogonal's line alone is ticked: the caption's helper finds no line to give
    alone = replace(panel, curves=tuple(c for c in panel.curves if c is not normal))
    assert unticked_lines(alone, figure) == []


def test_building_a_page_s_sections_imports_no_matplotlib():
    """The caption's ticks (line_axes.unticked_lines) are read where a section is built: the
    module imported matplotlib at its top, before report/matplotlib_dirs had chosen
    matplotlib's folders (a report imports it only where a figure is drawn, after them)."""
    code = (
        "import sys, vanishlab.report.gain_layout, vanishlab.report.sections; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
