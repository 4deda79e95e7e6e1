"""The columns, flags and thresholds of a summary row, and the digest of the code that computes
one: what the run-level table (:mod:`vanishlab.sweep.summary`) and a report need, without the
per-cell computation (:mod:`vanishlab.sweep.cell_summary`) and the torch it imports.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

from .config import AXES
from .store import TRAIN_FIELDS

__all__ = [
    "CODE_MODULES",
    "FLAGS",
    "NARROW_WIDTH",
    "NEAR_CRITICAL",
    "POOR_FIT_R2",
    "SHORT_SEQ_LEN",
    "SUMMARY_COLUMNS",
    "SUMMARY_FIELDS",
    "code_digest",
]

NEAR_CRITICAL = 0.05  # |0.5 ln chi_1| below this: chi_1 within about 10 % of 1
NARROW_WIDTH = 64
SHORT_SEQ_LEN = 50
POOR_FIT_R2 = 0.9

#: Flag keywords, in the order they are listed, and what each means.
FLAGS: dict[str, str] = {
    "failed": "the forward pass overflowed: nothing was measured",
    "no-theory": "neither the linear regime nor the mean field applies",
    "exact-zero": "an exact zero Jacobian in the fit window (relu units all off): the rate is "
    "that of the decay before it, or -inf when nothing is left before it",
    "diverges": "relu with gain^2 >= 2: the activity explodes (chi_1 = g^2/2 still holds "
    "until the state overflows)",
    "near-critical": f"|predicted rate| < {NEAR_CRITICAL}: chi_1 within about 10 % of 1, "
    "where finite width and finite windows move the measured rate most",
    "non-iid": "orthogonal weights: the mean field is approximate",
    "narrow": f"H < {NARROW_WIDTH}: finite-width corrections (about -3/H per step for chaotic "
    "tanh) and the seed-to-seed spread are comparable to the differences",
    "short": f"T < {SHORT_SEQ_LEN}: the fit window and the Lyapunov average include the "
    "transient towards the fixed point",
    "poor-fit": f"r2 < {POOR_FIT_R2} with |rate| >= {NEAR_CRITICAL}: the log-norm is not a "
    "straight line in the window",
}

SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("cell_id", "string"),
    ("status", "string"),
    ("rate", "double"),
    ("r2", "double"),
    ("lag_start", "int64"),
    ("lag_end", "int64"),
    ("horizon", "int64"),
    ("phase", "string"),
    ("rate_layer0", "double"),
    ("lyapunov", "double"),
    ("ln_rho", "double"),
    ("pascanu_slope", "double"),
    ("pascanu_ok", "bool"),
    ("mf_rate", "double"),
    ("mf_chi1", "double"),
    ("mf_q_star", "double"),
    ("mf_critical_gain", "double"),
    ("mf_validity", "string"),
    ("mf_reason", "string"),
    ("predicted_by", "string"),
    ("predicted_rate", "double"),
    ("predicted_rate_layer0", "double"),
    ("delta_rate", "double"),
    ("delta_rate_layer0", "double"),
    ("delta_lyapunov", "double"),
    ("flag", "string"),
    ("note", "string"),
    *TRAIN_FIELDS,  # a trained cell's outcome; null when not trained (docs/trainability.md)
)
"""The summary's own columns after the config columns, with their Arrow type names (the one
definition: :data:`SUMMARY_COLUMNS` and the parquet schema of :mod:`vanishlab.sweep.summary`
derive from it)."""

SUMMARY_COLUMNS: tuple[str, ...] = (*AXES, *(name for name, _ in SUMMARY_FIELDS))
"""Columns of a summary row, in order (config columns first, as :data:`AXES`)."""


#: The modules whose code computes a summary row: the per-cell module, the theory, the fits,
#: the Lyapunov exponent, the engine, the init registry and draws, the cell's build.
CODE_MODULES = (
    "vanishlab.sweep.cell_summary",
    "vanishlab.sweep.summary_fields",
    "vanishlab.sweep.prediction",
    "vanishlab.analysis.fits",
    "vanishlab.analysis.linear",
    "vanishlab.analysis.pascanu",
    "vanishlab.analysis.meanfield",
    "vanishlab.analysis.gaussian",
    "vanishlab.core.lyapunov",
    "vanishlab.core.forward",
    "vanishlab.core.engine",
    "vanishlab.sweep.inits",
    "vanishlab.sweep.init_weights",
    "vanishlab.sweep.cell",
    "vanishlab.sweep.train_cell",
)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that computes a summary row (the files of :data:`CODE_MODULES`,
    read without importing them), so that a row stored by other code (another vanishlab, an
    edited checkout) is computed afresh."""
    digest = hashlib.sha256()
    for name in CODE_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()
