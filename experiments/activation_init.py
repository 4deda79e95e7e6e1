"""Activation x initialisation: how fast gradients vanish for each init under tanh and relu.

Every built-in nn.RNN init at gain 1 (``vanishlab inits``), both activations: which inits keep the
gradient norm longest (orthogonal, identity; Saxe et al. 2014, Le et al. 2015) and which make
it vanish fast (PyTorch's default, whose W_hh has entry variance 1/(3H), an effective
mean-field gain of 1/sqrt(3)).
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    activation=("tanh", "relu"),
    init=(
        "default",
        "xavier_uniform",
        "xavier_normal",
        "kaiming_uniform",
        "kaiming_normal",
        "orthogonal",
        "identity",
        "normal",
    ),
    seq_len=100,
    hidden_size=64,
    seed=range(3),
)

SMOKE = SWEEP.replace(hidden_size=8, input_size=4, seq_len=10, batch=2, seed=0)
"""Seconds-long: every init and activation of the study, tiny, one seed."""

SECTIONS = ["decay", "input", "rates"]
