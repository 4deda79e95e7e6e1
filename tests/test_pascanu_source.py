"""check_pascanu of a frame measured on another module: the frame records a fingerprint of the
weights it was measured on (``frame.attrs``), and a module with other weights is refused."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl


def _module(seed: int, **kwargs) -> nn.RNN:
    torch.manual_seed(seed)
    return nn.RNN(3, 6, **kwargs)


X = torch.randn(12, 2, 3, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_a_frame_of_another_module_of_the_same_shape_is_refused(num_layers) -> None:
    """It was checked against the other module's bound and answered, "no violation", for
    norms that module never had."""
    measured, other = _module(0, num_layers=num_layers), _module(1, num_layers=num_layers)
    frame = vl.jacobian_norms(measured, X)
    with pytest.raises(vl.VanishlabError, match=r"^frame was measured on a module with other "):
        vl.check_pascanu(other, frame)
    # its rows, its columns, its index and its mean over samples are of the same module
    for part in (
        frame[frame["source"] == "state"],
        frame.drop(columns="log10_fro").set_index(["source", "layer", "lag"]),
        frame.groupby(["source", "layer", "lag"], dropna=False, as_index=False)[
            "log10_spec"
        ].mean(),
    ):
        with pytest.raises(vl.VanishlabError, match="other weights than this rnn"):
            vl.check_pascanu(other, part)
        assert not vl.check_pascanu(measured, part)["violated"].any()


def test_the_same_weights_are_taken_in_a_copy_another_dtype_or_without_a_record() -> None:
    measured = _module(0)
    frame = vl.jacobian_norms(measured, X)
    assert not vl.check_pascanu(copy.deepcopy(measured), frame)["violated"].any()
    vl.check_pascanu(copy.deepcopy(measured).double(), frame)  # float64's tolerance, no refusal
    with torch.no_grad():  # trained in place after the measurement: other weights
        measured.weight_hh_l0.mul_(1.5)
    with pytest.raises(vl.VanishlabError, match="before training changed it"):
        vl.check_pascanu(measured, frame)
    # a frame that records nothing (a sweep's cell, a concat of two modules') is checked
    other = vl.jacobian_norms(_module(1), X)
    both = pd.concat([frame, other], ignore_index=True)
    assert not both.attrs
    vl.check_pascanu(measured, both.assign(log10_spec=-1.0, log10_fro=-1.0))
