"""What the mean field predicts for a sweep cell: from its config to q* and chi_1.

The pure mean field (:mod:`vanishlab.analysis.meanfield`) takes per-entry weight variances; a
sweep cell names an init. This module joins the two through the init registry
(:mod:`vanishlab.sweep.inits`): ``INITS[init].variances(H, I, gain)`` gives the variances, and
``INITS[init].validity`` says whether the mean field's assumptions (i.i.d. zero-mean entries)
hold: ``"iid"``, ``"approximate"`` (orthogonal) or ``"none"`` (identity, and any init that does
not state it). A gated cell (``model`` lstm or gru) has none: validity ``"none"``,
:data:`GATED_REASON`. A cell with no input and no bias sits at the origin, where the linear regime
(:mod:`vanishlab.analysis.linear`) applies instead: validity ``"origin"``.

The smallest gain at which the predicted rate of a configuration reaches 0, the edge between
vanishing and exploding gradients, is :func:`vanishlab.sweep.critical.critical_gain`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, SupportsIndex

from ..analysis.activations import ACTIVATIONS
from ..analysis.meanfield import MeanField, Variances, layer_drive, mean_field, real_number
from ..core.cells import RNN_THEORY_MODELS
from ..core.integers import as_integer
from .catalog import ALL_MODELS
from .config import AXES, axis
from .files import as_flag
from .inits import INITS
from .nearest import nearest_name

__all__ = [
    "GATED_NOTE",
    "GATED_REASON",
    "MEAN_FIELD_AXES",
    "NO_GATED_THEORY",
    "NO_PREDICTION",
    "MeanFieldInputs",
    "cell_mean_field",
    "cell_size",
    "cell_value",
    "checked_model",
    "mean_field_inputs",
    "no_prediction_note",
    "unregistered_reason",
]

NO_GATED_THEORY = (
    "the linear regime and the mean field here are nn.RNN's, and Gilboa et al. 2019's mean "
    "field of gated cells is not covered"
)
"""Why there is no theory of gated cells here (words that name no model a run may lack: a
report's captions say them)."""

GATED_REASON = f"no theory for gated cells: {NO_GATED_THEORY}"
"""Why a gated cell (``model`` lstm or gru) has no prediction."""

NO_PREDICTION = "No prediction: "
"""How the sentence of a cell's note that says why it has no prediction starts."""


def no_prediction_note(reason: str) -> str:
    """The sentence of a cell's note that says why it has no prediction (``reason``)."""
    return f"{NO_PREDICTION}{reason}."


def unregistered_reason(names: Sequence[str]) -> str:
    """Why the cells of the inits ``names`` have no theory here: their summary rows were
    computed again in this process (those stored with the cells came from another version of
    vanishlab) and it has not registered the run's own inits, which a report does not import
    (an experiment file is code). One wording for a summary row's note and for the report's
    captions (:func:`vanishlab.report.predicted.unregistered_note`)."""
    one = len(names) == 1
    return (
        f"init{'' if one else 's'} {', '.join(names)}: "
        f"{'its' if one else 'their'} cells' theory was computed again here (their stored rows "
        f"are from another version of vanishlab), and {'that init is' if one else 'they are'} "
        "not registered in this process (a report loads no experiment file); import the module "
        f"that registers {'it' if one else 'them'}, then make the report with vl.render_report"
    )


_GATED_UNDEFINED = "ln ρ and the Pascanu bound are not defined for a gated recurrence here"
GATED_NOTE = no_prediction_note(f"{GATED_REASON}; {_GATED_UNDEFINED}")
"""A gated cell's note: one sentence, the same in every gated cell."""


@dataclass(frozen=True)
class MeanFieldInputs:
    """The mean-field description of one sweep cell (one layer of it).

    Attributes:
        activation: ``"tanh"`` or ``"relu"``; None for a gated cell (it has none).
        gain: effective mean-field gain sqrt(H var_hh) (the init's ``gain`` argument only when
            the init draws with variance gain^2 / H); ``None`` when not applicable.
        input_var: variance per unit of W_ih x_t: input_std^2 * input_size * var_ih for layer 0,
            H * var_ih * E[act(sqrt(q*) z)^2] of the layer below for layers above.
        bias_var: variance per unit of the total bias b_ih + b_hh (the init's var_bias), 0
            without bias.
        validity: ``"iid"`` (assumptions hold; exact as H -> infinity), ``"approximate"``
            (orthogonal), ``"none"`` (the init is not random, e.g. identity; a gated cell; a
            task cell told no drive) or ``"origin"``
            (no input and no bias: from h0 = 0 the state never leaves h = 0, so the linear
            regime, :func:`linear_rate`, applies instead; relu's Jacobians are exactly 0).
        reason: one sentence on why.
    """

    activation: str | None
    gain: float | None
    input_var: float | None
    bias_var: float | None
    validity: str
    reason: str


MEAN_FIELD_AXES = (
    "model",
    "num_layers",
    "activation",
    "init",
    "hidden_size",
    "input_size",
    "input_std",
    "task",
    "bias",
)
"""The axes of a cell that :func:`mean_field_inputs` reads besides ``gain`` (a test checks
it): :func:`.critical.critical_gain` searches, and caches, on these alone."""


def cell_value(cell: Mapping[str, Any] | object, name: str, default: Any = None) -> Any:
    if isinstance(cell, Mapping):
        return cell.get(name, default)
    return getattr(cell, name, default)


def mean_field_inputs(
    cell: Mapping[str, Any] | object,
    *,
    layer: int | SupportsIndex = 0,
    variances: Variances | None = None,
) -> MeanFieldInputs:
    """Map a sweep cell's config to the inputs of :func:`vanishlab.mean_field`.

    A gated cell (``model`` other than ``rnn``) gets validity ``"none"`` and no numbers, and so
    does a task cell (``task`` other than ``"none"``) with ``input_std`` 0: it runs on the
    task's inputs, and ``input_std`` is the drive the mean field is told.
    The cell (a dict or an object with attributes) gives ``activation``, ``init``, ``gain``,
    ``input_std``, ``input_size``, ``hidden_size`` and ``bias``; one it lacks, but the sizes
    and ``init`` (required unless ``variances`` are given), reads as a sweep's default (the
    axis table, :mod:`vanishlab.sweep.config`: ``input_std`` 1, where it read as 0 and a dict
    without it was a cell at the origin). The init's
    per-entry variances (var_hh, var_ih, var_bias) = ``INITS[init].variances(H, I, gain)``
    give the mean-field gain, input and bias variances of each layer
    (:func:`vanishlab.analysis.meanfield.layer_drive`). The init's ``validity`` says whether
    the assumptions hold; an init whose ``variances`` returns None (identity) or that states no
    validity gets ``"none"`` and no numbers.

    Args:
        cell: the cell config.
        layer: which layer of a stack (0-based).
        variances: (var_hh, var_ih, var_bias) to use instead of the init registry (then
            ``init`` may be absent, and the caller vouches for i.i.d. entries); for
            ``layer > 0`` the same variances serve every layer.

    Returns:
        A :class:`MeanFieldInputs`.

    Raises:
        ValueError: an init this process has not registered, and no ``variances``; an init
            whose ``variances`` returns something else than None or three numbers >= 0
            (:meth:`~vanishlab.sweep.inits.Init.checked_variances`).
    """
    model, layer = checked_model(cell, layer)
    if model not in RNN_THEORY_MODELS:
        return MeanFieldInputs(None, None, None, None, "none", GATED_REASON)
    activation = str(cell_value(cell, "activation", axis("activation").default))
    init = cell_value(cell, "init")
    H, I = int(cell_value(cell, "hidden_size")), int(cell_value(cell, "input_size"))
    # None, "x" or True failed with float()'s words or were read as numbers; a NaN input_std
    # was reported as variances that "overflow float64", a negative one taken as its square's
    gain = real_number("gain", cell_value(cell, "gain", axis("gain").default))
    if not gain >= 0:
        raise ValueError(f"gain must be a number >= 0, got {gain!r}")
    input_std = real_number("input_std", cell_value(cell, "input_std", axis("input_std").default))
    if not input_std >= 0:
        raise ValueError(f"input_std must be a number >= 0, got {input_std!r}")
    task = cell_value(cell, "task", axis("task").default)
    if input_std == 0.0 and isinstance(task, str) and task != "none":
        # A task cell runs on the task's inputs; input_std is only the drive the mean field is
        # told. Told none, it took the cell for one at the origin (relu: −∞ predicted).
        reason = (
            "a task cell is driven by its task's inputs, but input_std 0 tells the mean field "
            "there is no input (give the task's r.m.s. input as input_std)"
        )
        return MeanFieldInputs(activation, None, None, None, "none", reason)
    bias = as_flag(cell_value(cell, "bias", axis("bias").default), "bias")  # bool("False") is True
    if variances is None and init is None:
        raise ValueError("cell has no 'init' and no variances were given")
    entry = INITS.get(str(init)) if init is not None else None
    if variances is None and entry is None:
        raise ValueError(f"unknown init {init!r}; known: {sorted(INITS)}")
    if entry is not None:
        validity, reason = entry.mean_field_validity()
    else:
        validity, reason = "iid", "variances given by the caller, taken as i.i.d. zero-mean"
    if variances is not None:
        given = _checked_variances(variances)

        def layer_vars(fan_in: int) -> Variances | None:
            return given

    else:
        assert entry is not None
        init_entry = entry

        def layer_vars(fan_in: int) -> Variances | None:
            return init_entry.checked_variances(H, fan_in, gain)

    first = layer_vars(I)
    if first is None:
        if validity != "none":
            validity, reason = "none", f"init {init!r} is not i.i.d. random (no variances)"
        return MeanFieldInputs(activation, None, None, None, validity, reason)
    if not all(math.isfinite(v) for v in (*first, input_std * input_std)):
        # gain 1e200 in float64: the cell is measured, but g² overflows the theory's numbers.
        reason = (
            "the variances (gain², input_std²) overflow float64: beyond the mean field's numbers"
        )
        return MeanFieldInputs(activation, None, None, None, "none", reason)
    if validity == "none":
        return MeanFieldInputs(activation, None, None, None, validity, reason)
    if input_std**2 * I * first[1] == 0 and (first[2] if bias else 0.0) == 0:
        validity, reason = (
            "origin",
            "no input and no bias: a sweep cell starts at h0 = 0 and stays there, where the "
            "linear regime (ln ρ(W_hh); relu: exactly zero Jacobians) applies, not the mean "
            "field's q*",
        )

    def checked(fan_in: int) -> Variances:
        v = layer_vars(fan_in)
        assert v is not None  # the same init gave variances for layer 0
        return v

    g_mf, s_u, s_b = layer_drive(
        activation,
        hidden_size=H,
        input_size=I,
        input_std=input_std,
        bias=bias,
        variances=checked,
        layer=layer,
    )
    return MeanFieldInputs(activation, g_mf, s_u, s_b, validity, reason)


def _checked_variances(variances: object) -> Variances:
    """``variances`` as three floats (var_hh, var_ih, var_bias), each finite and >= 0: a pair
    failed to unpack, a negative one in math.sqrt ("math domain error")."""
    if not isinstance(variances, tuple | list) or len(variances) != 3:
        raise TypeError(
            f"variances must be three numbers (var_hh, var_ih, var_bias), got {variances!r:.80}"
        )
    values = tuple(real_number("variances", v) for v in variances)
    for name, v in zip(("var_hh", "var_ih", "var_bias"), values, strict=True):
        if not (math.isfinite(v) and v >= 0):  # each named, in the words of mean_field's
            raise ValueError(f"{name} of variances must be a finite number >= 0, got {v}")
    return values  # type: ignore[return-value]


def checked_model(cell: Mapping[str, Any] | object, layer: object) -> tuple[str, int]:
    """The cell's model and ``layer`` as an int, after the checks every mean-field entry point
    needs: a known model, a layer index within ``num_layers`` (when the cell gives it: a partial
    cell may ask for any layer) and, for an nn.RNN, positive sizes. A misspelt key is said
    first (:func:`_refuse_misspelt_keys`)."""
    _refuse_misspelt_keys(cell)
    model = cell_value(cell, "model") or axis("model").default
    if model not in ALL_MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(ALL_MODELS)}")
    layers = cell_size(cell, "num_layers") if cell_value(cell, "num_layers") is not None else None
    # a NumPy integer too (a frame's layer column): np.int64(1) was refused as no layer index
    index = as_integer(layer, "layer")
    if index is None or index < 0:
        raise ValueError(f"layer must be a layer index >= 0, got {layer!r}")
    if layers is not None and index >= layers:
        raise ValueError(f"layer must be in 0..{layers - 1} (num_layers = {layers}), got {index}")
    if model == "rnn":
        for key in ("hidden_size", "input_size"):
            cell_size(cell, key)
        activation = cell_value(cell, "activation", axis("activation").default)
        if activation not in ACTIVATIONS:  # "gelu" was given numbers and validity "iid"
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return str(model), index


