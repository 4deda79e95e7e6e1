"""A measurement too large for the CPU's memory is one line (vanishlab.core.allocation)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.errors import MemoryRefusedError
from vanishlab.sweep.memory import format_bytes

# What torch's CPU allocator raised for nn.RNN(2, 4096) on 2048 sequences (torch 2.13).
REFUSED = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 137438953472 bytes. Error code 12 (Cannot allocate memory)"
)


def test_torch_says_so_in_the_words_matched():
    # a request no machine can give (4 EiB): torch's own message, so the match cannot go stale
    from vanishlab.core.allocation import CPU_ALLOCATOR_FAILED

    with pytest.raises(RuntimeError, match=CPU_ALLOCATOR_FAILED):
        torch.empty(2**62, dtype=torch.uint8)


def _refuse(*args, **kwargs):
    raise RuntimeError(REFUSED)


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
def test_a_measurement_too_large_for_memory_is_one_line_saying_what_to_do(monkeypatch, kind):
    # It was the allocator's RuntimeError from deep inside torch, with no word of what to do.
    # (Shorter sequences too: an unbatched x of 10**7 steps, 152.6 GiB of states, was told only
    # "measure fewer sequences at a time", which one sequence cannot do.)
    for name in ("engine._backward_norms", "engine.gated_log_norms", "lyapunov._rnn_spectrum"):
        monkeypatch.setattr(f"vanishlab.core.{name}", _refuse)
    monkeypatch.setattr("vanishlab.core.lyapunov.gated_lyapunov_spectrum", _refuse)
    module, x = kind(2, 3), torch.randn(5, 2, 2)
    with pytest.raises(vl.VanishlabError) as err:
        vl.jacobian_norms(module, x)
    name = kind.__name__
    assert str(err.value) == (
        f"measuring the {name} on this x needs more memory than this machine can give (128.0 "
        "GiB at once): measure fewer sequences at a time (each sample's numbers depend on its "
        "own sequence only: measure the batch in parts), or shorter ones"
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no torch traceback
    with pytest.raises(vl.VanishlabError, match=r"or fewer exponents \(k\)$") as err:
        vl.lyapunov_spectrum(module, x)
    assert str(err.value).startswith(f"the Lyapunov spectrum of the {name} on this x needs more")


def test_another_runtime_error_is_left_as_it_is(monkeypatch):
    def other(*args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr("vanishlab.core.engine._backward_norms", other)
    with pytest.raises(RuntimeError, match=r"^something else$"):
        vl.jacobian_norms(nn.RNN(2, 3), torch.randn(5, 2, 2))


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_a_sweep_cell_refused_memory_says_so_in_a_cell_s_words(monkeypatch, model):
    # A cell's reason was the engine's: "measuring the RNN on this x ... measure the batch in
    # parts", an x the cell drew itself and a lever no cell has. Building its module and
    # inputs was torch's RuntimeError, "[enforce fail at alloc_cpu.cpp:127] ...". Its levers
    # left out num_layers, which its buffers grow with as much as with batch.
    for name in ("engine._backward_norms", "engine.gated_log_norms"):
        monkeypatch.setattr(f"vanishlab.core.{name}", _refuse)
    config = vl.CellConfig(model=model, hidden_size=4, seq_len=5, batch=3)
    want = (
        "MemoryRefusedError: the cell needs more memory than this machine could give (128.0 GiB "
        "at once): sweep a smaller --batch (batch=), --seq-len (seq_len=), --hidden-size "
        "(hidden_size=) or --num-layers (num_layers=)"
    )
    frame, meta = vl.run_cell(config)
    assert (meta["status"], meta["failure"], meta["reason"], len(frame)) == (
        "failed",
        "error",
        want,
        0,
    )
    monkeypatch.setattr("vanishlab.sweep.measure.cell_inputs", _refuse)
    assert vl.run_cell(config)[1]["reason"] == want


def test_an_allocator_message_without_its_size_is_one_line_all_the_same(monkeypatch):
    # Mutation review: the size read from "you tried to allocate N bytes" unguarded passed
    # every test, and turned a refusal worded without it into an AttributeError.
    def refused(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr("vanishlab.core.engine._backward_norms", refused)
    with pytest.raises(vl.VanishlabError) as err:
        vl.jacobian_norms(nn.RNN(2, 3), torch.randn(5, 2, 2))
    assert str(err.value).startswith(
        "measuring the RNN on this x needs more memory than this machine can give: measure fewer"
    )


def _short_of_memory(*args, **kwargs):
    # what a task's sample says when the allocator refuses its batch (vanishlab.train.tasks)
    raise MemoryError(
        "AddingProblem(seq_len=5).sample(batch=1000) needs about 101.6 KiB for its tensors, "
        "which could not be allocated: choose smaller sizes"
    )


@pytest.mark.parametrize("refuse", [_refuse, _short_of_memory])
def test_a_trained_cell_refused_memory_in_training_says_so_with_its_own_levers(monkeypatch, refuse):
    # It was torch's words, "training: RuntimeError: [enforce fail at alloc_cpu.cpp:127] ...
    # DefaultCPUAllocator: can't allocate memory ...", or the task's, "sample(batch=1000)" of
    # a cell swept at batch 3. Its training batches are fixed: --batch is no lever of it.
    monkeypatch.setattr("vanishlab.sweep.train_cell.train_cell", refuse)
    config = vl.CellConfig(
        hidden_size=4, seq_len=5, batch=3, task="adding", input_size=2, train_steps=2, lr=0.01
    )
    frame, meta = vl.run_cell(config)
    size = " (128.0 GiB at once)" if refuse is _refuse else ""
    name = "MemoryRefusedError" if refuse is _refuse else "MemoryError"
    want = (
        f"training: {name}: the cell's training needs more memory than this machine could "
        f"give{size}: sweep a smaller --seq-len (seq_len=), --hidden-size (hidden_size=) or "
        "--num-layers (num_layers=); --batch (batch=) does not change its 64 sequences a step "
        "and 1000 held out"
    )
    assert (meta["status"], meta["failure"], meta["reason"], len(frame)) == (
        "failed",
        "error",
        want,
        0,
    )
    assert "train" not in meta and "summary" not in meta


def test_a_cell_whose_task_batch_memory_refuses_says_so_in_a_cell_s_words(monkeypatch):
    # A task's MemoryError drawing the cell's inputs was "MemoryError: AddingProblem(...)
    # .sample(batch=...) ...: choose smaller sizes", without a flag to choose them by.
    monkeypatch.setattr("vanishlab.sweep.measure.cell_inputs", _short_of_memory)
    reason = vl.run_cell(vl.CellConfig(hidden_size=4, seq_len=5, batch=3))[1]["reason"]
    assert reason == (
        "MemoryError: the cell needs more memory than this machine could give: sweep a smaller "
        "--batch (batch=), --seq-len (seq_len=), --hidden-size (hidden_size=) or --num-layers "
        "(num_layers=)"
    )


def test_a_cell_refused_memory_names_the_lever_beside_it_only_where_there_is_one(monkeypatch):
    # Every reason said "or fewer workers beside it (--workers)": a cell run alone (one
    # worker, vl.run_cell) has none to cut, and with a Dask scheduler --workers is refused.
    from vanishlab.sweep.executors import run_task
    from vanishlab.sweep.inits import INITS

    monkeypatch.setattr("vanishlab.core.engine._backward_norms", _refuse)
    config = vl.CellConfig(hidden_size=4, seq_len=5, batch=3)
    alone = vl.run_cell(config)[1]["reason"]
    assert alone.endswith("or --num-layers (num_layers=)") and "worker" not in alone
    reasons = {b: run_task(config, INITS["default"], b)[1]["reason"] for b in ("workers", "dask")}
    assert reasons == {
        "workers": f"{alone}, or fewer --workers (workers=) beside it",
        "dask": f"{alone}, or fewer cells at once on its machine (dask worker --nworkers, "
        "--nthreads)",
    }
    with pytest.raises(ValueError, match="one of None, 'workers', 'dask', got 'threads'"):
        vl.run_cell(config, beside="threads")


def _refuse_every_measurement(monkeypatch):
    for name in ("engine._backward_norms", "engine.gated_log_norms", "lyapunov._rnn_spectrum"):
        monkeypatch.setattr(f"vanishlab.core.{name}", _refuse)
    monkeypatch.setattr("vanishlab.core.lyapunov.gated_lyapunov_spectrum", _refuse)


@pytest.mark.parametrize("given", ["gaussian", "file"])
def test_an_analysis_refused_memory_says_so_in_its_own_words(monkeypatch, tmp_path, given):
    # `vanishlab analyze` said the engine's words, "measuring the RNN on this x ... measure
    # fewer sequences at a time (...: measure the batch in parts)": no x was given, and an
    # analysis measures its inputs whole. Its levers are those its estimate names.
    from vanishlab.trained import analyze_checkpoint

    _refuse_every_measurement(monkeypatch)
    torch.save(nn.LSTM(2, 3).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(6, 2, 2), tmp_path / "x.pt")
    sizes = {"inputs": tmp_path / "x.pt"} if given == "file" else {"seq_len": 6, "batch": 2}
    with pytest.raises(vl.VanishlabError) as err:
        analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", **sizes)
    remedy = (
        "give fewer or shorter sequences in the inputs file"
        if given == "file"
        else "use a smaller seq_len= or batch="
    )
    said = str(err.value)
    assert said.startswith("measuring nn.LSTM(2, 3, ") and " on inputs of T=6, B=2 needs " in said
    assert said.endswith(
        f"needs more memory than this machine can give (128.0 GiB at once): {remedy}"
    )
    assert "this x" not in said and "in parts" not in said and err.value.asked == 2**37
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not (tmp_path / "run").exists()  # nothing left behind, as before


def test_a_monitored_step_refused_memory_says_so_in_a_monitor_s_words(monkeypatch, tmp_path):
    # mon.step(n) said "measuring the RNN on this x ... measure the batch in parts": its x is
    # the probe, fixed for the run directory (its digest in the manifest), measured whole.
    _refuse_every_measurement(monkeypatch)
    mon = vl.JacobianMonitor(nn.RNN(2, 3), torch.randn(5, 2, 2), out=tmp_path / "m")
    none = "the monitor recorded no step"  # the refused one: nothing is kept
    with pytest.warns(UserWarning, match=none), mon, pytest.raises(vl.VanishlabError) as err:
        mon.step(0)
    assert not (tmp_path / "m").exists()
    assert str(err.value) == (
        "measuring nn.RNN(2, 3, num_layers=1) in float32 on a probe needs more memory than this "
        "machine can give (128.0 GiB at once): use a smaller probe (fewer or shorter "
        "sequences) in a new monitor and out= directory (this one's probe is fixed), or free "
        "memory beside the training"
    )


@pytest.mark.parametrize(
    ("analysis", "words"),
    [
        ("pascanu_envelope", "the Pascanu envelope for seq_len=1000000000000 needs more memory"),
        ("origin_log_norms", "the origin's norms to max_lag=1000000000000 needs more memory"),
    ],
)
def test_an_analysis_longer_than_memory_is_refused_in_the_engine_s_words(analysis, words):
    # numpy's "MemoryError: Unable to allocate 7.28 TiB for an array ..." from deep inside:
    # now the engine's refusal (a MemoryRefusedError, one line), before anything is allocated.
    with pytest.raises(MemoryRefusedError) as err:
        getattr(vl, analysis)(nn.RNN(3, 4), 10**12)
    said = str(err.value)
    assert said.startswith(f"{words} than this machine can give (") and "\n" not in said
    assert err.value.asked >= 2 * 10**12 * 8
    # in the project's byte formatter's units, as every refusal for memory: "178813.9 GiB"
    # was said of the envelope's 175 TiB
    size = format_bytes(err.value.asked)
    assert size.endswith(" TiB") and f" ({size} at once): " in said


# bytes per lag: the envelope's 72 a row, 3 layers' state rows and an input row a lag
@pytest.mark.parametrize(
    ("analysis", "row_bytes"), [("pascanu_envelope", 4 * 72), ("origin_log_norms", 48)]
)
def test_an_analysis_is_refused_before_its_first_array_is_made(monkeypatch, analysis, row_bytes):
    # At 10**9 steps the envelope made its 8 GB of bounds, then ran for minutes before failing
    # (or filling the machine's memory): the estimate is checked against the memory available
    # first, and a length that fits is measured as before (whatever the check reads).
    import tracemalloc

    # 10**4 lags: the origin's 10**5 took 1.5 s of CPU to measure where they fit; the refused
    # call's traced peak is ~12 kB at either length, under one array of 10**4 lags (80 kB)
    rnn, n = nn.RNN(3, 4, num_layers=3), 10_000
    monkeypatch.setattr(
        "vanishlab.core.allocation.available_bytes", lambda: n * row_bytes - 1, raising=False
    )
    # once untraced first: the envelope's first call imports pandas (377 modules, a traced
    # peak of 28 MB), which failed the bound below wherever this test ran first in its process
    with pytest.raises(MemoryRefusedError):
        getattr(vl, analysis)(rnn, n)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryRefusedError, match="needs more memory than this machine"):
            getattr(vl, analysis)(rnn, n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * 8  # not even one array of its n lags
    # the table is still made where it fits (at the same n: the estimate is exact to a row)
    fits = n * row_bytes + row_bytes
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: fits)
    assert len(getattr(vl, analysis)(rnn, n)) >= n + 1
    # or where the memory available cannot be told, whatever the length (100 lags: n's took
    # 1.5 s of the origin's 3.1)
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: None)
    assert len(getattr(vl, analysis)(rnn, 100)) >= 101


def test_every_refusal_for_memory_says_its_size_in_one_way():
    # the engine's refusal said "178813.9 GiB" where a sweep's cell said "174.6 TiB": one
    # formatter (core.allocation.format_bytes, which sweep.memory re-exports) for both
    from vanishlab.core import allocation
    from vanishlab.core.allocation import refused
    from vanishlab.sweep.memory import refused_reason

    asked = 2 * 10**12 * 96
    assert "(174.6 TiB at once): " in str(refused("it", asked, "less"))
    assert "(174.6 TiB at once): " in refused_reason(asked)
    assert "(128.0 GiB at once): " in str(refused("it", 128 * 2**30, "less"))
    assert getattr(allocation, "format_bytes", None) is format_bytes  # one definition


def test_the_memory_available_is_what_an_address_space_limit_leaves():
    # Under `ulimit -v` (a batch system's h_vmem, `prlimit --as`) the check read the machine's
    # MemAvailable alone: `vanishlab analyze` of an nn.LSTM(32, 1024, num_layers=2) at T = 500,
    # B = 8, estimated 5.8 GiB, passed against 19.5 GiB under a 4 GiB limit, then measured for
    # 90 s before the allocator refused it. A child process limited to its own address space
    # plus 256 MiB reads at most that (a real limit, the real /proc/self/status).
    import subprocess
    import sys

    child = (
        "import resource\n"
        "from vanishlab.core import allocation\n"
        "used = allocation._address_space_used()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + 2**28, resource.RLIM_INFINITY))\n"
        "print(allocation.available_bytes())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    assert 0 <= int(done.stdout) <= 2**28


def test_without_an_address_space_limit_the_system_s_memory_is_read(monkeypatch):
    # no limit set: the machine's (or the cgroup's) figure, as before
    import resource

    from vanishlab.core import allocation

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (resource.RLIM_INFINITY,) * 2)
    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 5 * 2**30)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    assert allocation.available_bytes() == 5 * 2**30
    # a limit far above the machine's memory changes nothing; one below it is the figure
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (2**50, resource.RLIM_INFINITY))
    assert allocation.available_bytes() == 5 * 2**30
    monkeypatch.setattr(allocation, "_address_space_used", lambda: 2**30)
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (3 * 2**30, resource.RLIM_INFINITY))
    assert allocation.available_bytes() == 2 * 2**30


@pytest.mark.parametrize(
    ("module", "x", "kwargs", "arrays"),
    [
        # the full spectrum of an LSTM's [h | c]: n = 2 L H = 16, B = 3 (batch_first)
        (nn.LSTM(2, 4, num_layers=2, batch_first=True), (3, 6, 2), {}, 3 * 16 * 16),
        (nn.GRU(2, 4, num_layers=2), (6, 3, 2), {"k": 5}, 3 * 8 * 5),
        (nn.RNN(2, 4), (6, 2), {"q0": torch.eye(4, 2)}, 1 * 4 * 2),  # unbatched: B = 1
    ],
)
def test_a_lyapunov_spectrum_larger_than_memory_is_refused_before_it_starts(
    monkeypatch, module, x, kwargs, arrays
):
    # The full spectrum of an nn.LSTM(32, 1024, num_layers=4) (n = 8192) at B = 8 started on a
    # machine with 22 GiB available, its (B, n, n) float64 arrays 4 GiB each (its peak some
    # 36 GiB: the system grants them one by one, then kills the process); under a 4 GiB
    # `ulimit -v`, B = 4 was refused by the allocator 30 s in. Now refused before the forward
    # pass, in one line, where 6 such arrays (below every peak measured: 8.2-27x) cannot fit.
    from vanishlab.core import lyapunov

    need = lyapunov._SPECTRUM_ARRAYS * arrays * 8
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: need - 1)

    def not_reached(*args, **kwargs):
        raise AssertionError("the forward pass ran")

    monkeypatch.setattr(lyapunov, "gated_lyapunov_spectrum", not_reached)
    monkeypatch.setattr(lyapunov, "_rnn_spectrum", not_reached)
    xs = torch.randn(*x)
    with pytest.raises(MemoryRefusedError) as err:
        vl.lyapunov_spectrum(module, xs, **kwargs)
    said = str(err.value)
    assert err.value.asked == need and "\n" not in said
    assert said.startswith(f"the Lyapunov spectrum of the {type(module).__name__} on this x needs")
    assert "ask fewer exponents (k; " in said
    monkeypatch.undo()
    # where it fits (or cannot be told) it is measured as before
    monkeypatch.setattr("vanishlab.core.allocation.available_bytes", lambda: need)
    assert torch.isfinite(vl.lyapunov_spectrum(module, xs, **kwargs)).all()


def test_an_address_space_limit_is_each_worker_s_own_not_divided_among_them(monkeypatch):
    # RLIMIT_AS is per process: each worker of a sweep has the whole limit. Under
    # `ulimit -v 8388608` on a machine with 19 GiB available, a grid of 4.4 GiB cells counted
    # the parent's 7.2 GiB of room as the memory all workers share, and ran in 1 worker where
    # 4 fit (each 4.4 GiB beside its own ~0.9 GiB address space, 4 x 4.5 GiB in 19 GiB).
    import resource

    from typer.testing import CliRunner

    from vanishlab.cli import app
    from vanishlab.core import allocation

    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 20 * 2**30)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    monkeypatch.setattr(allocation, "_address_space_used", lambda: 2**30)
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (8 * 2**30, resource.RLIM_INFINITY))
    assert allocation.available_bytes() == 7 * 2**30  # this process's room
    args = ["sweep", "--hidden-size", "1024", "--seq-len", "500", "--batch", "16"]
    args += ["--num-layers", "2", "--activation", "tanh", "--init", "default", "--seeds", "4"]
    args += ["--gain", "1", "--workers", "4", "--dry-run"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "in 4 workers" in result.stdout
    # where the machine's memory is short, the count still divides it
    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 10 * 2**30)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and "in 2 workers" in result.stdout, result.output


def test_a_refusal_under_an_address_space_limit_names_that_limit_not_the_machine():
    # Under `prlimit --as=4GiB` on a 24 GiB machine a refusal said "needs more memory than this
    # machine can give": the machine had 19 GiB free, the process's limit was what refused it.
    # A child under a real RLIMIT_AS (its address space plus 256 MiB) names the limit, in the
    # engine's words, a sweep cell's and an estimate's; without a limit, the machine.
    import subprocess
    import sys

    child = (
        "import resource\n"
        "from vanishlab.core import allocation\n"
        "from vanishlab.sweep.memory import refused_reason\n"
        "print(allocation.memory_limit())\n"
        "used = allocation._address_space_used()\n"
        "resource.setrlimit(resource.RLIMIT_AS, (used + 2**28, resource.RLIM_INFINITY))\n"
        "print(allocation.memory_limit())\n"
        "print(allocation.refused('it', 2**37, 'less'))\n"
        "print(refused_reason(2**37))\n"
        "print(allocation.available_words(2**20))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    free, limited, engine, cell, words = done.stdout.splitlines()
    limit = "this process's address-space limit (ulimit -v)"
    assert free in {"this machine", "this process's cgroup memory limit (memory.max)"}
    assert limited == limit
    assert engine.startswith(f"it needs more memory than {limit} can give (128.0 GiB at once)")
    assert cell.startswith(f"the cell needs more memory than {limit} could give (128.0 GiB")
    assert words == f"1.0 MiB is available under {limit}"


def test_the_limit_named_is_the_least_figure(monkeypatch):
    import resource

    from vanishlab.core import allocation

    monkeypatch.setattr(resource, "getrlimit", lambda _which: (resource.RLIM_INFINITY,) * 2)
    monkeypatch.setattr(allocation, "_meminfo_available", lambda: 5 * 2**30)
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: None)
    assert allocation.memory_limit() == allocation.MACHINE
    assert allocation.available_words(2**30) == "1.0 GiB is available"
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: 2**30)  # a container's
    assert allocation.memory_limit() == allocation.CGROUP
    assert "than this process's cgroup memory limit (memory.max) can give" in str(
        allocation.refused("it", 2**31, "less")
    )
    monkeypatch.setattr(allocation, "_cgroup_available", lambda: 6 * 2**30)  # the machine's less
    assert allocation.memory_limit() == allocation.MACHINE
