"""The colours of a line figure's lines and its legend (:mod:`.figures`): up to 6 lines in Okabe &
Ito's colour-blind-safe colours (two darkened, for 3:1 on white), each line after the first
with a shape of its own, past them the same colours again told apart by shapes
(:func:`palette`, :func:`.line_style.style_marker`), a reference's and the floor's greys; the
legend's entries (each line style, each reference, the floor's and the carets' markers, the
stable band) and where it stands.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .figure_text import plain
from .line_axes import format_number
from .line_box import LineBox
from .line_style import (
    CVD_SAFE,
    CYCLE_MARKERS,
    POINT_MS,
    REFERENCE_LW,
    SHAPE_MS,
    alone,
    dashes,
    style_marker,
)
from .model import Curve, LineGrid, LinePanel

__all__ = [
    "AT_LEAST_LABEL",
    "BAND_COLOR",
    "CVD_SAFE",
    "FLOOR_COLOR",
    "REFERENCE_COLOR",
    "VIRIDIS_END",
    "add_legend",
    "legend_entries",
    "line_color",
    "palette",
]

FLOOR_COLOR = "#7f7f7f"
BAND_COLOR = "#dedede"  # the stable band: darker than the grid lines (#e6e6e6), lighter than 0
AT_LEAST_LABEL = "at least (a seed never got there)"
"""The legend's entry for the carets of :attr:`Curve.at_least_x`."""
REFERENCE_COLOR = "#444444"  # a reference of no line's style; a legend sample of several colours


#: How far along viridis the lines of a figure of more than 18 go: to its green of 3.06:1 on
#: the white page (WCAG 1.4.11); up to 0.92 (its yellow-green, 1.47:1) a third of them were
#: under 3:1, the last ones faint on white.
VIRIDIS_END = 0.59


def palette(n: int) -> list[str]:
    """Colours for ``n`` lines: :data:`CVD_SAFE`, cycled past 6 up to 18 lines, the lines of a
    colour again told apart by their markers (:func:`.line_style.style_marker`; tab10, for 7 to
    10, drew two of the activation_init study's 8 inits 4.6 apart to a protanope); else evenly
    spaced viridis, up to :data:`VIRIDIS_END`."""
    if n <= len(CVD_SAFE) * (1 + len(CYCLE_MARKERS)):
        return [CVD_SAFE[i % len(CVD_SAFE)] for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.0, VIRIDIS_END, n)]


def legend_entries(
    grid: LineGrid, shown: list[LinePanel], colors: list[str]
) -> tuple[list[Line2D | Patch], list[str]]:
    """The legend's handles and their labels: each line style drawn in ``shown``, each
    reference (in the one colour it is drawn in, else grey; with its ring where one stands
    alone), the floor's and the carets' markers and
    the stable band, where the panels draw them."""
    used = {c.style for p in shown for c in p.curves if not c.reference}
    references = {c.label: c.dotted for p in shown for c in p.curves if c.reference}
    # A reference's sample is drawn in the colour the panels draw it in where that is one (a
    # grey sample beside a measured line's coloured one read as a grey line of its own); in
    # the neutral grey where it takes several (each its measured line's: the caption says so).
    drawn: dict[str, set[str]] = {}
    for c in (c for p in shown for c in p.curves if c.reference):
        drawn.setdefault(c.label, set()).add(line_color(c, colors))
    # A reference drawn as an open ring somewhere (a lone point: one T) shows the ring too.
    ringed = {c.label for p in shown for c in p.curves if c.reference and alone(c.y).any()}
    any_floor = any(len(c.floor_x) and not c.reference for p in shown for c in p.curves)
    handles: list[Line2D | Patch] = []
    labels: list[str] = []
    for s, label in enumerate(grid.legend):
        if s in used:
            # its line's shape; a dot where every point is marked and the line has no shape
            shape = style_marker(s, len(grid.legend), len(CVD_SAFE))
            color = colors[s % len(colors)]
            if grid.points:  # its marker alone: no line is drawn
                line = Line2D([], [], color=color, ls="none", marker=shape or "o", ms=POINT_MS)
            else:
                shape = shape or ("o" if grid.markers else None)
                line = Line2D([], [], color=color, lw=1.6, marker=shape, ms=SHAPE_MS)
            handles.append(line)
            labels.append(plain(label))
    if grid.points:
        _point_entries(grid, shown, colors, handles, labels)
    # Measured lines of one unnamed style beside a reference: the legend listed the dashed
    # line alone (the solid one explained only in the caption). Both kinds, or neither.
    # A measured line of no style (a monitor's training loss, beside its chance level) is
    # drawn in the reference grey: its sample too.
    measured = sorted(s for s in used if s is not None)
    if not grid.legend and references and (measured or None in used):
        color = colors[measured[0] % len(colors)] if measured else REFERENCE_COLOR
        handles.append(Line2D([], [], color=color, lw=1.6))
        labels.append(plain(grid.line_label))
    for label, dotted in references.items():
        ring = {"marker": "o", "mfc": "white", "ms": 4.0} if label in ringed else {}
        color = next(iter(drawn[label])) if len(drawn[label]) == 1 else REFERENCE_COLOR
        line = Line2D([], [], color=color, lw=REFERENCE_LW, ls=dashes(dotted), **ring)
        handles.append(line)
        labels.append(plain(label))
    if any_floor:
        handles.append(Line2D([], [], ls="none", marker="v", color=FLOOR_COLOR, ms=5))
        labels.append("exact zero (−∞)")
    if any(len(c.at_least_x) and not c.reference for p in shown for c in p.curves):
        handles.append(Line2D([], [], ls="none", marker="^", color=FLOOR_COLOR, ms=5))
        labels.append(grid.at_least_label or AT_LEAST_LABEL)
    if grid.stable_band and shown:  # its true width: it may be drawn wider (BAND_MIN_PT)
        handles.append(Patch(facecolor=BAND_COLOR, edgecolor="none"))
        labels.append(f"stable: |rate| ≤ {format_number(grid.stable_band)}")
    return handles, labels


