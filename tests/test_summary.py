"""vl.summarize: measured beside predicted, per cell, on real runs.

Tolerances for the mean-field check are those justified in ``tests/test_theory_measured.py``
(H = 256, noise-driven ``normal`` weights): tanh 0.03 (finite-width bias about 3/H = 0.012 plus
4 standard errors of a seed-to-seed spread <= 0.01), relu 0.045 (spread <= 0.03, no visible
bias). Here they bound the mean over 4 seeds of sweep cells (T = 100, default fit window,
2 samples each); the measured deviations are below 0.01 for tanh and 0.015 for relu.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

import vanishlab as vl
from vanishlab.sweep import summary as sm
from vanishlab.sweep.config import AXES

TOLERANCE = {"tanh": 0.03, "relu": 0.045}


def copy_run(run: Path, tmp_path: Path) -> Path:
    """A private copy of a session run (summarize writes summary.parquet into it)."""
    return Path(shutil.copytree(run, tmp_path / "run"))


def assert_no_silent_nan(s: pd.DataFrame) -> None:
    """NaN (or a null) only where the row says why: its note, or mf_validity for mf_*."""
    floats = [c for c in s.columns if s[c].dtype == np.float64 and c not in AXES]
    for rec in s.to_dict("records"):
        for c in floats:
            if not math.isnan(rec[c]):
                continue
            explained = (
                rec["note"] != ""
                or (c.startswith("mf_") and rec["mf_validity"] in ("none", "origin"))
                or (c in ("final_loss", "chance_loss") and rec["train_steps"] == 0)
            )
            assert explained, f"silent NaN in {c} of cell {rec['cell_id']}"
        # pd.isna, not `is pd.NA`: to_dict gives None for a missing value (pandas 3), and
        # both checks below never ran under `is pd.NA`
        if pd.isna(rec["pascanu_ok"]):
            assert rec["status"] != "ok" or "no-theory" in rec["flag"], rec["cell_id"]
        if rec["status"] == "ok" and pd.isna(rec["lag_start"]):
            assert rec["note"], rec["cell_id"]


def assert_page_notation(s: pd.DataFrame) -> None:
    """Notes and reasons write maths as the report's flags and captions do (χ₁, gain², ≥, −∞,
    ln ρ), never in ASCII stand-ins."""
    for column in ("note", "mf_reason"):
        for text in s[column].dropna():
            for ascii_form in ("chi_1", "gain^2", ">=", "-inf", "ln rho", "relu'", "||", " -0."):
                assert ascii_form not in text, (column, text)


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def smoke(smoke_run_dir, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    run = copy_run(smoke_run_dir, tmp_path_factory.mktemp("smoke"))
    return run, vl.summarize(run)


def test_columns_rows_and_the_report_rate(smoke):
    run, s = smoke
    assert tuple(s.columns) == sm.SUMMARY_COLUMNS
    assert_page_notation(s)
    assert "orthogonal" in set(s["init"])  # whose mean-field reason wrote ||W h|| = g ||h||
    cells = vl.load_cells(run)
    assert sorted(s["cell_id"]) == sorted(cells["cell_id"]) and s["cell_id"].is_unique
    merged = s.merge(cells, on="cell_id", suffixes=("", "_cell"))
    for axis in AXES:
        assert (merged[axis] == merged[f"{axis}_cell"]).all(), axis
    # The rate is fit_decay's of the top layer's state rows: the number the report shows.
    results = vl.load_results(run)
    top = results[(results["source"] == "state") & (results["layer"] == results["num_layers"] - 1)]
    fits = vl.fit_decay(top[["cell_id", "lag", "log10_fro_mean"]]).set_index("cell_id")
    np.testing.assert_array_equal(s.set_index("cell_id")["rate"], fits.loc[s["cell_id"], "rate"])
    # One layer: layer 0 is the top; a stack reports both.
    one = s[s["num_layers"] == 1]
    np.testing.assert_array_equal(one["rate_layer0"], one["rate"])
    np.testing.assert_array_equal(one["predicted_rate_layer0"], one["predicted_rate"])


def test_every_cell_gets_lyapunov_pascanu_and_its_theory(smoke):
    _, s = smoke
    assert_no_silent_nan(s)
    assert s["pascanu_ok"].fillna(False).all()  # the invariant, on every cell (a null: no check)
    assert np.isfinite(s["lyapunov"]).all() and np.isfinite(s["pascanu_slope"]).all()
    # default and orthogonal inits with input: the mean field applies (approximately for
    # orthogonal), and the deltas are measured - predicted.
    assert set(s["predicted_by"]) == {"mean field"}
    assert set(s.loc[s["init"] == "orthogonal", "mf_validity"]) == {"approximate"}
    np.testing.assert_allclose(s["delta_rate"], s["rate"] - s["predicted_rate"])
    np.testing.assert_allclose(s["delta_lyapunov"], s["lyapunov"] - s["predicted_rate_layer0"])
    # H = 8, T = 10: narrow and short, and orthogonal is not i.i.d.: all said, none hidden.
    assert all({"narrow", "short"} <= set(f.split(",")) for f in s["flag"])
    assert all("non-iid" in f for f in s.loc[s["init"] == "orthogonal", "flag"])


def test_summary_parquet_is_cached_and_follows_the_cells(smoke, tmp_path, monkeypatch):
    import _report_run as runs

    run = copy_run(smoke[0], tmp_path)
    first = vl.summarize(run)
    assert (run / sm.SUMMARY).is_file()
    pd.testing.assert_frame_equal(first, smoke[1])

    def boom(*args, **kw):
        raise AssertionError("recomputed although no cell changed")

    # (_computed, which summarizes the cells: summarize_frames is called only for a cell
    # whose shard stores no row, and here every one does, so a boom there could not fail)
    monkeypatch.setattr(sm, "_computed", boom)
    pd.testing.assert_frame_equal(vl.summarize(run), first)  # from the file, identical
    monkeypatch.undo()
    # A new cell (here a failed one) changes the fingerprint: recomputed, with the new row.
    cell = runs.add_failed_cell(run, "overflow <at> step 3", hidden_size=8, input_size=4, seed=9)
    again = vl.summarize(run)
    assert len(again) == len(first) + 1
    row = again.set_index("cell_id").loc[cell]
    assert row["status"] == "failed" and "failed" in row["flag"].split(",")
    assert row["note"].startswith("Failed: overflow <at> step 3.") and math.isnan(row["rate"])
    assert row["pascanu_ok"] is pd.NA
    assert_no_silent_nan(again)
    # A corrupt cache is recomputed, not trusted.
    (run / sm.SUMMARY).write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(vl.summarize(run), again)
    # So is one whose key holds JSON of another shape (an AttributeError traceback: list.get).
    for meta in ("[]", '"fingerprint"', "null", "7"):
        table = pq.read_table(run / sm.SUMMARY)
        pq.write_table(table.replace_schema_metadata({sm.SUMMARY_META_KEY: meta}), run / sm.SUMMARY)
        pd.testing.assert_frame_equal(vl.summarize(run), again)


def test_a_damaged_cache_is_computed_afresh_not_read(smoke, tmp_path):
    """A number of summary.parquet changed under its fingerprint (a flipped bit on the disk:
    the footer, which holds the fingerprint, is intact) was read as it was: the report then
    showed a wrong rate. The cache's rows carry a checksum, as a shard's do."""
    run = copy_run(smoke[0], tmp_path)
    first = vl.summarize(run)
    table = pq.read_table(run / sm.SUMMARY)
    rates = table.column("rate").to_pylist()
    rates[0] += 1.0
    damaged = table.set_column(table.schema.get_field_index("rate"), "rate", [rates])
    pq.write_table(damaged.replace_schema_metadata(table.schema.metadata), run / sm.SUMMARY)
    pd.testing.assert_frame_equal(vl.summarize(run), first, check_exact=True)
    # Flipped bits in the stored rates (their 8 bytes, which a page holds as they are) are
    # refused (the pages' CRCs, the rows' checksum), and the rows computed afresh.
    data = (run / sm.SUMMARY).read_bytes()
    for rate in first["rate"].dropna():
        exact = struct.pack("<d", rate)  # a high bit of the mantissa: 3 to 6 % off, finite
        data = data.replace(exact, exact[:6] + bytes([exact[6] ^ 0x01, exact[7]]))
    assert data != (run / sm.SUMMARY).read_bytes()
    (run / sm.SUMMARY).write_bytes(data)
    pd.testing.assert_frame_equal(vl.summarize(run), first, check_exact=True)


def test_a_cache_that_is_no_regular_file_is_computed_afresh_not_waited_on(smoke, tmp_path):
    """summary.parquet made a FIFO (or a link to /dev/zero) was read to its end, which never
    came: `vanishlab report` hung with no word. It is not the cache: the summary is computed
    afresh and written over it, a regular file. (Old code: the thread still waits at 30 s;
    the FIFO is then opened for writing and closed, which ends its read.)"""
    run = copy_run(smoke[0], tmp_path)
    fifo = run / sm.SUMMARY
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    got: list[pd.DataFrame] = []
    reader = threading.Thread(target=lambda: got.append(vl.summarize(run)), daemon=True)
    reader.start()
    reader.join(30)
    waited = reader.is_alive()
    if waited:  # release it, so that no thread of this session stays blocked
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(30)
    assert not waited, "summarize waited on a FIFO named summary.parquet"
    pd.testing.assert_frame_equal(got[0], smoke[1])
    assert fifo.is_file() and not fifo.is_symlink()  # the cache, written over the FIFO
    # A link to a device that never ends: replaced by the cache, the device untouched.
    fifo.unlink()
    fifo.symlink_to("/dev/zero")
    pd.testing.assert_frame_equal(vl.summarize(run), smoke[1])
    assert fifo.is_file() and not fifo.is_symlink()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
def test_a_cache_that_is_a_folder_leaves_no_descriptor_open(smoke, tmp_path, monkeypatch):
    """summary.parquet made a folder: each summary (each report) left one descriptor open, the
    folder's, which open() refused to wrap (IsADirectoryError) and never closed. Without
    O_NONBLOCK (Windows has none) the cache is read all the same: it raised AttributeError."""
    run = copy_run(smoke[0], tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    (run / sm.SUMMARY).mkdir()
    vl.summarize(run)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        pd.testing.assert_frame_equal(vl.summarize(run), smoke[1])
    assert len(os.listdir("/proc/self/fd")) == before
    (run / sm.SUMMARY).rmdir()
    vl.summarize(run)  # the cache written
    monkeypatch.delattr(os, "O_NONBLOCK")
    pd.testing.assert_frame_equal(vl.summarize(run), smoke[1])


def test_read_only_run_and_bad_directory(smoke, tmp_path):
    run = copy_run(smoke[0], tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    run.chmod(0o555)
    try:
        s = vl.summarize(run)
    finally:
        run.chmod(0o755)
    pd.testing.assert_frame_equal(s, smoke[1])
    with pytest.raises(vl.VanishlabError, match="not a vanishlab run directory"):
        vl.summarize(tmp_path / "nowhere")


def test_zeros_overflow_and_the_origin(report_run, tmp_path):
    """relu without input or bias stays at h = 0: exact zeros, predicted as such (linear
    regime); gain 12 overflows float32 (failed) and explodes in float64 (diverges)."""
    s = vl.summarize(copy_run(report_run("zeros"), tmp_path))
    assert_no_silent_nan(s)
    ok = s[s["status"] == "ok"]
    assert ok["pascanu_ok"].fillna(False).all()  # .all() alone skips a null
    origin = ok[ok["input_std"] == 0]
    assert len(origin) and (origin["predicted_by"] == "linear").all()
    assert np.isneginf(origin["rate"]).all() and np.isneginf(origin["predicted_rate"]).all()
    assert origin["delta_rate"].isna().all() and (origin["mf_validity"] == "origin").all()
    assert all("exact-zero" in f for f in origin["flag"])
    failed = s[s["status"] == "failed"]
    assert len(failed) == 1 and failed["dtype"].iloc[0] == "float32"
    assert "became inf" in failed["note"].iloc[0]
    driven = s[(s["input_std"] == 1) & (s["gain"] == 12)]
    assert all("diverges" in f for f in driven["flag"])
    assert_page_notation(s)
    assert all("−∞" in n for n in origin[origin["activation"] == "relu"]["note"])
    assert any("χ₁ = H·Var(W_hh)/2 ≥ 1, which init" in n for n in driven["note"])


# --------------------------------------------------------------------------- exact and mean field


def test_orthogonal_at_the_origin_is_exact_through_the_whole_pipeline(tmp_path):
    """tanh, W_hh = g Q, no input, no bias: J(k) = (g Q)^k, so the fitted rate, the top
    Lyapunov exponent and ln rho(W_hh) are all ln g, to float64 rounding."""
    sweep = vl.Sweep(
        init="orthogonal",
        gain=(0.7, 1.3),
        input_std=0.0,
        bias=False,
        hidden_size=12,
        input_size=3,
        seq_len=30,
        batch=2,
        num_layers=(1, 2),
        dtype="float64",
    )
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    s = vl.summarize(tmp_path / "run")
    assert (s["predicted_by"] == "linear").all()
    # Exact at every lag: one layer is not flagged short at T = 30; a stack's layer-0 rate
    # and Lyapunov exponent have the O(1/k) transient below, and T = 30 < 50 is.
    assert (s["flag"] == np.where(s["num_layers"] == 1, "", "short")).all()
    ln_g = np.log(s["gain"].to_numpy())
    for col in ("rate", "predicted_rate", "predicted_rate_layer0", "ln_rho"):
        np.testing.assert_allclose(s[col], ln_g, rtol=0, atol=1e-9, err_msg=col)
    np.testing.assert_allclose(s["pascanu_slope"], ln_g, atol=1e-12)  # attained: ||gQ|| = g
    assert (s["r2"] > 1 - 1e-12).all()
    one, two = s[s["num_layers"] == 1], s[s["num_layers"] == 2]
    for col in ("rate_layer0", "lyapunov"):
        np.testing.assert_allclose(one[col], np.log(one["gain"]), atol=1e-9, err_msg=col)
        # Layer 0 of a stack (and the whole state): k + 1 paths (up through W_ih at any step)
        # of the same rate ln g add up to a norm growing like a power of k times g^k, so at
        # finite lags the slopes exceed ln g by O(1/k): a known transient, positive and small.
        excess = two[col] - np.log(two["gain"])
        assert ((excess > 0.005) & (excess < 0.05)).all(), (col, excess)


def test_short_flags_the_linear_regime_too_and_narrow_does_not(tmp_path):
    """At the origin ln rho(W_hh) is the rate as k -> infinity: a fit over lags 1..2 of a
    random W_hh^k misses it by up to 0.34 per step here, and those cells were unflagged (the
    flags were the mean field's only), so they set the report's unflagged agreement. Short
    applies to them; narrow does not (ln rho is the drawn matrix's own at any width: at
    H = 8 and T = 60 the fit is within 0.01 of it)."""
    sweep = vl.Sweep(
        activation="tanh",
        init=("normal", "orthogonal"),
        gain=1.5,
        input_std=0.0,
        hidden_size=8,
        input_size=4,
        seq_len=(2, 60),
        num_layers=(1, 2),
        batch=2,
        seed=range(2),
    )
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    s = vl.summarize(tmp_path / "run")
    assert (s["predicted_by"] == "linear").all() and s["ln_rho"].notna().all()
    exact = (s["init"] == "orthogonal") & (s["num_layers"] == 1)
    short = (s["seq_len"] < sm.SHORT_SEQ_LEN) & ~exact
    assert (s["flag"] == np.where(short, "short", "")).all(), s[["flag", "init", "seq_len"]]
    assert s.loc[short, "delta_rate"].abs().max() > 0.1  # why it is flagged
    unflagged = s[s["flag"] == ""]
    assert unflagged["delta_rate"].abs().max() < 0.01
    np.testing.assert_allclose(unflagged.loc[exact, "delta_rate"], 0.0, atol=1e-5)


@pytest.fixture(scope="module")
def mean_field_run(tmp_path_factory) -> pd.DataFrame:
    """Noise-driven ``normal`` networks at H = 256 (16 cells, about 8 s on one core)."""
    sweep = vl.Sweep(
        activation=("tanh", "relu"),
        init="normal",
        gain=(1.0, 3.0),
        input_std=1.0,
        hidden_size=256,
        input_size=256,
        seq_len=100,
        bias=False,
        batch=2,
        seed=range(4),
    )
    out = tmp_path_factory.mktemp("mean-field") / "run"
    vl.run_sweep(sweep, out, workers=1, progress=False)
    return vl.summarize(out)


def _seed_means(s: pd.DataFrame) -> pd.DataFrame:
    return s.groupby(["activation", "gain"]).agg(
        rate=("rate", "mean"),
        lyapunov=("lyapunov", "mean"),
        predicted=("predicted_rate", "first"),
        flag=("flag", "first"),
    )


@pytest.mark.slow  # with its 7 s sweep; tests/test_theory_measured.py checks the same theory
def test_mean_field_predicts_the_cells_of_a_sweep(mean_field_run):
    s = mean_field_run
    assert_no_silent_nan(s)
    assert s["pascanu_ok"].fillna(False).all() and (s["mf_validity"] == "iid").all()
    for (act, gain), row in _seed_means(s).iterrows():
        assert row["predicted"] == vl.mean_field(act, gain, input_var=1.0).rate
        if act == "relu" and gain == 3.0:  # χ₁ = g²/2 >= 1: the activity explodes; said so
            assert row["flag"] == "diverges"
            continue
        assert row["flag"] == ""  # wide, long, i.i.d., far from critical
        for col in ("rate", "lyapunov"):
            miss = abs(row[col] - row["predicted"])
            assert miss <= TOLERANCE[act], (act, gain, col, row[col], row["predicted"])


@pytest.mark.slow  # with its 7 s sweep; tests/test_theory_measured.py checks the same theory
def test_negative_control_wrong_theories_fail(mean_field_run):
    """The same measurements, the same tolerance: plausible wrong predictions are rejected
    by far, so the agreement above is not a tolerance wide enough to pass anything."""
    means = _seed_means(mean_field_run)
    means = means[means["flag"] == ""]
    wrong = {
        "ln gain": lambda a, g: math.log(g),
        "ln ||W_hh||_2, the Pascanu slope": None,
        "mean field without the input": lambda a, g: vl.mean_field(a, g).rate,
        "ln chi_1 without the 1/2": lambda a, g: 2 * vl.mean_field(a, g, input_var=1.0).rate,
    }
    slopes = mean_field_run.groupby(["activation", "gain"])["pascanu_slope"].mean()
    for name, predict in wrong.items():
        worst = max(
            abs(row["rate"] - (slopes[key] if predict is None else predict(*key)))
            - TOLERANCE[key[0]]
            for key, row in means.iterrows()
        )
        assert worst > 0.1, f"{name} would pass (worst miss beyond tolerance {worst:.3f})"


# --------------------------------------------------------------------------- pieces


def test_critical_gain_agrees_with_the_theory_module():
    relu = vl.CellConfig(activation="relu", init="normal")
    assert vl.critical_gain(relu) == pytest.approx(math.sqrt(2), rel=1e-10)
    # tanh with a unit-variance drive: at the critical gain chi_1 = 1, and the critical input
    # variance of that gain is the drive (two routes to the same edge of chaos).
    tanh = vl.CellConfig(activation="tanh", init="normal", input_std=1.0)
    g = vl.critical_gain(tanh)
    assert 1.5 < g < 2.2
    assert vl.mean_field("tanh", g, input_var=1.0).chi_1 == pytest.approx(1.0, abs=1e-9)
    assert vl.critical_input_var("tanh", g) == pytest.approx(1.0, rel=1e-6)
    # No mean field at the origin or for identity weights; never a crossing: inf.
    assert math.isnan(vl.critical_gain(tanh.to_dict() | {"input_std": 0.0}))
    assert math.isnan(vl.critical_gain(vl.CellConfig(init="identity")))
    assert vl.critical_gain(relu.to_dict() | {"gain": 0.1}) == vl.critical_gain(relu)


def test_critical_gain_follows_an_init_replaced_in_the_registry():
    # The search was cached by the init's name: after register_init(..., replace=True) the
    # gain was the old entry's, while mf_rate already used the new one.
    from vanishlab.sweep.inits import INITS

    def apply(rnn, gain, generator):
        raise AssertionError("not drawn")

    def init(scale):
        return vl.Init(
            "replaced_test",
            "t",
            apply,
            lambda H, I, g: (scale * g * g / H, 1 / I, 0.0),
            validity="iid",
            validity_reason="t",
        )

    config = dict(
        activation="tanh",
        init="replaced_test",
        input_std=1.0,
        hidden_size=64,
        input_size=16,
        bias=False,
    )
    try:
        vl.register_init(init(1.0), replace=True)
        before = vl.critical_gain(config)
        vl.register_init(init(2.0), replace=True)
        assert vl.critical_gain(config) == pytest.approx(before / math.sqrt(2), rel=1e-9)
        # An entry that cannot be hashed (a list of models) is a key all the same.
        vl.register_init(dataclasses.replace(init(2.0), models=["rnn"]), replace=True)
        assert vl.critical_gain(config) == pytest.approx(before / math.sqrt(2), rel=1e-9)
    finally:
        INITS.pop("replaced_test", None)


def _summary_of(config: vl.CellConfig) -> tuple[dict, torch.nn.RNN, torch.Tensor]:
    from vanishlab.sweep.cell import cell_inputs, cell_module
    from vanishlab.sweep.cell_summary import summarize_cell

    frame, meta = vl.run_cell(config)
    row = summarize_cell(config, frame, status=meta["status"], reason=meta["reason"])
    return row, cell_module(config), cell_inputs(config)


@pytest.mark.parametrize("seed", [0, 1])  # seed 0: layer 1's ρ is the larger; seed 1: layer 0's
def test_a_stacks_summary_fields_are_their_documented_layers(seed):
    # A mutation audit found these read from the wrong layer without a test failing: ln_rho
    # and pascanu_slope are the top layer's, predicted_rate_layer0 the largest ln ρ over the
    # layers (a stack at the origin), delta_lyapunov measured against it.
    config = vl.CellConfig(
        activation="tanh",
        init="normal",
        gain=1.0,
        input_std=0.0,
        bias=False,
        num_layers=2,
        hidden_size=12,
        input_size=3,
        seq_len=20,
        batch=3,
        seed=seed,
        dtype="float64",
    )
    row, rnn, _ = _summary_of(config)
    w = [getattr(rnn, f"weight_hh_l{l}").detach().numpy() for l in range(2)]
    ln_rho = [math.log(max(abs(np.linalg.eigvals(m)))) for m in w]
    assert (ln_rho[1] > ln_rho[0]) == (seed == 0)  # the premise of the two cases
    assert row["predicted_by"] == "linear"
    assert row["ln_rho"] == pytest.approx(ln_rho[1], abs=1e-12)
    assert row["predicted_rate"] == pytest.approx(ln_rho[1], abs=1e-12)
    assert row["predicted_rate_layer0"] == pytest.approx(max(ln_rho), abs=1e-12)
    assert row["pascanu_slope"] == pytest.approx(math.log(np.linalg.norm(w[1], 2)), abs=1e-12)
    assert row["delta_lyapunov"] == pytest.approx(row["lyapunov"] - max(ln_rho), abs=1e-12)


def test_the_lyapunov_exponent_of_a_cell_is_its_samples_mean():
    # lyap[0, 0] (the first sample's) in place of the batch mean passed every test.
    from vanishlab.core.seeds import seeded_generator

    config = vl.CellConfig(
        activation="tanh",
        init="normal",
        gain=1.5,
        input_std=1.0,
        hidden_size=8,
        input_size=3,
        seq_len=24,
        batch=4,
        dtype="float64",
    )
    row, rnn, x = _summary_of(config)
    q0 = torch.randn(8, 1, generator=seeded_generator(config.seed, "lyapunov"))
    each = [float(vl.lyapunov_spectrum(rnn, x[:, b], k=1, discard=6, q0=q0)[0]) for b in range(4)]
    assert max(each) - min(each) > 1e-3  # the samples differ, so the mean is not any one
    assert row["lyapunov"] == pytest.approx(sum(each) / 4, abs=1e-12)


def test_a_cell_with_biases_and_no_input_is_not_at_the_origin():
    # With random biases the state moves off h = 0 with no input: not the origin's ln rho(W_hh)
    # (taking input_std 0 alone for the origin passed every test), but the fixed point h* it
    # settles at, ln rho(D* W_hh) with D* != I (the mean field's 0.5 ln chi_1 is its H -> inf
    # limit only, and kept in mf_rate).
    config = vl.CellConfig(
        activation="tanh",
        init="default",
        gain=1.0,
        input_std=0.0,
        bias=True,
        hidden_size=16,
        input_size=3,
        seq_len=20,
        batch=2,
    )
    row, _, _ = _summary_of(config)
    assert row["predicted_by"] == "linear" and row["mf_validity"] != "origin"
    assert abs(row["predicted_rate"] - row["ln_rho"]) > 1e-6  # D* != I: not the origin's
    assert math.isfinite(row["mf_rate"])


@pytest.mark.parametrize(("gain", "near"), [(0.5, False), (1.1, True), (1.3, True), (3.0, False)])
def test_near_critical_flags_a_small_predicted_rate_of_either_sign(gain, near):
    # |rate| < NEAR_CRITICAL; flagging rate < NEAR_CRITICAL (every ordered cell) passed.
    from vanishlab.sweep.summary_fields import NEAR_CRITICAL

    config = vl.CellConfig(
        activation="tanh",
        init="normal",
        gain=gain,
        input_std=0.1,
        hidden_size=64,
        input_size=3,
        seq_len=40,
        batch=2,
    )
    row, _, _ = _summary_of(config)
    assert (abs(row["predicted_rate"]) < NEAR_CRITICAL) == near
    assert ("near-critical" in row["flag"].split(",")) == near


def test_the_near_critical_flag_says_it_is_the_mean_field_s_alone():
    """An origin cell's ln ρ within 0.05 of 0 is never flagged near-critical (cell_theory tests
    the mean field's rate only), yet the flag's meaning, on the report's flag list, said
    "|predicted rate| < 0.05": docs/theory-vs-measurement.md's tanh g 1.0 row, predicted +0.039
    by ln ρ, sat unflagged under it."""
    from vanishlab.sweep.summary_fields import FLAGS, NEAR_CRITICAL

    config = vl.CellConfig(
        activation="tanh",
        init="orthogonal",
        gain=1.0,
        input_std=0.0,
        bias=False,
        hidden_size=8,
        input_size=2,
        seq_len=12,
        batch=1,
    )
    row, _, _ = _summary_of(config)
    assert row["predicted_by"] == "linear" and abs(row["predicted_rate"]) < NEAR_CRITICAL
    assert "near-critical" not in str(row["flag"]).split(",")
    assert FLAGS["near-critical"].startswith("mean field: |½ ln χ₁| < 0.05")


def test_lyapunov_start_direction():
    """A diagonal Jacobian never mixes the default start e_1 into the top direction; a random
    q0 finds the top exponent (what summarize passes)."""
    d = torch.tensor([0.5, 0.9, 0.2], dtype=torch.float64)
    rnn = torch.nn.RNN(2, 3).double()
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.diag(d))
        rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0.zero_()
    x = torch.zeros(200, 1, 2, dtype=torch.float64)
    assert vl.lyapunov_spectrum(rnn, x, k=1)[0, 0] == pytest.approx(math.log(0.5))
    q0 = torch.randn(3, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    top = vl.lyapunov_spectrum(rnn, x, k=1, discard=100, q0=q0)[0, 0]
    assert top == pytest.approx(math.log(0.9), abs=1e-9)
    with pytest.raises(ValueError, match="q0 must have shape"):
        vl.lyapunov_spectrum(rnn, x, k=1, q0=torch.ones(2, 1))


def test_frames_without_a_full_config_are_summarised_with_a_reason():
    """Synthetic frames (as report tests build them) lack axes: no theory, said why."""
    lags = np.arange(21)
    results = pd.DataFrame(
        {
            "activation": "tanh",
            "seed": 0,
            "cell_id": "c0",
            "source": "state",
            "layer": pd.array(np.zeros(lags.size, dtype=np.int64), dtype="Int64"),
            "lag": lags,
            "log10_fro_mean": -0.1 * lags,
        }
    )
    cells = pd.DataFrame({"activation": ["tanh"], "seed": [0], "cell_id": ["c0"]}).assign(
        status="ok", reason=None, elapsed_s=0.1
    )
    (row,) = sm.summarize_frames(results, cells).to_dict("records")
    assert row["rate"] == pytest.approx(-0.1 * math.log(10))
    assert row["flag"] == "no-theory" and "the config lacks" in row["note"]
    assert row["predicted_by"] == "none" and math.isnan(row["predicted_rate"])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_task_cell_told_no_drive_gets_no_prediction_not_the_origins(activation):
    # A task cell runs on its task's inputs; input_std 0 made the summary take it for a cell at
    # the origin: relu predicted −∞ (Δ +∞) against a measured finite rate, tanh ln ρ(W_hh).
    config = vl.CellConfig(
        activation=activation,
        init="normal",
        gain=1.0,
        input_std=0.0,
        task="adding",
        input_size=2,
        hidden_size=16,
        seq_len=30,
        batch=4,
        dtype="float64",
    )
    row, _, _ = _summary_of(config)
    assert math.isfinite(row["rate"]) and row["rate"] < 0
    assert row["predicted_by"] == "none" and math.isnan(row["predicted_rate"])
    assert row["mf_validity"] == "none" and "task's inputs" in row["mf_reason"]
    assert row["flag"] == "no-theory"
    assert math.isnan(vl.critical_gain(config.to_dict()))
    # A partial config whose task is None is no task cell: at the origin, as before.
    partial = {**config.to_dict(), "task": None, "bias": False}
    assert vl.mean_field_inputs(partial).validity == "origin"


def test_relu_divergence_is_said_with_the_gain_where_the_inits_weights_diverge():
    """The notes and the flag's description said "relu with gain² ≥ 2" whatever the init, but
    the mean field diverges where χ₁ = H·Var(W_hh)/2 reaches 1: for ``default`` (variance
    gain²/(3H)) from gain √6, so gain 2 (gain² = 4) does not diverge and gain 3 does; for
    ``kaiming`` from gain 1. The text now gives the gain at which the flag itself flips."""
    small = dict(activation="relu", hidden_size=8, input_size=4, input_std=1.0, seq_len=12)
    small |= dict(batch=2, dtype="float64")
    below, _, _ = _summary_of(vl.CellConfig(**small, init="default", gain=2.0))
    assert "diverges" not in below["flag"] and below["mf_chi1"] == pytest.approx(2 / 3)
    one, _, _ = _summary_of(vl.CellConfig(**small, init="default", gain=3.0))
    two, _, _ = _summary_of(vl.CellConfig(**small, init="default", gain=3.0, num_layers=2))
    for row in (one, two):
        assert "diverges" in row["flag"] and "gain² ≥ 2" not in row["note"]
        edge = "relu with χ₁ = H·Var(W_hh)/2 ≥ 1, which init 'default' reaches at gain 2.449"
        assert edge in row["note"]
    assert "a lower layer diverges (relu with χ₁ = H·Var(W_hh)/2 ≥ 1" in two["note"]
    assert sm.FLAGS["diverges"].startswith("relu with χ₁ = H·Var(W_hh)/2 ≥ 1: ")
    # The gain the text gives is where the flag flips, for every built-in i.i.d. init.
    from vanishlab.sweep.critical import relu_divergence

    expected = {"default": math.sqrt(6), "normal": math.sqrt(2), "kaiming_normal": 1.0}
    expected |= {"xavier_uniform": math.sqrt(2), "orthogonal": math.sqrt(2)}
    for init, gain in expected.items():
        cell = {**small, "init": init, "num_layers": 2, "model": "rnn", "bias": True}
        assert vl.critical_gain(cell) == pytest.approx(gain, rel=1e-9)
        for g, diverges in ((gain * (1 - 1e-9), False), (gain * (1 + 1e-9), True)):
            mf = vl.cell_mean_field({**cell, "gain": g}, layer=0)
            assert mf is not None and mf.diverges is diverges, (init, g)
        assert f"which init {init!r} reaches at gain {gain:.4g}" in relu_divergence(cell)


def test_a_cell_summarised_alone_equals_its_row_in_the_run(smoke):
    # Per-cell quantities belong to the cell: the pure per-cell function, given what run_cell
    # returns (and the module and inputs it measured), gives the run summary's row exactly.
    from vanishlab.sweep.cell import cell_inputs, cell_module
    from vanishlab.sweep.cell_summary import summarize_cell

    run, s = smoke
    cells = vl.load_cells(run)
    for rec in cells.head(4).to_dict("records"):
        config = vl.CellConfig.from_dict({a: rec[a] for a in AXES})
        frame, meta = vl.run_cell(config)
        row = summarize_cell(
            config,
            frame,
            status=meta["status"],
            reason=meta["reason"],
            rnn=cell_module(config),
            x=cell_inputs(config),
        )
        assert tuple(row) == sm.SUMMARY_COLUMNS
        expected = s[s["cell_id"] == config.cell_id].iloc[0].to_dict()
        for column in sm.SUMMARY_COLUMNS:
            got, want = row[column], expected[column]
            if isinstance(want, float) and math.isnan(want):
                assert isinstance(got, float) and math.isnan(got), column
            elif want is pd.NA or want is None:
                assert got is None or got is pd.NA, column
            else:
                assert got == want, (column, got, want)


def test_stored_rows_are_read_and_equal_the_recomputed_summary(smoke, tmp_path, monkeypatch):
    # Each shard holds its cell's summary row, computed where the cell was measured: summarize
    # reads them (computing nothing) and gives exactly the summary computed from the rows.
    from vanishlab.sweep import store

    run, s = smoke
    assert all("summary" in m for m in store.read_cell_metas(run).values())
    recomputed = sm.summarize_frames(vl.load_results(run), vl.load_cells(run))
    pd.testing.assert_frame_equal(s, recomputed)

    def boom(*args, **kw):
        raise AssertionError("a stored row was computed again")

    from vanishlab.sweep import cell_summary

    monkeypatch.setattr(cell_summary, "summary_row", boom)  # summary imports it when needed
    pd.testing.assert_frame_equal(vl.summarize(run, cache=False), recomputed)
    monkeypatch.undo()
    # Rows from other code (another vanishlab, an edited checkout) are computed afresh.
    monkeypatch.setattr(sm, "code_digest", lambda: "other code")
    pd.testing.assert_frame_equal(vl.summarize(run, cache=False), recomputed)


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_a_row_that_fails_to_compute_is_a_note_and_is_not_cached(smoke, tmp_path, monkeypatch):
    """A summary row whose computation raised (an odd stored value) ended summarize, and the
    report of the run, in that traceback. The cell's row now says so in its note, the others
    are computed as before, the summary is not cached (the next call tries the row again),
    and the report lists the cell under Anomalies. A stop is never taken for a failure."""
    from vanishlab.sweep import cell_summary

    run = copy_run(smoke[0], tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    odd = sorted(smoke[1]["cell_id"])[0]
    row = cell_summary.summary_row

    def failing(cell, *args, **kw):
        if cell["cell_id"] == odd:
            raise ValueError("could not convert string to float: 'x'")
        return row(cell, *args, **kw)

    monkeypatch.setattr(sm, "code_digest", lambda: "other code")  # every row computed here
    monkeypatch.setattr(cell_summary, "summary_row", failing)
    s = vl.summarize(run)
    assert not (run / sm.SUMMARY).exists()
    bad = s[s["cell_id"] == odd].iloc[0]
    assert bad["note"] == (
        "No summary: computing it failed (ValueError: could not convert string to float: 'x')."
    )
    assert bad["flag"] == "no-theory" and bad["predicted_by"] == "none"
    assert math.isnan(bad["rate"]) and bad["status"] == "ok"
    others = s[s["cell_id"] != odd].reset_index(drop=True)
    expected = smoke[1][smoke[1]["cell_id"] != odd].reset_index(drop=True)
    pd.testing.assert_frame_equal(others, expected)
    page = tmp_path / "r.html"
    vl.render_report(run, page, progress=False)
    text = page.read_text(encoding="utf-8")
    assert "Cells without a summary" in text and "could not convert string to float" in text
    table = text[text.index("Cells without a summary") :]  # the note in the table itself
    assert "No summary: computing it failed (ValueError: could not convert" in table
    assert not (run / sm.SUMMARY).exists()

    def stopped(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(cell_summary, "summary_row", stopped)
    with pytest.raises(KeyboardInterrupt):
        vl.summarize(run)
    monkeypatch.undo()  # the row computes again: cached now
    pd.testing.assert_frame_equal(vl.summarize(run), smoke[1])
    assert (run / sm.SUMMARY).exists()


def test_a_trained_cells_stored_row_equals_the_recomputed_one(tmp_path):
    """A diverged training's stored row lacked the note "Training diverged: no final loss."
    that summarize_frames gives (the row was made before training, the fields copied in)."""
    grid = vl.Sweep(
        hidden_size=8, input_size=2, seq_len=6, batch=2, task="adding", train_steps=20,
        optimizer="sgd", lr=(0.01, 1e6), clip=0.0,
    )  # fmt: skip
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    stored = vl.summarize(run, cache=False)
    assert stored["note"].str.contains("Training diverged: no final loss.").sum() == 1
    recomputed = sm.summarize_frames(vl.load_results(run), vl.load_cells(run))
    pd.testing.assert_frame_equal(stored, recomputed)


def test_old_shards_without_rows_and_damaged_rows(smoke, tmp_path):
    import json

    import pyarrow.parquet as pq

    from vanishlab.sweep import store

    run = copy_run(smoke[0], tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    paths = sorted((run / "cells").glob("*.parquet"))

    def rewrite(path, edit):
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
        meta.pop("meta_digest")  # as a shard written before the metadata had its own checksum
        edit(meta)
        table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
        pq.write_table(table, path, write_page_checksum=True)

    # A shard written before rows were stored: its row is computed, the summary is the same.
    rewrite(paths[0], lambda meta: meta.pop("summary"))
    pd.testing.assert_frame_equal(vl.summarize(run, cache=False), smoke[1])
    # A stored row whose bytes changed is never used: the shard is reported as corrupt.
    rewrite(paths[1], lambda meta: meta["summary"]["row"].update(rate=1.0))
    with pytest.raises(store.CorruptShardError, match="summary row does not match"):
        vl.summarize(run, cache=False)


def test_a_stored_row_of_other_code_is_computed_again_not_read(smoke, tmp_path):
    # A shard's row computed by other code (another vanishlab, an edited checkout: its code
    # digest differs) must be computed afresh, not read: read without comparing that digest,
    # the old code's numbers would reach the summary. The stored row here is sound (its
    # checksum and the metadata's match) but says another rate, so reading it would show.
    import json

    import pyarrow.parquet as pq

    from vanishlab.sweep import store
    from vanishlab.sweep.checksums import meta_digest, stored_summary

    run = copy_run(smoke[0], tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    path = sorted((run / "cells").glob("*.parquet"))[0]
    cell_id = path.name.removesuffix(".parquet")

    def store_row(rate: float, code: str) -> None:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[store.CELL_META_KEY])
        meta.pop("meta_digest")
        meta["summary"] = stored_summary({**meta["summary"]["row"], "rate": rate}, code)
        meta["meta_digest"] = meta_digest(meta)
        table = table.replace_schema_metadata({store.CELL_META_KEY: json.dumps(meta)})
        pq.write_table(table, path, write_page_checksum=True)

    def rate_of(s: pd.DataFrame) -> float:
        return float(s.loc[s["cell_id"] == cell_id, "rate"].iloc[0])

    assert rate_of(smoke[1]) != 123.0
    # Stored by this code, the row is read as it is (so a read row would be seen below).
    store_row(123.0, sm.code_digest())
    assert rate_of(vl.summarize(run, cache=False)) == 123.0
    # Stored by other code: computed again from the shard's rows, the run's summary as before.
    store_row(123.0, "0" * 64)
    pd.testing.assert_frame_equal(vl.summarize(run, cache=False), smoke[1])


@pytest.mark.slow  # 4-5 s of make test's 5 min (a fresh process measuring three cells)
def test_the_code_digest_covers_every_module_a_summary_row_runs(tmp_path):
    """The digest that decides when a stored row is stale listed its modules by hand and
    missed the gated Lyapunov exponent, the init catalog and the tasks: an edit there left old
    rows in place. Every vanishlab module that measuring and summarising cells (nn.RNN, LSTM
    with chrono init, a trained cell) loads must be in it."""
    script = """
import sys
from vanishlab.sweep.config import CellConfig
from vanishlab.sweep.measure import run_cell
from vanishlab.sweep.summary_fields import code_modules
tiny = dict(hidden_size=4, input_size=2, seq_len=5, batch=2)
for cfg in (
    CellConfig(**tiny),
    CellConfig(model="lstm", activation=None, init="chrono", **tiny),
    CellConfig(task="adding", train_steps=2, **{**tiny, "seq_len": 6}),
):
    assert "summary" in run_cell(cfg)[1]
loaded = {m for m in sys.modules if m == "vanishlab" or m.startswith("vanishlab.")}
print(sorted(loaded - set(code_modules())))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "[]"
    from vanishlab.sweep.summary_fields import code_modules

    modules = set(code_modules())
    assert {
        "vanishlab.core.gated_lyapunov",
        "vanishlab.sweep.catalog",
        "vanishlab.train.tasks",
        "vanishlab.sweep.init_weights",
    } <= modules
    assert "vanishlab.report" not in modules and "vanishlab.cli" not in modules


def test_the_code_digest_never_parses_in_two_threads_at_once(monkeypatch):
    """Dask workers summarise cells in threads, and the first summary of each process reads the
    code's sources with ast.parse, which CPython 3.11 cannot run in two threads at once ("AST
    constructor recursion depth mismatch", seen once in a Dask worker). Two threads that ask
    for the digest together now parse one after the other, once."""
    import ast
    import threading
    import time

    from vanishlab.sweep import summary_fields

    parse, inside, most = ast.parse, [0], [0]

    def slow_parse(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.002)  # another thread would parse here
        try:
            return parse(*args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(summary_fields.ast, "parse", slow_parse)
    summary_fields._read_code_sources.cache_clear()
    summary_fields.code_digest.cache_clear()
    try:
        threads = [threading.Thread(target=summary_fields.code_modules) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert most == [1]
    finally:
        summary_fields._read_code_sources.cache_clear()
        summary_fields.code_digest.cache_clear()


def test_saturated_tanh_is_flagged_narrow_however_wide(tmp_path):
    """tanh at gain 50 with input std 1 saturates: only units with a pre-activation near 0 (about
    0.8 H / g of them) pass the gradient, and a network of H = 64 falls 1.07 per step short of
    the mean field's +1.64 (a finite-width bias of about 1 / (H live_fraction)), where the
    summary flagged nothing because H >= 64. It is flagged narrow now; the README's chaotic row
    (g = 3, H = 256, measured within 0.01 of the mean field) is not."""
    from vanishlab.sweep.summary_fields import NARROW_LIVE_UNITS

    saturated = vl.mean_field("tanh", 50.0, 1.0)
    assert saturated.live_fraction == pytest.approx(0.0156, rel=0.01)  # 64 * it = 1.0 unit
    assert 256 * vl.mean_field("tanh", 3.0, 1.0).live_fraction > NARROW_LIVE_UNITS
    assert vl.mean_field("relu", 1.0, 1.0).live_fraction == 0.5  # relu: H >= 64 is not narrow
    sweep = vl.Sweep(
        hidden_size=(64,), input_size=(16,), seq_len=(60,), init=("normal",), gain=(50.0,),
        input_std=(1.0,), bias=(False,), batch=(1,),
    )  # fmt: skip
    vl.run_sweep(sweep, tmp_path / "run", workers=1, progress=False)
    row = vl.summarize(tmp_path / "run").iloc[0]
    assert row["predicted_by"] == "mean field" and row["delta_rate"] < -0.5
    assert "narrow" in row["flag"].split(",")


def test_the_two_narrow_rules_meet_at_chaotic_tanh_of_width_64():
    """The effective-units rule takes the bias the H < 64 rule accepts at g = 3 (about 3/H per
    step): tanh, normal, g = 3, input std 1, H = 64 (gain_phase.py's cell) is not narrow. With
    64/3 units as the threshold it was (17.5 units), and so was every tanh cell of width 64 from
    g = 2.45 on, whose bias the H < 64 rule accepts; at g = 3.5 it still is."""
    config = vl.CellConfig(
        activation="tanh", init="normal", gain=3.0, input_std=1.0, hidden_size=64,
        input_size=3, seq_len=60, batch=2,
    )  # fmt: skip
    row, _, _ = _summary_of(config)
    assert row["predicted_by"] == "mean field" and "narrow" not in row["flag"].split(",")
    row, _, _ = _summary_of(dataclasses.replace(config, gain=3.5))
    assert "narrow" in row["flag"].split(",")


def test_a_tanh_cell_at_gain_0_is_an_exact_zero_not_put_down_to_relu(tmp_path):
    # W_hh = 0 maps every direction to zero in one step, tanh's too: the flag's meaning said
    # "(relu units all off)" of a tanh run (helper 203 saw the theory table's note do so).
    from vanishlab.sweep.summary_fields import FLAGS

    sweep = vl.Sweep(activation="tanh", gain=0.0, hidden_size=4, input_size=2, seq_len=8, batch=2)
    s = vl.summarize(vl.run_sweep(sweep, tmp_path / "run", progress=False).run_dir)
    assert all("exact-zero" in f for f in s["flag"])
    assert "W_hh = 0" in FLAGS["exact-zero"]


def test_the_non_iid_flag_says_what_raises_it():
    """cell_theory raises 'non-iid' for every init of validity "approximate", one a user
    registers too; its meaning, on every report's flag list, said "orthogonal weights" alone."""
    from vanishlab.sweep.summary_fields import FLAGS

    assert FLAGS["non-iid"].startswith("weights not drawn i.i.d. (orthogonal, or an init")
    assert '"approximate"' in FLAGS["non-iid"]


@pytest.mark.skipif(sys.platform == "win32", reason="temp files are held with flock on POSIX")
def test_the_summary_cache_removes_a_killed_readers_temp_file(smoke_run_dir, tmp_path):
    """A `vanishlab report` SIGKILLed while writing the summary's cache (seen with a poll for
    the file) left RUN/.summary.parquet.e553f7cb.tmp, which only a sweep's clean-up removed:
    a finished run, never swept again, kept it for good. Writing the cache now removes it;
    one a live reader holds stays."""
    import fcntl

    run = copy_run(smoke_run_dir, tmp_path)
    (run / sm.SUMMARY).unlink(missing_ok=True)
    dead = run / f".{sm.SUMMARY}.e553f7cb.tmp"
    live = run / f".{sm.SUMMARY}.0badc0de.tmp"
    for path in (dead, live):
        path.write_bytes(b"PAR1 part")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another report still writing it
        sm.summarize(run)
        assert (run / sm.SUMMARY).is_file() and live.exists() and not dead.exists()


def test_an_undriven_cell_with_biases_that_never_settles_says_so():
    # No input, PyTorch's default biases, and no stable fixed point: this relu cell's state
    # cycles with period 2 from step ~100 on (||h_t+1 - h_t|| = 0.99 at step 100,000), so
    # ln rho(D* W_hh) does not apply and the mean field is predicted in its place, 0.19 below
    # the measured rate (-0.011 at T = 200). It was predicted so without a word.
    config = vl.CellConfig(
        activation="relu",
        init="default",
        gain=2.0,
        input_std=0.0,
        bias=True,
        hidden_size=64,
        input_size=16,
        seq_len=60,
        batch=1,
        seed=1,
    )
    row, _, _ = _summary_of(config)
    assert row["predicted_by"] == "mean field"
    assert "settles at no stable fixed point" in row["note"]
    # a cell that settles is predicted at its fixed point, and says nothing of the sort
    row, _, _ = _summary_of(dataclasses.replace(config, seed=0))
    assert row["predicted_by"] == "linear" and "no stable fixed point" not in row["note"]


def test_an_undriven_cell_still_settling_past_a_quarter_of_t_is_flagged_short():
    # tanh, default, gain 2, H = 64, seed 5: from h0 = 0 its undriven state comes within 0.1
    # of its fixed point in every unit after 129 steps (an own numpy iteration says the same),
    # so at T = 100 the whole fit window (lags 25-100) is its approach: measured +0.062 against
    # ln rho(D* W_hh) = -0.075 (0.138 off), and nothing said so. Seed 0 settles after 23 steps.
    config = vl.CellConfig(
        activation="tanh",
        init="default",
        gain=2.0,
        input_std=0.0,
        bias=True,
        hidden_size=64,
        input_size=16,
        seq_len=100,
        batch=1,
        seed=5,
    )
    row, _, _ = _summary_of(config)
    assert row["predicted_by"] == "linear"
    assert "short" in row["flag"].split(",")
    assert "within 0.1 of h* in every unit only after 129 steps" in row["note"]
    row, _, _ = _summary_of(dataclasses.replace(config, seed=0))
    assert row["predicted_by"] == "linear" and row["flag"] == ""
