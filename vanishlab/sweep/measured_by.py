"""Which vanishlab measured a run's cells, where a sweep resumes or extends a run that another
made.

A cell's id is its config alone, so a resumed run keeps every cell it holds and measures the
rest. Where another vanishlab measured the kept ones, a fix since may have changed a cell's
numbers, and the run would hold both in silence: the manifest's ``versions`` are the last
invocation's alone. The code digest (``vanishlab_code``) changes with any edit of any ``.py``
file of the package, and most upgrades change no number (eight commits of 2026-11-29 to
2026-12-06 read every cell alike to 1.2e-6 in log10), so a run whose ``versions`` name another
digest goes on: the manifest's ``earlier_versions`` keeps the ``versions`` of each earlier code
whose cells the run holds, the report shows it, and the sweep's summary warns
(:func:`mixed_code_line`). A run whose ``versions`` name no digest (a release before it was
recorded, 2026-12-06) is refused without ``force`` (:func:`check_same_code`): code older than
2026-11-29 drew gains other than 1 under another rule (its cells read up to 16 in log10 off
today's), and nothing in such a run tells it apart. A training monitor reopened on a run of
other code (a script resumed after an upgrade) goes on, its steps beside the earlier ones, and
records the earlier code there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import VanishlabError
from .package_digest import PACKAGE_DIGEST_KEY, package_digest

if TYPE_CHECKING:  # the report reads code_words without the plan's imports
    from .plan import SweepPlan

__all__ = [
    "EARLIER_VERSIONS",
    "carried_versions",
    "check_same_code",
    "code_words",
    "earlier_versions",
    "mixed_code_line",
    "mixes_code",
    "other_code",
]

EARLIER_VERSIONS = "earlier_versions"
"""The manifest's key: the ``versions`` of each other vanishlab whose cells the run keeps."""


def other_code(versions: Mapping[str, Any] | None) -> bool:
    """Whether a manifest's ``versions`` name other code than this vanishlab's (or none)."""
    return not isinstance(versions, Mapping) or versions.get(PACKAGE_DIGEST_KEY) != package_digest()


def mixes_code(plan: SweepPlan, retry_failed: bool = False) -> bool:
    """Whether a run of ``plan`` would measure cells beside kept cells that another vanishlab
    measured (per the manifest's ``versions``)."""
    return _mixed_counts(plan, retry_failed) is not None


def _mixed_counts(plan: SweepPlan, retry_failed: bool) -> tuple[int, int] | None:
    """(kept, new): the cells a run of ``plan`` keeps, that other code measured, and the cells
    it measures beside them; None where it does not mix code (:func:`mixes_code`). The plan's
    cells are gone through once (they were four times for the warning, each one a pass over
    every cell of the grid)."""
    if not plan.is_run_dir or plan.reinit:
        return None
    kept, pending = plan.kept_and_pending(retry_failed)
    if not pending or not kept or not other_code(plan.recorded_versions):
        return None
    return kept, len(pending)


def code_words(versions: Mapping[str, Any] | None) -> str:
    """The vanishlab that ``versions`` (a manifest's) names, in words."""
    if not isinstance(versions, Mapping):
        return "a vanishlab that recorded no versions"
    code = versions.get(PACKAGE_DIGEST_KEY)
    release = f"vanishlab {versions.get('vanishlab', '?')}"
    if not isinstance(code, str):
        return f"{release} of code that it did not record (vanishlab records it since 2026-12-06)"
    return f"{release} of other code ({PACKAGE_DIGEST_KEY} {code[:12]}...)"


def _unrecorded(versions: Mapping[str, Any] | None) -> bool:
    """Whether a manifest's ``versions`` record no code digest (a vanishlab before 2026-12-06)."""
    return not isinstance(versions, Mapping) or not isinstance(
        versions.get(PACKAGE_DIGEST_KEY), str
    )


def check_same_code(plan: SweepPlan, force: bool, retry_failed: bool) -> None:
    """Refuse, without ``force``, a run of ``plan`` that would put cells this vanishlab measures
    beside kept cells of a vanishlab that recorded no code digest (:func:`mixes_code`): one of
    before 2026-11-29 drew other weights. Kept cells of a recorded other digest are not refused
    (:func:`mixed_code_line` says them)."""
    counts = None if force else _mixed_counts(plan, retry_failed)
    if counts is None or not _unrecorded(plan.recorded_versions):
        return
    kept, new = counts
    raise VanishlabError(
        f"{plan.run_dir}'s {kept} cells were measured by {code_words(plan.recorded_versions)}, "
        "which may have drawn other weights (code before 2026-11-29 drew gains other than 1 "
        "under another rule: cells up to 16 in log10 off), and the "
        f"{new} cells this sweep measures would lie beside them: finish the run with the "
        "vanishlab that made it, give --out (out=) another directory to measure every cell "
        "with this one, or pass --force (force=True) to keep both (the manifest's "
        f"{EARLIER_VERSIONS} then names the other)"
    )


def mixed_code_line(plan: SweepPlan, retry_failed: bool) -> str | None:
    """The warning of a run of ``plan`` that puts cells beside kept cells of other code
    (:func:`mixes_code`; where it records none, a run that ``force`` let through); None where
    it does not."""
    counts = _mixed_counts(plan, retry_failed)
    if counts is None:
        return None
    kept, new = counts
    return (
        f"warning: {plan.run_dir}'s {kept} kept cells were measured by "
        f"{code_words(plan.recorded_versions)}, not by this one, and the {new} cells this "
        "sweep measures lie beside them (most upgrades change no number; a fix may): the "
        f"manifest's {EARLIER_VERSIONS} and the report's Versions block name the other code; "
        "--out (out=) another directory measures every cell with one"
    )


def earlier_versions(
    resumed: Mapping[str, Any], plan: SweepPlan, retry_failed: bool
) -> list[dict[str, Any]]:
    """The manifest's ``earlier_versions``: the resumed manifest's (``resumed``), and its
    ``versions`` too where this run puts cells beside kept cells of other code."""
    return carried_versions(resumed, mixes_code(plan, retry_failed))


def carried_versions(earlier: Mapping[str, Any], mixes: bool) -> list[dict[str, Any]]:
    """``earlier_versions`` of a run that goes on from the manifest ``earlier``: its own, and
    its ``versions`` too where ``mixes`` (this vanishlab adds cells, or a monitor's steps,
    beside ones that ``earlier``'s measured) and they name other code (:func:`other_code`)."""
    carried = [dict(v) for v in earlier.get(EARLIER_VERSIONS) or [] if isinstance(v, Mapping)]
    versions = earlier.get("versions")
    if mixes and other_code(versions if isinstance(versions, Mapping) else None):
        # none recorded ({}): another vanishlab all the same
        entry = dict(versions) if isinstance(versions, Mapping) else {}
        if entry not in carried:
            carried.append(entry)
    return carried
