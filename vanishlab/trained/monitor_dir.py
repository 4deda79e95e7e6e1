"""A monitor's run directory: the architecture it records, the check of an earlier run in it,
its manifest, and the refusal to write a step where it has gone from its path."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.modules import module_kind
from ..core.training_facts import chance_level
from ..errors import VanishlabError
from ..sweep import store
from ..sweep.files import path_name
from ..sweep.manifest import MONITOR, monitor_steps, package_versions, run_kind_words, utc_now
from ..sweep.measured_by import EARLIER_VERSIONS, carried_versions
from ..sweep.run_summary import displaced_if_failed, moved_line
from ..sweep.rundir import is_run_dir
from .measure import module_config, module_dtype

__all__ = [
    "architecture_change",
    "check_earlier",
    "every_text",
    "module_architecture",
    "moved_refused",
    "moved_steps",
    "new_manifest",
    "probe_change",
]


def every_text(every: object) -> str:
    """``"every step"``, ``"every 50 steps"`` (it said "every 1 steps")."""
    return "every step" if every == 1 else f"every {every} steps"


def moved_steps(earlier: Mapping[str, Any] | None, moved: Sequence[Path]) -> list[str]:
    """A line for each damaged step shard that reopening a monitor moved aside (``moved``,
    where each now lies), in a sweep's words (:func:`~vanishlab.sweep.run_summary.moved_line`):
    the step it held (``earlier``'s record of its cell) is no longer recorded, and is measured
    again when the training reaches it."""
    steps = (earlier or {}).get("steps")
    by_cell = {
        rec.get("cell_id"): key
        for key, rec in (steps.items() if isinstance(steps, dict) else ())
        if isinstance(rec, dict)
    }
    lines = []
    for path in moved:  # <cell_id>.parquet, or <cell_id>.<n>.parquet beside an earlier one
        step = by_cell.get(path.name.split(".")[0])
        what = "its step" if step is None else f"step {step}"
        lines.append(moved_line(path, f"{what} is measured again when the training reaches it"))
    return lines


def module_architecture(m: nn.RNNBase) -> dict[str, Any]:
    """What a monitor records of its module's architecture (checked at every recorded step)."""
    kind = module_kind(m)
    return {
        "kind": kind,
        "input_size": m.input_size,
        "hidden_size": m.hidden_size,
        "num_layers": m.num_layers,
        "bias": bool(m.bias),
        "nonlinearity": m.nonlinearity if kind == "rnn" else None,
        "batch_first": bool(m.batch_first),
        "dtype": module_dtype(m),
    }


def architecture_change(was: object, now: Mapping[str, Any]) -> str:
    """What differs between a recorded architecture (``was``) and the module's (``now``):
    ``hidden_size 32 there, 16 here``, each field that differs."""
    if not isinstance(was, dict):
        return "its architecture is not recorded there"
    # every key of either: one recorded there alone (a later version's field) read "()"
    keys = [*now, *(key for key in was if key not in now)]
    return ", ".join(
        f"{key} {was.get(key)} there, {now.get(key)} here"
        for key in keys
        if was.get(key) != now.get(key) or (key in was) != (key in now)
    )


def probe_change(was_shape: object, now_shape: Sequence[int]) -> str:
    """How a recorded probe differs from this one, as far as the manifest tells: its shape,
    else its values (or h0's: the digest covers both)."""
    if isinstance(was_shape, list) and was_shape != list(now_shape):
        return f"shape {tuple(was_shape)} there, {tuple(now_shape)} here"
    return "the same shape, other values, or another h0"


def check_earlier(
    run_dir: Path,
    module: nn.RNNBase,
    probe_sha256: str,
    every: int,
    probe_shape: Sequence[int] = (),
    *,
    out_flag: str,
    chance_loss: float | None = None,
) -> dict[str, Any] | None:
    """The manifest of the monitor run in ``run_dir``, or None when it holds no run; refused
    when it is another kind of run, or monitored another module, probe or ``every``, or with
    another ``chance_loss`` than one given (None: the run's own, as :func:`new_manifest`
    carries it on), in a line that says what differs (a probe drawn afresh at each run of a
    script, from a shuffling loader, was "another module or probe", which did not say which),
    naming ``out_flag`` as the way out (the monitor's ``out_flag``)."""
    if not is_run_dir(run_dir, flag=out_flag):
        return None
    manifest = store.load_manifest(run_dir)
    model = manifest.get("model") or {}
    if manifest.get("kind") != MONITOR:
        raise VanishlabError(
            f"{run_dir} holds {run_kind_words(manifest)}, not a training monitor's run; "
            f"give {out_flag} a new or empty directory"
        )
    now = module_architecture(module)
    if model.get("architecture") != now:
        change = architecture_change(model.get("architecture"), now)
        raise VanishlabError(
            f"{run_dir} monitors another module ({change}); "
            f"give {out_flag} a new or empty directory to monitor this one"
        )
    if model.get("probe_sha256") != probe_sha256:
        change = probe_change(model.get("probe_shape"), probe_shape)
        raise VanishlabError(
            f"{run_dir} monitors another probe ({change}): "
            "a run resumes only on the same probe, e.g. one saved with torch.save or drawn "
            f"from a loader that does not shuffle; give {out_flag} a new or empty directory to "
            "monitor this one"
        )
    recorded = model.get("every")
    if recorded is not None and recorded != every:
        raise VanishlabError(
            f"{run_dir} was monitored {every_text(recorded)}, not {every_text(every)}: pass "
            f"every={recorded} to go on with it, or give {out_flag} a new or empty directory"
        )
    # One chance level a run: its page draws one line beside the loss of every step. Another
    # one given replaced it in silence (the steps recorded before were drawn against it).
    chance = chance_level(model.get("chance_loss"))
    if None not in (chance, chance_loss) and not math.isclose(chance, chance_loss, rel_tol=1e-9):
        raise VanishlabError(
            f"{run_dir} was monitored with chance_loss={chance!r}, not {chance_loss!r}: pass "
            f"chance_loss={chance!r} (or none) to go on with it, or give {out_flag} a new or "
            "empty directory"
        )
    return manifest


def new_manifest(
    module: nn.RNNBase,
    probe: torch.Tensor,
    out: Path,
    *,
    name: str | None,
    every: int,
    probe_sha256: str,
    n_cells: int,
    earlier: dict[str, Any] | None,
    metas: Mapping[str, store.CellMeta],
    h0_given: bool = False,
    chance_loss: float | None = None,
) -> dict[str, Any]:
    """The manifest of a monitor of ``module`` on ``probe`` that opens ``out``: an earlier
    run's (``earlier``, its shards' ``metas``) carried on, or a new one; ``h0_given``: the
    probe starts from an initial state given, not from 0; ``chance_loss``: the task's chance
    level (the earlier run's, where it has one: :func:`check_earlier` refused another)."""
    earlier = earlier or {}
    if isinstance(earlier.get("model"), Mapping):
        chance_loss = chance_level(earlier["model"].get("chance_loss")) or chance_loss
    # A step whose shard is gone (set aside as damaged on reopening, or deleted) is no
    # longer recorded (kept, the page counted it as an "ok" step that has no curves); a
    # step whose shard was written but not its manifest is.
    steps = monitor_steps(earlier, metas)
    config = module_config(module, probe)
    manifest = {
        "format": store.FORMAT,
        "kind": MONITOR,
        # an existing run keeps its name, as an analysis does (`vanishlab analyze --name`)
        "name": earlier.get("name") or name or path_name(out),
        "description": f"{module_architecture(module)['kind']} monitored {every_text(every)}",
        "axes": {axis: [value] for axis, value in config.items()},
        "sections": None,
        "command": None,
        "versions": package_versions(),
        "started": earlier.get("started") or utc_now(),
        "finished": None,
        "elapsed_s": earlier.get("elapsed_s"),
        "n_cells": n_cells,
        "model": {
            "source": "monitor",
            "architecture": module_architecture(module),
            "probe_sha256": probe_sha256,
            "probe_shape": list(probe.shape),
            "every": every,
            # the page reads a growing curve against the gate memory from a state of 0 only
            "h0_given": h0_given,
            "chance_loss": chance_loss,  # the page draws it beside the loss (None: not known)
        },
        "steps": steps,
    }
    # steps of another vanishlab's code kept beside this one's: said, as a sweep's kept cells
    carried = carried_versions(earlier, mixes=bool(steps))
    if carried:
        manifest[EARLIER_VERSIONS] = carried
    return manifest


@contextlib.contextmanager
def moved_refused(
    out: Path, held: store.RunLock | None, what: str, out_flag: str, *, before: bool = True
) -> Iterator[None]:
    """A step's write (its shard, or then the manifest) refused where ``out``, held by
    ``held``, no longer names the folder the monitor locked: moved (``mv runs/x runs/y``
    between two steps, or during the write) or removed; checked ``before`` the write, and
    where it fails with an ``OSError`` (a `mv` during its fsync said "No such file or
    directory: RUN/cells/<id>.parquet"). ``what`` (``"step 3 not written"``) begins the line;
    ``out_flag`` names ``out`` in its way on. The step's shard made ``cells/`` again at the old
    path (``write_shard``'s ``mkdir(parents=True)``), and the later steps and the final
    manifest went there, which claimed every step of the run: the run split between two
    folders (a removed one's steps were claimed but gone), and the training said nothing. The
    sweep's rule and words (:func:`~vanishlab.sweep.run_summary.refuse_displaced`)."""
    if held is None:  # (held from __enter__ to __exit__, where a step is written)
        yield
        return
    words = {
        "what": what,
        "writer": "the monitor",
        "unit": "recorded step",
        "resume": "open a monitor on it again with the same arguments to resume, or give "
        f"{out_flag} a new or empty directory",
        "restart": "open a monitor on it again to start again",
    }
    with displaced_if_failed(out, held, before=before, **words):
        yield
