"""How much memory a cell needs, and how much this machine has, so a cell that cannot fit is
refused before it starts (instead of failing in the allocator).

With s bytes per number (4 for float32, 8 for float64), T = ``seq_len``, L = ``num_layers``,
B = ``batch``, H = ``hidden_size``, I = ``input_size``, the measurement
(:mod:`vanishlab.core.engine`) holds:

- in its forward phase (the engine's forward pass, then the summary's Lyapunov pass,
  :mod:`vanishlab.sweep.cell_summary`, which makes the states again while the per-sample norms
  are held) every layer's states and activation derivatives, a tanh's pre-activations and the
  temporaries of its derivative, (5 L + 3) / 2 (T + 1) B H s (2 L + 1.25 live: the rest is the
  heap's holes, measured 1.8x the live buffers at T = 4096, H = 32, B = 8, L = 4); a relu's
  states are made in place and it keeps no pre-activations, one number fewer, (5 L + 1) / 2
  (T + 1) B H s (its peak 228-229 MiB at T = 4096, H = 64, B = 64, L = 1, a tanh's 279-300;
  216-226 MiB over 20 runs on 2026-12-07, its estimate 1.65-1.72x those); and the inputs
  T B I s;
- in its backward phase (:mod:`vanishlab.core.engine`) the derivatives alone, L (T + 1) B H s,
  and the inputs; the spectral-norm queues (:mod:`vanishlab.core.spectral`), 16 lags of every
  stream (L state streams of (B, H, H), one input stream of (B, H, I)), 16 (L B H^2 + B H I) s;
  3 working matrices (B, H, H) and one (B, H, I) (the one-layer path's two carried Jacobians
  and the scaled one; a stack's G D operands of the step), whatever L; and the work space of
  the one chunk whose norms are being computed, the largest of its streams': block power
  iteration (a side above 16) copies the chunk's unfinished matrices once a quarter of them is
  done, counted as 5/8 of the chunk (measured 0.36-0.69, and a second copy of a third beside
  the first at H = 512), with 5 blocks of 5 rows, 16 (0.625 m n + 25 max(m, n)) B s for
  (m x n) matrices; Gram matrices (a side of at most 16, or a tall side of at most 32: the
  input stream at the sweep's I = 16) take the chunk in float64, twice (the heap keeps the
  hole of the last chunk's copy: a cell at T = 30, H = 16, B = 256 peaked at 42-63 MiB over
  40 runs on 2026-12-07, 1.03x its estimate at the highest when it was counted once), and
  three (k x k) float64 Gram matrices of its smaller side k, 16 (2 m n + 3 k^2) B 8;
- the weights, L (H^2 + H max(H, I)) s, and the float64 norms of every lag, layer and sample
  with their aggregation over the samples, 10 (T + 1) (L + 1) B 8 for an nn.RNN (6 for a gated
  cell): where the network is narrow (H B small against the inputs and norms) the peak is the
  phase that holds them, not the forward one, and it moves run to run with the heap (glibc's
  dynamic mmap threshold: fixed at 1 MiB, a tanh at T = 2048, H = 2, B = 256 peaked at
  133.5-134.1 MiB in 6 runs; left dynamic, as in a user's process, at 136-162.5 MiB over 42
  runs, a relu at 147-163 MiB over 30; measured 2026-12-07).

The larger phase counts: the forward phase where the sequence is long and the network narrow,
the backward one where the queues dominate (until 2026-12-04 both were added, with 6 L working
matrices and each queue counted twice: 2.0-2.6x the peak of wide nn.RNN cells, and 0.72x at
T = 30, H = 16, B = 256, whose Gram matrices, 8x the queue, were not counted).

An LSTM or GRU (:mod:`vanishlab.core.gated`, G = 4 or 3 gate blocks) holds more of each. Its
forward pass (:mod:`vanishlab.core.gated_forward`) makes every step's gates, coefficients and
their temporaries for all steps at once: 24 numbers per step, sample and unit while the first
layer is made, counted as 28 for the heap's holes between them (a float64 LSTM at T = 2048,
H = 4, B = 64 peaked at 132.5-184.4 MiB over 30 runs on 2026-12-07, 1.02x its estimate at the
highest with 24; now 1.15x), and what each layer keeps, 11 (LSTM) or 6 (GRU) more per layer
above it. Its
spectral queue holds 16 lags of its state rows, (H x 2H) for an LSTM (2 L B H^2 per lag), and of
its h and c blocks apart only when they are asked for (L B H^2 each; a sweep's cell and
``vanishlab analyze`` measure :data:`~vanishlab.core.cells.RUN_SOURCES`, without them), beside
20 (LSTM) or 15 (GRU) (B, H, H) matrices a layer of working matrices and power-iteration space;
G times the weights. These counts were fitted to whole cells' resident peaks on 2026-12-04 (32
shapes: T 30-4096, H 4-512, B 8-256, L 1-4; tests/test_memory_estimate.py): the estimate is
1.25-1.76x the peak for gated cells (1.11-1.78x over 192 narrow ones measured later that day:
LSTM and GRU, H 2-8, T 1024-4096, B 64 and 256, L 1-2, float32 and float64; the tightest a
one-layer float64 LSTM at B = 64; 1-15 % higher since the first layer's 28 numbers, the most
for a long narrow cell); for nn.RNN, as then counted, 1.11-1.64x over 32 shapes,
tanh and relu, but for a tiny stack (T = 200, H = 8, B = 64, L = 3: 7 MiB; 1.73x a tanh then,
1.83x a relu with 9 float64 numbers, about 1.9x with 10). A relu was counted as a tanh until
2026-12-04: 1.92-1.95x the peak at T = 4096, H = 64, B = 64, and 0.92x at T = 2048, H = 2, B =
256; refitted, 1.11-1.61x over 15 shapes (20 runs) with 9 float64 numbers a lag, layer and
sample, 10 since (T = 2048, H = 2, B = 256 from 1.11-1.20x to 1.17-1.27x in 3 runs). float64
cells, measured then too (7 shapes, T 30-2048, H 4-128, B 8-256, L 1-4): 1.19-1.54x a tanh's
peak, 1.27-1.56x a relu's. A tanh's float64 numbers a lag, layer and sample went from 6 to 8 on
2026-12-04 (T = 2048, H = 2, B = 256 from 1.00-1.04x to 1.16-1.24x in 3 runs) and to a relu's
10 on 2026-12-07, when CI's slow tier read that cell at 1.04x with 8 (a peak of ~161 MiB; its
floor is 1.05x) and 42 runs here reached 162.5 MiB: now 1.18x at that peak. The tanh cells
measured then at 1.09-1.76x (10 shapes, 15 runs) are estimated 0.3-14 % higher since (the
narrowest most: T = 4096, H = 8, B = 128, 1.61-1.75x in 3 runs then, about 1.8-1.9x now).
Before, a gated layer's forward pass was counted as 4 G numbers per step and unit (a GRU at
T = 2048, H = 16, B = 64 peaked at 241 MiB against 175 estimated) and its queue twice with 12
working matrices (2.1x a wide GRU's peak).
Measured with one torch thread.

A trained cell (``train_steps`` > 0, :mod:`vanishlab.sweep.train_cell`) is then trained in the
same process, once the measurement's buffers are freed, and needs the larger of
(:func:`training_bytes`, with Be = ``DEFAULT_EVAL_BATCH`` and Bt = ``TRAIN_BATCH`` sequences):

- the held-out evaluation, PyTorch's forward pass without gradients over Be sequences: every
  step's input projections of a layer (G H numbers), its outputs as a list and stacked (2 H),
  and every layer's outputs below it (L H: PyTorch's CPU forward keeps them to its end),
  (G + 2 + L) T Be H s, and the inputs twice, 2 T Be I s (until 2026-12-07 the layers below
  were counted as one, (G + 3) T Be H s: the evaluation's resident peak at T = 100, Be = 1000,
  H = 64 measured 3.07, 5.41 and 2.11 T Be H s at L = 1 (RNN, GRU, LSTM) and 5.14, 7.46 and
  4.19 at L = 3, one more a layer, and a float64 nn.RNN of 3 relu layers trained at T = 50
  peaked at 154 MiB beyond a warm process against 150 MiB estimated, 0.97x);
- a training step, whose autograd graph keeps per step and layer up to 4 G + 4 numbers of
  Bt H (measured: 7.8 for an RNN, 16.4 for a GRU, 17.7 for an LSTM), (4 G + 4) T L Bt H s;

plus the module's weights four times (parameters, gradients and Adam's two moments), and
:data:`FIRST_TRAINING_BYTES` once, what a process's first training adds. Measured at
T = 100-1000, H = 32-512, L = 1-4, the evaluation alone took up to 4.1, 3.2 and 6.5 T Be H s
(RNN, LSTM, GRU): 1,000 held-out sequences outweigh the measurement's 8 by far (an RNN at
T = 500, H = 128 trained for 2 steps peaked at 1.1 GiB, where the measurement alone was
estimated at 35 MiB).

The sum of these buffers (an nn.RNN's larger phase's), times ``ALLOCATOR_SLACK`` for the freed
blocks the C allocator keeps for reuse rather than returning them (measured on 2026-12-04: the
resident peak ran 1.25-1.51x the live buffers), is an upper estimate of the peak. It leaves
out Python's and torch's fixed overhead of a few hundred MB per process: the process that
measures is alive when the memory available is read. Local workers (``--workers N``) are
not: each one holds :data:`WORKER_BYTES` of its own beside its cell, and the forkserver that
forks them :data:`POOL_BYTES` (:func:`vanishlab.sweep.capacity.check_memory` counts both).
"""

