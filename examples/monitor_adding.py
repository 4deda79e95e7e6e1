"""Watch a recurrent network's gradients while it learns a long-memory task (the adding problem).

The adding problem (Hochreiter & Schmidhuber 1997): each input step carries a random number in
[0, 1] and a marker; exactly two steps are marked, one in each half of the sequence, and the
target is the sum of the two marked numbers. Always answering 1 scores an MSE of 1/6 (the
variance of the sum), so a loss well below 0.167 means the network carries the first number
across about T/2 steps: the gradient that teaches it has to survive that many steps.

``vl.JacobianMonitor`` measures the recurrent module every ``--every`` steps on a fixed probe
batch, writing one shard per recorded step into ``--out/<cell>`` with that step's training loss
(the batch's; its report draws it above the gradients', beside the task's chance level, 1/6,
given as ``chance_loss``). At the end the script reads them
back with ``vl.load_results`` and prints, per recorded step, the decay rate of ||dh_T /
dh_{T-k}|| (natural log per step; below 0 the gradient vanishes, about exp(rate * k) after k
steps), the norm at lag T/2 (the distance the task needs) and the loss (its own mean over the
last 50 steps).

By default two networks are trained the same way. A default ``nn.RNN`` (tanh) starts with a
rate near -0.5: its gradient across T/2 = 25 steps is about 1e-5 of the recent one, and its
loss stays at chance. An IRNN (Le, Jaitly & Hinton 2015: relu, W_hh = I, zero biases) starts
at rate 0, keeps it near 0 while it learns, and its loss falls far below chance.

Run: ``python examples/monitor_adding.py [--cell rnn,irnn,lstm,gru] [--seq-len 50] [--steps
1000] [--every 100] [--out runs/monitor-adding] [--threads 1]``; then ``vanishlab report
runs/monitor-adding/irnn``. About 10 seconds per network on one CPU core.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import torch
from torch import nn

import vanishlab as vl
from vanishlab.train import AddingProblem
from vanishlab.trained import JacobianMonitor

CELLS = {"rnn": nn.RNN, "irnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def adding_batch(batch: int, seq_len: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Inputs ``(seq_len, batch, 2)`` (value, marker) and targets ``(batch, 1)``."""
    values = torch.rand(seq_len, batch, generator=gen)
    half = seq_len // 2
    first = torch.randint(0, half, (batch,), generator=gen)
    second = torch.randint(half, seq_len, (batch,), generator=gen)
    markers = torch.zeros(seq_len, batch)
    cols = torch.arange(batch)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    target = (values[first, cols] + values[second, cols]).unsqueeze(1)
    return torch.stack([values, markers], dim=-1), target


class Adder(nn.Module):
    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        if cell == "irnn":  # Le, Jaitly & Hinton 2015: relu, W_hh = I, zero biases
            self.rnn = nn.RNN(2, hidden, nonlinearity="relu")
            with torch.no_grad():
                self.rnn.weight_hh_l0.copy_(torch.eye(hidden))
                self.rnn.bias_hh_l0.zero_()
                self.rnn.bias_ih_l0.zero_()
        else:
            self.rnn = CELLS[cell](2, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][-1])


def is_monitor_run(path: Path) -> bool:
    """Whether ``path`` is a run directory a ``JacobianMonitor`` wrote (this example's kind)."""
    try:
        return vl.load_manifest(path).get("kind") == "monitor"  # a sweep's has no kind
    except (vl.VanishlabError, OSError):  # no manifest, or none that vanishlab wrote
        return False


