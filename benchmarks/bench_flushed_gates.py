"""gated_lstm_range.exact_cells (helper 501), c' formed again where the dtype's sigmoid flushed
a gate whose term a small c' reads, against before: ordinary calls must agree bit for bit and
cost the same (the new check: one reduction of i and f each, per layer).

Calls: ``nn.LSTM(32, 64, 2)``, float32, T = 200, B = 4, default init, ``jacobian_log_norms``
with its defaults, and its forward alone (``gated_steps``). ``core/gated_lstm_range.py`` and
``core/gated_forward.py`` as of ``--base`` (default 6a2e97b3) are read from git, the old forward
reading the old exact_cells, and its ``gated_steps`` put in place of today's in the name
``core/gated.py`` calls it by; the two are timed alternately, ``--rounds`` rounds (5), the order
swapped each round, one torch thread. Run: ``.venv/bin/python benchmarks/bench_flushed_gates.py``.
"""

from __future__ import annotations

import argparse
import sys

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated, gated_forward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="6a2e97b3")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    name = "vanishlab.core.gated_lstm_range"
    today = sys.modules[name]
    sys.modules[name] = timing.core_module_at(args.base, "gated_lstm_range")
    try:  # the old forward imports the old exact_cells
        old = timing.core_module_at(args.base, "gated_forward")
    finally:
        sys.modules[name] = today
    versions = {"before": old.gated_steps, "now": gated_forward.gated_steps}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    lstm = nn.LSTM(32, 64, 2)
    x = torch.randn(200, 4, 32)

    def use(which: str) -> None:
        gated.gated_steps = versions[which]

    def rows() -> torch.Tensor:
        got = vl.jacobian_log_norms(lstm, x)
        return torch.cat([v.flatten() for v in vars(got).values() if torch.is_tensor(v)])

    got = {}
    for which in versions:
        use(which)
        got[which] = rows()
    print(f"--- LSTM(32, 64, 2) jacobian_log_norms: bit for bit {torch.equal(*got.values())}")
    timing.before_and_now(args.rounds, use, rows, clock=clock, digits=4)
    inp = gated_forward.prepare_gated(lstm, x)
    print("--- LSTM(32, 64, 2) forward alone")
    timing.before_and_now(args.rounds, use, lambda: gated.gated_steps(inp), clock=clock, digits=4)
    use("now")


if __name__ == "__main__":
    main()
