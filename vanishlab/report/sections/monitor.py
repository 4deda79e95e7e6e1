"""The sections of a monitored training run's page (:class:`vanishlab.JacobianMonitor`).

The run holds, for every recorded training step n, the module's per-lag Jacobian norms on one
fixed probe batch (the same inputs at every step, so only the weights change), and the
manifest holds each step's top Lyapunov exponent λ₁(n). The page shows:

- **monitor**: the module, the probe, which steps were recorded and what recording cost (the
  versions close the page: :mod:`.provenance`);
- **long-dependencies** (:mod:`.monitor_long_deps`): what the last measured step's decay means
  for long dependencies, as on an analysed model's page;
- **training** (:mod:`.monitor_training`): the training loss against the step where steps have
  one (:mod:`.monitor_loss`), the fitted rate of every curve (:func:`vanishlab.fit_decay`,
  natural log per step) and λ₁ against the training step, the horizons against the step, and a
  table of them (:mod:`.monitor_table`);
- **curves-steps** (:mod:`.monitor_curves`): the decay curves at a few chosen steps (the first,
  the last and evenly spaced ones between), one line per step.

Each section's function is importable from here, as are :func:`chosen_steps` and
:func:`steps_frame`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...sweep.schema import MONITOR_STEP
from ...sweep.section_names import MONITOR_RUN
from ..format import STEP_LABEL, format_value, time_text, total
from ..model import KeyValues, Section
from ..view import RunView
from .monitor_curves import MAX_SHOWN_STEPS, chosen_steps, curves_steps_section
from .monitor_steps import failure_counts, steps_frame
from .monitor_training import training_section
from .trained import architecture, architecture_items, model_record, seconds_text, shape_text

__all__ = [
    "MAX_SHOWN_STEPS",
    "chosen_steps",
    "curves_steps_section",
    "monitor_section",
    "steps_frame",
    "training_section",
]


def monitor_section(view: RunView) -> Section:
    """The module, the probe, the recorded steps and what recording them cost."""
    m = view.manifest
    model = model_record(view)
    steps = steps_frame(view)
    ok = steps[steps["status"] == "ok"] if len(steps) else steps
    n, n_ok = len(steps), len(ok)
    probe = model.get("probe_shape") or []
    arch = architecture(view)
    blocks: list[Any] = [KeyValues("Module", tuple(architecture_items(arch)))]
    recorded = [
        ("probe", shape_text(probe, arch.get("batch_first"))),
        ("probe SHA-256", str(model.get("probe_sha256") or "—")),
        ("recorded every", _every(model.get("every"))),
        ("steps recorded", f"{n} ({n_ok} ok, {n - n_ok} failed{failure_counts(steps)})"),
    ]
    if n:
        recorded.append(
            ("first, last", f"{int(steps[MONITOR_STEP].iloc[0])}, {steps[MONITOR_STEP].iloc[-1]}")
        )
        spent = steps["elapsed_s"].to_numpy(dtype=np.float64)
        spent = spent[np.isfinite(spent)]
        if len(spent):
            spent_s = total(spent)  # rounded once (fsum), inf past the largest float
            each = spent_s / len(spent)
            recorded.append(
                (
                    "measuring time",
                    f"{seconds_text(spent_s)} in all, {seconds_text(each)} per recorded step",
                )
            )
    recorded += [
        ("started", time_text(m.get("started"))),
        ("finished", time_text(m.get("finished"), _not_finished(m.get("stopped_by")))),
    ]
    blocks.append(KeyValues("Recording", tuple(recorded)))
    return Section(
        MONITOR_RUN.key,
        MONITOR_RUN.title,
        "One recurrent module measured during training, every few steps, on one fixed probe "
        "batch: the inputs never change, so every change on this page is the weights'. Norms "
        "are of the Jacobians of the top layer's last hidden state h_T, averaged in log10 over "
        "the probe's samples; rates are in natural log per step of lag.",
        tuple(blocks),
    )


def _not_finished(stopped_by: object) -> str:
    """The ``finished`` of a monitor whose ``with`` block has not ended, or that an exception
    ended (the manifest's ``stopped_by``: its class's name)."""
    if stopped_by == "KeyboardInterrupt":
        return "not finished: interrupted (KeyboardInterrupt) after the last step recorded"
    if isinstance(stopped_by, str) and stopped_by:
        return f"not finished: stopped by {stopped_by} after the last step recorded"
    return "not finished (or still training)"


def _every(every: object) -> str:
    """``"training step"``, ``"50 training steps"`` (it said "1 training steps"): the word is
    :data:`~..format.STEP_LABEL`, the x axis of the page's figures."""
    return STEP_LABEL if every == 1 else f"{format_value(every)} {STEP_LABEL}s"
