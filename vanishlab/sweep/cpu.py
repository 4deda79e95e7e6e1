"""The CPU a run measured on, as a manifest's ``versions`` records it (``cpu``).

MKL's matrix products round by the vector instructions they run on, so a cell's last bits follow
the CPU: the same cells on an AVX2 path and an AVX-512 one differed by up to 2e-6 in log10, a
chaotic one by 0.88 (docs/cli.md, "Another CPU").
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["CPU_SETTINGS", "cpu_text"]

# The settings of the environment that choose the CPU's kernels, and so the last bits of a
# product: MKL's code path (its instruction set, or conditional numerical reproducibility,
# MKL_CBWR, which pins one path on every CPU that has it), oneDNN's and ATen's.
CPU_SETTINGS = ("MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


def cpu_text() -> str:
    """``"Intel(R) Xeon(R) Processor; AVX512; MKL_CBWR=AVX2"``: the CPU's model (from
    ``/proc/cpuinfo``, else :func:`platform.processor`), the vector instructions torch found
    on it, and the settings of :data:`CPU_SETTINGS` that are set."""
    import platform

    import torch

    model = ""
    with (
        contextlib.suppress(OSError, UnicodeDecodeError),
        open("/proc/cpuinfo", encoding="utf-8") as info,
    ):
        for line in info:
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Processor", "cpu model"):
                model = " ".join(value.split())
                break
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    parts = [model, torch.backends.cpu.get_cpu_capability()]
    parts += [f"{k}={os.environ[k]}" for k in CPU_SETTINGS if os.environ.get(k)]
    return "; ".join(parts)
