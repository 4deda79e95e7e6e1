"""Sweeps on a Dask cluster: connecting to its scheduler, and running cells on its workers.

Like the local executors (:mod:`vanishlab.sweep.executors`), :func:`run_dask` hands each
finished cell's ``(frame, meta)`` to an ``on_result`` callback in the calling process, which
alone writes shards. Every way the cluster can fail (a malformed or unreachable address, a
silent peer, a worker that dies or lacks vanishlab, a scheduler that goes away) ends in one line
(:class:`~vanishlab.errors.VanishlabError`); a cluster with no worker, before the first cell or
after every worker has left, is said (Dask itself waits for one without end).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import pickle
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .._version import __version__
from ..errors import StoppedRunError, VanishlabError
from .executors import (
    OnResult,
    Task,
    experiment_folders,
    experiment_modules,
    load_experiment_files,
    run_task,
)
from .experiment_prints import prints_to_stderr
from .inits import INITS, Init

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DASK_HINT",
    "check_scheduler",
    "dask_client",
    "dask_module",
    "no_worker_line",
    "quiet_dask",
    "run_dask",
    "scheduler_location",
]

DASK_HINT = "pip install 'vanishlab[dask]'"
CONNECT_TIMEOUT_S = 10.0
"""How long connecting to a Dask scheduler may take, its handshake included."""
WATCH_S = 1.0
"""While no cell's result is ready, how often :func:`run_dask` asks whether the cluster has a
worker."""


_ADDRESS = re.compile(r"(?:(tcp|tls)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):([0-9]{1,5})")
_OTHER_SCHEMES = ("inproc://", "ucx://", "ws://", "wss://")


def check_scheduler(address: str) -> None:
    """Fail fast, in one line, unless ``address`` is a reachable ``[tcp://|tls://]HOST:PORT``.

    The Dask client itself would wait for its timeout on a malformed or unreachable address,
    then print a traceback while it is collected; a plain TCP connection answers in
    milliseconds (5 s at most). The form is :func:`scheduler_location`'s check.
    """
    host, port = scheduler_location(address)
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as err:
        why = err.strerror or type(err).__name__
        raise VanishlabError(
            f"cannot connect to the Dask scheduler at {address}: {why}; is it running?"
        ) from None


def scheduler_location(address: str) -> tuple[str, int]:
    """``(host, port)`` of a ``[tcp://|tls://]HOST:PORT`` address, without connecting (what
    ``sweep --dry-run`` checks); a one-line VanishlabError for any other form. Dask's other
    schemes are refused: ``inproc://`` reaches only a scheduler in this same process (the
    client waited 20 s, then printed a traceback from its collection), and ``ucx://``,
    ``ws://`` and ``wss://`` need extra packages and were never tried (``ucx://`` without them
    raised a TypeError)."""
    if address.startswith(_OTHER_SCHEMES):
        scheme = address.split("://", 1)[0]
        raise VanishlabError(
            f"--scheduler (scheduler=): {address!r}: {scheme}:// is not supported; give "
            "tcp://HOST:PORT (or tls://HOST:PORT)"
        )
    match = _ADDRESS.fullmatch(address.strip())
    if match is None:
        raise VanishlabError(
            f"--scheduler (scheduler=): {address!r} is not a scheduler address; give "
            "tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)"
        )
    host, port = match.group(2).strip("[]"), int(match.group(3))
    if not 0 < port < 65536:  # it was tried, and reported as "Connection refused"
        raise VanishlabError(
            f"--scheduler (scheduler=): {address!r}: port {port} is not a TCP port (1 to "
            "65535); give tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)"
        )
    return host, port


async def _handshake(address: str, seconds: float, security: Any) -> None:
    """Open one Dask connection to ``address`` (``security``: the Client's), exchange
    handshakes, close it: within ``seconds`` or TimeoutError (OSError, ... else)."""
    from distributed.comm import parse_address
    from distributed.comm.registry import get_backend

    deadline = time.monotonic() + seconds
    scheme, location = parse_address(address)
    connector = get_backend(scheme).get_connector()
    args = security.get_connection_args("client")  # as the Client's
    comm = await asyncio.wait_for(connector.connect(location, **args), seconds)
    try:
        # As distributed.comm.connect does, but with a time limit on the scheduler's answer.
        await asyncio.wait_for(comm.write(comm.handshake_info()), deadline - time.monotonic())
        await asyncio.wait_for(comm.read(), deadline - time.monotonic())
    finally:
        comm.abort()


def _check_handshake(address: str, seconds: float, security: Any) -> None:
    """Refuse, in one line, an address that does not answer as a Dask scheduler in ``seconds``.

    distributed's Client waits for the scheduler's handshake with no time limit, whatever its
    ``timeout``: a port that accepts TCP connections but never speaks Dask would hang it
    forever. This probe runs in a thread of its own, on an event loop of its own (the caller's
    may be running), and gives up after ``seconds``.
    """
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            asyncio.run(_handshake(address, seconds, security))
        except BaseException as err:  # handed to the caller's thread
            failure.append(err)

    thread = threading.Thread(target=probe, name="vanishlab-dask-handshake", daemon=True)
    thread.start()
    thread.join(seconds + 5)  # the probe's own limits end it first; this is the backstop
    if thread.is_alive() or (failure and isinstance(failure[0], TimeoutError)):
        raise VanishlabError(
            f"the Dask scheduler at {address} did not answer within {seconds:g} s (something "
            "accepts connections on that port, but does it speak Dask?)"
        )
    if failure:
        err = failure[0]
        if isinstance(err, OSError):  # refused, reset, unreachable: no scheduler there
            why = err.strerror or str(err) or type(err).__name__
            raise VanishlabError(
                f"cannot connect to the Dask scheduler at {address}: {why}".splitlines()[0]
            )
        # A TLS setup that does not fit, or a server that is no scheduler (an SSH server's
        # banner read as Dask's frame sizes asks for exabytes).
        why = f"{type(err).__name__}: {err}".splitlines()[0] if str(err) else type(err).__name__
        raise VanishlabError(
            f"cannot connect to the Dask scheduler at {address}: {why} (is it a Dask scheduler?)"
        )


@contextlib.contextmanager
def quiet_dask() -> Iterator[None]:
    """Dask's own logging silenced while the sweep talks to a cluster, restored after: the
    sweep says what went wrong in its one line (:func:`_cluster_failed`), and a client closed
    while it was reconnecting to a scheduler that went away logged "distributed.client -
    ERROR" and two tracebacks on stderr first."""
    import logging

    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401  (its import sets its loggers' levels: first)
    names = ["distributed"] + [
        n for n in list(logging.root.manager.loggerDict) if n.startswith("distributed.")
    ]
    loggers = [logging.getLogger(n) for n in names]
    levels = [(log, log.level) for log in loggers if log.level or log.name == "distributed"]
    for log, _ in levels:
        log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for log, level in levels:
            log.setLevel(level)


def dask_module() -> Any:
    """The ``distributed`` module, or a one-line VanishlabError when Dask is not installed."""
    try:
        import distributed
    except ImportError:
        raise VanishlabError(f"--scheduler (scheduler=) needs Dask: {DASK_HINT}") from None
    return distributed


def dask_client(address: str) -> Any:
    """Connect to the Dask scheduler at ``address`` (one-line errors if that is impossible,
    within :data:`CONNECT_TIMEOUT_S` or so)."""
    distributed = dask_module()
    check_scheduler(address)
    # The Client's credentials as it reads them (a private helper: else the configuration's)
    loader = getattr(distributed.client, "_maybe_call_security_loader", lambda _: None)
    try:
        security = loader(address) or distributed.Security()
        security = distributed.Security.temporary() if security is True else security
    except ImportError as err:  # the configured security loader (or what it needs) is missing
        raise VanishlabError(f"Dask scheduler at {address}: {err}".splitlines()[0]) from None
    security = distributed.Security(**security) if isinstance(security, dict) else security
    _check_handshake(address, CONNECT_TIMEOUT_S, security)  # tls:// too: TLS, then silence
    try:
        kw = {"timeout": CONNECT_TIMEOUT_S, "security": security, "set_as_default": False}
        return distributed.Client(address, **kw)
    except (OSError, TimeoutError, ValueError) as err:
        raise VanishlabError(
            f"cannot connect to the Dask scheduler at {address}: {err}".splitlines()[0]
        ) from None


def _cluster_failed(why: str) -> StoppedRunError:
    """The cluster's failure ``why``; the runner adds what the run directory keeps."""
    return StoppedRunError(f"the Dask cluster stopped running cells: {why}".splitlines()[0])


def _unreadable_tasks(why: BaseException) -> StoppedRunError:
    """The one line for tasks the scheduler could not unpickle (``why``): it lacks vanishlab,
    or another release of it lacks what the tasks name. distributed raised "RuntimeError:
    Error during deserialization of the task graph", said as a traceback."""
    said = f"{type(why).__name__}: {why}" if str(why) else type(why).__name__
    return _cluster_failed(
        f"its scheduler could not read the tasks ({said.splitlines()[0]}): it needs the same "
        f"vanishlab as this sweep ({__version__}, the same code) and torch"
    )


_TASK_CELL = re.compile(r"vanishlab-([0-9a-f]{16})-[0-9a-f]+")


def _workers_killed(err: Any) -> StoppedRunError:
    """The one line for a cell whose every worker died while running it (distributed's
    KilledWorker, ``err``: the scheduler's ``allowed-failures`` passed, 3 by default): which
    cell, how many workers, and what kills a worker, with the levers a Dask worker has. The
    sweep said Dask's own text, its task key, its advice and its web address in the line."""
    match = _TASK_CELL.fullmatch(str(getattr(err, "task", "")))
    cell = f"cell {match.group(1)}" if match else "a cell"
    tries = getattr(err, "allowed_failures", None)
    last = getattr(getattr(err, "last_worker", None), "address", None)
    at = f" at {last}" if isinstance(last, str) and last else ""
    if tries == 0:
        workers, logs = f"the worker that ran it{at}", "its log says which"
    else:
        count = f"each of the {tries + 1}" if isinstance(tries, int) and tries > 0 else "every"
        workers = f"{count} workers that ran it{at and f', the last{at}'}"
        logs = "their logs say which"
    return StoppedRunError(
        f"the Dask cluster stopped running cells: {cell} ended {workers} (killed, as by the "
        f"out-of-memory killer or kill -9, or crashed: {logs})",
        ", perhaps with fewer cells at once on each worker (dask worker's --nworkers and "
        "--nthreads) or more memory",
    )


#: The client's states once its scheduler's connection is lost: it tries to reconnect
#: ("connecting") for its timeout, then closes.
_DISCONNECTED = ("connecting", "closing", "closed")
#: The errors a lost scheduler raises (the others are a worker's, or the no-workers-timeout).
_LINK_ERRORS = (OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError)


def _scheduler_lost(client: Any, err: BaseException) -> StoppedRunError | None:
    """The one line for work the cluster dropped because its scheduler went away (stopped,
    crashed, its machine or job gone, the link to it cut), or None for another failure.
    The client cancels every future then (distributed's reason "scheduler-connection-lost";
    a scheduler's no-workers-timeout or ``client.cancel`` cancel them too, the client still
    connected): said as the cluster having "cancelled the work", which told nothing of why,
    nor that a scheduler must be there again to resume."""
    gone = getattr(client, "status", None) in _DISCONNECTED
    if getattr(err, "reason", None) != "scheduler-connection-lost" and not gone:
        return None
    address = getattr(getattr(client, "scheduler", None), "address", None)
    where = f" at {address}" if isinstance(address, str) and address else ""
    return StoppedRunError(
        f"the Dask cluster stopped running cells: the Dask scheduler{where} went away "
        f"({type(err).__name__}: the connection to it was lost)",
        " once a scheduler runs there again (or give --scheduler another one)",
    )


def no_worker_line(address: str | None) -> str:
    """What a sweep says when the cluster at ``address`` has no worker to run its cells."""
    return (
        f"waiting for a worker: the Dask cluster at {address} has none (Dask waits without "
        "end, unless its scheduler has distributed.scheduler.no-workers-timeout set)"
    )


class _WorkerWatch:
    """Calls ``on_no_worker`` when the cluster has no worker: at once if it has none at the
    start, and again each time every worker has left after some had come (a worker that dies
    mid-run, a cluster scaled to zero), once a second check in a row (WATCH_S later) still
    finds none: a cluster closed in order (``LocalCluster.close()``) removes its workers just
    before its scheduler, and its sweep then ends in the cluster's one line without saying it
    waits. Asks the scheduler at most every WATCH_S seconds; a scheduler that does not answer
    is :func:`run_dask`'s to report."""

    def __init__(self, client: Any, on_no_worker: Callable[[], None] | None) -> None:
        self.client, self.on_no_worker = client, on_no_worker
        self.next_at = -float("inf")
        self.said = False  # said for the present loss of every worker
        self.had_worker = False  # some worker has come: a loss now is mid-run
        self.missed = False  # mid-run: the last check found none (say it at the next)

    def check(self) -> None:
        if self.on_no_worker is None or time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + WATCH_S
        try:
            none = not self.client.nthreads()
        except (OSError, TimeoutError):
            return
        if not none:
            self.had_worker, self.said, self.missed = True, False, False
        elif not self.said and self.had_worker and not self.missed:
            self.missed = True
        elif not self.said:
            self.on_no_worker()
            self.said = True


def _run_on_worker(
    config: Any, init: bytes, modules: Sequence[tuple[str, str]], folders: Sequence[str]
) -> Any:
    """What a Dask worker runs: the experiment files that define the task's init loaded first
    (:func:`~vanishlab.sweep.executors.load_experiment_files`, from the same paths: a shared
    file system), then the init unpickled from ``init``, its pickle. The scheduler unpickles
    a task's arguments too, where no experiment file is loaded: an init of one, passed as
    itself, failed there ("Error during deserialization of the task graph", a traceback)."""
    try:
        load_experiment_files(modules, folders)
    except Exception as err:
        files = ", ".join(path for _, path in modules)
        raise ImportError(
            f"a Dask worker could not load the experiment file {files} (workers load it from "
            f"the same path): {type(err).__name__}: {err}".splitlines()[0]
        ) from None
    task_init = pickle.loads(init)
    with _REGISTRY:
        here = INITS.setdefault(task_init.name, task_init)
        if here is not task_init and _pickle_of(here) != init:
            # This worker's registry gives the name to another file's init (a variant of the
            # study, swept on the cluster before): the cell's summary row reads the registry.
            INITS[task_init.name] = task_init
            _TAKEN[0] += 1
        taken = _TAKEN[0]
    with prints_to_stderr():  # an init's print(): to the worker's stderr, as in a pool's
        frame, meta = run_task(config, task_init, "dask")
    if _TAKEN[0] != taken:  # a sweep beside it took a name meanwhile: the row is the sweep's
        meta.pop("summary", None)
    return frame, meta


_REGISTRY = threading.Lock()
_TAKEN = [0]
"""How many times a task took an init name from another definition in this worker's
registry (:func:`_run_on_worker`): a cell's summary row, which reads the registry, is kept
when none did while it ran, else left to the sweep to compute."""


def _pickled(init: Init, done: dict[int, bytes]) -> bytes:
    """``init`` pickled (by reference, as for local workers), once per init object."""
    if id(init) not in done:
        done[id(init)] = pickle.dumps(init, protocol=pickle.HIGHEST_PROTOCOL)
    return done[id(init)]


def _pickle_of(init: Init) -> bytes | None:
    """``init``'s pickle, what tells two inits apart across processes (a partial or an object
    as its ``apply`` compares by identity: never equal to its copy); None where it has none."""
    try:
        return pickle.dumps(init, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a lambda's, registered in this process: not the task's
        return None


def run_dask(
    tasks: Sequence[Task],
    client: Any,
    on_result: OnResult,
    on_no_worker: Callable[[], None] | None = None,
) -> None:
    """Run ``tasks`` on the cluster of ``client``, biggest first as given; ``on_no_worker`` is
    called whenever the cluster has no worker to run them (see :class:`_WorkerWatch`)."""
    import distributed
    from distributed import scheduler

    cluster_errors = (
        distributed.KilledWorker,
        asyncio.CancelledError,
        concurrent.futures.CancelledError,
        ImportError,  # vanishlab (or torch) missing where the task was unpickled
        OSError,  # distributed's CommClosedError and other lost connections
        TimeoutError,
        # The no-workers-timeout passed; classes of distributed >= 2024.8 (a () here: TypeError)
        *filter(None, map(vars(scheduler).get, ("NoWorkerError", "NoValidWorkerError"))),
    )
    futures: list[Any] = []
    try:
        token = os.urandom(4).hex()  # fresh keys: never reuse results cached on the cluster
        modules, folders, inits = experiment_modules(tasks), experiment_folders(), {}
        futures = [
            client.submit(
                _run_on_worker,
                config,
                _pickled(init, inits),
                modules,
                folders,
                key=f"vanishlab-{config.cell_id}-{token}",
                pure=False,
            )
            for config, init in tasks
        ]
        done = distributed.as_completed(futures, loop=client.loop, with_results=True)
        watch = _WorkerWatch(client, on_no_worker)
        while True:
            if not done.has_ready():  # (as_completed's own wait, with the watch between)
                if done.is_empty():
                    break
                watch.check()
                with done.thread_condition:
                    done.thread_condition.wait(timeout=0.1)
                continue
            try:
                future, result = next(done)
            except StopIteration:
                break
            except cluster_errors as err:
                # A cell's own errors are recorded as its failure, in the cell: these are the
                # cluster's (a dead worker, no vanishlab on one, a lost link); others are bugs.
                if isinstance(err, distributed.KilledWorker):
                    raise _workers_killed(err) from None
                lost = None
                if isinstance(err, _LINK_ERRORS):
                    lost = _scheduler_lost(client, err)
                raise (lost or _cluster_failed(f"{type(err).__name__}: {err}")) from None
            except RuntimeError as err:
                why = err.__cause__
                if why is None or "deserializ" not in str(err):
                    raise
                raise _unreadable_tasks(why) from None
            if isinstance(result, BaseException):  # cancelled: mostly, the scheduler went away
                raise (
                    _scheduler_lost(client, result)
                    or _cluster_failed(f"the cluster cancelled the work ({type(result).__name__})")
                ) from None
            on_result(*result)
            future.release()
    finally:
        with contextlib.suppress(Exception):
            client.cancel(futures)