from __future__ import annotations

import functools

from ..core.allocation import format_bytes, memory_limit  # format_bytes: re-exported
from ..core.cells import GATE_BLOCKS, RUN_SOURCES, STATE_WIDTH
from ..core.queue_sizes import CPU_CHUNK, takes_gram
from .config import CellConfig, axis

__all__ = [
    "BESIDE",
    "POOL_BYTES",
    "WORKER_BYTES",
    "cell_bytes",
    "format_bytes",
    "measure_bytes",
    "refused_reason",
    "training_bytes",
]

ALLOCATOR_SLACK = 1.5  # resident peak / live buffers: 1.25-1.51 measured (glibc, 2 cores)
# The nn.RNN counts of the module docstring: working matrices (either path), the share of a
# chunk that block power iteration copies, its blocks of rows (arrays, rows each: the steady
# block's 4 and the look-ahead row). The CPU's queue and the sides up to which it takes Gram
# matrices are vanishlab.core.queue_sizes' (no torch).
_RNN_WORKING = 3
_GRAM_CHUNKS = 2
_BATCH_COPY = 0.625
_BLOCK_ARRAYS, _BLOCK_ROWS = 5, 5
# By the nn.RNN's activation: its forward phase's numbers a step, sample and unit, in halves
# (5 a layer, and 3 more for a tanh, 1 for a relu, which keeps no pre-activations). Its float64
# numbers a lag, layer and sample, 10 whatever the activation (a gated cell's _NORM_ARRAYS):
# narrow cells' peaks there move run to run with the heap by up to ~20 MiB.
_FORWARD_LAYER = 5
_FORWARD_MORE = {"tanh": 3, "relu": 1}
_RNN_NORM_ARRAYS = 10
# The gated counts of the module docstring.
_GATED_FIRST = 28
_GATED_LAYER = {"lstm": 11, "gru": 6}
_GATED_WORKING = {"lstm": 20, "gru": 15}
_NORM_ARRAYS = 6

