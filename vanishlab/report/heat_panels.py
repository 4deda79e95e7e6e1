"""One panel of the heatmaps (:mod:`.heatmaps`), drawn on the axes its layout gives it: a dense
grid's image (one column per lag), its row labels and the labels of groups of rows, or a cell
grid's squares with their text; exact zeros grey, partial means dotted, absent settings hatched,
and the legend under the grid that names those three."""

from __future__ import annotations

import itertools
import math

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from .figure_text import TICK_SIZE, label_width, plain
from .heat_scale import text_color
from .model import HeatPanel

__all__ = [
    "ABSENT_LABEL",
    "GROUP_PAD",
    "ZERO_COLOR",
    "cell_panel",
    "dense_panel",
    "row_spans",
    "tick_room",
    "widest",
    "zero_legend",
]

ZERO_COLOR = "#b0b0b0"  # heatmap cells that are exact zeros (-inf)
PARTIAL_MARK = {"marker": "o", "ms": 2.2, "color": "#333333", "mew": 0}  # some seeds' mean
PARTIAL_LABEL = "some seeds exact zero: the others' mean"
ABSENT_HATCH = {"hatch": "///", "edgecolor": "#c8c8c8", "facecolor": "none", "lw": 0.0}
ABSENT_LABEL = "not in the run"  # a combination no cell of the run has (HeatPanel.absent)

#: Points between the label of a group of rows (:attr:`.model.HeatPanel.row_groups`) and
#: its rows' own labels.
GROUP_PAD = 6.0


def row_spans(panel: HeatPanel) -> list[tuple[int, int]]:
    """The (first, past the last) rows of each group of a panel's rows: between its
    separators."""
    bounds = [0, *panel.separators, len(panel.row_labels)]
    return list(itertools.pairwise(bounds))


def widest(labels: list[str]) -> float:
    """Inches the widest line of these labels is at :data:`.figure_text.TICK_SIZE`."""
    return max((label_width(t, TICK_SIZE) for t in labels), default=0.0)


def tick_room() -> float:
    """Inches between an axis and its tick labels: the tick and its pad."""
    return (float(mpl.rcParams["ytick.major.size"]) + float(mpl.rcParams["ytick.major.pad"])) / 72


def _row_head(ax: Axes, text: str) -> None:
    """``text`` (the figure's y label) as the head of a panel's column of row labels: right
    aligned with them, just above the panel's top, level with its title."""
    shift = ScaledTranslation(-tick_room(), 4 / 72, ax.figure.dpi_scale_trans)
    ax.text(0, 1, text, transform=ax.transAxes + shift, ha="right", va="bottom", fontsize=TICK_SIZE)


def dense_panel(
    ax: Axes,
    panel: HeatPanel,
    labels: list[str],
    groups: list[str],
    head: str,
    cmap: Colormap,
    norm: Normalize,
) -> ScalarMappable:
    """One panel of a dense grid (one column per lag), drawn on ``ax``: its image (the mappable
    the colour bar reads), exact zeros in grey, its rows' ``labels`` and ``groups`` (with
    ``head`` over the labels, unless ""), the separators between settings, and the marks of
    partial means."""
    v = panel.values
    shown = np.ma.masked_invalid(v)
    nr = v.shape[0]
    lags = np.array([float(c) for c in panel.col_labels])
    step = float(lags[1] - lags[0]) if len(lags) > 1 else 1.0
    extent = (lags[0] - step / 2, lags[-1] + step / 2, nr - 0.5, -0.5)
    mappable = ax.imshow(
        shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", extent=extent
    )
    if np.isneginf(v).any():
        zeros = np.ma.masked_where(~np.isneginf(v), np.zeros_like(v))
        grey = ListedColormap([ZERO_COLOR])
        ax.imshow(zeros, cmap=grey, aspect="auto", interpolation="nearest", extent=extent)
    ax.set_yticks(range(nr), [plain(t) for t in labels])
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    for row in panel.separators:
        ax.axhline(row - 0.5, color="white", lw=2.0)
    if groups:
        _group_labels(ax, groups, row_spans(panel), widest(labels))
    if head:
        _row_head(ax, head)
    if panel.partial is not None and panel.partial.any():
        rows, cols = np.nonzero(panel.partial)
        # each dot in white or black, whichever contrasts more with its cell (at least 4.58:1,
        # text_color): #333333 read 1.04:1 on RdBu's darkest blue and red, 2.8:1 on a mid grey
        inks = [
            text_color(cmap(norm(v[r, c]))) if math.isfinite(v[r, c]) else "black"
            for r, c in zip(rows, cols, strict=True)
        ]
        for ink in sorted(set(inks)):
            at = np.array([i == ink for i in inks])
            ax.plot(lags[cols[at]], rows[at], ls="none", **{**PARTIAL_MARK, "color": ink})
    return mappable


