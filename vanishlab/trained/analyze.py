"""``vanishlab analyze``: measure one saved recurrent module and write a run directory.

The run directory is a sweep's (:mod:`vanishlab.sweep.store`) with one cell: its shard holds
the module's per-lag Jacobian norms (:mod:`vanishlab.trained.measure`), and its manifest marks
it ``"kind": "single-model"`` and records, under ``"model"``, the checkpoint's path and
SHA-256 digest, the module's key prefix, the inferred architecture, the inputs (a file and its
digest, or the Gaussian draw's parameters) and the top Lyapunov exponent, which its shard's
metadata keeps too (``analysis``), under its checksum: the readers take it from there. Running
the same analysis into the same directory again finds its shard and measures nothing (the cell
id depends on the checkpoint's digest and the inputs); a directory holding anything else is
refused. Here: the checkpoint and the inputs read and checked (or drawn);
:mod:`vanishlab.trained.analyze_run` checks the run directory, measures and writes it.

Gaussian inputs: x ~ N(0, input_std^2), shape (seq_len, batch, input_size), drawn in the
module's dtype from ``torch.Generator().manual_seed(seed)`` (the global RNG is not touched).
"""

from __future__ import annotations

import math
import numbers
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, SupportsIndex

import torch

from ..core.integers import check_integer
from ..errors import VanishlabError
from ..sweep.axis_entry import INT64_MAX
from ..sweep.config import GAUSSIAN_INPUTS
from ..sweep.files import as_flag, as_path, resolved
from ..sweep.manifest import SINGLE_MODEL
from ..sweep.run_name import check_name
from .analyze_run import (
    NOTES_WARNED,
    SMALLER,
    AnalyzeResult,
    earlier_analysis,
    measure_into,
    unbatched_note,
)
from .archive import file_state, sha256_as_read
from .checkpoint import read_checkpoint
from .measure import cell_id, check_fits, module_config
from .spec import RecurrentSpec
from .torch_file import load_tensor_file

__all__ = ["SINGLE_MODEL", "AnalyzeResult", "analyze_checkpoint", "gaussian_inputs"]


