"""User mistakes caught early and clearly: impossible grids, experiments looked up by name."""

import re
from pathlib import Path

import pytest

import vanishlab as vl
from vanishlab.errors import VanishlabError
from vanishlab.report import source_date
from vanishlab.sweep.config import TASK_INPUT_SIZES, TASK_MIN_SEQ_LEN
from vanishlab.sweep.experiments import (
    DEFAULT_EXPERIMENT,
    Experiment,
    experiment_dirs,
    load_experiment,
    variant,
)
from vanishlab.train import TASKS, make_task


def test_task_input_sizes_are_the_tasks() -> None:
    assert set(TASK_INPUT_SIZES) == set(TASKS)
    for name, size in TASK_INPUT_SIZES.items():
        assert make_task(name, 10).input_size == size
    assert set(TASK_MIN_SEQ_LEN) == set(TASKS)
    for name, shortest in TASK_MIN_SEQ_LEN.items():
        assert make_task(name, 10).min_seq_len == shortest


@pytest.mark.parametrize(
    ("axes", "message"),
    [
        (
            {"task": "none", "train_steps": 5},
            "train_steps= above 0 needs a task=, adding or recall",
        ),
        # The user gave a task: it said "needs a task (--task adding or recall)" alone, which
        # did not say why a grid with adding in it could not train.
        (
            {"task": ("adding", "none"), "input_size": 2, "train_steps": (0, 5)},
            "needs a task=, adding or recall: a grid pairs every task with every "
            "train_steps, and task none with train_steps 5 cannot train; sweep task none as "
            "a grid of its own (--force adds the other grid to the same --out)",
        ),
        (
            {"task": "adding", "input_size": 2, "train_steps": 5, "lr": 0.0},
            "lr= must be above 0",
        ),
        ({"task": "adding"}, "set input_size=2 (got 16)"),
        ({"task": "recall", "input_size": (8, 2)}, "set input_size=8 (got 2)"),
        # adding needs 2 channels and recall 8: every input_size failed one of them, and the
        # refusal sent the user from --input-size 2 to 8 and back (helper 282).
        (
            {"task": ("adding", "recall"), "input_size": (2, 8), "train_steps": 5},
            "task= adding,recall cannot share a grid: each task feeds its own number of "
            "channels per step (adding 2 and recall 8), and a grid pairs every task with "
            "every input_size=; sweep each task as a grid of its own, at its input size",
        ),
        ({"task": ("none", "recall"), "input_size": 2}, "set input_size=8 (got 2)"),
        # It used to run, fail the cell with a ValueError, and leave a run no report could read.
        (
            {"task": "adding", "input_size": 2, "seq_len": (1, 10)},
            "task='adding' needs sequences of at least 2 steps: seq_len=1 is",
        ),
    ],
)
def test_impossible_training_grid_is_refused(axes: dict, message: str) -> None:
    with pytest.raises(VanishlabError, match=re.escape(message)):
        vl.Sweep(hidden_size=8, **axes)
    if not any(isinstance(v, tuple) for v in axes.values()):  # one cell: refused alike
        with pytest.raises(VanishlabError, match=re.escape(message)):
            vl.CellConfig(hidden_size=8, **axes)


def test_train_steps_beyond_what_a_shard_stores_are_refused_before_anything_runs() -> None:
    """--train-steps 2**63 was accepted; a cell that stopped early (diverged) then failed to
    write its shard with pyarrow's traceback ("not in range"): the column is int64."""
    grid = {"task": "adding", "input_size": 2}
    with pytest.raises(VanishlabError, match=re.escape(f"between 0 and 2**63 - 1, got {2**63}")):
        vl.Sweep(**grid, train_steps=2**63)
    assert vl.Sweep(**grid, train_steps=2**63 - 1).size == 1


def test_possible_training_grids_are_accepted() -> None:
    assert vl.Sweep(task="adding", input_size=2, train_steps=(0, 5)).size == 2
    assert vl.Sweep(task=("adding", "none"), input_size=2, train_steps=0).size == 2
    assert vl.Sweep(task="none", lr=0.0).size == 1
    assert vl.Sweep(task="recall", input_size=8, train_steps=0, lr=0.0).size == 1


def test_experiments_are_found_by_name_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout's experiments/ (beside vanishlab/) is searched when the cwd has none."""
    monkeypatch.chdir(tmp_path)
    repo_experiments = Path(vl.__file__).resolve().parent.parent / "experiments"
    assert experiment_dirs() == [repo_experiments]
    assert load_experiment("trainability").name == "trainability"


def test_a_flag_clashing_with_the_base_grid_says_where_the_other_axes_come_from() -> None:
    with pytest.raises(VanishlabError) as err:
        variant(DEFAULT_EXPERIMENT, overrides={"model": ("lstm",)})
    assert str(err.value).endswith(
        "; the quick default grid sets init = default,orthogonal,normal,identity: "
        "give --init too, e.g. --init default"
    ), err.value


def test_the_init_hint_stays_beside_a_flag_that_applies_to_none_of_the_models() -> None:
    """`sweep --model lstm --activation relu`: the init clash came first and lost its "give
    --init too" once Sweep.replace refused the dropped relu (AxisSet.refuse_dropped), since
    each mend was asked of the flags again; --init default then names the activation's own."""
    with pytest.raises(VanishlabError) as err:
        variant(DEFAULT_EXPERIMENT, overrides={"model": ("lstm",), "activation": ("relu",)})
    assert str(err.value).startswith("init 'normal' does not apply to model 'lstm'"), err.value
    assert str(err.value).endswith("give --init too, e.g. --init default"), err.value
    with pytest.raises(VanishlabError) as err:
        variant(
            DEFAULT_EXPERIMENT,
            overrides={"model": ("lstm",), "activation": ("relu",), "init": ("default",)},
        )
    # the flag's own fault: no other axis mends it, and none is hinted at
    assert "relu would be dropped" in str(err.value), err.value
    assert "quick default grid" not in str(err.value), err.value


