"""The monitor page's loss beside the task's chance level (helper 396).

A monitored training's page drew its loss with nothing to read it against: the example's tanh
nn.RNN on the adding problem ended 200 steps at 0.1489, which says "learned nothing" only to a
reader who knows the adding problem's chance level, 1/6. ``JacobianMonitor(...,
chance_loss=...)`` now keeps it in the manifest (``examples/monitor_adding.py`` passes
``AddingProblem(T).chance_loss``), and the page draws it dashed beside the loss and gives it
after the first and last loss. Without it, the page cannot know the task, and says nothing of
a chance level, as before.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from _report_run import monitor_report_of, monitor_run
from torch import nn

import vanishlab as vl
from vanishlab.core import training_facts
from vanishlab.report.model import KeyValues, LineGrid, Report
from vanishlab.report.sections import monitor_loss
from vanishlab.sweep import manifest as manifest_module
from vanishlab.train import AddingProblem
from vanishlab.trained import JacobianMonitor, step_args


def _run(out: Path, chance: object = None, losses: tuple[float, ...] = (0.2, 0.17, 0.1)) -> Path:
    return monitor_run(out, losses, chance=chance)


def _report(run: Path) -> Report:
    return monitor_report_of(run)


def _blocks(report: Report) -> list:
    return list(next(s for s in report.sections if s.key == "training").blocks)


def _loss_figure(report: Report) -> LineGrid:
    return next(
        b for b in _blocks(report) if isinstance(b, LineGrid) and b.title == "Training loss"
    )


def _glance(report: Report) -> str:
    values = next(b for b in _blocks(report) if isinstance(b, KeyValues))
    return dict(values.items)["training loss"]


def test_a_chance_level_given_to_the_monitor_is_drawn_and_said(tmp_path: Path) -> None:
    chance = AddingProblem(50).chance_loss
    run = _run(tmp_path / "run", chance)
    assert vl.load_manifest(run)["model"]["chance_loss"] == pytest.approx(1 / 6)
    report = _report(run)
    figure = _loss_figure(report)
    (panel,) = figure.panels
    references = [c for c in panel.curves if c.reference]
    assert len(references) == 1 and references[0].label == "chance level"
    assert list(references[0].y) == pytest.approx([1 / 6, 1 / 6])
    assert list(references[0].x) == [0.0, 2.0]  # across every recorded step
    assert "Dashed: the task's chance level, 0.1667" in figure.caption
    assert figure.line_label == "training loss"
    assert _glance(report).endswith(" (chance 0.1667)"), _glance(report)


def test_without_one_the_page_says_nothing_of_a_chance_level(tmp_path: Path) -> None:
    report = _report(_run(tmp_path / "run"))
    figure = _loss_figure(report)
    assert not any(c.reference for p in figure.panels for c in p.curves)
    assert "chance" not in figure.caption and "chance" not in _glance(report)


def test_a_reopened_run_keeps_its_chance_level(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", 0.5)
    _run(run, None, (0.2, 0.17, 0.1, 0.05))  # the same module and probe, one more step
    assert vl.load_manifest(run)["model"]["chance_loss"] == 0.5


def test_a_reopened_run_given_another_chance_level_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """It replaced the run's own without a word, and the steps recorded before were drawn
    against the new one. Refused as another ``every`` is: one line, nothing written."""
    run = _run(tmp_path / "run", 1 / 6)
    before = (run / "manifest.json").read_bytes()
    shards = sorted(p.name for p in (run / "cells").iterdir())
    with pytest.raises(vl.VanishlabError) as refused:
        _run(run, 0.5, (0.2, 0.17, 0.1, 0.05))
    assert str(refused.value) == (
        f"{run} was monitored with chance_loss=0.16666666666666666, not 0.5: pass "
        "chance_loss=0.16666666666666666 (or none) to go on with it, or give out= a new or "
        "empty directory"
    )
    assert (run / "manifest.json").read_bytes() == before
    assert sorted(p.name for p in (run / "cells").iterdir()) == shards
    # the same level again goes on (1/6 as the task computes it), and keeps the run's
    _run(run, AddingProblem(50).chance_loss, (0.2, 0.17, 0.1, 0.05))
    manifest = vl.load_manifest(run)
    assert manifest["model"]["chance_loss"] == 1 / 6 and len(manifest["steps"]) == 4


def test_a_reopened_run_that_had_no_chance_level_takes_the_one_given(tmp_path: Path) -> None:
    """Nothing is replaced: the level the run did not know is recorded."""
    run = _run(tmp_path / "run")
    _run(run, 0.5, (0.2, 0.17, 0.1, 0.05))
    assert vl.load_manifest(run)["model"]["chance_loss"] == 0.5


@pytest.mark.parametrize(
    ("bad", "error"),
    [(True, TypeError), ("0.17", TypeError), (0.0, ValueError), (-1, ValueError),
     (math.nan, ValueError), (math.inf, ValueError),
     pytest.param(10**400, ValueError, id="10**400")],
)  # fmt: skip
def test_a_chance_level_that_is_no_loss_is_refused(tmp_path: Path, bad: object, error) -> None:
    """10**400, an integer too large for a float, was an OverflowError from float()."""
    with pytest.raises(error, match=r"^chance_loss must be "):
        JacobianMonitor(nn.RNN(2, 4), torch.randn(5, 2, 2), out=tmp_path / "run", chance_loss=bad)
    assert not (tmp_path / "run").exists()


def test_a_hand_edited_chance_level_is_refused_in_one_line(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", 1 / 6)
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model"]["chance_loss"] = -1
    path.write_text(json.dumps(manifest))
    with pytest.raises(vl.VanishlabError, match="'model' 'chance_loss' must be a finite number"):
        vl.load_manifest(run)


# One rule of a chance level (core/training_facts.py's chance_level), which the monitor, the
# manifest's check and the page each wrote for itself: the monitor's float() of 10**400 raised
# OverflowError where the manifest's check refused it, and the page's chance_of let it through
# its range test to float(), an OverflowError too.
RULE_CASES = [1 / 6, 1, 0.5, 0, -1, 0.0, math.nan, math.inf, -math.inf, True, False, "0.5",
              "abc", [0.5], {"a": 1}, 10**400, None]  # fmt: skip


@pytest.mark.filterwarnings("ignore::vanishlab.errors.ManifestChangedWarning")  # edits it
def test_the_monitor_its_manifest_and_its_page_read_one_rule_of_a_chance_level(
    tmp_path: Path,
) -> None:
    rule = training_facts.chance_level
    assert step_args.chance_level is manifest_module.chance_level is monitor_loss.chance_level
    assert step_args.chance_level is rule
    run = _run(tmp_path / "run", 1 / 6)
    path = run / "manifest.json"
    written = json.loads(path.read_text())
    for value in [*RULE_CASES, np.float32(0.25), np.int64(3), np.float64(-2.0)]:
        level = rule(value)
        assert monitor_loss.chance_of({"chance_loss": value}) == level, value
        if value is None:
            assert step_args.chance_number(value) is None
        elif level is None:
            with pytest.raises((TypeError, ValueError), match=r"^chance_loss must be "):
                step_args.chance_number(value)
        else:
            assert step_args.chance_number(value) == level and level > 0, value
        if isinstance(value, np.generic):
            continue  # no JSON value
        written["model"]["chance_loss"] = value
        path.write_text(json.dumps(written))
        if value is None or level is not None:
            assert vl.load_manifest(run)["model"]["chance_loss"] == value
        else:
            with pytest.raises(vl.VanishlabError, match="'model' 'chance_loss' must be a finite"):
                vl.load_manifest(run)
