"""Draw the figures of :mod:`.model` as matplotlib ``Figure`` objects and inline SVG text.

Only the object-oriented API is used (``matplotlib.figure.Figure`` with the SVG backend's
canvas at save time), never pyplot's global state, so drawing is thread-safe and leaves no
open figures. Every setting that affects the bytes is pinned in :data:`RC` (the SVG hash
salt, text as glyph paths, no creation date), so the same data gives the same SVG. Ids inside
each SVG get a per-figure prefix, so several figures can share one HTML document.

Conventions that keep plots honest: ``-inf`` (an exact zero Jacobian) is never plotted as a
number; it becomes a triangle on the floor of the panel (curves) or a grey cell (heatmaps).
Text that came from the user (panel titles, legend entries, tick labels) has ``$`` escaped so
matplotlib never reads it as mathtext; axis labels are the report's own and may use mathtext.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .figure_text import plain, text_width, wrap_title, wrap_words
from .figure_text import shown as shown_text
from .line_style import LINE_LW, alone, covered_curves, dashes, line_width
from .model import Curve, HeatmapGrid, LineGrid

__all__ = ["RC", "color_scale", "draw", "figure_svg", "svg_of"]

RC: dict[str, object] = {
    "svg.hashsalt": "vanishlab",  # fixed ids (clip paths, markers) instead of uuids
    "svg.fonttype": "path",  # glyphs as paths: the same look in every browser, no font files
    "svg.image_inline": True,
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "font.size": 9.5,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.6,
    "path.simplify": True,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
TITLE_SIZE = float(RC["axes.titlesize"])  # type: ignore[arg-type]
PANEL_W = 2.9  # inches per line panel (with its share of the gaps)
MIN_PANEL_W = 2.2  # the narrowest a line panel gets, in a grid as wide as the page
PAGE_W = 11.3  # inches the page's main column holds at the figures' 100 dpi
FLOOR_COLOR = "#7f7f7f"
REFERENCE_COLOR = "#444444"  # a reference of no line's style; every reference's legend handle
FLOOR_BASE, FLOOR_STEP = 0.025, 0.04  # rug rows of exact zeros, in axes units
ZERO_COLOR = "#b0b0b0"  # heatmap cells that are exact zeros (-inf)
PARTIAL_MARK = {"marker": "o", "ms": 2.2, "color": "#333333", "mew": 0}  # some seeds' mean
PARTIAL_LABEL = "some seeds exact zero: the others' mean"
CMAP = "RdBu_r"  # blue = vanishing (< 0), red = exploding (> 0)


@contextmanager
def pinned() -> Iterator[None]:
    """matplotlib settings of the report, for drawing and saving (restored afterwards)."""
    with mpl.rc_context(RC), warnings.catch_warnings():
        # A user's label in a script DejaVu Sans lacks draws boxes; the HTML shows the text.
        warnings.filterwarnings(
            "ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning
        )
        yield


def palette(n: int) -> list[str]:
    """Distinct colours for ``n`` lines: tab10 up to 10, else evenly spaced viridis."""
    if n <= 10:
        cmap = mpl.colormaps["tab10"]
        return [mpl.colors.to_hex(cmap(i)) for i in range(n)]
    cmap = mpl.colormaps["viridis"]
    return [mpl.colors.to_hex(cmap(v)) for v in np.linspace(0.0, 0.92, n)]


def draw(block: LineGrid | HeatmapGrid) -> Figure:
    """The matplotlib figure of a figure block (call inside :func:`pinned`)."""
    if isinstance(block, LineGrid):
        return _draw_lines(block)
    if isinstance(block, HeatmapGrid):
        return _draw_heatmaps(block)
    raise TypeError(f"not a figure block: {type(block).__name__}")


def _draw_lines(grid: LineGrid) -> Figure:
    """A grid of line panels laid out in fixed inches (no layout engine: one draw, not three).

    Margins: the shared y label and tick labels on the left, the legend on the right (as
    wide as its longest entry), the x label below, each panel's title above it.
    """
    ncols, nrows = max(grid.ncols, 1), max(grid.nrows, 1)
    colors = palette(max(len(grid.legend), 1))
    shown = [p for p in grid.panels if p.row < nrows and p.col < ncols]
    used = {c.style for p in shown for c in p.curves if not c.reference}
    references = {c.label: c.dotted for p in shown for c in p.curves if c.reference}
    any_floor = any(len(c.floor_x) and not c.reference for p in shown for c in p.curves)
    handles: list[Line2D | Patch] = []
    labels: list[str] = []
    for s, label in enumerate(grid.legend):
        if s in used:
            handles.append(Line2D([], [], color=colors[s % len(colors)], lw=1.6))
            labels.append(plain(label))
    for label, dotted in references.items():
        handles.append(Line2D([], [], color=REFERENCE_COLOR, lw=1.1, ls=dashes(dotted)))
        labels.append(plain(label))
    if any_floor:
        handles.append(Line2D([], [], ls="none", marker="v", color=FLOOR_COLOR, ms=5))
        labels.append("exact zero (−∞)")
    size = float(RC["legend.fontsize"])
    texts = [*labels, grid.legend_title]
    entry_w = max(text_width(t, size) for t in texts) + 0.55 if handles else 0.0
    # Wide grids keep the page's width: narrower panels and the legend above them.
    slot = PANEL_W
    legend_w, legend_h, legend_cols = entry_w, 0.0, 1
    if 0.8 + ncols * PANEL_W + entry_w + 0.15 > PAGE_W:
        slot = max(MIN_PANEL_W, (PAGE_W - 1.0 + 0.6) / ncols)
        legend_w = 0.0
        if handles:
            legend_cols = max(1, min(len(labels), int((PAGE_W - 1.0) // entry_w)))
            legend_h = 0.2 * math.ceil(len(labels) / legend_cols) + 0.3
    titles = [wrap_title(plain(p.title), slot, TITLE_SIZE) for p in shown]
    title_h = 0.17 * max((t.count("\n") + 1 for t in titles if t), default=0) + 0.08
    # Inches: panel width and height, gaps between them, and the margins.
    gap_w, gap_h = 0.6, 0.32 + title_h
    left, right, bottom, top = 0.8, legend_w + 0.15, 0.55, title_h + 0.12 + legend_h
    panel_w, panel_h = slot - gap_w, 1.7
    fig, axes = _panel_grid(
        nrows, ncols, (panel_w, panel_h), (gap_w, gap_h), (left, right, bottom, top)
    )
    width, height = (float(v) for v in fig.get_size_inches())
    for ax in axes.flat:
        ax.set_visible(False)
    for panel in grid.panels:
        if panel.row >= nrows or panel.col >= ncols:
            continue
        ax = axes[panel.row, panel.col]
        ax.set_visible(True)
        ax.set_title(wrap_title(plain(panel.title), slot, TITLE_SIZE), loc="left", pad=4, y=1.0)
        if grid.stable_band:
            ax.axhspan(-grid.stable_band, grid.stable_band, color="#ececec", lw=0, zorder=0)
        if grid.zero_line:
            ax.axhline(0.0, color="#8c8c8c", lw=0.8, zorder=1)
        floors = [c for c in panel.curves if len(c.floor_x) and not c.reference]
        covered = covered_curves(panel.curves)
        for i, curve in enumerate(panel.curves):
            color = _color(curve, colors)
            if curve.reference:  # dashed; an open marker where a point stands alone
                at = alone(curve.y)  # (on every point, a critical-gain line got end rings)
                ax.plot(curve.x, curve.y, color=color, lw=1.1, ls=dashes(curve.dotted), zorder=3)
                if at.any():  # (an empty marker line per reference otherwise, in every SVG)
                    ax.plot(curve.x[at], curve.y[at], ls="none", marker="o", mfc="white")
                    ax.lines[-1].set(ms=4.0, color=color, zorder=3)
                continue
            _draw_curve(ax, curve, color, grid.markers, lw=line_width(covered.get(i, 0)))
        for row, curve in enumerate(floors):
            # One rug row per curve, stacked on the panel's floor, below all data.
            y = np.full(len(curve.floor_x), FLOOR_BASE + FLOOR_STEP * row)  # in axes units
            ax.plot(curve.floor_x, y, transform=ax.get_xaxis_transform(), ls="none", marker="v")
            ax.lines[-1].set(ms=3.6, color=_color(curve, colors), clip_on=False)
        if floors:
            lo, hi = ax.get_ylim()
            room = FLOOR_BASE + FLOOR_STEP * len(floors)
            ax.set_ylim(lo - room * (hi - lo) / (1.0 - room), hi)
        # Ticks at the measured x values (a predicted curve's dense x and a critical gain's
        # would put them elsewhere, and differently from a panel without predictions).
        measured = [c.x for c in panel.curves if not c.reference] or [c.x for c in panel.curves]
        xs = np.unique(np.concatenate(measured or [np.empty(0)]))
        if len(xs) == 1:  # one x (a run of T = 1 has one input lag): half a unit either side,
            # not an autoscaled range of 0.1 (ticks at -0.075 ...) or, beside a floor, 1e-17
            lo, hi = ax.get_xlim()
            ax.set_xlim(min(lo, xs[0] - 0.5), max(hi, xs[0] + 0.5))
        if (grid.markers or len(xs) == 1) and 1 <= len(xs) <= 8:
            ax.set_xticks(xs, [format_number(v) for v in xs])
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=not grid.markers))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    fig.text(
        (left + (width - left - right) / 2) / width,
        0.1 / height,
        grid.xlabel,
        ha="center",
        va="bottom",
        fontsize=9.5,
    )
    fig.text(
        0.08 / width,
        (bottom + (height - bottom - top) / 2) / height,
        grid.ylabel,
        rotation=90,
        ha="left",
        va="center",
        fontsize=9.5,
    )
    if handles and legend_h:
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(left / width, 1.0),
            ncols=legend_cols,
            title=plain(grid.legend_title) or None,
            alignment="left",
            frameon=False,
        )
    elif handles:
        fig.legend(
            handles,
            labels,
            loc="upper right",
            bbox_to_anchor=(1.0, 1.0 - 0.05 / height),
            title=plain(grid.legend_title) or None,
            frameon=False,
        )
    return fig


def _color(curve: Curve, colors: list[str]) -> str:
    return REFERENCE_COLOR if curve.style is None else colors[curve.style % len(colors)]


def _draw_curve(ax: Axes, curve: Curve, color: str, markers: bool, lw: float = LINE_LW) -> None:
    """One curve: its band (or bars), its line, and markers where a point stands alone."""
    if curve.lo is not None and curve.hi is not None:
        ok = np.isfinite(curve.lo) & np.isfinite(curve.hi)
        if markers:
            ax.vlines(curve.x[ok], curve.lo[ok], curve.hi[ok], color=color, lw=1.0, alpha=0.6)
        elif ok.any():
            ax.fill_between(curve.x, curve.lo, curve.hi, where=ok, color=color, alpha=0.18, lw=0)
    # Marked points shrink with the style, so that equal values of several lines (two gains
    # both solving every T) show as rings of their colours, not as the last one drawn.
    ms = 3.2 + 0.8 * max(0, 2 - (curve.style or 0)) if markers else 3.2
    ax.plot(curve.x, curve.y, color=color, lw=lw, marker="o" if markers else None, ms=ms)
    single = np.zeros(0, bool) if markers else alone(curve.y)
    if single.any():  # a finite point between gaps draws no line segment: show it as a dot
        ax.plot(curve.x[single], curve.y[single], ls="none", marker="o", ms=3.2, color=color)


def format_number(value: float) -> str:
    """A tick label: integers without a decimal point, others with up to 3 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


