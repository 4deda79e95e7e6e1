"""Mutation review of the package changes of session 54 (e2f92533..a5614168): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-06; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``):
  training_facts.chance_level      6 / 4 / 6   step_args.chance_number            2 / 2 / 2
  monitor_dir.check_earlier        5 / 2 / 4   monitor_dir.new_manifest           3 / 1 / 2
  monitor_loss.chance_of           1 / 1 / 1   manifest chance_loss check         2 / 2 / 2
  linear.fixed_point_rates, _settle 16 / 4 / 14  cell_theory's fixed-point branch  6 / 2 / 6
  runner, lock, run_summary: moved 9 / 5 / 7   dask_cluster._workers_killed       6 / 4 / 5
  section_names and its readers    4 / 2 / 3
In all 60 / 29 / 52. The 8 left are equivalent, or change nothing a user sees:
check_earlier and new_manifest reading the manifest's ``chance_loss`` raw, not through
``chance_level`` (load_manifest has refused any value the rule refuses; an int stays an int);
``_settle``'s approach test without its float-noise margin (a state that has settled is a float
fixed point, so Newton starts at it and the two distances are 0) and without its finiteness
check of the plain steps (an overflowed state makes Newton's iterate NaN, and None follows);
``RunLock`` not clearing ``_held`` on release, and ``displaced`` without its ``_held is None``
guard (nothing asks a released lock, and a folder just locked has a readable identity);
``_workers_killed`` taking a negative allowed-failures as a count (distributed gives none);
the Anomalies section's title changed in section_names (every reader reads it there).
Found: after the default 200 plain steps, a network that falls into a 2-cycle beside a stable
fixed point was rated at that point (the approach test compared the state after 101 steps with
the one after 200, the cycle's same phase); fixed in ``linear._approached``, tested below.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from _report_run import monitor_run
from torch import nn

import vanishlab as vl
from vanishlab.analysis.linear import fixed_point_rates
from vanishlab.core.training_facts import chance_level

# --- core/training_facts.py: chance_level, the one rule of a chance level ---


def test_the_chance_rule_takes_real_numbers_only() -> None:
    """A ``numbers.Number`` that is no real number is no level: a Decimal's float() passed and a
    complex's raised TypeError where the rule says None for anything else."""
    for value in (Fraction(1, 6), np.float32(0.5), np.int64(2), 3):
        level = chance_level(value)
        assert type(level) is float and level == float(value), value
    assert chance_level(Decimal("0.5")) is None
    assert chance_level(0.5j) is None


def test_a_numpy_chance_level_is_recorded_as_a_json_number(tmp_path: Path) -> None:
    """The rule's float, not the value given: a NumPy float32 or int64 kept as it came could
    not be written to the manifest (json.dumps raised TypeError)."""
    for i, value in enumerate((np.float32(0.5), np.int64(2))):
        run = monitor_run(tmp_path / f"run{i}", (0.2, 0.1), chance=value)
        assert repr(vl.load_manifest(run)["model"]["chance_loss"]) == repr(float(value))


# --- trained/monitor_dir.py: a reopened run's chance level, compared within rounding ---


def test_a_reopened_run_compares_its_chance_level_within_float_rounding(tmp_path: Path) -> None:
    """1/6 computed another way (one unit in the last place or so off) goes on and keeps the
    run's own bytes; a level one part in a million off is another level, refused."""
    run = monitor_run(tmp_path / "run", (0.2, 0.1), chance=1 / 6)
    monitor_run(run, (0.2, 0.1, 0.05), chance=(1 / 6) * (1 + 1e-12))
    assert vl.load_manifest(run)["model"]["chance_loss"] == 1 / 6  # the run's, not the one given
    with pytest.raises(vl.VanishlabError, match=r"monitored with chance_loss=0\.1666"):
        monitor_run(run, (0.2, 0.1, 0.05, 0.02), chance=(1 / 6) * (1 + 1e-6))


# --- analysis/linear.py: fixed_point_rates, where a network settles and where not ---


