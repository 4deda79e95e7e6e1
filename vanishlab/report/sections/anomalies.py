"""Anomalies: failed cells, exact zero Jacobians and norms beyond the float32 range.

Nothing listed here is hidden from the figures; these are the places to read them with care.
A failed cell produced no measurement (its reason is the sweep's); an exact zero (log10 ||J||
= -inf, typically a relu network whose units are all off) is drawn as a floor marker and
makes a fit's rate -inf; a norm above float32's largest value (log10 > 38.53) is exact here
thanks to the log scale but would overflow a plain float32 backward pass.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence

import pandas as pd

from ...core.weights_attr import DTYPE_COLUMN
from ...errors import VanishlabError, command_line_words
from ...sweep.config import TRAINING_AXES, grids_ids
from ...sweep.section_names import ANOMALIES
from ...sweep.summary_fields import NO_SUMMARY
from ..format import FLOAT32_MAX_LOG10, MAX_ANOMALY_ROWS, fixed, plural, setting_titles
from ..model import Section, Table
from ..view import RunView

__all__ = ["anomalies_section"]


def _settings(records: Sequence[Mapping[str, object]], columns: Sequence[str]) -> list[str]:
    """The listed cells' settings: their values of ``columns`` ("—" where one has none), told
    apart as panel titles are (:func:`~..format.setting_titles`: gains 1.00001 and 1.00002
    were both "gain = 1")."""
    titles = setting_titles([[(c, rec[c]) for c in columns if c in rec] for rec in records])
    return [t or "—" for t in titles]


def _whole_setting(view: RunView) -> list[str]:
    """The axes that name the cell of a run of one setting (none varies): all of them but,
    where it trains nothing, the training's (they read "task = none, steps = 0, lr = 0.01,
    optimizer = adam, clip = 1.0" for a cell that never trained)."""
    frame = view.cells if len(view.cells) else view.results
    steps = pd.to_numeric(frame["train_steps"], errors="coerce") if "train_steps" in frame else None
    if steps is not None and (steps > 0).any():
        return list(view.config_columns)
    untrained = {"train_steps", *TRAINING_AXES}
    if "task" in frame and set(frame["task"].dropna()) <= {"none"}:
        untrained.add("task")
    return [c for c in view.config_columns if c not in untrained]


def _is_overflow(reason: str) -> bool:
    text = reason.lower()
    return any(w in text for w in ("overflow", " inf", "nan", "non-finite", "nonfinite"))


def anomalies_section(view: RunView) -> Section | None:
    """Failed cells, exact zeros and overflow, each listed with its configuration: the axes
    that vary, the rest being the overview's fixed settings; in a run of one setting, where
    none varies, its whole setting (the column read "—")."""
    axes = list(view.varying) or _whole_setting(view)
    tables = (
        _failed_cells(view, axes),
        _exact_zeros(view, axes),
        _beyond_float32(view, axes),
        _without_summary(view, axes),
        _outside_grids(view),
    )
    blocks = tuple(t for t in tables if t is not None)
    if not blocks:
        return None
    return Section(
        ANOMALIES.key,
        ANOMALIES.title,
        "What did not go as planned, cell by cell: nothing here is hidden from the figures, "
        "but these are the places to read them with care.",
        blocks,
    )


def _failed_cells(view: RunView, axes: list[str]) -> Table | None:
    """The cells that produced no measurement, with their kind and the sweep's reason."""
    cells = view.cells
    if not len(cells) or "status" not in cells:
        return None
    bad = view.table_order(cells[(cells["status"] != "ok").to_numpy()], axes)
    if not len(bad):
        return None
    rows = []
    records = bad.head(MAX_ANOMALY_ROWS).to_dict("records")
    for rec, setting in zip(records, _settings(records, axes), strict=True):
        reason = str(rec.get("reason") or "")
        kind = _failure_kind(rec, reason)
        # stored with both names of an option, "--batch (batch=)": said as the command line
        # says it to the people who ran it
        rows.append((str(rec["cell_id"]), setting, kind, command_line_words(reason)))
    return Table(
        "Failed cells",
        "Cells that produced no measurement, with the reason recorded by the sweep. "
        "'overflow' means the network's own weights, inputs or forward pass reached "
        "inf or NaN, so its Jacobians are undefined.",
        ("cell", "setting", "kind", "reason"),
        tuple(rows),
        (False, False, False, False),
        _more(len(bad)),
        detail=3,  # the reason, under its row
    )


