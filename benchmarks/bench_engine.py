"""Engine speed and memory against the best baselines a careful user would write (ratios).

Config: B = 8, H = 128, T = 256, I = 32, one tanh layer, float32, 2 threads (``--threads``).
Every call below is timed in the same process, interleaved round-robin, best of N, so that a
shared machine's drift hits all of them alike; the ratios are the result, not the seconds.

Baselines (what each cannot do is printed with it):
  (a) autograd, list of states: ``hs.append(h); h = step(x[t], h)`` for every t, then one
      ``torch.autograd.grad(h, hs, grad_outputs=eye, is_grads_batched=True)``; Frobenius norms
      of the (H, B, H) gradients. Plain float32 products: they underflow to 0 past ~100 lags
      at a contracting init; no spectral norms; one layer's rows only (no per-layer rows of a
      stack without one such list per layer).
  (b) torch.func: ``vmap`` over the ``vjp`` of h_T with respect to T per-step perturbations
      (one (B, H) leaf per step, so no slicing); same limits as (a).
  (c) the floor: the bare chain of T batched (B, H, H) @ (H, H) products into preallocated
      buffers (an orthogonal W, so it neither under- nor overflows), no norms at all; and the
      machine's float32 GEMM rate (a 1024^3 product) beside it.
Every call runs with ``torch.set_flush_denormal(True)``, as a careful CPU user would run (a) and
(b): their float32 gradients decay into the subnormal range past ~70 lags, where each product
ran 4.7-10.5x slower on some machines and no slower on others (the time of (a) without it is
printed too; docs/speed.md). The engine keeps its
matrices well scaled (they form subnormals only in extreme cases, which it measures on its
careful path), so the setting does not change its time here.
Engine calls: Frobenius of the states only; both norms of the states; and the default call
``vl.jacobian_norms(rnn, x)`` as users make it (both norms, states and inputs, the frame).
Targets (ratios in one run): Frobenius states <= 1.3x the floor; both norms <= 1.5x Frobenius
only; the default call <= 2.5x the floor; best autograd >= 5x the engine (Frobenius, states);
peak memory flat in T apart from the O(T L B H) forward states.
Run: ``python benchmarks/bench_engine.py`` (``--quick``: T = 64, fewer repeats; ``--cpu-time``:
CPU seconds instead of wall time, steadier on a shared, loaded machine). ``--device cuda``: the
same on a GPU, plus the host waits per call (none per step is the GPU target) and peak GPU
memory; ``--config large``: B = 64, H = 1024, T = 512 (a GPU's size; the baselines then take
128 output rows per backward pass), where the target is the Frobenius path at >= 0.7 of the
chain's rate. ``--init orthogonal --gain g``: W_hh orthogonal times g instead of PyTorch's
default; its top singular values lie close together, so the spectral norms take more checks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable

import timing  # run as a script: benchmarks/ is on the path
import torch
import torch.nn.functional as F
from torch import nn

import vanishlab as vl
from vanishlab.core.forward import layer_states
from vanishlab.core.inputs import prepare_inputs
from vanishlab.core.scaling import host_waits


def _weights(rnn: nn.RNN):
    return (
        rnn.weight_ih_l0.detach(),
        rnn.weight_hh_l0.detach(),
        (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach(),
    )


def _row_blocks(H: int, B: int, rows: int | None, device: torch.device):
    """The identity's rows as ``(r, B, H)`` grad_outputs, ``rows`` at a time (all at once when
    None): at H = 1024 all T gradients at once would be T x H x B x H floats."""
    eye = torch.eye(H, device=device).unsqueeze(1).expand(H, B, H)
    step = rows or H
    return [eye[i : i + step] for i in range(0, H, step)]


def autograd_states(rnn: nn.RNN, x: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """(a) ||dh_{T-1} / h_{t-1}||_F for t = 0..T-1 (h_{-1} = h0), ``(T, B)``, by autograd
    (``rows`` output rows per backward pass; their squared norms are summed)."""
    T, B, _ = x.shape
    H = rnn.hidden_size
    w_ih, w_hh, b = _weights(rnn)
    h = torch.zeros(B, H, device=x.device).requires_grad_()
    hs = []
    for t in range(T):
        hs.append(h)
        h = torch.tanh(F.linear(x[t], w_ih, b) + F.linear(h, w_hh))
    blocks = _row_blocks(H, B, rows, x.device)
    sq = torch.zeros(T, B, device=x.device)
    for i, eye in enumerate(blocks):
        grads = torch.autograd.grad(
            h, hs, grad_outputs=eye, is_grads_batched=True, retain_graph=i + 1 < len(blocks)
        )
        sq += torch.stack([g.square().sum(dim=(0, 2)) for g in grads])
        del grads
    return sq.sqrt()


def func_states(rnn: nn.RNN, x: torch.Tensor, rows: int | None = None) -> torch.Tensor:
    """(b) the same norms by ``torch.func``: vmap over the vjp w.r.t. per-step perturbations."""
    T, B, _ = x.shape
    H = rnn.hidden_size
    w_ih, w_hh, b = _weights(rnn)
    drive = F.linear(x, w_ih, b)  # (T, B, H)

    def last_state(*deltas: torch.Tensor) -> torch.Tensor:
        h = torch.zeros(B, H, device=x.device)
        for t in range(T):
            h = torch.tanh(drive[t] + F.linear(h + deltas[t], w_hh))
        return h

    zeros = tuple(torch.zeros(B, H, device=x.device) for _ in range(T))
    _, vjp_fn = torch.func.vjp(last_state, *zeros)
    sq = torch.zeros(T, B, device=x.device)
    for eye in _row_blocks(H, B, rows, x.device):
        grads = torch.func.vmap(vjp_fn)(eye)  # T x (r, B, H)
        sq += torch.stack([g.square().sum(dim=(0, 2)) for g in grads])
        del grads
    return sq.sqrt()


def bare_chain(g0: torch.Tensor, w: torch.Tensor, steps: int, bufs: list[torch.Tensor]) -> None:
    """(c) T products (B, H, H) @ (H, H) into alternating buffers: the arithmetic floor."""
    B, H, _ = g0.shape
    g = g0
    for t in range(steps):
        out = bufs[t % 2]
        torch.mm(g.view(B * H, H), w, out=out.view(B * H, H))
        g = out


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory_child(T: int, B: int, H: int, n_in: int) -> None:
    """Peak RSS during one default measurement, beyond the warm process (Linux: VmHWM reset)."""
    torch.manual_seed(0)
    rnn = nn.RNN(n_in, H)
    x = torch.randn(T, B, n_in)
    vl.jacobian_log_norms(rnn, x[:8])  # warm-up: allocator, kernels
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets the peak-RSS watermark to the current RSS
    base = _status_kib("VmRSS")
    vl.jacobian_log_norms(rnn, x)
    print(json.dumps({"T": T, "extra_mib": (_status_kib("VmHWM") - base) / 1024}))


def cuda_extras(
    rnn: nn.RNN, B: int, H: int, n_in: int, T: int, dev: torch.device, config: str
) -> None:
    """Host waits per call against T (none per step is the target), and peak GPU memory."""
    lengths = (64, 256, 1024) if config == "small" else (T,)
    print("host waits for the GPU per call (torch.cuda.set_sync_debug_mode):")
    for steps in lengths:
        xs = torch.randn(steps, B, n_in, device=dev)
        counts = {
            "Frobenius states": host_waits(
                lambda xs=xs: vl.jacobian_log_norms(rnn, xs, norms="fro", sources="state")
            ),
            "both norms, states": host_waits(
                lambda xs=xs: vl.jacobian_log_norms(rnn, xs, sources="state")
            ),
            "default call": host_waits(lambda xs=xs: vl.jacobian_log_norms(rnn, xs)),
        }
        print(f"  T={steps:5d}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if config == "small":  # the general paths, for comparison: a stack, and gated cells
        torch.manual_seed(0)
        for name, mod in (
            ("RNN, 2 layers", nn.RNN(n_in, H, 2)),
            ("LSTM", nn.LSTM(n_in, H)),
            ("GRU", nn.GRU(n_in, H)),
        ):
            mod = mod.to(dev)
            waits = [
                host_waits(
                    lambda steps=steps, mod=mod: vl.jacobian_log_norms(
                        mod, torch.randn(steps, B, n_in, device=dev)
                    )
                )
                for steps in (64, 256)
            ]
            print(f"  {name}, default call: T=64 {waits[0]}, T=256 {waits[1]}")
    print("peak GPU memory of one default measurement (torch.cuda.max_memory_allocated):")
    for steps in (256, 1024, 4096) if config == "small" else (T,):
        xs = torch.randn(steps, B, n_in, device=dev)
        torch.cuda.reset_peak_memory_stats(dev)
        base = torch.cuda.memory_allocated(dev)
        vl.jacobian_log_norms(rnn, xs)
        extra = (torch.cuda.max_memory_allocated(dev) - base) / 2**20
        states, matrix = 2 * steps * B * H * 4 / 2**20, B * H * H * 4 / 2**20
        print(
            f"  T={steps:5d}: {extra:9.1f} MiB  (forward states + act' {states:.1f} MiB; "
            f"one (B,H,H) matrix {matrix:.1f} MiB)"
        )


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 64 and fewer repeats")
    parser.add_argument(
        "--repeats", type=timing.positive, default=None, help="rounds of the interleaving"
    )
    timing.add_arguments(parser, threads=2)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--config",
        choices=("small", "large"),
        default="small",
        help="small: B=8 H=128 T=256 (default); large: B=64 H=1024 T=512, a GPU's size",
    )
    parser.add_argument(
        "--init",
        choices=("default", "orthogonal"),
        default="default",
        help="W_hh: PyTorch's default (the README's table) or orthogonal times --gain, whose "
        "close top singular values make the spectral norms several times dearer",
    )
    parser.add_argument("--gain", type=float, default=1.0, help="gain of --init orthogonal")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    clock = timing.configure(args, flush_denormal=True)  # the baselines' best (the docstring)
    B, H, n_in = 8, 128, 32
    if args.child is not None:
        peak_memory_child(args.child, B, H, n_in)
        return
    T = 64 if args.quick else 256
    repeats = args.repeats or (3 if args.quick else 7)
    rows = None  # the baselines' output rows per backward pass (None: all H at once)
    if args.config == "large":
        B, H, T, rows = 64, 1024, (64 if args.quick else 512), 128
        repeats = args.repeats or 3
    dev = torch.device(args.device)
    torch.manual_seed(0)
    rnn = nn.RNN(n_in, H).to(dev)
    init = "PyTorch's default init"
    if args.init == "orthogonal":
        with torch.no_grad():
            nn.init.orthogonal_(rnn.weight_hh_l0, gain=args.gain)
        init = f"orthogonal W_hh, gain {args.gain:g}"
    x = torch.randn(T, B, n_in, device=dev)
    print(
        f"config: B={B} H={H} T={T} I={n_in} L=1 tanh float32, {init}, {timing.header(dev, clock)}"
    )
    if rows:
        print(f"(a), (b) take {rows} output rows per backward pass (all H at once do not fit)")

    q, _ = torch.linalg.qr(torch.randn(H, H, dtype=torch.float64))
    w_orth = q.float().to(dev)
    g0 = torch.randn(B, H, H, device=dev) / H
    bufs = [torch.empty(B, H, H, device=dev) for _ in range(2)]
    checked = prepare_inputs(rnn, x, None)
    calls: dict[str, Callable[[], object]] = {
        "floor": lambda: bare_chain(g0, w_orth, T, bufs),
        "fro": lambda: vl.jacobian_log_norms(rnn, x, norms="fro", sources="state"),
        "forward": lambda: layer_states(checked),  # the forward pass inside "fro"
        "both": lambda: vl.jacobian_log_norms(rnn, x, sources="state"),
        "default": lambda: vl.jacobian_norms(rnn, x),
        "autograd": lambda: autograd_states(rnn, x, rows),
        "func": lambda: func_states(rnn, x, rows),
    }
    t = timing.interleaved(calls, repeats, clock=clock)
    t_subnormal = None  # set_flush_denormal acts on the CPU only
    if dev.type == "cpu":
        torch.set_flush_denormal(False)
        t_subnormal = timing.interleaved(
            {"a": lambda: autograd_states(rnn, x)}, max(1, repeats // 3), clock=clock
        )["a"]
        torch.set_flush_denormal(True)
    n_big = 1024 if dev.type == "cpu" else 8192
    a, b2 = torch.randn(n_big, n_big, device=dev), torch.randn(n_big, n_big, device=dev)
    t_gemm = timing.interleaved({"gemm": lambda: a @ b2}, repeats, clock=clock)["gemm"]
    gemm_rate = 2 * n_big**3 / t_gemm
    floor_rate = 2 * T * B * H**3 / t["floor"]

    # The same numbers from the engine and the baseline, where the baseline has not underflowed.
    ours = vl.jacobian_log_norms(rnn, x, norms="fro", sources="state").state_fro[:, 0, 1:]
    theirs = torch.log10(autograd_states(rnn, x, rows).double()).T.flip(-1).cpu()  # lag 1..T
    # Compared where (a)'s float32 norm is trustworthy: with subnormals flushed, squares of
    # entries below ~1e-19 vanish from its sums (norms below ~1e-15 over H x H entries).
    ok = torch.isfinite(theirs) & (theirs > -15)
    agree = (ours[ok] - theirs[ok]).abs().max().item()
    zero_from = (~torch.isfinite(theirs)).any(0).nonzero()
    first_zero = int(zero_from[0]) + 1 if len(zero_from) else None

    def ms(name: str) -> str:
        return f"{t[name] * 1e3:8.1f} ms"

    r_fro, r_both = t["fro"] / t["floor"], t["both"] / t["fro"]
    r_default = t["default"] / t["floor"]
    best_auto = min(t["autograd"], t["func"])
    r_auto = best_auto / t["fro"]
    print(f"(c) floor: T x (B,H,H)@(H,H)       : {ms('floor')}   {floor_rate / 1e9:6.1f} GFLOP/s")
    print(f"    float32 GEMM {n_big}^3           : {gemm_rate / 1e9:8.1f} GFLOP/s")
    print(f"engine, Frobenius, states           : {ms('fro')}   {r_fro:5.2f}x floor (<= 1.3)")
    r_forward = t["forward"] / t["floor"]
    print(f"  of which the forward pass         : {ms('forward')}   {r_forward:5.2f}x floor")
    print(f"engine, both norms, states          : {ms('both')}   {r_both:5.2f}x Frobenius (<= 1.5)")
    print(
        f"vl.jacobian_norms(rnn, x) (default) : {ms('default')}   {r_default:5.2f}x floor (<= 2.5)"
    )
    r_a, r_b = t["autograd"] / t["floor"], t["func"] / t["floor"]
    print(f"(a) autograd, is_grads_batched      : {ms('autograd')}   {r_a:5.2f}x floor")
    print(f"(b) torch.func vmap(vjp)            : {ms('func')}   {r_b:5.2f}x floor")
    if t_subnormal is not None:
        print(
            f"(a) without flush_denormal          : {t_subnormal * 1e3:8.1f} ms   "
            f"{t_subnormal / t['floor']:5.2f}x floor (subnormal gradients)"
        )
    print(f"best autograd / engine (Frobenius)  : {r_auto:8.2f}x (>= 5)")
    print(
        f"engine vs (a) log10 norms           : max |diff| {agree:.1e} over {int(ok.sum())} "
        f"values; (a) underflows to 0 from lag {first_zero} on"
    )
    print(
        "(a), (b) give Frobenius norms of one layer in plain float32: they underflow past ~100 "
        "lags at a contracting init, have no spectral norms and no per-layer rows; (c) is no "
        "measurement at all."
    )
    print("targets:")
    targets = (
        ("Frobenius states <= 1.3x floor", r_fro <= 1.3),
        ("both norms <= 1.5x Frobenius", r_both <= 1.5),
        ("default call <= 2.5x floor", r_default <= 2.5),
        ("best autograd >= 5x engine", r_auto >= 5),
    )
    if args.config == "large":  # a GPU's target: the engine runs at >= 0.7 of the chain's rate
        print(
            f"  rate vs the chain: Frobenius states {1 / r_fro:.2f}, both norms "
            f"{1 / (r_fro * r_both):.2f}, default call {1 / r_default:.2f}"
        )
        targets = (("Frobenius states >= 0.7 of the chain", 1 / r_fro >= 0.7),)
    for label, good in targets:
        print(f"  {label:36s}: {_verdict(good)}")

    if dev.type == "cuda":
        cuda_extras(rnn, B, H, n_in, T, dev, args.config)
        return
    print("peak memory of one default measurement beyond a warm process (fresh subprocesses):")
    for steps in (256, 1024, 4096):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(steps), "--threads", str(args.threads)],
            capture_output=True,
            text=True,
            check=True,
        )
        extra = json.loads(out.stdout.strip().splitlines()[-1])["extra_mib"]
        states = 2 * steps * B * H * 4 / 2**20  # states + derivatives, float32
        print(
            f"  T={steps:5d}: {extra:7.1f} MiB  (forward states + act' are {states:5.1f} MiB; "
            f"a T x B x H x H tensor would be {steps * B * H * H * 4 / 2**20:7.0f} MiB)"
        )


if __name__ == "__main__":
    main()
