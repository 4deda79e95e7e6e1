"""Depth: gradients through 1 to 4 stacked layers, in time and down the stack.

In a stacked nn.RNN the gradient reaching layer l at lag k has travelled k steps in time and
L-1-l layers down, each layer step a factor D W_ih: the depth x lag heatmaps show whether
depth adds to the decay or leaves the per-step rate alone.
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    num_layers=(1, 2, 3, 4),
    activation=("tanh", "relu"),
    init=("default", "orthogonal"),
    seq_len=100,
    hidden_size=64,
    seed=range(3),
)

SMOKE = SWEEP.replace(
    num_layers=(1, 2, 3), init="default", hidden_size=8, input_size=4, seq_len=8, batch=2, seed=0
)
"""Seconds-long: three depths, both activations, PyTorch's default init, tiny, one seed."""

SECTIONS = ["decay", "depth", "rates"]
