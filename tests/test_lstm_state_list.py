"""An nn.LSTM's initial state as a list ``[h0, c0]``: torch 2.13's ``nn.LSTM.forward`` takes it
as it takes the tuple (it indexes ``hx[0]``, ``hx[1]``), so vanishlab, whose contract is every
form the module takes, measures it as the tuple; the annotations and README said "the tuple"
alone, and a type checker flagged the call. A list of another length is refused, as torch
refuses it, and a GRU's state as a list is refused, as torch refuses it."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl


def _lstm() -> tuple[nn.LSTM, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    lstm = nn.LSTM(2, 3, 2).double()
    x, h0, c0 = (torch.randn(n, 1, k, dtype=torch.float64) for n, k in ((6, 2), (2, 3), (2, 3)))
    return lstm, x, h0, c0


def test_torch_s_own_lstm_takes_a_list_as_the_tuple():
    """The reference: should torch refuse a list one day, vanishlab must refuse it too."""
    lstm, x, h0, c0 = _lstm()
    out_list, (h_list, c_list) = lstm(x, [h0, c0])
    out_tuple, (h_tuple, c_tuple) = lstm(x, (h0, c0))
    assert torch.equal(out_list, out_tuple) and torch.equal(h_list, h_tuple)
    assert torch.equal(c_list, c_tuple)
    with pytest.raises(RuntimeError, match="two hidden states"):
        lstm(x, [h0, c0, c0])


@pytest.mark.parametrize("name", ["jacobian_norms", "jacobian_log_norms", "lyapunov_spectrum"])
def test_a_list_h0_c0_is_measured_as_the_tuple(name):
    lstm, x, h0, c0 = _lstm()
    fn = getattr(vl, name)
    as_list, as_tuple = fn(lstm, x, [h0, c0]), fn(lstm, x, (h0, c0))
    if isinstance(as_list, pd.DataFrame):
        pd.testing.assert_frame_equal(as_list, as_tuple, check_exact=True)
    elif isinstance(as_list, torch.Tensor):
        assert torch.equal(as_list, as_tuple)
    else:  # JacobianLogNorms: its tensors (or None) and numbers, field by field
        for field in dataclasses.fields(as_list):
            a, b = getattr(as_list, field.name), getattr(as_tuple, field.name)
            assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, field.name
    plain = inspect.unwrap(fn)
    hint = typing.get_type_hints(plain, {**plain.__globals__, "pd": pd, "torch": torch})["h0"]
    assert list[torch.Tensor] in typing.get_args(hint), hint  # a type checker takes it


def test_a_monitor_takes_a_list_h0_c0_as_the_tuple(tmp_path):
    lstm, x, h0, c0 = _lstm()
    runs = []
    for i, state in enumerate(([h0, c0], (h0, c0))):
        with vl.JacobianMonitor(lstm, x, out=tmp_path / str(i), h0=state) as mon:
            mon.step(0)
        runs.append(vl.load_results(tmp_path / str(i)))
    columns = [c for c in runs[0].columns if c.startswith("log10_")]
    pd.testing.assert_frame_equal(runs[0][columns], runs[1][columns], check_exact=True)


def test_a_list_of_another_length_is_refused_in_the_usual_words():
    lstm, x, h0, c0 = _lstm()
    with pytest.raises(TypeError, match=r"tuple \(h0, c0\) \(a list \[h0, c0\] too\).*a list of 3"):
        vl.jacobian_norms(lstm, x, [h0, c0, c0])
    gru = nn.GRU(2, 3, 2).double()
    with pytest.raises(AttributeError):  # torch's own refusal of a GRU's state as a list
        gru(x, [h0])
    with pytest.raises(TypeError, match=r"^h0 must be a torch.Tensor or None, got a list of 1"):
        vl.jacobian_norms(gru, x, [h0])
