"""How the benchmarks time their calls: one definition for every script that compares calls.

- :func:`interleaved`: one warm-up round, then N rounds, each running every call once in turn
  (round-robin), so that a shared machine's slow spells fall on all of them alike; each call's
  best of N (its minimum), or another summary of its N times (bench_monitor: the median).
- The clock: wall time (``time.perf_counter``), or with ``--cpu-time`` CPU seconds of this
  process (``time.process_time``), steadier on a shared, loaded machine.
- ``--threads N``: torch's intra-op threads; :func:`configure` sets them, and
  ``torch.set_flush_denormal(True)`` where a benchmark's baselines need it.
- :func:`header`: the line that records torch, the machine, its threads and load, and the clock;
  :func:`load`, the load average alone (bench_cli and bench_report print it at their start and
  end: a comparison timed on a shared machine is read with the load beside it).
- :func:`core_module_at`: a module of vanishlab/core as an earlier commit had it, loaded beside
  today's package, for a before/after comparison of one change in one process;
  :func:`before_and_now` times the two alternately and prints each round, best, median and
  the median ratio.

A module of the benchmarks, not of the package: the scripts import it as ``timing``, being run
from this folder. It imports torch only where a function needs it (bench_cli times fresh
processes and imports none).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

WALL: Callable[[], float] = time.perf_counter
CPU: Callable[[], float] = time.process_time


def positive(text: str) -> int:
    """An argparse type: a whole number >= 1 (a count of threads or rounds)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def add_arguments(
    parser: argparse.ArgumentParser, *, threads: int | None = None, cpu_time: bool = True
) -> None:
    """``--threads N`` (default ``threads``; None: torch's own) and, where the timed calls may be
    counted in CPU seconds, ``--cpu-time``."""
    default = "torch's own count" if threads is None else str(threads)
    parser.add_argument(
        "--threads", type=positive, default=threads, help=f"torch threads (default {default})"
    )
    if cpu_time:
        parser.add_argument(
            "--cpu-time",
            action="store_true",
            help="time by CPU seconds of this process, not wall time (a shared, loaded machine)",
        )


def configure(args: argparse.Namespace, *, flush_denormal: bool = False) -> Callable[[], float]:
    """Set ``args.threads`` (when given) and, with ``flush_denormal``, flush subnormals to zero;
    return the clock ``args.cpu_time`` chose."""
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if flush_denormal:
        torch.set_flush_denormal(True)
    return CPU if getattr(args, "cpu_time", False) else WALL


def sync(device: object = None) -> None:
    """Wait for the GPU (``device``'s, or the current one when None), if there is one."""
    import torch

    if device is not None and torch.device(device).type != "cuda":
        return
    if torch.cuda.is_available():
        torch.cuda.synchronize(device)


def interleaved(
    calls: dict[str, Callable[[], object]],
    repeats: int,
    *,
    clock: Callable[[], float] = WALL,
    keep: Callable[[Iterable[float]], float] = min,
    wait: Callable[[], None] | None = sync,
) -> dict[str, float]:
    """Each call's time by ``clock``, summarised by ``keep`` (best of N: ``min``) over
    ``repeats`` rounds after one warm-up round, every round running the calls once each in
    their order; ``wait`` (None: nothing) runs before and after each timed call."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, not {repeats}")
    for fn in calls.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            if wait is not None:
                wait()
            t0 = clock()
            fn()
            if wait is not None:
                wait()
            times[name].append(clock() - t0)
    return {name: keep(ts) for name, ts in times.items()}


def before_and_now(
    rounds: int,
    use: Callable[[str], None],
    call: Callable[[], object],
    *,
    clock: Callable[[], float] = WALL,
    digits: int = 3,
) -> None:
    """``call`` timed by ``clock`` with ``use("before")`` and ``use("now")`` in turn, ``rounds``
    rounds, the order swapped each round (now first in round 0); prints each round's times and
    ratio, each version's best and median, and the median of the ratios now / before."""
    times: dict[str, list[float]] = {"before": [], "now": []}
    ratios = []
    for r in range(rounds):
        for which in ("now", "before")[:: 1 if r % 2 else -1]:
            use(which)
            t0 = clock()
            call()
            times[which].append(clock() - t0)
        ratios.append(times["now"][-1] / times["before"][-1])
        print(
            f"round {r}: before {times['before'][-1]:.{digits}f} s  "
            f"now {times['now'][-1]:.{digits}f} s  now/before {ratios[-1]:.3f}"
        )
    for which, ts in times.items():
        print(f"{which}: best {min(ts):.{digits}f} s  median {statistics.median(ts):.{digits}f} s")
    print(f"median now/before {statistics.median(ratios):.3f}")


def header(device: object, clock: Callable[[], float]) -> str:
    """``torch V, <machine>, <clock>``: on a CPU its threads and load average, on a GPU its name
    and float32 matmul precision; the clock as "wall time" or "CPU time"."""
    import torch

    dev = torch.device(device)  # type: ignore[arg-type]
    where = (
        f"{torch.cuda.get_device_name(dev)}, matmul precision "
        f"{torch.get_float32_matmul_precision()}"
        if dev.type == "cuda"
        else f"CPU, {_threads(torch.get_num_threads())}, load average {os.getloadavg()[0]:.1f}"
    )
    return f"torch {torch.__version__}, {where}, {'CPU' if clock is CPU else 'wall'} time"


def load() -> str:
    """The machine's load average over the last 1, 5 and 15 minutes, in words."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _threads(n: int) -> str:
    """``n`` threads in words: "1 thread", "2 threads" (the logs' headers read "1 threads")."""
    return f"{n} thread{'s' * (n != 1)}"


def core_module_at(base: str, name: str) -> ModuleType:
    """vanishlab/core/``name``.py as commit ``base`` had it (read with ``git show``), loaded as
    vanishlab.core._``name``_before: its relative imports read today's package."""
    source = subprocess.run(
        ["git", "show", f"{base}:vanishlab/core/{name}.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent,
    ).stdout
    path = Path(tempfile.mkdtemp()) / f"{name}_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"vanishlab.core._{name}_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (a dataclass in it looks its module up there)
    spec.loader.exec_module(module)
    return module
