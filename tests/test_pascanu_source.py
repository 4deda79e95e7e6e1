"""check_pascanu of a frame measured on another module: the frame records a fingerprint of the
weights it was measured on (``frame.attrs``), and a module with other weights is refused."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl


def _module(seed: int, **kwargs) -> nn.RNN:
    torch.manual_seed(seed)
    return nn.RNN(3, 6, **kwargs)


X = torch.randn(12, 2, 3, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_a_frame_of_another_module_of_the_same_shape_is_refused(num_layers) -> None:
    """It was checked against the other module's bound and answered, "no violation", for
    norms that module never had."""
    measured, other = _module(0, num_layers=num_layers), _module(1, num_layers=num_layers)
    frame = vl.jacobian_norms(measured, X)
    with pytest.raises(vl.VanishlabError, match=r"^frame was measured on another module "):
        vl.check_pascanu(other, frame)
    # its rows, its columns, its index and its mean over samples are of the same module
    for part in (
        frame[frame["source"] == "state"],
        frame.drop(columns="log10_fro").set_index(["source", "layer", "lag"]),
        frame.groupby(["source", "layer", "lag"], dropna=False, as_index=False)[
            "log10_spec"
        ].mean(),
    ):
        with pytest.raises(vl.VanishlabError, match="another module than this rnn"):
            vl.check_pascanu(other, part)
        assert not vl.check_pascanu(measured, part)["violated"].any()


def test_the_same_weights_are_taken_in_a_copy_another_dtype_or_without_a_record() -> None:
    measured = _module(0)
    frame = vl.jacobian_norms(measured, X)
    assert not vl.check_pascanu(copy.deepcopy(measured), frame)["violated"].any()
    vl.check_pascanu(copy.deepcopy(measured).double(), frame)  # float32's tolerance, no refusal
    with torch.no_grad():  # trained in place after the measurement: other weights
        measured.weight_hh_l0.mul_(1.5)
    with pytest.raises(vl.VanishlabError, match="before training changed it"):
        vl.check_pascanu(measured, frame)
    # a frame that records nothing, each of whose rows is there once (a sweep's cell), is
    # checked; a concat of two modules' frames is refused (test_a_concat_...)
    other = vl.jacobian_norms(_module(1), X)
    other.attrs.clear()
    vl.check_pascanu(measured, other.assign(log10_spec=-1.0, log10_fro=-1.0))


@pytest.mark.parametrize(
    ("measured", "given", "said"),
    [
        (dict(hidden_size=6), dict(hidden_size=7), "size"),
        (dict(nonlinearity="relu"), dict(nonlinearity="tanh"), "nonlinearity"),
        (dict(num_layers=2), dict(num_layers=1), "number of layers"),
        (dict(dtype=torch.float64), dict(dtype=torch.float32), "lower precision"),
    ],
)
def test_the_refusal_names_what_else_may_differ_and_not_the_same_shape(
    measured, given, said
) -> None:
    """A frame of a module of another size (or nonlinearity, or number of layers) was refused
    as measured on "another module of the same shape"; a float64 module's frame beside its
    float32 copy, whose weights are rounded, as one of other weights alone."""
    torch.manual_seed(0)
    module = nn.RNN(3, **{"hidden_size": 6, **measured})
    with torch.no_grad():  # weights a float32 copy rounds
        for p in module.parameters():
            p.copy_(torch.randn_like(p) / 3)
    other = nn.RNN(3, **{"hidden_size": 6, **given})
    if other.weight_hh_l0.shape == module.weight_hh_l0.shape and module.num_layers == 1:
        other.load_state_dict(module.state_dict())  # the same weights: the kind differs alone
    frame = vl.jacobian_norms(module, X.to(module.weight_hh_l0.dtype))
    with pytest.raises(vl.VanishlabError, match=r"^frame was measured on another module") as err:
        vl.check_pascanu(other, frame)
    # the refusal names every cause, whatever differs (``said`` among them): what matters is
    # that it no longer says "of the same shape" where the size, layers or nonlinearity differ
    assert said in str(err.value)
    assert "same shape" not in str(err.value), said
    assert "\n" not in str(err.value)


def test_a_frame_of_several_modules_parquet_files_says_how_to_drop_the_record(tmp_path) -> None:
    """pandas' read_parquet of a folder of files written by ``to_parquet`` keeps the first
    file's ``attrs`` on every row: the rows of the second module, beside that module, were
    refused with no way out but measuring again. The refusal names the record to drop."""
    first, second = _module(0), _module(1)
    for name, module in (("a", first), ("b", second)):
        vl.jacobian_norms(module, X).assign(cell=name).to_parquet(tmp_path / f"{name}.parquet")
    both = pd.read_parquet(tmp_path)
    rows = both[both["cell"] == "b"].drop(columns="cell")
    with pytest.raises(vl.VanishlabError, match="another module than this rnn") as err:
        vl.check_pascanu(second, rows)
    assert str(err.value).endswith("frame.attrs.pop('vanishlab.weights_sha256')")
    rows.attrs.pop("vanishlab.weights_sha256")  # as the refusal says
    assert not vl.check_pascanu(second, rows)["violated"].any()


def test_an_analysis_s_rows_are_refused_beside_another_module(tmp_path) -> None:
    """vl.load_results of a `vanishlab analyze` run had no record: check_pascanu of another
    module (or of this one trained on) checked its rows against that module's bound without a
    word (16 of 25 rows "violated" here, norms the other module never had). They now
    carry the fingerprint of the weights measured, as a frame of jacobian_norms does; a sweep's
    rows (the weights of many cells) still carry none."""
    from vanishlab.trained import analyze_checkpoint

    measured, other = _module(0), _module(1)
    with torch.no_grad():
        measured.weight_hh_l0.mul_(4)
    torch.save(measured.state_dict(), tmp_path / "m.pt")
    analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", seq_len=12, batch=2)
    rows = vl.load_results(tmp_path / "run")
    with pytest.raises(vl.VanishlabError, match=r"^frame was measured on another module "):
        vl.check_pascanu(other, rows)
    with torch.no_grad():
        trained = copy.deepcopy(measured)
        trained.weight_hh_l0.add_(1e-3)
    with pytest.raises(vl.VanishlabError, match="another module than this rnn"):
        vl.check_pascanu(trained, rows[rows["source"] == "state"])
    assert not vl.check_pascanu(measured, rows)["violated"].any()
    sweep = tmp_path / "sweep"
    vl.run_sweep(vl.Sweep(hidden_size=6, input_size=3, seq_len=4, batch=1), sweep, progress=False)
    assert vl.load_results(sweep).attrs == {}


def _symmetric_rnn() -> nn.RNN:
    """A float32 tanh RNN without biases whose W_hh is 4 times a symmetric orthogonal matrix:
    at the origin (zero inputs) ||J(k)|| = 4^k = the bound at every lag, so the measured norms
    straddle it by float32's rounding."""
    torch.manual_seed(0)
    rnn = nn.RNN(4, 16, bias=False)
    q, _ = torch.linalg.qr(torch.randn(16, 16, dtype=torch.float64))
    signs = torch.diag(torch.tensor([1.0, -1.0] * 8, dtype=torch.float64))
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(4 * q @ signs @ q.T)
    return rnn


