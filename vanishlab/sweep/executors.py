"""Where cells run: in this process or in local worker processes (a Dask cluster:
:mod:`vanishlab.sweep.dask_cluster`).

Every executor hands each finished cell's ``(frame, meta)`` to an ``on_result`` callback in
the calling process, which alone writes shards (:mod:`vanishlab.sweep.store`). Local workers
start by ``forkserver`` (``spawn`` where there is none), pin torch to one thread, ignore Ctrl-C,
SIGTERM and SIGHUP (the parent handles them) and exit as soon as their parent dies, even by
SIGKILL. The forkserver never sees Ctrl-C (blocked from its first instant, then ignored) nor
SIGTERM (blocked), it and the resource tracker never see SIGHUP (blocked); the pool's workers
keep the three blocked until they ignore them, then unblock them (a process a cell starts gets
them ignored, not blocked), and any other process the forkserver forks sees them again. The
pool's workers are forked with Ctrl-C and SIGTERM held, so that a stop at any moment ends in
the command's one line. The forkserver is ended as this process exits, so that none of them
outlives the command.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd
import torch

from ..core import warning_filters
from ..errors import StoppedRunError
from . import store
from .cell import pinned_numerics
from .config import CellConfig
from .experiment_prints import prints_to_stderr
from .experiments import EXPERIMENT_MODULE_PREFIX, LOADED_FROM, file_digest, import_file
from .forkserver_owner import end_a_callers_forkserver, kill_forkserver, mark_ours
from .held_signals import STOPS, signals_held
from .inits import INITS, Init
from .measure import run_cell
from .worker_deaths import (
    NO_STATUS,
    dead_workers,
    forkserver_death,
    forkserver_ended,
    forkserver_pid,
    worker_death,
)

__all__ = [
    "OnResult",
    "Task",
    "experiment_folders",
    "experiment_modules",
    "load_experiment_files",
    "run_here",
    "run_processes",
    "run_task",
]


def run_task(
    config: CellConfig, init: Init, beside: str | None = None
) -> tuple[pd.DataFrame, store.CellMeta]:
    """What a worker runs (module level so that it pickles by reference); ``beside``: what
    runs beside it (:func:`run_cell`'s: None here, "workers" in a pool, "dask")."""
    return run_cell(config, init=init, beside=beside)


Task = tuple[CellConfig, Init]
OnResult = Callable[[pd.DataFrame, store.CellMeta], None]


def run_here(tasks: Sequence[Task], on_result: OnResult) -> None:
    with pinned_numerics():  # held across cells, so the thread pool is not resized per cell
        for config, init in tasks:
            with prints_to_stderr():  # an init's print(): see _worker_init
                frame, meta = run_task(config, init)
            on_result(frame, meta)


def _worker_init(
    parent_alive: Any, modules: Sequence[tuple[str, str]] = (), folders: Sequence[str] = ()
) -> None:
    torch.set_num_threads(1)
    # What an experiment file prints, loaded or in an init's apply, goes to stderr, as in the
    # parent: stdout is the command's, where `vanishlab sweep -q` prints the run's path alone.
    sys.stdout = sys.stderr
    load_experiment_files(modules, folders)
    # Ctrl-C goes to the whole process group (and a batch system's SIGTERM may too): let the
    # parent alone handle it (it stops submitting, keeps finished shards and exits), instead
    # of each worker printing a traceback, or dying first and reading as a crash.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(signal, "SIGHUP"):  # a closed terminal's, sent to the whole group too
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Blocked from the fork until now (.forkserver_preload): ignored, one that waited is
    # dropped, and none can reach the worker again. Unblocked, so that a process a cell starts
    # (a user's experiment calling subprocess.run) gets them unblocked; a blocked signal stays
    # blocked through exec, and its own handlers (a child Python's SIGINT) never ran. It gets
    # them ignored, as every ignored signal passes through exec.
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)
    # A pool's workers outlive a parent killed by SIGKILL (they hold their queues' both ends,
    # and the forkserver lives as long as they do). The parent alone holds the write end of
    # ``parent_alive``: end of file on it means the parent is gone, so exit at once.
    threading.Thread(target=_exit_with_parent, args=(parent_alive,), daemon=True).start()


_LOADING = threading.Lock()
"""Held while a worker loads experiment files: a Dask worker's threads share its modules."""


