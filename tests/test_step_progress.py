"""Progress of one long measurement: the engine's backward loops say each step they finish
(core.steps), and `vanishlab analyze` shows them with the time left, as a sweep shows its
cells. Its one line "measuring ... (this may take a while)" was all a user saw of a
measurement that took 5.5 minutes (nn.RNN(128, 1024), T = 500, B = 8, one thread)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from _networks import relu_turning_zero
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.core.steps import counting_steps, step_done
from vanishlab.sweep import progress

runner = CliRunner()


@pytest.mark.parametrize(
    ("make", "sources"),
    [
        (lambda: nn.RNN(3, 5), ("state", "input")),  # the one-layer fast path
        (lambda: nn.RNN(3, 5), ("input",)),
        (lambda: nn.RNN(3, 5, 2, nonlinearity="relu"), ("state", "input")),  # a stack
        (lambda: nn.LSTM(3, 5), ("state", "input")),  # the gated one-layer fast path
        (lambda: nn.GRU(3, 5, 2), ("state", "input")),  # gated, stacked
        (lambda: nn.LSTM(3, 5, 2), ("state_h", "state_c")),
    ],
)
def test_every_backward_loop_says_each_step_it_finishes(make, sources):
    torch.manual_seed(0)
    seen: list[tuple[int, int]] = []
    with counting_steps(lambda done, total: seen.append((done, total))):
        vl.jacobian_norms(make(), torch.randn(7, 2, 3), sources=sources)
    assert seen == [(k, 7) for k in range(1, 8)]
    vl.jacobian_norms(make(), torch.randn(7, 2, 3), sources=sources)  # none set: nothing said
    assert len(seen) == 7


def test_the_public_api_offers_the_step_counter():
    """``vl.counting_steps`` (README: a long call's progress) is the engine's own counter."""
    assert vl.counting_steps is counting_steps
    assert "counting_steps" in vl.__all__
    seen: list[int] = []
    with vl.counting_steps(lambda done, total: seen.append(done)):
        vl.lyapunov_spectrum(nn.GRU(3, 4), torch.randn(5, 2, 3), k=2)
    assert seen == [1, 2, 3, 4, 5]


def test_a_fast_path_that_hands_the_call_back_counts_from_1_again():
    """The one-layer path hands a Jacobian that turns exactly zero to the general path, which
    starts again: its steps are counted from 1 (a bar goes back; the time left restarts)."""
    rnn, x = relu_turning_zero()
    seen: list[int] = []
    with counting_steps(lambda done, total: seen.append(done)):
        vl.jacobian_norms(rnn, x)
    back = [i for i in range(1, len(seen)) if seen[i] < seen[i - 1]]
    assert len(back) == 1 and seen[back[0]] == 1 and seen[back[0] :] == list(range(1, 41))


def test_analyze_shows_the_steps_done_and_the_time_left(monkeypatch, tmp_path):
    """`vanishlab analyze ... 2>log`: plain lines at most every 10 s and every tenth of the
    steps (every tenth here), each with the time left, and one at the end."""
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    torch.save(nn.GRU(2, 4).state_dict(), tmp_path / "m.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "20", "--batch", "2"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("measuring: ")]
    assert [line.split()[1] for line in lines] == [f"{k}/20" for k in range(2, 21, 2)], lines
    assert all(", ETA " in line for line in lines[:-1]) and "failed" not in result.stderr
    assert lines[-1].startswith("measuring: 20/20 steps (100%), ")
    # then the Lyapunov exponent's own 20 steps (its bar ended with the Jacobians' loop, and
    # the exponent took 15-30% as long again with nothing shown)
    after = result.stderr.split(lines[-1], 1)[1].splitlines()
    lyap = [line for line in after if line.startswith("Lyapunov exponent: ")]
    assert [line.split()[2] for line in lyap] == [f"{k}/20" for k in range(2, 21, 2)], after
    assert lyap[-1].startswith("Lyapunov exponent: 20/20 steps (100%), ")


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.RNN(3, 5),
        lambda: nn.RNN(3, 5, 2, nonlinearity="relu"),
        lambda: nn.LSTM(3, 5, 2),
        lambda: nn.GRU(3, 5),
    ],
)
def test_every_lyapunov_loop_says_each_step_it_finishes(make):
    torch.manual_seed(0)
    seen: list[tuple[int, int]] = []
    with counting_steps(lambda done, total: seen.append((done, total))):
        vl.lyapunov_spectrum(make(), torch.randn(7, 2, 3), k=2)
    assert seen == [(k, 7) for k in range(1, 8)]


def test_a_second_stage_counts_from_0_with_its_own_name_and_clock(monkeypatch, capsys):
    """Progress.stage: the stage before ends with its last plain line; the new one's time left
    is its own pace's, from its own start."""
    now = _clocked(monkeypatch)
    with progress.Progress(True, "a", 4, 0, 0, unit="step", failures=False) as bar:
        for done in range(1, 5):
            now[0] += 1.0
            bar.to(done)
        bar.stage("b", 2)
        for done in (1, 2):
            now[0] += 5.0
            bar.to(done)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "a: 1/4 steps (25%), 1 s",
        "a: 2/4 steps (50%), 2 s, ETA 0:00:02",
        "a: 3/4 steps (75%), 3 s, ETA 0:00:01",
        "a: 4/4 steps (100%), 4 s",
        "b: 1/2 steps (50%), 5 s",
        "b: 2/2 steps (100%), 10 s",
    ]