def test_float32_norms_beside_the_double_copy_are_allowed_float32_s_rounding() -> None:
    """The fingerprint reads a float32 module and its .double() copy alike, and the default
    tolerance was the module's eps: float32 norms checked beside the copy were allowed
    float64's rounding, and 40 of these 82 rows, within float32's, were "violated". The frame
    records the dtype it was measured in, and the coarser eps is allowed."""
    rnn = _symmetric_rnn()
    frame = vl.jacobian_norms(rnn, torch.zeros(20, 2, 4))
    assert frame["log10_spec"].max() > 12  # at the bound, 4^20: a check of the rounding
    own = vl.check_pascanu(rnn, frame)
    assert not own["violated"].any()
    pd.testing.assert_frame_equal(vl.check_pascanu(copy.deepcopy(rnn).double(), frame), own)
    assert frame.attrs["vanishlab.dtype"] == "float32"
    # without the record (a frame written before it), the module's eps, as before
    frame.attrs.pop("vanishlab.dtype")
    assert vl.check_pascanu(copy.deepcopy(rnn).double(), frame)["violated"].any()
    # float64 norms beside a float32 module are allowed float32's rounding, as they were
    double = copy.deepcopy(rnn).double()
    frame64 = vl.jacobian_norms(double, torch.zeros(20, 2, 4, dtype=torch.float64))
    assert frame64.attrs["vanishlab.dtype"] == "float64"
    assert not vl.check_pascanu(rnn, frame64)["violated"].any()


