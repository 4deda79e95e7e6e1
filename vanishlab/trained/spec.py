"""The architecture of a recurrent module, inferred from its parameters, and the module built
from it.

PyTorch names the parameters of layer l of an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``
``weight_ih_l{l}`` (G H x I for l = 0, G H x H above), ``weight_hh_l{l}`` (G H x H) and, with
``bias=True``, ``bias_ih_l{l}`` and ``bias_hh_l{l}`` (G H), where G is the number of gate blocks
stacked in the rows: 1 for ``nn.RNN``, 3 for ``nn.GRU`` (r, z, n) and 4 for ``nn.LSTM`` (i, f,
g, o). So a state_dict alone gives the kind (G = rows of ``weight_ih_l0`` / columns of
``weight_hh_l0``), ``hidden_size`` H, ``input_size`` I, ``num_layers`` (the consecutive l
present) and ``bias``. The one thing it cannot give is an ``nn.RNN``'s nonlinearity (tanh or
relu: no parameter depends on it): tanh, the default, unless the caller says relu.
``bidirectional=True`` (``*_reverse`` keys) and an LSTM's ``proj_size`` (``weight_hr_l{l}``) are
refused with a clear error, as the measurement engine refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..core import global_rng
from ..core.cells import GATE_BLOCKS
from ..core.modules import MODULES  # model kind -> its PyTorch class, re-exported
from ..errors import VanishlabError
from ..sweep.config import axis

__all__ = ["GATES", "MODULES", "PARAM", "RecurrentSpec", "infer_spec", "module_from_weights"]

GATES: dict[int, str] = {blocks: model for model, blocks in GATE_BLOCKS.items()}
"""Gate blocks stacked in the rows of the weights -> model kind."""

PARAM = re.compile(r"(?P<kind>weight|bias)_(?P<part>ih|hh|hr)_l(?P<layer>\d+)(?P<rev>_reverse)?")
"""A recurrent module's own parameter name (``weight_ih_l0``, ``bias_hh_l1_reverse``)."""

_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


_READ_DTYPES = (torch.float16, torch.bfloat16, *_DTYPES)
_ONE_DTYPE = "save its state_dict() after module.float()"


def _one_dtype(where: str, params: dict[tuple[str, str, int], torch.Tensor]) -> torch.dtype:
    """The one dtype of the parameters, of those read (float16, bfloat16, float32, float64).
    Several were said as a set, in an order that changed from run to run; an integer dtype
    as parameters that 'must share one floating dtype', which they did."""
    first: dict[torch.dtype, str] = {}
    for (kind, side, layer), value in sorted(params.items()):
        first.setdefault(value.dtype, f"{kind}_{side}_l{layer}")
    names = {d: str(d).removeprefix("torch.") for d in first}
    if len(first) > 1:
        several = ", ".join(f"{names[d]} ({key})" for d, key in first.items())
        raise VanishlabError(
            f"{where}: its parameters have several dtypes, {several}: vanishlab reads one; "
            f"{_ONE_DTYPE}"
        )
    (stored,) = first
    if stored not in _READ_DTYPES:
        raise VanishlabError(
            f"{where}: its parameters are {names[stored]}: vanishlab reads float16, bfloat16, "
            f"float32 or float64 weights; {_ONE_DTYPE}"
        )
    return stored


@dataclass(frozen=True)
class RecurrentSpec:
    """The architecture of a recurrent module, as inferred from its parameters.

    ``kind``: ``"rnn"``, ``"lstm"`` or ``"gru"``; ``nonlinearity``: ``"tanh"`` or ``"relu"``
    for ``"rnn"``, ``None`` for gated cells (whose nonlinearities are fixed);
    ``nonlinearity_given``: whether the caller stated it (it cannot be read from weights);
    ``dtype``: the dtype measured in (``"float32"`` or ``"float64"``); ``stored_dtype``: the
    one in the file (float16 and bfloat16 are widened to float32, exactly).
    """

    kind: str
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    nonlinearity: str | None
    nonlinearity_given: bool
    dtype: str
    stored_dtype: str

    def to_dict(self) -> dict[str, Any]:
        """The spec as a JSON-ready dict."""
        return asdict(self)

    def describe(self) -> str:
        """A one-line description, e.g. ``nn.LSTM(16, 64, num_layers=2, bias=True)``."""
        extra = f", nonlinearity={self.nonlinearity!r}" if self.kind == "rnn" else ""
        return (
            f"nn.{MODULES[self.kind].__name__}({self.input_size}, {self.hidden_size}, "
            f"num_layers={self.num_layers}, bias={self.bias}{extra}) in {self.dtype}"
        )


