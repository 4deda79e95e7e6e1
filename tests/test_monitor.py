"""``vl.JacobianMonitor``: one atomic shard per recorded step, read by load_results, resumable;
and it never changes the module's parameters, gradients, training mode or any RNG state."""

from __future__ import annotations

import collections
import json
import math
import random
import re
import runpy
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.errors import VanishlabError
from vanishlab.trained import MONITOR, JacobianMonitor


class _Net(nn.Module):
    def __init__(self, cell: type[nn.RNNBase] = nn.RNN, dropout: float = 0.0) -> None:
        super().__init__()
        self.rnn = cell(3, 8, 2, dropout=dropout, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1])


def _train_step(net: _Net, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    opt.zero_grad()
    nn.functional.mse_loss(net(x), y).backward()
    opt.step()


def _expected_rows(module: nn.RNNBase, probe: torch.Tensor) -> dict[tuple, float]:
    frame = vl.jacobian_norms(module, probe)
    g = frame.groupby(["source", "layer", "lag"], dropna=False)["log10_fro"].mean()
    return {(s, None if pd.isna(l) else int(l), int(k)): v for (s, l, k), v in g.items()}


def test_records_every_nth_step_with_a_step_column(tmp_path):
    torch.manual_seed(0)
    net = _Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    x, y = torch.randn(16, 10, 3), torch.randn(16, 1)
    probe = torch.randn(4, 10, 3)  # (B, T, I): the module is batch_first
    expected = {}
    with JacobianMonitor(net, probe, out=tmp_path / "mon", every=3) as mon:
        assert mon.module is net.rnn  # found inside the model
        for n in range(0, 8):
            if n:
                _train_step(net, opt, x, y)
            wrote = mon.step(n)
            assert (wrote is not None) == (n % 3 == 0)
            if wrote is not None:
                expected[n] = _expected_rows(net.rnn, probe)
                assert (wrote["step"] == n).all()
    rows = vl.load_results(tmp_path / "mon")
    assert list(rows.columns[: rows.columns.get_loc("step") + 1])[-2:] == ["cell_id", "step"]
    assert sorted(rows["step"].unique()) == [0, 3, 6]
    for n, want in expected.items():
        at = rows[rows["step"] == n]
        assert len(at) == 10 + 2 * 11 and at["cell_id"].nunique() == 1
        for r in at.itertuples():
            key = (r.source, None if pd.isna(r.layer) else int(r.layer), int(r.lag))
            assert r.log10_fro_mean == pytest.approx(want[key], rel=1e-12, abs=1e-12)
    # The weights moved between recorded steps, and the monitor saw it.
    top0 = rows[(rows["step"] == 0) & (rows["source"] == "input")]["log10_fro_mean"].to_numpy()
    top6 = rows[(rows["step"] == 6) & (rows["source"] == "input")]["log10_fro_mean"].to_numpy()
    assert not np.allclose(top0, top6)
    manifest = vl.load_manifest(tmp_path / "mon")
    assert manifest["kind"] == MONITOR and manifest["finished"] is not None
    assert sorted(manifest["steps"], key=int) == ["0", "3", "6"]
    assert manifest["model"]["architecture"]["kind"] == "rnn"
    cells = vl.load_cells(tmp_path / "mon")
    assert list(cells["step"]) == [0, 3, 6] and (cells["status"] == "ok").all()
    assert not list((tmp_path / "mon" / "cells").glob(".*"))  # no temp files left
    summary = vl.summarize(tmp_path / "mon")
    assert len(summary) == 3 and summary["rate"].notna().all()


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (RuntimeError("boom at step 3"), "stopped by RuntimeError after the last step recorded"),
        (KeyboardInterrupt(), "interrupted (KeyboardInterrupt) after the last step recorded"),
    ],
)
def test_a_block_left_by_an_exception_is_not_finished(tmp_path, error, said):
    """A training loop that raised at step 3 (or Ctrl-C) inside the monitor's block left a
    manifest with its time as 'finished', and the page said 'finished 2026-...' as for a
    training that ran to its end (helper 262's walk-through); an interrupted sweep's says
    'not finished'. Now ``finished`` stays null and ``stopped_by`` names the exception."""
    torch.manual_seed(0)
    net = _Net()
    probe = torch.randn(2, 5, 3)
    with pytest.raises(type(error)), JacobianMonitor(net, probe, out=tmp_path / "m") as mon:
        mon.step(0)
        raise error
    manifest = vl.load_manifest(tmp_path / "m")
    assert manifest["finished"] is None and manifest["stopped_by"] == type(error).__name__
    html = vl.render_report(tmp_path / "m", tmp_path / "r.html").read_text()
    assert f"not finished: {said}" in html
    with JacobianMonitor(net, probe, out=tmp_path / "m") as mon:  # reopened, ended: finished
        mon.step(1)
    manifest = vl.load_manifest(tmp_path / "m")
    assert manifest["finished"] is not None and "stopped_by" not in manifest


@pytest.mark.parametrize(
    ("code", "finished"),
    [
        ("0", True),
        ("None", True),
        ("False", True),
        ("3", False),
        # Python prints a code that is no int and exits with status 1: not a finish (0.0 and
        # NumPy's 0 compared equal to 0, and were recorded as finished)
        ("0.0", False),
        ("np.int64(0)", False),
        ("'done'", False),
    ],
)
def test_a_block_left_by_a_deliberate_exit_is_finished(tmp_path, code, finished):
    """sys.exit(0) inside the monitor's block ends training on purpose: it was recorded as
    'not finished: stopped by SystemExit' (helper 264's review); a failing status is not, and
    the status is the one Python exits with (checked here in a process of its own)."""
    status = subprocess.run(
        [sys.executable, "-c", f"import sys; import numpy as np; sys.exit({code})"],
        capture_output=True,
        check=False,
    ).returncode
    assert (status == 0) == finished
    torch.manual_seed(0)
    net, probe = _Net(), torch.randn(2, 5, 3)
    with pytest.raises(SystemExit), JacobianMonitor(net, probe, out=tmp_path / "m") as mon:
        mon.step(0)
        raise SystemExit(eval(code, {"np": np}))
    manifest = vl.load_manifest(tmp_path / "m")
    assert (manifest["finished"] is not None) == finished
    assert ("stopped_by" in manifest) == (not finished)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_hand_edited_stopped_by_that_is_no_name_is_not_said(tmp_path):
    """A manifest's stopped_by of 5 (hand-edited) read 'stopped by 5' on the page."""
    torch.manual_seed(0)
    net, probe = _Net(), torch.randn(2, 5, 3)
    with pytest.raises(RuntimeError), JacobianMonitor(net, probe, out=tmp_path / "m") as mon:
        mon.step(0)
        raise RuntimeError("boom")
    path = tmp_path / "m" / "manifest.json"
    path.write_text(path.read_text().replace('"RuntimeError"', "5"))
    html = vl.render_report(tmp_path / "m", tmp_path / "r.html").read_text()
    assert "stopped by 5" not in html and "not finished (or still training)" in html


def test_a_block_closed_with_its_generator_is_finished(tmp_path):
    """A generator that trains under the monitor, closed by its caller (GeneratorExit)."""
    torch.manual_seed(0)
    net, probe = _Net(), torch.randn(2, 5, 3)

    def training():
        with JacobianMonitor(net, probe, out=tmp_path / "m") as mon:
            for n in range(10):
                mon.step(n)
                yield n

    steps = training()
    next(steps)
    steps.close()
    manifest = vl.load_manifest(tmp_path / "m")
    assert manifest["finished"] is not None and "stopped_by" not in manifest


@pytest.mark.parametrize("training", [True, False])
def test_never_changes_parameters_gradients_mode_or_rng(tmp_path, training):
    torch.manual_seed(1)
    net = _Net(dropout=0.3)  # dropout between layers: the mode matters to the forward pass
    net.train(training)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(8, 6, 3), torch.randn(8, 1)
    _train_step(net, opt, x, y)
    nn.functional.mse_loss(net(x), y).backward()  # fresh .grad tensors to watch
    params = {k: v.detach().clone() for k, v in net.named_parameters()}
    grads = {k: (v.grad, v.grad.clone()) for k, v in net.named_parameters()}
    modes = [m.training for m in net.modules()]
    probe = torch.randn(6, 2, 3)
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    states = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
    with JacobianMonitor(net.rnn, probe, out=tmp_path / "m", every=1) as mon:
        assert mon.step(1) is not None
        assert mon.step(2) is not None
    assert all(torch.equal(params[k], v) for k, v in net.named_parameters())
    for k, v in net.named_parameters():
        assert v.grad is grads[k][0] and torch.equal(v.grad, grads[k][1]), k
    assert [m.training for m in net.modules()] == modes
    assert random.getstate() == states[0]
    assert np.array_equal(np.random.get_state()[1], states[1])
    assert torch.equal(torch.get_rng_state(), states[2])
    # ... and the next draws are the ones they would have been.
    assert torch.equal(torch.rand(3), (torch.manual_seed(5), torch.rand(3))[1])


def test_parameters_without_grad_stay_without_grad(tmp_path):
    rnn = nn.RNN(2, 4)
    with JacobianMonitor(rnn, torch.randn(5, 1, 2), out=tmp_path / "m") as mon:
        mon.step(0)
    assert all(p.grad is None for p in rnn.parameters())


