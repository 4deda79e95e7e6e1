"""How a section lays a run's settings out as figures: plan -> panels -> lines -> curves.

A run varies some axes. A faceted figure section gives each varying axis one role:

- **panels**, rows of the grid: activation and depth (:data:`~.format.PANEL_AXES`);
- **columns** of the grid: of the remaining axes, the one with the most values that still fit
  side by side (at most :data:`~.format.MAX_COLUMNS`, evenly chosen when more);
- **lines** within a panel: the view's line axis (``init`` when it varies);
- **figures**: every other axis, one figure per combination (at most
  :data:`~.format.MAX_FIGURES`).

:func:`plan` makes the figures' layouts; :func:`facet_figures` is the one loop that walks
plans, panels and line values and asks a section's callbacks for curves and for the figure.
Whatever does not fit is counted and said in the figure's note (:func:`omitted`), never
dropped silently. Seeds are never an axis: they are averaged, the spread drawn as a band
(:func:`seed_stats`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .figure_text import label_key, row_label, row_labels
from .format import (
    MAX_COLUMNS,
    MAX_FIGURES,
    MAX_PANELS,
    MAX_POINTS,
    hashable,
    label,
    plural,
    py,
    setting_text,
    setting_titles,
    title_digits,
    value_texts,
)
from .model import Curve, HeatmapGrid, LineGrid, LinePanel
from .panel_columns import measured_panels
from .view import RunView

__all__ = [
    "ZERO_NOTE",
    "Overlay",
    "Plan",
    "as_parts",
    "columns_and_figures",
    "facet_figures",
    "figures_drawn",
    "full_rows",
    "grid_rows",
    "index_by",
    "key_of",
    "legend_of",
    "minus_inf_rate",
    "omitted",
    "plan",
    "seed_stats",
    "select",
    "thin",
    "value_range",
]

ZERO_NOTE = (
    " Triangles on the floor of a panel (one row per line) mark lags where some sample's "
    "Jacobian is exactly zero, so that its cell's mean log10 is −∞; the line averages the other "
    "seeds and breaks where none is left."
)


def minus_inf_rate(seeds: int) -> str:
    """What a seed's rate of −∞ is, for the captions whose marks point such seeds out (the rate
    maps' †, the phase diagrams' floor triangles), of a run of at most ``seeds`` seeds a
    setting: a seed exactly zero later in the window is not one, and is not marked. Of one seed
    there is no mean for such a seed to be in (it said "and is in the mean" beside "one
    seed")."""
    later = (
        "a seed exactly zero later in the window keeps the rate fitted before it, and is in the "
        "mean"
        if seeds > 1
        else "one exactly zero later in the window keeps the rate fitted before it"
    )
    return (
        "a rate of −∞ (a Jacobian exactly zero with fewer than two lags of the fit window before "
        f"the zero; {later})"
    )


#: ``overlay(setting, curve)``: a reference (theory) curve to draw over the measured ``curve``, or
#: None; ``setting`` maps every axis that tells the curve apart from the others to its value.
Overlay = Callable[[Mapping[str, object], Curve], "Curve | None"]


def thin(n: int, limit: int = MAX_POINTS) -> np.ndarray:
    """At most ``limit`` evenly spread indices of ``range(n)``, ends included."""
    if n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(np.int64))


