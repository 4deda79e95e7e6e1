"""Stage one of a report: turn a run's frames into plain page data (:mod:`.model`).

Inputs are the three things a run directory holds (see :mod:`vanishlab.sweep.store`): the results
frame, one row per (cell, source, layer, lag) with ``log10_fro_mean`` = mean over a cell's
samples of log10 ||J||, i.e. the log of the geometric-mean norm; the cells frame, one row per
cell with its ``status``; and the manifest dict. Nothing here draws or writes HTML.

What the sections show (each is left out when the run has nothing for it; the overview is
built here, the others in :mod:`.sections` and :mod:`.theory`):

- decay curves: log10 ||dh_T/dh_{T-k}|| of the top layer against the lag k, averaged over
  seeds (mean of logs), with the spread across seeds as a band (min to max) or, with one
  seed, +-1 standard deviation across the cell's samples;
- the same for the input sensitivity ||dh_T/dx_{T-k}||;
- depth x lag heatmaps of every layer's state Jacobian, for stacked networks;
- fitted rates, d ln||J|| / dk in natural-log units per step (:func:`vanishlab.fit_decay`),
  with the horizon (first lag 3 decades below lag 0) and the phase, as a table and heatmaps;
- the gain phase diagram (rate against gain), when the run sweeps the gain;
- anomalies: failed cells, exact zero Jacobians (log10 = -inf), overflow.

Sections are registered in :data:`SECTIONS` (key -> builder). A builder takes a
:class:`RunView` and returns a :class:`~.model.Section` or ``None`` (no data): a later step
(theory overlays, say) adds or replaces one with :func:`register_section` without touching
the renderer.

Curves are thinned to at most :data:`MAX_POINTS` lags and figures are capped
(:data:`MAX_PANELS`, :data:`MAX_FIGURES`), with a note saying what was left out, so a run of
thousands of cells still makes a page of a few megabytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.fits import fit_decay
from ..errors import VanishlabError
from .model import (
    Code,
    KeyValues,
    Report,
    Section,
    Table,
)

__all__ = [
    "FLOAT32_MAX_LOG10",
    "MAX_FIGURES",
    "MAX_PANELS",
    "MAX_POINTS",
    "SECTIONS",
    "RunView",
    "build_report",
    "format_value",
    "register_section",
    "section_keys",
]

MAX_POINTS = 160  # lags kept per curve
MAX_PANELS = 24  # panels per figure
MAX_COLUMNS = 5  # values of the column axis shown side by side
MAX_FIGURES = 4  # figures per section (one per combination of the remaining axes)
MAX_TABLE_ROWS = 2000
MAX_ANOMALY_ROWS = 200
FLOAT32_MAX_LOG10 = math.log10(float(np.finfo(np.float32).max))  # 38.53

# Columns of the cells frame that are not configuration.
CELL_META = ("cell_id", "status", "reason", "elapsed_s")
# Columns of the results frame that are not configuration.
RESULT_META = ("cell_id", "source", "layer", "lag", "n_zero")
# The configuration columns in the order tables show them; other axes follow.
CONFIG_ORDER = (
    "activation",
    "num_layers",
    "init",
    "gain",
    "seq_len",
    "hidden_size",
    "input_size",
    "input_std",
    "bias",
    "batch",
    "dtype",
    "seed",
)
# Preference for the axis drawn as separate lines when ``init`` does not vary.
LINE_PREFERENCE = ("init", "gain", "input_std", "hidden_size", "bias", "input_size", "seq_len")
# Axes that make panels (rows of the grid); the rest make columns or separate figures.
PANEL_AXES = ("activation", "num_layers")

LABELS = {
    "activation": "activation",
    "num_layers": "layers",
    "init": "init",
    "gain": "gain",
    "seq_len": "T",
    "hidden_size": "hidden",
    "input_size": "input size",
    "input_std": "input std",
    "bias": "bias",
    "batch": "batch",
    "dtype": "dtype",
    "seed": "seed",
}


# --------------------------------------------------------------------------- formatting


def format_value(value: object) -> str:
    """A config value or number as short plain text (NaN/NA as an em dash, -inf as -inf)."""
    if value is None or value is pd.NA:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "−∞" if v < 0 else "+∞"
        if v == int(v) and abs(v) < 1e6:
            return f"{v:.1f}" if abs(v) < 10 else str(int(v))
        return f"{v:.4g}"
    return str(value)


def _rate_text(rate: float) -> str:
    if math.isnan(rate):
        return "—"
    if math.isinf(rate):
        return "−∞" if rate < 0 else "+∞"
    return f"{rate:+.3f}".replace("-", "−")


def _label(column: str) -> str:
    return LABELS.get(column, column)


def _assign(column: str, value: object) -> str:
    """``"gain 1.5"``, ``"tanh"`` (activation and init name themselves), ``"2 layers"``."""
    text = format_value(value)
    if column in ("activation", "init"):
        return text
    if column == "num_layers":
        return f"{text} layer" + ("" if text == "1" else "s")
    return f"{_label(column)} {text}"


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or math.isnan(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)} min {secs:.0f} s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)} h {int(minutes)} min"


# --------------------------------------------------------------------------- the run


class RunView:
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
        self.results = results
        self.cells = cells
        self.manifest = dict(manifest)
        self._summary = summary

    # ---- configuration and axes

    @cached_property
    def config_columns(self) -> tuple[str, ...]:
        """Configuration columns, known ones in :data:`CONFIG_ORDER` first."""
        present = [c for c in self.cells.columns if c not in CELL_META]
        present += [
            c
            for c in self.results.columns
            if c not in RESULT_META
            and not c.startswith("log10_")
            and c not in present
            and c not in CELL_META
        ]
        known = [c for c in CONFIG_ORDER if c in present]
        return tuple(known + [c for c in present if c not in known])

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
        seen = list(dict.fromkeys(_py(v) for v in present))
        axis = (self.manifest.get("axes") or {}).get(column)
        order = {}
        if isinstance(axis, list):
            for i, v in enumerate(axis):
                order.setdefault(_hashable(v), i)

        def key(v: object) -> tuple[int, int, float, str]:
            rank = order.get(_hashable(v), len(order))
            num = float(v) if isinstance(v, int | float) else math.inf
            return (rank, 0 if num != math.inf else 1, num, str(v))

        return sorted(seen, key=key)

    def rank(self, column: str) -> dict[Hashable, int]:
        """Position of each value of ``column`` in :meth:`values` order."""
        return {_hashable(v): i for i, v in enumerate(self.values(column))}

    @cached_property
    def seeds(self) -> int:
        """Most seeds any setting has (1 when ``seed`` is absent or fixed)."""
        if "seed" not in self.varying or not len(self.results):
            return 1
        per = self.results.groupby(self.setting_columns, dropna=False)["seed"].nunique()
        return int(per.max())

    @cached_property
    def setting_columns(self) -> list[str]:
        """Config columns that define a setting: all but ``seed`` (seeds are averaged)."""
        return [c for c in self.config_columns if c != "seed" and c in self.results]

    @cached_property
    def line_axis(self) -> str | None:
        """The axis drawn as separate lines: ``init`` if it varies, else the first that does."""
        for c in LINE_PREFERENCE:
            if c in self.varying:
                return c
        rest = [c for c in self.varying if c not in (*PANEL_AXES, "seed")]
        return rest[0] if rest else None

    # ---- derived frames

    @cached_property
    def theory(self) -> pd.DataFrame:
        """Measured beside predicted, one row per cell (:func:`vanishlab.summarize`)."""
        if self._summary is not None:
            return self._summary
        from ..sweep.summary import summarize_frames

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

    def setting_order(self, frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
        """``frame`` sorted by ``columns`` in display order of each column's values."""
        if not len(frame) or not columns:
            return frame
        ranks = []
        for c in columns:
            rank = self.rank(c)
            ranks.append(np.array([rank.get(_hashable(v), len(rank)) for v in frame[c]]))
        order = np.lexsort(ranks[::-1])  # the first column is the primary key
        return frame.iloc[order]


