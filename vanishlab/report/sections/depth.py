"""Depth x lag: one heatmap per stacked network, every layer's state against every lag.

For a network of L layers, cell (l, k) is log10 ||dh_T/dh^(l)_{T-k}|| (ds^(l) for an LSTM's
state s = [h | c]): the last state of the top layer against layer l's state k steps earlier,
mean over seeds (a geometric mean of the norms). Going down a column is the gradient travelling
down the stack, going right along a row is it travelling back in time; -inf (an exact zero
Jacobian in every seed) is drawn grey, and a cell where only some seeds are -inf, which shows
the mean of the others, gets a dot.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ...sweep.section_names import DEPTH
from ..format import LAG_LABEL, MAX_PANELS, and_list, hashable, label, setting_titles
from ..layout import as_parts, seed_stats, select, value_range
from ..model import HeatmapGrid, HeatPanel, Section
from ..view import RunView

__all__ = ["PANELS_PER_FIGURE", "depth_section"]

#: Heatmaps per figure; more settings make more figures (parts), never fewer panels.
PANELS_PER_FIGURE = MAX_PANELS // 2


def _panel(
    stats: pd.DataFrame, view: RunView, fold: list[str], where: list[tuple[str, object]]
) -> tuple[HeatPanel, list[str], list[tuple[str, object]]]:
    """One heatmap of the panel's setting ``where``: per setting of the ``fold`` axes (in
    display order) its layers, top layer first, against every lag. A ``fold`` axis of one
    value in the panel is said once, in its title, not in each row's label ("model = rnn" in
    every row of a panel of nn.RNN cells, beside its activation). Returns the panel (untitled),
    the axes its rows tell apart, and the setting its title says (``where`` and those axes),
    which :func:`depth_section` tells apart from the other panels'
    (:func:`~..format.setting_titles`)."""
    shared = [c for c in fold if stats[c].map(hashable).nunique(dropna=False) == 1]
    title = [*where, *((c, stats[c].iloc[0]) for c in shared)]
    fold = [c for c in fold if c not in shared]
    lags = np.sort(stats["lag"].unique())
    groups = view.setting_order(stats[fold].drop_duplicates(), fold) if fold else None
    settings = list(groups.itertuples(index=False)) if groups is not None else [()]
    # told apart as panels are (input_std = 1.00001,1.00002 named two "input std = 1")
    names = setting_titles([zip(fold, setting, strict=True) for setting in settings])
    blocks, partials, labels, separators = [], [], [], []
    for setting in settings:
        cell = select(stats, zip(fold, setting, strict=True))
        n_layers = int(cell["layer"].max()) + 1
        grid = np.full((n_layers, len(lags)), np.nan)
        partial = np.zeros(grid.shape, dtype=bool)
        li = cell["layer"].to_numpy(dtype=np.int64)
        ki = np.searchsorted(lags, cell["lag"].to_numpy(dtype=np.int64))
        y = cell["y"].to_numpy(dtype=np.float64)
        zero = cell["zero"].to_numpy(dtype=bool)
        y = np.where(zero & np.isnan(y), -np.inf, y)
        grid[n_layers - 1 - li, ki] = y  # top layer drawn at the top
        # Some seeds exactly 0, the others not: the cell is the others' mean (a dot says so).
        partial[n_layers - 1 - li, ki] = zero & np.isfinite(y)
        # The setting named once beside its layers (names), not in each layer's label.
        labels += [str(n_layers - 1 - i) for i in range(n_layers)]
        if blocks:
            separators.append(sum(len(b) for b in blocks))
        blocks.append(grid)
        partials.append(partial)
    values = np.concatenate(blocks, axis=0)
    panel = HeatPanel(
        title="",  # told apart from the other panels' titles by depth_section
        row_labels=tuple(labels),
        col_labels=tuple(str(int(k)) for k in lags),
        values=values,
        separators=tuple(separators),
        partial=np.concatenate(partials, axis=0),
        row_groups=tuple(names) if fold else (),
    )
    return panel, fold, title


def _folded_note(rows_by: list[list[str]], fold: list[str]) -> str:
    """The caption's sentence on the settings a figure's panels stack: ``rows_by``, the axes
    each panel's rows tell apart, of the run's ``fold`` axes (those not its panels')."""
    stacked = [c for c in fold if any(c in axes for axes in rows_by)]
    if not stacked:
        return " A panel's title names its setting in full." if fold else ""
    said = " Each panel stacks, for every value of " + and_list([label(c) for c in stacked])
    said += ", that setting's layers (separated by a line, the setting named beside them)"
    if any(c not in axes for axes in rows_by for c in fold):
        return said + "; a setting that all of a panel's rows share is named in its title."
    return said + "."


def _has_partial(panel: HeatPanel) -> bool:
    return panel.partial is not None and bool(panel.partial.any())


def depth_section(view: RunView) -> Section | None:
    """Layer x lag heatmaps of stacked networks: every setting drawn, none left out."""
    r = view.results
    if "num_layers" not in r:
        return None
    deep = r[((r["source"] == "state") & (r["num_layers"] > 1)).to_numpy(dtype=bool)]
    if not len(deep):
        return None
    line = view.line_axis
    facet = view.panel_keys(deep)
    if line and line not in facet:
        facet.append(line)
    # The other axes fold into each panel's rows, so that every setting is drawn.
    fold = [c for c in view.varying if c not in (*facet, "seed") and c in deep]
    stats = seed_stats(
        deep.assign(layer=deep["layer"].astype("int64")),
        [*facet, *fold, "layer"],
        "log10_fro_mean",
        "log10_fro_std",
    )
    combos = list(view.setting_order(stats[facet].drop_duplicates(), facet).itertuples(index=False))
    panels, rows_by, said = [], [], []
    for combo in combos:
        where = list(zip(facet, combo, strict=True))
        panel, folded_here, title = _panel(select(stats, where), view, fold, where)
        panels.append(panel)
        rows_by.append(folded_here)
        said.append(title)
    # told apart (gain = 1.00001,1.00002 titled two panels "tanh, 2 layers, gain = 1")
    panels = [replace(p, title=t) for p, t in zip(panels, setting_titles(said), strict=True)]
    per = PANELS_PER_FIGURE
    scale = value_range(p.values for p in panels) if len(panels) > PANELS_PER_FIGURE else None
    pages = [list(range(i, min(i + per, len(panels)))) for i in range(0, len(panels), per)]
    partial_note = (
        " A dot marks a cell where the Jacobian of some seeds, not all, is exactly zero: its "
        "colour is the mean of the other seeds."
    )
    # Rows of a shorter sequence stacked with longer ones end early: lags past T do not exist.
    short_note = (
        " A row ends at its own T, the last lag it has: white past it are lags that its "
        "shorter sequence does not have."
    )
    figures = [
        HeatmapGrid(
            title="Depth × lag: every layer's state",
            caption=(
                f"Colour: log10 ||{view.state_jacobian('l')}|| (the last state of the top layer "
                f"against layer l's state k steps earlier, {view.over_seeds()}) for "
                "each layer l (rows, top layer at the top) and lag k (columns). Blue is a norm "
                "below 1 (vanishing), red above 1 (exploding), white 1"
                + (
                    ", grey an exact zero" + (" (in every seed)" if view.seeds > 1 else "")
                    if any(panels[i].grey for i in page)
                    else ""
                )
                + "; the scale spans the values drawn. At lag 0 the top layer's is the "
                "identity, of norm √H: red, though near white where the scale spans many "
                "decades (a shade follows the distance from 0 against the largest drawn)."
                + _folded_note([rows_by[i] for i in page], fold)
                + (partial_note if any(_has_partial(panels[i]) for i in page) else "")
                + (short_note if any(np.isnan(panels[i].values).any() for i in page) else "")
                + view.state_note
                + view.failed_rows_note
            ),
            panels=tuple(panels[i] for i in page),
            ncols=2,
            xlabel=LAG_LABEL,
            ylabel="layer l",
            colorbar_label=view.state_label("l"),
            dense=True,
            scale=scale,
        )
        for page in pages
    ]
    return Section(
        DEPTH.key,
        DEPTH.title,
        "In a stacked network the gradient travels back in time and down through the layers; "
        "these maps show both directions at once, for every stacked setting of the run.",
        tuple(as_parts(figures)),
    )
