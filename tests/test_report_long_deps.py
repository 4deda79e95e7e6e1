"""The "What this means for long dependencies" section of one trained model's page.

Real small analyses (``vanishlab analyze``'s :func:`analyze_checkpoint`): a two-layer tanh
``nn.RNN`` and an ``nn.LSTM`` at T = 24, an exploding relu ``nn.RNN`` (W_hh = 1.2 I, every unit
on, so ||J(k)|| = 1.2^k exactly) and a dead one (every Jacobian past lag 0 exactly zero). Each
number in the section's table is checked against :func:`vanishlab.fit_decay` of the run's own
rows: the measured lags against the rows, the lags past them against the fitted line; and each
command the section gives must be one `vanishlab sweep` takes.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
import torch
from _cdp import Browser, find_chromium
from _report_run import built_once
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.core.log_units import LN10
from vanishlab.core.training_facts import TRAINABILITY_STEPS
from vanishlab.report import build_report
from vanishlab.report.model import Code, KeyValues, Section, Table
from vanishlab.report.sections.extrapolation import (
    EXTRAPOLATION_REACH,
    factor_text,
    magnitude_text,
    untrusted_fit,
)
from vanishlab.report.sections.learn_command import LEARN_TITLE, learn_code
from vanishlab.report.sections.long_deps import LAGS
from vanishlab.report.sections.try_length import MAX_TRY_SEQ_LEN, try_seq_len
from vanishlab.sweep.trainability import required_lag
from vanishlab.trained import analyze_checkpoint
from vanishlab.trained.gate_memory import gate_memory_steps

KEY = "long-dependencies"
T = 24
CHROMIUM = find_chromium()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("long-deps")
    torch.manual_seed(0)
    modules = {
        "rnn": torch.nn.RNN(3, 8, num_layers=2),
        "lstm": torch.nn.LSTM(3, 8),
        "gru": torch.nn.GRU(3, 8),
        "explode": torch.nn.RNN(2, 4, nonlinearity="relu"),
        "dead": torch.nn.RNN(2, 4, nonlinearity="relu"),
        "relu": torch.nn.RNN(3, 8, nonlinearity="relu"),
    }
    with torch.no_grad():
        grow = modules["explode"]
        grow.weight_hh_l0.copy_(1.2 * torch.eye(4))
        grow.weight_ih_l0.fill_(0.5)
        grow.bias_ih_l0.fill_(5.0)  # every unit on at every step: relu' = 1
        grow.bias_hh_l0.zero_()
        modules["dead"].bias_ih_l0.fill_(-5.0)  # every unit off: exactly 0 past lag 0
    out = {}
    for name, module in modules.items():
        torch.save(module.state_dict(), root / f"{name}.pt")
        relu = {"nonlinearity": "relu"} if name in ("explode", "dead", "relu") else {}
        analyze_checkpoint(root / f"{name}.pt", root / name, seq_len=T, batch=4, **relu)
        out[name] = root / name
    return out


def _report_of(run: Path, results: pd.DataFrame | None = None):
    """build_report of the run (of ``results`` in its place, where given). A run's own report
    is built once while its files stay as they are (_report_run.built_once): the tests ask
    for it 85 times, up to 9 times a run."""
    if results is None:
        return built_once(_own_report, run)
    return build_report(results, vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01")


def _own_report(run: Path):
    return _report_of(run, vl.load_results(run))


def _section(run: Path, results: pd.DataFrame | None = None) -> Section:
    return next(s for s in _report_of(run, results).sections if s.key == KEY)


def _table(section: Section) -> Table:
    return next(b for b in section.blocks if isinstance(b, Table))


def _code(section: Section) -> Code | None:
    return next((b for b in section.blocks if isinstance(b, Code)), None)


def _learn(section: Section) -> Code | None:
    return next((b for b in section.blocks if isinstance(b, Code) and b.title == LEARN_TITLE), None)


def _expected(rows: pd.DataFrame, source: str, layer: int | None, k: int) -> str:
    """The cell the section must show, computed here from the rows and vl.fit_decay."""
    curve = rows[rows["source"] == source]
    curve = curve[curve["layer"].isna()] if layer is None else curve[curve["layer"] == layer]
    norms = dict(zip(curve["lag"], curve["log10_fro_mean"], strict=True))
    ref = norms[0]
    if k in norms:
        return f"{factor_text(norms[k] - ref)} (measured)"
    if k > 2 * max(norms):  # an input's lag k is measured at T = k + 1, a state's at T = k
        return f"— (past twice the lags measured: measure with --seq-len {k + (source == 'input')})"
    fit = vl.fit_decay(curve[["lag", "log10_fro_mean"]]).iloc[0]
    line = (fit["intercept"] + fit["rate"] * k) / LN10 - ref
    return f"{magnitude_text(line)} (extrapolated)"


def test_the_section_comes_right_after_the_model(runs):
    keys = [s.key for s in _report_of(runs["rnn"]).sections]
    assert keys[:2] == ["model", KEY]


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_verdict_is_on_the_first_screen(runs, tmp_path):
    """On a 1280 x 800 window the verdict started at 1271 px on this 2-layer nn.RNN's page, below
    the model's facts, and at 993 px on a monitored run's: now an "In short" line under the
    page's title says it (at 119 px), the section's own words, with a link to the section."""
    torch.manual_seed(0)
    rnn = torch.nn.RNN(2, 6)
    with vl.JacobianMonitor(rnn, torch.randn(40, 2, 2), out=tmp_path / "monitor", every=1) as mon:
        mon.step(0)
    pages = {"analyze": runs["rnn"], "monitor": tmp_path / "monitor"}
    assert CHROMIUM is not None
    for name, run in pages.items():
        page = vl.render_report(run, tmp_path / f"{name}.html", timestamp="2024-01-01")
        verdict = _section(run).intro
        with Browser(CHROMIUM) as browser:
            browser.open(page, width=1280, height=800)
            first = browser.evaluate(
                "(() => { const p = [...document.querySelectorAll('p')].find(e =>"
                f" e.textContent.includes({json.dumps(verdict[:80])}));"
                " const r = p.getBoundingClientRect();"
                " const a = p.querySelector('a');"
                " const intro = document.querySelector('p.intro').getBoundingClientRect();"
                " return [r.top, r.bottom, a ? a.getAttribute('href') : null, r.width,"
                " intro.width]; })()"
            )
            problems = browser.problems()
        assert problems == []
        top, bottom, link, width, intro_width = first
        assert top > 0 and bottom < 800, (name, first)
        assert link == f"#{KEY}", (name, first)
        # as wide as the page's other prose (it ran the page's full 1160 px, intros 60em)
        assert width <= intro_width + 1, (name, first)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_its_factors_are_the_runs_rows_measured_and_its_fitted_line_past_them(runs, name):
    rows = vl.load_results(runs[name])
    top = 1 if name == "rnn" else 0
    table = _table(_section(runs[name]))
    assert [r[0] for r in table.rows] == [
        "10",
        f"{T - 1} (input's longest measured)",
        "30",
        "100",
        "300",
    ]
    for row in table.rows:
        k = int(row[0].split()[0])
        assert row[1] == _expected(rows, "state", top, k)
        assert row[2] == _expected(rows, "input", None, k)
        # lags the inputs hold are measured; those past them are extrapolated, never measured,
        # up to twice the longest lag measured (the input's T - 1 = 23: to 46)
        assert row[1].endswith("(measured)") == row[2].endswith("(measured)") == (k < T)
        assert row[2].endswith("(extrapolated)") == (T - 1 < k <= 2 * (T - 1))
    assert EXTRAPOLATION_REACH == 2  # what _expected and the words say
    assert "extrapolated past them along the curve's fitted line" in table.caption
    assert "up to twice the longest lag measured, as an order of magnitude" in table.caption
    symbol = "ds" if name == "lstm" else "dh"
    assert table.columns[1] == ("state, top layer: " if top else "state: ") + (
        f"dh_T/{symbol}_{{T−k}}"
    )


def test_what_to_try_says_each_command_without_nested_parentheses(runs):
    """An nn.RNN's "What to try" read as one sentence of 100 words before its closing one, with
    parentheses two deep ("... or the chrono init (Tallec & Ollivier 2018 ...; another is ...,
    swept by its name (chrono_1000 for 1000))"). Its sentences now say a command or two each,
    the longest 36 words, and no parenthesis holds another (the code
    vl.register_init(vl.chrono_init(T_max)) aside)."""
    for name in ("rnn", "relu", "lstm", "gru"):
        caption = _code(_section(runs[name])).caption
        words = caption.replace("vl.register_init(vl.chrono_init(T_max))", "code")
        depth = deepest = 0
        for char in words:
            depth += {"(": 1, ")": -1}.get(char, 0)
            deepest = max(deepest, depth)
        assert depth == 0 and deepest <= 1, (name, caption)
        longest = max(len(sentence.split()) for sentence in words.split(". "))
        assert longest <= 40, (name, longest, caption)


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_an_lstms_table_says_what_s_is(runs, name):
    """An LSTM's table headed its column dh_T/ds_{T−k} and said nowhere what s is: the curves'
    caption that does comes later on the page. The table's caption now says it, on an LSTM's
    page alone."""
    caption = _table(_section(runs[name])).caption
    assert ("Here s = [h | c], an LSTM's hidden and cell state." in caption) == (name == "lstm")


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru"])
def test_the_verdict_says_the_measured_horizon_of_the_input(runs, name):
    rows = vl.load_results(runs[name])
    fits = vl.fit_decay(rows[["source", "layer", "lag", "log10_fro_mean"]])
    horizon = int(fits[fits["source"] == "input"]["horizon"].iloc[0])
    intro = _section(runs[name]).intro
    assert intro.startswith("Measured on these inputs: the gradient from an input k steps back")
    assert f"has fallen 1000-fold by k = {horizon}" in intro
    assert f"a dependency longer than about {horizon} steps gets little gradient" in intro
    # the state's horizon beside it, said as the state's own (it read "(the top layer's
    # state's horizon: 12 steps)" right after "by k = 12", as if the 12 were the state's)
    state = fits[(fits["source"] == "state") & (fits["layer"] == fits["layer"].max())]
    words = "the top layer's state" if fits["layer"].max() > 0 else "the state"
    expected = int(state["horizon"].iloc[0])
    assert f"(from {words}: horizon {expected} step" in intro


def test_what_to_try_is_keyed_to_the_model(runs):
    rnn, lstm, gru = (_code(_section(runs[n])) for n in ("rnn", "lstm", "gru"))
    assert "sweep gain_phase" in rnn.text and "--model lstm,gru" in rnn.text
    assert "orthogonal recurrent init" in rnn.caption and "gated cell" in rnn.caption
    # T = 32, twice its horizon of 16 steps (test_what_to_try_reaches_past_the_verdicts_length)
    assert "--num-layers 2 --hidden-size 8 --input-size 3 --seq-len 32" in rnn.text
    assert "--model lstm --init default,forget_bias,chrono" in lstm.text
    assert "a forget-gate bias of 1 (forget_bias)" in lstm.caption and "GRU" not in lstm.caption
    assert "--model gru --init default,forget_bias,chrono" in gru.text
    assert "update-gate bias" in gru.caption
    for code in (rnn, lstm, gru):
        assert code.caption.startswith("Try ") and "T_max" in code.caption
        # chrono_init makes an Init and registers nothing: the page said "vl.chrono_init(T_max)
        # registers another", and --init chrono_1000 was then an unknown init
        assert "vl.chrono_init(T_max) registers" not in code.caption
        assert "vl.register_init(vl.chrono_init(T_max))" in code.caption
        assert "not these weights" in code.caption  # fresh networks, said as such


def _save_gate_biased(path, kind: str, bias: float) -> None:
    """A one-layer LSTM or GRU (3 inputs, 8 units) whose gate that keeps the state (f, or a
    GRU's z) has total bias ``bias`` (b_ih, with b_hh 0), its state_dict saved at ``path``."""
    torch.manual_seed(0)
    module = getattr(torch.nn, kind.upper())(3, 8)
    with torch.no_grad():
        module.bias_ih_l0[8:16] = bias
        module.bias_hh_l0[8:16] = 0.0
    torch.save(module.state_dict(), path)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_gate_that_keeps_the_state_already_is_not_told_to_try_forget_bias(tmp_path, kind):
    """An nn.LSTM of forget-gate bias 2 (its gates keep the state about 8 steps) was told "Try a
    forget-gate bias of 1 (forget_bias) or the chrono init": forget_bias keeps it about 4. Its
    page now says that its gates already keep it at least that long, and suggests chrono."""
    _save_gate_biased(tmp_path / "m.pt", kind, 2.0)
    analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", seq_len=48, batch=4)
    section = _section(tmp_path / "run")
    caption = _code(section).caption
    # the test of learning trains what the words suggest: chrono, not forget_bias (it trained
    # both beside "Try the chrono init")
    learn = _learn(section)
    assert f"--model {kind} --init default,chrono --gain 1 " in learn.text, learn.text
    assert "from PyTorch's default init and from chrono, for " in learn.caption
    assert " It leaves out forget_bias, which keeps the state no longer than this model's " in (
        learn.caption
    )
    gates = "forget gates" if kind == "lstm" else "update gates (z)"
    assert caption.startswith(
        f"Try the chrono init: this model's {gates} already keep its state about 8 steps at "
        "their biases alone (the median over its units), at least as long as"
    ), caption
    assert (
        "keeps it, about 4 steps, where the built-in chrono (T_max = 100) keeps it about 51 steps; "
        "the command sweeps forget_bias beside"
    ) in caption
    assert "or the chrono init" not in caption
    assert "T_max" in caption
    # PyTorch's default biases (about 2 steps) keep the words of before
    lstm, gru = (_code(_section(runs_dir)).caption for runs_dir in _default_gated(tmp_path))
    assert lstm.startswith("Try a forget-gate bias of 1 (forget_bias) or the chrono init.")
    assert gru.startswith("Try an update-gate bias of 1 (forget_bias, on z) or the chrono init.")
    # the fact the words rest on: the forget_bias init's gates keep the state 1 + e steps
    from vanishlab.sweep.catalog import FORGET_BIAS_MEMORY

    made = getattr(torch.nn, kind.upper())(3, 8)
    vl.INITS["forget_bias"].apply(made, 1.0, torch.Generator().manual_seed(0))
    assert gate_memory_steps(made) == pytest.approx(FORGET_BIAS_MEMORY)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_gate_that_keeps_the_state_longer_than_chrono_is_told_no_init_would(tmp_path, kind):
    """An nn.LSTM of forget-gate bias +4 (its gates keep the state about 56 steps) was told "Try
    the chrono init", whose built-in keeps it about 51 (the median over its units): no init the
    command sweeps keeps it longer, and the page says so, and which chrono init would."""
    _save_gate_biased(tmp_path / "m.pt", kind, 4.0)
    # at T = 200: at T = 48 (and a GRU's at 100) the curve is read as still filling, or level,
    # and no command is given
    analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", seq_len=200, batch=4)
    code = _code(_section(tmp_path / "run"))
    gates = "forget gates" if kind == "lstm" else "update gates (z)"
    assert code.caption.startswith(
        "No init the command sweeps keeps the state longer than this model's gates do: this "
        f"model's {gates} already keep its state about 56 steps at their biases alone (the "
        "median over its units), where "
    ), code.caption
    assert (
        "keeps it about 4 steps and the built-in chrono (T_max = 100) about 51 steps; the "
        "command sweeps them beside PyTorch's default for comparison only. A chrono init of T_max "
        "above 109 would"
    ) in code.caption
    assert "Try" not in code.caption and "or the chrono init" not in code.caption
    assert "vl.register_init(vl.chrono_init(T_max))" in code.caption
    assert f"--model {kind} --init default,forget_bias,chrono" in code.text
    # the test of learning trained forget_bias and chrono beside these words: it now trains
    # PyTorch's default alone, and says why
    learn = _learn(_section(tmp_path / "run"))
    assert f"--model {kind} --init default --gain 1 " in learn.text, learn.text
    assert "from PyTorch's default init alone, for " in learn.caption, learn.caption
    assert " It trains no gate init: neither forget_bias nor the built-in chrono keeps " in (
        learn.caption
    )


def test_chrono_memory_is_what_a_chrono_init_s_gates_keep():
    # the fact the words rest on: the median over units of 1 + u, u ~ U(1, T_max - 1)
    from vanishlab.sweep.catalog import CHRONO_MEMORY, chrono_memory

    made = torch.nn.LSTM(3, 4000)
    vl.INITS["chrono"].apply(made, 1.0, torch.Generator().manual_seed(0))
    assert CHRONO_MEMORY == chrono_memory(100) == 51
    assert gate_memory_steps(made) == pytest.approx(CHRONO_MEMORY, rel=0.03)
    made = torch.nn.GRU(3, 4000)
    vl.chrono_init(400).apply(made, 1.0, torch.Generator().manual_seed(0))
    assert gate_memory_steps(made) == pytest.approx(chrono_memory(400), rel=0.03)


def _default_gated(root: Path) -> list[Path]:
    """An nn.LSTM and an nn.GRU at PyTorch's default init, analysed at T = 24."""
    out = []
    for kind in ("LSTM", "GRU"):
        torch.manual_seed(0)
        torch.save(getattr(torch.nn, kind)(3, 8).state_dict(), root / f"{kind}.pt")
        analyze_checkpoint(root / f"{kind}.pt", root / kind, seq_len=T, batch=4)
        out.append(root / kind)
    return out


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "relu"])
def test_it_gives_a_test_of_learning_at_the_verdicts_length(runs, name):
    """What to try measured fresh networks' gradients only: no command tested whether a network
    of this kind learns a dependency as long as the verdict's. The trainability sweep now
    trains them at half, once and twice the horizon, from the default init and the one the
    section suggests, and says what it measures and what it costs."""
    rows = vl.load_results(runs[name])
    fits = vl.fit_decay(rows[["source", "layer", "lag", "log10_fro_mean"]])
    horizon = int(fits[fits["source"] == "input"]["horizon"].iloc[0])
    section = _section(runs[name])
    learn = _learn(section)
    assert learn is not None and section.blocks[-1] is learn
    words = shlex.split(learn.text)
    assert words[:3] == ["vanishlab", "sweep", "trainability"]
    options = dict(zip(words[3::2], words[4::2], strict=True))
    lengths = [int(t) for t in options["--seq-len"].split(",")]
    lags = sorted({math.ceil(horizon / 2), horizon, 2 * horizon})
    assert [required_lag("adding", t) for t in lengths] == lags
    assert options["--train-steps"] == str(TRAINABILITY_STEPS)
    model = {"rnn": "rnn", "relu": "rnn", "lstm": "lstm", "gru": "gru"}[name]
    assert options["--model"] == model and options["--gain"] == "1"
    assert (
        options["--init"]
        == {
            "rnn": "default,orthogonal",
            "relu": "default,identity",
            "lstm": "default,forget_bias,chrono",
            "gru": "default,forget_bias,chrono",
        }[name]
    )
    assert options.get("--activation") == {"rnn": "tanh", "relu": "relu"}.get(name)
    assert options["--num-layers"] == ("2" if name == "rnn" else "1")
    assert options["--hidden-size"] == "8"
    assert f"around the {horizon} steps above" in learn.caption
    assert "not these weights" in learn.caption and "s a network" in learn.caption
    n = len(lengths) * len(options["--init"].split(","))
    assert learn.caption.startswith(f"This trains {n} fresh networks of this kind and size")