def _py(value: object) -> object:
    """numpy scalars as Python scalars (so that 1 and np.int64(1) are one value)."""
    return value.item() if isinstance(value, np.generic) else value


def _hashable(value: object) -> Hashable:
    value = _py(value)
    if isinstance(value, float) and value == int(value) and not math.isinf(value):
        return ("num", int(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return ("num", value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[return-value]


# --------------------------------------------------------------------------- registry

SectionBuilder = Callable[[RunView], Section | None]
SECTIONS: dict[str, SectionBuilder] = {}


def register_section(
    key: str, builder: SectionBuilder, *, before: str | None = None, replace: bool = False
) -> None:
    """Add a section builder under ``key`` (at the end, or before the section ``before``).

    ``replace=True`` swaps the builder of an existing key in place (same position).
    """
    if key in SECTIONS and not replace:
        raise ValueError(f"section {key!r} is already registered")
    if key in SECTIONS or before is None:
        SECTIONS[key] = builder
        return
    items = list(SECTIONS.items())
    at = [k for k, _ in items].index(before)
    items.insert(at, (key, builder))
    SECTIONS.clear()
    SECTIONS.update(items)


def section_keys() -> tuple[str, ...]:
    """The registered section keys, in page order (what a manifest's ``sections`` may name)."""
    return tuple(SECTIONS)


def _section(key: str) -> Callable[[SectionBuilder], SectionBuilder]:
    def deco(func: SectionBuilder) -> SectionBuilder:
        register_section(key, func)
        return func

    return deco


ALWAYS = ("overview", "anomalies")  # shown even when a manifest asks for fewer sections


def build_report(
    results: pd.DataFrame,
    cells: pd.DataFrame,
    manifest: Mapping[str, Any],
    *,
    timestamp: datetime | str | None = None,
    sections: Sequence[str] | None = None,
    summary: pd.DataFrame | None = None,
) -> Report:
    """Build the page data of a run: every registered section that has something to show.

    Args:
        results, cells, manifest: see :class:`RunView`.
        timestamp: when the page was generated (UTC; a naive datetime is taken as UTC; a
            string is used as is). Default: now.
        sections: keys to include (overview and anomalies always are). Default: the
            manifest's ``sections``, or all.
        summary: :func:`vanishlab.summarize` of the run (default: computed from the frames
            when a section needs it).

    Raises:
        VanishlabError: when ``sections`` (or the manifest's) names an unknown section.
    """
    view = RunView(results, cells, manifest, summary)
    wanted = sections if sections is not None else manifest.get("sections")
    if wanted is not None:
        unknown = [k for k in wanted if k not in SECTIONS]
        if unknown:
            raise VanishlabError(f"unknown report sections {unknown}; known: {', '.join(SECTIONS)}")
        chosen = [k for k in SECTIONS if k in wanted or k in ALWAYS]
    else:
        chosen = list(SECTIONS)
    built = tuple(s for k in chosen if (s := SECTIONS[k](view)) is not None)
    from .. import __version__

    name = str(manifest.get("name") or "unnamed run")
    return Report(
        title=f"vanishlab report: {name}",
        run_name=name,
        generated=_timestamp(timestamp),
        vanishlab_version=__version__,
        sections=built,
    )


def _timestamp(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        value = datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- overview


@_section("overview")
def overview_section(view: RunView) -> Section:
    """What was run: axes, fixed settings, cells, time, versions and the command."""
    m = view.manifest
    cells = view.cells
    n = len(cells)
    failed = int((cells["status"] != "ok").sum()) if "status" in cells and n else 0
    items: list[tuple[str, str]] = [("run name", str(m.get("name") or "—"))]
    if m.get("experiment"):
        items.append(("experiment", str(m["experiment"])))
    if m.get("description"):
        items.append(("description", str(m["description"])))
    planned = m.get("n_cells")
    cells_text = f"{n} ({n - failed} ok, {failed} failed)"
    if isinstance(planned, int) and planned > n:
        cells_text = (
            f"{n} of {planned} planned ({n - failed} ok, {failed} failed; "
            f"{planned - n} not measured yet: this report is partial)"
        )
    items.append(("cells", cells_text))
    items.append(("started", str(m.get("started") or "—")))
    items.append(("finished", str(m.get("finished") or "not finished")))
    items.append(("run time", _duration(m.get("elapsed_s"))))
    if "elapsed_s" in cells and n:
        items.append(("time in cells (sum)", _duration(float(cells["elapsed_s"].sum()))))
    facts = KeyValues("Run", tuple(items))

    axes = {a: v for a, v in (m.get("axes") or {}).items() if isinstance(v, list)}
    swept = [a for a, vals in axes.items() if len(vals) > 1]
    swept += [c for c in view.varying if c not in axes]
    axis_rows = []
    for a in swept:
        vals = axes[a] if a in axes else view.values(a)
        axis_rows.append((a, _label(a), ", ".join(format_value(v) for v in vals), str(len(vals))))
    blocks: list[Any] = [facts]
    if axis_rows:
        blocks.append(
            Table(
                "Swept axes",
                "Each cell of the run is one combination of these values ('shown as': the "
                "name used in figure titles).",
                ("axis", "shown as", "values", "count"),
                tuple(axis_rows),
                (False, False, False, True),
            )
        )
    fixed = [(a, vals[0]) for a, vals in axes.items() if len(vals) == 1]
    fixed += [(c, v) for c, v in view.fixed.items() if c not in axes]
    if fixed:
        blocks.append(KeyValues("Fixed settings", tuple((a, format_value(v)) for a, v in fixed)))
    versions = m.get("versions") or {}
    if versions:
        blocks.append(KeyValues("Versions", tuple((str(k), str(v)) for k, v in versions.items())))
    # Every command that brought cells (a --force extension adds one), in order.
    commands = [str(c) for c in (m.get("commands") or [m.get("command")]) if c]
    if commands:
        blocks.append(
            Code(
                "Reproduce",
                "\n".join(commands),
                "Run this command to measure the same cells again; finished cells are kept."
                if len(commands) == 1
                else f"Run these {len(commands)} commands in order (each added cells with "
                "--force) to measure the same cells again; finished cells are kept.",
            )
        )
    return Section(
        "overview",
        "Overview",
        "What was measured, on which settings, and how to run it again. Norms are of the "
        "Jacobians of the last hidden state of the top layer, h_T, computed exactly from the "
        "weights; log10 values are averaged over each cell's samples (a geometric mean).",
        tuple(blocks),
    )
