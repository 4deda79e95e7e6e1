"""The memory estimates against measured resident peaks: a sweep cell's
(``vanishlab/sweep/memory.py``'s ``cell_bytes``, which refuses a cell that cannot fit and sets how
many workers run at once) and ``vanishlab analyze``'s (``measure_bytes``, the same count, checked
by ``vanishlab/trained/measure.py``'s ``check_fits``).

Each config runs in a fresh interpreter, one torch thread, as a local sweep worker runs a cell
(``vanishlab.sweep.executors.run_task``: ``run_cell`` with the summary row, and the training
where the cell has ``train_steps``). The peak is ``VmHWM`` of ``/proc/self/status`` after
``echo 5 > /proc/self/clear_refs`` reset it, less ``VmRSS`` just then, twice in the same
process:

- ``cold``: right after the imports (and the code digest a worker computes once), the cell's
  first run: what a worker's first cell adds (torch's kernels and thread pools too);
- ``warm``: the same cell again, after ``malloc_trim(0)`` handed the first run's freed blocks
  back to the system (left resident, the second run reuses them unseen): the cell's own peak,
  which the estimate is of (a worker's own memory, :data:`~vanishlab.sweep.memory.WORKER_BYTES`,
  is counted beside it).

``ratio`` is estimate / peak: below 1.0 a cell the estimate let through can die in the
allocator. ``--analyze`` measures ``vanishlab analyze`` of a saved checkpoint in the same way
(the command's whole run, run directory written; its estimate is ``measure_bytes`` of the
module's sizes). Run from the repository root: ``.venv/bin/python benchmarks/memory_estimate.py``
(``--only SUBSTRING`` picks configs by their label); record the output in
``benchmarks/results/memory_estimate_<machine>_<date>.log``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

# model, activation, layers, hidden, seq_len, batch, dtype, task ("none": untrained)
CELLS = [
    ("rnn", "tanh", 1, 64, 50, 1, "float32", "none"),
    ("rnn", "tanh", 1, 64, 2000, 32, "float32", "none"),
    ("rnn", "tanh", 2, 256, 200, 8, "float32", "none"),
    ("rnn", "tanh", 3, 128, 500, 8, "float32", "none"),
    ("rnn", "tanh", 1, 512, 100, 8, "float32", "none"),
    ("rnn", "tanh", 1, 1024, 50, 1, "float32", "none"),
    ("rnn", "tanh", 1, 1024, 50, 8, "float32", "none"),
    ("rnn", "tanh", 2, 512, 100, 8, "float64", "none"),
    ("rnn", "tanh", 1, 256, 1000, 8, "float64", "none"),
    ("rnn", "relu", 1, 64, 2000, 32, "float32", "none"),
    ("rnn", "relu", 2, 512, 50, 8, "float32", "none"),
    ("rnn", "relu", 1, 1024, 50, 4, "float32", "none"),
    ("rnn", "relu", 3, 256, 200, 16, "float64", "none"),
    ("lstm", None, 1, 64, 2000, 32, "float32", "none"),
    ("lstm", None, 1, 256, 200, 8, "float32", "none"),
    ("lstm", None, 2, 512, 50, 8, "float32", "none"),
    ("lstm", None, 1, 1024, 50, 1, "float32", "none"),
    ("lstm", None, 1, 1024, 50, 4, "float32", "none"),
    ("lstm", None, 3, 128, 500, 8, "float32", "none"),
    ("lstm", None, 1, 128, 1000, 8, "float64", "none"),
    ("lstm", None, 2, 256, 100, 4, "float64", "none"),
    ("gru", None, 1, 64, 2000, 32, "float32", "none"),
    ("gru", None, 1, 256, 200, 8, "float32", "none"),
    ("gru", None, 2, 512, 50, 8, "float32", "none"),
    ("gru", None, 1, 1024, 50, 1, "float32", "none"),
    ("gru", None, 1, 1024, 50, 4, "float32", "none"),
    ("gru", None, 3, 128, 500, 8, "float32", "none"),
    ("gru", None, 1, 128, 1000, 8, "float64", "none"),
    ("gru", None, 2, 256, 100, 4, "float64", "none"),
    ("rnn", "tanh", 1, 64, 100, 8, "float32", "adding"),
    ("rnn", "relu", 3, 64, 50, 8, "float64", "adding"),
    ("rnn", "tanh", 2, 256, 200, 8, "float32", "recall"),
    ("lstm", None, 2, 128, 200, 8, "float32", "adding"),
    ("lstm", None, 1, 512, 50, 8, "float32", "recall"),
    ("gru", None, 1, 256, 100, 8, "float32", "recall"),
    ("gru", None, 2, 64, 500, 8, "float64", "adding"),
]

# model, activation, layers, hidden, seq_len, batch (float32, input size 32)
ANALYZED = [
    ("rnn", "tanh", 1, 256, 100, 8),
    ("lstm", None, 2, 512, 100, 8),
    ("gru", None, 1, 1024, 50, 4),
    ("rnn", "relu", 3, 128, 1000, 32),
]


def _rss(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def peak(run) -> tuple[int, float]:
    """The resident peak of ``run()`` in bytes beyond the process just before it, and its wall
    seconds."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc's
    if trim is not None:
        trim(0)
    with open("/proc/self/clear_refs", "w") as reset:
        reset.write("5")  # VmHWM back to VmRSS
    base = _rss("VmRSS")
    start = time.perf_counter()
    run()
    return (_rss("VmHWM") - base) * 1024, time.perf_counter() - start


