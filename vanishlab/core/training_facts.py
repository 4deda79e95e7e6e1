"""The facts of a training that more than one layer states, defined once, without torch.

:data:`SOLVE_FRACTION` is the training loop's criterion (:mod:`vanishlab.train.loop`: a task is
solved when the held-out loss ends below this fraction of its chance level), and
:data:`TRAINABILITY_STEPS` the training steps of the trainability experiment
(``experiments/trainability.py``). The report states both: the criterion in the Trainability
section's captions, and both in the command that the long-dependencies section gives to test
learning (:mod:`vanishlab.report.sections.learn_command`). It read them from neither, restating
1000 and "a tenth", because the training loop imports torch and the experiment is no module of
the package; both read them here.
"""

from __future__ import annotations

__all__ = ["SOLVE_FRACTION", "TRAINABILITY_STEPS", "solve_words"]

SOLVE_FRACTION = 0.1
"""A task is solved when its held-out loss ends below this fraction of its chance level."""

TRAINABILITY_STEPS = 1000
"""The Adam steps each cell of the trainability experiment trains for."""


def solve_words(fraction: float = SOLVE_FRACTION) -> str:
    """The criterion in words, as the report's captions say it: "0.1 × chance"."""
    return f"{fraction:g} × chance"
