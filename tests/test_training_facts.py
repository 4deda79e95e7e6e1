"""The training facts the report states (the trainability experiment's 1000 steps, the loop's
criterion of a tenth of chance) are defined once, in vanishlab.core.training_facts, which the
experiment, the training loop and the report read: the report restated both (learn_command's
own TRAIN_STEPS = 1000, "a tenth of chance level", the Trainability caption's "0.1 x chance"),
so a change to either definition left the page saying the old one."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import vanishlab.train
from vanishlab.core import training_facts
from vanishlab.core.training_facts import SOLVE_FRACTION, TRAINABILITY_STEPS, solve_words
from vanishlab.report.sections import learn_command, trainability
from vanishlab.sweep.experiments import load_experiment
from vanishlab.train import train_cell

ROOT = Path(__file__).resolve().parents[1]


def test_each_fact_has_one_definition_that_the_experiment_loop_and_report_read():
    assert (SOLVE_FRACTION, TRAINABILITY_STEPS) == (0.1, 1000)
    # the training loop takes its default criterion from here
    assert inspect.signature(train_cell).parameters["solve_fraction"].default is SOLVE_FRACTION
    assert vanishlab.train.SOLVE_FRACTION is training_facts.SOLVE_FRACTION
    assert load_experiment("trainability").sweep.train_steps == (TRAINABILITY_STEPS,)
    assert solve_words() == "0.1 × chance"
    code = learn_command.learn_code("lstm", False, 1, 8, 13)
    assert f"--train-steps {TRAINABILITY_STEPS} " in code.text
    assert f"held-out loss below {solve_words()})" in code.caption
    # no second definition: the numbers are written only in training_facts
    for path, text in (
        ("experiments/trainability.py", "train_steps=1000"),
        ("vanishlab/train/loop.py", "SOLVE_FRACTION = "),
        ("vanishlab/report/sections/learn_command.py", "1000"),
        ("vanishlab/report/sections/learn_command.py", "a tenth of chance"),
        ("vanishlab/report/sections/trainability.py", "0.1 x chance"),
    ):
        assert text not in (ROOT / path).read_text(), (path, text)
    assert "solve_words" in vars(trainability)


def test_the_report_reads_them_without_torch_the_loop_or_the_experiment():
    code = (
        "import sys, vanishlab.report.sections.learn_command, vanishlab.core.training_facts\n"
        "print(sorted(n for n, m in list(sys.modules.items()) if n == 'torch'"
        " or n.startswith('vanishlab.train')"
        " or '/experiments/' in str(getattr(m, '__file__', None))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]", out.stdout
