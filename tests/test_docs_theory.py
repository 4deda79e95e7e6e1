"""The numbers and names docs/theory.md states are the code's: a reader who types them gets them."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

import vanishlab as vl
from vanishlab.sweep.summary_fields import FLAGS, NARROW_LIVE_UNITS

THEORY = (Path(__file__).resolve().parents[1] / "docs" / "theory.md").read_text(encoding="utf-8")
PROSE = " ".join(THEORY.split())  # the page's lines wrap anywhere


def _section(title: str) -> str:
    start = THEORY.index(f"## {title}")
    return THEORY[start : THEORY.index("\n## ", start + 1)]


def test_the_flags_listed_are_the_summary_s_keywords() -> None:
    listed = re.findall(r"^- `([a-z-]+)`", _section("Where theory is not expected to hold"), re.M)
    last = re.findall(r"`([a-z-]+)` \(", _section("Where theory is not expected to hold"))
    assert sorted(set(listed) | set(last)) == sorted(FLAGS)


def test_the_near_critical_range_of_undriven_tanh() -> None:
    lo, hi = map(float, re.search(r"about ([\d.]+) < g < ([\d.]+)", PROSE).groups())
    near = [g for g in np.arange(0.9, 1.6, 0.001) if abs(vl.mean_field("tanh", g).rate) < 0.05]
    assert (round(near[0], 2), round(near[-1], 2)) == (lo, hi)


def test_the_gain_where_relu_diverges_for_each_named_init() -> None:
    sentence = PROSE[PROSE.index("not from gain² ≥ 2 for all") :].split("the cell's note")[0]
    want = {"√2": math.sqrt(2), "√6": math.sqrt(6), "1": 1.0}
    pieces = re.split(r"(√2|√6|\b1) (?:where|for) ", sentence)[1:]
    parts = list(zip(pieces[::2], pieces[1::2], strict=True))
    assert [p[0] for p in parts] == ["√2", "√6", "1"]
    for value, names in parts:
        inits = re.findall(r"`([a-z_]+)`", names)
        assert inits, names  # named as `--init` takes them
        for init in inits:
            assert init in vl.INITS, init  # `xavier` and `kaiming` alone are no init names
            cell = {"activation": "relu", "init": init, "hidden_size": 64, "input_size": 64}
            assert math.isclose(vl.critical_gain(cell), want[value], rel_tol=1e-9), init


def test_the_effective_units_and_the_critical_drive() -> None:
    assert "fewer than 17.5 effective units" in PROSE and round(NARROW_LIVE_UNITS, 1) == 17.5
    saturated = vl.mean_field("tanh", 50.0, 1.0)
    assert "n = 1.0" in PROSE and round(64 * saturated.live_fraction, 1) == 1.0
    assert "mean field's +1.64" in PROSE and round(saturated.rate, 2) == 1.64
    drive = vl.critical_input_var("tanh", 3.0)
    assert "15.1 for tanh at g = 3" in PROSE and round(drive, 1) == 15.1


def test_the_product_of_one_step_factors_counts_lags_from_the_last_state() -> None:
    """theory.md wrote J(k) = ∂h_{T−1}/∂h_{T−1−k} = D_{T−1} W_hh ⋯ D_{T−k} W_hh, counting from
    0 as maths.md does but without saying so, beside the README's and the report's
    ∂h_T/∂h_{T−k} (lag 0 the last state h_T): a student read h_{T−1} as one step before the
    end. The page names the README's states, and its product runs over the k steps after
    h_{T−k}: D_T first, D_{T−k+1} last, and an input row's extra factor is D_{T−k}."""
    text = " ".join(THEORY.split())
    (product,) = re.findall(
        r"J\(k\) = ∂h_(\S+)/∂h_\{(\S+)\} = D_(\S+) W_hh · .*? ⋯ D_\{(\S+)\} W_hh,", text
    )
    assert product == ("T", "T−k", "T", "T−k+1"), product
    (input_row,) = re.findall(r"∂h_(\S+)/∂x_\{(\S+)\} = J\(k\) D_\{(\S+)\} W_ih", text)
    assert input_row == ("T", "T−k", "T−k"), input_row


def test_the_critical_tolerance_is_the_mean_field_s() -> None:
    """CRITICAL_TOLERANCE was given in a code comment only; the page gives it, and why."""
    from vanishlab.analysis.meanfield import CRITICAL_TOLERANCE

    stated = re.search(r"`CRITICAL_TOLERANCE` = ([\d.e-]+) \(", PROSE)
    assert stated and float(stated.group(1)) == CRITICAL_TOLERANCE
    cell = {"activation": "tanh", "init": "normal", "hidden_size": 64, "input_size": 16}
    solved = vl.cell_mean_field({**cell, "gain": vl.critical_gain(cell)})
    assert solved is not None and solved.regime == "critical"
    assert "leave |ln χ₁| near 2e-16" in PROSE and abs(2 * solved.rate) < 1e-15


def test_the_settled_distance_is_the_short_flag_s() -> None:
    """SETTLED_DISTANCE was stated as 0.1 beside its name, but why 0.1 in a code comment only."""
    from vanishlab.analysis.linear import SETTLED_DISTANCE

    short = " ".join(_section("Where theory is not expected to hold").split())
    stated = re.search(r"not within ([\d.]+) of h\* in every unit", short)
    named = re.search(r"`SETTLED_DISTANCE` = ([\d.]+),", short)
    assert stated and named and float(stated.group(1)) == float(named.group(1)) == SETTLED_DISTANCE
    # the slope's bound: |h^2 - h*^2| <= distance * 2 for |h|, |h*| <= 1
    slope = re.search(r"1 − h² is within ([\d.]+) of its value", short)
    assert slope and float(slope.group(1)) == 2 * SETTLED_DISTANCE
    assert f"Within {SETTLED_DISTANCE:g}, tanh's slope" in short
