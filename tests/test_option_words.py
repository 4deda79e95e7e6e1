"""Words shared by the command line and the Python API name an option once, for both
("--seq-len (seq_len=)"): the command line says the flag alone, a Python caller the argument.

`vanishlab analyze m.pt --seq-len 0` said "--seq-len (seq_len=): must be at least 1, got 0",
a Python argument's name in a command-line line that read like a broken template, and
`vl.analyze_checkpoint(..., seq_len=0)` named a flag its caller never typed.
"""

from __future__ import annotations

import re

import pytest
import torch
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.errors import VanishlabError, command_line_words, python_words

runner = CliRunner()
BOTH = re.compile(r"\(\w+=")  # "(seq_len=": an argument's name in a command-line line


@pytest.mark.parametrize(
    ("words", "command_line", "python"),
    [
        ("--seq-len (seq_len=): must be", "--seq-len: must be", "seq_len=: must be"),
        ("needs --bias true (bias=True): x", "needs --bias true: x", "needs bias=True: x"),
        ("a --lr 0 (lr=0) b", "a --lr 0 b", "a lr=0 b"),
        ("or pass --force (force=True)", "or pass --force", "or pass force=True"),
        (
            "mon.step(n, loss=) is Python",
            "mon.step(n, loss=) is Python",
            "mon.step(n, loss=) is Python",
        ),
    ],
)
def test_each_surface_keeps_its_own_name(words, command_line, python):
    assert command_line_words(words) == command_line
    assert python_words(words) == python


def _line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not BOTH.search(lines[0]), lines[0]
    return lines[0]


def test_command_line_refusals_name_the_flag_alone(tmp_path):
    ckpt = tmp_path / "m.pt"
    torch.save(torch.nn.RNN(2, 3).state_dict(), ckpt)
    (tmp_path / "file").write_text("x")
    out = ["--out", str(tmp_path / "run")]
    analyze = ["analyze", str(ckpt), *out]
    said = {
        "error: --seq-len: must be at least 1, got 0": [*analyze, "--seq-len", "0"],
        "error: --input-std 1e+300 makes Gaussian": [*analyze, "--input-std", "1e300"],
        "has no effect with --inputs": [*analyze, "--inputs", str(ckpt), "--seq-len", "3"],
        "give --out another directory": ["analyze", str(ckpt), "--out", str(tmp_path / "file")],
        "error: --lr must be above 0 to train: the grid has --train-steps above 0 and --lr 0": [
            "sweep", "--task", "adding", "--input-size", "2", "--train-steps", "5", "--lr", "0",
            *out, "--dry-run",
        ],
        "error: --task adding needs sequences of at least 2 steps: --seq-len 1 is shorter": [
            "sweep", "--task", "adding", "--input-size", "2", "--train-steps", "5",
            "--seq-len", "1", *out, "--dry-run",
        ],
        "error: --init chrono sets gate biases and needs --bias true: the grid has --bias false": [
            "sweep", "--model", "lstm", "--init", "chrono", "--bias", "false", *out, "--dry-run"
        ],
        "set --input-size 2 (got 16)": ["sweep", "--task", "adding", "--train-steps", "5", *out],
        "error: --workers and --scheduler exclude each other": [
            "sweep", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1", *out
        ],
        "error: --name is blank": ["sweep", "--name", "  ", *out],
    }  # fmt: skip
    for words, args in said.items():
        assert words in _line(args), args


def test_python_refusals_name_the_argument_alone(tmp_path):
    ckpt = tmp_path / "m.pt"
    torch.save(torch.nn.RNN(2, 3).state_dict(), ckpt)
    with pytest.raises(VanishlabError, match=r"^seq_len=: must be at least 1, got 0$"):
        vl.analyze_checkpoint(ckpt, tmp_path / "run", seq_len=0)
    with pytest.raises(
        VanishlabError, match=r"^init='chrono' sets gate biases and needs bias=True"
    ):
        vl.Sweep(model="lstm", init="chrono", bias=False)
    with pytest.raises(VanishlabError, match=r"^workers= and scheduler= exclude each other"):
        vl.run_sweep(vl.Sweep(), tmp_path / "r", workers=2, scheduler="tcp://127.0.0.1:1")
