"""What ``vl.JacobianMonitor`` costs during training: one monitor step against one training step.

A realistic training step (defaults: an ``nn.RNN`` or ``nn.LSTM`` with input 32, hidden 128,
2 layers, sequences of 100 steps, batches of 64, a linear read-out, MSE loss, Adam: forward,
backward, optimizer step) is timed against one recorded ``mon.step(n, loss=loss)`` on a probe
of 8 sequences of the same length, in the same process and run; ``loss`` is the training step's
own loss tensor (0-d, with its graph, on the device), as a training loop passes it, so the
step's ``.item()`` (on a GPU, a sync) is timed too. The monitor step is split into its
parts: the exact per-lag Jacobian norms (``vl.jacobian_log_norms``, Frobenius and spectral,
state and input rows, what the step measures), the top Lyapunov exponent, and writing the
shard and the manifest (temp file, fsync, rename). Printed: medians of ``--repeat`` rounds, each
round timing every part once in turn (so a slow spell of the machine falls on all of them), the
ratio monitor step / training step, and the overhead on training when recording every N steps,
ratio / N.

The arithmetic explains the ratio: a training step costs about 3 T B (G H)^2 L multiply-adds
in the recurrence (forward and two backward products; G = 4 gate blocks for an LSTM); the
monitor about 2 T L B_probe H^3 for the Jacobians (every lag, exact) plus the spectral norms, so
the ratio grows like H B_probe / B.

On a CPU shared with other processes, pass ``--threads 1``: torch's thread pool slows down by
an order of magnitude when its threads are descheduled, for training and monitor alike.

Usage: ``python benchmarks/bench_monitor.py [--kind rnn|lstm|gru] [--hidden 128] [--layers 2]
[--seq-len 100] [--batch 64] [--probe-batch 8] [--repeat 5] [--device cpu|cuda]
[--threads N]``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
from pathlib import Path

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.trained import JacobianMonitor
from vanishlab.trained.measure import top_lyapunov

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Net(nn.Module):
    def __init__(self, kind: str, inputs: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.rnn = CELLS[kind](inputs, hidden, layers)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=tuple(CELLS), default="rnn")
    parser.add_argument("--inputs", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--probe-batch", type=int, default=8)
    parser.add_argument("--repeat", type=timing.positive, default=5)
    parser.add_argument("--device", default="cpu")
    # Wall time only: the monitor step's shard and manifest wait on fsync, no CPU second.
    timing.add_arguments(parser, cpu_time=False)
    args = parser.parse_args()
    clock = timing.configure(args)  # the same threads for training and monitoring
    device = torch.device(args.device)
    torch.manual_seed(0)
    net = Net(args.kind, args.inputs, args.hidden, args.layers).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(args.seq_len, args.batch, args.inputs, device=device)
    y = torch.randn(args.batch, 1, device=device)
    probe = torch.randn(args.seq_len, args.probe_batch, args.inputs, device=device)
    print(
        f"{args.kind} I={args.inputs} H={args.hidden} L={args.layers} T={args.seq_len}, "
        f"training batch {args.batch}, probe batch {args.probe_batch}, float32, "
        f"{timing.header(device, clock)}; medians of {args.repeat}"
    )

    losses = [torch.zeros((), device=device)]  # the last training step's loss, for mon.step

    def train_step() -> None:
        opt.zero_grad()
        loss = nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        losses[0] = loss

    rnn = net.rnn
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1, 10**9))
        with (
            JacobianMonitor(rnn, probe, out=Path(tmp) / "mon", every=1) as mon,
            JacobianMonitor(rnn, probe, out=Path(tmp) / "mon2", lyapunov=False) as bare,
        ):
            # Interleaved, so that a slow spell of a shared machine falls on every part alike:
            # timed one after another, a part could take longer than the whole it is part of.
            median = timing.interleaved(
                {
                    "train": train_step,
                    "norms": lambda: vl.jacobian_log_norms(rnn, probe),
                    "lyap": lambda: top_lyapunov(rnn, probe),
                    "step": lambda: mon.step(next(counter), loss=losses[0]),
                    "bare": lambda: bare.step(next(counter), loss=losses[0]),
                },
                args.repeat,
                clock=clock,
                keep=statistics.median,
                wait=functools.partial(timing.sync, device),
            )
    train_s, norms_s, lyap_s = median["train"], median["norms"], median["lyap"]
    step_s, bare_s = median["step"], median["bare"]
    # The rest, signed: a difference of medians, within noise when near 0 or below it.
    write_s = step_s - norms_s - lyap_s
    ratio = step_s / train_s
    print(f"training step                      {train_s * 1e3:9.1f} ms")
    print(f"monitor step (all of it)           {step_s * 1e3:9.1f} ms   = {ratio:.2f} x training")
    print(f"  Jacobian norms (the measurement) {norms_s * 1e3:9.1f} ms")
    print(f"  top Lyapunov exponent            {lyap_s * 1e3:9.1f} ms   (lyapunov=False skips it)")
    print(f"  the rest (rows, shard, manifest) {write_s * 1e3:9.1f} ms   (difference of medians)")
    print(f"monitor step without Lyapunov      {bare_s * 1e3:9.1f} ms   = {bare_s / train_s:.2f} x")
    for every in (10, 50, 100, 500):
        print(
            f"recording every {every:>4} steps adds {100 * ratio / every:6.2f} % to training time"
        )


if __name__ == "__main__":
    main()
