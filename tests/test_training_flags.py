"""vanishlab.sweep.training_flags on its own: which built-in experiments the note names, and
the note's rule (the training axes given as flags that moved a grid that trains nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vanishlab.sweep import experiment_search, training_flags
from vanishlab.sweep.config import QUICK_SWEEP
from vanishlab.sweep.training_flags import training_experiments, untrained_note

TRAINS = (
    '"""{name}"""\nimport vanishlab as vl\n'
    'SWEEP = vl.Sweep(task="adding", train_steps=2, input_size=2)\n'
)
MEASURES = '"""{name}"""\nimport vanishlab as vl\nSWEEP = vl.Sweep()\n'
NO_SWEEP = '"""{name}: no SWEEP"""\n'


def _write(folder: Path, **modules: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(text.format(name=name))


@pytest.fixture
def builtin(tmp_path, monkeypatch) -> Path:
    """A folder of built-in experiments in place of the repository's; the working directory
    one without ``experiments/``."""
    folder = tmp_path / "builtin" / "experiments"
    monkeypatch.setattr(experiment_search, "builtin_experiments_dir", lambda: folder)
    monkeypatch.setattr(training_flags, "builtin_experiments_dir", lambda: folder)
    (work := tmp_path / "work").mkdir()
    monkeypatch.chdir(work)
    return folder


def test_the_experiments_named_are_the_built_in_ones_that_train(builtin):
    """Each that trains, in order; not one that measures only, nor one that does not load."""
    _write(builtin, zeta=TRAINS, alpha=TRAINS, plain=MEASURES, broken=NO_SWEEP)
    assert training_experiments() == ["alpha", "zeta"]


def test_an_experiment_of_the_working_directory_is_not_named(builtin):
    """``./experiments`` is searched first: a module there is not a built-in, and one that
    shadows a built-in is what ``vanishlab sweep NAME`` runs, so neither is offered."""
    _write(builtin, alpha=TRAINS, beta=TRAINS)
    _write(Path.cwd() / "experiments", beta=TRAINS, mine=TRAINS)
    assert training_experiments() == ["alpha"]


def _axes(**changed: tuple[object, ...]) -> dict[str, tuple[object, ...]]:
    return {**QUICK_SWEEP.axes(), **changed}


def test_the_note_names_only_the_flags_given_that_moved_the_grid(monkeypatch):
    monkeypatch.setattr(training_flags, "training_experiments", lambda: ["a", "b"])
    before = _axes()
    after = _axes(lr=(0.5,), clip=(0.0,))
    note = untrained_note(before, after, ["lr", "clip", "seed"])
    assert note is not None and "--lr 0.5 and --clip 0.0 change no measurement" in note
    assert note.endswith("or sweep an experiment that trains (a, b)")
    # an axis that moved but was not given as a flag is none of the note's
    assert untrained_note(before, after, ["seed"]) is None
    only_lr = untrained_note(before, after, ["lr"])
    assert only_lr is not None and "so --lr 0.5 changes no measurement: " in only_lr
    assert untrained_note(before, _axes(lr=(0.5,), train_steps=(5,)), ["lr"]) is None


def test_a_flag_that_repeats_the_grids_value_says_nothing_and_each_setting_is_counted(
    monkeypatch,
):
    """A recorded command replays the grid's own values (``--lr 0.01`` on a grid at 0.01):
    no note. One setting measures each cell once (no "times over"); ``--lr 0,0.5`` and
    ``--clip 1,2,3`` measure it 2 x 3 = 6 times over."""
    monkeypatch.setattr(training_flags, "training_experiments", lambda: [])
    before = _axes()
    assert untrained_note(before, _axes(), ["lr", "clip", "optimizer"]) is None
    one = untrained_note(before, _axes(lr=(0.5,)), ["lr"])
    assert one is not None and "times over" not in one
    assert one.endswith("to train, give --task and --train-steps")
    six = untrained_note(before, _axes(lr=(0.0, 0.5), clip=(1.0, 2.0, 3.0)), ["lr", "clip"])
    assert six is not None and ", the same measurement 6 times over;" in six
