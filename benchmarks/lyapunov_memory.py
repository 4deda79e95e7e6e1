"""The resident peak of ``vl.lyapunov_spectrum`` against its (B, n, k) float64 directions, the
count ``vanishlab/core/lyapunov.py``'s ``_SPECTRUM_ARRAYS`` refuses a request on (8 arrays of
B n k 8 bytes: below every peak measured, so a refused request could not have fit).

One shape a process (``ru_maxrss`` is a process's peak), one torch thread, a short T (the
arrays do not grow with T; the forward states do, and are small beside them here). Printed per
shape: the peak beyond the process after the module and inputs were made, and its ratio to
B n k 8 bytes. Run from the repository root: ``.venv/bin/python benchmarks/lyapunov_memory.py``
(``--child MODEL H L B T`` is one shape, run by the parent); record the output in
``benchmarks/results/lyapunov_memory_<machine>_<date>.log``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

SHAPES = [  # model, hidden size, layers, batch, steps
    ("lstm", 256, 1, 1, 10),
    ("lstm", 512, 1, 1, 10),
    ("lstm", 512, 1, 4, 10),
    ("gru", 1024, 1, 1, 10),
    ("lstm", 512, 2, 1, 5),
    ("rnn", 1024, 2, 1, 5),
]


def child(model: str, H: int, L: int, B: int, T: int) -> None:
    import torch

    import vanishlab as vl

    torch.set_num_threads(1)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[model]
    torch.manual_seed(0)
    m, x = cls(32, H, L), torch.randn(T, B, 32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    out = vl.lyapunov_spectrum(m, x)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    n = (2 if model == "lstm" else 1) * L * H
    arrays = B * n * n * 8 / 2**20  # k = n: the full spectrum
    print(
        f"{model:4} H={H:5} L={L} B={B} T={T:3} n=k={n:5}: {took:6.1f} s ({took / T:.2f} s a "
        f"step), peak beyond the process {peak:6.0f} MiB = {peak / arrays:5.1f} x B n k 8 "
        f"({arrays:.0f} MiB); finite {bool(torch.isfinite(out).all())}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        model, *sizes = args.child
        child(model, *map(int, sizes))
        return
    for shape in SHAPES:
        cmd = [sys.executable, __file__, "--child", *map(str, shape)]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
