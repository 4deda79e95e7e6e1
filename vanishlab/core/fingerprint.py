"""A fingerprint of the weights a frame of Jacobian norms was measured on.

:func:`vanishlab.jacobian_norms` records it in the frame's ``attrs`` (:data:`WEIGHTS_ATTR`), and
:func:`vanishlab.check_pascanu` compares it with the module it is given: a frame measured on another
module of the same shape (or on this one before training changed its weights) was checked against
the wrong bound without a word. pandas keeps ``attrs`` through a copy, a selection of rows or
columns and ``set_index``; a concat of frames whose records differ (two modules', or one module's in
float32 and float64) drops them, and ``check_pascanu`` refuses such a frame where a measurement's
row is there twice (no module is known to be its). ``to_parquet`` writes them and ``read_parquet``
restores them, the first file's alone for a folder of several modules' files (pyarrow reads the
first file's metadata alone): beside another module the refusal then says how to drop a record that
is not the rows', and beside the first file's the other files' rows cannot be told. The fingerprint
reads a float32 module and its ``.double()`` copy alike, so the frame records the dtype it was
measured in beside it (:data:`DTYPE_ATTR`), from which ``check_pascanu`` takes the rounding it
allows.
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from .weight_reads import module_weight
from .weights_attr import DTYPE_ATTR, WEIGHTS_ATTR

__all__ = ["DTYPE_ATTR", "WEIGHTS_ATTR", "weights_fingerprint"]


def weights_fingerprint(module: nn.RNNBase) -> str:
    """A SHA-256 of ``module``'s kind (``mode``: RNN_TANH, RNN_RELU, LSTM, GRU), its number of
    layers and every weight and bias its forward uses, widened to float64 on the CPU: a float32
    module and its ``.double()`` copy read alike, as a module and its copy on another device
    (views, strides and ``flatten_parameters`` do not count). The weights of one direction, with
    no projection: a bidirectional module and an LSTM's ``proj_size``, whose ``_reverse`` and
    ``weight_hr`` weights are not read, are refused by ``jacobian_norms`` and ``check_pascanu``
    before any fingerprint."""
    digest = hashlib.sha256(f"{module.mode} {module.num_layers}".encode())
    kinds = ("weight_ih", "weight_hh", *(("bias_ih", "bias_hh") if module.bias else ()))
    for layer in range(module.num_layers):
        for kind in kinds:
            w = module_weight(module, f"{kind}_l{layer}").detach().to("cpu", torch.float64)
            digest.update(f"{kind}_l{layer} {tuple(w.shape)}".encode())
            digest.update(w.contiguous().numpy().tobytes())
    return digest.hexdigest()