@pytest.mark.parametrize("recorded", ["float16", 32, None])
def test_a_dtype_record_vanishlab_does_not_measure_in_is_refused_in_one_line(recorded) -> None:
    rnn = _module(0)
    frame = vl.jacobian_norms(rnn, X)
    frame.attrs["vanishlab.dtype"] = recorded
    if recorded is None:  # no record: the module's eps
        assert not vl.check_pascanu(rnn, frame)["violated"].any()
        return
    with pytest.raises(vl.VanishlabError, match=r"^frame.attrs\['vanishlab.dtype'\] is ") as err:
        vl.check_pascanu(rnn, frame)
    assert str(err.value).endswith("frame.attrs.pop('vanishlab.dtype')")
    assert "\n" not in str(err.value)
    assert not vl.check_pascanu(rnn, frame, tolerance=1e-3)["violated"].any()  # not read


def test_an_analysis_s_rows_record_the_dtype_measured_in(tmp_path) -> None:
    """An analysis of a float32 checkpoint at 4x gain, checked beside the module's .double()
    copy (the same fingerprint): 1 of its 25 rows was "violated" by float32's rounding. Its
    rows now record the dtype from the shard's config, as a frame of jacobian_norms does."""
    from vanishlab.trained import analyze_checkpoint

    measured = _module(0)
    with torch.no_grad():
        measured.weight_hh_l0.mul_(4)
    torch.save(measured.state_dict(), tmp_path / "m.pt")
    analyze_checkpoint(tmp_path / "m.pt", tmp_path / "run", seq_len=12, batch=2)
    rows = vl.load_results(tmp_path / "run")
    own = vl.check_pascanu(measured, rows)
    assert not own["violated"].any()
    pd.testing.assert_frame_equal(vl.check_pascanu(copy.deepcopy(measured).double(), rows), own)
    assert rows.attrs["vanishlab.dtype"] == "float32"


def test_one_monitored_step_s_rows_are_refused_beside_other_weights(tmp_path) -> None:
    """vl.load_results of a monitor's step had no record (a monitor's rows are many steps'
    weights): its rows, beside the module as training left it, were checked against that
    bound without a word. A step's shard records the fingerprint, and the rows of one step
    (``cell_ids=`` its shard) carry it and the dtype; several steps' rows carry none."""
    from vanishlab.trained import JacobianMonitor

    rnn = _module(0)
    before = copy.deepcopy(rnn)
    with JacobianMonitor(rnn, X, out=tmp_path / "m") as mon:
        first = mon.step(1)["cell_id"].iloc[0]
        with torch.no_grad():  # a training step
            rnn.weight_hh_l0.mul_(0.5)
        mon.step(2)
    rows = vl.load_results(tmp_path / "m", cell_ids=[first])
    assert set(rows["step"]) == {1}
    with pytest.raises(vl.VanishlabError, match="before training changed it"):
        vl.check_pascanu(rnn, rows)
    assert not vl.check_pascanu(before, rows)["violated"].any()
    assert rows.attrs["vanishlab.dtype"] == "float32"
    assert set(vl.load_results(tmp_path / "m").attrs) == {  # two steps' weights: each step's
        "vanishlab.weights_sha256_by_step",
        "vanishlab.dtype",
    }