def test_the_test_of_learning_takes_an_extrapolated_horizon_as_the_verdict_names_it(
    runs, tmp_path, monkeypatch
):
    rows = vl.load_results(runs["gru"])
    slow = rows.copy()
    slow["log10_fro_mean"] = -0.2 * slow["lag"] / LN10  # no 1000-fold fall by lag 23
    section = _section(runs["gru"], slow)
    said = section.intro.split("by about k = ")[1].split(" ")[0]
    assert "(extrapolated, not measured: " in section.intro and said == "35"  # 3 ln 10 / 0.2
    learn = _learn(section)
    assert learn is not None and "around the 35 steps above" in learn.caption
    assert "--seq-len 36,70,140 " in learn.text  # dependencies of 18, 35 and 70 steps
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*shlex.split(learn.text)[1:], "--dry-run"])
    assert result.exit_code == 0, result.output


def test_a_fitted_line_is_continued_to_twice_the_lags_measured(runs):
    """A rate of -0.02 at T = 24 read "on its fitted line it would by about k = 346
    (extrapolated)", 15 times the lags measured, and its test of learning asked for T up to
    1384; its table read 2.0e-3 at k = 300. Lines fitted at T = 50-200 were a median 0.75
    decades off at 4-6 times their lags (benchmarks/extrapolation_rule.py): a line is now
    continued to twice the longest lag measured, and the page says what measures the rest."""
    rows = vl.load_results(runs["gru"])
    slow = rows.copy()
    slow["log10_fro_mean"] = -0.02 * slow["lag"] / LN10
    section = _section(runs["gru"], slow)
    assert section.intro.endswith(
        "has not fallen 1000-fold within the lags measured (up to 23); its fitted line would not "
        "before k = 46, twice the lags measured, as far as a line is continued: analyze a longer "
        "sequence (--seq-len, or a longer --inputs tensor) to see where it does."
    ), section.intro
    assert "346" not in section.intro and "(extrapolated)" not in section.intro
    # no length of dependency named: no test of learning, and more lags first, as a fit too
    # short to extrapolate asks
    assert _learn(section) is None and _code(section) is None
    rows = {r[0].split()[0]: r[1:] for r in _table(section).rows}
    assert rows["30"] == ("~1 (extrapolated)", "~1 (extrapolated)")  # 10^-0.26
    assert rows["100"] == (
        "— (past twice the lags measured: measure with --seq-len 100)",  # the state's lag T
        "— (past twice the lags measured: measure with --seq-len 101)",  # the input's T - 1
    )
    assert rows["300"][1] == "— (past twice the lags measured: measure with --seq-len 301)"


