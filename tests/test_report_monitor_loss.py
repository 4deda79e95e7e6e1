"""The training loss on a monitored run's page (``mon.step(n, loss=...)``): a small figure of the
loss against the step above the gradients' rates, its first and last value, a column of the
steps' table; nothing of it where no recorded step has a loss."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import torch
from _report_run import monitor_report_of, monitor_run
from torch import nn

import vanishlab as vl
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import draw, figure_svg
from vanishlab.report.model import KeyValues, LineGrid, Report, Table
from vanishlab.report.sections.monitor_loss import log_scale, loss_glance
from vanishlab.trained import JacobianMonitor


def _run(out: Path, losses: list, every: int = 1) -> Path:
    return monitor_run(out, losses, every=every)


def _report(run: Path) -> Report:
    return monitor_report_of(run)


def _training(report: Report) -> list:
    return list(next(s for s in report.sections if s.key == "training").blocks)


def _loss_figure(report: Report) -> LineGrid | None:
    found = [b for b in _training(report) if isinstance(b, LineGrid) and b.title == "Training loss"]
    assert len(found) <= 1
    return found[0] if found else None


def test_the_page_draws_the_loss_above_the_rates_and_lists_it(tmp_path):
    """The page showed no loss: a user could not see whether it fell while the gradients
    vanished. Now: a figure above the rates' (the same x axis: every recorded step, step 0
    without a loss a gap), the first and last loss, and a loss column in the steps' table."""
    run = _run(tmp_path / "m", [None, 0.9, 0.7, 0.6, 0.62], every=10)
    report = _report(run)
    blocks = _training(report)
    loss = _loss_figure(report)
    assert loss is not None
    figures = [b for b in blocks if isinstance(b, LineGrid)]
    assert figures[0] is loss and "Decay rates" in figures[1].title  # the loss comes first
    (curve,) = loss.panels[0].curves
    assert curve.x.tolist() == [0, 10, 20, 30, 40]
    assert np.isnan(curve.y[0]) and curve.y[1:].tolist() == [0.9, 0.7, 0.6, 0.62]
    assert not loss.log_y and loss.ylabel == "loss"  # 0.6..0.9: not a decade
    assert loss.x_span == pytest.approx((-2.0, 42.0))  # as the rates' autoscaled axis
    assert "Gaps: no loss given (step 0)." in loss.caption
    glance = next(b for b in blocks if isinstance(b, KeyValues))
    assert glance.items[0] == ("training loss", "0.9 at step 10 → 0.62 at step 40")
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert table.columns[:3] == ("step", "status", "loss") and table.numeric[2]
    assert [r[2] for r in table.rows] == ["—", "0.9", "0.7", "0.6", "0.62"]
    assert "its training loss" in table.caption
    assert all(len(r) == len(table.columns) == len(table.numeric) for r in table.rows)
    svg = figure_svg(loss, "loss")  # and it draws
    assert svg.startswith("<svg")


def test_losses_spanning_decades_are_drawn_on_a_log_scale(tmp_path):
    run = _run(tmp_path / "m", [2.0, 0.5, 0.05, 0.01])
    loss = _loss_figure(_report(run))
    assert loss is not None and loss.log_y and loss.ylabel == "loss (log scale)"
    assert "log scale" in loss.caption
    with pinned():
        (ax,) = [a for a in draw(loss).axes if a.get_visible()]
        assert ax.get_yscale() == "log" and ax.get_ylim()[0] > 0
    assert log_scale(np.array([2.0, math.nan, 0.01, math.inf]))  # NaN, inf set aside
    assert not log_scale(np.array([2.0, 0.0, 0.01]))  # a zero loss: linear
    assert not log_scale(np.array([-1.0, 20.0]))  # a negative one (a log-likelihood): linear
    assert not log_scale(np.array([0.5, 4.0]))  # within a factor 10: linear
    assert not log_scale(np.array([0.5]))


