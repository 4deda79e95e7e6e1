"""A gated forward's coefficients (core/gated_forward.py with core/gated_lstm_range.py and
core/gated_gru_range.py) as of ``--base`` against today's: ordinary calls must cost the same,
and agree bit for bit where the change meant them to (it says whether they do).

Calls: ``nn.LSTM(32, 64, 2)`` or ``nn.GRU(32, 64, 2)`` (``--model``), float32, T = 200, B = 4,
default init, ``jacobian_log_norms`` with its defaults, and the forward alone (``gated_steps``).
The three modules as of ``--base`` are read from git, the old forward reading the old range
modules, and its ``gated_steps`` put in place of today's in the name ``core/gated.py`` calls it
by; the two are timed alternately, ``--rounds`` rounds (5), the order swapped each round, one
torch thread. Used for helper 501's flushed LSTM gates (``--model lstm --base 6a2e97b3``: bit for
bit) and helper 503's GRU h - n and reset gate (``--model gru --base cffcc6f0``: h - n formed
plainly where |a_n| <= 0.5 changes ordinary rows at float32's rounding).
Run: ``.venv/bin/python benchmarks/bench_gated_forward.py --model gru [--cpu-time]``.
"""

from __future__ import annotations

import argparse
import sys

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated, gated_forward

_RANGES = ("gated_lstm_range", "gated_gru_range")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("lstm", "gru"), required=True)
    parser.add_argument("--base", default="d38ba3ea")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    today = {name: sys.modules[f"vanishlab.core.{name}"] for name in _RANGES}
    for name in _RANGES:
        sys.modules[f"vanishlab.core.{name}"] = timing.core_module_at(args.base, name)
    try:  # the old forward imports the old range modules
        old = timing.core_module_at(args.base, "gated_forward")
    finally:
        for name, module in today.items():
            sys.modules[f"vanishlab.core.{name}"] = module
    versions = {"before": old.gated_steps, "now": gated_forward.gated_steps}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    cls = nn.LSTM if args.model == "lstm" else nn.GRU
    module, name = cls(32, 64, 2), f"{cls.__name__}(32, 64, 2)"
    x = torch.randn(200, 4, 32)

    def use(which: str) -> None:
        gated.gated_steps = versions[which]

    def rows() -> torch.Tensor:
        got = vl.jacobian_log_norms(module, x)
        return torch.cat([v.flatten() for v in vars(got).values() if torch.is_tensor(v)])

    got = {}
    for which in versions:
        use(which)
        got[which] = rows()
    finite = torch.isfinite(got["now"])
    diff = (got["now"][finite] - got["before"][finite]).abs().max().item()
    print(
        f"--- {name} jacobian_log_norms: bit for bit {torch.equal(*got.values())}, "
        f"max |now - before| {diff:.3g} (log10)"
    )
    timing.before_and_now(args.rounds, use, rows, clock=clock, digits=4)
    inp = gated_forward.prepare_gated(module, x)
    print(f"--- {name} forward alone")
    timing.before_and_now(args.rounds, use, lambda: gated.gated_steps(inp), clock=clock, digits=4)
    use("now")


if __name__ == "__main__":
    main()