WORKER_BYTES = 96 * 2**20
"""A local worker's own memory beside its cell's estimate: measured 70-72 MB private
(``Private_Dirty`` of ``/proc/PID/smaps_rollup``) once it had measured a few small cells, torch
2.13's CPU build on Linux, one thread; the rest of its ~250 MB resident is the forkserver's
pages, shared. It holds what a worker's first cell adds once (torch's kernels and thread pools:
a 1 MiB cell's first run grew a fresh worker by 60 MiB, 30 of them torch's code pages, the page
cache's, which the workers share) and the heap a cell leaves to the next. In the pool's own
workers (benchmarks/worker_memory.py, 2026-12-07; 3-4 equal cells a worker, 12 shapes, H 64-1024,
up to 1.4 GiB) the private dirty memory before a cell plus its resident peak stayed 29 MiB or
more under the cell's estimate and this (the least: a 1 MiB cell's worker, at 68 MiB; 34 MiB at
H = 1024, T = 50, B = 1), since 6578370d freed a cell's spectral queues with it (before, they
lived beside the next cell until Python's cyclic collector ran: 512 MiB at H = 1024, T = 50,
B = 8, whose worker peaked 236 MiB over its share)."""
FIRST_TRAINING_BYTES = 128 * 2**20
"""What a process's first training adds once, beside its buffers (autograd's and the
optimizer's code and kernels made on first use): a trained cell's first run in a fresh process
peaked 89 and 105 MiB above its second run after ``malloc_trim`` (an nn.RNN(2, 64) at T = 100,
and a float64 nn.RNN(2, 64, num_layers=3) at T = 50; benchmarks/memory_estimate.py). A sweep's
worker pays it at its first trained cell, which :data:`WORKER_BYTES` (measured on untrained
cells) does not hold."""
POOL_BYTES = 256 * 2**20
"""The forkserver that forks local workers, once: it imports torch, measured 185 MB private
before its first fork (the same build)."""


