"""What a sweep did (:class:`RunSummary`, which :func:`vanishlab.run_sweep` returns) and the
lines the ``vanishlab sweep`` command prints of it on stderr: warnings, damaged shards moved
aside, failures by kind."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import StoppedRunError, VanishlabError, surface_words
from . import store
from .config import grids_ids
from .plan import run_grids
from .progress import plural
from .section_names import ANOMALIES
from .shard import CELLS, shard_paths
from .shard_file import SHARD_SUFFIX

__all__ = [
    "MAX_WARNING_LINES",
    "RunSummary",
    "displaced_error",
    "displaced_if_failed",
    "failures",
    "kept_line",
    "moved_line",
    "outside_line",
    "refuse_displaced",
    "stopped_line",
]


def kept_line(run_dir: Path, then: str = "") -> str:
    """What a sweep stopped before its end (Ctrl-C, SIGTERM, a full disk, a worker that died)
    left in ``run_dir``, looked at after the stop, and the way on, ``then`` added to it (",
    perhaps with fewer --workers (workers=)"). "finished work is kept; run the same command to
    resume" was said too where the disk refused the manifest and the folder was removed, no
    cell measured (``ulimit -f 2``); of a folder never made it now says so ("nothing was
    written (RUN does not exist)"). Where every cell of the run's grids is kept (a stop after
    the last was saved, before the manifest that marks the run finished), "all N cells kept":
    it said "N finished cells kept ...; run the same command to resume", nothing left to
    measure. Shards are counted as listed, unread: reading and verifying them took 5.5 s for
    1,000 cells, too long for a stop's line; a damaged one among them is found by the resume,
    which moves it aside and measures its cell again. Raises what the look raises (OSError,
    VanishlabError)."""
    if not (run_dir / store.MANIFEST).is_file():
        return f"nothing was written{'' if run_dir.is_dir() else f' ({run_dir} does not exist)'}"
    shards = list(shard_paths(run_dir))
    if not shards:
        return (
            f"no cell is saved yet ({run_dir} keeps its manifest); run the same command to "
            f"start again{then}"
        )
    every, finished = None, False
    # A manifest that cannot be read (corrupt, a hand-edited grid) leaves the count: the line
    # the run's cells are kept by, as it was before "all N cells" was looked for.
    with contextlib.suppress(VanishlabError, TypeError, ValueError):
        manifest = store.load_manifest(run_dir)
        every, finished = _every_cell_kept(manifest, shards), bool(manifest.get("finished"))
    if every is not None:  # "N finished cells kept; run the same command to resume": nothing
        # was left to measure, only the run to mark finished (its manifest), where it is not
        cells = f"all {plural(every, 'cell')}" if every > 1 else "the run's 1 cell"
        if finished:
            return f"{cells} kept in {run_dir}; the run has finished"
        return f"{cells} kept in {run_dir}; run the same command to finish the run{then}"
    kept = len(shards)
    return (
        f"{plural(kept, 'finished cell')} kept in {run_dir}; run the same command to resume{then}"
    )


def _every_cell_kept(manifest: dict[str, Any], shards: list[Path]) -> int | None:
    """How many cells the grids of a run's ``manifest`` hold, where ``shards`` (its
    ``cells/``) keep every one; None where some are missing."""
    grids = run_grids(manifest)
    if len(shards) < max(math.prod(len(values) for values in g.values()) for g in grids):
        return None  # fewer shards than a grid's cells: none of the ids is worked out
    ids = grids_ids(grids)
    kept = {p.name.removesuffix(SHARD_SUFFIX) for p in shards if p.name.endswith(SHARD_SUFFIX)}
    return len(ids) if ids <= kept else None


def stopped_line(err: StoppedRunError, run_dir: Path) -> str:
    """The line of a sweep whose cells stopped running (``err``: a worker that died, a Dask
    cluster that stopped), with what ``run_dir`` keeps (:func:`kept_line`): "finished cells are
    kept: run the same command again to resume" was said where no cell had finished. A look
    that fails does not hide why the sweep stopped: then the way on alone."""
    try:
        left = kept_line(run_dir, err.then)
    except (OSError, VanishlabError):
        left = f"run the same command to resume{err.then}"
    return f"{err}; {left}"


def displaced_error(
    run_dir: Path,
    how: str,
    where: Path | None,
    *,
    writer: str = "the sweep",
    unit: str | None = "finished cell",
    resume: str = "run the same command to resume",
    restart: str = "run the same command to start again",
    what: str = "",
) -> VanishlabError:
    """The one line of a writer (``writer``: a sweep, a monitor, an analysis) that stopped
    because its run directory ``run_dir`` was moved to ``where`` or removed (``how``,
    :meth:`~.lock.RunLock.displaced`) while it wrote it: where what it finished is (its
    shards, counted as ``unit``; None: nothing of its own is there yet), and the way on:
    ``resume`` once moved back, ``restart`` once removed. ``what``, where given, begins the
    line: what was not written (a monitor's ``"step 3 not written"``)."""
    said = f"{what}: " if what else ""
    said += f"run directory {run_dir} was {how}"
    if how == "removed":
        lost = "" if unit is None else f", its {unit}s with it"
        return VanishlabError(f"{said} while {writer} wrote it{lost}; {restart}")
    kept = ""
    if where is not None:
        said += f" to {where}"
        with contextlib.suppress(OSError, VanishlabError):
            if unit is not None:
                kept = f" ({plural(len(list(shard_paths(where))), unit)} kept there)"
    return VanishlabError(
        f"{said} while {writer} wrote it{kept}; move it back to {run_dir} and {resume}"
    )


def refuse_displaced(run_dir: Path, lock: store.RunLock, **words: str) -> None:
    """Stop, in :func:`displaced_error`'s line (``words``: its keywords), where the run
    directory ``run_dir``, held by ``lock``, has gone from its path since it was locked (moved
    or removed while it was written): a shard or a manifest written to the path now would begin
    a second run there (see :meth:`~.lock.RunLock.displaced`). Called by each writer of a run
    directory (a sweep, a monitor, an analysis) before it writes into it."""
    displaced = lock.displaced()
    if displaced is not None:
        raise displaced_error(run_dir, *displaced, **words)


@contextlib.contextmanager
def displaced_if_failed(
    run_dir: Path, lock: store.RunLock, *, before: bool = False, **words: str
) -> Iterator[None]:
    """A write into ``run_dir`` (held by ``lock``), refused first where ``before`` and the
    folder has already gone from its path, and whose ``OSError`` is said in
    :func:`refuse_displaced`'s line where the folder has gone from its path meanwhile: a `mv`
    that lands during a shard's or a manifest's write (its fsync, most of a small write's
    time) failed its rename at the old path, and the writer said "No such file or directory:
    RUN/cells/<id>.parquet". Any other ``OSError`` is raised as it is. ``words``: the line's
    keywords (:func:`displaced_error`)."""
    if before:
        refuse_displaced(run_dir, lock, **words)
    try:
        yield
    except OSError as err:
        failed = err
    else:
        return
    refuse_displaced(run_dir, lock, **words)  # out of the except: the OSError is not chained
    raise failed


def moved_line(path: Path, again: str = "measured again") -> str:
    """The line for a damaged shard moved aside to ``path`` and its cell measured again (by a
    sweep or, for its own cell, an analysis); ``again`` says when, where it is not now (a
    monitor's step: when the training reaches it)."""
    return f"moved aside (corrupt; {again}): {path}"


@dataclass(frozen=True)
class RunSummary:
    """What :func:`vanishlab.run_sweep` did.

    ``n_cells``: cells in this sweep; ``n_run``: measured now; ``n_skipped``: already done
    (resume); ``n_failed``: cells of this sweep recorded as failed, now or by an earlier run;
    ``failures``: those failures as ``(kind, count, one reason)`` per kind (``"overflow"``: the
    network diverged, a result; ``"error"``: the measurement raised); ``moved_aside``: damaged
    shards moved to ``RUN_DIR/corrupt/`` and measured again, but for ``not_remeasured``: those
    of them whose cell is not in this sweep's grid (a subset, or a grid that --force
    extended: its own command measures it again); ``outside``: sound shards in ``cells/``
    whose cell is in none of the run's grids (copied from another run?), kept and counted, as
    the report and :func:`vanishlab.load_results` count them; ``elapsed_s``: wall time of this
    call; ``measure_s``: summed measurement time of the cells run now (``measure_s /
    (elapsed_s * workers)`` is the parallel efficiency); ``mixed_code``: the warning of cells
    measured now beside kept cells of other vanishlab code (None where there are none).
    """

    run_dir: Path
    n_cells: int
    n_run: int
    n_skipped: int
    n_failed: int
    elapsed_s: float
    measure_s: float = 0.0
    name: str = ""
    failures: tuple[tuple[str, int, str], ...] = ()
    moved_aside: tuple[Path, ...] = ()
    not_remeasured: tuple[Path, ...] = ()
    outside: tuple[Path, ...] = ()
    mixed_code: str | None = None

    @property
    def n_errors(self) -> int:
        """Cells of this sweep that failed with an error (not an overflow)."""
        return sum(count for kind, count, _ in self.failures if kind == "error")

    def __str__(self) -> str:
        return (
            f"sweep {self.name}: {self.n_cells} cell{'' if self.n_cells == 1 else 's'}, "
            f"{self.n_run} run, {self.n_skipped} "
            f"skipped (already done), {self.n_failed} failed, {self.elapsed_s:.1f} s "
            f"-> {self.run_dir}"
        )

    def finished_line(self) -> str:
        """What a sweep that ran to its end keeps, where a stdout that refused its summary (``>
        /dev/full``) left it unsaid: "the sweep has finished" named neither cells nor folder.
        Its own grid's cells: the folder may keep more, of an earlier grid ("its")."""
        failed = f" ({self.n_failed} failed)" if self.n_failed else ""
        cells = plural(self.n_cells, "cell")
        return f"the sweep has finished: its {cells} kept in {self.run_dir}{failed}"

    def failure_lines(self) -> list[str]:
        """One line per damaged shard moved aside and per kind of failure, with its count."""
        lines = [
            f"moved aside (corrupt; its cell is not in this grid: the command that made it "
            f"measures it again): {path}"
            if path in self.not_remeasured
            else moved_line(path)
            for path in self.moved_aside
        ]
        for kind, count, reason in self.failures:
            cells = "cell" if count == 1 else "cells"
            what = {
                "overflow": "overflow (the weights, inputs or forward pass reached inf or NaN: "
                "a result)",
                "error": "error (rerun with --retry-failed once fixed)",
            }.get(kind, kind)
            lines.append(f"failed: {count} {cells}, {what}; e.g. {reason}")
        return lines

    def warning_lines(self) -> list[str]:
        """The line of ``mixed_code`` (this sweep's cells beside kept cells of other vanishlab
        code: :func:`~.measured_by.mixed_code_line`), then one per shard of a cell in none of the
        run's grids (at most :data:`MAX_WARNING_LINES`, then a count): kept, and what to do if it
        does not belong."""
        lines = [self.mixed_code] if self.mixed_code else []
        lines += [outside_line(path) for path in self.outside[:MAX_WARNING_LINES]]
        more = len(self.outside) - MAX_WARNING_LINES
        if more > 0:
            lines.append(
                f"warning: {more} more such shards in {self.run_dir / CELLS} (the report "
                f"lists them under {ANOMALIES.title})"
            )
        return lines


#: The most shards :meth:`RunSummary.warning_lines` names one by one.
MAX_WARNING_LINES = 10


def outside_line(path: Path) -> str:
    """The warning for a sound shard whose cell is in none of its run's grids."""
    return (
        f"warning: {path}: its cell is in none of this run's grids (a shard copied from "
        f"another run?); kept, and counted by the report (under {ANOMALIES.title}) and "
        "vl.load_results: "
        "move it out of the run directory if it does not belong to it"
    )


def failures(metas: list[store.CellMeta]) -> tuple[tuple[str, int, str], ...]:
    """``(kind, count, first reason)`` of the failed cells among ``metas``, errors first."""
    found: dict[str, list[Any]] = {}
    for meta in metas:
        if meta["status"] != "failed":
            continue
        # Shards written before failures had a kind could only fail by overflow.
        kind = meta.get("failure") or "overflow"
        # stored with both names of an option ("--gain (gain=)"): said as this process says it
        reason = surface_words(meta["reason"]) if meta["reason"] else "no reason recorded"
        entry = found.setdefault(kind, [0, reason])
        entry[0] += 1
    order = sorted(found, key=lambda k: (k != "error", k))
    return tuple((kind, found[kind][0], found[kind][1]) for kind in order)
