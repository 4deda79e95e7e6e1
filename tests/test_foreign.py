"""Objects a training script saves beside its weights: an argparse.Namespace and pathlib paths
are read (plain data), a class of the user's code or NumPy's is refused with advice that fits."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import pathlib
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from _torch_serialization import needs_global_list, needs_safe_globals
from torch import nn

from vanishlab.errors import VanishlabError
from vanishlab.trained import read_checkpoint


@dataclasses.dataclass
class Config:
    lr: float = 0.1


class Mode(enum.Enum):
    TRAIN = 1


class _WindowsPath:
    """Pickles as the Windows path a checkpoint written on Windows holds (``WindowsPath``
    cannot be made on Linux, nor saved there)."""

    def __reduce__(self):
        return (pathlib.WindowsPath, ("C:\\runs\\x",))


class _Touch:
    """Unpickling this runs code: it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


@needs_safe_globals
def test_a_training_scripts_args_beside_the_state_dict_are_read(tmp_path):
    """torch.save({"model": model.state_dict(), "args": args}) with args an argparse.Namespace
    was refused with "Save model.state_dict() instead", the file holding one."""
    model = nn.Sequential()
    model.rnn = nn.GRU(3, 5)
    args = argparse.Namespace(
        lr=0.1, out=Path("runs/a"), pure=pathlib.PureWindowsPath("C:/x"), win=_WindowsPath()
    )
    path = _save({"model": model.state_dict(), "args": args}, tmp_path / "c.pt")
    mine = (Config, "my.Config")  # the caller's own allowlist entry, kept after the load
    torch.serialization.add_safe_globals([mine])
    try:
        before = set(torch.serialization.get_safe_globals())
        ckpt = read_checkpoint(path)
        assert set(torch.serialization.get_safe_globals()) == before  # left as it was
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals([g for g in before if g != mine])
    assert ckpt.module_name == "rnn" and ckpt.spec.kind == "gru"
    assert torch.equal(ckpt.weights["weight_hh_l0"], model.rnn.weight_hh_l0)


def test_a_namespace_holding_code_is_still_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    args = argparse.Namespace(hook=_Touch(marker))
    path = _save({"model": nn.RNN(2, 3).state_dict(), "args": args}, tmp_path / "e.pt")
    with pytest.raises(VanishlabError, match="needs code to be loaded"):
        read_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            Config(),
            r"of other code \((tests\.)?test_foreign\.Config\).*dataclasses\.asdict",
        ),
        (Mode.TRAIN, r"of other code \((tests\.)?test_foreign\.Mode\).*Enum's \.value"),
        (np.arange(3), r"numpy object: save plain Python numbers .* or tensors"),
    ],
)
def test_other_objects_beside_the_state_dict_are_named_with_how_to_save_them(tmp_path, extra, said):
    """A dataclass config or an Enum beside the weights was told to "Save model.state_dict()
    instead", which the file held; a NumPy array to save "plain Python numbers (float(x))"."""
    path = _save({"model": nn.RNN(2, 3).state_dict(), "extra": extra}, tmp_path / "o.pt")
    with pytest.raises(VanishlabError, match="needs code to be loaded") as err:
        read_checkpoint(path)
    text = str(err.value)
    assert "\n" not in text
    assert re.search(said, text), text
    assert "Save model.state_dict() instead" not in text


def test_a_whole_model_is_still_told_to_save_its_state_dict(tmp_path):
    """torch.save(model) is refused (its class is code) with the recipe that converts it: it
    was told only "Save model.state_dict() instead", not how to from the file it had."""
    path = _save(nn.RNN(2, 3), tmp_path / "m.pt")
    with pytest.raises(VanishlabError, match=r"Save model\.state_dict\(\) instead") as err:
        read_checkpoint(path)
    text = str(err.value)
    recipe = (
        f"model = torch.load({str(path)!r}, weights_only=False) (the model in it), then "
        f"torch.save(model.state_dict(), {str(tmp_path / 'm_sd.pt')!r}), and give that file"
    )
    assert recipe in text and "For a file you trust" in text and "\n" not in text, text


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(2, 3)


@needs_global_list  # torch 2.2 names only the first global, the model's own class
def test_a_whole_model_of_ones_own_class_gets_the_recipe_too(tmp_path):
    path = _save(_Net(), tmp_path / "net.ckpt")
    with pytest.raises(VanishlabError, match="weights_only=False") as err:
        read_checkpoint(path)
    assert f"torch.save(model.state_dict(), {str(tmp_path / 'net_sd.ckpt')!r})" in str(err.value)
    assert "other code" not in str(err.value)


class _BadPath:
    """A path of a crafted file, whose argument is no string: the allowlisted constructor
    raises TypeError."""

    def __reduce__(self):
        return (pathlib.PurePosixPath, (1,))


@needs_safe_globals
def test_an_allowlisted_class_given_other_arguments_is_one_line(tmp_path):
    path = _save({"model": nn.RNN(2, 3).state_dict(), "p": _BadPath()}, tmp_path / "b.pt")
    with pytest.raises(VanishlabError, match=r"not readable as a torch\.save file") as err:
        read_checkpoint(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("obj", "said"),
    [
        (np.float64(0.5), r"It holds a numpy object: save plain Python numbers"),
        (Config(), r"of other code \((tests\.)?test_foreign\.Config\)"),
    ],
)
def test_torch_2_2s_reason_names_the_global(tmp_path, monkeypatch, obj, said):
    """torch 2.2 (pyproject's floor) has no get_unsafe_globals_in_checkpoint, and its refusal
    reads "Unsupported class numpy.core.multiarray.scalar", without the "GLOBAL" of later
    releases that the reason was searched for: a numpy number or a config beside the weights
    got "Save model.state_dict() instead" at the floor (make test-floors)."""
    from vanishlab.trained.foreign import foreign_advice

    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint", raising=False)
    path = _save({"w": torch.zeros(1), "x": obj}, tmp_path / "c.pt")
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if isinstance(obj, np.generic):
        name = "numpy.core.multiarray.scalar"
    advice = foreign_advice(path, f"Unsupported class {name}")
    assert advice is not None and re.search(said, advice), advice


def test_torch_2_2s_refused_quantized_dtype_is_told_to_save_the_float_weights(
    tmp_path, monkeypatch
):
    """torch 2.2 refuses a quantized Linear's state_dict ("Unsupported class torch.qint8"),
    which recent torch loads and finds no recurrent weights in: the advice named torch.qint8 as
    an object of other code to save as plain data."""
    from vanishlab.trained.foreign import foreign_advice

    monkeypatch.delattr(torch.serialization, "get_unsafe_globals_in_checkpoint", raising=False)
    path = _save({"w": torch.zeros(1)}, tmp_path / "q.pt")
    advice = foreign_advice(path, "Unsupported class torch.qint8")
    assert advice is not None and advice.startswith("It holds quantized weights"), advice
    assert "other code" not in advice
