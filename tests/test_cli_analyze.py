"""``vanishlab analyze CHECKPOINT``: a run directory like any other, measured from the user's
own module; every mistake is one line and exit status 2."""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _cli_lines import one_error_line
from _report_run import reproduce_text
from typer.testing import CliRunner

import vanishlab as vl
import vanishlab.trained.analyze_run as analyze_run
from vanishlab.cli import app
from vanishlab.cli.stops import Terminated
from vanishlab.errors import VanishlabError
from vanishlab.sweep.store import read_cell_metas
from vanishlab.trained import SINGLE_MODEL

runner = CliRunner()


class _Model(torch.nn.Module):
    def __init__(self, nonlinearity: str = "tanh") -> None:
        super().__init__()
        self.rnn = torch.nn.RNN(3, 6, 2, nonlinearity=nonlinearity, dtype=torch.float64)
        self.head = torch.nn.Linear(6, 1, dtype=torch.float64)


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def _aggregate(frame) -> dict[tuple, float]:
    """Mean over samples of log10_fro per (source, layer, lag): the shard's log10_fro_mean."""
    g = frame.groupby(["source", "layer", "lag"], dropna=False)["log10_fro"].mean()
    return {(s, None if pd.isna(l) else int(l), int(k)): v for (s, l, k), v in g.items()}


