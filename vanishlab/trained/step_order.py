"""A monitor's step numbers: each a new one counting up within a ``with`` block
(:func:`check_not_back`), a step recorded again skipped only from the same weights
(:func:`check_recorded_step_weights`), and the way on for training that went back to a
checkpoint, which both refusals name; and what a monitor that recorded no step says of the
steps it was given (:func:`none_recorded`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import VanishlabError

__all__ = ["STEP_MAX", "check_not_back", "check_recorded_step_weights", "none_recorded"]

STEP_MAX = 2**63 - 1
"""The largest step number (the shards' ``step`` column is int64)."""


def check_not_back(n: int, recorded_here: set[int], out: Path, out_flag: str) -> None:
    """Refuse a new step ``n`` below the highest this monitor recorded (``recorded_here``, in
    this ``with`` block): recorded, it held weights newer than that step's (a step counter
    that went back, or restarted: a loader's batch index). It was recorded with one warning
    per monitor, then in silence."""
    highest = max(recorded_here, default=n)
    if n < highest:
        raise VanishlabError(
            f"step {n} comes after step {highest}, the highest this monitor of {out} "
            f"recorded, so it would hold weights newer than step {highest}'s; nothing "
            "written: give each training step its own number, counting up" + _rolled_back(out_flag)
        )


def check_recorded_step_weights(
    n: int,
    weights: str,
    steps: dict[str, Any],
    recorded_here: set[int],
    out: Path,
    out_flag: str,
) -> None:
    """Refuse to skip step ``n``, already recorded (``steps``: the manifest's), when the
    module's ``weights`` now differ from those it was recorded with: another training run
    (another seed or settings) into the same directory, whose steps were skipped in silence,
    and the run then stitched one model's early steps to the other's later ones."""
    recorded = (steps.get(str(n)) or {}).get("weights_sha256")
    if recorded is None or recorded == weights:  # (runs before it was kept: None)
        return
    if n in recorded_here:
        raise VanishlabError(
            f"step {n} was already recorded by this monitor, from other weights: give each "
            f"training step its own number{_rolled_back(out_flag)}"
        )
    raise VanishlabError(
        f"step {n} of {out} was recorded from other weights than the module has now: "
        "another training run (another seed or settings), or a restart that does not "
        "replay them exactly (a checkpoint without its optimizer state, another thread "
        f"count); give {out_flag} a new or empty directory"
    )


def _rolled_back(out_flag: str) -> str:
    """The way on for training that went back to a checkpoint (its step numbers went back
    too), which a monitor's steps refuse: "Resuming" in docs/trained.md, in a new ``with``
    block; ``out_flag`` names the run directory as the monitor's caller gave it."""
    return (
        f"; training that went back to a checkpoint goes on in a new `with` block: on this "
        f"{out_flag} where it replays the steps recorded since exactly (the checkpoint's "
        f"optimizer state, the same thread count), else on a new or empty {out_flag} "
        "(docs/trained.md, Resuming)"
    )


def none_recorded(last_given: int | None, every: int, out: Path) -> str:
    """What a monitor whose training ended before it recorded a step says: why (``every``, and
    ``last_given``, the highest step it was given), and that it kept nothing in ``out``."""
    if last_given is None:
        why = "mon.step(n) was not called, or measured none of the steps it was given"
    else:
        why = (
            f"every={every} records the steps n with n % {every} == 0, and the "
            f"steps given went up to n = {last_given}"
        )
    return (
        f"the monitor recorded no step ({why}): nothing was kept in {out}; call "
        "mon.step(n) after each training step, with an every= that the training reaches"
    )
