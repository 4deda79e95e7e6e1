"""Mutation review of the package changes of session 53 (ad54f08..bc786bcf): each test here
failed on a small plausible change of the code it names that passed the tests of that code,
and passes on the code as it is.

Mutants tried / killed by the tests before / killed with these (2026-12-06; each run against
the test files of its code, ``pytest -x -p no:randomly -m "not slow"``):
  inputs.check_rnn                 3 / 2 / 3   gated_forward._a_call, _not_a_pair  5 / 3 / 3
  step_args.chance_number          4 / 4 / 4   manifest chance_loss check          3 / 0 / 3
  monitor_dir chance carried on    2 / 1 / 2   monitor_loss, monitor_training     10 / 7 / 9
  figures._legend_entries          2 / 0 / 2   render._figures_collected           4 / 3 / 4
  shard.reads_held, read_shard    10 / 6 / 8   checksums.content_digest            5 / 5 / 5
  package_digest (+ manifest)      5 / 5 / 5   unset_axes.without_unset            1 / 1 / 1
  trainability_scoring budget      7 / 6 / 7   trainability_agreement sides        9 / 6 / 9
  trainability table lags          7 / 6 / 6   what_to_try IRNN, gated words       9 / 7 / 9
In all 86 / 62 / 80. The 6 left are equivalent, or change nothing a user sees:
``any`` for ``all`` over a call's (h_n, c_n) in ``_a_call`` (an LSTM call's pair is always both
of the state's shape); ``len(h0[1]) == 2`` dropped there (no call returns a triple);
``chance_of``'s range guard dropped (the manifest's check refuses any other value first);
``_read_rows`` returning the table uncast (every shard this format writes, later axes added,
has the full schema already); the file size dropped from ``_identity`` (a rewrite in place
changes the ctime too); the table's untrusted-fit reason computed for an exact-zero rate too
(only its caption's list of reasons then shows, which names an exact zero among them)."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.colors import to_hex
from torch import nn

import vanishlab as vl
from vanishlab.report import figures
from vanishlab.report.figure_layout import pinned
from vanishlab.report.figures import REFERENCE_COLOR, draw
from vanishlab.report.sections.monitor_loss import loss_figure
from vanishlab.report.sections.monitor_training import _first_to_last
from vanishlab.report.sections.trainability_agreement import agreement
from vanishlab.report.sections.trainability_scoring import scoring_text
from vanishlab.sweep.schema import MONITOR_LOSS, MONITOR_STEP
from vanishlab.trained import JacobianMonitor

# --- core/inputs.py: check_rnn ---


def test_an_rnn_whose_mode_names_no_activation_is_refused() -> None:
    """A mode set to neither RNN_TANH nor RNN_RELU (its forward raises) was measured as its
    nonlinearity says where the check took the nonlinearity for the mode it could not read."""
    rnn = nn.RNN(3, 4)
    rnn.mode = "LSTM"
    with pytest.raises(ValueError, match="but its forward computes neither tanh nor relu"):
        vl.jacobian_norms(rnn, torch.randn(5, 2, 3))


# --- trained/monitor_dir.py, sweep/manifest.py: the chance level kept in the manifest ---


def _monitored(out: Path, chance: object, losses: tuple[float, ...] = (0.2, 0.1)) -> Path:
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4)
    with JacobianMonitor(rnn, torch.randn(5, 2, 2), out=out, chance_loss=chance) as mon:
        for i, loss in enumerate(losses):
            mon.step(i, loss=loss)
    return out


def test_a_reopened_run_given_another_chance_level_refuses_it(tmp_path: Path) -> None:
    """None keeps the earlier run's (tested beside it); another level given is refused (helper
    402: it replaced the earlier one without a word, test_report_monitor_chance.py)."""
    run = _monitored(tmp_path / "run", 0.5)
    with pytest.raises(vl.VanishlabError, match=r"monitored with chance_loss=0\.5, not 0\.25"):
        _monitored(run, 0.25, (0.2, 0.1, 0.05))
    assert vl.load_manifest(run)["model"]["chance_loss"] == 0.5


@pytest.mark.parametrize("bad", [0, "0.5", True, "abc", [0.5]])
def test_a_hand_edited_chance_level_of_no_number_or_zero_is_refused(tmp_path: Path, bad) -> None:
    """The page ignored each in silence (chance_of reads no string, bool or 0) where the
    manifest's check let it through."""
    run = _monitored(tmp_path / "run", 1 / 6)
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model"]["chance_loss"] = bad
    path.write_text(json.dumps(manifest))
    with pytest.raises(vl.VanishlabError, match="'model' 'chance_loss' must be a finite number"):
        vl.load_manifest(run)