def test_analyze_measures_the_saved_module_on_given_inputs(tmp_path):
    torch.manual_seed(1)
    model = _Model("relu")
    ckpt = tmp_path / "model.pt"
    torch.save({"state_dict": model.state_dict(), "epoch": 7}, ckpt)
    x = torch.randn(5, 12, 3, dtype=torch.float64)  # (B, T, I)
    torch.save(x, tmp_path / "x.pt")
    out = tmp_path / "run"
    args = ["analyze", str(ckpt), "--out", str(out), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--batch-first", "--nonlinearity", "relu"])
    assert result.exit_code == 0, result.output
    assert "nn.RNN(3, 6, num_layers=2" in result.stdout and "measured" in result.stdout

    rows = vl.load_results(out)
    assert len(rows) == 12 + 2 * 13 and set(rows["cell_id"]) == {rows["cell_id"][0]}
    assert (rows["init"] == "trained").all() and (rows["activation"] == "relu").all()
    assert (rows["seq_len"] == 12).all() and (rows["batch"] == 5).all()
    # The same numbers as measuring the user's own module directly (weights found, not drawn).
    direct = _aggregate(vl.jacobian_norms(model.rnn, x.transpose(0, 1)))
    got = {
        (r.source, None if pd.isna(r.layer) else int(r.layer), int(r.lag)): r.log10_fro_mean
        for r in rows.itertuples()
    }
    assert got.keys() == direct.keys()
    for key, value in direct.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
    # And one lag against plain autograd of the original model (float64).
    xs = x.transpose(0, 1).clone()
    lag = 3
    t = 12 - 1 - lag

    def top_last(x_t: torch.Tensor) -> torch.Tensor:
        z = xs.clone()
        z[t] = x_t
        return model.rnn(z)[0][-1]  # (B, H)

    jac = torch.autograd.functional.jacobian(top_last, xs[t])  # (B, H, B, I)
    norms = [torch.linalg.matrix_norm(jac[b, :, b, :]).log10().item() for b in range(5)]
    assert got[("input", None, lag)] == pytest.approx(sum(norms) / 5, rel=1e-10)

    manifest = vl.load_manifest(out)
    assert manifest["kind"] == SINGLE_MODEL and manifest["n_cells"] == 1
    m = manifest["model"]
    assert m["sha256"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()
    assert m["checkpoint"] == str(ckpt.resolve()) and m["module"] == "rnn"
    arch = m["architecture"]
    assert (arch["kind"], arch["num_layers"], arch["hidden_size"], arch["input_size"]) == (
        "rnn",
        2,
        6,
        3,
    )
    assert arch["nonlinearity"] == "relu" and arch["nonlinearity_given"]
    assert m["inputs"]["sha256"] == hashlib.sha256((tmp_path / "x.pt").read_bytes()).hexdigest()
    assert m["inputs"]["batch_first"] is True
    assert (
        manifest["command"].startswith("vanishlab analyze ")
        and "--batch-first" in manifest["command"]
    )
    assert isinstance(m["lyapunov"], float) and math.isfinite(m["lyapunov"])  # measured

    # Again: nothing is measured, nothing changes.
    before = _snapshot(out)
    again = runner.invoke(app, [*args, "--batch-first", "--nonlinearity", "relu"])
    assert again.exit_code == 0 and "already measured" in again.stdout
    assert _snapshot(out) == before


def test_gaussian_inputs_summarize_and_report(tmp_path):
    torch.manual_seed(2)
    model = _Model()
    ckpt = tmp_path / "m.pt"
    torch.save(model.state_dict(), ckpt)
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["analyze", str(ckpt), "--out", str(out), "--seq-len", "30", "--batch", "4",
         "--input-std", "0.5", "--seed", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = vl.load_results(out)
    assert (rows["seq_len"] == 30).all() and (rows["input_std"] == 0.5).all()
    assert (rows["seed"] == 3).all() and (rows["dtype"] == "float64").all()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(30, 4, 3, generator=gen, dtype=torch.float64) * 0.5
    direct = _aggregate(vl.jacobian_norms(model.rnn, x))
    top = rows[(rows["source"] == "state") & (rows["layer"] == 1) & (rows["lag"] == 10)]
    assert float(top["log10_fro_mean"].iloc[0]) == pytest.approx(direct[("state", 1, 10)])
    lyap = vl.load_manifest(out)["model"]["lyapunov"]
    q0 = torch.randn(12, 1, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    expected = vl.lyapunov_spectrum(model.rnn, x, k=1, discard=7, q0=q0)[:, 0].mean()
    assert lyap == pytest.approx(float(expected), rel=1e-12)

    summary = vl.summarize(out)
    assert len(summary) == 1 and math.isfinite(summary["rate"].iloc[0])
    assert summary["predicted_by"].iloc[0] == "none"  # never a random-network theory
    # It said "cannot rebuild the cell (unknown init 'trained' (choose from default, ...))".
    note = summary["note"].iloc[0]
    assert "weights were learned" in note and "unknown init" not in note
    # The exponent its manifest records and its page shows (the summary said NaN).
    assert summary["lyapunov"].iloc[0] == pytest.approx(lyap, rel=1e-12)
    html = vl.render_report(out, tmp_path / "r.html", timestamp="2024-01-01T00:00:00Z")
    assert html.is_file() and html.stat().st_size > 1000
    # The Reproduce block's command names this run directory as --out: its caption said to run
    # it "into a new directory", with nothing saying which part to change, nor from where.
    page = html.read_text(encoding="utf-8")
    assert f"--out {out}" in reproduce_text(page)
    assert "from the folder it was first run in" in page
    words = re.sub(r"<[^>]+>", "", page)  # (an option in prose is a box of its own: span.w)
    assert "with --out naming a new directory: in this one it finds the measurement" in words


def test_an_input_std_of_minus_zero_is_the_same_analysis_as_zero(tmp_path):
    # --input-std -0.0 is the setting 0.0 (a sweep's axes fold it): it gave another cell id
    # (its config and its inputs' description hashed "-0.0") and an input_std column of -0.0
    torch.manual_seed(2)
    ckpt = tmp_path / "m.pt"
    torch.save(_Model().state_dict(), ckpt)
    cells = {}
    for std in ("-0.0", "0.0"):
        out = tmp_path / f"run{std}"
        args = ["analyze", str(ckpt), "--out", str(out), "--seq-len", "6", "--batch", "2"]
        result = runner.invoke(app, [*args, "--input-std", std])
        assert result.exit_code == 0, result.output
        cells[std] = vl.load_cells(out).iloc[0]
    assert cells["-0.0"]["cell_id"] == cells["0.0"]["cell_id"]
    assert math.copysign(1.0, cells["-0.0"]["input_std"]) == 1.0


def test_help_says_tanh_is_the_default():
    result = runner.invoke(app, ["analyze", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "tanh" in result.stdout and "weights_only" in result.stdout


def test_the_default_out_is_the_one_help_gives_as_its_example(tmp_path, monkeypatch):
    """--help gave the default as runs/<checkpoint name>, which for model.pt reads as
    runs/model.pt; the run goes to runs/model, as help's example now says."""
    help_text = " ".join(
        runner.invoke(app, ["analyze", "--help"], terminal_width=200).stdout.split()
    )
    example = re.search(r"e\.g\. (runs/\S+) for (\S+)\]", help_text)
    assert example, help_text
    monkeypatch.chdir(tmp_path)
    torch.save(torch.nn.RNN(2, 3).state_dict(), example.group(2))
    result = runner.invoke(app, ["analyze", example.group(2), "--seq-len", "4", "--batch", "2"])
    assert result.exit_code == 0, result.stderr
    assert vl.load_manifest(example.group(1))["name"] == Path(example.group(1)).name


class _Touch:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("kept", [10, 1000, 5000, 60000, 0.5, -1])
def test_a_checkpoint_cut_short_is_said_to_be(tmp_path, kept):
    """`head -c 5000 good.pt > bad.pt` was "not readable as a torch.save file ([Errno 22]
    Invalid argument)", the error torch's zip reader gives at some lengths (others read "a zip
    archive that is damaged or cut short"): a zip archive's start without its end is said to
    be cut short, at every length, for a checkpoint and for an inputs file."""
    said = "is not readable as a torch.save file (it is cut short: a zip archive's start without"
    model, inputs, cut = tmp_path / "m.pt", tmp_path / "x.pt", tmp_path / "cut.pt"
    torch.save(torch.nn.LSTM(16, 64, num_layers=2).state_dict(), model)  # 220 kB
    torch.save(torch.randn(400, 8, 16), inputs)  # 205 kB
    for whole, args, what in (
        (model, ["analyze", str(cut)], "checkpoint"),
        (inputs, ["analyze", str(model), "--inputs", str(cut)], "inputs file"),
    ):
        data = whole.read_bytes()
        cut.write_bytes(data[: int(len(data) * kept) if isinstance(kept, float) else kept])
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
        assert "Errno" not in one_error_line(result, f"{what} {cut} {said}")


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")  # making the archive
def test_mistakes_are_one_line_and_exit_2(tmp_path):
    ok = tmp_path / "ok.pt"
    ok_weights = torch.nn.LSTM(3, 4).state_dict()
    torch.save(ok_weights, ok)
    out = str(tmp_path / "out")

    def run(*args: str):
        return runner.invoke(app, ["analyze", *args])

    one_error_line(run(str(tmp_path / "missing.pt"), "--out", out), "does not exist")
    # Sparse or meta weights and inputs, and a zero input size, were tracebacks.
    for name, weights in (
        ("sparse", {**torch.nn.LSTM(3, 4).state_dict()}),
        ("meta", {k: torch.empty_like(v, device="meta") for k, v in ok_weights.items()}),
        ("empty", {"weight_ih_l0": torch.randn(4, 0), "weight_hh_l0": torch.randn(4, 4)}),
    ):
        if name == "sparse":
            weights["weight_hh_l0"] = weights["weight_hh_l0"].to_sparse()
        torch.save(weights, tmp_path / f"{name}.pt")
        message = {"sparse": "a sparse tensor", "meta": "on the meta device"}.get(
            name, "at least one column"
        )
        line = one_error_line(run(str(tmp_path / f"{name}.pt"), "--out", out), message)
        assert str(tmp_path / f"{name}.pt") in line  # the sparse one named no file
    # Text, JSON, random and empty files, and cut zip archives, said "(101)" (a KeyError of a
    # pickle opcode), "(Unsupported operand 123)", "(EOFError)" or the zip reader's own words.
    whole = (tmp_path / "whole.pt", tmp_path / "cut.pt")
    torch.save(ok_weights, whole[0])
    whole[1].write_bytes(whole[0].read_bytes()[: whole[0].stat().st_size // 2])
    other = "not a zip archive or pickle that torch.load reads: another kind of file, or one"
    for name, content, message in (
        ("text.pt", b"hello\n", other),
        ("json.pt", b'{"a": 1}', other),
        ("random.pt", bytes(range(7, 250, 3)) * 4, other),
        ("empty.pt", b"", "it ends early: empty, or cut short"),
        ("cut.pt", None, "it is cut short: a zip archive's start without its end"),
        ("arrays.npz", None, "a zip archive that torch.save did not write, or a damaged one"),
    ):
        if name == "arrays.npz":  # numpy's zip: it read "[enforce fail at inline_container.cc]"
            np.savez(tmp_path / name, a=np.zeros(3))
        elif content is not None:
            (tmp_path / name).write_bytes(content)
        one_error_line(run(str(tmp_path / name), "--out", out), f"torch.save file ({message}")
    torch.save(torch.randn(10, 2, 3).to_sparse(), tmp_path / "xs.pt")
    one_error_line(
        run(str(ok), "--inputs", str(tmp_path / "xs.pt"), "--out", out), "not a dense one"
    )
    # A meta tensor was told to call x.to_dense(), which gives it no values either.
    torch.save(torch.randn(10, 2, 3, device="meta"), tmp_path / "xm.pt")
    line = one_error_line(
        run(str(ok), "--inputs", str(tmp_path / "xm.pt"), "--out", out),
        "holds a tensor on the meta device: it holds no values to measure (save the inputs",
    )
    assert "to_dense" not in line
    # A nested tensor (sequences of several lengths) ended in a traceback from torch's kernels.
    with warnings.catch_warnings():  # torch: "the PyTorch API of nested tensors is in prototype"
        warnings.simplefilter("ignore", UserWarning)
        nested = torch.nested.nested_tensor([torch.randn(10, 3), torch.randn(4, 3)])
    torch.save(nested, tmp_path / "xn.pt")
    one_error_line(
        run(str(ok), "--inputs", str(tmp_path / "xn.pt"), "--out", out), "holds a nested tensor"
    )
    # A TorchScript archive: torch warned on stderr first, then advised weights_only=False.
    torch.jit.save(torch.jit.script(torch.nn.GRU(3, 4)), tmp_path / "jit.pt")
    for args in ([str(tmp_path / "jit.pt")], [str(ok), "--inputs", str(tmp_path / "jit.pt")]):
        one_error_line(run(*args, "--out", out), "is a TorchScript archive (torch.jit.save)")
    marker = tmp_path / "ran"
    torch.save(
        {"state_dict": torch.nn.RNN(2, 2).state_dict(), "x": _Touch(marker)}, tmp_path / "e.pt"
    )
    one_error_line(run(str(tmp_path / "e.pt"), "--out", out), "needs code to be loaded")
    assert not marker.exists()
    torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "lin.pt")
    one_error_line(run(str(tmp_path / "lin.pt"), "--out", out), "no recurrent weights")
    torch.save(torch.nn.GRU(2, 2, bidirectional=True).state_dict(), tmp_path / "bi.pt")
    one_error_line(run(str(tmp_path / "bi.pt"), "--out", out), "bidirectional")
    torch.save(torch.nn.LSTM(2, 4, proj_size=2).state_dict(), tmp_path / "p.pt")
    one_error_line(run(str(tmp_path / "p.pt"), "--out", out), "proj_size")
    sd = dict(torch.nn.RNN(2, 3, 2).state_dict())
    sd["weight_hh_l1"] = torch.zeros(3, 4)
    torch.save(sd, tmp_path / "bad.pt")
    one_error_line(run(str(tmp_path / "bad.pt"), "--out", out), "weight_hh_l1 has shape")
    two = {f"a.{k}": v for k, v in torch.nn.RNN(2, 3).state_dict().items()}
    two.update({f"b.{k}": v for k, v in torch.nn.GRU(2, 3).state_dict().items()})
    torch.save(two, tmp_path / "two.pt")
    one_error_line(run(str(tmp_path / "two.pt"), "--out", out), "(a, b); choose one with --module")
    # a file of one module at its top level was told "(it has: (top level))"
    one_error_line(
        run(str(ok), "--out", out, "--module", "rnn"),
        "has no recurrent module 'rnn': it holds one recurrent module, at its top level (its "
        "weights are named weight_ih_l0, ...); drop --module",
    )
    one_error_line(run(str(ok), "--out", out, "--nonlinearity", "relu"), "nn.RNN only")
    one_error_line(run(str(ok), "--out", out, "--batch-first"), "--batch-first")
    torch.save(torch.randn(4, 2, 5), tmp_path / "x.pt")
    one_error_line(run(str(ok), "--out", out, "--inputs", str(tmp_path / "x.pt")), "input_size=3")
    nan = torch.randn(4, 2, 3)
    nan[1, 0, 2] = float("nan")
    torch.save(nan, tmp_path / "nan.pt")
    one_error_line(
        run(str(ok), "--out", out, "--inputs", str(tmp_path / "nan.pt")),
        "the inputs hold nan at index (1, 0, 2) (in the module's float32): vanishlab measures",
    )
    torch.save(torch.full((4, 2, 3), 1e300, dtype=torch.float64), tmp_path / "big.pt")
    one_error_line(run(str(ok), "--out", out, "--inputs", str(tmp_path / "big.pt")), "hold inf")
    one_error_line(run(str(ok), "--out", out, "--seq-len", "0"), "--seq-len")
    for seed in ("-1", str(2**64)):
        one_error_line(run(str(ok), "--out", out, "--seed", seed), "--seed: must be between")
    one_error_line(run(str(ok), "--out", out, "--input-std", "-1"), "--input-std")
    # vanishlab draws these inputs: the error said "the inputs hold -inf at index (0, 0, 0)"
    one_error_line(
        run(str(ok), "--out", out, "--input-std", "1e300"),
        "--input-std 1e+300 makes Gaussian inputs that overflow the module's float32",
    )
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    one_error_line(run(str(ok), "--out", str(tmp_path / "full")), "is not empty")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "a", "--out", "b"], "--out given 2 times (a, b); give it once"),
        (["--seq-len", "10", "--seq-len", "20"], "--seq-len given 2 times (10, 20)"),
        (["--name", "x", "--name", "y"], "--name given 2 times (x, y)"),
        (["--module", "a", "--module", "b"], "--module given 2 times"),
        (["--nonlinearity", "tanh", "--nonlinearity", "relu"], "--nonlinearity given 2 times"),
        (["--inputs", "x.pt", "--inputs", "y.pt"], "--inputs given 2 times"),
        (["--batch", "2", "--batch", "2"], "--batch given 2 times"),
        (["--input-std", "1", "--input-std", "2"], "--input-std given 2 times (1, 2)"),
        (["--seed", "1", "--seed", "2", "--seed", "3"], "--seed given 3 times (1, 2, 3)"),
    ],
)
def test_an_option_given_twice_is_refused(tmp_path, monkeypatch, args, message):
    # As sweep and report refuse theirs (docs/cli.md): the last one no longer silently wins.
    monkeypatch.chdir(tmp_path)
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    result = runner.invoke(app, ["analyze", "m.pt", *args])
    one_error_line(result, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seq-len", "1_0"], "--seq-len: '1_0' is not an integer"),
        (["--seq-len", "\u0661\u0660"], "--seq-len: '\u0661\u0660' is not an integer"),
        (["--seq-len", "10.0"], "--seq-len: '10.0' is not an integer"),
        (["--batch", "2.0"], "--batch: '2.0' is not an integer"),
        (["--seed", "1_0"], "--seed: '1_0' is not an integer"),
        (["--input-std", "1_0"], "--input-std: '1_0' is not a number"),
        (["--input-std", "abc"], "--input-std: 'abc' is not a number"),
    ],
)
def test_numbers_are_ascii_digits_as_sweeps_flags_take_them(tmp_path, monkeypatch, args, message):
    # typer's int and float read "1_0" as 10 and "10.0" as the integer 10, in silence (and
    # "abc" got typer's "Invalid value ... Input should be a valid integer"); docs/cli.md: numbers
    # are written in ASCII digits.
    monkeypatch.chdir(tmp_path)
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    result = runner.invoke(app, ["analyze", "m.pt", "--out", "run", *args])
    one_error_line(result, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # flag first, as every refusal (it said "seq_len (--seq-len) has no effect with an
        # inputs file (--inputs)")
        (
            ["--seq-len", "10"],
            "error: --seq-len has no effect with --inputs: it describes the "
            "Gaussian inputs, which the inputs file replaces; drop it",
        ),
        (["--batch", "8"], "error: --batch has no effect with --inputs"),  # its default
        (["--input-std", "0.5"], "error: --input-std has no effect with"),
        (
            ["--seed", "3", "--batch", "2"],
            "error: --batch, --seed have no effect with --inputs: they",
        ),
    ],
)
def test_gaussian_input_options_beside_an_inputs_file_are_refused(tmp_path, args, message):
    # They were silently ignored: the run measured the file, not what the flags asked for.
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(5, 2, 3), tmp_path / "x.pt")
    out = tmp_path / "run"
    base = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*base, "--out", str(out), *args])
    one_error_line(result, message)
    assert not out.exists()
    assert runner.invoke(app, [*base, "--out", str(out)]).exit_code == 0  # without them: fine


