"""``vl.JacobianMonitor``: the exact per-lag Jacobian norms of a module, tracked over training.

Inside a user's own training loop::

    with vl.JacobianMonitor(model.rnn, probe, out="runs/monitor", every=50) as mon:
        for n in range(1, steps + 1):
            ...  # forward, loss, backward, optimizer.step()
            mon.step(n, loss=loss)

``mon.step(n)`` measures the module on the fixed ``probe`` inputs when ``n % every == 0``: the
same rows as a sweep cell's (:mod:`vanishlab.trained.measure`), plus a ``step`` column, written
as one shard per recorded step (atomic: temp file, fsync, rename; :mod:`vanishlab.sweep.store`),
so ``vl.load_results(out)`` returns every recorded step, a crash loses at most the step being
written, and a restarted run (same module architecture and probe) skips the steps it already
has. The top Lyapunov exponent along the probe, the training loss given to ``step`` and the
time each step took are kept in the manifest under ``"steps"`` (``"kind": "monitor"``).

What it never changes: the module's parameters (read, detached, under ``torch.no_grad``), their
``.grad`` tensors (nothing is differentiated), its training mode (never switched: the engine
ignores dropout whatever the mode), and the random number generators (torch's, on the CPU and
on the module's CUDA device, are saved and restored around each measurement; the Lyapunov
direction comes from a private seeded generator; Python's and NumPy's are never used). Its cost
is the measurement's: one forward pass over the probe and the backward Jacobian recurrence, a
few (H x H) products per lag and layer (see ``benchmarks/bench_monitor.py`` for the ratio to a
training step).
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, SupportsIndex

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..core.fingerprint import weights_fingerprint
from ..core.gated_forward import prepare_gated
from ..core.inputs import prepare_inputs
from ..core.integers import check_integer
from ..core.modules import GATED
from ..core.tensor_checks import require_tensor
from ..core.weight_reads import computed_said
from ..sweep import store
from ..sweep.files import as_flag, as_path
from ..sweep.manifest import MONITOR, json_number, utc_now
from ..sweep.manifest_digest import changes_said
from ..sweep.measured_by import EARLIER_VERSIONS, code_words
from ..sweep.run_name import check_name
from ..sweep.rundir import held_new_or_run, is_run_dir, remove_stale_temps, unmake_unmeasured
from ..sweep.schema import MONITOR_LOSS, MONITOR_STEP
from ..sweep.shard import CELLS, write_shard
from ..sweep.shard_file import SHARD_SUFFIX
from .gate_memory import gate_memory_steps
from .measure import cell_id, check_probe_fits, module_config
from .monitor_dir import check_earlier, moved_refused, moved_steps, new_manifest
from .monitor_measure import measure_step
from .monitored import (
    check_same_module,
    clone_tensors,
    find_module,
    raw_weights_in,
    says_computed,
    tensor_digest,
    wrapper_raw_weights,
)
from .step_args import chance_number, check_loss, loss_number
from .step_order import STEP_MAX, check_not_back, check_recorded_step_weights, none_recorded

__all__ = ["MONITOR", "JacobianMonitor", "find_module"]


class JacobianMonitor:
    """Measure ``module`` on a fixed ``probe`` every ``every`` steps of training.

    Args:
        module: an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, or a model that holds exactly one.
            The monitor follows that one module: a recorded step refuses it
            (:class:`~vanishlab.errors.VanishlabError`, nothing written) once the model's
            recurrent module was replaced or the module's architecture or dtype changed.
        probe: the inputs to measure on, in the layout the module's own ``batch_first``
            says, as its forward reads them: ``(B, T, I)`` where it is True, else ``(T, B,
            I)``; or unbatched ``(T, I)``; in the module's dtype and on its device. A probe in
            the other layout cannot be told from its shape: it is measured with time and
            batch swapped (an ``h0`` whose batch is the T read refuses it). A copy is kept, so
            later changes to the tensor do not move the probe.
        out: the run directory: new, empty, or an earlier monitor's with the same architecture
            and probe (then the steps it already holds are skipped, when the module's weights
            at that step are those they were recorded with; another training run is refused).
            A relative one is taken from the working folder when the monitor is made (``out``
            becomes absolute), so training that changes folder (``os.chdir``) writes it there.
            One that no run can be written to (a file, a folder that holds something else or
            lies inside another run) is refused when the monitor is made
            (:class:`~vanishlab.errors.VanishlabError`).
        every: record the steps ``n`` with ``n % every == 0``: a positive integer, as
            ``step`` takes its ``n`` (a Python or NumPy integer, or a 0-d integer tensor).
        h0: an optional initial state, as the module takes it (``(h0, c0)`` for an LSTM).
        lyapunov: also measure the top Lyapunov exponent along the probe (kept in the
            manifest).
        name: a label kept in the manifest (default: the directory's name). A reopened run
            keeps the name it has: another ``name`` is not used, with a ``UserWarning``.
        chance_loss: the loss of the task's input-free answer, its chance level (the adding
            problem's 1/6: ``vanishlab.train.AddingProblem(T).chance_loss``; a finite number
            > 0), kept in the manifest: the page draws it beside the training loss. None (the
            default): not known, and not drawn; a reopened run keeps the one it has, and
            refuses another (:class:`~vanishlab.errors.VanishlabError`, nothing written).
        out_flag: how the refusals name ``out`` (default ``"out="``, this keyword): a script
            that takes the run directory from its own command line passes its option's name
            (``"--out"`` in ``examples/monitor_adding.py``), so that its user reads the
            option they typed.

    Use it as a context manager (the run directory is locked while it is open); ``step(n,
    loss=...)`` returns the shard rows it wrote, or None when the step is not recorded. Its
    steps count up within each ``with`` block: a new step below one it recorded is refused
    (nothing written), and a step it recorded, given again, is skipped when the weights are the
    same and refused when not.
    """

    def __init__(
        self,
        module: nn.Module,
        probe: torch.Tensor,
        out: str | os.PathLike[str],
        every: int | SupportsIndex = 1,  # a NumPy integer, a 0-d integer tensor too
        *,
        h0: Any = None,
        lyapunov: bool = True,
        name: str | None = None,
        chance_loss: float | None = None,
        out_flag: str = "out=",
    ) -> None:
        every = check_integer(every, "every")
        if not 1 <= every <= STEP_MAX:  # beyond a step number, only step 0 was ever recorded
            raise ValueError(f"every must be an integer from 1 to 2**63 - 1, got {every!r}")
        require_tensor(probe, "probe")
        self.module = find_module(module)
        self._model = module  # its recurrent module is looked up again at each recorded step
        self.probe = clone_tensors(probe)
        self.h0 = clone_tensors(h0)
        # A probe (or h0) the engine refuses, or one whose measurement cannot fit in memory,
        # is refused now, not at the first recorded step (after a training step's work).
        prepare = prepare_gated if isinstance(self.module, GATED) else prepare_inputs
        with raw_weights_in(module, self.module):  # fastai's WeightDropout's raw weight
            inp = prepare(self.module, self.probe, self.h0, what="probe")  # named "x" before
            self._computed_told = says_computed(self.module)  # warned of there, once
        check_probe_fits(self.module, inp.seq_len, inp.batch)
        self.every = every
        # lyapunov="no" was taken for True; NumPy's bools are bools (as its integers are steps)
        self.lyapunov = as_flag(lyapunov, "lyapunov")
        self.chance_loss = chance_number(chance_loss)
        # Absolute from the start: the training between __enter__ and __exit__ may change the
        # working folder (os.chdir), where a relative out named another folder there: a step's
        # shard and the manifest went into it, and the run's own kept its .lock.
        self.out = Path(os.path.abspath(as_path(out, "out")))
        check_name(name, "name")
        self.name = name
        if not isinstance(out_flag, str) or not out_flag.strip():
            raise ValueError(f"out_flag must be a non-empty string, got {out_flag!r}")
        self.out_flag = out_flag
        # An out that no run can be written to (a file, a folder inside another run, one that
        # holds something else) is refused now, as vl.run_sweep and vl.analyze_checkpoint
        # refuse it, not at the with statement (after the training's set-up); __enter__ looks
        # again, and at the run it holds.
        is_run_dir(self.out, flag=out_flag)
        self._probe_sha256 = tensor_digest(self.probe, self.h0)
        # the run directory held (rundir.held_new_or_run) from __enter__ to __exit__
        self._lock: contextlib.ExitStack | None = None
        self._held: store.RunLock | None = None  # its lock: whether out still names the folder
        self._manifest: dict[str, Any] = {}
        self._done: set[str] = set()
        self._recorded_here: set[int] = set()  # steps this opening (with block) recorded
        self._new = False  # set in __enter__: whether it began the run in out
        self._last_given: int | None = None  # this opening's highest n skipped by every
        self._start = 0.0

    # --- the context -----------------------------------------------------------------------

    def __enter__(self) -> JacobianMonitor:
        with changes_said(writer="this monitor"):  # a changed manifest: kept, digested anew
            earlier = check_earlier(
                self.out,
                self.module,
                self._probe_sha256,
                self.every,
                tuple(self.probe.shape),
                out_flag=self.out_flag,
                chance_loss=self.chance_loss,
            )
        # The sweeps' and analyses' way in (rundir.held_new_or_run), held open across the
        # training steps until __exit__: a start that fails before its manifest (a full disk,
        # Ctrl-C) leaves nothing it made, where the monitor's own make_dir and RunLock left its
        # folders and their .lock.
        lock = contextlib.ExitStack()
        with contextlib.ExitStack() as failing:
            failing.push(lock)  # exited with the exception: what it made goes
            held = lock.enter_context(held_new_or_run(self.out, flag=self.out_flag))
            if earlier is None:  # stopped after its manifest, before it started: none kept
                failing.callback(unmake_unmeasured, self.out)  # (run before the lock's exit)
            remove_stale_temps(self.out)  # of a writer killed mid-write (as a sweep does)
            metas, moved = store.set_aside_damaged(self.out) if earlier else ({}, ())
            self._done = set(metas)
            self._manifest = new_manifest(
                self.module,
                self.probe,
                self.out,
                name=self.name,
                every=self.every,
                probe_sha256=self._probe_sha256,
                n_cells=len(self._done),
                earlier=earlier,
                metas=metas,
                h0_given=self.h0 is not None,
                chance_loss=self.chance_loss,
            )
            kept = self._manifest["name"]
            if self.name and kept != self.name:  # as `vanishlab analyze --name` says it
                warnings.warn(
                    f"{self.out} keeps its name {kept!r} (name= names a new run)",
                    UserWarning,
                    stacklevel=2,
                )
            store.write_manifest(self.out, self._manifest)
            if earlier is not None and self._manifest.get(EARLIER_VERSIONS) != earlier.get(
                EARLIER_VERSIONS
            ):  # reopened by other code than its recorded steps': said, as the page says it
                warnings.warn(
                    f"{self.out}'s {len(self._manifest['steps'])} recorded steps were measured "
                    f"by {code_words(earlier.get('versions'))}, not by this one: the steps it "
                    f"adds may differ (an engine fix); its manifest's {EARLIER_VERSIONS} names "
                    "the other",
                    UserWarning,
                    stacklevel=2,
                )
            for line in moved_steps(earlier, moved):  # as `vanishlab analyze` says it
                warnings.warn(line, UserWarning, stacklevel=2)
            failing.pop_all()  # started: held until __exit__
        self._lock, self._held = lock, held
        self._new = earlier is None  # a run this monitor began (in a folder new or empty)
        # Each opening counts its own steps: a block opened again (the same monitor, after
        # training resumed from a checkpoint) is a reopened run, as a new monitor's, and its
        # "recorded no step" named the steps an earlier block was given.
        self._recorded_here, self._last_given = set(), None
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        held, self._held = self._held, None
        if held is not None and held.displaced() is not None:
            # out moved or removed (a step refused it): no manifest at the old path, where it
            # began another run; the moved folder keeps the one its last step wrote (not
            # finished, as a sweep that stopped there keeps its own)
            lock.__exit__(exc_type, exc, tb)
            return
        # Left by an exception (the training loop raised, Ctrl-C): not finished, as an
        # interrupted sweep's manifest says; the page said "finished" at that time. A
        # deliberate end (sys.exit(0), a generator closed) is a finish.
        stopped = exc_type is not None and not _deliberate_end(exc)
        if self._new and (stopped or not self._done) and unmake_unmeasured(self.out):
            # A new run stopped before it saved a step (`ulimit -f 2` refused the first
            # step's shard), or whose training ended before a step it records (every=50, 19
            # steps): its manifest and empty cells/ are gone, and held_new_or_run, left by the
            # same exception or none, removes what it made (the folders, the .lock), as an
            # analysis whose shard is refused does. A report called that folder one that
            # "holds no measured step", and the training script said nothing.
            lock.__exit__(exc_type, exc, tb)
            if not stopped:
                warnings.warn(
                    none_recorded(self._last_given, self.every, self.out), UserWarning, stacklevel=2
                )
            return
        try:
            self._manifest["finished"] = None if stopped else utc_now()
            if stopped:
                self._manifest["stopped_by"] = exc_type.__name__  # type: ignore[union-attr]
            spent = time.perf_counter() - self._start
            self._manifest["elapsed_s"] = round((self._manifest["elapsed_s"] or 0.0) + spent, 3)
            store.write_manifest(self.out, self._manifest)
        finally:
            lock.close()  # the manifest is written: its run stays, its lock goes

    # --- one step --------------------------------------------------------------------------

    def step(
        self, n: int | SupportsIndex, loss: float | torch.Tensor | None = None
    ) -> pd.DataFrame | None:
        """Measure and write step ``n`` if ``n % every == 0`` and it is not recorded yet.

        ``n`` is an integer from 0 to 2**63 - 1 (the ``step`` column is int64): a Python or
        NumPy integer, or a 0-d integer tensor (a step counter kept as a tensor). Anything else
        (a float, even ``2.0``, a bool, a float or bool tensor) is a ``TypeError``, an integer
        out of that range a ``ValueError``.

        ``loss``: the training loss at this step, recorded with it (the loader's ``loss`` of
        the last batch, say): a real number, or a 0-d tensor (the loss function's result as it
        is: its value is read with ``.item()``, once, only at a step the monitor records,
        which on a GPU waits for the device). It is recorded on the recorded steps only (every
        ``every``-th step, not a mean over the steps between), and not at a step already
        recorded (skipped). NaN and inf are recorded as they are (a diverged training).
        Anything else (a bool, a string, a list, a tensor of another shape, a 1-element one
        too) is a ``TypeError``, at every step. None (the default): no loss for this step.

        Returns the rows written (with their ``step`` column), or None. A forward pass that
        overflows on the probe, or a parameter that training made inf or NaN, is recorded as a
        failed step (zero rows, the reason in the shard's metadata) and returns an empty frame;
        its ``failure`` is ``"overflow"`` when the first non-finite value found is inf and
        ``"nan"`` when it is NaN.

        Steps count up within one ``with`` block: a new step below the highest it has recorded
        (``step(5)``, training, ``step(3)``) is refused
        (:class:`~vanishlab.errors.VanishlabError` naming both steps, nothing written), as it
        would hold weights newer than the later step's. A step already recorded is skipped
        when the weights are those it was recorded with (a step called again before the next
        ``optimizer.step()``, an exact replay), and refused when they are not. A reopened
        run's own earlier steps, a new monitor's or this one's opened again, are not this
        block's: a new one below them is recorded.
        """
        if self._lock is None:
            raise RuntimeError(  # before the block, or after it (where "use it as one" misled)
                "call mon.step(n) inside `with vl.JacobianMonitor(...) as mon:` (a context manager)"
            )
        # an integer as every is (core.integers: a step counter kept as a tensor too)
        n = check_integer(n, "the step n")
        if not 0 <= n <= STEP_MAX:
            # (above STEP_MAX: an OverflowError from numpy, after the measurement)
            raise ValueError(f"the step n must be an integer from 0 to 2**63 - 1, got {n!r}")
        check_loss(loss)  # its type, at every step; its value (a GPU sync) only when recorded
        if n % self.every:
            self._last_given = n if self._last_given is None else max(n, self._last_given)
            return None
        opened = self._manifest["model"]["architecture"]
        check_same_module(self._model, self.module, opened, self.out, self.out_flag)
        config = module_config(self.module, self.probe)
        cid = cell_id(config, monitor_step=n, probe_sha256=self._probe_sha256)
        # Buffers too: prune's masks (beside weight_hh_l0_orig), the old spectral_norm's u, v;
        # and a weight-drop wrapper's raw weights, which are measured (raw_weights_in) but are
        # not the module's. (A plain nn.RNN, LSTM or GRU has neither: its parameters' digest.)
        raws = wrapper_raw_weights(self._model, self.module).values()
        weights = tensor_digest(*self.module.parameters(), *self.module.buffers(), *raws)
        if cid in self._done:
            check_recorded_step_weights(
                n, weights, self._manifest["steps"], self._recorded_here, self.out, self.out_flag
            )
            return None
        check_not_back(n, self._recorded_here, self.out, self.out_flag)
        start = time.perf_counter()
        said = self._computed_told
        quiet = computed_said() if said else contextlib.nullcontext()  # once, not each step
        with raw_weights_in(self._model, self.module), quiet:  # not a training forward's draw
            self._computed_told = said or says_computed(self.module)
            frame, status, reason, failure, lyap = measure_step(
                self.module,
                self.probe,
                self.h0,
                config,
                cid,
                lyapunov=self.lyapunov,
                out_flag=self.out_flag,
            )
            fingerprint = weights_fingerprint(self.module)
        steps = np.full(len(frame), n, dtype=np.int64)
        frame.insert(frame.columns.get_loc("cell_id") + 1, MONITOR_STEP, steps)
        elapsed = time.perf_counter() - start
        record = {
            "cell_id": cid,
            "status": status,
            "lyapunov": json_number(lyap),
            MONITOR_LOSS: json_number(loss_number(loss)),  # "nan", "inf": as the loss was
            "elapsed_s": round(elapsed, 6),
            "weights_sha256": weights,
            # vl.load_results of this step's shard alone gives it to the rows (frame.attrs), as
            # jacobian_norms does: check_pascanu then refuses them beside other weights
            "weights_fingerprint": fingerprint,
            # this step's: the biases change in training (the page reads the last step's)
            "gate_memory_steps": json_number(gate_memory_steps(self.module)),
        }
        meta: store.CellMeta = {
            "cell_id": cid,
            "config": config,
            "status": status,
            "reason": reason,
            # the network's own forward pass (or training) diverged: to inf or to NaN
            "failure": failure,
            "elapsed_s": elapsed,
            "n_rows": len(frame),
            # The step's record in its shard too: a process that dies between the shard and
            # the manifest lost it for good (the step is never measured again).
            "monitor": {MONITOR_STEP: n, **record},
        }
        with moved_refused(self.out, self._held, f"step {n} not written", self.out_flag):
            try:
                write_shard(self.out, frame, meta)
            finally:
                # Kept once the shard is there, even when an interrupt (Ctrl-C) came after its
                # rename, in the directory's fsync: __exit__ then writes the step into the
                # manifest (it was left out, and the page said its Lyapunov exponent was not
                # measured).
                if (self.out / CELLS / f"{cid}{SHARD_SUFFIX}").exists():
                    self._done.add(cid)
                    self._recorded_here.add(n)
                    self._manifest["steps"][str(n)] = record
                    self._manifest["n_cells"] = len(self._done)
        # its shard kept where the folder went, whose metadata records it
        kept = f"step {n} kept, not in the manifest"
        with moved_refused(self.out, self._held, kept, self.out_flag, before=False):
            store.write_manifest(self.out, self._manifest)
        return frame


def _deliberate_end(exc: BaseException | None) -> bool:
    """Whether an exception that left a monitor's ``with`` block ended training on purpose:
    ``sys.exit()`` with status 0 (or none), or ``GeneratorExit`` (a generator that trains,
    closed by its caller). Its manifest then says finished, not "stopped by SystemExit".
    Status 0 is Python's: ``None`` or an ``int`` equal to 0 (``False`` too); any other code
    (``sys.exit(0.0)``, a NumPy ``int64(0)``, a string) is printed and exits with status 1,
    so it is a failure (``code in (0, None)`` took 0.0 for a finish)."""
    if isinstance(exc, GeneratorExit):
        return True
    if not isinstance(exc, SystemExit):
        return False
    return exc.code is None or (isinstance(exc.code, int) and exc.code == 0)
