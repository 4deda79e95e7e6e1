"""Time sweep cells and fit the untrained constants of ``vanishlab/sweep/cost.py`` to them.

``measure OUT``: times ``run_cell`` on a grid of untrained cells (``rnn``, ``lstm``, ``gru``;
H = 16-1024; B = 1, 8, 64; T = 2-400; L = 1; held out: L = 2, other H, B and T, the adding
task's inputs at B = 64; and five trained cells, for the training terms' scale) on one thread,
after one warm-up cell, in ``--rounds`` rounds (default 3), each round every cell once in a
shuffled order, so that a shared machine's slow spells fall on all cells alike; one JSON line
per timing (wall and CPU seconds, the load average) appended to OUT as it goes, so an
interrupted run keeps what it timed. Cells of H >= 512 are kept short (T <= 256 at B = 1, 160
at B = 8, 2 at B = 64); the whole grid takes ~30 minutes on a loaded 2-core machine.
``--only fit|held|trained``: those cells only.

``fit FILE...``: each cell's best time (its minimum over the rounds; ``--cpu-time``: CPU
seconds, steadier on a loaded machine than wall time), a non-negative least-squares fit of the
relative error of the untrained terms (:func:`vanishlab.sweep.cost.untrained_terms`) to the
fit set, refined to the least squares of log(measured / estimated), then the one factor of
the training terms (fitted apart, their ratios kept) that suits the trained cells best; and
measured / estimated over the fit set, the held-out and the trained cells, by the constants
in ``cost.py`` and by the fitted ones (which ``cost.py`` then takes, rounded, by hand), with
the median of each H.

``fit`` also reads ``benchmarks/cost_ends.py``'s timings (CPU seconds only): its ``large``
cells (H = 2048 and 4096) and ``inputs`` cells (I = 16 to 512) are fitted with this script's
``fit`` set, its ``long`` cells (T = 1000-1990) held out; its analyses and whole commands are
left to its own ``compare``.

Run from the repository root: ``.venv/bin/python benchmarks/fit_cost.py measure
benchmarks/results/cost_cells_<machine>_<date>.jsonl``, then ``... fit --cpu-time <that
file> [cost_ends' file]`` (benchmarks/results/cost_cells_dev-2core_2026-12-03.jsonl,
cost_ends_dev-2core_2026-12-06.jsonl and fit_cost_*.log: the timings and the fit behind the
constants).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Iterator
from typing import Any

SMALL_H = (16, 32, 64, 128, 256)
# The sets of cells fitted and checked: this script's, and ``cost_ends.py``'s untrained ones
# (its ``large`` and ``inputs`` cells fitted, its ``long`` ones held out; CPU seconds only)
FITTED = ("fit", "large", "inputs")
SETS = (*FITTED, "held", "long", "trained")


def _fit_cells() -> Iterator[dict[str, Any]]:
    for model in ("rnn", "lstm", "gru"):
        for h in SMALL_H:
            for b in (1, 8, 64):
                heavy = b * h**3 * (2 if model == "lstm" else 1)
                for t in (4, 32, 128):
                    if t == 128 and heavy > 8 * 128**3:
                        continue
                    yield dict(model=model, hidden_size=h, batch=b, seq_len=t)
        for b, ts in ((1, (2, 8)), (8, (2, 8)), (64, (2,))):
            if b == 64 and model == "lstm":
                continue
            for t in ts:
                yield dict(model=model, hidden_size=512, batch=b, seq_len=t)
        for b in (1, 8):
            yield dict(model=model, hidden_size=1024, batch=b, seq_len=2)
        for h, b, t in (
            (256, 8, 128),
            (256, 8, 400),
            (256, 64, 48),
            (512, 1, 64),
            (512, 1, 256),
            (512, 8, 32),
            (512, 8, 64),
            (512, 8, 160),
            (1024, 1, 24),
        ):  # lags past the cold 16 at large H (the LSTM's 2H state: its longest left out)
            if (model, h, b, t) != ("lstm", 512, 8, 160):
                yield dict(model=model, hidden_size=h, batch=b, seq_len=t)
    yield dict(model="rnn", hidden_size=1024, batch=8, seq_len=4)


def _held_cells() -> Iterator[dict[str, Any]]:
    for model in ("rnn", "lstm", "gru"):
        for h, b, t in ((48, 16, 64), (96, 4, 20), (192, 32, 10), (384, 8, 6), (768, 1, 3)):
            yield dict(model=model, hidden_size=h, batch=b, seq_len=t)
        for h in (64, 256):
            yield dict(model=model, hidden_size=h, batch=8, seq_len=16, num_layers=2)
    for model in ("lstm", "gru"):  # the adding task's inputs (2 features), at B = 64
        for h, t in ((32, 60), (64, 60), (64, 200)):
            task = dict(model=model, hidden_size=h, batch=64, seq_len=t, input_size=2)
            yield dict(task, task="adding")
            yield task
    for model, h, t, steps in (
        ("rnn", 16, 6, 300),
        ("rnn", 16, 60, 300),
        ("lstm", 32, 100, 50),
        ("gru", 32, 100, 50),
        ("gru", 64, 30, 100),
    ):  # trained: the scale
        yield dict(
            model=model,
            hidden_size=h,
            batch=32,
            seq_len=t,
            input_size=2,
            task="adding",
            train_steps=steps,
        )


def cells() -> list[tuple[str, dict[str, Any]]]:
    """The timed cells: ``("fit" or "held", settings)``."""
    return [("fit", c) for c in _fit_cells()] + [("held", c) for c in _held_cells()]


def chosen(only: str | None) -> list[tuple[str, dict[str, Any]]]:
    """:func:`cells`, or those of one set (``fit``, ``held`` or ``trained``)."""
    return [
        (kind, s) for kind, s in cells()
        if only is None or only == ("trained" if s.get("train_steps") else kind)
    ]  # fmt: skip


def measure(out: str, rounds: int, only: str | None) -> None:
    import torch

    import vanishlab as vl
    from vanishlab.sweep.measure import run_cell

    torch.set_num_threads(1)
    run_cell(vl.CellConfig(hidden_size=16, seq_len=4))  # one-off work: imports, first digest
    grid = chosen(only)
    with open(out, "a", encoding="utf-8") as f:
        for r in range(rounds):
            order = list(grid)
            random.Random(r).shuffle(order)
            for kind, settings in order:
                config = vl.CellConfig(**settings)
                cpu = time.process_time()
                _, meta = run_cell(config)
                cpu = time.process_time() - cpu
                row = dict(settings, set=kind, round=r, status=meta["status"])
                row.update(wall_s=meta["elapsed_s"], cpu_s=cpu, load=os.getloadavg()[0])
                f.write(json.dumps(row) + "\n")
                f.flush()


def best(paths: list[str], clock: str) -> list[tuple[str, dict[str, Any], float, int]]:
    """Each cell's best time over its rounds: ``(set, settings, seconds, rounds)``."""
    times: dict[str, tuple[str, dict[str, Any], list[float]]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row["status"] != "ok" or row["set"] not in SETS or clock not in row:
                    continue
                seconds, kind = row[clock], row["set"]
                settings = {
                    k: v for k, v in row.items()
                    if k not in ("set", "round", "status", "wall_s", "cpu_s", "load")
                }  # fmt: skip
                key = json.dumps(settings, sort_keys=True)
                times.setdefault(key, (kind, settings, []))[2].append(seconds)
    return [(kind, s, min(ts), len(ts)) for kind, s, ts in times.values()]


def _ratios(label: str, rows: list[tuple[str, Any, float, float]]) -> None:
    for kind in SETS:
        picked = sorted(((m / e, s) for k, s, m, e in rows if k == kind), key=lambda p: p[0])
        if picked:
            lo, hi = picked[0][0], picked[-1][0]
            print(f"{label}, {kind} ({len(picked)} cells): measured/estimated {lo:.2f}-{hi:.2f}")
            for r, s in picked[:2] + picked[-2:]:
                print(f"    {r:5.2f}  {s}")


def fit(paths: list[str], clock: str, verbose: bool) -> None:
    import numpy as np
    from scipy.optimize import least_squares, minimize_scalar, nnls

    import vanishlab as vl
    from vanishlab.sweep import cost

    timed = best(paths, clock)
    print(f"{len(timed)} cells, best of {min(t[3] for t in timed)}-{max(t[3] for t in timed)}")
    rows = []  # (set, settings, measured, its untrained terms, its training part in cost.py)
    for kind, settings, seconds, _ in timed:
        config = vl.CellConfig(**settings)
        terms = cost.untrained_terms(config)
        untrained = sum(cost.UNTRAINED_S[n] * v for n, v in terms.items())
        kind = "trained" if config.train_steps else kind
        rows.append((kind, settings, seconds, terms, cost.cell_cost(config) - untrained))
    names = list(cost.UNTRAINED_S)
    fit_rows = [r for r in rows if r[0] in FITTED]
    a = np.array([[r[3][n] / r[2] for n in names] for r in fit_rows])
    scale = a.max(axis=0)
    scale[scale == 0] = 1.0
    a = a / scale
    x, _ = nnls(a, np.ones(len(fit_rows)))  # the relative error, then the log error from there
    x = least_squares(lambda z: np.log(a @ z), x + 1e-9, bounds=(0.0, np.inf)).x
    fitted = dict(zip(names, x / scale, strict=True))
    print("untrained, fitted: " + ", ".join(f"{n} {v:.3g}" for n, v in fitted.items()))
    new_untrained = [sum(fitted[n] * r[3][n] for n in names) for r in rows]
    k = 1.0  # the training terms' scale (their ratios as fitted apart), to the trained cells
    trained = [(r, u) for r, u in zip(rows, new_untrained, strict=True) if r[0] == "trained"]
    if trained:
        k = minimize_scalar(
            lambda k: sum(np.log(r[2] / (u + k * r[4])) ** 2 for r, u in trained),
            bounds=(0.01, 100.0),
            method="bounded",
        ).x
        print(f"training terms x {k:.3g}")
    old = [
        (r[0], r[1], r[2], sum(cost.UNTRAINED_S[n] * r[3][n] for n in names) + r[4]) for r in rows
    ]
    new = [(r[0], r[1], r[2], u + k * r[4]) for r, u in zip(rows, new_untrained, strict=True)]
    for label, est in (("cost.py's constants", old), ("fitted constants", new)):
        _ratios(label, est)
        by_h: dict[int, list[float]] = {}
        for kind, s, m, e in est:
            if kind in FITTED:
                by_h.setdefault(s["hidden_size"], []).append(m / e)
        print("    median by H, fit: " + ", ".join(
            f"{h} {float(np.median(r)):.2f}" for h, r in sorted(by_h.items())
        ))  # fmt: skip
    if verbose:
        for (kind, s, m, e0), (*_, e1) in zip(old, new, strict=True):
            print(f"{kind:7} {m:8.3f} s  old {m / e0:6.2f}  fitted {m / e1:5.2f}  {s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("measure", help="time the cells, appending JSON lines to OUT")
    m.add_argument("out")
    m.add_argument("--rounds", type=int, default=3)
    m.add_argument("--dry-run", action="store_true", help="count the cells, time nothing")
    m.add_argument("--only", choices=("fit", "held", "trained"), help="these cells only")
    f = sub.add_parser("fit", help="fit the untrained terms to the timings in FILE...")
    f.add_argument("files", nargs="+")
    f.add_argument("--cpu-time", action="store_true", help="CPU seconds, not wall time")
    f.add_argument("--verbose", action="store_true", help="every cell's ratios")
    args = parser.parse_args()
    if args.what == "fit":
        fit(args.files, "cpu_s" if args.cpu_time else "wall_s", args.verbose)
    elif args.what == "measure":
        if args.dry_run:
            print(len(chosen(args.only)), "cells")
        else:
            measure(args.out, args.rounds, args.only)


if __name__ == "__main__":
    main()