def test_nan_and_infinite_losses_are_gaps_named_in_the_caption(tmp_path):
    run = _run(tmp_path / "m", [1.0, math.nan, 0.8, math.inf, 0.7, math.nan])
    report = _report(run)
    loss = _loss_figure(report)
    assert loss is not None
    (curve,) = loss.panels[0].curves
    assert np.isnan(curve.y[[1, 3, 5]]).all() and curve.y[[0, 2, 4]].tolist() == [1.0, 0.8, 0.7]
    assert "Gaps: a NaN loss (steps 1 and 5); an infinite loss (step 3)." in loss.caption
    (table,) = [b for b in _training(report) if isinstance(b, Table)]
    assert [r[2] for r in table.rows] == ["1.0", "NaN", "0.8", "+∞", "0.7", "NaN"]
    glance = next(b for b in _training(report) if isinstance(b, KeyValues))
    assert glance.items[0] == ("training loss", "1.0 at step 0 → NaN at step 5")
    figure_svg(loss, "loss")  # draws with its gaps


def test_a_page_without_losses_shows_none_of_it(tmp_path):
    """Runs recorded without a loss (or before losses were kept) read as they did: no loss
    figure, item or column, and the same bytes as a page of the run without any record."""
    with_none = _run(tmp_path / "none", [None] * 4)
    report = _report(with_none)
    assert _loss_figure(report) is None
    blocks = _training(report)
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert "loss" not in table.columns and "training loss" not in table.caption
    glance = next(b for b in blocks if isinstance(b, KeyValues))
    assert all(label != "training loss" for label, _ in glance.items)
    html = vl.render_report(with_none, tmp_path / "r.html", timestamp="2024-01-01")
    text = html.read_text()
    assert "Training loss" not in text and "training loss" not in text


def test_the_rendered_page_has_the_loss_figure(tmp_path):
    run = _run(tmp_path / "m", [None, 0.9, math.nan, 0.5])
    text = vl.render_report(run, tmp_path / "r.html", timestamp="2024-01-01").read_text()
    assert "Figure 1. Training loss" in re.sub(r"<[^>]+>", "", text)
    assert "a NaN loss (step 2)" in text and "no loss given (step 0)" in text


def test_failed_last_steps_keep_the_rates_on_the_loss_step_axis(tmp_path):
    """A training that diverged: its last recorded steps failed (NaN weights), their losses
    NaN. The loss figure spanned every recorded step with a margin, -2.5..52.5, while the
    rates' and horizons' below it autoscaled to the steps measured (here stretched to 50 with
    no margin by their ticks at each step; beyond 8 steps, ending at the last one measured: a
    run that failed from step 110 to 200 had its rates end at 100 under a loss to 200). The
    same step sat at another place in each, and the failed steps' gap the rates' caption
    names was off its axis. Now all three span every recorded step."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    with JacobianMonitor(rnn, torch.randn(40, 2, 2), out=tmp_path / "m", every=10) as mon:
        for i, loss in enumerate([0.9, 0.7, 0.6, math.nan, math.nan, math.nan]):
            if i == 3:
                with torch.no_grad():
                    rnn.weight_hh_l0.fill_(math.nan)
            mon.step(10 * i, loss=loss)
    figures = [b for b in _training(_report(tmp_path / "m")) if isinstance(b, LineGrid)]
    assert [f.title.split()[0] for f in figures] == ["Training", "Decay", "Horizons"]
    with pinned():
        spans = [next(a for a in draw(f).axes if a.get_visible()).get_xlim() for f in figures]
    assert spans[0] == pytest.approx((-2.5, 52.5))
    assert spans[1] == pytest.approx(spans[0]) and spans[2] == pytest.approx(spans[0])


@pytest.mark.parametrize("margin", [0.0, 0.2])
def test_the_step_axes_agree_whatever_the_user_s_matplotlib_margin(tmp_path, margin):
    """The shared step axis assumed matplotlib's default margin (axes.xmargin 0.05), which
    the report's settings did not pin: with a user's matplotlibrc (or ``plt.rcParams``) at
    another, the loss's axis (its losses at every step) and the rates' (a failed last step)
    autoscaled each by that margin of its own data, and disagreed (-0.8 to 4.8 against -0.6
    to 4.2 at 0.2), and the page's bytes depended on the user's settings. Now the margin is
    pinned with the report's settings, and the step axis pads by the same one."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    with JacobianMonitor(rnn, torch.randn(8, 2, 2), out=tmp_path / "m") as mon:
        for i, loss in enumerate([1.0, 0.5, 0.2, 0.1, 0.05]):
            if i == 4:
                with torch.no_grad():
                    rnn.weight_hh_l0.fill_(math.nan)
            mon.step(i, loss=loss)
    figures = [b for b in _training(_report(tmp_path / "m")) if isinstance(b, LineGrid)]
    with mpl.rc_context({"axes.xmargin": margin, "axes.ymargin": margin}), pinned():
        spans = [next(a for a in draw(f).axes if a.get_visible()).get_xlim() for f in figures]
    assert spans[0] == pytest.approx((-0.2, 4.2)), spans
    assert all(s == pytest.approx(spans[0]) for s in spans), spans


