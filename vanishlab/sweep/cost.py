"""How long a cell takes, estimated from its sizes: the weight of each cell in a sweep's time
left (:class:`~vanishlab.sweep.progress.Progress`), and the order local workers and a Dask
cluster take cells in (the longest first).

With T = ``seq_len``, L = ``num_layers``, B = ``batch``, H = ``hidden_size``, G the gate
blocks (1 for an RNN, 4 an LSTM, 3 a GRU), S = ``train_steps`` and C = min(T, 16) (the first
chunk of the spectral queue, whose norms start cold), a cell takes about

    CELL_S + LAYER_S L G H^2 + COLD_S C L G B H^2 + T L G (STEP_S + NUMBER_S B H^2)
    + S (TRAIN_S + T L (TRAIN_STEP_S[model] + TRAIN_NUMBER_S[model] Bt H^2))

seconds: a fixed part (the module built, the summary row), each step of the backward loop
(the overhead of each operation, more of them for gates, and the work on its (B, H, H)
matrices: the products and the spectral norms), and each step of a trained cell's training:
its own fixed part (a batch drawn, the loss, Adam's update), then each time step of its
forward and backward pass, by model (PyTorch 2.13 on the CPU runs a whole LSTM layer as one
oneDNN operation, a GRU as ~14 autograd operations a time step, an RNN as ~4: a GRU's time
step costs 3x an LSTM's). The constants
are non-negative least-squares fits of the relative error to cells timed with ``run_cell`` on
one thread of a loaded 2-core machine (RNN and LSTM, H = 32-256, T = 2-600, L = 1-2, B = 8; the
training terms to trained cells less the same cells untrained: RNN, LSTM and GRU, H = 16-64,
T = 6-200, S = 50-1000, L = 1-2, B = 32-64, the trainability grids' among them): the
estimate falls within 0.32-1.9x of every untrained cell of that fit, where B L T H^3 alone (the
workers' order until then) ranged over 0.01-20x, since a short cell's fixed part and cold norms
outweigh its steps (T = 20 took a sixth of T = 600, not a thirtieth), and within 0.63-1.36x of
every trained cell (its training terms within 0.70-1.26x of the training's time). The one
training term per time step these replaced, fitted to RNNs of T <= 80, put trained cells at
2.5-10x their time (300 steps of T = 60 at 7.5 s, measured 0.8-1.1 s: 9.6x T = 6's, measured
3.1x). The untrained terms, not refitted, put an untrained LSTM or GRU of B = 64 on the
adding task's inputs at 2.2-3.6x its time (the trained LSTM at 0.63x above is one such).
Beyond H = 256 the products' own cost, H^3, takes over (nn.RNN(16, 1024) at B = 8:
2.3 s a step against 0.1 s estimated), which these constants do not follow. Only ratios
matter: the time left is this invocation's own pace (its seconds per estimated second) times
the estimate of the cells left, so a faster or slower machine scales every cell alike.
"""

from __future__ import annotations

from ..core.cells import GATE_BLOCKS
from .config import CellConfig

__all__ = ["cell_cost"]

CELL_S = 0.033  # the module and inputs built, the rows aggregated, the summary row
LAYER_S = 6.9e-7  # ... per number of each layer's and gate block's (H, H) weights
COLD_S = 1.7e-8  # each of the first 16 lags, per number of its (B, H, H) matrices (cold norms)
STEP_S = 3.2e-4  # each step of the backward loop, per layer and gate block: overhead
NUMBER_S = 1.26e-8  # ... per number of its (B, H, H) matrices: products, norms
TRAIN_S = 5.0e-4  # each training step: a batch drawn, the loss, clipping, Adam's update
# ... and each time step and layer of it, by model: autograd's overhead
TRAIN_STEP_S: dict[str, float] = {"rnn": 3.4e-5, "lstm": 3.8e-5, "gru": 1.13e-4}
# ... and per number of its (Bt, H, H) matrices (the products, all gate blocks together)
TRAIN_NUMBER_S: dict[str, float] = {"rnn": 3.6e-10, "lstm": 2.0e-10, "gru": 6.7e-10}


def cell_cost(config: CellConfig) -> float:
    """The seconds ``config`` takes on the machine the constants were fitted on (above)."""
    T, L, B, H = config.seq_len, config.num_layers, config.batch, config.hidden_size
    G = GATE_BLOCKS[config.model]
    fixed = CELL_S + LAYER_S * L * G * H * H + COLD_S * min(T, 16) * L * G * B * H * H
    trained = 0.0
    if config.train_steps > 0:
        from .train_cell import TRAIN_BATCH  # (torch: trained cells only, as memory's)

        model = config.model
        per_time_step = TRAIN_STEP_S[model] + TRAIN_NUMBER_S[model] * TRAIN_BATCH * H * H
        trained = TRAIN_S + T * L * per_time_step
    step = STEP_S + NUMBER_S * B * H * H
    return fixed + T * L * G * step + config.train_steps * trained
