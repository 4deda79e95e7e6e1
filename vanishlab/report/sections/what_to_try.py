"""The "What to try" block of a trained model's page (:mod:`.long_deps`): ``vanishlab sweep``
commands of the built-in inits and experiments at the model's size, keyed to its kind (nn.RNN
tanh or relu, LSTM, GRU) and to the verdict's regime, at a T that reaches past the verdict's
length of dependency (:func:`.try_length.try_seq_len`)."""

from __future__ import annotations

import math
from typing import Any

from ...sweep.catalog import CHRONO_MEMORY, CHRONO_T_MAX, FORGET_BIAS_MEMORY
from ...sweep.config import MODELS
from ..format import plural
from ..model import Code
from .learn_command import GATE_INITS, GATED_INITS, IRNN_INITS, ORTHOGONAL_INITS, folder_words
from .settling import gate_words
from .try_length import seq_len_words, try_seq_len

__all__ = [
    "sizes_of",
    "suggested_gate_inits",
    "what_to_try",
]


def sizes_of(arch: dict[str, Any]) -> list[int] | None:
    """The model's layers, hidden size and input size; None where the architecture is not an
    nn.RNN, LSTM or GRU of positive whole sizes (no command can be given for it)."""
    sizes = [arch.get(k) for k in ("num_layers", "hidden_size", "input_size")]
    if arch.get("kind") not in MODELS:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes):
        return None
    return sizes  # type: ignore[return-value]


#: How an nn.RNN's page says its gated commands, by their place among its commands
#: (:data:`_ORDINALS`): one measures LSTM and GRU beside this kind in one report, the next
#: their gate inits (:data:`_GATE_INITS_SAID`, after what the project's runs found of gated
#: cells where the page says it). One sentence a command, parentheses never nested (it was one
#: sentence of 110 words, three parentheses deep).
_BESIDE = (
    " Or try a gated cell: the {nth} command measures LSTM and GRU beside this kind in one "
    "report, at PyTorch's default init and an orthogonal one."
)
_GATE_INITS_SAID = " The {nth} command measures their gate inits: "
_ORDINALS = ("first", "second", "third", "fourth")


#: What a tanh nn.RNN's page adds to its first advice, from the project's own training runs:
#: an orthogonal init or a critical gain keeps the gradient at init, and that did not make a
#: tanh network learn, where gated cells did. The page led with that advice alone, and a tanh
#: nn.RNN(2, 32) that followed it (orthogonal W_hh, T = 200) ended 1000 Adam steps at chance
#: (held-out MSE 0.1675), where a GRU of the same size learned T = 200 in 400 (MSE 0.0018).
#: Said where the commands' T is at least :data:`_TANH_FAILED_FROM`: below it those runs' tanh
#: networks at gain 1 learned (T = 10 and 20 at the `normal` init), and a page of T = 16 read
#: "was not enough to learn" of them. The gated cells' evidence (:data:`_GATED_LEARNED`) is
#: said after the sentence that introduces gated cells: it was said before it.
_TANH_NOT_ENOUGH = (
    " That keeps the gradient at init, and in docs/trainability.md was not enough to learn: "
    "tanh networks (H = 32) at gain 1 whose gradient had not vanished failed the adding problem "
    "from T = {t} on within 1000 Adam steps."
)
_GATED_LEARNED = (
    " In docs/trainability.md GRUs learned T = 200 in 300 to 400 steps, an LSTM with chrono in "
    "3 of 3 seeds. The GRUs' gradient at init had fallen 18 to 19 decades at lag 100, as far as "
    "a tanh network's: a gated cell's measurement at init does not rule learning out."
)

#: What the project's runs found of the IRNN (relu, W_hh = I; Le et al. 2015), H = 32, on the
#: adding problem (docs/trainability.md): at lr 1e-2 and 1000 Adam steps the default grid's
#: IRNN learned T = 80 in both of its runs (the one-off grid and the sweep), and T = 40 in one
#: (the sweep's missed it at MSE 0.0277 against the 0.0167 cut, and learned it on another CPU);
#: the anchor's, at lr 1e-3 and 2000 steps, learned T = 100 and 150 in seed 0 and not in seed 1;
#: a single trial at lr 1e-2 diverged at T = 200. A tanh nn.RNN's page, told its gradient-keeping
#: inits were not enough from T = 40 on, was never pointed to it, and a relu one's "Try the
#: IRNN init" came with no evidence.
_IRNN_LEARNED = (
    " In docs/trainability.md an IRNN of H = 32 learned the adding problem at T = 80 within 1000 "
    "Adam steps at lr 1e-2, and T = 40 in one of two runs (its loss is noisy). At lr 1e-3 it "
    "learned T = 100 and 150 in 1 of 2 seeds (2000 steps); at lr 1e-2 it diverged at T = 200."
)
_TANH_FAILED_FROM = 40
"""The shortest T at which docs/trainability.md's tanh networks at gain 1 failed the adding
problem (1000 Adam steps, H = 32); they solved T = 10 and 20 (the orthogonal one T = 10)."""


