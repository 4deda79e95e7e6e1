"""The plain data a report page is made of: sections holding tables, key/value lists and figures.

These dataclasses are the boundary between the two stages of a report (coverage.py's
``html.py`` is the model): :mod:`vanishlab.report.data` fills them from a run's frames, with
every number already aggregated and thinned, and :mod:`vanishlab.report.render` draws and
templates them. Nothing here knows about pandas, matplotlib or HTML. Strings are plain text:
the template escapes all of them.

Arrays are 1-D (curves) or 2-D (heatmaps) float64 numpy arrays; ``-inf`` in a curve or heatmap
means an exact zero Jacobian and is drawn as a marker, never as a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

__all__ = [
    "AXIS_MARGIN",
    "Block",
    "Code",
    "Curve",
    "HeatPanel",
    "HeatmapGrid",
    "KeyValues",
    "LineGrid",
    "LinePanel",
    "Report",
    "Section",
    "Table",
]


@dataclass(frozen=True)
class KeyValues:
    """A two-column list of labelled facts (the run's overview); ``title`` "" for none (a
    section of this block alone, whose title is the block's)."""

    kind: ClassVar[str] = "keyvalues"
    title: str
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Code:
    """A block of literal text shown verbatim (a command line)."""

    kind: ClassVar[str] = "code"
    title: str
    text: str
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A table of already formatted cells; ``numeric[j]`` right-aligns column ``j``.

    ``detail``: the index of a column of long text (notes, reasons) shown as a full-width line
    under its row instead of as a column, so that it is never cut off however wide the table.
    ``nowrap``: the indices of columns whose cells are never broken over two lines (a model's
    label, "rnn (tanh)", beside a wide column; a horizon, "21 (exact 0)"); the cells' text
    stays as it is. ``asides``: the indices of columns whose cells' remark after their number
    ("−0.012 ± 0.001 (2 of 2 seeds exactly 0 from lag 100)") is set in a narrow box of its
    own, under the number where it is long, so that the remarks of a few rows do not make the
    column as wide as they are for every row (the demo's rates table: 2 of 48 rows' remarks
    made its rate column about 3x as wide as its numbers, an empty band beside them).
    """

    kind: ClassVar[str] = "table"
    title: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    note: str = ""
    detail: int | None = None
    nowrap: tuple[int, ...] = ()
    asides: tuple[int, ...] = ()


@dataclass(frozen=True)
class Curve:
    """One line of a panel: ``y`` against ``x`` with an optional band ``[lo, hi]``.

    ``y``, ``lo`` and ``hi`` may hold NaN (a gap). ``floor_x`` lists the x positions where the
    value is ``-inf`` (an exact zero): drawn as markers on the panel's floor.
    ``reference``: a prediction rather than a measurement (a theory overlay): drawn dashed in
    its style's colour, without band, and listed once in the legend under ``label``, its sample
    in that colour (the legend's neutral grey where the label's references take several). A
    reference of no measured line's style (``style`` None: a task's required lag) is drawn in
    that grey. ``dotted``: a reference drawn dotted rather than dashed (a
    marker line, such as a critical gain, told apart from a predicted curve).
    ``at_least_x`` lists the x positions whose ``y`` is only a lower bound (a mean over seeds
    of which one never reached the measured event within the sequence): drawn as an upward
    caret on the point.
    ``hollow``: in a figure of points (:attr:`LineGrid.points`), which points are drawn open
    (a white face) rather than filled: a cell that did not solve its task, beside the filled
    ones that did; None: all filled.
    """

    label: str
    style: int | None  # index into the figure's palette, stable across panels
    x: np.ndarray
    y: np.ndarray
    lo: np.ndarray | None = None
    hi: np.ndarray | None = None
    floor_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    at_least_x: np.ndarray = field(default_factory=lambda: np.empty(0))
    reference: bool = False
    dotted: bool = False
    hollow: np.ndarray | None = None

    def open_points(self) -> np.ndarray:
        """Which points are drawn open (:attr:`hollow`), as booleans, one per point."""
        return np.zeros(len(self.x), bool) if self.hollow is None else self.hollow.astype(bool)


#: The fraction of its data's span by which an autoscaled axis extends beyond the data
#: (matplotlib's default, pinned in the report's settings: a user's matplotlibrc may hold
#: another), and by which a figure's ``x_span`` (a monitor's step axis) pads the steps.
AXIS_MARGIN = 0.05


@dataclass(frozen=True)
class LinePanel:
    """One axes of a :class:`LineGrid`, at ``(row, col)``."""

    row: int
    col: int
    title: str
    curves: tuple[Curve, ...]


@dataclass(frozen=True)
class LineGrid:
    """A grid of line panels sharing a legend (decay curves, the gain phase diagram)."""

    kind: ClassVar[str] = "figure"
    title: str
    caption: str
    nrows: int
    ncols: int
    panels: tuple[LinePanel, ...]
    xlabel: str
    ylabel: str
    legend_title: str
    legend: tuple[str, ...]  # label of each style index, in order
    markers: bool = False  # draw points as well as lines (few x values)
    zero_line: bool = False  # a horizontal reference at y = 0
    stable_band: float = 0.0  # shade |y| <= stable_band (the "stable" phase)
    integer_y: bool = False  # y counts steps (a horizon): ticks at whole numbers only
    log_y: bool = False  # a log-scale y axis (positive values spanning decades: a loss)
    y_span: tuple[float, float] | None = None  # the y axis covers at least this (a fraction)
    x_span: tuple[float, float] | None = None  # the x axis covers at least this (a figure's)
    #: x values a figure of points ticks where they lie in a panel's range (a gain
    #: axis's 1, the edge of chaos for an orthogonal or identity W_hh), beside the x of its
    #: dotted marker lines (a critical gain): :func:`~vanishlab.report.figures.x_ticks`.
    x_marks: tuple[float, ...] = ()
    row_labels: tuple[str, ...] = ()  # written at the left of each row
    col_labels: tuple[str, ...] = ()  # written above each column
    note: str = ""
    #: A line written in the figure, above its legend and panels: what its columns leave out
    #: ("columns show 5 of the 9 values of gain"), which the caption's note alone let a reader
    #: miss (the panels' titles looked like every value).
    figure_note: str = ""
    #: The legend's words for the carets of :attr:`Curve.at_least_x` ("" : a mean over seeds'
    #: lower bound, :data:`~vanishlab.report.line_legend.AT_LEAST_LABEL`).
    at_least_label: str = ""
    #: Figures of one section with the same non-empty ``align`` are drawn with one left margin,
    #: the widest any of them needs (:func:`~vanishlab.report.render.render_html` sets
    #: ``min_left``, inches), so that their panels line up: the monitor's loss, widened by tick
    #: labels like '0.0029485', stood 0.31 in right of the rates below it.
    align: str = ""
    min_left: float = 0.0
    #: The legend's name of the measured lines where :attr:`legend` names none (one style)
    #: and a reference (dashed) is drawn beside them: the legend lists both kinds of line.
    line_label: str = "measured"
    #: A figure of points, one per cell, no line joining them (:mod:`.line_points`): those of
    #: one x spread sideways within its column (apart where the next x leaves room), ``+inf``
    #: drawn as a ▼ on the panel's top edge (an exact zero: an infinite fall), filled or open
    #: (:attr:`Curve.hollow`), as :attr:`fill_labels` name them in the legend, and
    #: :attr:`ceiling_label` the ▼.
    points: bool = False
    fill_labels: tuple[str, str] = ("", "")
    ceiling_label: str = ""
    #: A dashed level across every panel (a cut), named in the legend by ``level_label``.
    level: float | None = None
    level_label: str = ""


@dataclass(frozen=True)
class HeatPanel:
    """One heatmap: ``values[i, j]`` for row label ``i`` and column label ``j``.

    NaN is a missing combination (left blank); ``-inf`` an exact zero (shaded grey).
    ``text`` (same shape, optional) is written inside the cells. ``separators``: row indices
    above which a line separates groups of rows (settings folded into one panel). ``partial``
    (same shape, optional; dense grids): cells whose value is a mean of only some seeds, the
    others being exact zeros (-inf), drawn with a dot. ``absent`` (same shape, optional;
    cell grids): combinations the run has no cell of, drawn hatched (a NaN cell that is not
    absent is a setting whose cells all failed, left blank). ``row_groups`` (optional; dense
    grids): a label for each group of rows that the separators make (one more than there are
    separators), drawn once beside its group, left of its rows' own labels (a depth map's
    folded setting beside its layers' numbers).
    """

    title: str
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    values: np.ndarray
    text: tuple[tuple[str, ...], ...] | None = None
    separators: tuple[int, ...] = ()  # a line is drawn above each of these rows
    partial: np.ndarray | None = None  # bool: some seeds -inf, the value the others' mean
    absent: np.ndarray | None = None  # bool: no cell of the run has this combination
    row_groups: tuple[str, ...] = ()  # a label beside each group of rows (between separators)

    @property
    def grey(self) -> bool:
        """Whether a cell of this panel is an exact zero (``-inf``), drawn grey: the one test
        behind the figure's grey patch in its legend and every heatmap caption's word for
        grey, so that a caption names grey only where a cell is."""
        return bool(np.isneginf(self.values).any())


@dataclass(frozen=True)
class HeatmapGrid:
    """Heatmaps wrapped ``ncols`` to a row, sharing one colour scale.

    ``center_zero``: a diverging scale with white at 0 (blue below, red above), so the sign
    (vanishing or exploding) reads from the colour. ``scale``: the range the colour scale
    must cover (figures that are parts of one set share it), besides the panels' own values.
    ``part``: ``(n, of)`` for part n of one figure drawn in ``of`` parts (too many panels for
    one): the parts share one figure number (see :func:`.render.render_html`).
    ``part_titles``: the titles of the panels of every part, each panel wide enough for them
    all (:func:`.heatmaps.draw_heatmaps`): a last part of one-column (gated) panels keeps
    its titles to the lines the first part's take, its cells their own width (made as wide
    as the first part's two columns, a gated cell was drawn 1.9 in wide, twice an nn.RNN's).
    """

    kind: ClassVar[str] = "figure"
    title: str
    caption: str
    panels: tuple[HeatPanel, ...]
    ncols: int
    xlabel: str
    ylabel: str
    colorbar_label: str
    center_zero: bool = True
    dense: bool = False  # many columns (lags): draw as an image, no cell text
    note: str = ""
    scale: tuple[float, float] | None = None  # data range of the colour scale (default: panels')
    part: tuple[int, int] | None = None  # (n, of): part n of one figure in several; None: whole
    part_titles: tuple[str, ...] = ()  # the titles of every part's panels, which share a width
    absent_label: str = ""  # the legend's name of hatched squares ("": heatmaps.ABSENT_LABEL)


Block = KeyValues | Code | Table | LineGrid | HeatmapGrid


@dataclass(frozen=True)
class Section:
    """One section of the page, linked from the table of contents by its fixed ``key``: its
    name in its page's list (:data:`.sections.PAGES`; ``build_report`` refuses another).

    ``in_short``: the section's intro is the page's answer, shown once more at the top of the
    page ("In short: ...", with a link to the section), where a reader sees it without
    scrolling: the long-dependencies verdict of a trained model's page, which started 1228 px
    down an 800 px window below the model's facts."""

    key: str
    title: str
    intro: str
    blocks: tuple[Block, ...]
    in_short: bool = False


@dataclass(frozen=True)
class Report:
    """Everything the page shows, in order."""

    title: str
    run_name: str
    generated: str  # ISO 8601 UTC timestamp of the rendering
    vanishlab_version: str
    sections: tuple[Section, ...]
    #: that the run's manifest.json changed since vanishlab wrote it, said under the title
    #: (:func:`~vanishlab.sweep.manifest_digest.page_note`); "" where it did not
    manifest_note: str = ""
