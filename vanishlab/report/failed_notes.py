"""The notes that close a figure, a map or a table drawn from a run's measured cells where some
failed: how many failed (listed under the anomalies' section), what their settings lack
("a line stops, a square stays blank", "has no row"), and the axis values of which no cell was
measured, which have no place at all. :class:`FailedNotes` is mixed into
:class:`~vanishlab.report.view.RunView`, whose ``cells``, ``varying`` and ``values`` it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..sweep.section_names import ANOMALIES
from .format import NOT_APPLICABLE, and_list, hashable, plural, py, setting_titles

__all__ = ["FailedNotes"]


class FailedNotes:
    """The failed cells' notes of a :class:`~vanishlab.report.view.RunView` (each computed
    once a page)."""

    cells: pd.DataFrame
    varying: tuple[str, ...]

    if TYPE_CHECKING:

        def values(self, column: str, present: Iterable[object] | None = None) -> list[object]:
            """The view's display order of ``column``'s values."""
            ...

    @cached_property
    def failed_note(self) -> str:
        """A closing sentence for a figure drawn from the measured cells, in a run where some
        failed ("" otherwise): their settings' lines stop, squares stay blank, and means are
        over the seeds measured; an axis value no cell of was measured is named, as it has no
        point, line, row, column or panel at all."""
        gone = self.unmeasured_values
        where = ""
        if gone:
            verb = "has" if len(gone) == 1 else "have"
            where = (
                f"; {and_list(gone)}, of which no cell was measured, {verb} no point, line, "
                "row, column or panel at all"
            )
        return self._failed(f"is not drawn (a line stops, a square stays blank{where})")

    def failed_note_in(self, *settings: Iterable[tuple[str, object]]) -> str:
        """:attr:`failed_note` for a figure of the given settings (``(("seq_len", 50),)``: a
        figure per T; several: a page of heatmap panels): its count is of the failed cells of
        those settings, and it is "" where none failed, unless an axis value, or a setting of
        those keys, has no measured cell at all (it has no figure or panel to show that it is
        missing: the run-wide note then stays)."""
        among = [tuple(s) for s in settings]
        keys = list(dict.fromkeys(k for s in among for k, _ in s))
        if self.unmeasured_values or self._unmeasured_setting(keys):
            return self.failed_note
        return self._failed("is not drawn (a line stops, a square stays blank)", among)

    @cached_property
    def _hashed_columns(self) -> dict[str, pd.Series]:
        return {}

    def _hashed(self, column: str) -> pd.Series:
        """``cells[column]`` as :func:`hashable` values, mapped once per page (every figure's
        failed-cell note asks for the same columns)."""
        if column not in self._hashed_columns:
            self._hashed_columns[column] = self.cells[column].map(hashable)
        return self._hashed_columns[column]

    def _cells_of(self, setting: Iterable[tuple[str, object]]) -> np.ndarray:
        """Which cells have every ``(column, value)`` of ``setting`` (a column the cells lack
        holds them all)."""
        match = np.ones(len(self.cells), dtype=bool)
        for column, value in setting:
            if column in self.cells:
                match &= (self._hashed(column) == hashable(value)).to_numpy()
        return match

    def _unmeasured_setting(self, keys: Sequence[str]) -> bool:
        """Whether some failed cell's values of ``keys`` are those of no measured cell."""
        cells = self.cells
        keys = [k for k in keys if k in cells]
        if not keys or "status" not in cells:
            return False
        settings = list(zip(*(self._hashed(k) for k in keys), strict=True))
        status = cells["status"].to_numpy()
        ok = {s for s, st in zip(settings, status, strict=True) if st == "ok"}
        return any(st == "failed" and s not in ok for s, st in zip(settings, status, strict=True))

    @cached_property
    def unmeasured_values(self) -> list[str]:
        """The swept axis values every cell of which failed, in words (``"gain = 1e+39"``),
        each axis's told apart (:func:`~.format.setting_titles`: gains 1.00001 and 1.00002 were
        both "gain = 1"): the figures drawn from the measured cells have no place for them."""
        cells = self.cells
        if "status" not in cells:
            return []
        ok = cells[cells["status"] == "ok"]
        words: list[str] = []
        for column in self.varying:
            values = self.values(column)
            titles = setting_titles([[(column, v)] for v in values])
            words += [
                title
                for value, title in zip(values, titles, strict=True)
                if value != NOT_APPLICABLE and not (ok[column].map(py) == value).any()
            ]
        return words

    @cached_property
    def failed_rows_note(self) -> str:
        """:attr:`failed_note` for maps whose rows are settings (the depth maps, which draw
        only what was measured): a setting with no seed measured has no rows, and no panel
        where it would have been the only one."""
        return self._failed(
            "has no rows in these maps (and no panel, where it would have been a panel's only "
            "setting)"
        )

    @cached_property
    def failed_table_note(self) -> str:
        """:attr:`failed_note` for a table: a setting with no seed measured has no row."""
        return self._failed("has no row")

    def _failed(
        self, missing: str, among: Sequence[Sequence[tuple[str, object]]] | None = None
    ) -> str:
        cells = self.cells
        status = cells["status"] if "status" in cells else pd.Series(dtype=object)
        failed = (status == "failed").to_numpy(dtype=bool)
        if among is not None:  # the failed cells of any one of these settings
            found = np.zeros(len(cells), dtype=bool)
            for setting in among:
                found |= self._cells_of(setting)
            failed = failed & found
        n = int(failed.sum())
        if not n:
            return ""
        return (
            f" {plural(n, 'failed cell')} (listed under {ANOMALIES.title})"
            f" {'has' if n == 1 else 'have'}"
            f" no measurement: a setting with no seed measured {missing}, and the others are "
            "means over the seeds measured."
        )
