"""The section "What this means for long dependencies" on a monitored training run's page: the
answer of an analysed model's page (:func:`long_deps_answer`) for the last step measured, a
failed step after it named and not read, and no section where no step was measured."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from _report_run import monitor_report_of
from torch import nn

import vanishlab as vl
from vanishlab.report.model import Code, KeyValues, Report, Section, Table
from vanishlab.report.sections.extrapolation import factor_text
from vanishlab.sweep.section_names import LONG_DEPS
from vanishlab.trained import JacobianMonitor

KEY = "long-dependencies"


def _run(
    out: Path, shrink: float = 0.7, fail_last: bool = False
) -> tuple[Path, nn.RNN, torch.Tensor]:
    """Steps 0, 10, 20, 30 measured, W_hh scaled by ``shrink`` after each (the horizon moves
    unless it is 1); with ``fail_last``, step 40 recorded with a NaN weight (failed). Returns
    the run, a copy of the module as it was at step 30 and the probe."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    probe = torch.randn(40, 2, 2)
    with JacobianMonitor(rnn, probe, out=out, every=10) as mon:
        for n in (0, 10, 20, 30):
            if n:
                with torch.no_grad():
                    rnn.weight_hh_l0.mul_(shrink)
            mon.step(n, loss=1.0 / (n + 1))
        at_30 = nn.RNN(2, 6)
        at_30.load_state_dict(rnn.state_dict())
        if fail_last:
            with torch.no_grad():
                rnn.weight_hh_l0.fill_(math.nan)
            mon.step(40, loss=math.nan)
    return out, at_30, probe


def _report(run: Path) -> Report:
    return monitor_report_of(run)


def _section(report: Report, key: str) -> Section:
    return next(s for s in report.sections if s.key == key)


def test_the_monitor_page_answers_for_its_last_step_near_the_top(tmp_path):
    """The page had no answer to "what does this mean for long dependencies": now the analysed
    model's section, for step 30 (the last), second on the page; its measured factors are the
    step-30 weights' own norms, and its horizon sentence is the "From step" line's."""
    run, at_30, probe = _run(tmp_path / "m")
    report = _report(run)
    assert [s.key for s in report.sections][:3] == ["monitor", KEY, "training"]
    section = _section(report, KEY)
    assert section.title == LONG_DEPS.title
    assert section.intro.startswith(
        "Measured on the probe at step 30, the last step recorded: the gradient from an input "
    ), section.intro
    table, fixes, learn = section.blocks
    assert isinstance(table, Table) and isinstance(fixes, Code) and isinstance(learn, Code)
    assert learn.text.startswith("vanishlab sweep trainability --model rnn --activation tanh ")
    assert "the lags the probe holds" in table.caption and "Over training" in table.caption
    # The step-30 weights measured afresh: the cells at k = 10 and at the longest lag
    fresh = vl.jacobian_norms(at_30, probe)
    log10 = fresh[fresh["source"] == "input"].groupby("lag")["log10_fro"].mean()
    by_k = {r[0]: r[2] for r in table.rows}
    assert by_k["10"] == f"{factor_text(log10[10] - log10[0])} (measured)"
    assert (
        by_k["39 (input's longest measured)"] == f"{factor_text(log10[39] - log10[0])} (measured)"
    )
    # past twice its 39 lags: not continued, and a probe of 101 steps measures it
    assert by_k["100"] == "— (past twice the lags measured: measure with a probe of 101 steps)"
    # The horizon over training, as the "From step 0 to step 30" line has it
    glance = next(b for b in _section(report, "training").blocks if isinstance(b, KeyValues))
    assert glance.title == "From step 0 to step 30"
    first, last = dict(glance.items)["input"].split("horizon ")[1].split(" → ")
    assert first != last
    assert section.intro.endswith(
        f" Over training, the input curve's horizon went from {first} at step 0 to {last} at "
        "step 30."
    ), section.intro


