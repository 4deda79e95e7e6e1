"""Finding a recurrent module's weights in what a checkpoint holds.

A checkpoint is a state_dict, or a dict holding one under ``state_dict`` (PyTorch Lightning),
``model`` (common training scripts) or ``model_state_dict`` (PyTorch's recipe for a general
checkpoint); any other nesting of dicts and lists is read as one state_dict whose keys join the
path with dots, as ``state_dict()`` joins attribute names. So is a file whose recurrent weights
lie beside such a key too (``{"model": sd, "ema": sd_ema}``): each module is then named by its
full path (``model.rnn``, ``ema.rnn``). A recurrent module is found by its ``weight_ih_l0``
key (or that weight's parametrized keys, which :mod:`vanishlab.trained.spec` then refuses
by name); its prefix is the module's name. :mod:`vanishlab.trained.checkpoint` reads
the file and infers the architecture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..core.weight_reads import DROPPED_RAW, same_values
from ..core.wrapped import OTHER_CELL, QUANTIZABLE, QUANTIZED
from ..errors import VanishlabError
from .foreign import quantized_advice
from .spec import GATES, MODULES

__all__ = ["find_recurrent", "find_state_dict", "module_label", "with_article"]

# weight_ih_l0, or its parametrized keys (parametrize's original*, the old weight_norm's _g and
# _v), so that such a module is found and then refused as parametrized, not overlooked. Matched
# with fullmatch and DOTALL: a module's name is any text (add_module takes a newline), where
# "." stopped at a newline ("enc\noder.rnn.weight_ih_l0" was "no key ending in weight_ih_l0")
# and "$" matched before a final one ("weight_ih_l0\n" was a module at the top level).
_ANCHOR = re.compile(
    r"(?P<prefix>(?:.*\.)?)(?:weight_ih_l0(?:_reverse)?(?:_[gv])?"
    r"|parametrizations\.weight_ih_l0(?:_reverse)?\.original\d*)",
    re.DOTALL,
)
# The first weight of torch.ao.nn.quantizable's LSTM (the float module prepared for
# quantization: each layer's gates in Linear layers), which has no weight_ih_l0.
_QUANTIZABLE_LSTM = re.compile(
    r"(?:.*\.)?layers\.\d+\.layer_[fb]w\.cell\.igates\.weight", re.DOTALL
)
# The same module once converted (torch.ao.nn.quantized's LSTM): its gates' Linear layers are
# quantized ones, whose packed (int8 weight, bias) pair a state_dict keeps as a tuple.
_QUANTIZED_LSTM = re.compile(
    r"(?:.*\.)?layers\.\d+\.layer_[fb]w\.cell\.igates\._packed_params\._packed_params\.0",
    re.DOTALL,
)
# A recurrent module's weight or bias, whose weight-drop raw copy stands for it.
_RECURRENT_WEIGHT = re.compile(r"(?:.*\.)?(?:weight|bias)_(?:ih|hh)_l\d+(?:_reverse)?", re.DOTALL)
_CONTAINER_KEYS = ("state_dict", "model", "model_state_dict")
_MAX_DEPTH = 8  # nesting followed into a checkpoint's dicts and lists
_SHOWN_KEYS = 6  # keys named when none holds recurrent weights
_EXPECTED = (
    "; vanishlab expects the state_dict() of an nn.RNN, nn.LSTM or nn.GRU or of a model "
    "holding one, saved alone or inside a dict (e.g. under 'state_dict' or 'model')"
)


def find_state_dict(obj: Any, path: Path) -> tuple[str, Mapping[str, torch.Tensor]]:
    """The state_dict in what ``torch.load`` gave for ``path`` (see the module docstring), with
    pruned parameters as the module uses them, and the container key it was read under
    (``"model"``; ``""`` where the keys name the modules from the file's top: a bare
    state_dict, or a nested one read whole); VanishlabError saying what the file holds when
    no key names recurrent weights."""
    if isinstance(obj, Mapping):
        beside = False  # recurrent weights outside the container key that holds some
        for key in _CONTAINER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and find_recurrent(inner := _as_its_forward_uses(inner)):
                rest = {k: v for k, v in obj.items() if k != key}
                if not find_recurrent(_as_its_forward_uses(_flatten(rest))):
                    return key, inner
                # Another model beside it ({"model": sd, "ema": sd_ema}): the whole file is
                # read as one nested state_dict below, every module listed by its full name.
                beside = True
                break
        if not beside and find_recurrent(top := _as_its_forward_uses(obj)):
            return "", top
    if isinstance(obj, torch.Tensor):  # was told only "a single tensor, not a state_dict"
        raise VanishlabError(
            f"{path} holds a single tensor (shape {tuple(obj.shape)}), not a state_dict"
            f"{_EXPECTED}: torch.save(model.state_dict(), path). If it is the inputs to "
            "measure on, give it as such: --inputs (inputs= in vl.analyze_checkpoint)"
        )
    flat = _as_its_forward_uses(_flatten(obj))
    if find_recurrent(flat):
        return "", flat
    cell = next((k for k in flat if k == "weight_ih" or k.endswith(".weight_ih")), None)
    if cell is not None:
        raise VanishlabError(f"{path} holds {_cell_recipe(flat, cell)}")
    advice = _EXPECTED
    if isinstance(obj, Mapping) and {"state", "param_groups"} <= set(obj):  # was told _EXPECTED
        advice = (
            ". It is an optimizer's state_dict (optimizer.state_dict(): its state and "
            "param_groups), which holds no weights: save the model's, "
            "torch.save(model.state_dict(), path), or both in one dict, e.g. "
            "{'model': model.state_dict(), 'optimizer': optimizer.state_dict()}"
        )
    elif any(_QUANTIZABLE_LSTM.fullmatch(k) for k in flat):  # was told only the above
        advice = f". {quantized_advice(f'{QUANTIZABLE}.LSTM')}"
    elif any(_QUANTIZED_LSTM.fullmatch(k) for k in flat):  # the converted one's: so was it
        advice = f". {quantized_advice(f'{QUANTIZED[0]}.LSTM')}"
    raise VanishlabError(
        f"{path} holds no recurrent weights (no key ending in weight_ih_l0, at any depth): "
        f"{_contents(obj)}{advice}"
    )


# a cell's weight_hh is (gates x H, H): its module's class name, by gate blocks
_CELL_GATES = {blocks: MODULES[model].__name__ for blocks, model in GATES.items()}


def _cell_recipe(flat: Mapping[str, torch.Tensor], weight_ih: str) -> str:
    """The words for the cell whose key ``weight_ih`` is in ``flat``: its kind and sizes read
    from its weights' shapes, and the one-layer module to save instead. It said "e.g. lstm =
    nn.LSTM(I, H)" whatever the cell, and nothing of a relu RNNCell's nonlinearity, which its
    weights cannot tell and the module must be given (and ``analyze``, --nonlinearity)."""
    prefix = weight_ih.removesuffix("weight_ih")
    w_ih, w_hh = flat[weight_ih], flat.get(f"{prefix}weight_hh")
    kind = None
    if w_hh is not None and w_ih.dim() == 2 and w_hh.dim() == 2 and w_hh.shape[1] > 0:
        gates, rest = divmod(w_hh.shape[0], w_hh.shape[1])
        kind = None if rest else _CELL_GATES.get(gates)
    if kind is None and w_hh is not None and w_hh.dim() == 2:  # was told to save "that module"
        return (
            f"the weights of a recurrent cell of its own kind ({weight_ih}; its weight_hh of "
            f"shape {tuple(w_hh.shape)} has not 1, 3 or 4 times as many rows as columns, as an "
            f"nn.RNNCell's, nn.GRUCell's or nn.LSTMCell's has), {OTHER_CELL}"
        )
    if kind is None or w_hh is None:  # no cell's shapes: no recipe to fill in
        return (
            f"a recurrent cell's weights ({weight_ih}), not an nn.RNN, nn.LSTM or nn.GRU's: a "
            "cell's weights are a one-layer module's with _l0 added to each key; save that "
            "module's state_dict"
        )
    args = [str(w_ih.shape[1]), str(w_hh.shape[1])]
    if f"{prefix}bias_ih" not in flat:
        args.append("bias=False")
    relu = (
        " (nonlinearity='relu' there for a relu cell, which its weights cannot tell, and "
        "--nonlinearity relu (nonlinearity=) as it is analysed)"
        if kind == "RNN"
        else ""
    )
    return (
        f"an nn.{kind}Cell's weights ({weight_ih}), not an nn.RNN, nn.LSTM or nn.GRU's, which "
        f"vanishlab measures: a cell's weights are a one-layer nn.{kind}'s with _l0 added to "
        f"each key: rnn = nn.{kind}({', '.join(args)}){relu}; rnn.load_state_dict({{k + '_l0': "
        "v for k, v in cell.state_dict().items()}), then torch.save(rnn.state_dict(), path)"
    )


def _as_its_forward_uses(state: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """``state`` with each pruned parameter (``torch.nn.utils.prune``), and each weight-drop
    raw weight, as the module's forward uses it in evaluation mode.

    A pruned module's state_dict holds ``name_orig`` and ``name_mask`` instead of ``name``, and
    its forward uses name = name_orig * name_mask (prune's ``apply_mask``): that product is the
    weight measured. A weight drop's raw weight, whose dropout the forward uses in training
    and which it uses itself in evaluation, as vanishlab measures, stands for the weight where
    the file has none: ``name_raw`` beside the module's other keys (AWD-LSTM's ``WeightDrop``
    keeps it on the module, as :func:`vanishlab.core.weight_reads.module_weight` reads it), or the
    wrapper's own ``name_raw`` beside its ``module.`` (fastai's ``WeightDropout``, whose
    module's weight is no key of the file). A raw key beside an equal weight is that weight
    (AWD-LSTM's after an evaluation-mode forward, whose dropout returned the raw parameter
    itself, registered as the weight too): dropped. Other keys are kept as they are."""
    dropped: dict[str, str] = {}  # the raw key, to the weight it stands for
    twins: list[str] = []  # a raw key equal to its module's weight, dropped
    for k, v in state.items():
        if not (isinstance(k, str) and k.endswith(DROPPED_RAW) and isinstance(v, torch.Tensor)):
            continue
        base = k[: -len(DROPPED_RAW)]
        if not _RECURRENT_WEIGHT.fullmatch(base):
            continue
        if base in state:  # AWD-LSTM's after an evaluation-mode forward: the raw parameter
            # itself is registered as the weight too (dropout returned it), the same values
            if same_values(state[base], v):
                twins.append(k)
            continue
        prefix, dot, leaf = base.rpartition(".")
        inner = f"{prefix}{dot}module."
        wrapped = any(key.startswith(inner) for key in state if isinstance(key, str))
        if not wrapped:
            dropped[k] = base
        elif f"{inner}{leaf}" not in state:
            dropped[k] = f"{inner}{leaf}"
    pruned = [
        k[: -len("_orig")]
        for k, v in state.items()
        if isinstance(k, str) and k.endswith("_orig") and isinstance(v, torch.Tensor)
    ]
    pairs = [
        base
        for base in pruned
        if base not in state
        and isinstance(mask := state.get(f"{base}_mask"), torch.Tensor)
        and mask.shape == state[f"{base}_orig"].shape
    ]
    if not pairs and not dropped and not twins:
        return state
    out = {k: v for k, v in state.items() if k not in twins}
    for base in pairs:
        orig, mask = out.pop(f"{base}_orig"), out.pop(f"{base}_mask")
        out[base] = orig * mask.to(orig.dtype)
    for raw, weight in dropped.items():
        out[weight] = out.pop(raw)
    return out


def _flatten(obj: Any, prefix: str = "", depth: int = 0) -> dict[str, torch.Tensor]:
    """The tensors in nested dicts and lists, keyed by their dotted path (a dict's keys and a
    list's positions as text: ``{0: sd}`` and ``[sd]`` both name the module ``0``)."""
    if isinstance(obj, torch.Tensor):
        return {prefix[:-1]: obj} if prefix else {}
    if depth >= _MAX_DEPTH:
        return {}
    if isinstance(obj, Mapping):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in obj.items()]
    elif isinstance(obj, list | tuple):
        items = [(str(i), v) for i, v in enumerate(obj)]
    else:
        return {}
    flat: dict[str, torch.Tensor] = {}
    for key, value in items:
        flat.update(_flatten(value, f"{prefix}{key}.", depth + 1))
    return flat


