"""Mutation review of the changes of session 51 (a1a48bc..f7e30ef): each test here failed on
a small plausible change of the code it names (a comparison, a constant, an argument or a
branch changed or dropped) that passed the tests of that code, and passes on the code as it
is.

Mutants tried / killed by the tests before / killed with these (2026-12-06; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``):
  __main__._flush_quietly          9 /  7 /  8   cli/_app._dash_path_hint     10 /  5 /  8
  summary._cache_bytes             7 /  5 /  6   manifest, "not a regular"     3 /  3 /  3
  tensor_checks (token ids)        5 /  3 /  5   render.cell (+ template)     12 /  7 / 12
  models.gate_note                 4 /  2 /  2   progress.is_terminal          4 /  4 /  4
  experiments.import_file          5 /  1 /  5   long_deps._late_rise         14 /  3 / 12
  examples/monitor_adding.py       8 /  8 /  8   safetensors_file              7 /  1 /  4
  torch_file (safetensors, pairs) 13 /  5 / 12   theory ("both")               1 /  1 /  1
The cache's mutant ``open(fd, closefd=True)`` (a double close: the cache never read) passed
tests/test_summary.py, whose test that the cache is read patched ``summarize_frames``, which a
run whose shards store their rows never calls: it now patches ``_computed``
(tests/test_storage_pinned_behaviour.py, which spies on the cells' read, killed it already).
In all 102 / 55 / 90. The 12 left are equivalent, or change nothing a user sees: ``!= "relu"``
for ``== "tanh"``, and the gate note's test of the model dropped (a cell records an axis that
does not apply to its model as None: only an rnn row holds an activation); the hint's test of
the error's class (click's other errors that carry an option's name are said of a token the
user typed as an option) and ``name[1:] in token`` for ``token[1:]`` (a short option's letter
is never the token's leading "-"); a non-regular cache read as b"" (no parquet: computed afresh
as for None); ``len(late) < 1`` and the test ``low == curve.last`` dropped (a rise of 0 is
under LATE_RISE_DECADES all the same); ``len(start) < 8`` (a 9th byte missing is no "{");
safetensors' error text unsplit (each of the package's messages is one line); the header
probe's OSError for ValueError (an unreadable file: root reads every file, as this suite runs
here); ``1 <= len(obj) < 2`` for ``== 1`` (the same test, written otherwise); the flush's
``break`` for ``continue`` at a stream of None (stdout is None only where main refused to
start, before its exit handler was registered)."""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from _cli_lines import one_error_line
from _stops import stops_at_their_defaults
from markupsafe import escape
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.core.log_units import LN10
from vanishlab.report import build_report
from vanishlab.report.model import Report, Section, Table
from vanishlab.report.render import aside, cell, render_html
from vanishlab.report.sections import long_deps
from vanishlab.sweep import experiments
from vanishlab.trained import analyze_checkpoint
from vanishlab.trained.checkpoint import load_tensor_file
from vanishlab.trained.safetensors_file import is_safetensors

runner = CliRunner()

# --- cli/_app._dash_path_hint: how to give a path that begins with "-" ---


def test_a_long_option_that_is_a_path_is_said_how_to_give(tmp_path, monkeypatch):
    """A folder named --run, given to report, was read as the option --run: the hint names it
    as it does a short option's path (its long-option branch had no test)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "--run").mkdir()
    line = one_error_line(runner.invoke(app, ["report", "--run"]), "No such option: --run")
    assert line.endswith("; --run is a path here: give it as ./--run"), line


def test_the_hint_names_no_path_the_unknown_option_was_not_read_from(tmp_path, monkeypatch):
    """Only a token the parser may have read the unknown option from is named: not one after
    "--" (an argument however it begins, the user gave it rightly), nor a long option's token
    that holds the short option's letter ("--zeta" where -z is unknown)."""
    monkeypatch.chdir(tmp_path)
    for name in ("-dash.pt", "--zeta"):
        (tmp_path / name).write_bytes(b"")
    for args in (["analyze", "-d", "--", "-dash.pt"], ["analyze", "-z", "--zeta"]):
        line = one_error_line(runner.invoke(app, args), f"No such option: {args[1]}")
        assert line == f"error: No such option: {args[1]} (see 'vanishlab analyze --help')", line


