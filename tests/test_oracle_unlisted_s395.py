"""Cases a reviewer's own oracle picks that the other oracle tests do not hold (helper 395).

An independent float64 oracle (torch's own ``nn.RNNCell`` / ``nn.LSTMCell`` / ``nn.GRUCell``
and ``torch.autograd.functional.jacobian``, written apart from this suite) was run against
``vl.jacobian_log_norms`` and ``vl.lyapunov_spectrum`` on about 300 cases: train() mode with
dropout, an ``x`` or ``h0`` that requires grad, non-contiguous or expanded, inference-mode
tensors, weights changed after construction (``.data.mul_``, ``.data =``, a replaced
parameter, ``load_state_dict``, ``flatten_parameters``, ``.float().double()``), the
parametrizations ``weight_norm`` and ``orthogonal``, the old ``weight_norm``, pruning,
hidden/input size 1, T = 1, unbatched input, T = 3,000 contracting (to 1e-2939 in float32)
and chaotic (gain 3) one-layer cells against a chained-step oracle, and LSTM spectra (2 L H
exponents, T up to 1,000) against a plain QR iteration. Every number agreed: rows to 1.5e-10
in log10 at worst (the chaotic tanh RNN at T = 3,000; 1e-11 or better elsewhere), spectra to
2.2e-11 (a 2-layer LSTM, 20 exponents, T = 400), and every
misuse tried was refused in one line, but one: an ``nn.RNN`` whose ``nonlinearity`` (or
``mode``) was set after construction. Its forward computes what ``mode`` says, fixed when it
was built; vanishlab read ``nonlinearity`` and measured the other activation in silence
(2.7 in log10 off on the case below). It is refused now.

The kept oracle cases reuse the PyTorch-kernel oracle of tests/test_oracle_fuzz_s51.py.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrizations

import vanishlab as vl
from tests.test_oracle_fuzz_s51 import _assert_matches, _oracle

F64 = torch.float64


def _module(kind: str, layers: int = 2, **kw) -> nn.RNNBase:
    torch.manual_seed(395)
    if kind in ("tanh", "relu"):
        return nn.RNN(3, 4, layers, nonlinearity=kind, **kw).double()
    return getattr(nn, kind)(3, 4, layers, **kw).double()


def _state(kind: str, *shape: int, make=torch.randn):
    if kind == "LSTM":
        return make(*shape, dtype=F64), make(*shape, dtype=F64)
    return make(*shape, dtype=F64)


@pytest.mark.parametrize("set_after", ["nonlinearity", "mode"])
@pytest.mark.parametrize(
    "measure",
    [vl.jacobian_norms, vl.lyapunov_spectrum, lambda rnn, x: vl.linear_rate(rnn)],
    ids=["jacobian_norms", "lyapunov_spectrum", "linear_rate"],
)
def test_an_activation_changed_after_construction_is_refused(set_after: str, measure) -> None:
    # nn.RNN.forward computes what `mode` says ("RNN_TANH"), set from `nonlinearity` when the
    # module is built; vanishlab read `nonlinearity`. Set afterwards, one of the two no longer
    # says what the forward computes: this one was measured with relu while its forward
    # computed tanh (2.7 off in log10), or the other way round, with no word.
    rnn = _module("tanh")
    if set_after == "nonlinearity":
        rnn.nonlinearity = "relu"
    else:
        rnn.mode = "RNN_RELU"
    x = torch.randn(6, 2, 3, dtype=F64)
    with pytest.raises(ValueError, match=r"^the RNN's nonlinearity is '(relu|tanh)' but its "):
        measure(rnn, x)


def test_the_refusal_says_what_the_forward_computes_and_what_to_do() -> None:
    rnn = _module("tanh")
    rnn.nonlinearity = "relu"
    with pytest.raises(ValueError) as err:
        vl.jacobian_norms(rnn, torch.randn(6, 2, 3, dtype=F64))
    text = str(err.value)
    assert "\n" not in text
    assert "but its forward computes tanh (its mode is 'RNN_TANH'" in text
    assert "load_state_dict" in text
    rnn.nonlinearity = "gelu"  # an activation nn.RNN has not: refused the same way, by name
    with pytest.raises(ValueError, match="nonlinearity is 'gelu' but its forward computes tanh"):
        vl.jacobian_norms(rnn, torch.randn(6, 2, 3, dtype=F64))


def test_a_module_built_with_either_activation_is_still_measured() -> None:
    for kind in ("tanh", "relu"):
        rnn = _module(kind)
        assert rnn.nonlinearity == kind
        _assert_matches(rnn, torch.randn(5, 2, 3, dtype=F64))


@pytest.mark.parametrize("kind", ["tanh", "LSTM", "GRU"])
def test_expanded_inputs_and_states_match_the_kernels(kind: str) -> None:
    """A stride-0 x (one sample broadcast over the batch) and h0 (one state for every
    layer), as ``expand`` makes them without copying."""
    mod = _module(kind)
    x = torch.randn(5, 1, 3, dtype=F64).expand(5, 3, 3)
    h0 = _state(kind, 1, 1, 4)
    h0 = tuple(p.expand(2, 3, 4) for p in h0) if kind == "LSTM" else h0.expand(2, 3, 4)
    _assert_matches(mod, x, h0)


@pytest.mark.parametrize("kind", ["tanh", "LSTM", "GRU"])
def test_inference_mode_tensors_match_the_kernels(kind: str) -> None:
    """x and h0 made under ``torch.inference_mode()`` (no autograd may ever touch them)."""
    mod = _module(kind)
    with torch.inference_mode():
        x, h0 = torch.randn(5, 2, 3, dtype=F64), _state(kind, 2, 2, 4)
    got = vl.jacobian_log_norms(mod, x, h0)
    copies = tuple(p.clone() for p in h0) if kind == "LSTM" else h0.clone()
    want = _oracle(mod, x.clone(), copies)
    for name in ("state_fro", "state_spec", "input_fro", "input_spec"):
        torch.testing.assert_close(getattr(got, name), want[name], rtol=0, atol=1e-10)
    spectrum = vl.lyapunov_spectrum(mod, x, h0)
    assert spectrum.shape == (2, (16 if kind == "LSTM" else 8)) and spectrum.isfinite().all()


@pytest.mark.parametrize("kind", ["tanh", "LSTM", "GRU"])
def test_parametrized_stacks_match_the_kernels(kind: str) -> None:
    """``parametrizations.weight_norm`` on layer 0's W_hh (its magnitude then changed) and
    ``parametrizations.orthogonal`` on layer 1's W_ih (a (4H, H) one for an LSTM)."""
    mod = _module(kind)
    parametrizations.weight_norm(mod, "weight_hh_l0")
    parametrizations.orthogonal(mod, "weight_ih_l1")
    with torch.no_grad():
        mod.parametrizations.weight_hh_l0.original0.mul_(1.7)
    _assert_matches(mod, torch.randn(5, 2, 3, dtype=F64), _state(kind, 2, 2, 4))
