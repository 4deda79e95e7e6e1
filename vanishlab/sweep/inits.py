"""Weight initialisations of ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``, each scaled by a ``gain``,
in a registry users extend.

Notation: layer l has W_ih^l of shape (H, I_l) with fan-in I_l (I_0 = ``input_size``, I_l = H
above), W_hh^l of shape (H, H), and biases b_ih^l, b_hh^l of shape (H,); g is the gain. Every
init sets every parameter of every layer, drawing only from the ``torch.Generator`` it is
given, in parameter order (per layer: W_ih, W_hh, b_ih, b_hh), so a cell's weights depend on
its seed and nothing else.

**One gain rule for every built-in init** (:data:`GAIN_RULE`): the gain g multiplies the
recurrent weights W_hh^l of every layer (of a gated cell, every gate block of the stacked
W_hh^l) and nothing else. W_ih^l and the biases keep the init's own scale at every gain, so at
the same ``input_std`` every init is driven the same way whatever the gain, and g is the mean
field's recurrent gain. A registered init states its own
rule in :attr:`Init.gain_on` (shown by ``vanishlab inits``).

- ``default``: PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) on every W_ih^l and W_hh^l, W_hh^l times
  g; biases PyTorch's U(-1/sqrt(H), 1/sqrt(H)).
- ``xavier_uniform`` / ``xavier_normal``: every W (W_ih^l and W_hh^l) with standard deviation
  sqrt(2 / (fan_in + fan_out)) (uniform on +-sqrt(3) std, or normal), W_hh^l times g; zero
  biases.
- ``kaiming_uniform`` / ``kaiming_normal``: every W with standard deviation sqrt(2 / fan_in),
  W_hh^l times g; zero biases.
- ``orthogonal``: W_hh^l = g Q with Q Haar-orthogonal (Saxe, McClelland & Ganguli 2014), W_ih^l
  a semi-orthogonal matrix (orthonormal columns if I_l <= H, else rows), both from
  ``torch.nn.init.orthogonal_``; zero biases.
- ``identity`` (IRNN, Le, Jaitly & Hinton 2015): W_hh^l = g I, W_ih^l ~ N(0, 1 / I_l); zero
  biases.
- ``normal`` (random-matrix / mean-field convention, Poole et al. 2016): W_hh^l ~ N(0, g^2 / H),
  W_ih^l ~ N(0, 1 / I_l); zero biases. An input of standard deviation ``input_std`` drives each
  first-layer unit with variance exactly ``input_std^2``.

**Gated cells** (``nn.LSTM``, gate blocks i, f, g, o; ``nn.GRU``, r, z, n; W_ih^l is
(G H, I_l) and W_hh^l is (G H, H), G gate blocks stacked). :attr:`Init.models` says which
models an init applies to; a cell of another model is refused when it is built. For gated
cells g multiplies every gate block of W_hh^l and nothing else (the same :data:`GAIN_RULE`).

- ``default`` (rnn, lstm, gru): PyTorch's own U(-1/sqrt(H), 1/sqrt(H)) on every weight and
  bias, as ``nn.LSTM`` / ``nn.GRU`` draw them, W_hh^l times g.
- ``orthogonal`` (rnn, lstm, gru): each gate block of W_hh^l is g Q with its own Haar Q, each
  gate block of W_ih^l semi-orthogonal; zero biases. (For an RNN the one block is the matrix.)
- ``forget_bias`` (lstm, gru): PyTorch's default weights, W_hh^l times g; every bias zero but
  the forget gate's b_ih = 1, so its total bias is 1 (Gers, Schmidhuber & Cummins 2000;
  Jozefowicz, Zaremba & Sutskever 2015). For a GRU the gate that keeps the old state is z
  (h' = (1 - z) n + z h), and its bias is the one set to 1.
- ``chrono`` (lstm, gru; Tallec & Ollivier 2018): the same weights, zero biases but the
  forget gate's b_ih = log u, u ~ U(1, T_max - 1) per unit, and for an LSTM the input gate's
  b_ih = -log u; T_max = :data:`~vanishlab.sweep.catalog.CHRONO_T_MAX` = 100, fixed (not the
  cell's seq_len), so that cells differing only in T share their weights. Another T_max is an
  init of its own, made by :func:`vanishlab.chrono_init` and registered.

``forget_bias`` and ``chrono`` draw the same weights (one seed: every layer's weights, then
chrono's u). ``default``'s are the same distribution and the same draws in layer 0 only: it
draws each layer's biases before the next layer's weights, so a comparison of ``default``
with the bias inits at depth 2 also compares other weights from layer 1 on.

The other built-ins (xavier, kaiming, identity, normal) apply to ``rnn`` only. No gated init
has a mean-field prediction (``validity="none"``): Gilboa et al. (2019)'s mean field of gated
cells is not implemented, and :mod:`vanishlab.sweep.prediction` gives none for gated cells.

Xavier is Glorot & Bengio (2010), kaiming is He et al. (2015) with the relu gain sqrt(2) built
in (so ``kaiming_*`` at g = 1 is relu's critical point, chi_1 = 1), both as in
``torch.nn.init``. Each entry also states whether the mean field's assumptions (i.i.d.
zero-mean entries) hold for it (:attr:`Init.validity`, docs/theory.md); an init registered
without one gets no mean-field prediction, never a silent i.i.d. one.

:attr:`Init.variances` returns the per-entry variances (var_hh, var_ih, var_bias) of W_hh, of
the first layer's W_ih (fan-in ``input_size``; call it with ``input_size = hidden_size`` for the
layers above) and of the total bias b_ih + b_hh (present only when the module has ``bias=True``;
with ``bias=False`` it is 0). They are what the mean-field theory (Poole et al. 2016; Chen,
Pennington & Schoenholz 2018) needs: q* = var_hh H E[act^2] + var_ih I input_std^2 + var_bias.
It is None where the entries are not zero-mean random (``identity``). For ``orthogonal`` the
entries are not independent, but each has variance exactly g^2 / H (W_hh) and
1 / max(H, I) (W_ih), which is all q* and chi_1 depend on at large width (Chen et al. 2018).
"""