def _concat_refused(frame: pd.DataFrame, rnn: nn.RNN) -> None:
    with pytest.raises(vl.VanishlabError, match=r"^frame holds rows measured more than once") as e:
        vl.check_pascanu(rnn, frame)
    assert "pd.concat keeps frame.attrs only where every frame's record is the same" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_concat_whose_records_differ_is_refused_not_checked_against_one_module() -> None:
    """pd.concat drops frame.attrs where the frames' records differ: a concat of two modules'
    frames was checked against one module's bound without a word (2 rows of the other module
    "violated" here), and one of a module's float32 and float64 frames was allowed the
    rounding of the module given (float64's beside the .double() copy: 40 of 164 rows
    "violated"). Neither can be told to be one module's: refused, saying why and the way on. A
    concat of one module's frames in one dtype keeps the record, and is checked."""
    rnn = _symmetric_rnn()
    x = torch.zeros(20, 2, 4)
    f32 = vl.jacobian_norms(rnn, x)
    f64 = vl.jacobian_norms(copy.deepcopy(rnn).double(), x.double())
    _concat_refused(pd.concat([f32, f64]), copy.deepcopy(rnn).double())
    _concat_refused(pd.concat([f32, f64], ignore_index=True).set_index(["source", "lag"]), rnn)
    torch.manual_seed(3)
    other = nn.RNN(4, 16, bias=False)
    _concat_refused(pd.concat([f32, vl.jacobian_norms(other, x)]), rnn)
    for part in (f32, f64):  # each apart, as the refusal says
        assert not vl.check_pascanu(copy.deepcopy(rnn).double(), part)["violated"].any()
    same = pd.concat([f32, vl.jacobian_norms(rnn, x + 0.5)])
    assert not vl.check_pascanu(rnn, same)["violated"].any()
    with pytest.raises(vl.VanishlabError, match="another module than this rnn"):
        vl.check_pascanu(other, same)


def test_a_monitor_s_rows_of_one_step_are_checked_against_that_step_s_weights(tmp_path) -> None:
    """vl.load_results of a monitor's run (several steps) recorded no weights: one step's rows
    picked from it (rows[rows.step == n], a groupby mean of them, the frame through parquet)
    were checked beside any module without a word, and all the steps' rows against one module.
    The rows record each step's fingerprint: one step's are compared with the module, and
    several steps' are refused, naming the way on."""
    rows, at = _three_steps(tmp_path)
    rows.to_parquet(tmp_path / "rows.parquet")
    back = pd.read_parquet(tmp_path / "rows.parquet")
    for frame in (rows, back):
        one = frame[frame.step == 1]
        assert not vl.check_pascanu(at[1], one)["violated"].any()
        mean = one.groupby(["step", "source", "layer", "lag"]).mean(numeric_only=True)
        assert not vl.check_pascanu(at[1], mean)["violated"].any()
        for n in (0, 2):
            with pytest.raises(vl.VanishlabError, match="before training changed it"):
                vl.check_pascanu(at[n], one.copy())
        with pytest.raises(vl.VanishlabError) as err:
            vl.check_pascanu(at[2], frame[frame.step > 0])
        assert str(err.value) == (
            "frame holds the rows of 2 monitored steps (step 1, 2), each measured on the weights "
            "training had then, and check_pascanu checks one module's: check one step's rows, "
            "rows[rows.step == n], beside the module as it was at step n"
        )


def _three_steps(tmp_path, steps=(0, 1, 2)) -> tuple[pd.DataFrame, dict[int, nn.RNN]]:
    """vl.load_results of a monitor's ``steps`` (0, 1 and 2), and the module as it was at
    each."""
    from vanishlab.trained import JacobianMonitor

    rnn = _module(0)
    at = {}
    with JacobianMonitor(rnn, X, out=tmp_path / "m") as mon:
        for n in steps:
            if n:
                with torch.no_grad():  # a training step
                    rnn.weight_hh_l0.mul_(0.8)
            mon.step(n)
            at[n] = copy.deepcopy(rnn)
    return vl.load_results(tmp_path / "m"), at


def test_a_monitor_s_step_column_names_a_step_only_as_a_whole_number(tmp_path) -> None:
    """The step column was read through int(): step 1.5, or True, was compared with step 1's
    weights (and refused beside the module of step 0 for them), and inf ended in an
    OverflowError traceback. A value that is no whole number of steps names none, and is
    refused as no monitored step (it was checked with no module compared); 1.0 (a CSV's) and
    "1" are step 1."""
    rows, at = _three_steps(tmp_path)
    one = rows[rows.step == 1]
    for value in (1.5, True, float("inf")):
        with pytest.raises(vl.VanishlabError, match=r"^frame's step column holds .*, none of"):
            vl.check_pascanu(at[0], one.assign(step=value))
    for value in (1.0, "1"):
        assert not vl.check_pascanu(at[1], one.assign(step=value))["violated"].any()
        with pytest.raises(vl.VanishlabError, match="before training changed it"):
            vl.check_pascanu(at[0], one.assign(step=value))


