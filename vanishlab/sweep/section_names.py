"""The sections of every kind of report page, each one's name and title defined once.

A section's key is its anchor on the page (``#trainability``) and, on a sweep's page, the name
an experiment's ``SECTIONS`` and a manifest's ``sections`` use; its title is the page's heading
over it, which other sections' words, a sweep's lines on the terminal and the CLI name it by
("listed under Anomalies"). The section's own module (:mod:`vanishlab.report.sections`), the
lists of each page's sections, the checks of an experiment's ``SECTIONS`` and every sentence
that names a section read them here, where each wrote its own copy of the words. This is the
sweep layer (without torch or the report), so that the sweep's checks and lines read them too.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ANOMALIES",
    "CURVES",
    "CURVES_STEPS",
    "DECAY",
    "DEPTH",
    "FITS",
    "GAIN",
    "INPUT",
    "LONG_DEPS",
    "LYAPUNOV",
    "MODEL",
    "MODELS",
    "MONITOR_RUN",
    "OVERVIEW",
    "PROVENANCE",
    "RATES",
    "SWEEP_PAGE",
    "SWEEP_SECTION_NAMES",
    "THEORY",
    "THEORY_TRAINED",
    "TRAINABILITY",
    "TRAINING",
    "SectionName",
]


class SectionName(NamedTuple):
    """A section's ``key`` (its anchor and name) and ``title`` (its heading)."""

    key: str
    title: str | None


# --- a sweep's page, in page order ---
OVERVIEW = SectionName("overview", "Overview")
#: titled by the models the run measured: "RNN, LSTM and GRU", "LSTM and GRU"
MODELS = SectionName("models", None)
DECAY = SectionName("decay", "Decay curves")
INPUT = SectionName("input", "Input sensitivity")
DEPTH = SectionName("depth", "Depth and lag")
RATES = SectionName("rates", "Decay rates and horizons")
GAIN = SectionName("gain", "Gain phase diagram")
THEORY = SectionName("theory", "Theory vs measurement")
TRAINABILITY = SectionName("trainability", "Trainability")
ANOMALIES = SectionName("anomalies", "Anomalies")

#: The sections of a sweep's report page, in page order.
SWEEP_PAGE = (OVERVIEW, MODELS, DECAY, INPUT, DEPTH, RATES, GAIN, THEORY, TRAINABILITY, ANOMALIES)

#: Their names: what an experiment's ``SECTIONS`` (and so a sweep manifest's ``sections``) may
#: use. The report builds one section per name (:data:`vanishlab.report.sections.SECTIONS`).
SWEEP_SECTION_NAMES = tuple(section.key for section in SWEEP_PAGE)

# --- one trained model's page (vanishlab analyze) and a monitored training run's ---
MODEL = SectionName("model", "Model")
MONITOR_RUN = SectionName("monitor", "Monitored training")
LONG_DEPS = SectionName("long-dependencies", "What this means for long dependencies")
CURVES = SectionName("curves", "Decay curves")
FITS = SectionName("fits", "Decay rates and horizons")
LYAPUNOV = SectionName("lyapunov", "Lyapunov exponent")
TRAINING = SectionName("training", "Over training")
CURVES_STEPS = SectionName("curves-steps", "Decay curves at chosen steps")
THEORY_TRAINED = SectionName("theory-trained", "Theory")
#: titled "Versions" where the run has no command to give (a monitor's)
PROVENANCE = SectionName("provenance", "Reproduce and versions")