def test_a_fixed_point_the_state_is_not_settling_at_is_not_rated() -> None:
    """One bistable tanh unit (w = 2, b = 0.05): 3 plain steps from 0 reach h = 0.33, on its
    way to h* = +0.957, where Newton's step overshoots to the other stable point, -0.952.
    The rate is that of the point the network settles at, or None; never the other's."""
    rnn = nn.RNN(1, 1).double()
    with torch.no_grad():
        rnn.weight_hh_l0.fill_(2.0)
        rnn.bias_ih_l0.fill_(0.05)
        rnn.bias_hh_l0.zero_()
        out, _ = rnn(torch.zeros(3000, 1, 1, dtype=torch.float64))
    h = float(out[-1, 0, 0])
    assert h > 0.95  # where it settles
    settled_rate = math.log(2.0 * (1.0 - h * h))
    got = fixed_point_rates(rnn, steps=3)
    assert got is None or got == [pytest.approx(settled_rate, abs=1e-9)], got
    # the default plain steps reach it before Newton's method polishes it
    assert fixed_point_rates(rnn) == [pytest.approx(settled_rate, abs=1e-9)]


def test_an_unstable_fixed_point_is_not_rated_though_the_state_stays_there() -> None:
    """No biases: the state stays at the origin exactly, an unstable fixed point of a tanh
    network with rho(W_hh) = 1.2 (any perturbation grows): None, as for chaos, where a bound of
    1.5 in place of 1 rated it ln 1.2."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 8, bias=False).double()
    with torch.no_grad():
        nn.init.orthogonal_(rnn.weight_hh_l0, gain=1.2)
    assert vl.linear_rate(rnn) == pytest.approx(math.log(1.2), abs=1e-12)
    assert fixed_point_rates(rnn) is None


def _tanh_rnn(w_hh: list[list[float]], bias: list[float]) -> nn.RNN:
    rnn = nn.RNN(1, len(bias)).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.tensor(w_hh, dtype=torch.float64))
        rnn.bias_ih_l0.copy_(torch.tensor(bias, dtype=torch.float64))
        rnn.bias_hh_l0.zero_()
    return rnn


# Two tanh units that never settle: from 0 their state falls into a 2-cycle (it still moves by
# 1.94 a step after 20,000 steps) beside a fixed point that is stable, rho(D* W_hh) = 0.92.
CYCLING = ([[0.3334649139752806, -3.1638103281719796], [-0.5005598735820312, -0.7783142790503051]],
           [-0.021160653080507026, 0.22901978735138834])  # fmt: skip


def test_a_network_that_cycles_is_not_rated_at_a_fixed_point_beside_its_cycle() -> None:
    """After 6 plain steps the state is no nearer that point than after 3: None, where taking
    the state after the first step for the earlier one rated the point (-0.084)."""
    assert fixed_point_rates(_tanh_rnn(*CYCLING), steps=6) is None


def test_a_network_that_cycles_is_not_rated_after_the_default_steps() -> None:
    """After the default 200 plain steps the state half-way and the last were the 2-cycle's
    same phase, equally far from the stable point beside it, which was rated (ln 0.92): every
    distance of the last 50 steps is now compared with every one of the 50 before."""
    assert fixed_point_rates(_tanh_rnn(*CYCLING)) is None


def test_a_fixed_point_newton_does_not_converge_to_is_not_rated() -> None:
    """One tanh unit, w = -4.56, b = 0.43, oscillates (its fixed point is unstable); Newton's
    iterations from its state after 3 steps do not converge: None, where the unconverged point
    was rated (-5.3)."""
    rnn = _tanh_rnn([[-4.564626898437002]], [0.4316909974261323])
    assert fixed_point_rates(rnn, steps=3) is None


def test_a_fixed_point_approached_slowly_is_polished_by_newton_to_its_rate() -> None:
    """tanh, w = 1, b = 0.001: h* = tanh(h* + b) = 0.1436, rho = 1 - h*^2 = 0.979, so the 200
    plain steps end 0.009 short of it; Newton's method takes it from there to the rate, where a
    residual allowed of 1e-5 left it 1e-4 off, and 2 of its iterations did not converge."""
    b, lo, hi = 1e-3, 0.0, 1.0
    for _ in range(200):  # bisection on h - tanh(h + b), increasing in h
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid - math.tanh(mid + b) < 0 else (lo, mid)
    rnn = nn.RNN(1, 1).double()
    with torch.no_grad():
        rnn.weight_hh_l0.fill_(1.0)
        rnn.bias_ih_l0.fill_(b)
        rnn.bias_hh_l0.zero_()
    assert fixed_point_rates(rnn) == [pytest.approx(math.log(1 - lo * lo), abs=1e-9)]


def test_fixed_point_rates_refuse_fewer_than_two_plain_steps() -> None:
    """The approach check compares the state after half the plain steps with the last: one
    step leaves nothing to compare."""
    with pytest.raises(ValueError, match="steps must be >= 2, got 1"):
        fixed_point_rates(nn.RNN(2, 3), steps=1)


# --- analysis/linear.py and sweep/cell_theory.py: a stack at its fixed point ---


def _stack(seed: int = 0) -> nn.RNN:
    torch.manual_seed(seed)
    rnn = nn.RNN(3, 24, num_layers=2).double()
    with torch.no_grad():
        for layer in range(2):
            getattr(rnn, f"bias_ih_l{layer}").normal_(0.0, 0.5)
    return rnn


def test_each_layer_of_a_stack_is_rated_at_the_fixed_point_the_layer_below_drives() -> None:
    """Layer 1 settles where layer 0's h* drives it through W_ih: nn.RNN's own forward, 3000
    undriven steps, gives each layer's h* and so ln rho(D*_l W_hh^l)."""
    rnn = _stack()
    with torch.no_grad():
        _, h_n = rnn(torch.zeros(3000, 1, 3, dtype=torch.float64))
    want = []
    for layer in range(2):
        d = 1 - h_n[layer, 0] ** 2
        w = getattr(rnn, f"weight_hh_l{layer}").detach()
        want.append(math.log(float(np.abs(np.linalg.eigvals((d[:, None] * w).numpy())).max())))
    got = fixed_point_rates(rnn)
    assert got == [pytest.approx(r, abs=1e-10) for r in want]
    assert abs(want[0] - want[1]) > 0.05  # the layers differ: each is read from its own layer


