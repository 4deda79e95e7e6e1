"""The overview: what was run, on which settings, how long it took, and how to run it again.

Built from the manifest (name, description, axes, times, versions, the command) and the cells
frame (how many cells, how many failed, the time spent in them). Axes with one value are the
fixed settings; the others are the swept axes, listed with their values in the run's order.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...sweep.commands import command_text
from ...sweep.config import TRAINING_AXES
from ...sweep.section_names import OVERVIEW, TRAINABILITY
from ..format import (
    NOT_APPLICABLE,
    duration,
    format_value,
    label,
    time_text,
    total,
    value_texts,
)
from ..model import Code, KeyValues, Section, Table
from ..view import RunView, applies_to_none
from .provenance import versions_block

__all__ = ["overview_section"]


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
    items.append(("started", time_text(m.get("started"))))
    items.append(("finished", time_text(m.get("finished"), "not finished")))
    items.append(("run time", duration(m.get("elapsed_s"))))
    if "elapsed_s" in cells and n:
        spent = pd.to_numeric(cells["elapsed_s"], errors="coerce")
        items.append(("time in cells (sum)", duration(total(spent))))  # rounded once
    facts = KeyValues("Run", tuple(items))

    axes = {a: v for a, v in (m.get("axes") or {}).items() if isinstance(v, list)}
    # An axis that applies to none of the cells (activation, in a run of gated cells only)
    # was listed as swept over the values it was given: it is shown as not applicable.
    frame = cells if n else view.results
    unused = {a for a in axes if applies_to_none(frame, a)}
    axes = {a: ([NOT_APPLICABLE] if a in unused else v) for a, v in axes.items()}
    swept = [a for a, vals in axes.items() if len(vals) > 1]
    swept += [c for c in view.varying if c not in axes]
    axis_rows = []
    for a in swept:
        vals = axes[a] if a in axes else view.values(a)
        shown = ", ".join(value_texts(a, vals)) + _only(frame, a)
        axis_rows.append((a, label(a), shown, str(len(vals))))
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
        idle = _trains_nothing(frame)
        fixed_rows = tuple(
            (
                a,
                format_value(v)
                + _only(frame, a)
                + (UNTRAINED if idle and a in TRAINING_AXES else ""),
            )
            for a, v in fixed
        )
        blocks.append(KeyValues("Fixed settings", fixed_rows))
    versions = versions_block(m)
    if versions is not None:
        blocks.append(versions)
    # Every command that brought cells (a --force extension adds one), in order.
    commands = [command_text(str(c)) for c in (m.get("commands") or [m.get("command")]) if c]
    if commands:
        blocks.append(
            Code(
                "Reproduce",
                "\n".join(commands),
                "Run this command from the folder it was first run in (its paths are as typed "
                "there) to measure the same cells again; finished cells are kept."
                if len(commands) == 1
                else f"Run these {len(commands)} commands in order (each added cells with "
                "--force), from the folder they were first run in (their paths are as typed "
                "there), to measure the same cells again; finished cells are kept.",
            )
        )
    return Section(
        OVERVIEW.key,
        OVERVIEW.title,
        "What was measured, on which settings, and how to run it again. Norms are of the "
        "Jacobians of the last hidden state of the top layer, h_T, computed exactly from the "
        "weights; log10 values are averaged over each cell's samples (a geometric mean)."
        + _at_init(cells, view.shows(TRAINABILITY.key)),
        tuple(blocks),
    )


def _at_init(cells: pd.DataFrame, trainability: bool) -> str:
    """What a run that trains measured: each cell is measured at initialisation, then trained
    (sweep/train_cell.py), so every curve, rate and horizon outside the Trainability section is
    of the untrained network; nothing else on the page said so. The section is named only
    where the page shows it (``trainability``: an experiment's SECTIONS may leave it out)."""
    if "train_steps" not in cells:
        return ""
    if not (pd.to_numeric(cells["train_steps"], errors="coerce") > 0).any():
        return ""
    return (
        " Cells with train_steps > 0 were measured at initialisation and then trained: every "
        "norm, rate and horizon on this page is of the network before training"
        + (
            f", and the {TRAINABILITY.title} section sets them beside what training achieved."
            if trainability
            else "."
        )
    )


UNTRAINED = " (unused: nothing is trained)"


def _trains_nothing(frame: pd.DataFrame) -> bool:
    """Whether no cell of the run trains (``train_steps`` 0 throughout): every cell records
    lr, optimizer and clip all the same, and "Fixed settings: optimizer adam" on a run that
    measures only at initialisation read as if it had trained."""
    if "train_steps" not in frame or not len(frame):
        return False
    steps = pd.to_numeric(frame["train_steps"], errors="coerce")
    return bool((steps.fillna(0) <= 0).all())


def _only(frame: pd.DataFrame, column: str) -> str:
    """`` (rnn only)`` for an axis that some of the run's models take and others do not
    (activation beside LSTM and GRU cells, which record it as not applicable): the cells are
    then fewer than the product of the axes' counts, and an LSTM has no activation."""
    if column not in frame or "model" not in frame:
        return ""
    na = (frame[column] == NOT_APPLICABLE).to_numpy(dtype=bool)
    if not na.any() or na.all():
        return ""
    takes = dict.fromkeys(str(m) for m in frame["model"][~na])
    return f" ({', '.join(takes)} only)"