def cell_bytes(config: CellConfig) -> int:
    """Upper estimate of the memory, in bytes, the measurement of ``config`` needs at its peak,
    and its training when it has ``train_steps``."""
    measured = measure_bytes(
        seq_len=config.seq_len,
        num_layers=config.num_layers,
        batch=config.batch,
        hidden_size=config.hidden_size,
        input_size=config.input_size,
        dtype=config.dtype,
        model=config.model,
        activation=config.activation,
    )
    return max(measured, training_bytes(config)) if config.train_steps > 0 else measured


def training_bytes(config: CellConfig) -> int:
    """Upper estimate of the memory, in bytes, that training ``config`` needs at its peak: its
    held-out evaluation or a training step, whichever is larger (the module docstring)."""
    from ..train.loop import DEFAULT_EVAL_BATCH  # both import torch: trained cells only
    from .train_cell import TRAIN_BATCH

    s = 8 if config.dtype == "float64" else 4
    T, L, H, I = config.seq_len, config.num_layers, config.hidden_size, config.input_size
    G = GATE_BLOCKS[config.model]
    evaluation = (G + 2 + L) * T * DEFAULT_EVAL_BATCH * H + 2 * T * DEFAULT_EVAL_BATCH * I
    step = (4 * G + 4) * T * L * TRAIN_BATCH * H + 2 * T * TRAIN_BATCH * I
    weights = 4 * G * L * (H * H + H * max(H, I))
    live = int((max(evaluation, step) + weights) * s * ALLOCATOR_SLACK)
    return live + FIRST_TRAINING_BYTES


# A pure function of a few sizes: a grid's cells share them (its seeds, gains and inits do not
# change them), and a plan of a million cells asks for each cell's.
@functools.lru_cache(maxsize=4096)
def measure_bytes(
    *,
    seq_len: int,
    num_layers: int,
    batch: int,
    hidden_size: int,
    input_size: int,
    dtype: str,
    model: str = "rnn",
    activation: str | None = "tanh",
    sources: tuple[str, ...] = RUN_SOURCES,
) -> int:
    """:func:`cell_bytes` of any module of these sizes (a saved one, too); ``model`` is
    ``"rnn"``, ``"lstm"`` or ``"gru"``; ``activation`` an nn.RNN's nonlinearity, ``"tanh"``
    or ``"relu"`` (a relu's forward pass keeps no pre-activations: one number fewer a step,
    sample and unit; a gated cell's is None, and ignored); ``sources`` those measured (an
    LSTM's ``state_h`` and ``state_c`` queue spectral norms of their own)."""
    s = 8 if dtype == "float64" else 4
    T, L, B = seq_len, num_layers, batch
    H, I = hidden_size, input_size
    G = GATE_BLOCKS[model]
    weights = G * L * (H * H + H * max(H, I))
    arrays = _RNN_NORM_ARRAYS if G == 1 else _NORM_ARRAYS
    norms = arrays * (T + 1) * (L + 1) * B * 8
    if G == 1:
        live = _rnn_bytes(T, L, B, H, I, s, activation=str(activation))
        return int((live + weights * s + norms) * ALLOCATOR_SLACK)
    forward = (_GATED_FIRST + _GATED_LAYER[model] * (L - 1)) * (T + 1) * B * H + T * B * I
    working = _GATED_WORKING[model] * L * B * H * H
    # a state's rows are H x (its width) H, an LSTM's 2H; an LSTM's h and c blocks H x H each,
    # when asked for
    width = STATE_WIDTH[model]
    parts = sum(src in sources for src in ("state_h", "state_c")) if width > 1 else 0
    state_rows = (width + parts) * L * B * H * H
    spectral = CPU_CHUNK * state_rows + 2 * CPU_CHUNK * B * H * I
    return int(((forward + working + spectral + weights) * s + norms) * ALLOCATOR_SLACK)


