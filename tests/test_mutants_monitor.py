"""Mutation round on training-time monitoring and measuring trained models (vanishlab/trained/:
monitor, monitor_measure, monitored, step_args, step_order, gate_memory, safetensors_file,
measure, analyze_run).

Each test here failed on one hand-made mutant that passed the fast tests of its module, and
passes on the code as it is; its docstring names the mutant. 61 mutants (2026-12-07, each run
against its module's tests, ``pytest -x -m "not slow"``): 48 killed before, 57 with this file.
The 4 left are equivalent: monitor_measure without its ``global_rng.forked`` (every draw a
measurement makes is forked where it is made: weight_reads' parametrizations, own_forward);
gate_memory's bias blocks added to its float64 sum without ``torch.float64`` (an in-place add
to a float64 tensor converts them exactly first); safetensors_file's reason taken from the last
line of the package's error (its messages are one line); measure's ``batch`` column read as 1
for an input that is not 3-D (canonical_inputs makes every input 3-D).
"""

from __future__ import annotations

import copy as copy_module
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from test_module_forms import _WrapperRawDropout
from torch import nn

import vanishlab as vl
from vanishlab.trained import monitor as monitor_module
from vanishlab.trained.measure import module_config, top_lyapunov
from vanishlab.trained.monitored import tensor_digest


def test_a_wrappers_module_gets_its_own_weight_back_after_each_step(tmp_path):
    """Mutant: monitored.raw_weights_in without its ``finally`` that puts the module's tensors
    back. The monitor measures a weight-drop wrapper's raw weight by writing it into the module
    for the step; left there, the module's ``weight_hh_l0`` after ``mon.step`` was the raw
    weight (detached, sharing its storage), not the dropout draw of the last training forward
    that the user's code holds. test_module_forms' check of this read the module's tensor after
    the steps, as its reference, so it could not fail: here it is taken before each step."""
    torch.manual_seed(0)
    x = torch.randn(5, 2, 3)
    wrapped = _WrapperRawDropout(nn.LSTM(3, 4))
    with vl.JacobianMonitor(wrapped, x, out=tmp_path / "run", lyapunov=False) as mon:
        for n in range(2):
            wrapped(x)  # a training forward: the module's weight is a fresh dropout draw
            drawn = wrapped.module.weight_hh_l0
            assert mon.step(n) is not None
            assert wrapped.module.weight_hh_l0 is drawn, n
    assert not torch.equal(drawn, wrapped.weight_hh_l0_raw.detach())  # a draw, not the raw


def test_a_failed_step_records_no_lyapunov_exponent(tmp_path):
    """Mutant: monitor_measure's Lyapunov exponent measured at a failed step too (``if
    lyapunov:``, not ``and status == "ok"``). measure_step says None for a failed step; the
    mutant recorded "nan" (the overflowing forward pass's exponent) in the step's record, which
    the page and vl.summarize read as a measured exponent of NaN, not as "not measured"."""
    rnn = nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(4) * 1e30)
        for p in (rnn.weight_ih_l0, rnn.bias_ih_l0, rnn.bias_hh_l0):
            p.fill_(1.0)  # every unit on: the relu state overflows to inf
    with vl.JacobianMonitor(rnn, torch.ones(40, 1, 2), out=tmp_path / "m") as mon:
        assert len(mon.step(0)) == 0
    record = vl.load_manifest(tmp_path / "m")["steps"]["0"]
    assert record["status"] == "failed"
    assert record["lyapunov"] is None


def test_a_digest_tells_tensors_of_the_same_bytes_and_another_dtype_apart():
    """Mutant: monitored.tensor_digest without each tensor's dtype in what it hashes. Its
    docstring says "their dtypes, shapes and bytes": float16 and bfloat16 zeros (or ones of
    int32 and float32 zeros) have the same bytes and shape, and the mutant gave them one digest,
    so a probe or a recorded step's weights of another dtype read as the same."""
    for a, b in ((torch.float16, torch.bfloat16), (torch.int32, torch.float32)):
        assert tensor_digest(torch.zeros(3, dtype=a)) != tensor_digest(torch.zeros(3, dtype=b))
    assert tensor_digest(torch.zeros(3)) == tensor_digest(torch.zeros(3))


def test_a_probes_input_std_is_its_population_standard_deviation():
    """Mutant: measure.module_config's ``input_std`` with Bessel's correction
    (``std(unbiased=True)``), 2% above at 24 values here. It is a config column, in every
    recorded step's cell id and in the rows of an analysis: runs written before would read as
    other measurements than the same code now gives. The number: NumPy's ``std`` (ddof 0)."""
    torch.manual_seed(0)
    probe = torch.randn(4, 2, 3)  # (T, B, I) for a module that is not batch_first
    config = module_config(nn.GRU(3, 5), probe)
    assert config["input_std"] == float(f"{np.std(probe.double().numpy()):.6g}")
    assert config["input_std"] != float(f"{np.std(probe.double().numpy(), ddof=1):.6g}")


