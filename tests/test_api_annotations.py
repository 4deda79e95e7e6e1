"""help(vl.X) names what each public function takes and gives: ``vl.jacobian_norms``,
``vl.jacobian_log_norms`` and ``vl.lyapunov_spectrum`` were annotated ``rnn: torch.nn.RNN`` and
``h0: torch.Tensor | None``, where they take an ``nn.LSTM`` or ``nn.GRU`` and an LSTM's ``(h0,
c0)``; ``vl.critical_gain``'s ``cell`` left out the pandas Series it takes; and
``vl.jacobian_norms`` named no return type."""

from __future__ import annotations

import inspect
import types
import typing

import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl

PUBLIC_FUNCTIONS = [
    name for name in vl.__all__ if inspect.isfunction(inspect.unwrap(getattr(vl, name)))
]


def _hints(fn):
    plain = inspect.unwrap(fn)
    return typing.get_type_hints(fn, {**plain.__globals__, "pd": pd, "torch": torch, "nn": nn})


def _admits(hint, value) -> bool:
    """Whether ``value`` is of the type ``hint`` names (unions, tuples, ABCs, plain classes)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_admits(arm, value) for arm in args)
    if origin is tuple:
        return isinstance(value, tuple) and (
            all(_admits(args[0], v) for v in value)
            if args[-1] is Ellipsis
            else len(args) == len(value) and all(map(_admits, args, value))
        )
    if hint is typing.Any:
        return True
    return isinstance(value, origin or hint)


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_every_public_function_names_its_return_type(name):
    assert inspect.signature(getattr(vl, name)).return_annotation is not inspect.Signature.empty


@pytest.mark.parametrize("name", ["jacobian_norms", "jacobian_log_norms", "lyapunov_spectrum"])
@pytest.mark.parametrize("model", [nn.LSTM, nn.GRU])
def test_a_gated_module_and_its_state_are_what_the_annotations_name(name, model):
    fn = getattr(vl, name)
    torch.manual_seed(0)
    module, x = model(2, 3), torch.randn(4, 1, 2)
    h0 = (torch.zeros(1, 1, 3), torch.zeros(1, 1, 3)) if model is nn.LSTM else torch.zeros(1, 1, 3)
    fn(module, x, h0)  # taken
    hints = _hints(fn)
    assert _admits(hints["rnn"], module), hints["rnn"]
    assert _admits(hints["h0"], h0), hints["h0"]


def test_critical_gain_s_annotation_names_the_row_of_a_frame_it_takes():
    row = pd.Series({"activation": "relu", "init": "normal", "hidden_size": 8, "input_size": 4})
    assert vl.critical_gain(row) == pytest.approx(2**0.5)
    assert _admits(_hints(vl.critical_gain)["cell"], row), _hints(vl.critical_gain)["cell"]


@pytest.mark.parametrize("name", ["jacobian_norms", "jacobian_log_norms", "lyapunov_spectrum"])
def test_the_first_line_of_help_names_every_module_taken_or_none(name):
    """``vl.jacobian_norms``' first docstring line said "Jacobian norms of an ``nn.RNN``",
    the one help() and an editor's tooltip show, though it takes ``nn.LSTM`` and ``nn.GRU``
    as its annotation says."""
    first = inspect.getdoc(getattr(vl, name)).splitlines()[0]
    named = [m for m in ("nn.RNN", "nn.LSTM", "nn.GRU") if m in first]
    assert named in ([], ["nn.RNN", "nn.LSTM", "nn.GRU"]), first


def test_sweep_s_annotations_name_the_one_value_list_or_range_it_takes():
    """``vl.Sweep``'s fields were annotated ``tuple[int, ...]`` and the like, where it takes one
    value, a list or a range as its docstring says (``seed=range(3)``), so an editor or a type
    checker flagged the docstring's own example."""
    taken = {"seed": range(2), "gain": [0.5, 1.0], "model": "rnn", "hidden_size": (4, 8)}
    sweep = vl.Sweep(**taken)
    hints = typing.get_type_hints(vl.Sweep)
    for name, value in taken.items():
        assert _admits(hints[name], value), (name, hints[name])
        assert _admits(hints[name], getattr(sweep, name))  # what it holds: a tuple
    for name, values in vl.Sweep().axes().items():  # every axis: one value, or a list
        assert _admits(hints[name], values[0]) and _admits(hints[name], list(values)), name
