"""What a sweep checks before it writes anything: its own options, the run directory (can it be
made, is it another kind of run), the memory a cell needs, and whether its inits can reach the
workers; how many workers it starts (torch-free, for ``--dry-run`` too)."""

from __future__ import annotations

import ast
import errno
import functools
import os
import pickle
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..core.integers import as_integer
from ..errors import CellTooLargeError, VanishlabError
from . import store
from .config import LONGEST_CELL_DAYS, CellConfig
from .cost import cell_cost
from .files import CORRUPT, aside_folder, folders_made, refused_why, run_dir_refused
from .held_signals import signals_held
from .inits import Init
from .manifest import check_name, run_kind_words
from .memory import POOL_BYTES, WORKER_BYTES, cell_bytes, format_bytes
from .shard import CELLS

__all__ = [
    "check_importable",
    "check_main_file",
    "check_memory",
    "check_options",
    "check_sendable",
    "check_shard_folders",
    "check_time",
    "cores",
    "dir_problem",
    "fewer_workers_line",
    "make_dir",
    "more_workers_line",
    "refuse_other_kinds",
    "worker_count",
]


def check_options(name: str | None, workers: object, scheduler: str | None) -> int | None:
    """``workers`` as an int (:mod:`vanishlab.core.integers`: a 0-d integer tensor too) or
    None, after refusing a sweep's own options that no run takes: ``workers`` beside
    ``scheduler``, a ``workers`` that is not a positive integer (TypeError for one that is no
    integer at all), a ``scheduler`` that is not a string, a ``name`` that is not one line of
    visible text (:func:`check_name`). The run checks them first, and ``--dry-run`` as the run
    does. One message for :func:`run_sweep` and the command line, naming both ("--workers
    (workers=)"): each says its own (:func:`~vanishlab.errors.python_words`, the command line's
    ``--workers`` alone)."""
    if scheduler is not None and not isinstance(scheduler, str):  # an AttributeError inside
        raise TypeError(
            f"scheduler must be a Dask scheduler's address (tcp://HOST:PORT) or None, got "
            f"{type(scheduler).__name__}"
        )
    if scheduler is not None and workers is not None:
        raise VanishlabError(
            "--workers (workers=) and --scheduler (scheduler=) exclude each other: the cluster "
            "decides; drop --workers (workers=)"
        )
    number = None if workers is None else as_integer(workers, "workers")
    if workers is not None and number is None:
        # 1.5 was taken, "2" raised a TypeError deep inside (the command line gives an int)
        raise TypeError(f"workers must be a positive integer or None, got {type(workers).__name__}")
    if number is not None and number < 1:
        raise VanishlabError(f"--workers (workers=): must be at least 1, got {number}")
    check_name(name)
    return number


def refuse_other_kinds(manifest: dict[str, Any], run_dir: Path) -> None:
    """Refuse a run directory written by something other than a sweep (``vanishlab analyze``'s
    ``"single-model"``, a training monitor's ``"monitor"``): a sweep's manifest has no ``kind``,
    and extending such a run would drop what its manifest says about its model."""
    if manifest.get("kind") is not None:
        raise VanishlabError(
            f"{run_dir} holds {run_kind_words(manifest)}, not a sweep; a sweep never adds "
            "cells to it, even with --force (force=True): give --out (out=) a new or empty "
            "directory"
        )


def check_sendable(inits: Iterable[Init]) -> None:
    """Worker processes and Dask receive each cell's init by pickling: refuse one that cannot
    be pickled (a lambda, a nested function) before anything is written. It raised pickle's
    own error as a traceback once the run directory had been made."""
    for init in inits:
        if not _pickles(init):  # said in words of its own: pickle's name a memory address
            raise VanishlabError(
                f"init {init.name!r} cannot be sent to worker processes: {_unsendable(init)}; "
                "define it with def at the top level of a module (workers import it by name), "
                "or run with --workers 1 (workers=1)"
            )


def _pickles(value: object) -> bool:
    try:
        pickle.dumps(value)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _unsendable(init: Init) -> str:
    """What of ``init`` cannot be pickled: its ``apply`` or ``variances``, said to be a lambda
    or a nested function when it is one."""
    for what in ("apply", "variances"):
        fn = getattr(init, what)
        if _pickles(fn):
            continue
        name = getattr(fn, "__qualname__", None)
        if isinstance(name, str) and "<lambda>" in name:
            return f"its {what} is a lambda"
        if isinstance(name, str) and "<locals>" in name:
            return f"its {what} is a function nested in another ({name})"
        return f"its {what} ({type(fn).__name__}) cannot be pickled"
    return "it cannot be pickled"


