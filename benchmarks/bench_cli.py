"""How fast the command line answers: its quick commands against ``import torch``.

A user who types ``vanishlab --help`` should not wait for PyTorch to load. Each command below
runs in a fresh process (``python -m vanishlab ...``), interleaved round-robin with the
baseline, a fresh process that only runs ``import torch``; the best of N wall times of each is
kept, and the ratio command / baseline is the result (target: under 0.5 for ``--help``,
``sweep --help``, ``inits``, ``experiments`` and ``--version``). A bare ``python -c pass`` is
timed beside them: the interpreter's own start, which no command can go below.

Usage: ``python benchmarks/bench_cli.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import timing  # run as a script: benchmarks/ is on the path

COMMANDS = {
    "vanishlab --help": ["-m", "vanishlab", "--help"],
    "vanishlab sweep --help": ["-m", "vanishlab", "sweep", "--help"],
    "vanishlab inits": ["-m", "vanishlab", "inits"],
    "vanishlab experiments": ["-m", "vanishlab", "experiments"],
    "vanishlab --version": ["-m", "vanishlab", "--version"],
}
BASELINE = "python -c 'import torch'"
INTERPRETER = "python -c pass"
TARGET = 0.5


def run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=timing.positive, default=7, help="rounds (best of N is kept)"
    )
    repeats = parser.parse_args().repeats
    start = timing.load()
    calls = {
        INTERPRETER: ["-c", "pass"],
        BASELINE: ["-c", "import torch"],
        **COMMANDS,
    }
    # Wall time, no GPU to wait for: the time is the child processes'. The warm-up round puts
    # the files in the page cache.
    best = timing.interleaved(
        {name: lambda args=args: run(args) for name, args in calls.items()}, repeats, wait=None
    )
    base = best[BASELINE]
    print(f"best of {repeats} fresh processes each, interleaved; python {sys.version.split()[0]}")
    print(f"{start} at the start, {timing.load()} at the end")
    for name, seconds in best.items():
        ratio = seconds / base
        verdict = (
            "" if name in (BASELINE, INTERPRETER) else ("meets" if ratio < TARGET else "MISSES")
        )
        print(f"{name:28s}: {seconds * 1e3:7.0f} ms  {ratio:5.2f}x import torch  {verdict}")
    print(f"target: each command < {TARGET}x the time of `import torch`")


if __name__ == "__main__":
    main()
