"""A whole model's refusal names the classes a session must define to convert it.

`torch.save(model)` is refused with the recipe that converts it, to be run "in a Python
session that defines its classes", which named none: a training script's model
(`__main__.Copy`) needs that class defined first, and a module saved whole
(`torch.save(gru)`) needs none beyond torch's own. Now the classes of the user's code are
named, and a file whose classes are all torch's is said to load in any session. Where torch
names only the first class refused (before 2.5), nothing is claimed of the rest.
"""

from __future__ import annotations

import pytest
import torch
from _torch_serialization import needs_global_list
from torch import nn

from vanishlab.errors import VanishlabError
from vanishlab.trained import read_checkpoint


class Copy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(2, 3, batch_first=True)


def _refusal(obj: object, path) -> str:
    torch.save(obj, path)
    with pytest.raises(VanishlabError) as err:
        read_checkpoint(path)
    text = str(err.value)
    assert "\n" not in text and "Save model.state_dict() instead: the file holds" in text, text
    return text


@needs_global_list
def test_a_model_of_ones_own_class_names_that_class(tmp_path):
    text = _refusal(Copy(), tmp_path / "whole.pt")
    assert f"in a Python session that defines {Copy.__module__}.Copy (import it" in text, text
    assert "its classes are torch's own" not in text


@needs_global_list
def test_a_module_of_torchs_own_classes_loads_in_any_session(tmp_path):
    for obj in (nn.GRU(2, 3), nn.Sequential(nn.LSTM(2, 3))):
        text = _refusal(obj, tmp_path / "m.pt")
        assert "For a file you trust, in any Python session (its classes are torch's own): " in (
            text
        ), text
        assert "that defines" not in text


def test_the_first_class_alone_claims_nothing_of_the_others(tmp_path, monkeypatch):
    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint", raising=False)
    text = _refusal(nn.Sequential(nn.LSTM(2, 3)), tmp_path / "m.pt")
    assert "in a Python session that defines its classes: " in text, text


@needs_global_list
def test_numpys_globals_are_not_classes_to_define(tmp_path):
    """A whole model holding a NumPy array (a normalization's mean kept on the model) was told
    to run the recipe "in a Python session that defines numpy...multiarray._reconstruct,
    numpy.dtype, numpy.ndarray": NumPy's, which weights_only=False loads as it loads torch's.
    Its recipe is said to run in any session, and it does; beside a class of one's own, only
    that class is named."""
    import re

    import numpy as np

    rnn = nn.GRU(2, 3)
    rnn.mean = np.zeros(2)
    path = tmp_path / "m.pt"
    text = _refusal(rnn, path)
    assert "For a file you trust, in any Python session (its classes are torch's and NumPy's " in (
        text
    ), text
    assert "numpy." not in text, text
    recipe = re.search(r": (model = torch\.load\(.*\)) \(the model in it\), then (.*\)), and", text)
    exec(f"{recipe[1]}; {recipe[2]}", {"torch": torch})  # the words run as they are written
    assert read_checkpoint(tmp_path / "m_sd.pt").spec.hidden_size == 3
    model = Copy()
    model.mean = np.zeros(2)
    text = _refusal(model, path)
    assert f"that defines {Copy.__module__}.Copy (import it or run its code first)" in text, text
