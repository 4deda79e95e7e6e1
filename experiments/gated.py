"""Gated cells: do LSTMs and GRUs keep gradients alive longer than a tanh RNN?

Gating is the standard remedy for vanishing gradients (Hochreiter & Schmidhuber 1997; Cho et al.
2014): an LSTM's cell state c_t = f c_{t-1} + i g carries a path whose one-step Jacobian is the
forget gate's diagonal, and a GRU's h_t = (1 - z) n + z h_{t-1} one whose Jacobian is z. So log
||ds_T/ds_{T-k}|| should still fall on a line in k, flatter than a tanh RNN's as far as those
gates stay open. At these inits they do not stay open much: measured, the gated cells' line is a
little flatter at PyTorch's default init and steeper with orthogonal blocks than the RNN's
(README, after "sweep gated --model rnn"; the gate inits forget_bias and chrono flatten it,
swept with --model lstm,gru --init forget_bias,chrono). The three models are compared at matched
hidden size H = 64 across the sequence length T, the depth L and the init (PyTorch's default;
orthogonal recurrent blocks per gate, see docs of vanishlab.sweep.inits), with the RNN's tanh
activation (the LSTM's and GRU's candidate activation). Gated cells have no theory here (no
mean-field overlay); the RNN's rates are beside their mean-field predictions in the report's
theory section.
"""

import vanishlab as vl

SWEEP = vl.Sweep(
    model=("rnn", "lstm", "gru"),
    activation="tanh",
    init=("default", "orthogonal"),
    num_layers=(1, 2),
    seq_len=(50, 100, 200),
    hidden_size=64,
    seed=range(3),
)

SMOKE = SWEEP.replace(
    seq_len=(6, 12),
    hidden_size=8,
    input_size=4,
    batch=2,
    seed=(0,),
)

SECTIONS = ["models", "decay", "rates", "theory"]