def gaussian_inputs(
    input_size: int, *, seq_len: int, batch: int, input_std: float, seed: int, dtype: str
) -> torch.Tensor:
    """x ~ N(0, input_std^2), ``(seq_len, batch, input_size)`` (see the module docstring)."""
    for name, value in (("seq_len", seq_len), ("batch", batch)):
        if value < 1:
            flag = name.replace("_", "-")  # the flag first, as the sweep's axis flags say it
            raise VanishlabError(f"--{flag} ({name}=): must be at least 1, got {value}")
    if not input_std >= 0 or input_std == float("inf"):
        raise VanishlabError(
            f"--input-std (input_std=): must be a finite number >= 0, got {input_std}"
        )
    if not 0 <= seed <= INT64_MAX:  # as the sweep's seed axis
        raise VanishlabError(f"--seed (seed=): must be between 0 and 2**63 - 1, got {seed}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(seq_len, batch, input_size, generator=gen, dtype=getattr(torch, dtype))
    x = x * input_std
    if not torch.isfinite(x).all():  # drawn here, not given: say what made them overflow
        raise VanishlabError(
            f"--input-std {input_std} (input_std={input_std}) makes Gaussian inputs that "
            f"overflow the module's {dtype} (largest finite value "
            f"{torch.finfo(x.dtype).max:.6g}); give a smaller one"
        )
    return x


def analyze_checkpoint(
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    module: str | None = None,
    nonlinearity: str | None = None,
    inputs: str | os.PathLike[str] | None = None,
    batch_first: bool = False,
    seq_len: int | SupportsIndex | None = None,
    batch: int | SupportsIndex | None = None,
    input_std: float | None = None,
    seed: int | SupportsIndex | None = None,
    name: str | None = None,
    command: str | Callable[[str | None], str] | None = None,
    progress: bool = False,
) -> AnalyzeResult:
    """Measure the recurrent module saved in ``checkpoint`` and write the run ``out``.

    Args:
        checkpoint: a ``torch.save`` file (see :func:`vanishlab.trained.read_checkpoint`).
        out: the run directory (new, empty, or holding this same analysis).
        module, nonlinearity: see :func:`~vanishlab.trained.read_checkpoint`.
        inputs: a ``torch.save`` file of one tensor laid out as the module takes it: (T, B, I),
            (B, T, I) with ``batch_first``, or unbatched (T, I), with or without ``batch_first``
            (which has no effect on it: a ``UserWarning`` says so). Default: Gaussian inputs from
            ``seq_len``, ``batch``, ``input_std``, ``seed`` (each None: its default in
            :data:`vanishlab.sweep.config.GAUSSIAN_INPUTS`), which ``inputs`` refuses. The
            counts ``seq_len``, ``batch`` and ``seed`` take a NumPy integer or a 0-d integer
            tensor too (a bool or a float is refused).
        name: a label kept in the manifest, which names its report (default: the run
            directory's name, as ``vanishlab analyze`` gives). An analysis already in ``out``
            keeps the name it has: another ``name`` is not used, with a ``UserWarning``.
        command: the command line that made the run, kept in the manifest; or a function
            that makes it from the nonlinearity measured (an ``nn.RNN``'s ``"tanh"`` or
            ``"relu"``, given or not; None for an LSTM or GRU), which only the checkpoint
            says: ``vanishlab analyze`` records ``--nonlinearity tanh`` for an ``nn.RNN``
            whatever was typed, as a sweep's command names every axis.
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
    given: dict[str, Any] = {
        "seq_len": seq_len,
        "batch": batch,
        "input_std": input_std,
        "seed": seed,
    }
    unused = [f"--{k.replace('_', '-')} ({k}=)" for k, v in given.items() if v is not None]
    if inputs is not None and unused:  # ignoring them would measure other inputs in silence
        one = len(unused) == 1
        raise VanishlabError(
            f"{', '.join(unused)} {'has' if one else 'have'} no effect with --inputs (inputs=): "
            f"{'it describes' if one else 'they describe'} the Gaussian inputs, which the "
            f"inputs file replaces; drop {'it' if one else 'them'}"
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
        input_std = float(input_std) + 0.0  # + 0.0 folds -0.0 into 0.0, as an axis's value
    except OverflowError:
        input_std = math.inf if input_std > 0 else -math.inf
    checkpoint, out = as_path(checkpoint, "checkpoint"), as_path(out, "out")
    if inputs is not None and not isinstance(inputs, str | os.PathLike):
        raise TypeError(
            f"inputs must be the path of a torch.save file, got {type(inputs).__name__} (save a "
            "tensor with torch.save(x, path) and pass the path)"
        )
    check_name(name)
    if command is not None and not isinstance(command, str) and not callable(command):
        raise TypeError(f"command must be a string, got {type(command).__name__}")
    ckpt = read_checkpoint(checkpoint, module=module, nonlinearity=nonlinearity)
    if callable(command):
        command = command(ckpt.spec.nonlinearity)
    if (note := ckpt.others_note()) is not None and NOTES_WARNED.get():
        warnings.warn(note, UserWarning, stacklevel=2)
    spec = ckpt.spec
    if batch_first and inputs is None:
        raise VanishlabError(
            "--batch-first (batch_first=) describes the layout of an --inputs (inputs=) file; give "
            "one, or drop it"
        )
    net = ckpt.build(batch_first=batch_first)
    if inputs is not None:
        before = file_state(inputs)
        x = load_tensor_file(inputs).to(getattr(torch, spec.dtype))
        described: dict[str, Any] = {
            "file": os.fspath(resolved(inputs)),
            "sha256": sha256_as_read(inputs, before, "inputs file"),
            # torch reads a 2-D tensor as one unbatched (T, I) sequence, batch_first or not:
            # recorded as read, so that the flag given or not is one measurement (one cell id)
            "batch_first": batch_first and x.dim() != 2,
            "shape": list(x.shape),
        }
        std = None
    else:
        if seq_len >= 1 and batch >= 1:  # else gaussian_inputs says what is wrong
            _check_memory(spec, seq_len, batch, SMALLER["gaussian"])
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
        _check_memory(spec, T, B, SMALLER["file"])
    _check_finite(x, spec.dtype)
    config = module_config(net, x, input_std=std, seed=seed)
    model = {"checkpoint_sha256": ckpt.sha256, "module": ckpt.module_name}
    cid = cell_id(config, **model, inputs=described)
    before: tuple[str, ...] = ()
    if inputs is not None and x.dim() == 2:
        if batch_first and NOTES_WARNED.get():  # the command line says it in its own words
            note = unbatched_note(Path(inputs), x.shape[0], "batch_first=True")
            warnings.warn(note, UserWarning, stacklevel=2)
        # The id that earlier versions gave this same measurement with --batch-first (they
        # recorded the flag): a run directory they wrote is found, not refused.
        before = (cell_id(config, **model, inputs={**described, "batch_first": True}),)

    run_dir = Path(out)
    earlier = earlier_analysis(run_dir)
    return measure_into(
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
        before,
    )


def _check_memory(spec: RecurrentSpec, seq_len: int, batch: int, remedy: str) -> None:
    """Refuse inputs whose measurement cannot fit in memory (:func:`.measure.check_fits`)."""
    sizes = {k: getattr(spec, k) for k in ("num_layers", "hidden_size", "input_size", "dtype")}
    sizes["activation"] = spec.nonlinearity  # an nn.RNN's (tanh unless given); None for gates
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
