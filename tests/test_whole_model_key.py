"""A checkpoint that holds a whole model inside a dict (``torch.save({"model": model, "epoch":
3}, path)``) was told ``model = torch.load(...) (the model in it), then
torch.save(model.state_dict(), ...)``: the dict has no state_dict(), and the words named no key.
The recipe now names the key the model lies under, read from the pickle without running it,
and runs as it is written."""

from __future__ import annotations

import math
import pathlib
import re

import pytest
import torch
from _cli_lines import one_error_line
from torch import nn
from typer.testing import CliRunner

from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.trained import read_checkpoint
from vanishlab.trained.model_key import whole_model_key


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(2, 3)


def _run_recipe(text: str) -> None:
    """Run the refusal's recipe, ``ckpt = torch.load(...), then torch.save(...)`` (``model =
    torch.load(...) (the model in it), then ...`` for a file that is the model)."""
    load = r"((?:ckpt|model) = torch\.load\(.*?\))(?: \(the model in it\))?"
    recipe = re.search(rf": {load}, then (torch\.save\(.*?\)), and", text)
    assert recipe, text
    exec(f"{recipe[1]}; {recipe[2]}", {"torch": torch})  # the words run as they are written


def test_a_dict_holding_a_whole_model_is_told_its_key(tmp_path) -> None:
    path = tmp_path / "ckpt.pt"
    torch.save({"model": nn.LSTM(2, 3), "epoch": 3}, path)
    result = CliRunner().invoke(app, ["analyze", str(path), "--out", str(tmp_path / "run")])
    line = one_error_line(result, "under ['model']")
    said = "the file holds a whole model (under ['model']; its class is code). For a file you"
    assert said in line, line
    assert (  # (the session's words between: torch 2.2 names only the first class, the LSTM)
        f": ckpt = torch.load({str(path)!r}, weights_only=False), then "
        f"torch.save(ckpt['model'].state_dict(), {str(tmp_path / 'ckpt_sd.pt')!r}), and give "
        "that file"
    ) in line, line
    _run_recipe(line)
    assert read_checkpoint(tmp_path / "ckpt_sd.pt").spec.kind == "lstm"


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        (nn.GRU(2, 3), ""),  # the file is the model: the recipe as before
        ({"loss": nn.MSELoss(), "models": [_Net()]}, "['models'][0]"),  # not the loss
        ({"state": {"net": nn.Sequential(nn.RNN(2, 3))}}, "['state']['net']"),
        ({"loss": nn.MSELoss(), "sd": nn.RNN(2, 3).state_dict()}, None),  # no model to name
    ],
)
def test_the_key_is_that_of_the_module_holding_the_recurrent_one(obj, key, tmp_path) -> None:
    path = tmp_path / "m.pt"
    torch.save(obj, path)
    assert whole_model_key(path) == key
    if key:
        with pytest.raises(VanishlabError) as err:
            read_checkpoint(path)
        _run_recipe(str(err.value))
        assert read_checkpoint(tmp_path / "m_sd.pt").spec.hidden_size == 3


def test_a_file_not_read_so_names_no_key(tmp_path) -> None:
    path = tmp_path / "x.pt"
    path.write_bytes(b"PK\x03\x04 not a whole archive")
    assert whole_model_key(path) is None


def test_shared_deep_and_cyclic_objects_are_each_looked_into_a_few_times(
    tmp_path, monkeypatch
) -> None:
    """A 7 KB file (a list of one list 200 times, 8 deep, beside the model) held vanishlab
    analyze for 200**8 steps, and a loss holding a dict that holds itself twice for 2**32:
    each object shared, or in a cycle, was followed down every path that reaches it."""
    import vanishlab.trained.model_key as model_key

    wide: list = []
    for _ in range(8):
        wide = [wide] * 200
    shared: list = []
    for _ in range(40):
        shared = [shared, shared]
    cycle: dict = {}
    cycle["a"] = cycle["b"] = cycle
    loss = nn.MSELoss()
    loss.junk = [shared, cycle]
    path = tmp_path / "m.pt"
    torch.save({"wide": wide, "loss": loss, "model": nn.LSTM(2, 3)}, path)
    looked = [0]
    inside = model_key._inside

    def counted(obj):
        looked[0] += 1
        if looked[0] > 10_000:  # the objects are fewer than 100: not every path to them
            raise AssertionError("objects looked into again and again")
        return inside(obj)

    monkeypatch.setattr(model_key, "_inside", counted)
    assert whole_model_key(path) == "['model']"