def load_experiment_files(modules: Sequence[tuple[str, str]], folders: Sequence[str]) -> None:
    """In a worker (a pool's, or a Dask worker's before it unpickles a task's init): the
    ``folders`` of the parent's experiment files first on ``sys.path``, where a task may name
    a function of a module beside one (``from mylib import my_apply``), which the parent
    imported with the folder on sys.path (experiments.import_file); then the experiment files
    whose functions the tasks name (an init registered in one, :func:`experiment_modules`),
    loaded under the names they had in the parent, which no import finds. Each file once, and
    again once it has changed: a Dask worker outlives a sweep, and measured the next sweep's
    cells with the functions of the file as it was when it first loaded it."""
    with _LOADING:
        sys.path[:0] = [f for f in folders if f not in sys.path]
        for name, path in modules:
            if name not in sys.modules or LOADED_FROM.get(name) != file_digest(path):
                _import_beside_others(name, path)


_LOADED_HERE: set[str] = set()
"""The experiment modules :func:`load_experiment_files` loaded in this process."""


def _import_beside_others(name: str, path: str) -> None:
    """Load the experiment file ``path`` as ``name``, the inits that files loaded here before
    registered set aside while it registers its own, then those of other names put back: a
    Dask worker outlives a sweep, and a variant of a study (a copy that registers the same
    init name) was refused on a worker that had run the study ("already registered"), where
    a process of its own runs it."""
    aside = {n: i for n, i in INITS.items() if getattr(i.apply, "__module__", "") in _LOADED_HERE}
    for n in aside:
        del INITS[n]
    try:
        import_file(name, path)
    finally:
        for n, i in aside.items():
            INITS.setdefault(n, i)
    _LOADED_HERE.add(name)


def _exit_with_parent(parent_alive: Any) -> None:
    with contextlib.suppress(EOFError, OSError):
        parent_alive.recv_bytes()
    os._exit(1)


def _mp_context() -> multiprocessing.context.BaseContext:
    # Not fork: forking a process that holds torch's thread pools (and the rich refresh
    # thread) is unsafe. forkserver imports torch once, in its server, and forks workers fast.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = _PoolContext()
        ctx.set_forkserver_preload([PRELOAD])
        return ctx
    return multiprocessing.get_context("spawn")  # pragma: no cover - Windows, macOS < forkserver


if hasattr(multiprocessing.context, "ForkServerProcess"):  # (none on Windows)

    class _PoolProcess(multiprocessing.context.ForkServerProcess):
        """A process of the pool's (a worker, or :func:`_ready_forkserver`'s probe): it keeps
        the stops that the forkserver has blocked until its init ignores them, then unblocks
        them (:mod:`.forkserver_preload`); any other process the forkserver forks sees them."""

    class _PoolContext(multiprocessing.context.ForkServerContext):
        """The forkserver context, its processes the pool's (:class:`_PoolProcess`)."""

        Process = _PoolProcess


PRELOAD = "vanishlab.sweep.forkserver_preload"
"""What the forkserver imports first: this module (torch with it), and the stops seen again in
each process it forks that is not the pool's (:mod:`.forkserver_preload`)."""


def _nothing() -> None:
    """The no-op process that :func:`_ready_forkserver` waits for."""


def _start_forkserver() -> None:
    """Start the forkserver (and its resource tracker) with Ctrl-C and SIGHUP blocked, and the
    forkserver with SIGTERM blocked too.

    The forkserver ignores Ctrl-C only once it has imported its preload (torch: seconds), and
    printed a KeyboardInterrupt traceback for one in those seconds. A signal blocked at exec
    stays blocked in the new process (until the forkserver ignores it, which drops one that
    waits), and the workers the forkserver forks inherit that too: so SIGINT is blocked here
    while the two processes are spawned. A Ctrl-C meanwhile waits and stops the sweep once
    unblocked; ignored, as it was, it was lost (tens of ms on a loaded machine), and the sweep
    ran on to its end with status 0."""
    from multiprocessing import forkserver, resource_tracker

    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - no forkserver there
        forkserver.ensure_running()
        return
    # SIGHUP blocked from the start: a closed terminal sends it to the whole process group,
    # and the tracker and the forkserver died of it (CPython has the tracker ignore only Ctrl-C
    # and SIGTERM, the forkserver only Ctrl-C); a hung-up sweep's one line was followed by the
    # relaunched tracker's warning and a KeyError traceback per semaphore. A blocked signal
    # stays blocked through exec and neither of them unblocks it; a hang-up meanwhile reaches
    # this process all the same (another of its threads, or this one once unblocked). The
    # workers ignore it.
    with _blocked_in_this_thread(_HANGUP):
        # First the tracker: CPython blocks Ctrl-C and SIGTERM itself while it spawns it, then
        # unblocks them (which undid a block of our own: the forkserver was then spawned seeing
        # Ctrl-C). SIGTERM too for the forkserver: a batch system's, sent to the whole group
        # (scancel, kill -TERM -- -PGID), killed it at once; its workers' statuses then read
        # 255, the pool's shutdown returned before they had exited, and one sending back a
        # result then held the result queue's lock. This process acts on it and ends the
        # forkserver itself (_end_forkserver); each process the forkserver forks that is not
        # the pool's sees the three again (its preload, PRELOAD).
        resource_tracker.ensure_running()
        with _blocked_in_this_thread({signal.SIGINT, signal.SIGTERM}):
            forkserver.ensure_running()