def test_a_failed_last_step_is_named_and_the_last_good_one_read(tmp_path):
    """Step 40 failed (its weights NaN): the section reads step 30, says step 40 failed, and
    its table and commands are those of the same run without step 40."""
    good = _section(_report(_run(tmp_path / "good")[0]), KEY)
    report = _report(_run(tmp_path / "failed", fail_last=True)[0])
    steps = [
        r[:2]
        for r in next(b for b in _section(report, "training").blocks if isinstance(b, Table)).rows
    ]
    assert steps[-1] == ("40", "failed: NaN")
    section = _section(report, KEY)
    assert section.intro.startswith(
        "Measured on the probe at step 30, the last step measured (1 step recorded after it "
        "failed): the gradient from an input "
    ), section.intro
    assert section.intro.split(": ", 1)[1] == good.intro.split(": ", 1)[1]
    assert section.blocks == good.blocks


def test_no_horizon_sentence_where_the_horizon_did_not_move(tmp_path):
    """The weights unchanged over training: the same horizon at every step, no sentence."""
    section = _section(_report(_run(tmp_path / "m", shrink=1.0)[0]), KEY)
    assert "Over training" not in section.intro


def test_a_run_with_no_step_measured_has_no_section(tmp_path):
    """Every step failed: nothing to answer from, and the page builds without the section."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    with JacobianMonitor(rnn, torch.randn(8, 2, 2), out=tmp_path / "m", every=10) as mon:
        with torch.no_grad():
            rnn.weight_hh_l0.fill_(math.nan)
        for n in (0, 10):
            mon.step(n)
    keys = [s.key for s in _report(tmp_path / "m").sections]
    assert keys[0] == "monitor" and KEY not in keys


def test_a_probe_too_short_to_fit_a_rate_is_told_to_the_monitor(tmp_path):
    """The monitor's verdict said "analyze a longer sequence" where its probe was too short to
    fit a rate: no remedy for a training run. It now names the probe."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4)
    with JacobianMonitor(rnn, torch.randn(1, 2, 2), out=tmp_path / "run") as mon:
        mon.step(0, loss=1.0)
    intro = _section(_report(tmp_path / "run"), KEY).intro
    assert intro.endswith(
        "too few lags measured to fit a rate; give JacobianMonitor a longer probe (more time "
        "steps)."
    ), intro
    assert "analyze" not in intro


def _slow_monitor(out: Path, h0: bool = False) -> Path:
    """The slow LSTM of the analysed page's test (nn.LSTM(32, 32), seed 0) monitored on a probe
    of T = 50, B = 4: at step 0 with PyTorch's biases (a gate memory of about 2 steps), at step
    1 with its forget-gate biases raised by 4 (about 55 steps), as a training may raise them."""
    torch.manual_seed(0)
    lstm = nn.LSTM(32, 32)
    probe = torch.randn(50, 4, 32)
    start = (torch.zeros(1, 4, 32), torch.zeros(1, 4, 32)) if h0 else None
    with JacobianMonitor(lstm, probe, out=out, h0=start) as mon:
        mon.step(0)
        with torch.no_grad():
            lstm.bias_hh_l0[32:64] += 4.0
        mon.step(1)
    return out


def test_a_monitors_growing_curve_is_read_against_its_last_steps_gate_memory(tmp_path):
    """A monitor recorded no gate memory, so its page read the slow LSTM's growing curve at
    T = 50 as exploding ("Try a smaller recurrent gain and gradient-norm clipping") where the
    analysed page asks for a run past the state's filling first. Each step now records its
    own (the biases change in training), and the page reads the last step's: a probe of 280
    steps first, and no line continued. From an h0 given the reading does not apply."""
    run = _slow_monitor(tmp_path / "m")
    steps = vl.load_manifest(run)["steps"]
    assert round(steps["0"]["gate_memory_steps"]) == 2  # 1 + e^b, b near 0
    assert round(steps["1"]["gate_memory_steps"]) == 55
    section = _section(_report(run), KEY)
    assert "its forget gates keep it for about 55 steps at their biases alone" in section.intro
    assert (
        "First measure with a probe of 280 steps, before changing the model. Over training"
        in section.intro
    ), section.intro
    table = next(b for b in section.blocks if isinstance(b, Table))
    said = "— (not extrapolated: the state is still filling; measure with a probe of 280 steps)"
    assert dict((r[0], r[1]) for r in table.rows)["100"] == said
    assert not any(isinstance(b, Code) for b in section.blocks)  # no smaller gain yet
    given = _section(_report(_slow_monitor(tmp_path / "h0", h0=True)), KEY)
    assert vl.load_manifest(tmp_path / "h0")["model"]["h0_given"] is True
    assert "short against" not in given.intro and "still filling" not in given.intro


