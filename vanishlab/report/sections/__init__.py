"""The sections of a report page, one module each, in the one list that orders the page.

A section builder takes a :class:`~vanishlab.report.view.RunView` and returns a
:class:`~vanishlab.report.model.Section`, or None when the run has nothing for it. The page
shows them in the order of :data:`SECTIONS`:

overview, decay curves, input sensitivity, depth x lag, rates and horizons, the gain phase
diagram, theory vs measurement, anomalies.

A manifest may ask for fewer (its ``sections``); :data:`ALWAYS` are shown regardless.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import Section
from ..view import RunView
from .anomalies import anomalies_section
from .curves import decay_section, input_section
from .depth import depth_section
from .gain import gain_section
from .overview import overview_section
from .rates import rates_section
from .theory import theory_section
from .trainability import trainability_section

__all__ = ["ALWAYS", "SECTIONS", "SectionBuilder", "section_keys"]

SectionBuilder = Callable[[RunView], Section | None]

#: Every section, in page order: (key, builder). The key is the section's anchor on the page
#: and the name a manifest's ``sections`` uses.
SECTIONS: tuple[tuple[str, SectionBuilder], ...] = (
    ("overview", overview_section),
    ("decay", decay_section),
    ("input", input_section),
    ("depth", depth_section),
    ("rates", rates_section),
    ("gain", gain_section),
    ("theory", theory_section),
    ("trainability", trainability_section),
    ("anomalies", anomalies_section),
)

ALWAYS = ("overview", "anomalies")  # shown even when a manifest asks for fewer sections


def section_keys() -> tuple[str, ...]:
    """The section keys, in page order (what a manifest's ``sections`` may name)."""
    return tuple(key for key, _ in SECTIONS)
