"""qr_step with graded rows in partial pivoting's order (helper 481) against the version before.

Ordinary calls: ``nn.RNN(32, 128)`` tanh and ``nn.LSTM(32, 64, 2)``, float32, T = 200, B = 4,
default init, the full spectrum; they must agree bit for bit and cost the same. A graded call:
the same LSTM with its forget and output gates at -100 (every step's rows span ~e^100). The
version before (``--base``, default 2d5fe1ef: rows sorted by max |entry|) is read from git and put
in place of ``qr_step`` in core/lyapunov.py and core/gated_lyapunov.py; the two are timed
alternately, ``--rounds`` rounds (5), the order swapped each round, one torch thread; best and
median of each and the median of the per-round ratios. ``--loop`` also times once the form
measured first and not kept, Householder QR with Powell-Reid row pivoting column by column
(torch ops per column, batched over samples), and prints its largest difference from ``now`` on
the graded call.
Run: ``.venv/bin/python benchmarks/bench_qr_pivot.py [--loop]``.
"""

from __future__ import annotations

import argparse
import functools

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gated_lyapunov, lyapunov, qr_step


def _use(step) -> None:
    lyapunov.qr_step = step
    gated_lyapunov.qr_step = step


def _loop_rows(z: torch.Tensor) -> torch.Tensor:
    """(B, n): Powell-Reid's row order, column by column: swap up the remaining row of largest
    |entry| in column j, then reflect (Householder, on a copy)."""
    a = z.clone()
    B, n, k = a.shape
    perm = torch.arange(n).repeat(B, 1)
    b = torch.arange(B)
    for j in range(min(k, n - 1)):
        p = a[:, j:, j].abs().argmax(-1) + j
        a[b, j], a[b, p] = a[b, p], a[b, j].clone()
        perm[b, j], perm[b, p] = perm[b, p], perm[b, j].clone()
        x = a[:, j:, j]
        x = x / torch.where(x.abs().amax(-1, keepdim=True) > 0, x.abs().amax(-1, keepdim=True), 1)
        v = x.clone()
        v[:, 0] += torch.where(x[:, 0] >= 0, 1.0, -1.0) * torch.linalg.vector_norm(x, dim=-1)
        vn = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
        v = v / torch.where(vn > 0, vn, 1.0)
        a[:, j:, j:] -= 2 * v[:, :, None] * (v[:, None, :] @ a[:, j:, j:])
    return perm


def _loop_qr(z: torch.Tensor, graded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows = torch.where(graded[:, None], _loop_rows(z), torch.arange(z.shape[-2]))
    batch = torch.arange(z.shape[0])[:, None]
    q, r = torch.linalg.qr(z[batch, rows])
    return q[batch, rows.argsort(dim=-1)], r


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="2d5fe1ef")
    parser.add_argument("--loop", action="store_true")
    parser.add_argument("--rounds", type=timing.positive, default=5)
    timing.add_arguments(parser, threads=1)
    args = parser.parse_args()
    clock = timing.configure(args)
    steps = {"before": timing.core_module_at(args.base, "qr_step").qr_step, "now": qr_step.qr_step}
    print(timing.header("cpu", clock) + f"; before = {args.base}")
    torch.manual_seed(0)
    graded = nn.LSTM(32, 64, 2)
    with torch.no_grad():
        for l in range(2):
            for gate in (1, 3):  # forget and output gates at -100
                getattr(graded, f"bias_ih_l{l}")[gate * 64 : (gate + 1) * 64] = -100.0
                getattr(graded, f"bias_hh_l{l}")[gate * 64 : (gate + 1) * 64] = 0.0
    cases = (
        ("RNN(32, 128) tanh", nn.RNN(32, 128), torch.randn(200, 4, 32)),
        ("LSTM(32, 64, 2)", nn.LSTM(32, 64, 2), torch.randn(200, 4, 32)),
        ("LSTM(32, 64, 2) f, o at -100", graded, torch.randn(200, 4, 32)),
    )
    for name, m, x in cases:
        got = {}
        for which, step in steps.items():
            _use(step)
            got[which] = vl.lyapunov_spectrum(m, x)
        same = torch.equal(got["now"], got["before"])
        diff = (got["now"] - got["before"]).abs().max().item()
        print(
            f"--- {name} float32, T 200, B 4, full spectrum: bit for bit {same}, "
            f"max |now - before| {diff:.3g}"
        )

        timing.before_and_now(
            args.rounds,
            lambda which: _use(steps[which]),
            functools.partial(vl.lyapunov_spectrum, m, x),
            clock=clock,
        )
    if args.loop:
        qr_step._pivoted_qr, kept = _loop_qr, qr_step._pivoted_qr
        _use(qr_step.qr_step)
        t0 = clock()
        loop = vl.lyapunov_spectrum(graded, cases[2][2])
        took = clock() - t0
        qr_step._pivoted_qr = kept
        print(
            f"--- column-by-column Powell-Reid loop, graded call, once: {took:.3f} s; "
            f"max |loop - now| {(loop - got['now']).abs().max().item():.3g}"
        )
    _use(steps["now"])


if __name__ == "__main__":
    main()
