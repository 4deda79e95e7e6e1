"""Gain phase diagram: decay rate against gain, per activation and init (vanishing | exploding).

The rate d ln||J|| / dk crosses zero at the edge of chaos. For W_hh ~ N(0, g^2/H) (init
``normal``) mean-field theory puts it at chi_1 = 1 (Poole et al. 2016): g = sqrt(2) for relu,
and g near 1.9 for tanh driven by unit-variance input (input noise suppresses chaos; at zero
input it would be g = 1). Orthogonal weights scaled by g decay at ln g per step at the origin.
Relu far beyond the edge may overflow its forward pass: such cells are recorded as failed.
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    activation=("tanh", "relu"),
    init=("normal", "orthogonal", "default"),
    gain=(0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0),
    seq_len=100,
    hidden_size=64,
    seed=range(3),
)

SMOKE = SWEEP.replace(
    init=("normal", "orthogonal"),
    gain=(0.5, 1.0, 2.0),
    hidden_size=8,
    input_size=4,
    seq_len=10,
    batch=2,
    seed=0,
)
"""Seconds-long: three gains (vanishing, near the edge, exploding), tiny, one seed."""

SECTIONS = ["gain", "rates", "decay"]
