"""An analysis's run directory: the check of an earlier analysis there, the measurement of the
module (its progress shown), and the shard and manifest written under the run's lock.

:func:`vanishlab.trained.analyze.analyze_checkpoint` reads and checks the checkpoint and the
inputs, then hands them here (``measure_into``); this module says what it did
(:class:`AnalyzeResult`). What the run directory holds is said in
:mod:`vanishlab.trained.analyze`'s docstring.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..core.fingerprint import weights_fingerprint
from ..core.steps import counting_steps
from ..errors import NonFiniteStateError, VanishlabError
from ..sweep import store
from ..sweep.cell import empty_frame, pinned_numerics
from ..sweep.files import as_text, path_name, resolved
from ..sweep.manifest import (
    SINGLE_MODEL,
    as_shards_hold,
    json_number,
    package_versions,
    run_kind_words,
    utc_now,
)
from ..sweep.progress import Progress, is_terminal, plural, status_line, working
from ..sweep.run_summary import displaced_if_failed, refuse_displaced
from ..sweep.rundir import held_new_or_run, is_run_dir, remove_stale_temps, unmake_unmeasured
from ..sweep.shard import write_shard
from .checkpoint import Checkpoint
from .gate_memory import gate_memory_steps
from .measure import measure_rows, memory_refused_as, top_lyapunov
from .state_dict import module_label

__all__ = [
    "NOTES_WARNED",
    "SMALLER",
    "AnalyzeResult",
    "earlier_analysis",
    "inputs_words",
    "measure_into",
    "notes_unwarned",
    "other_analysis",
    "unbatched_note",
]

#: False where the caller says :func:`.analyze.analyze_checkpoint`'s notes itself
#: (:func:`notes_unwarned`).
NOTES_WARNED = contextvars.ContextVar("vanishlab_analyze_notes_warned", default=True)

#: What makes an analysis's measurement smaller, by where its inputs come from: said where
#: the estimate refuses them and where the CPU's allocator does.
SMALLER = {
    "gaussian": "use a smaller --seq-len (seq_len=) or --batch (batch=)",
    "file": "give fewer or shorter sequences in the inputs file",
}


@contextlib.contextmanager
def notes_unwarned() -> Iterator[None]:
    """Within, :func:`.analyze.analyze_checkpoint` does not warn its notes (the checkpoint's other
    entries; a finished analysis keeps its name): the command line says them in its own words.
    A context variable, this thread's own: a warning filter would change the whole process's
    (:mod:`vanishlab.core.warning_filters`), and hold its lock through the whole analysis."""
    token = NOTES_WARNED.set(False)
    try:
        yield
    finally:
        NOTES_WARNED.reset(token)


@dataclass(frozen=True)
class AnalyzeResult:
    """What :func:`.analyze.analyze_checkpoint` did: where, what it read, whether it measured."""

    run_dir: Path
    checkpoint: Checkpoint
    measured: bool  # False when the directory already held this analysis
    status: str  # "ok" or "failed" (the forward pass overflowed)
    seq_len: int | None = None  # T and B of the inputs measured on
    batch: int | None = None
    moved_aside: tuple[Path, ...] = ()  # damaged shards set aside to corrupt/, now there

    def __str__(self) -> str:
        done = "measured" if self.measured else "already measured"
        what = self.checkpoint.spec.describe()
        name = module_label(self.checkpoint.module_name)
        # T and B as read: a (B, T, I) file given without --batch-first shows as the wrong T.
        inputs = f", inputs T={self.seq_len}, B={self.batch}" if self.seq_len is not None else ""
        fail = "" if self.status == "ok" else " (failed: the forward pass overflowed)"
        return f"{what}, module {name}{inputs}: {done}{fail} -> {self.run_dir}"


def earlier_analysis(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of an earlier analysis in ``run_dir``, None for a new or empty one."""
    if not is_run_dir(run_dir):
        return None
    manifest = store.load_manifest(run_dir)
    if manifest.get("kind") != SINGLE_MODEL:
        raise VanishlabError(
            f"{run_dir} holds {run_kind_words(manifest)}, not an analysis of one model; "
            "choose a new or empty --out"
        )
    return manifest


