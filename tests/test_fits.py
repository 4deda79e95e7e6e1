"""fit_decay on curves whose rate, horizon and phase are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import vanishlab as vl
from vanishlab.analysis.fits import default_window, fitted_end, horizon_at_zero, phase_of


def line_frame(slopes: dict[int, float], lags: int = 41, intercept: float = 0.5) -> pd.DataFrame:
    rows = [
        {"sample": s, "source": "state", "layer": 0, "lag": k, "log10_fro": intercept + b * k}
        for s, b in slopes.items()
        for k in range(lags)
    ]
    frame = pd.DataFrame(rows)
    frame["layer"] = frame["layer"].astype("Int64")
    return frame


def test_r2_of_an_exact_line_is_at_most_1() -> None:
    """r2 = sxy^2 / (sxx syy) read 1.0000000000000004 for exact lines (a relu RNN with
    W_hh = 0.9 I, every unit on): a value above 1 that no fit can have."""
    slopes = {i: math.log10(a) for i, a in enumerate((0.9, 0.5, 0.3, 0.99, 1.1, 0.7))}
    for lags, intercept in ((9, 0.0), (9, 1.5), (21, 0.238560627), (101, 0.0)):
        r2 = vl.fit_decay(line_frame(slopes, lags, intercept))["r2"].to_numpy()
        assert (r2 <= 1.0).all(), r2
        np.testing.assert_allclose(r2, 1.0, rtol=1e-12)
    assert (vl.fit_decay(line_frame(slopes, 9, 0.0), by="layer")["r2_mean"] <= 1.0).all()


def test_rate_is_the_natural_log_slope() -> None:
    fits = vl.fit_decay(line_frame({0: -0.1, 1: 0.0, 2: 0.05}))
    np.testing.assert_allclose(
        fits["rate"], [-0.1 * math.log(10), 0.0, 0.05 * math.log(10)], atol=1e-12
    )
    np.testing.assert_allclose(fits["intercept"], 0.5 * math.log(10), atol=1e-12)
    np.testing.assert_allclose(fits["r2"], 1.0)
    assert list(fits["phase"]) == ["vanishing", "stable", "exploding"]
    assert (fits["lag_start"] == 10).all() and (fits["lag_end"] == 40).all()
    assert (fits["n_points"] == 31).all()
    # horizon: 3 decades below lag 0 at slope -0.1 per lag -> lag 30; never for the others
    assert fits["horizon"].iloc[0] == 30
    assert fits["horizon"].iloc[1:].isna().all()


def test_window_skips_a_transient() -> None:
    frame = line_frame({0: -0.2})
    frame.loc[frame["lag"] < 5, "log10_fro"] = 3.0  # a flat transient before the decay
    default = vl.fit_decay(frame)
    assert default["rate"].iloc[0] == pytest.approx(-0.2 * math.log(10))
    everything = vl.fit_decay(frame, window=(0, None))
    assert everything["rate"].iloc[0] != pytest.approx(-0.2 * math.log(10))
    assert everything["r2"].iloc[0] < 1
    part = vl.fit_decay(frame, window=(5, 20))
    assert part["rate"].iloc[0] == pytest.approx(-0.2 * math.log(10))
    assert (part["lag_start"].iloc[0], part["lag_end"].iloc[0]) == (5, 20)


def test_sweep_frames_group_by_config() -> None:
    frame = line_frame({0: -0.1, 1: -0.3}).rename(columns={"log10_fro": "log10_fro_mean"})
    frame = frame.drop(columns="sample").assign(
        cell_id=np.where(frame["sample"] == 0, "a", "b"),
        gain=np.where(frame["sample"] == 0, 0.5, 2.0),
    )
    frame["log10_fro_std"] = 0.1
    frame["n_zero"] = 0
    fits = vl.fit_decay(frame)
    assert list(fits["cell_id"]) == ["a", "b"]
    assert "log10_fro_std" not in fits.columns and "n_zero" not in fits.columns
    np.testing.assert_allclose(fits["rate"], [-0.1 * math.log(10), -0.3 * math.log(10)])


def test_phase_threshold_and_windows() -> None:
    assert phase_of(-0.011) == "vanishing"
    assert phase_of(-0.009) == "stable"
    assert phase_of(0.02) == "exploding"
    assert default_window(40) == (10, 40)
    assert default_window(2) == (1, 2)
    assert default_window(0) == (0, 0)


def test_the_phase_and_window_at_their_edges() -> None:
    """A rate of exactly -/+ PHASE_TOLERANCE is "stable" (vanishing is below it, exploding
    above); the window starts at round(K / 4), not its floor (K = 51: lag 13, not 12)."""
    assert phase_of(-0.01) == phase_of(0.01) == "stable"
    assert default_window(51) == (13, 51)
    assert default_window(7) == (2, 7)
    assert vl.fit_decay(line_frame({0: -0.1}, lags=52))["lag_start"].iloc[0] == 13


def test_a_zero_before_the_window_is_not_in_the_note() -> None:
    """A zero that non-zero lags follow is named in the note as left out of the fit only
    when it lies in the window: one before it (lag 3, the window starting at 10) is in no fit."""
    frame = line_frame({0: -0.1}, lags=41)
    frame.loc[frame["lag"] == 3, "log10_fro"] = -np.inf
    fits = vl.fit_decay(frame)
    assert fits["note"].iloc[0] == "" and fits["n_points"].iloc[0] == 31


def test_a_fit_cut_by_a_zero_at_its_last_lag_ends_the_lag_before() -> None:
    """fitted_end: a zero at lag_end itself leaves the fit ending one lag before it."""
    assert list(fitted_end([-0.1, -0.1, -math.inf], [10, 10, 10], [10, 11, 10])) == [9, 10, 10]


def test_too_short_a_curve_is_undetermined_with_a_note() -> None:
    fits = vl.fit_decay(line_frame({0: -0.1}, lags=1))
    assert fits["phase"].iloc[0] == "undetermined"
    assert "fewer than 2" in fits["note"].iloc[0]


def test_unknown_norm() -> None:
    with pytest.raises(ValueError, match="norm must be"):
        vl.fit_decay(line_frame({0: 0.0}), norm="nuclear")
    with pytest.raises(ValueError, match="no log10_spec"):
        vl.fit_decay(line_frame({0: 0.0}), norm="spec")


@pytest.mark.parametrize("by", [None, "layer"])
def test_what_is_not_a_frame_of_norms_is_named(by) -> None:
    """A tensor (vl.jacobian_log_norms' result) or a list failed inside pandas with an
    AttributeError; a frame without lags with a KeyError."""
    for wrong in (torch.randn(5), [1.0, 2.0]):
        with pytest.raises(TypeError, match=r"frame must be a pandas\.DataFrame"):
            vl.fit_decay(wrong, by=by)
    with pytest.raises(ValueError, match="no lag column"):
        vl.fit_decay(line_frame({0: 0.0}).drop(columns="lag"), by=by)


@pytest.mark.parametrize("by", [None, "layer"])
def test_a_lag_twice_in_one_curve_is_refused(by) -> None:
    """Two modules' frames concatenated (pd.concat of two vl.jacobian_norms) were fitted as
    one curve per sample with every lag twice: a rate between the two, n_points doubled, the
    horizon read from one of them, all in silence."""
    slow, fast = line_frame({0: -0.01, 1: -0.01}), line_frame({0: -0.2, 1: -0.2})
    both = pd.concat([slow, fast], ignore_index=True)
    with pytest.raises(ValueError, match=r"lag 0 more than once .*sample=0.*tells them apart"):
        vl.fit_decay(both, by=by)
    curves = vl.fit_decay(pd.concat([slow.assign(model="a"), fast.assign(model="b")]), by=by)
    assert len(curves) == (4 if by is None else 1)  # a column that tells them apart: taken
    single = vl.origin_log_norms(torch.eye(3) * 0.5, 10)  # no key column at all
    with pytest.raises(ValueError, match=r"lag 0 more than once in the frame's one curve"):
        vl.fit_decay(pd.concat([single, single]), by=None)


def test_a_zero_at_the_last_lag_does_not_hide_the_decay_before_it() -> None:
    """A flat curve whose h0 Jacobian (lag T) is exactly zero: rate 0 before the zero."""
    frame = line_frame({0: 0.0, 1: -0.1})
    frame.loc[frame["lag"] == 40, "log10_fro"] = -np.inf
    fits = vl.fit_decay(frame)
    np.testing.assert_allclose(fits["rate"], [0.0, -0.1 * math.log(10)], atol=1e-12)
    assert list(fits["zero_lag"]) == [40, 40]
    assert list(fits["phase"]) == ["stable", "vanishing"]
    assert fits["note"].str.contains("exact zero Jacobian from lag 40 on; rate fitted").all()
    assert (fits["n_points"] == 30).all()


def test_a_zero_that_non_zero_lags_follow_is_only_left_out() -> None:
    """In a stack a zero at one lag (a lower layer's units all off at one step) can be
    followed by non-zero lags: it was taken as "zero from there on", and the rate was -inf
    or fitted on the lags before it."""
    frame = line_frame({0: -0.1, 1: -0.1}, lags=41)
    frame.loc[frame["lag"] == 15, "log10_fro"] = -np.inf  # both curves, non-zero after it
    frame.loc[(frame["sample"] == 1) & (frame["lag"] >= 35), "log10_fro"] = -np.inf  # cut
    fits = vl.fit_decay(frame)
    np.testing.assert_allclose(fits["rate"], [-0.1 * math.log(10)] * 2, rtol=1e-12)
    assert list(fits["zero_lag"].astype(object)) == [pd.NA, 35]
    assert list(fits["n_points"]) == [30, 24]  # lags 10..40 and 10..34, without lag 15
    assert fits["note"][0] == (
        "exact zero Jacobian at lag 15, non-zero again after it: left out of the fit"
    )
    assert fits["note"][1].endswith("; exact zero Jacobian from lag 35 on; rate fitted before it")
    assert list(fits["phase"]) == ["vanishing", "vanishing"]
    # Too few points left: said beside the zeros (the zeros' note replaced it).
    sparse = line_frame({0: -0.1}, lags=41)
    sparse.loc[sparse["lag"].between(10, 39), "log10_fro"] = -np.inf
    (note,) = vl.fit_decay(sparse)["note"]
    assert note == (
        "exact zero Jacobian at lag 10 and 29 more, non-zero again after it: left out of the "
        "fit; fewer than 2 finite points in the window"
    )


def test_by_aggregates_the_samples_of_each_curve() -> None:
    # Three samples of one layer with known slopes: mean, spread and extremes are exact.
    slopes = {0: -0.1, 1: -0.05, 2: -0.03}
    a = line_frame(slopes)
    b = line_frame({0: 0.02, 1: 0.02, 2: 0.02}).assign(layer=1)
    b["layer"] = b["layer"].astype("Int64")
    frame = pd.concat([a, b], ignore_index=True)
    per_curve = vl.fit_decay(frame)
    agg = vl.fit_decay(frame, by=("source", "layer"))
    assert list(agg.columns[:2]) == ["source", "layer"] and len(agg) == 2
    rates = np.array(list(slopes.values())) * math.log(10)
    row = agg.iloc[0]
    assert row["n_curves"] == 3 and row["layer"] == 0
    assert row["rate_mean"] == pytest.approx(rates.mean(), abs=1e-12)
    assert row["rate_std"] == pytest.approx(rates.std(), abs=1e-12)
    assert row["rate_min"] == pytest.approx(rates.min()) and row["rate_max"] == pytest.approx(
        rates.max()
    )
    assert row["phase"] == "vanishing" and row["n_zero"] == 0
    assert agg.iloc[1]["rate_std"] == pytest.approx(0.0, abs=1e-12)
    assert agg.iloc[1]["phase"] == "exploding"
    # A string names one column; the mean agrees with averaging the per-curve fits by hand.
    by_layer = vl.fit_decay(frame, by="layer")
    np.testing.assert_allclose(
        by_layer["rate_mean"], per_curve.groupby("layer")["rate"].mean().to_numpy(), atol=1e-12
    )
    with pytest.raises(ValueError, match="by must name key columns"):
        vl.fit_decay(frame, by="rate")


@pytest.mark.parametrize("by", [None, "layer"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_nan_or_inf_norm_is_refused(by, bad) -> None:
    """A NaN or +inf log-norm (a user's own frame) was left out of the fit in silence: the
    rate of the other lags, n_points one short, an empty note. vl.jacobian_norms gives finite
    values or -inf (an exact zero), which are taken."""
    frame = line_frame({0: -0.1, 1: -0.1})
    frame.loc[(frame["sample"] == 1) & (frame["lag"] == 12), "log10_fro"] = bad
    with pytest.raises(ValueError, match=rf"log10_fro holds {bad} at lag 12 of the curve sample=1"):
        vl.fit_decay(frame, by=by)
    frame.loc[(frame["sample"] == 1) & (frame["lag"] == 12), "log10_fro"] = -math.inf
    assert vl.fit_decay(frame)["n_points"].tolist() == [31, 30]


@pytest.mark.parametrize("by", [None, "layer"])
@pytest.mark.parametrize(
    ("lag", "shown"),
    [(12.5, "12.5"), (math.nan, "nan"), (-3, "-3"), (1e20, "100000000000000000000")],
)
def test_a_lag_that_is_no_whole_number_from_0_is_refused(by, lag, shown) -> None:
    """A lag of 12.5 was cut to 12 (and fitted as a second point there), a NaN lag cast to
    -2**63 and a negative one taken as a lag before lag 0, each in silence."""
    frame = line_frame({0: -0.1})
    frame["lag"] = frame["lag"].astype(np.float64)
    frame.loc[frame["lag"] == 13, "lag"] = lag
    with pytest.raises(ValueError, match=rf"frame's lag column holds {shown}: lags are integers"):
        vl.fit_decay(frame, by=by)
    frame.loc[frame.index[13], "lag"] = 13.0  # whole numbers in a float column are lags
    assert vl.fit_decay(frame)["n_points"].iloc[0] == 31


@pytest.mark.parametrize("lags", [lambda lag: lag.astype(str).astype(object), lambda lag: lag > 3])
def test_lags_that_are_strings_or_booleans_are_refused(lags) -> None:
    """An object column of strings ("3") was cast to numbers and fitted, and booleans too."""
    frame = line_frame({0: -0.1})
    frame["lag"] = lags(frame["lag"])
    with pytest.raises(TypeError, match="frame's lag column must hold integers, got"):
        vl.fit_decay(frame)


def test_by_on_a_frame_without_rows_gives_no_groups() -> None:
    """A selection that matched nothing (norms[norms.layer == 2] of a one-layer module) gave
    an empty frame of fits without ``by``, and with it a KeyError ('source') from pandas."""
    empty = line_frame({0: -0.1}).iloc[:0]
    assert vl.fit_decay(empty).empty
    agg = vl.fit_decay(empty, by=("source", "layer"))
    assert agg.empty
    assert list(agg.columns) == list(vl.fit_decay(line_frame({0: -0.1}), by=("source", "layer")))


def test_by_with_a_curve_that_vanishes_completely() -> None:
    frame = line_frame({0: -0.1, 1: -0.2})
    frame.loc[(frame["sample"] == 1) & (frame["lag"] >= 2), "log10_fro"] = -np.inf
    agg = vl.fit_decay(frame, by="layer")
    assert agg["rate_mean"].iloc[0] == -np.inf and agg["n_zero"].iloc[0] == 1
    assert agg["rate_std"].iloc[0] == 0.0  # one finite rate left
    assert agg["phase"].iloc[0] == "vanishing"
    assert agg["r2_mean"].iloc[0] == pytest.approx(1.0)  # the vanished curve's NaN left out
    assert agg["rate_min"].iloc[0] == -np.inf  # the vanished curve's rate


def test_a_horizon_at_the_zero_lag_is_made_by_the_zero() -> None:
    """horizon_at_zero: a horizon at the curve's zero_lag itself (the usual case: the norm's
    geometric mean reads -inf there) is one an exact zero made; one before it is not."""
    assert list(horizon_at_zero([10, 9, 10], [10, 10, np.nan])) == [True, False, False]


def test_every_curve_of_a_frame_has_its_own_horizon() -> None:
    """Each curve's horizon counts from its own reference lag (0, or its first non-zero lag):
    six curves falling a decade a lag reach 1e-3 at lag 3, the one exactly 0 at lag 0 (the
    second) at lag 4."""
    frame = line_frame(dict.fromkeys(range(6), -1.0), lags=12)
    frame.loc[(frame["sample"] == 1) & (frame["lag"] == 0), "log10_fro"] = -np.inf
    assert list(vl.fit_decay(frame)["horizon"]) == [3, 4, 3, 3, 3, 3]


def test_a_phase_tolerance_of_0_is_taken() -> None:
    """phase_tolerance must be >= 0: 0 itself calls every non-zero rate a trend."""
    fits = vl.fit_decay(line_frame({0: -0.001, 1: 0.0}), phase_tolerance=0)
    assert list(fits["phase"]) == ["vanishing", "stable"]


def test_window_tolerance_and_a_single_curve() -> None:
    """window=(5, 2) fitted nothing and called every curve "undetermined", (-1, None) was
    taken, "all" failed to unpack; a tolerance of "a" failed inside numpy; a frame of one curve
    (lag and log10_fro only, as vl.origin_log_norms gives) failed in pandas' groupby."""
    frame = line_frame({0: -0.1})
    for window, error in (((5, 2), ValueError), ((-1, None), ValueError), ("all", TypeError)):
        with pytest.raises(error, match="window"):
            vl.fit_decay(frame, window=window)
    with pytest.raises(TypeError, match="phase_tolerance must be a number"):
        vl.fit_decay(frame, phase_tolerance="a")
    one = vl.fit_decay(vl.origin_log_norms(torch.eye(3) * 0.5, 30))
    assert len(one) == 1 and one["rate"].iloc[0] == pytest.approx(math.log(0.5))
    assert "_curve" not in one.columns


def test_a_window_past_the_last_lag() -> None:
    """window=(50, None) on lags 0..10 gave lag_start 50 and lag_end 10 (inverted), rate NaN
    and "fewer than 2 finite points", no error. Past every curve it is a ValueError; past one
    curve of a frame of several lengths, that curve's window is empty (lag_end = lag_start)
    and its note says why, and the longer curve is fitted."""
    short = pd.DataFrame({"lag": range(11), "log10_fro": -0.1 * np.arange(11)})
    for window in ((50, None), (11, 20)):
        with pytest.raises(ValueError, match=r"window starts at lag \d+, past the last lag"):
            vl.fit_decay(short, window=window)
    cut = short.assign(log10_fro=np.where(short["lag"] >= 5, -np.inf, short["log10_fro"]))
    long = pd.DataFrame({"lag": range(61), "log10_fro": -0.1 * np.arange(61)})
    frame = pd.concat([short.assign(c="a"), cut.assign(c="b"), long.assign(c="c")])
    for window in ((50, None), (50, 55)):
        fits = vl.fit_decay(frame, window=window).set_index("c")
        assert (fits["lag_start"] <= fits["lag_end"]).all()
        assert list(fits["lag_end"]) == [50, 50, 60 if window[1] is None else 55]
        assert list(fits["n_points"]) == [0, 0, 11 if window[1] is None else 6]
        assert fits.loc[["a", "b"], "rate"].isna().all()  # not -inf: no lag of b is seen
        assert (
            fits.loc[["a", "b"], "note"] == "the window starts past the curve's last lag (10)"
        ).all()
        assert fits.loc["c", "rate"] == pytest.approx(-0.1 * math.log(10), rel=1e-12)
    # A window ending at the last lag still fits it (one point: fewer than 2).
    (note,) = vl.fit_decay(short, window=(10, None))["note"]
    assert note == "fewer than 2 finite points in the window"


def test_the_horizon_does_not_depend_on_the_frames_index() -> None:
    """pd.concat of two frames (the fix the repeated-lag error suggests: a column that tells
    them apart) repeats index labels; the lag-0 reference was looked up by label and read
    another curve's row: model a's input horizon was <NA> instead of 12."""
    torch.manual_seed(0)
    a = vl.jacobian_norms(torch.nn.RNN(2, 8), torch.randn(30, 1, 2))
    b = vl.jacobian_norms(torch.nn.RNN(2, 8), torch.randn(50, 1, 2))
    both = pd.concat([a.assign(model="a"), b.assign(model="b")])
    got = vl.fit_decay(both)
    pd.testing.assert_frame_equal(got, vl.fit_decay(both.reset_index(drop=True)))
    for model, alone in (("a", a), ("b", b)):
        one = got[got["model"] == model].drop(columns="model").reset_index(drop=True)
        pd.testing.assert_frame_equal(one, vl.fit_decay(alone), check_like=True)


def test_named_index_levels_are_columns_of_the_curves() -> None:
    """A frame whose index held lag or keys of the curves (frame.set_index(...)) lost them:
    set_index("source") fitted each curve and dropped its source (the input curve came back as
    one more curve with layer <NA>, labelled as nothing), set_index(["source", "layer"]) said
    "lag 0 more than once in the curve sample=0", and lags in the index "no lag column". Named
    levels are now columns; unnamed ones are still ignored."""
    torch.manual_seed(0)
    frame = vl.jacobian_norms(torch.nn.RNN(2, 6, 2), torch.randn(30, 2, 2))
    want = vl.fit_decay(frame)
    for index in (["source"], ["source", "layer"], ["lag"], ["sample", "source", "layer", "lag"]):
        got = vl.fit_decay(frame.set_index(index))
        pd.testing.assert_frame_equal(got, want, check_like=True)
        by = vl.fit_decay(frame.set_index(index), by=("source", "layer"))
        pd.testing.assert_frame_equal(by, vl.fit_decay(frame, by=("source", "layer")))
    unnamed = frame.set_axis(pd.Index(range(100, 100 + len(frame))), axis=0)
    pd.testing.assert_frame_equal(vl.fit_decay(unnamed), want)
    with pytest.raises(ValueError, match="'lag' both as an index level and as a column"):
        vl.fit_decay(frame.set_index("lag", drop=False))


@pytest.mark.parametrize("by", [3, 1.5, True])
def test_by_that_is_no_column_name_or_sequence_is_named(by) -> None:
    """by=3 failed inside fit_decay with "'int' object is not iterable", naming no argument."""
    with pytest.raises(TypeError, match="by must be a column name or a sequence of them"):
        vl.fit_decay(line_frame({0: -0.1}), by=by)


@pytest.mark.parametrize("by", [None, "layer"])
@pytest.mark.parametrize(
    "norms",
    [
        lambda v: v.astype(str).astype(object),
        lambda v: v.astype(str),
        lambda v: v > -1,
        lambda v: v.astype(complex),
    ],
)
def test_norms_that_are_strings_booleans_or_complex_are_refused(by, norms) -> None:
    """A log10_fro column of strings ("-0.5", a frame read without its types) was cast and
    fitted, a string that is no number ("abc") failed with numpy's "could not convert string to
    float", booleans were fitted as norms of 1 and 10, and complex numbers lost their
    imaginary part with a ComplexWarning; the lag column refuses all of them already."""
    frame = line_frame({0: -0.1})
    frame["log10_fro"] = norms(frame["log10_fro"])
    with pytest.raises(TypeError, match="frame's log10_fro column must hold real numbers, got"):
        vl.fit_decay(frame, by=by)


def test_a_curve_exactly_zero_at_lag_0_takes_its_horizon_from_its_first_non_zero_lag() -> None:
    """An LSTM's state_c row is exactly 0 at lag 0 (h_T does not depend on c_T as a variable
    of its own), so "1000-fold below lag 0" was never reached: its horizon was always null."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 8, 2)
    frame = vl.jacobian_norms(lstm, torch.randn(60, 2, 4), sources=("state_c",), norms="fro")
    assert (frame.loc[frame["lag"] == 0, "log10_fro"] == -np.inf).all()
    fits = vl.fit_decay(frame)
    assert fits["horizon"].notna().all()
    for _, fit in fits.iterrows():
        curve = frame[(frame["sample"] == fit["sample"]) & (frame["layer"] == fit["layer"])]
        curve = curve.set_index("lag")["log10_fro"]
        want = curve.index[(curve <= curve.loc[1] - 3) & (curve.index > 1)].min()
        assert fit["horizon"] == want
    # A plain curve is unchanged, and one that is 0 everywhere has none.
    zero = pd.DataFrame({"lag": range(5), "log10_fro": -np.inf})
    assert vl.fit_decay(zero)["horizon"].isna().all()


def test_a_log10_norm_whose_natural_log_overflows_is_refused():
    """A log10 norm of 1e308 was refused (its ln, +inf, failed the check) until c1070fb
    checked the log10 values: the fit then left it out without a word (4 points, no note)
    and numpy warned of an overflow."""
    frame = pd.DataFrame({"lag": range(6), "log10_fro": [0.0, -1.0, -2.0, 1e308, -4.0, -5.0]})
    with pytest.raises(ValueError, match=r"holds 1e\+308 at lag 3"):
        vl.fit_decay(frame)
