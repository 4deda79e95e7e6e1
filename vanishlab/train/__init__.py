"""Training small recurrent networks on long-memory tasks, to set trainability beside gradients.

:mod:`.tasks` holds the tasks (the adding problem, recall-the-first-token) with their chance
levels; :mod:`.loop` the seeded training loop :func:`train_cell`. Pure like
:mod:`vanishlab.analysis`: it imports torch and nothing above it in vanishlab.
"""

from .loop import OPTIMIZERS, SOLVE_FRACTION, TrainResult, train_cell
from .tasks import TASKS, AddingProblem, RecallFirst, Task, make_task

__all__ = [
    "OPTIMIZERS",
    "SOLVE_FRACTION",
    "TASKS",
    "AddingProblem",
    "RecallFirst",
    "Task",
    "TrainResult",
    "make_task",
    "train_cell",
]