# --- core/tensor_checks.check_sequence: token ids of another width than the input ---


def test_a_scalar_of_integers_is_refused_for_its_dtype_not_with_an_index_error():
    """The token-id branch reads the last dimension only of a tensor that has one: a 0-d one
    (a label where a sequence was meant) gets the dtype's line, not an IndexError."""
    lstm = torch.nn.LSTM(16, 32, batch_first=True)
    with pytest.raises(TypeError) as err:
        vl.jacobian_norms(lstm, torch.tensor(3))
    assert str(err.value) == (
        "x must be a floating-point tensor, got dtype torch.int64: convert it with "
        "x.to(torch.float32) (token ids? give the embedded sequence, as the module receives it)"
    )


def test_booleans_of_another_width_are_told_to_be_converted_not_to_be_embedded():
    """A mask (B, T) of booleans is no token ids: the line keeps the conversion advice, where
    the token-id line without its test of the dtype said "...input size 16: the input layer's
    output, e.g. embedding(x).detach())", a parenthesis that never opened."""
    lstm = torch.nn.LSTM(16, 32, batch_first=True)
    with pytest.raises(TypeError) as err:
        vl.jacobian_norms(lstm, torch.ones(8, 40, dtype=torch.bool))
    assert str(err.value) == (
        "x must be a floating-point tensor, got dtype torch.bool: convert it with "
        "x.to(torch.float32)"
    )


# --- report/render.cell: a hyphenated word kept whole in a table's cell ---


def _kept(text: str) -> str:
    return f'<span class="nowrap">{escape(text)}</span>'


def test_a_path_in_a_cell_is_as_it_was_even_past_a_digit():
    """A word of letters begins the cell or follows a space or a mark (not a digit, a letter
    or a hyphen): "runs/gates-2-no-theory", a run's folder, stays as it was; without that rule
    its "no-theory" was kept whole in the middle of the path."""
    for text in ("runs/gates-2-no-theory", "lstm2-non-iid", "v_near-critical"):
        assert cell(text) == escape(text), text


def test_an_aside_columns_hyphenated_words_are_kept_whole_before_and_without_a_remark():
    """An aside column's cell keeps its hyphenated words whole in its number part and where
    it has no remark, as in its remark: "near-critical (2 of 2 seeds)", "no-theory"."""
    assert aside("no-theory") == _kept("no-theory")
    assert aside("near-critical (2 of 2 seeds)") == (
        f'{_kept("near-critical")} <span class="aside">(2 of 2 seeds)</span>'
    )


def test_a_record_tables_cells_keep_hyphenated_words_whole():
    """The theory table of a sweep is a table of records (its notes a line under each row,
    ``Table.detail``): its flags cells are the ones "no-" / "theory" broke in, and they go
    through the template's second loop, which the browser's test (a table without notes)
    never reached. A note under a row is prose, as a caption is."""
    table = Table(
        "t", "c", ("flags", "note"), (("no-theory", "a non-iid note"),), (False, False), detail=1
    )
    html = render_html(Report("p", "p", "2024-01-01", "0", (Section("s", "S", "", (table,)),)))
    assert f"<td>{_kept('no-theory')}</td>" in html
    assert "a non-iid note</td>" in html


def test_a_cells_hyphenated_word_before_an_option_is_kept_whole_too():
    """A cell that names an option: its hyphenated words on either side of the option's box
    are kept whole (the text before the option went through the caption's rule alone)."""
    option = '<span class="w">--input-std</span> 0.5'
    assert cell("non-iid: try --input-std 0.5") == f"{_kept('non-iid')}: try {option}"
    assert cell("try --input-std 0.5: non-iid") == f"try {option}: {_kept('non-iid')}"


