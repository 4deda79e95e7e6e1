"""qr_step with z's rows sorted (helper 476) against the version before, in one process.

Configs: ``nn.RNN(32, 128)`` tanh and ``nn.LSTM(32, 64, 2)``, float32, T = 200, B = 4, ordinary
init, the full spectrum (k = 128 and 256). The version before is read from git (``--base``,
default b920feb9, the commit before the change) and put in place of ``qr_step`` in
core/lyapunov.py and core/gated_lyapunov.py; the two are timed alternately, 5 rounds, the order
swapped each round, one torch thread; best and median of each and the median of the per-round
ratios are printed, with the largest difference of their exponents.
Run: ``.venv/bin/python benchmarks/bench_qr_graded.py``.
"""

from __future__ import annotations

import argparse
import functools
import time

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated_lyapunov, lyapunov, qr_step


def _use(step) -> None:
    lyapunov.qr_step = step
    gated_lyapunov.qr_step = step


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="b920feb9")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = {"before": timing.core_module_at(args.base, "qr_step").qr_step, "now": qr_step.qr_step}
    print(f"torch {torch.__version__}, 1 thread; before = {args.base}")
    torch.manual_seed(0)
    cases = (
        ("RNN(32, 128) tanh", nn.RNN(32, 128), torch.randn(200, 4, 32)),
        ("LSTM(32, 64, 2)", nn.LSTM(32, 64, 2), torch.randn(200, 4, 32)),
    )
    for name, m, x in cases:
        got = {}
        for which, step in steps.items():
            _use(step)
            got[which] = vl.lyapunov_spectrum(m, x)
        diff = (got["now"] - got["before"]).abs().max().item()
        print(f"--- {name} float32, T 200, B 4, full spectrum: max |now - before| {diff:.1e}")
        timing.before_and_now(
            args.rounds,
            lambda which: _use(steps[which]),
            functools.partial(vl.lyapunov_spectrum, m, x),
            clock=time.perf_counter,
        )
    _use(steps["now"])


if __name__ == "__main__":
    main()
