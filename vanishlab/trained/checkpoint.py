"""Reading a saved recurrent network: find its weights in a checkpoint, infer its architecture.

The file is read by :mod:`vanishlab.trained.torch_file` (``torch.load(weights_only=True)``
only: tensors and plain containers are restored; a file that would need to import or run code
to unpickle is refused before any runs), and the architecture is inferred from the module's
parameter names and shapes by :mod:`vanishlab.trained.spec` (an ``nn.RNN``'s nonlinearity, which
no parameter depends on, is tanh unless the caller says relu).

A module inside a model has its keys prefixed by its attribute path (``rnn.weight_ih_l0``,
``encoder.lstm.weight_ih_l0``); the prefix is the module's name. A checkpoint is a state_dict,
or a dict holding one under ``state_dict`` (PyTorch Lightning), ``model`` (common training
scripts) or ``model_state_dict`` (PyTorch's recipe for a general checkpoint); the prefix is then
the name inside it. Any other nesting of dicts and lists is read as one state_dict whose keys
join the path with dots, as ``state_dict()`` joins attribute names: ``{"net": sd}`` holds
``net.rnn``, ``[sd]`` holds ``0.rnn``. A module pruned with ``torch.nn.utils.prune`` saves a
pruned parameter as ``name_orig`` and ``name_mask``; it is measured with name_orig * name_mask,
the weight its forward uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ..errors import VanishlabError
from ..sweep.files import as_path, line_text
from .archive import file_state, sha256_as_read, sha256_file
from .spec import GATES, MODULES, PARAM, RecurrentSpec, infer_spec, module_from_weights
from .state_dict import find_recurrent, find_state_dict, module_label
from .torch_file import load_file, load_tensor_file

__all__ = [
    "GATES",
    "Checkpoint",
    "RecurrentSpec",
    "find_recurrent",
    "infer_spec",
    "load_tensor_file",
    "module_from_weights",
    "read_checkpoint",
    "sha256_file",
]

_SHOWN_OTHERS = 6  # keys named of those a module holds beside its own parameters


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
        kind = MODULES[self.spec.kind].__name__
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
            return module_from_weights(self.spec, self.weights, batch_first=batch_first)
        except VanishlabError as err:  # said which weight, not which file
            raise VanishlabError(f"checkpoint {self.path}: {err}") from None


def _pick(prefixes: list[str], module: str | None, path: Path, container: str = "") -> str:
    """The key prefix of the module ``module`` names among ``prefixes``, those of the
    state_dict read under the file's key ``container`` (``""``: from the file's top). A name
    that starts with that key is the module's path in the file, as a module beside the key
    is named (``model.rnn``, ``ema.rnn``), and names the same module: ``--module model.rnn``
    of ``{"model": sd}`` was refused with "(it has: rnn)", and ``--module model`` with "it
    holds one recurrent module, at its top level", where the file's keys read model/rnn...
    and model/weight_ih_l0."""
    names = ", ".join(module_label(p[:-1]) for p in prefixes)  # for the refusals below
    if module is None:
        if len(prefixes) == 1:
            return prefixes[0]
        raise VanishlabError(
            f"{path} holds {len(prefixes)} recurrent modules ({names}); choose one with "
            f"--module (module=)"
        )
    wanted = module.rstrip(".")
    wanted = f"{wanted}." if wanted else ""
    inner = wanted[len(container) + 1 :] if container else None  # its name in the state_dict
    if wanted not in prefixes and wanted.startswith(f"{container}.") and inner in prefixes:
        return inner
    under = f"the top level of its state_dict under {container!r}" if container else "its top level"
    if wanted not in prefixes and prefixes == [""]:  # was "(it has: (top level))"
        raise VanishlabError(
            f"{path} has no recurrent module {module!r}: it holds one recurrent module, at "
            f"{under} (its weights are named weight_ih_l0, ...); drop --module (module=)"
        )
    if wanted not in prefixes:
        inside = f", in its state_dict under {container!r}" if container else ""
        raise VanishlabError(f"{path} has no recurrent module {module!r} (it has: {names}{inside})")
    return wanted


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
    before = file_state(path)
    obj = load_file(path, "checkpoint")
    container, state = find_state_dict(obj, path)
    prefix = _pick(find_recurrent(state), module, path, container)
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
        and not PARAM.fullmatch(key[len(prefix) :])
    )
    return Checkpoint(
        path=path,
        sha256=sha256_as_read(path, before, "checkpoint"),
        module_name=prefix[:-1] if prefix else "",
        spec=spec,
        weights={k: v for k, v in weights.items() if PARAM.fullmatch(k)},
        others=tuple(others),
    )