def train(cell: str, args: argparse.Namespace, out: Path) -> None:
    """Train one network on the adding problem under the monitor, then print what it saw.

    A vanishlab error is a problem with what the user asked for (:mod:`vanishlab.errors`),
    before training (--out inside another run) or during it (a probe the allocator refuses at
    a step, whose remedy names --out; a full disk): :func:`main` says it in one line, status 2;
    the steps written are kept, the manifest says it stopped."""
    if out.exists():
        shutil.rmtree(out)  # this example always starts afresh (main checked it is a monitor's)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model = Adder(cell, args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    probe, _ = adding_batch(8, args.seq_len, gen)  # fixed: the same sequences at every step
    losses: dict[int, float] = {}

    # out_flag: the monitor's refusals name --out, the option this script's user gave;
    # chance_loss: the adding problem's chance level (1/6), which the page draws beside the loss
    chance = AddingProblem(args.seq_len).chance_loss
    with JacobianMonitor(
        model, probe, out=out, every=args.every, chance_loss=chance, out_flag="--out"
    ) as monitor:
        monitor.step(0)  # the network as initialised
        for step in range(1, args.steps + 1):
            x, y = adding_batch(64, args.seq_len, gen)
            loss = nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses[step] = loss.item()
            monitor.step(step, loss=loss)  # kept with each recorded step; the report draws it

    rows = vl.load_results(out)
    state = rows[rows["source"] == "state"]
    fits = vl.fit_decay(state[["step", "layer", "lag", "log10_fro_mean"]])
    half = args.seq_len // 2
    print(f"\n{cell}, H={args.hidden}, T={args.seq_len}; always answering 1 scores 1/6 = 0.167")
    print(" step   loss (mean of last 50)   rate /step   log10 ||dh_T/dh_T-k|| at k=T/2")
    for fit in fits.sort_values("step").itertuples():
        at = state[(state["step"] == fit.step) & (state["lag"] == half)]
        recent = [losses[s] for s in range(max(1, fit.step - 49), fit.step + 1) if s in losses]
        loss_text = f"{sum(recent) / len(recent):.4f}" if recent else "-"
        print(
            f"{fit.step:5d}   {loss_text:>22}   {fit.rate:10.4f}   "
            f"{float(at['log10_fro_mean'].iloc[0]):8.2f}"
        )
    print(f"run directory: {out}  (vanishlab report {out})")


def at_least(low: int):
    """An argparse type: an integer >= ``low``. --seq-len 0, --hidden 0, --every 0 and
    --threads 0 ended in a traceback from torch or the monitor, and --steps -1 and --steps 0
    trained nothing without a word."""

    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return read


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (--lr -1 was Adam's traceback)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="rnn,irnn", help=f"comma-separated, of {list(CELLS)}")
    # two halves of at least one step each: the task marks one step in each
    parser.add_argument("--seq-len", type=at_least(2), default=50)
    parser.add_argument("--hidden", type=at_least(1), default=64)
    # at least one training step: --steps 0 measured the network as initialised alone, which
    # `vanishlab analyze` of a checkpoint does without training
    parser.add_argument("--steps", type=at_least(1), default=1000)
    parser.add_argument("--every", type=at_least(1), default=100)
    parser.add_argument("--lr", type=positive_float, default=1e-3)
    parser.add_argument("--seed", type=at_least(0), default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/monitor-adding"),
        help="each network's run goes in OUT/<cell>, replaced on every run (only a monitor's "
        "run directory is replaced; anything else there is refused)",
    )
    parser.add_argument(
        "--threads",
        type=at_least(1),
        default=1,
        help="torch threads; the printed numbers (docs/trained.md) are those of 1: another "
        "count sums in another order, and the IRNN's training amplifies the rounding",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cells = args.cell.split(",")
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        parser.error(f"unknown --cell {', '.join(unknown)} (choose from {', '.join(CELLS)})")
    try:
        for cell in cells:
            out = args.out / cell
            if out.is_symlink() or (out.exists() and not is_monitor_run(out)):
                parser.error(
                    f"{out} exists and is not this example's run (a monitor's); choose --out"
                )
        for cell in cells:
            train(cell, args, args.out / cell)
        sys.stdout.flush()  # a full disk under the output says so here, not at exit
    except vl.VanishlabError as err:  # the user's to act on (vanishlab.errors): one line
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except BrokenPipeError:  # the reader went away (| head): quietly, as SIGPIPE would end it
        release_stdout()
        sys.exit(141)
    except OSError as err:  # a path the system refuses (a name too long), a full standard output
        where = "the standard output" if err.filename is None else err.filename
        release_stdout()
        parser.exit(2, f"{parser.prog}: error: cannot use {where}: {err.strerror or err}\n")


def release_stdout() -> None:
    """Point the standard output at the null device, so that the interpreter's flush at exit
    cannot fail a second time (and print its own "Exception ignored" lines) after the one-line
    error: Python's advice for a broken pipe."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (a test's captured output)
        return
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)


if __name__ == "__main__":
    main()
