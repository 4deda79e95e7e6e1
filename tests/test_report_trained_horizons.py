"""A horizon beyond the lags measured, on a trained model's pages: the monitor's steps table,
its first-and-last line and its figure, and the single-model page, say it as the sweep's
tables do ("> n", n the last lag measured), where the steps table said "none" beside a
figure that drew the same horizon at the last lag with a caret (a lower bound)."""

from __future__ import annotations

from pathlib import Path

import torch

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import KeyValues, LineGrid, Report, Table
from vanishlab.trained import analyze_checkpoint


def _report(run: Path) -> Report:
    return build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )


def _blocks(report: Report, key: str, kind: type) -> list:
    (section,) = [s for s in report.sections if s.key == key]
    return [b for b in section.blocks if isinstance(b, kind)]


def _identity_rnn() -> torch.nn.RNN:
    """An IRNN whose units are all active on inputs in [0, 1): dh_T/dh_t = I at every lag, so
    no norm ever falls 1000-fold."""
    rnn = torch.nn.RNN(2, 4, nonlinearity="relu", bias=False)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.eye(4))
        rnn.weight_ih_l0.copy_(torch.full((4, 2), 0.5))
    return rnn


def test_a_monitored_horizon_beyond_the_probe_reads_as_a_lower_bound(tmp_path):
    rnn = _identity_rnn()
    out = tmp_path / "run"
    with vl.JacobianMonitor(rnn, torch.rand(8, 2, 2), out=out, every=1) as mon:
        mon.step(0)  # beyond the probe's lags: state 0..8, input 0..7
        with torch.no_grad():
            rnn.weight_hh_l0.mul_(0.3)
        mon.step(1)  # a horizon of 6
    report = _report(out)
    (table,) = _blocks(report, "training", Table)
    column = {name: i for i, name in enumerate(table.columns)}
    first, second = table.rows
    assert (first[column["horizon, state"]], first[column["horizon, input"]]) == ("> 8", "> 7")
    assert (second[column["horizon, state"]], second[column["horizon, input"]]) == ("6", "6")
    assert "'> n' when the norm never fell" in table.caption and "'none'" not in table.caption
    # The figure draws those horizons at the same last lags, marked as lower bounds.
    figure = next(b for b in _blocks(report, "training", LineGrid) if b.title.startswith("Hor"))
    for curve, last in zip(figure.panels[0].curves, (8.0, 7.0), strict=True):
        assert curve.at_least_x.tolist() == [0.0] and curve.y[0] == last, curve.label
    (glance,) = _blocks(report, "training", KeyValues)
    assert dict(glance.items)["state"].endswith("horizon > 8 → 6")


def test_a_single_models_horizon_beyond_its_lags_reads_as_a_lower_bound(tmp_path):
    rnn = _identity_rnn()
    torch.save(rnn.state_dict(), tmp_path / "irnn.pt")
    run = tmp_path / "run"
    inputs = torch.rand(8, 2, 2)
    torch.save(inputs, tmp_path / "x.pt")
    analyze_checkpoint(tmp_path / "irnn.pt", run, nonlinearity="relu", inputs=tmp_path / "x.pt")
    report = _report(run)
    glance = dict(_blocks(report, "model", KeyValues)[0].items)
    assert (glance["horizon, state"], glance["horizon, input"]) == ("> 8 steps", "> 7 steps")
    (table,) = _blocks(report, "fits", Table)
    horizons = {row[0]: row[table.columns.index("horizon")] for row in table.rows}
    assert horizons == {"state": "> 8", "input": "> 7"}
    assert "'> n': it never is by lag n, the last measured" in table.caption
