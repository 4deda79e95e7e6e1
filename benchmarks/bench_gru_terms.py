"""A GRU's coefficients after helper 503's changes to core/gated_gru_range.py, against before:
ordinary calls must agree and cost the same.

Calls: ``nn.GRU(32, 64, 2)``, float32, T = 200, B = 4, default init, ``jacobian_log_norms``
with its defaults, and its forward alone (``gated_steps``). ``core/gated_gru_range.py`` and
``core/gated_forward.py`` as of ``--base`` (default cffcc6f0) are read from git, the old forward
reading the old gated_gru_range, and its ``gated_steps`` put in place of today's in the name
``core/gated.py`` calls it by; the two are timed alternately, ``--rounds`` rounds (5), the order
swapped each round, one torch thread. Run: ``.venv/bin/python benchmarks/bench_gru_terms.py``.
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
    parser.add_argument("--base", default="cffcc6f0")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    name = "vanishlab.core.gated_gru_range"
    today = sys.modules[name]
    sys.modules[name] = timing.core_module_at(args.base, "gated_gru_range")
    try:  # the old forward imports the old gated_gru_range
        old = timing.core_module_at(args.base, "gated_forward")
    finally:
        sys.modules[name] = today
    versions = {"before": old.gated_steps, "now": gated_forward.gated_steps}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    gru = nn.GRU(32, 64, 2)
    x = torch.randn(200, 4, 32)

    def use(which: str) -> None:
        gated.gated_steps = versions[which]

    def rows() -> torch.Tensor:
        got = vl.jacobian_log_norms(gru, x)
        return torch.cat([v.flatten() for v in vars(got).values() if torch.is_tensor(v)])

    got = {}
    for which in versions:
        use(which)
        got[which] = rows()
    print(f"--- GRU(32, 64, 2) jacobian_log_norms: bit for bit {torch.equal(*got.values())}")
    timing.before_and_now(args.rounds, use, rows, clock=clock, digits=4)
    inp = gated_forward.prepare_gated(gru, x)
    print("--- GRU(32, 64, 2) forward alone")
    timing.before_and_now(args.rounds, use, lambda: gated.gated_steps(inp), clock=clock, digits=4)
    use("now")


if __name__ == "__main__":
    main()