def test_a_reopened_monitor_removes_a_killed_writers_temp_files(tmp_path):
    """A monitor killed mid-write left ``.<name>.<hex>.tmp`` in its run for good (only a sweep
    removed them); reopened, it removes them as a sweep does (it holds the run's lock)."""
    rnn = nn.RNN(2, 4)
    probe = torch.randn(5, 1, 2)
    out = tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
    stale = [
        out / "cells" / ".0123456789abcdef.parquet.0a1b2c3d.tmp",
        out / ".manifest.json.0a1b2c3d.tmp",
    ]
    for path in stale:
        path.write_bytes(b"half a file")
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(1)
    assert not [p for p in stale if p.exists()]


def test_resumes_and_refuses_another_probe(tmp_path):
    torch.manual_seed(2)
    rnn = nn.RNN(2, 4)
    probe = torch.randn(5, 2, 2)
    out = tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out, every=2) as mon:
        for n in range(5):
            mon.step(n, loss=10.0 - n)
    first = {p.name: p.read_bytes() for p in (out / "cells").iterdir()}
    with JacobianMonitor(rnn, probe, out=out, every=2) as mon:
        assert mon.step(2, loss=0.0) is None  # already recorded (its loss is kept)
        assert mon.step(6, loss=4.0) is not None
    after = {p.name: p.read_bytes() for p in (out / "cells").iterdir()}
    assert {k: after[k] for k in first} == first and len(after) == len(first) + 1
    assert sorted(vl.load_results(out)["step"].unique()) == [0, 2, 4, 6]
    assert list(vl.load_cells(out)["loss"]) == [10.0, 8.0, 6.0, 4.0]
    with pytest.raises(VanishlabError, match="monitors another probe"):
        JacobianMonitor(rnn, probe + 1, out=out).__enter__()
    with pytest.raises(VanishlabError, match="monitors another module"):
        JacobianMonitor(nn.RNN(2, 5), probe, out=out).__enter__()
    # Another cadence was accepted, and the run then said "monitored every 3 steps" of steps
    # recorded every 2.
    with pytest.raises(VanishlabError, match="was monitored every 2 steps, not every 3"):
        JacobianMonitor(rnn, probe, out=out, every=3).__enter__()
    assert vl.load_manifest(out)["model"]["every"] == 2


