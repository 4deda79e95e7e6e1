"""A local sweep worker's own memory over its cells, against what the sweep planner budgets
for it (``vanishlab/sweep/capacity.py``'s ``check_memory``: ``cell_bytes`` of the cell plus
:data:`~vanishlab.sweep.memory.WORKER_BYTES` a worker, beside
:data:`~vanishlab.sweep.memory.POOL_BYTES` once for the forkserver).

``benchmarks/memory_estimate.py`` reads a cell's peak beyond a fresh interpreter's resident size;
its ``cold`` figure holds a first cell's one-off (torch's kernels, thread pools, modules imported
on first use), which small cells read above their estimate. This runs the cells in the product's
own pool (``vanishlab.sweep.executors``: its forkserver, preload and ``_worker_init``), one fresh
worker a shape, ``--runs`` equal cells in it without ``malloc_trim`` between them (as a worker
runs them), and reads per cell the worker's private dirty memory before it (``Private_Dirty`` of
``/proc/self/smaps_rollup``: its own heap and copied pages), the cell's resident peak beyond
(``VmHWM`` after ``clear_refs``, less ``VmRSS``) and the dirty memory after. ``own + peak`` is
the worker's own memory at the cell's peak; ``clean`` its ``Private_Clean`` at the end, torch's
code pages its first cell read in, the page cache's and shared by every worker that maps them
(a worker alone holds them privately: count them once). ``budget`` is ``cell_bytes +
WORKER_BYTES``; ``margin`` the budget less the highest ``own + peak``. Run from the repository
root: ``.venv/bin/python benchmarks/worker_memory.py [--only SUBSTRING] [--runs N]``.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import sys
from typing import Any

# model, activation, layers, hidden, seq_len, batch, dtype (untrained; memory_estimate's labels)
CELLS = [
    ("rnn", "tanh", 1, 64, 50, 1, "float32"),
    ("rnn", "tanh", 3, 128, 500, 8, "float32"),
    ("rnn", "relu", 1, 64, 2000, 32, "float32"),
    ("rnn", "tanh", 1, 64, 2000, 32, "float32"),
    ("rnn", "tanh", 2, 256, 200, 8, "float32"),
    ("rnn", "tanh", 1, 1024, 50, 1, "float32"),
    ("gru", None, 2, 256, 100, 4, "float64"),
    ("rnn", "tanh", 1, 512, 100, 8, "float32"),
    ("lstm", None, 1, 1024, 50, 1, "float32"),
    ("rnn", "relu", 2, 512, 50, 8, "float32"),
    ("lstm", None, 1, 64, 2000, 32, "float32"),
    ("rnn", "tanh", 1, 1024, 50, 8, "float32"),
]


def _field(path: str, name: str) -> int:
    with open(path) as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(name + ":"))


def _private(pid: str = "self", field: str = "Private_Dirty") -> int:
    return _field(f"/proc/{pid}/smaps_rollup", field)


def probe(config: Any, init: Any, runs: int, trim: bool) -> list[tuple[int, int, int, str]]:
    """In a fresh worker: (own dirty bytes before, resident peak beyond, own dirty bytes after,
    status) of its first cell and of the same cell again, ``runs`` in all; with ``trim``,
    ``gc.collect()`` and ``malloc_trim(0)`` after each. Then its ``Private_Clean`` bytes."""
    from vanishlab.sweep.executors import run_task

    out = []
    for _ in range(runs):
        own = _private()
        with open("/proc/self/clear_refs", "w") as reset:
            reset.write("5")
        base = _field("/proc/self/status", "VmRSS")
        status = run_task(config, init, "workers")[1]["status"]  # the frame freed, as sent
        grew = _field("/proc/self/status", "VmHWM") - base
        if trim:
            gc.collect()
            ctypes.CDLL(None).malloc_trim(0)
        out.append((own, grew, _private(), status))
    out.append((_private(field="Private_Clean"), 0, 0, "ok"))
    return out


def label(cell: tuple) -> str:
    model, act, L, H, T, B, dtype = cell
    name = f"{model}-{act}" if act else model
    return f"{name:9} L={L} H={H:4} T={T:4} B={B:2} {dtype}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="configs whose label holds this")
    parser.add_argument("--runs", type=int, default=4, help="cells a worker runs")
    parser.add_argument("--trim", action="store_true", help="gc and malloc_trim after each")
    args = parser.parse_args()
    from concurrent.futures import ProcessPoolExecutor

    import vanishlab as vl
    from vanishlab.sweep.executors import _mp_context, _ready_forkserver, _worker_init
    from vanishlab.sweep.inits import INITS
    from vanishlab.sweep.memory import POOL_BYTES, WORKER_BYTES, cell_bytes
    from vanishlab.sweep.worker_deaths import forkserver_pid

    mib = 2**20
    ctx = _mp_context()
    _ready_forkserver(ctx)
    server = forkserver_pid()
    if server is not None:
        print(f"# forkserver private {_private(str(server)) / mib:.1f} MiB", end="")
        print(f" (POOL_BYTES {POOL_BYTES / mib:.0f}); WORKER_BYTES {WORKER_BYTES / mib:.0f} MiB")
    for cell in CELLS:
        if args.only not in label(cell):
            continue
        model, act, L, H, T, B, dtype = cell
        kw = {"model": model, "num_layers": L, "hidden_size": H, "seq_len": T, "batch": B}
        kw.update(dtype=dtype, activation=act)
        if model != "rnn":
            kw["init"] = "default"
        config = vl.CellConfig(**kw)
        alive_r, alive_w = ctx.Pipe(duplex=False)
        with ProcessPoolExecutor(1, ctx, initializer=_worker_init, initargs=(alive_r,)) as pool:
            runs = pool.submit(probe, config, INITS[config.init], args.runs, args.trim).result()
        alive_r.close()
        alive_w.close()
        estimate = cell_bytes(config)
        budget = estimate + WORKER_BYTES
        clean = runs.pop()[0]
        worst = max(own + grew for own, grew, _, _ in runs)
        print(f"{label(cell)}  est {estimate / mib:6.1f} budget {budget / mib:6.1f}", end="")
        print(f"  margin {(budget - worst) / mib:5.1f}", end="")
        for own, grew, after, status in runs:
            fail = "" if status == "ok" else "!"
            print(f" | {own / mib:.0f}+{grew / mib:.0f}->{after / mib:.0f}{fail}", end="")
        print(f" | clean {clean / mib:.0f}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
