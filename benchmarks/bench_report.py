"""Benchmark: a report's time as a fraction of its sweep's, measured in one run.

Sweeps the grid of the performance target (2 activations x 2 depths x 5 inits x 5 gains x 10
seeds = 1,000 cells, H = 16, T = 50, batch 4) with :func:`vanishlab.run_sweep` (all cores),
then runs ``vanishlab report`` on it as a user does, in a fresh process, twice: first on the
fresh run (the per-cell summary rows, computed where each cell was measured, are read from the
shards and the run's summary is cached), then again (the cached summary is read). Prints
each wall time, its ratio to the sweep's, the page's size, and the targets
(report <= 0.4x the sweep, <= 10 MB), with the load average before the sweep, after it and
after the reports: the sweep runs on every core and the report on one, so a load that other
work puts on a 2-core machine slows the sweep more and reads a smaller ratio than a quiet
one. ``--seeds 1`` makes a 100-cell run for a quick look.

Run: ``python benchmarks/bench_report.py [--seeds N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import timing  # run as a script: benchmarks/ is on the path

import vanishlab as vl

TARGET_RATIO = 0.4
TARGET_MB = 10.0


def grid(seeds: int) -> vl.Sweep:
    return vl.Sweep(
        activation=("tanh", "relu"),
        num_layers=(1, 2),
        init=("default", "orthogonal", "normal", "identity", "xavier_normal"),
        gain=(0.5, 0.9, 1.0, 1.1, 1.5),
        seed=tuple(range(seeds)),
        hidden_size=16,
        seq_len=50,
        batch=4,
    )


def cli() -> list[str]:
    """The ``vanishlab`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("vanishlab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vanishlab.cli"]


def report(run_dir: Path, out: Path) -> float:
    """Wall time of ``vanishlab report RUN -o OUT`` in a fresh process."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1704067200")
    t0 = time.perf_counter()
    # its stdout (the page's path) is not the table's
    subprocess.run(
        [*cli(), "report", str(run_dir), "-o", str(out)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per setting (10: 1,000)")
    parser.add_argument("--keep", type=Path, help="write the run and the reports here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        run_dir = root / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        sweep = grid(args.seeds)
        print(f"before the sweep: {timing.load()}")
        t0 = time.perf_counter()
        summary = vl.run_sweep(sweep, run_dir, progress=False)
        sweep_s = time.perf_counter() - t0
        print(f"sweep: {len(sweep.cells())} cells in {sweep_s:.1f} s ({summary})")
        print(f"after the sweep: {timing.load()}")
        print(f"{'report':<24} {'time s':>7} {'/ sweep':>8} {'MB':>6}")
        for name in ("fresh (rows from shards)", "again (summary cached)"):
            out = root / "report.html"
            t = report(run_dir, out)
            mb = out.stat().st_size / 1e6
            print(f"{name:<24} {t:>7.1f} {t / sweep_s:>8.2f} {mb:>6.2f}")
        print(f"after the reports: {timing.load()}")
        print(f"targets: report <= {TARGET_RATIO}x the sweep, <= {TARGET_MB:.0f} MB")


if __name__ == "__main__":
    main()