def test_a_stage_weighs_its_own_steps_and_a_quick_one_says_nothing(monkeypatch, capsys):
    """The stage's time left is its own steps left at its own pace (not the work left of the
    stage before, spent: 0:00:00 throughout), and with ``quick_silent`` (analyze's) a quick
    stage after one that spoke adds no line of its own at the end."""
    now = _clocked(monkeypatch)
    with progress.Progress(True, "a", 2, 0, 0, unit="step", failures=False) as bar:
        for done in (1, 2):
            now[0] += 1.0
            bar.to(done)
        bar.stage("b", 4)
        for done in range(1, 5):
            now[0] += 5.0
            bar.to(done)
    lines = capsys.readouterr().err.splitlines()
    assert lines[-4:-1] == [
        "b: 1/4 steps (25%), 5 s",
        "b: 2/4 steps (50%), 10 s, ETA 0:00:10",
        "b: 3/4 steps (75%), 15 s, ETA 0:00:05",
    ]
    with progress.Progress(
        True, "a", 2, 0, 0, unit="step", failures=False, quick_silent=True
    ) as bar:
        for done in (1, 2):
            now[0] += 1.0
            bar.to(done)
        monkeypatch.setattr(progress, "PLAIN_EVERY_S", 3600.0)  # the stage is quick
        bar.stage("b", 4)
        for done in range(1, 5):
            now[0] += 1.0
            bar.to(done)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["a: 1/2 steps (50%), 1 s", "a: 2/2 steps (100%), 2 s"]


