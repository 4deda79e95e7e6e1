"""A ``.safetensors`` checkpoint (``safetensors.torch.save_file(model.state_dict(), path)``) is
known by its first bytes, whatever its name, and read with the safetensors package; a damaged
one is one line, and without the package the line says to install it. torch.load (2.13) read
one only by its ``.safetensors`` suffix (and only with the package installed), and said
otherwise "not readable as a torch.save file"."""

from __future__ import annotations

import json
import re
import struct
import sys
from pathlib import Path

import pytest
import torch
from _cli_lines import one_error_line
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError
from vanishlab.trained import read_checkpoint
from vanishlab.trained.checkpoint import load_tensor_file
from vanishlab.trained.safetensors_file import is_safetensors

# The extra 'safetensors' (make venv installs it): without it, as the dask extra's tests do,
# these are skipped; importing it here stopped the whole suite's collection.
save_file = pytest.importorskip("safetensors.torch").save_file

runner = CliRunner()


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata=None) -> Path:
    save_file(tensors, path, metadata=metadata)
    return path


def _model_state(dtype=torch.float32) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Module()
    model.embedding = nn.Embedding(10, 4)
    model.lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
    model.fc = nn.Linear(6, 2)
    return {k: v.to(dtype) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_a_safetensors_state_dict_reads_as_its_torch_save_twin(tmp_path, dtype):
    sd = _model_state(dtype)
    st = save_safetensors(sd, tmp_path / "model.safetensors", metadata={"format": "pt"})
    pt = tmp_path / "model.pt"
    torch.save(sd, pt)
    a, b = read_checkpoint(st), read_checkpoint(pt)
    assert (a.module_name, a.spec) == (b.module_name, b.spec) == ("lstm", b.spec)
    assert a.spec.kind == "lstm" and a.spec.num_layers == 2 and a.spec.hidden_size == 6
    assert a.weights.keys() == b.weights.keys()
    for key in a.weights:  # bit for bit
        assert torch.equal(a.weights[key], b.weights[key]), key
        assert a.weights[key].dtype == b.weights[key].dtype


def test_a_safetensors_file_is_read_by_its_bytes_whatever_its_name(tmp_path):
    sd = _model_state()
    for name in ("model.bin", "model.st", "weights"):  # torch.load goes by the suffix alone
        ckpt = read_checkpoint(save_safetensors(sd, tmp_path / name))
        assert ckpt.module_name == "lstm"


def test_vanishlab_analyze_measures_a_safetensors_checkpoint(tmp_path):
    sd = _model_state()
    st = save_safetensors(sd, tmp_path / "model.safetensors")
    pt = tmp_path / "model.pt"
    torch.save(sd, pt)
    runs = {}
    for f in (st, pt):
        out = tmp_path / f"run-{f.suffix[1:]}"
        args = ["analyze", str(f), "--out", str(out), "--seq-len", "12", "--batch", "2", "-q"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output  # was 2: "not readable as a torch.save file"
        runs[f.suffix] = vl.load_results(out)
    cols = ["source", "layer", "lag", "log10_fro_mean", "log10_spec_mean"]
    a, b = (runs[s][cols].reset_index(drop=True) for s in (".safetensors", ".pt"))
    assert a.equals(b)


def test_torch_save_files_are_not_taken_for_safetensors(tmp_path):
    sd = _model_state()
    torch.save(sd, tmp_path / "zip.pt")
    torch.save(sd, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    (tmp_path / "short").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00")
    (tmp_path / "json").write_bytes(b'{"a": 1}')
    for name in ("zip.pt", "legacy.pt", "short", "json"):
        assert not is_safetensors(tmp_path / name), name
    assert read_checkpoint(tmp_path / "legacy.pt").module_name == "lstm"


def _raw(header: dict | bytes, data: bytes = b"") -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize(
    "blob",
    [
        _raw(b"{not json"),
        _raw({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, bytes(8)),
        _raw({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, bytes(16)),
        _raw({"w": [1, 2]}),
        _raw(b'{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}' + b" " * 999),
    ],
    ids=["not-json", "data-cut-short", "wrong-size", "no-entry", "header-cut-short"],
)
def test_a_damaged_safetensors_file_is_one_line(tmp_path, blob):
    path = tmp_path / "bad.safetensors"
    if blob.endswith(b" " * 999):  # the length says 999 bytes more than the file holds
        blob = blob[:-999]
        blob = struct.pack("<Q", len(blob) - 8 + 999) + blob[8:]
    path.write_bytes(blob)
    with pytest.raises(VanishlabError) as err:
        read_checkpoint(path)
    text = str(err.value)
    assert text.startswith(f"checkpoint {path} is not readable as a safetensors file (")
    assert text.endswith("): damaged or cut short") and "\n" not in text
    result = runner.invoke(app, ["analyze", str(path), "--out", str(tmp_path / "run")])
    assert one_error_line(result, "damaged or cut short") == f"error: {text}"
    assert not (tmp_path / "run").exists()


def test_a_safetensors_file_without_the_package_says_to_install_it(tmp_path, monkeypatch):
    path = save_safetensors(_model_state(), tmp_path / "model.safetensors")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # import safetensors: ImportError
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    want = (
        f"checkpoint {path} is a safetensors file: reading it needs the safetensors package "
        "(pip install safetensors)"
    )
    with pytest.raises(VanishlabError) as err:
        read_checkpoint(path)
    assert str(err.value) == want
    result = runner.invoke(app, ["analyze", str(path), "--out", str(tmp_path / "run")])
    assert one_error_line(result, "pip install safetensors") == f"error: {want}"


def test_a_safetensors_inputs_file_of_one_tensor_is_that_tensor(tmp_path):
    # It was "holds a dict, not a tensor", and the recipe torch.load(path)['x'] read no such
    # file (torch.load reads one only with the safetensors package, by its suffix)
    x = torch.randn(8, 40, 4)
    got = load_tensor_file(save_safetensors({"x": x}, tmp_path / "x.safetensors"))
    assert torch.equal(got, x)
    path = save_safetensors({"x": x, "y": torch.zeros(8, dtype=torch.int64)}, tmp_path / "xy.st")
    with pytest.raises(VanishlabError) as err:
        load_tensor_file(path)
    assert str(err.value) == (
        f"inputs file {path} holds a dict, not a tensor (['x']: a torch.float32 tensor "
        "(8, 40, 4); ['y']: a torch.int64 tensor (8,)): save the inputs alone, torch.save(x, path)"
    )
    sd = _model_state()
    ckpt = save_safetensors(sd, tmp_path / "model.safetensors")
    out = tmp_path / "run"
    args = ["analyze", str(ckpt), "--inputs", str(tmp_path / "x.safetensors"), "--batch-first"]
    result = runner.invoke(app, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert vl.load_manifest(out)["model"]["inputs"]["shape"] == [8, 40, 4]


@pytest.mark.parametrize(
    "start",
    [
        struct.pack("<Q", 2**62) + b'{"a": 1}',  # a header length beyond the package's limit
        struct.pack("<Q", 8) + b"[not {...",  # a header that is no JSON object
        b"",
    ],
)
def test_a_file_named_safetensors_that_is_none_is_one_line(tmp_path, start):
    """torch.load hands every file named *.safetensors to the safetensors package: one that
    vanishlab did not know as such by its first bytes (a header length of 2**62) raised the
    package's SafetensorError ("header too large") through torch.load, a traceback."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(start)
    for read in (read_checkpoint, load_tensor_file):
        with pytest.raises(VanishlabError, match=r"is not readable as a safetensors file \("):
            read(path)


def test_a_torch_save_file_named_safetensors_is_read_as_the_file_it_is(tmp_path):
    """torch.load hands a file named *.safetensors to the safetensors package whatever it
    holds: a torch.save checkpoint under that name (a zip archive) was "not readable as a
    safetensors file (Error while deserializing header: header too large): damaged or cut
    short", a good file called damaged. Known by its first bytes, it is read as torch.save's;
    cut short, it is said so in torch.save's words."""
    rnn = nn.RNN(3, 4)
    path = tmp_path / "m.safetensors"
    torch.save(rnn.state_dict(), path)
    ckpt = read_checkpoint(path)
    assert ckpt.spec.hidden_size == 4
    assert torch.equal(ckpt.build().weight_hh_l0, rnn.weight_hh_l0)
    result = CliRunner().invoke(app, ["analyze", str(path), "--out", str(tmp_path / "a"), "-q"])
    assert result.exit_code == 0, result.output
    x = tmp_path / "x.safetensors"
    torch.save(torch.randn(5, 2, 3), x)
    assert load_tensor_file(x).shape == (5, 2, 3)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:300])
    said = re.escape("a torch.save file (it is cut short: a zip archive's start without its end")
    with pytest.raises(VanishlabError, match=said):
        read_checkpoint(cut)