@pytest.mark.parametrize(("value", "meant"), [("sigmoid", ""), ("Gelu", " (did you mean 'relu'?)")])
def test_a_nonlinearity_of_another_name_is_refused_naming_the_flag(tmp_path, value, meant):
    # "nonlinearity must be tanh or relu, got 'RELU'" named no flag. (RELU is relu, as sweep's
    # --activation takes it: tests/test_choice_suggestions.py.)
    two = {f"a.{k}": v for k, v in torch.nn.RNN(2, 3).state_dict().items()}
    two.update({f"b.{k}": v for k, v in torch.nn.GRU(2, 3).state_dict().items()})
    torch.save(two, tmp_path / "two.pt")
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "two.pt"), "--module", "a", "--out", str(out)]
    result = runner.invoke(app, [*args, "--nonlinearity", value])
    one_error_line(result, f"--nonlinearity must be tanh or relu, got {value!r}")
    assert not out.exists()
    sweep = runner.invoke(app, ["sweep", "--activation", value, "--dry-run"])
    one_error_line(sweep, f"unknown activation {value!r}{meant} (choose from tanh, relu)")
    with pytest.raises(VanishlabError, match=r"^nonlinearity= must be tanh or"):
        vl.analyze_checkpoint(tmp_path / "two.pt", out, module="a", nonlinearity=value)
    assert not out.exists()


@pytest.mark.slow  # several seconds: the CI runs the slow tier
def test_another_model_into_the_same_directory_is_refused(tmp_path):
    out = str(tmp_path / "run")
    for seed in (0, 1):
        torch.manual_seed(seed)
        torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / f"m{seed}.pt")
    args = ["--out", out, "--seq-len", "5", "--batch", "2"]
    assert runner.invoke(app, ["analyze", str(tmp_path / "m0.pt"), *args]).exit_code == 0
    one_error_line(runner.invoke(app, ["analyze", str(tmp_path / "m1.pt"), *args]), "another model")
    small = ["--hidden-size", "2", "--input-size", "2", "--seq-len", "3", "--batch", "1"]
    sweep = runner.invoke(app, ["sweep", *small, "--workers", "1", "--out", str(tmp_path / "s")])
    assert sweep.exit_code == 0, sweep.output
    one_error_line(
        runner.invoke(app, ["analyze", str(tmp_path / "m0.pt"), "--out", str(tmp_path / "s")]),
        "holds a sweep (vanishlab sweep), not an analysis of one model",
    )


def test_the_api_says_a_finished_analysis_keeps_its_name(tmp_path):
    """vl.analyze_checkpoint(..., name=...) on a finished analysis dropped the name in
    silence (the command line printed a note, a reopened JacobianMonitor warned); now it
    warns as the monitor does, and only when the name differs."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5, name="first")
    with pytest.warns(UserWarning, match=r"run keeps its name 'first' \(name= names a new run\)"):
        again = vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5, name="second")
    assert not again.measured and vl.load_manifest(out)["name"] == "first"
    # filterwarnings = error: a warning in these two calls fails the test
    vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5, name="first")
    vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5)


def test_an_empty_name_is_the_default_and_a_finished_run_keeps_its_name(tmp_path):
    """--name '' named the run after the checkpoint file (the default is the directory's
    name), and --name on a finished analysis was dropped without a word."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "mine"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "5"]
    assert runner.invoke(app, [*args, "--name", ""]).exit_code == 0
    assert vl.load_manifest(out)["name"] == "mine"
    again = runner.invoke(app, [*args, "--name", "other"])
    assert again.exit_code == 0 and "already measured" in again.stdout
    assert "keeps its name 'mine' (--name names a new run)" in again.stderr
    assert vl.load_manifest(out)["name"] == "mine"
    assert not runner.invoke(app, [*args, "--name", "mine"]).stderr


def test_the_api_names_an_analysis_as_the_command_does(tmp_path):
    # vl.analyze_checkpoint named the run after the checkpoint file ("m.pt"), so its report was
    # reports/m.pt.html where `vanishlab analyze` gives reports/<run directory>.html.
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "api", seq_len=5, batch=2)
    assert vl.load_manifest(tmp_path / "api")["name"] == "api"


