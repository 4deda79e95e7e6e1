"""Sweeps on a Dask cluster: a LocalCluster on loopback gives the same bits as local runs."""

from __future__ import annotations

import pickle
import sys

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep.config import Sweep
from vanishlab.sweep.store import read_cells

GRID = Sweep(
    activation=("tanh", "relu"),
    init=("orthogonal", "normal"),
    gain=(0.5, 2.0),
    num_layers=(1, 2),
    hidden_size=10,
    input_size=3,
    seq_len=12,
    batch=3,
)


@pytest.fixture(scope="module", autouse=True)
def _scratch(tmp_path_factory):
    """A LocalCluster's scheduler and workers keep their folders under Dask's
    temporary-directory, by default $TMPDIR/dask-scratch-space, a folder of fixed name that
    every run and every pytest-xdist worker shares and that is left behind (with its lock
    files) when they are closed: here, a folder of this session's own.

    And no worker profiles this process: a worker's profiler reads every thread's frame
    (``sys._current_frames()``) every 10 ms, and with the workers threads of this process, a
    garbage collection that starts inside that call can deadlock CPython 3.11 (seen in `make
    test`: the profiler's thread stopped in the collector inside ``_current_frames``, both
    measuring threads waiting for the GIL, the test hung until pytest's 600 s timeout).

    distributed is imported first: its import adds its defaults to Dask's configuration, and
    a ``dask.config.set`` entered before that takes the whole "distributed" section out again
    as it ends, for every later test of the process (one in test_runs.py read the client's
    configuration there: KeyError 'distributed', where it ran after this module)."""
    try:
        import dask
        import distributed  # noqa: F401
    except ImportError:
        yield
        return
    settings = {
        "temporary-directory": str(tmp_path_factory.mktemp("dask")),
        "distributed.worker.profile.enabled": False,
    }
    with dask.config.set(settings):
        yield


def _local_cluster(n_workers: int, threads_per_worker: int = 1):
    """A LocalCluster whose scheduler and workers are threads in this process, reached over
    real TCP on 127.0.0.1 (its dashboard on any free port: None still takes 8787, which may be
    in use)."""
    import distributed

    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=":0",
    )


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    # Threads in this process, reached over real TCP on 127.0.0.1; two worker threads measure
    # concurrently, which also exercises the per-measurement thread pinning.
    with _local_cluster(1, threads_per_worker=2) as local:
        yield local


@pytest.mark.slow  # 4 s of make test's 5 min; test_dask_through_the_cli runs a cluster there
def test_dask_matches_local_bit_for_bit_and_resumes(cluster, tmp_path):
    address = cluster.scheduler_address
    assert address.startswith("tcp://127.0.0.1:")
    here = vl.run_sweep(GRID, tmp_path / "local", workers=1, progress=False)
    remote = vl.run_sweep(GRID, tmp_path / "dask", scheduler=address, progress=False)
    assert here.n_run == remote.n_run == GRID.size
    pd.testing.assert_frame_equal(
        vl.load_results(tmp_path / "local"), vl.load_results(tmp_path / "dask"), check_exact=True
    )
    manifest = vl.load_manifest(tmp_path / "dask")
    assert {"dask", "distributed"} <= set(manifest["versions"])
    again = vl.run_sweep(GRID, tmp_path / "dask", scheduler=address, progress=False)
    assert (again.n_run, again.n_skipped) == (0, GRID.size)


