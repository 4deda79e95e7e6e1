"""scaled_o with the exact step's c' where the module rounded c' to 0 (helper 485) against before.

Ordinary call: ``nn.LSTM(32, 64, 2)``, float32, T = 200, B = 4, default init, the full Lyapunov
spectrum (it must agree bit for bit and cost the same), and its forward alone
(``gated_steps``, where the new test runs: (T, B, H) booleans). Fixed call: the same LSTM with
its i, f and o gates at -100 (the module's c' is 0 at every step). ``scaled_o`` as of
``--base`` (default 081fc290, where it was core/gated_forward.py's) is read from git and put
in place of today's (core/gated_lstm_range.py's) in the name core/gated_forward.py calls it by;
the two are timed alternately, ``--rounds`` rounds (5), the order swapped
each round, one torch thread; best and median of each and the median of the per-round ratios.
Run: ``.venv/bin/python benchmarks/bench_scaled_o.py``.
"""

from __future__ import annotations

import argparse

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated_forward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="081fc290")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    old = timing.core_module_at(args.base, "gated_forward").scaled_o

    def before(coef_o, a, c, c_prev):  # the old signature took a_o alone
        return old(coef_o, a[..., 3 * c.shape[-1] :], c)

    versions = {"before": before, "now": gated_forward.scaled_o}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    ordinary = nn.LSTM(32, 64, 2)
    torch.manual_seed(0)
    shut = nn.LSTM(32, 64, 2)
    with torch.no_grad():
        for l in range(2):
            for gate in (0, 1, 3):  # input, forget and output gates at -100
                getattr(shut, f"bias_ih_l{l}")[gate * 64 : (gate + 1) * 64] = -100.0
                getattr(shut, f"bias_hh_l{l}")[gate * 64 : (gate + 1) * 64] = 0.0
    x = torch.randn(200, 4, 32)
    cases = (
        ("LSTM(32, 64, 2) spectrum", lambda: vl.lyapunov_spectrum(ordinary, x)),
        (
            "LSTM(32, 64, 2) forward alone",
            lambda: gated_forward.gated_steps(gated_forward.prepare_gated(ordinary, x)),
        ),
        ("LSTM(32, 64, 2) i, f, o at -100 spectrum", lambda: vl.lyapunov_spectrum(shut, x)),
    )
    for name, call in cases:
        if name.endswith("spectrum"):
            got = {}
            for which, fn in versions.items():
                gated_forward.scaled_o = fn
                got[which] = call()
            same = torch.equal(got["now"], got["before"])
            diff = (got["now"] - got["before"]).abs().max().item()
            print(f"--- {name}: bit for bit {same}, max |now - before| {diff:.3g}")
        else:
            print(f"--- {name}")

        def use(which: str) -> None:
            gated_forward.scaled_o = versions[which]

        timing.before_and_now(args.rounds, use, call, clock=clock, digits=4)
    gated_forward.scaled_o = versions["now"]


if __name__ == "__main__":
    main()