def test_an_extrapolated_factor_reads_as_an_order_of_magnitude():
    """The factors "1.6e-170" and "4.4e-4" claimed two digits of a line that was a median 0.23
    decades off, 18% of the time over 10-fold, at the lags it is continued to."""
    values = (-3000.5, -4.49, -1.51, -0.49, 0.0, 0.5, 1.49, 2.37, 15.6)
    assert [magnitude_text(d) for d in values] == [
        "~10^-3000",
        "~10^-4",
        "~10^-2",
        "~1",
        "~1",
        "~10",
        "~10",
        "~10^2",
        "~10^16",
    ]
    assert magnitude_text(-math.inf) == "0"


def test_the_test_of_learning_stops_at_a_length_that_trains_in_minutes():
    """An extrapolated horizon of ~700 steps gave T = 700, 1400 and 2800: 40 min to 1.5 h of
    training on one core. Past twice the cap the lags are a quarter, half and all of it, and the
    caption says what is tested instead and why; below it nothing changes."""
    assert "--seq-len 14,26,52 " in learn_code("rnn", False, 2, 16, 13).text  # uncapped
    edge = learn_code("lstm", False, 1, 16, 100)  # 2 x 100 = 200: the cap itself
    assert "--seq-len 100,200,400 " in edge.text and "Twice" not in edge.caption
    assert "around the 100 steps above" in edge.caption
    near = learn_code("lstm", False, 1, 16, 150)  # 50, 100, 200 lie around 150
    assert "--seq-len 100,200,400 " in near.text and "around the 150 steps above" in near.caption
    assert "Twice the 150 steps above would ask for T = 600" in near.caption
    assert "not one of 150" not in near.caption
    far = learn_code("gru", False, 1, 16, 700)
    assert "--seq-len 100,200,400 " in far.text
    assert "short of the 700 steps above" in far.caption
    assert "stops at a dependency of 200 steps (T = 400)" in far.caption
    assert "not one of 700. To test 700 steps all the same, give --seq-len 1400" in far.caption


def test_no_test_of_learning_where_the_verdict_names_no_length(runs):
    for name in ("explode", "dead"):
        assert _learn(_section(runs[name])) is None, name


def test_an_rnns_gated_comparison_has_its_own_kind_as_baseline(runs):
    """An nn.RNN's "What to try" swept --model lstm,gru alone: its report set LSTM and GRU side
    by side without the user's own kind, the baseline of the comparison (``sweep gated`` has
    rnn). The comparison now sweeps rnn,lstm,gru at the model's activation, at inits all three
    take (forget_bias and chrono are refused for an rnn cell), and the gate inits in a grid of
    their own."""
    for name, act in (("rnn", "tanh"), ("relu", "relu")):
        code = _code(_section(runs[name]))
        lines = code.text.splitlines()
        kinds = [line for line in lines if "--model rnn,lstm,gru " in line]
        assert len(kinds) == 1, lines
        assert f"--model rnn,lstm,gru --activation {act} --init default,orthogonal " in kinds[0]
        assert any("--model lstm,gru --init default,forget_bias,chrono " in line for line in lines)
        assert "LSTM and GRU beside this kind in one report" in code.caption
        assert code.caption.count("Each command") == 1


def test_the_gain_sweep_it_gives_keeps_the_models_activation(runs):
    # gain_phase sweeps tanh and relu; a tanh model's page gave both, and relu cells that
    # overflow came back as failed cells in the report it pointed to
    tanh = _code(_section(runs["rnn"])).text.splitlines()[0]
    relu = _code(_section(runs["explode"])).text.splitlines()[0]
    assert tanh.startswith("vanishlab sweep gain_phase --activation tanh --num-layers 2 ")
    assert relu.startswith("vanishlab sweep gain_phase --activation relu --num-layers 1 ")


def test_an_exploding_model_is_told_the_opposite(runs):
    section = _section(runs["explode"])
    # 1.2^23 = 66.2; said of the lags measured, not of "long dependencies": a curve can grow
    # over the first steps from a state of 0 alone (an LSTM of forget-gate bias +4: +0.02 to
    # +0.03 per step at T = 50, level over the same lags at T = 400)
    assert (
        "grows with k within the lags measured (up to 23): +0.182 per step on its fitted line "
        "(lags 6 to 23), from ×3.0 at k = 6 to ×66 at k = 23. There a longer dependency gets a "
        "larger gradient, not a smaller one. Longer ones were not measured, and a curve can grow "
        "over a sequence's first steps alone, while the state settles from its start: analyze a "
        "longer sequence "
        "(--seq-len, or a longer --inputs tensor) to see whether it goes on growing."
    ) in section.intro, section.intro
    assert "Long dependencies" not in section.intro
    assert "1000-fold" not in section.intro and "little gradient" not in section.intro
    rows = {r[0].split()[0]: r for r in _table(section).rows}
    assert rows["10"][1] == rows["10"][2] == "6.2 (measured)"  # 1.2^10 = 6.19
    assert rows["30"][2] == "~10^2 (extrapolated)"  # 1.2^30 = 237
    code = _code(section)
    assert code.text.startswith("vanishlab sweep gain_phase") and "smaller recurrent gain" in (
        code.caption
    )
    assert "--clip" in code.caption and "IRNN" not in code.caption


