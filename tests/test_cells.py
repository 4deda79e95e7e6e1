"""core/cells.py's facts of each model, held to the code that measures it: a fourth model added
to one table and not another fails here, before a sweep or a Lyapunov start finds the gap."""

from __future__ import annotations

import pytest
import torch

import vanishlab as vl
from vanishlab.core.cells import GATE_BLOCKS, MODELS, RNN_THEORY_MODELS, STATE_WIDTH
from vanishlab.core.gated_forward import check_gated
from vanishlab.core.modules import GATED, MEASURED, MODULES, measured_base, module_kind
from vanishlab.sweep.config import axis
from vanishlab.trained import spec


def test_every_table_of_the_models_names_the_same_models_in_order() -> None:
    assert tuple(STATE_WIDTH) == MODELS == tuple(GATE_BLOCKS) == tuple(MODULES)
    assert spec.MODULES is MODULES  # one table of the classes, re-exported
    assert tuple(MODULES.values()) == MEASURED


def test_the_models_of_nn_rnns_theory_are_models_with_an_activation() -> None:
    """A misspelt name there made every cell gated, with no theory; the mean field is of an
    activation (tanh, relu), so a model it applies to has the ``activation`` axis."""
    assert set(RNN_THEORY_MODELS) <= set(axis("activation").applies_to) <= set(MODELS)


@pytest.mark.parametrize("model", MODELS)
def test_the_class_table_is_the_one_the_engine_checks_by(model) -> None:
    """Each model's class (and a subclass of it) is of its model, and is gated to the engine
    (measured by core/gated) exactly where it has more than one gate block."""
    cls = MODULES[model]
    sub = type(f"My{cls.__name__}", (cls,), {})
    for module in (cls(2, 3), sub(2, 3)):
        assert module_kind(module) == model
        assert measured_base(module) is cls
        assert isinstance(module, GATED) == (GATE_BLOCKS[model] > 1)
        if GATE_BLOCKS[model] > 1:
            assert check_gated(module) is module
        else:
            with pytest.raises(TypeError, match=r"a torch\.nn\.LSTM or torch\.nn\.GRU"):
                check_gated(module)
    with pytest.raises(TypeError, match=r"expected nn\.RNN, nn\.LSTM or nn\.GRU, got Linear"):
        module_kind(torch.nn.Linear(2, 3))
    assert measured_base(torch.nn.Linear(2, 3)) is None


@pytest.mark.parametrize("model", MODELS)
def test_the_state_width_is_the_dimension_the_lyapunov_spectrum_has(model) -> None:
    """All of the spectrum is STATE_WIDTH L H exponents: one more is refused, as is a start q0
    of another height (the sweep's and an analysis's q0 are built STATE_WIDTH L H tall)."""
    L, H = 2, 3
    module = MODULES[model](2, H, num_layers=L, dtype=torch.float64)
    x = torch.randn(4, 1, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    n = STATE_WIDTH[model] * L * H
    assert vl.lyapunov_spectrum(module, x, k=n).shape[-1] == n
    with pytest.raises(ValueError, match=f"= {n}, got {n + 1}"):
        vl.lyapunov_spectrum(module, x, k=n + 1)
    q0 = torch.randn(n + 1, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with pytest.raises(ValueError):
        vl.lyapunov_spectrum(module, x, q0=q0)
