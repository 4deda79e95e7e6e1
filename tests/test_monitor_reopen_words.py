"""Reopening a monitor's run with another module or probe says which differs, and how.

A training script run twice, its probe drawn afresh each time from a shuffling loader, was
refused with "runs/training monitors another module or probe": it did not say that the probe
was the difference, nor what a probe that resumes is."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from vanishlab import JacobianMonitor
from vanishlab.errors import VanishlabError


def _open(module: nn.RNNBase, probe: torch.Tensor, out: object) -> None:
    with JacobianMonitor(module, probe, out=out) as mon:
        mon.step(0)


def test_another_probe_is_named_with_its_shape_or_values(tmp_path):
    torch.manual_seed(0)
    lstm, out = nn.LSTM(2, 8, batch_first=True), tmp_path / "training"
    _open(lstm, torch.randn(8, 50, 2), out)
    with pytest.raises(VanishlabError) as err:
        _open(lstm, torch.randn(8, 50, 2), out)  # the next batch of a shuffling loader
    said = str(err.value)
    assert said.startswith(f"{out} monitors another probe (the same shape, other values"), said
    assert "drawn from a loader that does not shuffle" in said and "module" not in said
    with pytest.raises(VanishlabError, match=r"probe \(shape \(8, 50, 2\) there, \(4, 50, 2\) "):
        _open(lstm, torch.randn(4, 50, 2), out)


def test_another_module_is_named_with_the_fields_that_differ(tmp_path):
    probe, out = torch.randn(8, 50, 2), tmp_path / "training"
    _open(nn.LSTM(2, 8, batch_first=True), probe, out)
    with pytest.raises(VanishlabError) as err:
        _open(nn.LSTM(2, 16, batch_first=True), probe, out)
    assert str(err.value) == (
        f"{out} monitors another module (hidden_size 8 there, 16 here); give out= a new or "
        "empty directory to monitor this one"
    )
    with pytest.raises(VanishlabError, match=r"\(kind lstm there, gru here\)"):
        _open(nn.GRU(2, 8, batch_first=True), probe, out)


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_a_field_recorded_there_alone_is_named(tmp_path):
    """A run whose manifest records a field this version's module does not have (written by
    another version, or edited) was refused with "monitors another module ()": no field."""
    probe, out = torch.randn(8, 50, 2), tmp_path / "training"
    _open(nn.GRU(2, 8), probe, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model"]["architecture"]["proj_size"] = 4
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VanishlabError) as err:
        _open(nn.GRU(2, 8), probe, out)
    assert "monitors another module (proj_size 4 there, None here);" in str(err.value)


def test_the_refusals_name_out_as_the_caller_gave_it(tmp_path):
    """A script that reads the run directory from its own --out (examples/monitor_adding.py)
    told its user to "give out= a new or empty directory", the API's keyword, which they never
    typed: ``out_flag`` names the option in every refusal that names the way out."""
    probe, out = torch.randn(8, 50, 2), tmp_path / "training"
    _open(nn.LSTM(2, 8, batch_first=True), probe, out)
    wider = nn.LSTM(2, 16, batch_first=True)
    with pytest.raises(VanishlabError) as err, JacobianMonitor(wider, probe, out, out_flag="--out"):
        pass
    assert str(err.value).endswith("; give --out a new or empty directory to monitor this one")
    with JacobianMonitor(nn.LSTM(2, 8, batch_first=True), probe, out=out, out_flag="--out") as mon:
        mon.step(2)
        with pytest.raises(VanishlabError, match=r"else on a new or empty --out \(docs/trained"):
            mon.step(1)  # below step 2, which it recorded: a step counter that went back
    with pytest.raises(ValueError, match="out_flag must be a non-empty string"):
        JacobianMonitor(nn.GRU(2, 8), probe, out=tmp_path / "other", out_flag="")
