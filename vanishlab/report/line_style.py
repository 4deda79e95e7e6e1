"""How the lines of a figure are told apart, without matplotlib: by colour and, the first line
apart, by a shape on a few of their points (:func:`style_marker`), which measured curves another
runs on (drawn wide), which points stand alone (drawn as dots, or in their line's shape), and the
dash pattern of a reference (a prediction dashed, a marker line such as a critical gain dotted)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from .format import and_list
from .model import AXIS_MARGIN, Curve, LineGrid, LinePanel

__all__ = [
    "BAND_MIN_PT",
    "BAND_WORDS",
    "BARE_POINTS",
    "COVERED_LW",
    "CVD_SAFE",
    "CYCLE_MARKERS",
    "LINE_LW",
    "LINE_MARKERS",
    "MARKER_MS",
    "MAX_NAMED_PANELS",
    "NO_BARS",
    "PANEL_H",
    "POINT_MS",
    "REFERENCE_LW",
    "RING_MS",
    "SHAPE_MS",
    "alone",
    "band_height_pt",
    "bar_words",
    "bars_drawn",
    "covered_curves",
    "covered_points",
    "dashes",
    "hidden_band_note",
    "hidden_bar_note",
    "line_width",
    "marker_word",
    "reference_width",
    "rim_note",
    "shown_levels",
    "style_marker",
    "widened",
    "with_rim_note",
]

#: The line width of a measured curve, and what each later curve that runs on it adds.
LINE_LW = 1.3
COVERED_LW = 2.1
#: The line width of a reference curve (a prediction, a marker line).
REFERENCE_LW = 1.1
#: The size of a marked point, and what each later curve's point on it adds (a rim of 1.2 pt
#: around the later marker, in the earlier colour).
MARKER_MS = 4.0
RING_MS = 2.4
#: The size of a point of a figure of points (:mod:`.line_points`): larger than a line's dots,
#: so that an open one reads as open.
POINT_MS = 5.5
#: The size of a line's shape where it marks a few of a line's points (:data:`LINE_MARKERS`,
#: :data:`CYCLE_MARKERS`) and in the legend: at a lone point's 3.2 pt (the legend's 4), a plus
#: on its 1.3 pt line read as a dot, a few pixels on a screen.
SHAPE_MS = 5.0
#: Okabe & Ito's colour-blind-safe colours (2008), without their yellow and black, and with a
#: dark orange (#7a4a00, 7.48:1 on white) and a violet (#8a2be2, 5.96:1) for their orange and
#: sky blue (2.25:1 and 2.31:1): every colour at least 3:1 on the page (WCAG 1.4.11; the pink,
#: 3.06:1, the least), and under a simulated deuteranopia, protanopia or tritanopia (Machado et
#: al. 2009) any two at least 16.9 apart in CIELAB (tab10's green read 4.6 from its orange).
CVD_SAFE = ("#0072b2", "#7a4a00", "#009e73", "#d55e00", "#cc79a7", "#8a2be2")
#: The shapes that mark the lines of a figure of up to 6 (one colour each): the first plain
#: (dots where every point is marked), each later line its own shape on a few of its points,
#: on every point where each is marked, and in the legend. Told apart by colour alone, the
#: lines could not be matched to the legend in a greyscale print or by a reader who sees
#: colours poorly (WCAG 1.4.1). Each shape covers its centre at least half its size above and
#: below, as a dot does, so that a bar across seeds hidden under a dot is hidden under it too
#: (:func:`hidden_bar_note`), but the x: its arms cross 1 pt above and below its centre, 1.7
#: with their edge, so that up to 0.3 pt of such a bar shows in its notch (a hexagon, which
#: covers it, read as a dot on a screen). No triangle: the carets' and the floor's.
LINE_MARKERS = (None, "s", "D", "P", "X", "d")
#: The shapes that mark the lines of a figure of more styles than colours (``n_colors``, the
#: six above): the second six take the first six's colours again, with squares on their points,
#: the third six with diamonds; the first six of such a figure are told apart by colour alone.
CYCLE_MARKERS = ("s", "D")


def style_marker(style: int | None, n_styles: int, n_colors: int) -> str | None:
    """The marker shape of line style ``style`` in a figure of ``n_styles`` styles drawn in
    ``n_colors`` colours: :data:`LINE_MARKERS`' where the styles are no more than the colours
    (None for the first, and for a style past ``n_styles``); past them, cycled
    (:data:`CYCLE_MARKERS`), None for the first ``n_colors``. None for a reference's line
    (``None``) and where the styles outnumber the shapes (a colour map)."""
    cycles = 1 + len(CYCLE_MARKERS)
    if style is None or n_styles > n_colors * cycles:
        return None
    if n_styles <= n_colors:
        return LINE_MARKERS[style] if style < min(n_styles, len(LINE_MARKERS)) else None
    if style < n_colors:
        return None
    return CYCLE_MARKERS[style // n_colors - 1]


def marker_word(curves: Iterable[Curve], n_styles: int) -> str:
    """What a caption calls the markers on the points of ``curves`` (measured, in a figure of
    ``n_styles`` line styles): "dot" where every line's are dots, "marker" where some lines'
    are other shapes (:func:`style_marker`: squares and diamonds past 6 lines, whose captions
    said their bars were "under the 4 pt dots"; any line but the first of up to 6)."""
    styles = {c.style for c in curves if not c.reference}
    shaped = any(style_marker(s, n_styles, len(CVD_SAFE)) for s in styles)
    return "marker" if shaped else "dot"


#: The least height (points) the stable band |rate| <= tol is drawn, about its centre: to
#: scale it was 1.2 pt on a panel whose axis spans 2 per step (1.7 in), under the 0.8 pt
#: zero line, and read as a plain line. It is drawn to scale where that is taller.
BAND_MIN_PT = 6.0
#: Inches: the height of a line figure's panel (:func:`.line_box.line_box` lays them out).
PANEL_H = 1.7
#: What the band's caption adds to its true width: that it may be drawn wider than to scale.
BAND_WORDS = (
    f"drawn at least {BAND_MIN_PT:g} pt tall so that it shows, wider than to scale on an axis "
    "that spans much more than it"
)


def _points_per_unit(panel: LinePanel, shown: Sequence[float] = ()) -> float:
    """Points per unit of ``panel``'s y axis, at least as many as it is drawn with: on a panel
    :data:`PANEL_H` tall whose y axis spans the finite values of its curves and bands,
    :data:`.model.AXIS_MARGIN` past each end (a flat curve's widened span, a floor's room, a
    zero line or a stable band make the axis longer and a unit shorter, where not given in
    ``shown``: :func:`shown_levels`). ∞ where those values are one (or none)."""
    drawn = [a for c in panel.curves for a in (c.y, c.lo, c.hi) if a is not None]
    drawn.append(np.asarray(shown, dtype=np.float64))
    ys = np.concatenate([np.asarray(a, dtype=np.float64) for a in drawn] or [np.empty(0)])
    ys = ys[np.isfinite(ys)]
    span = float(ys.max() - ys.min()) * (1.0 + 2.0 * AXIS_MARGIN) if len(ys) else 0.0
    return PANEL_H * 72.0 / span if span > 0 else math.inf


def band_height_pt(panel: LinePanel) -> float:
    """The tallest ±1 standard deviation band (or bar across seeds) of ``panel``'s measured
    curves, in points, at most as it is drawn (:func:`_points_per_unit`). 0 where it has no
    band."""
    bands = [c.hi - c.lo for c in panel.curves if not c.reference and c.lo is not None]
    widths = np.concatenate([b.astype(np.float64) for b in bands] or [np.empty(0)])
    widths = widths[np.isfinite(widths)]
    if not len(widths) or widths.max() <= 0:
        return 0.0
    return float(widths.max()) * _points_per_unit(panel)


def hidden_band_note(panels: Sequence[LinePanel]) -> str:
    """What a caption adds where a panel's band is drawn no taller than twice a line's width
    (:func:`band_height_pt`): it then shows less than half a line's width on either side of
    its line, too thin to see on an axis many decades tall (a monitor's ±1 sd band across 50
    lags, ±0.03 in log10, was 0.6 pt on an axis 13 decades tall; the demo sweep's band across
    its 2 seeds in the "relu, 1 layer, gain = 0.5" panel, 1.4 pt). The "±" is the farthest a
    band reaches from its line on either side (a band across seeds need not be centred on their
    mean). Panels are named by their titles (:func:`_where`); a figure of one panel says "The
    band is ...". "" where no band is too thin to see."""
    heights = [band_height_pt(p) for p in panels]  # by panel: two may share a title
    thin = [i for i, h in enumerate(heights) if 0 < h <= 2 * LINE_LW]
    if not thin:
        return ""
    banded = [i for i, h in enumerate(heights) if h > 0]
    reach = [
        np.maximum(c.hi - c.y, c.y - c.lo)
        for i in thin
        for c in panels[i].curves
        if not c.reference and c.lo is not None and c.hi is not None
    ]
    half = max(float(r[np.isfinite(r)].max(initial=0.0)) for r in reach)
    where = _where(thin, [p.title for p in panels], thin == banded, "a band")
    tallest = max(heights[i] for i in thin)
    return (
        f" {where}he band is at most ±{half:.2g} in log10: {_at_most_pt(tallest)} tall "
        f"on its axis, about the width of the lines ({LINE_LW:g} pt), too thin to see."
    )


