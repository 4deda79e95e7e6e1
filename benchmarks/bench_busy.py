"""The Python API on a machine whose cores are busy: one thread against two.

``vl.jacobian_norms`` runs at the caller's torch thread count (the command line measures on one
thread, as each sweep worker does). Its loop makes many small operations, and PyTorch's
OpenMP threads (libgomp) spin at each one's end waiting for the others: where other processes
keep the cores busy, a waiting thread spins while the one it waits for is descheduled. This
script times the default call (both norms, states and inputs) on two models in three arms,
each in a fresh process (libgomp reads its settings as it loads): one thread, two threads, and
two threads with ``OMP_WAIT_POLICY=PASSIVE`` (threads sleep at once instead of spinning).
Rounds are interleaved; each arm's call is the best of 3 per round, and the median and best
over rounds are printed with its CPU time, and the load average beside each round. Run it
beside other work (a busy machine) and on a quiet one: the ratio two threads / one thread is
the result.

Usage: ``python benchmarks/bench_busy.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import timing  # run as a script: benchmarks/ is on the path

CHILD = r"""
import json, sys, time, torch, vanishlab as vl
torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)
cases = {
    "nn.RNN(32, 128), T = 256, B = 8": (torch.nn.RNN(32, 128), torch.randn(256, 8, 32)),
    "nn.LSTM(32, 128, 2), T = 200, B = 4": (torch.nn.LSTM(32, 128, 2), torch.randn(200, 4, 32)),
}
out = {}
for name, (module, x) in cases.items():
    best, cpu = float("inf"), 0.0
    for _ in range(3):
        wall, clock = time.perf_counter(), time.process_time()
        vl.jacobian_norms(module, x)
        wall = time.perf_counter() - wall
        if wall < best:
            best, cpu = wall, time.process_time() - clock
    out[name] = [best, cpu]
print(json.dumps(out))
"""
ARMS = {
    "1 thread": ("1", {}),
    "2 threads": ("2", {}),
    "2 threads, OMP_WAIT_POLICY=PASSIVE": ("2", {"OMP_WAIT_POLICY": "PASSIVE"}),
}
UNSET = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_arm(threads: str, extra: dict[str, str]) -> dict[str, list[float]]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(extra)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, threads],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=timing.positive, default=3, help="interleaved rounds")
    rounds = parser.parse_args().rounds
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; default call (both norms)")
    print(f"at the start: {timing.load()}")
    got: dict[str, list[dict[str, list[float]]]] = {arm: [] for arm in ARMS}
    for r in range(rounds):
        for arm, (threads, extra) in ARMS.items():
            got[arm].append(run_arm(threads, extra))
        line = "; ".join(
            f"{arm}: " + ", ".join(f"{w:.2f} s" for w, _ in got[arm][-1].values()) for arm in ARMS
        )
        print(f"round {r}, load {os.getloadavg()[0]:.1f}: {line}", flush=True)
    for case in got["1 thread"][0]:
        print(case)
        one = statistics.median(g[case][0] for g in got["1 thread"])
        for arm in ARMS:
            walls = [g[case][0] for g in got[arm]]
            cpus = [g[case][1] for g in got[arm]]
            med = statistics.median(walls)
            print(
                f"  {arm:36s} median {med:6.2f} s (CPU {statistics.median(cpus):6.2f} s), best "
                f"{min(walls):6.2f} s; median / 1 thread's {med / one:5.2f}x"
            )
    print(f"at the end: {timing.load()}")


if __name__ == "__main__":
    main()
