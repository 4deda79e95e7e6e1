"""The long-dependencies section's test of learning (:mod:`.long_deps`): the
``vanishlab sweep trainability`` command that trains fresh networks of the analysed model's
kind and size on the adding problem at dependencies around the lag its verdict names, from
PyTorch's default init and from the init the section suggests, so that its report says
whether such a network learns a dependency that long (docs/trainability.md).

The adding problem's first marked value lies at least T - floor(T/2) steps back
(:func:`vanishlab.sweep.trainability.required_lag`): T = 2 L asks for a dependency of L
steps. The lags tried are half, once and twice the verdict's, up to :data:`MAX_LEARN_LAG`
(T = 400): past it, a quarter, half and all of the cap, which the caption says.
"""

from __future__ import annotations

import math

from ...core.training_facts import TRAINABILITY_STEPS, solve_words
from ...sweep.section_names import TRAINABILITY
from ...sweep.trainability import required_lag
from ..format import and_list, plural
from ..model import Code

__all__ = [
    "GATED_INITS",
    "GATE_INITS",
    "IRNN_INITS",
    "LEARN_TITLE",
    "MAX_LEARN_LAG",
    "ORTHOGONAL_INITS",
    "folder_words",
    "learn_code",
    "learn_lags",
]

LEARN_TITLE = "Does a network of this kind learn a dependency that long?"

#: The inits the section's commands set beside PyTorch's default (``--init``), here and in
#: :mod:`.long_deps`'s "What to try": a gated cell's forget-gate bias and chrono, an orthogonal
#: W_hh, and the IRNN's identity W_hh.
GATE_INITS = ("forget_bias", "chrono")
GATED_INITS = ",".join(("default", *GATE_INITS))
ORTHOGONAL_INITS = "default,orthogonal"
IRNN_INITS = "default,identity"

#: The inits an nn.RNN's command trains from, by its activation, with their words (an LSTM's
#: or a GRU's: :func:`_gate_inits`, those its "What to try" suggests).
_INITS = {
    "tanh": (ORTHOGONAL_INITS, "an orthogonal init"),
    "relu": (IRNN_INITS, "the IRNN init (identity)"),
}


def _gate_inits(suggested: tuple[str, ...]) -> tuple[str, str, str]:
    """An LSTM's or GRU's ``--init``, the caption's words for it and a sentence on the inits
    left out: PyTorch's default and the gate inits its "What to try" suggests (``suggested``,
    of :data:`GATE_INITS`: :func:`.what_to_try.suggested_gate_inits`). A model whose gates
    keep its state as long as both inits' was told that no swept init keeps it longer, and
    still had both trained."""
    inits = ",".join(("default", *suggested))
    if suggested == GATE_INITS:
        return inits, "from PyTorch's default init and from forget_bias and chrono", ""
    if suggested:
        left = and_list([i for i in GATE_INITS if i not in suggested])
        return (
            inits,
            f"from PyTorch's default init and from {and_list(list(suggested))}",
            f" It leaves out {left}, which keeps the state no longer than this model's gates "
            "do, as What to try says.",
        )
    return (
        inits,
        "from PyTorch's default init alone",
        " It trains no gate init: neither forget_bias nor the built-in chrono keeps the state "
        "longer than this model's gates do, as What to try says. An init of yours registered "
        "in an experiment module (a chrono init of a longer T_max) is trained by adding its "
        "name to --init.",
    )


def folder_words(kind: str, relu: bool, num_layers: int, hidden_size: int) -> str:
    """The end of the --out folder of a command the section gives for this model, one per kind
    and size (``rnn-tanh-2x16``, ``lstm-1x8``): one folder for every page's command was
    refused when a second model's ran, the folder holding another grid."""
    words = f"rnn-{'relu' if relu else 'tanh'}" if kind == "rnn" else kind
    return f"{words}-{num_layers}x{hidden_size}"


#: The longest dependency the command trains at (T = 2 x 200 = 400). A step back-propagates
#: through T steps, so a command's time grows with T: the times measured are in the caption
#: (:func:`_cap_words`) and docs/trainability.md. Capped, the longest command takes minutes.
MAX_LEARN_LAG = 200


