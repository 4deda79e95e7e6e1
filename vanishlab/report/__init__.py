"""HTML reports of a sweep: one self-contained file per run directory.

Two stages, as in coverage.py's ``html.py``: :mod:`.data` builds plain page data
(:mod:`.model` dataclasses) from the run's frames, calling the section builders of
:mod:`.sections` in the order of their one list, and :mod:`.render` draws the figures
(matplotlib, inline SVG, :mod:`.figures`) and fills a jinja2 template.

Modules, each importing only from those before it: :mod:`.format` (limits, labels, text),
:mod:`.model` (the page data), :mod:`.view` (the run's frames and derived facts),
:mod:`.layout` (facets: plan -> panels -> lines -> curves), :mod:`.predicted` (predictions
per setting), :mod:`.sections` (one module per section), :mod:`.data`, :mod:`.figures`,
:mod:`.render`. The page loads nothing from the network
and the same run renders the same bytes when the timestamp is pinned.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import VanishlabError
from ..sweep.files import (
    as_flag,
    escaped_text,
    file_path,
    folders_made,
    link_problem,
    remove_temps_of,
)
from ..sweep.manifest import as_shards_hold, read_manifest
from ..sweep.manifest_digest import changes_said_per_call
from ..sweep.rundir import enclosing_run
from ..sweep.store import (
    atomic_write,
    load_manifest,
    load_results,
    read_cell_metas,
    read_cells,
    reads_held,
    report_marker,
    report_run,
    run_identity,
)
from ..sweep.summary import read_summary
from .data import build_report, nothing_measured, unknown_sections
from .model import Report
from .progress import ReportProgress
from .render import render_html
from .sections import SECTIONS, SWEEP, page_kind, section_keys
from .view import RunView

__all__ = [
    "SECTIONS",
    "Report",
    "RunView",
    "TargetAdvice",
    "build_report",
    "check_report_name",
    "check_target",
    "check_timestamp",
    "default_report_path",
    "foreign_report",
    "inside_run",
    "not_a_file",
    "render_html",
    "render_report",
    "run_holding",
    "section_keys",
    "source_date",
    "unknown_sections",
]


REPORT_STEM_BYTES = 120
"""The longest default report file name (without ``.html``), in UTF-8 bytes: file systems take
255, and a longer run name (an ``analyze --name`` of 300 characters, 200 CJK characters) is cut
and keeps a digest of the whole name, so that different names still get different files."""


def default_report_path(run_dir: str | os.PathLike[str]) -> Path:
    """``reports/<run name>.html`` (relative to the working directory) for a run directory:
    characters other than letters, digits, ``-``, ``_`` and ``.`` become ``_``, then ``.`` and
    ``_`` are dropped from both ends (``".my study!"`` -> ``my_study``), and a name longer than
    :data:`REPORT_STEM_BYTES` is cut, with a digest of it appended (as is one that keeps no
    character: ``run-<digest>``)."""
    manifest = load_manifest(run_dir)
    name = str(manifest.get("name") or Path(run_dir).name)
    safe = "".join(ch if _kept(ch) else "_" for ch in name).strip("._")
    if len(safe.encode()) > REPORT_STEM_BYTES or not safe:
        # Cut, or nothing left (a name of symbols only): a digest of the whole name tells
        # such names apart.
        digest = hashlib.sha256(name.encode(errors="surrogatepass")).hexdigest()[:12]
        cut = safe.encode()[: REPORT_STEM_BYTES - len(digest) - 1].decode(errors="ignore")
        safe = f"{cut or 'run'}-{digest}"
    return Path("reports") / f"{safe}.html"


def _kept(ch: str) -> bool:
    """Whether a report's default file name keeps ``ch``: a letter, a digit, ``-``, ``_`` or
    ``.`` that the file system's encoding can write (under an ASCII locale without Python's
    UTF-8 mode, the report of a run named "café" failed in a UnicodeEncodeError traceback)."""
    if not (ch.isalnum() or ch in "-_."):
        return False
    try:
        ch.encode(sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())
    except UnicodeEncodeError:
        return False
    return True


def not_a_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is no place for a report, said after it (``"is a directory"``, ``"is not a
    regular file"``: a pipe, a device, a socket; ``"is a symbolic link to nothing"``; where it
    is or lies in a link that loops, :func:`~vanishlab.sweep.files.loop_problem`'s words), or
    None. Such a path is never replaced, whatever ``overwrite`` says: the atomic rename would
    swap a device for an HTML file."""
    p = Path(path)
    # "(dangling, or a loop)" said neither; one below a loop was a FileExistsError traceback
    # from the folder's mkdir, and a dangling link was replaced by the rename, without --force
    link = link_problem(p)
    if link is not None:
        return link
    if p.is_dir():
        return "is a directory"
    if p.exists() and not p.is_file():
        return "is not a regular file"
    return None


