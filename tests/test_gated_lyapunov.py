"""Lyapunov spectra of nn.LSTM (full 2 L H state) and nn.GRU: closed forms and the real module."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import vanishlab as vl


def _full_state_step(mod: nn.Module):
    """The real module's map of its full state (layer by layer [h^l, c^l] for an LSTM, h^l for
    a GRU) over one input step, and the flat state of sample ``b`` of ``hx``."""
    L, H = mod.num_layers, mod.hidden_size
    lstm = isinstance(mod, nn.LSTM)
    w = 2 * H if lstm else H

    def step(s: torch.Tensor, xt: torch.Tensor) -> torch.Tensor:
        blocks = s.view(L, w)
        if lstm:
            _, (hn, cn) = mod(xt[None], (blocks[:, :H].contiguous(), blocks[:, H:].contiguous()))
            return torch.cat([hn, cn], -1).reshape(-1)
        return mod(xt[None], blocks.contiguous())[1].reshape(-1)

    def start(hx, b: int) -> torch.Tensor:
        return (
            torch.cat([hx[0][:, b], hx[1][:, b]], -1).reshape(-1) if lstm else hx[:, b].reshape(-1)
        )

    return step, start, L * w


def benettin_on_the_real_module(mod: nn.Module, x: torch.Tensor, hx) -> torch.Tensor:
    """The QR method on one-step Jacobians of the real module's full state (layer by layer
    [h^l, c^l] for an LSTM), each taken by torch.autograd.functional.jacobian."""
    T, B, _ = x.shape
    step, start, n = _full_state_step(mod)
    out = []
    for b in range(B):
        s = start(hx, b)
        q = torch.eye(n, dtype=torch.float64)
        total = torch.zeros(n, dtype=torch.float64)
        for t in range(T):
            xt = x[t, b]
            q, r = torch.linalg.qr(jacobian(lambda v, xt=xt: step(v, xt), s) @ q)
            total += torch.diagonal(r).abs().log()
            s = step(s, xt).detach()
        out.append((total / T).sort(descending=True).values)
    return torch.stack(out)


@pytest.mark.parametrize(("model", "layers"), [("LSTM", 1), ("LSTM", 2), ("GRU", 2)])
def test_full_spectrum_matches_the_real_module(model: str, layers: int) -> None:
    torch.manual_seed(layers)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(3, 4, layers).double()
    x = torch.randn(10, 2, 3, dtype=torch.float64)
    h0 = torch.randn(layers, 2, 4, dtype=torch.float64)
    hx = (h0, torch.randn(layers, 2, 4, dtype=torch.float64)) if model == "LSTM" else h0
    got = vl.lyapunov_spectrum(mod, x, hx)
    assert got.shape == (2, (2 if model == "LSTM" else 1) * layers * 4)
    torch.testing.assert_close(got, benettin_on_the_real_module(mod, x, hx), rtol=0, atol=1e-10)


def test_gru_without_recurrence_has_the_log_update_gates() -> None:
    """W_hh = 0, zero input: ds'/ds = diag(z) with constant z, so lambda_j = ln z_j."""
    H = 5
    gru = nn.GRU(2, H).double()
    with torch.no_grad():
        gru.weight_hh_l0.zero_()
        gru.bias_hh_l0.zero_()
        gru.bias_ih_l0.copy_(torch.linspace(-2.0, 2.0, 3 * H, dtype=torch.float64))
    lyap = vl.lyapunov_spectrum(gru, torch.zeros(40, 2, dtype=torch.float64))
    z = torch.sigmoid(gru.bias_ih_l0[H : 2 * H].detach())
    want = sorted((math.log(v) for v in z.tolist()), reverse=True)
    np.testing.assert_allclose(lyap.numpy(), want, rtol=0, atol=1e-12)


def test_lstm_cell_directions_decay_at_the_log_forget_gates() -> None:
    """W_hh = 0, zero input, g = 0 (so c stays 0): ds'/ds = [[0, k f], [0, f]] per unit, and
    the c directions, after one step aligning them, shrink by exactly f_j per step."""
    H = 4
    lstm = nn.LSTM(2, H).double()
    with torch.no_grad():
        lstm.weight_hh_l0.zero_()
        lstm.bias_hh_l0.zero_()
        b = torch.linspace(-2.0, 2.0, 4 * H, dtype=torch.float64)
        b[2 * H : 3 * H] = 0.0  # g = tanh(0) = 0
        lstm.bias_ih_l0.copy_(b)
    q0 = torch.eye(2 * H, dtype=torch.float64)[:, H:]  # the c block
    x = torch.zeros(30, 1, 2, dtype=torch.float64)
    lyap = vl.lyapunov_spectrum(lstm, x, k=H, discard=1, q0=q0)
    f = torch.sigmoid(b[H : 2 * H])
    want = sorted((math.log(v) for v in f.tolist()), reverse=True)
    np.testing.assert_allclose(lyap[0].numpy(), want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["LSTM", "GRU"])