@pytest.mark.parametrize(
    ("overrides", "hint"),
    [
        # The init is the experiment's: the message said nothing of --init.
        ({"model": ("gru",)}, "; experiment trainability sets init = normal: give --init too"),
        # The bad value is the flag's own: "the axes not given as flags ..." sent the user to
        # the wrong place.
        ({"model": ("gru",), "init": ("default",), "seq_len": (1,)}, None),
        ({"input_size": (1,)}, None),
        ({"seq_len": (1,)}, None),
    ],
)
def test_a_clash_with_the_experiment_hints_at_the_flag_that_fixes_it(overrides, hint) -> None:
    with pytest.raises(VanishlabError) as err:
        variant(load_experiment("trainability"), smoke=True, overrides=overrides)
    message = str(err.value)
    if hint:
        assert hint in message and message.endswith("e.g. --init default"), message
    else:
        assert "experiment trainability" not in message and "flag" not in message, message


def test_a_gate_init_on_the_gated_experiment_hints_at_the_models_it_applies_to() -> None:
    """`sweep gated --init forget_bias` was refused for model 'rnn', which the user never gave,
    with no word of the experiment's model axis: the hint tried only each axis's default (rnn),
    which cannot mend it. The part of the experiment's own models that the init fits does."""
    exp = load_experiment("gated")
    with pytest.raises(VanishlabError) as err:
        variant(exp, smoke=True, overrides={"init": ("forget_bias", "chrono")})
    assert str(err.value).endswith(
        "; experiment gated sets model = rnn,lstm,gru: give --model too, e.g. --model lstm,gru"
    ), err.value
    fixed = variant(exp, smoke=True, overrides={"init": ("chrono",), "model": ("lstm", "gru")})
    assert fixed.sweep.size > 0


@pytest.mark.parametrize("value", ["soon", "", "99999999999999999", "-99999999999999999999"])
def test_a_malformed_source_date_epoch_is_an_error_like_a_non_integer(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reproducible-builds convention: refused in one line (tests/test_report.py has the CLI).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(VanishlabError, match="SOURCE_DATE_EPOCH"):
        source_date()


@pytest.mark.parametrize(
    ("workers", "error", "match"),
    [
        (0, VanishlabError, r"^workers=: must be at least 1, got 0$"),
        (1.5, TypeError, r"^workers must be a positive integer or None, got float"),
        ("2", TypeError, r"^workers must be a positive integer or None, got str"),
        (True, TypeError, r"^workers must be a positive integer or None, got bool"),
    ],
)
def test_run_sweep_takes_a_positive_integer_of_workers(tmp_path, workers, error, match) -> None:
    # 1.5 was taken; "2" raised a TypeError deep inside, then a VanishlabError, the error of a
    # wrong value (the command line's): a value of the wrong type is a TypeError, as elsewhere.
    with pytest.raises(error, match=match):
        vl.run_sweep(vl.Sweep(hidden_size=4, seq_len=3), tmp_path / "r", workers=workers)
    assert not (tmp_path / "r").exists()


def test_run_sweep_refuses_a_typo_in_an_experiments_sections(tmp_path) -> None:
    # Only the command line checked SECTIONS: vl.run_sweep swept, and the report then left the
    # misspelt section out.
    module = tmp_path / "typo.py"
    module.write_text(
        '"""Typo."""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\nSECTIONS = ["decya"]\n'
    )
    with pytest.raises(
        VanishlabError, match=r"SECTIONS: unknown report section 'decya' \(did you mean 'decay'\?\)"
    ):
        vl.run_sweep(module, tmp_path / "r")
    assert not (tmp_path / "r").exists()
    with pytest.raises(
        VanishlabError, match=r"unknown report section 'gian' \(did you mean 'gain'\?\)"
    ):
        Experiment(name="x", description="", sweep=vl.Sweep(), sections=("rates", "gian"))
    # A string is not a list of names (it was read letter by letter); a list is kept as a tuple.
    with pytest.raises(VanishlabError, match="SECTIONS must be a list or tuple of section names"):
        Experiment(name="x", description="", sweep=vl.Sweep(), sections="decay")
    for odd in (5, (s for s in ["decay", "rates"])):  # a TypeError; a generator emptied
        with pytest.raises(
            VanishlabError, match="SECTIONS must be a list or tuple of section names"
        ):
            Experiment(name="x", description="", sweep=vl.Sweep(), sections=odd)
    exp = Experiment(name="x", description="", sweep=vl.Sweep(), sections=["decay"])
    assert exp.sections == ("decay",) and hash(exp)


def test_the_report_builds_every_section_name_of_a_sweep_page_in_order() -> None:
    from vanishlab.report.sections import SECTIONS, SWEEP_BUILDERS
    from vanishlab.sweep.section_names import SWEEP_SECTION_NAMES

    assert set(SWEEP_BUILDERS) == set(SWEEP_SECTION_NAMES)  # no builder left without a name
    assert tuple(k for k, _ in SECTIONS) == SWEEP_SECTION_NAMES