def test_a_cadence_of_one_step_reads_every_step(tmp_path):
    # "was monitored every 1 steps, not every 2", and a description "... monitored every 1 steps".
    rnn, probe, out = nn.RNN(2, 4), torch.randn(5, 1, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
    assert vl.load_manifest(out)["description"].endswith(" monitored every step")
    with pytest.raises(VanishlabError, match="was monitored every step, not every 2 steps: pass"):
        JacobianMonitor(rnn, probe, out=out, every=2).__enter__()
    other = tmp_path / "two"
    with JacobianMonitor(rnn, probe, out=other, every=2) as mon:
        mon.step(0)
    assert vl.load_manifest(other)["description"].endswith(" monitored every 2 steps")
    with pytest.raises(VanishlabError, match="was monitored every 2 steps, not every step: pass"):
        JacobianMonitor(rnn, probe, out=other).__enter__()


def test_a_reopened_run_keeps_its_name_and_says_so(tmp_path):
    """Reopening with another name= renamed the run in silence, where `vanishlab analyze
    --name` on an existing run keeps its name and says so; now the monitor does the same."""
    rnn, probe, out = nn.RNN(2, 4), torch.randn(5, 1, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out, name="first") as mon:
        mon.step(0)
    said = r"m keeps its name 'first' \(name= names a new run\)"
    other = JacobianMonitor(rnn, probe, out=out, name="second")
    with pytest.warns(UserWarning, match=said), other as mon:
        mon.step(1)
    assert vl.load_manifest(out)["name"] == "first"
    for same in ("first", None):  # its own name, or none: nothing to say
        with JacobianMonitor(rnn, probe, out=out, name=same) as mon:
            mon.step(2)
    assert vl.load_manifest(out)["name"] == "first"
    assert sorted(vl.load_results(out)["step"].unique()) == [0, 1, 2]


def test_a_monitor_inside_another_run_names_its_argument(tmp_path):
    """The refusal read "choose a out outside it": the monitor's argument is out=."""
    rnn = nn.RNN(3, 4)
    with JacobianMonitor(rnn, torch.randn(5, 2, 3), out=tmp_path / "m") as mon:
        mon.step(0)
    with pytest.raises(VanishlabError, match=r"m; give out= a directory outside it$"):
        JacobianMonitor(rnn, torch.randn(5, 2, 3), out=tmp_path / "m" / "inner")  # when made


def test_another_training_run_into_the_same_directory_is_refused(tmp_path):
    """Another seed's run was taken as a resume: its first steps were skipped in silence, and
    the run held one model's early steps and the other's later ones."""
    probe = torch.randn(5, 2, 3, generator=torch.Generator().manual_seed(0))
    out = tmp_path / "m"

    def train(seed: int, steps: range) -> list[bool]:
        torch.manual_seed(seed)
        net = _Net()
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        x, y = torch.randn(4, 6, 3), torch.randn(4, 1)
        written = []
        with JacobianMonitor(net, probe.transpose(0, 1), out=out, every=2) as mon:
            for n in steps:
                if n:
                    _train_step(net, opt, x, y)
                written.append(mon.step(n) is not None)
        return written

    assert train(0, range(5)) == [True, False, True, False, True]
    # The same run again (same seed, deterministic): a resume; its recorded steps are skipped.
    assert train(0, range(7)) == [False, False, False, False, False, False, True]
    with pytest.raises(VanishlabError, match=r"step 0 of .* was recorded from other weights"):
        train(1, range(3))
    # The same number twice in one monitor, with training between: named as such.
    net = _Net()
    with JacobianMonitor(net, probe.transpose(0, 1), out=tmp_path / "twice", every=1) as mon:
        mon.step(5)
        with torch.no_grad():
            net.rnn.weight_hh_l0.mul_(0.5)
        with pytest.raises(VanishlabError, match="step 5 was already recorded by this monitor"):
            mon.step(5)
    assert sorted(vl.load_results(out)["step"].unique()) == [0, 2, 4, 6]


def test_a_pruned_module_is_measured_masked_and_a_new_mask_is_other_weights(tmp_path):
    """The weights' digest read the parameters alone, and torch.nn.utils.prune keeps the mask
    in a buffer beside weight_hh_l0_orig: a module pruned anew had the same digest, so a step
    already recorded was skipped as "the same weights" (and one step recorded twice in one
    monitor was not named). The masked weights are what is measured, as for a plain module
    holding them; a plain module's digest is that of its parameters, as before."""
    from torch.nn.utils import prune

    from vanishlab.trained.monitored import tensor_digest

    torch.manual_seed(0)
    rnn = nn.RNN(3, 6)
    prune.random_unstructured(rnn, "weight_hh_l0", amount=0.5)
    probe = torch.randn(7, 2, 3)
    plain = nn.RNN(3, 6)
    with torch.no_grad():
        for name, p in plain.named_parameters():
            p.copy_(getattr(rnn, name))  # weight_hh_l0: the masked weight the forward uses
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        rows = mon.step(1)
    with JacobianMonitor(plain, probe, out=tmp_path / "plain") as mon:
        want = mon.step(1)
    cols = ["source", "layer", "lag", "log10_fro_mean", "log10_spec_mean"]
    pd.testing.assert_frame_equal(rows[cols], want[cols])
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        assert mon.step(1) is None  # the same mask: the same weights, skipped
    with torch.no_grad():
        rnn.weight_hh_l0_mask.fill_(1.0)  # pruned anew (here: nothing pruned)
    again = JacobianMonitor(rnn, probe, out=tmp_path / "m")
    with again, pytest.raises(VanishlabError, match=r"step 1 of .* was recorded from other"):
        again.step(1)
    with JacobianMonitor(rnn, probe, out=tmp_path / "twice") as mon:
        mon.step(2)
        with torch.no_grad():
            rnn.weight_hh_l0_mask[0].zero_()
        with pytest.raises(VanishlabError, match="step 2 was already recorded by this monitor"):
            mon.step(2)
    recorded = vl.load_manifest(tmp_path / "plain")["steps"]["1"]["weights_sha256"]
    assert recorded == tensor_digest(*plain.parameters())


def test_a_new_step_below_a_recorded_one_is_refused_and_nothing_written(tmp_path):
    """mon.step(5); <train>; mon.step(3) recorded step 3 from weights newer than step 5's, with
    one warning per monitor, and a later step(2) in silence. Steps count up in one monitor: a
    new one below the highest recorded (not the first) is refused, naming both, and nothing is
    written; a replayed step (the same weights) and a reopened run's own earlier steps are not
    refused."""
    torch.manual_seed(4)
    net, probe = _Net(), torch.randn(2, 6, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(4, 6, 3), torch.randn(4, 1)
    out = tmp_path / "m"
    with JacobianMonitor(net, probe, out=out) as mon:
        assert mon.step(1) is not None
        assert mon.step(5) is not None
        assert mon.step(5) is None  # replayed with the same weights: skipped
        _train_step(net, opt, x, y)
        for n in (3, 2):  # every time, not once
            with pytest.raises(VanishlabError) as told:
                mon.step(n, loss=1.0)
            assert str(told.value) == (
                f"step {n} comes after step 5, the highest this monitor of {out} recorded, so "
                f"it would hold weights newer than step 5's; nothing written: give each "
                "training step its own number, counting up; training that went back to a "
                "checkpoint goes on in a new `with` block: on this out= where it replays the "
                "steps recorded since exactly (the checkpoint's optimizer state, the same "
                "thread count), else on a new or empty out= (docs/trained.md, Resuming)"
            )
        assert mon.step(6) is not None
    assert sorted(vl.load_results(out)["step"].unique()) == [1, 5, 6]
    assert sorted(vl.load_manifest(out)["steps"], key=int) == ["1", "5", "6"]
    assert len(list((out / "cells").iterdir())) == 3
    with JacobianMonitor(net, probe, out=out) as mon:  # another session: 0 is new here
        assert mon.step(0) is not None


def test_training_rolled_back_to_a_checkpoint_is_told_the_way_on(tmp_path):
    """Training that went back to a checkpoint (its step numbers too) was told "give each
    training step its own number, counting up" (or "... its own number"), which its steps
    have: the refusals now say that it goes on in a new ``with`` block, on this out= for an
    exact replay and on a new one otherwise, and both ways work."""
    import copy

    torch.manual_seed(5)
    net, probe = _Net(), torch.randn(2, 6, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(4, 6, 3), torch.randn(4, 1)
    out, way = tmp_path / "m", "training that went back to a checkpoint goes on in a new `with`"

    def train_to(step: int, opt: torch.optim.Optimizer) -> None:
        for _ in range(step):
            _train_step(net, opt, x, y)

    with JacobianMonitor(net, probe, out=out) as mon:
        mon.step(0)
        checkpoint = copy.deepcopy((net.state_dict(), opt.state_dict()))
        train_to(3, opt)
        mon.step(3)
        net.load_state_dict(checkpoint[0])  # back to step 0, with a lower learning rate
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        train_to(1, opt)
        with pytest.raises(VanishlabError, match="step 1 comes after step 3") as told:
            mon.step(1)
        assert way in str(told.value)
        train_to(2, opt)
        with pytest.raises(VanishlabError, match="step 3 was already recorded") as told:
            mon.step(3)
        assert way in str(told.value)
    net.load_state_dict(checkpoint[0])  # an exact replay, on this out=
    opt.load_state_dict(copy.deepcopy(checkpoint[1]))
    with JacobianMonitor(net, probe, out=out) as mon:
        train_to(1, opt)
        assert mon.step(1) is not None
        train_to(2, opt)
        assert mon.step(3) is None  # the same weights: skipped
    assert sorted(vl.load_manifest(out)["steps"], key=int) == ["0", "1", "3"]


def test_a_damaged_step_shard_is_set_aside_when_the_monitor_is_reopened(tmp_path):
    """Reopening refused it with "run the sweep command of this run again", which a monitor's
    run cannot: it could only be repaired by hand. The step's rows are lost; the others stay.
    It was then moved aside in silence (`vanishlab analyze` says it on stderr): one
    UserWarning, in a sweep's words, names where it lies and which step it held."""
    from vanishlab.sweep.run_summary import moved_line

    rnn, probe, out = nn.RNN(2, 4), torch.randn(5, 2, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
        mon.step(1)
    steps = json.loads((out / "manifest.json").read_text())["steps"]
    shard = sorted((out / "cells").iterdir())[0]
    (step,) = [k for k, rec in steps.items() if f"{rec['cell_id']}.parquet" == shard.name]
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(VanishlabError, match="run the command that wrote this run again"):
        vl.load_results(out)
    with pytest.warns(UserWarning) as caught, JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(2)
    aside = out / "corrupt" / shard.name
    assert aside.is_file()
    again = f"step {step} is measured again when the training reaches it"
    assert [str(w.message) for w in caught] == [moved_line(aside, again)]
    assert str(caught[0].message).startswith(f"moved aside (corrupt; step {step} is measured")
    assert caught[0].filename == __file__  # the user's `with` line, not vanishlab's
    assert len(vl.load_cells(out)) == 2
    with JacobianMonitor(rnn, probe, out=out) as mon:  # nothing more to move: silent
        mon.step(int(step))  # measured again
    assert len(vl.load_cells(out)) == 3


def test_a_cells_entry_replaced_by_a_file_while_recording_is_named(tmp_path):
    """``cells/`` replaced by a plain file between two steps ended in mkdir's bare
    FileExistsError ("File exists: .../cells"); it is named as the readers name it."""
    import shutil

    rnn, probe, out = nn.RNN(2, 4), torch.randn(5, 2, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(0)
        shutil.rmtree(out / "cells")
        (out / "cells").write_text("not a folder")
        with pytest.raises(VanishlabError, match="cells is not a folder"):
            mon.step(1)
    assert (out / "cells").read_text() == "not a folder"


def test_a_step_whose_shard_was_set_aside_is_no_longer_listed_as_recorded(tmp_path):
    """Reopening moved the damaged shard aside but kept the step in the manifest: the page
    counted it as a recorded "ok" step, with a Lyapunov exponent and no curves, and
    ``n_cells`` disagreed with ``steps``. A step that is not replayed is gone; one that is
    replayed is measured again."""
    rnn, probe, out = nn.RNN(2, 4), torch.randn(5, 2, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        for n in range(3):
            mon.step(n)
    lost = vl.load_cells(out).set_index("step").loc[1, "cell_id"]
    shard = out / "cells" / f"{lost}.parquet"
    shard.write_bytes(shard.read_bytes()[:100])
    again = "step 1 is measured again when the training reaches it"
    with pytest.warns(UserWarning, match=again), JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["steps"], key=int) == ["0", "2", "3"]
    assert manifest["n_cells"] == len(manifest["steps"]) == len(vl.load_cells(out))
    with JacobianMonitor(rnn, probe, out=out) as mon:
        assert mon.step(1) is not None  # replayed: measured again
    steps = json.loads((out / "manifest.json").read_text())["steps"]
    assert sorted(steps, key=int) == ["0", "1", "2", "3"]


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_step_whose_manifest_entry_was_lost_is_restored_from_its_shard(tmp_path):
    # A process that died between a step's shard and the manifest lost the step's record
    # (its Lyapunov exponent) for good: the step, having a shard, was never measured again.
    import json

    torch.manual_seed(2)
    rnn = nn.RNN(2, 4)
    out = tmp_path / "m"
    with JacobianMonitor(rnn, torch.randn(5, 2, 2), out=out, every=1) as mon:
        for n in range(3):
            mon.step(n, loss=1.0 / (n + 1))
        probe = mon.probe
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = manifest["steps"].pop("2")
    assert recorded["loss"] == pytest.approx(1 / 3)  # restored with the rest of its record
    (out / "manifest.json").write_text(json.dumps(manifest))  # as if killed before writing it
    with JacobianMonitor(rnn, probe, out=out, every=1) as mon:
        assert mon.step(2) is None  # its shard is there
    steps = json.loads((out / "manifest.json").read_text())["steps"]
    assert steps["2"] == recorded and math.isfinite(recorded["lyapunov"])


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_readers_take_a_monitors_steps_as_its_shards_hold_them(tmp_path):
    """Until the run was reopened, a step whose shard was written but not its manifest (a
    process killed between the two) had no Lyapunov exponent in vl.summarize or on the page
    (only the manifest held it), and a step whose shard was deleted still counted there."""
    import json

    torch.manual_seed(2)
    out = tmp_path / "m"
    with JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=out, every=1) as mon:
        for n in range(3):
            mon.step(n)
    manifest = json.loads((out / "manifest.json").read_text())
    lost = manifest["steps"].pop("2")  # as if killed before the manifest was written
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "cells" / f"{manifest['steps']['1']['cell_id']}.parquet").unlink()
    summary = vl.summarize(out, cache=False).set_index("step")
    assert list(summary.index) == [0, 2]
    assert summary.loc[2, "lyapunov"] == pytest.approx(lost["lyapunov"])
    html = vl.render_report(out, tmp_path / "r.html").read_text()
    assert "<dt>steps recorded</dt><dd>2 (2 ok, 0 failed)</dd>" in html
    rows = {}
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", row)]
        if cells:
            rows[cells[0]] = cells
    assert set(rows) >= {"0", "2"} and "1" not in rows
    # the λ₁ column, after the input curve's phase (the verdict's reading at that step)
    assert rows["2"][7] == f"{lost['lyapunov']:+.3f}".replace("-", "−")


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_damaged_manifest_that_still_parses_is_not_read_over_a_steps_shard(tmp_path):
    """A step's record is in its shard's metadata, under its checksum, and in the manifest,
    which has none: a flipped digit of a step's Lyapunov exponent in the manifest was shown as
    measured (by vl.summarize and the page), and kept when the monitor was reopened."""
    import json

    torch.manual_seed(2)
    out = tmp_path / "m"
    rnn = nn.RNN(2, 4)
    with JacobianMonitor(rnn, torch.randn(5, 2, 2), out=out, every=1) as mon:
        for n in range(2):
            mon.step(n, loss=0.5)
        probe = mon.probe
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    measured = manifest["steps"]["1"]["lyapunov"]
    manifest["steps"]["1"]["lyapunov"] = measured - 0.25  # a flipped digit
    path.write_text(json.dumps(manifest))
    summary = vl.summarize(out, cache=False).set_index("step")
    assert summary.loc[1, "lyapunov"] == measured
    html = vl.render_report(out, tmp_path / "r.html").read_text()
    shown = f"{measured:+.3f}".replace("-", "\N{MINUS SIGN}")
    assert shown in html and f"{measured - 0.25:+.3f}".replace("-", "\N{MINUS SIGN}") not in html
    with JacobianMonitor(rnn, probe, out=out, every=1) as mon:
        assert mon.step(1) is None  # recorded: its record mended from the shard
    assert json.loads(path.read_text())["steps"]["1"]["lyapunov"] == measured


def test_a_monitor_with_no_step_yet_has_the_step_column(tmp_path):
    """load_results and load_cells of a monitor that holds no step (its shards deleted; a new
    monitor that recorded none leaves no run) lacked the step column."""
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "m", every=5) as mon:
        assert mon.step(5) is not None
    for shard in (tmp_path / "m" / "cells").iterdir():
        shard.unlink()
    frames = (
        vl.load_results(tmp_path / "m"),
        vl.load_cells(tmp_path / "m"),
        vl.summarize(tmp_path / "m"),
    )
    for frame in frames:
        cols = list(frame.columns)
        assert len(frame) == 0 and cols.index("step") == cols.index("cell_id") + 1
        if frame is not frames[0]:  # load_cells' and summarize's loss: float64, as with rows
            assert cols[-1] == "loss" and frame["loss"].dtype == np.float64, frame["loss"].dtype


@pytest.mark.parametrize(("steps", "why"), [
    (range(1, 20), "every=50 records the steps n with n % 50 == 0, and the steps given went up "
                   "to n = 19"),
    ((), "mon.step(n) was not called, or measured none of the steps it was given"),
])  # fmt: skip
def test_a_new_monitor_that_recorded_no_step_leaves_nothing_and_says_why(tmp_path, steps, why):
    """A training that ended before the first step its monitor records (every=50, 19 steps)
    left out= with a manifest alone, and said nothing: `vanishlab report` then refused it
    ("holds no measured step"). Now nothing is left (as where an exception ended it), and a
    UserWarning says why; an earlier run reopened so keeps its steps."""
    out = tmp_path / "new" / "m"
    net, probe = nn.RNN(2, 3), torch.randn(4, 1, 2)
    monitor = JacobianMonitor(net, probe, out=out, every=50)
    with pytest.warns(UserWarning) as caught, monitor as mon:
        for n in steps:
            assert mon.step(n) is None
    assert [str(w.message) for w in caught] == [
        f"the monitor recorded no step ({why}): nothing was kept in {out}; call mon.step(n) "
        "after each training step, with an every= that the training reaches"
    ]
    assert list(tmp_path.iterdir()) == []  # the folders it made went, its .lock too
    (tmp_path / "mine").mkdir()  # a folder of the user's stays, empty
    monitor = JacobianMonitor(net, probe, out=tmp_path / "mine", every=50)
    with pytest.warns(UserWarning, match="recorded no step"), monitor:
        pass
    assert [p.name for p in tmp_path.rglob("*")] == ["mine"]
    with JacobianMonitor(net, probe, out=out, every=50) as mon:
        mon.step(50)
    with JacobianMonitor(net, probe, out=out, every=50) as mon:  # reopened: nothing new
        mon.step(51)
    assert list(vl.load_results(out)["step"].unique()) == [50]


def test_a_numpy_integer_is_a_step(tmp_path):
    # "the step must be an integer >= 0, got np.int64(2)": a loop over np.arange was refused.
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        assert mon.step(np.int64(2)) is not None
    assert list(vl.load_results(tmp_path / "m")["step"].unique()) == [2]


def test_a_zero_dimensional_integer_tensor_is_a_step(tmp_path):
    # "the step must be an integer >= 0, got tensor(7)": a step counter kept as a tensor (an
    # optimizer's state["step"], a buffer) was refused; a float or bool tensor still is.
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        assert mon.step(torch.tensor(7)) is not None
        assert mon.step(torch.tensor(8, dtype=torch.int32)) is not None
        assert mon.step(torch.tensor(7)) is None  # already recorded
        for bad in (torch.tensor(9.0), torch.tensor(True), torch.tensor(9j), torch.tensor([9])):
            with pytest.raises(TypeError, match=r"^the step n must be an integer, got tensor"):
                mon.step(bad)
        with pytest.raises(ValueError, match="the step n must be an integer from 0"):
            mon.step(torch.tensor(-1))
    assert sorted(vl.load_results(tmp_path / "m")["step"].unique()) == [7, 8]
    assert sorted(json.loads((tmp_path / "m" / "manifest.json").read_text())["steps"]) == [
        "7",
        "8",
    ]


def test_a_step_or_every_of_a_wrong_type_is_a_type_error_naming_it(tmp_path):
    # step(2.0), step(True) and every=2.5 were a ValueError ("the step must be an integer from
    # 0 to 2**63 - 1, got 2.0"), as if the value were out of range; a negative integer still is
    # a ValueError, and a NumPy integer a step.
    rnn, probe = nn.RNN(2, 3), torch.randn(4, 1, 2)
    for bad in (2.5, "2", None):
        with pytest.raises(TypeError, match=f"^every must be an integer, got {bad!r}$"):
            JacobianMonitor(rnn, probe, out=tmp_path / "m", every=bad)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m", every=2) as mon:
        for bad in (2.0, True, np.float64(4.0), "4"):
            with pytest.raises(
                TypeError, match=f"^the step n must be an integer, got {re.escape(repr(bad))}$"
            ):
                mon.step(bad)
        for bad in (-2, np.int64(-2)):
            with pytest.raises(ValueError, match=r"^the step n must be an integer from 0 to 2"):
                mon.step(bad)
        assert mon.step(np.int64(4)) is not None
    assert list(vl.load_results(tmp_path / "m")["step"].unique()) == [4]


def test_a_numpy_integer_is_an_every(tmp_path):
    # "every must be a positive integer, got np.int64(2)": a setting read from a numpy array
    # or a pandas frame was refused as not an integer, where step() takes one.
    rnn, probe, out = nn.RNN(2, 3), torch.randn(4, 1, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out, every=np.int64(2)) as mon:
        assert [mon.step(n) is not None for n in range(4)] == [True, False, True, False]
    assert json.loads((out / "manifest.json").read_text())["model"]["every"] == 2
    with JacobianMonitor(rnn, probe, out=out, every=np.int32(2)) as mon:  # the same every
        assert mon.step(2) is None
    with pytest.raises(ValueError, match=r"every must be an integer from 1 to 2\*\*63 - 1, got 0"):
        JacobianMonitor(rnn, probe, out=out, every=np.int64(0))
    # Beyond a step number (an int64) it was taken, and only step 0 was ever recorded.
    with pytest.raises(ValueError, match=r"from 1 to 2\*\*63 - 1, got 1180591620717411303424"):
        JacobianMonitor(rnn, probe, out=out, every=2**70)
    for bad in (np.float64(2.0), True):
        with pytest.raises(TypeError, match=r"^every must be an integer, got"):
            JacobianMonitor(rnn, probe, out=out, every=bad)


def test_a_zero_dimensional_integer_tensor_is_an_every(tmp_path):
    # every=torch.tensor(2) was refused ("every must be a positive integer, got tensor(2)")
    # where step(torch.tensor(7)) is taken; a float, bool or 1-d tensor still is refused.
    rnn, probe, out = nn.RNN(2, 3), torch.randn(4, 1, 2), tmp_path / "m"
    with JacobianMonitor(rnn, probe, out=out, every=torch.tensor(2)) as mon:
        assert [mon.step(n) is not None for n in range(4)] == [True, False, True, False]
    assert json.loads((out / "manifest.json").read_text())["model"]["every"] == 2
    with pytest.raises(ValueError, match=r"every must be an integer from 1 to .*, got 0"):
        JacobianMonitor(rnn, probe, out=out, every=torch.tensor(0))
    for bad in (torch.tensor(2.0), torch.tensor(True), torch.tensor([2])):
        with pytest.raises(TypeError, match=r"^every must be an integer, got tensor"):
            JacobianMonitor(rnn, probe, out=out, every=bad)


def test_a_step_or_every_on_the_meta_device_is_a_type_error_naming_it(tmp_path):
    """A 0-d integer tensor on the meta device holds no number: step() and every= ended in
    torch's RuntimeError ("Tensor.item() cannot be called on meta tensors")."""
    rnn, probe, out = nn.RNN(2, 3), torch.randn(4, 1, 2), tmp_path / "m"
    meta = torch.tensor(2, device="meta")
    with pytest.raises(TypeError, match=r"^every must be an integer, got a tensor on the meta"):
        JacobianMonitor(rnn, probe, out=out, every=meta)
    with JacobianMonitor(rnn, probe, out=out) as mon:
        with pytest.raises(TypeError, match=r"^the step n must be an integer, got a tensor on"):
            mon.step(meta)
        assert mon.step(2) is not None
    assert list(vl.load_results(out)["step"].unique()) == [2]


def test_the_probe_is_a_copy(tmp_path):
    torch.manual_seed(3)
    rnn = nn.RNN(2, 4)
    probe = torch.randn(6, 2, 2)
    kept = probe.clone()
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        probe.mul_(10)
        rows = mon.step(0)
    want = _expected_rows(rnn, kept)
    got = rows[(rows["source"] == "state") & (rows["lag"] == 4)]
    assert float(got["log10_fro_mean"].iloc[0]) == pytest.approx(want[("state", 0, 4)])


def test_an_overflowing_step_is_recorded_as_failed(tmp_path):
    rnn = nn.RNN(2, 4, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(4) * 1e30)
        # Every unit on from the first step, whatever torch's global generator held: with
        # drawn input weights and biases all four could start off (5 of seeds 0-99), stay at
        # zero and overflow nothing.
        for p in (rnn.weight_ih_l0, rnn.bias_ih_l0, rnn.bias_hh_l0):
            p.fill_(1.0)
    probe = torch.ones(40, 1, 2)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        rows = mon.step(0)
        assert len(mon.step(3)) == 0
    assert len(rows) == 0
    cells = vl.load_cells(tmp_path / "m")
    assert list(cells["status"]) == ["failed"] * 2 and "became inf" in cells["reason"][0]
    assert list(cells["failure"]) == ["overflow"] * 2  # as a sweep's (it was NaN)
    assert list(cells["step"]) == [0, 3]  # from each shard's record (it was <NA>: no rows)
    assert len(vl.load_results(tmp_path / "m")) == 0


def test_a_diverged_parameter_is_a_failed_step(tmp_path):
    """A NaN weight (training diverged) raised from step(), where an overflow is recorded; it
    was recorded as "overflow", as an inf weight is."""
    rnn, probe = nn.RNN(2, 4), torch.randn(5, 2, 2)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        assert len(mon.step(0)) > 0
        with torch.no_grad():
            rnn.weight_hh_l0[1, 2] = float("nan")
        assert len(mon.step(1)) == 0
        with torch.no_grad():
            rnn.weight_hh_l0[1, 2] = float("inf")
        assert len(mon.step(2)) == 0
    cells = vl.load_cells(tmp_path / "m")
    assert list(cells["status"]) == ["ok", "failed", "failed"]
    assert list(cells["step"]) == [0, 1, 2]
    assert cells["failure"].isna().iloc[0] and list(cells["failure"][1:]) == ["nan", "overflow"]
    reason = cells["reason"].iloc[1]
    assert "weight_hh_l0 holds nan at entry [1, 2]" in reason and "training diverged" in reason
    assert "weight_hh_l0 holds inf at entry [1, 2]" in cells["reason"].iloc[2]


def _nan_gru() -> nn.GRU:
    """A float64 GRU whose forward pass gives NaN, not inf, at time step 1: r = 0 and z = 0
    exactly (sigmoid(-1e300)), h_0 = tanh(10) ~ 1, then W_hn h_0 = inf and r * inf = NaN."""
    gru = nn.GRU(1, 2).double()
    with torch.no_grad():
        for p in gru.parameters():
            p.zero_()
        gru.bias_ih_l0[:4] = -1e300  # the r and z gates
        gru.bias_ih_l0[4:] = 10.0
        gru.weight_hh_l0[4:] = 1e308
    return gru


def test_a_nan_forward_pass_is_recorded_as_nan_not_overflow(tmp_path):
    """A probe whose forward pass gives NaN was recorded with failure "overflow", as an inf."""
    probe = torch.ones(3, 1, 1, dtype=torch.float64)
    with JacobianMonitor(_nan_gru(), probe, out=tmp_path / "m") as mon:
        assert len(mon.step(0)) == 0
    cells = vl.load_cells(tmp_path / "m")
    assert list(cells["status"]) == ["failed"] and "became NaN" in cells["reason"][0]
    assert list(cells["failure"]) == ["nan"]
    assert vl.load_manifest(tmp_path / "m")["steps"]["0"]["status"] == "failed"


def test_summarize_gives_each_step_its_recorded_lyapunov_exponent(tmp_path):
    """The summary of a monitored run said NaN: a trained model cannot be rebuilt to measure
    it, but each step's exponent is in the run's manifest (and on its page)."""
    rnn, probe = nn.RNN(2, 4), torch.randn(8, 2, 2)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        mon.step(0)
        with torch.no_grad():
            rnn.weight_hh_l0.mul_(2.0)
        mon.step(1)
    steps = vl.load_manifest(tmp_path / "m")["steps"]
    want = {s["cell_id"]: s["lyapunov"] for s in steps.values()}
    summary = vl.summarize(tmp_path / "m")
    got = dict(zip(summary["cell_id"], summary["lyapunov"], strict=True))
    assert got == pytest.approx(want) and len(set(want.values())) == 2


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_summarize_gives_each_row_its_step_in_step_order(tmp_path):
    """The summary of a monitored run had no step column and came in cell-id order: a row
    could not be told from another without joining load_cells."""
    torch.manual_seed(0)  # the rate rises at every step for these weights, not for every draw
    rnn, probe = nn.RNN(2, 4), torch.randn(6, 2, 2)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m", lyapunov=False) as mon:
        for n in range(12):
            with torch.no_grad():
                rnn.weight_hh_l0.mul_(1.1)
            mon.step(n)
    cells = vl.load_cells(tmp_path / "m")
    assert list(cells["cell_id"]) != sorted(cells["cell_id"])  # so the order is tested
    for cache in (True, True, False):  # computed and cached, read from the cache, uncached
        summary = vl.summarize(tmp_path / "m", cache=cache)
        cols = list(summary.columns)
        assert cols[cols.index("cell_id") + 1] == "step"
        assert list(summary["step"]) == list(range(12))
        assert list(summary["cell_id"]) == list(cells["cell_id"])
        assert summary["rate"].is_monotonic_increasing  # W_hh grows step by step
    # A step the manifest lost (a process killed between shard and manifest): from its shard.
    manifest_path = tmp_path / "m" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["steps"]["7"]
    manifest_path.write_text(json.dumps(manifest))
    assert list(vl.summarize(tmp_path / "m", cache=False)["step"]) == list(range(12))


def test_misuse(tmp_path):
    rnn = nn.RNN(2, 4)
    probe = torch.randn(5, 2)
    mon = JacobianMonitor(rnn, probe, out=tmp_path / "m")
    # One sentence saying what to do, before the block and after it: "use JacobianMonitor as
    # a context manager: with ... as mon:" misled a caller who had, once the block closed.
    said = "call mon.step(n) inside `with vl.JacobianMonitor(...) as mon:` (a context manager)"
    with pytest.raises(RuntimeError, match=f"^{re.escape(said)}$"):
        mon.step(0)
    with mon:
        mon.step(0)
    with pytest.raises(RuntimeError, match=f"^{re.escape(said)}$"):
        mon.step(1)
    with pytest.raises(ValueError, match="every"):
        JacobianMonitor(rnn, probe, out=tmp_path / "m", every=0)
    with pytest.raises(TypeError, match="probe"):
        JacobianMonitor(rnn, probe.numpy(), out=tmp_path / "m")
    with pytest.raises(TypeError, match=r"no nn\.RNN") as no_rnn:
        JacobianMonitor(nn.Linear(2, 2), probe, out=tmp_path / "m")
    assert "or a model that holds exactly one" in str(no_rnn.value)  # it named no way out
    two = nn.ModuleDict({"a": nn.RNN(2, 3), "b": nn.GRU(2, 3)})
    with pytest.raises(ValueError, match=r"several recurrent modules \(a, b\)"):
        JacobianMonitor(two, probe, out=tmp_path / "m")
    # A probe the engine refuses is refused on construction, before any training step, and
    # named as the user passed it (the engine's words called it "x", an argument of no call
    # the user made).
    lstm = nn.LSTM(2, 4)
    for bad, error, match in [
        (torch.randn(5, 3, 7), ValueError, r"^probe has 7 features .*: probe must be \(T, B, "),
        (torch.full((5, 2), float("nan")), ValueError, "^probe holds nan at time step 0"),
        (probe.double(), TypeError, "^probe has dtype torch.float64"),
        (probe.long(), TypeError, "^probe must be a floating-point tensor"),
        (probe[:0], ValueError, r"^probe is an empty sequence \(T = 0\)"),
        (probe[None, None], ValueError, r"^probe must be \(T, B, input_size\) or unbatched"),
        (probe.to_sparse(), TypeError, "^probe must be a dense tensor"),
    ]:
        for module in (rnn, lstm):
            with pytest.raises(error, match=match):
                JacobianMonitor(module, bad, out=tmp_path / "bad")
    with pytest.raises(ValueError, match="h0 must have shape"):
        JacobianMonitor(rnn, probe, out=tmp_path / "bad", h0=torch.zeros(1, 5))
    assert not (tmp_path / "bad").exists()
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        with pytest.raises(ValueError, match="step"):
            mon.step(-1)
        # A second monitor of it in this process (it blamed "another vanishlab process").
        with pytest.raises(VanishlabError, match="already open in this process"):
            JacobianMonitor(rnn, probe, out=tmp_path / "m").__enter__()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    with pytest.raises(VanishlabError, match="not empty"):
        JacobianMonitor(rnn, probe, out=tmp_path / "other").__enter__()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_modules_are_monitored_once_the_engine_takes_them(tmp_path, kind):
    torch.manual_seed(4)
    net = _Net({"lstm": nn.LSTM, "gru": nn.GRU}[kind])
    probe = torch.randn(3, 7, 3)
    with JacobianMonitor(net, probe, out=tmp_path / "m", every=1) as mon:
        mon.step(0)
    rows = vl.load_results(tmp_path / "m")
    want = _expected_rows(net.rnn, probe)
    for r in rows[rows["source"] == "input"].itertuples():
        assert r.log10_fro_mean == pytest.approx(want[("input", None, int(r.lag))], rel=1e-12)
    assert vl.load_manifest(tmp_path / "m")["model"]["architecture"]["kind"] == kind


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "monitor_adding.py"
SMALL = ["--every", "2", "--seq-len", "6", "--hidden", "4"]  # the example at a test's size


def _run_example(monkeypatch, *args: str) -> int | str | None:
    """Run examples/monitor_adding.py as a script with ``SMALL`` and ``args``: its exit status
    where it exits, None where it returns. The script pins torch to one thread (its documented
    numbers'); the count is restored."""
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), *SMALL, *args])
    threads = torch.get_num_threads()
    try:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    except SystemExit as exit_:
        return exit_.code
    finally:
        torch.set_num_threads(threads)
    return None