def cell_panel(
    ax: Axes, panel: HeatPanel, labels: list[str], cmap: Colormap, norm: Normalize
) -> ScalarMappable:
    """One panel of a cell grid (one square per setting), drawn on ``ax``: its squares (the
    mappable the colour bar reads), exact zeros in grey, absent settings hatched, and each
    square's text, in white or black by :func:`.heat_scale.text_color`."""
    v = panel.values
    shown = np.ma.masked_invalid(v)
    nr, nc = v.shape
    mappable = ax.pcolormesh(shown, cmap=cmap, norm=norm, edgecolors="white", lw=1.0)
    if np.isneginf(v).any():
        zeros = np.ma.masked_where(~np.isneginf(v), np.zeros_like(v))
        ax.pcolormesh(zeros, cmap=ListedColormap([ZERO_COLOR]), edgecolors="white", lw=1.0)
    ax.set_xticks(np.arange(nc) + 0.5, [plain(t) for t in panel.col_labels])
    ax.set_yticks(np.arange(nr) + 0.5, [plain(t) for t in labels])
    if panel.absent is not None:
        for r, c in zip(*np.nonzero(panel.absent), strict=True):
            ax.add_patch(Rectangle((c, r), 1, 1, **ABSENT_HATCH))
    ax.invert_yaxis()
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    if panel.text is not None:
        for r in range(nr):
            for c in range(nc):
                text = panel.text[r][c]
                if not text:
                    continue
                shade = cmap(norm(v[r, c])) if math.isfinite(v[r, c]) else ZERO_COLOR
                ax.text(
                    c + 0.5,
                    r + 0.5,
                    plain(text),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=text_color(shade),
                )
    return mappable


def zero_legend(fig: Figure, grey: bool, partial: bool, absent: bool, absent_label: str) -> None:
    """The legend under the grid that names the grey cells (exact zeros), the dots (partial
    means) and the hatched cells (absent settings), those of them the figure has."""
    handles: list[Patch | Line2D] = [Patch(color=ZERO_COLOR)] if grey else []
    names = ["exact zero (−∞)"] if grey else []
    if partial:
        handles.append(Line2D([], [], ls="none", **PARTIAL_MARK))
        names.append(PARTIAL_LABEL)
    if absent:
        handles.append(Patch(**ABSENT_HATCH))
        names.append(absent_label)
    fig.legend(
        handles,
        names,
        ncols=len(names),
        loc="lower right",
        bbox_to_anchor=(1.0, 0.0),
        frameon=False,
    )


def _group_labels(ax: Axes, texts: list[str], spans: list[tuple[int, int]], rows_w: float) -> None:
    """Each group's label beside the middle of its rows (a dense panel's, row ``i`` at y =
    ``i``), its right edge :data:`GROUP_PAD` points left of its rows' own labels, which
    are ``rows_w`` inches wide and stand a tick and its pad left of the axis."""
    pad = rows_w + tick_room() + GROUP_PAD / 72
    shift = ScaledTranslation(-pad, 0, ax.figure.dpi_scale_trans)
    at = blended_transform_factory(ax.transAxes, ax.transData) + shift
    for text, (first, end) in zip(texts, spans, strict=False):
        if text:
            ax.text(
                0,
                (first + end - 1) / 2,
                plain(text),
                transform=at,
                ha="right",
                va="center",
                fontsize=TICK_SIZE,
            )