def _failure_kind(rec: Mapping[str, object], reason: str) -> str:
    """A failed cell's kind: the one the sweep recorded; for shards older than it, guessed
    from the ``reason``."""
    failure = rec.get("failure")
    kind = failure if isinstance(failure, str) else None
    return kind or ("overflow" if _is_overflow(reason) else "error")


def _exact_zeros(view: RunView, axes: list[str]) -> Table | None:
    """The cells where some sample's Jacobian is exactly zero: on how many lags, from which,
    and in how many samples at most."""
    r = view.results
    if not len(r) or "n_zero" not in r:
        return None
    z = r[(r["n_zero"].fillna(0) > 0).to_numpy(dtype=bool)]
    if not len(z):
        return None
    keys = ["cell_id", "source", *axes]
    keys = [k for k in dict.fromkeys(keys) if k in z]
    g = z.groupby(keys, sort=False, dropna=False).agg(
        lags=("lag", "nunique"), first=("lag", "min"), most=("n_zero", "max")
    )
    g = view.table_order(g.reset_index(), axes)
    batch = view.fixed.get("batch")
    rows = []
    records = g.head(MAX_ANOMALY_ROWS).to_dict("records")
    for rec, setting in zip(records, _settings(records, axes), strict=True):
        most = f"{int(rec['most'])}" + (f" of {batch}" if batch is not None else "")
        rows.append(
            (
                str(rec["cell_id"]),
                setting,
                str(rec["source"]),
                str(int(rec["lags"])),
                str(int(rec["first"])),
                most,
            )
        )
    return Table(
        "Exact zeros",
        "Cells where some sample's Jacobian is exactly zero (log10 = −∞), typically "
        "a relu network whose units are all off. Plots mark these lags on their "
        "floor; a fit stops at a zero that lasts (its rate is −∞ when nothing is "
        "left before it) and leaves out one that non-zero lags follow.",
        ("cell", "setting", "source", "lags with zeros", "first lag", "most samples"),
        tuple(rows),
        (False, False, False, True, True, True),
        " ".join(t for t in (_zeros_count(view, z, axes), _more(len(g))) if t),
    )


def _zeros_count(view: RunView, zeros: pd.DataFrame, axes: list[str]) -> str:
    """How many of the run's cells the exact zeros are in, and, where seeds vary, in how many
    of its settings (the seeds aside): a large run lists each setting once per seed and
    source, and its first :data:`MAX_ANOMALY_ROWS` rows only."""
    cells = view.cells  # one row per cell: its measured ones (a failed cell has no rows)
    measured = cells[cells["status"] == "ok"] if "status" in cells else cells
    text = f"{zeros['cell_id'].nunique()} of the run's {plural(len(measured), 'cell')}"
    settings = [a for a in axes if a != "seed" and a in measured]
    if "seed" in view.varying and settings:
        count = len(zeros.drop_duplicates(settings))
        total = len(measured.drop_duplicates(settings))
        text += f", in {count} of its {plural(total, 'setting')} (the seeds aside)"
    return text + "."


def _beyond_float32(view: RunView, axes: list[str]) -> Table | None:
    """The cells whose largest norm is beyond float32's range, with that norm."""
    r = view.results
    if not len(r):
        return None
    top = r.groupby("cell_id", sort=False)["log10_fro_mean"].max()
    big = top[top > FLOAT32_MAX_LOG10]
    if not len(big):
        return None
    first = r.drop_duplicates("cell_id").set_index("cell_id").loc[big.index]
    first = first.assign(_max=big.to_numpy())
    first = view.table_order(first.reset_index(), axes)
    records = first.head(MAX_ANOMALY_ROWS).to_dict("records")
    rows = [
        (str(rec["cell_id"]), setting, fixed(rec["_max"], 1))
        for rec, setting in zip(records, _settings(records, axes), strict=True)
    ]
    return Table(
        "Norms beyond float32",
        f"Cells whose Jacobian norm exceeds the float32 range (log10 > "
        f"{FLOAT32_MAX_LOG10:.2f}): exact here thanks to the log scale, but a plain "
        "float32 backward pass would overflow to inf." + _dtype_note(first),
        ("cell", "setting", "largest log10 ‖J‖"),
        tuple(rows),
        (False, False, True),
        _more(len(first)),
    )


