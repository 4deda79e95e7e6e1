"""The benchmark scripts answer ``--help`` with their usage, and run nothing."""

from __future__ import annotations

import subprocess
import sys
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


def test_diagnose_stalls_answers_help_without_running() -> None:
    """`python benchmarks/diagnose_stalls.py --help` ran the whole diagnostic (it read no
    arguments)."""
    _answer_help([BENCHMARKS / "diagnose_stalls.py"])


@pytest.mark.slow  # nine processes that import torch
def test_every_benchmark_script_answers_help_without_running() -> None:
    _answer_help(sorted(BENCHMARKS.glob("*.py")))


def _load(name: str):  # a benchmark script as a module (it runs nothing on import)
    import importlib.util

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


def test_bench_gated_times_cpu_seconds_with_cpu_time(monkeypatch, capsys) -> None:
    """bench_engine.py had ``--cpu-time`` (CPU seconds, steadier on a shared machine) and
    bench_gated.py did not: its gated ratios could only be taken by wall time. With the flag,
    its interleaving must time by ``time.process_time`` and say so."""
    import time

    import torch

    bench = _load("bench_gated")
    clocks: list[object] = []
    monkeypatch.setattr(bench, "run", lambda *args: clocks.append(bench._CLOCK))
    monkeypatch.setattr(sys, "argv", ["bench_gated.py", "--cpu-time", "--model", "GRU"])
    try:
        bench.main()
    finally:  # main flushes subnormals process-wide, as the benchmark runs: not for the tests after
        torch.set_flush_denormal(False)
    assert clocks == [time.process_time]
    assert "CPU time" in capsys.readouterr().out
