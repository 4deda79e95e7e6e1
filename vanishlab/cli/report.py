"""``vanishlab report RUN_DIR``: render a run directory as one self-contained HTML file.

A report never silently replaces another: when the output file exists it is overwritten only
if it is the same run's report (every report ends with a comment naming its run, see
:func:`vanishlab.sweep.store.report_run`), else the command refuses, naming ``--force`` and
``-o/--output``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app, finished, note, say, stop_leaves, user_errors
from .disk_words import write_remedy
from .params import Quiet, path_argument, path_option, single

#: How a refusal, and its advice, names the output option: by both its spellings, since typer
#: does not say which one was typed (``-o a -o b`` said "--output given 2 times" to a user who
#: typed no --output; ``--output run/x.html`` was told to "give -o a path outside it").
_OUTPUT = "-o/--output"

#: What a stopped or refused report leaves: its one wording, which a refusal's line ends in
#: too ("cannot write r.html: ...; no report written"); it said "cannot write the report" where
#: a stop said "no report written".
NOT_WRITTEN = "no report written"


@app.command()
@user_errors(stopped=NOT_WRITTEN)  # written whole at the end: a stop leaves nothing
def report(
    run_dir_arg: Annotated[
        str,
        typer.Argument(
            help="A run directory (from `vanishlab sweep`, `analyze` or vl.JacobianMonitor).",
            metavar="RUN_DIR",
            show_default=False,
        ),
    ],
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the HTML file, a name ending in .html or .htm \\[default: "
            "reports/<run name>.html].",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    timestamp: Annotated[
        list[str] | None,
        typer.Option(
            help="The 'generated' time shown on the page (e.g. 2024-01-01T00:00:00Z); pin it "
            "for byte-identical output \\[default: $SOURCE_DATE_EPOCH, else now].",
            metavar="TIME",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the output file even if it is not this run's report."
        ),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Render RUN_DIR as one HTML report (no network needed to view it) and print its path.

    An existing output file is refreshed only when it is this run's own report.
    """
    from ..errors import VanishlabError
    from ..report import (
        TargetAdvice,
        check_report_name,
        check_target,
        check_timestamp,
        default_report_path,
        render_report,
        source_date,
        unknown_sections,
    )
    from ..sweep.files import refused_why
    from ..sweep.store import load_manifest, report_run

    run_dir = path_argument("RUN_DIR", run_dir_arg)
    out = path_option(_OUTPUT, output, file=True)
    when = check_timestamp(single("--timestamp", timestamp), "--timestamp")
    if when is None:
        source_date()  # a malformed $SOURCE_DATE_EPOCH is refused before anything is read
    manifest = load_manifest(run_dir)
    path = out if out is not None else default_report_path(run_dir)
    advice = TargetAdvice(  # the command's own words (-o/--output, --force)
        outside=f"give {_OUTPUT} a path outside it",
        file_name=f"give {_OUTPUT} a file name",
        replace=f"pass --force to replace it, or give {_OUTPUT} another file",
    )
    check_target(path, run_dir, manifest, force, advice)  # in a run: refused even with --force
    _check_parent(path)
    check_report_name(path, _OUTPUT)  # after the checks of where it points
    earlier = _file_key(path)
    was_report = earlier is not None and report_run(path) is not None  # else the user's own
    stop_leaves(lambda: f"{NOT_WRITTEN}{_earlier_kept(path, earlier, was_report)}")
    try:
        # Checked above, in the command's own words (--force, -o).
        written = render_report(
            run_dir, path, timestamp=when, overwrite=True, progress=False if quiet else None
        )
    except OSError as err:
        where = Path(err.filename) if err.filename is not None else None
        if where is None or (where.parent != path.parent and where not in path.parents):
            raise  # not the output: the generic one-line mapping says what and where
        why = f"{refused_why(err)}{write_remedy(err)}"  # /proc: not "No such file"
        kept = _earlier_kept(path, earlier, was_report)
        raise VanishlabError(f"cannot write {path}: {why}; {NOT_WRITTEN}{kept}") from err
    finished(f"the report is written: {written}")
    unknown = unknown_sections(manifest)[0]
    if unknown:  # left out, so that the run stays reportable
        note(
            f"note: the run names report sections this version does not have, not shown: "
            f"{', '.join(unknown)}"
        )
    hidden = _hidden_line(written, default_report_path(run_dir).name)
    if hidden:
        note(hidden)
    partial = _partial_line(run_dir, manifest)
    if partial:  # said on the page only, a report of a run short of cells exited 0 unremarked
        note(partial)
    say(str(written), done=f"the report is written: {written}")


def _file_key(path: Path) -> tuple[int, int, int] | None:
    """What tells the file at ``path`` from another written there since; None where none is."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _earlier_kept(path: Path, earlier: tuple[int, int, int] | None, was_report: bool) -> str:
    """``"; PATH still holds an earlier report"`` where the report the command was to refresh
    is there unchanged (a refused write or a stop left it): "no report written" was said
    beside it, and it read as this run's; where the file was
    none of vanishlab's (``--force`` over it), that it holds what it held; else ''."""
    if earlier is None or _file_key(path) != earlier:
        return ""
    if not was_report:  # "an earlier report" was said of the user's own file, too
        return f"; {path} still holds the file that was there, not this report"
    return f"; {path} still holds an earlier report, not this one"


def _hidden_line(path: Path, default_name: str) -> str | None:
    """The note for a report file named by its ending alone (``-o .html``, or ``-o
    "$name.html"`` with ``$name`` empty): a hidden file, which ``ls`` and file managers do not
    show, written without a word; None for any other name."""
    if path.name.lower() not in (".html", ".htm"):
        return None
    return (
        f"note: {path} is a hidden file (a name of its ending alone: ls does not list it); "
        f"give {_OUTPUT} a name before the ending, e.g. {path.with_name(default_name)}"
    )


def _partial_line(run_dir: Path, manifest: dict) -> str | None:
    """The note that the report shows fewer cells than the sweep planned (an unfinished sweep,
    or shards deleted since), as the page's overview says it; None when none is missing."""
    from ..report.sections import SWEEP, page_kind
    from ..sweep.shard import shard_paths

    planned = manifest.get("n_cells")
    if page_kind(manifest) != SWEEP or type(planned) is not int:  # a trained model's: no grid
        return None
    have = sum(1 for _ in shard_paths(run_dir))
    if have >= planned:
        return None
    return (
        f"note: the report is partial: {have} of the {planned} planned cells are measured; "
        "run the same sweep again to measure the rest"
    )


def _check_parent(path: Path) -> None:
    """Refuse, in one line, an output path below a regular file."""
    from ..errors import VanishlabError

    for folder in path.parents:
        if folder.exists():
            if not folder.is_dir():
                raise VanishlabError(
                    f"cannot write {path}: {folder} is not a folder; {NOT_WRITTEN}"
                )
            return
