"""`vanishlab analyze` into a run directory that holds another analysis says what differs.

It said "runs/model holds the analysis of another model or other inputs; choose a new or empty
--out" whatever the difference: a model retrained and saved over model.pt (the usual case: its
default --out is runs/model again), a longer --seq-len, another --module or --nonlinearity, an
inputs file read with --batch-first where it was read without. A user could not tell which,
nor whether the directory held the run they meant. Now the line names each difference, with
what was measured there and what this command measures.
"""

from __future__ import annotations

import hashlib

import pytest
import torch
from _cli_lines import one_error_line
from typer.testing import CliRunner

import vanishlab as vl
import vanishlab.trained.analyze_run as analyze_run
from vanishlab.cli import app
from vanishlab.errors import VanishlabError

runner = CliRunner()
SMALL = ["--seq-len", "4", "--batch", "2"]


def _save_rnn(path, seed: int) -> str:
    torch.manual_seed(seed)
    torch.save(torch.nn.RNN(2, 3).state_dict(), path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_model_saved_again_over_the_same_file_is_said_to_have_changed(tmp_path):
    model, out = tmp_path / "model.pt", str(tmp_path / "runs" / "model")
    then = _save_rnn(model, 0)
    assert runner.invoke(app, ["analyze", str(model), "--out", out, *SMALL]).exit_code == 0
    now = _save_rnn(model, 1)  # retrained, saved under the same name
    line = one_error_line(
        runner.invoke(app, ["analyze", str(model), "--out", out, *SMALL]),
        f"holds the analysis of another model: model.pt as it was then (SHA-256 {then[:12]}...; "
        f"it is {now[:12]}... now: the file changed since); choose a new or empty --out",
    )
    assert "other inputs" not in line and "(out=)" not in line


def test_other_gaussian_inputs_are_named_with_both_settings(tmp_path):
    model, out = tmp_path / "m.pt", tmp_path / "run"
    _save_rnn(model, 0)
    vl.analyze_checkpoint(model, out, seq_len=4, batch=2)
    with pytest.raises(VanishlabError) as err:
        vl.analyze_checkpoint(model, out, seq_len=6, batch=2, seed=3)
    assert str(err.value) == (
        f"{out} holds the analysis of other inputs: Gaussian inputs T=4, B=2, std 1, seed 0, "
        "not Gaussian inputs T=6, B=2, std 1, seed 3; choose a new or empty out="
    )


def test_another_module_and_nonlinearity_and_layout_are_named(tmp_path):
    two = {f"a.{k}": v for k, v in torch.nn.RNN(2, 3).state_dict().items()}
    two.update({f"b.{k}": v for k, v in torch.nn.RNN(2, 3).state_dict().items()})
    torch.save(two, tmp_path / "two.pt")
    torch.save(torch.randn(3, 5, 2), tmp_path / "x.pt")
    base = ["analyze", str(tmp_path / "two.pt"), "--out", str(tmp_path / "run")]
    given = [*base, "--module", "a", "--inputs", str(tmp_path / "x.pt")]
    assert runner.invoke(app, given).exit_code == 0
    one_error_line(
        runner.invoke(app, [*base, "--module", "b", "--inputs", str(tmp_path / "x.pt")]),
        "holds the analysis of another model: module a, not b; choose",
    )
    one_error_line(
        runner.invoke(app, [*given, "--nonlinearity", "relu"]),
        "another model: measured as tanh, not relu (--nonlinearity); choose",
    )
    one_error_line(
        runner.invoke(app, [*given, "--batch-first"]),
        "other inputs: inputs file x.pt of shape (3, 5, 2), read as (T, B, I), not inputs file "
        "x.pt of shape (3, 5, 2), read as (B, T, I); choose",
    )


def test_a_manifest_without_its_model_record_keeps_the_general_words():
    here = {
        "checkpoint": "/a/m.pt",
        "sha256": "0" * 64,
        "module": "",
        "nonlinearity": "tanh",
        "inputs": {"gaussian": {"seq_len": 4, "batch": 2, "input_std": 1.0}},
        "seed": 0,
    }
    assert analyze_run.other_analysis(None, here).startswith("another model or other inputs")
    assert analyze_run.other_analysis({**here, "architecture": {"nonlinearity": "tanh"}}, here) == (
        "another model or other inputs (measured with another version or setting)"
    )