def test_a_run_whose_losses_are_all_nan_or_inf_draws_no_loss_figure(tmp_path):
    """Every loss NaN or infinite (a training that diverged from its first recorded step): the
    figure was an empty plot with a made-up axis (-0.05 to 0.05). It is left out; the steps'
    table and the first-and-last line still give the losses."""
    run = _run(tmp_path / "m", [math.nan, math.inf, math.nan], every=10)
    report = _report(run)
    assert _loss_figure(report) is None
    blocks = _training(report)
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert [r[2] for r in table.rows] == ["NaN", "+∞", "NaN"]
    glance = next(b for b in blocks if isinstance(b, KeyValues))
    assert glance.items[0] == ("training loss", "NaN at step 0 → NaN at step 20")


def _diverged(out: Path) -> Path:
    """A real training that diverges: SGD, its lr raised from 1e-3 to 1e20 at step 4, so the
    weights go NaN and steps 5 to 7 fail, their losses kept (inf, then NaN)."""
    torch.manual_seed(0)
    rnn, head = nn.RNN(2, 6), nn.Linear(6, 1)
    opt = torch.optim.SGD([*rnn.parameters(), *head.parameters()], lr=1e-3)
    x, y = torch.randn(8, 4, 2), 10 * torch.randn(4, 1)
    with JacobianMonitor(rnn, torch.randn(8, 2, 2), out=out) as mon:
        for n in range(8):
            if n == 4:
                opt.param_groups[0]["lr"] = 1e20
            opt.zero_grad()
            loss = nn.functional.mse_loss(head(rnn(x)[0][-1]), y)
            loss.backward()
            opt.step()
            mon.step(n, loss=loss)
    return out


def test_a_loss_recorded_past_the_last_measured_step_says_so(tmp_path):
    """A diverged training (steps 5 to 7 failed on NaN weights, their losses kept): the line
    read "From step 0 to step 4" above "training loss ... NaN at step 7", a loss inside a span
    it runs beyond. The heading is the measured steps' (the rates'), and the loss says it goes
    past the last of them."""
    run = _diverged(tmp_path / "m")
    cells = vl.load_cells(run)
    assert list(cells["status"]) == ["ok"] * 5 + ["failed"] * 3
    assert math.isnan(cells["loss"].iloc[-1])
    glance = next(b for b in _training(_report(run)) if isinstance(b, KeyValues))
    assert glance.title == "From step 0 to step 4"
    label, text = glance.items[0]
    assert label == "training loss"
    assert text.endswith("→ NaN at step 7 (beyond step 4, the last step measured)"), text


def test_a_loss_inside_the_measured_steps_has_no_note(tmp_path):
    """Losses within the measured steps (step 0 without one): the line as it was."""
    run = _run(tmp_path / "m", [None, 0.9, 0.7, 0.6, 0.62], every=10)
    glance = next(b for b in _training(_report(run)) if isinstance(b, KeyValues))
    assert glance.title == "From step 0 to step 40"
    assert glance.items[0] == ("training loss", "0.9 at step 10 → 0.62 at step 40")


