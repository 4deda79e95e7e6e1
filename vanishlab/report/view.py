"""A run seen by the report: its frames plus the derived facts every section needs, once each.

:class:`RunView` wraps the three things a run directory holds (see
:mod:`vanishlab.sweep.store`): the results frame, one row per (cell, source, layer, lag) with
``log10_fro_mean`` = mean over a cell's samples of log10 ||J|| (the log of the geometric-mean
norm); the cells frame, one row per cell with its ``status``; and the manifest dict. It
derives, lazily and once: which axes vary and in which display order their values go, the top
layer's state curves, the input curves, the fits of :func:`vanishlab.fit_decay` and the
per-cell summary of :func:`vanishlab.summarize` (measured beside predicted rates).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..analysis.fits import fit_decay
from ..core.cells import RNN_THEORY_MODELS
from ..errors import VanishlabError
from ..sweep.config import AXIS_TABLE, MODELS
from ..sweep.summary import summarize_frames
from .failed_notes import FailedNotes
from .format import (
    CONFIG_ORDER,
    LINE_PREFERENCE,
    NOT_APPLICABLE,
    PANEL_AXES,
    and_list,
    hashable,
    py,
)

__all__ = ["LSTM_STATE", "RunView", "applicable_values", "applies_to_none", "state_jacobian"]

T = TypeVar("T")


def _applicable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the nulls of model-dependent axes (``Axis.applies_to``) shown as
    :data:`NOT_APPLICABLE`, so that grouping by them keeps gated cells."""
    cols = [a.name for a in AXIS_TABLE if a.applies_to is not None and a.name in frame]
    if not any(frame[c].isna().any() for c in cols):
        return frame
    frame = frame.copy()
    for c in cols:
        frame[c] = frame[c].astype(object).where(frame[c].notna(), NOT_APPLICABLE)
    return frame