def test_dask_through_the_cli(cluster, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        ["sweep", "--smoke", "--scheduler", cluster.scheduler_address, "--out", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    assert "8 run" in result.stdout
    assert len(vl.load_cells(out)) == 8
    assert "waiting for a worker" not in result.stderr  # the cluster has one


def test_a_cell_refused_memory_on_the_cluster_names_a_dask_worker_s_lever(
    cluster, monkeypatch, tmp_path
):
    # Its reason said "or fewer workers beside it (--workers)", a flag refused with
    # --scheduler. (The cluster's workers are threads in this process: the patch reaches them.)
    def refuse(*args, **kwargs):
        raise RuntimeError(
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 2048 bytes"
        )

    monkeypatch.setattr("vanishlab.core.engine._backward_norms", refuse)
    grid = Sweep(hidden_size=4, seq_len=5, batch=1, seed=(0, 1))
    summary = vl.run_sweep(
        grid, tmp_path / "run", scheduler=cluster.scheduler_address, progress=False
    )
    assert summary.n_errors == 2
    assert set(read_cells(tmp_path / "run")["reason"]) == {  # as stored
        "MemoryRefusedError: the cell needs more memory than this machine could give (2.0 KiB "
        "at once): sweep a smaller --batch (batch=), --seq-len (seq_len=), --hidden-size "
        "(hidden_size=) or --num-layers (num_layers=), or fewer cells at once on its machine "
        "(dask worker --nworkers, --nthreads)"
    }


def test_without_dask_the_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(vl.VanishlabError, match=r"pip install 'vanishlab\[dask\]'"):
        vl.run_sweep(GRID, tmp_path / "run", scheduler="tcp://127.0.0.1:8786", progress=False)
    assert not (tmp_path / "run").exists()  # checked before anything is written
    result = CliRunner().invoke(
        app, ["sweep", "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --scheduler needs Dask: pip install 'vanishlab[dask]'")


def _tasks():
    from vanishlab.sweep.inits import INITS

    configs = list(GRID.cells())[:4]
    return [(c, INITS[c.init]) for c in configs]


def _fails_on_the_cluster(config, init, beside):
    raise ModuleNotFoundError("No module named 'vanishlab'")  # as on a worker without it


@pytest.mark.parametrize("no_worker_errors", [True, False])
def test_an_error_on_the_cluster_is_one_line(cluster, monkeypatch, no_worker_errors):
    # It was raised as it came (a traceback): a worker that lacks vanishlab, one that died.
    # Without the scheduler's NoWorkerError and NoValidWorkerError (distributed < 2024.8), the
    # except clause held () in their place and raised "TypeError: catching classes that do not
    # inherit from BaseException is not allowed".
    import distributed

    from vanishlab.errors import VanishlabError
    from vanishlab.sweep import dask_cluster

    if not no_worker_errors:
        monkeypatch.delattr(distributed.scheduler, "NoWorkerError", raising=False)
        monkeypatch.delattr(distributed.scheduler, "NoValidWorkerError", raising=False)
    monkeypatch.setattr(dask_cluster, "run_task", _fails_on_the_cluster)
    client = dask_cluster.dask_client(cluster.scheduler_address)
    try:
        with pytest.raises(VanishlabError, match="ModuleNotFoundError: No module named"):
            dask_cluster.run_dask(_tasks(), client, lambda frame, meta: None)
    finally:
        client.close()


class _Worker:  # what KilledWorker names of the last worker: its address
    address = "tcp://127.0.0.1:36375"


def _killed_every_worker(config, init, beside):
    # What the scheduler raises once every worker that ran a task has died (kill -9, the
    # out-of-memory killer): KilledWorker, which the client raises for that task's future.
    import distributed

    key = distributed.get_worker().get_current_task()
    raise distributed.KilledWorker(key, _Worker(), 3)


def test_a_cell_that_kills_its_workers_is_named_in_one_line(cluster, monkeypatch, tmp_path):
    """`kill -9` of the worker measuring a cell, with the scheduler's allowed-failures 0 (or a
    cell that each of 4 workers ran out of memory on): the sweep said distributed's own text,
    "KilledWorker: Attempted to run task 'vanishlab-716eb32f8f0d5e12-9a4fcf65' on 1 different
    workers, ... For more information see https://distributed.dask.org/...", which named no
    cell, nor a lever (helper 404). It now names the cell, the workers and what ends one."""
    from vanishlab.sweep import dask_cluster

    monkeypatch.setattr(dask_cluster, "run_task", _killed_every_worker)
    out = tmp_path / "run"
    command = ["sweep", "--smoke", "--scheduler", cluster.scheduler_address, "--out", str(out)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT, variant

    cells = {c.cell_id for c in variant(DEFAULT_EXPERIMENT, smoke=True).sweep.cells()}
    cell = line.split("cells: cell ", 1)[1][:16]
    assert cell in cells, line
    assert line == (
        f"error: the Dask cluster stopped running cells: cell {cell} ended each of the 4 "
        "workers that ran it, the last at tcp://127.0.0.1:36375 (killed, as by the "
        "out-of-memory killer or kill -9, or crashed: their logs say which); no cell is saved "
        f"yet ({out} keeps its manifest); run the same command to start again, perhaps with "
        "fewer cells at once on each worker (dask worker's --nworkers and --nthreads) or more "
        "memory"
    ), line


def _first_then_wait(config, init, run):
    import time

    if config != _tasks()[0][0]:
        time.sleep(1.5)  # still running when the first result cancels the rest
    return run(config, init)


def test_work_the_cluster_cancels_is_one_line(cluster, monkeypatch):
    # A lost scheduler cancels every future: as_completed hands the cancellation over as a
    # result, and `on_result(*result)` failed with a TypeError traceback.
    distributed = pytest.importorskip("distributed")
    from vanishlab.errors import VanishlabError
    from vanishlab.sweep import dask_cluster

    real = dask_cluster.run_task
    monkeypatch.setattr(dask_cluster, "run_task", lambda c, i, b: _first_then_wait(c, i, real))
    client = dask_cluster.dask_client(cluster.scheduler_address)
    kept = []

    def on_result(frame, meta):
        kept.append(meta)
        client.cancel([distributed.Future(key, client) for key in list(client.futures)])

    try:
        with pytest.raises(VanishlabError, match="cancelled the work"):
            dask_cluster.run_dask(_tasks(), client, on_result)
    finally:
        client.close()
    assert len(kept) >= 1


#: How the sweep ends when the no-workers-timeout passes: distributed's NoWorkerError, which
#: distributed < 2024.8 does not have (its scheduler cancels the work, and closes itself: the
#: client may find it gone first).
NO_WORKER = (
    r"stopped running cells: (NoWorkerError|the cluster cancelled the work|"
    r"the Dask scheduler at \S+ went away)"
)


def test_a_scheduler_that_goes_away_is_named_with_what_to_do(monkeypatch):
    """A scheduler that went away mid-sweep (stopped, crashed, its job ended) was said as
    "the cluster cancelled the work (FutureCancelledError)": nothing said the scheduler was
    gone, nor that one must run again to resume. Now the line names it and says so; work
    cancelled with the scheduler still there keeps its line (the test above)."""
    pytest.importorskip("distributed")
    from vanishlab.errors import VanishlabError
    from vanishlab.sweep import dask_cluster

    real = dask_cluster.run_task
    monkeypatch.setattr(dask_cluster, "run_task", lambda c, i, b: _first_then_wait(c, i, real))
    local = _local_cluster(1)
    address = local.scheduler_address
    client = dask_cluster.dask_client(address)
    kept = []

    def on_result(frame, meta):
        kept.append(meta)
        local.close()  # its workers, then its scheduler: the client loses its connection

    try:
        with dask_cluster.quiet_dask(), pytest.raises(VanishlabError) as err:
            dask_cluster.run_dask(_tasks(), client, on_result)
    finally:
        client.close()
        local.close()
    line = str(err.value)
    assert line.startswith(
        f"the Dask cluster stopped running cells: the Dask scheduler at {address} went away ("
    ), line
    assert line.endswith("connection to it was lost)"), line  # the runner says what is kept
    assert err.value.then == " once a scheduler runs there again (or give --scheduler another one)"
    assert len(line.splitlines()) == 1 and len(kept) >= 1


@pytest.mark.parametrize(
    ("reason", "status", "lost"),
    [
        ("scheduler-connection-lost", "running", True),  # distributed >= 2024.8's reason
        (None, "connecting", True),  # an older CancelledError: the client is reconnecting
        (None, "closed", True),  # ... or gave up
        ("unknown", "running", False),  # client.cancel, a no-workers-timeout
    ],
)
def test_only_a_lost_scheduler_is_said_to_have_gone_away(reason, status, lost):
    import concurrent.futures

    from vanishlab.sweep import dask_cluster

    class Client:
        scheduler = type("Rpc", (), {"address": "tcp://10.0.0.1:8786"})()

    client = Client()
    client.status = status
    err = concurrent.futures.CancelledError("key")
    if reason is not None:
        err.reason = reason
    line = dask_cluster._scheduler_lost(client, err)
    assert (line is not None) == lost
    if lost:
        assert "the Dask scheduler at tcp://10.0.0.1:8786 went away (CancelledError" in str(line)


def test_a_cluster_with_no_workers_left_is_one_line(monkeypatch):
    # A scheduler whose no-workers-timeout passes (its last worker died, a batch job ended)
    # fails the futures with distributed's NoWorkerError: it was a traceback, status 1.
    pytest.importorskip("distributed")
    import dask

    from vanishlab.errors import VanishlabError
    from vanishlab.sweep import dask_cluster

    with dask.config.set({"distributed.scheduler.no-workers-timeout": "0.3s"}):
        local = _local_cluster(0)
    client = dask_cluster.dask_client(local.scheduler_address)
    try:
        with pytest.raises(VanishlabError, match=NO_WORKER):
            dask_cluster.run_dask(_tasks()[:1], client, lambda frame, meta: None)
    finally:
        client.close()
        local.close()


def test_a_cluster_without_workers_is_said_then_its_timeout_ends_the_sweep(tmp_path, capsys):
    """A cluster that has no worker made the sweep wait without a word (Dask's default waits
    without end): it now says so in one line on stderr (with progress on) before it waits, and
    the scheduler's no-workers-timeout, where set, ends the wait in the sweep's one line."""
    pytest.importorskip("distributed")
    import dask

    for progress in (True, False):  # a cluster each: distributed < 2024.8's scheduler then closes
        with dask.config.set({"distributed.scheduler.no-workers-timeout": "0.5s"}):
            local = _local_cluster(0)
        address = local.scheduler_address
        try:
            with pytest.raises(vl.VanishlabError, match=NO_WORKER):
                vl.run_sweep(GRID, tmp_path / f"{progress}", scheduler=address, progress=progress)
            said = [line for line in capsys.readouterr().err.splitlines() if "waiting for" in line]
            assert said == (
                [
                    f"waiting for a worker: the Dask cluster at {address} has none (Dask waits "
                    "without end, unless its scheduler has "
                    "distributed.scheduler.no-workers-timeout set)"
                ]
                if progress
                else []
            )
        finally:
            local.close()


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_every_worker_leaving_mid_run_is_said(tmp_path):
    """A cluster whose every worker left mid-run (one that died, a cluster scaled to zero) made
    the sweep wait without a word, its bar frozen: the line said when a cluster has no worker
    at the start is said then too, once, and the scheduler's no-workers-timeout ends the wait
    in the sweep's one line."""
    pytest.importorskip("distributed")
    import dask

    from vanishlab.sweep import dask_cluster

    # The line waits for a second check a second later: the timeout leaves room for both.
    with dask.config.set({"distributed.scheduler.no-workers-timeout": "4s"}):
        local = _local_cluster(1)
    client = dask_cluster.dask_client(local.scheduler_address)
    events: list[str] = []

    def on_result(frame, meta) -> None:
        events.append("result")
        if len(events) == 1:
            local.scale(0)  # every worker leaves after the first cell

    try:
        with pytest.raises(vl.VanishlabError, match=NO_WORKER):
            dask_cluster.run_dask(
                _tasks(), client, on_result, on_no_worker=lambda: events.append("said")
            )
    finally:
        client.close()
        local.close()
    assert events[0] == "result" and events.count("said") == 1, events


def test_a_mid_run_loss_is_said_once_a_second_check_confirms_it(monkeypatch):
    """A cluster closed in order (LocalCluster.close(): its workers, then its scheduler) mid-run
    printed "waiting for a worker" just before the sweep's one line that the cluster cancelled
    the work. Mid-run, the line now waits for a second check in a row (WATCH_S later) that still
    finds no worker; with none at the start it is said at once, as before."""
    from vanishlab.sweep import dask_cluster

    now = [0.0]  # in quarters of a second: exact in binary
    monkeypatch.setattr(dask_cluster.time, "monotonic", lambda: now[0])

    answer: dict[str, int] = {}

    class Client:
        def nthreads(self) -> dict[str, int]:
            return answer

    def watch_over(answers: list[dict[str, int]]) -> list[float]:
        """When the line is said, the cluster answering ``answers`` a check at a time."""
        said: list[float] = []
        watch = dask_cluster._WorkerWatch(Client(), lambda: said.append(now[0]))
        for workers in answers:
            answer.clear()
            answer.update(workers)
            watch.check()
            now[0] += 0.25
            watch.check()  # within WATCH_S: not asked again
            now[0] += dask_cluster.WATCH_S
        return said

    one = {"tcp://w": 1}
    step = 0.25 + dask_cluster.WATCH_S
    assert watch_over([{}, {}, one, {}, one, {}, {}, {}]) == [0.0, 6 * step]
    # none at the start: at once; a loss confirmed by the next check: said once; a loss that
    # a worker ends before the next check (a worker replaced): never said


# In the slow tier: ~10 s: a command of its own (torch's import) beside a cluster here.
@pytest.mark.slow
def test_a_scheduler_that_goes_away_mid_sweep_is_one_line(tmp_path):
    # The sweep stopped with its one line, but the Dask client, closed while it was trying to
    # reconnect, first logged "distributed.client - ERROR" (and tracebacks) on stderr.
    import subprocess
    import time

    pytest.importorskip("distributed")
    local = _local_cluster(1)
    out = tmp_path / "run"
    args = ["--seq-len", "20", "--hidden-size", "8", "--seeds", "20", "--quiet"]
    command = [sys.executable, "-m", "vanishlab", "sweep", *args, "--out", str(out)]
    try:
        sweep = subprocess.Popen(
            [*command, "--scheduler", local.scheduler_address], stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while not list(out.glob("cells/*.parquet")) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        local.close()  # the scheduler goes away after the first shard
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == 2
    lines = stderr.splitlines()
    address = local.scheduler_address
    said = (
        f"error: the Dask cluster stopped running cells: the Dask scheduler at {address} went away"
    )
    assert len(lines) == 1 and lines[0].startswith(said), lines
    kept = len(vl.load_cells(out))
    assert kept >= 1
    assert lines[0].endswith(
        f"; {kept} finished cell{'s' if kept > 1 else ''} kept in {out}; run the same command "
        "to resume once a scheduler runs there again (or give --scheduler another one)"
    ), lines[0]


EXPERIMENT = '''"""An init of its own, from a module beside it, on a Dask cluster."""

import vanishlab as vl
from beside_dask_test import ones_apply

vl.register_init(vl.Init("dask_file_test", "W = 1/H everywhere", ones_apply))
SWEEP = vl.Sweep(init=("dask_file_test", "normal"), hidden_size=8, input_size=3, seq_len=6)
SMOKE = SWEEP.replace(batch=2)
'''

BESIDE = """import torch


def ones_apply(rnn, gain, gen):
    with torch.no_grad():
        for p in rnn.parameters():
            p.uniform_(-1.0, 1.0, generator=gen).mul_(gain / p.shape[-1])
"""


# In the slow tier: ~3 s of CPU; make test keeps test_dask_through_the_cli.
@pytest.mark.slow
def test_an_experiment_file_s_init_reaches_a_cluster_that_never_loaded_it(cluster, tmp_path):
    """An init registered in an experiment file (as the README's "Your own init") reached no
    Dask cluster in processes of its own: its scheduler unpickles the tasks, and failed with
    "No module named 'vanishlab_experiment_...'", a traceback (status 1); its workers, had it
    not, would have too. The workers now load the file, and the module beside it, from its
    path. The sweep runs in a process of its own: this one's cluster has never loaded them."""
    import subprocess

    from vanishlab.sweep.inits import INITS

    (tmp_path / "study.py").write_text(EXPERIMENT)
    (tmp_path / "beside_dask_test.py").write_text(BESIDE)
    out = tmp_path / "run"
    address = cluster.scheduler_address
    command = [sys.executable, "-m", "vanishlab", "sweep", str(tmp_path / "study.py"), "--smoke"]
    command += ["--scheduler", address, "--out", str(out), "--quiet"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:  # what the cluster's worker threads loaded, in this process
        INITS.pop("dask_file_test", None)
        for name in [n for n in sys.modules if n.startswith("vanishlab_experiment_study_")]:
            del sys.modules[name]
        sys.modules.pop("beside_dask_test", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    cells = vl.load_cells(out)
    assert sorted(cells["init"]) == ["dask_file_test", "normal"]
    assert not cells["failure"].notna().any()


PRINTS = '''"""Prints as its init draws a cell."""
import vanishlab as vl


def _init(rnn, gain, generator):
    print("in apply")
    vl.INITS["default"].apply(rnn, gain, generator)


vl.register_init(vl.Init("dask_prints_test", "prints", _init))
SWEEP = vl.Sweep(
    init=("dask_prints_test",), hidden_size=4, input_size=2, seq_len=4, batch=1, seed=(0, 1)
)
'''


def test_what_an_init_prints_on_a_dask_worker_goes_to_its_stderr(cluster, tmp_path, capsys):
    """As in this process and a pool's worker (`out=$(vanishlab sweep e.py -q)` holds the
    path alone): an init's print() as a cell was drawn went to the Dask worker's stdout. The
    worker threads of this process's cluster share its stdout: the lines are told there."""
    from vanishlab.sweep.inits import INITS

    (tmp_path / "prints.py").write_text(PRINTS)
    try:
        done = vl.run_sweep(
            tmp_path / "prints.py",
            tmp_path / "run",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    finally:
        INITS.pop("dask_prints_test", None)
        for name in [n for n in sys.modules if n.startswith("vanishlab_experiment_prints_")]:
            del sys.modules[name]
    assert done.n_run == 2  # (two cells: the two worker threads draw at once)
    printed = capsys.readouterr()
    assert "in apply" not in printed.out
    assert printed.err.count("in apply") == 2, printed.err


def test_overlapping_blocks_put_stdout_back_as_it_was():
    """contextlib.redirect_stdout, entered in two threads and left in the order entered, left
    stdout at stderr for good: the second kept stderr as the stdout to put back."""
    from vanishlab.sweep.experiment_prints import prints_to_stderr

    was = sys.stdout
    first, second = prints_to_stderr(), prints_to_stderr()
    first.__enter__()
    second.__enter__()
    assert sys.stdout is sys.stderr
    first.__exit__(None, None, None)
    assert sys.stdout is sys.stderr  # the second still runs
    second.__exit__(None, None, None)
    assert sys.stdout is was


def test_a_stdout_replaced_while_a_block_runs_is_not_put_back_over(monkeypatch):
    """A Dask worker thread of this process's cluster that drew a cell across the start of a
    command run in typer's CliRunner put the stdout it had found back over the runner's: the
    runner's text wrapper, held by sys.stdout alone, was freed, and freeing it closed the
    runner's buffer: "ValueError: I/O operation on closed file" at the runner's getvalue() in
    test_a_cell_that_kills_its_workers_is_named_in_one_line (5 runs in 60 of it, two busy
    loops beside it, load ~10; 0 in 60 now). Where its owner put back a stream closed since
    (a test's capsys), that stayed the process's stdout. A stdout replaced meanwhile now
    stays; one still the block's is put back as ever (the test above)."""
    import io

    from vanishlab.sweep.experiment_prints import prints_to_stderr

    runner_s = io.StringIO()  # the stdout of a command run in CliRunner, as the cell starts
    monkeypatch.setattr(sys, "stdout", runner_s)
    block = prints_to_stderr()  # a worker thread's cell, drawn while the command runs
    block.__enter__()
    assert sys.stdout is sys.stderr
    monkeypatch.setattr(sys, "stdout", after := io.StringIO())  # the runner ends: its own back
    runner_s.close()  # and the stream is let go of (closed, as capsys' is at its test's end)
    block.__exit__(None, None, None)
    assert sys.stdout is after
    print("still printed")  # ValueError where the closed stream was put back
    assert after.getvalue() == "still printed\n"


def test_an_experiment_file_a_worker_cannot_read_is_one_line(cluster, tmp_path):
    """A worker without the file (no shared file system) stops the sweep in one line naming
    the file, not in a FileNotFoundError's traceback."""
    from vanishlab.sweep import dask_cluster

    missing = tmp_path / "elsewhere" / "study.py"
    name = "vanishlab_experiment_study_0badf11e"
    config, init = _tasks()[0]
    client = dask_cluster.dask_client(cluster.scheduler_address)
    try:
        future = client.submit(
            dask_cluster._run_on_worker, config, pickle.dumps(init), [(name, str(missing))], []
        )
        with pytest.raises(ImportError) as err:
            future.result()
    finally:
        client.close()
    said = str(err.value)  # an ImportError: run_dask's one line (the test above)
    assert said.startswith(f"a Dask worker could not load the experiment file {missing} ")
    assert "FileNotFoundError" in said and len(said.splitlines()) == 1
    assert name not in sys.modules


def test_an_experiment_file_s_error_of_several_lines_is_one_line_from_a_worker(tmp_path):
    """The worker's ImportError (run_dask's one line) keeps the first line of the file's own
    error: the whole of it (a mutant) passed the test above, whose error is one line."""
    from vanishlab.sweep import dask_cluster

    path = tmp_path / "study.py"
    path.write_text('raise ValueError("the first line\\nthe second")\n')
    name = "vanishlab_experiment_study_5e7e1a1e"
    config, init = _tasks()[0]
    with pytest.raises(ImportError) as err:
        dask_cluster._run_on_worker(config, pickle.dumps(init), [(name, str(path))], [])
    said = str(err.value)
    assert said.startswith(f"a Dask worker could not load the experiment file {path} ")
    assert said.endswith("the first line") and len(said.splitlines()) == 1
    assert name not in sys.modules


def _no_vanishlab_there():
    raise ModuleNotFoundError("No module named 'vanishlab'")  # as on a scheduler without it


class _UnreadableThere:
    """Pickles here; unpickling it raises, as a task does on a scheduler without vanishlab."""

    def __reduce__(self):
        return (_no_vanishlab_there, ())


def test_tasks_the_scheduler_cannot_unpickle_are_one_line(cluster, monkeypatch):
    """A scheduler without vanishlab, or with another release of it (a function this one's
    tasks name that it lacks), cannot unpickle the tasks: distributed raised "RuntimeError:
    Error during deserialization of the task graph", a traceback (status 1)."""
    from vanishlab.errors import VanishlabError
    from vanishlab.sweep import dask_cluster

    monkeypatch.setattr(dask_cluster, "_pickled", lambda init, done: _UnreadableThere())
    client = dask_cluster.dask_client(cluster.scheduler_address)
    try:
        with pytest.raises(VanishlabError) as err:
            dask_cluster.run_dask(_tasks(), client, lambda frame, meta: None)
    finally:
        client.close()
    line = str(err.value)
    assert line.startswith(
        "the Dask cluster stopped running cells: its scheduler could not read the tasks "
        "(ModuleNotFoundError: No module named 'vanishlab'): "
    ), line
    assert len(line.splitlines()) == 1


STUDY_AT = """import vanishlab as vl


def scale_apply(rnn, gain, gen):
    for p in rnn.parameters():
        p.data.fill_({value} * gain)


vl.register_init(vl.Init("changed_file_test", "every weight {value} g", scale_apply))
"""


def test_a_worker_loads_an_experiment_file_again_once_it_has_changed(tmp_path):
    """A Dask worker lives on across sweeps: it kept the experiment file as it first loaded
    it, and measured the next sweep's cells, after the file was edited (same path, same
    module name), with the old functions: other numbers under the new code's run, silently."""
    from vanishlab.sweep.executors import load_experiment_files
    from vanishlab.sweep.inits import INITS

    path = tmp_path / "study.py"
    modules = [("vanishlab_experiment_study_c4a96ed1", str(path))]
    try:
        path.write_text(STUDY_AT.format(value=0.5))
        load_experiment_files(modules, [])  # the first sweep's cells
        first = sys.modules[modules[0][0]]
        load_experiment_files(modules, [])  # unchanged: kept, not loaded again
        assert sys.modules[modules[0][0]] is first
        path.write_text(STUDY_AT.format(value=0.25))
        load_experiment_files(modules, [])  # the next sweep's, the file edited between
        rnn = torch.nn.RNN(2, 2)
        INITS["changed_file_test"].apply(rnn, 2.0, None)
        assert rnn.weight_hh_l0[0, 0].item() == 0.5
        assert "0.25 g" in INITS["changed_file_test"].description
    finally:
        INITS.pop("changed_file_test", None)
        sys.modules.pop(modules[0][0], None)


VARIANT = """import torch

import vanishlab as vl


def half_apply(rnn, gain, gen):
    with torch.no_grad():
        for p in rnn.parameters():
            p.normal_(0.0, {std} * gain, generator=gen)


def half_variances(hidden_size, input_size, gain):
    return ({std} * gain) ** 2, {std} ** 2, 2 * {std} ** 2


vl.register_init(
    vl.Init("variant_test", "N(0, ({std} g)^2)", half_apply, half_variances, validity="iid")
)
"""


def test_a_variant_registering_the_study_s_init_name_runs_on_the_study_s_workers(tmp_path):
    """A Dask worker lives on across sweeps: one that had run a study refused a variant of it
    (a copy in another file registering the same init name, which a process of its own runs):
    "init 'variant_test' is already registered". Both run now, each cell's summary row (its
    prediction reads the worker's registry) with its own init's variances."""
    from vanishlab.sweep import dask_cluster
    from vanishlab.sweep.executors import load_experiment_files
    from vanishlab.sweep.inits import INITS

    (tmp_path / "study").mkdir()
    (tmp_path / "variant").mkdir()
    files = [tmp_path / d / "study.py" for d in ("study", "variant")]
    modules = [
        [(f"vanishlab_experiment_study_5a1e000{i}", str(file))] for i, file in enumerate(files)
    ]
    try:
        files[0].write_text(VARIANT.format(std=0.5))
        files[1].write_text(VARIANT.format(std=0.25))
        load_experiment_files(modules[0], [])  # the study's sweep
        study = dask_cluster._pickled(INITS["variant_test"], {})
        config = vl.CellConfig(init="variant_test", hidden_size=4, input_size=2, seq_len=3)
        first = dask_cluster._run_on_worker(config, study, modules[0], [])
        load_experiment_files(modules[1], [])  # the variant's, next
        assert "0.25 g" in INITS["variant_test"].description
        variant = dask_cluster._pickled(INITS["variant_test"], {})
        other = dask_cluster._run_on_worker(config, variant, modules[1], [])
        again = dask_cluster._run_on_worker(config, study, modules[0], [])  # the study again
        assert [m["status"] for _, m in (first, other, again)] == ["ok"] * 3
        assert again[0].equals(first[0]) and not other[0].equals(first[0])
        rate = [m["summary"]["row"]["predicted_rate"] for _, m in (first, other, again)]
        assert rate[2] == rate[0] != rate[1], rate
    finally:
        INITS.pop("variant_test", None)
        for ((name, _),) in modules:
            sys.modules.pop(name, None)


def test_a_worker_keeps_the_inits_of_other_files_and_refuses_a_built_in_name(tmp_path):
    """The inits set aside while a file loads (those of files loaded before) are put back,
    each under its own name (not put back, a mutant, a worker lost the study's init on
    loading another file); the built-in inits are not set aside (all set aside, a mutant, a
    file registering 'normal' replaced the built-in on that worker, which the sweep's own
    process refuses)."""
    from vanishlab.errors import VanishlabError
    from vanishlab.sweep.executors import load_experiment_files
    from vanishlab.sweep.inits import INITS

    files = {n: tmp_path / n / "study.py" for n in ("kept_a_test", "kept_b_test", "normal")}
    modules = {n: [(f"vanishlab_experiment_study_6b0{i}", str(f))] for i, (n, f) in enumerate(
        files.items())}  # fmt: skip
    normal = INITS["normal"]
    try:
        for name, file in files.items():
            file.parent.mkdir()
            file.write_text(STUDY_AT.format(value=0.5).replace("changed_file_test", name))
        load_experiment_files(modules["kept_a_test"], [])
        load_experiment_files(modules["kept_b_test"], [])
        assert {"kept_a_test", "kept_b_test"} <= set(INITS)
        with pytest.raises(VanishlabError, match="init 'normal' is already registered"):
            load_experiment_files(modules["normal"], [])
        assert INITS["normal"] is normal
    finally:
        INITS["normal"] = normal
        for name, ((module, _),) in modules.items():
            sys.modules.pop(module, None)
            if name != "normal":
                INITS.pop(name, None)


def test_a_name_taken_while_a_cell_runs_leaves_its_summary_row_to_the_sweep(monkeypatch):
    """A task of another sweep that gives an init name another definition on the same worker
    while a cell runs (threads of one worker): the cell's summary row may have read that
    definition's prediction, so it is not kept."""
    from vanishlab.sweep import dask_cluster

    real = dask_cluster.run_task

    def beside_another_sweep(config, init, beside):
        dask_cluster._TAKEN[0] += 1  # what a task of another definition does meanwhile
        return real(config, init, beside)

    config, init = _tasks()[0]
    kept = dask_cluster._run_on_worker(config, dask_cluster._pickled(init, {}), [], [])
    monkeypatch.setattr(dask_cluster, "run_task", beside_another_sweep)
    left = dask_cluster._run_on_worker(config, dask_cluster._pickled(init, {}), [], [])
    assert "summary" in kept[1] and "summary" not in left[1]
    assert left[0].equals(kept[0])


def test_a_variant_that_takes_the_name_while_a_study_s_cell_runs_drops_that_cell_s_row(
    tmp_path, monkeypatch
):
    """The study's cell and a variant's (the same init name, another file) running side by
    side on one worker: the variant's task takes the name while the study's cell runs, whose
    summary row may have read the variant's prediction, and is left to the sweep. (The taking
    task not counting its take, a mutant, kept that row: the test above counts for it.)"""
    from vanishlab.sweep import dask_cluster
    from vanishlab.sweep.executors import load_experiment_files
    from vanishlab.sweep.inits import INITS

    files = [tmp_path / d / "study.py" for d in ("study", "variant")]
    modules = [[(f"vanishlab_experiment_study_7a1e000{i}", str(f))] for i, f in enumerate(files)]
    real = dask_cluster.run_task
    beside: list[tuple] = []

    def with_the_variant_beside(config, init, where):
        if init.description.startswith("N(0, (0.5"):  # the study's cell: the variant's beside
            beside.append(dask_cluster._run_on_worker(config, variant, modules[1], []))
        return real(config, init, where)

    try:
        for file, std in zip(files, (0.5, 0.25), strict=True):
            file.parent.mkdir()
            file.write_text(VARIANT.format(std=std))
        load_experiment_files(modules[0], [])
        study = dask_cluster._pickled(INITS["variant_test"], {})
        load_experiment_files(modules[1], [])
        variant = dask_cluster._pickled(INITS["variant_test"], {})
        config = vl.CellConfig(init="variant_test", hidden_size=4, input_size=2, seq_len=3)
        monkeypatch.setattr(dask_cluster, "run_task", with_the_variant_beside)
        _, meta = dask_cluster._run_on_worker(config, study, modules[0], [])
        assert meta["status"] == "ok" and "summary" not in meta
        assert "summary" in beside[0][1]  # the variant's own: nothing took the name meanwhile
    finally:
        INITS.pop("variant_test", None)
        for ((name, _),) in modules:
            sys.modules.pop(name, None)


def test_an_init_a_worker_has_not_registered_is_registered_there_for_its_summary_row():
    """An init registered by the sweep's own code (no experiment file: none for the worker to
    load) reaches a worker by its pickle alone; the worker registers it, for the cell's
    summary row reads the registry: not registered (a mutant), the row lost its prediction
    (NaN for the mean field's -0.46 here)."""
    import dataclasses

    from vanishlab.sweep import dask_cluster
    from vanishlab.sweep.inits import INITS

    init = vl.register_init(dataclasses.replace(INITS["normal"], name="fresh_dask_test"))
    try:
        config = vl.CellConfig(init="fresh_dask_test", hidden_size=4, input_size=2, seq_len=3)
        pickled = dask_cluster._pickled(init, {})
        del INITS["fresh_dask_test"]  # as on a worker of its own
        _, meta = dask_cluster._run_on_worker(config, pickled, [], [])
        assert INITS["fresh_dask_test"].name == "fresh_dask_test"
        assert meta["status"] == "ok" and meta["summary"]["row"]["predicted_rate"] < 0
    finally:
        INITS.pop("fresh_dask_test", None)


def _normal_of(std, rnn, gain, gen):
    with torch.no_grad():
        for p in rnn.parameters():
            p.normal_(0.0, std * gain, generator=gen)


def test_an_init_of_a_partial_keeps_its_name_and_summary_on_a_worker():
    """An init whose apply is a functools.partial (equal to its unpickled copy only by
    identity) is the worker's registered one: the name is not taken again per task, which
    would drop the summary rows of the cells running beside it."""
    import functools

    from vanishlab.sweep import dask_cluster
    from vanishlab.sweep.inits import INITS

    init = vl.register_init(vl.Init("partial_dask_test", "d", functools.partial(_normal_of, 0.5)))
    try:
        config = vl.CellConfig(init="partial_dask_test", hidden_size=4, input_size=2, seq_len=3)
        before = dask_cluster._TAKEN[0]
        _, meta = dask_cluster._run_on_worker(config, dask_cluster._pickled(init, {}), [], [])
        assert dask_cluster._TAKEN[0] == before and INITS["partial_dask_test"] is init
        assert meta["status"] == "ok" and "summary" in meta
    finally:
        INITS.pop("partial_dask_test", None)
