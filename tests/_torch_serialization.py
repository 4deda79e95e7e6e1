"""Marks for tests of what torch's serialization gives from 2.5 on, where pyproject.toml allows
2.2 (``make test-floors``, docs/supported-versions.md): vanishlab does without both before 2.5,
and the tests of what they add are skipped there."""

from __future__ import annotations

import pytest
import torch

#: ``torch.serialization.get_unsafe_globals_in_checkpoint``: every global a refused file names.
#: Without it only the one global torch's refusal names is known (the first it met).
needs_global_list = pytest.mark.skipif(
    not hasattr(torch.serialization, "get_unsafe_globals_in_checkpoint"),
    reason="torch < 2.5: a refusal names only its first global (no get_unsafe_globals_*)",
)

#: ``torch.serialization.safe_globals``: plain data (argparse.Namespace, paths) read beside the
#: weights. Without it a file holding one is refused, its advice naming the class.
needs_safe_globals = pytest.mark.skipif(
    not hasattr(torch.serialization, "safe_globals"),
    reason="torch < 2.5: no safe_globals, so argparse.Namespace and paths are refused",
)