def test_the_example_script_runs(tmp_path, monkeypatch, capsys):
    assert _run_example(monkeypatch, "--steps", "4", "--out", str(tmp_path / "ex")) is None
    out = capsys.readouterr().out
    assert "irnn, H=4, T=6" in out and "rnn, H=4, T=6" in out
    assert sorted(vl.load_results(tmp_path / "ex" / "irnn")["step"].unique()) == [0, 2, 4]
    losses = vl.load_cells(tmp_path / "ex" / "irnn").set_index("step")["loss"]
    assert np.isnan(losses[0]) and (losses[[2, 4]] > 0).all()  # the steps' losses, kept


def test_the_example_script_replaces_only_its_own_runs(tmp_path, monkeypatch, capsys):
    """--out OUT replaces OUT/<cell> when it is a monitor's run; anything else there is kept."""
    kept = tmp_path / "ex" / "irnn"
    kept.mkdir(parents=True)
    (kept / "notes.txt").write_text("mine")
    args = ("--steps", "2", "--out", str(tmp_path / "ex"))
    assert _run_example(monkeypatch, *args) == 2
    assert "is not this example's run" in capsys.readouterr().err
    assert (kept / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "ex" / "rnn").exists()  # refused before any cell ran
    (kept / "notes.txt").unlink()
    kept.rmdir()
    assert _run_example(monkeypatch, *args) is None  # makes both runs
    assert _run_example(monkeypatch, *args) is None  # and replaces them
    assert sorted(vl.load_results(kept)["step"].unique()) == [0, 2]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--seq-len", "1"], "argument --seq-len: must be at least 2, got 1"),
        (["--hidden", "0"], "argument --hidden: must be at least 1, got 0"),
        (["--every", "0"], "argument --every: must be at least 1, got 0"),
        (["--steps", "-1"], "argument --steps: must be at least 1, got -1"),
        (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["--threads", "0"], "argument --threads: must be at least 1, got 0"),
        (["--lr", "-1"], "argument --lr: must be a finite number above 0, got -1"),
        # it said "give out= a directory outside it", the API's keyword, not the option given
        (["--out", "RUN"], "is inside the run directory RUN; give --out a directory outside it"),
    ],
)
def test_the_example_script_refuses_a_bad_argument_in_one_line(
    tmp_path, monkeypatch, capsys, args, said
):
    """--seq-len 1 and --hidden 0 ended in torch's traceback, --every 0 and --out inside a run
    in the monitor's, --threads 0 in set_num_threads', --lr -1 in Adam's, and --steps -1 and
    --steps 0 trained nothing without a word: each is now argparse's error, exit status 2."""
    run = tmp_path / "run"
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=run) as mon:
        mon.step(0)
    args = [str(run) if a == "RUN" else a for a in args]
    assert _run_example(monkeypatch, "--steps", "2", *args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    said = said.replace("RUN", str(run))
    assert last.startswith("monitor_adding.py: error: ") and said in last, err
    assert not (run / "rnn").exists()


def test_the_example_script_refuses_a_sweep_s_run_as_out_in_one_line(
    report_run, tmp_path, monkeypatch, capsys
):
    """--out whose cell's folder is a sweep's run directory: the script asked its manifest for
    "kind", which a sweep's has none of, and ended in a KeyError traceback (found by a
    type-checking review); it is not a monitor's run, refused in one line, exit 2, the run left
    as it was."""
    run = Path(shutil.copytree(report_run("single"), tmp_path / "ex" / "rnn"))
    before = sorted(p.name for p in run.iterdir())
    args = ["--steps", "2", "--cell", "rnn", "--out", str(run.parent)]
    assert _run_example(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]  # argparse's usage, then its one line
    assert "Traceback" not in err and last.startswith("monitor_adding.py: error: "), err
    assert last.endswith("exists and is not this example's run (a monitor's); choose --out")
    assert sorted(p.name for p in run.iterdir()) == before


def test_the_example_script_says_a_refusal_in_training_in_one_line(tmp_path, monkeypatch, capsys):
    """A vanishlab error is a problem with what the user asked for (vanishlab.errors): a probe
    the allocator refuses at a step says "use a smaller probe ... in a new monitor and --out
    directory" (the monitor's out_flag, which the script passes for this). A review's change
    raised any error after step 0 as a traceback (status 1), so that remedy, worded for the
    script's user, only ever showed inside one. It is one line, status 2; the steps written are
    kept and the run marked stopped."""
    from vanishlab.errors import MemoryRefusedError

    step = JacobianMonitor.step

    def failing(self, n, loss=None):
        rows = step(self, n, loss=loss)
        if n == 2:  # as probe_memory_refused words it, with the script's out_flag
            raise MemoryRefusedError(f"refused at step 2: a new monitor and {self.out_flag}")
        return rows

    monkeypatch.setattr(JacobianMonitor, "step", failing)
    out = tmp_path / "ex"
    assert _run_example(monkeypatch, "--steps", "4", "--cell", "rnn", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.endswith("error: refused at step 2: a new monitor and --out\n"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(vl.load_results(out / "rnn")["step"].unique()) == [0, 2]
    assert vl.load_manifest(out / "rnn")["stopped_by"] == "MemoryRefusedError"


def test_the_example_script_says_a_refused_path_in_one_line(tmp_path, monkeypatch, capsys):
    """An --out whose name the file system refuses (too long) ended in pathlib's traceback
    (OSError, status 1) from the check that --out is the example's own run."""
    out = tmp_path / ("a" * 300)
    assert _run_example(monkeypatch, "--steps", "2", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("monitor_adding.py: error: cannot use ") and "name too long" in err


def _example_process(out: Path, stdout) -> subprocess.Popen:
    argv = [sys.executable, str(EXAMPLE), *SMALL, "--steps", "2", "--cell", "rnn"]
    return subprocess.Popen(
        [*argv, "--out", str(out)], stdout=stdout, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_the_example_script_says_a_full_standard_output_in_one_line(tmp_path):
    """``> /dev/full`` ended in a traceback (OSError at the first print, status 1); it is one
    line, status 2, and the run it wrote before printing is kept."""
    with open("/dev/full", "w") as full:
        proc = _example_process(tmp_path / "ex", full)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert (
        err == "monitor_adding.py: error: cannot use the standard output: No space left on device\n"
    )
    assert sorted(vl.load_results(tmp_path / "ex" / "rnn")["step"].unique()) == [0, 2]


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_the_example_script_ends_quietly_when_its_reader_goes(tmp_path):
    """``| head -1``: the reader gone, the example ends with SIGPIPE's status 141 and says
    nothing (as the CLI does), where it printed a traceback (BrokenPipeError, status 1)."""
    with _example_process(tmp_path / "ex", subprocess.PIPE) as proc:
        proc.stdout.close()
        err = proc.stderr.read()
    assert proc.returncode == 141 and err == "", err


def test_store_keeps_steps_apart_from_sweep_shards(tmp_path):
    from vanishlab.sweep import shard, store

    rnn = nn.RNN(2, 3)
    with JacobianMonitor(rnn, torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        rows = mon.step(0)
    meta = store.read_cell_metas(tmp_path / "m")[rows["cell_id"][0]]
    two = rows.copy()
    two.loc[1:, "step"] = 7
    with pytest.raises(ValueError, match="exactly one step"):
        shard.write_shard(tmp_path / "m", two, meta)
    plain = rows.drop(columns="step").assign(cell_id="0" * 16)
    shard.write_shard(tmp_path / "m", plain, {**meta, "cell_id": "0" * 16})
    with pytest.raises(VanishlabError, match="mixes shards of monitored steps"):
        vl.load_results(tmp_path / "m")


def test_unbatched_probe_and_a_given_h0(tmp_path):
    torch.manual_seed(6)
    rnn = nn.RNN(2, 3, 2)
    probe, h0 = torch.randn(7, 2), torch.randn(2, 3)
    with JacobianMonitor(rnn, probe, out=tmp_path / "m", h0=h0) as mon:
        rows = mon.step(0)
    want = vl.jacobian_norms(rnn, probe, h0)
    got = rows.set_index(["source", "layer", "lag"])["log10_fro_mean"]
    for r in want.itertuples():
        assert got[(r.source, r.layer, r.lag)] == pytest.approx(r.log10_fro, rel=1e-12)
    assert (rows["batch"] == 1).all() and (rows["seq_len"] == 7).all()
    no_h0 = r"another probe \(the same shape, other values, or another h0\)"
    with pytest.raises(VanishlabError, match=no_h0):
        JacobianMonitor(rnn, probe, out=tmp_path / "m").__enter__()  # no h0: another probe


def test_a_monitored_run_renders_as_a_report(tmp_path):
    torch.manual_seed(7)
    rnn = nn.RNN(2, 4)
    with JacobianMonitor(rnn, torch.randn(12, 2, 2), out=tmp_path / "m", every=2) as mon:
        for n in range(5):
            with torch.no_grad():
                rnn.weight_hh_l0.mul_(1.1)
            mon.step(n)
    html = vl.render_report(tmp_path / "m", tmp_path / "m.html", timestamp="2024-01-01T00:00:00Z")
    assert html.stat().st_size > 1000


def test_summarize_reads_back_a_recorded_minus_infinite_exponent(tmp_path):
    """A manifest stores a non-finite exponent as the string "-inf" (strict JSON has no such
    number); the summary dropped the string and said NaN."""
    rnn, probe = nn.RNN(2, 4, nonlinearity="relu"), torch.randn(8, 2, 2)
    with torch.no_grad():
        rnn.bias_ih_l0.fill_(-100.0)  # every unit off at every step: the Jacobians are 0
    with JacobianMonitor(rnn, probe, out=tmp_path / "m") as mon:
        mon.step(0)
    (step,) = vl.load_manifest(tmp_path / "m")["steps"].values()
    assert step["lyapunov"] == "-inf"
    assert list(vl.summarize(tmp_path / "m")["lyapunov"]) == [-math.inf]


def test_a_replaced_or_changed_module_is_refused_not_measured_stale(tmp_path):
    # A model whose recurrent module was replaced (grown: model.rnn = nn.RNN(...)) was measured
    # through the old module, which training no longer moves: every later step recorded the
    # same frozen weights. A module converted to float64 was refused with the engine's words
    # for the probe ("x has dtype torch.float32 ...").
    torch.manual_seed(5)
    net = _Net()
    probe = torch.randn(2, 6, 3)
    with JacobianMonitor(net, probe, out=tmp_path / "m", every=1) as mon:
        mon.step(0)
        net.rnn = nn.RNN(3, 8, 2, batch_first=True)
        with pytest.raises(VanishlabError, match="is no longer part of the _Net"):
            mon.step(1)
    assert sorted(json.loads((tmp_path / "m" / "manifest.json").read_text())["steps"]) == ["0"]
    net = _Net()
    with JacobianMonitor(net, probe, out=tmp_path / "g", every=1) as mon:
        mon.step(0)
        net.aux = nn.GRU(3, 4)  # a model that gains a second recurrent module still has the first
        assert mon.step(1) is not None
    rnn = nn.GRU(3, 4)
    with JacobianMonitor(rnn, torch.randn(5, 2, 3), out=tmp_path / "d", every=1) as mon:
        mon.step(0)
        rnn.double()
        with pytest.raises(VanishlabError, match=r"changed since .*dtype float32 -> float64"):
            mon.step(1)
        rnn.float()
        assert mon.step(2) is not None  # as it was: measured again
    assert list(vl.load_cells(tmp_path / "d")["step"]) == [0, 2]


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM])
def test_a_weight_replaced_by_one_of_another_shape_is_refused_as_a_changed_module(tmp_path, kind):
    # Its sizes (hidden_size) left as they were, the architecture read the same, and the
    # engine's ValueError ("the RNN's weight_hh_l0 has shape ...") reached the training loop with
    # no way on, where the docs promise a VanishlabError that says to start a new monitor (a
    # weight deleted: an AttributeError).
    rnn = kind(3, 4)
    with JacobianMonitor(rnn, torch.randn(5, 2, 3), out=tmp_path / "m", every=1) as mon:
        mon.step(0)
        kept = rnn.weight_hh_l0
        rnn.weight_hh_l0 = nn.Parameter(torch.randn(kept.shape[0], 8))
        with pytest.raises(
            VanishlabError,
            match=rf"changed since the monitor opened \(the {kind.__name__}'s weight_hh_l0 has "
            rf"shape \({kept.shape[0]}, 8\), .*give the module as it is now a new JacobianMonitor",
        ):
            mon.step(1)
        rnn.weight_hh_l0 = kept
        assert mon.step(2) is not None  # as it was: measured again
        del rnn.weight_hh_l0  # an AttributeError from module_dtype
        with pytest.raises(VanishlabError, match=r"changed since .*has no weight_hh_l0"):
            mon.step(3)
    assert list(vl.load_cells(tmp_path / "m")["step"]) == [0, 2]


def test_an_initial_state_that_is_no_tensor_is_refused_in_the_engines_words(tmp_path):
    # h0=[[0.0]] (a nested list) failed in the monitor's copy with "'list' object has no
    # attribute 'detach'"; a list holding a tensor was copied into a tuple and refused as one.
    rnn, probe = nn.RNN(3, 5), torch.randn(4, 2, 3)
    for h0 in ([[0.0]], 0.5):
        with pytest.raises(
            TypeError, match=f"h0 must be a torch.Tensor or None, got {type(h0).__name__}"
        ):
            JacobianMonitor(rnn, probe, out=tmp_path / "m", h0=h0)
    with pytest.raises(TypeError, match=r"got a list of 1 tensor: it is one tensor of shape"):
        JacobianMonitor(rnn, probe, out=tmp_path / "m", h0=[torch.zeros(1, 2, 5)])
    with pytest.raises(TypeError, match=r"c0 must be a torch\.Tensor"):
        JacobianMonitor(nn.LSTM(3, 5), probe, out=tmp_path / "m", h0=(torch.zeros(1, 2, 5), [0.0]))
    assert not (tmp_path / "m").exists()


def test_a_step_beyond_the_int64_step_column_is_refused_before_measuring(tmp_path):
    # step(2**63) was measured, then failed in numpy with "OverflowError: Python int too large
    # to convert to C long" as its step column was filled.
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        bad_steps = [2**63, np.uint64(2**64 - 1)]
        if hasattr(torch, "uint64"):  # torch >= 2.3
            bad_steps.append(torch.tensor(2**64 - 1, dtype=torch.uint64))
        for bad in bad_steps:
            with pytest.raises(
                ValueError, match=r"the step n must be an integer from 0 to 2\*\*63"
            ):
                mon.step(bad)
        assert mon.step(2**63 - 1) is not None
    assert list(vl.load_cells(tmp_path / "m")["step"]) == [2**63 - 1]


def test_an_interrupt_after_a_steps_shard_landed_keeps_the_step_in_the_manifest(
    tmp_path, monkeypatch
):
    # Ctrl-C in the directory's fsync, after the shard's rename: the shard was there, but the
    # manifest written on the way out lacked the step, so the page and summarize said its
    # Lyapunov exponent was not measured (until the run was reopened).
    from vanishlab.sweep import files

    torch.manual_seed(6)
    rnn = nn.RNN(2, 4)
    out = tmp_path / "m"
    real = files.fsync_dir
    armed = []

    def interrupted(path):
        real(path)
        if armed and Path(path).name == "cells":
            raise KeyboardInterrupt

    monkeypatch.setattr(files, "fsync_dir", interrupted)
    with (
        pytest.raises(KeyboardInterrupt),
        JacobianMonitor(rnn, torch.randn(6, 2, 2), out=out) as mon,
    ):
        mon.step(0)
        armed.append(True)
        mon.step(1)
    steps = json.loads((out / "manifest.json").read_text())["steps"]
    assert sorted(steps) == ["0", "1"] and math.isfinite(steps["1"]["lyapunov"])
    assert vl.summarize(out)["lyapunov"].notna().all()


def test_a_namedtuple_initial_state_of_an_lstm_is_monitored(tmp_path):
    # The monitor's copy rebuilt a tuple with type(h0)(generator), which a namedtuple (h, c)
    # takes as its first field: "HC.__new__() missing 1 required positional argument: 'c'",
    # where nn.LSTM and vl.jacobian_norms take such an h0 as the tuple it is.
    hc = collections.namedtuple("hc", "h c")
    lstm, probe = nn.LSTM(3, 5), torch.randn(4, 2, 3)
    h0 = hc(torch.randn(1, 2, 5), torch.randn(1, 2, 5))
    with JacobianMonitor(lstm, probe, out=tmp_path / "m", h0=h0) as mon:
        rows = mon.step(0)
    with JacobianMonitor(lstm, probe, out=tmp_path / "t", h0=tuple(h0)) as mon:
        expected = mon.step(0)
    assert rows is not None and len(rows) == len(expected) > 0
    pd.testing.assert_frame_equal(rows, expected)


def test_lyapunov_takes_numpys_bools(tmp_path):
    # The check that refuses lyapunov="no" refused np.False_ and np.True_ too ("lyapunov must
    # be True or False, got np.False_"), where step() and every= take NumPy's integers.
    rnn, probe = nn.RNN(3, 5), torch.randn(4, 2, 3)
    for flag in (np.False_, np.True_):
        with JacobianMonitor(rnn, probe, out=tmp_path / str(flag), lyapunov=flag) as mon:
            mon.step(0)
        measured = vl.load_cells(tmp_path / str(flag))
        lyapunov = vl.summarize(tmp_path / str(flag))["lyapunov"]
        assert len(measured) == 1 and lyapunov.notna().all() == bool(flag)


def test_an_out_below_a_regular_file_is_refused_naming_out(tmp_path):
    """``out="somefile/sub"`` with ``somefile`` a regular file raised the RunLock's bare
    NotADirectoryError; it is refused as a sweep's ``--out`` is, naming ``out=``."""
    (tmp_path / "somefile").write_text("x")
    out = tmp_path / "somefile" / "sub"
    with (
        pytest.raises(VanishlabError, match=r"Not a directory; give out= another directory"),
        JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=out),
    ):
        pass
    assert (tmp_path / "somefile").read_text() == "x"


@pytest.mark.parametrize("where", ["a file", "a folder of other things", "inside a run"])
def test_an_out_no_run_can_be_written_to_is_refused_when_the_monitor_is_made(tmp_path, where):
    """``vl.JacobianMonitor(out=<a file>)`` was made, and refused only at its ``with``, after a
    training script's set-up; vl.run_sweep and vl.analyze_checkpoint refuse it when called."""
    if where == "a file":
        out = tmp_path / "somefile"
        out.write_text("x")
        said = "exists and is not a directory; give out= another directory"
    elif where == "a folder of other things":
        out = tmp_path / "photos"
        out.mkdir()
        (out / "cat.jpg").write_text("x")
        said = "give out= a new or empty directory"
    else:
        with JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=tmp_path / "run") as mon:
            mon.step(0)
        out = tmp_path / "run" / "cells" / "deeper"
        said = "is inside the run directory"
    with pytest.raises(VanishlabError, match=re.escape(said)):
        JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=out)  # no with: made only
    assert not out.exists() or where != "inside a run"


def test_a_diverged_parameters_failure_kind_is_its_first_non_finite_entrys():
    """The failure kind of a parameter made inf and NaN is that of the entry its message
    names, the first non-finite one (here inf: "overflow"; the last is NaN)."""
    from vanishlab.trained.monitored import non_finite_parameter

    rnn = nn.RNN(2, 3)
    with torch.no_grad():
        rnn.weight_ih_l0[0, 0] = math.inf
        rnn.weight_ih_l0[2, 1] = math.nan
    reason, kind = non_finite_parameter(rnn)
    assert kind == "overflow" and "weight_ih_l0" in reason
    with torch.no_grad():
        rnn.weight_ih_l0[0, 0] = math.nan
        rnn.weight_ih_l0[2, 1] = math.inf
    assert non_finite_parameter(rnn)[1] == "nan"


def test_a_monitors_frames_have_no_training_settings_or_seed_of_the_sweeps(tmp_path):
    """A monitor's vl.load_results, vl.load_cells and vl.summarize showed lr 0.01, optimizer
    adam, clip 1.0 and seed 0, the sweep's defaults, as if they were the user's training: the
    user's optimizer is not known, and no seed drew the probe. They are null now."""
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=tmp_path / "m") as mon:
        mon.step(0)
        mon.step(1)
    for frame in (
        vl.load_results(tmp_path / "m"),
        vl.load_cells(tmp_path / "m"),
        vl.summarize(tmp_path / "m"),
    ):
        assert len(frame) and frame[["lr", "optimizer", "clip", "seed"]].isna().all().all()
        assert frame["step"].notna().all() and frame["init"].eq("trained").all()