def check_importable(inits: Iterable[Init]) -> None:
    """Local worker processes unpickle an init's functions by name: one defined in ``__main__``
    is found there only where they re-run the main file (:func:`_main_reruns`). A function of a
    notebook's cell (or of a REPL, ``python -c``, a package's ``__main__.py``) pickles here and
    is missing there: every worker printed its own traceback ("Can't get attribute 'apply' on
    <module '__main__' (built-in)>") and the run stopped with "a worker process exited with
    status 1 ... run the same command to start again", which failed the same way. Dask sends
    such a function by value (cloudpickle) and is not refused. A ``functools.partial`` is
    looked into: it pickles its function by name too (its ``__module__`` is functools')."""
    if _main_reruns():
        return
    for init in inits:
        for what in ("apply", "variances"):
            fn = getattr(init, what)
            while isinstance(fn, functools.partial):
                fn = fn.func
            if getattr(fn, "__module__", None) == "__main__":
                name = getattr(fn, "__qualname__", what)
                raise VanishlabError(
                    f"init {init.name!r} cannot be sent to worker processes: its {what} "
                    f"({name}) is defined in this interactive session (a notebook's cell), which "
                    "they cannot import; define it in a module file and import it from there, "
                    "or run with --workers 1 (workers=1)"
                )


def _main_reruns() -> bool:
    """Whether local worker processes re-run the main module, as ``multiprocessing.spawn``
    decides (``_fixup_main_from_name``, ``_fixup_main_from_path``): by its module name unless
    that is a ``__main__.py``'s, else by its file; a notebook's or a REPL's has neither."""
    main = sys.modules.get("__main__")
    spec = getattr(getattr(main, "__spec__", None), "name", None)
    if isinstance(spec, str):
        return not (spec == "__main__" or spec.endswith(".__main__"))
    path = getattr(main, "__file__", None)
    return isinstance(path, str) and not (path.startswith("<") and path.endswith(">"))