def _kind(value: Any) -> str:
    """A value's type as a message names it: ``tensor (3, 4)``, ``dict: 'w'``, ``int``."""
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)}"
    if isinstance(value, Mapping):
        inner = _names(list(value))
        return f"{type(value).__name__}: {inner}" if inner else f"empty {type(value).__name__}"
    if isinstance(value, list | tuple):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def _names(keys: list[Any]) -> str:
    shown = ", ".join(repr(k) for k in keys[:_SHOWN_KEYS])
    return shown + (f", ... ({len(keys)} keys)" if len(keys) > _SHOWN_KEYS else "")


def _contents(obj: Any) -> str:
    """What a checkpoint holds at the top level, in a few words."""
    if isinstance(obj, Mapping):
        if not obj:
            return f"it is an empty {type(obj).__name__}"
        keys = list(obj)[:_SHOWN_KEYS]
        shown = ", ".join(f"{k!r} ({_kind(obj[k])})" for k in keys)
        more = f", ... ({len(obj)} keys)" if len(obj) > _SHOWN_KEYS else ""
        return f"its keys are {shown}{more}"
    return f"it holds {with_article(_kind(obj))}"


def with_article(words: str) -> str:
    """``words`` after its indefinite article: ``a list``, ``an OrderedDict``, ``an int``."""
    vowel = words[:1] in tuple("aeiouAEIOU") and not words.lower().startswith(
        ("uni", "uint", "use", "usu", "eu", "one")
    )
    return f"{'an' if vowel else 'a'} {words}"


def find_recurrent(state: Mapping[Any, Any]) -> list[str]:
    """Key prefixes of the recurrent modules in a state_dict (``"rnn."``, ``""``), sorted."""
    prefixes = set()
    for key, value in state.items():
        if isinstance(key, str) and isinstance(value, torch.Tensor):
            match = _ANCHOR.fullmatch(key)
            if match:
                prefixes.add(match["prefix"])
    return sorted(prefixes)


def module_label(name: str) -> str:
    """A module's name (a prefix without its dot) as messages show it: as it is, ``(top
    level)`` when empty, quoted where it holds a newline or other unprintable character (a
    one-line error made "b\n" read "b ", and ``vanishlab analyze`` printed it over two lines)."""
    return "(top level)" if not name else name if name.isprintable() else repr(name)