_HANGUP = {signal.SIGHUP} if hasattr(signal, "SIGHUP") else set()


@contextlib.contextmanager
def _blocked_in_this_thread(signals: set[int]) -> Iterator[None]:
    """Block ``signals`` in this thread for the block (processes it spawns inherit that)."""
    was = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, was)


def _ready_forkserver(ctx: multiprocessing.context.BaseContext) -> None:
    """Start the forkserver (:func:`_start_forkserver`) and wait until it serves.

    A pool's worker asked for during the forkserver's preload was forked after an interrupted
    parent had exited and removed the pool's semaphores, and failed to unpickle them (its
    traceback followed the sweep's one line). So the preload is waited for here, with a no-op
    process that holds no semaphore; the pool's workers are then forked at once, with Ctrl-C
    and SIGTERM held (:func:`signals_held`, main thread only). From any thread: called from
    another, it left the pool to start the forkserver, which then saw SIGHUP and was not ended
    at exit (a signal mask is the calling thread's, and its children inherit it)."""
    if ctx.get_start_method() != "forkserver":  # pragma: no cover - spawn platforms
        return
    # The tracker whose Python could not run warns that it "died unexpectedly" as the probe
    # starts: said by the one line below where the workers cannot start, shown where they can.
    # Recorded whatever the filters (under -W error it raised, a traceback), under the lock of
    # vanishlab's changes to them (warning_filters); shown below as they say.
    failed: BaseException | None = None
    with warning_filters.LOCK, warnings.catch_warnings(record=True) as said:
        warnings.filterwarnings("always", message=_TRACKER_DIED)
        try:
            kept = end_a_callers_forkserver()
            _start_forkserver()
            if kept is None:
                mark_ours()
            if not _ENDED_AT_EXIT:
                _ENDED_AT_EXIT.append(os.getpid())
                atexit.register(_end_forkserver)
            probe = ctx.Process(target=_nothing, daemon=True)
            probe.start()
            probe.join()
        except (OSError, EOFError) as err:  # its Python could not run, or fork failed
            failed = err
    for w in said:
        if failed is None or not str(w.message).startswith(_TRACKER_DIED):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if failed is not None:
        raise no_workers(failed) from None


_TRACKER_DIED = "resource_tracker: process died unexpectedly"


def no_workers(err: BaseException) -> StoppedRunError:
    """The error for worker processes that could not start: the forkserver's Python could not
    run (EOF on its socket, or no socket to connect to: a user who may not run this venv's
    Python), or the system refused a process (``ulimit -u``). It was click's "Aborted." and
    status 1 (an EOFError), or "error: Connection refused"; the cells can still run here.
    An OSError is said by its system words, in lower case ("broken pipe"): its str,
    "[Errno 32] Broken pipe", showed the errno."""
    why = (isinstance(err, OSError) and err.strerror) or str(err) or type(err).__name__
    if why[1:2].islower():  # "Broken pipe", not "EOF..."
        why = why[:1].lower() + why[1:]
    return StoppedRunError(
        f"the worker processes could not start ({why})",
        " with --workers 1 (workers=1), which measures in this process",
    )


_ENDED_AT_EXIT: list[int] = []  # the process that registered _end_forkserver with atexit


