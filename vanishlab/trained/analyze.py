"""``vanishlab analyze``: measure one saved recurrent module and write a run directory.

The run directory is a sweep's (:mod:`vanishlab.sweep.store`) with one cell: its shard holds
the module's per-lag Jacobian norms (:mod:`vanishlab.trained.measure`), and its manifest marks
it ``"kind": "single-model"`` and records, under ``"model"``, the checkpoint's path and
SHA-256 digest, the module's key prefix, the inferred architecture, the inputs (a file and its
digest, or the Gaussian draw's parameters) and the top Lyapunov exponent, which its shard's
metadata keeps too (``analysis``), under its checksum: the readers take it from there. Running
the same analysis into the same directory again finds its shard and measures nothing (the cell
id depends on the checkpoint's digest and the inputs); a directory holding anything else is
refused.

Gaussian inputs: x ~ N(0, input_std^2), shape (seq_len, batch, input_size), drawn in the
module's dtype from ``torch.Generator().manual_seed(seed)`` (the global RNG is not touched).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..core.integers import check_integer
from ..core.steps import counting_steps
from ..errors import NonFiniteStateError, VanishlabError
from ..sweep import store
from ..sweep.axis_entry import INT64_MAX
from ..sweep.cell import pinned_numerics
from ..sweep.config import GAUSSIAN_INPUTS
from ..sweep.files import as_flag, as_path, as_text, path_name, resolved
from ..sweep.manifest import (
    SINGLE_MODEL,
    as_shards_hold,
    check_name,
    json_number,
    package_versions,
)
from ..sweep.preflight import make_dir
from ..sweep.progress import Progress, is_terminal, plural, status_line, working
from ..sweep.rundir import is_run_dir, remove_stale_temps
from .archive import sha256_file
from .checkpoint import Checkpoint, read_checkpoint
from .measure import (
    cell_id,
    check_fits,
    empty_rows,
    measure_rows,
    memory_refused_as,
    module_config,
    now,
    top_lyapunov,
)
from .spec import RecurrentSpec
from .state_dict import module_label
from .torch_file import load_tensor_file

__all__ = ["SINGLE_MODEL", "AnalyzeResult", "analyze_checkpoint", "gaussian_inputs"]

#: False where the caller says :func:`analyze_checkpoint`'s notes itself (:func:`notes_unwarned`).
_NOTES_WARNED = contextvars.ContextVar("vanishlab_analyze_notes_warned", default=True)

#: What makes an analysis's measurement smaller, by where its inputs come from: said where
#: the estimate refuses them and where the CPU's allocator does.
_SMALLER = {
    "gaussian": "use a smaller seq_len (--seq-len) or batch (--batch)",
    "file": "give fewer or shorter sequences in the inputs file",
}


@contextlib.contextmanager
def notes_unwarned() -> Iterator[None]:
    """Within, :func:`analyze_checkpoint` does not warn its notes (the checkpoint's other
    entries; a finished analysis keeps its name): the command line says them in its own words.
    A context variable, this thread's own: a warning filter would change the whole process's
    (:mod:`vanishlab.core.warning_filters`), and hold its lock through the whole analysis."""
    token = _NOTES_WARNED.set(False)
    try:
        yield
    finally:
        _NOTES_WARNED.reset(token)


@dataclass(frozen=True)
class AnalyzeResult:
    """What :func:`analyze_checkpoint` did: where, what it read, and whether it measured."""

    run_dir: Path
    checkpoint: Checkpoint
    measured: bool  # False when the directory already held this analysis
    status: str  # "ok" or "failed" (the forward pass overflowed)
    seq_len: int | None = None  # T and B of the inputs measured on
    batch: int | None = None

    def __str__(self) -> str:
        done = "measured" if self.measured else "already measured"
        what = self.checkpoint.spec.describe()
        name = module_label(self.checkpoint.module_name)
        # T and B as read: a (B, T, I) file given without --batch-first shows as the wrong T.
        inputs = f", inputs T={self.seq_len}, B={self.batch}" if self.seq_len is not None else ""
        fail = "" if self.status == "ok" else " (failed: the forward pass overflowed)"
        return f"{what}, module {name}{inputs}: {done}{fail} -> {self.run_dir}"


def gaussian_inputs(
    input_size: int, *, seq_len: int, batch: int, input_std: float, seed: int, dtype: str
) -> torch.Tensor:
    """x ~ N(0, input_std^2), ``(seq_len, batch, input_size)`` (see the module docstring)."""
    for name, value in (("seq_len", seq_len), ("batch", batch)):
        if value < 1:
            flag = name.replace("_", "-")
            raise VanishlabError(f"{name} (--{flag}) must be at least 1, got {value}")
    if not input_std >= 0 or input_std == float("inf"):
        raise VanishlabError(
            f"input_std (--input-std) must be a finite number >= 0, got {input_std}"
        )
    if not 0 <= seed <= INT64_MAX:  # as the sweep's seed axis
        raise VanishlabError(f"seed (--seed) must be between 0 and 2**63 - 1, got {seed}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(seq_len, batch, input_size, generator=gen, dtype=getattr(torch, dtype))
    x = x * input_std
    if not torch.isfinite(x).all():  # drawn here, not given: say what made them overflow
        raise VanishlabError(
            f"input_std (--input-std) {input_std} makes Gaussian inputs that overflow the "
            f"module's {dtype} (largest finite value {torch.finfo(x.dtype).max:.6g}); give a "
            "smaller one"
        )
    return x


def _check_out(run_dir: Path) -> dict[str, Any] | None:
    """The manifest of an earlier analysis in ``run_dir``, None for a new or empty one."""
    if not is_run_dir(run_dir):
        return None
    manifest = store.load_manifest(run_dir)
    if manifest.get("kind") != SINGLE_MODEL:
        raise VanishlabError(
            f"{run_dir} holds another kind of run ({manifest.get('kind', 'a sweep')}); "
            "choose a new or empty --out"
        )
    return manifest


def analyze_checkpoint(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    module: str | None = None,
    nonlinearity: str | None = None,
    inputs: str | os.PathLike[str] | None = None,
    batch_first: bool = False,
    seq_len: int | None = None,
    batch: int | None = None,
    input_std: float | None = None,
    seed: int | None = None,
    name: str | None = None,
    command: str | None = None,
    progress: bool = False,
) -> AnalyzeResult:
    """Measure the recurrent module saved in ``checkpoint`` and write the run ``out``.

    Args:
        checkpoint: a ``torch.save`` file (see :func:`vanishlab.trained.read_checkpoint`).
        out: the run directory (new, empty, or holding this same analysis).
        module, nonlinearity: see :func:`~vanishlab.trained.read_checkpoint`.
        inputs: a ``torch.save`` file of one tensor laid out as the module takes it: (T, B, I),
            (B, T, I) with ``batch_first``, or unbatched (T, I). Default: Gaussian inputs from
            ``seq_len``, ``batch``, ``input_std``, ``seed`` (each None: its default in
            :data:`vanishlab.sweep.config.GAUSSIAN_INPUTS`), which ``inputs`` refuses.
        name: a label kept in the manifest, which names its report (default: the run
            directory's name, as ``vanishlab analyze`` gives). An analysis already in ``out``
            keeps the name it has: another ``name`` is not used, with a ``UserWarning``.
        command: the command line that made the run, kept in the manifest.
        progress: say on stderr what is being measured while it is (at once on a terminal,
            else once it has taken 2 s), then the steps of the measurement done and the time
            left (a bar on a terminal, else a line at most every 10 s and every tenth, at least
            every minute).

    Raises:
        VanishlabError: every user mistake (see :func:`read_checkpoint`), inputs that do not
            fit the module, an ``out`` that holds something else or is in use.
    """
    start = time.perf_counter()
    # progress="no" showed the spinner; batch_first="no" read an inputs file as (B, T, I)
    progress, batch_first = as_flag(progress, "progress"), as_flag(batch_first, "batch_first")
    given = {"seq_len": seq_len, "batch": batch, "input_std": input_std, "seed": seed}
    unused = [f"{k} (--{k.replace('_', '-')})" for k, v in given.items() if v is not None]
    if inputs is not None and unused:  # ignoring them would measure other inputs in silence
        one = len(unused) == 1
        raise VanishlabError(
            f"{', '.join(unused)} {'has' if one else 'have'} no effect with an inputs file "
            f"(--inputs): {'it describes' if one else 'they describe'} the Gaussian inputs, "
            f"which the file replaces; drop {'it' if one else 'them'}"
        )
    gauss = {k: GAUSSIAN_INPUTS[k] if v is None else v for k, v in given.items()}
    input_std = gauss["input_std"]
    # a Python or NumPy integer, or a 0-d integer tensor, as a Python int from here on: NumPy
    # scalars failed in the cell id's JSON and in manual_seed
    seq_len, batch, seed = (check_integer(gauss[k], k) for k in ("seq_len", "batch", "seed"))
    if isinstance(input_std, bool) or not isinstance(input_std, numbers.Real):
        raise TypeError(f"input_std must be a number, got {input_std!r}")
    # np.float32 as a Python float, as train_cell takes it. An integer too large for a float
    # is an infinite std (refused in words below, not an OverflowError).
    try:
        input_std = float(input_std)
    except OverflowError:
        input_std = math.inf if input_std > 0 else -math.inf
    checkpoint, out = as_path(checkpoint, "checkpoint"), as_path(out, "out")
    if inputs is not None and not isinstance(inputs, str | os.PathLike):
        raise TypeError(
            f"inputs must be the path of a torch.save file, got {type(inputs).__name__} (save a "
            "tensor with torch.save(x, path) and pass the path)"
        )
    check_name(name)
    ckpt = read_checkpoint(checkpoint, module=module, nonlinearity=nonlinearity)
    if (note := ckpt.others_note()) is not None and _NOTES_WARNED.get():
        warnings.warn(note, UserWarning, stacklevel=2)
    spec = ckpt.spec
    if batch_first and inputs is None:
        raise VanishlabError(
            "batch_first (--batch-first) describes an inputs file (--inputs); give one, or drop it"
        )
    net = ckpt.build(batch_first=batch_first)
    if inputs is not None:
        x = load_tensor_file(inputs).to(getattr(torch, spec.dtype))
        described: dict[str, Any] = {
            "file": os.fspath(resolved(inputs)),
            "sha256": sha256_file(inputs),
            "batch_first": batch_first,
            "shape": list(x.shape),
        }
        std = None
    else:
        if seq_len >= 1 and batch >= 1:  # else gaussian_inputs says what is wrong
            _check_memory(spec, seq_len, batch, _SMALLER["gaussian"])
        x = gaussian_inputs(
            spec.input_size,
            seq_len=seq_len,
            batch=batch,
            input_std=input_std,
            seed=seed,
            dtype=spec.dtype,
        )
        described = {"gaussian": {"seq_len": seq_len, "batch": batch, "input_std": input_std}}
        std = float(input_std)
    _check_shape(x, spec.input_size, batch_first)
    if inputs is not None:
        if x.dim() == 2:  # unbatched (T, I)
            T, B = x.shape[0], 1
        else:
            T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], x.shape[1])
        _check_memory(spec, T, B, _SMALLER["file"])
    _check_finite(x, spec.dtype)
    config = module_config(net, x, input_std=std, seed=seed)
    cid = cell_id(config, checkpoint_sha256=ckpt.sha256, module=ckpt.module_name, inputs=described)

    run_dir = Path(out)
    earlier = _check_out(run_dir)
    created = not run_dir.exists()
    try:
        return _measure_into(
            run_dir,
            earlier,
            ckpt,
            net,
            x,
            config,
            cid,
            described,
            seed,
            start,
            name,
            command,
            checkpoint,
            progress,
        )
    except BaseException:
        # A refusal, an interruption (Ctrl-C) or a bug leaves no directory of just a lock; one
        # that was there before, or holds anything else, is kept as it is.
        if created:
            with contextlib.suppress(OSError):
                if [p.name for p in run_dir.iterdir()] == [store.LOCK]:
                    (run_dir / store.LOCK).unlink()
                run_dir.rmdir()  # only when empty
        raise


def _measure_into(
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
) -> AnalyzeResult:
    spec = ckpt.spec
    make_dir(run_dir)  # one line for an --out below a file, or on a read-only file system
    with store.RunLock(run_dir):
        done = store.sound_metas(run_dir) if earlier is not None else {}
        if earlier is not None and set(done) - {cid}:
            raise VanishlabError(
                f"{run_dir} holds the analysis of another model or other inputs; choose a new "
                "or empty --out"
            )
        if cid in done:
            kept = earlier.get("name") if earlier is not None else None
            if name is not None and kept != name and _NOTES_WARNED.get():  # as a monitor says
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
                mended["finished"] = now()
                if current.get("elapsed_s") is None:  # (the overview said "run time: none")
                    mended["elapsed_s"] = round(done[cid]["elapsed_s"], 3)  # the measurement's
            if mended != current:
                store.write_manifest(run_dir, mended)
            status = done[cid]["status"]
            return AnalyzeResult(run_dir, ckpt, False, status, config["seq_len"], config["batch"])
        lyap: float | None
        doing = (
            f"measuring {spec.describe()} over {plural(config['seq_len'], 'step')} x "
            f"{plural(config['batch'], 'sequence')} (this may take a while)"
        )
        # the allocator's refusal in an analysis's words: the engine's named "this x" and "the
        # batch in parts", which the command line has neither of
        sizes = f"{spec.describe()} on inputs of T={config['seq_len']}, B={config['batch']}"
        refused = memory_refused_as(sizes, _SMALLER["file" if "file" in described else "gaussian"])
        with refused, pinned_numerics(), _steps_shown(doing, config["seq_len"], progress) as bar:
            measure_start = time.perf_counter()
            try:
                frame = measure_rows(net, x, config, cid)
                status, reason = "ok", None
            except NonFiniteStateError as err:
                frame, status, reason = empty_rows(), "failed", str(err)
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
            "analysis": {"lyapunov": json_number(lyap)},
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
            "started": now(),
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
            },
        }
        remove_stale_temps(run_dir)  # of a writer killed mid-write (as a sweep does)
        store.write_manifest(run_dir, manifest)
        store.write_shard(run_dir, frame, meta)
        manifest["finished"] = now()
        manifest["elapsed_s"] = round(time.perf_counter() - start, 3)
        store.write_manifest(run_dir, manifest)
    return AnalyzeResult(run_dir, ckpt, True, status, config["seq_len"], config["batch"])


@contextlib.contextmanager
def _steps_shown(doing: str, steps: int, enabled: bool) -> Iterator[Progress]:
    """While the body measures: ``doing`` on stderr (on a terminal at once, else once it has
    taken 2 s), then the steps of the backward recursion done, with the time left (a bar on a
    terminal; plain lines at most every 10 s and every tenth of the steps, at least every
    minute): a measurement of a large module takes minutes (nn.RNN(128, 1024) at T = 500,
    B = 8: 5.5 min on one thread).
    The body may start the count of a second stage (:meth:`Progress.stage`: the Lyapunov
    exponent's steps, 15-30% of the backward loop's time at H = 128-256)."""
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


def _check_memory(spec: RecurrentSpec, seq_len: int, batch: int, remedy: str) -> None:
    """Refuse inputs whose measurement cannot fit in memory (:func:`.measure.check_fits`)."""
    sizes = {k: getattr(spec, k) for k in ("num_layers", "hidden_size", "input_size", "dtype")}
    check_fits(f"{spec.describe()} on inputs of", spec.kind, sizes, seq_len, batch, remedy)


def _check_finite(x: torch.Tensor, dtype: str) -> None:
    bad = (~torch.isfinite(x)).nonzero()
    if len(bad):
        raise VanishlabError(
            f"the inputs hold {x[tuple(bad[0])].item()} at index {tuple(bad[0].tolist())} "
            f"(in the module's {dtype}): vanishlab measures finite inputs"
        )


def _check_shape(x: torch.Tensor, input_size: int, batch_first: bool) -> None:
    # No --batch-first hint: it swaps T and B only, and never mends the feature dimension.
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    if x.dim() in (2, 3) and x.shape[-1] == input_size and 0 in x.shape:
        # The layout fits and only a length is 0: say which, as vl.jacobian_norms does.
        seq_len = x.shape[1] if x.dim() == 3 and batch_first else x.shape[0]
        what = "an empty sequence (T = 0)" if seq_len == 0 else "an empty batch (B = 0)"
        read = "unbatched (T, input_size)" if x.dim() == 2 else layout  # (0, 3): not (T, B, ..)
        raise VanishlabError(
            f"the inputs have shape {tuple(x.shape)}, read as {read}: "
            f"{what}; there is nothing to measure"
        )
    if x.dim() not in (2, 3) or x.shape[-1] != input_size or 0 in x.shape:
        elsewhere = [d for d in range(x.dim() - 1) if x.shape[d] == input_size]
        raise VanishlabError(
            f"the inputs have shape {tuple(x.shape)}; the module takes {layout} or unbatched "
            f"(T, input_size) with input_size={input_size}"
            + (
                f" (dimension {elsewhere[0]} has size {input_size}: the features must be the "
                "last dimension; permute the tensor before saving it)"
                if elsewhere and x.dim() in (2, 3) and 0 not in x.shape
                else ""
            )
        )