def test_steps_counted_again_start_the_clock_again(monkeypatch, capsys):
    """A fast path that hands the call back to the general one counts from 1 again: the time
    left is then the new pace's, not the first pass's."""
    now = [100.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    with progress.Progress(True, "m", 10, 0, 0, unit="step", failures=False) as bar:
        for done in range(1, 11):  # the fast pass: 1 s a step
            now[0] += 1.0
            bar.to(done)
        for done in range(1, 11):  # again, at 3 s a step
            now[0] += 3.0
            bar.to(done)
    lines = capsys.readouterr().err.splitlines()
    # the first step's time holds the start-up: the pace is measured from its end
    assert lines[:2] == ["m: 1/10 steps (10%), 1 s", "m: 2/10 steps (20%), 2 s, ETA 0:00:08"]
    assert "m: 1/10 steps (10%), 3 s, ETA 0:00:27" in lines
    assert lines[-1] == "m: 10/10 steps (100%), 30 s"


def test_a_share_not_done_is_not_shown_as_100_percent(monkeypatch, capsys):
    """A log line "r816: 813/816 cells (100%), 0 failed, 30 s, ETA 0:00:00" read as done: the share
    is rounded down, so 100% is the end alone."""
    now = [0.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    with progress.Progress(True, "r", 816, 811, 0) as bar:
        for _ in range(2):
            now[0] += 1.0
            bar.advance(failed=0)
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["r: 813/816 cells (99%), 0 failed, 2 s, ETA 0:00:03"]


def _clocked(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    return now


def test_the_time_left_weighs_each_cell_by_its_work(monkeypatch, capsys):
    """A grid mixing short and long cells: the time left counted every cell alike, so the
    short ones done first read 23-54% low. It is the work left at the pace measured."""
    now = _clocked(monkeypatch)
    works = [1.0, 1.0, 30.0, 30.0]  # two cells of T = 20, two of T = 600
    with progress.Progress(True, "mix", 4, 0, 0, work=sum(works)) as bar:
        for work in works:
            now[0] += work  # one second a unit of work
            bar.advance(0, work)
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "mix: 2/4 cells (50%), 0 failed, 2 s, ETA 0:01:00"  # not 0:00:02
    assert lines[2] == "mix: 3/4 cells (75%), 0 failed, 32 s, ETA 0:00:30"


def test_the_time_left_leaves_out_the_start_up(monkeypatch, capsys):
    """The first line's pace counted the start-up (imports, a pool of workers starting) as work
    and read ~33% high: the clock starts when the first cell finished, that cell left out."""
    now = _clocked(monkeypatch)
    with progress.Progress(True, "s", 4, 0, 0) as bar:
        for spent in (10.0, 2.0):  # 8 s of start-up and a cell of 2 s, then one more
            now[0] += spent
            bar.advance(0)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "s: 1/4 cells (25%), 0 failed, 10 s"  # no pace yet
    assert lines[1] == "s: 2/4 cells (50%), 0 failed, 12 s, ETA 0:00:04"  # not 0:00:12


def test_a_sweep_leaves_its_first_cell_out_of_the_pace(monkeypatch, capsys, tmp_path):
    """A process's first cell holds one-off work (the summary's code digest, ~1.2 s where a
    quick grid's cell takes 0.2 s): the clock started when it began (its finish less its own
    elapsed_s), so that its one-off read as slow work, 4-5x the time left on the quick grid's
    first cells (+24..+68% at its first plain line). It starts when the first cell finished."""
    from vanishlab.sweep import runner

    now = _clocked(monkeypatch)
    real_run_here = runner.run_here

    def run_here(tasks, on_result):
        def timed(frame, meta):
            meta["elapsed_s"] = 3.0 if now[0] == 0 else 1.0  # 2 s of one-off, then 1 s a cell
            now[0] += meta["elapsed_s"]
            on_result(frame, meta)

        real_run_here(tasks, timed)

    monkeypatch.setattr(runner, "run_here", run_here)
    sweep = vl.Sweep(hidden_size=[4], seq_len=[3], input_size=[2], batch=[1], seed=[0, 1, 2, 3])
    vl.run_sweep(sweep, out=tmp_path / "run", workers=1)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("run: ")]
    assert lines[:2] == [
        "run: 1/4 cells (25%), 0 failed, 3 s",
        "run: 2/4 cells (50%), 0 failed, 4 s, ETA 0:00:02",
    ]  # not 0:00:04


def test_the_time_left_counts_down_between_two_cells(monkeypatch):
    """The bar's time left runs down while a long cell runs (rich's stood still)."""
    now = _clocked(monkeypatch)
    with progress.Progress(False, "d", 4, 0, 0) as bar:
        for _ in range(2):
            assert bar._left() is None  # no pace yet
            now[0] += 2.0
            bar.advance(0)
        now[0] += 3.0
        assert bar._left() == 1.0  # 4 s left when the second ended, 3 s ago


def test_a_sweep_weighs_its_cells_by_their_estimated_time(monkeypatch, tmp_path):
    """run_sweep hands the progress each cell's estimate (sweep.cost)."""
    from vanishlab.sweep import cost, runner

    seen: dict[str, object] = {}

    class Spy(progress.Progress):
        def __init__(self, *args, **kwargs):
            seen["work"] = kwargs.get("work")
            super().__init__(*args, **kwargs)

        def advance(self, failed, work=1.0):
            seen.setdefault("cells", []).append(work)
            super().advance(failed, work)

    monkeypatch.setattr(runner, "Progress", Spy)
    sweep = vl.Sweep(hidden_size=[4], seq_len=[3, 40], input_size=[2], batch=[1])
    vl.run_sweep(sweep, out=tmp_path / "run", workers=1, progress=False)
    costs = sorted(cost.cell_cost(c) for c in sweep.cells())
    assert seen["work"] == pytest.approx(sum(costs)) and costs[1] > costs[0]
    assert sorted(seen["cells"]) == pytest.approx(costs)


def test_a_plain_line_comes_at_least_every_minute_while_cells_finish(monkeypatch, capsys):
    """Plain lines came every 10 s *and* every tenth of the cells: a grid of 1,000 cells of
    2 s each said nothing for 200 s at a time (3.3 hours silent in a grid of 10,000 such
    cells). A line now comes at least every minute while the count moves."""
    now = _clocked(monkeypatch)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 10.0)
    with progress.Progress(True, "big", 1000, 0, 0) as bar:
        for _ in range(150):
            now[0] += 2.0
            bar.advance(0)
        now[0] += 120.0  # a long cell: the minute passes with nothing new to say
    counts = [line.split()[1] for line in capsys.readouterr().err.splitlines()]
    # every 30 cells (a minute), then the line at the end (stopped here at 150)
    assert counts == ["30/1000", "60/1000", "90/1000", "120/1000", "150/1000", "150/1000"]


def test_a_counting_block_puts_back_the_callback_it_found():
    """Blocks nest (an outer count keeps its callback after an inner one ends), and a body
    that raises leaves no callback behind: a later measurement says nothing to a bar gone."""
    outer: list[int] = []
    inner: list[int] = []
    with counting_steps(lambda done, total: outer.append(done)):
        with counting_steps(lambda done, total: inner.append(done)):
            step_done(1, 2)
        step_done(2, 2)
    step_done(3, 3)  # none set
    assert (outer, inner) == ([2], [1])
    with pytest.raises(RuntimeError), counting_steps(lambda done, total: outer.append(done)):
        raise RuntimeError("the measurement failed")
    step_done(4, 4)
    assert outer == [2]


def test_local_workers_take_the_cells_longest_first(monkeypatch, tmp_path):
    """`--workers N` hands the pool its cells by their estimated time, the longest first (a
    long cell started last would run alone at the end); this process, in grid order."""
    from vanishlab.sweep import cost, executors, runner

    orders: dict[str, list[int]] = {}

    def pool(tasks, workers, on_result):
        orders["pool"] = [config.seq_len for config, _ in tasks]
        executors.run_here(tasks, on_result)

    def here(tasks, on_result):
        orders["here"] = [config.seq_len for config, _ in tasks]
        executors.run_here(tasks, on_result)

    monkeypatch.setattr(runner, "run_processes", pool)
    monkeypatch.setattr(runner, "run_here", here)
    monkeypatch.setattr(runner, "check_memory", lambda cells, free, n: n)
    sweep = vl.Sweep(hidden_size=[4], seq_len=[3, 40, 12], input_size=[2], batch=[1])
    assert [cost.cell_cost(c) for c in sweep.cells()] != sorted(
        (cost.cell_cost(c) for c in sweep.cells()), reverse=True
    )
    vl.run_sweep(sweep, out=tmp_path / "pool", workers=2, progress=False)
    vl.run_sweep(sweep, out=tmp_path / "here", workers=1, progress=False)
    assert orders == {"pool": [40, 12, 3], "here": [c.seq_len for c in sweep.cells()]}


def test_a_trained_cells_estimate_follows_its_length_and_model():
    """The training term grew as T alone: 300 steps of T = 60 (the trainability smoke grid's
    cell) estimated at 9.6x T = 6's, measured at 3.1x (each step's own fixed part: a batch,
    the loss, Adam), and an ETA ~100% high. A GRU's time step trains slower than an LSTM's
    on the CPU (~14 autograd operations a time step against one oneDNN one a layer), where
    gate blocks said the reverse."""
    from vanishlab.sweep import cost

    smoke = dict(
        activation="tanh", init="normal", gain=0.25, hidden_size=16, input_size=2, batch=32,
        task="adding", train_steps=300, lr=0.01,
    )  # fmt: skip
    short, long = (cost.cell_cost(vl.CellConfig(seq_len=t, **smoke)) for t in (6, 60))
    assert 2.0 < long / short < 5.0
    gated = dict(init="default", hidden_size=32, seq_len=100, input_size=2, task="adding")
    lstm, gru = (
        cost.cell_cost(vl.CellConfig(model=m, train_steps=100, lr=0.01, **gated))
        for m in ("lstm", "gru")
    )
    assert gru > lstm


def test_the_time_left_reads_whole_seconds_through_rounding():
    """The work left is the grid's total less each finished cell's estimate, in floating point:
    two cells of four equal ones left, at 1 s a cell, came out 1.9999999999999996 s and read
    "ETA 0:00:01"."""
    work = [0.033 + 1e-7 * k for k in (3, 3, 3, 3)]
    left = sum(work) - work[0] - work[1]
    assert left / work[0] < 2.0  # the drift itself
    assert progress.clock_text(left / work[0]) == "0:00:02"
    assert progress.clock_text(1.5) == "0:00:01"


def test_an_untrained_cells_estimate_follows_its_products_beyond_h_256():
    """The estimate grew as B H^2 a step: a lag of nn.RNN(16, 1024) at B = 8 took 0.77 CPU s
    against 0.11 s estimated (its (B, H, H) products and cold norms are H^3 work), so a long
    cell of H = 1024 weighed 15x one of H = 256, where a lag past the cold 16 measured 6.5x
    from H = 256 to 512 (H^3: 8x; benchmarks/fit_cost.py). The time left and the workers'
    longest-first order put such cells far too low; a long cell now follows the H^3 work."""
    from vanishlab.sweep import cost

    for model in ("rnn", "lstm"):
        small, big = (
            cost.cell_cost(vl.CellConfig(model=model, hidden_size=h, seq_len=500, batch=8))
            for h in (256, 1024)
        )
        assert 25.0 < big / small <= 64.0


def test_the_estimate_is_the_sum_of_the_terms_its_docstring_states():
    """sweep.cost states its estimate term by term; each size enters where it says. Mutation
    review: the fixed part dropped, a layer, gate-block, batch or H factor dropped, the cold
    lags' cap moved off the spectral queue's first chunk, the training's batch taken from the
    measurement's, one model's training constants for all, a cell of 1 training step counted
    as untrained: each passed every test (the orderings above hold under all of them). The
    first lag's start, the summary's H^2 part and the input Jacobians (I) are terms too."""
    import itertools

    from vanishlab.core.cells import GATE_BLOCKS
    from vanishlab.core.spectral import CPU_CHUNK
    from vanishlab.sweep import cost as c
    from vanishlab.sweep.train_cell import TRAIN_BATCH

    grid = itertools.product(("rnn", "lstm", "gru"), (3, 16, 17, 40), (1, 2), (1, 8), (0, 1, 300))
    for (model, T, L, B, S), I in zip(grid, itertools.cycle((16, 2, 24, 100)), strict=False):
        H, G, cold = 24, GATE_BLOCKS[model], min(T, CPU_CHUNK)
        trains = dict(train_steps=S, lr=0.01, task="adding", input_size=2) if S else {}
        sizes = dict(model=model, seq_len=T, num_layers=L, batch=B, hidden_size=H)
        sizes.update({} if S else {"input_size": I})
        config = vl.CellConfig(**sizes, **trains)
        u, W, I = c.UNTRAINED_S, (2 if model == "lstm" else 1), config.input_size
        expected = u["cell"] + u["first"] * W * L * B * H**3 + u["cold"] * cold * L * B * H**3
        if model == "rnn":
            expected += L * (u["summary"] * H**3 + u["summary_h2"] * H**2)
        step = u[f"step_{model}"] + u["number"] * G * B * H**2 + u[f"product_{model}"] * B * H**3
        expected += T * L * step + u["inputs"] * T * W * B * H**2 * I
        per_step = c.TRAIN_STEP_S[model] + c.TRAIN_NUMBER_S[model] * TRAIN_BATCH * H**2
        expected += S * (c.TRAIN_S + T * L * per_step)
        assert c.cell_cost(config) == pytest.approx(expected, rel=1e-12), config


def test_a_dask_cluster_takes_the_cells_longest_first(monkeypatch, tmp_path):
    """The cluster's cells go in by their estimated time, the longest first, as local workers'
    do: a mutant handing run_dask the grid's order passed every test."""
    import contextlib

    from vanishlab.sweep import runner

    orders: list[list[int]] = []

    def run_dask(tasks, client, on_result, say):
        orders.append([config.seq_len for config, _ in tasks])
        runner.run_here(tasks, on_result)

    monkeypatch.setattr(runner, "dask_client", lambda address: contextlib.nullcontext(object()))
    monkeypatch.setattr(runner, "run_dask", run_dask)
    sweep = vl.Sweep(hidden_size=[4], seq_len=[3, 40, 12], input_size=[2], batch=[1])
    vl.run_sweep(sweep, out=tmp_path / "d", scheduler="tcp://127.0.0.1:8786", progress=False)
    assert orders == [[40, 12, 3]]


def test_a_stage_times_its_lines_from_when_it_starts(monkeypatch, capsys):
    """Progress.stage review: the new stage's time counts from the stage() call, not from the
    last step before it (the rows of the Jacobians are aggregated in between), and its first
    plain line waits PLAIN_EVERY_S from there, not from the stage before's last timed line (a
    line 2 s after the stage before's end line). Both mutants passed every test."""
    now = _clocked(monkeypatch)
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 10.0)
    with progress.Progress(True, "a", 2, 0, 0, unit="step", failures=False) as bar:
        now[0] += 10.0
        bar.to(1)
        now[0] += 8.0
        bar.to(2)
        now[0] += 3.0  # work between the two loops
        bar.stage("b", 20)
        for done in range(1, 21):
            now[0] += 1.0
            bar.to(done)
    assert capsys.readouterr().err.splitlines() == [
        "a: 1/2 steps (50%), 10 s",
        "a: 2/2 steps (100%), 21 s",
        "b: 10/20 steps (50%), 10 s, ETA 0:00:10",
        "b: 20/20 steps (100%), 20 s",
    ]