def test_a_mean_over_a_monitor_s_steps_is_refused_as_no_step(tmp_path) -> None:
    """A mean over a monitor's steps' rows (a groupby of the other keys) keeps step = the mean
    step: steps 0 and 3 read as step 1.5 and were checked beside any module without a word;
    steps 1 and 3 as step 2, which the monitor never had, too. Both are refused, saying why and
    the way on; one step's mean, and its rows through a CSV (step 1.0), are still checked."""
    rows, at = _three_steps(tmp_path, steps=(0, 1, 3))
    keys = ["source", "layer", "lag"]
    for steps, shown in (((0, 3), "1.5"), ((1, 3), "2.0")):
        some = rows[rows.step.isin(steps)]
        mean = some.groupby(keys, dropna=False).mean(numeric_only=True)
        assert mean.attrs == rows.attrs
        with pytest.raises(vl.VanishlabError) as err:
            vl.check_pascanu(at[3], mean)
        assert str(err.value) == (
            f"frame's step column holds {shown}, none of the monitored steps (step 0, 1, 3): a "
            "mean over steps' rows (a groupby without 'step', then mean()) averages their step "
            "too, and each step was measured on the weights training had then, so no one module "
            "is theirs: check each step's rows apart, rows[rows.step == n], beside the module as "
            "it was at step n"
        )
    one = rows[rows.step == 3]
    mean = one.groupby(keys, dropna=False).mean(numeric_only=True)
    assert not vl.check_pascanu(at[3], mean)["violated"].any()
    assert not vl.check_pascanu(at[3], one.astype({"step": float}))["violated"].any()


def test_a_monitor_s_rows_of_several_steps_without_their_step_column_are_refused(tmp_path) -> None:
    """Each step's rows have their own cell_id: with the step column renamed or dropped, the
    rows of 3 steps (3 modules) were checked against the one given without a word. They are
    refused, saying why and the way on; one step's rows without it are still checked."""
    rows, at = _three_steps(tmp_path)
    for frame in (rows.rename(columns={"step": "n"}), rows.drop(columns="step")):
        with pytest.raises(vl.VanishlabError) as err:
            vl.check_pascanu(at[2], frame)
        assert str(err.value) == (
            "frame holds a monitor's rows measured more than once (two at source='input', "
            "layer=<NA>, lag=0), the rows of several steps, each measured on the weights "
            "training had then, and has no 'step' column to tell them apart (renamed or "
            "dropped?): check one step's rows, rows[rows.step == n], beside the module as it "
            "was at step n"
        )
    one = rows[rows.step == 2].rename(columns={"step": "n"})
    assert not vl.check_pascanu(at[2], one)["violated"].any()


def test_a_sweep_s_rows_of_several_cells_without_cell_id_are_refused_naming_cells(
    tmp_path,
) -> None:
    """A sweep's rows of one setting's 2 seeds (2 modules), cell_id dropped, repeat on (source,
    layer, lag) and are refused; the refusal named only pd.concat, which the user never called:
    it names a sweep's cells too, and the way on for them."""
    sweep = vl.Sweep(hidden_size=6, input_size=3, seq_len=8, seed=(0, 1), batch=2)
    vl.run_sweep(sweep, tmp_path / "s", workers=1, progress=False)
    rows = vl.load_results(tmp_path / "s")
    assert rows["cell_id"].nunique() == 2
    with pytest.raises(vl.VanishlabError, match=r"^frame holds rows measured more than once") as e:
        vl.check_pascanu(_module(0), rows.drop(columns="cell_id"))
    assert "a sweep's rows are one module's only within a cell (one cell_id)" in str(e.value)
    assert "check each frame or cell apart" in str(e.value)