def _kept_already(kind: object, memory: float | None, init_memory: float) -> bool:
    """Whether an LSTM's or GRU's gates keep its state at least as long as an init's do
    (``init_memory``: :data:`FORGET_BIAS_MEMORY`, :data:`CHRONO_MEMORY`; ``memory``:
    :func:`.settling.gate_memory`; None, not known: not said)."""
    # isclose: a model made by forget_bias itself reads 1 + e^1 up to float32's bias
    return (
        kind in ("lstm", "gru")
        and memory is not None
        and (memory >= init_memory or math.isclose(memory, init_memory, rel_tol=1e-6))
    )


def suggested_gate_inits(kind: object, memory: float | None) -> tuple[str, ...]:
    """The gate inits "What to try" suggests to an LSTM or GRU whose gates keep its state
    ``memory`` steps (:func:`.settling.gate_memory`), of :data:`GATE_INITS`: both; chrono
    alone where its gates keep the state as long as ``forget_bias``'s do; none where as long as
    the built-in chrono's too (its words then say that no init swept keeps it longer). The
    test of learning trains these (:func:`.learn_command.learn_code`): it trained both
    beside words that said neither would keep the state longer."""
    if _kept_already(kind, memory, CHRONO_MEMORY):
        return ()
    if _kept_already(kind, memory, FORGET_BIAS_MEMORY):
        return tuple(i for i in GATE_INITS if i != "forget_bias")
    return GATE_INITS


