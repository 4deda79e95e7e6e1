"""Telling a user who passed a model, a wrapper, a TorchScript copy or a ``torch.export``
program where the ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` it holds (or was made from) is:
:func:`wrong_module` (the ``TypeError``) and :func:`where_it_is` (its hint, which
:class:`~vanishlab.JacobianMonitor` adds too); and that a
quantized copy (``torch.ao.quantization.quantize_dynamic``'s ``LSTM``, no ``nn.LSTM``) is not
one, and neither is a float one prepared for quantization (``torch.ao.nn.quantizable``'s
``LSTM``, its gates in ``Linear`` layers), whose float original is; and that a cell
(``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``) holds a one-layer module's weights
(:func:`cell_recipe`).
"""

from __future__ import annotations

import torch
from torch import nn

from .modules import MEASURED

__all__ = [
    "OTHER_CELL",
    "QUANTIZABLE",
    "QUANTIZED",
    "cell_recipe",
    "where_it_is",
    "wrong_module",
]

_KINDS = tuple(cls.__name__ for cls in MEASURED)  # "RNN", "LSTM", "GRU"
_CELLS = (nn.RNNCell, nn.LSTMCell, nn.GRUCell)
#: Where torch keeps its quantized modules (dynamic and static), whose classes are named as the
#: float ones (a quantize_dynamic'ed LSTM is torch.ao.nn.quantized.dynamic.LSTM, no nn.LSTM),
#: and (:data:`QUANTIZABLE`) the float modules that quantization prepares (an LSTM whose gates
#: are Linear layers, so that observers can watch them): quantized, neither is an nn.LSTM.
QUANTIZABLE = "torch.ao.nn.quantizable"
QUANTIZED = ("torch.ao.nn.quantized", QUANTIZABLE, "torch.nn.quantized")
#: What a cell of its own kind is (none of nn.RNNCell, nn.LSTMCell, nn.GRUCell): said of such a
#: cell passed in, and of a file's cell weights of no such cell's shapes. No recipe fits it.
OTHER_CELL = (
    "no nn.RNNCell, nn.LSTMCell or nn.GRUCell: its step is its own code, which no nn.RNN, "
    "nn.LSTM or nn.GRU computes, so vanishlab cannot measure it"
)


def wrong_module(obj: object, expected: str, second: object = None) -> TypeError:
    """The error for ``obj`` where ``expected`` (``"an nn.RNN"``) is due, with
    :func:`where_it_is`'s hint; ``second``, the call's next argument (``x``): when it is the
    recurrent module, the two were swapped, and the message says so."""
    hint = where_it_is(obj)
    if isinstance(second, MEASURED):
        hint = " (the arguments are swapped: pass the module first, then x)"
    return TypeError(f"expected {expected} module, got {type(obj).__name__}{hint}")


def where_it_is(obj: object) -> str:
    """For a model that holds an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (``torch.compile``'s
    ``_orig_mod``, ``DataParallel``'s ``module``, a model's ``.rnn``, an ``nn.Sequential``'s
    ``[0]``), the words that say which submodule to pass; for a TorchScript module
    (``torch.jit.script`` or ``trace``, whose copies are no ``nn.LSTM``), that it takes the
    module it was compiled from; for a ``torch.export`` program (or its ``.module()``), the
    module it was exported from; for a quantized one (or a model holding one), that it takes
    the float module it was quantized from; for a cell (or a model holding one), how to make
    the one-layer module whose weights it holds (:func:`cell_recipe`); else ``""``."""
    if not isinstance(obj, nn.Module):
        return _exported(obj)
    if isinstance(obj, torch.jit.ScriptModule):
        names = [getattr(m, "original_name", None) for m in obj.modules()]
        kind = next((name for name in names if name in _KINDS), None)
        if kind is None:
            return ""
        return f" (a TorchScript module: pass the nn.{kind} it was compiled from)"
    found = [
        (_attribute(path), m) for path, m in obj.named_modules() if path and isinstance(m, MEASURED)
    ]
    if len(found) == 1:
        return f" (it wraps one: pass its {found[0][0]}, the {type(found[0][1]).__name__} itself)"
    if found:
        return f" (it holds {len(found)}: pass one of its {', '.join(p for p, _ in found)} itself)"
    for m in obj.modules():
        cls = type(m)
        if cls.__name__ in _KINDS and cls.__module__.startswith(QUANTIZED):
            what = "it is" if m is obj else "it holds"
            # a quantizable LSTM is float, not quantized: "a quantized copy" misnamed it
            kind = (
                f"a float {cls.__name__} prepared for quantization"
                if cls.__module__.startswith(QUANTIZABLE)
                else "a quantized copy"
            )
            return (
                f" ({what} {cls.__module__}.{cls.__name__}, {kind}, which is no "
                f"nn.{cls.__name__}: pass the float nn.{cls.__name__} it was made from)"
            )
    cells = [(_attribute(p), m) for p, m in obj.named_modules() if isinstance(m, nn.RNNCellBase)]
    if len(cells) == 1:  # the cell itself, or a model's one cell: a one-layer module's weights
        path, cell = cells[0]
        where = "it is" if cell is obj else f"it holds one, its {path}:"
        return f" ({where} {cell_recipe(cell, 'cell' if cell is obj else f'model{path}')})"
    return _exported(obj)