def check_main_file() -> None:
    """Local worker processes (forkserver, spawn) re-run the calling program's main file:
    a program read from stdin (``python - < script.py``) has none, and a script that starts
    the sweep from its top level outside ``if __name__ == "__main__":`` started it again in
    every worker. Either way every worker died at once, after the run directory was made,
    with "a worker process died (out of memory?)". A package's, folder's or zip file's
    ``__main__.py`` (``python -m pkg``, ``python folder``) is the exception: multiprocessing
    does not re-run it in the workers, so a sweep at its top level runs once, as it should."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if isinstance(path, str) and path.startswith("<") and path.endswith(">"):  # "<stdin>"
        raise VanishlabError(
            f"worker processes cannot start from a program read from {path} (they re-run its "
            "main file): save it to a file and run that, or run with --workers 1 (workers=1)"
        )
    if not _main_reruns():
        return  # a __main__.py's, a notebook's: multiprocessing's own rule, not re-run
    line = _unguarded_line(path)
    if line is not None:
        raise VanishlabError(
            f"worker processes re-run the main file {path}, whose line {line} starts this "
            'sweep outside `if __name__ == "__main__":`, so each of them would start it again: '
            "put that call under the guard, or run with workers=1"
        )


def _unguarded_line(path: object) -> int | None:
    """The line of the main file's top-level code that is running now (the one that led to
    this call), unless it lies in a branch of an ``if`` statement whose test reads ``__name__``
    that a worker does not take (:func:`_in_worker`: the body of ``if __name__ ==
    "__main__":``, not its ``else:``; a test it cannot tell counts as a guard); None too when no
    such code is running or its file cannot be read or parsed."""
    if not isinstance(path, str):
        return None
    frame = sys._getframe(1)
    target = os.path.abspath(path)
    while frame is not None and not (
        frame.f_code.co_name == "<module>" and os.path.abspath(frame.f_code.co_filename) == target
    ):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.If)
            and node.lineno <= line <= (node.end_lineno or node.lineno)
            and any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test))
            and _in_worker(node.test) is not _taken(node, line)
        ):
            return None
    return line


def _taken(node: ast.If, line: int) -> bool | None:
    """What ``node``'s test is when ``line`` runs: True in its body, False in its ``else:``
    (or ``elif``), None elsewhere (the test itself)."""
    for branch, value in ((node.body, True), (node.orelse, False)):
        if branch and branch[0].lineno <= line <= (branch[-1].end_lineno or line):
            return value
    return None


#: What the main file's ``__name__`` is in a worker process (multiprocessing runs it so).
_WORKER_NAME = "__mp_main__"


def _in_worker(test: ast.expr) -> bool | None:
    """The value of an ``if`` statement's ``test`` in a worker process, where ``__name__`` is
    ``"__mp_main__"``, for tests of ``__name__`` against literals (``==``, ``!=``, ``in``,
    ``not in``, with ``and``, ``or``, ``not``); None where it cannot be told from the test
    alone. ``__name__ in ("__main__", "__mp_main__")`` is true there: no guard."""
    if isinstance(test, ast.BoolOp):
        values = [_in_worker(v) for v in test.values]
        decides = isinstance(test.op, ast.Or)  # True decides an or, False an and
        if decides in values:
            return decides
        return None if None in values else not decides
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        value = _in_worker(test.operand)
        return None if value is None else not value
    if not isinstance(test, ast.Compare):
        return None
    try:
        operands = [_worker_value(e) for e in (test.left, *test.comparators)]
        for op, a, b in zip(test.ops, operands, operands[1:], strict=False):
            if isinstance(op, ast.Eq | ast.NotEq):
                holds = (a == b) is isinstance(op, ast.Eq)
            elif isinstance(op, ast.In | ast.NotIn):
                holds = (a in b) is isinstance(op, ast.In)
            else:
                return None
            if not holds:
                return False
    except (TypeError, ValueError):  # an operand that is no literal, or cannot hold another
        return None
    return True


def _worker_value(node: ast.expr) -> object:
    """``node``'s value in a worker: ``__name__``'s, or a literal's; ValueError otherwise."""
    if isinstance(node, ast.Name) and node.id == "__name__":
        return _WORKER_NAME
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError("not a literal") from None