def test_a_monitor_s_rows_of_several_steps_that_lost_their_record_are_refused(tmp_path) -> None:
    """pandas drops frame.attrs in a merge with a frame that has none: the rows of 3 steps
    merged with their losses (rows.merge(losses, on="step")) recorded nothing, and, each step
    its own cell_id, were checked against the one module given without a word. They are refused
    in the words of several steps with the record, saying where it went; one step's rows are
    still checked, and a sweep's rows (no step column) too."""
    rows, at = _three_steps(tmp_path)
    losses = pd.DataFrame({"step": [0, 1, 2], "loss": [1.0, 0.5, 0.25]})
    merged = rows.merge(losses, on="step")
    assert merged.attrs == {}
    for frame in (merged, merged.set_index(["step", "source", "layer", "lag"])):
        with pytest.raises(vl.VanishlabError) as err:
            vl.check_pascanu(at[2], frame)
        assert str(err.value) == (
            "frame holds the rows of 3 monitored steps (step 0, 1, 2), each measured on the "
            "weights training had then and frame.attrs no longer records them (pandas drops it "
            "in a merge or concat with a frame without it), and check_pascanu checks one "
            "module's: check one step's rows, rows[rows.step == n], beside the module as it was "
            "at step n"
        )
    one = merged[merged.step == 2]
    assert not vl.check_pascanu(at[2], one)["violated"].any()
    # A column of the user's own called step, on a frame that records its one module, is theirs.
    norms = vl.jacobian_norms(at[2], X)
    steps = pd.concat([norms.assign(step=0), norms.assign(step=1)])
    assert not vl.check_pascanu(at[2], steps)["violated"].any()
    sweep = vl.Sweep(hidden_size=6, input_size=3, seq_len=8, batch=2)
    vl.run_sweep(sweep, tmp_path / "s", workers=1, progress=False)
    cell = vl.load_results(tmp_path / "s")
    assert "step" not in cell.columns
    torch.manual_seed(0)
    assert "violated" in vl.check_pascanu(_module(0, nonlinearity="tanh"), cell)


def _float32_and_float64_cells(tmp_path) -> tuple[pd.DataFrame, pd.DataFrame, nn.RNN]:
    """A sweep's rows of a float32 and a float64 cell at the bound (orthogonal W_hh x 4, zero
    inputs, no biases), the float32 cell's rows, and its module."""
    from vanishlab.sweep.cell import cell_module

    sweep = vl.Sweep(
        hidden_size=16, input_size=4, seq_len=20, init="orthogonal", gain=(4.0,),
        input_std=0.0, bias=False, batch=1, dtype=("float32", "float64"),
    )  # fmt: skip
    vl.run_sweep(sweep, tmp_path / "s", workers=1, progress=False)
    rows = vl.load_results(tmp_path / "s")
    assert rows.attrs == {} and set(rows["dtype"]) == {"float32", "float64"}
    cell = rows[rows["dtype"] == "float32"]
    config = next(c for c in sweep.cells() if c.dtype == "float32")
    assert cell["log10_spec_mean"].max() > 12  # at the bound, 4^20: a check of the rounding
    return rows, cell, cell_module(config)


def test_a_sweep_s_float32_rows_are_allowed_float32_s_rounding_beside_a_double_module(
    tmp_path,
) -> None:
    """A sweep's rows record no module, but carry the dtype each cell was measured in: its
    float32 cell at the bound (orthogonal W_hh x 4, zero inputs, no biases), beside the cell's
    module made .double(), was allowed float64's rounding, and 2 of its 41 rows, within
    float32's, were "violated". Each row is allowed the rounding of the coarser of its own dtype
    and the module's; a dtype column vanishlab does not measure in is refused in one line."""
    rows, cell, rnn = _float32_and_float64_cells(tmp_path)
    own = vl.check_pascanu(rnn, cell)
    assert not own["violated"].any()
    pd.testing.assert_frame_equal(vl.check_pascanu(copy.deepcopy(rnn).double(), cell), own)
    # both dtypes' rows at once, each its own rounding: no refusal, no violation
    assert not vl.check_pascanu(copy.deepcopy(rnn).double(), rows)["violated"].any()
    # without the column (a frame of the user's own), the module's eps, as before
    assert vl.check_pascanu(rnn.double(), cell.drop(columns="dtype"))["violated"].any()
    with pytest.raises(vl.VanishlabError, match=r"^frame's dtype column holds 'float16' at ") as e:
        vl.check_pascanu(rnn, cell.assign(dtype="float16"))
    assert str(e.value).endswith("frame.drop(columns='dtype')")
    assert "\n" not in str(e.value)
    assert not vl.check_pascanu(rnn, cell.assign(dtype="float16"), tolerance=1e-3)[
        "violated"
    ].any()  # not read where a tolerance is given