def test_a_reopened_runs_time_adds_to_the_time_it_had(tmp_path, monkeypatch):
    """Mutant: monitor's __exit__ writing the manifest's ``elapsed_s`` as this opening's time
    alone (``round(spent, 3)``). A run resumed in a second ``with`` block (training resumed
    from a checkpoint) then said the last block's time as the run's: here 0 s for a run that
    spent 100 s (a clock of the test's own, moved by hand) in its first block."""
    clock = [0.0]
    monkeypatch.setattr(monitor_module, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    rnn, probe = nn.RNN(2, 3), torch.randn(4, 1, 2)
    with vl.JacobianMonitor(rnn, probe, out=tmp_path / "m", lyapunov=False) as mon:
        mon.step(0)
        clock[0] += 100.0  # the training of the first block
    assert vl.load_manifest(tmp_path / "m")["elapsed_s"] == 100.0
    with vl.JacobianMonitor(rnn, probe, out=tmp_path / "m", lyapunov=False) as mon:
        mon.step(0)  # recorded already, with these weights: skipped
        clock[0] += 2.5
    assert vl.load_manifest(tmp_path / "m")["elapsed_s"] == 102.5


def test_an_analysis_found_measured_says_the_status_it_was_measured_with(tmp_path):
    """Mutant: analyze_run's already-measured result with the status ``"ok"`` (not its shard's).
    An analysis whose forward pass overflowed, run again with the same command, said "already
    measured" with no "(failed: the forward pass overflowed)": vl.analyze_checkpoint's
    ``status`` and `vanishlab analyze`'s line then said a failed measurement was a good one."""
    rnn = nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(1e30 * torch.eye(4))
        rnn.weight_ih_l0.fill_(1.0)
    torch.save(rnn.state_dict(), tmp_path / "huge.pt")
    run = tmp_path / "run"
    first = vl.analyze_checkpoint(tmp_path / "huge.pt", run, nonlinearity="relu", seq_len=8)
    again = vl.analyze_checkpoint(tmp_path / "huge.pt", run, nonlinearity="relu", seq_len=8)
    assert (first.measured, again.measured) == (True, False)
    assert first.status == again.status == "failed"
    assert list(vl.load_cells(run)["status"]) == ["failed"]
    assert str(again).endswith(f"already measured (failed: the forward pass overflowed) -> {run}")


def test_a_module_without_biases_is_recorded_as_one():
    """Mutant: measure.module_config's ``bias`` column always True. A monitored or analysed
    ``nn.LSTM(bias=False)`` was recorded with bias True in its rows and its cell, as a sweep's
    biased cell reads; the number is the module's own ``bias``."""
    x = torch.randn(5, 1, 2)
    assert module_config(nn.LSTM(2, 3, bias=False), x)["bias"] is False
    assert module_config(nn.LSTM(2, 3), x)["bias"] is True


def test_a_steps_lyapunov_exponent_starts_from_the_given_initial_state(tmp_path):
    """Mutant: monitor_measure's Lyapunov exponent measured without the monitor's ``h0``
    (``top_lyapunov(module, probe)``), from a zero state, while its norms start from ``h0``.
    The number: measure.top_lyapunov of a deep copy of the module, from that ``h0``, which
    here differs from the zero state's by more than 0.1 (tanh units saturated by h0 = 3)."""
    torch.manual_seed(0)
    rnn, probe = nn.RNN(2, 4), 0.1 * torch.randn(8, 2, 2)
    h0 = torch.full((1, 2, 4), 3.0)
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(3.0)
    copy = copy_module.deepcopy(rnn)
    with vl.JacobianMonitor(rnn, probe, out=tmp_path / "m", h0=h0) as mon:
        mon.step(0)
    recorded = vl.load_manifest(tmp_path / "m")["steps"]["0"]["lyapunov"]
    want, zero_state = top_lyapunov(copy, probe, h0), top_lyapunov(copy, probe)
    assert abs(want - zero_state) > 0.1
    assert recorded == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_an_lstms_initial_state_is_a_copy_taken_when_the_monitor_is_made(tmp_path):
    """Mutant: monitored.clone_tensors returning a tuple as it is (``return t``), not a tuple
    of copies. An LSTM's ``h0=(h, c)`` was then kept by reference: a training loop that
    changes its tensors in place (``c.add_(...)``, a state carried over) moved the initial
    state of every later step, while the run's probe digest still named the first. The
    number: vl.jacobian_norms of a deep copy of the module from the state as it was given."""
    torch.manual_seed(0)
    lstm, probe = nn.LSTM(2, 3), torch.randn(6, 2, 2)
    h, c = torch.zeros(1, 2, 3), torch.zeros(1, 2, 3)
    given = (h.clone(), c.clone())
    copy = copy_module.deepcopy(lstm)
    with vl.JacobianMonitor(lstm, probe, out=tmp_path / "m", h0=(h, c), lyapunov=False) as mon:
        c.add_(5.0)  # the caller's tensors changed in place after the monitor was made
        h.add_(0.9)
        rows = mon.step(0)
    want = vl.jacobian_norms(copy, probe, given)
    grouped = want.groupby(["source", "layer", "lag"], dropna=False)["log10_fro"].mean()
    mean = {(s, None if pd.isna(k) else int(k), int(lag)): v for (s, k, lag), v in grouped.items()}
    moved = vl.jacobian_norms(copy, probe, (h, c))
    assert not np.allclose(moved["log10_fro"], want["log10_fro"])  # the change matters
    for r in rows.itertuples():
        key = (r.source, None if pd.isna(r.layer) else int(r.layer), int(r.lag))
        assert r.log10_fro_mean == pytest.approx(mean[key], abs=1e-12)
    assert len(rows) == len(mean)
