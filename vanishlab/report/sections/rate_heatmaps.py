"""The rate heatmaps: a setting's mean rate and horizon by two axes, one panel per combination
of the other axes, a figure per :data:`PANELS_PER_FIGURE` panels; and their hatched squares,
the combinations the run has no cell of (an init that does not apply to a model, not swept, or
in an unfinished run's grid but not measured yet)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ...sweep.inits import INITS
from ..format import (
    RATE_LABEL,
    and_list,
    horizon_text,
    label,
    model_text,
    py,
    setting_titles,
    value_texts,
)
from ..layout import minus_inf_rate, select, value_range
from ..model import HeatmapGrid, HeatPanel
from ..view import RunView, applicable_values, applies_to_none
from .rate_cells import HORIZON_FOLD, horizon_median_note, mean_rate_text, whose_jacobian
from .setting_fits import partial_zero

__all__ = [
    "NOT_YET",
    "PANELS_PER_FIGURE",
    "absent_reason",
    "init_scopes",
    "rate_heatmaps",
    "why_absent",
]

#: Heatmaps per figure; more combinations make more figures (parts), never fewer panels.
PANELS_PER_FIGURE = 12

#: Why a square is hatched in an unfinished run: its combination is in the run's grid, its cells
#: not measured yet (no init's name: a name holds no space).
NOT_YET = "not measured yet"


def rate_heatmaps(
    view: RunView,
    state: pd.DataFrame,
    row_key: str,
    col_key: str,
    title: str,
) -> list[HeatmapGrid]:
    """Rate heatmaps by ``row_key`` x ``col_key``, one panel per combination of the other
    axes: every combination is drawn, :data:`PANELS_PER_FIGURE` to a figure."""
    if row_key not in state or col_key not in state:
        return []
    if any(applies_to_none(state, k) for k in (row_key, col_key)):
        return []  # an axis of none of these cells (activation, in a run of gated cells)
    facet = [
        c
        for c in view.varying
        if c not in (row_key, col_key, "seed")
        and c in state
        # by model: an nn.RNN's one activation and the gated cells' n/a are one panel
        and not (c == "activation" and "model" in (row_key, col_key))
    ]
    combos = (
        list(view.setting_order(state[facet].drop_duplicates(), facet).itertuples(index=False))
        if facet
        else [()]
    )
    all_rows = view.values(row_key, state[row_key].unique())
    all_cols = view.values(col_key, state[col_key].unique())
    panels = []
    why: list[set[str]] = []  # per panel, why squares are hatched: an init, "" not swept, NOT_YET
    titles = setting_titles([zip(facet, combo, strict=True) for combo in combos])
    for combo, panel_title in zip(combos, titles, strict=True):
        sub = select(state, zip(facet, combo, strict=True))
        # A panel of gated cells has no tanh and relu columns, an nn.RNN panel no "n/a" one.
        rows_v = applicable_values(sub, row_key, all_rows)
        cols_v = applicable_values(sub, col_key, all_cols)
        values = np.full((len(rows_v), len(cols_v)), np.nan)
        text = [["" for _ in cols_v] for _ in rows_v]
        for rec in sub.to_dict("records"):
            i = rows_v.index(py(rec[row_key]))
            j = cols_v.index(py(rec[col_key]))
            values[i, j] = rec["rate"]
            h = horizon_text(float(rec["horizon"]), rec["lag_end"])
            h += "‡" if rec.get("horizon_at_zero", False) else ""
            mark = "†" if partial_zero(rec) else ""
            text[i][j] = f"{mean_rate_text(rec)}{mark}\nh {h}"  # the table's digits
        where = dict(zip(facet, combo, strict=True))
        why.append(set())
        absent = _absent(view, where, (row_key, rows_v), (col_key, cols_v), values, why[-1])
        panels.append(
            HeatPanel(
                title=panel_title,
                row_labels=_labels(sub, row_key, rows_v),
                col_labels=_labels(sub, col_key, cols_v),
                values=values,
                text=tuple(tuple(t) for t in text),
                absent=absent,
            )
        )
    scale = value_range(p.values for p in panels) if len(panels) > PANELS_PER_FIGURE else None
    starts = range(0, len(panels), PANELS_PER_FIGURE)
    pages = [panels[i : i + PANELS_PER_FIGURE] for i in starts]
    hatched = [set().union(*why[i : i + PANELS_PER_FIGURE]) for i in starts]
    settings = [tuple(zip(facet, combo, strict=True)) for combo in combos]
    failed = [view.failed_note_in(*settings[i : i + PANELS_PER_FIGURE]) for i in starts]
    # A part's caption explains the marks its own panels show (each part said what any showed).
    marked = [_shows("†", page) for page in pages]
    at_zero = [_shows("‡", page) for page in pages]
    return [
        HeatmapGrid(
            title=title,
            caption=(
                f"Colour: the decay rate (ln per step, {view.over_seeds()}) by {label(row_key)} "
                "(rows) "
                f"and {label(col_key)} (columns): blue vanishing, white stable, red exploding"
                + (", grey an exact zero (−∞)" if any(p.grey for p in page) else "")
                + ("; one panel per combination of the other axes. " if facet else ". ")
                + "Each cell gives the rate"
                + (" (to the decimals of the table below)" if view.seeds > 1 else "")
                + " and the horizon h, the lag at which the norm has "
                f"fallen {HORIZON_FOLD} ("
                + ("the " if view.seeds > 1 else "")
                + horizon_median_note("'h > n'", view.seeds)
                + ("; a median may lie between two lags)." if view.seeds > 1 else ").")
                + (
                    " † marks a mean over only some seeds: the others have "
                    f"{minus_inf_rate(view.seeds)}."
                    if marked[n]
                    else ""
                )
                + (
                    f" ‡ marks a horizon where {whose_jacobian(view.seeds)} Jacobian is exactly "
                    "zero: the norm is a geometric mean over the batch, 0 as soon as one "
                    "sample's Jacobian is."
                    if at_zero[n]
                    else ""
                )
                + (_absent_note(hatched[n]) if any(p.absent is not None for p in page) else "")
                + failed[n]
            ),
            panels=tuple(page),
            ncols=min(len(page), 3),
            xlabel=label(col_key),
            ylabel=label(row_key),
            colorbar_label=RATE_LABEL,
            scale=scale,
            absent_label="not in the run (yet)" if NOT_YET in hatched[n] else "",
        )
        for n, page in enumerate(pages)
    ]


def _labels(cells: pd.DataFrame, key: str, values: list[object]) -> tuple[str, ...]:
    """A panel's row or column labels: ``values`` of ``key`` as :func:`value_texts` writes
    them, a model named as every figure of the page names it (:func:`model_text`: "rnn
    (tanh)", the activation of the panel's nn.RNN cells, of which a map has one)."""
    texts = value_texts(key, values)
    if key != "model" or "activation" not in cells:
        return tuple(texts)
    for i, model in enumerate(values):
        acts = cells.loc[(cells[key] == model).to_numpy(dtype=bool), "activation"].unique()
        if len(acts) == 1:
            texts[i] = model_text(model, acts[0])
    return tuple(texts)


def _shows(mark: str, panels: list[HeatPanel]) -> bool:
    """Whether a cell of these panels is marked ``mark`` (its text holds it)."""
    return any(mark in t for p in panels for row in (p.text or ()) for t in row)


def _absent(
    view: RunView,
    where: Mapping[str, object],
    rows: tuple[str, list[object]],
    cols: tuple[str, list[object]],
    values: np.ndarray,
    why: set[str],
) -> np.ndarray | None:
    """Which blank squares of a panel (the cells ``where``) are combinations the run has no
    cell of, failed or not: an init that does not apply to the square's model (added to
    ``why``), settings never swept together ("" added to ``why``), or, in an unfinished run,
    settings of its grid whose cells are not measured yet (:data:`NOT_YET`). None when the run's
    cells are not at hand (every blank square is then a failed setting's, as the captions
    say)."""
    (row_key, rows_v), (col_key, cols_v) = rows, cols
    cells = view.cells
    if not len(cells) or any(c not in cells for c in (*where, row_key, col_key)):
        return None
    cells = select(cells, where.items())
    present = {(py(r), py(c)) for r, c in zip(cells[row_key], cells[col_key], strict=True)}
    absent = np.zeros(values.shape, dtype=bool)
    for i, j in zip(*np.nonzero(np.isnan(values)), strict=True):
        if (rows_v[i], cols_v[j]) in present:
            continue  # a failed setting: blank, as the failed note says
        absent[i, j] = True
        why.add(absent_reason(view, {**where, row_key: rows_v[i], col_key: cols_v[j]}))
    return absent if absent.any() else None


def absent_reason(view: RunView, setting: Mapping[str, object]) -> str:
    """Why the run of ``view`` has no cell of ``setting`` (beside the run's fixed axes), for
    every figure that says so: :func:`why_absent`'s answer, or :data:`NOT_YET` where
    ``setting`` lies in an unfinished run's grid."""
    reason = why_absent({**view.fixed, **setting})
    return NOT_YET if not reason and _planned(view, setting) else reason


def _planned(view: RunView, setting: Mapping[str, object]) -> bool:
    """Whether ``setting`` lies in one of the grids of an unfinished run (fewer cells at hand
    than its manifest plans): its cells are still to be measured, not left out of the run. An
    axis a grid does not list, or a value of None (an axis that does not apply), matches."""
    n_cells = view.manifest.get("n_cells")
    if not isinstance(n_cells, int) or n_cells <= len(view.cells):
        return False
    grids = view.manifest.get("grids") or [view.manifest.get("axes") or {}]
    return any(
        isinstance(grid, Mapping)
        and all(v is None or k not in grid or v in list(grid[k] or ()) for k, v in setting.items())
        for grid in grids
    )


def why_absent(setting: Mapping[str, object]) -> str:
    """Why the run has no cell of ``setting`` (a combination of axis values, ``model`` rnn
    when not given): the name of its init when that init does not apply to its model (from
    the init registry), "" when the combination was simply not swept."""
    init = INITS.get(str(setting.get("init")))
    model = setting.get("model", "rnn")
    return init.name if init is not None and model not in init.models else ""


def init_scopes(why: set[str]) -> str:
    """Which inits of ``why`` (:func:`why_absent`'s answers) apply to which models only, as
    ``vanishlab inits`` lists them, and whether some combinations were not swept ("" in
    ``why``): "chrono applies to LSTM and GRU only; the others were not swept"."""
    scopes: dict[tuple[str, ...], list[str]] = {}
    for name in sorted(n for n in why if n and n != NOT_YET):
        scopes.setdefault(INITS[name].models, []).append(name)
    parts = [
        f"{and_list(names)} {'applies' if len(names) == 1 else 'apply'} to "
        f"{and_list([m.upper() for m in models])} only"
        for models, names in scopes.items()
    ]
    if "" in why:
        parts.append("the others were not swept" if parts else "not swept")
    if NOT_YET in why:  # an unfinished run's grid: the report is partial
        parts.append(f"{'the others ' if parts else ''}{NOT_YET}: the run is unfinished")
    return "; ".join(parts)


def _absent_note(why: set[str]) -> str:
    """The captions' sentence on hatched squares (see :func:`init_scopes`)."""
    return (
        f" Hatched: a combination the run has no cell of ({init_scopes(why)}), not a failed "
        "setting."
    )
