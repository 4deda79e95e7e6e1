"""Per-call cost of a sweep cell's own analysis: summary_row, fit_decay, check_pascanu,
pascanu_envelope, critical_gain, on typical small cells (H 16, T 50, batch 4; L 1-2;
rnn tanh/relu and lstm), timed with timeit (not under a profiler), medians of repeats.

Usage: ``python benchmarks/bench_cell_analysis.py [--repeat 7] [--number 20]``.
With ``--base DIR`` (a checkout of another commit, its ``vanishlab`` importable from DIR)
it runs the same timings there in a subprocess, alternated with this tree's (ABBA order over
``--rounds``), and prints the medians over rounds and their ratios (this / base).
``critical_gain (cold)`` and ``run_cell`` include code the change may not touch: a control of
the load's drift.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import timeit

CELLS = {
    "rnn-tanh-L1": dict(model="rnn", activation="tanh", num_layers=1),
    "rnn-tanh-L2": dict(model="rnn", activation="tanh", num_layers=2),
    "rnn-relu-L2": dict(model="rnn", activation="relu", num_layers=2),
    "lstm-L1": dict(model="lstm", num_layers=1),
    "lstm-L2": dict(model="lstm", num_layers=2),
}


def _timings(repeat: int, number: int) -> dict[str, float]:
    """Median seconds per call of each function on each cell (this process's vanishlab), and
    of a whole small sweep (16 cells, one worker, summary rows included)."""
    import tempfile

    import torch

    import vanishlab as vl
    from vanishlab.sweep.cell import cell_inputs, cell_module
    from vanishlab.sweep.cell_summary import summarize_cell
    from vanishlab.sweep.critical import _critical_gain, critical_gain
    from vanishlab.sweep.measure import run_cell

    torch.set_num_threads(1)
    out: dict[str, float] = {}

    def med(name: str, fn, n: int = number) -> None:
        out[name] = statistics.median(timeit.repeat(fn, repeat=repeat, number=n)) / n

    def cold_critical(config):
        _critical_gain.cache_clear()
        return critical_gain(config)

    for label, extra in CELLS.items():
        cfg = vl.CellConfig(hidden_size=16, seq_len=50, batch=4, **extra)
        frame, _ = run_cell(cfg, summary=False)
        rnn, x = cell_module(cfg), cell_inputs(cfg)
        rows = frame[["source", "layer", "lag", "log10_fro_mean", "log10_spec_mean"]]
        state = rows[rows["source"] == "state"][["layer", "lag", "log10_fro_mean"]]
        med(
            f"{label} summarize_cell",
            lambda c=cfg, f=frame, r=rnn, x=x: summarize_cell(c, f, rnn=r, x=x),
        )
        med(f"{label} run_cell", lambda c=cfg: run_cell(c), max(1, number // 4))
        med(f"{label} fit_decay", lambda s=state: vl.fit_decay(s, norm="fro"))
        if extra["model"] == "rnn":
            med(f"{label} check_pascanu", lambda r=rnn, f=rows: vl.check_pascanu(r, f, seq_len=50))
            med(f"{label} pascanu_envelope", lambda r=rnn: vl.pascanu_envelope(r, 50))
            med(f"{label} critical_gain (cold)", lambda c=cfg: cold_critical(c), 2)
    grid = vl.Sweep(
        activation=("tanh", "relu"),
        num_layers=(1, 2),
        hidden_size=(16,),
        seq_len=(50,),
        batch=(4,),
        init=("default", "orthogonal"),
        gain=(0.5, 2.0),
    )
    walls = []
    for _ in range(max(1, repeat // 2)):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            vl.run_sweep(grid, tmp, workers=1, progress=False)
            walls.append(time.perf_counter() - t0)
    out[f"sweep of {grid.size} cells (1 worker)"] = statistics.median(walls)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20)
    parser.add_argument("--base", help="a checkout whose vanishlab to time alternately")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --base")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(_timings(args.repeat, args.number)))
        return
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    trees = {"this": here} if args.base is None else {"base": args.base, "this": here}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
    for r in range(args.rounds if args.base else 1):
        order = list(trees.items())  # base, this; then this, base: a load that drifts
        for name, tree in order if r % 2 == 0 else order[::-1]:  # falls on both alike
            env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1"}
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--json",
                "--repeat",
                str(args.repeat),
                "--number",
                str(args.number),
            ]
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
    keys = list(runs["this"][0])
    for k in keys:
        this = statistics.median(r[k] for r in runs["this"])
        if args.base:
            base = statistics.median(r[k] for r in runs["base"])
            print(
                f"{k:34s} base {1e3 * base:8.3f} ms  this {1e3 * this:8.3f} ms  "
                f"ratio {this / base:5.3f}x"
            )
        else:
            print(f"{k:34s} {1e3 * this:8.3f} ms")


if __name__ == "__main__":
    main()