# --- sweep/experiments.import_file: an experiment file runs from its own bytes ---

_EXPERIMENT = "import vanishlab as vl\n\nSWEEP = vl.Sweep(seq_len={}, hidden_size=8)\n"


@pytest.fixture
def experiment_file(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(_EXPERIMENT.format(111))
    yield path
    sys.modules.pop("_vl_test_s51", None)
    experiments.LOADED_FROM.pop("_vl_test_s51", None)


def test_an_experiment_file_edited_while_it_loads_runs_the_bytes_its_digest_is_of(
    experiment_file, monkeypatch
):
    """The file is read once: the code that runs and the digest the manifest records are of
    the same bytes. Here each read of it is followed by an edit (an editor saving while the
    sweep starts): read twice, the digest was of one version and the code of the other."""
    read_bytes = Path.read_bytes
    versions = iter([_EXPERIMENT.format(222), _EXPERIMENT.format(333)])

    def then_edited(self: Path) -> bytes:
        data = read_bytes(self)
        if self == experiment_file:
            experiment_file.write_text(next(versions))
        return data

    monkeypatch.setattr(Path, "read_bytes", then_edited)
    module = experiments.import_file("_vl_test_s51", experiment_file)
    monkeypatch.undo()
    ran = _EXPERIMENT.format(module.SWEEP.seq_len[0]).encode()
    assert experiments.LOADED_FROM["_vl_test_s51"] == hashlib.sha256(ran).hexdigest()


def test_an_experiment_files_syntax_error_names_the_file_and_line(experiment_file):
    """Compiled from its bytes, the file keeps its own name: the one line says
    "invalid syntax (mine.py, line 3)", as Python's own import did."""
    experiment_file.write_text("import vanishlab as vl\n\nSWEEP = vl.Sweep(seq_len=(\n")
    with pytest.raises(
        vl.VanishlabError, match=r"failed to import: SyntaxError: .*\(mine\.py, line 3\)$"
    ):
        experiments.load_experiment(os.fspath(experiment_file))


def test_an_experiment_file_runs_without_the_loaders_future_imports(experiment_file):
    """It runs as Python runs a script: without vanishlab's own ``from __future__ import
    annotations``, its annotations are the objects it names, not their text."""
    experiment_file.write_text(
        _EXPERIMENT.format(111)
        + "\ndef f(x: int) -> None: ...\n\nANNOTATION = f.__annotations__['x']\n"
    )
    assert experiments.import_file("_vl_test_s51", experiment_file).ANNOTATION is int


# --- report/sections/long_deps._late_rise: a falling column that rises over its last lags ---


def _curve(norms: dict[int, float], rate: float = -0.2, after: int = 1) -> long_deps._Curve:
    return long_deps._Curve("the curve", {"rate": rate}, norms, norms[0], 0, max(norms), after)


def _falling(last: int = 23) -> dict[int, float]:
    return {k: -0.1 * k for k in range(last + 1)}


_RISES = " The input's column rises again over its last lags"


def _rise(curve: long_deps._Curve) -> str:
    said = long_deps._late_rise(curve, "input's", "measure with --seq-len {}")
    return re.sub(r"\. Those lags .*", "", said)


def test_a_rise_of_exactly_ten_fold_is_said_and_one_short_of_it_is_not():
    """ "At least 10-fold" (LATE_RISE_DECADES = 1): a rise of 1 decade from the least value is
    said, 1.1 decades too (a 1.2 or 1.5 in the constant passed the test's 32-fold and 8-fold
    rises alike), and 0.99 is not."""
    for rise, said in ((1.0, "10"), (1.1, "13"), (0.99, None)):
        norms = _falling() | {23: -2.2 + rise}  # its least value, -2.2 at k = 22
        expected = (
            f" The input's column rises again over its last lags, {said}-fold from k = 22 to k = 23"
        )
        assert _rise(_curve(norms)) == (expected if said else ""), rise


def test_the_later_half_of_the_lags_begins_at_half_the_longest():
    """The least value is sought from lag last // 2 on (11 of 23): from k = 11 itself where
    that is the least, and not from an earlier lag where the curve turned before the half."""
    norms = _falling() | {k: -1.1 + 0.1 * (k - 11) for k in range(12, 24)}
    assert _rise(_curve(norms)) == f"{_RISES}, 16-fold from k = 11 to k = 23"
    turned = _falling() | {k: -0.7 + 0.1 * (k - 7) for k in range(8, 24)}  # least at k = 7
    assert _rise(_curve(turned)) == f"{_RISES}, 16-fold from k = 11 to k = 23"


def test_exact_zeros_among_the_last_lags_are_passed_over():
    """A lag whose norm is exactly 0 (-inf in log10) is no least value to rise from (the rise
    read "inf-fold"), and a last lag that is exactly 0 rises from nothing (a KeyError)."""
    norms = _falling() | {20: -math.inf, 21: -math.inf, 23: -0.5}
    assert _rise(_curve(norms)) == f"{_RISES}, 50-fold from k = 22 to k = 23"
    assert _rise(_curve(_falling() | {23: -math.inf})) == ""


def test_a_flat_curve_is_not_said_to_rise_again():
    """Only a curve falling on its fitted line (rate < 0) is: a rate of exactly 0 is none."""
    assert _rise(_curve(_falling() | {23: 0.0}, rate=0.0)) == ""
    assert _rise(_curve(_falling() | {23: 0.0}, rate=-1e-9)) != ""


@pytest.fixture(scope="module")
def gru_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("s51-gru")
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 8).state_dict(), root / "gru.pt")
    analyze_checkpoint(root / "gru.pt", root / "run", seq_len=24, batch=4)
    return root / "run"