def test_an_exact_zero_is_measured_and_not_extrapolated(runs):
    section = _section(runs["dead"])
    assert section.intro.endswith("k steps back is exactly 0 at every lag: none reaches h_T.")
    for row in _table(section).rows:
        k = int(row[0].split()[0])
        cut = "— (not extrapolated: exactly 0 from lag 1)"
        assert row[1] == ("0 (exact, measured)" if k <= T else cut)
        # the input, 0 from lag 0 on: past its lags it was not measured either
        cut = "— (not extrapolated: exactly 0 from lag 0)"
        assert row[2] == ("0 (exact, measured)" if k < T else cut)
    # an input gradient that decays, then is exactly 0 for some sample from lag 5 on
    rows = vl.load_results(runs["gru"])
    inputs = (rows["source"] == "input").to_numpy()
    cut = rows.copy()
    lag = cut["lag"].to_numpy(dtype=float)
    cut.loc[inputs, "log10_fro_mean"] = (-0.01 * lag)[inputs]
    cut.loc[inputs & (lag >= 5), "log10_fro_mean"] = -math.inf
    section = _section(runs["gru"], cut)
    assert "is exactly 0 for some sample at k = 5, the first lag where one is:" in section.intro
    assert [r[2] for r in _table(section).rows] == [
        "0 (exact, measured)",
        "0 (exact, measured)",
        *["— (not extrapolated: exactly 0 from lag 5)"] * 3,
    ]


def test_a_poor_fit_is_not_extrapolated_and_a_flat_curve_needs_no_fix(runs):
    rows = vl.load_results(runs["gru"])
    bent = rows.copy()
    lag = bent["lag"].to_numpy(dtype=float)
    # A curve falling by 0.3 per step in ln with a large wobble: r² well below 0.9 and no
    # 1000-fold fall within the lags (the summary's "poor-fit" rule)
    bent["log10_fro_mean"] = (-0.06 * lag + 0.9 * (lag % 2)) / LN10
    fits = vl.fit_decay(bent[["source", "layer", "lag", "log10_fro_mean"]])
    assert (fits["r2"] < 0.9).all() and (fits["rate"] <= -0.05).all()  # the premise
    assert fits["horizon"].isna().all()
    section = _section(runs["gru"], bent)
    assert untrusted_fit(fits.iloc[0].to_dict()).startswith("poor fit, r² 0.")
    assert "is not one to extrapolate: analyze a longer sequence" in section.intro
    for row in _table(section).rows:
        if int(row[0].split()[0]) >= T:
            assert row[1].startswith("— (not extrapolated: poor fit, r² 0.")
    # The same wobble at a rate below 0.05 (r² 0.40 and 0.32), which the summary's poor-fit
    # flag leaves out: it was continued to "1000-fold by about k = 269 (extrapolated)" and
    # 1.5e-4 at k = 300, from a line the curve is not
    bent["log10_fro_mean"] = (-0.03 * lag + 0.4 * (lag % 2)) / LN10
    fits = vl.fit_decay(bent[["source", "layer", "lag", "log10_fro_mean"]])
    assert (fits["r2"] < 0.9).all() and (fits["rate"].abs() < 0.05).all()  # the premise
    assert fits["horizon"].isna().all() and (fits["phase"] == "vanishing").all()
    section = _section(runs["gru"], bent)
    assert "(extrapolated)" not in section.intro
    assert "its fit (poor fit, r² 0.32) is not one to extrapolate" in section.intro
    for row in _table(section).rows:
        if int(row[0].split()[0]) >= T:
            assert row[1:] == (
                "— (not extrapolated: poor fit, r² 0.40)",
                "— (not extrapolated: poor fit, r² 0.32)",
            )
    flat = rows.copy()
    flat["log10_fro_mean"] = -0.001 * flat["lag"] / LN10
    section = _section(runs["gru"], flat)
    assert "neither vanishes nor explodes within the lags measured (up to 23)" in section.intro
    # what it measured at the last lag, not "does not limit dependencies up to 23 steps"
    # (a rate of -0.009 is as "stable" and a 90-fold fall over 500 lags)
    assert "it is ×0.98 at k = 23, short of a 1000-fold fall" in section.intro
    assert _code(section) is None  # nothing measured to fix
    assert [r[2] for r in _table(section).rows[2:]] == [
        "~1 (extrapolated)",  # k = 30: 10^-0.013
        "— (past twice the lags measured: measure with --seq-len 101)",
        "— (past twice the lags measured: measure with --seq-len 301)",
    ]


def test_one_step_gives_no_rate_and_no_advice(tmp_path):
    # T = 1: the input has one lag, a window of one point, rate NaN ("undetermined"); it was
    # said to "neither vanish nor explode ... (— per step)" and to limit nothing
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 8).state_dict(), tmp_path / "gru.pt")
    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "run", seq_len=1, batch=2)
    section = _section(tmp_path / "run")
    assert section.intro.endswith(
        "k steps back: too few lags measured to fit a rate; analyze a longer sequence "
        "(--seq-len, or a longer --inputs tensor)."
    )
    assert "neither" not in section.intro and _code(section) is None
    first, *rest = _table(section).rows
    assert first == ("0 (input's longest measured)", "1.0 (measured)", "1.0 (measured)")
    assert [r[2] for r in rest] == ["— (not extrapolated: no rate fitted)"] * 4


def test_a_horizon_needs_no_fitted_rate(tmp_path):
    """A curve whose window holds one lag fits no rate, and its horizon, read off the norms,
    read "—" on the page ("At a glance", the fits table) as if unknown, and the verdict said
    "too few lags measured" though the norms had fallen 1000-fold. It is now given where the
    lags measured tell it: "> 0 steps" for an input of one lag (T = 1), "> 1 step" for its
    state, and a fall at lag 1 is the verdict's horizon."""
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 8).state_dict(), tmp_path / "gru.pt")
    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "one", seq_len=1, batch=2)
    fits = vl.fit_decay(vl.load_results(tmp_path / "one"))
    assert fits["rate"].isna().all() and fits["horizon"].isna().all()  # the premise
    model = next(s for s in _report_of(tmp_path / "one").sections if s.key == "model")
    glance = dict(next(b for b in model.blocks if isinstance(b, KeyValues)).items)
    # "> 1 step" alone was true and said nothing to act on: the cause, and the remedy
    remedy = "analyze a longer sequence (--seq-len, or a longer --inputs tensor)"
    assert (
        glance["horizon, state"] == f"> 1 step (lags 0 to 1 only: too few to fit a rate; {remedy})"
    )
    assert glance["horizon, input"] == f"> 0 steps (lag 0 only: too few to fit a rate; {remedy})"
    fits_table = next(
        b
        for s in _report_of(tmp_path / "one").sections
        if s.key == "fits"
        for b in s.blocks
        if isinstance(b, Table)
    )
    assert "—" not in [r[fits_table.columns.index("horizon")] for r in fits_table.rows]

    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "two", seq_len=2, batch=2)
    rows = vl.load_results(tmp_path / "two")
    inputs = (rows["source"] == "input").to_numpy()
    fallen = rows.copy()
    fallen.loc[inputs & (rows["lag"] == 1).to_numpy(), "log10_fro_mean"] -= 4.0
    fit = vl.fit_decay(fallen[["source", "layer", "lag", "log10_fro_mean"]])
    fit = fit[fit["source"] == "input"].iloc[0]
    assert math.isnan(fit["rate"]) and fit["horizon"] == 1  # the premise
    intro = _section(tmp_path / "two", fallen).intro
    assert "has fallen 1000-fold by k = 1 (from the state: horizon > 2 steps)." in intro, intro
    assert "longer than about 1 step gets little gradient" in intro
    assert "too few lags" not in intro


def test_the_longest_lag_row_names_the_curve_it_ends(tmp_path):
    """The input's last lag is T - 1, the state's T: at T = 100, analyze's default, the row
    "99 (longest measured)" stood above "100 | 1.8e-39 (measured)", the state's lag 100, as if
    nothing past 99 were measured. The row now names the curve whose longest lag it is."""
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 4).state_dict(), tmp_path / "gru.pt")
    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "run", seq_len=30, batch=2)
    rows = {r[0]: r for r in _table(_section(tmp_path / "run")).rows}
    assert list(rows) == ["10", "29 (input's longest measured)", "30", "100", "300"]
    assert rows["30"][1].endswith("(measured)") and rows["30"][2].endswith("(extrapolated)")
    assert not any(k.endswith("(longest measured)") and "'s" not in k for k in rows)