class _LoggingGRU(nn.GRU):
    """A subclass (a logging wrapper): named by the equations it is measured with."""


@pytest.mark.parametrize(
    ("kind", "name"), [(nn.RNN, "RNN"), (nn.LSTM, "LSTM"), (_LoggingGRU, "GRU")]
)
def test_a_probe_too_big_for_memory_is_refused_when_the_monitor_is_made(
    tmp_path, monkeypatch, kind, name
):
    # It was accepted, and the first recorded step, after a training step's work, failed in
    # the allocator deep in the engine (a RuntimeError; or the system killed the process).
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: 10**6, raising=False)
    module = kind(3, 16, num_layers=2, batch_first=True)
    with pytest.raises(VanishlabError) as err:
        JacobianMonitor(module, torch.randn(32, 40, 3), out=tmp_path / "m")
    message = str(err.value)
    assert "\n" not in message and "on a probe of T=40, B=32 needs about" in message
    assert f"nn.{name}(3, 16, num_layers=2) in float32" in message
    assert message.endswith("976.6 KiB is available; use a smaller probe (fewer sequences)")
    assert not (tmp_path / "m").exists()
    # what fits is measured as before
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: 10**12)
    with JacobianMonitor(module, torch.randn(2, 40, 3), out=tmp_path / "m") as mon:
        assert len(mon.step(0))


