"""A GRU's carried coefficients and weighed terms (helper 472): their cost, alternated in one
process (ratios, not seconds).

Variants, each run once per round in turn: "before", ``gated_forward.scaled_gru`` made to find
nothing (the forward's search for a coefficient below the range skipped: the code as it was on
an ordinary call); "after", the package as it is (on an ordinary call the search finds nothing
and the steps are the old ones); "weigh all", every step of every layer weighed as a carried
layer's is (``scaled_gru`` made to return the coefficients as they are, exponents 0): what
weighing each GRU step would cost. Timed: the general path, a 2-layer ``nn.GRU``, B = 8,
H = 128, T = 256, float32, the Frobenius-only call and the default call (both norms, state and
input rows); and the one-layer fast path (same sizes, default call; "weigh all" hands it to the
general path), and its forward alone (``gated_forward.gated_steps``, where the search runs).
Best and median of the rounds. Run: ``.venv/bin/python
benchmarks/bench_gru_range.py [--rounds 5] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated_forward, gated_gru_range

_REAL = gated_forward.scaled_gru


def _weigh_all(coef, coef_hn, z, *_):
    rel = torch.cat([coef, coef_hn, z], dim=-1)  # every row "carried", as it is
    T, B = rel.shape[:2]
    sample = torch.arange(B).repeat(T)
    return gated_gru_range.CarriedRows(
        list(range(0, T * B + 1, B)),
        sample,
        rel.flatten(0, 1),
        torch.zeros(T * B, rel.shape[-1], dtype=torch.float64),
    )


VARIANTS = {"before": lambda *a: None, "after": _REAL, "weigh all": _weigh_all}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    B, H, T = 8, 128, 256
    two, one = nn.GRU(H, H, 2), nn.GRU(H, H, 1)
    x = torch.randn(T, B, H)
    inp_one = gated_forward.prepare_gated(one, x)
    calls: dict[str, Callable[[], object]] = {
        "2-layer fro": lambda: vl.jacobian_log_norms(two, x, norms=("fro",)),
        "2-layer default": lambda: vl.jacobian_log_norms(two, x),
        "1-layer default": lambda: vl.jacobian_log_norms(one, x),
        "1-layer forward": lambda: gated_forward.gated_steps(inp_one),
    }
    for name, call in list(calls.items())[:3]:  # warm-up, and the variants agree
        outs = {}
        for v, fn in VARIANTS.items():
            gated_forward.scaled_gru = fn
            outs[v] = call().state_fro
        diffs = ", ".join(
            f"{v} {(outs[v] - outs['before']).abs().max().item():.2e}" for v in VARIANTS
        )
        print(f"{name}: largest |variant - before| of the state rows, log10: {diffs}")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, call in calls.items():
            for v, fn in VARIANTS.items():
                gated_forward.scaled_gru = fn
                t0 = time.perf_counter()
                call()
                times.setdefault((name, v), []).append(time.perf_counter() - t0)
    gated_forward.scaled_gru = _REAL
    print(f"threads {args.threads}, rounds {args.rounds}, B {B}, H {H}, T {T}, float32")
    for name in calls:
        b = times[(name, "before")]
        for v in VARIANTS:
            a = times[(name, v)]
            print(
                f"{name:16s} {v:9s} best {min(a):.3f} s median {statistics.median(a):.3f} s"
                f"  / before: best {min(a) / min(b):.3f} median "
                f"{statistics.median(a) / statistics.median(b):.3f}"
            )


if __name__ == "__main__":
    main()
