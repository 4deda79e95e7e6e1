"""An integer count a user passes is taken alike everywhere (vanishlab.core.integers): a Python
or NumPy integer, or a 0-d integer tensor (a counter kept as a tensor), as the monitor's step
and every took it; a float, bool, complex or 1-d tensor is refused in one line naming it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core.integers import as_integer, check_integer
from vanishlab.sweep.preflight import check_options
from vanishlab.train.tasks import AddingProblem

TEN = torch.tensor(10)
NOT_INTEGERS = (torch.tensor(2.0), torch.tensor(True), torch.tensor(2j), torch.tensor([2]))


def test_the_integers_of_every_kind_and_no_other() -> None:
    for value in (2, np.int64(2), np.uint8(2), torch.tensor(2), torch.tensor(2, dtype=torch.int8)):
        assert check_integer(value, "k") == 2 and type(check_integer(value, "k")) is int
    for bad in (*NOT_INTEGERS, 2.0, True, np.bool_(True), "2", None):
        assert as_integer(bad, "k") is None
        with pytest.raises(TypeError, match=r"^k must be an integer, got "):
            check_integer(bad, "k")
    with pytest.raises(TypeError, match=r"^k must be an integer, got a tensor on the meta dev"):
        check_integer(torch.tensor(2, device="meta"), "k")


def test_lyapunov_spectrum_takes_a_0d_integer_tensor_as_k_and_discard() -> None:
    # vl.lyapunov_spectrum(rnn, x, k=torch.tensor(2)) was "k must be an integer, got
    # tensor(2)", where the monitor took step=torch.tensor(7).
    torch.manual_seed(0)
    rnn, x = nn.RNN(3, 4), torch.randn(6, 3)
    want = vl.lyapunov_spectrum(rnn, x, k=2, discard=1)
    got = vl.lyapunov_spectrum(rnn, x, k=torch.tensor(2), discard=torch.tensor(1))
    assert torch.equal(got, want)
    gru = nn.GRU(3, 4)
    assert torch.equal(vl.lyapunov_spectrum(gru, x, k=TEN // 5), vl.lyapunov_spectrum(gru, x, k=2))
    for bad in NOT_INTEGERS:
        with pytest.raises(TypeError, match=r"^k must be an integer, got tensor"):
            vl.lyapunov_spectrum(rnn, x, k=bad)


def test_the_analysis_functions_take_a_0d_integer_tensor() -> None:
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, num_layers=2)
    zero, one = torch.tensor(0), torch.tensor(1)
    assert vl.linear_rate(rnn, layer=one) == vl.linear_rate(rnn, layer=1)
    pd.testing.assert_frame_equal(
        vl.origin_log_norms(rnn, max_lag=torch.tensor(3), layer=zero),
        vl.origin_log_norms(rnn, max_lag=3, layer=0),
    )
    assert vl.pascanu_bound(rnn, layer=one) == vl.pascanu_bound(rnn, layer=1)
    pd.testing.assert_frame_equal(
        vl.pascanu_envelope(rnn, seq_len=torch.tensor(5)), vl.pascanu_envelope(rnn, seq_len=5)
    )
    frame = vl.jacobian_norms(rnn, torch.randn(6, 2, 3))
    pd.testing.assert_frame_equal(
        vl.fit_decay(frame, window=(one, torch.tensor(4))), vl.fit_decay(frame, window=(1, 4))
    )
    with pytest.raises(ValueError, match="window lags must be integers >= 0"):
        vl.fit_decay(frame, window=(torch.tensor(1.0), None))


def test_the_sweep_and_training_arguments_take_a_0d_integer_tensor(tmp_path) -> None:
    cell = {"hidden_size": 16, "input_size": 1, "init": "normal", "num_layers": 2}
    assert vl.critical_gain(cell, layer=torch.tensor(0)) == vl.critical_gain(cell, layer=0)
    mf = vl.cell_mean_field({**cell, "gain": 1.5}, layer=torch.tensor(1))
    assert mf == vl.cell_mean_field({**cell, "gain": 1.5}, layer=1)
    with pytest.raises(ValueError, match=r"^layer must be a layer index >= 0, got tensor\(1\.\)"):
        vl.cell_mean_field(cell, layer=torch.tensor(1.0))
    config = vl.CellConfig(hidden_size=torch.tensor(16), seq_len=np.int64(5))
    assert config == vl.CellConfig(hidden_size=16, seq_len=5)
    assert type(config.hidden_size) is int
    assert AddingProblem(seq_len=TEN) == AddingProblem(seq_len=10)
    assert check_options(None, torch.tensor(2), None) == 2
    with pytest.raises(TypeError, match=r"^workers must be a positive integer or None, got Ten"):
        check_options(None, torch.tensor(2.0), None)
    with pytest.raises(TypeError, match=r"^seq_len must be an integer, got tensor\(5\.\)"):
        vl.analyze_checkpoint(tmp_path / "none.pt", tmp_path / "o", seq_len=torch.tensor(5.0))
    with pytest.raises(vl.VanishlabError, match=r"none\.pt"):  # past its arguments' checks
        vl.analyze_checkpoint(tmp_path / "none.pt", tmp_path / "o", seq_len=torch.tensor(5))


def test_the_integer_check_imports_no_torch() -> None:
    # the sweep's axes check their integers in the command line's help, without torch
    code = (
        "import sys, vanishlab.core.integers as m\n"
        "print(m.check_integer(3, 'k'), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "False"]


def test_a_sweep_takes_a_0d_integer_tensor_as_one_value() -> None:
    # CellConfig(hidden_size=torch.tensor(16)) was taken and Sweep(hidden_size=np.int64(16))
    # too, but Sweep(hidden_size=torch.tensor(16)) failed in torch's words, "len() of a 0-d
    # tensor" (a 0-d tensor or array is Iterable and has no len()).
    assert vl.Sweep(hidden_size=torch.tensor(16)) == vl.Sweep(hidden_size=16)
    assert vl.Sweep(seed=[torch.tensor(0), TEN]).seed == (0, 10)
    for bad in (np.array(16), torch.tensor(16.0)):
        with pytest.raises(vl.VanishlabError, match=r"^hidden_size must be an integer, got "):
            vl.Sweep(hidden_size=bad)