# --- report/sections/monitor_loss.py, monitor_training.py: the loss beside its chance ---


def _steps(losses: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            MONITOR_STEP: np.arange(len(losses)) * 10,
            MONITOR_LOSS: losses,
            "has_loss": [True] * len(losses),
        }
    )


def test_a_chance_level_far_above_the_losses_puts_the_figure_on_a_log_scale() -> None:
    """Losses of 0.05 to 0.02 beside a chance of 1.0: on a linear axis the losses lay flat on
    its floor; the log decision takes the chance line in."""
    steps = _steps([0.05, 0.03, 0.02])
    assert not loss_figure(steps, True).log_y  # alone, within a factor 10
    grid = loss_figure(steps, True, 1.0)
    assert grid.log_y and grid.ylabel == "loss (log scale)"


def test_where_no_step_was_measured_the_losses_glance_gives_the_chance_level() -> None:
    glance = _first_to_last(_steps([0.2, 0.1]), {}, [], [], 1 / 6)
    assert glance is not None and glance.title == "From step 0 to step 10"
    assert dict(glance.items)["training loss"].endswith(" (chance 0.1667)"), glance.items


# --- report/line_legend.py (was figures._legend_entries): a measured line of no style ---


def test_the_loss_beside_its_chance_level_has_a_grey_legend_sample_of_each() -> None:
    grid = loss_figure(_steps([0.2, 0.17, 0.1]), True, 1 / 6)
    with pinned():
        fig = draw(grid)
        (legend,) = fig.legends
        entries = [
            (text.get_text(), handle.get_linestyle(), to_hex(handle.get_color()))
            for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True)
        ]
    assert [(t, s) for t, s, _ in entries] == [("training loss", "-"), ("chance level", "--")]
    assert {c for _, _, c in entries} == {REFERENCE_COLOR}, entries  # the lines' own grey


# --- report/render.py: _figures_collected ---


def test_each_figure_is_freed_before_the_next_one_is_drawn(tmp_path, monkeypatch) -> None:
    """With the collector paused, a figure not collected after it is written lived on (its
    artists refer to one another) until the collector was given back: the test beside it looked
    only after the page was written."""
    grid = vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2, gain=(0.5, 1.5))
    run = tmp_path / "run"
    vl.run_sweep(grid, run, workers=1, progress=False)
    drawn: list[weakref.ref] = []
    alive: list[int] = []
    real = figures.draw

    def draw_one(block):
        alive.append(sum(ref() is not None for ref in drawn))
        fig = real(block)
        drawn.append(weakref.ref(fig))
        return fig

    monkeypatch.setattr(figures, "draw", draw_one)
    assert gc.isenabled()
    vl.render_report(run, tmp_path / "r.html")
    assert len(drawn) > 1 and alive == [0] * len(drawn), alive


# --- report/sections/trainability_scoring.py: _budget_text ---


def test_a_budget_range_is_said_low_to_high_whatever_the_cells_order() -> None:
    table = pd.DataFrame(
        {
            "task": ["adding"] * 2,
            "chance_loss": [1 / 6] * 2,
            "train_steps": [1000, 300],
            "optimizer": ["sgd", "adam"],
            "lr": [0.01, 0.001],
            "seq_len": [10, 10],
        }
    )
    view = SimpleNamespace(setting_columns=["train_steps", "optimizer", "lr", "seq_len"])
    assert scoring_text(table, view).startswith(
        "Each network was trained 300 to 1000 Adam or SGD steps at lr 0.001 to 0.01 on the "
    )


# --- report/sections/trainability_agreement.py: _sides_text of one cell ---