def test_the_state_column_rising_again_is_said_too_with_its_own_length(gru_run):
    """The caption says it of the state's column as of the input's (the test of the rise had
    changed the input's rows alone, so the state's sentence could go unsaid): the state's
    lags run to T itself (24, none after it), so the length to try is 2 T = 48 all the same."""
    rows = vl.load_results(gru_run)
    state = (rows["source"] == "state").to_numpy()
    lag = rows["lag"].to_numpy(dtype=float)
    rows.loc[state, "log10_fro_mean"] = (-0.2 * lag / LN10)[state]
    up = state & (lag > 20)
    rows.loc[up, "log10_fro_mean"] = (-0.2 * 20 / LN10 + 1.5 * (lag - 20) / 4)[up]
    report = build_report(
        rows, vl.load_cells(gru_run), vl.load_manifest(gru_run), timestamp="2024-01-01"
    )
    section = next(s for s in report.sections if s.key == "long-dependencies")
    caption = next(b for b in section.blocks if isinstance(b, Table)).caption
    said = re.findall(r"The \w+'s column rises again.*?there too\)\.", caption)
    assert said == [
        "The state's column rises again over its last lags, 32-fold from k = 20 to k = 24. "
        "Those lags are the sequence's first steps, where the state is still leaving its "
        "start: the row of the longest lag need not be what a dependency that long gets later "
        "in a sequence (measure with --seq-len 48 to see whether these lags rise there too)."
    ]


# --- trained/torch_file._container_advice: an inputs file of a data set's pair ---

_X, _Y = torch.randn(8, 40, 16), torch.randint(0, 2, (8,))


def _refusal(obj: object, path: Path) -> str:
    torch.save(obj, path)
    with pytest.raises(vl.VanishlabError) as err:
        load_tensor_file(path)
    return str(err.value)