def inside_run(path: str | os.PathLike[str], run_dir: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in ``run_dir`` or below it, symbolic links resolved (of the path
    itself, and of the folder it would be written in). A report is never written there: a file
    in ``cells/`` breaks the run (every reader refuses it), one named ``manifest.json``
    replaces its manifest."""
    run = Path(os.path.realpath(run_dir))  # realpath: a symlink loop is no error here
    p = Path(path)
    places = (Path(os.path.realpath(p)), Path(os.path.realpath(p.parent)) / p.name)
    return any(run == where or run in where.parents for where in places)


def run_holding(path: str | os.PathLike[str], run_dir: str | os.PathLike[str]) -> Path | None:
    """The run directory that ``path`` would be written in: ``run_dir`` itself (see
    :func:`inside_run`), another run's (:func:`~vanishlab.sweep.rundir.enclosing_run`: a file
    in its ``cells/`` broke that run), or None. A report is never written in one."""
    return Path(run_dir) if inside_run(path, run_dir) else enclosing_run(Path(path))


def foreign_report(path: str | os.PathLike[str], manifest: Mapping[str, Any]) -> str | None:
    """Why an existing ``path`` may not be replaced by the report of ``manifest``'s run
    (``"another run's report"``, ``"not a vanishlab report"``), or None when it may: it does
    not exist, or it is this run's own report (named by its last line, see
    :func:`vanishlab.sweep.store.report_run`)."""
    if not Path(path).exists():
        return None
    owner = report_run(path)
    if owner == run_identity(manifest):
        return None
    return "another run's report" if owner else "not a vanishlab report"


@dataclass(frozen=True)
class TargetAdvice:
    """What to do instead, in the caller's words, when :func:`check_target` refuses a path."""

    outside: str  # the path lies in a run directory
    file_name: str  # the path is no regular file
    replace: str  # the path holds another file (without overwrite)


API_ADVICE = TargetAdvice(
    outside="give a path outside it for the report",
    file_name="give a file name for the report",
    replace="pass overwrite=True to replace it, or another path",
)


def check_target(
    out: Path,
    run_dir: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    overwrite: bool,
    advice: TargetAdvice = API_ADVICE,
) -> None:
    """Refuse (VanishlabError, ending in ``advice``) a path the report of ``run_dir`` may not
    be written to: one in a run directory (:func:`run_holding`; overwrite or not, it would
    break that run), one that is no regular file (:func:`not_a_file`), and, without
    ``overwrite``, an existing file that is not this run's report (:func:`foreign_report`)."""
    holder = run_holding(out, run_dir)
    if holder is not None:
        raise VanishlabError(f"{out} is inside the run directory {holder}; {advice.outside}")
    what = not_a_file(out)
    if what is not None:
        raise VanishlabError(f"{out} {what}; {advice.file_name}")
    why = None if overwrite else foreign_report(out, manifest)
    if why is not None:
        raise VanishlabError(f"{out} exists and is {why}; {advice.replace}")


REPORT_SUFFIXES = (".html", ".htm")
"""The endings of a report's file name (any case): the page is HTML whatever its name, and a
browser opens a file as a page by its name."""


def check_report_name(out: Path, name: str) -> None:
    """Refuse (VanishlabError) a report file ``out`` whose name does not end in
    :data:`REPORT_SUFFIXES` (``x.pdf`` was written as HTML without a word, ``x`` too: a file no
    browser opens as a page), suggesting a name that does; ``name`` names the argument (``path``,
    ``--output``). A hidden file named ``.htm`` ends in ``.htm``: it is one, though pathlib sees
    no suffix there."""
    if not out.name.lower().endswith(REPORT_SUFFIXES):
        raise VanishlabError(
            f"{name} {out}: a report is an HTML page; give a file name ending in .html, "
            f"e.g. {_html_name(out)}"
        )


def _html_name(path: Path) -> str:
    """The name to suggest for a report file not named .html: x.pdf -> x.html, but
    report.v2 -> report.v2.html (a suffix of letters alone is a file type's)."""
    kind = path.suffix[1:]
    return path.with_suffix(".html").name if kind.isalpha() else path.name + ".html"


def source_date() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) as a UTC datetime; None when
    unset. A malformed value (not a non-negative integer, or out of range; an empty one too,
    which the specification does not except from "an ASCII representation of an integer") is
    an error, as the convention asks: a page must not silently show another time than pinned."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    problem = "is not a number of seconds since 1970 (a non-negative integer)"
    if re.fullmatch(r"[0-9]+", value):
        try:
            return datetime.fromtimestamp(int(value), UTC)
        except (ValueError, OverflowError, OSError):
            problem = "is out of the range of dates"
    raise VanishlabError(
        f"SOURCE_DATE_EPOCH={value!r} {problem}; fix or unset it (--timestamp TIME pins the "
        "time shown too)"
    )