def _where(which: list[int], titles: list[str], every: bool, having: str) -> str:
    """Which panels a caption's sentence is of (``which``, of the figure's panels, whose
    ``titles`` are given), as its opening up to the "t" of "the" that follows: "T" where the
    figure has one panel; "In every panel t" where it is of them all; "In every panel that has
    bars t" (``having``) where it is of every panel that has them (``every``) and another has
    none ("In every panel" said so of a panel without a bar); else as :func:`_in_the` names
    them."""
    if len(titles) == 1:
        return "T"
    if len(which) == len(titles):
        return "In every panel t"
    if every and len(which) > 1:
        return f"In every panel that has {having} t"
    return _in_the(which, titles) + " t"


#: The most panels a caption names in one sentence: past it, it names those it is not of,
#: where they are as few, or counts them (a theory figure's caption named 23 panels in one).
MAX_NAMED_PANELS = 3


def _in_the(which: list[int], titles: list[str]) -> str:
    """ "In the 'a' and 'b' panels": the panels ``which`` (of the figure's panels, whose
    ``titles`` are given), each title quoted (the list "a, b and c, d" read as three or four
    panels, "In the model = lstm panel" as an equation); past :data:`MAX_NAMED_PANELS` of
    them, "In all but the 'c' panel" where the others are as few, else "In 7 of the 12
    panels"."""
    if len(which) <= MAX_NAMED_PANELS:
        return f"In the {_quoted(which, titles)}"
    others = [i for i in range(len(titles)) if i not in which]
    if len(others) <= MAX_NAMED_PANELS:
        return f"In all but the {_quoted(others, titles)}"
    return f"In {len(which)} of the {len(titles)} panels"