#: Keys of a parametrized recurrent weight: torch.nn.utils.parametrize's (orthogonal, the new
#: weight_norm) and the old weight_norm's ``_g`` / ``_v`` pair (the old spectral_norm's ``_v``).
_PARAMETRIZED = re.compile(r"parametrizations\.|(weight|bias)_(ih|hh)_l\d+(_reverse)?_[gv]$")


def infer_spec(
    weights: Mapping[str, torch.Tensor], *, nonlinearity: str | None = None, where: str = "module"
) -> RecurrentSpec:
    """The architecture of a recurrent module from its parameters (keys without prefix).

    Raises VanishlabError for a bidirectional module, an LSTM with ``proj_size``, a missing or
    misshapen parameter, or a nonlinearity given for a gated cell.
    """
    params: dict[tuple[str, str, int], torch.Tensor] = {}
    for key, value in weights.items():
        match = PARAM.fullmatch(key)
        if match is None or not isinstance(value, torch.Tensor):
            continue
        if match["rev"]:
            raise VanishlabError(
                f"{where} is bidirectional ({key}): not supported; vanishlab measures "
                "one-directional recurrent modules (one layer: save each direction as a "
                "module of its own, its _reverse keys without the suffix, and give the "
                "backward one its inputs reversed in time; README, 'A bidirectional module')"
            )
        if match["part"] == "hr":
            raise VanishlabError(
                f"{where} is an LSTM with proj_size ({key}): not supported; vanishlab measures "
                "LSTMs without projections"
            )
        params[(match["kind"], match["part"], int(match["layer"]))] = value
    missing = [f"weight_{p}_l0" for p in ("ih", "hh") if ("weight", p, 0) not in params]
    parametrized = sorted(k for k in weights if isinstance(k, str) and _PARAMETRIZED.match(k))
    # Whatever else is there: parametrized biases were read as bias=False, a parametrized
    # layer 1 as a one-layer module (it said "not the weights of a whole recurrent module").
    if parametrized:
        raise VanishlabError(
            f"{where} has parametrized weights ({', '.join(parametrized[:2])}"
            f"{', ...' if len(parametrized) > 2 else ''}), which vanishlab does not read: save "
            "the module after torch.nn.utils.parametrize.remove_parametrizations (or the old "
            "remove_weight_norm, remove_spectral_norm), which writes the weights its forward uses"
        )
    if missing:
        raise VanishlabError(
            f"{where} has no {' and no '.join(missing)}: not the weights of a whole recurrent "
            "module"
        )
    layers = sorted({layer for _, _, layer in params})
    L = len(layers)
    if layers != list(range(L)):
        raise VanishlabError(f"{where}: inconsistent layers {layers} (expected 0..{L - 1})")
    w_ih0, w_hh0 = params[("weight", "ih", 0)], params[("weight", "hh", 0)]
    if w_hh0.dim() != 2 or w_ih0.dim() != 2 or w_hh0.shape[1] == 0 or w_ih0.shape[1] == 0:
        raise VanishlabError(
            f"{where}: weight_hh_l0 {tuple(w_hh0.shape)} and weight_ih_l0 {tuple(w_ih0.shape)} "
            "must be matrices, with at least one column (hidden and input sizes >= 1)"
        )
    H, I = w_hh0.shape[1], w_ih0.shape[1]
    if w_hh0.shape[0] not in {g * H for g in GATES}:  # the hidden size comes from its columns
        raise VanishlabError(
            f"{where}: weight_hh_l0 has shape {tuple(w_hh0.shape)}: its rows are not 1, 3 or 4 "
            f"blocks of its {H} columns (nn.RNN, nn.GRU, nn.LSTM: (G*H, H))"
        )
    rows = w_ih0.shape[0]
    gates = rows // H if rows % H == 0 else 0
    if gates not in GATES:
        raise VanishlabError(
            f"{where}: weight_ih_l0 has {rows} rows for hidden size {H}: not 1, 3 or 4 gate "
            "blocks (nn.RNN, nn.GRU, nn.LSTM)"
        )
    kind = GATES[gates]
    has_bias = ("bias", "ih", 0) in params
    expected: dict[tuple[str, str, int], tuple[int, ...]] = {}
    for l in range(L):
        expected[("weight", "ih", l)] = (gates * H, I if l == 0 else H)
        expected[("weight", "hh", l)] = (gates * H, H)
        if has_bias:
            expected[("bias", "ih", l)] = (gates * H,)
            expected[("bias", "hh", l)] = (gates * H,)
    for key in sorted(set(expected) | set(params)):
        name = f"{key[0]}_{key[1]}_l{key[2]}"
        if key not in params:
            raise VanishlabError(f"{where}: {name} is missing (inconsistent with the other keys)")
        if key not in expected:
            raise VanishlabError(f"{where}: unexpected {name} (bias in some layers only?)")
        if tuple(params[key].shape) != expected[key]:
            raise VanishlabError(
                f"{where}: {name} has shape {tuple(params[key].shape)}, expected "
                f"{expected[key]} for an nn.{kind.upper()} with input_size={I}, hidden_size={H}"
            )
    stored = _one_dtype(where, params)
    # float16 and bfloat16 widened exactly: the engine measures in float32 or float64
    dtype = _DTYPES.get(stored, "float32")
    if kind == "rnn":
        activation = axis("activation")  # a sweep's: the same names and the same default
        if nonlinearity is not None and nonlinearity not in activation.choices:
            # Lower case, as nn.RNN takes the names (the CLI lowers RELU: Axis.as_named).
            raise VanishlabError(
                f"--nonlinearity (nonlinearity=) must be {' or '.join(activation.choices)}, "
                f"got {nonlinearity!r}"
            )
        act: str | None = nonlinearity or activation.default
    else:
        if nonlinearity is not None:
            # (said "--nonlinearity" alone to a caller of vl.read_checkpoint)
            raise VanishlabError(
                f"--nonlinearity (nonlinearity=) applies to nn.RNN only; {where} is an "
                f"nn.{kind.upper()}"
            )
        act = None
    return RecurrentSpec(
        kind=kind,
        input_size=int(I),
        hidden_size=int(H),
        num_layers=L,
        bias=has_bias,
        nonlinearity=act,
        nonlinearity_given=nonlinearity is not None,
        dtype=dtype,
        stored_dtype=str(stored).removeprefix("torch."),
    )


def module_from_weights(
    spec: RecurrentSpec, weights: Mapping[str, torch.Tensor], *, batch_first: bool = False
) -> nn.RNNBase:
    """The module of ``spec`` holding ``weights`` (strict: every parameter, nothing else).

    The global RNG is left as it was (the constructor's own random init is overwritten).
    """
    cls = MODULES[spec.kind]
    kwargs: dict[str, Any] = {"bias": spec.bias, "batch_first": batch_first}
    if spec.kind == "rnn":
        kwargs["nonlinearity"] = spec.nonlinearity
    dtype = getattr(torch, spec.dtype)
    with global_rng.forked():
        module = cls(spec.input_size, spec.hidden_size, spec.num_layers, dtype=dtype, **kwargs)
    own = {k: v.to(dtype) for k, v in weights.items() if PARAM.fullmatch(k)}
    odd = [k for k, v in own.items() if v.layout != torch.strided or v.is_meta]
    if odd:  # sparse or meta tensors failed inside load_state_dict
        raise VanishlabError(
            f"{odd[0]} is {'on the meta device' if own[odd[0]].is_meta else 'a sparse tensor'}"
            ": vanishlab measures dense weights that hold values"
        )
    module.load_state_dict(own, strict=True)
    return module.eval()
