"""How often ordinary models' steps cross qr_step's graded threshold, and what a lower one costs.

``nn.RNN(32, 128)`` tanh, ``nn.LSTM(32, 64, 2)`` and ``nn.GRU(32, 64, 2)``, float32, T = 200,
B = 4, seed 0 (or ``--seeds``), the full spectrum, at the default init and with every weight
x0.5, x1.5, x2 and x3 (or ``--gains``; helper 496). First each call once with its steps' spans
recorded (a step's largest max |row entry| over its smallest, per sample; steps with a zero row
are never reordered and are left out): the share of steps above 1e4, 1e6, 1e8 and 1e10 and the
largest span. Then each call timed with ``_GRADED`` at ``--candidate`` (now) against 1e8
(before), alternating, ``--rounds`` rounds (5), one torch thread (``timing.before_and_now``),
with the largest difference of the two spectra; only the default inits and the calls with a
step between the two thresholds (the others take the same path, bit for bit); ``--no-time``:
the shares alone (the three calls at one gain, 12 s wall on a loaded 2-core box).
Run: ``.venv/bin/python benchmarks/bench_qr_threshold.py [--candidate 1e4] [--gains 1 0.5 ...]``.
"""

from __future__ import annotations

import argparse
import functools

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated_lyapunov, lyapunov, qr_step

THRESHOLDS = (1e4, 1e6, 1e8, 1e10)
GAINS = (1.0, 0.5, 1.5, 2.0, 3.0)


def _spans(m: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The spans of the steps of one call (``(steps * B,)``; zero-row steps left out)."""
    spans = []
    real = qr_step.qr_step

    def recording(z, total, counted, prev):
        size = z.abs().amax(dim=-1)
        full = (size != 0).all(dim=-1)
        spans.append((size.amax(dim=-1) / size.amin(dim=-1))[full])
        return real(z, total, counted, prev)

    lyapunov.qr_step = gated_lyapunov.qr_step = recording
    try:
        vl.lyapunov_spectrum(m, x)
    finally:
        lyapunov.qr_step = gated_lyapunov.qr_step = real
    return torch.cat(spans)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidate", type=float, default=1e4)
    parser.add_argument("--rounds", type=timing.positive, default=5)
    parser.add_argument("--gains", type=float, nargs="+", default=GAINS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-time", action="store_true", help="the shares alone")
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    print(timing.header("cpu", clock) + f"; before = _GRADED 1e8, now = {args.candidate:g}")
    cases = []
    for seed in args.seeds:
        for gain in args.gains:
            for name, cls, hidden, layers in (
                ("RNN(32, 128)", nn.RNN, 128, 1),
                ("LSTM(32, 64, 2)", nn.LSTM, 64, 2),
                ("GRU(32, 64, 2)", nn.GRU, 64, 2),
            ):
                torch.manual_seed(seed)
                m = cls(32, hidden, layers)
                with torch.no_grad():
                    for p_name, p in m.named_parameters():
                        if p_name.startswith("weight"):
                            p.mul_(gain)
                tag = f" seed {seed}" if seed else ""
                cases.append((f"{name}{tag} weights x{gain:g}", m, torch.randn(200, 4, 32)))
    differ = []
    for name, m, x in cases:
        s = _spans(m, x)
        differ.append(bool(((s > args.candidate) != (s > 1e8)).any()))
        shares = "  ".join(f">{t:.0e} {(s > t).float().mean().item():6.2%}" for t in THRESHOLDS)
        print(f"{name:35s} steps {s.numel():4d}  max span {s.max().item():8.2e}  {shares}")
    if args.no_time:
        return

    def use(which: str) -> None:
        qr_step._GRADED = args.candidate if which == "now" else 1e8

    for (name, m, x), moved in zip(cases, differ, strict=True):
        if not moved and not name.endswith("x1"):
            print(f"--- {name}: no step on the other side of the candidate: not timed")
            continue
        got = {}
        for which in ("before", "now"):
            use(which)
            got[which] = vl.lyapunov_spectrum(m, x)
        same = torch.equal(got["now"], got["before"])
        diff = (got["now"] - got["before"]).abs().max().item()
        print(f"--- {name}: bit for bit {same}, max |now - before| {diff:.3g}", flush=True)
        timing.before_and_now(
            args.rounds, use, functools.partial(vl.lyapunov_spectrum, m, x), clock=clock
        )
    qr_step._GRADED = 1e8


if __name__ == "__main__":
    main()
