"""The panels and gains the Trainability section's figures share (:mod:`.trainability`,
:mod:`.trainability_outcomes`): one panel per combination of the varying settings but gain, T
and seed, at most :data:`MAX_PANELS`, and one line style per gain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..format import format_value, py, setting_titles, value_texts
from ..layout import figures_drawn, omitted
from ..view import RunView

__all__ = [
    "MAX_PANELS",
    "OUTCOME_TITLE",
    "SEQ_LEN_LABEL",
    "drawn_cells",
    "drawn_gains",
    "gain_legend",
    "one_gain",
    "panel_columns",
    "panel_keys",
    "setting_panels",
    "trained_gains",
]

_NOT_PANEL = ("gain", "seq_len", "seed", "cell_id")
MAX_PANELS = 12
SEQ_LEN_LABEL = "T (sequence length)"  # the x-axis of the figures
MAX_COLUMNS = 3  # the panels a row of each figure holds
#: The title of the figure of each cell's outcome (:mod:`.trainability_outcomes`), by which
#: the section's intro names it (:mod:`.trainability_agreement`).
OUTCOME_TITLE = "Fall at the required lag against T, solved and not"


def panel_keys(frame: pd.DataFrame, view: RunView) -> list[str]:
    """The varying setting columns that make panels (everything but gain, T and seed)."""
    return [c for c in view.varying if c in frame and c not in _NOT_PANEL]


def setting_panels(
    table: pd.DataFrame, view: RunView
) -> tuple[list[tuple[str, pd.DataFrame]], str]:
    """The panels drawn (their titles and rows) and the note on those left out, the titles
    of both told apart (:func:`~..format.setting_titles`). At most :data:`MAX_PANELS` are
    drawn, in display order, taken round-robin over the models as the faceted figures' are
    (:func:`..layout.figures_drawn`): a sort by name drew the first twelve, gru and lstm before
    rnn, and could leave a model out."""
    keys = panel_keys(table, view)
    if not keys:
        return [("all cells", table)], ""
    order = view.setting_order(table[keys].drop_duplicates(), keys)
    combos = list(dict.fromkeys(tuple(py(v) for v in row) for row in order.itertuples(index=False)))
    drawn = figures_drawn(combos, keys, MAX_PANELS)
    # the drawn and the left out told apart (input_std 1.00001 and 1.00002 left out were
    # both "input std = 1")
    said = setting_titles([zip(keys, c, strict=True) for c in combos])
    titles = dict(zip(combos, said, strict=True))
    drawn_panels = []
    for combo in drawn:
        mask = np.ones(len(table), dtype=bool)
        for k, v in zip(keys, combo, strict=True):
            mask &= (table[k].isna() if pd.isna(v) else table[k] == v).to_numpy(dtype=bool)
        drawn_panels.append((titles[combo], table[mask]))
    left = [titles[c] for c in combos if c not in drawn]
    return drawn_panels, omitted(0, left, keys, table="the table below")


def drawn_cells(groups: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """The cells of the panels drawn (:func:`setting_panels`' groups): past :data:`MAX_PANELS`
    fewer than the table's, and what every caption's and sentence's count of drawn cells goes
    by."""
    return pd.concat([rows for _, rows in groups])


def panel_columns(groups: list) -> int:
    """How many panels a row of each figure holds: up to :data:`MAX_COLUMNS`, one per group."""
    return min(MAX_COLUMNS, max(1, len(groups)))


def trained_gains(table: pd.DataFrame) -> list[float]:
    """The gains of the trained cells (``table``), sorted: the one rule of the table's gain
    column and, of the cells they draw (:func:`drawn_gains`), of the figures' legends and the
    first figure's words for one gain. The table went by every cell of the run (failed ones
    too) and the figure by the trained ones: a run whose gain-6 cell overflowed at init was
    said to be "Every cell is at gain 1.0", and its table gave "1.0" in every row all the
    same."""
    return sorted(table["gain"].dropna().unique())


def drawn_gains(groups: list[tuple[str, pd.DataFrame]]) -> list[float]:
    """The gains of the cells of the panels drawn (:func:`drawn_cells`), which each figure's
    legend and line styles, and the first figure's words for one gain, go by: past
    :data:`MAX_PANELS` a gain whose cells are all in panels left out listed a legend of two
    gains over lines of one (a legend of one entry, drawn) and took the caption's "Every cell
    is at gain 1.0" away."""
    return trained_gains(drawn_cells(groups))


def gain_legend(gains: list[float]) -> tuple[str, ...]:
    """The gains' entries under the legend's title, "gain"; none where there is one gain: a
    legend of one line says nothing, and the first figure's caption names it once
    (:func:`one_gain`). Told apart (:func:`~..format.value_texts`)."""
    return tuple(value_texts("gain", gains)) if len(gains) > 1 else ()


def one_gain(gains: list[float], view: RunView, every: list[float] | None = None) -> str:
    """The first figure's words for drawn cells of one gain (``gains``, :func:`drawn_gains`):
    " Every cell is at gain 0.25.", said once, as a caption says a fact; the titles of both
    figures named it ("... (gain = 0.25)") as if it varied, and "(gain = 1.0)" over a sweep of
    inits at --gain 1 read as a setting of the figure. "Every trained cell" where the run's
    other cells (left out of the section: they overflowed or failed) are at other gains;
    "Every cell drawn" where trained cells of panels not drawn are (``every``, the gains of
    all the trained cells, :func:`trained_gains`, has another). "" for none (no cell has a
    gain)."""
    if len(gains) != 1:
        return ""
    if every is not None and len(every) > 1:
        which = "cell drawn"
    else:
        which = "trained cell" if "gain" in view.varying else "cell"
    return f" Every {which} is at gain {format_value(gains[0])}."
