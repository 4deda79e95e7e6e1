"""On a CUDA device (skipped without one; run on a lent GPU by ``benchmarks/device_check.sh``):
gated modules give the CPU's numbers, and the one-layer RNN path waits for the device a number
of times that does not grow with every step (host waits counted by torch's sync debug mode)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core.scaling import host_waits

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@pytest.mark.parametrize("kind", [nn.LSTM, nn.GRU])
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-9), (torch.float32, 1e-3)])
def test_gated_cuda_module_matches_cpu(kind, dtype, tol) -> None:  # pragma: no cover
    torch.manual_seed(3)
    mod = kind(5, 48, 2).to(dtype)
    x = torch.randn(200, 3, 5, dtype=dtype)
    cpu = vl.jacobian_norms(mod, x)
    gpu = vl.jacobian_norms(mod.cuda(), x.cuda())
    keys = ["sample", "source", "layer", "lag"]
    assert gpu[keys].equals(cpu[keys])
    for col in ("log10_fro", "log10_spec"):
        np.testing.assert_allclose(gpu[col], cpu[col], atol=tol)
    one = kind(5, 48).to(dtype)  # the one-layer fast path, Frobenius norms
    a = vl.jacobian_log_norms(one, x, norms="fro").state_fro
    b = vl.jacobian_log_norms(one.cuda(), x.cuda(), norms="fro").state_fro
    np.testing.assert_allclose(b.numpy(), a.numpy(), atol=tol)


@pytest.mark.parametrize(("n_in", "hidden"), [(32, 128), (8, 64)])
def test_one_layer_rnn_waits_per_chunk_not_per_step(
    n_in: int, hidden: int
) -> None:  # pragma: no cover
    """(8, 64): input rows of 64 x 8, whose exact norms a GPU takes per chunk. In the H200 run
    of 2026-11-30 this case (then batch 4) waited once per lag: 4199 waits at T = 1024. The
    fix came after that run and passed on an H200 on 2026-12-04 (tests/test_deferred_checks.py
    checks it on the CPU with a GPU's settings)."""
    torch.manual_seed(0)
    rnn = nn.RNN(n_in, hidden).cuda()

    def waits(T: int, **kw) -> int:
        x = torch.randn(T, 8, n_in, device="cuda")
        return host_waits(lambda: vl.jacobian_log_norms(rnn, x, **kw))

    fro = [waits(T, norms="fro", sources="state") for T in (64, 1024)]
    # A handful per call (input checks, the forward pass's finiteness, the final norm check,
    # the results' copy to the host), the same at any T.
    assert max(fro) <= 16, f"Frobenius: {fro} waits at T = 64, 1024"
    both = [waits(T) for T in (256, 1024)]
    # A few waits per chunk of up to 64 lags and stream (the iteration's checks, the chunk's
    # norm check): on an H200, at H = 128 and I = 32, 108 at T = 256 and 212 at T = 1024
    # (benchmarks/results/device_check_h200_2026-11-30.log). One per step would add >= 768.
    assert both[1] - both[0] < (1024 - 256) / 4, f"both norms: {both} waits at T = 256, 1024"