def what_to_try(
    arch: dict[str, Any], regime: str, page_t: int, lag: int | None, memory: float | None = None
) -> Code | None:
    """What to try, as ``vanishlab sweep`` commands at this model's size and at a T that
    reaches past the verdict's length of dependency ``lag`` (:func:`try_seq_len`). ``memory``
    is the steps an LSTM's or GRU's gates keep its state at their biases alone
    (:func:`.settling.gate_memory`): where that is at least ``forget_bias``'s
    (:data:`FORGET_BIAS_MEMORY`), the page says so and suggests chrono alone; where it is at
    least the built-in chrono's too (:data:`CHRONO_MEMORY`), it says that neither init keeps
    the state longer, and which chrono init of a T_max of the user's would."""
    kind, sizes = arch.get("kind"), sizes_of(arch)
    if regime in ("fine", "unread") or sizes is None:
        return None
    seq_len = try_seq_len(page_t, lag)
    shape = (
        f"--num-layers {sizes[0]} --hidden-size {sizes[1]} --input-size {sizes[2]} "
        f"--seq-len {seq_len}"
    )
    relu = arch.get("nonlinearity") == "relu"
    own = folder_words(str(kind), relu, sizes[0], sizes[1])  # this model's folders
    act = "relu" if relu else "tanh"
    # An nn.RNN's page: its own kind beside LSTM and GRU in one report, the baseline of the
    # comparison (it swept lstm,gru alone); at inits all three take (forget_bias and chrono
    # are gate inits, refused for an rnn cell), then the gate inits in a grid of their own.
    # At gain 1, PyTorch's own scale, which the caption names ("PyTorch's default init"): the
    # quick grid's gains 0.5, 1 and 2 came with them unsaid, 36 cells where 12 compare the kinds
    kinds = (
        f"vanishlab sweep --model rnn,lstm,gru --activation {act} --init {ORTHOGONAL_INITS} "
        f"--gain 1 {shape} --out runs/try-gated-{own}"
    )
    irnn = (
        f"vanishlab sweep --model rnn --activation relu --init {IRNN_INITS} --gain 1 "
        f"{shape} --out runs/try-irnn-{folder_words('rnn', True, sizes[0], sizes[1])}"
    )
    gated = "lstm,gru" if kind == "rnn" else kind  # an LSTM's or GRU's page: its own kind
    gates = (
        f"vanishlab sweep --model {gated} --init {GATED_INITS} --gain 1 {shape} "
        f"--out runs/try-gates-{own}"
    )
    bias = {
        "lstm": "a forget-gate bias of 1 (forget_bias)",
        "gru": "an update-gate bias of 1 (forget_bias, on z)",
    }.get(str(kind), "a forget-gate bias of 1 (forget_bias; a GRU's is on its update gate z)")

    def register(which: str) -> str:
        return (
            f"vl.register_init(vl.chrono_init(T_max)) in an experiment module adds {which}, "
            "swept by its name (chrono_1000 for 1000)."
        )

    chrono = (
        "Tallec & Ollivier 2018 set chrono's T_max near the dependency length: the built-in's "
        f"is {CHRONO_T_MAX}, and " + register("another")
    )
    gate_try, none_longer = f"{bias} or the chrono init. {chrono}", ""
    steps = memory or 0.0  # a number where _kept_already is true
    kept = (
        f"this model's {gate_words(kind)} already keep its state about "
        f"{plural(round(steps), 'step')} at their biases alone (the median over its units)"
    )
    built_in = f"the built-in chrono (T_max = {CHRONO_T_MAX})"
    suggested = suggested_gate_inits(kind, memory)
    if not suggested:
        # an LSTM of forget-gate bias +4 (56 steps) was told to try chrono (51)
        none_longer = (
            f"No init the command sweeps keeps the state longer than this model's gates do: "
            f"{kept}, where {bias} keeps it about {plural(round(FORGET_BIAS_MEMORY), 'step')} "
            f"and {built_in} about {plural(round(CHRONO_MEMORY), 'step')}; the command sweeps "
            "them beside PyTorch's default for comparison only. A chrono init of T_max above "
            f"{math.floor(2 * (steps - 1))} would (its units keep the state 1 + T_max/2 steps, "
            "the median): " + register("one")
        )
    elif "forget_bias" not in suggested:
        # an LSTM of forget-gate bias 2 (8 steps) was told to try a bias of 1 (4 steps)
        gate_try = (
            f"the chrono init: {kept}, at least as long as {bias} keeps it, about "
            f"{plural(round(FORGET_BIAS_MEMORY), 'step')}, where {built_in} keeps it about "
            f"{plural(round(CHRONO_MEMORY), 'step')}; the command sweeps forget_bias beside "
            f"PyTorch's default for comparison. {chrono}"
        )
    # gain_phase sweeps tanh and relu: the model's own activation only (a tanh model's page
    # gave relu cells too, some of which overflow and were listed as failed)
    phase = f"vanishlab sweep gain_phase --activation {act} {shape}"
    if regime == "exploding":
        if kind == "rnn":
            lines = [f"{phase} --out runs/try-gain-{own}"]
            words = (
                "Try a smaller recurrent gain (the gain phase diagram shows where the rate "
                "crosses 0)"
            )
        else:
            lines = [
                f"vanishlab sweep --model {kind} --init {ORTHOGONAL_INITS} --gain 0.5,0.75,1 "
                f"{shape} --out runs/try-gain-{own}"
            ]
            words = "Try a smaller recurrent gain"
        words += " and gradient-norm clipping in training (a training sweep's --clip)."
    elif kind == "rnn" and relu:
        lines = [irnn, kinds, gates]
        words = (
            f"Try the IRNN init (relu, W_hh = I: identity), the first command.{_IRNN_LEARNED}"
            + _gated_words(1, "")
            + gate_try
        )
    elif kind == "rnn":
        long = seq_len >= _TANH_FAILED_FROM
        # where its gradient-keeping inits were not enough, the IRNN that learned: second
        lines = [f"{phase} --out runs/try-gain-{own}", *([irnn] if long else []), kinds, gates]
        words = (
            "Try an orthogonal recurrent init or a gain nearer the critical one: the first "
            "command's report draws the decay rate against the gain."
            + (
                _TANH_NOT_ENOUGH.format(t=_TANH_FAILED_FROM)
                + " The IRNN (relu, W_hh = I: the identity init; Le et al. 2015) did better, and "
                f"the second command measures it.{_IRNN_LEARNED}"
                if long
                else ""
            )
            + _gated_words(len(lines) - 2, _GATED_LEARNED if long else "")
            + gate_try
        )
    else:
        lines = [gates]
        words = none_longer or f"Try {gate_try}"
    why_t = seq_len_words(page_t, seq_len, lag)
    # where its T is not the page's, the sentence that says why says how it was chosen too
    advice = "" if why_t else " (set --seq-len to the dependency length you need)"
    return Code(
        "What to try",
        "\n".join(lines),
        f"{words} {'Each command' if len(lines) > 1 else 'The command'} measures freshly "
        f"initialised networks of this size at T = {seq_len}{advice}: the gradient a "
        f"training would start from, not these weights; {_shown_by(lines)}." + why_t,
    )


def _gated_words(place: int, evidence: str) -> str:
    """An nn.RNN's words for its gated commands, the one at ``place`` (from 0) and the next,
    with the project's ``evidence`` of gated cells between the sentence that introduces them
    and the gate inits (:data:`_BESIDE`)."""
    return (
        _BESIDE.format(nth=_ORDINALS[place])
        + evidence
        + _GATE_INITS_SAID.format(nth=_ORDINALS[place + 1])
    )


def _shown_by(lines: list[str]) -> str:
    """What shows a command's numbers: the report of its --out folder, named ("vanishlab report
    DIR shows it" named none, the folder being in the command above)."""
    if len(lines) == 1:
        return f"vanishlab report {lines[0].rsplit('--out ', 1)[1]} shows it"
    return "vanishlab report on each command's --out folder shows it"