def _refuse_misspelt_keys(cell: Mapping[str, Any] | object) -> None:
    """A ``ValueError`` naming a key of a dict or pandas row ``cell`` that is no axis, whose
    nearest axis (:func:`.nearest.nearest_name`) is one the mean field reads and the cell lacks:
    ``{"activaton": "relu", ...}`` was measured as tanh in silence, and with no sizes was said
    to lack ``hidden_size``. Other keys are ignored, as before (a frame's own columns: ``lag``,
    ``layer``, a note), and so is a near name whose axis the cell has too."""
    keys = list(cell.keys()) if callable(getattr(cell, "keys", None)) else []  # type: ignore
    read = (*MEAN_FIELD_AXES, "gain")
    for key in keys:
        if not isinstance(key, str) or key in AXES:
            continue
        near = nearest_name(key, read)
        if near is not None and near not in keys:
            raise ValueError(
                f"unknown key {key!r} in the cell: did you mean {near!r}? (the mean field "
                f"reads {', '.join(read)})"
            )


def cell_size(cell: Mapping[str, Any] | object, key: str, default: int | None = None) -> int:
    """A positive integer of the cell (``hidden_size``, ``input_size``, ``num_layers``);
    ``default`` where it has none, or None (as every entry point reads a None)."""
    value = cell_value(cell, key)
    if value is None:  # critical_gain said a num_layers of None was missing, which
        value = default  # mean_field_inputs takes as absent
    if value is None:
        raise ValueError(f"cell has no {key!r}: the mean field needs it")
    # a list failed in int() ("int() argument must be ... not 'list'"), a NaN or inf there
    # ("cannot convert float NaN to integer", an OverflowError): a frame's missing value
    try:
        number = real_number(key, value)  # not a bool or a string
    except TypeError:
        number = math.nan
    if not (math.isfinite(number) and number == int(number) and number >= 1):
        raise ValueError(f"{key} must be a positive integer, got {value!r:.60}")
    return int(number)


def cell_mean_field(
    cell: Mapping[str, Any] | object,
    *,
    layer: int | SupportsIndex = 0,
    variances: Variances | None = None,
) -> MeanField | None:
    """:func:`vanishlab.mean_field` of a sweep cell (see :func:`mean_field_inputs`); None if
    not applicable.

    None when the validity is ``"none"`` or ``"origin"`` (the reason is in
    :func:`mean_field_inputs`), and when the layer below diverges (relu explosion leaves no
    finite drive).
    """
    m = mean_field_inputs(cell, layer=layer, variances=variances)
    if m.validity in ("none", "origin"):
        return None
    if m.activation is None or m.gain is None or m.input_var is None or m.bias_var is None:
        return None
    if not math.isfinite(m.input_var):
        return None
    return mean_field(m.activation, m.gain, m.input_var, m.bias_var)