def inputs_words(inputs: Any, seed: Any) -> str:
    """An analysis's inputs (its manifest's ``model.inputs``) in words: Gaussian ones by their
    T, B, std and seed; a file by its name, shape and the layout it was read as."""
    if not isinstance(inputs, dict):
        return "inputs not recorded"
    gauss, file = inputs.get("gaussian"), inputs.get("file")
    if isinstance(gauss, dict):
        std = gauss.get("input_std")
        std_text = f"{std:g}" if isinstance(std, int | float) else str(std)
        return (
            f"Gaussian inputs T={gauss.get('seq_len')}, B={gauss.get('batch')}, std "
            f"{std_text}, seed {seed}"
        )
    if isinstance(file, str):
        shape = inputs.get("shape")
        dims = tuple(shape) if isinstance(shape, list) else None
        layout = (
            "(T, I)"
            if dims is not None and len(dims) == 2
            else "(B, T, I)"
            if inputs.get("batch_first")
            else "(T, B, I)"
        )
        read = f" of shape {dims}, read as {layout}" if dims is not None else ""
        return f"inputs file {as_text(Path(file).name)}{read}"
    return "inputs not recorded"


def unbatched_note(inputs: Path, seq_len: int, flag: str) -> str:
    """What a ``flag`` (``--batch-first``, ``batch_first=True``) given with an inputs file of
    one unbatched sequence does: nothing, as torch reads a 2-D tensor as (T, I) either way."""
    return (
        f"{inputs} is one unbatched sequence, read as (T, I), T={seq_len}; {flag} has no "
        "effect on it (a batch of sequences is a (B, T, I) file)"
    )


def other_analysis(there: Any, here: dict[str, Any]) -> str:
    """What the analysis in a run directory measured that this one does not, in words: the
    checkpoint (another file, or the same file changed since: its SHA-256), the module in it,
    an nn.RNN's nonlinearity, the inputs. ``there`` is the earlier manifest's ``model``
    record; ``here`` holds the same keys for this analysis (``checkpoint``, ``sha256``,
    ``module``, ``nonlinearity``, ``inputs``, ``seed``). "another model or other inputs" said
    neither which nor what: a retrained model saved over model.pt, or a longer --seq-len, read
    the same."""
    if not isinstance(there, dict):
        return "another model or other inputs (its manifest does not say which)"
    model: list[str] = []
    old_path, new_path = there.get("checkpoint"), here["checkpoint"]
    old_sha, new_sha = str(there.get("sha256")), here["sha256"]
    old_name = as_text(Path(old_path).name) if isinstance(old_path, str) else "another file"
    new_name = as_text(Path(new_path).name)
    if old_sha != new_sha:
        if old_path == new_path:
            model.append(
                f"{new_name} as it was then (SHA-256 {old_sha[:12]}...; it is "
                f"{new_sha[:12]}... now: the file changed since)"
            )
        else:
            model.append(
                f"{old_name} (SHA-256 {old_sha[:12]}...), not {new_name} ({new_sha[:12]}...)"
            )
    if there.get("module") != here["module"]:
        old_module = there.get("module")
        old_label = module_label(old_module) if isinstance(old_module, str) else "another"
        model.append(f"module {old_label}, not {module_label(here['module'])}")
    arch = there.get("architecture")
    old_act = arch.get("nonlinearity") if isinstance(arch, dict) else None
    if old_act is not None and here["nonlinearity"] is not None and old_act != here["nonlinearity"]:
        model.append(f"measured as {old_act}, not {here['nonlinearity']} (--nonlinearity)")
    parts = [f"another model: {', '.join(model)}"] if model else []
    old_inputs = there.get("inputs")
    old_in = inputs_words(old_inputs, there.get("seed"))
    new_in = inputs_words(here["inputs"], here["seed"] if "gaussian" in here["inputs"] else None)
    if old_in != new_in:
        parts.append(f"other inputs: {old_in}, not {new_in}")
    elif isinstance(old_inputs, dict) and old_inputs.get("sha256") != here["inputs"].get("sha256"):
        parts.append(f"other inputs: {old_in} as it was then (the file changed since)")
    if not parts:
        return "another model or other inputs (measured with another version or setting)"
    return "; and ".join(parts)


