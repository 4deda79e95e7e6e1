"""How long a cell takes, estimated from its sizes: the weight of each cell in a sweep's time
left (:class:`~vanishlab.sweep.progress.Progress`), the order local workers and a Dask
cluster take cells in (the longest first), and the time ``--dry-run`` prints (:func:`sweep_cost`).

With T = ``seq_len``, L = ``num_layers``, B = ``batch``, H = ``hidden_size``, I =
``input_size``, G the gate blocks (1 for an RNN, 4 an LSTM, 3 a GRU), W the state's width in
H (2 for an LSTM's [h | c], else 1), S = ``train_steps`` and C = min(T, 16) (the first chunk
of the spectral queue, whose norms start cold), a cell takes about

    cell + L (summary[rnn] H^3 + summary_h2[rnn] H^2) + first W L B H^3 + cold C L B H^3
    + T L (step[model] + number G B H^2 + product[model] B H^3) + inputs T W B H^2 I
    + S (TRAIN_S + T L (TRAIN_STEP_S[model] + TRAIN_NUMBER_S[model] Bt H^2))

seconds (:data:`UNTRAINED_S` holds the untrained constants, :func:`untrained_terms` what each
multiplies): a fixed part (the module built, the summary row; an RNN's summary also takes the
eigenvalues and singular values of each layer's W_hh, H^3 work that runs faster per unit as
H grows, so an H^2 term beside it), the first lag's spectral norms, from a random start, and
the other cold lags' (H^3 work per matrix), each step of the backward loop (the overhead of
its operations, the work on its (B, H, H) matrices per gate block, and the products of those
matrices, H^3 each, (H, 2H) for an LSTM's [h | c]), each lag's input Jacobians ((W H, I)
products), and each step of a trained cell's training: its own fixed part (a batch drawn, the
loss, Adam's update), then each time step of its forward and backward pass, by model (PyTorch
2.13 on the CPU runs a whole LSTM layer as one oneDNN operation, a GRU as ~14 autograd
operations a time step, an RNN as ~4: a GRU's time step costs 3x an LSTM's).

The untrained constants are a fit (non-negative least squares of the relative error, then of
the log of measured / estimated) to the CPU seconds of untrained cells timed with ``run_cell``
on one thread of a loaded 2-core machine, each the best of its rounds: RNN, LSTM and GRU,
H = 16-1024, B = 1, 8, 64, T = 2-400, L = 1, I = 16 (170 cells, best of 2-3;
``benchmarks/fit_cost.py``), H = 2048 and 4096 at B = 1, T = 2-8 (9 cells, best of 2) and
H = 128-256 at T = 400, B = 8, I = 16 and I = H or 4H (8 cells, best of 3;
``benchmarks/cost_ends.py``; the timings and the fit's log in ``benchmarks/results/``). The
estimate falls within 0.61-1.86x of the 170 cells, 0.81-1.13x of the 9 and 0.53-1.08x of the
8, and of cells held out within 0.64-1.48x (33 cells: L = 2; H = 48-768; B = 4, 16, 32; the
adding task's inputs at B = 64) and 0.64-1.61x (9 cells of T = 1000-1990: L = 1-3, float32 and
float64, I = 16 and 256); the median of each H within 0.82-1.11. The constants before (no
first lag, no H^2 part of the summary, no input term; fitted to the 170 cells alone) lay
within 0.40-1.96x of the 9 large cells: nn.RNN(4096) at 0.40x (its summary's H^3 term alone
117 s of 138 s estimated, where the cell measured 55 s), an LSTM of H = 2048, T = 2 at 1.96x;
and within 0.53-1.70x of the 8, estimating a cell of I = H as one of I = 16 where it measured
1.8-2.1x (an LSTM of H = 128, I = 512: 1.70x). ``vanishlab analyze`` measures as the cell of
its sizes does (its own I) at PyTorch's weights: 0.80-0.92x for analyses of 1.3-38 s (H =
128-256, T = 400-1990), 1.64x for one of 1.1 s (its checkpoint read and its run directory
written, ~0.4 s). But the norms' work depends on the weights, not only on the sizes: an LSTM
whose forget-gate biases are +6 (the slow gates whose longer run ``analyze``'s page asks for)
took 1.7x as long at T = 400-500 and 2.6x at T = 1990 (nn.LSTM(256, 256), B = 8: 94-98 s
against 37 s; 2.05x its estimate), so such a model's estimate is low. The many small cells'
spread (a lag past the first 16 costs less as the norms warm) is what is left, and the
machine's: the same cell timed on two days differed by 1.7x (GRU, H = 256, T = 400: 4.03 and
2.32 s). The training terms were fitted apart, to trained cells less the same cells untrained
(RNN, LSTM and GRU, H = 16-64, T = 6-200, S = 50-1000, L = 1-2, B = 32-64: within
0.63-1.36x), and scaled by 1.55 to the CPU seconds above: 5 trained cells timed with the
untrained ones lie within 0.83-1.31x. A run's own start is not a cell's: the time left
and the order of the cells leave it out, but :func:`sweep_cost` (what ``--dry-run`` says the
command will take) counts it: :data:`START_S` for the command (imports, the plan, the
manifest; one worker measures the cells in this process) and, where a pool of workers
starts, :data:`WORKER_START_S` (the forkserver and each worker's imports, side by side).
Measured as the CPU seconds of the whole process tree (the forkserver and the workers too)
of sweeps of tiny cells (nn.RNN(2, 4), T = 4, B = 1) on the loaded 2-core machine, warm
bytecode, 3 runs each: one cell 2.1-2.2 s (wall 4.4-4.6 s at a load average of 5), at
--workers 1 and 2 alike; two cells 2.2-2.7 s in one worker, 4.2-4.4 s in 2 (wall 8.6-9.2 s)
(the log: benchmarks/results/sweep_start_dev-2core_2026-12-06.log; ``vanishlab analyze``'s own
start, ~2 s, is not a sweep's). Only ratios matter to the time left: it is this invocation's
own pace (its seconds per estimated second) times the estimate of the cells left, so a faster
or slower machine scales every cell alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..core.cells import GATE_BLOCKS, RNN_THEORY_MODELS, STATE_WIDTH
from .config import CellConfig

__all__ = [
    "START_S",
    "UNTRAINED_S",
    "WORKER_START_S",
    "cell_cost",
    "start_cost",
    "sweep_cost",
    "untrained_terms",
]

# A sweep's own start, CPU seconds (above): the command's imports, plan and manifest ...
START_S = 2.2
# ... and, where it starts a pool of workers, their start (the forkserver, each worker's
# imports: 2.0-2.2 s of CPU for two, side by side on their cores)
WORKER_START_S = 1.1

# The untrained terms: seconds per unit of what each multiplies (untrained_terms)
UNTRAINED_S: dict[str, float] = {
    "cell": 0.0255,  # the module and inputs built, the rows aggregated, the summary row
    "summary": 1.71e-10,  # an RNN's summary, per H^3 of each layer: W_hh's eigen/singular
    "summary_h2": 9.1e-7,  # values; ... and per H^2 (an H^3 term alone read 3.5x at 4096)
    "first": 2.34e-10,  # each layer, per W B H^3: the first lag's norms, from a random start
    "cold": 7.1e-11,  # each of the first 16 lags and layer, per B H^3: its cold spectral norms
    "step_rnn": 3.47e-4,  # each step of the backward loop and layer, by model: the overhead
    "step_lstm": 2.14e-4,
    "step_gru": 2.21e-4,
    "number": 6.4e-9,  # ... per number of its (B, H, H) matrices, each gate block's: the norms
    "product_rnn": 1.9e-11,  # ... per B H^3 (B products of (H, H) matrices), by model
    "product_lstm": 2.7e-11,  # (an LSTM's state is [h | c]: (H, 2H) matrices)
    "product_gru": 0.0,  # (none measured beyond the per-number term, at H <= 4096)
    "inputs": 2.1e-11,  # each lag, per W B H^2 I: the input Jacobians' (W H, I) products
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
    width = STATE_WIDTH[model]  # an LSTM's state, [h | c]
    terms = {name: 0.0 for name in UNTRAINED_S}
    terms.update(
        cell=1.0,
        summary=L * H**3 if model in RNN_THEORY_MODELS else 0.0,  # its theory's terms
        summary_h2=L * H**2 if model in RNN_THEORY_MODELS else 0.0,
        first=L * B * H**3 * width,
        cold=min(T, 16) * L * B * H**3,
        number=T * L * GATE_BLOCKS[model] * B * H * H,
        inputs=T * B * H * H * config.input_size * width,
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


def start_cost(workers: int, *, pool: bool = True) -> float:
    """The seconds a sweep takes before its first cell: :data:`START_S`, and where more than
    one worker is started here (``pool``; a Dask cluster's workers are running already)
    :data:`WORKER_START_S`."""
    return START_S + (WORKER_START_S if pool and workers > 1 else 0.0)


def sweep_cost(cells: Sequence[CellConfig], workers: int, *, pool: bool = True) -> float:
    """The seconds a sweep of ``cells`` takes in ``workers`` processes of one thread each
    (``--dry-run`` says it): its start (:func:`start_cost`), then the cells' :func:`cell_cost`
    summed and shared among the workers, no less than the longest cell's (one worker
    measures a cell; they take the longest first)."""
    costs = [cell_cost(c) for c in cells]
    work = max(math.fsum(costs) / workers, max(costs, default=0.0))
    return start_cost(workers, pool=pool) + work