def applies_to_none(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` is an axis of none of ``frame``'s rows (activation, in a run of gated
    cells only: every value :data:`NOT_APPLICABLE`)."""
    return column in frame and len(frame) > 0 and bool((frame[column] == NOT_APPLICABLE).all())


def applicable_values(frame: pd.DataFrame, column: str, values: list[object]) -> list[object]:
    """``values`` of ``column`` that a panel of ``frame``'s cells can show: those of an axis
    that applies to them (tanh and relu for nn.RNN cells), or :data:`NOT_APPLICABLE` alone
    for cells it does not apply to (gated cells); all of them for a mix of both."""
    na = frame[column] == NOT_APPLICABLE
    if bool(na.all()):
        return [v for v in values if v == NOT_APPLICABLE]
    if not bool(na.any()):
        return [v for v in values if v != NOT_APPLICABLE]
    return values


#: What s is in an LSTM's state Jacobian dh_T/ds_{T−k} (:func:`state_jacobian`), for a
#: single model's captions.
LSTM_STATE = "s = [h | c], an LSTM's hidden and cell state"


def state_jacobian(lstm: bool, layer: str = "") -> str:
    """The state Jacobian's symbol: dh_T/dh_{T−k}, dh_T/ds_{T−k} where the state s is an
    LSTM's [h | c]; dh^(l) with a ``layer``."""
    s = "s" if lstm else "h"
    return f"dh_T/d{s}{f'^({layer})' if layer else ''}_{{T−k}}"


class RunView(FailedNotes):
    """A run's frames plus the derived facts every section needs, each computed once.

    Args:
        results: ok rows, one per (cell, source, layer, lag); config columns, ``cell_id``,
            ``source``, ``layer``, ``lag``, ``log10_fro_mean``, ``log10_fro_std``, ``n_zero``
            (``log10_spec_*`` are allowed and unused).
        cells: one row per cell: config columns, ``cell_id``, ``status``, ``reason``,
            ``elapsed_s``.
        manifest: the run's manifest dict (see :mod:`vanishlab.sweep.store`); missing keys are
            shown as unknown.
        summary: :func:`vanishlab.summarize` of the run, if already at hand; otherwise
            :attr:`theory` computes it from the frames when a section first asks.
    """

    def __init__(
        self,
        results: pd.DataFrame,
        cells: pd.DataFrame,
        manifest: Mapping[str, Any],
        summary: pd.DataFrame | None = None,
    ) -> None:
        missing = {"cell_id", "source", "layer", "lag", "log10_fro_mean"} - set(results.columns)
        if missing:
            raise VanishlabError(f"results frame lacks columns {sorted(missing)}")
        self.results = _applicable(results)
        self.cells = _applicable(cells)
        self.manifest = dict(manifest)
        self._summary = None if summary is None else _applicable(summary)
        self._memo: dict[str, Any] = {}
        #: The keys of the sections this page shows (None: all): a caption that refers to
        #: another section names it only when it is there.
        self.shown: frozenset[str] | None = None

    def shows(self, key: str) -> bool:
        """Whether this page has the section ``key`` (asked for; a caption that names another
        section names it only then: sections may be left out, or asked in another order)."""
        return self.shown is None or key in self.shown

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for, the stored value after that (a
        derived frame that several sections share is computed once)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # ---- configuration and axes

    @cached_property
    def config_columns(self) -> tuple[str, ...]:
        """The axes (the axis table's columns) the frames hold, in :data:`CONFIG_ORDER`: a
        frame's other columns (metadata, values, a monitor's step) are never taken for one."""
        present = set(self.cells.columns) | set(self.results.columns)
        return tuple(c for c in CONFIG_ORDER if c in present)

    @cached_property
    def varying(self) -> tuple[str, ...]:
        """Config columns with more than one value among all cells (failed ones included)."""
        frame = self.cells if len(self.cells) else self.results
        out = [c for c in self.config_columns if c in frame and frame[c].nunique() > 1]
        axes = list(self.manifest.get("axes") or {})
        # The manifest's axis order first (stable sort: the rest keep CONFIG_ORDER).
        return tuple(sorted(out, key=lambda c: axes.index(c) if c in axes else len(axes)))

    @cached_property
    def fixed(self) -> dict[str, object]:
        """Config columns with a single value, and that value."""
        frame = self.cells if len(self.cells) else self.results
        return {
            c: frame[c].iloc[0]
            for c in self.config_columns
            if c in frame and len(frame) and c not in self.varying
        }

    def values(self, column: str, present: Iterable[object] | None = None) -> list[object]:
        """The values of ``column`` in display order: the manifest's axis order, else sorted."""
        if present is None:
            frame = self.cells if len(self.cells) else self.results
            present = frame[column].dropna().unique()
        seen = list(dict.fromkeys(py(v) for v in present))
        axis = (self.manifest.get("axes") or {}).get(column)
        order = {}
        if isinstance(axis, list):
            for i, v in enumerate(axis):
                order.setdefault(hashable(v), i)

        def key(v: object) -> tuple[int, int, float, str]:
            rank = order.get(hashable(v), len(order))
            num = float(v) if isinstance(v, int | float) else math.inf
            return (rank, 0 if num != math.inf else 1, num, str(v))

        return sorted(seen, key=key)

    def rank(self, column: str) -> dict[Hashable, int]:
        """Position of each value of ``column`` in :meth:`values` order."""
        return {hashable(v): i for i, v in enumerate(self.values(column))}

    @cached_property
    def seeds(self) -> int:
        """Most seeds any setting has (1 when ``seed`` is absent or fixed)."""
        if "seed" not in self.varying or not len(self.results):
            return 1
        per = self.results.groupby(self.setting_columns, dropna=False)["seed"].nunique()
        return int(per.max())

    def over_seeds(self, stat: str = "mean") -> str:
        """How a caption's value stands for a setting's seeds: ``"mean over seeds"`` (or
        another ``stat`` of them: ``"mean ± standard deviation"``), or ``"one seed"`` where no
        setting has more (:attr:`seeds`): a smoke run's captions said "mean over seeds"."""
        return f"{stat} over seeds" if self.seeds > 1 else "one seed"

    @cached_property
    def one_sample(self) -> bool:
        """Whether every measurement is of one sample (``batch`` 1: a sweep's cells, a model's
        inputs, a monitor's probe): its curves have no spread across samples to draw."""
        r = self.results
        return "batch" in r and len(r) > 0 and bool((r["batch"] == 1).all())

    @cached_property
    def setting_columns(self) -> list[str]:
        """Config columns that define a setting: all but ``seed`` (seeds are averaged)."""
        return [c for c in self.config_columns if c != "seed" and c in self.results]

    def panel_keys(self, frame: pd.DataFrame) -> list[str]:
        """The panel axes (:data:`~.format.PANEL_AXES`) of ``frame``, less one that applies to
        none of the run's cells (a run of gated cells only: "n/a, 1 layer" in every title)."""
        return [k for k in PANEL_AXES if k in frame and not applies_to_none(frame, k)]

    @cached_property
    def line_axis(self) -> str | None:
        """The axis drawn as separate lines: ``init`` if it varies, else the first that does."""
        for c in LINE_PREFERENCE:
            if c in self.varying:
                return c
        rest = [c for c in self.varying if c not in (*PANEL_AXES, "seed")]
        return rest[0] if rest else None

    @cached_property
    def models_measured(self) -> list[str]:
        """The models the run has measured cells of, as captions name them, in a fixed order:
        a subset of ``["RNN", "LSTM", "GRU"]``."""
        r = self.results
        models = set(r["model"].dropna().unique()) if "model" in r else {"rnn"}
        return [m.upper() for m in MODELS if m in models]

    @cached_property
    def gated(self) -> str:
        """The gated models the run has measured cells of, for captions: ``"LSTM and GRU"``,
        ``"LSTM"``, ``"GRU"``, or ``""`` (no theory applies to them)."""
        return and_list([m for m in self.models_measured if m.lower() not in RNN_THEORY_MODELS])

    @cached_property
    def lstm(self) -> bool:
        """Whether the run has measured LSTM cells, whose state s is [h | c], not h."""
        return "LSTM" in self.models_measured

    def state_jacobian(self, layer: str = "") -> str:
        """The state Jacobian's symbol in captions: dh_T/dh_{T−k} (dh^(l) with a ``layer``),
        or dh_T/ds_{T−k} in a run with LSTM cells (see :attr:`state_note`)."""
        return state_jacobian(self.lstm, layer)

    @property
    def state_note(self) -> str:
        """What s is, as a closing sentence for a caption that writes :meth:`state_jacobian`
        ("" in a run without LSTM cells)."""
        if not self.lstm:
            return ""
        h = [{"RNN": "nn.RNN"}.get(m, m) for m in self.models_measured if m != "LSTM"]
        carry = f"h for {and_list(h)}, " if h else ""
        return f" s is the state a cell carries: {carry}[h | c] for an LSTM."

    def state_label(self, layer: str = "") -> str:
        """:meth:`state_jacobian` as a mathtext axis label."""
        s = "s" if self.lstm else "h"
        sup = f"^{{({layer})}}" if layer else ""
        return rf"$\log_{{10}}\,\|\partial h_T\,/\,\partial {s}{sup}_{{T-k}}\|$"

    # ---- derived frames

    @cached_property
    def theory(self) -> pd.DataFrame:
        """Measured beside predicted, one row per cell (:func:`vanishlab.summarize`)."""
        if self._summary is not None:
            return self._summary
        return summarize_frames(self.results, self.cells)

    @cached_property
    def top_state(self) -> pd.DataFrame:
        """State rows of the top layer: h_T against the top layer's own earlier states."""
        r = self.results
        if "num_layers" in r:
            top = r["num_layers"].astype("int64") - 1
            mask = (r["source"] == "state") & (r["layer"].astype("Float64") == top).fillna(False)
        else:
            mask = r["source"] == "state"
            if mask.any():
                mask &= r["layer"] == r.loc[mask, "layer"].max()
        return r[mask.to_numpy(dtype=bool)]

    @cached_property
    def inputs(self) -> pd.DataFrame:
        """Input-sensitivity rows."""
        return self.results[(self.results["source"] == "input").to_numpy(dtype=bool)]

    @cached_property
    def fits(self) -> pd.DataFrame:
        """:func:`vanishlab.fit_decay` of every (cell, source, layer) curve (Frobenius norm)."""
        r = self.results
        if not len(r):
            return pd.DataFrame()
        keys = [*self.config_columns, "cell_id", "source", "layer"]
        keys = [c for c in keys if c in r]
        return fit_decay(r[[*keys, "lag", "log10_fro_mean"]], norm="fro")

    @cached_property
    def top_fits(self) -> pd.DataFrame:
        """Fits of the top layer's state curve (one per cell), with ``setting`` columns."""
        f = self.fits
        if not len(f):
            return f
        state = f["source"] == "state"
        if "num_layers" in f:
            top = f["num_layers"].astype("int64") - 1
            state &= (f["layer"].astype("Float64") == top).fillna(False)
        return f[state.to_numpy(dtype=bool)]

    @cached_property
    def input_fits(self) -> pd.DataFrame:
        """Fits of the input-sensitivity curve (one per cell)."""
        f = self.fits
        if not len(f):
            return f
        return f[(f["source"] == "input").to_numpy(dtype=bool)]

    # ---- the one order of a table of settings

    def table_axes(self, columns: Iterable[str]) -> list[str]:
        """The setting columns a table shows, of ``columns`` (its frame's), in the order every
        table of the report shows them: the run's varying axes (:attr:`varying`, the seed
        among them where the table lists cells), ``model`` first, the others in display order
        (the manifest's axis order). :meth:`table_order` sorts the rows by them."""
        present = set(columns)
        return [c for c in sorted(self.varying, key=lambda c: c != "model") if c in present]

    def table_order(
        self, frame: pd.DataFrame, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """``frame``'s rows in the one order of every table of settings on the page: grouped
        by model first, in the model axis' own order (rnn, lstm, gru), then by the table's
        other setting columns left to right, each in its values' display order. ``columns``
        are the table's setting columns in the order it shows them (default:
        :meth:`table_axes` of the frame); ``model`` leads wherever it stands among them, and
        the frame's other setting columns break ties. So a mixed run's table lists each
        model's rows as one block (they alternated rnn, lstm, gru setting by setting), and
        the rows of every table follow its columns (the rates table's were sorted by the axis
        table's report ranks, init before T, beside columns in the manifest's order)."""
        axes = list(self.table_axes(frame.columns) if columns is None else columns)
        axes.sort(key=lambda c: c != "model")  # stable: the others keep the table's order
        rest = [c for c in self.setting_columns if c in frame and c not in axes]
        return self.setting_order(frame, [*axes, *rest])

    def setting_order(self, frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
        """``frame`` sorted by ``columns`` in display order of each column's values."""
        if not len(frame) or not columns:
            return frame
        ranks = []
        for c in columns:
            rank = self.rank(c)
            ranks.append(np.array([rank.get(hashable(v), len(rank)) for v in frame[c]]))
        order = np.lexsort(ranks[::-1])  # the first column is the primary key
        return frame.iloc[order]
