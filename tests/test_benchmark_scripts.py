"""The benchmark scripts answer ``--help`` with their usage, and run nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_benchmark_script_answers_help_without_running() -> None:
    """`python benchmarks/diagnose_stalls.py --help` ran the whole diagnostic (it read no
    arguments). Every script is started at once: each spends its seconds importing torch."""
    scripts = sorted(BENCHMARKS.glob("*.py"))
    assert any(p.name == "diagnose_stalls.py" for p in scripts)
    procs = {
        p.name: subprocess.Popen(
            [sys.executable, str(p), "--help"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in scripts
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (name, err)
        assert out.startswith(f"usage: {name}"), (name, out[:200])
        assert "--- B=" not in out, name  # diagnose_stalls' first line of work
