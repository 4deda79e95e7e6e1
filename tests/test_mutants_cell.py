"""Mutation review of a sweep cell's own analysis (vanishlab/sweep/cell.py, cell_summary.py,
cell_theory.py, critical.py, prediction.py, summary.py, summary_fields.py, schema.py,
json_numbers.py, shard_rows.py): each test here failed on a small plausible change of the code
it names that passed the tests of that code, and passes on the code as it is. Each checks the
stored number against one computed independently (numpy's polyfit of the stored rows, the
analysis functions called directly, a seeded draw made here).

Mutants tried / killed by the tests before / killed with these (2026-12-07; each run against
the fast test files of its module, ``pytest -x -m "not slow"``, survivors also against
test_mutants_maths, test_storage_pinned_edges, test_inits, test_trainability and others):
  cell.py 7 / 6 / 7            cell_summary.py 7 / 6 / 7     cell_theory.py 18 / 12 / 17
  critical.py 4 / 3 / 4        prediction.py 4 / 3 / 4       json_numbers.py 4 / 3 / 4
  shard_rows.py 3 / 3 / 3      summary_fields.py 1 / 0 / 1   schema.py 2 / 1 / 1
  summary.py 3 / 2 / 2
In all 53 / 39 / 50. The 3 left: cell_theory's "non-iid" flag for ``validity != "iid"``
(only "iid" and "approximate" reach it), summary's recorded Lyapunov exponent replacing the
row's always (a trained model's row has none of its own), and a shard's ``layer`` stored as
int32 (pandas reads it as float64 either way, docs/data.md "Without vanishlab").

Most tests share one tiny cell: a two-layer tanh stack driven at input_std 0.5, so that a value
of the wrong layer, or of input_std's square, differs from the right one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import vanishlab as vl
from vanishlab.analysis.linear import linear_rate
from vanishlab.analysis.pascanu import pascanu_bound
from vanishlab.core.seeds import seeded_generator
from vanishlab.sweep.cell import cell_inputs, cell_module
from vanishlab.sweep.prediction import cell_mean_field

_STACK = vl.CellConfig(
    num_layers=2, hidden_size=8, input_size=3, seq_len=20, batch=3, input_std=0.5, gain=1.0
)


@pytest.fixture(scope="module")
def stack() -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stack's shard rows and its stored summary row (as the shard keeps it: JSON)."""
    frame, meta = vl.run_cell(_STACK)
    assert meta["status"] == "ok"
    return frame, meta["summary"]["row"]


def _polyfit_rate(frame: pd.DataFrame, layer: int, seq_len: int) -> float:
    """ln per step of the layer's state curve over the default window, by numpy's polyfit."""
    start = min(max(1, round(seq_len / 4)), seq_len)
    rows = frame[(frame["source"] == "state") & (frame["layer"] == layer)]
    rows = rows[(rows["lag"] >= start) & (rows["lag"] <= seq_len)]
    slope = np.polyfit(rows["lag"].to_numpy(float), rows["log10_fro_mean"].to_numpy(), 1)[0]
    return float(slope * math.log(10))


# --- cell_summary.py: which layer's fit is stored ---


def test_the_stored_rate_is_the_top_layers_fit_and_rate_layer0_layer_0s(stack: Any) -> None:
    """Mutants: ``fit_top`` read from layer 0 (``fits.get(0)``), and ``rate_layer0`` set to the
    top layer's rate: a stack's two curves differ, so each must be its own layer's."""
    frame, row = stack
    top, bottom = _polyfit_rate(frame, 1, 20), _polyfit_rate(frame, 0, 20)
    assert abs(top - bottom) > 0.05  # the mutants are told apart
    assert row["rate"] == pytest.approx(top, abs=1e-9)
    assert row["rate_layer0"] == pytest.approx(bottom, abs=1e-9)
    assert (row["lag_start"], row["lag_end"]) == (5, 20)


# --- cell.py: the inputs the cell is measured on ---


def test_the_inputs_are_the_seeded_draw_times_input_std() -> None:
    """Mutant: ``x * input_std**2`` (a variance taken for a standard deviation), which no test at
    input_std 1 tells apart."""
    x = cell_inputs(_STACK)
    draw = torch.randn((20, 3, 3), generator=seeded_generator(0, "inputs"), dtype=torch.float32)
    assert torch.equal(x, draw * 0.5)


