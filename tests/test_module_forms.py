"""Recurrent modules in the forms a practitioner's models come in: each measured exactly (against
float64 autograd of the module's own forward) or refused in one line, never a traceback from
inside torch. README, "A first measurement", says which forms are which."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
import torch
from torch import nn

import vanishlab as vl

_KINDS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def _sparse(kind: str, layout: str) -> nn.Module:
    """A module whose weight_hh_l0 is a sparse parameter (as a user's pruning to a sparse
    tensor leaves it); nn.RNN's own forward cannot run it either."""
    torch.manual_seed(0)
    module = _KINDS[kind](3, 4)
    weight = module.weight_hh_l0.detach()
    with warnings.catch_warnings():  # torch: "Sparse CSR tensor support is in beta state"
        warnings.simplefilter("ignore", UserWarning)
        dense = weight.to_sparse() if layout == "coo" else weight.to_sparse_csr()
    module.weight_hh_l0 = nn.Parameter(dense)
    return module


_CALLS: dict[str, Callable[[nn.Module, torch.Tensor, object], object]] = {
    "jacobian_norms": lambda m, x, tmp: vl.jacobian_norms(m, x),
    "lyapunov_spectrum": lambda m, x, tmp: vl.lyapunov_spectrum(m, x, k=1),
    "JacobianMonitor": lambda m, x, tmp: vl.JacobianMonitor(m, x, out=tmp / "run"),
}


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("layout", ["coo", "csr"])
@pytest.mark.parametrize("call", sorted(_CALLS))
def test_a_sparse_weight_is_refused_by_name(kind: str, layout: str, call: str, tmp_path) -> None:
    """A sparse weight failed inside torch's kernels, as a NotImplementedError ("Could not run
    'aten::ne.Scalar' with arguments from the 'SparseCPU' backend", some 90 lines) or a
    RuntimeError ("unsupported tensor layout: SparseCsr"), where a sparse x or h0, and a
    checkpoint's sparse weight, were refused by name."""
    module = _sparse(kind, layout)
    with pytest.raises(TypeError, match=r"weight_hh_l0 must be a dense tensor, got layout torch"):
        _CALLS[call](module, torch.randn(5, 1, 3), tmp_path)
    assert not (tmp_path / "run").exists()  # refused before anything is written


@pytest.mark.parametrize("call", [vl.linear_rate, vl.pascanu_bound])
def test_a_sparse_weight_is_refused_by_the_theory_too(call: Callable[[nn.Module], object]) -> None:
    """``linear_rate`` and ``pascanu_bound`` read the same checks (the same traceback)."""
    with pytest.raises(TypeError, match=r"weight_hh_l0 must be a dense tensor, got layout"):
        call(_sparse("RNN", "coo"))


class _Encoder(nn.Module):
    """A model whose LSTM is its ``enc``."""

    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.LSTM(3, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.enc(x)[0])


@pytest.mark.slow  # torch.export's first trace in a process: 3.4 s on the 2-core machine
def test_an_exported_program_says_which_module_to_pass(tmp_path) -> None:
    """torch.export traces the recurrent module into operations: neither the ExportedProgram
    nor its ``.module()`` holds an nn.LSTM. Both were refused as "got ExportedProgram" or "got
    GraphModule" alone, where a TorchScript copy and torch.compile's wrapper said what to pass;
    now they say it too, from the module stack that export records."""
    torch.manual_seed(0)
    x = torch.randn(5, 1, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(_Encoder(), (x,))
    hint = r"traced into operations: pass the nn\.LSTM it was exported from, model\.enc\)"
    for exported in (program, program.module()):
        with pytest.raises(TypeError, match=rf"got (ExportedProgram|\w*GraphModule\w*) .*{hint}"):
            vl.jacobian_norms(exported, x)
    with pytest.raises(TypeError, match=hint):
        vl.lyapunov_spectrum(program, x)
    with pytest.raises(TypeError, match=hint):
        vl.JacobianMonitor(program.module(), x, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