def _listed(*tensors: torch.Tensor, keys=None) -> str:
    keys = keys or [f"[{i}]" for i in range(len(tensors))]
    return "; ".join(
        f"{k}: a {t.dtype} tensor {tuple(t.shape)}" for k, t in zip(keys, tensors, strict=True)
    )


@pytest.mark.parametrize(
    ("obj", "kind", "pick"),
    [
        ((_X, _Y, _Y, _Y), "a tuple", "[0]"),  # 4 items: listed (at most _LISTED_ITEMS)
        ([_X, _Y], "a list", "[0]"),  # a list, as a tuple is
        ((torch.randn(40, 16), _Y), "a tuple", "[0]"),  # unbatched (T, I): 2 dimensions
        ((_X, torch.randint(0, 9, (8, 40))), "a tuple", "[0]"),  # token ids are no inputs
        ({"x": _X}, "a dict", "['x']"),  # a torch.save file's dict of one: named, not taken
        ((_X, _X), "a tuple", None),  # two candidates: none picked
    ],
    ids=["four", "list", "unbatched", "tokens", "dict-of-one", "two"],
)
def test_an_inputs_files_container_lists_its_tensors_and_picks_the_one_input(
    tmp_path, obj, kind, pick
):
    path = tmp_path / "data.pt"
    items = list(obj.values()) if isinstance(obj, dict) else list(obj)
    keys = [f"[{k!r}]" for k in obj] if isinstance(obj, dict) else None
    save = f"torch.save(torch.load({str(path)!r}){pick}, 'x.pt')" if pick else "torch.save(x, path)"
    assert _refusal(obj, path) == (
        f"inputs file {path} holds {kind}, not a tensor ({_listed(*items, keys=keys)}): save "
        f"the inputs alone, {save}"
    )


@pytest.mark.parametrize("obj", [(_X, _Y, _Y, _Y, _Y), (1, 2)], ids=["five", "no-tensor"])
def test_an_inputs_files_long_or_tensorless_container_gets_the_general_advice(tmp_path, obj):
    path = tmp_path / "data.pt"
    assert _refusal(obj, path) == (
        f"inputs file {path} holds a tuple, not a tensor (save one tensor with torch.save(x, path))"
    )


# --- trained/safetensors_file.is_safetensors: known by its first bytes ---


@pytest.mark.parametrize(
    "start",
    [
        b"        {\n",  # a JSON file indented by 8 spaces: a length of 2.3e18, no header
        b"\x01" + bytes(7) + b"{}",  # a length of 1: no header ("{}" is the least)
        torch.tensor([5, 7, 9]).numpy().tobytes(),  # raw int64s: a length of 5, no "{"
    ],
    ids=["indented-json", "length-1", "raw-int64"],
)
def test_a_file_that_only_begins_like_a_safetensors_file_is_not_taken_for_one(tmp_path, start):
    path = tmp_path / "data.bin"
    path.write_bytes(start + bytes(64))
    assert not is_safetensors(path)


# --- __main__._flush_quietly: the end-of-process flush ---

_PRINTS_THEN_STOPPED = """
import vanishlab.cli

def app():
    print("3 of 4 cells measured")  # stdout a pipe: held in its buffer
    raise KeyboardInterrupt

vanishlab.cli.app = app
from vanishlab.__main__ import main
main()
"""


def test_what_a_stopped_command_printed_is_flushed_before_its_signal_ends_it():
    """A command stopped by Ctrl-C ends by SIGINT, sent again from its last exit handler: the
    interpreter's own flush never comes, so that handler flushes both streams first. Without
    it, the lines still in stdout's buffer (a pipe: `vanishlab ... | tee log`) were lost."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", _PRINTS_THEN_STOPPED], capture_output=True, text=True,
        timeout=120, env=env, preexec_fn=stops_at_their_defaults,
    )  # fmt: skip
    assert done.returncode == -signal.SIGINT, done.stderr
    assert (done.stdout, done.stderr) == ("3 of 4 cells measured\n", "interrupted\n")
