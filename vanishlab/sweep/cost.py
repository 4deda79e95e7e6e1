"""How long a cell takes, estimated from its sizes: the weight of each cell in a sweep's time
left (:class:`~vanishlab.sweep.progress.Progress`), the order local workers and a Dask
cluster take cells in (the longest first), and the time ``--dry-run`` prints (:func:`sweep_cost`).

With T = ``seq_len``, L = ``num_layers``, B = ``batch``, H = ``hidden_size``, G the gate
blocks (1 for an RNN, 4 an LSTM, 3 a GRU), S = ``train_steps`` and C = min(T, 16) (the first
chunk of the spectral queue, whose norms start cold), a cell takes about

    cell + summary[rnn] L H^3 + cold C L B H^3
    + T L (step[model] + number G B H^2 + product[model] B H^3)
    + S (TRAIN_S + T L (TRAIN_STEP_S[model] + TRAIN_NUMBER_S[model] Bt H^2))

seconds (:data:`UNTRAINED_S` holds the untrained constants, :func:`untrained_terms` what each
multiplies): a fixed part (the module built, the summary row; an RNN's summary also takes the
eigenvalues and singular values of each layer's W_hh, H^3 work), the cold lags' spectral norms
(H^3 work per matrix), each step of the backward loop (the overhead of its operations, the
work on its (B, H, H) matrices per gate block, and the products of those matrices, H^3 each,
(H, 2H) for an LSTM's [h | c]), and each step of a trained cell's training: its own fixed
part (a batch drawn, the loss, Adam's update), then each time step of its forward and backward
pass, by model (PyTorch 2.13 on the CPU runs a whole LSTM layer as one oneDNN operation, a GRU
as ~14 autograd operations a time step, an RNN as ~4: a GRU's time step costs 3x an LSTM's).

The untrained constants are a fit (non-negative least squares of the relative error, then of
the log of measured / estimated) to the CPU seconds of untrained cells timed with ``run_cell``
on one thread of a loaded 2-core machine, each the best of 3 rounds interleaved (best of 2 for
the longest): RNN, LSTM and GRU, H = 16-1024, B = 1, 8, 64, T = 2-400, L = 1 (170 cells;
``benchmarks/fit_cost.py``, its timings in ``benchmarks/results/``). The estimate falls within
0.58-1.88x of every cell of that fit and 0.62-1.54x of 33 held out (L = 2; H = 48-768; B = 4,
16, 32; the adding task's inputs at B = 64), the median of each H within 0.79-1.03. The constants
before (fitted to RNN and LSTM cells of B = 8, H = 32-256) ranged over 0.16-2.63x of the same
cells, median 0.43-0.56 for H <= 256 but 1.12 at H = 1024: they grew as B H^2 a step, where
a lag of nn.RNN(16, 1024) at B = 8 took 0.77 CPU s against 0.11 s estimated (7x; their
median cell 0.5x), and a lag past the cold 16 measured 6.5x from H = 256 to 512 (H^3: 8x);
a long cell of H = 1024 now weighs 32-36x one of H = 256 (RNN, LSTM), not 15x. An untrained
LSTM or GRU of B = 64 on the adding task's inputs lay at 0.32-0.51x (its Gaussian twin
alike: the batch, not the inputs), now 0.68-1.28x. The many small cells' spread (a lag
past the first 16 costs less as the norms warm, and the norms' work depends on the weights,
not only on the sizes) is what is left. The training terms were fitted apart, to trained
cells less the same cells untrained (RNN, LSTM and GRU, H = 16-64, T = 6-200, S = 50-1000,
L = 1-2, B = 32-64: within 0.63-1.36x), and scaled by 1.55 to the CPU seconds above: 5
trained cells timed with the untrained ones lie within 0.82-1.31x. Only ratios matter: the
time left is this invocation's own pace (its seconds per estimated second) times the estimate
of the cells left, so a faster or slower machine scales every cell alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..core.cells import GATE_BLOCKS
from .config import CellConfig

__all__ = ["UNTRAINED_S", "cell_cost", "sweep_cost", "untrained_terms"]

# The untrained terms: seconds per unit of what each multiplies (untrained_terms)
UNTRAINED_S: dict[str, float] = {
    "cell": 0.027,  # the module and inputs built, the rows aggregated, the summary row
    "summary": 1.7e-9,  # an RNN's summary, per H^3 of each layer: W_hh's eigen/singular values
    "cold": 1.37e-10,  # each of the first 16 lags and layer, per B H^3: its cold spectral norms
    "step_rnn": 3.7e-4,  # each step of the backward loop and layer, by model: the overhead
    "step_lstm": 2.0e-4,
    "step_gru": 2.0e-4,
    "number": 6.3e-9,  # ... per number of its (B, H, H) matrices, each gate block's: the norms
    "product_rnn": 1.6e-11,  # ... per B H^3 (B products of (H, H) matrices), by model
    "product_lstm": 4.5e-11,  # (an LSTM's state is [h | c]: (H, 2H) matrices)
    "product_gru": 0.0,  # (none measured beyond the per-number term, at H <= 1024)
}
# The training terms (fitted apart, to trained cells less the same cells untrained; then
# scaled by 1.55 to the CPU seconds of the untrained fit): each training step's fixed part,
# a batch drawn, the loss, clipping, Adam's update
TRAIN_S = 7.8e-4
# ... and each time step and layer of it, by model: autograd's overhead
TRAIN_STEP_S: dict[str, float] = {"rnn": 5.3e-5, "lstm": 5.9e-5, "gru": 1.75e-4}
# ... and per number of its (Bt, H, H) matrices (the products, all gate blocks together)
TRAIN_NUMBER_S: dict[str, float] = {"rnn": 5.6e-10, "lstm": 3.1e-10, "gru": 1.04e-9}


def untrained_terms(config: CellConfig) -> dict[str, float]:
    """What each of :data:`UNTRAINED_S` multiplies for ``config`` (its measurement at init)."""
    T, L, B, H, model = (
        config.seq_len, config.num_layers, config.batch, config.hidden_size, config.model
    )  # fmt: skip
    terms = {name: 0.0 for name in UNTRAINED_S}
    terms.update(
        cell=1.0,
        summary=L * H**3 if model == "rnn" else 0.0,
        cold=min(T, 16) * L * B * H**3,
        number=T * L * GATE_BLOCKS[model] * B * H * H,
    )
    terms["step_" + model] = T * L
    terms["product_" + model] = T * L * B * H**3
    return terms


def cell_cost(config: CellConfig) -> float:
    """The seconds ``config`` takes on the machine the constants were fitted on (above)."""
    T, L, H = config.seq_len, config.num_layers, config.hidden_size
    terms = untrained_terms(config)
    untrained = sum(UNTRAINED_S[name] * terms[name] for name in UNTRAINED_S)
    trained = 0.0
    if config.train_steps > 0:
        from .train_cell import TRAIN_BATCH  # (torch: trained cells only, as memory's)

        model = config.model
        per_time_step = TRAIN_STEP_S[model] + TRAIN_NUMBER_S[model] * TRAIN_BATCH * H * H
        trained = TRAIN_S + T * L * per_time_step
    return untrained + config.train_steps * trained


def sweep_cost(cells: Sequence[CellConfig], workers: int) -> float:
    """The seconds ``cells`` take in ``workers`` processes of one thread each (``--dry-run``
    says it): their :func:`cell_cost` summed and shared among the workers, no less than the
    longest cell's (one worker measures a cell; they take the longest first)."""
    costs = [cell_cost(c) for c in cells]
    return max(math.fsum(costs) / workers, max(costs, default=0.0))