def test_a_stack_at_its_fixed_point_is_predicted_by_its_top_layer_and_its_largest_rate() -> None:
    """``predicted_rate`` is the top layer's ln rho(D* W_hh), ``predicted_rate_layer0`` the
    largest over the layers (as at the origin); a short run is flagged short, and the stack's
    note is said."""
    from vanishlab.sweep.cell import cell_module
    from vanishlab.sweep.cell_summary import summarize_cell

    config = vl.CellConfig(
        activation="tanh",
        init="default",
        gain=1.0,
        input_std=0.0,
        bias=True,
        hidden_size=16,
        input_size=3,
        seq_len=20,
        batch=2,
        num_layers=2,
        seed=1,
    )
    frame, meta = vl.run_cell(config)
    row = summarize_cell(config, frame, status=meta["status"], reason=meta["reason"])
    rates = fixed_point_rates(cell_module(config))
    assert rates is not None and abs(rates[0] - rates[1]) > 1e-3
    assert row["predicted_by"] == "linear"
    assert row["predicted_rate"] == rates[-1]
    assert row["predicted_rate_layer0"] == max(rates)
    assert "short" in row["flag"].split(",")
    assert "A stack at a fixed point" in row["note"]


def test_a_stack_whose_upper_layer_is_slower_is_predicted_by_it_at_layer_0_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every drawn stack above has layer 0 the slowest; where layer 1 is, both predictions are
    its rate (layer 0's rows sum paths through it)."""
    from vanishlab.sweep import cell_theory
    from vanishlab.sweep.cell_summary import summarize_cell

    def rates(rnn: nn.RNN, steps: int, *, settling: list[int | None]) -> list[float]:
        settling.extend([0, 0])  # each layer at its point from the first step
        return [-0.9, -0.2]

    monkeypatch.setattr(cell_theory, "fixed_point_rates", rates)
    config = vl.CellConfig(activation="tanh", init="default", gain=1.0, input_std=0.0, bias=True,
                           hidden_size=8, input_size=3, seq_len=20, batch=2,
                           num_layers=2)  # fmt: skip
    frame, meta = vl.run_cell(config)
    row = summarize_cell(config, frame, status=meta["status"], reason=meta["reason"])
    assert (row["predicted_rate"], row["predicted_rate_layer0"]) == (-0.2, -0.2)


# --- sweep/runner.py: the run directory's place, checked before the final manifest and on a stop


def test_a_run_moved_after_its_last_shard_gets_no_manifest_at_the_old_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved between the last cell's shard and the final manifest: the check before each shard
    has passed, and only the one before the manifest stops it (else the manifest began a
    second run at the old path, or the write failed in other words)."""
    from vanishlab.sweep import runner as sweep_runner

    out, moved = tmp_path / "run", tmp_path / "moved"
    real, written = sweep_runner.write_shard, []

    def writing(*args: object, **kwargs: object) -> object:
        path = real(*args, **kwargs)
        written.append(path)
        if len(written) == 3:  # the last of the grid's 3 cells
            out.rename(moved)
        return path

    monkeypatch.setattr(sweep_runner, "write_shard", writing)
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=1, seed=(0, 1, 2))
    with pytest.raises(vl.VanishlabError) as err:
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert str(err.value).startswith(f"run directory {out} was moved"), str(err.value)
    assert not out.exists()
    assert len(list((moved / "cells").glob("*.parquet"))) == 3


def test_a_folder_made_at_the_old_path_after_a_move_gets_no_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mv runs/x runs/y; mkdir runs/x` (and a file put there) mid-sweep: the sweep stops at
    its next cell, and the manifest it writes as it stops is not written into the new folder
    (which it would make a run of the moved one's cells)."""
    from vanishlab.sweep import runner as sweep_runner

    out, moved = tmp_path / "run", tmp_path / "moved"
    real, written = sweep_runner.write_shard, []

    def writing(*args: object, **kwargs: object) -> object:
        path = real(*args, **kwargs)
        written.append(path)
        if len(written) == 1:
            out.rename(moved)
            out.mkdir()
            (out / "notes.txt").write_text("another folder now\n")
        return path

    monkeypatch.setattr(sweep_runner, "write_shard", writing)
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=1, seed=(0, 1, 2))
    with pytest.raises(vl.VanishlabError, match=f"run directory {out} was moved"):
        vl.run_sweep(grid, out, workers=1, progress=False)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (moved / "manifest.json").is_file()


