"""Second mutation round on the report (see tests/test_mutants_report.py for the first): the
per-setting fits (report/sections/setting_fits.py), RunView's derived facts (report/view.py),
the heatmaps' colour bar (report/heat_scale.py) and a line panel's axes (report/line_axes.py).
Each test here failed on a hand-made mutant of the code it names, which passed the fast tests
naming that module, and passes on the code as it is; each checks numbers worked by hand.

32 mutants (2026-12-07), each run against the test files naming its module, ``pytest -x -m
"not slow"`` (test_report.py, test_browser.py and test_runs.py left out: minutes each), the
comment above each test naming the ones it kills. Killed before: 3 of the 27 run so (the
median horizon; the x ticks' gap a seventh; RunView.seeds off by one); not run so, for time
(RunView's 12 test files take minutes a mutant on a shared machine): RunView's last 4 and
color_scale's b from -lo.
Killed with this file: 30. The 2 left: RunView.inputs filtered on ``source != "state"``
(equivalent: a run's results hold the sources "input" and "state" only, sweep/cell.py), and
ticks_with_ends' 0 kept where ``lo + clear < 0 < hi - clear`` for ``<=`` (differs only where
0's label clears an end's by exactly 0 of a float computed from the figure's geometry).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest


class _View:
    """What :func:`setting_fits` reads of a RunView: its setting columns and their order."""

    setting_columns = ("gain",)

    def setting_order(self, frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        return frame


def _fits() -> pd.DataFrame:
    """Three settings, fit windows ending at lag 10 but where said. Gain 1: rates -1, -2, -6
    (mean -3, median -2, sd sqrt(7)), windows ending at 10, 8 and 9 (the latest 10), r² 0.9,
    0.95, 1.0. Gain 2: a rate -0.5 and a seed with no rate (NaN: too few lags fitted), 2 seeds
    of which 1 finite. Gain 3: a seed at -inf exactly 0 from lag 3, and rates -0.2 and 0.4;
    phases vanishing, vanishing, exploding."""
    nan, inf = math.nan, math.inf
    return pd.DataFrame(
        {
            "gain": [1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0],
            "rate": [-1.0, -2.0, -6.0, -0.5, nan, -inf, -0.2, 0.4],
            "horizon": pd.array([7, 9, None, None, None, 3, None, None], dtype="Int64"),
            "zero_lag": pd.array([None, None, None, None, None, 3, None, None], dtype="Int64"),
            "lag_start": [1] * 8,
            "lag_end": [10, 8, 9, 10, 10, 10, 10, 10],
            "r2": [0.9, 0.95, 1.0, 0.99, nan, nan, 0.99, 0.99],
            "phase": ["vanishing"] * 4 + ["undetermined"] + ["vanishing"] * 2 + ["exploding"],
        }
    )


# setting_fits: the mean rate over seeds -> the median (-1, -2, -6: -3, not -2); a setting's
# seed count "size" -> "count" (a seed with no rate was not counted); its spread "max" -> "min"
# (hi); a partial -inf "n_zero == n" -> "n_zero > 0" (one seed of three at -inf read -inf);
# zero_from "min" -> "max"; the fitted lags' end "max" -> "min"; the mixed phase's counts in
# rising order ("1 exploding, 2 vanishing").
def test_setting_fits_of_a_hand_worked_case_of_three_settings():
    from vanishlab.report.sections.setting_fits import setting_fits

    one, two, three = setting_fits(_View(), _fits()).to_dict("records")  # type: ignore[arg-type]
    assert one["rate"] == pytest.approx(-3.0) and one["sd"] == pytest.approx(math.sqrt(7))
    assert (one["lo"], one["hi"]) == (-6.0, -1.0)
    assert one["r2"] == pytest.approx(0.95) and one["fit_end"] == 10 and one["horizon"] == 9
    assert (two["n"], two["n_finite"], two["rate"]) == (2, 1, -0.5)
    assert (three["n"], three["n_zero"], three["n_cut"]) == (3, 1, 0)
    assert three["rate"] == pytest.approx(0.1) and three["zero_from"] == 3
    assert three["phase"] == "mixed (2 vanishing, 1 exploding)"


def _results(models: tuple[str, ...] = ("rnn",)) -> pd.DataFrame:
    """A run's results of two layers, lags 0 to 4: gain 1 of seeds 0, 1, 2 and gain 2 of seeds
    0, 1 (five cells a model), each with an input curve (layer null), layer 0's state curve
    falling 0.5 a lag and the top layer's (1) falling 0.25 a lag (rates
    per lag in ln: 0.25 ln 10)."""
    rows = []
    cells = [(g, s) for g, n in ((1.0, 3), (2.0, 2)) for s in range(n)]
    for m in models:
        for g, s in cells:
            cell = f"{m}-{g}-{s}"
            curves = (("input", None, -1.0), ("state", 0, -0.5), ("state", 1, -0.25))
            for source, layer, slope in curves:
                for lag in range(5):
                    rows.append((m, 2, g, s, cell, source, layer, lag, slope * lag))
    cols = ["model", "num_layers", "gain", "seed", "cell_id", "source", "layer", "lag"]
    frame = pd.DataFrame(rows, columns=[*cols, "log10_fro_mean"])
    frame["layer"] = frame["layer"].astype("Int64")
    return frame


def _view(results: pd.DataFrame):
    from vanishlab.report.view import RunView

    cells = results.drop_duplicates("cell_id").drop(columns=["source", "layer", "lag"])
    cells = cells.drop(columns=["log10_fro_mean"]).assign(status="ok")
    return RunView(results, cells, {})


# RunView.top_state / top_fits: the top layer "num_layers - 1" -> layer 0; without a
# num_layers column, the deepest layer "max" -> "min"; seeds, the most any setting has
# (gain 1's 3), "max" -> "min" (2) or off by one (4); inputs and input_fits filtered on
# "state".
def test_run_view_s_top_layer_seeds_and_inputs_of_a_hand_built_run():
    view = _view(_results())
    assert view.seeds == 3 and view.over_seeds() == "mean over seeds"
    top = view.top_state
    assert len(top) == 5 * 5 and set(top["layer"]) == {1} and set(top["source"]) == {"state"}
    assert set(view.top_fits["layer"]) == {1} and len(view.top_fits) == 5
    assert view.top_fits["rate"].to_numpy() == pytest.approx([-0.25 * math.log(10)] * 5)
    assert len(view.inputs) == 5 * 5 and set(view.inputs["source"]) == {"input"}
    assert len(view.input_fits) == 5
    assert view.input_fits["rate"].to_numpy() == pytest.approx([-math.log(10)] * 5)
    flat = _view(_results().drop(columns=["num_layers"]))
    assert set(flat.top_state["layer"]) == {1} and len(flat.top_state) == 25


# RunView.gated "not in RNN_THEORY_MODELS" -> "in" (a mixed run's captions named "RNN" as
# the model without theory); models_measured of a frame without "model" (an older run's:
# nn.RNN cells) -> none.
def test_run_view_names_the_gated_models_measured():
    view = _view(_results(("rnn", "lstm", "gru")))
    assert view.models_measured == ["RNN", "LSTM", "GRU"] and view.gated == "LSTM and GRU"
    assert view.lstm
    assert _view(_results(("rnn",))).gated == ""
    assert _view(_results().drop(columns=["model"])).models_measured == ["RNN"]


def _bar(values: list[float], height: float = 4.0):
    """A colour bar of :func:`color_scale` fitted to ``values``, beside a figure ``height`` in
    tall, its ticks set by :func:`ticks_with_ends` with 0 as the white point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable

    from vanishlab.report.heat_scale import color_scale, ticks_with_ends

    fig, ax = plt.subplots(figsize=(4.0, height))
    cmap, norm = color_scale([np.array(values)], center_zero=True)
    bar = fig.colorbar(ScalarMappable(norm, cmap), ax=ax)
    ticks_with_ends(bar, white_zero=True)
    ticks = [float(t) for t in bar.get_ticks()]
    labels = [t.get_text() for t in bar.ax.get_yticklabels()]
    plt.close(fig)
    return ticks, labels