def test_a_line_through_a_few_lags_is_not_extrapolated(tmp_path):
    # T = 3: the input's line is fitted on lags 1-2 (r² = 1 by construction) and was continued
    # to lag 300 (1.6e-170, "extrapolated") and into the verdict's "would fall 1000-fold by
    # about k = 6" (helper 267's review)
    torch.manual_seed(0)
    torch.save(torch.nn.GRU(3, 1).state_dict(), tmp_path / "gru.pt")
    analyze_checkpoint(tmp_path / "gru.pt", tmp_path / "run", seq_len=3, batch=2)
    section = _section(tmp_path / "run")
    fits = vl.fit_decay(vl.load_results(tmp_path / "run"))
    assert (fits["n_points"] < 5).all()  # the premise
    for row in _table(section).rows:
        if int(row[0].split()[0]) >= 3:
            assert "(extrapolated)" not in row[1] + row[2], row
            assert "fitted on " in row[1] + row[2]
    assert "(extrapolated)" not in section.intro
    # its advice is to measure more lags: sweeps at T = 3 (its "What to try", at --seq-len 3)
    # would measure no more than it did
    assert "not one to extrapolate" in section.intro and _code(section) is None


def test_every_command_it_gives_is_one_the_sweep_takes(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [
        line
        for name in runs
        for code in _section(runs[name]).blocks
        if isinstance(code, Code)
        for line in code.text.splitlines()
    ]
    assert len(lines) >= 9 and sum("sweep trainability" in line for line in lines) >= 4
    for line in lines:
        words = shlex.split(line)
        assert words[:2] == ["vanishlab", "sweep"]
        result = CliRunner().invoke(app, [*words[1:], "--dry-run"])
        assert result.exit_code == 0, (line, result.output)
    assert not (tmp_path / "runs").exists()  # --dry-run: nothing written


def test_its_init_comparisons_sweep_the_init_at_gain_1(runs, tmp_path, monkeypatch):
    """The gated and gate-init commands gave no --gain, so they swept the quick grid's 0.5, 1
    and 2 (36 cells on a 2-layer nn.RNN's page) unsaid, while the caption called them
    "PyTorch's default init" (W_hh times the gain: PyTorch's at gain 1 only). Every command
    that compares inits now sweeps gain 1 alone, as the test of learning does; gain_phase and
    an exploding model's gain sweep vary the gain on purpose."""
    monkeypatch.chdir(tmp_path)
    lines = [
        line
        for name in ("rnn", "relu", "lstm", "gru")
        for line in _code(_section(runs[name])).text.splitlines()
        if "gain_phase" not in line
    ]
    assert len(lines) == 7  # 2 + 3 (the IRNN's too) + 1 + 1
    for line in lines:
        result = CliRunner().invoke(app, [*shlex.split(line)[1:], "--dry-run"])
        assert result.exit_code == 0, (line, result.output)
        gains = next(r for r in result.output.splitlines() if r.split()[:1] == ["gain"])
        assert gains.split()[1:] == ["1.0"], (line, gains)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The reviewer's model, a 2-layer nn.RNN(4, 16) (seed 0), analysed at T = 8 and T = 60."""
    root = tmp_path_factory.mktemp("stack")
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(4, 16, num_layers=2).state_dict(), root / "rnn.pt")
    for t in (8, 60):
        analyze_checkpoint(root / "rnn.pt", root / f"t{t}", seq_len=t, batch=4)
    return {t: root / f"t{t}" for t in (8, 60)}


def test_what_to_try_reaches_past_the_verdicts_length(stack, tmp_path, monkeypatch):
    """At T = 8 the verdict named ~12 steps (the input's fitted line), and every command swept
    at --seq-len 8: their reports could show no init reaching past the page's own horizon. They
    now sweep at twice the verdict's length, capped, never below the page's T, and the caption
    says why their T is not the page's."""
    section = _section(stack[8])
    lag = int(section.intro.split("it would by about k = ")[1].split()[0])
    assert lag > 8  # the premise: a horizon past the page's T
    code = _code(section)
    lines = code.text.splitlines()
    assert len(lines) == 3 and all(f"--seq-len {2 * lag} " in line for line in lines), lines
    assert f"T = {2 * lag} is twice the {lag} steps above, not this page's T = 8" in code.caption
    # said once: the advice to set --seq-len sat beside the sentence that says how T was chosen
    assert "set --seq-len to the dependency length you need" not in code.caption
    monkeypatch.chdir(tmp_path)
    for line in lines:
        result = CliRunner().invoke(app, [*shlex.split(line)[1:], "--dry-run"])
        assert result.exit_code == 0, (line, result.output)
    # a page whose T already reaches past twice its horizon keeps its T, and says nothing of it
    longer = _code(_section(stack[60]))
    assert "--seq-len 60 " in longer.text and "not this page's T" not in longer.caption
    assert "set --seq-len to the dependency length you need" in longer.caption
    assert try_seq_len(8, None) == 8 and try_seq_len(100, 13) == 100
    assert try_seq_len(8, 700) == MAX_TRY_SEQ_LEN and try_seq_len(1000, 700) == 1000


def test_the_verdict_says_why_a_stacks_two_horizons_differ(stack, runs):
    """A 2-layer nn.RNN's verdict gave the input's horizon and the top layer's state's (13 and
    9 at analyze's defaults T = 100, B = 8; this run is at T = 60, B = 4) without a word on why
    they differ: the input's gradient passes through layer
    0 too, whose gradient decays at -0.559 per step against the top layer's -0.904, and the
    input's at layer 0's. The table's caption now says so beside its columns, with the fitted
    rates, where they differ notably; a one-layer model's page says nothing of it."""
    fits = vl.fit_decay(vl.load_results(stack[60]))
    rate = {
        (row.source, None if pd.isna(row.layer) else int(row.layer)): row.rate
        for row in fits.itertuples()
    }
    assert rate[("state", 1)] < 1.25 * rate[("input", None)]  # the premise: notably faster
    section = _section(stack[60])
    assert "(from the top layer's state: horizon" in section.intro
    words = (
        " The input's column falls more slowly than the state's because an input's gradient "
        f"also passes through layer 0, where it decays at {rate[('input', None)]:+.3f} per step, "
        f"as the gradient from layer 0's state does{{own}}, against the top layer's "
        f"{rate[('state', 1)]:+.3f}."
    ).replace("-", "−")
    own, inp = f"{rate[('state', 0)]:+.3f}", f"{rate[('input', None)]:+.3f}"
    assert own != inp  # this run: layer 0 reads otherwise, so its rate is given too
    words = words.format(own=f" ({own})".replace("-", "−"))
    # beside the table's columns; the verdict, which the page's top repeats, stays short
    assert _table(section).caption.endswith(words), _table(section).caption
    # At analyze's defaults (T = 100, B = 8: docs/trained.md's numbers) layer 0 reads as the
    # input does, and is not said twice ("at −0.559 per step, as ... does (−0.559)")
    analyze_checkpoint(stack[60].parent / "rnn.pt", stack[60].parent / "t100", seq_len=100)
    caption = _table(_section(stack[60].parent / "t100")).caption
    assert caption.endswith(
        "where it decays at −0.559 per step, as the gradient from layer 0's state does, "
        "against the top layer's −0.904."
    ), caption
    assert "falls more slowly" not in section.intro
    assert abs(rate[("state", 0)] - rate[("input", None)]) < 0.01  # the input's is layer 0's
    for name in ("lstm", "gru", "relu"):
        assert "falls more slowly" not in _table(_section(runs[name])).caption


def test_factor_text_reads_two_digits_at_any_scale():
    assert [factor_text(d) for d in (-3000.5, -4.49, -1.28, 0.0, 1.82, 2.37, 15.6)] == [
        "3.2e-3001",
        "3.2e-5",
        "0.052",
        "1.0",
        "66",
        "230",
        "4.0e+15",
    ]
    assert factor_text(-math.inf) == "0"
    assert LAGS == (10, 30, 100, 300)


