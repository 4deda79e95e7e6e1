"""Reading a saved recurrent network: find its weights in a checkpoint, infer its architecture.

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

A module inside a model has its keys prefixed by its attribute path (``rnn.weight_ih_l0``,
``encoder.lstm.weight_ih_l0``); the prefix is the module's name. A checkpoint is a state_dict,
or a dict holding one under ``state_dict`` (PyTorch Lightning), ``model`` (common training
scripts) or ``model_state_dict`` (PyTorch's recipe for a general checkpoint); the prefix is then
the name inside it. Any other nesting of dicts and lists is read as one state_dict whose keys
join the path with dots, as ``state_dict()`` joins attribute names: ``{"net": sd}`` holds
``net.rnn``, ``[sd]`` holds ``0.rnn``. A module pruned with ``torch.nn.utils.prune`` saves a
pruned parameter as ``name_orig`` and ``name_mask``; it is measured with name_orig * name_mask,
the weight its forward uses.

Files are read with ``torch.load(weights_only=True)`` only: tensors and plain containers are
restored; a file that would need to import or run code to unpickle is refused before any runs.
"""

from __future__ import annotations

import os
import pickle
import re
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core import global_rng, warning_filters
from ..core.cells import GATE_BLOCKS
from ..core.inputs import NESTED_ADVICE, token_ids_advice
from ..errors import VanishlabError
from ..sweep.files import as_path, line_text, loop_problem
from .archive import check_records, cut_short, is_torchscript, sha256_file, unpickler_reason
from .foreign import foreign_advice, plain_data_allowed
from .state_dict import find_recurrent, find_state_dict, module_label, with_article

__all__ = [
    "GATES",
    "Checkpoint",
    "RecurrentSpec",
    "build_module",
    "find_recurrent",
    "infer_spec",
    "load_tensor_file",
    "read_checkpoint",
    "sha256_file",
]

GATES: dict[int, str] = {blocks: model for model, blocks in GATE_BLOCKS.items()}
"""Gate blocks stacked in the rows of the weights -> model kind."""

_MODULES: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
_SHOWN_OTHERS = 6  # keys named of those a module holds beside its own parameters
_PARAM = re.compile(r"(?P<kind>weight|bias)_(?P<part>ih|hh|hr)_l(?P<layer>\d+)(?P<rev>_reverse)?")
_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


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
            f"nn.{_MODULES[self.kind].__name__}({self.input_size}, {self.hidden_size}, "
            f"num_layers={self.num_layers}, bias={self.bias}{extra}) in {self.dtype}"
        )


@dataclass(frozen=True)
class Checkpoint:
    """A recurrent module read from a file: where, its digest, its name, spec and weights.

    ``module_name`` is the key prefix without its trailing dot (``""`` for a bare state_dict);
    ``weights`` are the module's own parameters, keys without the prefix; ``others`` the
    module's keys that its kind has not (a subclass's own parameters: ``ln.weight``), which
    are not measured. ``==`` and ``hash`` compare every field but ``weights`` (whose tensors'
    ``==`` has no one truth value): they are what the file of digest ``sha256`` holds under
    ``module_name``, so two reads of one file are equal (weights changed in place are not seen).
    """

    path: Path
    sha256: str
    module_name: str
    spec: RecurrentSpec
    weights: dict[str, torch.Tensor] = field(compare=False)
    others: tuple[str, ...] = ()

    def __repr__(self) -> str:  # one line: the dataclass's printed every weight tensor
        spec, n, w = self.spec, len(self.others), len(self.weights)
        stored = f" (stored {spec.stored_dtype})" if spec.stored_dtype != spec.dtype else ""
        others = f", others={n} key{'s' * (n > 1)}" if n else ""
        return (
            f"Checkpoint(path={str(self.path)!r}, module_name={self.module_name!r}, spec="
            f"{spec.describe()}{stored}, weights={w} tensor{'s' * (w != 1)}{others}, "
            f"sha256={self.sha256[:12] + '…'!r})"
        )

    def others_note(self) -> str | None:
        """What is said of :attr:`others` (a ``UserWarning``, a note of ``vanishlab
        analyze``), or None when there are none."""
        if not self.others:
            return None
        kind = _MODULES[self.spec.kind].__name__
        where = f"module {self.module_name}" if self.module_name else "the module"
        shown = ", ".join(self.others[:_SHOWN_OTHERS])
        more = f", ... ({len(self.others)} keys)" if len(self.others) > _SHOWN_OTHERS else ""
        # One line: a state_dict's keys are any strings (a new line in one made two lines).
        return line_text(
            f"{where} also holds {shown}{more}, which an nn.{kind} has not (a subclass?): "
            f"measured with nn.{kind}'s equations and its own weights alone"
        )

    def build(self, *, batch_first: bool = False) -> nn.RNNBase:
        """The ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` with these weights, on the CPU."""
        try:
            return build_module(self.spec, self.weights, batch_first=batch_first)
        except VanishlabError as err:  # said which weight, not which file
            raise VanishlabError(f"checkpoint {self.path}: {err}") from None