def test_plain_lines_come_every_tenth_rounded_up_and_none_after_an_error(monkeypatch, capsys):
    """A tenth of 15 cells is 2 (rounded up; rounded down, 1, a line came after every cell),
    and a block that raises ends with no line of its own (the error says what happened)."""
    now = _clocked(monkeypatch)
    with progress.Progress(True, "t", 15, 0, 0) as bar:
        for _ in range(15):
            now[0] += 1.0
            bar.advance(0)
    counts = [line.split()[1] for line in capsys.readouterr().err.splitlines()]
    assert counts == [f"{k}/15" for k in (2, 4, 6, 8, 10, 12, 14, 15)]
    with pytest.raises(KeyboardInterrupt), progress.Progress(True, "s", 4, 0, 0) as bar:
        now[0] += 1.0
        bar.advance(0)
        raise KeyboardInterrupt
    assert capsys.readouterr().err.splitlines() == ["s: 1/4 cells (25%), 0 failed, 1 s"]


def test_a_failed_measurement_starts_no_lyapunov_stage_on_a_terminal(monkeypatch, tmp_path):
    """analyze's bar turns to the Lyapunov exponent's steps only when the Jacobians were
    measured: a measurement that overflowed has no exponent, and a bar left at "Lyapunov
    exponent 0/8" said one was under way (a mutant starting the stage regardless passed every
    test: plain lines read the same)."""
    from _terminal import terminal

    from vanishlab.trained import analyze, analyze_run

    drawn = terminal(monkeypatch, 100)
    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    monkeypatch.setattr(analyze_run, "is_terminal", lambda: True)
    rnn = nn.RNN(2, 4, nonlinearity="relu")
    torch.save(rnn.state_dict(), tmp_path / "ok.pt")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(1e30 * torch.eye(4))
        rnn.weight_ih_l0.fill_(1.0)
    torch.save(rnn.state_dict(), tmp_path / "huge.pt")
    for name, status in (("ok", "ok"), ("huge", "failed")):
        before = len(drawn())
        result = analyze.analyze_checkpoint(
            tmp_path / f"{name}.pt",
            tmp_path / name,
            nonlinearity="relu",
            seq_len=8,
            progress=True,
        )
        assert result.status == status
        assert ("Lyapunov exponent" in drawn()[before:]) == (status == "ok"), drawn()[before:]


@pytest.mark.parametrize("text", ["runs[/x] measuring", "runs[red] measuring", "a\\[b] c"])
def test_a_spinner_shows_its_text_as_it_is_not_as_rich_markup(monkeypatch, text):
    # working() gave its text to rich's spinner as markup: "[/x]" raised MarkupError, "[red]"
    # was eaten. No command gives it a name today (analyze's spinner is off on a terminal,
    # where its line is said above the bar), so this calls it as one would.
    from rich.console import Console
    from rich.text import Text

    shown = []
    status = Console.status

    def recorded(self, what, *args, **kwargs):
        shown.append(Text.from_markup(what).plain)
        return status(self, what, *args, **kwargs)

    monkeypatch.setattr(progress, "is_terminal", lambda: True)
    monkeypatch.setattr(Console, "status", recorded)
    with progress.working(text):
        pass
    assert shown == [text]
