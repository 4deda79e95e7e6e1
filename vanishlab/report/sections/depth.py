"""Depth x lag: one heatmap per stacked network, every layer's state against every lag.

For a network of L layers, cell (l, k) is log10 ||dh_T/dh^(l)_{T-k}||: the last state of the
top layer against layer l's state k steps earlier, mean over seeds (a geometric mean of the
norms). Going down a column is the gradient travelling down the stack, going right along a row
is it travelling back in time; -inf (an exact zero Jacobian) is drawn grey.
"""

from __future__ import annotations

import numpy as np

from ..format import MAX_PANELS, assign
from ..layout import seed_stats, select
from ..model import HeatmapGrid, HeatPanel, Section
from ..view import RunView

__all__ = ["depth_section"]


def depth_section(view: RunView) -> Section | None:
    """Layer x lag heatmaps of stacked networks."""
    r = view.results
    if "num_layers" not in r:
        return None
    deep = r[((r["source"] == "state") & (r["num_layers"] > 1)).to_numpy(dtype=bool)]
    if not len(deep):
        return None
    line = view.line_axis
    facet = [k for k in ("activation", "num_layers") if k in deep]
    if line:
        facet.append(line)
    facet += [c for c in view.varying if c not in (*facet, "seed") and c in deep]
    stats = seed_stats(
        deep.assign(layer=deep["layer"].astype("int64")),
        [*facet, "layer"],
        "log10_fro_mean",
        "log10_fro_std",
    )
    combos = view.setting_order(stats[facet].drop_duplicates(), facet)
    rows = list(combos.itertuples(index=False))
    shown, left = rows[: MAX_PANELS // 2], max(len(rows) - MAX_PANELS // 2, 0)
    panels = []
    for combo in shown:
        cell = select(stats, zip(facet, combo, strict=True))
        n_layers = int(cell["layer"].max()) + 1
        lags = np.sort(cell["lag"].unique())
        grid = np.full((n_layers, len(lags)), np.nan)
        li = cell["layer"].to_numpy(dtype=np.int64)
        ki = np.searchsorted(lags, cell["lag"].to_numpy(dtype=np.int64))
        y = cell["y"].to_numpy(dtype=np.float64)
        y = np.where(cell["zero"].to_numpy(dtype=bool) & np.isnan(y), -np.inf, y)
        grid[n_layers - 1 - li, ki] = y  # top layer drawn at the top
        panels.append(
            HeatPanel(
                title=", ".join(assign(k, v) for k, v in zip(facet, combo, strict=True)),
                row_labels=tuple(str(n_layers - 1 - i) for i in range(n_layers)),
                col_labels=tuple(str(int(k)) for k in lags),
                values=grid,
            )
        )
    note = f"{left} more settings are not drawn." if left else ""
    fig = HeatmapGrid(
        title="Depth × lag: every layer's state",
        caption=(
            "Colour: log10 ||dh_T/dh^(l)_{T−k}|| (the last state of the top layer against layer "
            "l's state k steps earlier, mean over seeds) for each layer l (rows, top layer at "
            "the top) and lag k (columns). Blue is a norm below 1 (vanishing), red above 1 "
            "(exploding), grey an exact zero."
        ),
        panels=tuple(panels),
        ncols=2,
        xlabel="lag k (steps)",
        ylabel="layer l",
        colorbar_label=r"$\log_{10}\,\|\partial h_T\,/\,\partial h^{(l)}_{T-k}\|$",
        dense=True,
        note=note,
    )
    return Section(
        "depth",
        "Depth and lag",
        "In a stacked network the gradient travels back in time and down through the layers; "
        "these maps show both directions at once.",
        (fig,),
    )