def measure_into(
    run_dir: Path,
    earlier: dict[str, Any] | None,
    ckpt: Checkpoint,
    net: torch.nn.RNNBase,
    x: torch.Tensor,
    config: dict[str, Any],
    cid: str,
    described: dict[str, Any],
    seed: int,
    start: float,
    name: str | None,
    command: str | None,
    checkpoint: str | os.PathLike[str],
    progress: bool = False,
    before: tuple[str, ...] = (),
) -> AnalyzeResult:
    """Measure ``net`` on ``x`` into ``run_dir`` as the cell ``cid``, or find it there:
    ``before`` are the ids that earlier versions gave this same measurement."""
    spec = ckpt.spec
    # one line for an --out below a file, or on a read-only file system; refused or stopped
    # before its manifest is written, it leaves nothing it made
    with held_new_or_run(run_dir) as lock:
        done, moved = store.set_aside_damaged(run_dir) if earlier is not None else ({}, ())
        if earlier is not None and set(done) - {cid, *before}:
            here = {"sha256": ckpt.sha256, "module": ckpt.module_name, "inputs": described}
            here.update(checkpoint=os.fspath(resolved(checkpoint)), seed=seed)
            here["nonlinearity"] = spec.nonlinearity
            raise VanishlabError(
                f"{run_dir} holds the analysis of {other_analysis(earlier.get('model'), here)}; "
                "choose a new or empty --out (out=)"
            )
        found = next((i for i in (cid, *before) if i in done), None)
        if found is not None:
            kept = earlier.get("name") if earlier is not None else None
            if name is not None and kept != name and NOTES_WARNED.get():  # as a monitor says
                warnings.warn(
                    f"{run_dir} keeps its name {kept!r} (name= names a new run)",
                    UserWarning,
                    stacklevel=3,
                )
            current = store.load_manifest(run_dir)
            # The exponent as its shard holds it, under its checksum: a damaged manifest's is
            # mended, as a reopened monitor mends its steps.
            mended = as_shards_hold(current, done)
            if current.get("finished") is None:
                # Stopped between its shard and the manifest that says it finished (SIGKILL,
                # a full disk): that manifest is written now, as a resumed sweep's is; left
                # so, the report said "not finished" for good.
                mended["finished"] = utc_now()
                if current.get("elapsed_s") is None:  # (the overview said "run time: none")
                    mended["elapsed_s"] = round(done[found]["elapsed_s"], 3)  # the measurement's
            if mended != current:
                store.write_manifest(run_dir, mended)
            status = done[found]["status"]
            return AnalyzeResult(
                run_dir, ckpt, False, status, config["seq_len"], config["batch"], moved
            )
        lyap: float | None
        doing = (
            f"measuring {spec.describe()} over {plural(config['seq_len'], 'step')} x "
            f"{plural(config['batch'], 'sequence')} (this may take a while)"
        )
        # the allocator's refusal in an analysis's words: the engine's named "this x" and "the
        # batch in parts", which the command line has neither of
        sizes = f"{spec.describe()} on inputs of T={config['seq_len']}, B={config['batch']}"
        refused = memory_refused_as(sizes, SMALLER["file" if "file" in described else "gaussian"])
        with refused, pinned_numerics(), _steps_shown(doing, config["seq_len"], progress) as bar:
            measure_start = time.perf_counter()
            try:
                frame = measure_rows(net, x, config, cid)
                status, reason = "ok", None
            except NonFiniteStateError as err:
                frame, status, reason = empty_frame(), "failed", str(err)
            except (TypeError, ValueError) as err:
                raise VanishlabError(f"cannot measure {spec.describe()}: {err}") from None
            try:
                if status == "ok":
                    bar.stage("Lyapunov exponent", config["seq_len"])  # its own T steps
                lyap = top_lyapunov(net, x, seed=seed) if status == "ok" else None
            except (TypeError, ValueError):
                lyap = None  # this engine does not follow this kind of module's dynamics
            elapsed = time.perf_counter() - measure_start
        meta: store.CellMeta = {
            "cell_id": cid,
            "config": config,
            "status": status,
            "reason": reason,
            # as a sweep's cell: an overflow of the network's own forward pass is a result
            "failure": None if status == "ok" else "overflow",
            "elapsed_s": elapsed,
            "n_rows": len(frame),
            # under the metadata's checksum, which the manifest has not: readers take it from
            # here (sweep.manifest.as_shards_hold)
            "analysis": {
                "lyapunov": json_number(lyap),
                # vl.load_results gives it to the rows (frame.attrs), as jacobian_norms does:
                # check_pascanu then refuses them beside another module, or this one trained on
                "weights_fingerprint": weights_fingerprint(net),
            },
        }
        manifest = {
            "format": store.FORMAT,
            "kind": SINGLE_MODEL,
            # as `vanishlab analyze` names it: the report is reports/<run directory>.html
            "name": name or path_name(run_dir),
            "description": f"{spec.describe()} read from {as_text(Path(checkpoint).name)}",
            "axes": {axis: [value] for axis, value in config.items()},
            "sections": None,
            "command": command,
            "versions": package_versions(),
            "started": utc_now(),
            "finished": None,
            "elapsed_s": None,
            "n_cells": 1,
            "model": {
                "source": "checkpoint",
                "checkpoint": os.fspath(resolved(checkpoint)),
                "sha256": ckpt.sha256,
                "module": ckpt.module_name,
                # what the note of keys its kind has not says, for the report (None: none)
                "note": ckpt.others_note(),
                "architecture": spec.to_dict(),
                "inputs": described,
                # the Gaussian inputs' seed; none drew an inputs file (it recorded 0)
                "seed": seed if "gaussian" in described else None,
                "lyapunov": json_number(lyap),
                # how long its gates keep the state (None: an nn.RNN): a growing curve of a run
                # much shorter is read as the state still filling from its start
                "gate_memory_steps": json_number(gate_memory_steps(net)),
            },
        }
        # Moved or removed while it measured (minutes), or while it writes (a write's fsync):
        # "No such file or directory: RUN/manifest.json" said neither what became of it nor
        # that the measurement was lost.
        again = "run the same command to measure it again"
        words = {
            "writer": "the analysis",
            "resume": f"{again} (this measurement is not kept)",
            "restart": f"{again} (this measurement is not kept)",
        }
        refuse_displaced(run_dir, lock, unit=None, **words)  # its shard is written last
        remove_stale_temps(run_dir)  # of a writer killed mid-write (as a sweep does)
        with displaced_if_failed(run_dir, lock, unit=None, **words):
            store.write_manifest(run_dir, manifest)
            with _unmade_unless_saved(run_dir, new=earlier is None):
                write_shard(run_dir, frame, meta)
        manifest["finished"] = utc_now()
        manifest["elapsed_s"] = round(time.perf_counter() - start, 3)
        # its shard saved where the folder went: the same command finds it measured
        saved = {**words, "resume": "run the same command to finish it", "restart": again}
        with displaced_if_failed(run_dir, lock, unit="measured model", **saved):
            store.write_manifest(run_dir, manifest)
    return AnalyzeResult(run_dir, ckpt, True, status, config["seq_len"], config["batch"], moved)


