"""A band too thin to see is said in its caption, on every page that draws bands.

The monitor page's decay curves said so first (:func:`.line_style.hidden_band_note`); the
sweep report's decay and input curves and an analysed model's decay curves drew such bands
without a word: the demo's band across its 2 seeds in the "relu, 1 layer, gain = 0.5" panel was
1.4 pt tall at most (1.30 pt drawn), under its 1.3 pt line, and an analysed 2-layer LSTM's
(T = 100, B = 8) about 1.8 pt in both panels, while each caption named a band.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _report_run import report_sections

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.line_style import LINE_LW, band_height_pt, hidden_band_note
from vanishlab.report.model import Curve, LineGrid, LinePanel
from vanishlab.trained import analyze_checkpoint

THIN = "too thin to see"


def _said(grid: LineGrid) -> str:
    """The note ``grid``'s caption must hold: every panel's band is too thin here."""
    heights = [band_height_pt(p) for p in grid.panels]
    assert heights and all(0 < h <= 2 * LINE_LW for h in heights), heights
    half = max(
        float(np.nanmax(np.maximum(c.hi - c.y, c.y - c.lo)))
        for p in grid.panels
        for c in p.curves
        if c.lo is not None and not c.reference
    )
    where = "T" if len(grid.panels) == 1 else "In every panel t"  # one panel: said plainly
    up = math.ceil(round(max(heights) * 10, 6)) / 10  # "at most": rounded up
    return (
        f" {where}he band is at most ±{half:.2g} in log10: at most {up:.1f} "
        f"pt tall on its axis, about the width of the lines ({LINE_LW:g} pt), {THIN}."
    )


def test_a_sweeps_curves_say_a_band_too_thin_to_see(tmp_path):
    # The demo's thin panel on its own: relu at gain 0.5 falls ~30 decades over 100 lags
    # while its two seeds stay within a few hundredths of each other (0.6 pt).
    sweep = vl.Sweep(
        activation=("relu",),
        num_layers=(1,),
        init=("normal",),
        gain=(0.5,),
        seed=(0, 1),
        hidden_size=64,
        input_size=4,
        seq_len=100,
        batch=4,
    )
    sections = report_sections(tmp_path / "run", sweep)
    for key in ("decay", "input"):
        (grid,) = [b for b in sections[key].blocks if isinstance(b, LineGrid)]
        assert "the band spans the 2 seeds." + _said(grid) in grid.caption


def test_an_analysed_models_curves_say_a_band_too_thin_to_see(tmp_path):
    torch.manual_seed(0)
    torch.save(torch.nn.LSTM(8, 32, num_layers=2).state_dict(), tmp_path / "lstm.pt")
    run = tmp_path / "run"
    analyze_checkpoint(tmp_path / "lstm.pt", run, seq_len=100, batch=8)
    report = build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )
    (section,) = [s for s in report.sections if s.key == "curves"]
    (grid,) = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert "the band is ±1 standard deviation across them." + _said(grid) in grid.caption


def _panel(title: str, below: float, above: float) -> LinePanel:
    """A panel of one curve falling 13 decades over 50 lags, its band ``below`` under it and
    ``above`` over it."""
    x = np.arange(50.0)
    y = -0.26 * x
    return LinePanel(0, 0, title, (Curve("a", 0, x, y, lo=y - below, hi=y + above),))


def test_the_note_gives_how_far_a_band_reaches_and_quotes_titles_with_commas():
    """A band across seeds need not be centred on their mean: the "±" is the farthest it
    reaches from its line (0.05 here, where half its height is 0.03). Titles holding a comma
    are quoted: "the relu, 1 layer and tanh, 2 layers panels" read as three or four panels."""
    note = hidden_band_note([_panel("state", 0.01, 0.05)])
    assert note.startswith(" The band is at most ±0.05 in log10: at most 0.6 pt")  # 0.52 pt
    panels = [_panel("relu, 1 layer", 0.01, 0.05), _panel("tanh, 2 layers", 0.02, 0.02)]
    panels.append(_panel("relu, 2 layers", 1.0, 1.0))  # 20 pt: it shows
    assert hidden_band_note(panels).startswith(
        " In the 'relu, 1 layer' and 'tanh, 2 layers' panels the band is at most ±0.05 in log10"
    )
    assert hidden_band_note([_panel("state", 0.0, 0.0)]) == ""  # no band at all


@pytest.mark.parametrize("gap", [np.nan, np.inf])
def test_a_gap_in_a_band_is_not_its_size(gap):
    """A NaN (a gap) or an infinite edge of a band is not how far it reaches."""
    panel = _panel("state", 0.01, 0.05)
    (curve,) = panel.curves
    hi = curve.hi.copy()
    hi[3] = gap
    bare = LinePanel(0, 0, "state", (Curve("a", 0, curve.x, curve.y, lo=curve.lo, hi=hi),))
    assert "at most ±0.05 in log10" in hidden_band_note([bare])
