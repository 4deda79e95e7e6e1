"""Mean field vs measurement: decay rate against gain and input noise, tanh and relu, H = 256.

Mean-field theory (Poole et al. 2016; Schoenholz et al. 2017; Chen, Pennington & Schoenholz
2018) predicts the rate 0.5 ln chi_1 of a random RNN with W_hh ~ N(0, g^2/H) driven by input
noise: relu's edge of chaos sits at g = sqrt(2) whatever the input, tanh's moves from g = 1
without input to larger gains as the input grows (noise suppresses chaos). ``normal`` meets
the theory's assumptions (i.i.d. entries, W_ih x_t of variance input_std^2 per unit);
``orthogonal`` (a random orthogonal W_hh times g; its input weights keep their own scale,
as for every init) is approximate: its entries are not independent. H = 256 keeps the
finite-width bias near 3/H = 0.01 per step; T = 200 leaves 150 lags past the transient.
input_std = 0 puts tanh at the origin, where the linear regime (ln rho(W_hh)) applies instead,
and makes every relu Jacobian exactly zero. Relu at gains above sqrt(2) explodes: the largest
gains overflow float32 and are recorded as failed. The "Theory vs measurement" section of the
report puts each measured rate beside its prediction and flags where theory stops holding.
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    activation=("tanh", "relu"),
    init=("normal", "orthogonal"),
    gain=(0.5, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0),
    input_std=(0.0, 0.5, 1.0, 2.0),
    hidden_size=256,
    input_size=256,
    seq_len=200,
    bias=False,
    batch=4,
    seed=range(2),
)

SMOKE = SWEEP.replace(
    gain=(0.5, 2.0),
    input_std=(0.0, 1.0),
    hidden_size=8,
    input_size=4,
    seq_len=20,
    batch=2,
    seed=0,
)
"""Seconds-long: both sides of the edge, with and without input, tiny, one seed."""

SECTIONS = ["theory", "gain", "decay", "rates"]