def test_over_training_says_the_verdicts_rule_and_each_steps_phase(tmp_path):
    """The section's intro said "a rate rising through 0 is explosion", where the verdict reads
    the slow LSTM's rising curve at step 1 as its state still filling; and its table of steps
    said no step's phase. The intro now gives the verdict's rule, and the table the phase of
    the curve the verdict reads at each step, in the verdict's words (settling.phase_text)."""
    run = _slow_monitor(tmp_path / "m")
    section = _section(_report(run), "training")
    assert "a rate rising through 0 is explosion, unless " in section.intro
    assert "growing over the probe's lags alone" in section.intro
    table = next(b for b in section.blocks if isinstance(b, Table))
    at = table.columns.index("phase, input")
    assert table.columns[at + 1] == "λ₁"
    phases = {row[0]: row[at] for row in table.rows}
    assert phases["0"] == "vanishing"
    assert phases["1"].startswith("growing over the lags measured, T = 50"), phases
    assert "which the verdict reads" in table.caption
    # The rule in one phrase (settling.growing_only_rule), the intro's and the table's: they
    # said it in two wordings ("its fit not one to extrapolate or the probe short against how
    # long the gates keep the state" in the table), which read as two rules.
    from vanishlab.report.sections.settling import growing_only_rule

    rule = (
        "growing over the probe's lags alone: where its fit is not one to extrapolate, or where "
        "the probe is short against how long the gates keep the state, which still fills from 0 "
        "over it"
    )
    assert growing_only_rule("the probe") == rule
    assert f"would read that step's curve as {rule}. " in section.intro, section.intro
    assert f"not read as explosion but as {rule}" in table.caption, table.caption


def test_the_rates_figure_reads_a_growing_curve_as_its_verdict_does(tmp_path):
    """The slow LSTM's curve at step 1 grows while its state fills (its gates keep it about 55
    steps, the probe has 50): the verdict asked for a probe of 280 steps first, and the rates
    figure's caption beside it said "above it they explode". It now names the step and why."""
    run = _slow_monitor(tmp_path / "m")
    figure = next(
        b for b in _section(_report(run), "training").blocks if b.title.startswith("Decay")
    )
    assert (
        "above it they explode; at step 1, though, a curve above it is read as growing over the "
        "lags measured alone, not as explosion, as What this means for long dependencies reads "
        "such a curve: the probe's 50 steps are under 5 times how long the gates keep the "
        "state, about 55 steps, and from a state of 0 it still fills over them." in figure.caption
    ), figure.caption
    # from an h0 given the gates are not read, and the input's poor fit (r² 0.82) is said
    given = _report(_slow_monitor(tmp_path / "h0", h0=True))
    caption = next(b for b in _section(given, "training").blocks if b.title.startswith("Decay"))
    # (a sentence on the curves drawn wider may follow: test_report_caption_truth)
    assert "reads such a curve: its fit is not one to extrapolate." in caption.caption, (
        caption.caption
    )
    # a page whose curves fall keeps the sentence as it was
    torch.manual_seed(0)
    with JacobianMonitor(nn.LSTM(3, 4), torch.randn(20, 2, 3), out=tmp_path / "f") as mon:
        mon.step(0)
    fall = next(
        b
        for b in _section(_report(tmp_path / "f"), "training").blocks
        if b.title.startswith("Decay")
    )
    assert "above it they explode." in fall.caption and "though" not in fall.caption