_SAVE_INSTEAD = {"inputs file": "Save the inputs as one tensor instead: torch.save(x, path)"}
_PACKED = (
    "It holds packed weights, a quantized module's (torch.ao.quantization.quantize_dynamic?): "
    "save the state_dict() of the float model it was made from instead"
)


def _load(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; every failure is one clear line."""
    if not path.exists():
        raise VanishlabError(f"{what} {path} {loop_problem(path) or 'does not exist'}")
    if not path.is_file():
        raise VanishlabError(f"{what} {path} is not a file")
    try:
        if is_torchscript(path):  # torch < 2.6 loads one (torch.jit.load) even so: refused below
            raise RuntimeError("a TorchScript archive")
        # A plain pickle of protocol > 2 warns that the restricted unpickler may not know
        # every instruction; it either loads or raises, and both are handled here. A
        # TorchScript archive warns before it fails (refused below, in one line), and a
        # quantized tensor (a quantized Linear's) is rebuilt by torch's deprecated storages
        # and quantized constructors, which warn (no recurrent weights: refused below).
        with (
            warning_filters.ignoring(
                "Detected pickle protocol",
                ".*looks like a TorchScript archive",
                "TypedStorage is deprecated",
                r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other quantized",
            ),
            plain_data_allowed(),
        ):  # an argparse.Namespace, a path: see foreign.py
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = unpickler_reason(err)
        if not _NEEDS_CODE.search(reason):
            if _GARBLED_OPCODE.search(reason):  # "Unsupported operand 123": a JSON file, bytes
                reason = _NOT_TORCH_SAVE
            raise VanishlabError(
                f"{what} {path} is not readable as a torch.save file ({reason})"
            ) from None
        advice = _SAVE_INSTEAD.get(what, "Save model.state_dict() instead")
        if what != "checkpoint":
            if "numpy" in reason:  # numpy inputs
                advice = "It holds a numpy object: save torch.as_tensor(x) instead"
        elif "ScriptObject" in reason:  # packed (quantized) weights
            advice = _PACKED
        else:  # a state_dict beside a numpy number (an epoch), a dataclass config, an Enum
            advice = foreign_advice(path, reason) or advice
        raise VanishlabError(
            f"{what} {path} needs code to be loaded (it is not plain tensors and containers), "
            f"and vanishlab loads with weights_only=True only; nothing in it was run. "
            f"{advice} ({reason})"
        ) from None
    except (
        OSError,
        RuntimeError,
        EOFError,
        ValueError,
        UnicodeDecodeError,
        # A garbled legacy (non-zip) pickle fails inside the unpickler with these.
        IndexError,
        KeyError,
        struct.error,
        # An allowlisted class given other arguments than its own (PurePosixPath(1)).
        TypeError,
    ) as err:
        if "TorchScript" in str(err):  # torch's own advice (weights_only=False) runs code
            advice = _SAVE_INSTEAD.get(what, "Save model.state_dict() instead")
            raise VanishlabError(
                f"{what} {path} is a TorchScript archive (torch.jit.save), which vanishlab "
                f"does not load; {advice[0].lower()}{advice[1:]}"
            ) from None
        # The garbled-pickle errors say nothing to a user ("101": a KeyError of an opcode),
        # nor does the zip reader's ("failed finding central directory", "[Errno 22] ...").
        why = _NOT_TORCH_SAVE if isinstance(err, IndexError | KeyError | struct.error) else None
        if isinstance(err, EOFError):
            why = "it ends early: empty, or cut short"
        elif "central directory" in str(err):
            why = "a zip archive that is damaged or cut short"
        elif any(m in str(err) for m in ("PytorchStreamReader", "inline_container", "hasRecord")):
            why = "a zip archive that torch.save did not write, or a damaged one"
        raise VanishlabError(  # a zip archive's start without its end: said so, at every length
            f"{what} {path} is not readable as a torch.save file "
            f"({cut_short(path) or why or _first_line(err)})"
        ) from None
    check_records(path, what)
    return obj


_NEEDS_CODE = re.compile(r"global|class|reduce|build|persistent", re.IGNORECASE)
_GARBLED_OPCODE = re.compile(r"Unsupported operand|invalid load key|unpickling stack", re.I)
_NOT_TORCH_SAVE = (
    "not a zip archive or pickle that torch.load reads: another kind of file, or one damaged "
    "or cut short"
)
#: Keys of a parametrized recurrent weight: torch.nn.utils.parametrize's (orthogonal, the new
#: weight_norm) and the old weight_norm's ``_g`` / ``_v`` pair (the old spectral_norm's ``_v``).
_PARAMETRIZED = re.compile(r"parametrizations\.|(weight|bias)_(ih|hh)_l\d+(_reverse)?_[gv]$")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def load_tensor_file(path: str | os.PathLike[str]) -> torch.Tensor:
    """A single floating-point tensor saved with ``torch.save`` (read with weights_only=True)."""
    path = Path(path)
    obj = _load(path, "inputs file")
    if not isinstance(obj, torch.Tensor):
        raise VanishlabError(
            f"inputs file {path} holds {with_article(type(obj).__name__)}, not a tensor (save "
            "one tensor with torch.save(x, path))"
        )
    if obj.is_nested:  # failed inside torch's kernels, with a traceback
        raise VanishlabError(f"inputs file {path} holds a nested tensor{NESTED_ADVICE}")
    if obj.layout != torch.strided or obj.is_meta:  # failed inside torch's kernels
        what = "a tensor on the meta device" if obj.is_meta else f"a {obj.layout} tensor"
        raise VanishlabError(
            f"inputs file {path} holds {what}, not a dense one with values (x.to_dense())"
        )
    if not obj.is_floating_point():
        what = f"a {obj.dtype} tensor, not floating point{token_ids_advice(obj)}"
        raise VanishlabError(f"inputs file {path} holds {what}")
    return obj


def _pick(prefixes: list[str], module: str | None, path: Path) -> str:
    names = ", ".join(module_label(p[:-1]) for p in prefixes)  # for the refusals below
    if module is None:
        if len(prefixes) == 1:
            return prefixes[0]
        raise VanishlabError(
            f"{path} holds {len(prefixes)} recurrent modules ({names}); choose one with --module"
        )
    wanted = module.rstrip(".")
    wanted = f"{wanted}." if wanted else ""
    if wanted not in prefixes:
        raise VanishlabError(f"{path} has no recurrent module {module!r} (it has: {names})")
    return wanted


def infer_spec(
    weights: Mapping[str, torch.Tensor], *, nonlinearity: str | None = None, where: str = "module"
) -> RecurrentSpec:
    """The architecture of a recurrent module from its parameters (keys without prefix).

    Raises VanishlabError for a bidirectional module, an LSTM with ``proj_size``, a missing or
    misshapen parameter, or a nonlinearity given for a gated cell.
    """
    params: dict[tuple[str, str, int], torch.Tensor] = {}
    for key, value in weights.items():
        match = _PARAM.fullmatch(key)
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
    dtypes = {t.dtype for t in params.values()}
    if len(dtypes) != 1 or not next(iter(dtypes)).is_floating_point:
        raise VanishlabError(f"{where}: parameters must share one floating dtype, got {dtypes}")
    stored = next(iter(dtypes))
    if stored in (torch.float16, torch.bfloat16):
        dtype = "float32"  # widened exactly: the engine measures in float32 or float64
    elif stored in _DTYPES:
        dtype = _DTYPES[stored]
    else:
        raise VanishlabError(f"{where}: unsupported parameter dtype {stored}")
    if kind == "rnn":
        if nonlinearity not in (None, "tanh", "relu"):
            # Lower case only, as sweep's --activation (and nn.RNN itself) take the names.
            raise VanishlabError(
                f"nonlinearity (--nonlinearity) must be tanh or relu, got {nonlinearity!r}"
            )
        act: str | None = nonlinearity or "tanh"
    else:
        if nonlinearity is not None:
            raise VanishlabError(
                f"--nonlinearity applies to nn.RNN only; {where} is an nn.{kind.upper()}"
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


def build_module(
    spec: RecurrentSpec, weights: Mapping[str, torch.Tensor], *, batch_first: bool = False
) -> nn.RNNBase:
    """The module of ``spec`` holding ``weights`` (strict: every parameter, nothing else).

    The global RNG is left as it was (the constructor's own random init is overwritten).
    """
    cls = _MODULES[spec.kind]
    kwargs: dict[str, Any] = {"bias": spec.bias, "batch_first": batch_first}
    if spec.kind == "rnn":
        kwargs["nonlinearity"] = spec.nonlinearity
    dtype = getattr(torch, spec.dtype)
    with global_rng.forked():
        module = cls(spec.input_size, spec.hidden_size, spec.num_layers, dtype=dtype, **kwargs)
    own = {k: v.to(dtype) for k, v in weights.items() if _PARAM.fullmatch(k)}
    odd = [k for k, v in own.items() if v.layout != torch.strided or v.is_meta]
    if odd:  # sparse or meta tensors failed inside load_state_dict
        raise VanishlabError(
            f"{odd[0]} is {'on the meta device' if own[odd[0]].is_meta else 'a sparse tensor'}"
            ": vanishlab measures dense weights that hold values"
        )
    module.load_state_dict(own, strict=True)
    return module.eval()


def read_checkpoint(
    path: str | os.PathLike[str], *, module: str | None = None, nonlinearity: str | None = None
) -> Checkpoint:
    """Read the recurrent module saved in ``path`` (see the module docstring).

    Args:
        path: a file written by ``torch.save``: a state_dict, or a dict holding one under
            ``state_dict``, ``model`` or ``model_state_dict``, or deeper (see the module
            docstring).
        module: the module's key prefix (``"rnn"``, ``"encoder.lstm"``); needed only when the
            file holds several recurrent modules.
        nonlinearity: ``"tanh"`` or ``"relu"`` for an ``nn.RNN`` (tanh when omitted: it cannot
            be read from the weights); must be omitted for LSTM and GRU.

    Raises:
        VanishlabError: a missing or unreadable file, one that needs code to be unpickled
            (nothing in it is run), no recurrent weights, several without ``module``,
            inconsistent shapes, a bidirectional module or an LSTM with ``proj_size``.
        TypeError: a ``module`` that is not a string.
    """
    if module is not None and not isinstance(module, str):  # ("1" names a list's second)
        raise TypeError(
            f"module must be the module's key prefix, a string, got {type(module).__name__} "
            f"(module={str(module)!r}?)"
        )
    path = as_path(path, "path")
    obj = _load(path, "checkpoint")
    state = find_state_dict(obj, path)
    prefix = _pick(find_recurrent(state), module, path)
    weights = {
        key[len(prefix) :]: value
        for key, value in state.items()
        if isinstance(key, str)
        and key.startswith(prefix)
        and isinstance(value, torch.Tensor)
        # its own parameters, and torch.nn.utils.parametrize's (refused by infer_spec)
        and ("." not in key[len(prefix) :] or key[len(prefix) :].startswith("parametrizations."))
    }
    where = f"module {prefix[:-1]!r} of {path}" if prefix else str(path)
    spec = infer_spec(weights, nonlinearity=nonlinearity, where=where)
    others = sorted(
        key[len(prefix) :]
        for key, value in state.items()
        if isinstance(key, str)
        and key.startswith(prefix)
        and isinstance(value, torch.Tensor)
        and not _PARAM.fullmatch(key[len(prefix) :])
    )
    return Checkpoint(
        path=path,
        sha256=sha256_file(path),
        module_name=prefix[:-1] if prefix else "",
        spec=spec,
        weights={k: v for k, v in weights.items() if _PARAM.fullmatch(k)},
        others=tuple(others),
    )