def test_a_hand_edited_every_below_one_is_a_malformed_manifest(tmp_path):
    # every=-3 in the manifest was taken: "recorded every -3 training steps" on the page
    out = tmp_path / "m"
    with JacobianMonitor(nn.RNN(2, 3), torch.randn(4, 1, 2), out=out, every=2) as mon:
        mon.step(2)
    path = out / "manifest.json"
    for bad in (-3, 0, 1.5, True):
        manifest = json.loads(path.read_text())
        manifest["model"]["every"] = bad
        path.write_text(json.dumps(manifest))
        with pytest.raises(VanishlabError, match=r"malformed: 'model' 'every' must be a positive"):
            vl.load_manifest(out)


def test_a_probes_memory_estimate_is_the_sweeps_for_its_module(tmp_path, monkeypatch):
    """Mutation review of check_probe_fits: the estimate of one layer or of float32 whatever
    the module, a probe that needs exactly what is available refused, and memory that cannot
    be told (None) failing the monitor each passed every test."""
    from vanishlab.sweep.memory import format_bytes, measure_bytes

    module = nn.LSTM(3, 16, num_layers=2, batch_first=True).double()
    probe = torch.randn(32, 40, 3, dtype=torch.float64)
    need = measure_bytes(
        seq_len=40, num_layers=2, batch=32, hidden_size=16, input_size=3, dtype="float64",
        model="lstm",
    )  # fmt: skip
    free = [need - 1]
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: free[0])
    with pytest.raises(VanishlabError, match=re.escape(f"needs about {format_bytes(need)} of")):
        JacobianMonitor(module, probe, out=tmp_path / "m")
    for free[0] in (need, None):  # it fits; unknown: as before the check
        JacobianMonitor(module, probe, out=tmp_path / "m")


