"""Where the Frobenius path's time goes beyond the floor (one process, a CPU).

At ``bench_engine.py``'s size (B = 8, H = 128, T = 256, I = 32, one tanh layer, float32,
2 threads) this script
  1. times the floor (the bare chain of T (B H x H) @ (H x H) products) and the engine's
     Frobenius norms of the states, interleaved, best of N, and prints their ratio;
  2. profiles ``--calls`` Frobenius calls with ``torch.profiler`` and prints each op's self
     time per call, beside the floor's time: what the call does on top of the floor's products
     (the norm pass and the column scaling per step, the forward pass's two small operations
     per step, indexing).
Run: ``python benchmarks/profile_frobenius.py`` (``--threads N`` and ``--cpu-time`` as in
``bench_engine.py``).
"""

from __future__ import annotations

import argparse

import timing  # run as a script: benchmarks/ is on the path
import torch
from bench_engine import bare_chain
from torch import nn

import vanishlab as vl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=timing.positive, default=15, help="timed rounds")
    parser.add_argument("--calls", type=timing.positive, default=5, help="calls profiled")
    parser.add_argument("--rows", type=timing.positive, default=12, help="ops listed")
    timing.add_arguments(parser, threads=2)
    args = parser.parse_args()
    clock = timing.configure(args, flush_denormal=True)
    B, H, T, n_in = 8, 128, 256, 32
    torch.manual_seed(0)
    rnn = nn.RNN(n_in, H)
    x = torch.randn(T, B, n_in)
    q, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))
    w_orth, g0 = q.float(), torch.randn(B, H, H) / H
    bufs = [torch.empty(B, H, H) for _ in range(2)]
    print(f"config: B={B} H={H} T={T} I={n_in} L=1 tanh float32, {timing.header(x.device, clock)}")

    def fro() -> object:
        return vl.jacobian_log_norms(rnn, x, norms="fro", sources="state")

    t = timing.interleaved(
        {"floor": lambda: bare_chain(g0, w_orth, T, bufs), "fro": fro}, args.repeats, clock=clock
    )
    print(f"floor {t['floor'] * 1e3:6.1f} ms   Frobenius, states {t['fro'] * 1e3:6.1f} ms   "
          f"{t['fro'] / t['floor']:5.2f}x floor")  # fmt: skip

    from torch.profiler import profile

    with profile() as prof:
        for _ in range(args.calls):
            fro()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    print(f"self CPU time per Frobenius call ({args.calls} profiled; the profiler's own cost in)")
    for e in events[: args.rows]:
        per_call = e.self_cpu_time_total / args.calls / 1e3
        print(f"  {e.key:28s} {per_call:7.2f} ms  {e.count // args.calls:6d} calls")


if __name__ == "__main__":
    main()
