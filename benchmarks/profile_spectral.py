"""Where the time of the spectral norms goes, and what their settings change (one process).

The engine's spectral norms (``vanishlab.core.spectral``) run block power iteration a chunk of
lags at a time; on a GPU each convergence check waits for the device. This script
  1. profiles one call with ``torch.profiler`` (the ops with the most self time, device and
     host), for the one-layer RNN and an LSTM, both norms of the state rows;
  2. times those calls interleaved (best of N) under other settings of the module's knobs:
     power steps per check and lags per chunk, with the host waits of each. (The H200 run of
     2026-11-30 also solved each check's small eigenproblems on the host: 0.98-1.08x the
     time, with more waits; that setting is gone.)
The settings' defaults are the first row of each table. Ratios are against that row, in the
same process. Run: ``python benchmarks/profile_spectral.py [--device cuda] [--large]``
(``--large``: B = 64, H = 1024, T = 512 for the RNN, no profile; ``--threads N`` and
``--cpu-time`` as in ``bench_engine.py``; ``--init orthogonal --gain g``:
every model's W_hh orthogonal times g; "plain step" is the block iteration without the shifted
step of docs/maths.md, section 5).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import spectral
from vanishlab.core.scaling import host_waits


def profile(label: str, fn: Callable[[], object], cuda: bool, rows: int) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    fn()
    timing.sync()
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with torch_profile(activities=acts) as prof:
        fn()
        timing.sync()
    table = prof.key_averages()
    print(f"--- profile: {label}")
    key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
    print(table.table(sort_by=key, row_limit=rows, max_name_column_width=48))
    if cuda:
        print(table.table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=48))


SETTINGS: dict[str, dict[str, object]] = {
    "default": {},
    "power steps 1": {"GPU_POWER_STEPS": 1},
    "power steps 4": {"GPU_POWER_STEPS": 4},
    "chunk 128": {"GPU_CHUNK": 128},
    "chunk 256": {"GPU_CHUNK": 256},
    "plain step (no shift)": {"SHIFT_CAP": 0.0},
    "cold power steps 2": {"COLD_POWER_STEPS": 2},
    "queue 1 GiB (as before 2026-12-04)": {"GPU_QUEUE_MAX_BYTES": 1 << 30},
    "queue 16 GiB": {"GPU_QUEUE_BYTES": 16 << 30, "GPU_QUEUE_MAX_BYTES": 16 << 30},
}


def with_settings(fn: Callable[[], object], knobs: dict[str, object]) -> Callable[[], object]:
    def run() -> object:
        saved = {k: getattr(spectral, k) for k in knobs}
        for k, v in knobs.items():
            setattr(spectral, k, v)
        try:
            return fn()
        finally:
            for k, v in saved.items():
                setattr(spectral, k, v)

    return run


#: The settings that can matter at the large size (a lag is 256 MiB there; an H200's default
#: queue of 4 GiB holds 16 lags; 2026-12-04, four power steps a check took 1.07x the time and
#: two cold ones 1.23x: spectral_profile_h200_2026-12-04_large.log).
LARGE = ("default", "queue 1 GiB (as before 2026-12-04)", "queue 16 GiB")


def compare(
    label: str,
    fn: Callable[[], object],
    fro: Callable[[], object],
    repeats: int,
    clock: Callable[[], float],
    names=tuple(SETTINGS),
) -> None:
    calls = {name: with_settings(fn, SETTINGS[name]) for name in names}
    # The first call of each setting gives its numbers; then its host waits, then the times.
    spec = {name: call().state_spec.double().cpu() for name, call in calls.items()}  # type: ignore[attr-defined]
    waits = {
        name: host_waits(call) if torch.cuda.is_available() else 0 for name, call in calls.items()
    }
    t = timing.interleaved({**calls, "Frobenius only": fro}, repeats, clock=clock)
    print(f"--- settings: {label} (Frobenius only: {t['Frobenius only'] * 1e3:.1f} ms)")
    for name in calls:
        diff = (spec[name] - spec["default"]).abs().nan_to_num(0.0).max().item()
        print(
            f"  {name:36s}: {t[name] * 1e3:9.1f} ms  {t[name] / t['default']:5.2f}x default, "
            f"{t[name] / t['Frobenius only']:5.2f}x Frobenius, {waits[name]:5d} host waits, "
            f"max |log10 diff| {diff:.1e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--large", action="store_true", help="B=64 H=1024 T=512, RNN only")
    parser.add_argument("--repeats", type=timing.positive, default=3)
    parser.add_argument("--rows", type=int, default=14, help="profile rows")
    parser.add_argument(
        "--profile", action="store_true", help="with --large: profile one call as well"
    )
    parser.add_argument(
        "--inputs", action="store_true", help="the default call: the input rows as well"
    )
    parser.add_argument(
        "--init",
        choices=("default", "orthogonal"),
        default="default",
        help="W_hh (every model's): PyTorch's default, or orthogonal times --gain",
    )
    parser.add_argument("--gain", type=float, default=1.0, help="gain of --init orthogonal")
    timing.add_arguments(parser)
    args = parser.parse_args()
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    clock = timing.configure(args)
    init = f"orthogonal W_hh, gain {args.gain:g}" if args.init == "orthogonal" else "default init"
    print(f"{timing.header(dev, clock)}, {init}")
    B, H, T, n_in = (64, 1024, 512, 32) if args.large else (8, 128, 256, 32)
    src = ("state", "input") if args.inputs else ("state",)
    torch.manual_seed(0)
    models = [("RNN", nn.RNN(n_in, H))]
    if not args.large:
        models += [("LSTM", nn.LSTM(n_in, H)), ("GRU", nn.GRU(n_in, H))]
    for label, mod in models:
        if args.init == "orthogonal":
            with torch.no_grad():
                nn.init.orthogonal_(mod.weight_hh_l0, gain=args.gain)
        mod = mod.to(dev)
        x = torch.randn(T, B, n_in, device=dev)
        both = lambda mod=mod, x=x: vl.jacobian_log_norms(mod, x, sources=src)  # noqa: E731
        fro = lambda mod=mod, x=x: vl.jacobian_log_norms(mod, x, norms="fro", sources=src)  # noqa: E731
        what = f"{label} B={B} H={H} T={T}, both norms, {' and '.join(src)}s"
        if not args.large or args.profile:
            profile(what, both, cuda, args.rows)
        compare(what, both, fro, args.repeats, clock, LARGE if args.large else tuple(SETTINGS))


if __name__ == "__main__":
    main()
