"""Sweep throughput: cells per second of the quick default grid at 1 and 2 workers.

What it measures, on this machine and in this run:

- cells per second of ``vl.run_sweep(QUICK_SWEEP, ...)`` at ``--workers 1`` (in this process)
  and ``--workers 2`` (local worker processes, pool start-up included), and their ratio;
- the share of wall time spent outside measurement: 1 - (summed ``run_cell`` time) /
  (wall time x workers). It is what the sweep machinery costs: building the plan, the
  manifest, shard writes with fsync, pickling results back, pool start-up and idle workers at
  the tail of the grid; the cold start of the worker pool is timed apart;
- the store alone: milliseconds per ``write_shard`` (temp file, fsync, rename, fsync dir) and
  ``load_results`` of the whole run.

The two runs must give bit-identical results; the benchmark checks that too.
Usage: ``python benchmarks/bench_sweep.py [--grid quick|smoke] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

import vanishlab as vl
from vanishlab.sweep import shard, store
from vanishlab.sweep.config import QUICK_SWEEP
from vanishlab.sweep.experiments import DEFAULT_EXPERIMENT


def _run(grid: vl.Sweep, out: Path, workers: int) -> tuple[vl.RunSummary, float]:
    t0 = time.perf_counter()
    summary = vl.run_sweep(grid, out, workers=workers, progress=False)
    return summary, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=("quick", "smoke"), default="quick")
    parser.add_argument("--workers", type=int, default=2, help="the parallel run's workers")
    args = parser.parse_args()
    grid = QUICK_SWEEP if args.grid == "quick" else DEFAULT_EXPERIMENT.smoke
    assert grid is not None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"grid {args.grid}: {grid.size} cells; {cores} cores visible, torch {torch.__version__}, "
        f"torch intra-op threads {torch.get_num_threads()} (pinned to 1 per measurement)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        # Pool start-up, cold: the first pool of a process starts the forkserver, which imports
        # torch and vanishlab once; later pools fork from it. Timed on one tiny cell per worker.
        tiny = DEFAULT_EXPERIMENT.smoke.replace(activation="tanh", init="default", num_layers=1)
        tiny = tiny.replace(seed=tuple(range(args.workers)))
        _, cold = _run(tiny, Path(tmp) / "startup", args.workers)
        rows = []
        frames = {}
        for workers in (1, args.workers):
            out = Path(tmp) / f"w{workers}"
            summary, wall = _run(grid, out, workers)
            used = min(workers, summary.n_run)
            outside = 1 - summary.measure_s / (wall * used)
            rows.append((workers, wall, summary.n_run / wall, summary.measure_s, outside))
            frames[workers] = vl.load_results(out)
            print(
                f"workers={workers}: {wall:6.2f} s wall, {summary.n_run / wall:6.2f} cells/s, "
                f"measurement {summary.measure_s:6.2f} s summed over cells, "
                f"outside measurement {100 * outside:4.1f}% of wall x workers"
            )
        pd.testing.assert_frame_equal(frames[1], frames[args.workers], check_exact=True)
        print(f"results at 1 and {args.workers} workers: bit-identical")

        (_, _, rate1, meas1, _), (_, wall2, rate2, meas2, _) = rows
        speedup = rate2 / rate1
        print(
            f"ratio cells/s {args.workers} vs 1 workers: {speedup:.2f}x "
            f"(parallel efficiency {100 * speedup / args.workers:.0f}%); "
            f"per-cell measurement time {args.workers} vs 1 workers: {meas2 / meas1:.2f}x "
            "(above 1 means the workers slow each other: shared cores, caches, memory)"
        )

        # The store alone: rewrite every shard of the 1-worker run, then read the run back.
        metas = store.read_cell_metas(Path(tmp) / "w1")
        dst = Path(tmp) / "store"
        store.write_manifest(dst.mkdir() or dst, {"format": store.FORMAT})
        results = frames[1]
        t0 = time.perf_counter()
        for cell_id, meta in metas.items():
            frame = results[results["cell_id"] == cell_id].reset_index(drop=True)
            if meta["status"] == "failed":
                frame = frame.iloc[:0]
            shard.write_shard(dst, frame, meta)
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        vl.load_results(dst)
        load_s = time.perf_counter() - t0
        per_cell = meas1 / grid.size
        print(
            f"store: write_shard {1000 * write_s / len(metas):.1f} ms/cell "
            f"({100 * write_s / len(metas) / per_cell:.1f}% of a cell's {1000 * per_cell:.0f} ms "
            f"measurement); load_results of {len(metas)} shards {1000 * load_s:.0f} ms"
        )
        print(
            f"outside-measurement share: {100 * rows[0][4]:.1f}% at 1 worker, "
            f"{100 * rows[1][4]:.1f}% at {args.workers} workers with the forkserver warm; "
            f"a fresh process first pays {cold:.2f} s to start the forkserver and its workers "
            f"({100 * cold / (wall2 + cold):.1f}% of that run's wall)"
        )


if __name__ == "__main__":
    main()
