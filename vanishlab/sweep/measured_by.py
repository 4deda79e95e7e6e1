"""Which vanishlab measured a run's cells, where a sweep resumes or extends a run that another
made.

A cell's id is its config alone, so a resumed run keeps every cell it holds and measures the
rest. Where another vanishlab measured the kept ones, an engine fix since may have changed a
cell's numbers (a run of 2026-11-26's code reads up to 16 in log10 off what this code measures of
the same cells), and the run would hold both in silence: the manifest's ``versions`` are the last
invocation's alone. So a sweep that would measure cells beside kept cells of other code (the
manifest's ``versions`` name another ``vanishlab_code``, or none: a release before the digest
was recorded) is refused without ``force``; with it, the manifest's ``earlier_versions`` keeps
the ``versions`` of each earlier code whose cells the run holds, which the report shows. A
training monitor reopened on a run of other code (a script resumed after an upgrade) goes on,
its steps beside the earlier ones, and records the earlier code there too.
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
    return (
        plan.is_run_dir
        and not plan.reinit
        and bool(plan.pending(retry_failed))
        and plan.kept(retry_failed) > 0
        and other_code(plan.recorded_versions)
    )


def code_words(versions: Mapping[str, Any] | None) -> str:
    """The vanishlab that ``versions`` (a manifest's) names, in words."""
    if not isinstance(versions, Mapping):
        return "a vanishlab that recorded no versions"
    code = versions.get(PACKAGE_DIGEST_KEY)
    release = f"vanishlab {versions.get('vanishlab', '?')}"
    if not isinstance(code, str):
        return f"{release} of code that it did not record (vanishlab records it since 2026-12-06)"
    return f"{release} of other code ({PACKAGE_DIGEST_KEY} {code[:12]}...)"


def check_same_code(plan: SweepPlan, force: bool, retry_failed: bool) -> None:
    """Refuse, without ``force``, a run of ``plan`` that would put cells this vanishlab measures
    beside kept cells that another measured (:func:`mixes_code`)."""
    if force or not mixes_code(plan, retry_failed):
        return
    kept, new = plan.kept(retry_failed), len(plan.pending(retry_failed))
    raise VanishlabError(
        f"{plan.run_dir}'s {kept} cells were measured by {code_words(plan.recorded_versions)}, "
        f"not by this one ({PACKAGE_DIGEST_KEY} {package_digest()[:12]}...), whose numbers "
        f"may differ (an engine fix), and the {new} cells this sweep measures would lie beside "
        "them: finish the run with the vanishlab that made it, give --out (out=) another "
        "directory to measure every cell with this one, or pass --force (force=True) to keep "
        f"both (the manifest's {EARLIER_VERSIONS} then names the other)"
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