#: Inches between the last column of heatmaps and their colour bar.
_BAR_GAP = 0.25


def _draw_heatmaps(grid: HeatmapGrid) -> Figure:
    """Heatmaps wrapped ``ncols`` to a row with one colour bar, laid out in fixed inches."""
    n = max(len(grid.panels), 1)
    ncols = max(min(grid.ncols, n), 1)
    nrows = math.ceil(n / ncols)
    rows = max((len(p.row_labels) for p in grid.panels), default=1)
    if grid.dense:
        w = 4.6  # a panel with its share of the gaps
        panel_w, panel_h = 3.4, 0.32 * rows
    else:
        cols = max((len(p.col_labels) for p in grid.panels), default=1)
        w = 0.95 * cols + 1.3
        panel_w, panel_h = 0.95 * cols, 0.48 * rows
    tick = float(RC["ytick.labelsize"])
    label_w = max((text_width(t, tick) for p in grid.panels for t in p.row_labels), default=0.3)
    gap_w = label_w + 0.3
    left, right = 0.4 + label_w + 0.1, 1.25
    # A title may run past its panel up to the next panel, or, in the last column, up to the
    # colour bar, which stands _BAR_GAP in past it (a title wrapped to w - 0.6 ran under it).
    room = [min(w - 0.6, panel_w + gap_w - 0.1), panel_w + _BAR_GAP - 0.05]
    titles = [
        wrap_title(plain(p.title), room[i % ncols == ncols - 1], TITLE_SIZE)
        for i, p in enumerate(grid.panels)
    ]
    title_h = 0.17 * max((t.count("\n") + 1 for t in titles if t), default=0) + 0.08
    any_grey = any(bool(np.isneginf(p.values).any()) for p in grid.panels)
    any_partial = any(p.partial is not None and bool(p.partial.any()) for p in grid.panels)
    any_zero = any_grey or any_partial  # a legend under the grid names the grey cells and dots
    gap_h = 0.4 + title_h
    bottom, top = 0.55 + (0.25 if any_zero else 0.0), title_h + 0.12
    # The colour bar's label runs along the bar when it fits, else above it as a title in
    # lines of 7.5 pt: the top margin then holds them (two rows of cells cut them off).
    label = grid.colorbar_label
    bar_h = 0.9 * (nrows * panel_h + (nrows - 1) * gap_h)
    label_along = text_width(shown_text(label), 9.5) <= bar_h
    bar_title = "" if label_along else wrap_words(label, right - 0.35, 7.5)
    if bar_title:
        top = max(top, (bar_title.count("\n") + 1) * 7.5 * 1.25 / 72 + 0.12)
    fig, axes = _panel_grid(
        nrows, ncols, (panel_w, panel_h), (gap_w, gap_h), (left, right, bottom, top)
    )
    width, height = (float(v) for v in fig.get_size_inches())
    extent = [np.array(grid.scale, dtype=np.float64)] if grid.scale is not None else []
    cmap, norm = color_scale([*(p.values for p in grid.panels), *extent], grid.center_zero)
    grey = ListedColormap([ZERO_COLOR])
    mappable = None
    for ax in axes.flat:
        ax.set_visible(False)
    for i, panel in enumerate(grid.panels):
        ax = axes[i // ncols, i % ncols]
        ax.set_visible(True)
        ax.grid(False)
        v = panel.values
        shown = np.ma.masked_invalid(v)
        zeros = np.ma.masked_where(~np.isneginf(v), np.zeros_like(v))
        nr, nc = v.shape
        if grid.dense:
            lags = np.array([float(c) for c in panel.col_labels])
            step = float(lags[1] - lags[0]) if len(lags) > 1 else 1.0
            extent = (lags[0] - step / 2, lags[-1] + step / 2, nr - 0.5, -0.5)
            mappable = ax.imshow(
                shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest", extent=extent
            )
            if np.isneginf(v).any():
                ax.imshow(zeros, cmap=grey, aspect="auto", interpolation="nearest", extent=extent)
            ax.set_yticks(range(nr), [plain(t) for t in panel.row_labels])
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
            for row in panel.separators:
                ax.axhline(row - 0.5, color="white", lw=2.0)
            if panel.partial is not None and panel.partial.any():
                rows, cols = np.nonzero(panel.partial)
                ax.plot(lags[cols], rows, ls="none", **PARTIAL_MARK)
        else:
            mappable = ax.pcolormesh(shown, cmap=cmap, norm=norm, edgecolors="white", lw=1.0)
            if np.isneginf(v).any():
                ax.pcolormesh(zeros, cmap=grey, edgecolors="white", lw=1.0)
            ax.set_xticks(np.arange(nc) + 0.5, [plain(t) for t in panel.col_labels])
            ax.set_yticks(np.arange(nr) + 0.5, [plain(t) for t in panel.row_labels])
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
                        dark = math.isfinite(v[r, c]) and _luminance(cmap(norm(v[r, c]))) < 0.45
                        ax.text(
                            c + 0.5,
                            r + 0.5,
                            plain(text),
                            ha="center",
                            va="center",
                            fontsize=7.5,
                            color="white" if dark else "#222222",
                        )
        if panel.title:
            ax.set_title(titles[i], loc="left", pad=4, y=1.0)
    grid_top, grid_bottom = 1 - top / height, bottom / height
    fig.text(
        (left + (width - left - right) / 2) / width,
        (0.1 + (0.25 if any_zero else 0.0)) / height,
        grid.xlabel,
        ha="center",
        va="bottom",
        fontsize=9.5,
    )
    fig.text(
        0.08 / width,
        (grid_top + grid_bottom) / 2,
        grid.ylabel,
        rotation=90,
        ha="left",
        va="center",
        fontsize=9.5,
    )
    if mappable is not None:
        span = grid_top - grid_bottom
        cax = fig.add_axes(
            (1 - (right - _BAR_GAP) / width, grid_bottom + 0.05 * span, 0.14 / width, 0.9 * span)
        )
        bar = fig.colorbar(mappable, cax=cax)
        if label_along:
            bar.set_label(label)
        else:  # a short bar (one row of panels) clipped its rotated label at both ends
            cax.set_title(bar_title, loc="left", fontsize=7.5)
        bar.outline.set_visible(False)
    if any_zero:
        handles: list[Patch | Line2D] = [Patch(color=ZERO_COLOR)] if any_grey else []
        names = ["exact zero (−∞)"] if any_grey else []
        if any_partial:
            handles.append(Line2D([], [], ls="none", **PARTIAL_MARK))
            names.append(PARTIAL_LABEL)
        fig.legend(
            handles,
            names,
            ncols=len(names),
            loc="lower right",
            bbox_to_anchor=(1.0, 0.0),
            frameon=False,
        )
    return fig


def _luminance(rgba: tuple[float, ...]) -> float:
    """Relative luminance (Rec. 709) of a colour: white text on dark cells, dark on light."""
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def color_scale(arrays: list[np.ndarray], center_zero: bool) -> tuple[Colormap, Normalize]:
    """Colour map and scale fitted to the finite data: white at 0, blue below, red above.

    The scale spans exactly [min, max] of the data. A value's colour depends on its distance
    from 0 alone (the same shade of blue for -10 as of red for +10): the map is the part of
    the symmetric diverging map that the data reaches, so when nearly every value is negative
    the bar is nearly all blue and no half of it is left empty. ``center_zero=False``: a
    sequential map (viridis) over [min, max].
    """
    finite = np.concatenate([a[np.isfinite(a)].ravel() for a in arrays] or [np.empty(0)])
    lo = float(finite.min()) if finite.size else -1.0
    hi = float(finite.max()) if finite.size else 1.0
    full = mpl.colormaps[CMAP]
    if not center_zero:
        return mpl.colormaps["viridis"], Normalize(lo, hi if hi > lo else lo + 1.0)
    if lo < 0 < hi:
        lim = max(-lo, hi)
        a, b = 0.5 - 0.5 * -lo / lim, 0.5 + 0.5 * hi / lim  # where lo and hi sit on the full map
        return ListedColormap(full(np.linspace(a, b, 256))), Normalize(lo, hi)
    if hi <= 0:
        lo = lo if lo < 0 else -1.0
        return ListedColormap(full(np.linspace(0.0, 0.5, 128))), Normalize(lo, 0.0)
    return ListedColormap(full(np.linspace(0.5, 1.0, 128))), Normalize(0.0, hi)


_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)