def _point_entries(
    grid: LineGrid,
    shown: list[LinePanel],
    colors: list[str],
    handles: list[Line2D | Patch],
    labels: list[str],
) -> None:
    """A figure of points' entries (:attr:`.model.LineGrid.points`): a filled and an open
    point where the panels draw them, named by its ``fill_labels``, in the one colour the
    points are drawn in, else grey; its level (a dashed cut) and its ▼ of ``+inf`` on the top
    edge, where drawn."""
    measured = [c for p in shown for c in p.curves if not c.reference]
    drawn = {line_color(c, colors) for c in measured}
    color = next(iter(drawn)) if len(drawn) == 1 else REFERENCE_COLOR
    hollow = filled = False
    for c in measured:
        at = ~np.isnan(c.y)
        opened = c.open_points()
        hollow, filled = hollow or bool((at & opened).any()), filled or bool((at & ~opened).any())
    for on, label, face in (
        (filled, grid.fill_labels[0], color),
        (hollow, grid.fill_labels[1], "white"),
    ):
        if on and label:
            sample = Line2D([], [], ls="none", marker="o", color=color, mfc=face, ms=POINT_MS)
            handles.append(sample)
            labels.append(label)
    if grid.level is not None and grid.level_label:
        handles.append(Line2D([], [], color=REFERENCE_COLOR, lw=REFERENCE_LW, ls=dashes(False)))
        labels.append(grid.level_label)
    if grid.ceiling_label and any(np.isposinf(c.y).any() for c in measured):
        handles.append(Line2D([], [], ls="none", marker="v", color=FLOOR_COLOR, ms=5))
        labels.append(grid.ceiling_label)


def add_legend(
    fig: Figure, handles: list[Line2D | Patch], labels: list[str], grid: LineGrid, box: LineBox
) -> None:
    """The figure's legend: in columns above the panels of a wide grid, else on their right;
    its title left-aligned in both places, as the panels' titles are (on the right it stood
    centred over entries of unequal widths)."""
    width, height = (float(v) for v in fig.get_size_inches())
    below = box.note_h / height  # under the figure's note line, where it has one
    if box.legend_h:
        loc, anchor, ncols = "upper left", (box.margins[0] / width, 1.0 - below), box.legend_cols
    else:
        loc, anchor, ncols = "upper right", (1.0, 1.0 - 0.05 / height - below), 1
    fig.legend(
        handles,
        labels,
        loc=loc,
        bbox_to_anchor=anchor,
        ncols=ncols,
        title=plain(grid.legend_title) or None,
        alignment="left",
        frameon=False,
    )


def line_color(curve: Curve, colors: list[str]) -> str:
    return REFERENCE_COLOR if curve.style is None else colors[curve.style % len(colors)]