def test_a_relu_probes_memory_estimate_is_a_relus(tmp_path, monkeypatch):
    """A relu nn.RNN's forward pass keeps no pre-activations: the sweep's estimate of a long
    relu cell is smaller than a tanh's of its sizes, and a relu module's probe was estimated
    as a tanh's (refused where it fits)."""
    from vanishlab.sweep.memory import measure_bytes

    module = nn.RNN(3, 64, nonlinearity="relu")
    probe = torch.randn(2000, 8, 3)
    sizes = dict(seq_len=2000, num_layers=1, batch=8, hidden_size=64, input_size=3)
    need = measure_bytes(**sizes, dtype="float32", activation="relu")
    assert need < measure_bytes(**sizes, dtype="float32", activation="tanh")
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: need)
    JacobianMonitor(module, probe, out=tmp_path / "m")


@pytest.mark.parametrize("model", ["missing", "x"])
def test_a_monitor_manifest_without_its_model_record_is_refused_in_one_line(tmp_path, model):
    """Every release that writes a monitor's or an analysis's manifest writes its 'model' (the
    record of the module measured), so none lacks it but by a hand edit or damage. Without it,
    reopening the monitor said the run "monitors another module or probe", and the report drew
    its page, status 0; a 'model' that is no mapping ("x") ended the reopening in an
    AttributeError traceback. Each is refused as an incomplete or malformed manifest is."""
    from typer.testing import CliRunner

    from vanishlab.cli import app

    rnn, probe, out = nn.RNN(2, 3), torch.randn(4, 2, 2), tmp_path / "run"
    with JacobianMonitor(rnn, probe, out=out) as mon:
        mon.step(1)
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    if model == "missing":
        del manifest["model"]
        said = "is incomplete: it has no 'model' (the record of the module measured"
    else:
        manifest["model"] = model
        said = "is malformed: 'model' must be a mapping (the module measured), not str"
    path.write_text(json.dumps(manifest))
    restore = "restore it from a copy, or make the run again into a new directory"
    with (
        pytest.raises(VanishlabError, match=re.escape(said)) as err,
        JacobianMonitor(rnn, probe, out=out) as mon,
    ):
        mon.step(2)
    assert str(err.value).endswith(restore)
    result = CliRunner().invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path} {said}") and result.stderr.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("steps", [[0, 1], [1, 3]])  # one recorded (every=2), none recorded