# --- sweep/dask_cluster.py: a cell that killed its workers, in the sweep's words ---


def _killed(task: str, tries: object, address: object) -> str:
    from vanishlab.sweep.dask_cluster import _workers_killed

    err = SimpleNamespace(
        task=task, allowed_failures=tries, last_worker=SimpleNamespace(address=address)
    )
    return str(_workers_killed(err))


def test_a_cell_that_killed_its_one_worker_names_that_worker() -> None:
    """The scheduler's allowed-failures 0 (kill -9 of the worker, as helper 404 ran it): one
    worker ran it, and the line says "the worker", not "each of the 1 workers"."""
    said = _killed("vanishlab-0123456789abcdef-9a4fcf65", 0, "tcp://10.0.0.2:4000")
    assert said.startswith(
        "the Dask cluster stopped running cells: cell 0123456789abcdef ended the worker that "
        "ran it at tcp://10.0.0.2:4000 (killed, as by the out-of-memory killer or kill -9, or "
        "crashed: its log says which)"
    ), said


# --- sweep/section_names.py's readers: the sweep's line past its named shards ---


def test_the_count_of_shards_past_the_named_ones_names_the_anomalies_section(
    tmp_path: Path,
) -> None:
    """The one line that counts the outside shards past MAX_WARNING_LINES names the section by
    its title, as the lines above it do (no test read it: its key, "anomalies", passed)."""
    from vanishlab.sweep.run_summary import MAX_WARNING_LINES, RunSummary
    from vanishlab.sweep.section_names import ANOMALIES

    outside = tuple(tmp_path / "cells" / f"{i:016x}.parquet" for i in range(MAX_WARNING_LINES + 2))
    summary = RunSummary(tmp_path, 1, 1, 0, 0, 0.1, outside=outside)
    lines = summary.warning_lines()
    assert len(lines) == MAX_WARNING_LINES + 1
    assert lines[-1] == (
        f"warning: 2 more such shards in {tmp_path / 'cells'} (the report lists them under "
        f"{ANOMALIES.title})"
    )
    assert all(ANOMALIES.title in line for line in lines)
