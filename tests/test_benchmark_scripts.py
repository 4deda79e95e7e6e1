"""The benchmark scripts answer ``--help`` with their usage, and run nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _answer_help(scripts: list[Path]) -> None:
    """Start every script with ``--help`` at once (each spends its seconds importing torch) and
    check each prints its usage and runs nothing."""
    procs = {
        p.name: subprocess.Popen(
            [sys.executable, str(p), "--help"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in scripts
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (name, err)
        assert out.startswith(f"usage: {name}"), (name, out[:200])
        assert "--- B=" not in out, name  # diagnose_stalls' first line of work


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_diagnose_stalls_answers_help_without_running() -> None:
    """`python benchmarks/diagnose_stalls.py --help` ran the whole diagnostic (it read no
    arguments)."""
    _answer_help([BENCHMARKS / "diagnose_stalls.py"])


@pytest.mark.slow  # nine processes that import torch
def test_every_benchmark_script_answers_help_without_running() -> None:
    _answer_help(sorted(p for p in BENCHMARKS.glob("*.py") if p.name != "timing.py"))  # a module


def _load(name: str):  # a benchmark script as a module (it runs nothing on import)
    import importlib.util

    if str(BENCHMARKS) not in sys.path:  # the scripts import their folder's `timing`
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("width", [1, 2])  # a GRU's (H, H) columns, an LSTM's (2H, H)
def test_gated_floor_is_the_bare_chain_without_a_tensor_per_step(width: int) -> None:
    """bench_gated's floor made a new product and copied it into place at every step: ~9% slower
    than the chain into alternating buffers (GRU, one thread), which flattered the engine's
    ratios against it. It must compute [G_h | G_c] j step after step, and make no product per
    step."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    bench = _load("bench_gated")
    B, H = 2, 3
    g = torch.randn(B, H, width * H, dtype=torch.float64)
    j = torch.randn(B, width * H, H, dtype=torch.float64)
    want = g.clone()
    for _ in range(5):
        want[..., :H] = want @ j
    torch.testing.assert_close(bench.bare_chain(g, j, 5), want[..., :H], rtol=1e-12, atol=0)

    def made(steps: int) -> int:  # bytes of the tensors made during the call
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            bench.bare_chain(g, j, steps)
        return sum(max(e.self_cpu_memory_usage, 0) for e in prof.key_averages())

    # No product-sized tensor per step (torch 2.2's baddbmm_ makes a small one of its own)
    product = g[..., :H].numel() * g.element_size()
    assert (made(12) - made(4)) / 8 < product


def test_bench_monitor_times_the_step_with_a_loss_tensor(monkeypatch, capsys) -> None:
    """bench_monitor timed ``mon.step(n)`` without a loss, which users pass (the loss tensor:
    its check, and its ``.item()`` at a recorded step, a GPU sync): it timed another call than
    theirs. Every timed step must take the training step's own 0-d loss tensor."""
    import torch

    bench = _load("bench_monitor")
    given: list[object] = []
    step = bench.JacobianMonitor.step

    def recording(self, n, loss=None):
        given.append(loss)
        return step(self, n, loss=loss)

    monkeypatch.setattr(bench.JacobianMonitor, "step", recording)
    small = "--hidden 3 --layers 1 --seq-len 4 --batch 2 --probe-batch 1 --inputs 2 --repeat 1"
    monkeypatch.setattr(sys, "argv", ["bench_monitor.py", *small.split()])
    bench.main()
    assert "monitor step (all of it)" in capsys.readouterr().out
    assert len(given) == 4  # a warm-up round and one timed, each monitor once
    for loss in given:
        assert isinstance(loss, torch.Tensor) and loss.ndim == 0 and loss.requires_grad


class _Stop(Exception):
    """Raised in place of the first timed round: the test has what it needs."""


