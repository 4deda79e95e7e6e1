"""The warm-started block iteration against an SVD, including its hard cases."""

from __future__ import annotations

import pytest
import torch

from vanishlab.core import spectral
from vanishlab.core.spectral import SpectralNorms, top_singular_values


def chain(dtype: torch.dtype, lags: int = 40, batch: int = 3, h: int = 96, seed: int = 0):
    """Normalised backward products G_k = G_{k-1} D_k W, as the engine produces them."""
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(h, h, generator=gen, dtype=torch.float64) / h**0.5
    g = torch.eye(h, dtype=torch.float64).expand(batch, h, h)
    out = []
    for _ in range(lags):
        d = torch.rand(batch, 1, h, generator=gen, dtype=torch.float64)
        g = (g * d) @ w
        g = g / torch.linalg.vector_norm(g, dim=(-2, -1))[:, None, None]
        out.append(g.to(dtype))
    return out


@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-9), (torch.float32, 1e-6)])
@pytest.mark.parametrize(("chunk", "power_steps"), [(8, 1), (64, 2), (None, None)])
def test_streamed_spectral_norms_match_svd(
    dtype: torch.dtype, tol: float, chunk: int | None, power_steps: int | None
) -> None:
    # (64, 2): a GPU's settings (see test_gpu_settings), run here on the CPU.
    mats = chain(dtype)
    got: dict[int, torch.Tensor] = {}
    spectral = SpectralNorms(chunk=chunk, power_steps=power_steps)
    for lag, g in enumerate(mats):
        spectral.push(lag, g, lambda k, s: got.__setitem__(k, s))
    spectral.flush()
    assert sorted(got) == list(range(len(mats)))
    for lag, g in enumerate(mats):
        exact = torch.linalg.matrix_norm(g.double(), ord=2)
        rel = (got[lag].double() / exact - 1).abs().max().item()
        assert rel < tol, f"lag {lag}: relative error {rel:.1e}"


def test_gpu_settings() -> None:
    """A CPU queues CPU_CHUNK lags with one step per check; a GPU queues up to GPU_CHUNK lags
    within GPU_QUEUE_BYTES, two steps per check (no CUDA needed to decide that)."""
    f32 = torch.float32

    def settings(shape: tuple[int, ...], device: str) -> tuple[int | None, int | None]:
        s = SpectralNorms()
        s._for_device(torch.Size(shape), f32, torch.device(device))
        return s.chunk, s.power_steps

    assert settings((8, 128, 128), "cpu") == (spectral.CPU_CHUNK, 1)
    assert settings((8, 128, 128), "cuda") == (spectral.GPU_CHUNK, 2)
    assert settings((64, 1024, 1024), "cuda") == (4, 2)  # 256 MiB a lag, 1 GiB in all
    assert settings((512, 2048, 2048), "cuda") == (1, 2)  # one lag over the budget: still 1
    assert SpectralNorms(chunk=3).flushes_on_push(torch.zeros(2, 20, 20)) is False
    small = SpectralNorms()
    assert small.flushes_on_push(torch.zeros(2, 20, 8))  # exact at once: computes on push


def test_memory_estimate_counts_the_cpu_queue() -> None:
    from vanishlab.sweep import memory

    assert memory._SPECTRAL_QUEUE == spectral.CPU_CHUNK


def test_degenerate_top_singular_values_fall_back_to_exact() -> None:
    """Equal top singular values stall the residual test; the SVD fallback answers exactly."""
    q, _ = torch.linalg.qr(torch.randn(64, 64, dtype=torch.float64))
    s = torch.ones(64, dtype=torch.float64)
    s[32:] = 0.5
    g = (q * s) @ q.T
    u = torch.linalg.qr(torch.randn(64, 4, dtype=torch.float64))[0].mT[None]
    sigma, _ = top_singular_values(g[None], u, max_iter=3)
    assert sigma.item() == pytest.approx(1.0, rel=1e-12)


def test_zero_matrix_has_zero_norm() -> None:
    u = torch.linalg.qr(torch.randn(40, 4, dtype=torch.float64))[0].mT[None]
    sigma, _ = top_singular_values(torch.zeros(1, 40, 40, dtype=torch.float64), u)
    assert sigma.item() == 0.0


def test_badly_scaled_float32_products_do_not_break_the_eigensolver() -> None:
    """Saturated tanh (IRNN init, gain 2, two layers, float32) drives parts of G towards the
    subnormal range; float32 LAPACK eigh used to fail on such Gram matrices."""
    import vanishlab as vl

    cfg = vl.CellConfig(
        activation="tanh", num_layers=2, hidden_size=32, input_size=16, seq_len=100,
        init="identity", gain=2.0, input_std=1.0, bias=True, batch=8, seed=0, dtype="float32",
    )  # fmt: skip
    frame, meta = vl.run_cell(cfg)
    assert meta["status"] == "ok"
    assert frame["log10_spec_mean"].notna().all()
