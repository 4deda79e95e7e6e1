"""How long a cell takes, estimated from its sizes: the weight of each cell in a sweep's time
left (:class:`~vanishlab.sweep.progress.Progress`), and the order local workers and a Dask
cluster take cells in (the longest first).

With T = ``seq_len``, L = ``num_layers``, B = ``batch``, H = ``hidden_size``, G the gate
blocks (1 for an RNN, 4 an LSTM, 3 a GRU), S = ``train_steps`` and C = min(T, 16) (the first
chunk of the spectral queue, whose norms start cold), a cell takes about

    CELL_S + LAYER_S L G H^2 + COLD_S C L G B H^2 + T L G (STEP_S + NUMBER_S B H^2)
    + S T L (TRAIN_STEP_S + TRAIN_NUMBER_S G Bt H^2)

seconds: a fixed part (the module built, the summary row), each step of the backward loop
(the overhead of each operation, more of them for gates, and the work on its (B, H, H)
matrices: the products and the spectral norms), and each step of a trained cell's training.
The constants are non-negative least-squares fits of the relative error to cells timed with
``run_cell`` on one thread of a loaded 2-core machine (RNN and LSTM, H = 32-256, T = 2-600,
L = 1-2, B = 8; an RNN trained with H = 16-64, T = 10-80, S = 100-300, B = 64): the estimate
falls within 0.32-1.9x of every cell measured (0.52-1.12x of every cell trained), where
B L T H^3 alone (the workers' order until then) ranged over 0.01-20x, since a short cell's
fixed part and cold norms outweigh its steps (T = 20 took a sixth of T = 600, not a
thirtieth). Beyond H = 256 the products' own cost, H^3, takes over (nn.RNN(16, 1024) at B = 8:
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
TRAIN_STEP_S = 4e-4  # each training step, per time step and layer (autograd's overhead)
TRAIN_NUMBER_S = 7e-10  # ... per number of its (Bt, H, H) products, per gate block


def cell_cost(config: CellConfig) -> float:
    """The seconds ``config`` takes on the machine the constants were fitted on (above)."""
    T, L, B, H = config.seq_len, config.num_layers, config.batch, config.hidden_size
    G = GATE_BLOCKS[config.model]
    fixed = CELL_S + LAYER_S * L * G * H * H + COLD_S * min(T, 16) * L * G * B * H * H
    trained = 0.0
    if config.train_steps > 0:
        from .train_cell import TRAIN_BATCH  # (torch: trained cells only, as memory's)

        trained = TRAIN_STEP_S + TRAIN_NUMBER_S * G * TRAIN_BATCH * H * H
    step = STEP_S + NUMBER_S * B * H * H
    return fixed + T * L * G * step + config.train_steps * T * L * trained
