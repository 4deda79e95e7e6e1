"""Why both norms at B=64, H=1024 ran long on a GPU: checks, exact fallbacks and their time,
under the default stall rule, without it, and with exact norms from float64 Gram matrices."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import timing  # run as a script: benchmarks/ is on the path
import torch
from torch import nn

import vanishlab as vl
from vanishlab.core import gram, scaling, spectral

counts: Counter = Counter()
_eigh, _exact = torch.linalg.eigh, spectral.exact_norms


def eigh(a, *args, **kw):
    counts["checks"] += 1
    return _eigh(a, *args, **kw)


def exact(g, via_gram=False):
    counts["exact calls"] += 1
    counts["exact matrices"] += g.shape[:-2].numel()
    timing.sync()
    t0 = time.perf_counter()
    if via_gram:
        saved = scaling.gpu_like
        scaling.gpu_like = lambda d: False
        try:
            out = gram.exact_norms(g)
        finally:
            scaling.gpu_like = saved
    else:
        out = _exact(g)
    timing.sync()
    counts["exact ms"] += round((time.perf_counter() - t0) * 1e3)
    return out


torch.linalg.eigh = eigh


def run(label, fn):
    counts.clear()
    timing.sync()
    t0 = time.perf_counter()
    out = fn()
    timing.sync()
    print(f"  {label:28s}: {(time.perf_counter() - t0) * 1e3:9.1f} ms  {dict(counts)}", flush=True)
    return out


def main():
    parser = argparse.ArgumentParser(
        description=" ".join(__doc__.split())
        + " On a CUDA device: B, H, T = (64, 1024, 64), (8, 128, 256), (64, 1024, 192); "
        "elsewhere one small size, (2, 64, 32), with the GPU's settings."
    )
    parser.parse_args()  # no options: --help, and a refusal of anything else, before any work
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sizes = (
        ((64, 1024, 64), (8, 128, 256), (64, 1024, 192)) if dev.type == "cuda" else ((2, 64, 32),)
    )
    if dev.type == "cpu":
        scaling.gpu_like = lambda d: True
    for B, H, T in sizes:
        torch.manual_seed(0)
        rnn = nn.RNN(32, H).to(dev)
        x = torch.randn(T, B, 32, device=dev)
        print(f"--- B={B} H={H} T={T}", flush=True)
        fro = lambda rnn=rnn, x=x: vl.jacobian_log_norms(rnn, x, norms="fro", sources="state")  # noqa: E731
        both = lambda rnn=rnn, x=x: vl.jacobian_log_norms(rnn, x, sources="state")  # noqa: E731
        fro()
        run("Frobenius", fro)
        spectral.exact_norms = exact
        ref = run("both, default", both).state_spec
        spectral.exact_norms = lambda g: exact(g, via_gram=True)
        got = run("both, exact via Gram", both).state_spec
        print(f"    max |log10 diff| {(got - ref).abs().nan_to_num(0).max().item():.1e}")
        spectral.exact_norms = exact
        saved, spectral.STALL_CHECKS = spectral.STALL_CHECKS, 10**9
        got = run("both, no stall rule", both).state_spec
        spectral.STALL_CHECKS = saved
        print(f"    max |log10 diff| {(got - ref).abs().nan_to_num(0).max().item():.1e}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
