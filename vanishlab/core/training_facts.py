"""The facts of a training that more than one layer states, defined once, without torch.

:data:`SOLVE_FRACTION` is the training loop's criterion (:mod:`vanishlab.train.loop`: a task is
solved when the held-out loss ends below this fraction of its chance level), and
:data:`TRAINABILITY_STEPS` the training steps of the trainability experiment
(``experiments/trainability.py``). The report states both: the criterion in the Trainability
section's captions, and both in the command that the long-dependencies section gives to test
learning (:mod:`vanishlab.report.sections.learn_command`). It read them from neither, restating
1000 and "a tenth", because the training loop imports torch and the experiment is no module of
the package; both read them here.

:func:`chance_level` is the one rule of a task's chance level as a monitor records it (its
``chance_loss``): what the monitor takes (:func:`vanishlab.trained.step_args.chance_number`),
what a manifest may hold (checked by :func:`vanishlab.sweep.manifest.load_manifest`) and what
its page draws (:func:`vanishlab.report.sections.monitor_loss.chance_of`) all read it, where
each wrote the rule of its own.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["SOLVE_FRACTION", "TRAINABILITY_STEPS", "chance_level", "solve_words"]

SOLVE_FRACTION = 0.1
"""A task is solved when its held-out loss ends below this fraction of its chance level."""

TRAINABILITY_STEPS = 1000
"""The Adam steps each cell of the trainability experiment trains for."""


def solve_words(fraction: float = SOLVE_FRACTION) -> str:
    """The criterion in words, as the report's captions say it: "0.1 × chance"."""
    return f"{fraction:g} × chance"


def chance_level(value: object) -> float | None:
    """``value`` as a task's chance level, the loss of its input-free answer: a real number
    (a Python or NumPy float or int; not a bool) whose float is finite and > 0, as that float;
    None for anything else (None, a bool, a string, 0, a negative number, NaN, inf, and an
    integer too large for a float, whose float() raised OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        level = float(value)
    except OverflowError:
        return None
    return level if 0 < level < math.inf else None
