"""A measurement of one sample (batch 1) has no spread to draw: its decay curves' captions said
"the band is ±1 standard deviation across the cell's (the probe's) samples" where no band was
drawn. A sweep of one seed at batch 1, a model analysed on one sequence and a monitor's probe
of one sequence now say that there is none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import LineGrid, Report
from vanishlab.trained import analyze_checkpoint


def _report(run: Path) -> Report:
    return build_report(
        vl.load_results(run), vl.load_cells(run), vl.load_manifest(run), timestamp="2024-01-01"
    )


def _grids(report: Report, *keys: str) -> list[LineGrid]:
    return [
        b for s in report.sections if s.key in keys for b in s.blocks if isinstance(b, LineGrid)
    ]


def _bandless(grids: list[LineGrid]) -> bool:
    curves = [c for g in grids for p in g.panels for c in p.curves if c.lo is not None]
    return bool(curves) and all(np.array_equal(c.lo, c.hi) for c in curves)


def test_a_sweep_of_one_sample_says_its_curves_have_no_band(tmp_path):
    runs = {}
    for batch in (1, 2):
        runs[batch] = tmp_path / f"b{batch}"
        grid = vl.Sweep(gain=(0.5, 1.0), hidden_size=4, input_size=2, seq_len=6, batch=batch)
        vl.run_sweep(grid, runs[batch], workers=1, progress=False)
    grids = _grids(_report(runs[1]), "decay", "input")
    assert len(grids) == 2 and _bandless(grids)
    for g in grids:
        assert "one seed of one sample (batch 1): no band." in g.caption
        assert "standard deviation" not in g.caption
    for g in _grids(_report(runs[2]), "decay", "input"):  # two samples: a band, said
        assert "the band is ±1 standard deviation across the cell's samples." in g.caption


def test_a_model_analysed_on_one_sequence_says_its_curves_have_no_band(tmp_path):
    torch.manual_seed(0)
    torch.save(torch.nn.RNN(3, 8, num_layers=2).state_dict(), tmp_path / "rnn.pt")
    analyze_checkpoint(tmp_path / "rnn.pt", tmp_path / "run", seq_len=12, batch=1)
    (grid,) = _grids(_report(tmp_path / "run"), "curves")
    assert _bandless([grid])
    assert "of the one sample (batch 1): no band." in grid.caption
    assert "standard deviation" not in grid.caption


def test_a_monitor_of_a_one_sequence_probe_says_its_curves_have_no_band(tmp_path):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 8)
    with vl.JacobianMonitor(rnn, torch.randn(10, 1, 3), out=tmp_path / "run", every=1) as mon:
        for n in range(3):
            with torch.no_grad():
                rnn.weight_hh_l0.mul_(0.9)
            mon.step(n)
    (grid,) = _grids(_report(tmp_path / "run"), "curves-steps")
    assert _bandless([grid])
    assert "the probe is one sample: no band." in grid.caption
    assert "standard deviation" not in grid.caption
