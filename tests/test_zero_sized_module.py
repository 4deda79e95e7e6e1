"""A module with hidden_size=0 or input_size=0: its constructor refuses 0, but zero-sized
weights set afterwards make one whose forward runs. vl.jacobian_norms passed its checks and
failed deep in the engines ("cannot reshape tensor of 0 elements", "not enough values to
unpack"), an LSTM's with a floating point exception that killed Python; vl.lyapunov_spectrum
returned an empty or a full spectrum. Each is now refused in one line that names the size."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn

import vanishlab as vl

_GATES = {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}


def _sized(kind: type[nn.RNNBase], input_size: int, hidden_size: int) -> nn.RNNBase:
    module = kind(3, 5)
    module.input_size, module.hidden_size = input_size, hidden_size
    rows = _GATES[kind] * hidden_size
    shapes = {
        "weight_ih_l0": (rows, input_size),
        "weight_hh_l0": (rows, hidden_size),
        "bias_ih_l0": (rows,),
        "bias_hh_l0": (rows,),
    }
    for name, shape in shapes.items():
        setattr(module, name, nn.Parameter(torch.randn(shape)))
    return module


@pytest.mark.parametrize("kind", [nn.RNN, nn.GRU])
@pytest.mark.parametrize(("sizes", "size"), [((3, 0), "hidden_size"), ((0, 5), "input_size")])
def test_a_module_of_no_unit_or_no_feature_is_refused_by_name(kind, sizes, size, tmp_path):
    module = _sized(kind, *sizes)
    x = torch.randn(6, 2, sizes[0])
    module(x)  # torch's forward runs
    said = rf"the {kind.__name__} has {size}=0 \(its weight_ih_l0 has shape .*\): no "
    said += r".* to differentiate; .* build it with at least one (unit|feature)$"
    for measure in (vl.jacobian_norms, vl.lyapunov_spectrum):
        with pytest.raises(ValueError, match=said):
            measure(module, x)
    with pytest.raises(ValueError, match=said):
        vl.JacobianMonitor(module, x, out=tmp_path / "m")


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
@pytest.mark.parametrize("sizes", [(3, 0), (0, 5)])
def test_an_lstm_of_no_unit_is_refused_not_killed(sizes) -> None:
    """In a child: on the old code the hidden_size=0 LSTM killed its process (SIGFPE)."""
    code = textwrap.dedent(
        f"""
        import torch
        from torch import nn
        import vanishlab as vl
        from tests.test_zero_sized_module import _sized
        module = _sized(nn.LSTM, *{sizes!r})
        try:
            vl.jacobian_norms(module, torch.randn(6, 2, {sizes[0]}))
        except ValueError as err:
            print(err)
        """
    )
    root = Path(__file__).resolve().parents[1]  # tests.test_zero_sized_module importable
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])  # old: -8, SIGFPE
    assert "the LSTM has" in done.stdout and "=0 (its weight_ih_l0" in done.stdout
