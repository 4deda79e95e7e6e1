"""What the Trainability section's verdicts rest on (:mod:`.trainability`): the task, its chance
level and the solve cut, the training budget, and the seeds a setting; and what the cut at
init is worth for gated cells (:func:`gated_cut_text`).

The section gave none of them: a run of one seed a setting drew "fraction solved" 0 or 1 and
said "22 of 32 trained cells (69 %)" of single training runs, and the chance level behind
"0.1 × chance" was on no page.
"""

from __future__ import annotations

import pandas as pd

from ...core.training_facts import SOLVE_FRACTION, solve_words
from ...sweep.trainability import TASK_CHANCE
from ..format import and_list, plural, py
from ..view import RunView

__all__ = ["gated_cut_text", "scoring_text"]


def scoring_text(table: pd.DataFrame, view: RunView) -> str:
    """What "solved" was scored against, and on how many runs (the module's docstring)."""
    parts = []
    for task, rows in table.groupby("task", sort=True):
        words, loss, answer = TASK_CHANCE[str(task)]  # its keys are train.TASKS (a test)
        chance = float(rows["chance_loss"].iloc[0])
        parts.append(
            f"on {words}, whose chance level is {loss} of {chance:.3g} ({answer}), solved when "
            f"the final held-out loss is below {solve_words()} ({SOLVE_FRACTION * chance:.3g})"
        )

    text = f"Each network was trained {_budget_text(table)}{and_list(parts)}."
    settings = [c for c in view.setting_columns if c in table]
    runs = table.groupby(settings, dropna=False).size() if settings else pd.Series([len(table)])
    low, high = int(runs.min()), int(runs.max())
    if high == 1:
        text += (
            " One seed a setting: each point of the figure of the solved fraction against T is "
            "a single training run, solved (1) or not (0), and the counts below are of single "
            "runs; another seed can end on the other side of the cut (docs/trainability.md)."
        )
    else:
        seeds = f"{low}" if low == high else f"{low} to {high}"
        text += f" {seeds} seeds a setting: each solved fraction against T is of that many runs."
    return text


def _budget_text(table: pd.DataFrame) -> str:
    """The training steps, optimizer and learning rate: "1000 Adam steps at lr 0.01 "; a
    budget or learning rate that differs between cells as its range, "300 to 1000 Adam steps
    at lr 0.001 to 0.01 " (each cell's is in the table), where the sentence left it out, as
    if every cell's were the one unsaid; "" where the cells have none."""

    def values(col: str) -> list[object]:
        return sorted(py(v) for v in table[col].dropna().unique()) if col in table else []

    steps, optimizers, lrs = values("train_steps"), values("optimizer"), values("lr")
    words = {"adam": "Adam", "sgd": "SGD"}
    kind = " or ".join(words.get(str(o), str(o)) for o in optimizers)
    step = f"{kind} step" if kind else "step"
    text = ""
    if steps:
        low, high = int(steps[0]), int(steps[-1])  # type: ignore[call-overload]
        text += plural(low, step) if low == high else f"{low} to {high} {step}s"
        text += " "
    if lrs:
        low_lr, high_lr = float(lrs[0]), float(lrs[-1])  # type: ignore[arg-type]
        text += f"at lr {low_lr:g} " if low_lr == high_lr else f"at lr {low_lr:g} to {high_lr:g} "
    return text


def gated_cut_text(models: set[str]) -> str:
    """What the 1000x cut and the e^-40 claim (said of nn.RNN) are worth for the run's gated
    ``models``, with docs/trainability.md's evidence for the kinds in the run. The e^-40 claim
    had been said of every cell; then an LSTM-only page was told that it did not hold, on GRUs'
    evidence alone, where LSTMs at PyTorch's default init, fallen 19 to 20 decades at the
    required lag of T = 200, solved 0 of 3 seeds."""
    text = "For LSTM and GRU cells the cut is a weaker guide than for nn.RNN, where it was set"
    if "gru" in models:
        return text + (
            ", and for GRUs the e^-40 one does not hold: in docs/trainability.md GRUs learned "
            "T = 200 with their gradient at the required lag fallen 18 to 19 decades at init."
        )
    return text + (
        ": in docs/trainability.md an LSTM learned T = 200 with its gradient at the required "
        "lag fallen 5.4 decades at init (forget_bias, 1 seed of 3)."
    )
