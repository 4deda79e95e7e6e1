"""Benchmark: render the HTML report of a synthetic run of 100 and of 1,000 cells.

The runs are written by hand in the run-directory format (:mod:`vanishlab.sweep.store`), with
made-up but plausible curves (log10 ||J|| falling or rising linearly in the lag, seed noise,
some relu cells with exact zeros and a few failed cells), so that no measurement time is
spent. Prints, per size: time to load the run, to build the page data, to draw and template
it, the total, and the size of the HTML file. Targets (issue 4): 1,000 cells in under a
minute and under about 10 MB.

Run: ``python benchmarks/bench_report.py [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import vanishlab as vl
from vanishlab.report import build_report, render_html
from vanishlab.sweep.config import AXES, CellConfig
from vanishlab.sweep.store import COLUMNS, FORMAT, SCHEMA, write_manifest, write_shard

GRIDS = {
    100: {
        "activation": ["tanh", "relu"],
        "init": ["default", "orthogonal", "normal", "identity", "xavier_normal"],
        "gain": [0.5, 0.9, 1.0, 1.1, 1.5],
        "seed": [0, 1],
    },
    1000: {
        "activation": ["tanh", "relu"],
        "num_layers": [1, 3],
        "seq_len": [100, 400],
        "init": ["default", "orthogonal", "normal", "identity", "xavier_normal"],
        "gain": [0.5, 0.9, 1.0, 1.1, 1.5],
        "seed": [0, 1, 2, 3, 4],
    },
}


def synthetic_cell(cfg: CellConfig, rng: np.random.Generator) -> pd.DataFrame:
    """A plausible shard: per layer and lag a noisy straight line in log10 ||J||."""
    slope = math.log10(cfg.gain) - (0.05 if cfg.activation == "tanh" else 0.15)
    slope += {"default": -0.25, "identity": 0.01}.get(cfg.init, 0.0) + rng.normal(0, 0.01)
    parts = []
    for source in ("state", "input"):
        layers = list(range(cfg.num_layers)) if source == "state" else [None]
        n_lags = cfg.seq_len + 1 if source == "state" else cfg.seq_len
        lag = np.arange(n_lags)
        for layer in layers:
            depth = 0 if layer is None else cfg.num_layers - 1 - layer
            mean = slope * lag - 0.1 * depth + np.cumsum(rng.normal(0, 0.02, n_lags))
            n_zero = np.zeros(n_lags, dtype=np.int64)
            if cfg.activation == "relu" and cfg.gain <= 0.5 and cfg.seed == 0:
                n_zero[lag > cfg.seq_len // 2] = 1  # a sample whose units all switched off
                mean = np.where(n_zero > 0, -np.inf, mean)
            frame = pd.DataFrame(
                {
                    "source": source,
                    "layer": pd.array([layer] * n_lags, dtype="Int64"),
                    "lag": lag,
                    "log10_fro_mean": mean,
                    "log10_fro_std": np.abs(rng.normal(0.3, 0.05, n_lags)),
                    "log10_spec_mean": mean - 0.3,
                    "log10_spec_std": np.abs(rng.normal(0.3, 0.05, n_lags)),
                    "n_zero": n_zero,
                }
            )
            parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    for axis in AXES:
        out[axis] = getattr(cfg, axis)
    out["cell_id"] = cfg.cell_id
    return out[list(COLUMNS)]


def write_run(run_dir: Path, grid: dict[str, list[object]]) -> int:
    """Write a synthetic run directory of the grid's cells; return the number of cells."""
    rng = np.random.default_rng(0)
    names = list(grid)
    n = 0
    empty = SCHEMA.empty_table().to_pandas().astype({"layer": "Int64"})
    for combo in itertools.product(*grid.values()):
        cfg = CellConfig(**dict(zip(names, combo, strict=True)), hidden_size=32, batch=8)
        failed = cfg.activation == "relu" and cfg.gain >= 1.5 and cfg.seed == 1
        frame = empty if failed else synthetic_cell(cfg, rng)
        meta = {
            "cell_id": cfg.cell_id,
            "config": cfg.to_dict(),
            "status": "failed" if failed else "ok",
            "reason": "hidden state of layer 0 became inf at time step 80" if failed else None,
            "elapsed_s": 0.5,
            "n_rows": len(frame),
        }
        write_shard(run_dir, frame, meta)  # type: ignore[arg-type]
        n += 1
    axes = {a: list(grid.get(a, [getattr(CellConfig(hidden_size=32, batch=8), a)])) for a in AXES}
    write_manifest(
        run_dir,
        {
            "format": FORMAT,
            "name": f"synthetic-{n}",
            "experiment": None,
            "description": "synthetic curves for the report benchmark",
            "axes": axes,
            "sections": None,
            "command": "python benchmarks/bench_report.py",
            "versions": {"vanishlab": vl.__version__},
            "started": "2024-01-01T00:00:00Z",
            "finished": "2024-01-01T01:00:00Z",
            "elapsed_s": 3600.0,
            "n_cells": n,
        },
    )
    return n


def bench(n_cells: int, root: Path) -> dict[str, float]:
    """Write the synthetic run of ``n_cells`` cells and time its report."""
    run_dir = root / f"run-{n_cells}"
    n = write_run(run_dir, GRIDS[n_cells])
    assert n == n_cells
    t0 = time.perf_counter()
    results, cells, manifest = (
        vl.load_results(run_dir),
        vl.load_cells(run_dir),
        vl.load_manifest(run_dir),
    )
    t1 = time.perf_counter()
    report = build_report(results, cells, manifest, timestamp="2024-01-01T00:00:00Z")
    t2 = time.perf_counter()
    html = render_html(report)
    t3 = time.perf_counter()
    out = root / f"report-{n_cells}.html"
    out.write_text(html, encoding="utf-8")
    n_figs = html.count('<svg class="fig"')
    return {
        "cells": n_cells,
        "rows": len(results),
        "figures": n_figs,
        "load_s": t1 - t0,
        "build_s": t2 - t1,
        "render_s": t3 - t2,
        "total_s": t3 - t0,
        "mb": out.stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the runs and reports here")
    parser.add_argument("--sizes", default="100,1000", help="cell counts (of 100, 1000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        print(
            f"{'cells':>6} {'rows':>9} {'figs':>5} {'load s':>7} {'build s':>8} "
            f"{'render s':>9} {'total s':>8} {'MB':>6}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            r = bench(size, root)
            print(
                f"{r['cells']:>6} {r['rows']:>9} {r['figures']:>5} {r['load_s']:>7.2f} "
                f"{r['build_s']:>8.2f} {r['render_s']:>9.2f} {r['total_s']:>8.2f} {r['mb']:>6.2f}"
            )
        print("targets for 1,000 cells: total < 60 s, size < ~10 MB")


if __name__ == "__main__":
    main()
