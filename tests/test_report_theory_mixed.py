"""A setting whose seeds are predicted by different theories is shown as such.

An undriven cell with biases (input_std 0) is predicted at the fixed point its state settles
at, ln ρ(D* W_hh); a seed whose state settles at no stable fixed point has the mean field in its
place. So one setting's seeds can have both: tanh, default init, gain 2, H = 64, seeds 0-7 had
6 at the fixed point and 2 by the mean field. The theory table named the first seed's kind
("linear") beside the mean of both kinds' predictions (-0.055), and the gain figure drew one
kind's line through that mean (or the mean field's curve over every gain of a line where any
seed had it). Now the table counts each kind, the figure draws each kind's line only where it
predicts some seed (the linear point the mean of its own seeds), and both captions say so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import vanishlab as vl
from vanishlab.report import build_report, predicted
from vanishlab.report.model import Table
from vanishlab.report.predicted import by_setting
from vanishlab.report.sections.theory import _theory_table, predicted_line
from vanishlab.report.view import RunView

# The table caption's words on a mixed row (theory.MIXED_TABLE_NOTE).
MIXED_WORDS = "its theory cell counts the seeds of each, its predicted rate is the mean"

# Per gain: each seed's (predicted_by, predicted_rate, measured rate).
LINEAR_15 = [("linear", -0.10, -0.11), ("linear", -0.12, -0.12)] * 2
MIXED_20 = [("linear", -0.08, -0.07)] * 6 + [("mean field", -0.0096, 0.01)] * 2


def _view(seeds: dict[float, list[tuple[str, float, float]]]) -> RunView:
    """A synthetic run of tanh, default init, H = 64: one setting per gain."""
    cells, summary, results = [], [], []
    for gain, rows in seeds.items():
        for seed, (by, pred, rate) in enumerate(rows):
            cell = {"gain": gain, "seed": seed, "cell_id": f"{gain}-{seed}"}
            cells.append(cell | {"status": "ok", "reason": None, "elapsed_s": 0.1})
            summary.append(
                {
                    **cell,
                    "activation": "tanh",
                    "init": "default",
                    "hidden_size": 64,
                    "input_size": 16,
                    "num_layers": 1,
                    "input_std": 0.0,
                    "bias": True,
                    "status": "ok",
                    "rate": rate,
                    "delta_rate": rate - pred,
                    "lag_start": 25,
                    "lag_end": 99,
                    "lyapunov": rate,
                    "predicted_rate": pred,
                    "predicted_by": by,
                    "mf_validity": "valid",
                    "pascanu_slope": 0.5,
                    "mf_critical_gain": math.nan,
                    "flag": "",
                    "note": "",
                }
            )
            results.append(cell | {"source": "state", "layer": 0, "lag": 0, "log10_fro_mean": 0.0})
    frames = [pd.DataFrame(f) for f in (results, cells, summary)]
    return RunView(frames[0], frames[1], {"axes": {"gain": list(seeds)}}, summary=frames[2])


def test_a_mixed_settings_kinds_are_counted_and_each_kinds_mean_kept():
    # Defect: by_setting took the first seed's kind for the setting ("linear").
    s = by_setting(_view({1.5: LINEAR_15, 2.0: MIXED_20})).set_index("gain")
    assert s.loc[1.5, "predicted_by"] == "linear"
    assert s.loc[2.0, "predicted_by"] == "mixed"
    assert (s.loc[2.0, "n_linear"], s.loc[2.0, "n_mean_field"], s.loc[2.0, "n_none"]) == (6, 2, 0)
    # The predicted rate stays the mean of each seed's own; each kind's mean is its seeds'.
    assert s.loc[2.0, "predicted"] == pytest.approx((6 * -0.08 + 2 * -0.0096) / 8)
    assert s.loc[2.0, "predicted_linear"] == pytest.approx(-0.08)
    assert s.loc[2.0, "predicted_mean_field"] == pytest.approx(-0.0096)
    assert (
        predicted.kinds_of(pd.Series([by for by, *_ in MIXED_20]))
        == "linear (6 of 8 seeds), mean field (2)"
    )
    assert predicted.kinds_of(pd.Series(["linear"] * 3)) == "linear"


def test_the_theory_table_names_both_kinds_of_a_mixed_setting_and_says_what_its_numbers_are():
    # Defect: the row read "linear" beside -0.055, the mean of 6 linear and 2 mean-field seeds.
    view = _view({1.5: LINEAR_15, 2.0: MIXED_20})
    table = _theory_table(view, by_setting(view))
    col = table.columns.index("theory")
    kinds = {row[0]: row[col] for row in table.rows}
    assert kinds == {"1.5": "linear", "2.0": "linear (6 of 8 seeds), mean\u00a0field (2)"}
    assert MIXED_WORDS in table.caption
    # Measured − predicted stays per seed: the mean of each seed's difference from its own.
    delta = {row[0]: row[table.columns.index("measured − predicted")] for row in table.rows}
    assert delta["2.0"].startswith("+0.0")  # (6 × 0.01 + 2 × 0.0196) / 8 = +0.012
    unmixed = _theory_table(_view({1.5: LINEAR_15}), by_setting(_view({1.5: LINEAR_15})))
    assert MIXED_WORDS not in unmixed.caption


def test_the_gain_figure_draws_each_kind_only_where_it_predicts_some_seed():
    # Defect: one line per kind for the whole line: a linear line through the mixed mean
    # (-0.058 here), or the mean field's curve over every gain where any seed had it.
    view = _view({1.0: LINEAR_15, 1.5: LINEAR_15, 2.0: MIXED_20})
    rows = by_setting(view).sort_values("gain")
    curves = {c.label: c for c in predicted_line(rows, 0)}
    mf = curves["predicted: mean field, ½ ln χ₁"]
    assert list(mf.x[np.isfinite(mf.x)]) == [2.0]  # a lone point at the mixed gain, no further
    assert np.isfinite(mf.y).all()
    linear = curves["predicted: linear regime, ln ρ(D* W_hh)"]
    assert list(linear.x) == [1.0, 1.5, 2.0]
    assert linear.y[2] == pytest.approx(-0.08)  # the linear seeds' own, not the mixed mean
    # A line of mean-field settings alone keeps its one smooth curve over all its gains.
    only_mf = _view({1.0: [("mean field", -0.3, -0.3)] * 2, 2.0: [("mean field", 0.0, 0.0)] * 2})
    (curve,) = predicted_line(by_setting(only_mf).sort_values("gain"), 0)
    assert curve.label == "predicted: mean field, ½ ln χ₁" and len(curve.x) == 25


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_real_undriven_run_with_mixed_seeds_reads_the_same_in_table_and_summary(tmp_path):
    # tanh, default init, gain 2, H = 64, no input, biases, seeds 0-7: 6 settle at a fixed
    # point and 2 at none (on the CPUs this was written on); the table's theory cell counts
    # what the summary rows say, whatever the counts are where this runs.
    run = tmp_path / "run"
    sweep = vl.Sweep(
        activation="tanh",
        init="default",
        gain=(1.5, 2.0),
        hidden_size=64,
        input_std=0.0,
        bias=True,
        seed=range(8),
    )
    vl.run_sweep(sweep, run, workers=1, progress=False)
    summary = vl.summarize(run)
    at2 = summary[summary["gain"] == 2.0]["predicted_by"]
    if at2.nunique() < 2:
        pytest.skip(f"gain 2's seeds are all {at2.iloc[0]} on this CPU")
    report = build_report(
        vl.load_results(run),
        vl.load_cells(run),
        vl.load_manifest(run),
        timestamp="2024-01-01",
        sections=["theory"],  # the section alone: it reads no other (no view.shows)
    )
    section = next(s for s in report.sections if s.key == "theory")
    table = next(b for b in section.blocks if isinstance(b, Table) and "by setting" in b.title)
    row = next(r for r in table.rows if r[0] == "2.0")
    assert row[table.columns.index("theory")] == predicted.kinds_of(at2).replace(
        " field", "\u00a0field"
    )
    assert row[table.columns.index("predicted")] == vl.report.format.rate_text(
        summary[summary["gain"] == 2.0]["predicted_rate"].mean()
    )


def test_the_decay_overlay_of_a_mixed_setting_is_named_as_the_mean_of_both_kinds():
    # Defect: the segment, the mean of every seed's prediction, was named by the first seed's
    # kind ("predicted: linear regime, ln ρ(D* W_hh)").
    from vanishlab.report.model import Curve

    overlay = predicted.decay_overlay(_view({2.0: MIXED_20}))
    lags = np.arange(100.0)
    segment = overlay({"gain": 2.0}, Curve("measured", 0, lags, -0.03 * lags))
    assert segment is not None
    assert segment.label == "predicted: mean of the seeds' own, ln ρ(D* W_hh) or ½ ln χ₁"
    unmixed = predicted.decay_overlay(_view({1.5: LINEAR_15}))
    same = unmixed({"gain": 1.5}, Curve("measured", 0, lags, -0.03 * lags))
    assert same is not None and same.label == "predicted: linear regime, ln ρ(D* W_hh)"