from __future__ import annotations

import importlib
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import VanishlabError
from .catalog import BUILTIN_INITS, BUILTIN_MODELS, kaiming_std, xavier_std
from .files import as_flag
from .init_entry import VALIDITIES, Init

if TYPE_CHECKING:  # torch is imported when weights are drawn (vanishlab.sweep.init_weights)
    import torch
    from torch import nn

__all__ = [
    "GAIN_RULE",
    "GATED_REASON",
    "INITS",
    "VALIDITIES",
    "Builtin",
    "Init",
    "InitRegistry",
    "register_init",
]


@dataclass(frozen=True)
class Builtin:
    """The ``apply`` of a built-in init: the function ``name`` of
    :mod:`vanishlab.sweep.init_weights`, imported on the first draw (with torch), so that the
    registry itself imports no torch. Picklable, for workers."""

    name: str

    def __call__(self, rnn: nn.RNNBase, gain: float, gen: torch.Generator) -> None:
        weights = importlib.import_module(".init_weights", __package__)
        getattr(weights, self.name)(rnn, gain, gen)


class _ListingDoc:
    """The ``__doc__`` of :class:`InitRegistry`: ``text`` on the class, and on the registry
    ``text`` followed by the inits registered now, one line each (name, models, description),
    so that ``help(vl.INITS)`` lists them, where a plain dict's help was dict's own."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __get__(self, registry: InitRegistry | None, owner: type | None = None) -> str:
        if registry is None:
            return self.text
        listed = "\n".join(
            textwrap.fill(
                f"{name} ({', '.join(init.models)}): {init.description}",
                96,  # help() indents it by 4
                subsequent_indent="    ",
                break_on_hyphens=False,
            )
            for name, init in registry.items()
        )
        return f"{self.text}\n\nRegistered now (name (models): description):\n\n{listed}"


class InitRegistry(dict[str, Init]):
    # A plain dict but for its __doc__ (so for help()), which lists the inits it holds.
    __slots__ = ()  # no instance __dict__: it pickles and copies as the dict it is
    __doc__ = _ListingDoc(
        "The registry of weight initialisations: init name -> :class:`Init`, the values of the\n"
        "``init`` axis (``--init``). Extend it with :func:`register_init`; ``vanishlab inits``\n"
        "lists it with whether the mean field holds and what ``gain`` multiplies."
    )


INITS: InitRegistry = InitRegistry()
"""The registry: init name -> :class:`Init` (``help(INITS)`` lists them). Extend it with
:func:`register_init`."""


def register_init(init: Init, *, replace: bool = False) -> Init:
    """Add ``init`` to :data:`INITS` (under ``init.name``) and return it.

    Raises :class:`~vanishlab.errors.VanishlabError` if the name is not a plain word or is
    already taken (pass ``replace=True`` to override an entry on purpose); the same module run
    again (an experiment file loaded twice) replaces its own entry: its ``apply`` is a new
    module-level function of the same name. An init used by a
    sweep with ``workers > 1`` or on Dask is sent to the workers by pickling, so its functions
    must be importable (defined at module level, not in a lambda).
    """
    if not isinstance(init, Init):
        raise TypeError(f"register_init expects a vanishlab.Init, got {type(init).__name__}")
    # replace="no" was true, and replaced a built-in init
    replace = as_flag(replace, "replace")
    init.check()
    try:  # at a typical size, so that a broken variances fails at registration
        init.checked_variances(8, 8, 1.0)
    except ValueError as err:
        raise VanishlabError(str(err)) from None
    if init.name in INITS and not replace and not _rerun(INITS[init.name], init):
        raise VanishlabError(
            f"init {init.name!r} is already registered (pass replace=True to override it)"
        )
    INITS[init.name] = init
    return init


def _definition(fn: object) -> tuple[str, str] | None:
    """Where the function ``fn`` is defined, ``(module, qualified name)``; None for a lambda,
    a nested function or an object without those names."""
    where = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not all(isinstance(w, str) for w in where) or "<" in where[1]:  # type: ignore[operator]
        return None
    return where  # type: ignore[return-value]


def _rerun(old: Init, new: Init) -> bool:
    """Whether ``new`` is ``old`` registered again by the module that registered it, run a
    second time (an experiment file loaded twice in one process): its ``apply`` is a new
    function of the same name in the same module (the same function object again is a second
    registration, not a rerun). Such a registration replaces the entry. So does an init equal
    to ``old`` in every field whose ``apply`` is an equal object made anew (the module's
    ``chrono_init(1000)`` run again): the same definition, which it leaves as it was."""
    if new == old and new.apply is not old.apply:
        return True
    where = _definition(new.apply)
    return new.apply is not old.apply and where is not None and where == _definition(old.apply)


def _square(x: float) -> float:
    """x², inf when it overflows float64 (``x ** 2`` raised OverflowError from x ~ 1.3e154)."""
    return x * x


def _var_default(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    var = 1.0 / (3.0 * hidden_size)  # U(-a, a) has variance a^2 / 3
    return _square(gain) * var, var, 2.0 * var


def _var_xavier(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    return (
        _square(xavier_std(hidden_size, hidden_size, gain)),
        _square(xavier_std(input_size, hidden_size, 1.0)),
        0.0,
    )


def _var_kaiming(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    return _square(kaiming_std(hidden_size, gain)), _square(kaiming_std(input_size, 1.0)), 0.0


def _var_orthogonal(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    # Rows or columns of unit norm: each entry has variance 1 / (length of the longer side).
    return _square(gain) / hidden_size, 1.0 / max(hidden_size, input_size), 0.0


def _var_normal(hidden_size: int, input_size: int, gain: float) -> tuple[float, float, float]:
    return _square(gain) / hidden_size, 1.0 / input_size, 0.0


GATED_REASON = (
    "no mean-field theory of gated cells is implemented here (Gilboa et al. 2019 is not "
    "covered): LSTM and GRU cells are measured, never predicted"
)
"""Why no gated init has a mean-field prediction (:attr:`Init.validity_reason`)."""

GAIN_RULE = (
    "W_hh only (every layer; every gate block of an LSTM's or GRU's); W_ih and the biases keep "
    "the init's own scale"
)
"""What ``gain`` multiplies, for every built-in init (:attr:`Init.gain_on`), in every model."""

_BUILTIN: dict[str, dict[str, Any]] = {
    "default": dict(
        variances=_var_default,
        validity="iid",
        validity_reason="PyTorch's default: i.i.d. uniform weights; its biases are drawn once "
        "and held fixed, a quenched per-unit field that the mean field counts only through its "
        "variance",
    ),
    "xavier_uniform": dict(
        variances=_var_xavier,
        validity="iid",
        validity_reason="i.i.d. zero-mean uniform entries (Glorot)",
    ),
    "xavier_normal": dict(
        variances=_var_xavier,
        validity="iid",
        validity_reason="i.i.d. zero-mean Gaussian entries (Glorot)",
    ),
    "kaiming_uniform": dict(
        variances=_var_kaiming,
        validity="iid",
        validity_reason="i.i.d. zero-mean uniform entries (He)",
    ),
    "kaiming_normal": dict(
        variances=_var_kaiming,
        validity="iid",
        validity_reason="i.i.d. zero-mean Gaussian entries (He)",
    ),
    "orthogonal": dict(
        variances=_var_orthogonal,
        validity="approximate",
        validity_reason="orthogonal g Q (Saxe et al. 2014): entries are not independent, but "
        "‖W h‖ = g ‖h‖ makes the q recursion hold and the mean squared singular value of the "
        "Jacobian grows by the same χ₁ at large width; orthogonality narrows the spread of "
        "singular values (dynamical isometry) and the seed-to-seed spread of rates, but relu "
        "rates sit slightly below the prediction at finite width (about −0.015 per step at "
        "H = 128-256)",
    ),
    "identity": dict(
        validity="none",
        validity_reason="identity (Le, Jaitly & Hinton 2015) is deterministic and far from "
        "random: the Jacobian g D_t is diagonal, so each unit decays at ln g plus its own "
        "time-averaged ln act′ and the slowest unit sets the rate: ln g where a unit stays "
        "in the activation's linear range (a relu unit that stays on), below ln g for tanh "
        "with a drive",
    ),
    "normal": dict(
        variances=_var_normal,
        validity="iid",
        validity_reason="i.i.d. zero-mean Gaussian entries: the mean-field assumptions hold",
    ),
    "forget_bias": dict(validity="none", validity_reason=GATED_REASON, needs_bias=True),
    "chrono": dict(validity="none", validity_reason=GATED_REASON, needs_bias=True),
}
"""What the registry adds to each built-in init's catalog entry (its line and its models):
its variances, its validity and why, whether it sets gate biases. Looked up by name: the order
the inits are registered (and listed) in is :data:`~vanishlab.sweep.catalog.BUILTIN_INITS`'s."""

for _name, _description in BUILTIN_INITS.items():
    register_init(
        Init(
            _name,
            _description,
            Builtin(_name),
            gain_on=GAIN_RULE,
            models=BUILTIN_MODELS[_name],
            **_BUILTIN[_name],
        )
    )
del _name, _description
