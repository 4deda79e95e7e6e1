"""The recorded steps of a monitored training run (:class:`vanishlab.JacobianMonitor`), one row
per step, as the sections of its page (:mod:`.monitor`) read them, and a failed step's kind in
words (its status, the count of each kind)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ...sweep.manifest import read_json_number, read_seconds
from ...sweep.schema import MONITOR_LOSS, MONITOR_STEP
from ..view import RunView
from .settling import gate_memory
from .trained import model_record

__all__ = ["FAILURE_TEXT", "failure_counts", "status_text", "step_gate_memory", "steps_frame"]

FAILURE_TEXT = {"overflow": "overflow", "nan": "NaN"}
"""How the page names a failed step's recorded ``failure`` (an unknown kind as it is)."""


def steps_frame(view: RunView) -> pd.DataFrame:
    """One row per recorded step, sorted: ``step``, ``cell_id``, ``status``, ``reason``,
    ``failure`` (the shard's kind, "" when ok or not recorded), ``lyapunov`` (float; NaN when
    not measured), ``elapsed_s``, ``loss`` (the training loss given to ``step``: NaN, inf as
    given, NaN when none was) and ``has_loss`` (whether one was: a NaN loss is one).

    The manifest's ``steps`` are the record; a step whose shard exists but that the manifest
    does not list (a crash between the two writes) is taken from the cells frame.
    """

    def compute() -> pd.DataFrame:
        cells = view.cells
        reasons: dict[str, str] = {}
        failures: dict[str, str] = {}
        for column, found in (("reason", reasons), ("failure", failures)):
            if len(cells) and column in cells:
                for cid, value in zip(cells["cell_id"], cells[column], strict=True):
                    if isinstance(value, str):
                        found[str(cid)] = value
        rows: dict[int, dict[str, Any]] = {}
        steps = view.manifest.get("steps") or {}
        for key, rec in steps.items() if isinstance(steps, dict) else ():
            try:
                n = int(key)
            except ValueError:
                continue
            rec = rec if isinstance(rec, dict) else {}
            lyap = read_json_number(rec.get("lyapunov"))
            loss = read_json_number(rec.get(MONITOR_LOSS))  # "nan" reads as NaN, null as None
            cid = str(rec.get("cell_id") or "")
            rows[n] = {
                MONITOR_STEP: n,
                "cell_id": cid,
                "status": str(rec.get("status") or "—"),
                "reason": reasons.get(cid, ""),
                "failure": failures.get(cid, ""),
                "lyapunov": math.nan if lyap is None else lyap,
                "measured": lyap is not None,
                "elapsed_s": _seconds(rec.get("elapsed_s")),
                MONITOR_LOSS: math.nan if loss is None else loss,
                "has_loss": loss is not None,
            }
        known = {r["cell_id"] for r in rows.values()}
        if len(cells) and MONITOR_STEP in cells:
            for rec in cells.to_dict("records"):
                step = rec.get(MONITOR_STEP)
                if str(rec["cell_id"]) in known or step is None or step is pd.NA:
                    continue
                rows[int(step)] = {
                    MONITOR_STEP: int(step),
                    "cell_id": str(rec["cell_id"]),
                    "status": str(rec["status"]),
                    "reason": reasons.get(str(rec["cell_id"]), ""),
                    "failure": failures.get(str(rec["cell_id"]), ""),
                    "lyapunov": math.nan,
                    "measured": False,
                    "elapsed_s": _seconds(rec.get("elapsed_s")),
                    MONITOR_LOSS: math.nan,  # (a shard without a record: written before losses)
                    "has_loss": False,
                }
        columns = [MONITOR_STEP, "cell_id", "status", "reason", "failure", "lyapunov", "measured"]
        columns += ["elapsed_s", MONITOR_LOSS, "has_loss"]
        return pd.DataFrame([rows[n] for n in sorted(rows)], columns=columns)

    return view.memo("monitor-steps", compute)


def _seconds(value: object) -> float:
    """A step's time (:func:`~vanishlab.sweep.manifest.read_seconds`), NaN where it has none:
    a malformed one is dropped (the page shows "—"), as a step's other values are, rather than
    refusing the run over one step's record."""
    seconds = read_seconds(value)
    return math.nan if seconds is None else seconds


def status_text(rec: dict[str, Any]) -> str:
    """``"ok"``, ``"failed: overflow"``, ``"failed: NaN"``; ``"failed"`` with no kind
    recorded (shards written before failed steps had one)."""
    status, failure = str(rec["status"]), str(rec.get("failure") or "")
    if status == "ok" or not failure:
        return status
    return f"{status}: {FAILURE_TEXT.get(failure, failure)}"


def failure_counts(steps: pd.DataFrame) -> str:
    """``": 1 overflow, 2 NaN"``: the failed steps by kind ("" when none has a kind)."""
    failed = steps.loc[(steps["status"] != "ok").to_numpy(), "failure"] if len(steps) else []
    counts = pd.Series(failed, dtype=object).value_counts(sort=False).to_dict()
    unknown = counts.pop("", 0)
    if not counts:
        return ""
    order = [k for k in FAILURE_TEXT if k in counts] + sorted(set(counts) - set(FAILURE_TEXT))
    parts = [f"{counts[k]} {FAILURE_TEXT.get(k, k)}" for k in order]
    return ": " + ", ".join(parts + ([f"{unknown} of no recorded kind"] if unknown else []))


def step_gate_memory(view: RunView, step: int) -> float | None:
    """The gate memory recorded at ``step`` (:func:`.settling.gate_memory`: the biases change in
    training), which a growing curve of that step is read against; None where the probe starts
    from an h0 given, not from a state of 0 as that reading assumes, or none was recorded (an
    nn.RNN, a run written before)."""
    if model_record(view).get("h0_given") is not False:
        return None
    steps = view.manifest.get("steps")
    record = steps.get(str(step)) if isinstance(steps, dict) else None
    return gate_memory(record) if isinstance(record, dict) else None