# heat_scale.ticks_with_ends: the ends' digits "2 - floor(log10 span)" -> "1 - ..." (-66.3 read
# "−66"); an end that is whole written with decimals too ("4.0"); round ticks kept within a
# tenth of the bar only, not a label's height, of an end (on a short bar, a label over the
# end's: 0.8 beside 0.9).
def test_a_colour_bar_s_ends_and_round_ticks_of_hand_worked_spans():
    ticks, labels = _bar([-66.3, -20.0, 4.0])
    # span 70.5: ends to 1 decimal; 0 kept (white); -60 within a tenth (7.05) of -66.3: dropped
    assert ticks == [-66.3, -50.0, -40.0, -30.0, -20.0, -10.0, 0.0, 4.0]
    assert labels[0] == "−66.3" and labels[-1] == "4" and labels[-2] == "0"
    # a bar about 1.5 in tall over 0..0.9: a label's height (1.25 x 10 pt) is a little more
    # than 0.1 of the data; 0.8, a tenth of the bar (0.09) from the end but 0.1 from it, dropped
    ticks, _ = _bar([0.0, 0.9], height=2.0)
    assert ticks == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.9])


# heat_scale.color_scale: "lim = max(-lo, hi)" -> "min" (the bar's blue end past the map's);
# b from the wrong side ("-lo" for "hi": -10..5 drawn 5 as deep red as -10 is blue); all
# values <= 0 up to exactly 0, "hi <= 0" -> "hi < 0" (a red half from 0 to 0).
def test_the_colour_map_is_the_part_of_the_diverging_map_the_data_reach():
    import matplotlib as mpl

    from vanishlab.report.heat_scale import CMAP, color_scale

    full = mpl.colormaps[CMAP]
    cmap, norm = color_scale([np.array([-10.0, 5.0])], center_zero=True)
    assert (norm.vmin, norm.vmax) == (-10.0, 5.0)
    assert cmap(0.0) == full(0.0) and cmap(1.0) == full(0.75)  # 5 of 10: three quarters up
    cmap, norm = color_scale([np.array([-3.0, 0.0])], center_zero=True)
    assert (norm.vmin, norm.vmax) == (-3.0, 0.0)
    assert cmap(0.0) == full(0.0) and cmap(1.0) == full(0.5)


