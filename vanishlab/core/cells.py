"""The recurrent cells vanishlab measures, as plain facts (no torch is imported): one definition
of each model's name, of the gate blocks stacked in the rows of its weights and of the state it
carries (an LSTM's [h | c]), for the input checks (:mod:`~vanishlab.core.inputs`), the gated
forward pass, the sweep's init catalog and draws, its measurement, cost and memory estimates and
Lyapunov start, and a trained model's measurement and checkpoint.
"""

from __future__ import annotations

__all__ = [
    "BIDIRECTIONAL_HINT",
    "GATE_BLOCKS",
    "MODELS",
    "RNN_THEORY_MODELS",
    "RUN_SOURCES",
    "STATE_WIDTH",
    "gate_count",
]

#: Gate blocks stacked in the rows of each weight, by model: nn.RNN has one (the whole matrix),
#: nn.GRU three (r, z, n), nn.LSTM four (i, f, g, o), in PyTorch's order.
GATE_BLOCKS: dict[str, int] = {"rnn": 1, "lstm": 4, "gru": 3}
#: The models, in the order the sweep's ``model`` axis lists them.
MODELS: tuple[str, ...] = tuple(GATE_BLOCKS)
#: The state each model carries from step to step, in hidden sizes H a layer: an LSTM's [h | c]
#: is 2H, nn.RNN's and a GRU's h is H (the Lyapunov start's dimension, L H times this; the cost
#: of a cell's state Jacobians).
STATE_WIDTH: dict[str, int] = {"rnn": 1, "lstm": 2, "gru": 1}
#: The models nn.RNN's theory (ln ρ, Pascanu's bound, the mean field) is for: ``rnn`` alone.
#: Every other is a gated cell without theory (flagged ``no-theory``): the theory of a cell,
#: its prediction and summary cost, and the report's predicted lines and captions read this.
RNN_THEORY_MODELS: tuple[str, ...] = ("rnn",)
#: The sources a sweep's cell and ``vanishlab analyze`` measure (a shard's rows; its memory
#: estimate queues their spectral norms only): the state and the inputs, never an LSTM's h and c
#: blocks apart (``state_h``, ``state_c``), which only a caller of the engine asks for.
RUN_SOURCES: tuple[str, ...] = ("state", "input")


def gate_count(mode: str) -> int:
    """:data:`GATE_BLOCKS` of a module's ``mode`` (``nn.RNNBase.mode``: ``"RNN_TANH"``,
    ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``)."""
    return GATE_BLOCKS.get(mode.lower(), 1)


#: What a bidirectional module's refusal advises (the README's recipe, one layer).
BIDIRECTIONAL_HINT = (
    "measure each direction apart (one layer: copy its _reverse weights into a one-direction "
    "module of its own settings, an nn.RNN's nonlinearity too, and reverse x in time for it; "
    "README, 'A bidirectional module')"
)
