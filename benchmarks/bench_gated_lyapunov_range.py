"""gated_lyapunov at the step's scale (helper 473) against the version before, in one process.

Config: ``nn.LSTM(32, 64, 2)``, float32, T = 200, B = 4, ordinary init (no gate past the
range), the full spectrum (k = 256) and the top exponent alone (k = 1). The version before is
read from git (``--base``, default d87addb4, the commit before the change) into a module of
vanishlab.core; the two are timed alternately, 5 rounds, the order swapped each round, one
torch thread, and the median of the per-round ratios printed, with the largest difference of
their exponents. Run: ``.venv/bin/python benchmarks/bench_gated_lyapunov_range.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

from vanishlab.core.gated_lyapunov import gated_lyapunov_spectrum as new


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="d87addb4")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    old = timing.core_module_at(args.base, "gated_lyapunov").gated_lyapunov_spectrum
    torch.manual_seed(0)
    m = nn.LSTM(32, 64, 2)
    x = torch.randn(200, 4, 32)
    print(f"torch {torch.__version__}, 1 thread; before = {args.base}")
    for k in (None, 1):
        a, b = old(m, x, k=k), new(m, x, k=k)
        diff = (a - b).abs().max().item()
        print(
            f"--- LSTM(32, 64, 2) float32, T 200, B 4, k {k or 256}: max |now - before| {diff:.1e}"
        )
        ratios = []
        for r in range(args.rounds):
            times = {}
            for name, f in (("now", new), ("before", old))[:: 1 if r % 2 else -1]:
                t0 = time.perf_counter()
                f(m, x, k=k)
                times[name] = time.perf_counter() - t0
            ratios.append(times["now"] / times["before"])
            print(
                f"round {r}: before {times['before']:.3f} s  now {times['now']:.3f} s  "
                f"now/before {ratios[-1]:.3f}"
            )
        print(f"median now/before {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