# --- cell_theory.py: the theory values of the top layer ---


def test_ln_rho_and_the_pascanu_slope_are_the_top_layers(stack: Any) -> None:
    """Mutants: ``ln_rho[0]`` and ``pascanu_bound(rnn, 0)``, layer 0's in a stack."""
    _, row = stack
    rnn = cell_module(_STACK)
    assert row["ln_rho"] == pytest.approx(linear_rate(rnn, layer=1), abs=1e-12)
    assert row["pascanu_slope"] == pytest.approx(pascanu_bound(rnn, 1), abs=1e-12)
    assert abs(linear_rate(rnn, layer=1) - linear_rate(rnn, layer=0)) > 1e-3
    assert abs(pascanu_bound(rnn, 1) - pascanu_bound(rnn, 0)) > 1e-3


def test_the_mean_field_columns_are_the_top_layers_and_layer0_the_largest(stack: Any) -> None:
    """Mutants: the top layer's mean field read from ``mfs[0]``, and ``predicted_rate_layer0``
    the smallest rate over the layers, not the largest."""
    _, row = stack
    cfg = _STACK.to_dict()
    mfs = [cell_mean_field(cfg, layer=layer) for layer in (0, 1)]
    assert mfs[0] is not None and mfs[1] is not None
    assert abs(mfs[0].rate - mfs[1].rate) > 1e-3
    assert row["predicted_by"] == "mean field"
    assert row["mf_rate"] == pytest.approx(mfs[1].rate, abs=1e-12)
    assert row["mf_chi1"] == pytest.approx(mfs[1].chi_1, abs=1e-12)
    assert row["predicted_rate"] == pytest.approx(mfs[1].rate, abs=1e-12)
    assert row["predicted_rate_layer0"] == pytest.approx(max(m.rate for m in mfs), abs=1e-12)


def test_a_state_settled_by_the_end_of_the_discarded_steps_is_not_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mutant: ``took >= discard`` for ``took > discard``. A state at its fixed point after
    exactly the T // 4 discarded steps is there for the whole fit window (lags from
    round(T / 4) on) and the Lyapunov average: not "short"; one step later it is."""
    from torch import nn

    from vanishlab.sweep import cell_theory
    from vanishlab.sweep.cell_summary import summarize_cell

    config = vl.CellConfig(activation="tanh", init="default", gain=1.0, input_std=0.0, bias=True,
                           hidden_size=8, input_size=3, seq_len=60, batch=2)  # fmt: skip
    frame, _ = vl.run_cell(config, summary=False)
    discard = 60 // 4
    flags = {}
    for took in (discard, discard + 1):

        def rates(rnn: nn.RNN, steps: int, *, settling: list[int | None], took: int = took):
            settling.append(took)
            return [-0.5]

        monkeypatch.setattr(cell_theory, "fixed_point_rates", rates)
        row = summarize_cell(config, frame)
        assert row["predicted_by"] == "linear" and row["predicted_rate"] == -0.5
        flags[took] = row["flag"].split(",")
    assert "short" not in flags[discard]
    assert "short" in flags[discard + 1]


# --- cell_theory.py: where a cell sits at the origin ---


def test_a_cell_with_input_biases_only_is_not_at_the_origin() -> None:
    """Mutant: ``biases_zero`` checking ``bias_hh`` alone. A network whose recurrent biases are
    zero but whose input biases are not (an init that keeps one bias per unit) leaves h = 0 with
    no input: its rate is ln rho(D* W_hh) at its fixed point, not ln rho(W_hh) at the origin."""
    from vanishlab.analysis.linear import fixed_point_rates
    from vanishlab.sweep.cell_summary import summarize_cell

    config = vl.CellConfig(activation="tanh", init="default", gain=1.0, input_std=0.0, bias=True,
                           hidden_size=8, input_size=3, seq_len=60, batch=2)  # fmt: skip
    rnn = cell_module(config)
    with torch.no_grad():
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.fill_(0.5)
    x = cell_inputs(config)
    frame, _ = vl.run_cell(config, summary=False)
    row = summarize_cell(config, frame, rnn=rnn, x=x)
    settled = fixed_point_rates(rnn)
    assert settled is not None
    assert abs(settled[0] - linear_rate(rnn)) > 1e-3
    assert row["mf_validity"] != "origin"
    assert row["predicted_by"] == "linear"
    assert row["predicted_rate"] == pytest.approx(settled[0], abs=1e-9)


# --- critical.py: a relu cell's divergence in words ---


def test_relu_divergence_names_a_gain_only_where_the_mean_field_gives_one() -> None:
    """Mutant: ``math.isinf(gain)`` for ``not math.isfinite(gain)``: a cell the mean field does
    not apply to (at the origin: critical gain NaN) was said to reach divergence "at gain
    nan"; a driven one names sqrt(2), chi_1 = g^2 / 2 = 1 for ``normal`` weights."""
    from vanishlab.sweep.critical import relu_divergence
    from vanishlab.sweep.summary_fields import RELU_DIVERGES

    cell = {"activation": "relu", "init": "normal", "hidden_size": 8, "input_size": 3,
            "input_std": 0.0, "bias": False, "num_layers": 1}  # fmt: skip
    assert relu_divergence(cell) == RELU_DIVERGES
    driven = relu_divergence({**cell, "input_std": 1.0})
    assert driven == f"{RELU_DIVERGES}, which init 'normal' reaches at gain {math.sqrt(2):.4g}"