def learn_lags(lag: int) -> tuple[int, ...]:
    """The dependencies tried around the verdict's ``lag``: half, once and twice it, or where
    twice it is past :data:`MAX_LEARN_LAG`, a quarter, half and all of that cap."""
    top = min(2 * lag, MAX_LEARN_LAG)
    return tuple(sorted({max(1, math.ceil(top / 4)), max(1, math.ceil(top / 2)), top}))


def _cap_words(lag: int) -> str:
    """What the caption says where twice ``lag`` is past the cap: why, what it tests instead
    and, where the verdict's length is past the cap, how to test it all the same (one within
    the cap lies between the lags tried: "give --seq-len 300, at that cost" was said of a T
    below the command's own 400)."""
    reach = (
        f", not one of {lag}. To test {lag} steps all the same, give --seq-len {2 * lag}, at "
        "that cost"
        if lag > MAX_LEARN_LAG
        else ""
    )
    return (
        f" Twice the {lag} steps above would ask for T = {4 * lag}, and each step "
        f"back-propagates through T steps: on one CPU core, {TRAINABILITY_STEPS} steps of a "
        "network of hidden size 16 took about 25 s at T = 200 and 12 to 17 minutes at "
        "T = 2800 (an nn.RNN, an LSTM). So it stops at a dependency of "
        f"{MAX_LEARN_LAG} steps (T = {2 * MAX_LEARN_LAG}), and says whether a network of this "
        f"kind learns one that long{reach}."
    )


def learn_code(
    kind: str,
    relu: bool,
    num_layers: int,
    hidden_size: int,
    lag: int,
    suggested: tuple[str, ...] = GATE_INITS,
) -> Code:
    """The command that trains networks of this kind at dependencies around ``lag`` steps, and
    what it measures and costs; an LSTM or a GRU from PyTorch's default and the gate inits
    ``suggested`` (those its "What to try" suggests)."""
    lengths = [2 * k for k in learn_lags(lag)]
    back = [required_lag("adding", t) for t in lengths]  # T = 2 k: k steps back, the lags tried
    key = kind if kind != "rnn" else ("relu" if relu else "tanh")
    if kind == "rnn":
        inits, init_words = _INITS[key]
        words, left_out = f"from PyTorch's default init and from {init_words}", ""
    else:
        inits, words, left_out = _gate_inits(suggested)
    model = f"--model rnn --activation {key}" if kind == "rnn" else f"--model {kind}"
    line = (
        f"vanishlab sweep trainability {model} --init {inits} --gain 1 "
        f"--num-layers {num_layers} --hidden-size {hidden_size} "
        f"--seq-len {','.join(map(str, lengths))} --train-steps {TRAINABILITY_STEPS} "
        f"--out runs/try-learn-{folder_words(kind, relu, num_layers, hidden_size)}"
    )
    n = len(lengths) * len(inits.split(","))
    capped = 2 * lag > MAX_LEARN_LAG
    where = f"short of the {lag} steps above" if lag > back[-1] else f"around the {lag} steps above"
    cost = (
        _cap_words(lag)
        if capped
        else " Each step back-propagates through T steps: docs/trainability.md measured 2 to "
        "10 s a network at hidden size 32 and T ≤ 80 on one CPU core"
        # its table: a GRU's 300 steps took 4.1 s at T = 50, 14 s for the command's (the sweep's
        # estimate at T = 56: 14.5 s), where the range alone was told of a GRU's page
        + (", a GRU about twice that" if kind == "gru" else "")
        + ", and the time grows with T, the layers and the hidden size."
    )
    caption = (
        f"This trains {plural(n, 'fresh network')} of this kind and size (input size 2, the "
        f"task's), {words}, for {TRAINABILITY_STEPS} "
        f"Adam steps each on the adding problem at T = {and_list([str(t) for t in lengths])}, "
        f"whose first marked value lies at least {and_list([str(k) for k in back])} steps "
        f"back: {where}.{left_out} Its report's {TRAINABILITY.title} section says which networks "
        f"learned the task (held-out loss below {solve_words()}) beside the gradient each "
        "had at initialisation. It trains new networks, not these weights, and one that fails "
        f"in {TRAINABILITY_STEPS} steps might learn in more.{cost} --dry-run first shows the "
        "cells, the memory each needs and the time they take."
    )
    return Code(LEARN_TITLE, line, caption)
