"""Trained sweep cells: the training axes, the record in the shard, the summary's columns, the
loss-curve loader, the trainability table and the report section (docs/trainability.md)."""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from matplotlib.colors import to_hex

import vanishlab as vl
from vanishlab.report.data import build_report
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import AT_LEAST_LABEL, REFERENCE_COLOR, draw
from vanishlab.report.model import LineGrid, Table
from vanishlab.sweep.config import OPTIMIZER_NAMES, TASK_NAMES
from vanishlab.sweep.store import load_manifest
from vanishlab.sweep.train_cell import TrainRecord, load_training, required_lag, trainability
from vanishlab.train import OPTIMIZERS, TASKS, train_cell

ROOT = Path(__file__).resolve().parents[1]


def _experiment():
    spec = importlib.util.spec_from_file_location(
        "trainability", ROOT / "experiments/trainability.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rigor_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke grid at gain 0.25: tanh, H = 16, T = 6 and T = 60, 300 Adam steps."""
    out = tmp_path_factory.mktemp("trainability") / "run"
    grid = _experiment().SMOKE.replace(gain=(0.25,))
    vl.run_sweep(grid, out, workers=1, progress=False)
    return out


def test_axis_choices_are_the_train_packages() -> None:
    assert set(TASK_NAMES) == {"none", *TASKS}
    assert OPTIMIZER_NAMES == OPTIMIZERS
    assert vl.load_training is load_training


def test_the_tasks_words_are_the_train_packages_tasks() -> None:
    """The report's words for each task (sweep/trainability, torch-free) are of train's tasks:
    one for each, and the input-free answer TASK_CHANCE names scores the task's chance level
    (adding: always 1, an MSE of 1/6; recall: a uniform guess, ln K nats)."""
    from vanishlab.sweep.trainability import REQUIRED_AT, TASK_CHANCE

    assert set(TASK_CHANCE) == set(TASKS) == set(REQUIRED_AT)
    gen = torch.Generator().manual_seed(0)
    adding = TASKS["adding"](10)
    assert "always answering 1" in TASK_CHANCE["adding"] and "MSE" in TASK_CHANCE["adding"][1]
    _, y = adding.sample(20000, gen)
    assert float(adding.loss(torch.ones_like(y), y)) == pytest.approx(adding.chance_loss, 0.02)
    recall = TASKS["recall"](10)
    assert "a uniform guess" in TASK_CHANCE["recall"]
    _, y = recall.sample(64, gen)
    uniform = torch.zeros(64, recall.n_symbols)
    assert float(recall.loss(uniform, y)) == pytest.approx(recall.chance_loss, 1e-6)


def test_the_training_axes_defaults_are_train_cells() -> None:
    """The axis table (without torch, so the dry run imports none) repeats train_cell's
    defaults: a cell of the default lr, optimizer and clip trains as train_cell does unasked,
    and a change to one side alone would make the two disagree in silence."""
    params = inspect.signature(train_cell).parameters
    cell = vl.CellConfig()
    for axis in ("lr", "optimizer", "clip"):
        assert getattr(cell, axis) == params[axis].default, axis


# In the slow tier: ~2 s of CPU.
@pytest.mark.slow
def test_docs_trainability_names_every_key_of_the_stored_train_record(rigor_run: Path) -> None:
    """docs/trainability.md listed the record's keys without `task`, `seq_len` and `steps`, and
    gave the loss curve without its key, `loss_curve`."""
    text = (ROOT / "docs" / "trainability.md").read_text(encoding="utf-8")
    entry = text[text.index('under `"train"`:') :]
    entry = entry[: entry.index("`vl.summarize`")]
    named = [name for name in re.findall(r"`(\w+)`", entry) if name != "train_steps"]
    assert named == list(TrainRecord.__annotations__)
    path = next((rigor_run / "cells").glob("*.parquet"))
    meta = json.loads(pq.read_schema(path).metadata[b"vanishlab.cell"])
    assert sorted(meta["train"]) == sorted(named)


def test_training_axes_at_their_defaults_keep_the_cell_id() -> None:
    base = vl.CellConfig(hidden_size=8)
    explicit = vl.CellConfig(
        hidden_size=8, task="none", train_steps=0, lr=0.01, optimizer="adam", clip=1.0
    )
    assert explicit.cell_id == base.cell_id
    assert vl.CellConfig(hidden_size=8, task="adding", input_size=2).cell_id != base.cell_id


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_vanished_gradient_is_not_solved_and_short_lag_is_through_the_sweep(
    rigor_run: Path,
) -> None:
    """The rigor pair of docs/trainability.md, read back through vl.summarize."""
    summary = vl.summarize(rigor_run).set_index("seq_len")
    results = vl.load_results(rigor_run)
    long_inputs = results[(results["source"] == "input") & (results["seq_len"] == 60)]
    at_first_marker = long_inputs[long_inputs["lag"] >= required_lag("adding", 60)]
    # geometric mean over the batch below e^-40 at every lag the first marker can sit at
    assert float(at_first_marker["log10_fro_mean"].max()) < -40 / math.log(10)
    long, short = summary.loc[60], summary.loc[6]
    assert long["solved"] is not pd.NA and not bool(long["solved"])
    assert pd.isna(long["steps_to_solve"])
    # any prediction blind to the first value has MSE >= Var(u) = chance / 2
    assert long["final_loss"] > 0.4 * long["chance_loss"]
    assert bool(short["solved"]) and short["final_loss"] < 0.1 * short["chance_loss"]
    assert 0 < int(short["steps_to_solve"]) <= 300
    assert summary["chance_loss"].tolist() == [1 / 6, 1 / 6]


def test_untrained_cells_have_no_training_outcome(tmp_path: Path) -> None:
    vl.run_sweep(vl.Sweep(hidden_size=4, seq_len=5, batch=2), tmp_path / "r", workers=1,
                 progress=False)  # fmt: skip
    row = vl.summarize(tmp_path / "r").iloc[0]
    assert math.isnan(row["final_loss"]) and math.isnan(row["chance_loss"])
    assert pd.isna(row["solved"]) and pd.isna(row["steps_to_solve"])
    assert len(load_training(tmp_path / "r")) == 0


def test_loss_curve_loader_is_tidy(rigor_run: Path) -> None:
    curves = load_training(rigor_run)
    assert len(curves) == 2 * 11
    for _, rows in curves.groupby("cell_id"):
        assert rows["step"].tolist() == [round(i * 300 / 10) for i in range(11)]
        assert (rows["chance_loss"] == 1 / 6).all() and rows["loss"].notna().all()
    assert set(curves["seq_len"]) == {6, 60}


def test_trainability_table_and_report_section(rigor_run: Path) -> None:
    table = trainability(vl.load_results(rigor_run), vl.load_cells(rigor_run)).set_index("seq_len")
    assert table.loc[6, "predicted"] and table.loc[6, "solved"]
    assert not table.loc[60, "predicted"] and not table.loc[60, "solved"]
    assert table.loc[60, "drop_at_required"] > 40 / math.log(10) - 3  # fallen > e^-40 / e^3
    report = build_report(
        vl.load_results(rigor_run), vl.load_cells(rigor_run), load_manifest(rigor_run),
        sections=["trainability"], timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip
    section = next(s for s in report.sections if s.key == "trainability")
    assert "2 of 2 trained cells (100 %)" in section.intro
    table = section.blocks[3]
    # Only T swept: no other setting's column (a "setting" column said "—" in every row); one
    # gain (0.25) and one seed: no "gain" or "seed" column (each said its value in every row),
    # as the page's other tables leave out a fixed setting
    assert table.columns[0] == "T" and not {"setting", "gain", "seed"} & set(table.columns)
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}  # by T
    assert [rows[t][c] for t in ("60", "6") for c in ("predicted", "solved")] == [
        "no", "no", "yes", "yes",
    ]  # fmt: skip
    summary = vl.summarize(rigor_run).set_index("seq_len")
    for t, r in rows.items():  # the e-folding lag to 2 digits: 0.6 read "1"
        want = 1 / abs(float(summary.loc[int(t), "rate"]))
        assert float(r["1/|rate|"]) == pytest.approx(want, rel=0.05), (t, want)
        # the mean-field lag of a 1000x drop: 3 ln 10 / |rate_mf| (it read 3 / |rate_mf|)
        want = 3 * math.log(10) / abs(float(summary.loc[int(t), "mf_rate"]))
        assert float(r["mean-field 1000x lag"]) == pytest.approx(want, abs=0.006), (t, want)
    # The required lag is the task's, not a gain's: it was drawn in the first gain's colour
    # while the legend showed it grey.
    grid = next(b for b in section.blocks if isinstance(b, LineGrid) and "horizon" in b.title)
    need = [c for p in grid.panels for c in p.curves if c.reference]
    with pinned():
        lines = [ln for ax in draw(grid).axes for ln in ax.get_lines()]
    dashed = [ln for ln in lines if ln.get_linestyle() not in ("-", "None") and len(ln.get_xdata())]
    assert need and all(c.style is None for c in need) and dashed
    assert {to_hex(ln.get_color()) for ln in dashed} == {REFERENCE_COLOR}


def test_a_horizon_never_reached_within_t_is_drawn_as_a_lower_bound(rigor_run: Path) -> None:
    """A seed whose input gradient never fell 1000x within the sequence counts as T in the
    horizon figure's mean: that point is only a lower bound, and was drawn as a plain point, as
    if measured. It now carries an upward caret, named in the legend and the caption."""
    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    flat = (results["source"] == "input") & (results["seq_len"] == 6)
    results.loc[flat, "log10_fro_mean"] = 0.0  # never falls: no horizon within T = 6
    table = trainability(results, cells).set_index("seq_len")
    assert math.isnan(table.loc[6, "horizon_1000"]) and table.loc[60, "horizon_1000"] < 60
    report = build_report(
        results, cells, load_manifest(rigor_run), sections=["trainability"], timestamp="2026-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    grid = next(b for b in section.blocks if isinstance(b, LineGrid) and "horizon" in b.title)
    (curve,) = [c for p in grid.panels for c in p.curves if not c.reference]
    assert list(curve.at_least_x) == [6.0] and curve.y[list(curve.x).index(6.0)] == 6.0
    assert "only a lower bound: a caret" in grid.caption
    # of one seed: no seed among others, and no "so its is only a lower bound"
    said = "(one seed; a gradient that never fell that far within the sequence counts as T, "
    assert said + "which is only a lower bound" in grid.caption
    assert "a seed whose" not in grid.caption
    rows = {
        row[section.blocks[3].columns.index("T")]: dict(
            zip(section.blocks[3].columns, row, strict=True)
        )
        for row in section.blocks[3].rows
    }
    assert rows["6"]["1000x lag"] == "> 5"  # not by lag 5, the last of T = 6
    with pinned():
        fig = draw(grid)
        carets = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_marker() == "^"]
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(carets) == 1 and list(carets[0].get_xdata()) == [6.0]
    assert AT_LEAST_LABEL in legend
    # Where every seed fell within T there is no caret, and no legend entry.
    table = trainability(vl.load_results(rigor_run), cells)
    assert table["horizon_1000"].notna().all()
    report = build_report(
        vl.load_results(rigor_run),
        cells,
        load_manifest(rigor_run),
        sections=["trainability"],
        timestamp="2026-01-01",
    )
    section = next(s for s in report.sections if s.key == "trainability")
    grid = next(b for b in section.blocks if isinstance(b, LineGrid) and "horizon" in b.title)
    assert all(len(c.at_least_x) == 0 for p in grid.panels for c in p.curves)
    with pinned():
        legend = [t.get_text() for t in draw(grid).legends[0].get_texts()]
    assert AT_LEAST_LABEL not in legend


def test_a_horizon_made_by_exact_zeros_is_marked_as_in_the_rates_table(rigor_run: Path) -> None:
    """The input gradient's norm is a geometric mean over the batch, -inf as soon as one
    sample's Jacobian is exactly 0: such a lag read as the "1000x lag" like a decay, without
    the "(exact 0)" mark the rates and models tables give it."""
    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    zero = (results["source"] == "input") & (results["seq_len"] == 6) & (results["lag"] >= 3)
    results.loc[zero, "log10_fro_mean"] = -math.inf
    results.loc[zero, "n_zero"] = 1
    table = trainability(results, cells).set_index("seq_len")
    assert table.loc[6, "horizon_1000"] == 3 and table.loc[6, "horizon_at_zero"]
    assert not table.loc[60, "horizon_at_zero"]  # fallen 1000x by decay
    report = build_report(
        results, cells, load_manifest(rigor_run), sections=["trainability"], timestamp="2026-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    horizons = section.blocks[3]
    t, lag_at = horizons.columns.index("T"), horizons.columns.index("1000x lag")
    lag = {row[t]: row[lag_at] for row in horizons.rows}  # by T
    assert lag["6"] == "3 (exact 0)" and not lag["60"].endswith("(exact 0)")
    assert horizons.nowrap == (horizons.columns.index("1000x lag"),)  # never broken
    assert "'(exact 0)' when some sample's Jacobian is exactly zero there" in horizons.caption
    assert "'(exact 0)' in the table" in section.blocks[1].caption


@pytest.mark.parametrize("T", [2, 7, 60])
def test_the_required_lag_is_where_each_task_puts_what_it_asks_for(T) -> None:
    """required_lag restates where vanishlab.train.tasks puts the first marker (adding) and
    the symbol to recall: tied to the tasks' own samples here."""
    from vanishlab.train import make_task

    gen = torch.Generator().manual_seed(0)
    x, _ = make_task("adding", T).sample(4000, gen)
    first = x[:, :, 1].argmax(dim=1)  # the first marker's position
    assert int((T - 1 - first).min()) == required_lag("adding", T)
    x, y = make_task("recall", T).sample(200, gen)
    assert torch.equal(y, x[:, 0].argmax(dim=-1))  # the answer is the symbol at lag T - 1
    assert required_lag("recall", T) == T - 1


def _trained_report(
    grid: vl.Sweep, run: Path, sections: tuple[str, ...] | None = ("trainability",)
):
    """The report of ``grid`` swept into ``run`` (one worker, a fixed timestamp), of
    ``sections`` alone (default: the Trainability section, which reads no other; None: the
    whole page)."""
    vl.run_sweep(grid, run, workers=1, progress=False)
    return build_report(
        vl.load_results(run), vl.load_cells(run), load_manifest(run),
        sections=sections, timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip


def test_the_required_lag_legend_names_what_the_recall_task_asks_for(tmp_path: Path) -> None:
    """The horizon figure's dashed line was "required lag (nearest first marker)" for every
    task: the recall task has no marker, its answer is the first token, at lag T - 1."""
    grid = vl.Sweep(
        activation=("tanh",), init=("normal",), task=("recall",), input_size=(8,),
        seq_len=(4,), hidden_size=(4,), train_steps=(2,), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    section = next(s for s in report.sections if s.key == "trainability")
    figure = next(b for b in section.blocks if isinstance(b, LineGrid) and "horizon" in b.title)
    labels = {c.label for p in figure.panels for c in p.curves if c.reference}
    assert labels == {"required lag (first token)"}


def test_the_overview_says_a_trained_run_s_curves_are_of_the_network_at_init(
    tmp_path: Path,
) -> None:
    """A trained run's decay curves, rates and depth maps are measured before training; the
    page said "at initialisation" only inside the Trainability section, so its Figure 1 read
    as the trained network's. A run that trains nothing says nothing of training."""
    grid = vl.Sweep(
        activation=("tanh",), init=("normal",), task=("adding",), input_size=(2,),
        seq_len=(4,), hidden_size=(4,), train_steps=(0, 2), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run", None)
    intro = next(s for s in report.sections if s.key == "overview").intro
    assert "measured at initialisation and then trained" in intro
    assert "train_steps > 0" in intro  # the cells at 0 steps were measured and not trained
    untrained = _trained_report(grid.replace(train_steps=(0,)), tmp_path / "untrained", None)
    assert "trained" not in next(s for s in untrained.sections if s.key == "overview").intro
    # a page without the Trainability section (an experiment's SECTIONS) does not name it
    assert "Trainability section" in intro
    run = tmp_path / "run"
    page = build_report(
        vl.load_results(run), vl.load_cells(run), load_manifest(run), sections=["decay"],
        timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip
    intro = next(s for s in page.sections if s.key == "overview").intro
    assert "measured at initialisation and then trained" in intro
    assert "Trainability" not in intro


def test_task_needs_its_input_size() -> None:
    """Refused when the grid is built (exit 2 in the CLI), not by failing every cell later."""
    with pytest.raises(vl.VanishlabError, match=r"set input_size=2 \(got 16\)"):
        vl.Sweep(hidden_size=4, seq_len=5, batch=2, task="adding", train_steps=2)


def test_smoke_and_default_grids() -> None:
    module = _experiment()
    assert module.SMOKE.size == 4 and module.SWEEP.size == 32
    assert set(module.SWEEP.task) == {"adding"} and module.SWEEP.input_size == (2,)


def test_cells_that_overflow_at_init_are_said_to_be_left_out(tmp_path: Path) -> None:
    """A trained cell whose forward pass overflowed at initialisation was never trained: it
    vanished from the fractions, the agreement sentence and the table without a word."""
    from vanishlab.report.render import render_html
    from vanishlab.sweep.trainability import not_trained

    grid = vl.Sweep(
        activation=("relu",), init=("normal",), gain=(1.0, 6.0), task=("adding",),
        input_size=(2,), seq_len=(80,), hidden_size=(8,), train_steps=(3,), batch=(2,),
    )  # fmt: skip
    vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    cells = vl.load_cells(tmp_path / "run")
    missing = not_trained(cells)
    assert list(missing["gain"]) == [6.0] and list(missing["failure"]) == ["overflow"]
    assert len(trainability(vl.load_results(tmp_path / "run"), cells)) == 1

    def section(frame: pd.DataFrame, results: pd.DataFrame):
        report = build_report(
            results,
            frame,
            load_manifest(tmp_path / "run"),
            sections=["trainability"],
            timestamp="2026-01-01T00:00:00Z",
        )
        render_html(report)  # renders, with or without blocks
        return next(s for s in report.sections if s.key == "trainability")

    results = vl.load_results(tmp_path / "run")
    both = section(cells, results)
    assert (
        "the outcome of 0 of 1 trained cell (0 %) right. Its gradient had not fallen" in both.intro
    )
    assert (
        "1 cell meant to be trained is left out of the figures, the table and the counts "
        "above: its forward pass overflowed at initialisation, so it was neither measured nor "
        "trained (listed under Anomalies)." in both.intro
    )
    overflowed = cells[cells["gain"] == 6.0].drop(columns=["solved"])  # no trained cell at all
    alone = section(overflowed, results[results["cell_id"].isin(overflowed["cell_id"])])
    assert alone.blocks == () and "is left out of this section: its forward pass" in alone.intro


def test_one_gain_is_one_rule_for_the_figure_and_the_table(tmp_path: Path) -> None:
    """The figure said "one gain" from the trained cells and the table from every cell: with
    the gain-6 cell overflowed at init (not trained), the figure's caption said "Every cell is
    at gain 1.0." (the run has a cell at 6.0) and the table still gave a gain column of "1.0"
    in every row. Both now go by the trained cells (one function)."""
    grid = vl.Sweep(
        activation=("relu",), init=("normal",), gain=(1.0, 6.0), task=("adding",),
        input_size=(2,), seq_len=(80,), hidden_size=(8,), train_steps=(2,), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    section = next(s for s in report.sections if s.key == "trainability")
    grids = [b for b in section.blocks if isinstance(b, LineGrid)]
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert "overflowed at initialisation" in section.intro  # the premise: gain 6 not trained
    assert grids[0].caption.endswith(" Every trained cell is at gain 1.0.")
    assert all(g.legend == () for g in grids)
    assert "gain" not in table.columns and len(table.rows) == 1


def test_cells_whose_weights_overflow_at_init_are_not_said_to_overflow_in_their_forward_pass(
    tmp_path: Path,
) -> None:
    """A cell whose weights were inf after its init (gain 1e39 in float32) was said to be left
    out because "its forward pass overflowed at initialisation": it never ran one."""
    from vanishlab.report.sections.trainability import _not_trained_text
    from vanishlab.sweep.trainability import not_trained

    grid = vl.Sweep(
        activation=("relu",), init=("normal",), gain=(6.0, 1e39), task=("adding",),
        input_size=(2,), seq_len=(80,), hidden_size=(8,), train_steps=(3,), batch=(2,),
    )  # fmt: skip
    vl.run_sweep(grid, tmp_path / "run", workers=1, progress=False)
    missing = not_trained(vl.load_cells(tmp_path / "run")).sort_values("gain")
    assert list(missing["failure"]) == ["overflow", "overflow"]
    weights = missing[missing["gain"] > 6]
    assert (
        "its weights overflowed at initialisation, so it was neither measured nor trained"
        in _not_trained_text(weights, 0)
    )
    assert "the weights of 1 and the forward pass of 1 overflowed" in _not_trained_text(missing, 0)
    errors = pd.concat([weights, weights.assign(failure="error")])
    assert "the weights of 1 overflowed at initialisation, so it was neither measured nor " in (
        _not_trained_text(errors, 0)
    )


def test_a_gradient_exactly_zero_at_lag_zero_has_nothing_to_fall_from(rigor_run: Path) -> None:
    """A norm exactly 0 at lag 0 made the drop -inf - -inf = NaN (every lag 0 too) or -inf -
    y = -inf (later lags not 0): the table read '> n', a gradient that never fell 1000-fold,
    and the prediction hung on which of the two the required lag gave. Now: no horizon and no
    drop, and the prediction reads the gradient at the required lag (0 there is a fall)."""
    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    inputs = results["source"] == "input"
    # T = 6: exactly 0 at lag 0 only (a stack's lower layer off at the last step);
    # T = 60: exactly 0 at every lag (one layer, a sample's units all off at the last step).
    lag0 = inputs & (results["seq_len"] == 6) & (results["lag"] == 0)
    every = inputs & (results["seq_len"] == 60)
    for zero in (lag0, every):
        results.loc[zero, "log10_fro_mean"] = -math.inf
        results.loc[zero, "n_zero"] = 1
    table = trainability(results, cells).set_index("seq_len")
    assert table["zero_at_lag0"].all()
    assert table["horizon_1000"].isna().all() and table["drop_at_required"].isna().all()
    assert table.loc[6, "predicted"] and not table.loc[60, "predicted"]
    report = build_report(
        results, cells, load_manifest(rigor_run), sections=["trainability"], timestamp="2026-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    horizons = section.blocks[3]
    by_t = {row[horizons.columns.index("T")]: row for row in horizons.rows}
    for t in ("6", "60"):
        assert by_t[t][horizons.columns.index("1000x lag")] == "exact 0 at lag 0"
        assert by_t[t][horizons.columns.index("decades at required")] == "—"
    assert by_t["6"][horizons.columns.index("predicted")] == "yes"
    assert "'exact 0 at lag 0' when the norm is exactly zero at lag 0" in horizons.caption
    assert "2 cells had a gradient exactly 0 at lag 0" in section.intro
    figure = section.blocks[1]
    assert all(math.isnan(y) for c in figure.panels[0].curves[:-1] for y in c.y)  # no horizon
    # ... and no caret: "never fell within T" is not what happened (it failed no test)
    assert all(len(c.at_least_x) == 0 for c in figure.panels[0].curves)


@pytest.fixture(scope="module")
def narrow_relu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """relu, H = 2, T = 10, seeds 0 and 1, one adding step: both seeds' input gradients are
    exactly 0 at lag 0, and their state rates -inf."""
    grid = vl.Sweep(
        activation="relu", init="normal", gain=0.5, hidden_size=2, input_size=2, seq_len=10,
        batch=8, seed=(0, 1), task="adding", train_steps=1,
    )  # fmt: skip
    out = tmp_path_factory.mktemp("narrow") / "run"
    vl.run_sweep(grid, out, workers=1, progress=False)
    return out


def test_a_relu_cell_can_have_its_input_gradient_exactly_zero_at_lag_zero(
    narrow_relu_run: Path,
) -> None:
    """dh_T/dx_T = D_T W_ih is exactly 0 for a sample whose units are all off at the last step:
    a narrow relu network at initialisation has such samples, and in one layer the sample's
    Jacobian is then 0 at every lag (every path back starts with D_T)."""
    results, cells = vl.load_results(narrow_relu_run), vl.load_cells(narrow_relu_run)
    table = trainability(results, cells)
    zero = table[table["zero_at_lag0"]]
    assert len(zero)  # the case is real (seeds 0 and 1 at H = 2: both)
    inputs = results[results["source"] == "input"]
    for cell in zero["cell_id"]:
        assert (inputs.loc[inputs["cell_id"] == cell, "log10_fro_mean"] == -math.inf).all()
    assert not zero["predicted"].any() and zero["drop_at_required"].isna().all()


def test_an_e_folding_lag_of_a_rate_at_minus_infinity_is_not_a_bare_zero(
    narrow_relu_run: Path,
) -> None:
    """1/|rate| of a state curve fitted at -inf (an exact zero in the fit window) read "0", as
    if the gradient had e-folded in no steps; the mean-field column likewise."""
    run = narrow_relu_run
    rates = vl.summarize(run)["rate"]
    assert (rates == -math.inf).any()  # the case is real
    report = build_report(
        vl.load_results(run),
        vl.load_cells(run),
        load_manifest(run),
        sections=["trainability"],
        timestamp="2026-01-01",
    )
    table = next(s for s in report.sections if s.key == "trainability").blocks[3]
    column = [row[table.columns.index("1/|rate|")] for row in table.rows]
    assert column.count("0 (rate −∞)") == int((rates == -math.inf).sum()), column
    assert "0" not in column


def test_lags_read_off_a_rate_have_two_decimals_in_every_row() -> None:
    """The 1/|rate| and mean-field columns wrote two significant digits below 10 and whole
    numbers above: 1.007 and 2.02 read "1" and "2" beside "1.4", and 54.3 read "54"."""
    from vanishlab.report.sections.trainability import _lag_text

    values = (1.007, 2.02, 1.4, 0.663, 54.3, 963.214)
    want = ["1.01", "2.02", "1.40", "0.66", "54.30", "963.21"]
    assert [_lag_text(v, -1 / v) for v in values] == want
    assert _lag_text(0.003, -1 / 0.003) == "0.003"  # not "0.00", as if in no steps
    assert _lag_text(0.0, -math.inf) == "0 (rate −∞)" and _lag_text(math.nan) == "—"


@pytest.mark.slow  # several seconds: the CI runs the slow tier
def test_the_panel_cap_goes_round_robin_over_models_and_names_what_it_left_out(
    tmp_path: Path,
) -> None:
    """24 trained settings (nn.RNN at 2 activations, LSTM, GRU; 2 inits; 3 hidden sizes): both
    figures drew the first 12 in name order, GRU's and LSTM's, so nn.RNN had no panel, the
    horizon figure said nothing of the rest and the solved one "12 more settings not drawn".
    The cap now goes round-robin over the models in display order, as the faceted figures'
    does, and both notes name the settings left out."""
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), activation=("tanh", "relu"), init=("default", "orthogonal"),
        hidden_size=(2, 3, 4), task=("adding",), input_size=(2,), seq_len=(4,),
        train_steps=(1,), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    section = next(s for s in report.sections if s.key == "trainability")
    figures = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert len(figures) == 3  # the outcomes' points too, on the same panels
    for figure in figures:
        titles = [p.title for p in figure.panels]
        assert len(titles) == 12
        for model in ("rnn (", "lstm,", "gru,"):  # four each, in display order
            assert sum(t.startswith(f"model = {model}") for t in titles) == 4
        assert titles[0] == "model = rnn (tanh), hidden = 2, init = default"
        assert titles[4] == "model = lstm, hidden = 2, init = default"
        assert figure.note.startswith(
            "12 more combinations of model, activation, hidden, init are not drawn: "
            "(model = rnn (tanh), hidden = 4, init = default), "
        )
        assert figure.note.endswith(" and 4 more (the table below lists every setting).")


def test_the_table_lists_settings_in_the_figures_display_order(tmp_path: Path) -> None:
    """The table sorted its rows by name (gru, lstm, rnn) while the figures' panels follow the
    run's display order (rnn, lstm, gru here): the two now agree."""
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), init=("default",), hidden_size=(2,), task=("adding",),
        input_size=(2,), seq_len=(4,), train_steps=(1,), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    section = next(s for s in report.sections if s.key == "trainability")
    table = next(b for b in section.blocks if isinstance(b, Table) and "model" in b.columns)
    settings = [row[:2] for row in table.rows]  # each swept axis a column, as elsewhere
    assert table.columns[:2] == ("model", "activation")
    assert settings == [("rnn", "tanh"), ("lstm", "n/a (gated)"), ("gru", "n/a (gated)")], settings


# In the slow tier: ~3 s of CPU.
@pytest.mark.slow
def test_loss_over_chance_has_three_decimals_in_every_row(rigor_run: Path) -> None:
    """The loss / chance column wrote four significant digits, so its rows had any number of
    decimals ("0.008419", "1.06", "0.1647"); a fraction below 0.0005 keeps one significant
    digit rather than read "0.000"."""
    report = build_report(
        vl.load_results(rigor_run), vl.load_cells(rigor_run), load_manifest(rigor_run),
        sections=["trainability"], timestamp="2026-01-01",
    )  # fmt: skip
    table = next(s for s in report.sections if s.key == "trainability").blocks[3]
    column = [row[table.columns.index("loss / chance")] for row in table.rows]
    assert column and all(len(c.split(".")[1]) == 3 for c in column), column
    from vanishlab.report.sections.trainability import _loss_text

    ratios = (0.008419, 1.06, 0.1647, 11.55, 0.0999)
    assert [_loss_text(r, 1.0) for r in ratios] == ["0.008", "1.060", "0.165", "11.550", "0.100"]
    assert _loss_text(0.6, 2.0) == "0.300" and _loss_text(0.0003, 1.0) == "0.0003"
    assert _loss_text(None, 1.0) == _loss_text(math.nan, 1.0) == "diverged"


def test_the_intro_says_how_many_trained_cells_diverged(tmp_path: Path) -> None:
    """A cell whose training diverged (an inf or NaN loss) counts as not solved in the section's
    agreement counts, and the intro did not say how many there were: it now does."""
    grid = vl.Sweep(
        activation=("tanh",), init=("normal",), task=("adding",), input_size=(2,),
        seq_len=(10,), hidden_size=(8,), train_steps=(20,), batch=(4,), lr=(1e30, 0.01),
        optimizer=("sgd",), clip=(0.0,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    intro = next(s for s in report.sections if s.key == "trainability").intro
    assert (
        "right. 1 of them diverged in training (an inf or NaN loss: 'diverged' in the table) "
        "and counts as not solved. No cell's gradient had fallen 1000x by the required lag, "
        "and none solved the task." in intro
    ), intro
    from vanishlab.report.sections.trainability_agreement import diverged_text as _diverged_text

    def table(*losses: float) -> pd.DataFrame:
        return pd.DataFrame({"final_loss": losses})

    assert _diverged_text(table(0.1, 0.2)) == ""
    assert _diverged_text(table(math.nan)).startswith(" It diverged in training (")
    assert _diverged_text(table(math.nan, None)).startswith(" All 2 diverged in training (")
    assert _diverged_text(table(math.nan, None, 1.0)).endswith("and count as not solved.")


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_the_intro_gives_the_falls_at_the_required_lag_in_decades(rigor_run: Path) -> None:
    """The intro said "the largest fall at the required lag among solved cells was 2.3, the
    smallest among failed ones 20.0": numbers without their unit (the table's column is
    "decades at required"). They are now said in decades."""
    report = build_report(
        vl.load_results(rigor_run), vl.load_cells(rigor_run), load_manifest(rigor_run),
        sections=["trainability"], timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip
    intro = next(s for s in report.sections if s.key == "trainability").intro
    table = trainability(vl.load_results(rigor_run), vl.load_cells(rigor_run)).set_index("seq_len")
    solved, failed = table.loc[6, "drop_at_required"], table.loc[60, "drop_at_required"]
    assert (
        f"among solved cells was {solved:.1f} decades, the smallest among failed ones "
        f"{failed:.1f} decades (the highest filled point and the lowest open one of the figure "
        "'Fall at the required lag against T, solved and not')." in intro
    ), intro
    from vanishlab.report.sections.trainability_agreement import decades_prose as _decades_prose

    assert _decades_prose(math.inf) == "∞ decades (exact 0)"


def test_the_solved_fraction_caption_says_where_the_prediction_is_drawn(
    rigor_run: Path,
) -> None:
    """Where the prediction was right in every cell (the rigor pair, the sweep's smoke run), the
    dashed line runs along the solid one. The caption said it was "hidden under the solid line",
    but a reference is drawn over the measured lines (and, where two gains coincide, the lower
    gain's dashes are drawn wider, over the other gain's solid line): the smoke run's figure
    showed both gains' dashes on the line the caption said hid them."""
    report = build_report(
        vl.load_results(rigor_run), vl.load_cells(rigor_run), load_manifest(rigor_run),
        sections=["trainability"], timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip
    section = next(s for s in report.sections if s.key == "trainability")
    grid = next(b for b in section.blocks if isinstance(b, LineGrid) and "Solved" in b.title)
    curves = grid.panels[0].curves
    solid = [c.y.tolist() for c in curves if not c.reference]
    assert solid == [c.y.tolist() for c in curves if c.reference]  # the two agree here
    with pinned():
        lines = [ln for ax in draw(grid).axes for ln in ax.get_lines() if len(ln.get_xdata())]
    dashed = [ln.get_zorder() for ln in lines if ln.get_linestyle() not in ("-", "None")]
    drawn = [ln.get_zorder() for ln in lines if ln.get_linestyle() == "-"]
    assert dashed and drawn and min(dashed) > max(drawn)  # the dashes lie on top
    assert "hidden under" not in grid.caption
    assert "drawn over the solid line: where the two agree, its dashes run along it" in (
        grid.caption
    )


def test_the_gain_legend_does_not_repeat_its_title(tmp_path: Path) -> None:
    """The trainability figures' legends read "gain" over "gain = 0.25": their entries repeated
    the title, where the report's other figures (the decay curves, titled "gain" too) give
    the values alone."""
    grid = vl.Sweep(
        activation=("tanh",), init=("normal",), gain=(0.5, 1.0), task=("adding",),
        input_size=(2,), seq_len=(4,), hidden_size=(4,), train_steps=(1,), batch=(2,),
    )  # fmt: skip
    report = _trained_report(grid, tmp_path / "run")
    section = next(s for s in report.sections if s.key == "trainability")
    grids = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert len(grids) == 3
    for figure in grids:
        assert figure.legend_title == "gain" and figure.legend == ("0.5", "1.0"), figure.legend
        assert "gain =" not in figure.title
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert table.columns[:2] == ("gain", "T")  # gain varies: its column stays
    assert sorted(row[0] for row in table.rows) == ["0.5", "1.0"]


def test_a_single_gain_has_no_legend_and_is_said_once(rigor_run: Path) -> None:
    """At one gain both figures kept a legend of one entry ("gain" over "0.25"), which said
    nothing. The references (the dashed prediction, the required lag) keep their entries.
    Both titles then named the gain ("... (gain = 0.25)"), a setting that does not vary: the
    first figure's caption now says it once."""
    report = build_report(
        vl.load_results(rigor_run), vl.load_cells(rigor_run), load_manifest(rigor_run),
        sections=["trainability"], timestamp="2026-01-01T00:00:00Z",
    )  # fmt: skip
    section = next(s for s in report.sections if s.key == "trainability")
    grids = [b for b in section.blocks if isinstance(b, LineGrid)]
    assert len(grids) == 3
    assert [g.title for g in grids] == [
        "Solved fraction against T",
        "Gradient horizon at initialisation against T",
        "Fall at the required lag against T, solved and not",
    ]
    assert [g.caption.count("Every cell is at gain 0.25.") for g in grids] == [1, 0, 0]
    for figure in grids:
        assert (figure.legend_title, figure.legend) == ("", ()), figure.legend
        assert "Where two gains' lines coincide" not in figure.caption
        with pinned():
            drawn = draw(figure)
        (legend,) = drawn.legends
        labels = [t.get_text() for t in legend.get_texts()]
        assert "0.25" not in labels and legend.get_title().get_text() == "", labels
        assert any(label.startswith(("predicted", "required lag", "1000x cut")) for label in labels)


def test_the_agreement_text_counts_each_group_of_cells() -> None:
    """Every number of the section's intro from a table made by hand: agreement, the cells
    that solved the task though their gradient had fallen and those that had not, the largest
    fall among solved cells and the smallest among failed ones, and the remark on exact zeros
    at lag 0 only where such a cell is among those predicted to fail."""
    from vanishlab.report.sections.trainability_agreement import agreement as _agreement

    table = pd.DataFrame(
        {
            "predicted": [True, True, False, False, False, True],
            "solved": [True, False, True, False, False, True],
            "drop_at_required": [1.0, 2.0, 4.0, 5.0, math.nan, 0.5],
            "zero_at_lag0": [False, False, False, False, True, False],
            "final_loss": [0.01, 0.2, 0.01, 0.2, 0.2, 0.01],
        }
    )
    text = _agreement(table)
    assert "the outcome of 4 of 6 trained cells (67 %) right." in text
    assert (
        "Of the 3 cells whose gradient had fallen 1000x by the required lag (or was exactly 0 "
        "there, and at lag 0), 1 solved the task anyway; of the 3 cells whose gradient had not, "
        "2 did."
    ) in text
    assert (
        "The largest fall at the required lag among solved cells was 4.0 decades, the "
        "smallest among failed ones 2.0 decades (the highest filled point and the lowest open "
        "one of the figure"
    ) in text
    assert " 1 cell had a gradient exactly 0 at lag 0" in text
    # An exact zero at lag 0 only in a cell predicted to succeed: no "(or was exactly 0 ...)".
    other = table.assign(zero_at_lag0=[True, False, False, False, False, False])
    assert "the required lag, 1 solved the task anyway" in _agreement(other)


def test_a_decimal_that_rounds_to_a_visible_value_keeps_its_places() -> None:
    """_decimals keeps a fixed number of places down to half the last place (0.007 reads
    "0.01"); only what would read "0.00" keeps one significant digit."""
    from vanishlab.report.sections.trainability import _decimals

    assert (_decimals(0.007, 2), _decimals(0.004, 2), _decimals(1.5, 2)) == (
        "0.01",
        "0.004",
        "1.50",
    )


def test_a_cell_predicted_to_learn_that_failed_reads_so(rigor_run: Path) -> None:
    """The table's "predicted" and "solved" columns, and the intro's count, where the two
    disagree (in the run as made they agree, so either column could have read the other's):
    T = 60's input gradient made flat never falls, so it is predicted solvable, and failed."""
    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    flat = (results["source"] == "input") & (results["seq_len"] == 60)
    results.loc[flat, "log10_fro_mean"] = 0.0
    report = build_report(
        results, cells, load_manifest(rigor_run), sections=["trainability"], timestamp="2026-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    assert "1 of 2 trained cells (50 %)" in section.intro
    table = section.blocks[3]
    rows = {r["T"]: r for r in (dict(zip(table.columns, row, strict=True)) for row in table.rows)}
    assert (rows["60"]["predicted"], rows["60"]["solved"]) == ("yes", "no")


def test_the_solved_fraction_axis_spans_0_to_1_in_every_panel(rigor_run: Path) -> None:
    """A panel whose every cell was solved (one T, or one gain that solved them all) was
    autoscaled to 0.95..1.05, which put its point at mid-height, where the next panel draws
    0.5: seen in a run of LSTM inits at one T (chrono solved, read as half solved)."""
    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    results, cells = results[results["seq_len"] == 6], cells[cells["seq_len"] == 6]
    report = build_report(
        results, cells, load_manifest(rigor_run), sections=["trainability"], timestamp="2026-01-01"
    )
    section = next(s for s in report.sections if s.key == "trainability")
    grid = next(b for b in section.blocks if isinstance(b, LineGrid) and "Solved" in b.title)
    assert [c.y.tolist() for p in grid.panels for c in p.curves] == [[1.0], [1.0]]
    with pinned():
        fig = draw(grid)
        spans = [ax.get_ylim() for ax in fig.axes if ax.get_visible() and ax.get_lines()]
    assert spans and all(lo <= 0.0 and hi >= 1.0 for lo, hi in spans), spans


def test_a_prediction_drawn_as_a_lone_ring_shows_the_ring_in_the_legend(rigor_run: Path) -> None:
    """At one T the dashed prediction and required lag have no line to draw: each is an open
    ring, which the legend (a bare dashed line) did not name, so a reader could not tell the
    ring (predicted) from the filled point (solved). Where lines are drawn the entry is bare."""

    def legend_markers(results: pd.DataFrame, cells: pd.DataFrame) -> dict[str, str]:
        report = build_report(
            results,
            cells,
            load_manifest(rigor_run),
            sections=["trainability"],
            timestamp="2026-01-01",
        )
        section = next(s for s in report.sections if s.key == "trainability")
        found = {}
        with pinned():
            # the two figures of lines (the third's "solved" is a filled point's)
            for grid in [b for b in section.blocks if isinstance(b, LineGrid)][:2]:
                legend = draw(grid).legends[0]
                for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
                    found[text.get_text()] = handle.get_marker()
        return found

    results, cells = vl.load_results(rigor_run), vl.load_cells(rigor_run)
    one_t = legend_markers(results[results["seq_len"] == 6], cells[cells["seq_len"] == 6])
    assert one_t["predicted from the gradient at init"] == "o", one_t
    assert one_t["required lag (nearest first marker)"] == "o", one_t
    both = legend_markers(results, cells)
    assert both["predicted from the gradient at init"] in ("None", "", None), both
    assert both["required lag (nearest first marker)"] in ("None", "", None), both
    # One gain: the solid lines are listed beside the dashed ones, not in the caption alone.
    assert both["solved"] in ("None", "", None) and "lag of a 1000x fall" in both, both