# --- prediction.py: the origin, by the biases a cell draws ---


def test_a_cell_without_bias_or_input_is_at_the_origin_whatever_its_init_s_bias_variance() -> None:
    """Mutant: the origin test reading the init's bias variance where ``bias`` is False
    (``default`` draws biases of variance 1 / (3H), but a cell without bias has none): such a
    cell stays at h = 0, the mean field does not apply and it has no critical gain."""
    from vanishlab.sweep.prediction import mean_field_inputs

    cell = {"activation": "tanh", "init": "default", "hidden_size": 8, "input_size": 3,
            "input_std": 0.0, "bias": False, "num_layers": 1, "gain": 1.5}  # fmt: skip
    assert mean_field_inputs(cell).validity == "origin"
    assert cell_mean_field(cell) is None
    assert math.isnan(vl.critical_gain(cell))
    assert mean_field_inputs({**cell, "bias": True}).validity == "iid"  # its biases drive it


# --- json_numbers.py: a float in a JSON manifest ---


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e-300, -2.5, 0.1])
def test_a_json_number_survives_strict_json_and_reads_back(value: float) -> None:
    """Mutant: ``not math.isnan(value)`` for ``math.isfinite(value)``, which kept an infinity
    as a float: strict JSON refuses it (Python's own json writes ``Infinity``, which other
    readers refuse). Every value goes through ``allow_nan=False`` and reads back the same."""
    import json

    from vanishlab.sweep.json_numbers import json_number, read_json_number

    text = json.dumps({"x": json_number(value)}, allow_nan=False)
    back = read_json_number(json.loads(text)["x"])
    assert back is not None
    assert (math.isnan(back) and math.isnan(value)) or back == value


# --- summary_fields.py: the flags' thresholds, as docs/theory.md states them ---


def test_the_flag_thresholds_are_those_docs_theory_states() -> None:
    """Mutant: ``SHORT_SEQ_LEN = 40`` (docs/theory.md: "`short`: T < 50"), which every test of
    the flag read from the constant itself. Each threshold is read from the page's words."""
    import re
    from pathlib import Path

    from vanishlab.sweep import summary_fields as f

    text = " ".join((Path(__file__).parents[1] / "docs" / "theory.md").read_text().split())
    said = {
        "short": r"`short`: T < (\d+)\.",
        "narrow": r"`narrow` \(mean field only\): H < (\d+),",
        "near-critical": r"`near-critical` \(mean field only\): \|½ ln χ₁\| < ([\d.]+),",
        "poor-fit": r"`poor-fit` \(r² < ([\d.]+) with \|rate\| ≥ ([\d.]+)\)",
    }
    found = {k: re.search(p, text) for k, p in said.items()}
    assert all(found.values()), [k for k, m in found.items() if m is None]
    assert int(found["short"][1]) == f.SHORT_SEQ_LEN
    assert int(found["narrow"][1]) == f.NARROW_WIDTH
    assert float(found["near-critical"][1]) == f.NEAR_CRITICAL
    assert float(found["poor-fit"][1]) == f.POOR_FIT_R2
    assert float(found["poor-fit"][2]) == f.NEAR_CRITICAL


# --- shard_rows.py: a measured stack's rows are ones a measurement writes ---


