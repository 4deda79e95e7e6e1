"""gated_lstm_range.exact_cells (helper 495), O and k from the step's own c' where f c and i g
cancel, against before: ordinary calls must agree bit for bit and cost the same.

Calls: ``nn.LSTM(32, 64, 2)`` and ``nn.GRU(32, 64, 2)``, float32, T = 200, B = 4, default init,
``jacobian_log_norms`` with its defaults (every row, both norms), and the LSTM's forward alone
(``gated_steps``, where the new test runs: three (T, B, H) passes). ``core/gated_forward.py`` as
of ``--base`` (default d38ba3ea) is read from git and its ``gated_steps`` put in place of today's
in the names ``core/gated.py`` calls it by; the two are timed alternately, ``--rounds`` rounds
(5), the order swapped each round, one torch thread; best and median of each and the median of
the per-round ratios. Run: ``.venv/bin/python benchmarks/bench_exact_cells.py``.
"""

from __future__ import annotations

import argparse

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated, gated_forward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="d38ba3ea")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    old = timing.core_module_at(args.base, "gated_forward")
    versions = {"before": old.gated_steps, "now": gated_forward.gated_steps}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    lstm, gru = nn.LSTM(32, 64, 2), nn.GRU(32, 64, 2)
    x = torch.randn(200, 4, 32)

    def rows(m: nn.Module) -> torch.Tensor:
        got = vl.jacobian_log_norms(m, x)
        return torch.cat([v.flatten() for v in vars(got).values() if torch.is_tensor(v)])

    def use(which: str) -> None:
        gated.gated_steps = versions[which]

    cases = (
        ("LSTM(32, 64, 2) jacobian_log_norms", lambda: rows(lstm)),
        ("GRU(32, 64, 2) jacobian_log_norms", lambda: rows(gru)),
        ("LSTM(32, 64, 2) forward alone", None),
    )
    for name, call in cases:
        if call is None:
            inp = gated_forward.prepare_gated(lstm, x)
            same = all(
                torch.equal(a.coef, b.coef) and torch.equal(a.k, b.k)
                for a, b in zip(old.gated_steps(inp), gated_forward.gated_steps(inp), strict=True)
            )
            print(f"--- {name}: coefficients bit for bit {same}")

            def forward(inp=inp) -> None:
                gated.gated_steps(inp)

            call = forward
        else:
            got = {}
            for which in versions:
                use(which)
                got[which] = call()
            same = torch.equal(got["now"], got["before"])
            print(f"--- {name}: bit for bit {same}")
        timing.before_and_now(args.rounds, use, call, clock=clock, digits=4)
    use("now")


if __name__ == "__main__":
    main()
