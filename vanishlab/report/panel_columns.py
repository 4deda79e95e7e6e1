"""The columns of a faceted figure whose settings do not all combine: which measured panel
goes where, so that a column stays one value of the column axis (one model) where it can.

An LSTM has no activation, so a sweep of rnn, lstm and gru at tanh and relu measures four
RNN panels per depth-and-activation row and two of each gated cell: :func:`measured_panels`
lays them out as columns ``rnn, tanh | rnn, relu | lstm | gru`` (:func:`split_columns`), not
three to a row with models mixed within columns.
"""

from __future__ import annotations

from .format import MAX_COLUMNS, NOT_APPLICABLE, hashable

__all__ = ["measured_panels", "split_columns"]


def measured_panels(
    panels: list[tuple[object, ...]], measured: set[tuple[object, ...]], col_values: list[object]
) -> tuple[list[tuple[object, ...]], int]:
    """The measured ones of ``panels`` (rows times column values, the column value last) and
    their columns. Where every column value has as many, row i holds the i-th of each, so a
    column stays one value (``rnn, tanh, 1 layer | lstm, 1 layer | gru, 1 layer``); run on three
    to a row, a gated run's rows read ``rnn 1 | rnn 2 | lstm 1`` then ``gru 1 | lstm 2 | gru 2``.
    Where they have not, because a panel axis applies to some column values alone (the RNN's
    two activations beside the gated cells), a column value is one column per value of that
    axis when that makes the columns even (:func:`split_columns`). Otherwise they run on three
    to a row."""
    kept = [panel for panel in panels if panel in measured]
    by_col = [[panel for panel in kept if panel[-1] == c] for c in col_values]
    n = len(by_col[0]) if by_col else 0
    if n and len(by_col) > 1 and all(len(group) == n for group in by_col):
        return [group[i] for i in range(n) for group in by_col], len(by_col)
    split = split_columns([group for group in by_col if group])
    if split is not None:
        return [group[i] for i in range(len(split[0])) for group in split], len(split)
    return kept, min(len(kept), 3)


def _unset(value: object) -> bool:
    """Whether a panel's value of an axis is none: the axis does not apply to its model
    (:data:`~.format.NOT_APPLICABLE`, an LSTM's activation), or was not recorded (NaN)."""
    return value is None or value == NOT_APPLICABLE or (isinstance(value, float) and value != value)


def split_columns(
    by_col: list[list[tuple[object, ...]]],
) -> list[list[tuple[object, ...]]] | None:
    """The columns of ``by_col`` (the panels of each column value, in order) split by the
    panel axes that apply to some column values alone (an activation: n/a for an LSTM), so
    that ``rnn (4 panels) | lstm (2) | gru (2)`` becomes ``rnn, tanh | rnn, relu | lstm |
    gru``, two panels each, row i alike in every other axis (1 layer, then 2 layers). None
    where that gives columns of unequal length, rows that differ, or more than
    :data:`~.format.MAX_COLUMNS` columns."""
    if len(by_col) < 2:
        return None
    width = len(by_col[0][0]) - 1
    partial = [
        j
        for j in range(width)
        if any(all(_unset(p[j]) for p in group) for group in by_col)
        and any(not _unset(p[j]) for group in by_col for p in group)
    ]
    if not partial:
        return None
    columns: list[list[tuple[object, ...]]] = []
    for group in by_col:
        subs: dict[tuple[object, ...], list[tuple[object, ...]]] = {}
        for panel in group:
            key = tuple("" if _unset(panel[j]) else panel[j] for j in partial)
            subs.setdefault(key, []).append(panel)
        columns += subs.values()
    n = len(columns[0])
    if len(columns) > MAX_COLUMNS or any(len(column) != n for column in columns):
        return None
    rest = [j for j in range(width) if j not in partial]
    for i in range(n):
        if len({tuple(hashable(column[i][j]) for j in rest) for column in columns}) > 1:
            return None
    return columns
