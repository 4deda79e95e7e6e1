"""Mutation round on reading trained models (vanishlab/trained/: spec, state_dict, checkpoint,
torch_file, archive, safetensors_file, model_key, foreign, analyze, monitor_dir).

Each test here failed on one hand-made mutant that passed the tests of its module, and passes on
the code as it is; its docstring names the mutant. 53 mutants (2026-12-07, each run against the
module's tests, ``pytest -x -m "not slow"``): 42 killed before, 50 with this file. The 3 left
are equivalent: spec's ``has_bias`` read from ``bias_hh_l0`` (a file with one bias of the two
is refused either way, as "missing" or "unexpected", both true); checkpoint's weights taken
from ``key[len(prefix) - 1:].lstrip(".")`` (the same key); checkpoint's weights without the
filter of keys of submodules (infer_spec and the Checkpoint's weights read PARAM's keys alone,
and a submodule's parametrized keys are not its own).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
from _torch_serialization import needs_safe_globals
from torch import nn

from vanishlab.errors import VanishlabError
from vanishlab.trained import read_checkpoint
from vanishlab.trained.checkpoint import infer_spec, module_from_weights


def _save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


def test_a_module_of_more_than_ten_layers_is_read_with_every_layer(tmp_path):
    """Mutant: spec.PARAM's layer number read as one digit (``l(?P<layer>\\d)``): the keys of
    layer 10 and up matched no parameter, and an 11-layer nn.GRU was read as a 10-layer one,
    its last layer left out of what is measured."""
    torch.manual_seed(0)
    ckpt = read_checkpoint(_save(nn.GRU(2, 3, num_layers=11).state_dict(), tmp_path / "m.pt"))
    assert ckpt.spec.num_layers == 11
    assert "weight_hh_l10" in ckpt.weights and ckpt.others == ()


def test_rows_that_are_no_whole_number_of_blocks_are_said_so_not_read_as_an_rnn():
    """Mutant: spec's gate count without ``rows % H == 0`` (``rows // H``): a weight_ih_l0 of 5
    rows for hidden size 4 was read as one block, an nn.RNN, and refused as one of the wrong
    shape ("expected (4, 3) for an nn.RNN"), which the file is not."""
    sd = dict(nn.RNN(3, 4).state_dict())
    sd["weight_ih_l0"] = torch.zeros(5, 3)
    with pytest.raises(VanishlabError, match="5 rows for hidden size 4: not 1, 3 or 4 gate"):
        infer_spec(sd)


def test_a_module_built_from_weights_is_not_batch_first_unless_asked():
    """Mutant: ``module_from_weights``'s ``batch_first`` default True. A state_dict does not
    record it, and PyTorch's default is False: the module built so read a caller's (T, B, I)
    inputs as (B, T, I)."""
    sd = dict(nn.LSTM(3, 4).state_dict())
    spec = infer_spec(sd)
    assert module_from_weights(spec, sd).batch_first is False
    assert module_from_weights(spec, sd, batch_first=True).batch_first is True


def test_a_module_built_from_weights_its_spec_does_not_describe_is_refused():
    """Mutant: ``module_from_weights`` loading with ``strict=False``: weights without a
    parameter of the spec (a caller's own dict) left that parameter at the constructor's random
    init, measured as if it were the model's."""
    sd = dict(nn.GRU(3, 4, num_layers=2).state_dict())
    spec = infer_spec(sd)
    del sd["weight_hh_l1"]
    with pytest.raises(RuntimeError, match="weight_hh_l1"):
        module_from_weights(spec, sd)


def test_a_file_of_reverse_weights_alone_is_refused_as_bidirectional(tmp_path):
    """Mutant: state_dict's anchor without ``(?:_reverse)?``: a module known by its
    ``weight_ih_l0_reverse`` alone was "no recurrent weights", where it is a bidirectional
    module's backward half, refused as one with the way to measure it."""
    sd = nn.RNN(3, 4, bidirectional=True).state_dict()
    only = {k: v for k, v in sd.items() if k.endswith("_reverse")}
    with pytest.raises(VanishlabError, match="is bidirectional"):
        read_checkpoint(_save({"rnn": only}, tmp_path / "m.pt"))


@needs_safe_globals
def test_the_callers_own_allowlist_entry_of_a_namespace_is_kept_after_a_load(tmp_path):
    """Mutant: foreign.plain_data_allowed adding every one of its plain-data globals, not those
    the caller's allowlist lacks: torch's context removes what it added on leaving, and took
    the caller's own ``(argparse.Namespace, "argparse.Namespace")`` entry with it, so that the
    caller's next ``torch.load(weights_only=True)`` of a training script's args failed."""
    path = _save({"model": nn.RNN(2, 3).state_dict()}, tmp_path / "m.pt")
    mine = (argparse.Namespace, "argparse.Namespace")
    before = list(torch.serialization.get_safe_globals())
    torch.serialization.add_safe_globals([mine])
    try:
        read_checkpoint(path)
        assert mine in torch.serialization.get_safe_globals()
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def test_a_monitor_reopened_on_its_module_made_batch_first_is_refused(tmp_path):
    """Mutant: monitor_dir.module_architecture without ``batch_first``: the same weights and
    probe, the module now batch_first, resumed the run, its probe read with T and B swapped
    beside the steps recorded as (T, B, I)."""
    from vanishlab import JacobianMonitor

    torch.manual_seed(0)
    rnn, probe, out = nn.RNN(2, 3), torch.randn(4, 6, 2), tmp_path / "training"
    with JacobianMonitor(rnn, probe, out=out, lyapunov=False) as mon:
        mon.step(0)
    rnn.batch_first = True
    with (
        pytest.raises(VanishlabError, match=r"\(batch_first False there, True here\)"),
        JacobianMonitor(rnn, probe, out=out, lyapunov=False) as mon,
    ):
        mon.step(0)


class _WindowsParts:
    """Pickles as a ``WindowsPath`` does on Windows, by its parts (it cannot be made on Linux)."""

    def __reduce__(self):
        import pathlib

        return (pathlib.WindowsPath, ("C:\\", "runs", "x"))


@needs_safe_globals
def test_a_windows_path_in_a_checkpoint_is_read_as_a_windows_path(tmp_path):
    """Mutant: foreign.PLAIN_DATA reading ``pathlib.WindowsPath`` as a PurePosixPath: its parts
    joined with "/", ``C:\\/runs/x``, where the training script's path was ``C:\\runs\\x``, and a
    module kept under that path as a key was named by the wrong text."""
    path = _save({_WindowsParts(): {"rnn": nn.RNN(2, 3).state_dict()}}, tmp_path / "m.pt")
    assert read_checkpoint(path).module_name == "C:\\runs\\x.rnn"