@contextlib.contextmanager
def _unmade_unless_saved(run_dir: Path, *, new: bool) -> Iterator[None]:
    """Where the block (the shard's write) raises and no shard is saved, a ``new`` analysis's
    manifest and empty ``cells/`` go, so that :func:`held_new_or_run` removes what it made:
    ``ulimit -f 2`` refused the shard and left both, a folder that a report then called "no
    measured model (its shard is gone)". An earlier analysis's manifest stays (a resumed one)."""
    try:
        yield
    except BaseException:
        if new:
            unmake_unmeasured(run_dir)
        raise


@contextlib.contextmanager
def _steps_shown(doing: str, steps: int, enabled: bool) -> Iterator[Progress]:
    """While the body measures: ``doing`` on stderr (on a terminal at once, else once it has
    taken 2 s), then the steps of the backward recursion done, with the time left (a bar on a
    terminal; plain lines at most every 10 s and every tenth of the steps, at least every
    minute): a measurement of a large module takes minutes (nn.RNN(128, 1024) at T = 500,
    B = 8: 5.5 min on one thread).
    The body may start the count of a second stage (:meth:`Progress.stage`: the Lyapunov
    exponent's steps, 5-25% of the backward loop's time at H = 128-256)."""
    if enabled and is_terminal():
        status_line(doing)  # above the bar (a spinner and a bar cannot share the terminal)
    with (
        working(doing, enabled and not is_terminal()),
        Progress(
            enabled, "measuring", steps, 0, 0, unit="step", failures=False, quick_silent=True
        ) as bar,
        counting_steps(lambda done, _total: bar.to(done)),
    ):
        yield bar