def check_timestamp(value: object, name: str = "timestamp") -> datetime | str | None:
    """``value`` if it can be shown as the page's time: None, a datetime, or an ISO 8601 string
    (shown as given: a typo must not be printed as the time). ``name`` names it in the error:
    VanishlabError for a string that is not ISO 8601, TypeError for another kind of value."""
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be a datetime or an ISO 8601 string, got {type(value).__name__} "
            f"{value!r:.40} (seconds since 1970 go in $SOURCE_DATE_EPOCH)"
        )
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise VanishlabError(
            f"{name} {value!r} is not an ISO 8601 time (e.g. 2024-01-01T00:00:00Z "
            "or 2024-01-01; seconds since 1970 go in $SOURCE_DATE_EPOCH)"
        ) from None
    return value


@changes_said_per_call  # a changed manifest: one warning, though the run's readers read it again
def render_report(
    run_dir: str | os.PathLike[str],
    path: str | os.PathLike[str] | None = None,
    *,
    timestamp: datetime | str | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Render the run in ``run_dir`` as one self-contained HTML file and return its path.

    Args:
        run_dir: a run directory (``manifest.json`` and ``cells/``).
        path: where to write, a file name ending in ``.html`` or ``.htm`` (any case); parent
            folders are created (removed again, where still empty, when the write fails).
            Default: :func:`default_report_path`.
        timestamp: the "generated" time shown on the page; pin it for byte-identical output.
            Default: ``SOURCE_DATE_EPOCH`` if set (a malformed one is an error), else now.
        progress: a progress bar on stderr when the report takes more than a few seconds;
            None (default): only when stderr is a terminal.
        overwrite: replace an existing ``path`` even if it is not this run's report (as
            ``vanishlab report --force``). Without it, an existing file is replaced only when
            it is this run's own report.

    A manifest changed since vanishlab wrote it is read as it is now, said once in a
    :class:`~vanishlab.errors.ManifestChangedWarning` and in a note at the top of the page.

    Raises:
        VanishlabError: ``timestamp`` is a string that is not ISO 8601; ``run_dir`` is not
            a run directory, holds corrupt shards, or its manifest asks for unknown sections;
            ``path`` is not a regular file (a directory, a device, a pipe: see
            :func:`not_a_file`) or inside ``run_dir`` or another run (see
            :func:`run_holding`), or (without ``overwrite``) an existing file that is not this
            run's report, or its name does not end in ``.html`` or ``.htm`` (see
            :func:`check_report_name`), or its text ends in "/", a folder's name; the run
            holds no measured cell, step or model (:func:`nothing_measured`). Nothing is
            written when it is refused.
        TypeError: ``timestamp`` is neither None, a datetime nor a string; ``overwrite`` is
            not True or False.
    """
    check_timestamp(timestamp)
    overwrite = as_flag(overwrite, "overwrite")  # "no" replaced a file not this run's report
    progress = None if progress is None else as_flag(progress, "progress")  # "no" showed one
    manifest, changed = read_manifest(run_dir)
    out = file_path(path, "path") if path is not None else default_report_path(run_dir)
    check_target(out, run_dir, manifest, overwrite)
    check_report_name(out, "path")  # x.pdf was written as HTML without a word
    when = timestamp if timestamp is not None else source_date()  # refused before any work
    # each shard read and verified once, where its rows, its cells and the summary read it
    with ReportProgress(progress) as bar, reads_held():
        bar.stage("loading the run", 3)
        results = load_results(run_dir)
        bar.step("cells")
        cells = read_cells(run_dir)  # reasons as stored: the page says them by their flags
        if cells.empty:  # a page of its kind with nothing on it, as if something were there
            raise VanishlabError(nothing_measured(run_dir, manifest))
        if page_kind(manifest) != SWEEP:  # a trained model's records: as its shards hold them
            manifest = as_shards_hold(manifest, read_cell_metas(run_dir))
        bar.step("summary")
        # cached in RUN_DIR/summary.parquet; a trained model's page shows no sweep summary
        summary = read_summary(run_dir) if page_kind(manifest) == SWEEP else None
        bar.step()
        report = build_report(
            results,
            cells,
            manifest,
            timestamp=when,
            summary=summary,
            progress=bar,
            changed=changed,
        )
        html = render_html(report, progress=bar)
        html += report_marker(manifest)  # names the run (store.report_run)
    # A path in the manifest with a byte of another encoding (a lone surrogate) is written
    # \xNN, as a shell writes it: not a traceback after the whole report was built, nor the
    # surrogate's own escape (\udcff), which names no byte.
    data = escaped_text(html).encode("utf-8", errors="backslashreplace")
    remove_temps_of(out)  # a killed report's, which nothing else removes
    with folders_made(out.parent):  # a failed write leaves no folder of its own behind
        atomic_write(out, lambda f: f.write(data))
    return out
