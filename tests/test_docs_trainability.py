"""The numbers docs/trainability.md states of the code are the code's: the training loop's
defaults, the default grid of ``vanishlab sweep trainability`` and the mean-field rates the
page sets beside that grid's fits."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

from vanishlab.sweep.experiments import load_experiment
from vanishlab.sweep.prediction import cell_mean_field
from vanishlab.train import train_cell

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "trainability.md").read_text(encoding="utf-8")
PROSE = " ".join(PAGE.split())  # the page's lines wrap anywhere


def test_the_loops_defaults_are_train_cells() -> None:
    """The page's "Defaults:" line is the signature's (optimizer "adam", written Adam)."""
    said = re.search(
        r"Defaults: steps (\S+), lr (\S+), Adam, clip (\S+), batch (\S+), eval_batch (\S+), "
        r"eval_points (\S+), solve_fraction ([\d.]+)\.",
        PROSE,
    )
    assert said, "the Defaults line moved: update this test"
    defaults = {k: p.default for k, p in inspect.signature(train_cell).parameters.items()}
    assert defaults["optimizer"] == "adam"
    names = ("steps", "lr", "clip", "batch", "eval_batch", "eval_points", "solve_fraction")
    for i, name in enumerate(names, start=1):
        assert float(said.group(i).rstrip(",")) == defaults[name], name


def test_the_default_grid_and_its_mean_field_rates_are_the_experiment_s() -> None:
    """The page describes the sweep's default grid and quotes ½ ln χ₁ for its four settings
    with a mean field (``normal`` at gains 0.5 and 1, tanh and relu) beside the rates fitted
    there. The rates are the mean field's at the experiment's ``input_std`` (0.41, the adding
    inputs' r.m.s.); a change of either, or of the mean field, moved them with no test."""
    sweep = load_experiment("trainability").sweep
    grid = re.search(
        r"\*\*The default grid through the sweep\*\* \(`vanishlab sweep trainability`\): tanh "
        r"and relu, `normal` and `identity`, gains ([\d.]+) and ([\d.]+), T ∈ \{([\d, ]+)\}, "
        r"H = (\d+), (\d+) Adam steps at lr 1e-2, clip 1, seed 0; measured at init on (\d+) "
        r"adding sequences\. (\d+) cells;",
        PROSE,
    )
    assert grid, "the default grid's sentence moved: update this test"
    cells = sweep.cells()
    assert len(cells) == int(grid.group(7))
    assert sorted({c.gain for c in cells}) == [float(grid.group(1)), float(grid.group(2))]
    assert sorted({c.seq_len for c in cells}) == [int(t) for t in grid.group(3).split(", ")]
    assert {(c.hidden_size, c.train_steps, c.batch) for c in cells} == {
        (int(grid.group(4)), int(grid.group(5)), int(grid.group(6)))
    }
    assert {(c.activation, c.init) for c in cells} == {
        (a, i) for a in ("tanh", "relu") for i in ("normal", "identity")
    }
    assert {(c.task, c.lr, c.clip, c.seed) for c in cells} == {("adding", 0.01, 1.0, 0)}

    std = re.search(r"The mean field is told the adding inputs' r\.m\.s\. \(([\d.]+)\)", PROSE)
    assert std and {c.input_std for c in cells} == {float(std.group(1))}
    assert f"{math.sqrt(1 / 6):.2f}" == std.group(1)  # "√(1/6) ≈ 0.41 as T grows"
    said = re.findall(
        r"([−\d.]+) against (?:a fitted )?[−\d.]+ to [−\d.]+ \((tanh|relu) `normal` ([\d.]+)",
        PROSE,
    )
    assert len(said) == 4, said
    for rate, activation, gain in said:
        (cell,) = {
            c
            for c in cells
            if (c.activation, c.init, c.gain, c.seq_len) == (activation, "normal", float(gain), 80)
        }
        mf = cell_mean_field(cell)
        assert mf is not None
        assert f"{0.5 * math.log(mf.chi_1):.3f}" == rate.replace("−", "-"), (activation, gain)