def test_a_damaged_shard_is_set_aside_and_measured_again_by_the_same_command(tmp_path):
    """The error said "run the sweep command of this run again", which refuses an analysis,
    and nothing else set the file aside: the run could only be repaired by hand."""
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "5"]
    assert runner.invoke(app, args).exit_code == 0
    (shard,) = (out / "cells").iterdir()
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 2])
    one_error_line(
        runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")]),
        "run the command that wrote this run again",
    )
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "measured" in again.stdout and (out / "corrupt" / shard.name).is_file()
    # Said, as a sweep says it: the file was set aside in silence (helper 216).
    assert (
        again.stderr == f"moved aside (corrupt; measured again): {out / 'corrupt' / shard.name}\n"
    )
    assert len(vl.load_results(out)) > 0
    assert runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")]).exit_code == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seq_len": 2.5}, "seq_len must be an integer"),
        ({"batch": "8"}, "batch must be an integer"),
        ({"input_std": "1"}, "input_std must be a number"),
        ({"inputs": torch.zeros(3, 2, 2)}, "inputs must be the path of a torch.save file"),
    ],
)
def test_analyze_checkpoint_names_a_wrong_kind_of_argument(tmp_path, kwargs, match):
    # seq_len=2.5 printed torch.randn's signatures, batch="8" "'>=' not supported", a tensor
    # for inputs a pathlib TypeError.
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    with pytest.raises(TypeError, match=match):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seq_len": 0}, r"^seq_len=: must be at least 1, got 0$"),
        ({"input_std": -1.0}, r"^input_std=: must be"),
        ({"input_std": 1e300}, r"^input_std=1e\+300 makes Gaussian inputs that"),
        # an integer beyond any float was an OverflowError ("int too big to convert")
        ({"input_std": 10**400}, r"^input_std=: must be a finite number"),
        ({"name": "a\nb"}, r"^name= holds a control character"),
        (
            {"batch_first": True},
            r"^batch_first= describes the layout of an inputs= "
            "file; give one, or drop it$",
        ),
        # beside an inputs file they were ignored in silence (the command line refused them)
        ({"inputs": "x.pt", "seq_len": 9}, r"^seq_len= has no effect with inputs="),
    ],
)
def test_analyze_checkpoint_names_its_own_arguments(tmp_path, kwargs, match):
    """The Python API's errors named only the command line's flags (--seq-len)."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    with pytest.raises(VanishlabError, match=match):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", **kwargs)


def test_a_sweep_never_takes_over_an_analysis_even_with_force(tmp_path):
    # Extending it would rewrite the manifest as a sweep's: its kind and its model block gone.
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "5"]
    assert runner.invoke(app, [*args, "--batch", "2"]).exit_code == 0
    before = _snapshot(out)
    small = ["--hidden-size", "2", "--input-size", "2", "--seq-len", "3", "--batch", "1"]
    for extra in (["--force"], [], ["--force", "--dry-run"]):
        result = runner.invoke(
            app, ["sweep", *small, "--workers", "1", "--quiet", "--out", str(out), *extra]
        )
        one_error_line(result, f"{out} holds the analysis of one model (vanishlab analyze), not")
        assert "not a sweep; a sweep never adds cells to it, even with --force" in result.stderr
    assert _snapshot(out) == before
    assert vl.load_manifest(out)["kind"] == SINGLE_MODEL


# In the slow tier: ~4 s of CPU (a run of each kind made to refuse).
@pytest.mark.slow
def test_each_refusal_of_another_kind_of_run_says_what_made_it_in_words_a_user_knows(tmp_path):
    """The three refusals said the manifest's own kind, a word no command or page uses: 'holds
    another kind of run (single-model, not a sweep)', '... (monitor)'; and a sweep, named by
    analyze and the monitor as 'a sweep', was 'another kind of run' without saying of what."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    analysis, sweep, monitor = (tmp_path / n for n in ("analysis", "sweep", "monitor"))
    args = ["--seq-len", "3", "--batch", "1"]
    made_analysis = ["analyze", str(tmp_path / "m.pt"), "--out", str(analysis), *args]
    assert runner.invoke(app, made_analysis).exit_code == 0
    small = ["--hidden-size", "2", "--input-size", "2", *args, "--workers", "1", "--quiet"]
    assert runner.invoke(app, ["sweep", *small, "--out", str(sweep)]).exit_code == 0
    with vl.JacobianMonitor(torch.nn.RNN(2, 3), torch.randn(3, 1, 2), out=monitor) as mon:
        mon.step(0)
    made = {
        analysis: "the analysis of one model (vanishlab analyze)",
        sweep: "a sweep (vanishlab sweep)",
        monitor: "a training monitor's run (vl.JacobianMonitor)",
    }
    for run in (analysis, monitor):
        result = runner.invoke(app, ["sweep", *small, "--out", str(run)])
        one_error_line(result, f"{run} holds {made[run]}, not a sweep; a sweep never adds")
        assert result.stderr.rstrip().endswith("give --out a new or empty directory")
    for run in (sweep, monitor):
        result = runner.invoke(app, ["analyze", str(tmp_path / "m.pt"), "--out", str(run)])
        one_error_line(result, f"{run} holds {made[run]}, not an analysis of one model; choose")
    for run in (analysis, sweep):
        with pytest.raises(VanishlabError, match=re.escape(f"{run} holds {made[run]}, not a t")):
            vl.JacobianMonitor(torch.nn.RNN(2, 3), torch.randn(3, 1, 2), out=run).__enter__()


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_checkpoints_are_measured_once_the_engine_takes_them(tmp_path, kind):
    torch.manual_seed(3)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](3, 5, 2, dtype=torch.float64)
    torch.save(
        {"model": {f"enc.{k}": v for k, v in module.state_dict().items()}}, tmp_path / "g.pt"
    )
    x = torch.randn(9, 2, 3, dtype=torch.float64)
    torch.save(x, tmp_path / "x.pt")
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["analyze", str(tmp_path / "g.pt"), "--out", str(out), "--inputs", str(tmp_path / "x.pt")],
    )
    assert result.exit_code == 0, result.output
    rows = vl.load_results(out)
    direct = _aggregate(vl.jacobian_norms(module, x))
    inputs = rows[rows["source"] == "input"]
    for r in inputs.itertuples():
        assert r.log10_fro_mean == pytest.approx(direct[("input", None, int(r.lag))], rel=1e-12)
    assert vl.load_manifest(out)["model"]["architecture"]["kind"] == kind


def test_a_misshapen_inputs_tensor_gets_a_hint_that_helps(tmp_path):
    # --batch-first swaps T and B only: it never fixes a wrong feature dimension, so it is not
    # offered for one; features found in another dimension are pointed at instead.
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")

    def run(shape: tuple[int, ...], *flags: str):
        x = tmp_path / f"x{'x'.join(map(str, shape))}{''.join(flags)}.pt"
        torch.save(torch.randn(*shape), x)
        args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(x), "--out", str(x) + ".run"]
        return runner.invoke(app, [*args, *flags])

    for flags in ([], ["--batch-first"]):
        result = run((2, 5, 4), *flags)
        one_error_line(result, "input_size=3")
        assert "--batch-first" not in result.stderr and "dimension" not in result.stderr
        result = run((2, 3, 5), *flags)
        one_error_line(result, "dimension 1 has size 3: the features must be the last")
        assert "--batch-first" not in result.stderr
    # What fits is measured, and the line says which length and batch it took, so that a
    # (B, T, I) tensor given without --batch-first shows up as the wrong T.
    result = run((2, 5, 3))
    assert result.exit_code == 0, result.stderr
    assert "inputs T=2, B=5" in result.stdout
    result = run((2, 5, 3), "--batch-first")
    assert "inputs T=5, B=2" in result.stdout


def test_an_empty_inputs_tensor_is_named_empty_not_misshapen(tmp_path):
    # (0, 8, 3) has the layout asked for and the features last: the line said only that the
    # module takes (T, B, input_size) with input_size=3, which the tensor seemed to satisfy.
    torch.save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.pt")
    cases = [
        ((0, 8, 3), [], "an empty sequence (T = 0)"),
        ((8, 0, 3), [], "an empty batch (B = 0)"),
        ((0, 8, 3), ["--batch-first"], "an empty batch (B = 0)"),
        ((8, 0, 3), ["--batch-first"], "an empty sequence (T = 0)"),
        ((0, 3), [], "(0, 3), read as unbatched (T, input_size): an empty sequence (T = 0)"),
        ((0, 3), ["--batch-first"], "read as unbatched (T, input_size): an empty sequence"),
        ((0, 8, 3), [], "(0, 8, 3), read as (T, B, input_size): an empty sequence (T = 0)"),
        # empty and of the wrong width: misshapen first, as the width is what to mend
        ((0, 8, 2), [], "the module takes (T, B, input_size) or unbatched (T, input_size) with"),
    ]
    for i, (shape, flags, says) in enumerate(cases):
        torch.save(torch.randn(*shape), tmp_path / f"x{i}.pt")
        out = tmp_path / f"run{i}"
        args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / f"x{i}.pt")]
        result = runner.invoke(app, [*args, "--out", str(out), *flags])
        one_error_line(result, says)
        assert not out.exists()