def svg_of(fig: Figure, prefix: str, labelled_by: str | None = None) -> str:
    """The figure as an inline ``<svg>`` element whose ids all start with ``prefix``-.

    The XML prologue, doctype and metadata are dropped; no date or random id is written, so
    the text is a function of the figure alone. ``labelled_by``: the ids (space-separated) of
    the elements that name it for a screen reader (its title and caption), else it is an
    unnamed image.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _METADATA.sub("", _PROLOGUE.sub("", buf.getvalue(), count=1), count=1)
    text = text.replace(' id="', f' id="{prefix}-')
    text = text.replace('href="#', f'href="#{prefix}-')
    text = text.replace("url(#", f"url(#{prefix}-")
    named = f' aria-labelledby="{labelled_by}"' if labelled_by else ""
    text = text.replace("<svg ", f'<svg class="fig" role="img"{named} ', 1)
    return text.strip() + "\n"


def figure_svg(block: LineGrid | HeatmapGrid, prefix: str, labelled_by: str | None = None) -> str:
    """Draw ``block`` and return its inline SVG (see :func:`svg_of`)."""
    with pinned():
        fig = draw(block)
        return svg_of(fig, prefix, labelled_by)


def _panel_grid(
    nrows: int,
    ncols: int,
    panel: tuple[float, float],
    gaps: tuple[float, float],
    margins: tuple[float, float, float, float],
) -> tuple[Figure, np.ndarray]:
    """A figure of ``nrows x ncols`` panels laid out in fixed inches (no layout engine):
    panel (width, height), gaps (between columns, between rows) and margins (left, right,
    bottom, top). Returns the figure and its ``(nrows, ncols)`` axes."""
    (panel_w, panel_h), (gap_w, gap_h), (left, right, bottom, top) = panel, gaps, margins
    width = left + ncols * panel_w + (ncols - 1) * gap_w + right
    height = bottom + nrows * panel_h + (nrows - 1) * gap_h + top
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(
        nrows,
        ncols,
        squeeze=False,
        gridspec_kw={
            "left": left / width,
            "right": 1 - right / width,
            "bottom": bottom / height,
            "top": 1 - top / height,
            "wspace": gap_w / panel_w,
            "hspace": gap_h / panel_h,
        },
    )
    return fig, axes
