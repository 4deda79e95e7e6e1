"""Stage one of a report: turn a run's frames into plain page data (:mod:`.model`).

:func:`build_report` wraps the frames in a :class:`~.view.RunView` and calls each section
builder of its kind of page (:data:`~.sections.PAGES`: a sweep's, one trained model's, a
monitored training run's, by the manifest's ``kind``) in page order, keeping the sections the
run (or its manifest's ``sections``) asks for and that have something to show. Nothing here draws or
writes HTML; :mod:`.render` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from .._version import __version__
from ..errors import VanishlabError
from ..sweep.manifest import MONITOR, SINGLE_MODEL, utc_text
from ..sweep.manifest_digest import page_note
from ..sweep.nearest import unknown_names
from ..sweep.schema import MONITOR_STEP
from .model import Report
from .progress import ReportProgress
from .sections import ALWAYS, PAGES, SectionBuilder, page_kind, section_keys
from .view import RunView

__all__ = ["build_report", "nothing_measured", "unknown_sections"]


def build_report(
    results: pd.DataFrame,
    cells: pd.DataFrame,
    manifest: Mapping[str, Any],
    *,
    timestamp: datetime | str | None = None,
    sections: Sequence[str] | None = None,
    summary: pd.DataFrame | None = None,
    progress: ReportProgress | None = None,
    changed: str | None = None,
) -> Report:
    """Build the page data of a run: every section that has something to show.

    Args:
        results, cells, manifest: see :class:`~.view.RunView`.
        timestamp: when the page was generated (UTC; a naive datetime is taken as UTC; a
            string is used as is). Default: now.
        sections: keys to include, of the run's kind of page, in the order given (the page's
            opening section, overview or a trained model's, comes first and anomalies last,
            always). Default: the manifest's ``sections`` (an experiment's ``SECTIONS``), or
            all in page order.
        summary: :func:`vanishlab.summarize` of the run (default: computed from the frames
            when a section needs it).
        progress: counts one step per section (see :mod:`.progress`).
        changed: what changed in the manifest since vanishlab wrote it
            (:func:`~vanishlab.sweep.manifest_digest.manifest_change`), said on the page.

    Raises:
        VanishlabError: when ``sections`` (or the manifest's) names an unknown section, or
            the run is the analysis of one model and holds more than one cell, or a monitor's
            whose rows have no training step.
        ValueError: when a section's builder returns a Section keyed other than its name in
            the page's list (a section's key is its name: its anchor, and what a manifest asks
            for).
    """
    view = RunView(results, cells, manifest, summary)
    kind = page_kind(manifest)
    if kind == SINGLE_MODEL and len(cells) > 1:  # its page showed one, then failed on two
        raise VanishlabError(
            f"run {manifest.get('name')!r} is the analysis of one model but holds "
            f"{len(cells)} cells (a shard copied from another run?): move the shards that are "
            "not its own out of its cells/ folder, or analyze the model again into a new "
            "directory"
        )
    if kind == MONITOR and len(results) and MONITOR_STEP not in results.columns:
        raise VanishlabError(
            f"run {manifest.get('name')!r} says it is a training monitor's, but its cells hold "
            "no training steps (its manifest's 'kind' was changed?): it cannot be reported"
        )
    keys = section_keys(kind)
    if sections is not None:
        # "unknown report sections ['gian']; known: ...": a Python list, no suggestion
        unknown = unknown_names(sections, keys, "report section")
        if unknown:
            raise VanishlabError(unknown)
        wanted: Sequence[str] | None = sections
    else:
        # The run's own list: names this version does not know (a typo in an experiment's
        # SECTIONS, a section of another version) are left out, so the run stays reportable
        # (`vanishlab report` says which: unknown_sections).
        wanted = unknown_sections(manifest)[1]
    todo = list(PAGES[kind]) if wanted is None else _in_order(kind, wanted)
    view.shown = frozenset(k for k, _ in todo)
    if progress is not None:
        progress.stage("sections", len(todo))
    built = []
    for key, build in todo:
        section = build(view)
        if section is not None and section.key != key:  # the page's anchor is the name
            raise ValueError(
                f"report section {key!r}: its builder {getattr(build, '__name__', build)!r} "
                f"returned a Section keyed {section.key!r} (a section's key is its name)"
            )
        if section is not None:
            built.append(section)
        if progress is not None:
            progress.step(key)
    name = str(manifest.get("name") or "unnamed run")
    return Report(
        title=f"vanishlab report: {name}",
        run_name=name,
        generated=_timestamp(timestamp),
        vanishlab_version=__version__,
        sections=tuple(built),
        manifest_note=page_note(changed) if changed else "",
    )


def _in_order(kind: str, wanted: Sequence[str]) -> list[tuple[str, SectionBuilder]]:
    """The sections asked for, in the order asked, between the page's opening sections and
    its closing one (:data:`ALWAYS`, shown whatever is asked, keep their places)."""
    builders = dict(PAGES[kind])
    keys = list(builders)
    always = [k for k in keys if k in ALWAYS]
    closing = [k for k in always if keys.index(k) == len(keys) - 1]
    opening = [k for k in always if k not in closing]
    middle = [k for k in dict.fromkeys(wanted) if k in builders and k not in ALWAYS]
    return [(k, builders[k]) for k in (*opening, *middle, *closing)]


def unknown_sections(manifest: Mapping[str, Any]) -> tuple[list[str], list[str] | None]:
    """The names in the manifest's ``sections`` that this version's page of the run's kind
    does not have, and the known ones (None: the manifest lists none, so all are shown)."""
    listed = manifest.get("sections")
    if listed is None:
        return [], None
    keys = section_keys(page_kind(manifest))
    return [k for k in listed if k not in keys], [k for k in listed if k in keys]


def nothing_measured(run_dir: object, manifest: Mapping[str, Any]) -> str:
    """Why a run that holds no shard has no report (its page had nothing on it, and the
    command exited 0), and what to do: a monitor whose training ended before it measured a
    step (a new one that ended so, or that an exception stopped so, leaves no run:
    ``rundir.unmake_unmeasured``; one of an earlier release did) or whose shards were deleted;
    a sweep stopped before its first cell; an analysis whose shard was deleted."""
    kind = page_kind(manifest)
    if kind == MONITOR:
        return (
            f"{run_dir} holds no measured step: its monitored training recorded none (it "
            "ended before the monitor measured a step, or its steps' shards are gone); "
            "nothing to report: train with the monitor again, calling mon.step(n) after "
            "each training step"
        )
    if kind == SINGLE_MODEL:
        return (
            f"{run_dir} holds no measured model (its shard is gone); nothing to report: run "
            "the same vanishlab analyze again to measure it"
        )
    planned = manifest.get("n_cells")
    of = f" of the {planned} planned" if type(planned) is int else ""
    return (
        f"{run_dir} holds no measured cell{of}; nothing to report yet: run the same sweep "
        "again to measure them"
    )


def _timestamp(value: datetime | str | None) -> str:
    if isinstance(value, str):
        return value
    return utc_text(datetime.now(UTC) if value is None else value)