def _without_summary(view: RunView, axes: list[str]) -> Table | None:
    """The cells whose summary row failed to compute here, with the error."""
    theory = view.theory
    if not len(theory) or "note" not in theory:
        return None
    unsummarized = theory[theory["note"].astype(str).str.startswith(NO_SUMMARY).to_numpy()]
    unsummarized = view.table_order(unsummarized, axes)
    if not len(unsummarized):
        return None
    records = unsummarized.head(MAX_ANOMALY_ROWS).to_dict("records")
    rows = [
        (str(rec["cell_id"]), setting, str(rec["note"]))
        for rec, setting in zip(records, _settings(records, axes), strict=True)
    ]
    return Table(
        "Cells without a summary",
        "Cells whose summary row (the measured rate beside theory) failed to "
        "compute here, with the error: they have no prediction beside them, and "
        "the summary is not cached, so the next report computes them again.",
        ("cell", "setting", "note"),
        tuple(rows),
        (False, False, False),
        _more(len(unsummarized)),
        detail=2,  # the note, under its row
    )


def _outside_grids(view: RunView) -> Table | None:
    """The cells in none of the grids the run was swept with, by their whole setting."""
    strays = _outside_the_grids(view)
    if strays is None or not len(strays):
        return None
    records = strays.head(MAX_ANOMALY_ROWS).to_dict("records")
    rows = [
        (str(rec["cell_id"]), setting)
        for rec, setting in zip(records, _settings(records, view.config_columns), strict=True)
    ]
    return Table(
        "Cells outside the run's grids",
        "Shards in cells/ whose cell is in none of the grids this run was swept with (a "
        "file copied from another run?). They are counted and drawn like the others: "
        "move them out of the run directory if they do not belong to it.",
        ("cell", "setting"),
        tuple(rows),
        (False, False),
        _more(len(strays)),
    )


def _more(n: int) -> str:
    return f"Only the first {MAX_ANOMALY_ROWS} of {n} are listed." if n > MAX_ANOMALY_ROWS else ""


#: Grids larger than this are not expanded to find cells outside them (a report stays fast).
MAX_GRID_CHECK = 100_000


def _outside_the_grids(view: RunView) -> pd.DataFrame | None:
    """The cells of a sweep that none of its manifest's grids holds (a shard copied in from
    another run was counted and drawn without a word); None when the run records no grids
    (an analysis, a monitor, an older run) or they are too large to expand."""
    grids = view.manifest.get("grids")
    cells = view.cells
    if not isinstance(grids, list) or not grids or not len(cells) or "cell_id" not in cells:
        return None
    if not all(isinstance(g, dict) and all(isinstance(v, list) for v in g.values()) for g in grids):
        return None
    if sum(math.prod(len(v) for v in g.values()) for g in grids) > MAX_GRID_CHECK:
        return None
    try:
        member = grids_ids(grids)
    except (TypeError, ValueError, VanishlabError):  # a hand-edited grid: nothing to say
        return None
    return cells[~cells["cell_id"].astype(str).isin(member)]


def _dtype_note(cells: pd.DataFrame) -> str:
    """Where none of the cells listed ran in float32 (a float64 run), that they did not: the
    table's float32 would otherwise read as the run's dtype."""
    if DTYPE_COLUMN not in cells or (cells[DTYPE_COLUMN] == "float32").any():
        return ""
    return (
        " These cells ran in float64, whose plain backward pass holds norms up to log10 "
        f"{math.log10(sys.float_info.max):.2f}."
    )