def test_inputs_too_big_for_memory_are_refused_before_anything_is_drawn(tmp_path, monkeypatch):
    torch.save(torch.nn.GRU(3, 4).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "out"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out)]
    result = runner.invoke(app, [*args, "--batch", str(10**12)])
    one_error_line(result, "B=1000000000000 needs about")
    assert "use a smaller --seq-len or --batch" in result.stderr
    assert not out.exists()
    # An inputs file is checked alike, against what this machine has.
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: 1000)
    torch.save(torch.randn(50, 4, 3), tmp_path / "x.pt")
    result = runner.invoke(app, [*args, "--inputs", str(tmp_path / "x.pt")])
    one_error_line(result, "T=50, B=4 needs about")
    assert "1000 B is available" in result.stderr and not out.exists()


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError, VanishlabError])
def test_an_interrupted_analysis_leaves_no_lock_only_directory(tmp_path, monkeypatch, error):
    # Only a VanishlabError removed the lock of a new directory: Ctrl-C (or a bug) during the
    # measurement left a directory holding just .lock.
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")

    def interrupted(*args, **kwargs):
        raise error("stop")

    monkeypatch.setattr(analyze_run, "measure_rows", interrupted)
    with pytest.raises(error, match="stop"):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "new", seq_len=4, batch=2)
    assert not (tmp_path / "new").exists()
    # A directory that was there before is kept, as is anything another writer put in it.
    (tmp_path / "empty").mkdir()
    with pytest.raises(error):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "empty", seq_len=4, batch=2)
    assert (tmp_path / "empty").is_dir()

    def beside(*args, **kwargs):
        (tmp_path / "busy" / "notes.txt").write_text("mine")
        raise error("stop")

    monkeypatch.setattr(analyze_run, "measure_rows", beside)
    with pytest.raises(error):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "busy", seq_len=4, batch=2)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(("after_s", "shown"), [(0.0, True), (60.0, False)])
def test_analyze_says_what_it_measures_on_stderr_when_it_takes_a_while(
    tmp_path, monkeypatch, after_s, shown
):
    """A long measurement (nn.RNN(32, 128, 2) at --seq-len 12000: 40 s) is not silent: a spinner
    on a terminal, else one plain line once it has run a while (none for a quick one)."""
    monkeypatch.setattr("vanishlab.sweep.progress.PLAIN_AFTER_S", after_s)
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "5", "--out", str(tmp_path / "r")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    if shown:
        assert len(lines) == 1 and lines[0].startswith("measuring "), lines
        assert lines[0].endswith("over 5 steps x 8 sequences (this may take a while)")
    else:
        assert lines == []


def test_the_progress_line_of_one_step_and_one_sequence_is_singular(tmp_path, monkeypatch):
    # It read "over 1 steps x 1 sequences".
    monkeypatch.setattr("vanishlab.sweep.progress.PLAIN_AFTER_S", 0.0)
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--seq-len", "1", "--batch", "1"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith("over 1 step x 1 sequence (this may take a while)")


def test_a_misshapen_weight_hh_is_named_and_a_pickled_inputs_file_gets_inputs_advice(tmp_path):
    state = torch.nn.RNN(3, 8).state_dict()
    state["weight_hh_l0"] = torch.zeros(8, 7)  # hidden size 7 by its columns, 8 rows
    torch.save(state, tmp_path / "m.pt")
    result = runner.invoke(app, ["analyze", str(tmp_path / "m.pt"), "--out", str(tmp_path / "r")])
    one_error_line(result, "weight_hh_l0 has shape (8, 7): its rows are not 1, 3 or 4 blocks")
    assert "weight_ih_l0" not in result.stderr

    torch.save(torch.nn.RNN(3, 8).state_dict(), tmp_path / "ok.pt")
    torch.save({"x": _Touch(tmp_path / "ran")}, tmp_path / "x.pt")
    args = ["analyze", str(tmp_path / "ok.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    one_error_line(result, "Save the inputs as one tensor instead: torch.save(x, path)")
    assert "state_dict" not in result.stderr and not (tmp_path / "ran").exists()


class _LayerNormLSTM(torch.nn.LSTM):
    """A subclass with parameters of its own (a layer norm of the gates, say)."""

    def __init__(self) -> None:
        super().__init__(2, 3)
        self.ln = torch.nn.LayerNorm(12)
        self.gain = torch.nn.Parameter(torch.ones(3))


def test_keys_the_module_has_not_are_said(tmp_path):
    """The checkpoint of an nn.LSTM subclass with parameters of its own (rnn.ln.weight,
    rnn.gain) was measured with nn.LSTM's equations, those keys left out in silence (the
    Python API refuses such a subclass when its forward computes otherwise; a checkpoint has no
    forward to compare). Now a UserWarning names them, and the command line says it in a note;
    another model's keys beside the module (fc.weight) are not named."""
    model = torch.nn.Module()
    model.rnn, model.fc = _LayerNormLSTM(), torch.nn.Linear(3, 1)
    torch.save(model.state_dict(), tmp_path / "m.pt")
    said = r"module rnn also holds gain, ln\.bias, ln\.weight, which an nn\.LSTM has not"
    with pytest.warns(UserWarning, match=said):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "api", seq_len=5, batch=2)
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(tmp_path / "cli"), "--seq-len", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if "note:" in line] == [
        "note: module rnn also holds gain, ln.bias, ln.weight, which an nn.LSTM has not (a "
        "subclass?): measured with nn.LSTM's equations and its own weights alone"
    ]
    torch.save(model.rnn.state_dict(), tmp_path / "top.pt")  # at the top level, unnamed
    with pytest.warns(UserWarning, match=r"^the module also holds gain, ln\.bias, ln\.weight"):
        vl.analyze_checkpoint(tmp_path / "top.pt", tmp_path / "top", seq_len=5, batch=2)


def test_keys_the_module_has_not_are_said_in_the_report(tmp_path):
    """The note of keys an nn.LSTM has not (a subclass's own parameters) was printed by the
    command and warned by the API, but the run kept no trace of it: its report showed a plain
    nn.LSTM, measured as if it were one. The manifest now keeps the note and the report's
    Model table says it, as 'not measured'."""
    model = torch.nn.Module()
    model.rnn = _LayerNormLSTM()
    torch.save(model.state_dict(), tmp_path / "m.pt")
    with pytest.warns(UserWarning, match="also holds"):
        vl.analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", seq_len=5, batch=2)
    html = vl.render_report(tmp_path / "run", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "not measured" in html
    assert (
        "module rnn also holds gain, ln.bias, ln.weight, which an nn.LSTM has not (a subclass?): "
        "measured with nn.LSTM&#39;s equations and its own weights alone"
    ) in html
    torch.save(torch.nn.LSTM(2, 3).state_dict(), tmp_path / "plain.pt")
    vl.analyze_checkpoint(tmp_path / "plain.pt", tmp_path / "plain", seq_len=5, batch=2)
    plain = vl.render_report(tmp_path / "plain", tmp_path / "p.html").read_text(encoding="utf-8")
    assert "not measured" not in plain


def test_a_key_the_module_has_not_is_named_on_one_line(tmp_path):
    """A state_dict's keys are any strings: one holding a new line (or an escape) made the
    note two lines, the second looking like a line of its own."""
    sd = torch.nn.LSTM(3, 4).state_dict()
    sd["gain\nerror: forged\x1b[2J"] = torch.ones(1)
    torch.save(sd, tmp_path / "m.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(tmp_path / "cli"), "--seq-len", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if "gain" in line or "forged" in line] == [
        "note: the module also holds gain\ufffderror: forged\ufffd[2J, which an nn.LSTM has not "
        "(a subclass?): measured with nn.LSTM's equations and its own weights alone"
    ]


def test_analyze_checkpoint_takes_numpy_numbers(tmp_path):
    """numbers.Integral and numbers.Real let NumPy scalars through its type checks, and they
    then failed inside ("Object of type int64 is not JSON serializable", "an integer is
    required"): they measure as the Python numbers they stand for."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    plain = vl.analyze_checkpoint(
        tmp_path / "m.pt", tmp_path / "plain", seq_len=5, batch=2, input_std=0.5, seed=3
    )
    numpy = vl.analyze_checkpoint(
        tmp_path / "m.pt",
        tmp_path / "numpy",
        seq_len=np.int64(5),
        batch=np.int32(2),
        input_std=np.float32(0.5),
        seed=np.int64(3),
    )
    assert (numpy.seq_len, numpy.batch) == (plain.seq_len, plain.batch) == (5, 2)
    pd.testing.assert_frame_equal(
        vl.load_results(tmp_path / "numpy"), vl.load_results(tmp_path / "plain")
    )


def test_an_out_below_a_regular_file_is_one_line_naming_out(tmp_path):
    """An ``--out`` below a regular file: the command said only "Not a directory: PATH" and
    ``vl.analyze_checkpoint`` raised a bare NotADirectoryError; both now say it as a sweep
    does, naming ``--out``."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    (tmp_path / "somefile").write_text("x")
    out = tmp_path / "somefile" / "sub"
    said = f"cannot write the run directory {out}: Not a directory; give --out another directory"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "3"]
    one_error_line(runner.invoke(app, args), said)
    said = said.replace("--out", "out=")  # the Python API's name of it
    with pytest.raises(VanishlabError, match=re.escape(said)):
        vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=3)