def _exported(obj: object) -> str:
    """For a ``torch.export`` program or its ``.module()``, whose recurrent modules are traced
    into operations (no ``nn.LSTM`` is left in it), the words that name the module to pass, from
    the module stack export records on each node of its graph; else ``""``."""
    graph = getattr(obj, "graph_module", obj)  # an ExportedProgram's graph, or the module's own
    if not isinstance(graph, torch.fx.GraphModule):
        return ""
    found: dict[str, str] = {}
    for node in graph.graph.nodes:
        for entry in (node.meta.get("nn_module_stack") or {}).values():  # (path, class)
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)):
                continue  # another torch's record: no words rather than an error of its own
            path, kind = entry
            name = kind if isinstance(kind, str) else getattr(kind, "__qualname__", "")
            module = getattr(kind, "__module__", "") if not isinstance(kind, str) else ""
            module, _, cls = f"{module}.{name}".strip(".").rpartition(".")
            if module == "torch.nn.modules.rnn" and cls in _KINDS:
                found.setdefault(_attribute(path), cls)
    if not found:
        return ""
    traced = ", ".join(f"nn.{cls}" + (f" at {path}" if path else "") for path, cls in found.items())
    if len(found) > 1:
        return (
            f" (an exported program, whose {traced} are traced into operations: pass one of "
            "them from the model it was exported from)"
        )
    [(path, cls)] = found.items()
    model = f", model{path}" if path else ""
    return (
        f" (an exported program, whose {traced} is traced into operations: pass the nn.{cls} "
        f"it was exported from{model})"
    )


def _attribute(path: str) -> str:
    """A submodule's ``named_modules`` path as Python reaches it: ``enc.1`` is ``.enc[1]``."""
    return "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path.split(".") if p)


def cell_recipe(cell: nn.RNNCellBase, name: str = "cell") -> str:
    """The words for a cell ``name`` (``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``), which
    computes one step of a loop of the user's: its weights are a one-layer module's with
    ``_l0`` added to each key, which is measured on the steps the loop feeds the cell. The
    module is written with the cell's sizes, bias and (an RNNCell's) nonlinearity. A cell of
    another kind (an nn.RNNCellBase subclass of none of the three) gets no recipe: it was
    given the nn.RNN's, which its weights do not fit."""
    base = next((b for b in type(cell).__mro__ if b in _CELLS), None)  # a subclass's
    if base is None:
        return f"a cell of its own kind ({type(cell).__name__}), {OTHER_CELL}"
    kind = base.__name__.removesuffix("Cell")
    args = [str(cell.input_size), str(cell.hidden_size)]
    if getattr(cell, "nonlinearity", "tanh") != "tanh":
        args.append(f"nonlinearity={cell.nonlinearity!r}")
    if not cell.bias:
        args.append("bias=False")
    weight = cell.weight_ih  # a float64 or CUDA cell's module was float32 on the CPU
    if weight.dtype != torch.float32:
        args.append(f"dtype=torch.{str(weight.dtype).removeprefix('torch.')}")
    if weight.device.type != "cpu":
        args.append(f"device={str(weight.device)!r}")
    return (
        f"a cell, one step of a loop, whose weights are a one-layer nn.{kind}'s with _l0 added "
        f"to each key: rnn = nn.{kind}({', '.join(args)}); rnn.load_state_dict({{k + '_l0': v "
        f"for k, v in {name}.state_dict().items()}}), then measure rnn on the (T, B, "
        f"input_size) steps the loop feeds the cell"
    )