def _end_forkserver() -> None:
    """At this process's exit (an ``atexit`` handler, so after a stopped command's line): end
    the forkserver at once, and wait until it has gone. It holds nothing to clean up (its
    socket lies in this process's temporary folder). Left to notice this process's end itself,
    it tore down the torch it had imported first, and outlived a stopped two-worker sweep by
    0.4 to 3 s on a loaded machine (3 of 30 stops), a process of its group left behind; the
    resource tracker waited for it. Not where a child of this process still runs (a caller's
    own, which the forkserver may have started and whose exit status it reports), nor in a
    child forked from it that exits as Python does (``os.fork()``): it killed its parent's.
    Deaf to Ctrl-C meanwhile: a second one as a stopped command exited raised here, and Python
    printed "Exception ignored in atexit callback" and a traceback after the command's line."""
    from multiprocessing import forkserver

    if os.getpid() not in _ENDED_AT_EXIT:
        return
    server = getattr(forkserver, "_forkserver", None)
    pid = forkserver_pid()
    if pid is None or multiprocessing.active_children():
        return
    with _ctrl_c_ignored():
        kill_forkserver(pid, getattr(server, "_stop", None))


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ignore Ctrl-C for the block, its handler put back after (main thread only; elsewhere
    a plain block). Ignored, not blocked: one blocked would be delivered as it is unblocked,
    and raise there."""
    try:
        was = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: no handler runs in it
        yield
        return
    try:
        yield
    finally:  # (None: a handler not set from Python)
        signal.signal(signal.SIGINT, signal.SIG_DFL if was is None else was)


def _stop_workers(pool: ProcessPoolExecutor, parent_alive: Any) -> None:
    """Make the pool's workers exit now (they exit when ``parent_alive`` closes), never in the
    middle of sending a result: a worker that exited mid-message left the pool's reader
    waiting for the rest forever, and the interrupted sweep hung in its shutdown. The result
    queue's write lock, taken first, waits for a message being sent to end."""
    queue = getattr(pool, "_result_queue", None)
    lock = getattr(queue, "_wlock", None)
    taken = lock is not None and lock.acquire(timeout=30)
    try:
        parent_alive.close()
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        if taken:
            lock.release()


def experiment_modules(tasks: Sequence[Task]) -> list[tuple[str, str]]:
    """``(module name, file)`` of the experiment files (loaded by path, under names no import
    finds) that define the tasks' init functions: a worker loads them before it unpickles a
    task, which failed with ModuleNotFoundError ("a worker process died")."""
    found: dict[str, str] = {}
    for _, init in tasks:
        name = getattr(init.apply, "__module__", None) or ""
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if name.startswith(EXPERIMENT_MODULE_PREFIX) and path:
            found[name] = path
    return sorted(found.items())


def experiment_folders() -> list[str]:
    """The folders of the experiment files loaded in this process, where a worker finds the
    modules beside them that they imported (an init's functions among them): a worker died
    unpickling ``from mylib import my_apply``'s function."""
    files = [
        getattr(module, "__file__", None)
        for name, module in list(sys.modules.items())
        if name.startswith(EXPERIMENT_MODULE_PREFIX)
    ]
    return sorted({os.path.dirname(os.path.abspath(f)) for f in files if isinstance(f, str)})


def run_processes(tasks: Sequence[Task], workers: int, on_result: OnResult) -> None:
    ctx = _mp_context()
    _ready_forkserver(ctx)
    alive_r, alive_w = ctx.Pipe(duplex=False)
    modules = experiment_modules(tasks)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(alive_r, modules, experiment_folders()),
    )
    completed = False
    died: list[Any] | None = None  # a broken pool's workers that had died (dead_workers)
    try:
        # Each of the first ``workers`` submits forks a worker (the pool starts them as work
        # comes), with Ctrl-C and SIGTERM held; the rest only queue (a large grid's submits
        # take seconds: a stop there acts at once).
        with signals_held():
            futures = [
                pool.submit(run_task, config, init, "workers") for config, init in tasks[:workers]
            ]
        futures += [
            pool.submit(run_task, config, init, "workers") for config, init in tasks[workers:]
        ]
        for future in as_completed(futures):
            on_result(*future.result())
        completed = True
    except BrokenProcessPool:
        died = dead_workers(list(getattr(pool, "_processes", {}).values()))
    finally:
        if completed:
            pool.shutdown(wait=True)
        else:  # interrupted or failed: workers quit now, not after their cells
            _stop_workers(pool, alive_w)
        alive_r.close()
        alive_w.close()
    if died is not None:
        # Read only now: the pool's manager thread reads them too, and has ended (shut down).
        codes = [p.exitcode for p in died]
        ended = forkserver_ended() if NO_STATUS in codes else None
        raise forkserver_death(ended) if ended else worker_death(codes)