def test_each_kind_of_model_gets_folders_of_its_own(runs):
    """Every page's commands wrote --out runs/try-gated, runs/try-learn, ...: the LSTM page's
    test of learning run, then the GRU page's, was refused (its folder held another grid).
    Each command now writes a folder named by the model's kind, activation, layers and size."""
    outs: dict[str, set[str]] = {}
    for name in ("rnn", "lstm", "gru", "relu"):
        for code in _section(runs[name]).blocks:
            if isinstance(code, Code):
                for line in code.text.splitlines():
                    words = shlex.split(line)
                    outs.setdefault(name, set()).add(words[words.index("--out") + 1])
    assert outs["rnn"] == {
        "runs/try-gain-rnn-tanh-2x8",
        "runs/try-gated-rnn-tanh-2x8",
        "runs/try-gates-rnn-tanh-2x8",
        "runs/try-learn-rnn-tanh-2x8",
    }
    assert outs["lstm"] == {"runs/try-gates-lstm-1x8", "runs/try-learn-lstm-1x8"}
    assert "runs/try-irnn-rnn-relu-1x8" in outs["relu"]
    every = [out for name in outs for out in outs[name]]
    assert len(every) == len(set(every))


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The case of the brief: an nn.LSTM(32, 32) of forget-gate bias +4 (seed 0), analysed at
    T = 50, at the T its page asks for and at T = 300, B = 4."""
    root = tmp_path_factory.mktemp("slow")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(32, 32)
    with torch.no_grad():
        lstm.bias_hh_l0[32:64] += 4.0
    torch.save(lstm.state_dict(), root / "lstm.pt")
    for t in (50, 280, 300):
        analyze_checkpoint(root / "lstm.pt", root / f"t{t}", seq_len=t, batch=4)
    return {t: root / f"t{t}" for t in (50, 280, 300)}


def test_a_curve_growing_while_a_slow_gate_fills_asks_for_a_longer_run(slow):
    """An LSTM of forget-gate bias +4 grew at +0.019 per step at T = 50, and its page said "Try
    a smaller recurrent gain and gradient-norm clipping": measured after the state settles,
    the same lags hold level. Its forget gates keep the state ~55 steps at their biases; a run
    under 5 times that now asks for one that long before any change to the model."""
    manifest = vl.load_manifest(slow[50])
    lstm = torch.nn.LSTM(32, 32)
    lstm.load_state_dict(torch.load(manifest["model"]["checkpoint"], weights_only=True))
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0)[32:64].detach().double()
    memory = manifest["model"]["gate_memory_steps"]
    assert memory == pytest.approx(float((1 / (1 - torch.sigmoid(bias))).quantile(0.5)))
    assert round(memory) == 55 and 10 * math.ceil(5 * memory / 10) == 280
    fits = vl.fit_decay(vl.load_results(slow[50]))
    assert (fits["phase"] == "exploding").all()  # the premise: both curves grow
    section = _section(slow[50])
    assert (
        "This run is short against how long the cell keeps its state: its forget gates keep it "
        "for about 55 steps at their biases alone (the median over its units), and T = 50 is "
        "under 5 times that." in section.intro
    ), section.intro
    assert section.intro.endswith("First measure with --seq-len 280, before changing the model."), (
        section.intro
    )
    assert _code(section) is None and _learn(section) is None  # no smaller gain, no clipping
    # measured that long, the curve no longer grows: what the page asked for was enough
    longer = _section(slow[280])
    assert "short against" not in longer.intro and "grows with k" not in longer.intro
    # a GRU's update gate z is the one read; a cell without biases keeps its state 2 steps
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4, num_layers=2)
    with torch.no_grad():
        gru.bias_ih_l1[4:8] += 3.0
    steps = [1 + math.exp(b) for b in (gru.bias_ih_l0 + gru.bias_hh_l0)[4:8].tolist()]
    steps += [1 + math.exp(b) for b in (gru.bias_ih_l1 + gru.bias_hh_l1)[4:8].tolist()]
    assert gate_memory_steps(gru) == pytest.approx(float(torch.tensor(steps).quantile(0.5)))
    assert gate_memory_steps(torch.nn.LSTM(3, 4, bias=False)) == 2.0
    assert gate_memory_steps(torch.nn.RNN(3, 4)) is None


def test_a_growing_verdict_from_a_poor_fit_says_it_is_poor(runs, slow):
    """The slow LSTM's input fit, r² 0.82, still said "grows" as if its line were a straight
    one, and "Try a smaller recurrent gain": a decaying curve's verdict says "its fit (poor fit,
    r² 0.32) is not one to extrapolate" and asks for more lags first. A growing one now too."""
    rows = vl.load_results(runs["gru"])
    bent = rows.copy()
    lag = bent["lag"].to_numpy(dtype=float)
    bent["log10_fro_mean"] = (0.06 * lag + 0.9 * (lag % 2)) / LN10
    fits = vl.fit_decay(bent[["source", "layer", "lag", "log10_fro_mean"]])
    assert (fits["r2"] < 0.9).all() and (fits["phase"] == "exploding").all()  # the premise
    why = untrusted_fit(fits[fits["source"] == "input"].iloc[0].to_dict())
    section = _section(runs["gru"], bent)
    first = factor_text(bent["log10_fro_mean"][lag == 6].iloc[0])
    last = factor_text(bent["log10_fro_mean"][lag == 23].iloc[0])
    assert f"(lags 6 to 23), from ×{first} at k = 6 to ×{last} at " in section.intro
    assert f"at k = 23, though its fit ({why}) is not one to extrapolate. There" in section.intro
    assert why.startswith("poor fit, r² 0.") and _code(section) is None
    # a straight growing line keeps its commands, and says nothing of its fit
    straight = _section(runs["explode"])
    assert "not one to extrapolate" not in straight.intro and _code(straight) is not None
    # the slow LSTM's input, r² 0.82 at T = 50
    assert (
        "(lags 12 to 49), from ×0.36 at k = 12 to ×0.78 at k = 49, though its fit (poor fit, "
        "r² 0.82) is not one"
    ) in _section(slow[50]).intro


def test_a_growing_verdict_names_its_factor_where_its_fitted_line_starts(slow):
    """The slow LSTM's verdict read "grows with k ... +0.019 per step ..., ×0.78 at k = 49": a
    factor below 1 beside "grows". It now names the factor at its fitted line's first lag too,
    each as the table reads its measured lags."""
    rows = vl.load_results(slow[50])
    norms = rows[rows["source"] == "input"].set_index("lag")["log10_fro_mean"]
    start, end = factor_text(norms[12] - norms[0]), factor_text(norms[49] - norms[0])
    assert float(start) < float(end) < 1  # the premise: it grows, and stays below lag 0's
    intro = _section(slow[50]).intro
    assert f"on its fitted line (lags 12 to 49), from ×{start} at k = 12 to ×{end} at k = 49" in (
        intro
    ), intro


def _glance(run: Path, results: pd.DataFrame | None = None) -> dict[str, str]:
    model = next(s for s in _report_of(run, results).sections if s.key == "model")
    return dict(next(b for b in model.blocks if isinstance(b, KeyValues)).items)


def test_at_a_glance_a_curve_read_as_growing_is_not_called_exploding(runs, slow):
    """ "At a glance" read "+0.019 per step (exploding)" for the slow LSTM at T = 50, under a
    verdict that asks for a longer run first (a run short against its gates' memory, an input
    fit of r² 0.82). It now reads as the verdict does; a straight growing line at a run long
    against its gates (relu, W_hh = 1.2 I) is still "exploding"."""
    glance = _glance(slow[50])
    assert glance["decay rate, state"] == "+0.020 per step (growing over the lags measured, T = 50)"
    assert glance["decay rate, input"] == (
        "+0.019 per step (growing over the lags measured, T = 50; poor fit, r² 0.82)"
    )
    assert _glance(runs["explode"])["decay rate, input"] == "+0.182 per step (exploding)"
    # a poor fit alone, of a GRU whose gates keep its state 2 steps (T = 24 is long against it)
    rows = vl.load_results(runs["gru"])
    bent = rows.copy()
    lag = bent["lag"].to_numpy(dtype=float)
    bent["log10_fro_mean"] = (0.06 * lag + 0.9 * (lag % 2)) / LN10
    said = _glance(runs["gru"], bent)["decay rate, input"]
    assert said.startswith(
        "+0.0"
    ) and "(growing over the lags measured, T = 24; poor fit, r² 0." in (said)


def test_a_horizon_on_the_fitted_line_says_how_far_off_such_a_line_is(runs):
    """A horizon from the line continued past the lags read "by about k = 35 (extrapolated)",
    one number, where the table's factors on the same line are an order of magnitude and its
    caption says how far off such lines were. The horizon now says it is not measured, in the
    caption's words, and where a line 10-fold off would put it."""
    rows = vl.load_results(runs["gru"])
    slow = rows.copy()
    slow["log10_fro_mean"] = -0.2 * slow["lag"] / LN10  # no 1000-fold fall by lag 23
    section = _section(runs["gru"], slow)
    # 3 ln 10 / 0.2 = 34.5, and 10-fold is ln 10 / 0.2 = 11.5 lags: 23.0 and 46.1
    assert (
        "on its fitted line, continued past the lags measured, it would by about k = 35 "
        "(extrapolated, not measured: lines continued that far were a median 1.7-fold off the "
        "value measured, 1 in 5 more than 10-fold; 10-fold either way puts it at k = 24 to 47), "
        "and a dependency much longer than that would get little gradient."
    ) in section.intro, section.intro
    assert _table(section).caption.count("1 in 5 more than 10-fold") == 1  # the same words
    # a line 10-fold off sooner than the lags measured is not said to fall there
    steep = rows.copy()
    steep["log10_fro_mean"] = -2.9 * steep["lag"] / 23  # 1000-fold just past lag 23
    assert "by about k = 24 (extrapolated, not measured: " in _section(runs["gru"], steep).intro
    # 23.8 and 7.9 lags a decade: not 16, a lag measured where it had not fallen 1000-fold
    assert "puts it at k = 24 to 32)" in _section(runs["gru"], steep).intro