def test_a_loss_before_the_first_measured_step_says_so_too():
    """The other end (a first step that failed, a loss recorded at it), and both ends."""
    steps = pd.DataFrame(
        {"step": [0, 10, 20, 30], "loss": [1.0, 0.5, 0.25, math.nan], "has_loss": [True] * 4}
    )
    assert loss_glance(steps, (10, 30)) == (
        "training loss",
        "1.0 at step 0 → NaN at step 30 (from before step 10, the first step measured)",
    )
    assert loss_glance(steps, (10, 20))[1].endswith("(beyond steps 10 to 20, the steps measured)")
    assert loss_glance(steps, (0, 30))[1] == "1.0 at step 0 → NaN at step 30"


def test_a_run_with_no_step_measured_still_gives_its_first_and_last_loss(tmp_path):
    """Every step failed (the weights NaN from the first): the page had no first-and-last line,
    so a loss that was finite at first showed only in the table. Now it has the loss's line,
    under the loss's own steps."""
    torch.manual_seed(0)
    rnn = nn.RNN(2, 6)
    with JacobianMonitor(rnn, torch.randn(8, 2, 2), out=tmp_path / "m", every=10) as mon:
        with torch.no_grad():
            rnn.weight_hh_l0.fill_(math.nan)
        for i, loss in enumerate([None, 2.0, 1.5, math.nan]):
            mon.step(10 * i, loss=loss)
    glance = next(b for b in _training(_report(tmp_path / "m")) if isinstance(b, KeyValues))
    assert glance.title == "From step 10 to step 30"
    assert glance.items == (("training loss", "2.0 at step 10 → NaN at step 30"),)


def test_the_loss_rates_and_horizons_figures_line_up(tmp_path):
    """The rates' y label, 'rate (natural log per step of lag)', was too long for its one-row
    figure: it reached the top edge, and once broken into two lines it moved the rates' axes
    0.22 in right of the loss's above them. The label fits on one line: the figures' step axes
    start and end at the same inch of the page, one above the other."""
    run = _run(tmp_path / "m", [1.0, 0.5, 0.2, 0.1], every=10)
    figures = [b for b in _training(_report(run)) if isinstance(b, LineGrid)]
    assert len(figures) >= 2, [f.title for f in figures]
    with pinned():
        edges = []
        for f in figures:
            fig = draw(f)
            ax = next(a for a in fig.axes if a.get_visible())
            box = ax.get_position()
            edges.append((box.x0 * fig.get_figwidth(), box.x1 * fig.get_figwidth()))
            assert "\n" not in f.ylabel and "\n" not in fig.texts[-1].get_text()
    assert all(e == pytest.approx(edges[0]) for e in edges), edges


def _panel_edges(svg: str) -> list[tuple[float, float]]:
    """The (left, right) inches of each panel of a figure's SVG: its axes' background patch."""
    found = re.finditer(
        r'<g id="[\w-]*axes_\d+">\s*<g id="[\w-]*patch_\d+">\s*'
        r'<path d="M ([\d.]+) [\d.]+\s*L ([\d.]+)',
        svg,
    )
    return [(float(m[1]) / 72, float(m[2]) / 72) for m in found]


def test_a_loss_widened_by_its_tick_labels_still_lines_up_with_the_rates(tmp_path):
    """A loss that barely moved (0.0029488 to 0.0029485) has tick labels like '0.00294880': its
    figure's left margin grew by 0.31 in for them, and its panel stood that far right of the
    rates' and horizons' below it, the same step at another place in each. The page's figures
    against the step are drawn with one left margin, the widest they need."""
    run = _run(tmp_path / "m", [0.0029488 - 3.5e-8 * i for i in range(10)])
    text = vl.render_report(run, tmp_path / "r.html", timestamp="2024-01-01").read_text()
    n = sum(isinstance(b, LineGrid) for b in _training(_report(run)))  # loss, rates (horizons)
    svgs = re.findall(r'<svg class="fig".*?</svg>', text, re.S)[:n]
    edges = [_panel_edges(s)[0] for s in svgs]
    assert len(edges) >= 2 and edges[0][0] > 1.0, edges  # the loss's wider margin
    assert all(e == pytest.approx(edges[0], abs=0.01) for e in edges), edges
