"""Sequence length: is the per-step decay rate of ||dh_T/dh_{T-k}|| independent of T?

Pascanu, Mikolov & Bengio (2013): the Jacobian over k steps is a product of k one-step
Jacobians, so its log-norm should fall on a line in k whose slope does not depend on how long
the sequence is. Longer sequences only extend the line (and push relu towards overflow).
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    activation=("tanh", "relu"),
    init=("default", "orthogonal"),
    seq_len=(25, 50, 100, 200, 400),
    hidden_size=64,
    seed=range(3),
)

SMOKE = SWEEP.replace(seq_len=(5, 10, 20), hidden_size=8, input_size=4, batch=2, seed=0)
"""Seconds-long: three sequence lengths, tiny, one seed."""

SECTIONS = ["decay", "input", "rates"]