def check_memory(cells: Sequence[CellConfig], free: int | None, n_workers: int) -> int:
    """Refuse cells whose largest cannot fit in ``free`` bytes; return how many of
    ``n_workers`` fit, each with its cell and its own :data:`~.memory.WORKER_BYTES`, beside the
    forkserver's :data:`~.memory.POOL_BYTES` (1: the cells run in this process). The refusal,
    a :class:`~vanishlab.errors.CellTooLargeError`, gives no advice: ``vanishlab sweep`` adds
    its own (``--dry-run``), which ``vl.run_sweep`` has no counterpart of."""
    if free is None or not cells:
        return n_workers
    big = max(cells, key=cell_bytes)
    peak = cell_bytes(big)
    if peak > free:
        raise CellTooLargeError(
            f"a cell of this sweep (hidden_size {big.hidden_size}, batch {big.batch}, "
            f"num_layers {big.num_layers}, seq_len {big.seq_len}) needs about "
            f"{format_bytes(peak)} of memory and {format_bytes(free)} is available; "
            "choose smaller sizes"
        )
    if n_workers < 2:
        return 1
    return max(1, min(n_workers, (free - POOL_BYTES) // (peak + WORKER_BYTES)))


def cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and Slurm set)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - macOS, Windows


def worker_count(
    workers: int | None,
    pending: Sequence[CellConfig],
    free: int | None,
    *,
    local: bool,
    say: Callable[[str], None] | None = None,
) -> int:
    """How many workers measure the ``pending`` cells: ``workers`` (default: all cores), at
    most one a cell, and on this machine (``local``) as many as ``free`` bytes hold
    (:func:`check_memory`, which refuses a cell that cannot fit); ``say`` is given the line
    where that is fewer than ``workers`` asked for, or more than the cores. The run's count,
    and its ``--dry-run``'s time estimate."""
    n_workers = workers if workers is not None else cores()
    n_workers = max(1, min(n_workers, len(pending)))
    if not local:
        return n_workers
    fit = check_memory(pending, free, n_workers)
    if fit < n_workers and workers is not None and say:  # (capped by the cells)
        say(fewer_workers_line(n_workers, fit, pending, free))
    if workers is not None and fit > (usable := cores()) and say:
        say(more_workers_line(fit, usable))
    return fit


def check_time(cells: Sequence[CellConfig]) -> None:
    """Refuse a cell, trained or not, that would take, by :func:`~.cost.cell_cost`, more than
    :data:`~.config.LONGEST_CELL_DAYS`: a cell cannot stop and resume midway. A
    :class:`~vanishlab.errors.CellTooLargeError`, as :func:`check_memory`'s. Untrained cells
    were let through: ``--hidden-size 16384 --seq-len 100000 --batch 1``, about 56 GiB (a Dask
    cluster's memory is not checked here at all), is estimated at 99 days."""
    if not cells:
        return
    long = max(cells, key=cell_cost)
    days = cell_cost(long) / 86400
    if days <= LONGEST_CELL_DAYS:
        return
    if long.train_steps > 0:
        sizes = f"train_steps {long.train_steps}, hidden_size {long.hidden_size}"
        way = "fewer --train-steps (train_steps=) or smaller sizes"
    else:  # its batch too: a measurement's time grows with it (a training's batch is fixed)
        sizes = f"hidden_size {long.hidden_size}, batch {long.batch}"
        way = "smaller sizes"
    raise CellTooLargeError(
        f"a cell of this sweep ({sizes}, num_layers {long.num_layers}, seq_len {long.seq_len}) "
        f"would take about {days:,.0f} days on one CPU thread, and a cell cannot stop and "
        f"resume midway (at most {LONGEST_CELL_DAYS} days a cell); choose {way}"
    )


def fewer_workers_line(asked: int, fit: int, cells: Sequence[CellConfig], free: int | None) -> str:
    """The note that ``fit`` of the ``asked`` workers run, as :func:`check_memory` found."""
    peak = max(cell_bytes(c) for c in cells)
    where = "this process" if fit == 1 else f"{fit} workers"
    return (
        f"note: the cells run in {where}, not {asked} workers: each needs about "
        f"{format_bytes(peak + WORKER_BYTES)} (its largest cell and its own) beside "
        f"{format_bytes(POOL_BYTES)} for the process that starts them, and "
        f"{format_bytes(free)} is available"
    )


def more_workers_line(asked: int, cores: int) -> str:
    """The note that ``asked`` local workers are more than the ``cores`` they share."""
    return (
        f"note: --workers {asked} (workers={asked}) is more than the {cores} "
        f"{'core' if cores == 1 else 'cores'} this process may "
        f"use: the workers take turns on them (each runs torch on one thread), so more of them "
        f"add memory and start-up time, not speed; --workers {cores} keeps every core busy"
    )


def dir_problem(run_dir: Path) -> str | None:
    """Why :func:`make_dir` would refuse ``run_dir``, in its words, found leaving nothing
    behind (``--dry-run``): a file there or above it, or a folder the run could not write in,
    its own ``cells/`` included; None when it could go ahead. Found as the run finds it, by
    writing (:func:`_probe_left_nothing`): os.access, which root always passes, said nothing
    of ``--out /proc/x``, which the run refuses."""
    for folder in (run_dir, *run_dir.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                code = errno.EEXIST if folder == run_dir else errno.ENOTDIR
                err = OSError(code, os.strerror(code))
            elif (err := _probe_left_nothing(folder, new=folder != run_dir)) is None:
                return _cells_problem(run_dir) if folder == run_dir else None
            return str(run_dir_refused(run_dir, err, "--out (out=)"))
    return None


def _cells_problem(run_dir: Path) -> str | None:
    """Why the run would refuse ``RUN_DIR/cells`` (:func:`check_shard_folders`), found
    leaving nothing behind; None when it could go ahead."""
    cells = run_dir / CELLS
    if not cells.is_dir() or (err := _probe_left_nothing(cells)) is None:
        return None
    return _unwritable(cells, refused_why(err))


def _probe_left_nothing(folder: Path, *, new: bool = False) -> OSError | None:
    """What the run meets writing in ``folder``: a folder made there where ``new`` (the first
    of a new run directory's, :func:`make_dir`), else a file (:func:`_probe`); None where it
    is written, and removed again. Ctrl-C, SIGTERM and SIGHUP wait until it is removed."""
    with signals_held():
        try:
            if new:
                probe = folder / f".vanishlab-probe-{uuid.uuid4().hex}{store.TMP_SUFFIX}"
                probe.mkdir()
                probe.rmdir()
            else:
                _probe(folder)
        except OSError as err:
            return err
    return None


def _probe(folder: Path) -> None:
    """Write and remove an empty file in ``folder``; OSError if the file system will not. (A
    run finds out by writing: os.access may misjudge ACLs or NFS.) A name of its own: two
    sweeps starting on one new folder at once each removed the other's probe ("cannot write
    the run directory: No such file"). A temp file's name: readers skip one left behind by a
    run killed in between, and the next run removes it (:func:`~.rundir.remove_stale_temps`),
    which may be the instant this one removes it: gone, it was written all the same."""
    probe = folder / f".vanishlab-probe-{uuid.uuid4().hex}{store.TMP_SUFFIX}"
    probe.write_bytes(b"")
    probe.unlink(missing_ok=True)


def make_dir(
    run_dir: Path, *, flag: str = "--out (out=)", made: list[Path] | None = None
) -> list[Path]:
    """Create the run directory, or say in one line why the file system will not, naming
    ``flag`` as the way out (the command line's and the API's name by default; the monitor's
    ``"out="``): a sweep's, an analysis's and a monitor's run directory alike (the last two
    said only "Not a directory", or raised NotADirectoryError from the Python API, for an
    ``out`` below a regular file). Where it fails, the folders it made are removed again
    (:func:`~.files.folders_made`): ``runs/new/<a name too long>`` left ``runs/new``. Returns
    the folders it made (the shallowest first), for a caller that fails later to remove
    (:func:`~.files.remove_folders`); ``made``, where given, is that list, filled as each is
    made (a caller stopped as this returns, Ctrl-C, still knows them).

    A folder of its path that vanishes between the check and the write is made again, up to
    :data:`_MAKE_TRIES` tries, each listing in ``made`` only the folders it made itself:
    another writer of the same new folder, failing before its manifest, removed the empty
    folders it had made (:func:`~.files.remove_folders`) just after this one found them, and
    this one was refused ("No such file or directory")."""
    tries = 1
    while True:
        try:
            with folders_made(run_dir, made) as listed:
                # no parents=True: a parent that vanished since folders_made is no folder made
                # unlisted, but a FileNotFoundError, and a try again (which lists it)
                run_dir.mkdir(exist_ok=True)  # a file or a broken link there: refused
                _probe(run_dir)
            return listed
        except OSError as err:
            if isinstance(err, FileNotFoundError) and tries < _MAKE_TRIES:
                tries += 1  # (folders_made removed what this try made, and emptied made)
                continue
            raise run_dir_refused(run_dir, err, flag) from err


#: How many times :func:`make_dir` makes and writes the run directory where a folder of its
#: path vanished meanwhile (each time, another writer's removal of the folders it made): a
#: path that says "No such file or directory" every time (a broken link above it) is refused
#: after as many tries, each of them at once.
_MAKE_TRIES = 3


#: The run's folders for shards, and what each holds (said when one cannot be written).
_SHARD_FOLDERS = {
    CELLS: "where the run keeps its shards",
    CORRUPT: "where the run moves damaged shards",
}


def _unwritable(folder: Path, why: str) -> str:
    return f"cannot write {folder}, {_SHARD_FOLDERS[folder.name]}: {why}"


def check_shard_folders(run_dir: Path, *, damaged: bool = False) -> None:
    """Refuse in one line a ``RUN_DIR/cells`` folder the run cannot write its shards in
    (read-only, or denied), and with ``damaged`` (shards to move aside) a ``RUN_DIR/corrupt``
    that is no folder (:func:`~vanishlab.sweep.files.aside_folder`) or cannot be written. The
    run checks before it writes its manifest: it recorded a new grid there, then stopped at its
    first shard ("Permission denied: RUN_DIR/cells/<id>"; "File exists: RUN_DIR/corrupt")."""
    folders = [run_dir / CELLS, *([aside_folder(run_dir)] if damaged else [])]
    for folder in folders:
        if not folder.is_dir():
            continue  # made when needed, in the run directory make_dir has written in
        try:
            _probe(folder)
        except OSError as err:
            raise VanishlabError(_unwritable(folder, refused_why(err))) from err