def value_range(arrays: Iterable[np.ndarray]) -> tuple[float, float] | None:
    """(min, max) of the finite values of ``arrays``: the shared colour scale of the parts of
    one set of heatmaps (None when there is none)."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [f for f in finite if f.size]
    if not finite:
        return None
    return float(min(f.min() for f in finite)), float(max(f.max() for f in finite))


def as_parts(grids: list[HeatmapGrid]) -> list[HeatmapGrid]:
    """``grids``, the pages of one figure too large for one, marked as its parts (one figure
    number on the page, "part n of N" after it), their panels wide enough for every part's
    titles (:attr:`~.model.HeatmapGrid.part_titles`) and their own cells, and fitted to the
    page as the widest part's ``ncols`` are (drawn: no more than its own panels); a single
    grid is returned as it is.
    Each caption gives in full the row labels its figure draws shortened (:func:`full_rows`)."""
    grids = [full_rows(g) for g in grids]
    if len(grids) < 2:
        return grids
    titles = tuple(dict.fromkeys(p.title for g in grids for p in g.panels))
    ncols = max(g.ncols for g in grids)  # a last part of fewer panels: as wide a page share
    return [
        replace(g, part=(n + 1, len(grids)), part_titles=titles, ncols=ncols)
        for n, g in enumerate(grids)
    ]


def full_rows(grid: HeatmapGrid) -> HeatmapGrid:
    """``grid`` with a sentence added to its caption giving in full each row label (or label
    of a group of rows) that its heatmaps draw shortened (:func:`.figure_text.row_label`: too
    long for the page), in the order they are drawn, each row label with its number where
    :func:`.figure_text.row_labels` numbered it; as it is when none is."""
    drawn = row_labels(t for p in grid.panels for t in p.row_labels)
    groups = (t for p in grid.panels for t in p.row_groups)
    cut = [t for t in dict.fromkeys((*groups, *drawn)) if row_label(t)[1]]
    if not cut:
        return grid
    said = "; ".join(f"{label_key(drawn[t]) if t in drawn else ''}“{t}”" for t in cut)
    return replace(grid, caption=f"{grid.caption} Row labels shortened (…), in full: {said}.")


def grid_rows(n_panels: int, ncols: int) -> int:
    """Rows of a grid of ``n_panels`` panels, ``ncols`` to a row (at least one)."""
    return max(math.ceil(n_panels / max(ncols, 1)), 1)


def key_of(values: Iterable[object]) -> tuple[Hashable, ...]:
    """A dictionary key for a combination of config values (see :func:`~.format.hashable`)."""
    return tuple(hashable(v) for v in values)


def index_by(frame: pd.DataFrame, keys: Sequence[str]) -> dict[tuple[Hashable, ...], pd.DataFrame]:
    """``frame`` split by the values of ``keys`` (one groupby), keyed by :func:`key_of`."""
    if not keys:
        return {(): frame}
    groups = frame.groupby(list(keys), sort=False, dropna=False)
    return {key_of(k if isinstance(k, tuple) else (k,)): g for k, g in groups}


def settings_of(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[object, ...]]:
    """The rows of ``frame[keys]`` as tuples of plain values (:func:`~.format.py`), one per row:
    an empty tuple each where ``keys`` is empty, of which pandas 2's itertuples yields no row
    (a figure of no figure axis was dropped: a one-cell run had no decay or input section)."""
    if not keys:
        return [()] * len(frame)
    return [tuple(py(v) for v in row) for row in frame[list(keys)].itertuples(index=False)]


def select(frame: pd.DataFrame, assignment: Iterable[tuple[str, object]]) -> pd.DataFrame:
    """The rows of ``frame`` where each named column has the given value."""
    mask = np.ones(len(frame), dtype=bool)
    for k, v in assignment:
        mask &= (frame[k] == v).to_numpy()
    return frame[mask]


def seed_stats(frame: pd.DataFrame, keys: list[str], value: str, spread: str) -> pd.DataFrame:
    """Per (keys, lag): mean of finite ``value`` over seeds, band, the seeds (``n``) and those
    of a finite ``value`` (``n_finite``), and whether any was -inf.

    Band: min and max over the finite seeds when a setting has several, else
    ``value +- spread``.
    """
    v = frame[value].to_numpy(dtype=np.float64)
    finite = np.where(np.isfinite(v), v, np.nan)
    zero = np.isneginf(v)
    if "n_zero" in frame:
        zero |= frame["n_zero"].fillna(0).to_numpy(dtype=np.float64) > 0
    work = pd.DataFrame(
        {
            **{k: frame[k].to_numpy() for k in keys},
            "lag": frame["lag"].to_numpy(dtype=np.int64),
            "v": finite,
            "zero": zero,
            "sd": frame[spread].to_numpy(dtype=np.float64) if spread in frame else np.nan,
        }
    )
    g = work.groupby([*keys, "lag"], sort=False, dropna=False)
    out = g.agg(
        y=("v", "mean"),
        lo=("v", "min"),
        hi=("v", "max"),
        n=("v", "size"),
        n_finite=("v", "count"),
        zero=("zero", "any"),
    )
    sd = g["sd"].mean()
    single = out["n"] == 1
    out.loc[single, "lo"] = out.loc[single, "y"] - sd[single].where(np.isfinite(sd[single]))
    out.loc[single, "hi"] = out.loc[single, "y"] + sd[single].where(np.isfinite(sd[single]))
    return out.reset_index()


def columns_and_figures(
    view: RunView, frame: pd.DataFrame, extras: list[str]
) -> tuple[str | None, list[str]]:
    """Of the axes not yet in the layout, the one for columns and the ones for figures.

    Columns take the axis with the most values that still fit side by side
    (:data:`~.format.MAX_COLUMNS`), so that as much as possible is drawn; the rest split
    figures.
    """
    if not extras:
        return None, []
    counts = {c: len(view.values(c, frame[c].unique())) for c in extras}
    best = min(extras, key=lambda c: (counts[c] > MAX_COLUMNS, -counts[c], extras.index(c)))
    return best, [c for c in extras if c != best]


@dataclass(frozen=True)
class Plan:
    """One figure of a faceted section: fixed values, panel combinations, line values."""

    fixed: tuple[tuple[str, object], ...]
    panels: list[tuple[object, ...]]
    ncols: int
    omitted_panels: int
    omitted_columns: str = ""  # "gain: 5 of 9 values shown", when columns were thinned
    #: The significant digits of the title's numbers (:func:`~.format.title_digits`): two
    #: figures' fixed settings that read the same to 4 digits are told apart.
    digits: int = 4


def plan(
    view: RunView,
    frame: pd.DataFrame,
    panel_keys: list[str],
    column_key: str | None,
    figure_keys: list[str],
) -> tuple[list[Plan], int]:
    """Split ``frame`` into figures (one per combination of ``figure_keys``) of panels.

    Panels are the combinations of ``panel_keys`` (rows) times the values of ``column_key``
    (columns, at most :data:`~.format.MAX_COLUMNS`, evenly chosen). Returns the plans (at most
    :data:`~.format.MAX_FIGURES`) and the figure combinations left out, as settings
    (``"model = gru, T = 20"``). When ``model`` is a figure axis, the figures drawn go
    round-robin over the models (every model gets one before any gets a second), in display
    order; otherwise the first ones in display order are drawn.
    """
    keys = [*figure_keys, *panel_keys, *([column_key] if column_key else [])]
    combos = view.setting_order(frame[keys].drop_duplicates(), keys) if keys else None
    if combos is None or not len(combos):
        return [Plan((), [()], 1, 0)], ()
    col_values: list[object] = []
    thinned = ""
    if column_key:
        col_values = view.values(column_key, frame[column_key].unique())
        if len(col_values) > MAX_COLUMNS:
            pick = np.unique(np.round(np.linspace(0, len(col_values) - 1, MAX_COLUMNS)))
            thinned = (
                f"columns show {len(pick)} of the {len(col_values)} values of {label(column_key)}"
            )
            col_values = [col_values[int(i)] for i in pick]
    plans: list[Plan] = []
    fig_combos = list(dict.fromkeys(settings_of(combos, figure_keys)))
    said = [zip(figure_keys, fig, strict=True) for fig in fig_combos]
    digits = dict(zip(fig_combos, title_digits(said), strict=True))
    drawn = figures_drawn(fig_combos, figure_keys)
    for fig in drawn:
        sub = combos
        for k, v in zip(figure_keys, fig, strict=True):
            sub = sub[(sub[k] == v).to_numpy()]
        rows = list(dict.fromkeys(settings_of(sub, panel_keys)))
        panels: list[tuple[object, ...]] = []
        for r in rows:
            panels += [(*r, c) for c in col_values] if column_key else [r]
        ncols = len(col_values) if column_key else min(len(panels), 3)
        if column_key:  # settings that do not combine (tanh x lstm): only the ones measured
            measured = set(settings_of(sub, [*panel_keys, column_key]))
            if len(measured) < len(panels):
                panels, ncols = measured_panels(panels, measured, col_values)
        kept = panels[: max(MAX_PANELS // max(ncols, 1), 1) * ncols]
        fixed = tuple(zip(figure_keys, fig, strict=True))
        plans.append(Plan(fixed, kept, ncols, len(panels) - len(kept), thinned, digits[fig]))
    left = tuple(
        setting_text(zip(figure_keys, fig, strict=True), digits[fig])
        for fig in fig_combos
        if fig not in drawn
    )
    return plans, left


def figures_drawn(
    combos: list[tuple[object, ...]], figure_keys: Sequence[str], cap: int = MAX_FIGURES
) -> list[tuple[object, ...]]:
    """The combinations of ``figure_keys`` drawn (figures, or the panels of a figure that
    draws one per setting), at most ``cap``, in display order (``combos`` are in it). With
    ``model`` among the axes they are taken round-robin over the models, so that the cap
    never leaves a model without a figure while another has several (in (model, T) order,
    rnn at three T and lstm at one filled it, and GRU got none)."""
    if len(combos) <= cap or "model" not in figure_keys:
        return combos[:cap]
    at = figure_keys.index("model")
    turn: dict[object, int] = {}
    rounds = []
    for combo in combos:
        model = hashable(combo[at])
        turn[model] = turn.get(model, -1) + 1
        rounds.append(turn[model])
    order = sorted(range(len(combos)), key=lambda i: (rounds[i], i))[:cap]
    return [combos[i] for i in sorted(order)]


#: Settings of figures left out that a note names one by one; past it they are counted.
NAMED_LEFT_OUT = 8


def omitted(
    panels: int,
    figures: Sequence[str],
    figure_keys: Sequence[str],
    columns: str = "",
    table: str = "the rates table",
) -> str:
    """The note of a figure that could not draw everything: what was left out (``figures``:
    the settings of the figures not drawn, named), and where to find it instead (``table``,
    which lists every setting)."""
    parts = [columns] if columns else []
    if panels:
        parts.append(f"{plural(panels, 'more panel')} {'is' if panels == 1 else 'are'} not drawn")
    if figures:
        axes = ", ".join(label(k) for k in figure_keys)
        named = ", ".join(f"({f})" for f in figures[:NAMED_LEFT_OUT])
        if len(figures) > NAMED_LEFT_OUT:
            named += f" and {len(figures) - NAMED_LEFT_OUT} more"
        n = len(figures)
        more = f"{plural(n, 'more combination')} of {axes} {'is' if n == 1 else 'are'}"
        parts.append(f"{more} not drawn: {named}")
    if not parts:
        return ""
    text = "; ".join(parts) + f" ({table} lists every setting)."
    return text[0].upper() + text[1:]


#: ``line_curves(rows, style, label, setting)``: the curves of one line of a panel, from the
#: rows of its setting (``setting`` maps the figure's, the panel's and the line's axes).
LineCurves = Callable[[pd.DataFrame, int, str, dict[str, object]], list[Curve]]
#: ``make_grid(plan, panels, left_out)``: the figure of one plan (``left_out``: the settings of
#: the figures not drawn).
MakeGrid = Callable[[Plan, list[LinePanel], Sequence[str]], LineGrid]


def facet_figures(
    view: RunView,
    data: pd.DataFrame,
    plans: list[Plan],
    left_out: Sequence[str],
    names: Sequence[str],
    line: str | None,
    line_curves: LineCurves,
    make_grid: MakeGrid,
    finish_panel: Callable[[list[Curve]], list[Curve]] | None = None,
) -> list[LineGrid]:
    """The one plan -> panels -> lines -> curves loop of every faceted line figure.

    ``names`` are the panel axes (rows, then the column axis), in the order of each plan's
    panel tuples; ``line`` the axis drawn as separate lines (None: one line per panel).
    ``finish_panel`` may add curves that span a panel's lines (a vertical reference). The
    last figure is told how many figures were left out.
    """
    line_values = view.values(line, data[line].unique()) if line else [None]
    legend = legend_of(view, data, line)
    # One groupby for the whole section: each line's rows are a dictionary lookup.
    fixed_keys = [k for k, _ in plans[0].fixed] if plans else []
    keys = [*fixed_keys, *names, *([line] if line else [])]
    groups = index_by(data, keys)
    figures = []
    for p, plan_ in enumerate(plans):
        fixed_values = [v for _, v in plan_.fixed]
        panels = []
        titles = setting_titles([zip(names, combo, strict=True) for combo in plan_.panels])
        for i, combo in enumerate(plan_.panels):
            where = list(zip(names, combo, strict=True))
            curves: list[Curve] = []
            for s, lv in enumerate(line_values):
                found = groups.get(key_of([*fixed_values, *combo, *([lv] if line else [])]))
                if found is None or not len(found):
                    continue
                rows = found
                setting = {**dict(plan_.fixed), **dict(where)}
                if line:
                    setting[line] = lv
                curves += line_curves(rows, s, legend[s] if line else "", setting)
            if finish_panel is not None:
                curves = finish_panel(curves)
            panels.append(LinePanel(i // plan_.ncols, i % plan_.ncols, titles[i], tuple(curves)))
        figures.append(make_grid(plan_, panels, left_out if p == len(plans) - 1 else ()))
    return figures


def legend_of(view: RunView, data: pd.DataFrame, line: str | None) -> tuple[str, ...]:
    """The legend entries of ``line``'s values (in display order), told apart as panel titles
    are (:func:`~.format.title_digits`: gains 1.00001 and 1.00002 were both "1")."""
    return tuple(value_texts(line, view.values(line, data[line].unique()))) if line else ()