def _one(predicted: bool, solved: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "predicted": [predicted],
            "solved": [solved],
            "drop_at_required": [2.0 if predicted else 5.0],
            "zero_at_lag0": [False],
            "final_loss": [0.01 if solved else 0.2],
        }
    )


def test_one_cell_whose_gradient_had_not_fallen_is_said_with_its_outcome() -> None:
    fell = "Its gradient had not fallen 1000x by the required lag"
    assert f"{fell}, and it solved the task." in agreement(_one(True, True))
    assert f"{fell}, but it did not solve the task." in agreement(_one(True, False))
    assert "and it solved the task anyway." in agreement(_one(False, True))


def test_cells_exactly_zero_at_lag0_on_one_side_are_said_to_be() -> None:
    """Every cell (or the one) predicted to fail, one of them exactly 0 at lag 0 and at the
    required lag: the sentence says what 'fallen' meant of it, as the two-sided one does."""
    zero = " (or was exactly 0 there, and at lag 0)"
    every = _one(False, False)
    every = pd.concat([every, every.assign(zero_at_lag0=True)], ignore_index=True)
    assert f"Every cell's gradient had fallen 1000x by the required lag{zero}, and" in agreement(
        every
    )
    alone = _one(False, False).assign(zero_at_lag0=True)
    assert f"Its gradient had fallen 1000x by the required lag{zero}, and" in agreement(alone)


# --- sweep/shard.py: read_shard within reads_held ---


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("held") / "run"
    vl.run_sweep(
        vl.Sweep(hidden_size=4, input_size=2, seq_len=4, batch=2, gain=(0.5, 1.5)),
        out,
        workers=1,
        progress=False,
    )
    return out


def test_a_shard_held_without_its_rows_is_read_again_for_them(swept: Path) -> None:
    """A read of the metadata alone held, a later read asking for the rows got None: the
    report reads rows first, a reader in the other order got a shard with no rows."""
    from vanishlab.sweep.shard import read_shard, reads_held, shard_paths

    path = next(iter(shard_paths(swept)))
    with reads_held():
        meta, none = read_shard(path, rows=False)
        _, table = read_shard(path, rows=True)
    assert none is None and table is not None and table.num_rows == meta["n_rows"] > 0


def test_every_held_read_gives_its_own_copy_of_the_metadata(swept: Path) -> None:
    """The first read's copy was tested; a later one's handed out the held dict itself, so a
    caller's change to it was what every read after it gave."""
    from vanishlab.sweep import store

    with store.reads_held():
        store.read_cell_metas(swept)
        for meta in store.read_cell_metas(swept).values():
            meta["status"] = "changed"
        again = store.read_cell_metas(swept)
    assert {m["status"] for m in again.values()} == {"ok"}


# --- report/sections/what_to_try.py: the evidence said only where the commands' T is long ---


def test_a_short_tanh_pages_advice_gives_no_gated_or_irnn_evidence() -> None:
    """The gated cells' evidence came with 'was not enough to learn' (T >= 40) before it was
    moved after the gated sentence; a page of T = 16 read it without what it answers."""
    from vanishlab.report.sections.what_to_try import what_to_try

    arch = {"kind": "rnn", "num_layers": 1, "hidden_size": 32, "input_size": 2}
    code = what_to_try({**arch, "nonlinearity": "tanh"}, "vanishing", 16, 8)
    assert code is not None and "--seq-len 16 " in code.text
    assert "GRUs learned" not in code.caption and "IRNN" not in code.caption, code.caption
    assert "the second command measures LSTM and GRU" in code.caption


def test_a_tanh_pages_irnn_command_writes_to_a_relu_folder() -> None:
    """The IRNN command sweeps relu networks: under the tanh page's own folder name
    (runs/try-irnn-rnn-tanh-1x32) its run read as a tanh one."""
    from vanishlab.report.sections.what_to_try import what_to_try

    arch = {"kind": "rnn", "num_layers": 1, "hidden_size": 32, "input_size": 2}
    code = what_to_try({**arch, "nonlinearity": "tanh"}, "vanishing", 200, 18)
    assert code is not None
    (irnn,) = [line for line in code.text.splitlines() if "--activation relu" in line]
    assert irnn.rstrip(" \\").endswith("--out runs/try-irnn-rnn-relu-1x32"), code.text