def _quoted(which: list[int], titles: list[str]) -> str:
    """ "'a' and 'b' panels": the panels ``which`` by their ``titles``, each quoted."""
    named = [f"'{titles[i]}'" for i in which]
    return f"{and_list(named)} panel" + ("s" if len(which) > 1 else "")


def _at_most_pt(points: float) -> str:
    """A height above 0 in points, as a caption says it: "at most 3.2 pt", rounded up to the
    digit printed so that "at most" is so (a bar 3.94 pt tall was said "at most 3.9 pt"), or
    "under 0.1 pt" where it is (a bar whose seeds differ in the 5th digit)."""
    if points < 0.1:
        return "under 0.1 pt"
    text = f"{points:.1f}"
    if float(text) < points:  # rounded down: one tenth up (not ceil(10 x): 10 x 0.3 > 3)
        text = f"{float(text) + 0.1:.1f}"
    return f"at most {text} pt"


def bars_drawn(curve: Curve) -> np.ndarray:
    """Which points of a measured ``curve`` have a bar (or band) drawn: both its ends finite
    (a point of one seed's finite rate has none: :func:`.gain_layout.gain_curve`)."""
    if curve.lo is None or curve.hi is None:
        return np.zeros(len(curve.x), dtype=bool)
    return np.isfinite(curve.lo) & np.isfinite(curve.hi)


#: What a phase diagram of a run of several seeds says where it draws no bar across them.
NO_BARS = "no bars: each point is one seed's finite rate"
#: What it says where it draws bars, and a point without one (:func:`.gain_layout.gain_curve`).
BARE_POINTS = "a point without a bar is one seed's finite rate"


