"""Gated-engine speed against baselines run in the same process (ratios, not seconds).

Config: B = 8, H = 128, T = 256, one layer, float32, for ``nn.LSTM`` and ``nn.GRU``.

Printed per model:
  * engine (Frobenius, state rows) vs the best autograd approach: unroll the real fused cell
    (``nn.LSTMCell`` / ``nn.GRUCell`` with the module's weights) keeping the list of states,
    with a zero perturbation added to every carried state (h, and c for an LSTM), then one
    ``torch.autograd.grad(..., is_grads_batched=True)`` over the identity basis gives every
    d h_{T-1} / d s_t at once; norms from the stacked Jacobians;
  * engine vs the floor of the gated recurrence's own matrix chain: T batched products of
    dy/ds by the per-sample state-map Jacobian's dense columns, (B, H, 2H) @ (B, 2H, H) for
    an LSTM (its c columns are diagonal) and (B, H, H) @ (B, H, H) for a GRU, as a fraction
    (floor time / engine time);
  * spectral + Frobenius vs Frobenius only, and the log10 agreement with autograd.
Run: ``.venv/bin/python benchmarks/bench_gated.py`` (``--quick``: T = 64, fewer repeats;
``--device cuda``).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import vanishlab as vl


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        _sync()
        t0 = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_of_interleaved(fa, fb, repeats: int) -> tuple[float, float]:
    """Best times of two calls measured alternately (the same drift hits both)."""
    fa(), fb()
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((fa, ta), (fb, tb)):
            _sync()
            t0 = time.perf_counter()
            fn()
            _sync()
            times.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def fused_cell(mod: nn.LSTM | nn.GRU) -> nn.LSTMCell | nn.GRUCell:
    """The module's single-layer cell as PyTorch's fused ``nn.LSTMCell`` / ``nn.GRUCell``."""
    cls = nn.LSTMCell if isinstance(mod, nn.LSTM) else nn.GRUCell
    cell = cls(mod.input_size, mod.hidden_size).to(mod.weight_ih_l0)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in mod.state_dict().items()})
    return cell.requires_grad_(False)


def autograd_fro(mod: nn.LSTM | nn.GRU, x: torch.Tensor) -> torch.Tensor:
    """log10 ||d h_{T-1} / d s_t||_F for all t by batched autograd (the baseline), (T, B)."""
    T, B, _ = x.shape
    H = mod.hidden_size
    lstm = isinstance(mod, nn.LSTM)
    cell = fused_cell(mod)
    deltas = [torch.zeros(T, B, H, device=x.device, requires_grad=True)]
    if lstm:
        deltas.append(torch.zeros(T, B, H, device=x.device, requires_grad=True))
    h = torch.zeros(B, H, device=x.device)
    c = torch.zeros(B, H, device=x.device)
    for t in range(T):
        if lstm:
            h, c = cell(x[t], (h, c))
            h, c = h + deltas[0][t], c + deltas[1][t]
        else:
            h = cell(x[t], h) + deltas[0][t]
    basis = torch.eye(H, device=x.device).unsqueeze(1).expand(H, B, H)  # one row per pass
    grads = torch.autograd.grad(h, deltas, basis, is_grads_batched=True)  # (H, T, B, H) each
    sq = sum(torch.linalg.vector_norm(g, dim=(0, 3), dtype=torch.float64) ** 2 for g in grads)
    return 0.5 * torch.log10(sq)  # float64 sums: float32 squares below ~1e-19 go subnormal


def bare_chain(g: torch.Tensor, j: torch.Tensor, steps: int) -> torch.Tensor:
    """T products g <- g j on the dense columns: g (B, H, W), j (B, W, H)."""
    g = g.clone()
    for _ in range(steps):
        g[..., : j.shape[-1]] = g @ j
    return g


def run(model: str, T: int, repeats: int, dev: torch.device) -> None:
    B, H = 8, 128
    torch.manual_seed(0)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(H, H).to(dev)
    x = torch.randn(T, B, H, device=dev)
    t_fro, t_both = best_of_interleaved(
        lambda: vl.jacobian_log_norms(mod, x, norms="fro", sources="state"),
        lambda: vl.jacobian_log_norms(mod, x, sources="state"),
        3 * repeats,
    )
    t_all = best_of(lambda: vl.jacobian_log_norms(mod, x), repeats)
    t_auto = best_of(lambda: autograd_fro(mod, x), repeats)
    width = 2 * H if model == "LSTM" else H
    g0 = torch.randn(B, H, width, device=dev)
    j = torch.randn(B, width, H, device=dev) / width**0.5
    t_chain = best_of(lambda: bare_chain(g0, j, T), repeats)

    ours = vl.jacobian_log_norms(mod, x, norms="fro", sources="state").state_fro[:, 0, :T]
    theirs = autograd_fro(mod, x).T.flip(-1).double().cpu()
    ok = torch.isfinite(theirs) & (theirs > -30)  # float32 subnormals carry few digits
    agree = (ours[ok] - theirs[ok]).abs().max().item()

    print(f"--- {model}: B={B} H={H} T={T} L=1 float32")
    print(f"engine, Frobenius, states        : {t_fro * 1e3:8.1f} ms")
    print(
        f"engine, Frobenius + spectral     : {t_both * 1e3:8.1f} ms   "
        f"ratio to Frobenius only: {t_both / t_fro:5.2f}x"
    )
    print(f"engine, both norms, state + input: {t_all * 1e3:8.1f} ms")
    print(
        f"autograd, fused cell, is_grads_b.: {t_auto * 1e3:8.1f} ms   "
        f"engine speed-up: {t_auto / t_fro:5.1f}x"
    )
    print(
        f"bare chain (B,H,{width // H}H)@(B,{width // H}H,H) x T: {t_chain * 1e3:8.1f} ms   "
        f"fraction of floor: {t_chain / t_fro:5.2f}"
    )
    print(
        f"engine vs autograd log10 norms   : max |diff| {agree:.1e} over "
        f"{int(ok.sum())} finite baseline values ({int((~ok).sum())} underflowed or < 1e-30)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 64 and fewer repeats")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--model", default="LSTM,GRU", help="comma-separated: LSTM, GRU")
    args = parser.parse_args()
    T = 64 if args.quick else 256
    repeats = 2 if args.quick else 3
    dev = torch.device(args.device)
    where = (
        torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"CPU, {torch.get_num_threads()} threads"
    )
    print(f"torch {torch.__version__}, {where}")
    for model in args.model.split(","):
        run(model.strip().upper(), T, repeats, dev)


if __name__ == "__main__":
    main()
