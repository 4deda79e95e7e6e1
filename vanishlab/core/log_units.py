"""The one factor between vanishlab's two logarithms: norms are log10 (the engine's columns,
the Pascanu envelope's bounds), rates are natural log per step (docs/design.md, "Units").

No torch is imported here, so that the analysis of a table of norms and the report take it
without torch.
"""

from __future__ import annotations

import math

__all__ = ["LN10"]

LN10 = math.log(10.0)
"""ln 10: a log10 norm times it is the norm's natural log; a rate over it, log10 per step."""