def test_a_line_read_as_the_state_filling_is_not_extrapolated(runs, slow):
    """The slow LSTM's table read "~1 (extrapolated)" for its state at k = 100 under a verdict
    that calls the curve the state filling from its start: T = 280 measured 0.14 there, the
    line 0.83 decades off. Such a line is no longer continued: its cells say why and which T
    the verdict asks for, in the verdict's words."""
    rows, longer = vl.load_results(slow[50]), vl.load_results(slow[280])
    state = rows[rows["source"] == "state"]
    fit = vl.fit_decay(state[["lag", "log10_fro_mean"]]).iloc[0]
    norms = dict(zip(state["lag"], state["log10_fro_mean"], strict=True))
    line = (fit["intercept"] + fit["rate"] * 100) / LN10 - norms[0]
    settled = longer[longer["source"] == "state"].set_index("lag")["log10_fro_mean"]
    assert line - (settled[100] - settled[0]) > 0.5  # the premise: the line was far off
    section = _section(slow[50])
    cells = {row[0]: row[1:] for row in _table(section).rows}
    said = "— (not extrapolated: the state is still filling; measure with --seq-len 280)"
    assert cells["100"] == (said, said) and cells["300"] == (said, said), cells
    assert "the state is still filling" in section.intro and "--seq-len 280" in section.intro
    # measured that long, the table reads the same lags as measured, and a growing line of an
    # nn.RNN (no gates) is still continued
    settled_cells = {row[0]: row[1:] for row in _table(_section(slow[280])).rows}
    assert all(c.endswith("(measured)") for c in settled_cells["100"]), settled_cells
    explode = {row[0]: row[1:] for row in _table(_section(runs["explode"])).rows}
    assert explode["30"][1].endswith("(extrapolated)"), explode


def _phases(run: Path) -> tuple[dict[str, str], str]:
    fits = next(s for s in _report_of(run).sections if s.key == "fits")
    table = _table(fits)
    phase = table.columns.index("phase")
    return {row[0]: row[phase] for row in table.rows}, table.caption


def test_the_fits_table_reads_a_growing_curves_phase_as_at_a_glance(runs, slow):
    """The slow LSTM's fits table ("Decay rates and horizons") said "exploding" beside "At a
    glance"'s "growing over the lags measured, T = 50": the same decision
    (settling.growing_only) now gives both, in the same words; its caption says what they
    mean. A straight growing line of an nn.RNN is still "exploding", without those words."""
    glance = _glance(slow[50])
    phases, caption = _phases(slow[50])
    assert phases == {
        "state": "growing over the lags measured, T = 50",
        "input": "growing over the lags measured, T = 50; poor fit, r² 0.82",
    }
    assert glance["decay rate, state"] == f"+0.020 per step ({phases['state']})"
    assert glance["decay rate, input"] == f"+0.019 per step ({phases['input']})"
    assert (  # the rule in the monitor's words (settling.growing_only_rule), of its sequence
        "; growing over the lags measured: above +0.01, not read as explosion but, as the page's "
        "verdict reads it, as growing over the sequence's lags alone: where its fit is not one "
        "to extrapolate, or where the sequence is short against how long the gates keep the "
        "state, which still fills from 0 over it" in caption
    ), caption
    phases, caption = _phases(runs["explode"])
    assert phases == {"state": "exploding", "input": "exploding"}
    assert "growing over" not in caption


def test_a_long_run_asked_for_says_how_long_it_would_take(slow):
    """A cell of very slow gates was asked for --seq-len 1990 and more with no word on its
    cost: seconds for the slow LSTM's nn.LSTM(32, 32), but about 3 h for an nn.LSTM(2048, 2048)
    of the same gates at B = 8. Past an hour on one CPU thread by the sweep's estimate
    (cost.cell_cost), the verdict and the table say it; the slow LSTM's 280 is said bare. The
    estimate reads the model's input size (its input Jacobians): nn.LSTM(2048, 2048) was priced
    as one of the sweep's 16 inputs, 1 h 33 min."""
    from vanishlab.report.format import duration
    from vanishlab.sweep.config import CellConfig
    from vanishlab.sweep.cost import cell_cost

    intro = _section(slow[50]).intro
    assert intro.endswith("First measure with --seq-len 280, before changing the model."), intro
    manifest = vl.load_manifest(slow[50])
    rows = vl.load_results(slow[50]).assign(batch=8)

    def page(memory: float, hidden: int) -> Section:
        arch = {**manifest["model"]["architecture"], "hidden_size": hidden, "input_size": hidden}
        model = {**manifest["model"], "gate_memory_steps": memory, "architecture": arch}
        report = build_report(
            rows, vl.load_cells(slow[50]), {**manifest, "model": model}, timestamp="x"
        )
        return next(s for s in report.sections if s.key == KEY)

    big = {"model": "lstm", "hidden_size": 2048, "input_size": 2048, "batch": 8}
    seconds = cell_cost(CellConfig(**big, seq_len=1990))
    assert seconds > 3600 and duration(seconds).endswith(" min")  # the premise: over an hour
    said = (
        f"measure with --seq-len 1990 (about {duration(seconds)} on one CPU thread, by the "
        "sweep's time estimate)"
    )
    slow_gates = page(397.0, 2048)  # a forget-gate bias of +6
    assert slow_gates.intro.endswith(f"First {said}, before changing the model."), slow_gates.intro
    cells = {row[0]: row[1:] for row in _table(slow_gates).rows}
    assert cells["100"][0] == f"— (not extrapolated: the state is still filling; {said})"
    assert page(397.0, 32).intro.endswith("--seq-len 1990, before changing the model.")
    # days past two of them, as the sweep's refusal of a cell says them
    days = cell_cost(CellConfig(**big, seq_len=100000)) / 86400
    assert days > 2  # the premise
    assert f"--seq-len 100000 (about {days:,.0f} days on one CPU thread" in page(2e4, 2048).intro


def test_an_inputs_files_page_asks_for_a_run_analyze_takes_with_it(slow, tmp_path):
    """The slow LSTM analysed on an inputs file of T = 50 was told "First measure with
    --seq-len 280", and its table "measure with --seq-len 280": analyze refuses --seq-len
    beside --inputs, and the file's T is the one measured. Such a page now asks for inputs that
    long, or --seq-len without them; a Gaussian page keeps "--seq-len 280" (above)."""
    torch.manual_seed(1)
    torch.save(torch.randn(50, 4, 32), tmp_path / "x.pt")
    checkpoint = vl.load_manifest(slow[50])["model"]["checkpoint"]
    with pytest.raises(vl.VanishlabError, match="seq_len= has no effect with inputs="):
        analyze_checkpoint(checkpoint, tmp_path / "no", inputs=tmp_path / "x.pt", seq_len=280)
    run = tmp_path / "file"
    analyze_checkpoint(checkpoint, run, inputs=tmp_path / "x.pt")
    said = "measure with inputs of 280 steps or more (--inputs), or with --seq-len 280 without them"
    section = _section(run)
    assert section.intro.endswith(f"First {said}, before changing the model."), section.intro
    cells = {row[0]: row[1:] for row in _table(section).rows}
    assert cells["100"] == (f"— (not extrapolated: the state is still filling; {said})",) * 2
    assert "--seq-len 280" not in section.intro.replace(said, "")


def test_a_run_short_against_its_gates_names_one_gate_memory(slow):
    """The slow LSTM's verdict said its forget gates keep its state "about 55 steps", then
    quoted "an LSTM of forget-gate bias +4 (56 steps) grew at +0.02 to +0.03 per step": two
    numbers for what read as the same model. The verdict now names this model's alone; the
    measurement stays in docs/trained.md."""
    intro = _section(slow[50]).intro
    assert re.findall(r"(\d+) steps", intro) == ["55"], intro
    assert "+0.02 to +0.03" not in intro
    assert (
        "From a state of 0, as here, the state is still filling over these lags, and a curve can "
        "grow over them alone and hold level over the same lags once settled. First measure"
    ) in intro, intro


