"""Gated-engine speed against baselines run in the same process (ratios, not seconds).

Config: B = 8, H = 128, T = 256, one layer, float32, for ``nn.LSTM`` and ``nn.GRU``.

Every call is timed in the same process, interleaved round-robin, best of N, with
``torch.set_flush_denormal(True)`` (the baselines' float32 gradients otherwise go subnormal past
~70 lags, which slowed every product several times on some machines and not on others,
docs/speed.md; the engine keeps its matrices well scaled). Printed per
model:
  * the engine: Frobenius norms of the state rows; both norms of the state rows; and the
    default call (both norms, state and input rows);
  * (a) autograd as a careful user writes it: unroll the real fused cell (``nn.LSTMCell`` /
    ``nn.GRUCell`` with the module's weights), adding one zero perturbation leaf per step to
    each carried state (h, and c for an LSTM; separate (B, H) leaves, not slices of one
    tensor), then one ``torch.autograd.grad(..., is_grads_batched=True)`` over the identity
    basis gives every d h_{T-1} / d s_t at once;
  * (b) ``torch.func``: ``vmap`` over the ``vjp`` with respect to the same perturbations;
  * the floor: the gated recurrence's own matrix chain, T batched products of dy/ds by the
    per-sample state-map Jacobian's dense columns, (B, H, 2H) @ (B, 2H, H) for an LSTM (its c
    columns are diagonal) and (B, H, H) @ (B, H, H) for a GRU, no norms at all.
(a) and (b) give Frobenius norms of one layer's rows in plain float32: they underflow past a
few hundred lags at a contracting init, and give no spectral norms and no h / c parts.
Run: ``.venv/bin/python benchmarks/bench_gated.py`` (``--quick``: T = 64, fewer repeats;
``--threads N``: torch's threads, by default torch's own count; ``--cpu-time``: CPU seconds
instead of wall time, steadier on a shared, loaded machine; both as in ``bench_engine.py``;
``--device cuda``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl


def fused_cell(mod: nn.LSTM | nn.GRU) -> nn.LSTMCell | nn.GRUCell:
    """The module's single-layer cell as PyTorch's fused ``nn.LSTMCell`` / ``nn.GRUCell``."""
    cls = nn.LSTMCell if isinstance(mod, nn.LSTM) else nn.GRUCell
    cell = cls(mod.input_size, mod.hidden_size).to(mod.weight_ih_l0)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in mod.state_dict().items()})
    return cell.requires_grad_(False)


def _log10_fro(grads: Sequence[torch.Tensor], T: int) -> torch.Tensor:
    """log10 ||d h_{T-1} / d s_t||_F, ``(T, B)``, from the batched gradients ``(H, B, H)``
    with respect to the T carried h (then, for an LSTM, the T carried c), in float64 sums
    (float32 squares below ~1e-19 go subnormal)."""
    sq = torch.stack(
        [torch.linalg.vector_norm(g, dim=(0, 2), dtype=torch.float64) ** 2 for g in grads]
    )
    if len(grads) == 2 * T:
        sq = sq[:T] + sq[T:]  # ||[d/dh | d/dc]||_F^2
    return 0.5 * torch.log10(sq)


def autograd_fro(mod: nn.LSTM | nn.GRU, x: torch.Tensor) -> torch.Tensor:
    """(a) log10 ||d h_{T-1} / d s_t||_F for t = -1..T-2 (s_{-1} = the initial state),
    ``(T, B)``, by batched autograd: the careful user's list of one zero perturbation leaf per
    step and carried state (h, and c for an LSTM; separate (B, H) leaves, no slicing) through
    the real fused cell, then one ``torch.autograd.grad(..., is_grads_batched=True)`` over
    the identity basis. (Gradients with respect to the fused cell's own c outputs would not
    do: autograd then includes the path from c_t to h_t inside the cell, which is not the
    state map's partial derivative.)"""
    T, B, _ = x.shape
    H = mod.hidden_size
    lstm = isinstance(mod, nn.LSTM)
    cell = fused_cell(mod)
    h = c = torch.zeros(B, H, device=x.device)
    dh = [torch.zeros(B, H, device=x.device, requires_grad=True) for _ in range(T)]
    dc = [torch.zeros(B, H, device=x.device, requires_grad=True) for _ in range(T if lstm else 0)]
    for t in range(T):
        if lstm:
            h, c = cell(x[t], (h + dh[t], c + dc[t]))
        else:
            h = cell(x[t], h + dh[t])
    basis = torch.eye(H, device=x.device).unsqueeze(1).expand(H, B, H)  # one row per pass
    grads = torch.autograd.grad(h, dh + dc, basis, is_grads_batched=True)  # (H, B, H) each
    return _log10_fro(grads, T)


def autograd_fro_cell_outputs(mod: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """Not a baseline: (a) with gradients taken with respect to the fused cell's own (h, c)
    outputs (the list-of-states pattern). For an LSTM that is a different derivative: autograd
    then includes the path from c_t to h_t inside the cell. Printed to show the difference."""
    T, B, _ = x.shape
    H = mod.hidden_size
    cell = fused_cell(mod)
    h = torch.zeros(B, H, device=x.device).requires_grad_()
    c = torch.zeros(B, H, device=x.device).requires_grad_()
    hs, cs = [], []
    for t in range(T):
        hs.append(h)
        cs.append(c)
        h, c = cell(x[t], (h, c))
    basis = torch.eye(H, device=x.device).unsqueeze(1).expand(H, B, H)
    grads = torch.autograd.grad(h, hs + cs, basis, is_grads_batched=True)
    return _log10_fro(grads, T)


def func_fro(mod: nn.LSTM | nn.GRU, x: torch.Tensor) -> torch.Tensor:
    """(b) the same norms by ``torch.func``: ``vmap`` over the ``vjp`` with respect to one
    zero perturbation per step of each carried state (no slicing)."""
    T, B, _ = x.shape
    H = mod.hidden_size
    lstm = isinstance(mod, nn.LSTM)
    cell = fused_cell(mod)
    zero = torch.zeros(B, H, device=x.device)

    def last_h(*deltas: torch.Tensor) -> torch.Tensor:
        h, c = zero, zero
        for t in range(T):
            if lstm:
                h, c = cell(x[t], (h + deltas[t], c + deltas[T + t]))
            else:
                h = cell(x[t], h + deltas[t])
        return h

    leaves = tuple(torch.zeros(B, H, device=x.device) for _ in range(2 * T if lstm else T))
    _, vjp_fn = torch.func.vjp(last_h, *leaves)
    basis = torch.eye(H, device=x.device).unsqueeze(1).expand(H, B, H)
    grads = torch.func.vmap(vjp_fn)(basis)
    return _log10_fro(grads, T)


def bare_chain(g: torch.Tensor, j: torch.Tensor, steps: int) -> torch.Tensor:
    """T products g <- g j on the dense columns, into alternating buffers (as a careful user
    writes the chain, with no tensor made per step): g (B, H, W), j (B, W, H). For an LSTM
    (W = 2H) the new h columns are [G_h | G_c] j = G_h j_h + G_c j_c, one ``bmm`` and one
    ``baddbmm_`` (no faster as one (B, H, 2H) @ (B, 2H, H) product copied into place)."""
    H = j.shape[-1]
    g_h, g_c = g[..., :H].contiguous(), g[..., H:].contiguous()
    j_h, j_c = j[:, :H].contiguous(), j[:, H:].contiguous()
    bufs = [torch.empty_like(g_h), torch.empty_like(g_h)]
    for t in range(steps):
        out = torch.bmm(g_h, j_h, out=bufs[t % 2])
        if g_c.shape[-1]:
            out.baddbmm_(g_c, j_c)
        g_h = out
    return g_h


def run(model: str, T: int, repeats: int, dev: torch.device, clock: Callable[[], float]) -> None:
    B, H = 8, 128
    torch.manual_seed(0)
    mod = (nn.LSTM if model == "LSTM" else nn.GRU)(H, H).to(dev)
    x = torch.randn(T, B, H, device=dev)
    width = 2 * H if model == "LSTM" else H
    g0 = torch.randn(B, H, width, device=dev)
    j = torch.randn(B, width, H, device=dev) / width**0.5
    t = timing.interleaved(
        {
            "fro": lambda: vl.jacobian_log_norms(mod, x, norms="fro", sources="state"),
            "both": lambda: vl.jacobian_log_norms(mod, x, sources="state"),
            "default": lambda: vl.jacobian_log_norms(mod, x),
            "autograd": lambda: autograd_fro(mod, x),
            "func": lambda: func_fro(mod, x),
            "chain": lambda: bare_chain(g0, j, T),
        },
        repeats,
        clock=clock,
    )
    ours = vl.jacobian_log_norms(mod, x, norms="fro", sources="state").state_fro[:, 0, 1:]
    theirs = autograd_fro(mod, x).T.flip(-1).double().cpu()  # lags 1..T
    ok = torch.isfinite(theirs) & (theirs > -30)  # float32 subnormals carry few digits
    agree = (ours[ok] - theirs[ok]).abs().max().item()
    best = min(t["autograd"], t["func"])

    def ms(name: str) -> str:
        return f"{t[name] * 1e3:8.1f} ms"

    print(f"--- {model}: B={B} H={H} T={T} L=1 float32")
    for label, name, ref, unit in (
        ("engine, Frobenius, states          ", "fro", "chain", "floor"),
        ("engine, both norms, states         ", "both", "fro", "Frobenius"),
        ("engine, default (both, state+input)", "default", "chain", "floor"),
        ("(a) autograd, fused cell, states   ", "autograd", "chain", "floor"),
        ("(b) torch.func vmap(vjp)           ", "func", "chain", "floor"),
    ):
        print(f"{label}: {ms(name)}   {t[name] / t[ref]:5.2f}x {unit}")
    print(f"floor: (B,H,{width // H}H)@(B,{width // H}H,H) x T     : {ms('chain')}")
    if model == "LSTM":
        other = autograd_fro_cell_outputs(mod, x).T.flip(-1).double().cpu()
        both_ok = ok & torch.isfinite(other) & (other > -30)
        off = (other[both_ok] - theirs[both_ok]).abs().max().item()
        print(f"(a) w.r.t. the cell's own c outputs: differs from (a) by up to {off:.2f} in log10")
    print(f"best autograd / engine (Frobenius) : {best / t['fro']:8.2f}x")
    print(
        f"engine vs (a) log10 norms          : max |diff| {agree:.1e} over "
        f"{int(ok.sum())} finite baseline values ({int((~ok).sum())} underflowed or < 1e-30)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 64 and fewer repeats")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--model", default="LSTM,GRU", help="comma-separated: LSTM, GRU")
    parser.add_argument(
        "--repeats", type=timing.positive, default=None, help="rounds of the interleaving"
    )
    timing.add_arguments(parser)
    args = parser.parse_args()
    T = 64 if args.quick else 256
    repeats = args.repeats or (2 if args.quick else 5)
    dev = torch.device(args.device)
    clock = timing.configure(args, flush_denormal=True)  # the baselines' best: no subnormals
    print(timing.header(dev, clock))
    for model in args.model.split(","):
        run(model.strip().upper(), T, repeats, dev, clock)


if __name__ == "__main__":
    main()