def test_a_relative_out_stays_where_it_was_when_training_changes_folder(
    steps, tmp_path, monkeypatch
):
    """A relative out was read again at each use: training that changed the working folder
    (os.chdir) had a step's shard, and the manifest, written into the folder of that name
    there (a user's own, beside the run), the run's own folder left with its .lock."""
    first, other = tmp_path / "first", tmp_path / "other"
    (other / "runs" / "rnn").mkdir(parents=True)  # the user's, in the folder trained in
    first.mkdir()
    monkeypatch.chdir(first)
    module, probe = nn.RNN(2, 4), torch.randn(6, 1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the monitor recorded no step", where it did not
        with JacobianMonitor(module, probe, out="runs/rnn", every=2) as mon:
            monkeypatch.chdir(other)
            for n in steps:
                mon.step(n)
    assert [p.name for p in (other / "runs" / "rnn").iterdir()] == []  # untouched
    if steps[0] == 0:
        assert len(vl.load_results(first / "runs" / "rnn")) > 0
    else:  # nothing recorded: what it made went
        assert list(first.iterdir()) == []


def test_a_monitor_opened_again_counts_its_own_steps(tmp_path):
    """The same monitor in a second with block (training resumed from a checkpoint) refused
    a step below those of its first block, which a new monitor of the run records, and its
    "recorded no step" named the steps the first block was given ("went up to n = 7")."""
    module, probe = nn.RNN(2, 4), torch.randn(6, 1, 2)
    mon = JacobianMonitor(module, probe, out=tmp_path / "run", every=5)
    with mon:
        mon.step(10)
    with torch.no_grad():
        module.weight_hh_l0.mul_(0.5)  # the checkpoint of step 5 loaded
    with mon:
        assert mon.step(5) is not None
    assert sorted(vl.load_results(tmp_path / "run")["step"].unique()) == [5, 10]
    idle = JacobianMonitor(module, probe, out=tmp_path / "idle", every=50)
    with pytest.warns(UserWarning, match=r"went up to n = 7\)"), idle:
        idle.step(7)
    with pytest.warns(UserWarning, match="was not called, or measured none") as said, idle:
        pass
    assert "n = 7" not in str(said[0].message)