def test_top_exponent_alone_equals_the_first_of_the_spectrum(model: str) -> None:
    torch.manual_seed(3)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(4, 6, 2).double()
    x = torch.randn(60, 3, 4, dtype=torch.float64)
    n = (2 if model == "LSTM" else 1) * 12
    q0 = torch.randn(n, 3, dtype=torch.float64)
    one = vl.lyapunov_spectrum(mod, x, k=1, discard=10, q0=q0[:, :1])
    three = vl.lyapunov_spectrum(mod, x, k=3, discard=10, q0=q0)
    torch.testing.assert_close(one[:, 0], three[:, 0], rtol=0, atol=1e-12)


def test_float32_module_unbatched() -> None:
    torch.manual_seed(4)
    lstm = nn.LSTM(3, 5, 2)
    x = torch.randn(20, 3)
    got = vl.lyapunov_spectrum(lstm, x)
    want = vl.lyapunov_spectrum(lstm.double(), x.double())
    assert got.shape == (20,) and got.dtype == torch.float64
    torch.testing.assert_close(got, want, rtol=0, atol=1e-4)


def _real_step_jacobians(mod: nn.Module, x: torch.Tensor, hx) -> list[torch.Tensor]:
    """One-step Jacobians of the real module's full state (sample 0), in the documented order:
    (h^0, c^0, h^1, c^1, ...) for an LSTM, (h^0, h^1, ...) for a GRU."""
    step, start, _ = _full_state_step(mod)
    s = start(hx, 0)
    out = []
    for t in range(x.shape[0]):
        out.append(jacobian(lambda v, xt=x[t, 0]: step(v, xt), s))
        s = step(s, x[t, 0]).detach()
    return out


@pytest.mark.parametrize("model", ["LSTM", "GRU"])
def test_a_partial_q0_follows_the_documented_state_order_and_volumes(model: str) -> None:
    """A stack with k < n given directions: the exponents are the QR method's on the real
    module's one-step Jacobians in the order the docstring states (a c-before-h or h-all-layers
    order gives other numbers), and the full spectrum sums to the mean ln |det J_t| (Liouville)."""
    torch.manual_seed(3)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(2, 3, 2).double()
    T = 12
    x = torch.randn(T, 1, 2, dtype=torch.float64)
    h0 = torch.randn(2, 1, 3, dtype=torch.float64)
    hx = (h0, torch.randn(2, 1, 3, dtype=torch.float64)) if model == "LSTM" else h0
    jacs = _real_step_jacobians(mod, x, hx)
    n = jacs[0].shape[0]
    q0 = torch.randn(n, 3, dtype=torch.float64)
    q, total = torch.linalg.qr(q0)[0], torch.zeros(3, dtype=torch.float64)
    for j in jacs:
        q, r = torch.linalg.qr(j @ q)
        total += torch.diagonal(r).abs().log()
    got = vl.lyapunov_spectrum(mod, x, hx, q0=q0)
    torch.testing.assert_close(got[0], (total / T).sort(descending=True).values, rtol=0, atol=1e-12)
    log_det = sum(torch.linalg.slogdet(j)[1].item() for j in jacs) / T
    assert vl.lyapunov_spectrum(mod, x, hx)[0].sum().item() == pytest.approx(log_det, abs=1e-11)


def test_one_exponent_after_a_loss_in_a_discarded_step_is_finite() -> None:
    """The gated analogue of test_lyapunov's: a direction that a discarded step maps to exactly
    0. k = 1 keeps its old direction e_1 there, so its exponent is that of the counted steps'
    product on e_1; gated_lyapunov passing qr_step the new (zero) direction as the previous
    one, a mutant, read -inf and passed every other test. Every gate's coefficient is carried
    past the range (section 7), so no gate makes a step 0 (every gate at -1000 made one until
    helpers 472-473: tests/test_gated_lyapunov_range.py reads it now); an exact 0 does: W_hh's
    f block alone, c0 = 0, so that step 0's dc' = c0 sigma'(a_f) W_f dh = 0 and dh' = k dc' = 0
    for dh = e_1, and later steps, where c != 0, carry e_1 on."""
    torch.manual_seed(0)
    mod = nn.LSTM(1, 2).double()
    with torch.no_grad():
        f_rows = mod.weight_hh_l0[2:4].clone()
        mod.weight_hh_l0.zero_()
        mod.weight_hh_l0[2:4] = f_rows
    x = torch.tensor([0.3, -0.5, 0.8, 0.1], dtype=torch.float64).view(4, 1, 1)
    step, _, n = _full_state_step(mod)
    s = torch.zeros(n, dtype=torch.float64)
    product = torch.eye(n, dtype=torch.float64)
    for t in range(4):
        j = jacobian(lambda v, xt=x[t, 0]: step(v, xt), s)
        if t == 0:
            assert not j[:, 0].any()  # the premise: step 0 maps e_1 to exactly 0
        else:
            product = j @ product
        s = step(s, x[t, 0]).detach()
    rate = math.log(torch.linalg.vector_norm(product[:, 0]).item()) / 3
    assert math.isfinite(rate)
    one = vl.lyapunov_spectrum(mod, x, k=1, discard=1)
    assert one.shape == (1, 1) and one.item() == pytest.approx(rate, abs=1e-12)
    assert vl.lyapunov_spectrum(mod, x, k=1).tolist() == [[-math.inf]]  # counted: annihilated
