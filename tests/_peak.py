"""Resident peaks of a script's measurement, beyond a warm process, in a fresh interpreter
(Linux /proc): the memory estimate's tests (tests/test_runs.py, tests/test_memory_estimate.py)."""

from __future__ import annotations

import subprocess
import sys

PEAK_PROLOGUE = """
import ctypes, sys, torch
from torch import nn
import vanishlab as vl
from vanishlab.sweep.measure import run_cell
torch.set_num_threads(1)
def rss(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field + ":"))
def report_peak(warm, measure):
    warm()  # the allocator, the kernels
    # The warm-up's freed blocks, which glibc keeps, go back to the system: left resident, the
    # measurement reused them unseen (an LSTM's peak read 142-180 MiB over 12 draws, 155-186
    # trimmed; the failing draw's 142 against 439 estimated, 3.09x)
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc's
    if trim is not None:
        trim(0)
    open("/proc/self/clear_refs", "w").write("5")  # reset the peak to the current size
    base = rss("VmRSS")
    measure()
    print((rss("VmHWM") - base) * 1024)
"""


def measured_peak(script: str, *args: str) -> int:
    """The resident peak, in bytes beyond a warm process, of ``script``'s ``report_peak``
    (:data:`PEAK_PROLOGUE`), run in a fresh interpreter."""
    command = [sys.executable, "-c", PEAK_PROLOGUE + script, *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])
