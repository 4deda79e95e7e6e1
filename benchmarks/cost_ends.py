"""Time cells at the ends of the range ``vanishlab/sweep/cost.py``'s estimate is used on, and
compare them with it.

The constants were fitted at H = 16-1024, T = 2-400, L = 1 (``benchmarks/fit_cost.py``); the
estimate also prices ``sweep --dry-run``'s time line, the 30-day refusal of a cell and
``analyze``'s "the run asked for" line, far past that. ``measure OUT`` times, on one torch
thread, in CPU seconds of this process (``time.process_time``) and of its children:

- ``large``: untrained cells of H = 2048 and 4096 (B = 1, T = 2-8, one round: the H^3 end);
- ``long``: cells of T = 1000-1990, L = 1-3, float32 and float64, and nn.LSTM(256) at
  T = 1990, B = 8, I = 16 and 256 (the analysis docs/trained.md quotes, as a cell);
- ``inputs``: cells of I = 16 and I = H or 4H (T = 400, B = 8): the input Jacobians' work;
- ``analyze``: ``analyze_checkpoint`` on saved modules nn.LSTM(H, H) and kin (PyTorch's
  weights, or an LSTM's forget-gate bias raised to +3 or +6, the docs' slow LSTM) at the sizes
  of trained models, in process, against the cell of the same sizes (I = H);
- ``startup``: whole commands in a child process (``vanishlab sweep`` of one cell of
  H = 16, T = 4, B = 1 with 1 and 2 workers; ``vanishlab analyze`` of nn.LSTM(16) at
  T = 4, B = 1): their CPU time less the cells' estimate is a run's start.

Each timing is one JSON line appended to OUT (``fit_cost.py``'s fields, CPU seconds only, and
the set's own: ``forget_bias``, ``command``, ``workers``), rounds interleaved in a shuffled
order (``--rounds``, default 2; ``large`` in the first only), after one warm-up cell.
``compare FILE...``: each timing's best against the estimate of its cell in ``cost.py`` (for a
whole command, the difference is the run's start, which ``cost.py`` does not count).

Run from the repository root: ``.venv/bin/python benchmarks/cost_ends.py measure
benchmarks/results/cost_ends_<machine>_<date>.jsonl``, then ``... compare <that file>``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _cells() -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for model in ("rnn", "lstm", "gru"):
        for h, t in ((2048, 2), (2048, 8), (4096, 2)):
            out.append(("large", dict(model=model, hidden_size=h, batch=1, seq_len=t)))
    for model, h, b, t, layers, dtype in (
        ("rnn", 64, 8, 1000, 2, "float32"),
        ("rnn", 128, 8, 1000, 1, "float64"),
        ("lstm", 32, 8, 1990, 1, "float32"),
        ("lstm", 64, 4, 1000, 3, "float32"),
        ("lstm", 128, 8, 1000, 1, "float64"),
        ("gru", 64, 8, 1000, 2, "float32"),
        ("gru", 128, 8, 1000, 1, "float64"),
        ("lstm", 256, 8, 1990, 1, "float32"),
    ):
        cell = dict(model=model, hidden_size=h, batch=b, seq_len=t, num_layers=layers)
        out.append(("long", dict(cell, dtype=dtype)))
    out.append(("long", dict(model="lstm", hidden_size=256, batch=8, seq_len=1990, input_size=256)))
    for model, h, i in (
        ("rnn", 256, 16),
        ("rnn", 256, 256),
        ("gru", 256, 16),
        ("gru", 256, 256),
        ("lstm", 256, 16),
        ("lstm", 256, 256),
        ("lstm", 128, 16),
        ("lstm", 128, 512),
    ):  # the input Jacobians' (H, I) work
        cell = dict(model=model, hidden_size=h, batch=8, seq_len=400, input_size=i)
        out.append(("inputs", cell))
    for model, h, b, t, bias in (
        ("lstm", 32, 4, 1990, 6.0),
        ("lstm", 128, 8, 500, 6.0),
        ("lstm", 256, 8, 400, None),
        ("lstm", 256, 8, 400, 3.0),
        ("lstm", 256, 8, 400, 6.0),
        ("lstm", 256, 8, 1990, None),
        ("lstm", 256, 8, 1990, 6.0),
        ("gru", 128, 8, 500, None),
        ("rnn", 128, 8, 1000, None),
    ):  # nn.LSTM(h, h) and its kin (I = H), at PyTorch's weights or a raised forget-gate bias
        cell = dict(model=model, hidden_size=h, input_size=h, batch=b, seq_len=t)
        out.append(("analyze", dict(cell, forget_bias=bias)))
    for workers in (1, 2):
        cell = dict(model="rnn", hidden_size=16, batch=1, seq_len=4)
        out.append(("startup", dict(cell, command="sweep", workers=workers)))
    tiny = dict(model="lstm", hidden_size=16, batch=1, seq_len=4)
    out.append(("startup", dict(tiny, command="analyze")))
    return out


def _module(settings: dict[str, Any]) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(0)
    kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[settings["model"]]
    h = settings["hidden_size"]
    net = kind(settings.get("input_size", h), h)
    if settings.get("forget_bias") is not None:  # an LSTM's forget gates (+6: the docs' slow one)
        with torch.no_grad():
            net.bias_hh_l0[h : 2 * h] = settings["forget_bias"]
    return net


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(kind: str, settings: dict[str, Any], tmp: Path) -> float:
    import torch

    import vanishlab as vl
    from vanishlab.sweep.measure import run_cell
    from vanishlab.trained.analyze import analyze_checkpoint

    cell = {k: v for k, v in settings.items() if k not in ("command", "workers", "forget_bias")}
    if kind == "startup":
        exe = str(Path(sys.executable).with_name("vanishlab"))
        run = tmp / f"run{random.random()}"
        sizes = ["--hidden-size", "16", "--seq-len", "4", "--batch", "1"]
        if settings["command"] == "sweep":
            flags = ["--model", cell["model"], *sizes, "--input-size", "16"]
            cmd = [exe, "sweep", *flags, "--workers", str(settings["workers"])]
        else:
            ckpt = tmp / "tiny.pt"
            torch.save(_module(cell).state_dict(), ckpt)
            cmd = [exe, "analyze", str(ckpt), "--seq-len", "4", "--batch", "1"]
        env = dict(os.environ, OMP_NUM_THREADS="1")
        before = _children_cpu()
        subprocess.run([*cmd, "--out", str(run), "-q"], check=True, env=env, capture_output=True)
        return _children_cpu() - before
    if kind == "analyze":
        ckpt = tmp / "model.pt"
        torch.save(_module(settings).state_dict(), ckpt)
        run = tmp / f"run{random.random()}"
        cpu = time.process_time()
        analyze_checkpoint(ckpt, run, seq_len=cell["seq_len"], batch=cell["batch"])
        return time.process_time() - cpu
    config = vl.CellConfig(**cell)
    cpu = time.process_time()
    _, meta = run_cell(config)
    cpu = time.process_time() - cpu
    if meta["status"] != "ok":
        raise RuntimeError(f"{settings}: {meta['reason']}")
    return cpu


def measure(out: str, rounds: int, only: str | None) -> None:
    import torch

    import vanishlab as vl
    from vanishlab.sweep.measure import run_cell

    torch.set_num_threads(1)
    run_cell(vl.CellConfig(hidden_size=16, seq_len=4))  # one-off work: imports, first digest
    grid = [(k, s) for k, s in _cells() if only in (None, k)]
    with open(out, "a", encoding="utf-8") as f, tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            order = [(k, s) for k, s in grid if r == 0 or k != "large"]
            random.Random(r).shuffle(order)
            for kind, settings in order:
                cpu = _time(kind, settings, Path(tmp))
                row = dict(settings, set=kind, round=r, status="ok", cpu_s=cpu)
                row.update(load=os.getloadavg()[0])
                f.write(json.dumps(row) + "\n")
                f.flush()
                print(f"{cpu:8.2f} s  {kind:8} {settings}", flush=True)


def estimate(kind: str, settings: dict[str, Any]) -> float:
    """The seconds ``cost.py`` gives the cell of the timed work (a whole command's start is
    not a cell's: the difference is that start)."""
    import vanishlab as vl
    from vanishlab.sweep import cost

    cell = {k: v for k, v in settings.items() if k not in ("command", "workers", "forget_bias")}
    return cost.cell_cost(vl.CellConfig(**cell))


def compare(paths: list[str]) -> None:
    import numpy as np

    times: dict[str, tuple[str, dict[str, Any], list[float]]] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                settings = {
                    k: v for k, v in row.items()
                    if k not in ("set", "round", "status", "cpu_s", "load")
                }  # fmt: skip
                key = json.dumps([row["set"], settings], sort_keys=True)
                times.setdefault(key, (row["set"], settings, []))[2].append(row["cpu_s"])
    ratios: dict[str, list[float]] = {}
    for kind, settings, ts in times.values():
        est = estimate(kind, settings)
        ratio = min(ts) / est
        ratios.setdefault(kind, []).append(ratio)
        spread = f"{min(ts):8.2f}-{max(ts):.2f} s" if len(ts) > 1 else f"{min(ts):8.2f} s"
        print(f"{kind:8} {spread:20} est {est:8.2f} s  x{ratio:5.2f}  {settings}")
    for kind, rs in ratios.items():
        lo, hi, med = min(rs), max(rs), float(np.median(rs))
        print(f"{kind}: measured/estimated {lo:.2f}-{hi:.2f}, median {med:.2f} ({len(rs)} cells)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("measure", help="time the cells, appending JSON lines to OUT")
    m.add_argument("out")
    m.add_argument("--rounds", type=int, default=2)
    m.add_argument("--only", choices=("large", "long", "inputs", "analyze", "startup"))
    c = sub.add_parser("compare", help="measured / estimated, each cell's best time")
    c.add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.what == "measure":
        measure(args.out, args.rounds, args.only)
    else:
        compare(args.files)


if __name__ == "__main__":
    main()