def config_of(cell: tuple) -> dict:
    model, act, L, H, T, B, dtype, task = cell
    kw: dict = {"model": model, "num_layers": L, "hidden_size": H, "seq_len": T, "batch": B}
    kw["dtype"] = dtype
    kw.update({"activation": act} if model == "rnn" else {"activation": None, "init": "default"})
    if task != "none":
        kw.update(task=task, train_steps=2, input_size={"adding": 2, "recall": 8}[task])
    return kw


def label(cell: tuple) -> str:
    model, act, L, H, T, B, dtype, task = cell
    name = f"{model}-{act}" if act else model
    return f"{name:9} L={L} H={H:4} T={T:4} B={B:2} {dtype} {task}"


def child_cell(kw: dict) -> None:
    import torch

    import vanishlab as vl
    from vanishlab.sweep.executors import run_task
    from vanishlab.sweep.inits import INITS
    from vanishlab.sweep.summary_fields import code_digest

    torch.set_num_threads(1)  # a worker's (_worker_init)
    code_digest()  # once a process, before its first cell's clock: a worker's own
    config = vl.CellConfig(**kw)
    init = INITS[config.init]
    out = []
    for _ in range(2):
        got: list = []
        bytes_, took = peak(lambda: got.append(run_task(config, init)))  # noqa: B023
        status = got[0][1]["status"]
        out.append((bytes_, took, status, got[0][1]["reason"]))
        got.clear()
    print(json.dumps(out))


def child_analyze(spec: list, folder: str) -> None:
    import torch

    from vanishlab.cli import app

    model, act, L, H, T, B = spec
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[model]
    torch.manual_seed(0)
    kw = {"nonlinearity": act} if model == "rnn" else {}
    path = f"{folder}/m.pt"
    torch.save(cls(32, H, L, **kw).state_dict(), path)
    args = ["analyze", path, "--seq-len", str(T), "--batch", str(B), "-q"]
    if model == "rnn":
        args += ["--nonlinearity", act]
    out = []
    for i in range(2):

        def run(i: int = i) -> None:
            try:
                app([*args, "--out", f"{folder}/run{i}"], standalone_mode=False)
            except SystemExit as err:  # typer's exit on a refusal
                if err.code:
                    raise

        bytes_, took = peak(run)
        out.append((bytes_, took, "ok", None))
    print(json.dumps(out))


def _run(argv: list[str]) -> list:
    done = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"child {argv} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(name: str, estimate: int, runs: list) -> str:
    (cold, cold_s, status, reason), (warm, _, _, _) = runs
    mib = 2**20
    note = "" if status == "ok" else f"  FAILED {reason}"
    return (
        f"{name}  est {estimate / mib:8.1f} MiB  cold {cold / mib:8.1f} ({estimate / cold:5.2f}x)"
        f"  warm {warm / mib:8.1f} ({estimate / warm:5.2f}x)  {cold_s:5.1f} s{note}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-analyze", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only", default="", help="configs whose label holds this")
    parser.add_argument("--analyze", action="store_true", help="vanishlab analyze's too")
    parser.add_argument("--cost", action="store_true", help="print estimated seconds only")
    parser.add_argument("--jobs", type=int, default=1, help="children at once")
    parser.add_argument("--start", type=int, default=0, help="the cells from this index on")
    args = parser.parse_args()
    if args.child is not None:
        child_cell(json.loads(args.child))
        return
    if args.child_analyze is not None:
        spec, folder = json.loads(args.child_analyze)
        child_analyze(spec, folder)
        return
    import vanishlab as vl
    from vanishlab.sweep.cost import cell_cost
    from vanishlab.sweep.memory import cell_bytes, measure_bytes

    print(f"# {time.strftime('%Y-%m-%d %H:%M')}; estimate / resident peak beyond the process")
    cells = [cell for cell in CELLS[args.start :] if args.only in label(cell)]
    if args.cost:
        for cell in cells:
            print(f"{label(cell)}  ~{cell_cost(vl.CellConfig(**config_of(cell))):.1f} s")
        return
    # --jobs children at once: a resident peak is a process's own, whatever runs beside it
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = pool.map(lambda cell: _run(["--child", json.dumps(config_of(cell))]), cells)
        for cell, got in zip(cells, runs, strict=True):
            estimate = cell_bytes(vl.CellConfig(**config_of(cell)))
            print(_line(label(cell), estimate, got), flush=True)
    if not args.analyze or args.cost:
        return
    for model, act, L, H, T, B in ANALYZED:
        name = f"analyze {model}-{act or ''} L={L} H={H} T={T} B={B}"
        if args.only not in name:
            continue
        estimate = measure_bytes(
            seq_len=T,
            num_layers=L,
            batch=B,
            hidden_size=H,
            input_size=32,
            dtype="float32",
            model=model,
            activation=act,
        )
        with tempfile.TemporaryDirectory() as folder:
            spec = [model, act, L, H, T, B]
            runs = _run(["--child-analyze", json.dumps([spec, folder])])
        print(_line(f"{name:40}", estimate, runs), flush=True)


if __name__ == "__main__":
    main()
