"""The chrono init at a T_max of the user's choice (Tallec & Ollivier 2018): :func:`chrono_init`.

The built-in ``chrono`` draws its forget-gate biases as log u, u ~ U(1, T_max - 1), at
T_max = :data:`~vanishlab.sweep.catalog.CHRONO_T_MAX` = 100. T_max is the longest dependency
the init prepares for, so a study of longer ones needs its own: ``chrono_init(1000)`` is an
:class:`~vanishlab.sweep.inits.Init` named ``chrono_1000`` that draws as the built-in does
(the one draw, :func:`vanishlab.sweep.init_weights.chrono`) at T_max = 1000, for
:func:`~vanishlab.sweep.inits.register_init`. Like the built-in's, its draw imports torch only
when it is made, and pickles for a sweep's workers.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, SupportsIndex

from ..core.integers import check_integer
from .catalog import BUILTIN_MODELS, chrono_description
from .inits import GAIN_RULE, GATED_REASON, Init

if TYPE_CHECKING:  # torch is imported when weights are drawn (vanishlab.sweep.init_weights)
    import torch
    from torch import nn

__all__ = ["MIN_T_MAX", "ChronoDraw", "chrono_init"]

MIN_T_MAX = 3
"""The smallest T_max: u ~ U(1, T_max - 1) needs a range of more than one point."""


@dataclass(frozen=True)
class ChronoDraw:
    """The ``apply`` of a :func:`chrono_init`: the built-in ``chrono``'s draw at ``t_max``,
    imported on the first draw (with torch). Picklable, for workers; two of one ``t_max`` are
    equal, so an experiment module run again registers its init again."""

    t_max: int

    def __call__(self, rnn: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
        weights = importlib.import_module(".init_weights", __package__)
        weights.chrono(rnn, gain, gen, t_max=self.t_max)


def chrono_init(t_max: int | SupportsIndex, name: str | None = None) -> Init:
    """The chrono init of Tallec & Ollivier (2018) at ``t_max``: for LSTM and GRU cells,
    PyTorch's default weights (W_hh times the gain), zero biases but the forget gate's
    b_ih = log u (LSTM f, GRU z) with u ~ U(1, t_max - 1) per unit, and an LSTM's input gate's
    b_ih = -log u: the draws of the built-in ``chrono``, whose T_max is 100, at this one.
    Register it (:func:`~vanishlab.sweep.inits.register_init`) to sweep it by ``name``, by
    default ``f"chrono_{t_max}"``; its description states its T_max.

    ``t_max`` is an integer (a Python or NumPy one, or a 0-d integer tensor) of at least 3: a
    float (1000.0, NaN), a bool or a string is a ``TypeError``, a smaller or larger one
    (beyond float64) a ``ValueError``. A malformed ``name`` is refused as
    :class:`~vanishlab.sweep.inits.Init` refuses it.
    """
    count = check_integer(t_max, "t_max")
    if count < MIN_T_MAX:
        raise ValueError(
            f"t_max must be at least {MIN_T_MAX} (u ~ U(1, t_max - 1) needs a range), got {count}"
        )
    if count > sys.float_info.max:  # the draw's U(1, t_max - 1) is float64
        raise ValueError(
            f"t_max must be at most float64's largest, 1.8e308, got {len(str(count))} digits"
        )
    return Init(
        f"chrono_{count}" if name is None else name,
        chrono_description(count),
        ChronoDraw(count),
        validity="none",
        validity_reason=GATED_REASON,
        gain_on=GAIN_RULE,
        models=BUILTIN_MODELS["chrono"],
        needs_bias=True,
    )
