"""Trainability: does the gradient measured at initialisation predict what a network can learn?

Each cell is measured at initialisation on the adding problem's own inputs (Le et al. 2015;
chance MSE 1/6), then trained for 1000 Adam steps (lr 1e-2, clip 1, 64 fresh sequences a step)
and scored: solved when the held-out MSE ends below 0.1 x chance (docs/trainability.md). A tanh
net at gain 0.5 loses its gradient within tens of steps and fails from T = 40 on; the IRNN (relu,
identity, gain 1) keeps it and learns the longest lag, T = 80 (docs/trainability.md has the
measured grid: it missed T = 40 by a hair there, and solved it on another CPU, whose rounding
training amplifies). ``input_std`` is set to the r.m.s. of the adding inputs
(E[u^2] = 1/3 and a marker at 2 of T steps: sqrt(1/6) as T grows), the drive the mean field is
told; the measured cells see the task's inputs themselves.
"""

import vanishlab as vl
from vanishlab.core.training_facts import TRAINABILITY_STEPS

SWEEP = vl.Sweep(
    activation=("tanh", "relu"),
    init=("normal", "identity"),
    gain=(0.5, 1.0),
    seq_len=(10, 20, 40, 80),
    hidden_size=32,
    input_size=2,
    input_std=0.41,
    batch=64,
    task="adding",
    train_steps=TRAINABILITY_STEPS,
    lr=0.01,
    seed=0,
)

SMOKE = SWEEP.replace(
    activation=("tanh",),
    init=("normal",),
    gain=(0.25, 1.0),
    seq_len=(6, 60),
    hidden_size=16,
    batch=32,
    train_steps=300,
)
"""Seconds: tanh at gain 0.25 solves T = 6 and not T = 60, where its gradient at the first
marker has fallen below e^-40 (the rigor pair of docs/trainability.md, through the sweep)."""

SECTIONS = ["trainability", "decay", "input", "rates"]