def test_a_module_name_with_a_newline_is_measured_and_said_on_one_line(tmp_path):
    """A module named "b\n" was not found at all (see test_checkpoint); once found, the
    command's line names it quoted, not over two lines."""
    sd = {f"b\n.{k}": v for k, v in torch.nn.RNN(2, 3).state_dict().items()}
    torch.save(sd, tmp_path / "m.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(tmp_path / "run"), "--seq-len", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1 and "module 'b\\n', inputs T=3" in result.stdout


def _file_and_gaussian_runs(tmp_path):
    """Two analyses of one checkpoint: of an inputs file, and of Gaussian inputs drawn with
    seed 7."""
    torch.manual_seed(4)
    torch.save(_Model().state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(6, 2, 3, dtype=torch.float64), tmp_path / "x.pt")
    file_run, gauss_run = tmp_path / "file", tmp_path / "gauss"
    vl.analyze_checkpoint(tmp_path / "m.pt", file_run, inputs=tmp_path / "x.pt")
    vl.analyze_checkpoint(tmp_path / "m.pt", gauss_run, seq_len=5, batch=2, seed=7)
    return file_run, gauss_run


def test_training_settings_and_an_unused_seed_are_null_not_the_sweeps_defaults(tmp_path):
    """vl.load_results, vl.load_cells and vl.summarize of an analysis showed lr 0.01,
    optimizer adam and clip 1.0 (the sweep's defaults) as if they were the user's model's
    training, and seed 0 beside an inputs file, which no seed drew. They are null now (seed
    kept where it drew the Gaussian inputs); the shard still holds the defaults, so the
    cell id, and a rerun that measures nothing, are as before."""
    file_run, gauss_run = _file_and_gaussian_runs(tmp_path)
    for run, seed in ((file_run, None), (gauss_run, 7)):
        for frame in (vl.load_results(run), vl.load_cells(run), vl.summarize(run)):
            assert len(frame) and frame["lr"].isna().all() and frame["clip"].isna().all()
            assert frame["optimizer"].isna().all()
            assert frame["task"].eq("none").all() and frame["train_steps"].eq(0).all()
            if seed is None:
                assert frame["seed"].isna().all() and str(frame["seed"].dtype) == "Int64"
            else:
                assert frame["seed"].eq(seed).all()
        (meta,) = read_cell_metas(run).values()
        assert meta["config"]["lr"] == 0.01 and meta["config"]["optimizer"] == "adam"
    again = vl.analyze_checkpoint(tmp_path / "m.pt", file_run, inputs=tmp_path / "x.pt")
    assert not again.measured


def test_an_analysis_s_null_columns_keep_a_sweep_s_dtypes(tmp_path, smoke_run_dir):
    """An analysis's blanked ``optimizer`` was ``object`` where a sweep's is ``str`` (pandas 3):
    ``pd.concat`` of the two runs' frames made the column ``object``, and the analysis's frame
    written by ``to_parquet`` held it as Arrow's ``null`` type, so a folder holding it beside a
    sweep's file could not be read back ("Unsupported cast from large_string to null"). Every
    blanked column keeps the dtype a sweep's frame has (``seed`` aside: ``Int64``, nullable)."""
    file_run, _ = _file_and_gaussian_runs(tmp_path)
    for read in (vl.load_results, vl.load_cells, vl.summarize):
        sweep, analysis = read(smoke_run_dir), read(file_run)
        for column in ("lr", "optimizer", "clip"):
            assert analysis[column].isna().all()
            assert analysis[column].dtype == sweep[column].dtype, (read.__name__, column)
        both = pd.concat([sweep, analysis], ignore_index=True)
        assert both["optimizer"].dtype == sweep["optimizer"].dtype
    if sweep["optimizer"].dtype != object:  # pandas 3's str; pandas 2's all-None object is null
        folder = tmp_path / "published"
        folder.mkdir()
        analysis, sweep = vl.load_results(file_run), vl.load_results(smoke_run_dir)
        analysis.to_parquet(folder / "a-analysis.parquet")
        sweep.to_parquet(folder / "b-sweep.parquet")
        assert len(pd.read_parquet(folder)) == len(analysis) + len(sweep)


def test_an_analysis_stopped_after_its_shard_is_finished_by_the_same_command(tmp_path, monkeypatch):
    """A disk that filled up (or a SIGKILL) between the shard and the manifest that says the
    analysis finished left "finished": null; running the same command again said "already
    measured" and left it so, and the report said "not finished" for good (helper 144: a
    64 KiB tmpfs that held the shard and not the new manifest)."""
    torch.save(torch.nn.RNN(2, 3).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    real = analyze_run.store.write_manifest
    writes: list[int] = []

    def full_at_the_second(run_dir, manifest):
        writes.append(1)
        if len(writes) == 2:  # the one that records the end, after the shard
            raise OSError(28, "No space left on device")
        return real(run_dir, manifest)

    monkeypatch.setattr(analyze_run.store, "write_manifest", full_at_the_second)
    with pytest.raises(OSError, match="No space"):
        vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5)
    monkeypatch.setattr(analyze_run.store, "write_manifest", real)
    assert vl.load_manifest(out)["finished"] is None and len(vl.load_cells(out)) == 1
    again = vl.analyze_checkpoint(tmp_path / "m.pt", out, seq_len=5)
    assert not again.measured
    manifest = vl.load_manifest(out)
    assert manifest["finished"] is not None
    # its run time is the measurement's (the report's overview read "run time: none")
    assert manifest["elapsed_s"] == round(vl.load_cells(out)["elapsed_s"].iloc[0], 3)
    vl.render_report(out, tmp_path / "r.html")
    assert "not finished" not in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_the_manifest_records_no_seed_beside_an_inputs_file(tmp_path):
    """The manifest's ``model.seed`` ("the Gaussian inputs' seed") was 0 for an analysis of an
    inputs file, which no seed drew. It is null now, and read so from a manifest written
    before (0 there); the Gaussian inputs' seed is kept, on the page too."""
    import json

    file_run, gauss_run = _file_and_gaussian_runs(tmp_path)
    written = json.loads((file_run / "manifest.json").read_text(encoding="utf-8"))
    assert written["model"]["seed"] is None
    assert vl.load_manifest(gauss_run)["model"]["seed"] == 7
    page = vl.render_report(gauss_run, tmp_path / "g.html").read_text(encoding="utf-8")
    assert "drawn with seed 7" in page
    # A run written before: 0 in its manifest, read as null; the same command finds it.
    written["model"]["seed"] = 0
    (file_run / "manifest.json").write_text(json.dumps(written), encoding="utf-8")
    assert vl.load_manifest(file_run)["model"]["seed"] is None
    assert vl.load_cells(file_run)["seed"].isna().all()
    page = vl.render_report(file_run, tmp_path / "f.html").read_text(encoding="utf-8")
    assert "drawn with seed" not in page
    again = vl.analyze_checkpoint(tmp_path / "m.pt", file_run, inputs=tmp_path / "x.pt")
    assert not again.measured


@pytest.mark.parametrize(
    ("stop", "said"), [(KeyboardInterrupt, "interrupted"), (Terminated, "terminated")]
)
def test_a_stop_after_the_analysis_is_written_does_not_say_nothing_was_measured(
    tmp_path, monkeypatch, stop, said
):
    """A stop once the run was written said "interrupted: nothing measured; ..." beside it (a
    mutation review: analyze without its finished() passed every test; helper 165)."""
    from vanishlab.cli import analyze as analyze_cli

    def stopped(text: str, done: str = "") -> None:
        raise stop

    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    monkeypatch.setattr(analyze_cli, "say", stopped)
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "4"]
    result = runner.invoke(app, [*args, "--batch", "2"])
    assert result.exit_code == (130 if stop is KeyboardInterrupt else 143), result.output
    assert vl.load_manifest(out)["finished"]
    assert result.stderr == (
        f"{said}: it came after the work was done: the analysis has finished: its measurement "
        f"is kept in {out}\n"
    )


def test_a_refused_standard_output_names_the_folder_the_analysis_is_kept_in(tmp_path, monkeypatch):
    """`vanishlab analyze m.pt > /dev/full` ended "...; the analysis has finished", naming
    no folder, where a sweep's names its folder and cells (52b6dfd)."""
    from vanishlab.cli import analyze as analyze_cli

    said = []
    monkeypatch.setattr(analyze_cli, "say", lambda text, done="": said.append(done))
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    out = tmp_path / "run"
    args = ["analyze", str(tmp_path / "m.pt"), "--out", str(out), "--seq-len", "4"]
    assert runner.invoke(app, [*args, "--batch", "2", "-q"]).exit_code == 0
    assert said == [f"the analysis has finished: its measurement is kept in {out}"]


def test_inputs_saved_as_a_numpy_array_are_told_to_save_a_tensor(tmp_path):
    # They were told to "save plain Python numbers (float(x))", a checkpoint's advice for a
    # numpy number beside its weights, where float(x) of an array of inputs fails.
    torch.save(torch.nn.RNN(3, 8).state_dict(), tmp_path / "m.pt")
    torch.save(np.zeros((5, 2, 3), dtype=np.float32), tmp_path / "x.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    one_error_line(result, "It holds a numpy object: save torch.as_tensor(x) instead")
    assert "float(x)" not in result.stderr and not (tmp_path / "r").exists()


def test_inputs_saved_as_a_packed_sequence_are_told_to_pad_them(tmp_path):
    # They were told to "save the inputs as one tensor", not how (the Python API names
    # pad_packed_sequence for the same mistake).
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(pack_padded_sequence(torch.randn(5, 2, 3), [5, 3]), tmp_path / "x.pt")
    args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "r")])
    one_error_line(result, "It holds a PackedSequence: save the padded tensor instead (")
    assert "pad_packed_sequence(packed)[0]" in result.stderr and not (tmp_path / "r").exists()
    assert "its padded steps are then measured as inputs" in result.stderr  # as the API says