# line_axes.set_y_limits: the floor rows' room "/ (1 - room)" left out (the rows took 6.1 %
# of the panel, not 6.5 %) and FLOOR_BASE left out; the y_span set, not held (1.05 cut).
def test_y_limits_make_room_for_floor_rows_and_hold_the_span():
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vanishlab.report.line_axes import FLOOR_BASE, FLOOR_STEP, set_y_limits

    fig, ax = plt.subplots()
    ax.set_ylim(0.0, 1.0)
    set_y_limits(ax, SimpleNamespace(log_y=False, y_span=None), 1)  # type: ignore[arg-type]
    lo, hi = ax.get_ylim()
    assert (FLOOR_BASE, FLOOR_STEP) == (0.025, 0.04) and hi == 1.0
    assert lo == pytest.approx(-0.065 / 0.935) and -lo / (hi - lo) == pytest.approx(0.065)
    ax.set_ylim(0.95, 1.05)
    set_y_limits(ax, SimpleNamespace(log_y=False, y_span=(0.0, 1.0)), 0)  # type: ignore[arg-type]
    assert ax.get_ylim() == pytest.approx((0.0, 1.05))
    plt.close(fig)


# line_axes.x_ticks: "len(xs) <= FEW_X" -> "<" (8 gains thinned to 4); the ends not chosen
# first (0..9 lost its 9); the gap a seventh of the range, not a sixth (ticks 1 apart of a
# range 7); set_x_ticks' one x widened by 0.05 not 0.5; readable_span's pad 5 % of |mid|, not
# of at least 1 (a flat curve at 0.1 drawn over 0.095..0.105).
def test_x_ticks_and_limits_of_hand_worked_xs():
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vanishlab.report.line_axes import FEW_X, MAX_X_TICKS, readable_span, set_x_ticks, x_ticks

    assert (FEW_X, MAX_X_TICKS) == (8, 6)
    assert list(x_ticks(np.arange(8.0), [])) == list(range(8))
    assert list(x_ticks(np.arange(10.0), [])) == [0, 2, 4, 6, 9]  # gap 1.5, the ends first
    uneven = np.array([0, 1, 2, 3, 4, 5, 6, 6.5, 7])
    assert list(x_ticks(uneven, [])) == [0, 2, 4, 7]  # gap 7/6 > 1
    fig, ax = plt.subplots()
    ax.set_xlim(4.99, 5.01)
    curve = SimpleNamespace(x=np.array([5.0]), reference=False, dotted=False)
    grid = SimpleNamespace(x_span=None, markers=False, x_marks=())
    set_x_ticks(ax, SimpleNamespace(curves=[curve]), grid)  # type: ignore[arg-type]
    assert ax.get_xlim() == pytest.approx((4.5, 5.5)) and list(ax.get_xticks()) == [5.0]
    plt.close(fig)
    lo, hi = readable_span(0.1, 0.1 + 1e-12)
    assert (lo, hi) == pytest.approx((0.05, 0.15))