def _rnn_bytes(T: int, L: int, B: int, H: int, I: int, s: int, *, activation: str) -> int:
    """The live buffers of an nn.RNN's measurement at its peak, in bytes, less its weights and
    norms: the larger of its two phases (the module docstring)."""
    halves = _FORWARD_LAYER * L + _FORWARD_MORE[activation]
    forward = (halves * (T + 1) * B * H // 2 + T * B * I) * s
    derivatives = (L * (T + 1) * B * H + T * B * I) * s
    queues = CPU_CHUNK * (L * B * H * H + B * H * I) * s
    working = (_RNN_WORKING * B * H * H + B * H * I) * s
    flush = max(_flush_bytes(B, H, H, s), _flush_bytes(B, H, I, s))
    return max(forward, derivatives + queues + working + flush)


def _flush_bytes(B: int, m: int, n: int, s: int) -> int:
    """The work space of one chunk's spectral norms on a CPU, for a stream of (B, m, n)
    matrices (:meth:`vanishlab.core.spectral.SpectralNorms.flush`): float64 Gram matrices for a
    small or tall side (the matrices in float64, twice with the heap's hole, their k x k Gram
    matrices three times, k the smaller side), else the block power iteration's copy of the
    unfinished matrices and its blocks of rows."""
    K = CPU_CHUNK
    if takes_gram(m, n):
        return 8 * K * B * (_GRAM_CHUNKS * m * n + 3 * min(m, n) ** 2)
    copy = _BATCH_COPY * K * B * m * n
    return int((copy + _BLOCK_ARRAYS * _BLOCK_ROWS * K * B * max(m, n)) * s)


BESIDE: dict[str | None, str] = {
    None: "",  # alone: this process (one worker, or vl.run_cell): no other cell to cut
    "workers": ", or fewer --workers (workers=) beside it",  # local worker processes
    "dask": ", or fewer cells at once on its machine (dask worker --nworkers, --nthreads)",
}
"""What may run beside a refused cell, by where it runs (:func:`vanishlab.run_cell`'s
``beside``), and the lever that frees memory for it: ``--workers`` is refused with a Dask
scheduler, and one worker has none to cut."""

_LEVERS = ("batch", "seq_len", "hidden_size", "num_layers")
"""The axes a cell's measurement grows with (the module docstring): its levers when refused."""


def _levers(axes: tuple[str, ...]) -> str:
    """``--batch (batch=), --seq-len (seq_len=) or ...``: each axis by its flag, then its
    argument (a sweep's words reach ``vl.Sweep`` and ``vl.run_sweep`` too: docs/cli.md)."""
    named = [f"{axis(a).flag} ({a}=)" for a in axes]
    return f"{', '.join(named[:-1])} or {named[-1]}"


def refused_reason(asked: int | None, *, training: bool = False, beside: str | None = None) -> str:
    """A sweep cell's failure reason when the CPU's allocator refused its measurement
    (:class:`~vanishlab.errors.MemoryRefusedError`, ``asked`` bytes at once; None when not
    said, a Python ``MemoryError``), or with ``training`` its training; ``beside`` is what may
    run beside it (a key of :data:`BESIDE`). The engine's own words ("measuring the RNN on
    this x ... measure the batch in parts") name an ``x`` the cell drew itself and a lever no
    cell has, and torch's ("DefaultCPUAllocator: can't allocate memory") none; a cell's are
    its axes and what runs beside it. Training draws batches of its own
    (:data:`~vanishlab.sweep.train_cell.TRAIN_BATCH` a step, and the held-out ones), which
    ``--batch`` does not change."""
    size = f" ({format_bytes(asked)} at once)" if asked is not None else ""
    what, levers, batch = "the cell", _levers(_LEVERS), ""
    if training:
        from ..train.loop import DEFAULT_EVAL_BATCH  # both import torch: trained cells only
        from .train_cell import TRAIN_BATCH

        what = "the cell's training"
        levers = _levers(tuple(a for a in _LEVERS if a != "batch"))
        batch = (
            f"; {axis('batch').flag} (batch=) does not change its {TRAIN_BATCH} sequences a "
            f"step and {DEFAULT_EVAL_BATCH} held out"
        )
    return (
        f"{what} needs more memory than {memory_limit()} could give{size}: sweep a smaller "
        f"{levers}{BESIDE[beside]}{batch}"
    )
