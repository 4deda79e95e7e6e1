"""The report's figures for a reader who cannot rely on colour: its line colours against the
white page (WCAG 1.4.11, 3:1 for a graphical object), and its lines told apart by more than
colour (WCAG 1.4.1).

Before: the palette's orange (#e69f00) and sky blue (#56b4e9) read 2.25:1 and 2.31:1 on white,
the last third of a figure of more than 18 lines (viridis up to 0.92) down to 1.47:1; and a
figure of 2 to 6 lines drew them as solid lines differing in colour alone (a greyscale print of
the demo's decay curves showed four grey lines, their legend four grey samples).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vanishlab.report.model import Curve, LineGrid, LinePanel


def _contrast(colour: str, ground: str = "#ffffff") -> float:
    """WCAG 2's contrast ratio of two sRGB colours: (L1 + 0.05) / (L2 + 0.05), L each one's
    relative luminance (0.2126 R + 0.7152 G + 0.0722 B of the linearised channels)."""

    def luminance(hex_colour: str) -> float:
        srgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        rgb = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
        return float(rgb @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted([luminance(colour), luminance(ground)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula_reads_the_published_ratios() -> None:
    """The formula above gives WCAG's own ends (21:1 black on white, 1:1 white on white) and
    the 4.5:1 of #767676, the lightest grey that passes for text."""
    assert _contrast("#000000") == pytest.approx(21.0)
    assert _contrast("#ffffff") == pytest.approx(1.0)
    assert 4.5 <= _contrast("#767676") < 4.6


def test_every_line_colour_contrasts_3_to_1_with_the_page() -> None:
    """Every colour a figure of any number of lines draws them in (the six colour-blind-safe
    ones, cycled to 18 lines, viridis past that) is at least 3:1 against the white page: the
    orange and sky blue were 2.25:1 and 2.31:1, viridis' last third down to 1.47:1."""
    from vanishlab.report.figures import CVD_SAFE, palette

    ratios = {c: _contrast(c) for c in CVD_SAFE}
    assert min(ratios.values()) >= 3.0, ratios
    for n in (1, 2, 6, 7, 18, 19, 40):
        weak = [c for c in palette(n) if _contrast(c) < 3.0]
        assert weak == [], (n, weak)


def _figure(n: int, markers: bool) -> tuple[list[str], list[tuple[str, set[str]]]]:
    """A figure of ``n`` measured lines (and one line's dashed prediction), drawn: its legend
    samples' markers, and each line's colour with the markers drawn in it on the panel."""
    from matplotlib.colors import to_hex

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw, palette

    x = np.arange(20.0)
    curves = [Curve(f"init {s}", s, x, -0.1 * (s + 1) * x) for s in range(n)]
    curves.append(Curve("predicted", n - 1, x, -0.1 * n * x - 1.0, reference=True))
    panels = (LinePanel(0, 0, "p", tuple(curves)),)
    legend = tuple(f"init {s}" for s in range(n))
    grid = LineGrid("Decay", "", 1, 1, panels, "k", "y", "init", legend, markers=markers)
    with pinned():
        fig = draw(grid)
        samples = [h.get_marker() for h in fig.legends[0].legend_handles[:n]]
        lines = fig.axes[0].get_lines()
        drawn = []
        for colour in palette(n):
            shapes = {
                str(ln.get_marker())
                for ln in lines
                if to_hex(ln.get_color()) == colour
                and ln.get_linestyle() in ("None", "-")  # measured: not the dashed prediction
                and to_hex(ln.get_markerfacecolor()) != "#ffffff"
            }
            drawn.append((colour, shapes - {"None"}))
        return samples, drawn


@pytest.mark.parametrize("markers", [False, True])
def test_no_two_lines_of_a_figure_of_up_to_6_differ_in_colour_alone(markers: bool) -> None:
    """In a figure of 2 to 6 lines each line after the first carries a shape of its own, on a
    few of its points (or on each, in a figure of points) and on its legend sample, so that a
    reader who cannot tell the colours apart (a greyscale print, a colour-vision deficiency)
    can still match a line to its entry: they were all plain solid lines, their samples too.
    The first is plain where a line is (or dotted, in a figure of points), which no other is."""
    for n in range(2, 7):
        samples, drawn = _figure(n, markers)
        assert len(set(samples)) == n, (n, markers, samples)
        marks = [frozenset(shapes) for _, shapes in drawn]
        assert len(set(marks)) == n, (n, markers, drawn)
        for s, (sample, (_, shapes)) in enumerate(zip(samples, drawn, strict=True)):
            if s or markers:  # the sample shows the shape drawn on the line
                assert shapes == {sample}, (n, markers, s, sample, shapes)
            else:
                assert (sample, shapes) == ("None", set()), (n, s, sample, shapes)


def test_the_shapes_of_up_to_6_lines_keep_the_colours_come_round_apart() -> None:
    """Past 6 lines the shapes still say the round of a colour come round (squares for the
    7th to 12th, diamonds for the 13th to 18th), as before: the first six plain."""
    samples = _figure(8, False)[0]
    assert samples == ["None"] * 6 + ["s", "s"], samples


def test_the_palette_stays_apart_to_a_colour_blind_reader() -> None:
    """The darker orange and the violet that replace the orange and sky blue keep any two of
    the six at least 16.9 apart in CIELAB under Machado et al.'s (2009) simulated
    deuteranopia, protanopia and tritanopia (16.1 before: the sky blue from the green to a
    tritanope); the matrices and the CIELAB conversion are test_report's."""
    from test_report import _DICHROMACY, _lab

    from vanishlab.report.figures import CVD_SAFE

    vision = {"normal": np.eye(3), **{k: np.array(m) for k, m in _DICHROMACY.items()}}
    for name, seen in vision.items():
        labs = [_lab(c, seen) for c in CVD_SAFE]
        least = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
        assert least >= 16.9, (name, least)


def test_a_heatmap_s_partial_dots_contrast_with_their_cells() -> None:
    """A dense heatmap's dot on a cell whose seeds are some of them exact zeros (the value the
    others' mean) was #333333 on every cell: 1.04:1 on RdBu's darkest blue and red, where the
    demo's depth map dots cells of the identity init. Each is now white or black, whichever
    contrasts more with its cell (as the squares' text): at least 3:1, a graphical object's."""
    from matplotlib.colors import to_hex

    from vanishlab.report.figure_layout import pinned
    from vanishlab.report.figures import draw
    from vanishlab.report.layout import as_parts
    from vanishlab.report.model import HeatmapGrid, HeatPanel

    values = np.linspace(-6.0, 6.0, 25).reshape(1, 25)
    lags = tuple(str(k) for k in range(25))
    panel = HeatPanel("p", ("0",), lags, values, partial=np.ones((1, 25), dtype=bool))
    (grid,) = as_parts([HeatmapGrid("Depth", "c", (panel,), 1, "lag", "layer", "r", dense=True)])
    with pinned():
        figure = draw(grid)
    ax = next(a for a in figure.axes if a.images)
    (image,) = ax.images
    dots = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    ratios = []
    for ln in dots:
        for lag in ln.get_xdata():
            cell = to_hex(image.to_rgba(values[0, int(lag)]))
            ratios.append(_contrast(to_hex(ln.get_color()), cell))
    assert len(ratios) == 25
    assert min(ratios) >= 3.0, min(ratios)
