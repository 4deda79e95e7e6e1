"""qr_step's graded threshold (``_GRADED``) against the multi-digit references (helper 496).

Graded cases at spans ~1e2 to 1e12 (a step's largest max |row entry| over its smallest):
``nn.RNN(2, 3, L)`` tanh, the units' rows of W_ih, W_hh and the biases x1, x s^-1/2 and x s^-1
(small gains: tanh' ~1, so a step's rows span ~s), against ``_rnn_exact`` (100 digits); and
``nn.LSTM(3, 2, L)`` with f and o at b = -5 ... -28 (the h rows ~e^b times the c rows), against
``exact_spectrum`` (120 digits), float32 and float64, T = 20, seed 0, one sample, q0 = I.
Each case runs ``vl.lyapunov_spectrum`` with ``_GRADED`` at 1e4, 1e6, 1e8 and 1e10 and prints
max |got - reference| and the steps' spans (min, median, max). ``--low``: ordinary tanh
``nn.RNN(4, H)`` (H 8 at weights x1, x3 and x5, H 12 at x3 and x5, seeds 0 and 1; 60 digits) and
``nn.LSTM(3, 3, L)``, L = 1-3, f and o at 0, -5 and -8 (120 digits), all float64, T = 20, with
``_GRADED`` at 1, 1e2, 1e4, 1e6 and 1e8 (1: every step without a zero row reordered): 41 s
wall on a loaded 2-core box, one thread (the default run 80 s).
Run: ``.venv/bin/python benchmarks/qr_threshold_exact.py [--low]``.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_gated_saturation import _gate_bias, exact_spectrum
from test_qr_graded import _rnn_exact

import vanishlab as vl
from vanishlab.core import gated_lyapunov, lyapunov, qr_step

THRESHOLDS = (1e4, 1e6, 1e8, 1e10)
SPANS: list[float] = []
_real = qr_step.qr_step


def _recording(z, total, counted, prev):
    size = z.abs().amax(dim=-1)
    if z.shape[-1] > 1:
        for s in size:
            if bool((s != 0).all()):
                SPANS.append((s.max() / s.min()).item())
    return _real(z, total, counted, prev)


def rnn_case(s: float, layers: int, dtype: torch.dtype):
    torch.manual_seed(0)
    rnn = nn.RNN(2, 3, layers).double()
    gain = torch.tensor([1.0, s**-0.5, 1 / s], dtype=torch.float64)
    with torch.no_grad():
        for name, w in rnn.named_parameters():
            w.mul_(gain[:, None] if name.startswith("weight") else gain)
    x = torch.randn(20, 2, dtype=torch.float64)
    want = _rnn_exact(rnn, x, digits=100)
    return rnn.to(dtype), x.to(dtype), want


def tanh_case(hidden: int, gain: float, seed: int):
    """An ordinary tanh nn.RNN(4, hidden) in float64, every weight x gain, T = 20."""
    torch.manual_seed(seed)
    rnn = nn.RNN(4, hidden).double()
    with torch.no_grad():
        for name, w in rnn.named_parameters():
            if name.startswith("weight"):
                w.mul_(gain)
    x = torch.randn(20, 4, dtype=torch.float64)
    return rnn, x, _rnn_exact(rnn, x, digits=60)


def lstm_case(b: float, layers: int, dtype: torch.dtype, hidden: int = 2):
    torch.manual_seed(0)
    m = nn.LSTM(3, hidden, layers)
    _gate_bias(m, 1, b)
    _gate_bias(m, 3, b)
    m = m.to(dtype)
    x = torch.randn(20, 1, 3, dtype=dtype)
    return m, x, exact_spectrum(copy.deepcopy(m), x)


def run(name: str, m, x, want, thresholds=THRESHOLDS) -> None:
    offs = []
    for th in thresholds:
        qr_step._GRADED = th
        SPANS.clear()
        got = vl.lyapunov_spectrum(m, x)
        got = (got[0] if got.dim() > 1 else got).tolist()
        offs.append(max(abs(a - b) for a, b in zip(got, want, strict=True)))
    spans = sorted(SPANS)
    cols = "  ".join(f"{o:8.2g}" for o in offs)
    print(
        f"{name:24s} spans {spans[0]:8.1e} {statistics.median(spans):8.1e} {spans[-1]:8.1e}"
        f"  | {cols}",
        flush=True,
    )


def low() -> None:
    """Below the band: ordinary and mildly graded steps with the threshold at 1 (every step
    without a zero row reordered) and 1e2 too."""
    th = (1.0, 1e2, 1e4, 1e6, 1e8)
    print("--- max |got - reference| at _GRADED = " + ", ".join(f"{t:.0e}" for t in th))
    for hidden, gain in ((8, 1.0), (8, 3.0), (8, 5.0), (12, 3.0), (12, 5.0)):
        for seed in (0, 1):
            run(f"RNN H{hidden} x{gain:g} seed {seed}", *tanh_case(hidden, gain, seed), th)
    for layers in (1, 2, 3):
        for b in (0.0, -5.0, -8.0):
            run(f"LSTM H3 L{layers} b={b:g} f64", *lstm_case(b, layers, torch.float64, 3), th)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--low", action="store_true", help="ordinary and mildly graded steps, _GRADED 1 to 1e8"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    lyapunov.qr_step = gated_lyapunov.qr_step = _recording
    if args.low:
        low()
        return
    print(
        f"torch {torch.__version__}, 1 thread; max |got - reference| at _GRADED = "
        + ", ".join(f"{t:.0e}" for t in THRESHOLDS)
        + "; spans: min, median, max over the steps"
    )
    for dtype in (torch.float64, torch.float32):
        tag = "f64" if dtype == torch.float64 else "f32"
        for layers in (1, 2):
            for p in (2, 4, 6, 8, 10, 12):
                run(f"RNN L{layers} s=1e{p} {tag}", *rnn_case(10.0**p, layers, dtype))
        for layers in (1, 2, 3):
            for b in (-5.0, -10.0, -13.0, -15.0, -18.0, -20.0, -25.0, -28.0):
                run(f"LSTM L{layers} b={b:g} {tag}", *lstm_case(b, layers, dtype))
    qr_step._GRADED = 1e8


if __name__ == "__main__":
    main()
