"""The CPU a run measured on, as a manifest's ``versions`` records it (``cpu``).

MKL's matrix products round by the vector instructions they run on, so a cell's last bits follow
the CPU: the same cells on an AVX2 path and an AVX-512 one differed by up to 2e-6 in log10, a
chaotic one by 0.88 (docs/cli.md, "Another CPU").
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["CLIENT_ONLY", "CPU_SETTINGS", "cpu_text"]

# The settings of the environment that choose the CPU's kernels, and so the last bits of a
# product: MKL's code path (its instruction set, or conditional numerical reproducibility,
# MKL_CBWR, which pins one path on every CPU that has it), oneDNN's and ATen's.
CPU_SETTINGS = ("MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")


#: What a Dask run's record adds: its cells were measured on the workers, whose CPUs it does
#: not know (a page that named the client's CPU alone told a reader the cells' CPU).
CLIENT_ONLY = "this client's; the workers' measured the cells and are not recorded"


def cpu_text(*, client_only: bool = False) -> str:
    """``"Intel(R) Xeon(R) Processor; AVX512; MKL_CBWR=AVX2"``: the CPU's model (from
    ``/proc/cpuinfo``, else :func:`platform.processor`), the vector instructions torch found
    on it, and the settings of :data:`CPU_SETTINGS` that are set; with ``client_only`` (a run
    on a Dask cluster), :data:`CLIENT_ONLY` after them."""
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
    return "; ".join([*parts, CLIENT_ONLY] if client_only else parts)