def test_a_large_memo_index_takes_no_memory(tmp_path) -> None:
    """A data.pkl of 45 bytes putting its one object at memo index 2**27 took 2.4 GB (the C
    unpickler's memo is an array that long, filled as it grows); 2**31 - 1 asked for 32 GB."""
    import tracemalloc
    import zipfile

    torch.save(nn.LSTM(2, 3), tmp_path / "base.pt")
    pkl = b"\x80\x02ctorch.nn.modules.rnn\nLSTM\nq\x00)\x81}r" + (2**22).to_bytes(4, "little")
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(tmp_path / "base.pt") as src, zipfile.ZipFile(path, "w") as out:
        for name in src.namelist():  # the model's own archive, its data.pkl replaced
            out.writestr(name, pkl + b"b." if name.endswith("/data.pkl") else src.read(name))
    tracemalloc.start()
    try:
        whole_model_key(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak  # 64 MB (2**23 pointers) with the C unpickler


@pytest.mark.parametrize("key", [pathlib.PurePosixPath("net"), math.nan])
def test_a_key_python_cannot_write_is_not_named(key, tmp_path) -> None:
    """A model under a key of a class (a path, an Enum) was told to be under its stand-in's
    repr, "[<vanishlab.trained.model_key.PurePosixPath object at 0x7f59...>]", and one under
    a NaN under "[nan]": no subscript of the recipe reaches either."""
    path = tmp_path / "m.pt"
    torch.save({key: nn.LSTM(2, 3), "epoch": 3}, path)
    assert whole_model_key(path) is None
    torch.save({"epoch": 3, ("net", 0): {-1: nn.LSTM(2, 3)}}, path)  # literals are named
    assert whole_model_key(path) == "[('net', 0)][-1]"


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_many_globals_take_little_memory(tmp_path) -> None:
    """A data.pkl of 9 MB naming 300,000 globals (kept in a list) took 1 GB and 8 s: a class
    was made for each (about 2 KB); each is now a small object of its name."""
    import tracemalloc
    import zipfile

    torch.save(nn.LSTM(2, 3), tmp_path / "base.pt")
    names = b"".join(b"ctorch.nn.modules.rnn\nL%d\n" % i for i in range(30_000))
    pkl = b"\x80\x02ctorch.nn.modules.rnn\nLSTM\n0(" + names + b"l."  # GLOBAL POP MARK ... LIST
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(tmp_path / "base.pt") as src, zipfile.ZipFile(path, "w") as out:
        for name in src.namelist():  # the model's own archive, its data.pkl replaced
            out.writestr(name, pkl if name.endswith("/data.pkl") else src.read(name))
    tracemalloc.start()
    try:
        assert whole_model_key(path) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, peak  # 13 MB; 79 MB with a class made for each


class MyLSTM(nn.LSTM):
    """A user's subclass of nn.LSTM: its global is this module's, no class of torch.nn."""


class _Holding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = MyLSTM(2, 3)


class _Tagged(nn.Module):
    """A module of the user's with a ``mode`` of its own, and no recurrent weights."""

    def __init__(self) -> None:
        super().__init__()
        self.mode, self.lin = "LSTM", nn.Linear(2, 3)


@pytest.mark.parametrize(
    ("obj", "key", "held"),
    [
        (MyLSTM(2, 3), "", "torch.save(model)"),
        ({"model": MyLSTM(2, 3), "epoch": 3}, "['model']", "under ['model']"),
        ({"epoch": 3, "model": _Holding()}, "['model']", "under ['model']"),
    ],
)
def test_a_subclass_of_a_recurrent_module_is_named_as_one(obj, key, held, tmp_path) -> None:
    """``class MyLSTM(nn.LSTM)`` saved whole (alone, in a dict, or inside a model) names no
    class of torch.nn, and its stand-in's base classes are not known: the file was told to save
    its "objects of other code (...MyLSTM) as plain data", and the key was not found. It is
    known by the state every nn.RNNBase pickles (``mode``, ``_flat_weights_names``), and told
    the recipe, with its key, in `vanishlab analyze` and read_checkpoint alike."""
    path = tmp_path / "m.pt"
    torch.save(obj, path)
    assert whole_model_key(path) == key
    result = CliRunner().invoke(app, ["analyze", str(path), "--out", str(tmp_path / "run")])
    line = one_error_line(result, f"the file holds a whole model ({held}; its class is code)")
    assert "MyLSTM" in line and "objects of other code" not in line, line
    with pytest.raises(VanishlabError) as err:
        read_checkpoint(path)
    _run_recipe(str(err.value))
    assert read_checkpoint(tmp_path / "m_sd.pt").spec.kind == "lstm"


def test_a_module_with_a_mode_of_its_own_is_no_recurrent_one(tmp_path) -> None:
    path = tmp_path / "m.pt"
    torch.save({"model": _Tagged(), "epoch": 3}, path)
    assert whole_model_key(path) is None