def bar_words(seeds: int, panels: Sequence[LinePanel]) -> str:
    """What a phase diagram's caption says of its bars across seeds: that they span the seeds
    where ``panels`` draw one (:func:`bars_drawn`), and :data:`BARE_POINTS` where a finite
    point has none (the caption said "bars span the seeds" over dots without a bar);
    :data:`NO_BARS` where the run has several ``seeds`` (the most a setting has) but no point
    two seeds' finite rates (the others failed or at -inf: the caption said "bars span the
    seeds" over none), "" where it has one seed."""
    measured = [c for p in panels for c in p.curves if not c.reference]
    if not any(bars_drawn(c).any() for c in measured):
        return NO_BARS if seeds > 1 else ""
    bare = any((np.isfinite(c.y) & ~bars_drawn(c)).any() for c in measured)
    return "bars span the seeds" + (f"; {BARE_POINTS}" if bare else "")


def _bars(panel: LinePanel, shown: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each bar across seeds ``panel`` draws (finite at both ends): how far it reaches from its
    point in points (∞ where it has no finite point to sit under), its height in points, both
    at most as drawn (:func:`_points_per_unit`), and its height in the y axis's unit."""
    reach, height = [np.empty(0)], [np.empty(0)]
    for c in panel.curves:
        if c.reference or c.lo is None or c.hi is None:
            continue
        drawn = bars_drawn(c)
        far = np.maximum(c.hi - c.y, c.y - c.lo)[drawn]
        reach.append(np.where(np.isfinite(c.y[drawn]), far, np.inf))
        height.append((c.hi - c.lo)[drawn])
    far, tall = np.concatenate(reach), np.concatenate(height)
    scale = _points_per_unit(panel, shown)  # ∞ on an axis of one value: its bars have no height
    points = [np.zeros(len(v)) for v in (far, tall)]
    for v, pt in zip((far, tall), points, strict=True):
        pt[v > 0] = v[v > 0] * scale  # (not 0 x ∞)
    return points[0], points[1], tall


def hidden_bar_note(grid: LineGrid, unit: str) -> str:
    """What a caption adds where bars across seeds are hidden under their points' markers
    (dots, or a line's shape, :data:`LINE_MARKERS` and :data:`CYCLE_MARKERS`:
    :func:`marker_word`): a bar that reaches no farther from its point than a dot's radius, a
    square's half side (:data:`MARKER_MS` / 2; each shape reaches as far or farther above and
    below its point, a diamond 1.41 times that), on an axis at least as long as
    :func:`_points_per_unit` takes it with ``grid``'s zero line and stable band
    (:func:`shown_levels`). The demo's phase diagrams drew 34 of their 47 bars so
    (up to 3.9 pt tall), under captions that said "bars span the seeds", so that a dot
    without a bar could not be told from a setting of one seed. Panels whose every bar is
    hidden are named as :func:`hidden_band_note` names them (:func:`_where`: "every panel"
    where all are, nothing where the figure has one); the hidden bars of the other panels are
    counted. Each says the tallest such bar and the widest spread of its seeds, in ``unit``,
    or, where the seeds agree exactly, that no bar shows (not "at most 0.0 pt tall"). "" where
    every bar shows. (The dot's 1 pt edge hides another 0.5 pt, and another curve's dot may
    hide a bar too: those are left unsaid, and what is said is so.)"""
    shown = shown_levels(grid)  # the zero line and stable band lengthen a phase diagram's axis
    # by panel, not title: two panels' titles may read the same (a theory figure of input_std
    # = 1.00001,1.00002 titles both "input std = 1")
    bars = [_bars(p, shown) for p in grid.panels]
    titles = [p.title for p in grid.panels]
    hidden = [reach <= MARKER_MS / 2 for reach, _, _ in bars]
    full = [i for i, h in enumerate(hidden) if len(h) and h.all()]
    rest = [i for i, h in enumerate(hidden) if not h.all()]

    def said(panels: list[int]) -> tuple[float, float]:
        """The tallest hidden bar of ``panels`` in points, and the widest in ``unit``."""
        tallest = max(float(bars[i][1][hidden[i]].max(initial=0.0)) for i in panels)
        return tallest, max(float(bars[i][2][hidden[i]].max(initial=0.0)) for i in panels)

    mark = marker_word((c for p in grid.panels for c in p.curves), len(grid.legend))
    note = ""
    if full:
        where = _where(full, titles, not rest, "bars")
        tallest, widest = said(full)
        note += (
            f" {where}he bars are {_at_most_pt(tallest)} tall, under the {MARKER_MS:g} pt "
            f"{mark}s: the seeds agree to within {widest:.2g} {unit}."
            if widest > 0
            else f" {where}he seeds agree exactly: no bar shows."
        )
    n = sum(int(hidden[i].sum()) for i in rest)
    if n:
        tallest, widest = said(rest)
        if not full:
            where = "Of"
        elif len(full) + len(rest) == len(grid.panels):
            where = f"In the other panel{'s' if len(rest) > 1 else ''}, of"
        else:  # "the other panel" said one of two others, where the second has no bar
            where = _in_the(rest, titles) + ", of"
        one = n == 1  # "1 is ..., hidden under its dot: its seeds", not "1 are ... their dots"
        hide = (
            f"{'is' if one else 'are'} {_at_most_pt(tallest)} tall, hidden under "
            f"{'its' if one else 'their'} {MARKER_MS:g} pt {mark}{'' if one else 's'}"
            if widest > 0
            else f"{'does' if one else 'do'} not show"
        )
        agree = f"to within {widest:.2g} {unit}" if widest > 0 else "exactly"
        note += (
            f" {where} the {sum(len(hidden[i]) for i in rest)} bars, {n} {hide}: "
            f"{'its' if one else 'those'} seeds agree {agree}."
        )
    return note


def line_width(depth: int) -> float:
    """The width of a measured curve that ``depth`` later curves run on (:func:`covered_curves`):
    each rim shows around the next, however many lines coincide."""
    return LINE_LW + COVERED_LW * depth


def _tolerance(measured: Sequence[tuple[int, Curve]], shown: Sequence[float]) -> float | None:
    """How close two curves' y values must be to count as one line or point: 1 % of the
    panel's y range (the finite values of ``measured`` and ``shown``); None where fewer than
    two curves or no finite value leave nothing to cover."""
    ys = np.concatenate([c.y for _, c in measured] or [np.empty(0)])
    ys = ys[np.isfinite(ys)]
    if len(measured) < 2 or not len(ys):
        return None
    ys = np.concatenate([ys, np.asarray(shown, dtype=np.float64)])
    return 0.01 * max(float(ys.max() - ys.min()), 1e-12)


def covered_curves(
    curves: Sequence[Curve], reference: bool = False, shown: Sequence[float] = ()
) -> dict[int, int]:
    """``{index: depth}`` for the measured curves that later ones run on (within 1 % of the
    panel's y range at 80 % of their common points; the range takes in ``shown``, the other
    y values the panel draws, such as a zero line: a monitor's state and input rates 0.002
    apart near -0.53 looked one line on an axis down from 0, yet were 10 % of their own
    range apart, and the input's hid the state's): ``depth`` is how many later curves do.
    Drawn that much wider (:func:`line_width`), each later line shows inside a rim of the
    earlier colours instead of hiding them (an LSTM under a GRU, three gains solving the same
    T: with one width for all, the second hid the first). With ``reference``, the same among
    the reference curves (two gains' dashed predictions of the same fraction solved: the
    second hid the first), which are drawn wider by as much (:func:`reference_width`)."""
    measured = [(i, c) for i, c in enumerate(curves) if c.reference == reference]
    tol = _tolerance(measured, shown)
    if tol is None:
        return {}
    out = {}
    for k, (i, a) in enumerate(measured):
        depth = 0
        for _, b in measured[k + 1 :]:
            # at the x values both have: a shorter T's curve runs under a longer T's first lags
            # (the x arrays had to be equal: the T = 6 line was hidden under the T = 60 one)
            ya, yb = _common(a, b)
            both = np.isfinite(ya) & np.isfinite(yb)  # -inf - -inf is NaN, with a warning
            if both.sum() >= 2 and (np.abs(ya[both] - yb[both]) <= tol).mean() >= 0.8:
                depth += 1
        if depth:
            out[i] = depth
    return out


def _common(a: Curve, b: Curve) -> tuple[np.ndarray, np.ndarray]:
    """``a``'s and ``b``'s y values at the x values both have: all of them where their x are
    equal, the shared ones where each x is distinct (a marker line's x, [g, g], is not)."""
    if a.x.shape == b.x.shape and np.array_equal(a.x, b.x):
        return a.y, b.y
    if len(np.unique(a.x)) < len(a.x) or len(np.unique(b.x)) < len(b.x):
        return np.empty(0), np.empty(0)
    _, ia, ib = np.intersect1d(a.x, b.x, assume_unique=True, return_indices=True)
    return a.y[ia], b.y[ib]


def covered_points(curves: Sequence[Curve], shown: Sequence[float] = ()) -> dict[int, np.ndarray]:
    """``{index: depth per point}`` for the measured curves some of whose finite points later
    curves' points sit on (the same x, y within 1 % of the panel's y range, as in
    :func:`covered_curves`): how many later points do. Drawn that much larger
    (``MARKER_MS + RING_MS * depth``), each later marker shows inside rings of the earlier
    colours: a monitor's state and input horizons, equal at most steps, drew one marker (the
    input's) where both were, the state's hidden under it."""
    measured = [(i, c) for i, c in enumerate(curves) if not c.reference]
    tol = _tolerance(measured, shown)
    if tol is None:
        return {}
    out = {}
    for k, (i, a) in enumerate(measured):
        depth = np.zeros(len(a.x), dtype=int)
        for _, b in measured[k + 1 :]:
            at = {float(x): float(y) for x, y in zip(b.x, b.y, strict=True) if np.isfinite(y)}
            other = np.array([at.get(float(x), np.nan) for x in a.x], dtype=np.float64)
            both = np.isfinite(a.y) & np.isfinite(other)
            depth += both & (np.abs(np.where(both, a.y - other, 0.0)) <= tol)
        if depth.any():
            out[i] = depth
    return out


def reference_width(depth: int) -> float:
    """The width of a reference (dashed or dotted) that ``depth`` later references run on
    (:func:`covered_curves` with ``reference``); its dashes grow with it, so that each shows
    beside the next."""
    return REFERENCE_LW + COVERED_LW * depth


def alone(y: np.ndarray) -> np.ndarray:
    """Which finite points of ``y`` stand between gaps (or alone): no line reaches them."""
    finite = np.isfinite(y)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return finite & ~before & ~after


def dashes(dotted: bool) -> tuple[int, tuple[float, float]]:
    """A reference's line style: dashed (a prediction), or dotted (a marker line)."""
    return (0, (1, 1.6)) if dotted else (0, (4, 2))


def shown_levels(grid: LineGrid) -> list[float]:
    """The y values a panel of ``grid`` draws besides its curves (the zero line, the stable
    band's edges), which :func:`covered_curves` takes in: one list for the figure and its
    caption."""
    band = [-grid.stable_band, grid.stable_band] * bool(grid.stable_band)
    return [0.0] * grid.zero_line + band


def widened(grid: LineGrid) -> tuple[list[str], bool]:
    """The labels of the measured curves ``grid`` draws wider (a rim round a later line that
    runs on them: :func:`covered_curves`), in panel order, each once; and whether a reference
    (a dashed prediction) is drawn wider over another."""
    shown = shown_levels(grid)
    labels: list[str] = []
    reference = False
    for panel in grid.panels:
        for i in covered_curves(panel.curves, shown=shown):
            if panel.curves[i].label not in labels:
                labels.append(panel.curves[i].label)
        reference = reference or bool(covered_curves(panel.curves, reference=True, shown=shown))
    return labels, reference


def rim_note(grid: LineGrid) -> str:
    """The caption's sentence on the rims ``grid`` draws (:func:`widened`), naming the lines
    drawn wider; "" where it draws none."""
    labels, reference = widened(grid)
    if not labels and not reference:
        return ""
    named = [f"{grid.legend_title} = {x}" if grid.legend_title else x for x in labels if x]
    # "(here: init = normal and init = orthogonal)" read as if those two coincided: they are
    # the lines drawn wider, each over some other line.
    which = f"; drawn wider here: {and_list(named)}" if named else ""
    return (
        " Where two lines coincide, the earlier is drawn wider, a rim around the later, so that "
        f"both show{which}" + (", dashed predictions too" if reference and labels else "") + "."
    )


def with_rim_note(grid: LineGrid) -> LineGrid:
    """``grid`` with :func:`rim_note` at the end of its caption: a caption says the rims its
    figure draws, and only those."""
    return replace(grid, caption=grid.caption + rim_note(grid))