@pytest.mark.parametrize("script", ["bench_engine", "bench_gated"])
def test_benchmark_takes_threads_and_cpu_time(script: str, monkeypatch, capsys) -> None:
    """bench_engine.py had ``--threads`` and bench_gated.py did not (it ran at torch's count),
    and each kept its own clock. With ``--threads N --cpu-time`` both must run at N threads,
    time by ``time.process_time`` and say so in their first line."""
    import torch

    bench = _load(script)
    clocks: list[object] = []

    def first_round(calls, repeats, *, clock, **kw):
        clocks.append(clock)
        raise _Stop

    monkeypatch.setattr(bench.timing, "interleaved", first_round)
    threads = torch.get_num_threads()
    n = threads + 1
    args = ["--quick", "--threads", str(n), "--cpu-time"]
    monkeypatch.setattr(sys, "argv", [f"{script}.py", *args, "--repeats", "1"])
    try:
        with pytest.raises(_Stop):
            bench.main()
        assert torch.get_num_threads() == n
    finally:  # main sets both process-wide, as the benchmark runs: not for the tests after
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    assert clocks == [time.process_time]
    header = capsys.readouterr().out.splitlines()[0]
    assert f"CPU, {n} threads, load average" in header and header.endswith("CPU time")


def test_a_one_thread_header_says_one_thread(monkeypatch) -> None:
    """The logs of runs on one thread read "CPU, 1 threads"."""
    import torch

    timing = _load("timing")
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    assert "CPU, 1 thread, load average" in timing.header("cpu", timing.WALL)


def test_interleaved_runs_a_warm_up_round_then_round_robin() -> None:
    """Every call once (the warm-up, untimed), then ``repeats`` rounds of every call in turn:
    a shared machine's slow spell then falls on all of them alike."""
    timing = _load("timing")
    order: list[str] = []
    calls = {name: (lambda name=name: order.append(name)) for name in "abc"}
    timing.interleaved(calls, 2, wait=None)
    assert "".join(order) == "abc" * 3


def _scripted_clock(durations: dict[str, list[float]]):
    """Calls and a clock in which each call's k-th run takes ``durations[name][k]`` seconds."""
    now = [0.0]
    runs = {name: iter(ds) for name, ds in durations.items()}

    def advance(name: str) -> None:
        now[0] += next(runs[name])

    calls = {name: (lambda name=name: advance(name)) for name in durations}
    return calls, lambda: now[0]


def test_interleaved_keeps_the_best_of_the_timed_rounds() -> None:
    """Best of N is each call's minimum over the timed rounds, the warm-up round not counted
    (it is the fastest here); ``keep=statistics.median`` gives the median instead."""
    import statistics

    timing = _load("timing")
    durations = {"a": [0.5, 8.0, 2.0, 4.0], "b": [0.5, 3.0, 5.0, 1.0]}  # warm-up first; exact
    calls, clock = _scripted_clock(durations)
    assert timing.interleaved(calls, 3, clock=clock, wait=None) == {"a": 2.0, "b": 1.0}
    calls, clock = _scripted_clock(durations)
    got = timing.interleaved(calls, 3, clock=clock, keep=statistics.median, wait=None)
    assert got == {"a": 4.0, "b": 3.0}


def test_interleaved_times_by_the_clock_cpu_time_chooses() -> None:
    """``--cpu-time`` chooses CPU seconds of the process: a call that sleeps takes none of
    them, and its wall time by default."""
    import argparse

    timing = _load("timing")
    parser = argparse.ArgumentParser()
    timing.add_arguments(parser)
    wall = timing.configure(parser.parse_args([]))
    cpu = timing.configure(parser.parse_args(["--cpu-time"]))
    assert (wall, cpu) == (time.perf_counter, time.process_time)
    nap = {"sleep": lambda: time.sleep(0.05)}
    assert timing.interleaved(nap, 1, clock=wall, wait=None)["sleep"] >= 0.05
    assert timing.interleaved(nap, 1, clock=cpu, wait=None)["sleep"] < 0.025


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5"])
def test_threads_must_be_a_whole_number_of_at_least_one(value: str, capsys) -> None:
    """``--threads 0`` reached ``torch.set_num_threads(0)``, a traceback; a count below 1 or no
    whole number must be a usage error, exit status 2."""
    import argparse

    timing = _load("timing")
    parser = argparse.ArgumentParser(prog="bench")
    timing.add_arguments(parser)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["--threads", value])
    assert stop.value.code == 2
    assert "not a whole number >= 1" in capsys.readouterr().err