def test_the_memory_check_estimates_the_checkpoints_own_kind_of_module(tmp_path, monkeypatch):
    # Mutation review: an LSTM estimated as an nn.RNN of its sizes (a third of its need)
    # passed every test.
    from vanishlab.sweep.memory import format_bytes, measure_bytes

    torch.save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(50, 4, 3), tmp_path / "x.pt")
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: 1000)
    args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    sizes = dict(num_layers=1, hidden_size=4, input_size=3, dtype="float32")
    need = measure_bytes(seq_len=50, batch=4, model="lstm", **sizes)
    assert need > measure_bytes(seq_len=50, batch=4, **sizes)
    one_error_line(result, f"T=50, B=4 needs about {format_bytes(need)} of memory")


def test_the_memory_check_estimates_a_relu_module_as_a_relu(tmp_path, monkeypatch):
    """--nonlinearity relu: the estimate of the relu measurement (a long relu cell keeps no
    pre-activations and needs less than a tanh), not the tanh's of the same sizes."""
    from vanishlab.sweep.memory import format_bytes, measure_bytes

    torch.save(torch.nn.RNN(3, 64).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(2000, 8, 3), tmp_path / "x.pt")
    monkeypatch.setattr("vanishlab.trained.measure.available_bytes", lambda: 1000)
    args = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*args, "--nonlinearity", "relu", "--out", str(tmp_path / "o")])
    sizes = dict(num_layers=1, hidden_size=64, input_size=3, dtype="float32")
    need = measure_bytes(seq_len=2000, batch=8, activation="relu", **sizes)
    assert format_bytes(need) != format_bytes(measure_bytes(seq_len=2000, batch=8, **sizes))
    one_error_line(result, f"T=2000, B=8 needs about {format_bytes(need)} of memory")


def test_an_inputs_file_read_as_time_first_gets_a_note_naming_the_flag(tmp_path):
    """A state_dict does not record batch_first: a (B, T, I) file given without --batch-first
    was measured as (T, B, I) with no word but the T and B printed. One note line now names
    the reading and the flag; with the flag, an unbatched file or Gaussian inputs, none."""
    torch.save(torch.nn.LSTM(3, 4, batch_first=True).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(8, 40, 3), tmp_path / "x.pt")  # 8 sequences of 40 steps
    torch.save(torch.randn(40, 3), tmp_path / "one.pt")
    note = (
        f"note: {tmp_path / 'x.pt'} was read as (T, B, I), T=8, B=40; a batch_first model's "
        "(B, T, I) file needs --batch-first (--no-batch-first: (T, B, I), without this note)"
    )
    base = ["analyze", str(tmp_path / "m.pt")]
    for out, extra, expected in (
        ("time", ["--inputs", str(tmp_path / "x.pt")], [note]),
        ("time", ["--inputs", str(tmp_path / "x.pt")], [note]),  # already measured: the same
        ("batch", ["--inputs", str(tmp_path / "x.pt"), "--batch-first"], []),
        ("stated", ["--inputs", str(tmp_path / "x.pt"), "--no-batch-first"], []),
        ("one", ["--inputs", str(tmp_path / "one.pt")], []),
        ("gauss", ["--seq-len", "6"], []),
    ):
        result = runner.invoke(app, [*base, "--out", str(tmp_path / out), *extra])
        assert result.exit_code == 0, result.output
        assert result.stderr.strip().splitlines() == expected, result.stderr


def test_batch_first_given_one_unbatched_sequence_gets_a_note_that_it_has_no_effect(tmp_path):
    """torch reads a 2-D inputs tensor as one unbatched (T, I) sequence, batch_first or not:
    --batch-first with such a file was taken without a word, as if it had been read (B, T).
    One note line now says how it was read and that the flag has no effect; the measurement
    is the one without the flag, and neither --no-batch-first nor no flag gets the note."""
    torch.save(torch.nn.GRU(3, 4, batch_first=True).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(40, 3), tmp_path / "one.pt")
    note = (
        f"note: {tmp_path / 'one.pt'} is one unbatched sequence, read as (T, I), T=40; "
        "--batch-first has no effect on it (a batch of sequences is a (B, T, I) file)"
    )
    base = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "one.pt")]
    for out, flags, expected in (
        ("first", ["--batch-first"], [note]),
        ("first", ["--batch-first", "-q"], [note]),  # already measured, and quiet: the same
        ("stated", ["--no-batch-first"], []),
        ("plain", [], []),
    ):
        result = runner.invoke(app, [*base, *flags, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
        assert result.stderr.strip().splitlines() == expected, result.stderr
    assert vl.load_results(tmp_path / "first").equals(vl.load_results(tmp_path / "plain"))


def test_the_api_warns_that_batch_first_has_no_effect_on_one_unbatched_sequence(tmp_path):
    """vl.analyze_checkpoint(..., batch_first=True) with a (T, I) file said nothing, where the
    command line says in a note that the flag has no effect: a UserWarning says it, once, in
    the API's words (the command line's note stays its one line); without batch_first, or with
    a (B, T, I) file, none."""
    torch.save(torch.nn.LSTM(3, 4, batch_first=True).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(40, 3), tmp_path / "one.pt")
    torch.save(torch.randn(2, 40, 3), tmp_path / "x.pt")
    m, one = tmp_path / "m.pt", tmp_path / "one.pt"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vl.analyze_checkpoint(m, tmp_path / "first", inputs=one, batch_first=True)
    assert [(w.category, str(w.message), w.filename) for w in caught] == [
        (
            UserWarning,
            f"{one} is one unbatched sequence, read as (T, I), T=40; batch_first=True has no "
            "effect on it (a batch of sequences is a (B, T, I) file)",
            __file__,  # the caller's line
        )
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vl.analyze_checkpoint(m, tmp_path / "plain", inputs=one)
        vl.analyze_checkpoint(m, tmp_path / "batch", inputs=tmp_path / "x.pt", batch_first=True)


def test_one_unbatched_sequence_with_or_without_batch_first_is_one_measurement(tmp_path):
    """The manifest and the cell id recorded --batch-first with a (T, I) file, which it does not
    change: the same command without the flag into the same --out was refused ("holds the
    analysis of another model or other inputs (measured with another version or setting)").
    The flag is recorded as read (false), and either command finds the other's measurement."""
    torch.save(torch.nn.GRU(3, 4, batch_first=True).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(40, 3), tmp_path / "one.pt")
    base = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "one.pt")]
    run = tmp_path / "r"
    for flags, done in (
        (["--batch-first"], "measured"),
        ([], "already measured"),
        (["--no-batch-first"], "already measured"),
        (["--batch-first"], "already measured"),
    ):
        result = runner.invoke(app, [*base, *flags, "--out", str(run)])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().endswith(f": {done} -> {run}"), result.stdout
    assert vl.load_manifest(run)["model"]["inputs"]["batch_first"] is False
    plain = runner.invoke(app, [*base, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    assert set(read_cell_metas(run)) == set(read_cell_metas(tmp_path / "plain"))


def _as_written_before(run: Path) -> str:
    """Rewrite ``run``, an analysis of a (T, I) file, as versions before this one wrote it with
    --batch-first: its manifest's inputs record ``batch_first`` true, and its cell id is made
    by their recipe (the config, the checkpoint's SHA-256 and module, that inputs record)."""
    from vanishlab.sweep.checksums import META_DIGEST
    from vanishlab.sweep.manifest import write_manifest
    from vanishlab.sweep.shard import read_shard, write_shard
    from vanishlab.trained.measure import cell_id

    manifest = json.loads((run / "manifest.json").read_text())
    model = manifest["model"]
    model["inputs"]["batch_first"] = True
    [path] = (run / "cells").iterdir()
    meta, table = read_shard(path, rows=True)
    old = cell_id(
        meta["config"],
        checkpoint_sha256=model["sha256"],
        module=model["module"],
        inputs=model["inputs"],
    )
    frame = table.to_pandas().assign(cell_id=old)
    kept = {k: v for k, v in meta.items() if k not in ("digest", META_DIGEST)}
    path.unlink()
    write_shard(run, frame, {**kept, "cell_id": old})  # type: ignore[typeddict-item]
    write_manifest(run, manifest)
    return old


def test_a_run_written_before_with_batch_first_and_one_sequence_is_found_as_it_was(tmp_path):
    """A run directory that an earlier version wrote with --batch-first and a (T, I) file
    (batch_first true in its record and its cell id) is found by the same command, and by the
    command without the flag, which it measured too: already measured, its shard and record
    as they were; one stopped before its manifest said it finished is finished, as before."""
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(30, 3), tmp_path / "one.pt")
    base = ["analyze", str(tmp_path / "m.pt"), "--inputs", str(tmp_path / "one.pt")]
    run = tmp_path / "r"
    assert runner.invoke(app, [*base, "--batch-first", "--out", str(run)]).exit_code == 0
    old = _as_written_before(run)
    assert set(read_cell_metas(run)) == {old}
    kept = _snapshot(run)
    for flags in (["--batch-first"], [], ["--no-batch-first"]):
        result = runner.invoke(app, [*base, *flags, "--out", str(run)])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip().endswith(f": already measured -> {run}"), result.stdout
        assert _snapshot(run) == kept
    stopped = {**json.loads(kept["manifest.json"]), "finished": None, "elapsed_s": None}
    (run / "manifest.json").write_text(json.dumps(stopped))
    assert runner.invoke(app, [*base, "--out", str(run)]).exit_code == 0
    mended = vl.load_manifest(run)
    assert mended["finished"] is not None
    assert mended["elapsed_s"] == round(read_cell_metas(run)[old]["elapsed_s"], 3)
    assert mended["model"]["inputs"]["batch_first"] is True
    other = tmp_path / "other.pt"
    torch.save(torch.randn(30, 3), other)  # other inputs are still refused, in words
    result = runner.invoke(app, [*base[:3], str(other), "--batch-first", "--out", str(run)])
    one_error_line(result, "other inputs: inputs file one.pt of shape (30, 3), read as (T, I)")


def test_the_recorded_command_names_an_rnns_nonlinearity_given_or_not(tmp_path):
    """The Reproduce block left --nonlinearity out where it was not typed, where every other
    recorded command names every axis (a sweep's, Gaussian inputs' --seq-len ... --seed): an
    nn.RNN's records tanh, an LSTM's none (it refuses the flag), and each replays."""
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "rnn.pt")
    torch.save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "lstm.pt")
    for stem, recorded in (("rnn", ["--nonlinearity", "tanh"]), ("lstm", [])):
        out = tmp_path / stem
        args = ["analyze", str(tmp_path / f"{stem}.pt"), "--out", str(out), "--seq-len", "6"]
        assert runner.invoke(app, [*args, "--quiet"]).exit_code == 0
        command = vl.load_manifest(out)["command"].split()
        at = command.index("--nonlinearity") if recorded else None
        assert command.count("--nonlinearity") == len(recorded) // 2
        assert at is None or command[at : at + 2] == recorded
        before = _snapshot(out)
        replay = runner.invoke(app, command[1:])  # the command as recorded: nothing new
        assert replay.exit_code == 0, replay.output
        assert _snapshot(out) == before
    relu = tmp_path / "relu"  # as typed where given
    args = ["analyze", str(tmp_path / "rnn.pt"), "--out", str(relu), "--nonlinearity", "RELU"]
    assert runner.invoke(app, [*args, "--quiet"]).exit_code == 0
    assert "--nonlinearity relu " in vl.load_manifest(relu)["command"]


