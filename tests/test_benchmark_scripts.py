"""The benchmark scripts answer ``--help`` with their usage, and run nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _answer_help(scripts: list[Path]) -> None:
    """Start every script with ``--help`` at once (each spends its seconds importing torch) and
    check each prints its usage and runs nothing."""
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


def test_diagnose_stalls_answers_help_without_running() -> None:
    """`python benchmarks/diagnose_stalls.py --help` ran the whole diagnostic (it read no
    arguments)."""
    _answer_help([BENCHMARKS / "diagnose_stalls.py"])


@pytest.mark.slow  # nine processes that import torch
def test_every_benchmark_script_answers_help_without_running() -> None:
    _answer_help(sorted(BENCHMARKS.glob("*.py")))
