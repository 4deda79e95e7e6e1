"""Activation x initialisation: how fast gradients vanish for each init under tanh and relu.

Every built-in nn.RNN init at gain 1 (``vanishlab inits``), both activations: whether the inits
proposed to keep the gradient norm (orthogonal, Saxe et al. 2014; identity, Le et al. 2015) do,
and which make it vanish fast (PyTorch's default, whose W_hh has entry variance 1/(3H), an
effective mean-field gain of 1/sqrt(3)).

Measured (this SWEEP: H = 64, T = 100, 3 seeds; rate in ln per step, mean +- sd over seeds),
each proposal holds for one activation only. Under tanh orthogonal keeps it longest (-0.268 +-
0.001), the Kaiming inits next (-0.29, -0.31 +- 0.01), while identity is nearly as fast as the
default (-0.54 +- 0.05 against -0.61 +- 0.04: a driven tanh unit's derivative is below 1).
Under relu identity keeps it (-0.011 +- 0.001), the Kaiming inits' variance 2/H makes it grow
(+0.09 +- 0.09 and +0.09 +- 0.11), and orthogonal (-0.365 +- 0.009) is within the seeds' spread
of normal and the Xavier inits (-0.33 +- 0.04, -0.32 +- 0.07): three seeds rank none of them.
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