def test_a_level_verdict_from_a_poor_fit_says_it_is_poor(slow):
    """At T = 300 the slow LSTM's input was "fine": "within the lags measured (up to 299)
    (+0.007 per step)", two parentheses back to back, and nothing of the fit of r² 0.88 that
    its table gives as why it continues no line. The rate now follows a colon, and a poor fit
    is said. Then it said "neither vanishes nor explodes ..., though its fit (poor fit, r² 0.88)
    is not one to extrapolate": a phase read off a line the curve does not follow. It now says
    what was measured, and that the rate does not tell (what to try: nothing, as before)."""
    fits = vl.fit_decay(vl.load_results(slow[300]))
    inp = fits[fits["source"] == "input"].iloc[0].to_dict()
    assert inp["phase"] == "stable" and untrusted_fit(inp) == "poor fit, r² 0.88"  # the premise
    intro = _section(slow[300]).intro
    assert (
        "has not fallen 1000-fold within the lags measured (up to 299): it is ×1.0 at k = 299. "
        "Its fitted rate, +0.007 per step, is not one to read a phase from (poor fit, r² 0.88): "
        "it does not tell whether the gradient vanishes or explodes past these lags. Longer "
        "dependencies"
    ) in intro, intro
    assert ") (" not in intro and "neither vanishes nor explodes" not in intro
    assert intro.count("poor fit") == 1
    assert not any(b.title == "What to try" for b in _section(slow[300]).blocks)


def test_at_a_glance_any_phase_read_from_a_poor_fit_says_so(runs, slow):
    """ "At a glance" said "poor fit, r² ..." of a growing curve alone: the slow LSTM's input at
    T = 300 (r² 0.88) read "+0.007 per step (stable)" while its table continued no line of it
    ("not extrapolated: poor fit, r² 0.88"). Any phase read from a poor fit now says so, in the
    fits table's phase column too; a straight one says nothing of its fit."""
    glance = _glance(slow[300])
    # no phase, as the verdict beside it reads none: it said "(stable; poor fit, r² 0.88)"
    # beside "is not one to read a phase from (poor fit, r² 0.88)"
    assert glance["decay rate, input"] == "+0.007 per step (no phase read: poor fit, r² 0.88)"
    phases, caption = _phases(slow[300])
    assert phases["input"] == "no phase read: poor fit, r² 0.88"
    assert "; no phase read: a rate between those whose fit is not one to read a " in caption
    assert "is not one to read a phase from (poor fit, r² 0.88)" in _section(slow[300]).intro
    assert _glance(runs["explode"])["decay rate, input"] == "+0.182 per step (exploding)"


def _lyapunov(run: Path) -> dict[str, str]:
    section = next(s for s in _report_of(run).sections if s.key == "lyapunov")
    return dict(next(b for b in section.blocks if isinstance(b, KeyValues)).items)


def test_a_perturbations_growth_is_not_extrapolated_while_the_state_fills(slow):
    """The slow LSTM's page at T = 50 said "a perturbation grows 1000-fold in 815 steps
    (extrapolated beyond the 38 steps averaged)" below a verdict that reads its growth as the
    state filling from its start (T = 280 measured λ₁ +0.002). Where the verdict reads the
    state's curve so, the growth is not continued, in the table's words; a run long against
    the gates still continues it."""
    items = _lyapunov(slow[50])
    assert float(items["top Lyapunov exponent λ₁"].split()[0]) > 0  # the premise: it grows
    said = "— (not extrapolated: the state is still filling; measure with --seq-len 280)"
    assert items["a perturbation grows 1000-fold in"] == said, items
    assert said in {cell for row in _table(_section(slow[50])).rows for cell in row}
    settled = _lyapunov(slow[300])["a perturbation grows 1000-fold in"]
    assert settled.endswith(" steps (extrapolated beyond the 225 steps averaged)"), settled


def test_the_curves_figure_reads_a_growing_curve_as_the_verdict_does(runs, slow):
    """The slow LSTM at T = 50: its verdict reads both rising curves as the state still filling
    and asks for T = 280 first, while the curves figure beside it said "a rising one
    explosion" and no more. It now says that these are read as growing over the lags
    measured alone; a curve that explodes (the relu run) is still told as explosion."""

    def caption(run: Path) -> str:
        section = next(s for s in _report_of(run).sections if s.key == "curves")
        return section.blocks[0].caption

    assert (
        "a rising one explosion; the rising curves here (state; input) are read as growing over "
        "the lags measured alone, not as explosion, as the verdict above reads them. Dashed"
        in caption(slow[50])
    ), caption(slow[50])
    for run in (slow[280], runs["explode"], runs["lstm"]):
        assert "a rising one explosion. Dashed" in caption(run), caption(run)


def test_what_to_try_names_the_folder_whose_report_shows_it(runs):
    """The caption ended "vanishlab report DIR shows it", a placeholder for the --out folder
    that the command above it names: it now names that folder, or each command's."""
    lstm, rnn = _code(_section(runs["lstm"])), _code(_section(runs["rnn"]))
    assert lstm.text.endswith("--out runs/try-gates-lstm-1x8")
    assert "not these weights; vanishlab report runs/try-gates-lstm-1x8 shows it." in lstm.caption
    assert len(rnn.text.splitlines()) == 3
    assert "vanishlab report on each command's --out folder shows it." in rnn.caption
    for code in (lstm, rnn):
        assert "DIR" not in code.caption, code.caption


def test_the_lyapunov_items_read_in_plain_numbers(slow):
    """The slow LSTM at T = 280 (λ₁ +0.002) read "+0.002 per step (×1 per step)" above "a
    perturbation grows 1000-fold in 3.38e+03 steps": a factor of one step that said no growth,
    and a count in a float's notation. Both now read as the page's other numbers do."""
    items = _lyapunov(slow[280])
    lyap = float(vl.load_manifest(slow[280])["model"]["lyapunov"])
    assert 0 < lyap < 0.0069  # the premise: it grows, 1000-fold in over 1000 steps
    said = items["top Lyapunov exponent λ₁"]
    assert re.fullmatch(r"\+0\.002 per step \(×1\.00[1-3]0 per step\)", said), said
    assert abs(float(said.split("×")[1].split()[0]) - math.exp(lyap)) < 5e-5
    steps = items["a perturbation grows 1000-fold in"]
    assert re.fullmatch(r"\d,\d{2}0 steps \(extrapolated beyond the 210 steps averaged\)", steps)
    assert abs(float(steps.split()[0].replace(",", "")) / (3 * LN10 / lyap) - 1) < 0.005, steps
    # three significant digits, in plain digits; the factor as before where it is not 1
    from vanishlab.report.format import count_text, factor_per_step

    assert [count_text(v) for v in (14.79, 815.2, 3378.4, 6.91e6, 99.96)] == [
        "14.8",
        "815",
        "3,380",
        "6,910,000",
        "100",
    ]
    assert [factor_per_step(r) for r in (-0.467, 0.202, 0.002, -0.0004, 0.0)] == [
        "0.627",
        "1.22",
        "1.0020",
        "0.99960",
        "1",
    ]


def test_a_curve_that_rises_again_over_its_last_lags_is_said_to_in_the_tables_caption(runs):
    # A trained 2-layer LSTM measured at T = 120 from a state of 0 read its input column 11
    # times higher at k = 119 (the row of the longest lag, 6.7e-3) than at k = 99; at T = 240
    # the same lag read 2.1e-4. The caption said nothing of it, beside a verdict of "little
    # gradient" past its horizon of 84 steps. Here the GRU's input curve falls at 0.2 per
    # step (ln) and its last 4 lags (the sequence's first 4 steps) rise again.
    rows = vl.load_results(runs["gru"])
    inputs = (rows["source"] == "input").to_numpy()
    lag = rows["lag"].to_numpy(dtype=float)
    base = rows.copy()
    base.loc[inputs, "log10_fro_mean"] = (-0.2 * lag / LN10)[inputs]
    assert _late_rise_words(_section(runs["gru"], base)) == []  # falling to the end: none
    risen = base.copy()
    last = T - 1
    # from k = 19 (its least, -1.65 decades) to k = 23: +1.5 decades, 32-fold
    up = inputs & (lag > 19)
    risen.loc[up, "log10_fro_mean"] = (-0.2 * 19 / LN10 + 1.5 * (lag - 19) / 4)[up]
    fits = vl.fit_decay(risen[["source", "layer", "lag", "log10_fro_mean"]])
    assert (fits["rate"] < 0).all()  # the premise: the curve falls on its fitted line
    section = _section(runs["gru"], risen)
    assert _late_rise_words(section) == [
        f"The input's column rises again over its last lags, 32-fold from k = 19 to "
        f"k = {last}. Those lags are the sequence's first steps, where the state is still "
        "leaving its start: the row of the longest lag need not be what a dependency that long "
        "gets later in a sequence (measure with --seq-len 48 to see whether these lags rise "
        "there too)."
    ]
    # a rise under 10-fold is not told, nor is a growing curve's (its verdict says it)
    risen.loc[up, "log10_fro_mean"] = (-0.2 * 19 / LN10 + 0.9 * (lag - 19) / 4)[up]
    assert _late_rise_words(_section(runs["gru"], risen)) == []
    grows = base.copy()
    grows.loc[inputs, "log10_fro_mean"] = (0.05 * lag / LN10)[inputs]
    grows.loc[inputs & (lag > 19), "log10_fro_mean"] += 1.5
    assert _late_rise_words(_section(runs["gru"], grows)) == []


def _late_rise_words(section: Section) -> list[str]:
    return re.findall(r"The \w+'s column rises again.*?there too\)\.", _table(section).caption)
