"""The sections of a report page, one module each, in one ordered list per kind of page.

A section builder takes a :class:`~vanishlab.report.view.RunView` and returns a
:class:`~vanishlab.report.model.Section`, or None when the run has nothing for it. The kind
of page is the manifest's ``kind`` (:func:`page_kind`), and each kind has one list
(:data:`PAGES`) that orders its page:

- a sweep (:data:`SECTIONS`): overview, RNN/LSTM/GRU side by side (a run that sweeps
  ``model``), decay curves, input sensitivity, depth x lag, rates
  and horizons, the gain phase diagram, theory vs measurement, trainability, anomalies;
- one trained model, ``vanishlab analyze`` (:data:`SINGLE_MODEL_SECTIONS`): the model, what
  its decay means for long dependencies (a verdict, the gradient from k steps back, what to
  try), its decay curves per layer and source, their rates and horizons, the Lyapunov exponent,
  what theory says (none), and the versions and command it was measured with (provenance);
- a monitored training run, ``vl.JacobianMonitor`` (:data:`MONITOR_SECTIONS`): the monitor,
  what the last measured step's decay means for long dependencies (as an analysed model's),
  rates, horizons and λ₁ over training, the decay curves at chosen steps, theory (none), the
  versions it was measured with (provenance).

A manifest may ask for fewer (its ``sections``), in its own order; :data:`ALWAYS` are shown
regardless, in their places (a page's opening section first; anomalies, or provenance, last).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...sweep import section_names as names
from ...sweep.manifest import MONITOR, SINGLE_MODEL, SWEEP
from ...sweep.section_names import SWEEP_SECTION_NAMES
from ..model import Section
from ..view import RunView
from .anomalies import anomalies_section
from .curves import decay_section, input_section
from .depth import depth_section
from .gain import gain_section
from .long_deps import long_deps_section
from .models import models_section
from .monitor import curves_steps_section, monitor_section, training_section
from .monitor_long_deps import monitor_long_deps_section
from .overview import overview_section
from .provenance import provenance_section
from .rates import rates_section
from .single_model import lyapunov_section, model_section
from .single_model_curves import curves_section, fits_section
from .theory import theory_section
from .trainability import trainability_section
from .trained import theory_trained_section

__all__ = [
    "ALWAYS",
    "MONITOR_SECTIONS",
    "PAGES",
    "SECTIONS",
    "SINGLE_MODEL_SECTIONS",
    "SWEEP",
    "SWEEP_BUILDERS",
    "SectionBuilder",
    "page_kind",
    "section_keys",
]

SectionBuilder = Callable[[RunView], Section | None]

#: The builder of each section of a sweep's page, by the section's name.
SWEEP_BUILDERS: dict[str, SectionBuilder] = {
    names.OVERVIEW.key: overview_section,
    names.MODELS.key: models_section,
    names.DECAY.key: decay_section,
    names.INPUT.key: input_section,
    names.DEPTH.key: depth_section,
    names.RATES.key: rates_section,
    names.GAIN.key: gain_section,
    names.THEORY.key: theory_section,
    names.TRAINABILITY.key: trainability_section,
    names.ANOMALIES.key: anomalies_section,
}

#: Every section of a sweep's page, in page order: (key, builder). The key is the section's
#: anchor on the page and the name a manifest's ``sections`` uses; the names and their order
#: are the sweep layer's (:data:`vanishlab.sweep.section_names.SWEEP_SECTION_NAMES`), so an
#: experiment's ``SECTIONS`` is checked where it is loaded.
SECTIONS: tuple[tuple[str, SectionBuilder], ...] = tuple(
    (key, SWEEP_BUILDERS[key]) for key in SWEEP_SECTION_NAMES
)

#: The page of one trained model (``vanishlab analyze``), in page order.
SINGLE_MODEL_SECTIONS: tuple[tuple[str, SectionBuilder], ...] = (
    (names.MODEL.key, model_section),
    (names.LONG_DEPS.key, long_deps_section),
    (names.CURVES.key, curves_section),
    (names.FITS.key, fits_section),
    (names.LYAPUNOV.key, lyapunov_section),
    (names.THEORY_TRAINED.key, theory_trained_section),
    (names.PROVENANCE.key, provenance_section),
)

#: The page of a monitored training run (``vl.JacobianMonitor``), in page order.
MONITOR_SECTIONS: tuple[tuple[str, SectionBuilder], ...] = (
    (names.MONITOR_RUN.key, monitor_section),
    (names.LONG_DEPS.key, monitor_long_deps_section),
    (names.TRAINING.key, training_section),
    (names.CURVES_STEPS.key, curves_steps_section),
    (names.THEORY_TRAINED.key, theory_trained_section),
    (names.PROVENANCE.key, provenance_section),
)

#: The one ordered list of sections of each kind of page (a manifest's ``kind``).
PAGES: dict[str, tuple[tuple[str, SectionBuilder], ...]] = {
    SWEEP: SECTIONS,
    SINGLE_MODEL: SINGLE_MODEL_SECTIONS,
    MONITOR: MONITOR_SECTIONS,
}

# Shown even when a manifest asks for fewer sections.
ALWAYS = tuple(
    s.key
    for s in (names.OVERVIEW, names.ANOMALIES, names.MODEL, names.MONITOR_RUN, names.PROVENANCE)
)


def page_kind(manifest: Mapping[str, Any]) -> str:
    """The kind of page a run gets: its manifest's ``kind`` when it has a page of its own
    (``"single-model"``, ``"monitor"``), else ``"sweep"``."""
    kind = manifest.get("kind")
    return kind if isinstance(kind, str) and kind in PAGES else SWEEP


def section_keys(kind: str = SWEEP) -> tuple[str, ...]:
    """The section keys of a kind of page, in page order (what a manifest's ``sections`` may
    name)."""
    return tuple(key for key, _ in PAGES[kind])
