"""Marks and labels of the report's figures that must read as what they are: the stable band
as a band, shortened row labels of one figure apart, a setting's name beside its value."""

from __future__ import annotations

import numpy as np
import pytest

import vanishlab as vl
from vanishlab.analysis.fits import PHASE_TOLERANCE
from vanishlab.report import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figure_text import wrap_title
from vanishlab.report.figures import draw
from vanishlab.report.model import Curve, LineGrid, LinePanel

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


def _gain_figures(run_dir) -> list[LineGrid]:
    report = build_report(
        vl.load_results(run_dir), vl.load_cells(run_dir), vl.load_manifest(run_dir)
    )
    gain = next(s for s in report.sections if s.key == "gain")
    return [b for b in gain.blocks if isinstance(b, LineGrid)]


def test_the_stable_band_reads_as_a_band_on_a_tall_axis(report_run):
    """The band |rate| <= 0.01, drawn to scale on panels whose axis spans ~1-2 per step, was
    0.8-1.6 pt tall, under the 0.8 pt zero line: it read as a plain line. It is drawn at least
    6 pt tall, the legend names it with its true width, the caption says both."""
    (figure,) = _gain_figures(report_run("full"))
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
    chars = int(round(width_in / (0.6 * 9.5 / 72), 9))
    assert max(len(line) for line in lines) <= chars, lines
    assert "".join(lines).replace(" ", "") == title.replace(" ", "")  # nothing lost
