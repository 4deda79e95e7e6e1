"""The memory estimate that refuses a cell up front (vanishlab.sweep.memory) against whole
cells' resident peaks: an upper bound where the forward pass dominates (long sequences of narrow
networks), and not a loose one where the spectral queues do (wide ones). Each case measures a
fresh interpreter; tests/test_runs.py has the engine-only and trained-cell cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from _peak import measured_peak

import vanishlab as vl
from vanishlab.sweep.memory import cell_bytes

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="Linux /proc only"
)

_CELL = """
model, act, dtype = sys.argv[1:4]
T, H, B, L = map(int, sys.argv[4:8])
kw = {"activation": None, "init": "default"} if model != "rnn" else {"activation": act}
torch.manual_seed(0)
report_peak(
    lambda: run_cell(vl.CellConfig(model=model, seq_len=5, hidden_size=8, dtype=dtype, **kw)),
    lambda: run_cell(
        vl.CellConfig(
            model=model, seq_len=T, hidden_size=H, batch=B, num_layers=L, dtype=dtype, **kw
        )
    ),
)
"""


def _ratio(
    model: str, T: int, H: int, B: int, L: int, act: str = "tanh", dtype: str = "float32"
) -> float:
    peak = measured_peak(_CELL, model, act, dtype, str(T), str(H), str(B), str(L))
    kw = {"activation": None, "init": "default"} if model != "rnn" else {"activation": act}
    cfg = vl.CellConfig(
        model=model, seq_len=T, hidden_size=H, batch=B, num_layers=L, dtype=dtype, **kw
    )
    return cell_bytes(cfg) / peak


@pytest.mark.slow  # 4-8 s each: make test's time (the slow tier runs in CI)
@pytest.mark.parametrize(
    ("model", "T", "H", "B"),
    [("gru", 2048, 16, 64), ("lstm", 2048, 16, 64), ("rnn", 4096, 4, 256)],
)
def test_a_long_narrow_cell_peaks_below_its_estimate(model, T, H, B):
    """A gated layer's forward pass makes every step's gates and coefficients, and their
    temporaries, for all steps at once (some 21-23 live numbers per step and unit in the first
    layer, where 4 G were counted), and the cell's summary runs its Lyapunov pass while the
    per-sample norms are held: the estimate was under the peak, 0.73x for this GRU (175 MiB
    against 241), 0.84-0.96x for the LSTM and 0.90x for the RNN (measured 2026-12-04). Then 324
    and 326 MiB for the GRU and LSTM, whose peaks ranged 205-240 and 232-279 MiB over 8 runs.
    10 runs each on 2026-12-07 (estimates 372, 374 and 432 MiB): peaks 213-265, 231-248 and
    247-267 MiB, 1.40x, 1.51x and 1.62x at the highest."""
    assert _ratio(model, T, H, B, 1) >= 1.05


@pytest.mark.slow  # 5-10 s each: make test's time (the slow tier runs in CI)
@pytest.mark.parametrize("model", ["gru", "lstm"])
def test_a_wide_gated_cell_is_not_estimated_at_twice_its_peak(model):
    """Where the spectral queues dominate (H = 512, T = 50), the gated estimate counted each
    queue twice and 12 working matrices a layer: 2.13x the GRU's peak and 1.82x the LSTM's,
    refusing cells that fit (now 1.59x and 1.29x). 10 runs each on 2026-12-07: 1.59-1.66x
    (peaks 257-268 MiB of 427) and 1.26-1.30x (525-543 of 682); the bands fail at peaks 12 %
    and 19 % under the lowest."""
    ratio = _ratio(model, 50, 512, 8, 1)
    assert 1.05 <= ratio <= (1.9 if model == "gru" else 1.6)


@pytest.mark.slow  # 7-13 s each: make test's time (the slow tier runs in CI)
@pytest.mark.parametrize(("T", "H", "B", "L"), [(256, 128, 64, 1), (30, 64, 256, 4)])
def test_a_wide_rnn_cell_is_not_estimated_at_twice_its_peak(T, H, B, L):
    """Where the spectral queues dominate, the nn.RNN estimate counted each queue twice (16 lags
    of work space beside the 16 queued), 6 working matrices a layer where either path holds 3
    in all, and the forward states on top of the queues, which are held in another phase: 1.86-
    2.03x the one-layer cell's peak (150-164 MiB) and 2.27-2.31x the stack's (430 MiB), refusing
    cells that fit (measured 2026-12-04). Now 1.35-1.48x and 1.26x; 10 runs each on 2026-12-07:
    1.34-1.50x (peaks 149-167 MiB of 223) and 1.28-1.39x (415-450 of 577), 1.7 failing at
    peaks 12 % and 18 % under the lowest."""
    assert 1.05 <= _ratio("rnn", T, H, B, L) <= 1.7


@pytest.mark.slow  # 5 s: make test's time (the slow tier runs in CI)
def test_an_rnn_cell_of_gram_matrices_peaks_below_its_estimate():
    """A side of at most 16 has its spectral norms from float64 Gram matrices: the chunk in
    float64 and three of its Gram matrices at once, 8x the queue, which the estimate did not
    count: 0.64-0.72x the peak at T = 30, H = 16, B = 256 (43-48 MiB against 31; then 1.27-1.49x
    in four runs on a quiet machine). Its floor is the contract itself, never under the peak, not
    the 1.05 of larger cells: its peak moves with the heap, and one run at a load of ~19 on two
    cores read 1.018x; 40 runs on 2026-12-07 peaked at 42-63 MiB (1.03-1.54x of 64.7). Now the
    chunk's float64 copy counted twice, the heap's hole beside it: 76.7 MiB, 1.22x at 63."""
    assert _ratio("rnn", 30, 16, 256, 1) >= 1.0


@pytest.mark.slow  # 19 s: make test's time (the slow tier runs in CI)
def test_a_long_narrow_stack_peaks_below_its_estimate():
    """The nn.RNN estimate counts the larger of its forward and backward phases, not their sum:
    a long narrow stack's resident peak is its forward phase's, with the heap's holes (1.8x its
    live buffers at T = 4096, H = 32, B = 8, L = 4; 2 L + 2 numbers a step, sample and unit
    counted alone made 1.01x, where the sum had made 1.12x; now 1.14x). 35 runs on 2026-12-07
    (5 at OMP_NUM_THREADS=2): 1.16-1.37x, peaks 66-78 MiB of 90.8; the floor fails at a peak of
    86.5 MiB, 11 % over the highest."""
    assert _ratio("rnn", 4096, 32, 8, 4) >= 1.05


@pytest.mark.slow  # 10-30 s: make test's time (the slow tier runs in CI)
def test_a_long_relu_cell_is_not_estimated_at_twice_its_peak():
    """A relu's forward pass keeps no pre-activations (its states are made in place): one
    number a step, sample and unit fewer than a tanh's, which the estimate counted for both:
    1.92-1.95x this cell's peak (228-229 MiB against 444), refusing cells that fit (measured
    2026-12-04). Then 1.55-1.60x (a tanh's 1.52x); with 10 float64 norms a lag, layer and
    sample (2026-12-07) 372 MiB, 1.65-1.72x over 20 runs that peaked at 216-226 MiB, and 1.72x in
    CI's slow tier, over the 1.7 this band had: 1.9 now (failed by a peak 9 % under the lowest),
    where counting a relu as a tanh makes 468 MiB, 2.07-2.17x those peaks."""
    assert 1.05 <= _ratio("rnn", 4096, 64, 64, 1, act="relu") <= 1.9


@pytest.mark.slow  # 10-20 s: make test's time (the slow tier runs in CI)
def test_a_narrow_relu_cell_peaks_below_its_estimate():
    """Where the network is narrow (H = 2, B = 256) the peak is not the forward phase's but the
    one where the per-sample norms are held, and a relu cell peaks higher there than a tanh
    (some 8 bytes a step, sample and unit more: +34 MiB at T = 4096, H = 4, B = 256 and at
    H = 8, B = 128): 0.92x this cell's peak (157 MiB against 144; measured 2026-12-04), and
    0.99x once the relu's forward phase counted a number fewer. With 10 float64 numbers a lag,
    layer and sample there (9: 1.11x, thin beside the slow tier's spread): 1.17-1.27x in three
    runs; 30 runs on 2026-12-07 peaked at 147-163 MiB, 1.14-1.27x of 186 MiB, and 33 more that
    day (5 at OMP_NUM_THREADS=2) at 130.5-160.8 MiB: the floor fails at a peak of 177 MiB, 8.7 %
    over the highest, the thinnest floor of this file."""
    assert _ratio("rnn", 2048, 2, 256, 1, act="relu") >= 1.05


@pytest.mark.slow  # 10-20 s: make test's time (the slow tier runs in CI)
def test_a_narrow_tanh_cell_peaks_below_its_estimate():
    """The phase that holds the inputs and per-sample norms is a narrow tanh cell's peak too:
    6 float64 numbers a lag, layer and sample read 1.00-1.04x this cell's peak (138-144 MiB
    over 3 runs against 144 estimated; measured 2026-12-04). With 7: 1.09-1.13x in six runs,
    1.03x once in the slow tier (a peak of ~152 MiB). With 8: 1.16-1.24x in three runs, but
    1.04x in CI's slow tier, and 42 runs here peaked at 136-162.5 MiB, the heap's spread
    (1.03-1.23x of 168 MiB). Now 10, a relu's: 192 MiB, 1.18x the highest peak seen."""
    assert _ratio("rnn", 2048, 2, 256, 1) >= 1.05


@pytest.mark.slow  # 10-25 s each: make test's time (the slow tier runs in CI)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_a_float64_cell_is_estimated_like_a_float32_one(act):
    """float64 cells, first measured on 2026-12-04 (7 shapes, T 30-2048, H 4-128, B 8-256,
    L 1-4): 1.19-1.54x a tanh's peak and 1.27-1.56x a relu's (1.19-1.49x and 1.24-1.64x
    before); this one is the forward phase's (1.41x and 1.30x, the relu's 1.64x before). With
    10 float64 norms a lag, layer and sample (2026-12-07): 1.56-1.59x a tanh's peak (275-281 MiB
    over 9 runs) and 1.50-1.57x a relu's (217-228 MiB, 5 runs), within 7 % of the 1.7 this band
    had: 1.8, where counting 16 bytes a float64 number reads 3.0x the highest tanh peak. 10 more
    runs each that day: 1.53-1.59x (275-286 MiB) and 1.49-1.57x (218-230 MiB); 1.8 fails at
    peaks 11 % and 13 % under the lowest."""
    assert 1.05 <= _ratio("rnn", 2048, 64, 64, 1, act=act, dtype="float64") <= 1.8


@pytest.mark.slow  # 5-10 s: make test's time (the slow tier runs in CI)
def test_a_narrow_gated_cell_peaks_below_its_estimate():
    """Gated narrow cells (LSTM and GRU, H = 2-8, T = 1024-4096, B = 64 and 256, one and two
    layers, float32 and float64: 192 shapes, first measured on 2026-12-04) peaked at 1.11-1.78x
    below their estimates, the tightest a one-layer float64 LSTM at B = 64. This one read 1.17x
    in all three runs (160-161 MiB against 188); at T = 1024, H = 4 and T = 4096, H = 3 the same
    cell read 1.11-1.32x and 1.11-1.42x, whose peaks move with the allocator. 30 runs on
    2026-12-07 peaked at 132.5-184.4 MiB, 1.02x the 188 MiB estimate at the highest, under this
    floor: _GATED_FIRST now counts 28 first-layer numbers, the heap's holes with the 24 live
    (212 MiB, 1.15x at 184.4); the floor fails an estimate under 194 MiB at that peak. 38 more
    runs that day peaked at 130.7-180.7 MiB (1.17x at the highest)."""
    assert _ratio("lstm", 2048, 4, 64, 1, dtype="float64") >= 1.05


def test_a_trained_stack_s_estimate_bounds_its_measured_peaks():
    """The held-out evaluation keeps every layer's outputs to its end (its resident peak, at
    T = 100, Be = 1000, H = 64, 3.07 T Be H s for one nn.RNN layer and 5.14 for three; a GRU's
    5.41 and 7.46, an LSTM's 2.11 and 4.19), where (G + 3) T Be H s counted one for any depth,
    and a process's first training adds some 90-105 MiB once (autograd's and the optimizer's
    code and kernels). This float64 stack of 3 relu layers trained for 2 steps at T = 50, H = 64
    peaked at 154 MiB beyond a warm process and 243 MiB as a fresh process's first cell, run as
    a worker runs it (benchmarks/memory_estimate.py, 2026-12-07), against 150 MiB estimated:
    0.97x and 0.62x. Now both bounded with 5 % to spare."""
    cfg = vl.CellConfig(
        num_layers=3, hidden_size=64, seq_len=50, batch=8, dtype="float64", activation="relu",
        task="adding", train_steps=2, input_size=2,
    )  # fmt: skip
    need = cell_bytes(cfg) / 2**20
    assert need >= 1.05 * 243, need


def test_the_evaluation_s_count_grows_with_the_layers():
    # the count a layer, apart from the first training's one-off: (G + 2 + L) T Be H s
    from vanishlab.sweep.memory import FIRST_TRAINING_BYTES, training_bytes

    def evaluation(L: int) -> int:
        cfg = vl.CellConfig(
            num_layers=L, hidden_size=64, seq_len=100, task="adding", train_steps=1, input_size=2
        )
        return training_bytes(cfg) - FIRST_TRAINING_BYTES

    # measured: 5.14 / 3.07 = 1.67x from one nn.RNN layer to three; counted 6 / 4 (1.0 before)
    assert evaluation(3) / evaluation(1) >= 1.45
