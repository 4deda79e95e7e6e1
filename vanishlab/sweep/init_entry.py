"""One weight initialisation: :class:`Init`, its fields checked when it is made (and again
when it is registered, :func:`vanishlab.sweep.inits.register_init`), its variances checked
where they are read, and its mean field's validity in words. The registry and the built-ins
are :mod:`vanishlab.sweep.inits`', whose docstring writes out each built-in's draw and what
its variances are.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import VanishlabError
from .catalog import ALL_MODELS
from .files import as_flag

if TYPE_CHECKING:  # torch is imported when weights are drawn (vanishlab.sweep.init_weights)
    import torch
    from torch import nn

__all__ = ["VALIDITIES", "Init"]

ApplyFn = Callable[["nn.RNNBase", float, "torch.Generator"], None]
VariancesFn = Callable[[int, int, float], tuple[float, float, float] | None]


def _no_variances(hidden_size: int, input_size: int, gain: float) -> None:
    """The variances of an init made without any (:attr:`Init.variances` None): none."""
    return None


@dataclass(frozen=True)
class Init:
    """One named initialisation.

    Attributes:
        name: the value of the ``init`` axis (letters, digits, ``_ . -``; no commas).
        description: one line, shown by ``vanishlab inits``.
        apply: ``apply(rnn, gain, generator)`` sets every parameter of ``rnn`` in place, drawing
            only from ``generator`` (a draw from torch's global RNG, or a parameter left as
            the constructor drew it, fails the cell with an error: its weights would not
            depend on its seed alone).
        variances: ``variances(hidden_size, input_size, gain)`` -> ``(var_hh, var_ih,
            var_bias)`` per-entry variances of W_hh, first-layer W_ih and b_ih + b_hh, or None
            when the weights are not zero-mean random (see the module docstring). Leave it out
            (``None``, the default) for an init that has none: the ``Init`` made holds a
            function that returns None, so ``init.variances(H, I, gain)`` can always be called.
        validity: how well the weights meet the mean field's assumptions (i.i.d. zero-mean
            entries): ``"iid"`` (they hold; the prediction is exact as H -> infinity),
            ``"approximate"`` (e.g. orthogonal) or ``"none"`` (no mean-field prediction). The
            default is ``"none"``: an init that does not state it is never assumed i.i.d.
        validity_reason: one sentence on why (shown beside the prediction).
        gain_on: which weights ``gain`` multiplies, e.g. ``"W_hh and W_ih"`` or ``"W_hh only"``
            (shown by ``vanishlab inits``; "" when the init does not say).
        models: the values of the ``model`` axis it applies to (``"rnn"``, ``"lstm"``,
            ``"gru"``); a cell of another model is refused when it is built. The default is
            ``("rnn",)``: an init that does not say is never applied to gate blocks.
        needs_bias: it sets gate biases, so a cell with ``bias=False`` is refused.

    A malformed field is refused when the ``Init`` is made, naming it: a ``TypeError`` for a
    wrong type (a name, description, ``validity_reason`` or ``gain_on`` that is no string,
    an ``apply`` that is no function, a ``variances`` that is neither a function nor None, a
    ``needs_bias`` that is no bool, ``models`` that is no tuple or list), a
    :class:`~vanishlab.errors.VanishlabError` for a wrong value (a name that is empty or not a
    plain word, an unknown ``validity`` or model).
    """

    name: str
    description: str
    apply: ApplyFn
    variances: VariancesFn | None = None  # a function once made (__post_init__)
    validity: str = "none"
    validity_reason: str = ""
    gain_on: str = ""
    models: tuple[str, ...] = ("rnn",)
    needs_bias: bool = False

    def __post_init__(self) -> None:
        # Each was checked only by register_init: a malformed Init was taken until then.
        if isinstance(self.models, list):  # hashable, as frozen
            object.__setattr__(self, "models", tuple(self.models))
        if self.variances is None:  # the default: help() read "<function _no_variances at 0x..>"
            object.__setattr__(self, "variances", _no_variances)
        self.check()

    def check(self) -> None:
        """Refuse a malformed field (see the class docstring); :func:`register_init` checks
        again (an ``Init`` whose fields were set after it was made)."""
        if not isinstance(self.name, str):  # 3: re's own words
            raise TypeError(f"init name must be a string, got {self.name!r:.60}")
        if not _NAME.fullmatch(self.name):  # (match took "abc\n": $ matches before it)
            raise VanishlabError(
                f"init name {self.name!r} must be one or more letters, digits, '_', '.' or '-' "
                "(no commas)"
            )
        for what in ("description", "validity_reason", "gain_on"):  # shown as text
            if not isinstance(getattr(self, what), str):
                raise TypeError(
                    f"init {self.name!r}: {what} must be a string, got "
                    f"{type(getattr(self, what)).__name__}"
                )
        for what in ("apply", "variances"):  # else it failed only when a cell was built
            if not callable(getattr(self, what)):
                raise TypeError(
                    f"init {self.name!r}: {what} must be a function, got "
                    f"{type(getattr(self, what)).__name__}"
                )
        if self.validity not in VALIDITIES:
            raise VanishlabError(
                f"init {self.name!r}: validity must be one of {', '.join(VALIDITIES)}, "
                f"got {self.validity!r}"
            )
        # needs_bias="no" refused bias=False
        as_flag(self.needs_bias, f"init {self.name!r}: needs_bias")
        if not isinstance(self.models, tuple):  # "lstm" was read letter by letter
            raise TypeError(
                f"init {self.name!r}: models must be a tuple of model names, got "
                f"{self.models!r:.60}"
            )
        bad = [m for m in self.models if m not in ALL_MODELS] if self.models else ["(none)"]
        if bad:
            raise VanishlabError(
                f"init {self.name!r}: models must be a non-empty subset of "
                f"{', '.join(ALL_MODELS)}, got {self.models!r}"
            )

    def checked_variances(
        self, hidden_size: int, input_size: int, gain: float
    ) -> tuple[float, float, float] | None:
        """:attr:`variances` at these arguments, checked: None, or three real numbers, each
        >= 0 (+inf where ``gain ** 2`` overflows float64, as an ``OverflowError`` is read).
        Raises ValueError naming the init for anything else (a negative or NaN variance, a
        pair, a string, an exception of its own): such values reached the mean field's
        arithmetic, and the cell's prediction was dropped without a word."""
        call = f"init {self.name!r}: variances({hidden_size}, {input_size}, {gain!r})"
        try:
            values = self.variances(hidden_size, input_size, gain)
        except OverflowError:  # a registered init's gain ** 2 at gain 1e200
            return (math.inf, math.inf, math.inf)
        except Exception as err:
            raise ValueError(f"{call} raised {type(err).__name__}: {err}") from None
        if values is None:
            return None
        floats: list[float] = []
        if isinstance(values, tuple | list) and len(values) == 3:
            for v in values:  # a real number: Python's, NumPy's, a one-element tensor
                with contextlib.suppress(TypeError, ValueError, RuntimeError):
                    if not isinstance(v, bool | str | bytes):
                        floats.append(float(v))
        if len(floats) != 3 or not all(v >= 0 for v in floats):  # NaN too
            raise ValueError(
                f"{call} must return None or three numbers >= 0 (var_hh, var_ih, var_bias), "
                f"got {values!r:.80}"
            )
        return floats[0], floats[1], floats[2]

    def mean_field_validity(self) -> tuple[str, str]:
        """``(validity, reason)``; the reason says so when the init does not state one."""
        if self.validity_reason:
            return self.validity, self.validity_reason
        if self.validity == "none":
            reason = (
                f"init {self.name!r} does not state whether its weights meet the mean field's "
                "assumptions (Init.validity), so no mean-field prediction is made"
            )
        else:  # it said "does not state" beside the prediction its stated validity gave
            reason = f"init {self.name!r} states validity {self.validity!r} (Init.validity)"
        return self.validity, reason


VALIDITIES: tuple[str, ...] = ("iid", "approximate", "none")
"""The values of :attr:`Init.validity`."""

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