def test_no_batch_first_states_the_layout_and_the_two_flags_together_are_refused(tmp_path):
    """--no-batch-first states the (T, B, I) layout: the file is measured as without a flag,
    with no note, and the recorded command says it. --batch-first and --no-batch-first
    together (typer's pair kept the last) are refused in one line, as is --no-batch-first
    without an inputs file, as --batch-first is; nothing is written."""
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(6, 5, 3), tmp_path / "x.pt")
    base = ["analyze", str(tmp_path / "m.pt")]
    inputs = ["--inputs", str(tmp_path / "x.pt")]
    result = runner.invoke(app, [*base, *inputs, "--no-batch-first", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0 and result.stderr == "", result.output
    plain = runner.invoke(app, [*base, *inputs, "--out", str(tmp_path / "b")])
    assert plain.exit_code == 0 and plain.stderr.startswith("note: "), plain.output
    assert (
        vl.load_results(tmp_path / "a")
        .drop(columns="cell_id")
        .equals(vl.load_results(tmp_path / "b").drop(columns="cell_id"))
    )
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["command"].endswith("--no-batch-first")
    assert manifest["model"]["inputs"]["batch_first"] is False
    for flags in (["--batch-first", "--no-batch-first"], ["--no-batch-first", "--batch-first"]):
        result = runner.invoke(app, [*base, *inputs, *flags, "--out", str(tmp_path / "c")])
        one_error_line(result, "--batch-first and --no-batch-first contradict each other")
    result = runner.invoke(app, [*base, "--no-batch-first", "--out", str(tmp_path / "c")])
    one_error_line(result, "--no-batch-first describes the layout of an --inputs file; give")
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("edit", [{"model": "x"}, {"inputs": "x"}, {"inputs": {"shape": 3}}])
def test_a_hand_edited_model_record_does_not_end_an_analysis_run_again_in_a_traceback(
    tmp_path, edit
):
    """The inputs note read the manifest's model.inputs.shape with .get on each: a record that
    is not a mapping (which load_manifest and the report accept) ended the command, already
    measured, in an AttributeError or TypeError traceback (exit 1). It is no such record: no
    note, exit 0. A 'model' that is no mapping is a malformed manifest, refused in one line
    (status 2) as the report and a reopened monitor refuse it."""
    torch.save(torch.nn.RNN(3, 4).state_dict(), tmp_path / "m.pt")
    torch.save(torch.randn(8, 5, 3), tmp_path / "x.pt")
    out = tmp_path / "run"
    args = [
        "analyze",
        str(tmp_path / "m.pt"),
        "--inputs",
        str(tmp_path / "x.pt"),
        "--out",
        str(out),
    ]
    assert runner.invoke(app, args).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    if "model" in edit:
        manifest.update(edit)
    else:
        manifest["model"].update(edit)
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, args)
    if "model" in edit:
        one_error_line(result, "is malformed: 'model' must be a mapping (the module measured)")
        return
    assert result.exit_code == 0, result.output
    assert "already measured" in result.stdout
    # the edit is said, in one line (sweep/manifest_digest.py), not refused
    assert result.stderr == (
        f"warning: {out / 'manifest.json'} changed since vanishlab wrote it ('model' changed): "
        "read as it is now\n"
    )


def test_weights_of_several_dtypes_or_of_one_not_read_are_named_in_a_stable_order(tmp_path):
    # Several dtypes were said as a Python set ("got {torch.float64, torch.float32}"), in an
    # order that changed from run to run; weights all int32 "must share one floating dtype",
    # which they did. Each is now named, with a key that holds it, and the way on.
    rnn = torch.nn.RNN(3, 4).state_dict()
    cases = {
        "mixed": (
            {**rnn, "weight_hh_l0": rnn["weight_hh_l0"].double()},
            "its parameters have several dtypes, float32 (bias_hh_l0), float64 (weight_hh_l0): "
            "vanishlab reads one; save its state_dict() after module.float()",
        ),
        "ints": (
            {k: v.int() for k, v in rnn.items()},
            "its parameters are int32: vanishlab reads float16, bfloat16, float32 or float64",
        ),
    }
    for name, (weights, message) in cases.items():
        torch.save(weights, tmp_path / f"{name}.pt")
        args = ["analyze", str(tmp_path / f"{name}.pt"), "--out", str(tmp_path / name)]
        one_error_line(runner.invoke(app, args), f"{name}.pt: {message}")
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize("which", ["checkpoint", "inputs file"])
def test_a_dangling_link_given_to_analyze_is_said_to_be_one(tmp_path, monkeypatch, which):
    """`vanishlab analyze` given a symbolic link to nothing (its target on a disk not mounted
    now) said "checkpoint m.pt does not exist", where a run folder or a manifest so linked is
    said to be "a symbolic link to nothing", with what to do: said so now, for the checkpoint
    and the inputs file, on the command line and in Python alike."""
    monkeypatch.chdir(tmp_path)
    torch.save(torch.nn.RNN(2, 3).state_dict(), "real.pt")
    Path("gone.pt").symlink_to(tmp_path / "unmounted" / "m.pt")
    args = ["gone.pt"] if which == "checkpoint" else ["real.pt", "--inputs", "gone.pt"]
    result = runner.invoke(app, ["analyze", *args, "--out", "o"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {which} gone.pt is a symbolic link to nothing; restore its target (or a copy "
        f"of the {which} in its place)\n"
    )
    call = ("gone.pt", "o") if which == "checkpoint" else ("real.pt", "o")
    kwargs = {} if which == "checkpoint" else {"inputs": "gone.pt"}
    with pytest.raises(VanishlabError, match=f"^{which} gone.pt is a symbolic link to nothing"):
        vl.analyze_checkpoint(*call, **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone.pt", "real.pt"]
