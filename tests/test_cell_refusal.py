"""A cell (nn.RNNCell, nn.LSTMCell, nn.GRUCell) passed to the Python API was refused with
"expected an nn.RNN, nn.LSTM or nn.GRU module, got LSTMCell" and no way out (the monitor said
"pass an nn.RNN, nn.LSTM or nn.GRU"), while ``vanishlab analyze`` told a cell's state_dict how
to become a module's. The refusal now gives the recipe, and the recipe makes the module whose
sequence is the cell's loop."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

import vanishlab as vl

_CELLS = [
    (lambda: nn.RNNCell(3, 4, nonlinearity="relu", bias=False), "RNN"),
    (lambda: nn.LSTMCell(3, 4), "LSTM"),
    (lambda: nn.GRUCell(3, 4), "GRU"),
]


def _loop(cell: nn.RNNCellBase, x: torch.Tensor) -> torch.Tensor:
    """The last hidden state of the user's loop over ``x`` ``(T, B, I)``."""
    state = None
    for step in x:
        state = cell(step, state)
    return state[0] if isinstance(state, tuple) else state


@pytest.mark.parametrize(("make", "kind"), _CELLS)
def test_a_cell_is_told_how_to_make_the_module_it_is_one_step_of(make, kind, tmp_path) -> None:
    torch.manual_seed(0)
    cell, x = make(), torch.randn(5, 2, 3)
    for measure in (vl.jacobian_norms, vl.lyapunov_spectrum):
        with pytest.raises(TypeError, match=rf"got {kind}Cell \(it is a cell") as err:
            measure(cell, x)
    with pytest.raises(TypeError, match=rf"{kind}Cell contains no .*\(it is a cell"):
        vl.JacobianMonitor(cell, x, out=tmp_path / "m")
    recipe = re.search(r": (rnn = .*\)), then measure rnn on", str(err.value)).group(1)
    env = {"nn": nn, "cell": cell}
    exec(recipe, env)  # the words run as they are written
    rnn = env["rnn"]
    assert torch.allclose(rnn(x)[0][-1], _loop(cell, x), atol=1e-6)
    assert not vl.jacobian_norms(rnn, x).empty


def test_a_float64_cells_recipe_makes_a_float64_module() -> None:
    """The recipe made a float32 module, into which a float64 cell's weights were loaded
    rounded, without a word."""
    cell, x = nn.LSTMCell(3, 4, dtype=torch.float64), torch.randn(5, 2, 3, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"\(it is a cell") as err:
        vl.jacobian_norms(cell, x)
    recipe = re.search(r": (rnn = .*\)), then measure rnn on", str(err.value)).group(1)
    assert "dtype=torch.float64" in recipe
    env = {"nn": nn, "cell": cell, "torch": torch}
    exec(recipe, env)
    rnn = env["rnn"]
    assert rnn.weight_hh_l0.dtype == torch.float64
    assert torch.allclose(rnn(x)[0][-1], _loop(cell, x), atol=1e-12, rtol=0)


def test_a_model_holding_one_cell_names_it() -> None:
    class Decoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.step = nn.GRUCell(3, 4)

    with pytest.raises(TypeError, match=r"got Decoder \(it holds one, its \.step: a cell") as err:
        vl.jacobian_norms(Decoder(), torch.randn(5, 2, 3))
    assert "model.step.state_dict()" in str(err.value)


class _MinGRUCell(nn.RNNCellBase):
    """A cell of the user's own kind: two gate blocks, which no nn.RNN, nn.LSTM or nn.GRU has."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, bias=True, num_chunks=2)


def test_a_cell_of_its_own_kind_is_told_no_recipe(tmp_path) -> None:
    """An nn.RNNCellBase subclass that is none of RNNCell, LSTMCell and GRUCell was given the
    nn.RNN's recipe, whose load_state_dict fails on its (2H, H) weights; from a file, it was
    told to save "that module's state_dict", of no module. Both now say it is a cell of its own
    kind, which vanishlab cannot measure."""
    from vanishlab.errors import VanishlabError
    from vanishlab.trained.checkpoint import read_checkpoint

    own = (
        "no nn.RNNCell, nn.LSTMCell or nn.GRUCell: its step is its own code, which no nn.RNN, "
        "nn.LSTM or nn.GRU computes, so vanishlab cannot measure it"
    )
    cell, x = _MinGRUCell(3, 4), torch.randn(5, 2, 3)
    with pytest.raises(TypeError) as err:
        vl.jacobian_norms(cell, x)
    assert str(err.value) == (
        f"expected an nn.RNN, nn.LSTM or nn.GRU module, got _MinGRUCell (it is a cell of its "
        f"own kind (_MinGRUCell), {own})"
    )
    model = nn.Sequential(cell)
    with pytest.raises(TypeError, match=r"its \[0\]: a cell of its own kind") as err:
        vl.jacobian_norms(model, x)
    assert "rnn = nn." not in str(err.value)
    path = tmp_path / "cell.pt"
    torch.save(cell.state_dict(), path)
    with pytest.raises(VanishlabError) as err:
        read_checkpoint(path)
    assert str(err.value) == (
        f"{path} holds the weights of a recurrent cell of its own kind (weight_ih; its "
        "weight_hh of shape (8, 4) has not 1, 3 or 4 times as many rows as columns, as an "
        f"nn.RNNCell's, nn.GRUCell's or nn.LSTMCell's has), {own}"
    )
