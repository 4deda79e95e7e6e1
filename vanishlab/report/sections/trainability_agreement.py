"""How often the Trainability section's prediction at init and the outcome agree
(:mod:`.trainability`): the counts of each side of the 1000x cut, the falls among solved and
failed cells, the cells exactly 0 at lag 0 and the diverged ones, and what the cut is worth.

Each side of the cut is counted only where cells are on it: a run whose every cell was
predicted to fail read "of the 0 cells whose gradient had not, 0 did", a sentence about an
empty group (:func:`_sides_text`).
"""

from __future__ import annotations

import math

import pandas as pd

from ...core.cells import RNN_THEORY_MODELS
from ...sweep.trainability import DROP_DECADES
from ..format import fixed, plural
from .trainability_panels import OUTCOME_TITLE
from .trainability_scoring import gated_cut_text

__all__ = ["ZERO_AT_LAG0", "agreement", "decades_prose", "decades_text", "diverged_text"]

#: The lag of a 1000x drop of a cell whose norm is exactly 0 at lag 0 (no value to fall from).
ZERO_AT_LAG0 = "exact 0 at lag 0"


def agreement(table: pd.DataFrame, drawn: pd.DataFrame | None = None) -> str:
    """How often the prediction and the outcome agree, and where the two cross: of every
    trained cell (``table``), as the table lists them. The falls where the two cross are
    named as points of the outcome figure where its panels (``drawn``: their cells; None
    where every cell's panel is drawn) hold them, else as the table's: past MAX_PANELS the
    figure's highest filled point was named of a fall in a panel left out."""
    n = len(table)
    agree = int((table["predicted"] == table["solved"]).sum())
    solved, failed = table[table["solved"]], table[~table["solved"]]
    text = (
        f"The gradient at initialisation called the outcome of {agree} of "
        f"{plural(n, 'trained cell')} ({100 * agree / n:.0f} %) right.{diverged_text(table)} "
        + _sides_text(table)
    )
    # Falls measured from a lag-0 value (none where the norm is exactly 0 at lag 0).
    solved_drops = solved["drop_at_required"].dropna()
    failed_drops = failed["drop_at_required"].dropna()
    if len(solved_drops):
        text += (
            " The largest fall at the required lag among solved cells was "
            f"{decades_prose(solved_drops.max())}"
        )
        points, named = "the highest filled point", [(solved_drops.max(), True)]
        if len(failed_drops):
            text += f", the smallest among failed ones {decades_prose(failed_drops.min())}"
            points += " and the lowest open one"
            named.append((failed_drops.min(), False))
        text += (
            f" ({points} of the figure '{OUTCOME_TITLE}')."
            if drawn is None or all(_drawn(drawn, fall, did) for fall, did in named)
            else " (the table's 'decades at required'; not in the panels drawn of the figure "
            f"'{OUTCOME_TITLE}')."
        )
    zero = int(table["zero_at_lag0"].sum())
    if zero:
        text += (
            f" {plural(zero, 'cell')} had a gradient exactly 0 at lag 0 ('{ZERO_AT_LAG0}' in the "
            "table), "
            "with nothing to fall from: predicted to fail only where the gradient at the "
            "required lag is exactly 0 too."
        )
    text += (
        " The gradient moves away from its value at init as the network trains, and the "
        "optimizer rescales small gradients, so the cut marks where learning gets hard, not a "
        "wall; an nn.RNN's gradient fallen e^-40 (17 decades) over the lag was never learned in "
        "our tests (docs/trainability.md), and a surviving one does not guarantee learning "
        "within the budget."
    )
    if "model" in table and (~table["model"].isin(RNN_THEORY_MODELS)).any():
        text += " " + gated_cut_text(set(table["model"]))
    return text


def _drawn(drawn: pd.DataFrame, fall: float, solved: bool) -> bool:
    """Whether a cell of ``drawn`` that did (``solved``) or did not solve the task fell
    ``fall``: a point of the outcome figure at that height, filled or open."""
    at = drawn[drawn["solved"].astype(bool) == solved]
    return bool((at["drop_at_required"] == fall).any())


def _sides_text(table: pd.DataFrame) -> str:
    """How many cells on each side of the cut solved the task: "Of the 2 cells whose gradient
    had fallen 1000x by the required lag, 0 solved the task anyway; of the 2 cells whose
    gradient had not, 2 did." ("0 solved it anyway" read "it" as the required lag.) A side with
    no cell is not counted: where every cell is on one side, the sentence says so ("Every
    cell's gradient had fallen ..., and 1 of the 3 solved the task anyway"), where it read "of
    the 0 cells whose gradient had not, 0 did"."""
    pred_no, pred_yes = table[~table["predicted"]], table[table["predicted"]]
    # Cells exactly 0 at lag 0 and at the required lag fell nothing: their gradient was 0.
    zero_there = " (or was exactly 0 there, and at lag 0)" if pred_no["zero_at_lag0"].any() else ""
    fell = f"fallen {10**DROP_DECADES:.0f}x by the required lag"
    n = len(table)
    no_solved, yes_solved = int(pred_no["solved"].sum()), int(pred_yes["solved"].sum())
    if len(pred_no) and len(pred_yes):
        return (
            f"Of the {plural(len(pred_no), 'cell')} whose gradient had {fell}{zero_there}, "
            f"{no_solved} solved the task anyway; of the {plural(len(pred_yes), 'cell')} whose "
            f"gradient had not, {yes_solved} did."
        )
    if n == 1:
        did = bool(table["solved"].iloc[0])
        if len(pred_no):
            outcome = "and it solved the task anyway" if did else "and it did not solve the task"
            return f"Its gradient had {fell}{zero_there}, {outcome}."
        outcome = "and it solved the task" if did else "but it did not solve the task"
        return f"Its gradient had not {fell}, {outcome}."
    if len(pred_no):
        some = (
            f"{no_solved} of the {n} solved the task anyway"
            if no_solved
            else "none solved the task"
        )
        return f"Every cell's gradient had {fell}{zero_there}, and {some}."
    some = f"{yes_solved} of the {n} solved the task" if yes_solved else "none solved the task"
    return f"No cell's gradient had {fell}, and {some}."


def diverged_text(table: pd.DataFrame) -> str:
    """How many trained cells diverged (no final loss: 'diverged' in the table), which count as
    not solved in the counts around it; "" when none did."""
    n, diverged = len(table), int(table["final_loss"].isna().sum())
    if not diverged:
        return ""
    who = ("It" if n == 1 else f"All {n}") if diverged == n else f"{diverged} of them"
    return (
        f" {who} diverged in training (an inf or NaN loss: 'diverged' in the table) and "
        f"{'counts' if diverged == 1 else 'count'} as not solved."
    )


def decades_text(value: float) -> str:
    """Decades fallen: ``4.2``; ``∞ (exact 0)`` where the gradient is exactly 0; ``—`` where
    nothing could fall (the norm exactly 0 at lag 0). A fall that one decimal would round onto
    the cut but is not on it takes the digits that tell its side: 2.96 read "3.0" beside a
    prediction to solve (under the cut), 3.04 is "3.04" (at most 6 decimals)."""
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞ (exact 0)"
    places = 1
    while places < 6 and value != DROP_DECADES and round(value, places) == DROP_DECADES:
        places += 1
    return fixed(value, places)


def decades_prose(value: float) -> str:
    """A fall in a sentence, with its unit: ``4.2 decades``; ``∞ decades (exact 0)``."""
    text = decades_text(value)
    return text.replace(" (", " decades (") if math.isinf(value) else f"{text} decades"
