"""The key of a frame's ``attrs`` that holds the fingerprint of the weights it was measured on
(:func:`vanishlab.core.fingerprint.weights_fingerprint`), without torch: ``vl.load_results``
sets it on an analysis's rows, which a report reads without importing torch."""

from __future__ import annotations

__all__ = ["WEIGHTS_ATTR"]

WEIGHTS_ATTR = "vanishlab.weights_sha256"
"""The key of ``frame.attrs`` that holds :func:`~.fingerprint.weights_fingerprint` of the measured
module: :func:`vanishlab.jacobian_norms` sets it, and :func:`vanishlab.load_results` for an
analysis (``vanishlab analyze``) whose shard records it; :func:`vanishlab.check_pascanu`
compares it."""