def test_one_monitored_step_s_rows_picked_with_xs_are_compared_with_that_step_s_weights(
    tmp_path,
) -> None:
    """rows.xs(n, level="step") drops the step level: one step's rows were checked beside any
    module without a word (step 2's beside step 0's module: "no violation", against a bound
    that is not theirs), and so were a mean over steps. The record names each step's cell_id:
    such rows are compared with their step's weights, and refused, saying the way on, where
    their step cannot be told (no cell_id either)."""
    rows, at = _three_steps(tmp_path)
    rows.to_parquet(tmp_path / "rows.parquet")
    for frame in (rows, pd.read_parquet(tmp_path / "rows.parquet")):
        indexed = frame.set_index(["step", "source", "layer", "lag"])
        one = indexed.xs(2, level="step")
        assert "step" not in one.columns and "step" not in one.index.names
        assert not vl.check_pascanu(at[2], one)["violated"].any()
        for n in (0, 1):
            with pytest.raises(vl.VanishlabError, match="before training changed it"):
                vl.check_pascanu(at[n], one)
        kept = indexed.xs(2, level="step", drop_level=False)  # the way on: checked as before
        assert not vl.check_pascanu(at[2], kept)["violated"].any()
        mean = frame.groupby(["step", "source", "layer", "lag"]).mean(numeric_only=True)
        for unknown in (  # no cell_id: one step's mean, and the mean over all 3 steps
            mean.xs(2, level="step"),
            frame.drop(columns="step")
            .groupby(["source", "layer", "lag"], dropna=False)
            .mean(numeric_only=True),
        ):
            with pytest.raises(vl.VanishlabError) as err:
                vl.check_pascanu(at[2], unknown)
            assert str(err.value) == (
                "frame holds a monitor's rows without their 'step' column (renamed or dropped? "
                "rows.xs(n, level='step') drops it) or a cell_id the record knows, so which "
                "step's weights measured them cannot be told: keep it, rows.xs(n, level='step', "
                "drop_level=False) or rows[rows.step == n], and check them beside the module as "
                "it was at step n"
            )
        assert not vl.check_pascanu(at[2], mean.xs(2, level="step", drop_level=False))[
            "violated"
        ].any()


def test_a_dtype_column_of_numpy_or_torch_dtypes_is_read_by_their_names(tmp_path) -> None:
    """A dtype column of np.dtype("float32") (or np.float32, torch.float32), not the sweep's
    strings, was refused as "holds dtype('float32') ..., not a dtype vanishlab measures in
    (float32 or float64)", which it is: each is read by its name, and its rows allowed its
    rounding; one vanishlab does not measure in is refused, named as the column holds it."""
    rows, cell, rnn = _float32_and_float64_cells(tmp_path)
    own = vl.check_pascanu(rnn, cell)
    double = copy.deepcopy(rnn).double()
    for value in (np.dtype("float32"), np.float32, torch.float32):
        checked = vl.check_pascanu(double, cell.assign(dtype=[value] * len(cell)))
        pd.testing.assert_frame_equal(checked.drop(columns="dtype"), own.drop(columns="dtype"))
    as_dtypes = rows.assign(dtype=rows["dtype"].map(np.dtype))
    assert not vl.check_pascanu(double, as_dtypes)["violated"].any()
    with pytest.raises(vl.VanishlabError, match=r"^frame's dtype column holds dtype\('float16'\) "):
        vl.check_pascanu(rnn, cell.assign(dtype=[np.dtype("float16")] * len(cell)))


def test_a_monitor_s_record_of_its_steps_cells_is_one_string_pandas_copies_as_it_is(
    tmp_path,
) -> None:
    """The record of each step's cell_id was a dict of one entry per step, which pandas
    deep-copies on every operation (a column read, a selection, each group of a groupby): on
    a 2,000-step monitor rows[rows.lag == 3] took 10.1 ms, 6.0 without it. It is one string,
    which a deep copy keeps as it is, and gives each cell_id its step."""
    from vanishlab.core import weights_attr

    rows, _ = _three_steps(tmp_path)
    cells = rows.attrs[weights_attr.STEP_WEIGHTS_ATTR]["cells"]
    assert isinstance(cells, str)
    assert rows[rows.lag == 0].attrs[weights_attr.STEP_WEIGHTS_ATTR]["cells"] is cells
    pairs = rows[["cell_id", "step"]].drop_duplicates()
    steps = dict(zip(pairs["cell_id"], pairs["step"].astype(str), strict=True))
    assert weights_attr.step_cells(cells) == steps
    for bad in (None, {}, "abc", "abc:", "abc:-1", 5):
        assert weights_attr.step_cells(bad) is None
