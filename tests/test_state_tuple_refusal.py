"""An nn.RNN's or nn.GRU's h0 given as a tuple of tensors (an LSTM's (h0, c0), or the
(output, h_n) a module's call returns) was refused with "h0 must be a torch.Tensor or None,
got tuple", which said neither what the tuple was taken for nor which tensor to pass. It now
gives the one tensor's shape and the two tuples it may be."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import vanishlab as vl


@pytest.mark.parametrize("kind", [nn.RNN, nn.GRU])
def test_a_tuple_h0_of_a_one_tensor_state_says_which_tensor(kind) -> None:
    """The words "pass that tensor" did not say which of the two: the one of the state's shape
    is named by its index, and where both have it (an LSTM's (h0, c0), or [h_n, h_n]), which
    is which."""
    module, x = kind(3, 5, num_layers=2), torch.randn(6, 2, 3)
    output, h_n = module(x)
    said = (
        r"h0 must be a torch\.Tensor or None, got a tuple of 2 tensors: it is one tensor of "
        r"shape \(2, 2, 5\) \(a tuple \(h0, c0\) is an nn\.LSTM's state; a module's call "
        r"returns \(output, h_n\), whose h_n is the state it ends in\): "
    )
    both = r"pass h0\[0\] where it is an LSTM's \(h0, c0\), h0\[1\] where it is a call's"
    for measure in (vl.jacobian_norms, vl.lyapunov_spectrum):
        with pytest.raises(TypeError, match=said + r"pass h0\[1\], the one of that shape$"):
            measure(module, x, (output, h_n))
        with pytest.raises(TypeError, match=said.replace("tuple of 2", "list of 2") + both):
            measure(module, x, [h_n, h_n])
        with pytest.raises(TypeError, match=said + "none of its tensors has that shape"):
            measure(module, x, (output, output))
    assert not vl.jacobian_norms(module, x, (output, h_n.detach())[1]).empty  # the way out


def test_an_lstm_part_given_as_a_tuple_is_not_told_of_lstm_states() -> None:
    """A part of an LSTM's (h0, c0) keeps its own words: the tuple is already the LSTM's."""
    h = torch.randn(1, 2, 5)
    with pytest.raises(TypeError, match=r"None stands for the whole state.*got tuple$"):
        vl.jacobian_norms(nn.LSTM(3, 5), torch.randn(6, 2, 3), ((h, h), h))


@pytest.mark.parametrize("empty", [(), []])
def test_an_empty_state_is_told_to_pass_none_or_one_tensor(empty) -> None:
    """``h0=()`` was told to "convert it with torch.as_tensor(h0)", an empty tensor of no
    state's shape."""
    rnn = nn.GRU(3, 5, num_layers=2)
    with pytest.raises(TypeError, match=r"got an empty \w+: pass None \(a state of zeros\)"):
        vl.jacobian_norms(rnn, torch.randn(4, 2, 3), empty)


@pytest.mark.parametrize("part", [0, 1])
def test_an_empty_part_of_an_lstms_state_is_not_told_to_pass_none(part) -> None:
    """An LSTM's h0 or c0 given as ``()`` was told to "pass None (a state of zeros)", and
    ``(None, c0)`` is refused (None stands for the whole state only): the way out failed."""
    lstm, x = nn.LSTM(3, 5), torch.randn(4, 2, 3)
    state = [torch.zeros(1, 2, 5), torch.zeros(1, 2, 5)]
    state[part] = ()
    with pytest.raises(
        TypeError, match=r"got an empty tuple: pass one tensor of shape \(1, 2, 5\)$"
    ):
        vl.jacobian_norms(lstm, x, tuple(state))
    state[part] = None  # what it was told to pass: refused
    with pytest.raises(TypeError, match="None stands for the whole state"):
        vl.jacobian_norms(lstm, x, tuple(state))


def test_an_lstm_given_one_tensor_as_its_state_is_told_the_pair_and_the_way_out() -> None:
    """An RNN's or GRU's state given to an LSTM said only "got Tensor"; a tuple of three, only
    "got tuple". The way out the message gives is run."""
    lstm, x, h = nn.LSTM(3, 5), torch.randn(4, 2, 3), torch.randn(1, 2, 5)
    with pytest.raises(TypeError) as told:
        vl.jacobian_norms(lstm, x, h)
    said = str(told.value)
    assert "each of shape (1, 2, 5), got one tensor" in said
    assert said.endswith("pass (h0, torch.zeros_like(h0))")
    way_out = eval(said.rsplit("pass ", 1)[1], {"torch": torch, "h0": h})
    zeros = (h, torch.zeros(1, 2, 5))
    assert vl.jacobian_norms(lstm, x, way_out).equals(vl.jacobian_norms(lstm, x, zeros))
    with pytest.raises(
        TypeError,
        match=r"\(h0, c0\) \(a list \[h0, c0\] too\), each of shape \(1, 2, 5\), got a tuple of 3$",
    ):
        vl.jacobian_norms(lstm, x, (h, h, h))


@pytest.mark.parametrize("unbatched", [False, True])
def test_an_lstm_given_its_own_calls_result_is_told_to_pass_its_second_part(unbatched) -> None:
    """An nn.LSTM's call result ``(output, (h_n, c_n))`` given as h0 was read as (h0, c0) and
    refused with "h0 must have shape (2, 2, 4), got (6, 2, 4)", where the RNN's and GRU's
    refusals say which part to pass. The way out it gives is run."""
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = torch.randn(6, 3) if unbatched else torch.randn(6, 2, 3)
    result = lstm(x)
    with pytest.raises(TypeError) as told:
        vl.jacobian_norms(lstm, x, result)
    said = str(told.value)
    assert said.endswith(
        "got an nn.LSTM call's (output, (h_n, c_n)): pass h0[1], the (h_n, c_n) it ends in"
    )
    assert not vl.jacobian_norms(lstm, x, result[1]).empty
    h = result[1][0]
    with pytest.raises(TypeError, match=r"None stands for the whole state.*got tuple$"):
        vl.jacobian_norms(lstm, x, (h, (h, h)))  # a state's h0 beside a pair: not a call's