def test_a_measured_stacks_rows_pass_the_readers_check(stack: Any) -> None:
    """Mutant: the (source, layer, lag) key with ``seq_len`` for ``seq_len + 1`` rows per layer:
    layer 0's lag T and layer 1's lag 0 got one key, and a two-layer shard was refused as
    holding a row twice."""
    import pyarrow as pa

    from vanishlab.sweep.shard_rows import rows_problem

    frame, _ = stack
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert rows_problem(table, _STACK.to_dict()) is None
    twice = pa.Table.from_pandas(pd.concat([frame, frame.iloc[[25]]]), preserve_index=False)
    assert rows_problem(twice, _STACK.to_dict()) == "some (source, layer, lag) twice"


def test_only_a_multiple_of_an_orthogonal_matrix_counts_as_exact_at_every_lag() -> None:
    """Mutant: ``_scaled_orthogonal`` at ``atol=1e-1 * c``: a W_hh a few per cent off c Q is not
    exact at every lag (||W^k|| is no longer c^k ||I||), so a short cell of it is flagged
    "short"; c Q itself, in float32, is not."""
    from torch import nn

    from vanishlab.sweep.cell_theory import _scaled_orthogonal

    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(16, 16, generator=gen, dtype=torch.float64))
    rnn = nn.RNN(3, 16)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(1.3 * q)
        assert _scaled_orthogonal(rnn)
        rnn.weight_hh_l0.copy_(1.3 * q + 0.02 * torch.randn(16, 16, generator=gen))
        assert not _scaled_orthogonal(rnn)


def test_the_critical_gain_is_where_the_top_layers_mean_field_rate_reaches_0(stack: Any) -> None:
    """Mutant: ``critical_gain(config, layer=0)`` stored as ``mf_critical_gain``: the top layer
    of a stack reaches chi_1 = 1 at another gain than layer 0 (2.64 here, 2.47)."""
    _, row = stack
    gain = row["mf_critical_gain"]
    cfg = _STACK.to_dict()

    def rate(g: float, layer: int) -> float:
        mf = cell_mean_field({**cfg, "gain": g}, layer=layer)
        assert mf is not None
        return mf.rate

    assert abs(rate(gain, 1)) < 1e-9
    assert rate(gain * (1 - 1e-6), 1) < 0 < rate(gain * (1 + 1e-6), 1)
    assert rate(gain, 0) > 1e-3  # layer 0 is past its own edge there


def test_a_relu_stack_at_the_origin_is_predicted_exact_zeros() -> None:
    """Mutant: the origin's relu rule for one layer only, a stack predicted ln rho of its top
    W_hh: at h = 0 relu'(0) = 0 makes every Jacobian past lag 0 exactly zero in every layer,
    as its measured rows are (-inf, ``n_zero`` = batch)."""
    from vanishlab.sweep.cell_summary import summarize_cell

    config = vl.CellConfig(activation="relu", init="normal", input_std=0.0, bias=False,
                           num_layers=2, hidden_size=8, input_size=3, seq_len=12,
                           batch=2)  # fmt: skip
    frame, _ = vl.run_cell(config, summary=False)
    past = frame[(frame["source"] == "state") & (frame["lag"] > 0)]
    assert (past["log10_fro_mean"] == -math.inf).all() and (past["n_zero"] == 2).all()
    row = summarize_cell(config, frame)
    assert row["predicted_by"] == "linear"
    assert row["predicted_rate"] == row["predicted_rate_layer0"] == -math.inf
    assert row["rate"] == -math.inf


def test_a_failed_cells_note_says_its_overflow_once() -> None:
    """Mutant: "Lyapunov exponent: the forward pass overflowed." said of every cell whose
    exponent is NaN, a failed cell too, whose note already says so ("Failed: ...")."""
    from vanishlab.sweep.cell_summary import summarize_cell

    config = vl.CellConfig(activation="relu", init="normal", gain=10.0, hidden_size=8,
                           input_size=3, seq_len=60, batch=2)  # fmt: skip
    frame, meta = vl.run_cell(config, summary=False)
    assert (meta["status"], meta["failure"]) == ("failed", "overflow")
    row = summarize_cell(config, frame, status=meta["status"], reason=meta["reason"])
    assert math.isnan(row["lyapunov"])
    assert row["note"].startswith("Failed: ") and "overflowed" in row["note"]
    assert "Lyapunov exponent: the forward pass overflowed." not in row["note"]
